"""The scope of a JSON record whose keys are all in scope, their types inferred from the values.

``scope_from_record`` puts every key of a JSON record in scope with a type inferred from its value (ISO date
strings are dates, ``null`` is unknown of any type); ``events`` and ``history`` are always there (empty lists when
absent). Used by :func:`engine.expr.compiler.evaluate_expression` without a scope and by `engine expr --record`.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.expr import runtime as R
from engine.expr import runtime_json as RJ
from engine.expr.types import ANY, BOOLEAN, DATE, DURATION, NUMBER, STRING, ListType, RecordType, Scope, Type, unify


def infer_type(value) -> Type:
    """The type of a runtime value (for `engine expr --record` and evaluate_expression without a scope)."""
    c = value.__class__
    if c is bool:
        return BOOLEAN
    if c is int or c is Decimal:
        return NUMBER
    if c is str:
        return STRING
    if c is date:
        return DATE
    if c is R.Duration:
        return DURATION
    if c is dict:
        return RecordType({k: infer_type(v) for k, v in value.items()})
    if c is list:
        t: Type | None = None
        for item in value:
            it = infer_type(item)
            t = it if t is None else merge_types(t, it)
        return ListType(t or ANY)
    return ANY


def merge_types(a: Type, b: Type) -> Type:
    if isinstance(a, RecordType) and isinstance(b, RecordType):
        fields = dict(a.fields)
        for k, v in b.fields.items():
            fields[k] = merge_types(fields[k], v) if k in fields else v
        return RecordType(fields)
    u = unify(a, b)
    return u if u is not None else ANY


EVENT_TYPE = RecordType({"type": STRING, "date": DATE})
HISTORY_TYPE = RecordType({"phase": STRING, "date": DATE})


def scope_from_record(record: dict) -> tuple[Scope, dict]:
    """Scope and env for a JSON record whose keys are all in scope (types inferred from the values)."""
    names, env = {}, {}
    for k, raw in record.items():
        v = RJ.value_from_json(raw, ANY, k)
        env[k] = v
        names[k] = infer_type(v)
    for k, item in (("events", EVENT_TYPE), ("history", HISTORY_TYPE)):
        t = names.get(k)
        if k not in names or t == ListType(ANY):
            names[k] = ListType(item)
            env.setdefault(k, [])
            if env[k].__class__ is R.Unknown:
                env[k] = []
        elif isinstance(t, ListType) and isinstance(t.item, RecordType):
            names[k] = ListType(merge_types(item, t.item))
    return Scope(names), env


__all__ = ["EVENT_TYPE", "HISTORY_TYPE", "infer_type", "merge_types", "scope_from_record"]
