"""`engine expr`: evaluate one expression on an optional record; the types of a JSON record's values.

``scope_from_record`` puts every key of a JSON record in scope with a type inferred from its value (ISO date
strings are dates, ``null`` is unknown of any type); ``events`` and ``history`` are always there (empty lists when
absent). With ``--spec``, the spec's declared inputs, parameters and definitions type the names instead.
"""

from __future__ import annotations

import sys
from datetime import date
from decimal import Decimal

from . import runtime as R
from .compiler import compile_expression
from .errors import Diagnostic, ExpressionError, RecordError, TextOrigin
from .types import ANY, BOOLEAN, DATE, DURATION, NUMBER, STRING, ListType, RecordType, Scope, Type, unify



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
            t = it if t is None else _merge(t, it)
        return ListType(t or ANY)
    return ANY


def _merge(a: Type, b: Type) -> Type:
    if isinstance(a, RecordType) and isinstance(b, RecordType):
        fields = dict(a.fields)
        for k, v in b.fields.items():
            fields[k] = _merge(fields[k], v) if k in fields else v
        return RecordType(fields)
    u = unify(a, b)
    return u if u is not None else ANY


_EVENT = RecordType({"type": STRING, "date": DATE})
_HISTORY = RecordType({"phase": STRING, "date": DATE})


def scope_from_record(record: dict) -> tuple[Scope, dict]:
    """Scope and env for a JSON record whose keys are all in scope (types inferred from the values)."""
    names, env = {}, {}
    for k, raw in record.items():
        v = R.value_from_json(raw, ANY, k)
        env[k] = v
        names[k] = infer_type(v)
    for k, item in (("events", _EVENT), ("history", _HISTORY)):
        t = names.get(k)
        if k not in names or t == ListType(ANY):
            names[k] = ListType(item)
            env.setdefault(k, [])
            if env[k].__class__ is R.Unknown:
                env[k] = []
        elif isinstance(t, ListType) and isinstance(t.item, RecordType):
            names[k] = ListType(_merge(item, t.item))
    return Scope(names), env


# ------------------------------------------------------------------------------------------ engine expr

def _read_record(path: str) -> dict:
    import json

    try:
        with open(path, "rb") as f:
            data = f.read()
    except OSError as e:
        raise RecordError(Diagnostic(f"cannot read the record file: {e.strerror}", file=path,
                                     hint="check the path given to --record", code="record.file")) from None
    try:
        record = json.loads(data.decode("utf-8-sig"), parse_float=Decimal)
    except UnicodeDecodeError:
        raise RecordError(Diagnostic("the record file is not valid UTF-8", file=path, code="record.json",
                                     hint="save the file as UTF-8")) from None
    except json.JSONDecodeError as e:
        raise RecordError(Diagnostic(f"invalid JSON: {e.msg}", file=path, line=e.lineno, col=e.colno,
                                     code="record.json")) from None
    except RecursionError:
        raise RecordError(Diagnostic("invalid JSON: nested too deeply", file=path, code="record.json",
                                     hint="a record is one flat JSON object whose lists hold records")) from None
    if not isinstance(record, dict):
        raise RecordError(Diagnostic("the record file must hold one JSON object", file=path, code="record.json",
                                     hint='write {"name": value, ...}'))
    return record


def _spec_scope(path: str) -> Scope:
    """The expression scope of a spec (its declared inputs, parameters and definitions)."""
    from .compile import load_spec

    scope = getattr(load_spec(path), "scope", None)
    if scope is None:
        raise ExpressionError(Diagnostic("this spec declares no expression scope", file=path, code="usage.spec"))
    return scope


def _dumps(value) -> str:
    import orjson

    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson refuses integers beyond 64 bits: the standard library writes them exactly
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def run_expr_command(args) -> int:
    """`engine expr EXPR [--record FILE.json] [--at DATE] [--spec S]`: print the value as JSON."""

    record = _read_record(args.record) if getattr(args, "record", None) else {}
    scope, env = scope_from_record(record)
    if getattr(args, "spec", None):
        spec_scope = _spec_scope(args.spec)
        for k, t in spec_scope.names.items():
            if k == "today":
                continue
            scope.names[k] = t
            if k in ("events", "history"):
                env[k] = R.value_from_json(record.get(k) or [], t, k)
            else:
                env[k] = R.value_from_json(record[k], t, k) if k in record else R.unknown(k)
        scope = Scope(scope.names, {**spec_scope.definitions, **scope.definitions})
    origin = TextOrigin(file="<expr>")
    compiled = compile_expression(args.expression, scope, origin=origin)
    value = compiled.fn(env, args.at or date.today())
    sys.stdout.write(_dumps(R.to_json(value)) + "\n")
    return 0
