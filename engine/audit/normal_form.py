"""Normal form of a spec for the semantic diff (`engine diff`).

A loaded spec document (plain mappings and lists, imports and ``use:`` blocks resolved) becomes a flat set of
*entities*: one per rule, phase, transition, deadline, obligation, indicator, payment, session, parameter,
definition, declared input... each keyed by ``(section, id)`` -- never by list position -- and holding *fields*
whose values are :class:`Norm`: a comparison key that ignores the spelling (``15 jours`` == ``15 days``,
``2 weeks`` == ``14 days``, ``1 an`` == ``12 months``, ``40%`` == ``0.40``; expressions compared through their
AST, so whitespace, French/English keywords and redundant parentheses change nothing), a French rendering for the
sentences, and a JSON value for the machine output.

Expressions are normalised by :mod:`engine.audit.expr_canon` (the engine's parser when present, a token form otherwise).
"""

from __future__ import annotations

import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable, Iterable

from engine.audit.expr_canon import (Norm, canon, constant_changes, default_expr_parser, expr_names,  # noqa: F401
                                     make_expr_parser)
from engine.expr import durations
from engine.fr import fr_date, fr_number, fr_percent

# ------------------------------------------------------------------------------------------------ value normal form

#: keys whose change cannot change an outcome (texts, provenance)
NON_SEMANTIC_KEYS = frozenset({
    "label", "title", "explanation", "source", "sources", "interpretation", "description", "note", "notes",
    "comment", "comments", "source_document", "version", "message", "name", "help", "doc",
})
#: sections whose entities never change an outcome
NON_SEMANTIC_SECTIONS = frozenset({"examples", "metadata", "imports"})
#: keys holding expressions (other strings are tried as durations, rates, dates, then expressions)
EXPR_KEYS = frozenset({
    "condition", "expr", "guard", "where", "applies_if", "numerator", "denominator", "value", "formula", "filter",
    "when", "objective", "target", "achieved", "measure", "amount", "cap", "limit", "base", "count", "eligible_if",
})

_FR_UNITS = {"day": ("jour", "jours"), "week": ("semaine", "semaines"), "month": ("mois", "mois"), "year": ("an", "ans")}
_PERCENT_RE = re.compile(r"^\s*(-?\d+(?:[.,]\d+)?)\s*%\s*$")
_NUMBER_RE = re.compile(r"^\s*-?\d+(?:\.\d+)?\s*$")
_DATE_RE = re.compile(r"^\s*(\d{4})-(\d{2})-(\d{2})\s*$")


def _duration(text: str) -> Norm | None:
    """A duration of the spec's syntax (:mod:`engine.expr.durations`): keyed by its months, or its days, or both
    (``1 an et 6 mois`` == ``18 mois``, ``2 semaines`` == ``14 jours``), worded in French part by part."""
    parts = durations.parse_parts(text)
    if parts is None:
        return None
    months, days = durations.months_days(text)
    if all(durations.FACTORS[u][1] == 0 for _n, u in parts):
        key: tuple = ("duration", "M", months)
    elif all(durations.FACTORS[u][0] == 0 for _n, u in parts):
        key = ("duration", "D", days)
    else:
        key = ("duration", "M", months, "D", days)
    words = [f"{n} {_FR_UNITS[u][0] if n == 1 else _FR_UNITS[u][1]}" for n, u in parts]
    fr = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " et " + words[-1]
    return Norm(key, fr, text.strip(), "duration")


def norm_scalar(value: Any, key: str = "", parse_expr: Callable[[str], Norm | None] | None = None) -> Norm:
    """Normalise one scalar from a spec document."""
    if value is None:
        return Norm(("null",), "(vide)", None, "null")
    if isinstance(value, bool):
        return Norm(("bool", value), "oui" if value else "non", value, "bool")
    if isinstance(value, (int, Decimal)) or (isinstance(value, float) and value == value):
        d = Decimal(str(value)) if isinstance(value, float) else Decimal(value)
        return Norm(("number", d.normalize()), fr_number(d), _json_number(d), "number")
    if isinstance(value, _dt.datetime):
        value = value.date()
    if isinstance(value, _dt.date):
        return Norm(("date", value), fr_date(value), value.isoformat(), "date")
    if isinstance(value, str):
        text = value
        if key in NON_SEMANTIC_KEYS:
            return Norm(("text", " ".join(text.split())), text.strip(), text, "text")
        dur = _duration(text)
        if dur is not None:
            return dur
        m = _PERCENT_RE.match(text)
        if m:
            d = Decimal(m.group(1).replace(",", ".")) / 100
            return Norm(("number", d.normalize()), fr_percent(d), text.strip(), "percent")
        if _NUMBER_RE.match(text) and key not in EXPR_KEYS:
            d = Decimal(text.strip())
            return Norm(("number", d.normalize()), fr_number(d), text.strip(), "number")
        m = _DATE_RE.match(text)
        if m:
            try:
                d = _dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
                return Norm(("date", d), fr_date(d), d.isoformat(), "date")
            except ValueError:
                pass
        if parse_expr is not None and (key in EXPR_KEYS or _looks_like_expr(text)):
            n = parse_expr(text)
            if n is not None:
                literal = _literal_value(n)
                if literal is not None:  # "1" or "vrai" written as an expression: the same value as 1 or true
                    plain = norm_scalar(literal)
                    return Norm(plain.key, plain.text, text, plain.kind)
                return n
        return Norm(("text", " ".join(text.split())), text.strip(), text, "text")


def _literal_value(n: Norm):
    """The value of an expression that is a single number or boolean literal, else None."""
    node = n.ast[1] if n.ast else None
    fields = getattr(node, "__dataclass_fields__", None)
    if not fields or type(node).__name__ not in ("Number", "Boolean"):
        return None
    value = getattr(node, "value", None)
    return value if isinstance(value, (bool, int, Decimal)) else None
    return Norm(("repr", repr(value)), str(value), str(value), "text")


def _looks_like_expr(text: str) -> bool:
    return bool(re.search(r"[<>=!()+*/\[\]]|\b(and|or|not|et|ou|non|in|where|si|if)\b", text))


def _json_number(d: Decimal):
    if d == d.to_integral_value() and abs(d) < 10 ** 15:
        return int(d)
    return float(d) if len(d.as_tuple().digits) <= 15 else str(d)


# ------------------------------------------------------------------------------------------------ entities

METADATA_KEYS = ("id", "kind", "version", "title", "source_document", "valid_from", "valid_until")
_ANCHOR_KEYS = {"phase": "phase", "event": "événement", "attribute": "attribut", "date": "date"}
GROUP_FR = {"all": "toutes les conditions", "any": "au moins une condition", "not": "négation"}


@dataclass(frozen=True)
class Entity:
    """One identified element of a spec (a rule, a phase, a deadline...) and its normalised fields."""

    section: str
    id: str                      # "" for a section that is a single element (convention, funding...)
    label: str | None
    fields: dict                 # field path -> Norm
    data: Any = field(compare=False, default=None)  # the plain document value, for added/removed elements
    pos: Any = field(compare=False, default=None)   # (file, line) of the element in its spec file, when known
    field_pos: dict = field(compare=False, default_factory=dict)  # first key of a field path -> (file, line)

    @property
    def path(self) -> str:
        return self.section + (f".{self.id}" if self.id else "")


@dataclass(frozen=True)
class NormalSpec:
    entities: dict               # (section, id) -> Entity
    meta: dict                   # id, version, title, valid_from, valid_until (plain values)


def field_is_semantic(section: str, path: str) -> bool:
    if section in NON_SEMANTIC_SECTIONS:
        return False
    last = re.sub(r"\[[^\]]*\]$", "", path.rsplit(".", 1)[-1])
    return last not in NON_SEMANTIC_KEYS


def _set_norm(items: list, key: str, parse_expr) -> Norm:
    norms = [norm_scalar(x, key, parse_expr) for x in items]
    uniq = {n.key: n for n in norms}
    ordered = sorted(uniq.values(), key=lambda n: str(n.key))
    return Norm(("set", frozenset(uniq)), ", ".join(n.text for n in ordered) or "(aucun)", list(items), "set",
                tuple(ordered))


def _item_ident(item: dict, index: int) -> str:
    for k in ("id", "name"):
        v = item.get(k)
        if isinstance(v, (str, int)) and not isinstance(v, bool):
            return str(v)
    if "from" in item and "to" in item and not isinstance(item["from"], (dict, list)):
        return f"{item['from']}->{item['to']}"
    return f"#{index + 1}"


def _unique(idents: list[str]) -> list[str]:
    seen: dict[str, int] = {}
    out = []
    for i in idents:
        seen[i] = seen.get(i, 0) + 1
        out.append(i if seen[i] == 1 else f"{i}~{seen[i]}")
    return out


def flatten(value: Any, prefix: str, out: dict, key: str, parse_expr) -> None:
    """Flatten a nested document value into ``out[path] = Norm``; lists of mappings are matched by id."""
    if isinstance(value, dict):
        if len(value) == 1:
            (k, v), = value.items()
            if k in _ANCHOR_KEYS and isinstance(v, str):
                out[prefix] = Norm(("anchor", k, v), f"{_ANCHOR_KEYS[k]} « {v} »", dict(value), "anchor")
                return
        for k, v in value.items():
            flatten(v, f"{prefix}.{k}" if prefix else str(k), out, str(k), parse_expr)
    elif isinstance(value, list):
        if all(isinstance(x, dict) for x in value) and value:
            for ident, item in zip(_unique([_item_ident(x, i) for i, x in enumerate(value)]), value):
                flatten(item, f"{prefix}[{ident}]", out, key, parse_expr)
        elif any(isinstance(x, (dict, list)) for x in value):
            for i, item in enumerate(value):
                flatten(item, f"{prefix}[{i + 1}]", out, key, parse_expr)
        else:
            out[prefix] = _set_norm(value, key, parse_expr)
    else:
        out[prefix] = norm_scalar(value, key, parse_expr)


def _entity(section: str, ident: str, data: Any, parse_expr, extra: dict | None = None, pos=None) -> Entity:
    fields: dict = {}
    if isinstance(data, dict):
        flatten({k: v for k, v in data.items() if k != "id"}, "", fields, section, parse_expr)
        label = data.get("label") if isinstance(data.get("label"), str) else None
    else:
        flatten(data, "value", fields, section, parse_expr)
        label = None
    if extra:
        fields.update(extra)
    return Entity(section, ident, label, fields, data, pos or _pos_of(data), _field_positions(data))


def _pos_of(node, key=None):
    """(file, line) of a loaded YAML node (or of the value of ``key`` in it); None for plain data."""
    try:
        p = node.value_pos(key) if key is not None else getattr(node, "pos", None)
    except (AttributeError, KeyError, TypeError):
        return None
    line = getattr(p, "line", None)
    return (getattr(p, "file", None), line) if line else None


def _key_pos(node, key):
    try:
        p = node.key_pos(key)
    except (AttributeError, KeyError, TypeError):
        return None
    return (getattr(p, "file", None), getattr(p, "line", None)) if getattr(p, "line", None) else None


def _item_pos(node, i: int):
    try:
        p = node.item_pos(i)
    except (AttributeError, IndexError, TypeError):
        return None
    return (getattr(p, "file", None), getattr(p, "line", None)) if getattr(p, "line", None) else None


def _field_positions(data) -> dict:
    if not isinstance(data, dict) or not hasattr(data, "value_pos"):
        return {}
    out = {}
    for k in data:
        p = _pos_of(data, k)
        if p:
            out[str(k)] = p
    return out


def _collection(section: str, value: Any, parse_expr, out: dict, id_prefix: str = "") -> None:
    if isinstance(value, (list, dict)) and not value:
        return  # an empty section is no element
    if isinstance(value, list) and value and all(isinstance(x, dict) for x in value):
        idents = _unique([_item_ident(x, i) for i, x in enumerate(value)])
        for i, (ident, item) in enumerate(zip(idents, value)):
            _put(out, _entity(section, id_prefix + ident, item, parse_expr, pos=_item_pos(value, i)))
    elif isinstance(value, dict) and value and all(isinstance(v, dict) for v in value.values()):
        for k, item in value.items():
            _put(out, _entity(section, id_prefix + str(k), item, parse_expr, pos=_key_pos(value, k)))
    elif value is not None:
        _put(out, _entity(section, id_prefix.rstrip(":"), value, parse_expr))


def _mixed_section(section: str, value: dict, parse_expr, out: dict) -> None:
    """A mapping section (convention, funding): scalar keys form one element; a mapping under a key is an element
    named by the key; a list of mappings under a key gives one element per item (``caps.per_participant_month``)."""
    scalars = {}
    for key, sub in value.items():
        if isinstance(sub, list) and sub and all(isinstance(x, dict) for x in sub):
            _collection(section, sub, parse_expr, out, f"{key}.")
        elif isinstance(sub, dict):
            _put(out, _entity(section, str(key), sub, parse_expr, pos=_key_pos(value, key)))
        else:
            scalars[key] = sub
    if scalars:
        e = _entity(section, "", scalars, parse_expr, pos=_pos_of(value))
        e.field_pos.update({k: p for k, p in _field_positions(value).items() if k in scalars})
        _put(out, e)


def _put(out: dict, e: Entity) -> None:
    out[(e.section, e.id)] = e


def _rule_tree(tree: str, node: Any, parent: str | None, out: dict, parse_expr, used: set) -> None:
    if not isinstance(node, dict):
        return
    group = next((g for g in ("all", "any", "not") if isinstance(node.get(g), (list, dict))), None)
    rid = node.get("id") if isinstance(node.get("id"), str) else None
    if rid is None:
        rid = tree if parent is None else (node.get("label") if isinstance(node.get("label"), str) else None)
    if rid is None or rid in used:
        base = rid or f"{parent}#"
        n = 1
        while f"{base}~{n}" in used:
            n += 1
        rid = f"{base}~{n}" if rid else f"{parent}#{n}"
    used.add(rid)
    extra = {}
    if group:
        extra["group"] = Norm(("group", group), GROUP_FR[group], group, "text")
    if parent is not None:
        extra["parent"] = Norm(("parent", parent), parent, parent, "text")
    data = {k: v for k, v in node.items() if k != group}
    ident = f"{tree}.{rid}" if rid != tree else tree
    e = _entity("eligibility", ident, data, parse_expr, extra, pos=_pos_of(node))
    e.field_pos.update(_field_positions(node))
    _put(out, e)
    children = node.get(group) if group else None
    if isinstance(children, dict):
        children = [children]
    for child in children or []:
        _rule_tree(tree, child, rid, out, parse_expr, used)


def resolve_use(value: Any, shared: dict) -> Any:
    """Replace every ``{use: name}`` mapping by the vocabulary's shared block ``name``."""
    if isinstance(value, dict):
        name = value.get("use")
        if isinstance(name, str) and name in shared:
            block = resolve_use(shared[name], shared)
            if len(value) == 1:
                return block
            if isinstance(block, dict):  # keys written next to `use:` replace the block's keys (shallow merge)
                merged = dict(block)
                merged.update({k: resolve_use(v, shared) for k, v in value.items() if k != "use"})
                return merged
        new = {k: resolve_use(v, shared) for k, v in value.items()}
        # unchanged: keep the loaded node (and its positions)
        return value if all(new[k] is value[k] for k in value) else new
    if isinstance(value, list):
        new_list = [resolve_use(x, shared) for x in value]
        return value if all(a is b for a, b in zip(new_list, value)) else new_list
    return value


_VOCAB_INPUTS = {"attributes": "attribute:", "events": "event:", "operation_attributes": "operation:"}
_SPEC_INPUTS = {"attributes": "attribute:", "events": "event:", "operation": "operation:"}


def normalise_spec(doc: dict, vocabularies: Iterable[dict] = (),
                   parse_expr: Callable[[str], Norm | None] | None = None) -> NormalSpec:
    """The entities of a spec document (plain data) and of the vocabularies it imports."""
    out: dict = {}
    vocabularies = list(vocabularies)
    if doc.get("kind") == "vocabulary":  # diffing a vocabulary file itself: its sections, and its shared blocks
        vocabularies.append(doc)
        blocks = doc.get("shared")
        for name, block in (blocks.items() if isinstance(blocks, dict) else ()):
            _put(out, _entity("shared", str(name), block, parse_expr, pos=_key_pos(blocks, name)))
        doc = {k: v for k, v in doc.items() if k in METADATA_KEYS or k == "imports"}
    shared: dict = {}
    for voc in vocabularies:
        if isinstance(voc.get("shared"), dict):
            shared.update(voc["shared"])
    doc = resolve_use(doc, shared)
    for voc in vocabularies:
        for key, value in voc.items():
            if key in ("kind", "id", "version", "title", "imports", "shared", "source_document"):
                continue
            if key in _VOCAB_INPUTS:
                _collection("inputs", value, parse_expr, out, _VOCAB_INPUTS[key])
            elif key == "definitions":
                _collection("definitions", value, parse_expr, out)
            elif key == "territories":
                _collection("vocabulary", value, parse_expr, out, "territory:")
            elif key == "territory_groups":
                _collection("vocabulary", value, parse_expr, out, "group:")
            else:
                _collection("vocabulary", value, parse_expr, out, f"{key}:")
    meta = {k: doc.get(k) for k in METADATA_KEYS}
    meta_entity = _entity("metadata", "", {k: v for k, v in meta.items() if v is not None}, parse_expr)
    meta_entity.field_pos.update({k: p for k, p in _field_positions(doc).items() if k in METADATA_KEYS})
    _put(out, meta_entity)
    for key, value in doc.items():
        if key in METADATA_KEYS:
            continue
        if key == "imports":
            for i, imp in enumerate(value if isinstance(value, list) else [value]):
                _put(out, Entity("imports", str(imp), None, {}, imp, _item_pos(value, i)))
        elif key == "eligibility" and isinstance(value, dict):
            for tree, node in value.items():
                _rule_tree(str(tree), node, None, out, parse_expr, set())
        elif key == "inputs" and isinstance(value, dict):
            for sub, decl in value.items():
                _collection("inputs", decl, parse_expr, out, _SPEC_INPUTS.get(sub, f"{sub}:"))
        elif key == "territories":
            _put(out, _entity("territories", "", value, parse_expr, pos=_pos_of(doc, "territories")))
        elif isinstance(value, dict) and not all(isinstance(v, dict) for v in value.values()):
            _mixed_section(key, value, parse_expr, out)          # convention, funding...
        else:
            _collection(key, value, parse_expr, out)
    return NormalSpec(out, meta)


# ------------------------------------------------------------------------------------------------ users

def users_of(spec: NormalSpec, name: str, exclude: tuple[str, str] | None = None) -> list[Entity]:
    """Entities whose expressions read ``name``, directly or through definitions that read it."""
    reads = {key: set().union(*(expr_names(v) for v in e.fields.values())) for key, e in spec.entities.items()}
    found: dict = {}
    frontier, seen = [name], {name}
    while frontier:
        current = frontier.pop()
        for key, names in reads.items():
            if current in names and key != exclude and key not in found:
                found[key] = spec.entities[key]
                if key[0] == "definitions" and key[1] not in seen:
                    seen.add(key[1])
                    frontier.append(key[1])
    return [found[k] for k in sorted(found)]
