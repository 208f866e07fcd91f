"""Typed decoding: JSON bytes decoded straight into a spec's declared types, in C (msgspec), for ``engine evaluate``.

Binding a record (:mod:`engine.beneficiary.bind`) is mostly per-event Python work: parse each date, check each event's type
and declared fields. For the common record, msgspec does all of it while it decodes the JSON text: the record is
decoded against a ``TypedDict`` built from the spec (attributes, ``history`` entries, events), so dates arrive as
``datetime.date``, enumerations, booleans, integers and texts are checked, and undeclared keys are dropped.

Whatever msgspec refuses (invalid JSON, a wrong type, a null event field, an invalid date, an integer orjson would
read as a float, and bad bytes or a number too large for a double anywhere in the line, since msgspec does not look
into the keys it skips) is decoded again the ordinary way (:func:`engine.beneficiary.records.decode_object`) and bound by
:class:`engine.beneficiary.bind.Binder`, which reports the first error in the record's order. So the typed path never decides
anything on its own: a record it accepts binds to exactly what the ordinary binding gives
(``tests/test_bind_typed.py``: arbitrary and hostile records; ``tests/test_evaluate_fastpath.py``: every shipped
spec).

:class:`TypedDecoder` is built once per spec; it is None (not used) when msgspec is not installed, or when the spec
declares an input msgspec cannot check exactly as the ordinary converter does (a list, a duration, an event field
that two event types declare with different types).
"""

from __future__ import annotations

import datetime
from operator import itemgetter
from typing import Annotated, Any, Literal, NotRequired, Required, TypedDict

from engine.beneficiary.bind import _EVENTS_BY_TYPE, _EVENTS_SORTED, BindError, Binder, in_date_order, index_by_type

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


# orjson reads an integer outside [-2**63, 2**64) as a float (then too large to be exact: invalid_number); msgspec
# would read it exactly, so such a record goes the ordinary way (so does one in [2**63, 2**64): msgspec bounds are
# 64-bit signed)
_INT = Annotated[int, msgspec.Meta(ge=-2 ** 63, le=2 ** 63 - 1)] if msgspec is not None else int
_NATIVE = {"boolean": bool, "string": str, "date": datetime.date,
           "integer": _INT | float, "number": _INT | float}  # a float is then read as an exact decimal (binding)


def _hint(decl) -> Any:
    """The type msgspec checks for a declared input; ValueError when it cannot check it as the ordinary converter
    does (a duration, a list, an enumeration without values)."""
    t = decl.get("type") if isinstance(decl, dict) else None
    if t == "enum":
        values = tuple(str(v) for v in decl.get("values") or ())
        if values:
            return Literal[values]
    elif t in _NATIVE:
        return _NATIVE[t]
    raise ValueError(f"type {t!r} is left to the ordinary binding")


def _numeric(decl) -> bool:
    return isinstance(decl, dict) and decl.get("type") in ("integer", "number")


class TypedDecoder:
    """``decoder(data: bytes)`` -> :class:`Typed` when msgspec accepts the record, else what
    :func:`engine.beneficiary.records.decode_object` gives (a dict or a BadRecord).

    Built only for specs whose inputs msgspec can check exactly as the ordinary binding does (booleans, integers,
    numbers, texts, dates, enumerations; an event field declared with the same type by every event type that
    declares it); otherwise ValueError, and the spec takes the ordinary path. After decoding, :func:`bind_typed`
    still reads the floats of number inputs as exact decimals: ``numbers`` (attributes) and ``event_numbers`` (per
    event type), ``(name, converter)``."""

    def __init__(self, spec, binder: Binder | None = None):
        if any(getattr(ph, "fields", None) for ph in (getattr(spec, "phases", None) or {}).values()):
            raise ValueError("fields of history entries are left to the ordinary binding")
        hints: dict = {}
        for ev in spec.events.values():
            for f, a in ev.fields.items():
                if f in ("type", "date"):
                    continue
                hint = _hint(a.decl)
                if hints.setdefault(f, hint) != hint:
                    raise ValueError(f"event field {f!r} is declared with two types")
        binder = binder or Binder(spec)
        self.event_numbers: dict = {}
        for t, convs in binder.event_fields.items():
            nums = tuple((f, c) for f, _ok, c in convs if _numeric(spec.events[t].fields[f].decl))
            if nums:
                self.event_numbers[t] = nums
        event = TypedDict("Event", {"type": Required[str], "date": Required[datetime.date],
                                    **{f: NotRequired[h] for f, h in hints.items()}})
        entry = TypedDict("HistoryEntry", {"phase": Required[str], "date": Required[datetime.date]})
        record: dict = {"id": NotRequired[str], "history": NotRequired[list[entry]],
                        "events": NotRequired[list[event]]}
        self.numbers: list = []
        for name, conv, _unk in binder.attrs:
            decl = spec.attributes[name].decl
            record[name] = NotRequired[_hint(decl) | None]  # null: unknown, as in the ordinary binding
            if _numeric(decl):
                self.numbers.append((name, conv))
        self._decode = msgspec.json.Decoder(TypedDict("Record", record)).decode
        # (invalid UTF-8 raises UnicodeDecodeError, a ValueError)
        self._errors = (msgspec.DecodeError, msgspec.ValidationError, RecursionError, ValueError)

    def __call__(self, data: bytes):
        try:
            raw = self._decode(data)
            if data.count(b":") != _keys(raw):
                # keys were skipped (undeclared, or repeated; or a text holds a colon): msgspec does not look into
                # what it skips, orjson does (bad bytes: invalid_utf8; a number that overflows: invalid_number)
                if not data.isascii():
                    data.decode()
                if _may_overflow(data):
                    raise ValueError
            return Typed(raw)
        except self._errors:
            from engine.beneficiary.records import decode_object

            return decode_object(data)


def _keys(raw: dict) -> int:
    """The number of keys msgspec kept: each is one colon of the text (so fewer colons than keys is impossible, and
    as many means nothing was skipped)."""
    n = len(raw)
    evs = raw.get("events")
    if evs:
        n += sum(map(len, evs))
    hist = raw.get("history")
    if hist:
        n += sum(map(len, hist))
    return n


_DIGITS = bytes.maketrans(b"123456789E", b"000000000e")
_RUN = b"0" * 200


def _may_overflow(data: bytes) -> bool:
    """Whether the text may hold a number too large for a double: an exponent of three digits (1e400; a negative
    one cannot overflow) or a run of 200 digits (a mantissa of k digits with an exponent of two digits overflows only
    when k > 210), anywhere (inside a text too: then the ordinary path merely does the work)."""
    t = data.translate(_DIGITS, b"+")  # (1e+400 -> 0e000; a "+" elsewhere only costs a needless fallback)
    return b"0e000" in t or _RUN in t


def typed_decoder(spec, binder: Binder | None = None) -> TypedDecoder | None:
    """The spec's decoder (``binder``: the spec's :class:`~engine.beneficiary.bind.Binder`, when the caller has one), or None."""
    if msgspec is None:
        return None
    try:
        return TypedDecoder(spec, binder)
    except (ValueError, TypeError):
        return None


def bind_typed(binder: Binder, raw: dict, params: dict, decoder: TypedDecoder) -> tuple[dict, list, dict]:
    """What :meth:`engine.beneficiary.bind.Binder.bind_with_dates` gives for a record msgspec accepted (``raw`` of a
    :class:`Typed`): only the id, null attributes, the floats of number inputs (see :class:`TypedDecoder`), the order
    of the events and their index by type remain to do."""
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
        index = index_by_type(evs)
        if decoder.event_numbers:
            try:
                for t, nums in decoder.event_numbers.items():
                    for e in index.get(t, ()):
                        for f, conv in nums:
                            v = e.get(f)
                            if v.__class__ is float:
                                e[f] = conv(v)
            except BindError:  # the ordinary binding reports the first error in the events' order
                return binder.bind_with_dates(raw, params)
        evs, dates, index = in_date_order(evs, dates, index)
    env["events"] = evs
    env[_EVENTS_BY_TYPE] = (evs, index)
    env[_EVENTS_SORTED] = evs
    return env, dates, index


__all__ = ["Typed", "TypedDecoder", "typed_decoder", "bind_typed", "BindError"]
