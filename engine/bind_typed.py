"""Typed decoding: JSON bytes decoded straight into a spec's declared types, in C (msgspec), for ``engine evaluate``.

Binding a record (:mod:`engine.bind`) is mostly per-event Python work: parse each date, check each event's type
and declared fields. For the common record, msgspec does all of it while it decodes the JSON text: the record is
decoded against a ``TypedDict`` built from the spec (attributes, ``history`` entries, events), so dates arrive as
``datetime.date``, enumerations, booleans, integers and texts are checked, and undeclared keys are dropped.

Whatever msgspec refuses (invalid JSON, a wrong type, a null event field, a fractional number, an undeclared
attribute type...) is decoded again the ordinary way (:func:`engine.records.decode_object`) and bound by
:class:`engine.bind.Binder`, which reports the first error in the record's order. So the typed path never decides
anything on its own: a record it accepts binds to exactly what the ordinary binding gives
(``tests/test_evaluate_fastpath.py`` compares the two on every shipped spec, hostile lines included).

:class:`TypedDecoder` is built once per spec; it is None (not used) when msgspec is not installed or when two event
types declare the same field with different types (the union of event fields would then check too little).
"""

from __future__ import annotations

import datetime
from operator import itemgetter
from typing import Any, Literal, NotRequired, Required, TypedDict

from .bind import _EVENTS_BY_TYPE, BindError, Binder, _drop_nulls, _edate

try:
    import msgspec
except ImportError:  # pragma: no cover - msgspec is a dependency; without it the ordinary path is used
    msgspec = None


_DATE = itemgetter("date")


class Typed:
    """A record decoded by :class:`TypedDecoder`: ``raw`` holds only declared keys, of the declared types."""

    __slots__ = ("raw",)

    def __init__(self, raw: dict):
        self.raw = raw


_NATIVE = {"boolean": bool, "string": str, "date": datetime.date,
           "integer": int | float, "number": int | float}  # a float is then read as an exact decimal (binding)


def _hint(decl) -> Any:
    """The type msgspec checks for a declared input, or None when the ordinary converter must do all of it (a
    duration, a list, an undeclared type...)."""
    t = decl.get("type") if isinstance(decl, dict) else None
    if t == "enum":
        values = tuple(str(v) for v in decl.get("values") or ())
        return Literal[values] if values else None
    return _NATIVE.get(t)


def _numeric(decl) -> bool:
    return isinstance(decl, dict) and decl.get("type") in ("integer", "number")


class TypedDecoder:
    """``decoder(data: bytes)`` -> :class:`Typed` when msgspec accepts the record, else what
    :func:`engine.records.decode_object` gives (a dict or a BadRecord).

    After decoding, :func:`bind_typed` still applies the ordinary converter to ``post`` attributes (all their values)
    and ``numbers`` attributes (their floats, read as exact decimals), and per event type to ``event_post``:
    ``(field, converter, floats only)``; a field that two event types declare differently is left to each type's
    converter."""

    def __init__(self, spec):
        hints: dict = {}
        conflicts: set = set()
        for ev in spec.events.values():
            for f, a in ev.fields.items():
                if f in ("type", "date"):
                    continue
                hint = _hint(a.decl)
                if hint is None or hints.get(f, hint) != hint:
                    conflicts.add(f)
                hints[f] = hint
        binder = Binder(spec)
        self.event_post: dict = {}
        for t, convs in binder.event_fields.items():
            post = tuple((f, c, f not in conflicts) for f, _ok, c in convs
                         if f in conflicts or _numeric(spec.events[t].fields[f].decl))
            if post:
                self.event_post[t] = post
        # a field left to the converters may be null: those events are then looked at for nulls (dropped, as the
        # ordinary binding does: a null field is an absent one)
        self.any_event_field = bool(conflicts)
        event = TypedDict("Event", {"type": Required[str], "date": Required[datetime.date],
                                    **{f: NotRequired[Any if f in conflicts else h] for f, h in hints.items()}})
        entry = TypedDict("HistoryEntry", {"phase": Required[str], "date": Required[datetime.date]})
        record: dict = {"id": NotRequired[str], "history": NotRequired[list[entry]],
                        "events": NotRequired[list[event]]}
        self.post: list = []  # attributes msgspec does not check: (name, ordinary converter)
        self.numbers: list = []  # number attributes: (name, converter of their floats)
        for name, conv, _unk in binder.attrs:
            decl = spec.attributes[name].decl
            hint = _hint(decl)
            if hint is None:
                record[name] = NotRequired[Any]
                self.post.append((name, conv))
            else:
                record[name] = NotRequired[hint | None]  # null: unknown, as in the ordinary binding
                if _numeric(decl):
                    self.numbers.append((name, conv))
        self._decode = msgspec.json.Decoder(TypedDict("Record", record)).decode
        # (invalid UTF-8 raises UnicodeDecodeError, a ValueError)
        self._errors = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, ValueError)

    def __call__(self, data: bytes):
        try:
            if not data.isascii():
                data.decode()  # msgspec does not check the bytes of the keys it skips (undeclared ones)
            if _may_overflow(data):
                raise ValueError  # nor the numbers it skips: orjson refuses those that overflow (invalid_number)
            return Typed(self._decode(data))
        except self._errors:
            from .records import decode_object

            return decode_object(data)


_DIGITS = bytes.maketrans(b"123456789E", b"000000000e")


def _may_overflow(data: bytes) -> bool:
    """Whether the text may hold a number too large for a double (1e400; a mantissa of k digits with an exponent of
    two digits overflows only when k > 210): an exponent of three digits or a run of 200 digits, anywhere (inside a
    text too: then the ordinary path merely does the work)."""
    t = data.translate(_DIGITS)
    return b"0e000" in t or b"0e+000" in t or b"0e-000" in t or b"0" * 200 in t


def typed_decoder(spec) -> TypedDecoder | None:
    if msgspec is None:
        return None
    try:
        return TypedDecoder(spec)
    except (ValueError, TypeError):
        return None


def bind_typed(binder: Binder, raw: dict, params: dict, decoder: TypedDecoder) -> tuple[dict, list, dict]:
    """What :meth:`engine.bind.Binder.bind_with_dates` gives for a record msgspec accepted (``raw`` of a
    :class:`Typed`): only the id, nulls, the values msgspec leaves to their converter (see :class:`TypedDecoder`),
    the order of the events and their index by type remain to do."""
    rid = raw.get("id")
    if rid.__class__ is not str or not rid.strip():
        binder._check_id(rid)
    env = dict(params)
    env.update(binder.unknown_env)
    env.update(raw)
    del env["id"]
    if None in raw.values():  # a null attribute is unknown
        unknown = binder.unknown_env
        for k, v in raw.items():
            if v is None:
                env[k] = unknown[k]
    for name, conv in decoder.post:  # in declaration order: the first error is the ordinary binding's
        v = raw.get(name)
        if v is not None:
            env[name] = conv(v)
    for name, conv in decoder.numbers:
        v = raw.get(name)
        if v.__class__ is float:
            env[name] = conv(v)
    env["history"] = raw.get("history") or []
    evs = raw.get("events")
    if not evs:
        evs, dates, index = [], [], {}
    else:
        dates = list(map(_DATE, evs))
        index: dict = {}
        for e in evs:
            t = e["type"]
            lst = index.get(t)
            if lst is None:
                index[t] = [e]
            else:
                lst.append(e)
        if decoder.any_event_field:
            for e in evs:
                if None in e.values():
                    _drop_nulls(e)
        if decoder.event_post:
            try:
                for t, post in decoder.event_post.items():
                    for e in index.get(t, ()):
                        for f, conv, floats_only in post:
                            v = e.get(f)
                            if v is not None and (v.__class__ is float or not floats_only):
                                e[f] = conv(v)
            except BindError:  # the ordinary binding reports the first error in the events' order
                return binder.bind_with_dates(raw, params)
        if sorted(dates) != dates:
            evs = sorted(evs, key=_edate)
            dates = list(map(_DATE, evs))
            index = {t: sorted(lst, key=_edate) for t, lst in index.items()}
    env["events"] = evs
    env[_EVENTS_BY_TYPE] = (evs, index)
    return env, dates, index


__all__ = ["Typed", "TypedDecoder", "typed_decoder", "bind_typed", "BindError"]
