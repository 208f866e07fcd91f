"""`engine expr EXPR [--record FILE.json] [--spec S] [--at D]`: evaluate one expression on an optional record.

Without ``--spec`` the record's keys are in scope with the types of their values
(:mod:`engine.expr.record_scope`); with ``--spec``, the spec's declared inputs, parameters and definitions type the
names instead.
"""

from __future__ import annotations

import sys
from datetime import date

from engine.clock import evaluation_date
from engine.expr import runtime as R
from engine.expr import runtime_json as RJ
from engine.expr.compiler import compile_expression
from engine.errors import Diagnostic, ExpressionError, RecordError, TextOrigin
from engine.expr.record_scope import EVENT_TYPE, HISTORY_TYPE, infer_type, merge_types
from engine.expr.types import ANY, BOOLEAN, DATE, NUMBER, STRING, ListType, RecordType, Scope, Type
from engine.files.inputs import InputTooLarge, load_json_document, read_bounded, surrogate_problem
from engine.expr.runtime_json import parse_date
from engine.beneficiary.bind import BindError, Binder, value_converter
from engine.spec.compile import load_spec



# ------------------------------------------------------------------------------------------ engine expr
# `engine expr --record FILE` reads and binds the record as `engine evaluate` does: the same size limit
# (engine.beneficiary.records.MAX_RECORD_BYTES, whatever the file is: a FIFO or a device is read at most up to the limit), the
# same JSON decoder (orjson: NaN, Infinity and lone surrogates refused), and the same binding (engine.beneficiary.bind.Binder:
# dates converted once, events sorted by date and indexed by type). With --spec the spec's own Binder is used;
# without it, the declarations are inferred from the record's values (one pass) and given to a Binder.

def _read_record(path: str) -> dict:
    from engine.beneficiary.records import MAX_RECORD_BYTES  # read at call time: the limit can be lowered (tests do)

    try:
        data = read_bounded(path, MAX_RECORD_BYTES)
    except InputTooLarge:
        raise RecordError(Diagnostic(f"enregistrement trop long (plus de {MAX_RECORD_BYTES // (1024 * 1024)} Mio, la "
                                     "limite d'un enregistrement pour engine evaluate aussi)", file=path,
                                     code="record.too_large", hint="vérifiez le chemin donné à --record")) from None
    except OSError as e:
        raise RecordError(Diagnostic(f"impossible de lire le fichier de l'enregistrement : {e.strerror or e}",
                                     file=path, hint="vérifiez le chemin donné à --record",
                                     code="record.file")) from None
    record, bad, kind = load_json_document(data)
    if bad is not None:
        if kind == "encoding":
            msg, hint = f"le fichier de l'enregistrement n'est pas du texte UTF-8 valide : {bad.what}", \
                "enregistrez le fichier en UTF-8"
        elif "depth" in bad.what:
            msg, hint = "JSON invalide : imbrication trop profonde", \
                "un enregistrement est un objet JSON dont les listes contiennent des objets"
        else:
            msg, hint = bad.what, None
        raise RecordError(Diagnostic(msg, file=path, line=bad.line, col=bad.col, source_line=bad.source_line,
                                     code=f"record.{kind}", hint=hint))
    if not isinstance(record, dict):
        raise RecordError(Diagnostic("le fichier de l'enregistrement doit contenir un seul objet JSON {...}",
                                     file=path, code="record.json", hint='écrivez {"nom": valeur, ...}'))
    return record


class _Decl:
    __slots__ = ("decl", "fields")

    def __init__(self, decl=None, fields=None):
        self.decl = decl
        self.fields = fields


class _InferredSpec:
    """What :class:`engine.beneficiary.bind.Binder` reads of a spec, inferred from one record's values."""

    id = "<expr>"

    def __init__(self, attributes: dict, events: dict):
        self.attributes = {n: _Decl(d) for n, d in attributes.items()}
        self.events = {t: _Decl(fields={f: _Decl(d) for f, d in fs.items()}) for t, fs in events.items()}
        self.parameters: dict = {}


_MIXED = "mixed"  # a name whose values have no single declarable type: converted the best-effort way


def _decl_of(v):
    """The declaration a JSON value fits (``{"type": ...}``), None for null, or _MIXED."""
    c = v.__class__
    if c is bool:
        return _BOOL
    if c is int or c is float:
        return _NUM
    if c is str:
        d = _DATE_DECLS.get(v)
        if d is None:
            d = _DATE if parse_date(v) is not None else _STR
            if len(_DATE_DECLS) < 10_000:
                _DATE_DECLS[v] = d
        return d
    if c is list:
        item = None
        for x in v:
            item = _merge_decl(item, _decl_of(x))
        if item is _MIXED or (item is not None and item["type"] == "list"):
            return _MIXED
        return {"type": "list", "items": item or {}}
    return _MIXED


_BOOL, _NUM, _STR, _DATE = {"type": "boolean"}, {"type": "number"}, {"type": "string"}, {"type": "date"}
_DATE_DECLS: dict = {}


def _merge_decl(a, b):
    if a is None:
        return b
    if b is None or a is b or a == b:
        return a
    return _MIXED


def _decl_type(d) -> Type:
    t = d["type"]
    if t == "list":
        return ListType(_decl_type(d["items"]) if d["items"] else ANY)
    return {"boolean": BOOLEAN, "number": NUMBER, "string": STRING, "date": DATE}[t]


def _infer(record: dict, skip=()) -> tuple[dict, dict, dict, dict]:
    """(attribute decls, event decls by type, scope names, best-effort names) of a record; ``skip``: names
    declared elsewhere (a spec)."""
    attrs, names, loose = {}, {}, {}
    for k, v in record.items():
        if k in ("history", "events") or k in skip:
            continue
        if v is None:  # in scope, unknown, of any type
            names[k] = ANY
            continue
        d = _decl_of(v)
        if d is _MIXED:
            loose[k] = v
        else:
            attrs[k] = d
            names[k] = _decl_type(d)
    events: dict = {}
    evs = record.get("events")
    if evs.__class__ is list and "events" not in skip:
        for e in evs:
            if e.__class__ is not dict:
                continue  # the Binder reports it
            fields = events.get(e.get("type"))
            if fields is None:
                fields = events[e.get("type")] = {}
            for f, v in e.items():
                if f == "type" or f == "date" or v is None:
                    continue
                old = fields.get(f)
                if old is _MIXED:
                    continue
                fields[f] = _merge_decl(old, _decl_of(v))
        events.pop(None, None)
        events = {t: fs for t, fs in events.items() if t.__class__ is str}
    return attrs, events, names, loose


def _bind(record: dict, path: str, spec=None) -> tuple[Scope, dict]:
    """The scope and environment of ``record``, bound like ``engine evaluate`` binds it."""
    attrs, events, names, loose = _infer(record, skip=spec.attributes if spec is not None else ())
    inferred = spec is None
    if inferred:
        spec = _InferredSpec(attrs, {t: {f: d for f, d in fs.items() if d is not _MIXED}
                                     for t, fs in events.items()})
    binder = Binder(spec)
    raw = dict(record)
    raw["id"] = "<expr>"  # the id is one attribute among others here; the Binder requires a text
    params = {}
    for name in binder.param_decls:  # a parameter given in the record: its value (as before)
        if name in record and record[name] is not None:
            params[name] = record[name]
    try:
        env = binder.bind(raw, binder.params(params))
    except BindError as e:
        raise RecordError(Diagnostic(e.message, file=path, code=f"record.{e.code}",
                                     hint="l'enregistrement est lu comme engine evaluate le lit")) from None
    scope_names = dict(names) if inferred else {}
    for k, v in loose.items():  # nested objects, mixed lists: the best-effort conversion
        env[k] = RJ.value_from_json(v, ANY, k)
        scope_names[k] = infer_type(env[k])
    if "id" in record:
        env["id"] = RJ.value_from_json(record["id"], ANY, "id")
        scope_names.setdefault("id", infer_type(env["id"]))
    for k, t in names.items():  # nulls; with a spec: the undeclared attributes of the record
        if k not in env:
            env[k] = binder_value(record[k], attrs[k], k) if k in attrs else R.unknown(k)
            scope_names[k] = t
    if inferred:
        ev_fields: dict = {}
        for t, fs in events.items():
            mixed = [f for f, d in fs.items() if d is _MIXED]
            if mixed:
                for e in env["events"]:
                    if e["type"] == t:
                        for f in mixed:
                            if f in e:
                                e[f] = RJ.value_from_json(e[f], ANY, f)
            for f, d in fs.items():
                ft = ANY if d is _MIXED or d is None else _decl_type(d)
                ev_fields[f] = merge_types(ev_fields[f], ft) if f in ev_fields else ft
        scope_names["events"] = ListType(merge_types(EVENT_TYPE, RecordType(ev_fields)) if ev_fields else EVENT_TYPE)
        scope_names["history"] = ListType(HISTORY_TYPE)
    return Scope(scope_names), env


def binder_value(v, decl: dict, name: str):
    """One value converted to its inferred declaration, as the Binder converts attributes."""
    return value_converter(decl, f"attribut « {name} »")(v)


def _spec_of(path: str):
    spec = load_spec(path)
    if getattr(spec, "scope", None) is None:
        raise ExpressionError(Diagnostic("cette spec ne déclare pas d'expressions (un vocabulaire ?)", file=path,
                                         code="usage.spec", hint="donnez la spec d'un dispositif"))
    return spec


def _check_expression_text(text: str) -> None:
    """An expression from the command line holding bytes that are not UTF-8 (the shell passes them through as lone
    surrogates) or a lone surrogate: a positioned error, never an encoding traceback on output."""
    bad = surrogate_problem(text)
    if bad is not None:
        ch = ord(text[[i for i, c in enumerate(text) if "\ud800" <= c <= "\udfff"][0]])
        what = f"octet 0x{ch - 0xDC00:02X} invalide (ce n'est pas de l'UTF-8)" if 0xDC80 <= ch <= 0xDCFF else bad.what
        raise ExpressionError(Diagnostic(f"l'expression n'est pas du texte valide : {what}", file="<expr>",
                                         line=bad.line, col=bad.col, source_line=bad.source_line,
                                         code="expr.encoding", hint="retapez l'expression en UTF-8"))


def _dumps(value) -> str:
    import orjson

    try:
        return orjson.dumps(value).decode()
    except TypeError:  # orjson refuses integers beyond 64 bits: the standard library writes them exactly
        import json

        return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def run(args) -> int:
    """`engine expr EXPR [--record FILE.json] [--at DATE] [--spec S]`: print the value as JSON."""
    _check_expression_text(args.expression)
    record_path = getattr(args, "record", None)
    record = _read_record(record_path) if record_path else {}
    spec = _spec_of(args.spec) if getattr(args, "spec", None) else None
    scope, env = _bind(record, record_path or "<record>", spec)
    if spec is not None:
        spec_scope = spec.scope
        names = {k: t for k, t in spec_scope.names.items() if k != "today"}
        scope = Scope({**scope.names, **names}, {**spec_scope.definitions, **scope.definitions})
    origin = TextOrigin(file="<expr>")
    compiled = compile_expression(args.expression, scope, origin=origin)
    value = compiled.fn(env, evaluation_date(args.at))
    sys.stdout.write(_dumps(RJ.to_json(value)) + "\n")
    return 0
