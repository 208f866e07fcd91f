"""The spec compiler: a loaded, schema-valid spec document -> :class:`engine.spec.model.Spec`.

``compile_spec(doc)`` compiles every section once: metadata, declarations (the imported vocabulary plus the spec's
``inputs``), parameters and definitions (:mod:`engine.spec.declarations`), eligibility rule trees,
phases/transitions/deadlines/obligations (:mod:`engine.spec.path`), the phase graph checks and lookup tables
(:mod:`engine.spec.graph`), the examples, and the sections other stages own (``SECTION_COMPILERS``). Every expression is
compiled with the type it must have and the position of its YAML scalar. ALL problems are collected, then raised
as one :class:`SpecError`.

``load_spec(path)`` = load (``engine.spec.loader``) + validate (``engine.spec.schema``) + compile.

Hook for other stages: add ``(section_key, "module:function")`` to ``SECTION_COMPILERS``; the function is called as
``fn(ctx, value)`` with the :class:`Ctx` (helpers to compile expressions, durations, dates, sources with positions,
and to report diagnostics) and the section's YAML value; what it returns is stored in ``spec.sections[key]``.
It is only called when the key is present in the spec.
"""

from __future__ import annotations

import importlib
import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Callable, Mapping

from engine.errors import Diagnostic, DiagnosticBag, EngineError, SpecError, TextOrigin, did_you_mean
from engine.spec.model import Convention, Example, Expr, Position, RuleGroup, RuleLeaf, Session, Source, Spec

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

# ---------------------------------------------------------------------------------------------- durations

MAX_DURATION_MONTHS = 1200  # 100 years: longer durations are typos (and would overflow date arithmetic)

_UNITS = {"day": (0, 1), "days": (0, 1), "jour": (0, 1), "jours": (0, 1),
          "week": (0, 7), "weeks": (0, 7), "semaine": (0, 7), "semaines": (0, 7),
          "month": (1, 0), "months": (1, 0), "mois": (1, 0),
          "year": (12, 0), "years": (12, 0), "an": (12, 0), "ans": (12, 0), "année": (12, 0), "années": (12, 0)}
_DUR_PART = re.compile(r"\s*(\d{1,9})\s*([a-zA-Zéè]+)\s*(?:(?:and|et|,)\s*)?")


def parse_duration(text: Any):
    """``"15 days"``, ``"4 semaines"``, ``"6 mois"``, ``"2 ans"``, ``"1 year 6 months"`` -> ``Duration``; None when
    the text is not a duration."""
    from engine.expr.runtime import Duration

    if not isinstance(text, str) or not text.strip():
        return None
    s = text.strip()
    if s[:1] in ("P", "p"):  # ISO 8601 (P15D, P1Y6M), as the runtime prints durations
        from engine.expr.runtime import parse_duration as iso

        return iso(s.upper())
    months = days = 0
    pos = 0
    while pos < len(s):
        m = _DUR_PART.match(s, pos)
        if not m or m.end() == pos or m.group(2).lower() not in _UNITS:
            return None
        mo, da = _UNITS[m.group(2).lower()]
        months += int(m.group(1)) * mo
        days += int(m.group(1)) * da
        pos = m.end()
    return Duration(months, days)


def text_of(node: Any, key: str) -> str | None:
    """``node[key]`` as a text (labels, interpretations...), None when absent."""
    v = node.get(key) if isinstance(node, Mapping) else None
    return None if v is None else str(v)


def quoted(value: Any) -> str:
    """A value as shown in a message: texts in double quotes."""
    return f'"{value}"' if isinstance(value, str) else str(value)


def item_path(base: str, item: Any, i: int) -> str:
    """The path of a list item as the schema messages write it: by id when it has one, else 1-based
    (``deadlines[first_appointment]``, ``transitions[3]``)."""
    ident = item.get("id") if isinstance(item, Mapping) else None
    return f"{base}[{ident}]" if isinstance(ident, str) and ident else f"{base}[{i + 1}]"


def plain(value: Any) -> Any:
    """A loaded YAML value as plain Python (dict/list/str/Decimal/date/bool/None), without position wrappers."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- context

class Ctx:
    """The compilation context of one spec document: positions, diagnostics, scopes, and what is compiled so far
    (``fields``: the keyword arguments of :class:`Spec` being built)."""

    def __init__(self, doc):
        self.doc = doc
        self.data = doc.data
        self.file = str(getattr(doc, "path", None) or getattr(doc, "file", None) or "<spec>")
        self.bag = DiagnosticBag()
        self._lines: dict[str, list[str]] = {}
        lines = getattr(doc, "lines", None)
        if lines is not None:
            self._lines[self.file] = list(lines)
        self.fields: dict[str, Any] = {}
        self.scope = None

    # -- positions and diagnostics
    def line_of(self, file: str | None, line: int) -> str | None:
        if not file or not line:
            return None
        if file not in self._lines:
            lines_of = getattr(self.doc, "lines_of", None)
            known = lines_of(file) if lines_of else None
            if known is not None:
                self._lines[file] = list(known)
                return self.line_of(file, line)
            try:
                self._lines[file] = Path(file).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[file] = []
        lines = self._lines[file]
        return lines[line - 1] if 1 <= line <= len(lines) else None

    def _file_of(self, node) -> str:
        f = getattr(getattr(node, "pos", None), "file", None)
        return str(f) if f else self.file

    def pos(self, node, key=None, *, of_key: bool = False) -> Position:
        """Position of ``node[key]`` (its value, or its key with ``of_key``), or of the node itself."""
        p = None
        try:
            if key is None:
                p = getattr(node, "pos", None) or getattr(node, "start", None)
            elif isinstance(key, int):
                p = node.item_pos(key)
            elif of_key:
                p = node.key_pos(key)
            else:
                p = node.value_pos(key)
        except (AttributeError, KeyError, IndexError, TypeError):
            p = None
        return self._to_pos(p, node)

    def _to_pos(self, p, node=None) -> Position:
        if p is None:
            return Position(self._file_of(node) if node is not None else self.file)
        if isinstance(p, Position):
            return p
        if isinstance(p, tuple):
            if len(p) == 2:
                return Position(self._file_of(node) if node is not None else self.file, p[0], p[1])
            if len(p) >= 3:
                return Position(str(p[0]), p[1], p[2])
        return Position(str(getattr(p, "file", None) or self._file_of(node)), getattr(p, "line", None),
                        getattr(p, "col", getattr(p, "column", None)))

    def error(self, pos: Position, message: str, code: str, hint: str | None = None, path: str | None = None,
              width: int | None = None) -> None:
        from engine.spec.graph import _token_width

        src = self.line_of(pos.file, pos.line) if pos.line else None
        self.bag.add(Diagnostic(message, file=pos.file, line=pos.line, col=pos.col, source_line=src,
                                width=width or _token_width(src, pos.col), hint=hint, code=code, path=path))

    # -- shapes (the schema checks them first; these keep the compiler safe when it is called alone)
    def list_at(self, node, key: str, path: str) -> list:
        """``node[key]`` when it is a list; [] when absent (or wrong, with a diagnostic)."""
        v = node.get(key) if isinstance(node, Mapping) else None
        if v is None or isinstance(v, list):
            return v or []
        self.error(self.pos(node, key), f"{path}: expected a list, got {quoted(v)}", "spec.shape",
                   "write a list, one item per line starting with `- `", path)
        return []

    def map_at(self, node, key: str, path: str) -> Mapping:
        """``node[key]`` when it is a mapping; {} when absent (or wrong, with a diagnostic)."""
        v = node.get(key) if isinstance(node, Mapping) else None
        if v is None or isinstance(v, Mapping):
            return v or {}
        self.error(self.pos(node, key), f"{path}: expected a mapping of keys, got {quoted(v)}", "spec.shape",
                   "write `key: value` entries, indented under this key", path)
        return {}

    # -- values
    def source(self, node, path: str) -> Source:
        text = node.get("source") if isinstance(node, Mapping) else None
        return Source(str(text) if text is not None else None, self.pos(node, "source" if text is not None else None))

    def duration(self, node, key: str, path: str):
        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        value = node.get(key)
        d = parse_duration(value)
        if d is not None and (d.months > MAX_DURATION_MONTHS or d.days > MAX_DURATION_MONTHS * 31):
            self.error(self.pos(node, key), f"{path}.{key}: {quoted(value)} is too long (at most "
                       f"{MAX_DURATION_MONTHS // 12} years)", "spec.duration", "check the number", f"{path}.{key}")
            return None
        if d is None:
            self.error(self.pos(node, key), f"{path}.{key}: expected a duration such as \"15 days\", \"4 semaines\" or "
                       f"\"6 mois\", got {quoted(value)}", "spec.duration",
                       "write a number and a unit: days/jours, weeks/semaines, months/mois, years/ans", f"{path}.{key}")
        return d

    def date(self, node, key: str, path: str) -> date | None:
        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        value = node.get(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(self.pos(node, key), f"{path}.{key}: expected a date such as 2026-01-12, got {quoted(value)}",
                       "spec.date", "write the date as YYYY-MM-DD", f"{path}.{key}")
            return None

    def origin(self, node, key) -> TextOrigin:
        try:
            o = node.origin(key)
            if o is not None:
                return o
        except (AttributeError, KeyError, IndexError, TypeError):
            pass
        p = self.pos(node, key)
        return TextOrigin(file=p.file, line=p.line or 1, col=p.col or 1,
                          lines=tuple(self._lines.get(p.file or "", ())) or None)

    def expr(self, node, key, scope, expect, path: str) -> Expr | None:
        """Compile ``node[key]`` (a string, or a boolean/number literal) in ``scope``; None (and diagnostics) on
        error."""
        from engine.expr.compiler import compile_expression

        value = node[key]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, Decimal)):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            self.error(self.pos(node, key), f"{path}: expected an expression (text), got {type(value).__name__}",
                       "spec.expr", "write the condition as text, e.g. `rsa and department == \"62\"`", path)
            return None
        origin = self.origin(node, key)
        try:
            compiled = compile_expression(text, scope if scope is not None else self.scope, origin=origin,
                                          expect=expect, path=path)
        except EngineError as e:
            self.bag.extend(e.diagnostics)
            return None
        return Expr(text, compiled, origin, self.pos(node, key))


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
        ctx.error(ctx.pos(d, "valid_until"), "valid_until is before valid_from", "spec.dates",
                  "swap the two dates", "valid_until")
    sessions = []
    seen: set[str] = set()
    for i, s in enumerate(ctx.list_at(d, "sessions", "sessions")):
        if not isinstance(s, Mapping):
            continue
        path = item_path("sessions", s, i)
        sid = str(s.get("id") or f"session_{i + 1}")
        if sid in seen:
            ctx.error(ctx.pos(s, "id"), f'duplicate session id "{sid}"', "spec.duplicate_id", "give each session "
                      "its own id", path + ".id")
        seen.add(sid)
        opens, closes = ctx.date(s, "opens", path), ctx.date(s, "closes", path)
        if opens and closes and closes < opens:
            ctx.error(ctx.pos(s, "closes"), f'session "{sid}" closes before it opens', "spec.dates",
                      "swap opens and closes", path + ".closes")
        sessions.append(Session(sid, text_of(s, "label"), opens, closes, ctx.source(s, path)))
    f["sessions"] = tuple(sessions)
    c = d.get("convention")
    if isinstance(c, Mapping):
        tr = c.get("tacit_renewal")
        eae = c.get("events_after_end")
        eae = ("*",) if eae == "all" else tuple(str(x) for x in eae) if isinstance(eae, (list, tuple)) else ()
        f["convention"] = Convention(ctx.date(c, "start", "convention"), ctx.date(c, "end", "convention"),
                                     ctx.duration(c, "max_duration", "convention"),
                                     tr if isinstance(tr, bool) else None, ctx.source(c, "convention"), eae)
    from engine.spec.declarations import _vocabularies

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
                ctx.error(ctx.pos(terr, i), f'unknown territory "{t}"', "spec.unknown_territory",
                          did_you_mean(str(t), known) or "territories: " + ", ".join(sorted(known)),
                          f"territories[{i + 1}]")
    f["section_pos"] = {str(k): ctx.pos(d, k, of_key=True) for k in d}


def _rule(ctx: Ctx, node, path: str, ids: dict[str, str], scope):
    from engine.expr.types import BOOLEAN

    if not isinstance(node, Mapping):
        ctx.error(ctx.pos(node), f"{path}: expected a rule (a mapping with condition, or all/any/not)",
                  "spec.rule", None, path)
        return None
    rid = node.get("id")
    if rid is not None:
        rid = str(rid)
        if rid in ids:
            ctx.error(ctx.pos(node, "id"), f'duplicate rule id "{rid}" (first used at {ids[rid]})',
                      "spec.duplicate_id", "give each rule its own id", path + ".id")
        else:
            ids[rid] = path
    common = dict(label=text_of(node, "label"), source=ctx.source(node, path),
                  interpretation=text_of(node, "interpretation"), explanation=text_of(node, "explanation"), path=path,
                  pos=ctx.pos(node))
    ops = [k for k in ("all", "any", "not") if k in node]
    if "condition" in node:
        e = ctx.expr(node, "condition", scope, BOOLEAN, path + ".condition")
        if e is None:
            return None
        return RuleLeaf(id=rid or path, expr=e, **common)
    if not ops:
        ctx.error(ctx.pos(node), f"{path}: a rule needs `condition`, or a group `all`, `any` or `not`", "spec.rule",
                  "add `condition: <expression>`", path)
        return None
    op = ops[0]
    members = node[op]
    if op == "not":
        children = [_rule(ctx, members, f"{path}.not", ids, scope)]
    else:
        members = ctx.list_at(node, op, f"{path}.{op}")
        children = [_rule(ctx, m, item_path(f"{path}.{op}", m, i), ids, scope) for i, m in enumerate(members)]
        if not children:
            ctx.error(ctx.pos(node, op), f"{path}.{op}: empty group", "spec.rule", "list at least one rule", path)
    if any(c is None for c in children):
        return None
    return RuleGroup(op=op, children=tuple(children), id=rid, **common)


def _eligibility(ctx: Ctx) -> None:
    from engine.spec.model import operator_scope

    el = ctx.map_at(ctx.data, "eligibility", "eligibility")
    ids: dict[str, str] = {}
    if isinstance(el, Mapping) and el.get("beneficiary") is not None:
        ctx.fields["eligibility_beneficiary"] = _rule(ctx, el["beneficiary"], "eligibility.beneficiary", ids, ctx.scope)
    if isinstance(el, Mapping) and el.get("operator") is not None:
        scope = operator_scope(ctx.scope, ctx.fields["operation_attributes"], ctx.fields["parameters"])
        ctx.fields["eligibility_operator"] = _rule(ctx, el["operator"], "eligibility.operator", ids, scope)


def _examples(ctx: Ctx) -> None:
    out = []
    names: dict[str, int] = {}
    for i, ex in enumerate(ctx.list_at(ctx.data, "examples", "examples")):
        path = f"examples[{i + 1}]"
        if not isinstance(ex, Mapping):
            continue
        name = str(ex.get("name") or f"example {i + 1}")
        if name in names:
            ctx.error(ctx.pos(ex, "name"), f'duplicate example name "{name}"', "spec.duplicate_id",
                      "give each example its own name (engine test -k selects by name)", path + ".name")
        names[name] = i
        expect = ctx.map_at(ex, "expect", path + ".expect")
        cohort = ctx.list_at(ex, "cohort", path + ".cohort") if ex.get("cohort") is not None else None
        params = ctx.map_at(ex, "params", path + ".params")
        record = ctx.map_at(ex, "record", path + ".record") if ex.get("record") is not None else None
        operation = ctx.map_at(ex, "operation", path + ".operation") if ex.get("operation") is not None else None
        for k in params:
            if str(k) not in ctx.fields["parameters"]:
                ctx.error(ctx.pos(params, k, of_key=True), f'example "{name}": unknown parameter "{k}"',
                          "spec.unknown_parameter", did_you_mean(str(k), ctx.fields["parameters"])
                          or "declare it under `parameters:`", path + f".params.{k}")
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
    from engine.spec.declarations import _declarations, _definitions
    from engine.spec.path import compile_path

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
        raise SpecError(sorted(unique.values(), key=Diagnostic.sort_key))
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
