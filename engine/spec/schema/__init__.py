"""The JSON Schema (2020-12) of the spec format, shipped inside the package, and plain-words validation.

``schema()`` returns the schema (``engine/spec/schema/spec.schema.json``), ``schema_text()`` its pretty JSON (what
``engine schema`` prints). ``validate(doc)`` returns every schema error of a loaded document as ONE plain
sentence at ``file:line:col`` of the offending node, e.g.::

    phases.accueil.max_duration : il faut une durée comme "6 mois" ou "15 jours", trouvé : "six mois"

never a schema dump. Messages come from the schema's ``errorMessage`` keyword (also shown by editors using
yaml-language-server) or from the failing keyword; for ``anyOf``/``oneOf`` the most relevant branch error is
chosen (jsonschema's ``best_match``). Unknown keys get "vouliez-vous dire"; every keyword is worded in French here,
jsonschema's own English message is never shown; invalid calendar dates (2026-02-30) are
reported by the format checker. Paths name list items by their ``id`` when they have one
(``deadlines[first_appointment].within``), else by their 1-based number (``transitions[3].to``).

(This is the module ``engine.spec.schema``; it is a package so that the JSON file ships next to it.)
"""

from __future__ import annotations

import json
import re
from datetime import date
from decimal import Decimal
from functools import lru_cache
from importlib import resources
from typing import Any, Iterable

from engine.errors import Diagnostic, SpecError, did_you_mean
from engine.fr import MONTHS, fr_plural
from engine.spec.yaml_safe import repr_value

SCHEMA_FILE = "spec.schema.json"
_VALUE_KEYWORDS = {"type", "pattern", "format", "enum", "const", "minimum", "maximum", "exclusiveMinimum",
                   "exclusiveMaximum", "minLength", "maxLength", "anyOf", "oneOf", "minProperties", "maxProperties"}
_TYPE_WORDS = {"string": "un texte", "number": "un nombre", "integer": "un nombre entier", "boolean": "true ou false",
               "object": "une table (des lignes clé: valeur)", "array": "une liste", "null": "rien"}


@lru_cache(maxsize=1)
def _schema_text() -> str:
    return resources.files(__name__).joinpath(SCHEMA_FILE).read_text(encoding="utf-8")


def schema() -> dict:
    """The JSON Schema of the spec and vocabulary formats (a fresh dict)."""
    return json.loads(_schema_text())


def schema_text() -> str:
    """The schema as pretty JSON, ending with a newline."""
    return json.dumps(schema(), indent=2, ensure_ascii=False) + "\n"


def explain_schema() -> dict:
    """The JSON Schema of the trace of ``engine explain`` (``explain.schema.json``, documented in docs/explain.md)."""
    return json.loads(resources.files(__name__).joinpath("explain.schema.json").read_text(encoding="utf-8"))


def explain_schema_text() -> str:
    """``engine schema --output explain``: the trace schema as pretty JSON, ending with a newline."""
    return json.dumps(explain_schema(), indent=2, ensure_ascii=False) + "\n"


@lru_cache(maxsize=1)
def _validator():
    from jsonschema import Draft202012Validator

    return Draft202012Validator(schema(), format_checker=Draft202012Validator.FORMAT_CHECKER)


# --------------------------------------------------------------------------------------------- helpers

def describe(value: Any, limit: int = 60) -> str:
    """A short description of a value for messages: texts quoted, containers named (the loader's wording)."""
    return repr_value(value, limit)


def _step(node: Any, key: Any) -> Any:
    try:
        return node[key]
    except (KeyError, IndexError, TypeError):
        return None


def format_path(data: Any, path: Iterable[Any]) -> str:
    """``phases.accueil.max_duration``; list items by id when they have one, else 1-based: ``transitions[3]``."""
    out = ""
    node = data
    for key in path:
        if isinstance(key, int):
            item = _step(node, key)
            ident = item.get("id") if isinstance(item, dict) else None
            out += f"[{ident}]" if isinstance(ident, str) and ident else f"[{key + 1}]"
        else:
            out += ("." if out else "") + str(key)
        node = _step(node, key)
    return out or "niveau supérieur"


def _locate(data: Any, path: list, *, at_key: Any = None) -> tuple[Any, int]:
    """Position and caret width of the node at ``path`` (or of key ``at_key`` of that node)."""
    from engine.spec.loader import YList, YMap

    parent, node = None, data
    for key in path:
        parent, node = node, _step(node, key)
    if at_key is not None and isinstance(node, YMap):
        return node.key_pos(at_key), max(1, len(str(at_key)))
    if not path:
        return (data.pos if hasattr(data, "pos") else None), 1
    last = path[-1]
    if isinstance(parent, YMap):
        if isinstance(node, (dict, list)) or at_key is not None:
            return parent.key_pos(last), max(1, len(str(last)))
        return parent.value_pos(last), parent.value_width(last)
    if isinstance(parent, YList):
        return parent.item_pos(last), parent.item_width(last)
    return None, 1


def _date_problem(text: str) -> str:
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})", text)
    if not m:
        return "il faut une date comme 2026-01-12 (année-mois-jour)"
    y, mo, d = (int(g) for g in m.groups())
    if not 1 <= mo <= 12:
        return f"il n'y a pas de mois {mo}"
    try:
        date(y, mo, d)
    except ValueError:
        nxt = date(y + (mo == 12), mo % 12 + 1, 1)
        days = (nxt - date(y, mo, 1)).days
        return f"{MONTHS[mo - 1]} {y} a {days} jours"
    return "ce n'est pas une date valable"


def _subschema_title(schema: dict, name: str) -> str | None:
    prop = (schema.get("properties") or {}).get(name)
    if isinstance(prop, dict):
        title = prop.get("title")
        if title is None and "$ref" in prop:
            title = _resolve_ref(prop["$ref"]).get("title")
        return title
    return _any_title().get(name)  # e.g. `values` required by an if/then: its title is on the sibling schema


@lru_cache(maxsize=1)
def _any_title() -> dict[str, str]:
    """The title of each property name, taken from its shallowest declaration in the schema (breadth first: an
    attribute's `values` is « Valeurs possibles », not the title of a deeper `values` elsewhere)."""
    from collections import deque

    titles: dict[str, str] = {}
    todo: deque[Any] = deque([schema()])
    while todo:
        node = todo.popleft()
        if isinstance(node, dict):
            for k, v in (node.get("properties") or {}).items():
                if isinstance(v, dict) and v.get("title"):
                    titles.setdefault(k, v["title"])
            todo.extend(node.values())
        elif isinstance(node, list):
            todo.extend(node)
    return titles


def _resolve_ref(ref: str) -> dict:
    node: Any = schema()
    for part in ref.lstrip("#/").split("/"):
        node = node.get(part, {}) if isinstance(node, dict) else {}
    return node if isinstance(node, dict) else {}


# --------------------------------------------------------------------------------------------- explaining

class _Msg:
    __slots__ = ("path", "message", "hint", "at_key", "code", "name")

    def __init__(self, path: list, message: str, hint: str | None = None, at_key: Any = None, code: str = "schema"):
        self.path, self.message, self.hint, self.at_key, self.code = path, message, hint, at_key, code
        self.name: str | None = None  # the missing key of a schema.required message


_PY_TYPES: dict[str, tuple[type, ...]] = {"object": (dict,), "array": (list,), "string": (str,),
                                          "number": (int, float, Decimal), "integer": (int,), "boolean": (bool,)}


def _type_ok(value: Any, types: Any) -> bool:
    for t in types if isinstance(types, list) else [types]:
        if t == "null" and value is None:
            return True
        if isinstance(value, _PY_TYPES.get(t, ())) and not (isinstance(value, bool) and t in ("number", "integer")):
            return True
    return False


def _best(err):
    """The most relevant error of a failed anyOf/oneOf: from a branch of the instance's type, the deepest."""
    branches = err.schema.get(err.validator, []) if isinstance(err.schema, dict) else []

    def score(e) -> tuple:
        idx = e.relative_schema_path[0] if e.relative_schema_path else None
        branch = branches[idx] if isinstance(idx, int) and idx < len(branches) else {}
        if isinstance(branch, dict) and "$ref" in branch:
            branch = _resolve_ref(branch["$ref"])
        t = branch.get("type") if isinstance(branch, dict) else None
        fit = 0 if t is None else (1 if _type_ok(err.instance, t) else -1)
        return fit, len(e.absolute_path)

    return max(err.context, key=score)


def _explain(err, data: Any) -> list[_Msg]:
    path = list(err.absolute_path)
    where = format_path(data, path)
    kw = err.validator
    sch = err.schema if isinstance(err.schema, dict) else {}
    got = describe(err.instance)
    if "propertyNames" in err.absolute_schema_path:
        msg = sch.get("errorMessage") or "il faut un nom fait de lettres, de chiffres et de _"
        return [_Msg(path, f"{where} : « {err.instance} » n'est pas un nom valable ici : {msg}", at_key=err.instance,
                     code="schema.name")]
    if kw == "format" and sch.get("format") == "date" and isinstance(err.instance, str):
        if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", err.instance):
            return []  # not even the form of a date: the pattern's message says it
        return [_Msg(path, f"{where} : {err.instance} n'est pas une date valable : {_date_problem(err.instance)}",
                     code="schema.date")]
    if kw in ("anyOf", "oneOf") and err.context and isinstance(err.instance, (dict, list)):
        return _explain(_best(err), data)  # point at the offending part, not the whole container
    if kw in _VALUE_KEYWORDS and sch.get("errorMessage"):
        return [_Msg(path, f"{where} : {sch['errorMessage']}, trouvé : {got}", code="schema.value")]
    if kw in ("anyOf", "oneOf") and err.context:
        return _explain(_best(err), data)
    if kw == "required":
        m = re.match(r"'(.+)' is a required property", err.message)  # jsonschema's wording, never shown
        name = m.group(1) if m else str(err.validator_value)
        title = _subschema_title(sch, name)
        hint = f"ajoutez {name}: ..." + (f" ({title})" if title else "")
        if name == "source":
            hint = ('ajoutez source: "NN-fichier.txt:LIGNE", la ligne du texte (dans shared/seeds) qui énonce cette '
                    'règle (chaque règle cite sa source)')
        msg = _Msg(path, f"{where} : clé « {name} » manquante", hint, code="schema.required")
        msg.name = name
        return [msg]
    if kw == "additionalProperties" and isinstance(err.instance, dict):
        allowed = list((sch.get("properties") or {}).keys())
        out = []
        for extra in err.instance:
            if extra in allowed:
                continue
            hint = did_you_mean(str(extra), allowed)
            if err.instance[extra] is None and not re.fullmatch(r"[a-z_][a-z0-9_]*", str(extra)):
                hint = ('entre { }, une virgule sépare les entrées : mettez un texte qui contient une virgule entre '
                        'guillemets, par exemple label: "a, b"')
            elif hint is None and allowed:
                hint = "clés admises ici : " + ", ".join(allowed)
            out.append(_Msg(path, f"{where} : clé « {extra} » inconnue", hint, at_key=extra, code="schema.unknown_key"))
        return out
    if kw == "type":
        types = err.validator_value if isinstance(err.validator_value, list) else [err.validator_value]
        want = " ou ".join(_TYPE_WORDS.get(t, t) for t in types)
        return [_Msg(path, f"{where} : il faut {want}, trouvé : {got}", code="schema.type")]
    if kw == "enum":
        opts = ", ".join(str(v) for v in err.validator_value)
        hint = did_you_mean(str(err.instance), [str(v) for v in err.validator_value]) \
            if isinstance(err.instance, str) else None
        return [_Msg(path, f"{where} : il faut l'une des valeurs {opts}, trouvé : {got}", hint, code="schema.enum")]
    if kw == "const":
        return [_Msg(path, f"{where} : il faut {describe(err.validator_value)}, trouvé : {got}", code="schema.const")]
    if kw in ("minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum"):
        op = {"minimum": "supérieur ou égal à", "maximum": "inférieur ou égal à", "exclusiveMinimum": "supérieur à",
              "exclusiveMaximum": "inférieur à"}[kw]
        return [_Msg(path, f"{where} : il faut un nombre {op} {err.validator_value}, trouvé : {got}",
                     code="schema.range")]
    if kw in ("minItems", "maxItems"):
        n, least = err.validator_value, kw == "minItems"
        return [_Msg(path, f"{where} : il faut {'au moins' if least else 'au plus'} {fr_plural(n, 'élément', 'éléments')}"
                     f", trouvé : {len(err.instance)}", code="schema.min_items" if least else "schema.max_items")]
    if kw in ("minLength", "minProperties"):
        return [_Msg(path, f"{where} : ne doit pas être vide", code="schema.empty")]
    if kw == "maxLength":
        return [_Msg(path, f"{where} : texte trop long, au plus {fr_plural(err.validator_value, 'caractère', 'caractères')}",
                     code="schema.too_long")]
    if kw == "maxProperties":
        return [_Msg(path, f"{where} : au plus {fr_plural(err.validator_value, 'clé', 'clés')}, trouvé : "
                     f"{len(err.instance)}", code="schema.too_many_keys")]
    if kw == "uniqueItems":
        return [_Msg(path, f"{where} : le même élément figure deux fois dans la liste", code="schema.unique")]
    if kw == "pattern":
        return [_Msg(path, f"{where} : {got} n'a pas la forme attendue", f"il faut un texte de la forme "
                     f"{err.validator_value}", code="schema.pattern")]
    if kw == "additionalProperties":
        return [_Msg(path, f"{where} : il faut une table (des lignes clé: valeur), trouvé : {got}", code="schema.type")]
    if kw == "format":
        return [_Msg(path, f"{where} : {got} n'a pas le format {err.validator_value}", code="schema.format")]
    if err.schema is False:
        return [_Msg(path, f"{where} : aucune valeur n'est admise ici", code="schema.forbidden")]
    # a keyword this module does not word (the schema does not use it today): name the key and the rule, never
    # jsonschema's English
    return [_Msg(path, f"{where} : valeur refusée par le schéma (règle « {kw} »), trouvé : {got}", code="schema")]


def validate_data(data: Any, *, doc: Any = None, keep: Any = None) -> list[Diagnostic]:
    """Schema errors of loaded data (a YMap) as positioned diagnostics, sorted, one per problem (``keep``: a
    predicate on jsonschema's errors, to report only some)."""
    from engine.spec.loader import diag_at

    msgs: list[_Msg] = []
    for err in _validator().iter_errors(data):
        if keep is None or keep(err):
            msgs.extend(_explain(err, data))
    # an unknown key that is a typo of a missing required key: report the typo only
    unknown = {(tuple(m.path), m.at_key) for m in msgs if m.code == "schema.unknown_key"}
    out: list[Diagnostic] = []
    seen: set[tuple] = set()
    for m in msgs:
        if m.code == "schema.required":
            if any(p == tuple(m.path) and did_you_mean(str(k), [str(m.name)]) for p, k in unknown):
                continue
        pos, width = _locate(data, m.path, at_key=m.at_key)
        if pos is None:
            d = Diagnostic(m.message, file=getattr(doc, "path", None), hint=m.hint, code=m.code)
        else:
            d = diag_at(doc, pos, m.message, hint=m.hint, code=m.code, width=width,
                        path=format_path(data, m.path))
        key = (d.file, d.line, d.col, d.message)
        if key not in seen:
            seen.add(key)
            out.append(d)
    return sorted(out, key=Diagnostic.sort_key)


def written_view(node: Any) -> Any:
    """The document as its file is written: each mapping expanded from ``{use: name, ...}`` shown as the name and
    the keys written beside it (what an editor validating the file alone sees), the rest unchanged."""
    from engine.spec.loader import YList, YMap

    if isinstance(node, YMap):
        site = getattr(node, "use_site", None)
        if site is not None:
            raw, local = site
            view = YMap(pos=node.pos)
            for k in ("use",) + local:
                view._set(k, raw["use"] if k == "use" else written_view(node[k]), raw.key_info(k), raw.value_info(k))
            view.use_site = site
            return view
        view = node.copy()
        for k in view:
            dict.__setitem__(view, k, written_view(view[k]))
        return view
    if isinstance(node, YList):
        items = YList([written_view(v) for v in node], pos=node.pos)
        items._items = list(node._items)
        return items
    return node


def _at_use_site(err) -> bool:
    """A key the schema requires where the spec wrote ``use:``: the shared block may hold it, but the schema asks
    the spec to write it (a funding rule cites the line of this programme's text)."""
    return err.validator == "required" and getattr(err.instance, "use_site", None) is not None


def validate(doc) -> list[Diagnostic]:
    """Every schema error of a loaded :class:`engine.spec.loader.Document`, as positioned plain sentences: the
    document with its ``use:`` blocks expanded, and the keys the schema requires beside a ``use:`` as the file
    writes them, so that ``engine check`` and an editor validating the file alone agree."""
    found = validate_data(doc.data, doc=doc)
    if _has_use_site(doc.data):
        seen = {(d.file, d.line, d.col, d.message) for d in found}
        found += [d for d in validate_data(written_view(doc.data), doc=doc, keep=_at_use_site)
                  if (d.file, d.line, d.col, d.message) not in seen]
        found.sort(key=Diagnostic.sort_key)
    return found


def _has_use_site(node: Any) -> bool:
    todo = [node]
    while todo:
        n = todo.pop()
        if isinstance(n, dict):
            if getattr(n, "use_site", None) is not None:
                return True
            todo.extend(n.values())
        elif isinstance(n, list):
            todo.extend(n)
    return False


def validate_document(doc) -> None:
    """Raise :class:`SpecError` with every schema error of ``doc`` (and of the vocabularies it imports)."""
    diags: list[Diagnostic] = []
    for d in doc.all_documents():
        diags.extend(validate(d))
    if diags:
        raise SpecError(diags)


__all__ = ["schema", "schema_text", "validate", "validate_data", "validate_document", "describe", "format_path"]
