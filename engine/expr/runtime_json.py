"""JSON in and out of the runtime values (the values themselves: :mod:`engine.expr.runtime`).

``to_json``: dates "YYYY-MM-DD", durations ISO 8601, unknown None, decimals as int when whole or as a float that
prints exactly as the decimal (every amount to the cent below 10^13). ``value_from_json``: a JSON value of a record
converted to the declared type (RecordError with the attribute's name otherwise); ``null`` is unknown.
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation

from engine.errors import Diagnostic, RecordError, did_you_mean, repr_value
from engine.expr import durations
from engine.expr.runtime import Duration, Unknown, unknown


def to_json(value):
    """A JSON-ready Python value: dates "YYYY-MM-DD", durations ISO 8601, unknown None, decimals as int when
    whole, else float when the float prints exactly as the decimal (always the case to the cent)."""
    c = value.__class__
    if c is int or c is bool or c is str or value is None:
        return value  # whole numbers stay exact (a writer may need a fallback beyond 64 bits: see _dumps in expr_cli)
    if c is Decimal:
        if value == value.to_integral_value() and abs(value.adjusted()) < 30:
            return int(value)
        return _big(value)
    if c is date:
        return value.isoformat()
    if c is Duration:
        return value.iso()
    if c is Unknown:
        return None
    if c is list or c is tuple:
        return [to_json(v) for v in value]
    if c is dict:
        return {k: to_json(v) for k, v in value.items()}
    if c is float:
        return value
    raise TypeError(f"not a runtime value: {value!r}")


def _big(value):
    """A number JSON codecs can write: a float (exact to its shortest repr for every decimal of up to 15
    significant digits, e.g. all amounts to the cent below 10^13), or the decimal's text beyond float range."""
    try:
        f = float(value)
    except OverflowError:
        return str(value)
    if f in (float("inf"), float("-inf")):
        return str(value)
    return f


_ISO_DUR_RE = re.compile(r"^(-)?P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)W)?(?:(\d+)D)?$")


def parse_duration(text: str) -> Duration | None:
    """A duration of a record or a JSON value: the duration syntax (``"15 days"``, ``"1 an et 6 mois"``,
    :mod:`engine.expr.durations`) or ISO 8601 as the engine writes it (``"P1Y6M"``, ``"-P3D"``); None otherwise."""
    d = durations.parse_duration(text)
    if d is not None:
        return d
    m = _ISO_DUR_RE.match(text.strip())
    if m and any(m.group(i) for i in range(2, 6)):
        sign = -1 if m.group(1) else 1
        y, mo, w, d = (int(m.group(i) or 0) for i in range(2, 6))
        return Duration(sign * (12 * y + mo), sign * (7 * w + d))
    return None


def parse_date(text: str) -> date | None:
    if len(text) == 10 and text[4] == "-" and text[7] == "-":
        try:
            return date.fromisoformat(text)
        except ValueError:
            return None
    return None


def _bad(name: str, expected: str, raw) -> RecordError:
    return RecordError(Diagnostic(f"attribut « {name} » : il faut {expected}, pas {repr_value(raw)}",
                                  code="record.type"))


def value_from_json(raw, type, name: str):  # noqa: A002 - the contract names it `type`
    """Convert a JSON value of a record to the runtime value of the declared ``type`` (raises RecordError)."""
    from engine.expr import types as T

    if raw is None or raw.__class__ is Unknown:
        return unknown(name)
    t = type
    if t == T.BOOLEAN:
        if raw is True or raw is False:
            return raw
        if isinstance(raw, str) and raw.strip().lower() in ("true", "false", "vrai", "faux"):
            return raw.strip().lower() in ("true", "vrai")
        raise _bad(name, "true ou false (vrai ou faux)", raw)
    if t == T.NUMBER or t == T.INTEGER:
        if raw.__class__ is bool:
            raise _bad(name, "un nombre", raw)
        if raw.__class__ is float:
            if raw != raw or raw in (float("inf"), float("-inf")):
                raise _bad(name, "un nombre", raw)
            raw = Decimal(repr(raw))
        elif raw.__class__ is str:
            try:
                raw = Decimal(raw.strip().replace(",", ".")) if raw.strip() else None
            except InvalidOperation:
                raise _bad(name, "un nombre", raw) from None
            if raw is None:
                return unknown(name)
            if not raw.is_finite():
                raise _bad(name, "un nombre", str(raw))
        if raw.__class__ is Decimal:
            if raw.adjusted() >= 30:
                raise _bad(name, "un nombre (d'au plus 30 chiffres)", raw)
            if raw == raw.to_integral_value() and abs(raw.adjusted()) < 30:
                raw = int(raw)
            elif t == T.INTEGER:
                raise _bad(name, "un nombre entier", raw)
        if raw.__class__ is int:
            if abs(raw) >= 10**30:
                raise _bad(name, "un nombre (d'au plus 30 chiffres)", raw)
            return raw
        if raw.__class__ is Decimal:
            return raw
        raise _bad(name, "un nombre entier" if t == T.INTEGER else "un nombre", raw)
    if t == T.STRING:
        if isinstance(raw, str):
            return raw
        raise _bad(name, "un texte", raw)
    if isinstance(t, T.EnumType):
        if isinstance(raw, str) and raw in t.values:
            return raw
        if isinstance(raw, str):
            hint = did_you_mean(raw, t.values)
            raise RecordError(Diagnostic(f"attribut « {name} » : « {raw} » n'est pas une des valeurs admises",
                                         hint=hint or "valeurs admises : " + ", ".join(t.values), code="record.enum"))
        raise _bad(name, "une des valeurs " + ", ".join(t.values), raw)
    if t == T.DATE:
        if raw.__class__ is date:
            return raw
        d = parse_date(raw) if isinstance(raw, str) else None
        if d is None:
            raise _bad(name, "une date comme 2026-03-01", raw)
        return d
    if t == T.DURATION:
        if raw.__class__ is Duration:
            return raw
        d = parse_duration(raw) if isinstance(raw, str) else None
        if d is None:
            raise _bad(name, "une durée comme « 15 jours » ou « 6 mois »", raw)
        return d
    if isinstance(t, T.ListType):
        if not isinstance(raw, list):
            raise _bad(name, "une liste", raw)
        if isinstance(t.item, T.RecordType):
            for i, x in enumerate(raw):
                if not isinstance(x, dict):
                    raise _bad(f"{name}[{i}]", "un objet", x)
        return [value_from_json(x, t.item, f"{name}[{i}]") for i, x in enumerate(raw)]
    if isinstance(t, T.RecordType):
        if not isinstance(raw, dict):
            raise _bad(name, "un objet", raw)
        fields = t.fields
        return {k: value_from_json(v, fields.get(k, T.ANY), k) for k, v in raw.items()}
    # ANY: best effort (floats -> Decimal, ISO dates -> date)
    if raw.__class__ is float:
        return value_from_json(raw, T.NUMBER, name)
    if isinstance(raw, str):
        d = parse_date(raw)
        return d if d is not None else raw
    if isinstance(raw, list):
        return [value_from_json(x, T.ANY, name) for x in raw]
    if isinstance(raw, dict):
        return {k: value_from_json(v, T.ANY, k) for k, v in raw.items()}
    return raw
