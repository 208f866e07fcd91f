"""The spec compiler: a loaded, schema-valid spec document -> :class:`engine.spec.model.Spec`.

``compile_spec(doc)`` compiles every section once: metadata, declarations (the imported vocabulary plus the spec's
``inputs``), parameters and definitions (:mod:`engine.spec.declarations`), eligibility rule trees,
phases/transitions/deadlines/obligations (:mod:`engine.spec.path`), the phase graph checks and lookup tables
(:mod:`engine.spec.graph`), the examples, and the sections other stages own (``SECTION_COMPILERS``). Every expression is
compiled with the type it must have and the position of its YAML scalar. ALL problems are collected, then raised
as one :class:`SpecError`.

``load_spec(path)`` = load (``engine.spec.loader``) + validate (``engine.spec.schema``) + compile.

Hook for other stages: add ``(section_key, "module:function")`` to ``SECTION_COMPILERS``; the function is called as
``fn(ctx, value)`` with the :class:`engine.spec.context.Ctx` (helpers to compile expressions, durations, dates, sources with positions,
and to report diagnostics) and the section's YAML value; what it returns is stored in ``spec.sections[key]``.
It is only called when the key is present in the spec.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any, Callable, Mapping

from engine.errors import Diagnostic, SpecError, did_you_mean
from engine.spec.context import (MAX_DURATION_MONTHS, Ctx, item_path, parse_duration, plain,  # noqa: F401 (re-exported)
                                 quoted, text_of)
from engine.spec.declarations import _declarations, _definitions, _vocabularies
from engine.spec.model import Convention, Example, RuleGroup, RuleLeaf, Session, Spec
from engine.spec.path import compile_path
from engine.spec.rootcause import root_cause_first

# (section key, "module:function"): compilers of sections owned by other stages, called after the core sections.
SECTION_COMPILERS: list[tuple[str, str]] = [
    # operations and cohorts (engine/operation/compile.py): the first one present compiles them all
    ("indicators", "engine.operation.compile:compile_indicators"),
    ("cohort_constraints", "engine.operation.compile:compile_cohort_constraints"),
    ("capacity", "engine.operation.compile:compile_capacity"),
    ("funding", "engine.operation.compile:compile_funding"),
    ("payments", "engine.operation.compile:compile_payments"),
    ("reporting", "engine.operation.compile:compile_reporting"),
]

# ---------------------------------------------------------------------------------------------- sections

def _metadata(ctx: Ctx) -> None:
    d, f = ctx.data, ctx.fields
    f["id"] = str(d.get("id") or Path(ctx.file).stem)
    f["version"] = None if d.get("version") is None else str(d.get("version"))
    f["title"] = text_of(d, "title")
    f["kind"] = str(d.get("kind") or "spec")
    f["source_document"] = text_of(d, "source_document")
    f["valid_from"] = ctx.date(d, "valid_from", "valid_from")
    f["valid_until"] = ctx.date(d, "valid_until", "valid_until")
    if f["valid_from"] and f["valid_until"] and f["valid_until"] < f["valid_from"]:
        ctx.error(ctx.pos(d, "valid_until"), "valid_until est avant valid_from", "spec.dates",
                  "échangez les deux dates", "valid_until")
    sessions = []
    seen: set[str] = set()
    for i, s in enumerate(ctx.list_at(d, "sessions", "sessions")):
        if not isinstance(s, Mapping):
            continue
        path = item_path("sessions", s, i)
        sid = str(s.get("id") or f"session_{i + 1}")
        if sid in seen:
            ctx.error(ctx.pos(s, "id"), f"identifiant de session « {sid} » en double", "spec.duplicate_id",
                      "donnez à chaque session son propre identifiant", path + ".id")
        seen.add(sid)
        opens, closes = ctx.date(s, "opens", path), ctx.date(s, "closes", path)
        if opens and closes and closes < opens:
            ctx.error(ctx.pos(s, "closes"), f"la session « {sid} » se ferme avant de s'ouvrir", "spec.dates",
                      "échangez opens et closes", path + ".closes")
        sessions.append(Session(sid, text_of(s, "label"), opens, closes, ctx.source(s, path)))
    f["sessions"] = tuple(sessions)
    c = d.get("convention")
    if isinstance(c, Mapping):
        tr = c.get("tacit_renewal")
        eae = c.get("events_after_end")
        eae = ("*",) if eae == "all" else tuple(str(x) for x in eae) if isinstance(eae, (list, tuple)) else ()
        f["convention"] = Convention(ctx.date(c, "start", "convention"), ctx.date(c, "end", "convention"),
                                     ctx.duration(c, "max_duration", "convention"),
                                     tr if isinstance(tr, bool) else None, ctx.source(c, "convention"), eae,
                                     ctx.duration(c, "min_duration", "convention"))
    terr = d.get("territories")
    if f["kind"] == "vocabulary":  # a vocabulary declares territories (a mapping); a spec lists those it covers
        terr = list(terr) if isinstance(terr, Mapping) else []
    elif terr != "all":
        terr = ctx.list_at(d, "territories", "territories")
    f["territories"] = ("all",) if terr == "all" else tuple(str(t) for t in terr)
    known: set[str] = set()
    for _, voc in _vocabularies(ctx):
        for section in ("territories", "territory_groups"):
            if isinstance(voc.get(section), Mapping):
                known |= {str(k) for k in voc[section]}
    if known and isinstance(terr, list):
        for i, t in enumerate(terr):
            if str(t) not in known:
                ctx.error(ctx.pos(terr, i), f"territoire « {t} » inconnu", "spec.unknown_territory",
                          did_you_mean(str(t), known) or "territoires : " + ", ".join(sorted(known)),
                          f"territories[{i + 1}]")
    f["section_pos"] = {str(k): ctx.pos(d, k, of_key=True) for k in d}


ASSESSED_AT = ("entry", "evaluation")  # `assessed_at:` of a beneficiary rule (see RuleLeaf.assessed_at)


def _assessed_at(ctx: Ctx, node, path: str, inherited: str | None, operator: bool) -> str | None:
    """The ``assessed_at`` of a rule: its own, else the one of the nearest group around it that says one."""
    if "assessed_at" not in node:
        return inherited
    v = node.get("assessed_at")
    pos = ctx.pos(node, "assessed_at")
    if v not in ASSESSED_AT:
        ctx.error(pos, f"{path}.assessed_at : il faut entry ou evaluation, trouvé : {quoted(v)}", "spec.assessed_at",
                  "entry : à la date d'entrée dans le dispositif (première étape de l'historique) ; evaluation : à la "
                  "date --at",
                  path + ".assessed_at")
        return inherited
    if operator:
        ctx.error(pos, f"{path}.assessed_at : un porteur est jugé sur sa candidature, pas à l'entrée d'un bénéficiaire",
                  "spec.assessed_at", "retirez assessed_at des règles du porteur", path + ".assessed_at")
        return inherited
    if v == "entry" and not isinstance(ctx.data.get("phases"), Mapping):
        ctx.error(pos, f"{path}.assessed_at : entry demande des phases (l'entrée est la première étape de l'historique)",
                  "spec.assessed_at", "déclarez les phases du dispositif, ou retirez assessed_at", path + ".assessed_at")
        return inherited
    return v


def _reads_today(rule) -> bool:
    if isinstance(rule, RuleLeaf):
        return "today" in rule.expr.names
    return any(_reads_today(c) for c in rule.children)


def _rule(ctx: Ctx, node, path: str, ids: dict[str, str], scope, inherited: str | None = None,
          operator: bool = False):
    from engine.expr.types import BOOLEAN

    if not isinstance(node, Mapping):
        ctx.error(ctx.pos(node), f"{path} : il faut une règle (une table avec condition, ou un groupe all/any/not)",
                  "spec.rule", None, path)
        return None
    rid = node.get("id")
    if rid is not None:
        rid = str(rid)
        if rid in ids:
            ctx.error(ctx.pos(node, "id"), f"identifiant de règle « {rid} » en double (déjà utilisé par {ids[rid]})",
                      "spec.duplicate_id", "donnez à chaque règle son propre identifiant", path + ".id")
        else:
            ids[rid] = path
    common = dict(label=text_of(node, "label"), source=ctx.source(node, path),
                  interpretation=text_of(node, "interpretation"), explanation=text_of(node, "explanation"), path=path,
                  pos=ctx.pos(node))
    assessed = _assessed_at(ctx, node, path, inherited, operator)
    ops = [k for k in ("all", "any", "not") if k in node]
    if "condition" in node:
        e = ctx.expr(node, "condition", scope, BOOLEAN, path + ".condition")
        if e is None:
            return None
        leaf = RuleLeaf(id=rid or path, expr=e, assessed_at=assessed, **common)
        _check_assessed(ctx, node, leaf, path)
        return leaf
    if not ops:
        ctx.error(ctx.pos(node), f"{path} : une règle a besoin de `condition`, ou d'un groupe `all`, `any` ou `not`", "spec.rule",
                  "ajoutez `condition: <expression>`", path)
        return None
    op = ops[0]
    members = node[op]
    if op == "not":
        children = [_rule(ctx, members, f"{path}.not", ids, scope, assessed, operator)]
    else:
        members = ctx.list_at(node, op, f"{path}.{op}")
        children = [_rule(ctx, m, item_path(f"{path}.{op}", m, i), ids, scope, assessed, operator)
                    for i, m in enumerate(members)]
        if not children:
            ctx.error(ctx.pos(node, op), f"{path}.{op} : groupe vide", "spec.rule", "indiquez au moins une règle", path)
    if any(c is None for c in children):
        return None
    group = RuleGroup(op=op, children=tuple(children), id=rid, assessed_at=node.get("assessed_at") and assessed,
                      **common)
    _check_assessed(ctx, node, group, path)
    return group


def _check_assessed(ctx: Ctx, node, rule, path: str) -> None:
    """``assessed_at: entry`` written on a rule none of whose conditions reads the date (an age, a delay) changes
    nothing: an error, so that a reader does not believe a status is taken at entry when it is the record's."""
    if node.get("assessed_at") == "entry" and rule.assessed_at == "entry" and not _reads_today(rule):
        ctx.error(ctx.pos(node, "assessed_at"), f"{path}.assessed_at : entry ne change rien ici : aucune condition "
                  "de cette règle ne dépend de la date (today, un âge, une définition qui les lit)", "spec.assessed_at",
                  "mettez assessed_at sur la règle qui lit la date (par exemple l'âge), ou retirez-le",
                  path + ".assessed_at")


def _eligibility(ctx: Ctx) -> None:
    from engine.spec.model import operator_scope

    el = ctx.map_at(ctx.data, "eligibility", "eligibility")
    ids: dict[str, str] = {}
    if isinstance(el, Mapping) and el.get("beneficiary") is not None:
        ctx.fields["eligibility_beneficiary"] = _rule(ctx, el["beneficiary"], "eligibility.beneficiary", ids, ctx.scope)
    if isinstance(el, Mapping) and el.get("operator") is not None:
        scope = operator_scope(ctx.scope, ctx.fields["operation_attributes"], ctx.fields["parameters"])
        ctx.fields["eligibility_operator"] = _rule(ctx, el["operator"], "eligibility.operator", ids, scope,
                                                   operator=True)


def _examples(ctx: Ctx) -> None:
    out = []
    names: dict[str, int] = {}
    for i, ex in enumerate(ctx.list_at(ctx.data, "examples", "examples")):
        path = f"examples[{i + 1}]"
        if not isinstance(ex, Mapping):
            continue
        name = str(ex.get("name") or f"example {i + 1}")
        if name in names:
            ctx.error(ctx.pos(ex, "name"), f"nom d'exemple « {name} » en double", "spec.duplicate_id",
                      "donnez à chaque exemple son propre nom (engine test -k choisit par le nom)", path + ".name")
        names[name] = i
        expect = ctx.map_at(ex, "expect", path + ".expect")
        cohort = ctx.list_at(ex, "cohort", path + ".cohort") if ex.get("cohort") is not None else None
        params = ctx.map_at(ex, "params", path + ".params")
        record = ctx.map_at(ex, "record", path + ".record") if ex.get("record") is not None else None
        operation = ctx.map_at(ex, "operation", path + ".operation") if ex.get("operation") is not None else None
        for k in params:
            if str(k) not in ctx.fields["parameters"]:
                ctx.error(ctx.pos(params, k, of_key=True), f"exemple « {name} » : paramètre « {k} » inconnu",
                          "spec.unknown_parameter", did_you_mean(str(k), ctx.fields["parameters"])
                          or "déclarez-le sous `parameters:`", path + f".params.{k}")
        out.append(Example(name=name, at=ctx.date(ex, "at", path), params=plain(params),
                           record=plain(record) if record is not None else None, expect=plain(expect),
                           operation=plain(operation) if operation is not None else None,
                           cohort=tuple(plain(cohort)) if cohort is not None else None,
                           expect_pos={str(k): ctx.pos(expect, k, of_key=True) for k in expect}, index=i,
                           pos=ctx.pos(ex)))
    ctx.fields["examples"] = tuple(out)


def _other_sections(ctx: Ctx) -> None:
    sections: dict[str, Any] = {}
    for key, target in SECTION_COMPILERS:
        if key not in ctx.data:
            continue
        mod, _, fn = target.partition(":")
        func: Callable = getattr(importlib.import_module(mod), fn)
        sections[key] = func(ctx, ctx.data[key])
    ctx.fields["sections"] = sections


# ---------------------------------------------------------------------------------------------- entry points

def compile_spec(doc) -> Spec:
    """Compile a loaded, schema-valid spec document; raise one :class:`SpecError` with every problem found."""

    ctx = Ctx(doc)
    _metadata(ctx)
    _declarations(ctx)
    _definitions(ctx)
    _eligibility(ctx)
    compile_path(ctx)
    _examples(ctx)
    _other_sections(ctx)
    if ctx.bag:
        unique = {(d.file, d.line, d.col, d.message): d for d in ctx.bag.items}  # a definition used twice
        raise SpecError(sorted(root_cause_first(doc, list(unique.values())), key=Diagnostic.sort_key))
    return Spec(path=ctx.file, document=doc, **ctx.fields)


def load_spec(path: str | Path) -> Spec:
    """Load a spec file (safe YAML with positions, imports), validate it against the JSON Schema, compile it."""
    from engine.spec.loader import load_document

    doc = load_document(path)
    _schema_validator()(doc)
    return compile_spec(doc)


def _schema_validator():
    """B's schema validation (raises SpecError); imported lazily."""
    from engine.spec.schema import validate_document

    return validate_document


__all__ = ["SECTION_COMPILERS", "Ctx", "compile_spec", "load_spec", "parse_duration", "plain", "did_you_mean"]
