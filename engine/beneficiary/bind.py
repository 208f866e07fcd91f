"""Binding a raw record (a dict decoded from JSON or converted from CSV) to a spec's declared inputs.

:class:`Binder` (one per spec, converters precomputed) builds the evaluation environment of a record: every declared
attribute converted to its type (absent or ``null``: *unknown*, named in ``missing`` when it matters), ``history``
and ``events`` as lists of dicts with ``date`` as ``datetime.date`` (events sorted by date, stable; the event
fields declared by the spec converted to their types), and the spec's parameters. Numbers follow the runtime: an
``int`` when whole, otherwise an exact ``Decimal`` (a JSON float is read through its shortest text, ``0.1`` ->
``Decimal("0.1")``).

A record that does not match raises :class:`BindError` with a stable code and a French message:

=================  ==========================================================================
``missing_id``     no ``id``
``invalid_id``     ``id`` is not a non-empty string
``wrong_type``     an attribute, ``history``/``events`` or one of their items has the wrong JSON type
``invalid_value``  an enumerated attribute has a value outside its list
``invalid_date``   a date is not ``YYYY-MM-DD`` or does not exist (``2026-02-30``)
``invalid_number`` NaN or an infinite number
``missing_field``  a history entry without ``phase`` or an event without ``type``
=================  ==========================================================================

Keys that the spec does not declare are ignored (they may be read by another programme).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Callable, Mapping

import orjson

from engine.expr.runtime_json import parse_duration  # a record's duration: the spec's syntax or ISO 8601

_TRUE = {"true", "vrai", "oui", "yes", "1", "o", "t"}
_FALSE = {"false", "faux", "non", "no", "0", "n", "f"}


class BindError(Exception):
    """A record whose content does not match the declared inputs: ``code`` and French ``message``."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message


_DATE_RE = re.compile(r"\d{4}-\d{2}-\d{2}\Z")
_RESERVED = ("id", "history", "events")


def parse_date(v: Any, what: str) -> date:
    if isinstance(v, date) and not isinstance(v, datetime):
        return v
    if not isinstance(v, str):
        raise BindError("wrong_type", f"{what} : une date « AAAA-MM-JJ » est attendue, pas {kind_of(v)}")
    if not _DATE_RE.match(v):
        raise BindError("invalid_date", f"{what} : « {v[:40]} » n'est pas une date au format AAAA-MM-JJ")
    try:
        return date.fromisoformat(v)
    except ValueError:
        raise BindError("invalid_date", f"{what} : la date « {v} » n'existe pas") from None


_DATES: dict = {}  # ISO text -> date, for valid dates only (dates repeat a lot across records)


def _date_cached(v: Any, what: str) -> date:
    d = parse_date(v, what)
    if v.__class__ is str and len(_DATES) < 100_000:
        _DATES[v] = d
    return d


def kind_of(v: Any) -> str:
    """What a JSON value is, in French, for a message: ``un nombre``, ``le texte « abc »``, ``une liste``..."""
    if v is None:
        return "null"
    if isinstance(v, bool):
        return "un booléen"
    if isinstance(v, (int, float, Decimal)):
        return "un nombre"
    if isinstance(v, str):
        return f"le texte « {v[:40]} »"
    if isinstance(v, list):
        return "une liste"
    if isinstance(v, dict):
        return "un objet"
    return type(v).__name__


def value_converter(decl: Mapping[str, Any], what: str) -> Callable[[Any], Any]:
    """A function converting a JSON value (never None) to the declared type, raising :class:`BindError`."""
    t = decl.get("type") if isinstance(decl, Mapping) else None
    if t == "boolean":
        def conv(v):
            if v is True or v is False:
                return v
            raise BindError("wrong_type", f"{what} : vrai/faux (true/false) attendu, pas {kind_of(v)}")
    elif t in ("number", "integer"):
        integer = t == "integer"

        def conv(v):
            c = v.__class__
            if c is int:
                return v
            if c is float:
                if v != v or v in (float("inf"), float("-inf")):
                    raise BindError("invalid_number", f"{what} : nombre invalide (NaN ou infini)")
                if abs(v) >= 2.0 ** 53:  # a JSON number this large was read inexactly (beyond 64-bit integers)
                    raise BindError("invalid_number", f"{what} : nombre trop grand pour être lu exactement ({v:g})")
                v = Decimal(repr(v))
            elif c is not Decimal:
                raise BindError("wrong_type", f"{what} : un nombre est attendu, pas {kind_of(v)}")
            if not v.is_finite():
                raise BindError("invalid_number", f"{what} : nombre invalide (NaN ou infini)")
            if v == v.to_integral_value() and abs(v.adjusted()) < 30:
                return int(v)
            if integer:
                raise BindError("wrong_type", f"{what} : un nombre entier est attendu, pas {v}")
            return v
    elif t == "string":
        def conv(v):
            if isinstance(v, str):
                return v
            raise BindError("wrong_type", f"{what} : un texte est attendu, pas {kind_of(v)}")
    elif t == "enum":
        values = frozenset(str(x) for x in decl.get("values") or ())
        shown = ", ".join(sorted(values))[:200]

        def conv(v):
            if isinstance(v, str) and v in values:
                return v
            if not isinstance(v, str):
                raise BindError("wrong_type", f"{what} : une des valeurs {shown} est attendue, pas {kind_of(v)}")
            raise BindError("invalid_value", f"{what} : « {v[:40]} » n'est pas une valeur admise ({shown})")
    elif t == "date":
        def conv(v):
            return parse_date(v, what)
    elif t == "duration":
        def conv(v):
            d = parse_duration(v) if isinstance(v, str) else None
            if d is None:
                raise BindError("wrong_type", f"{what} : une durée comme « 6 mois » est attendue, pas {kind_of(v)}")
            return d
    elif t == "list":
        item = value_converter(decl.get("items") or {}, f"{what} (élément)")

        def conv(v):
            if not isinstance(v, list):
                raise BindError("wrong_type", f"{what} : une liste est attendue, pas {kind_of(v)}")
            return [item(x) for x in v if x is not None]
    else:
        def conv(v):
            return v
    return conv


def _text_converter(decl: Mapping[str, Any], what: str) -> Callable[[str], Any]:
    """CSV: a cell's text -> the JSON value the JSON converter expects."""
    t = decl.get("type") if isinstance(decl, Mapping) else None
    if t == "boolean":
        def conv(s):
            low = s.lower()
            if low in _TRUE:
                return True
            if low in _FALSE:
                return False
            raise ValueError(f"vrai/faux attendu, pas « {s[:40]} »")
    elif t in ("number", "integer"):
        def conv(s):
            try:
                d = Decimal(s.replace(",", ".").replace(" ", "").replace("\u00a0", ""))
            except ArithmeticError:
                raise ValueError(f"un nombre est attendu, pas « {s[:40]} »") from None
            if not d.is_finite():
                raise ValueError(f"nombre invalide « {s[:40]} »")
            return d
    elif t == "list":
        def conv(s):
            try:
                return orjson.loads(s)
            except orjson.JSONDecodeError:
                raise ValueError(f"une liste JSON est attendue, pas « {s[:40]} »") from None
    else:
        def conv(s):
            return s
    return conv


def csv_converters(spec, header: list[str]) -> dict:
    conv: dict = {}
    attrs = getattr(spec, "attributes", None) or {}
    for name in header:
        if name in ("history", "events"):
            def j(s, name=name):
                try:
                    return orjson.loads(s)
                except orjson.JSONDecodeError:
                    raise ValueError("du JSON est attendu (liste d'objets)") from None
            conv[name] = j
        elif name in attrs:
            conv[name] = _text_converter(attrs[name].decl, name)
    return conv


def _kept_as_is(v, ok) -> bool:
    """Whether a JSON value is already of its declared kind (:func:`_fast_ok`), so its converter can be skipped."""
    if ok.__class__ is frozenset:
        return v.__class__ is str and v in ok
    return ok is not None and v.__class__ is ok


def _fast_ok(decl: Mapping[str, Any]):
    """What a JSON value may be to be kept as is: a frozenset of enum values, a class (bool, int, str), or None."""
    t = decl.get("type") if isinstance(decl, Mapping) else None
    if t == "enum":
        return frozenset(str(x) for x in decl.get("values") or ())
    return {"boolean": bool, "integer": int, "number": int, "string": str}.get(t)


class Binder:
    """Per-spec binding of raw records to evaluation environments (converters precomputed once)."""

    def __init__(self, spec):
        from engine.expr.runtime import unknown

        self.spec = spec
        self._unknown = {n: unknown(n) for n in spec.attributes}
        self.attrs = tuple((n, value_converter(a.decl, f"attribut « {n} »"), self._unknown[n])
                           for n, a in spec.attributes.items() if n not in _RESERVED)
        self.unknown_env = {n: unk for n, _conv, unk in self.attrs}
        # (name, what a value may be to be kept as is: a class, a frozenset of enum values or _NEVER, converter,
        # unknown)
        self.fast_attrs = tuple((n, _fast_ok(spec.attributes[n].decl) or _NEVER, _cached_dates(conv), unk)
                                if (spec.attributes[n].decl or {}).get("type") == "date"
                                else (n, _fast_ok(spec.attributes[n].decl) or _NEVER, conv, unk)
                                for n, conv, unk in self.attrs)
        # per event type: (field, accepted-as-is test data, converter); values already of the right type (an enum
        # value of the list, a boolean, an int) are kept without a call
        self.event_fields = {
            t: tuple((f, _fast_ok(a.decl), value_converter(a.decl, f"événement « {t} », champ « {f} »"))
                     for f, a in ev.fields.items() if f not in ("type", "date"))
            for t, ev in spec.events.items()}
        # per phase: the fields its history entries may carry (a renewal's signed length), converted like event fields
        self.history_fields = {
            pid: tuple((f, _fast_ok(a.decl), value_converter(a.decl, f"étape « {pid} », champ « {f} »"))
                       for f, a in ph.fields.items())
            for pid, ph in (getattr(spec, "phases", None) or {}).items() if getattr(ph, "fields", None)}
        self.param_decls = dict(spec.parameters)
        names = {f for ev in spec.events.values() for f in ev.fields} - {"type", "date"}
        self._item_unknown = tuple((f, unknown(f)) for f in sorted(names))

    # parameters ------------------------------------------------------------------------------------------
    def params(self, params: Mapping[str, Any] | None) -> dict:
        """Convert parameter values (strings from the command line, or JSON-like values) to their declared types.
        A parameter not supplied is *unknown* (decisions that need it are unknown, naming it in ``missing``).
        Raises :class:`~engine.errors.UsageError` for an undeclared name or a bad value."""
        from engine.errors import COMMAND_LINE, UsageError
        from engine.expr.runtime import unknown

        out: dict = {}
        params = dict(params or {})
        for name, p in self.param_decls.items():
            if name not in params or params[name] is None:
                out[name] = unknown(name)
                continue
            raw = params.pop(name)
            try:
                if isinstance(raw, str):
                    raw = _text_converter(p.decl, name)(raw)
                out[name] = value_converter(p.decl, f"paramètre « {name} »")(raw)
            except (ValueError, BindError) as e:
                raise UsageError(f"--param {name} : {getattr(e, 'message', None) or e}", file=COMMAND_LINE,
                                 code="usage.param") from None
        if params:
            from engine.errors import did_you_mean

            name = sorted(params)[0]
            hint = did_you_mean(name, self.param_decls) or (
                "paramètres de cette spec : " + (", ".join(sorted(self.param_decls)) or "aucun"))
            raise UsageError(f"--param {name} : ce paramètre n'existe pas dans la spec {self.spec.id}",
                             file=COMMAND_LINE, hint=hint, code="usage.param")
        return out

    # records ---------------------------------------------------------------------------------------------
    def bind(self, raw: dict, params: dict) -> dict:
        """The environment of one record; raises :class:`BindError`."""
        return self.bind_with_dates(raw, params)[0]

    def bind_with_dates(self, raw: dict, params: dict) -> tuple[dict, list, dict]:
        """``(environment, dates of its events, its events by type)`` (the fast path: values already of the declared
        type are kept without a call, dates are looked up in a cache of the ones already seen); raises
        :class:`BindError`."""
        rid = raw.get("id")
        if rid.__class__ is not str or not rid.strip():
            self._check_id(rid)
        env = dict(params)
        get = raw.get
        for name, ok, conv, unk in self.fast_attrs:
            v = get(name)
            if v is None:
                env[name] = unk
            elif v.__class__ is ok or (ok.__class__ is frozenset and v.__class__ is str and v in ok):
                env[name] = v
            else:
                env[name] = conv(v)
        env["history"] = self._history(get("history"))
        env["events"], dates, index = self._events(get("events"))
        # the events by type, for compiled `events where type == "x"` (runtime.index_by_text; used by the compiled
        # code only while env["events"] is this very list)
        env[_EVENTS_BY_TYPE] = (env["events"], index)
        env[_EVENTS_SORTED] = env["events"]  # sorted by date, each with a date (runtime.sorted_key)
        return env, dates, index

    def bind_plain(self, raw: dict, params: dict) -> tuple[dict, list, None]:
        """What :meth:`bind_with_dates` computes, the plain way (every value through its converter, no cache): the
        reference of the fast path in the tests."""
        self._check_id(raw.get("id"))
        env = dict(params)
        for name, conv, unk in self.attrs:
            v = raw.get(name)
            env[name] = unk if v is None else conv(v)
        hist = raw.get("history")
        if hist is not None and hist.__class__ is not list:
            raise BindError("wrong_type", f"« history » doit être une liste d'étapes, pas {kind_of(hist)}")
        out = []
        for i, h in enumerate(hist or ()):
            if not isinstance(h, dict):
                raise BindError("wrong_type", f"history[{i}] : un objet {{phase, date}} est attendu, pas {kind_of(h)}")
            p = h.get("phase")
            if not isinstance(p, str):
                raise BindError("wrong_type" if p is not None else "missing_field",
                                f"history[{i}] : « phase » (texte) est obligatoire")
            entry = {"phase": p, "date": parse_date(h.get("date"), f"history[{i}].date")}
            for f, _ok, c in self.history_fields.get(p, ()):
                if h.get(f) is not None:
                    entry[f] = c(h[f])
            out.append(entry)
        env["history"] = out
        evs = raw.get("events")
        if evs is not None and evs.__class__ is not list:
            raise BindError("wrong_type", f"« events » doit être une liste d'événements, pas {kind_of(evs)}")
        for i, e in enumerate(evs or ()):
            if not isinstance(e, dict):
                raise BindError("wrong_type", f"events[{i}] : un objet {{type, date, ...}} est attendu, pas {kind_of(e)}")
            t = e.get("type")
            e["date"] = parse_date(e.get("date"), f"events[{i}].date")
            if not isinstance(t, str):
                raise BindError("wrong_type" if t is not None else "missing_field",
                                f"events[{i}] : « type » (texte) est obligatoire")
            _drop_nulls(e)
            for f, _ok, c in self.event_fields.get(t, ()):
                if e.get(f) is not None:
                    e[f] = c(e[f])
        evs = sorted(evs or (), key=_edate)
        env["events"] = evs
        return env, [e["date"] for e in evs], None

    @staticmethod
    def _check_id(rid) -> None:
        if rid is None:
            raise BindError("missing_id", "l'enregistrement n'a pas d'identifiant « id »")
        if not isinstance(rid, str) or not rid.strip():
            raise BindError("invalid_id", f"l'identifiant « id » doit être un texte non vide, pas {kind_of(rid)}")

    def _history(self, hist) -> list:
        if hist is None:
            return []
        if hist.__class__ is not list:
            raise BindError("wrong_type", f"« history » doit être une liste d'étapes, pas {kind_of(hist)}")
        out = []
        cache = _DATES
        for i, h in enumerate(hist):
            if h.__class__ is not dict:
                raise BindError("wrong_type", f"history[{i}] : un objet {{phase, date}} est attendu, pas {kind_of(h)}")
            p = h.get("phase")
            if p.__class__ is not str:
                raise BindError("wrong_type" if p is not None else "missing_field",
                                f"history[{i}] : « phase » (texte) est obligatoire")
            d = h.get("date")
            d = cache.get(d) if d.__class__ is str else None
            if d is None:
                d = _date_cached(h.get("date"), f"history[{i}].date")
            fields = self.history_fields.get(p) if self.history_fields else None
            if fields:
                entry = {"phase": p, "date": d}
                for f, ok, c in fields:
                    v = h.get(f)
                    if v is not None:
                        entry[f] = v if _kept_as_is(v, ok) else c(v)
                out.append(entry)
            else:
                out.append({"phase": p, "date": d})
        return out

    def _events(self, evs) -> tuple[list, list, dict]:
        """Events with ``date`` as a date (converted in place: the raw dict is ours, decoded for this evaluation) and
        the declared fields converted, sorted by date (stable) when they are not in order; their dates; and the
        events of each type (in the same order)."""
        if evs is None:
            return [], [], {}
        if evs.__class__ is not list:
            raise BindError("wrong_type", f"« events » doit être une liste d'événements, pas {kind_of(evs)}")
        fields = self.event_fields
        cache = _DATES
        dates: list = []
        append = dates.append
        index: dict = {}  # type -> its events, in order
        for e in evs:
            try:  # the common case: a dict of a declared type with a date already seen
                d = cache[e["date"]]
                t = e["type"]
                conv = fields[t]
            except (KeyError, TypeError, IndexError):
                d, conv = self._event_slow(evs, e)
                t = e["type"]
            e["date"] = d
            lst = index.get(t)
            if lst is None:
                index[t] = [e]
            else:
                lst.append(e)
            if None in e.values():  # a null field is an absent one: unknown when read (never a raw None)
                _drop_nulls(e)
            if conv:
                for f, ok, c in conv:
                    v = e.get(f)
                    if v is None:
                        continue
                    if ok.__class__ is frozenset:
                        if v.__class__ is str and v in ok:
                            continue
                    elif v.__class__ is ok:
                        continue
                    e[f] = c(v)
            append(d)
        return in_date_order(evs, dates, index)

    def _event_slow(self, evs: list, e) -> tuple[date, tuple]:
        """An event off the fast path: not a dict, no or an undeclared type, a date not seen yet or invalid. (The
        event's index, for the message, is only searched for when there is an error: an undeclared type is common,
        and a search for each would make a record with many such events quadratic.)"""
        if e.__class__ is dict and e.get("type").__class__ is str:
            try:
                return _date_cached(e.get("date"), "date"), self.event_fields.get(e["type"], ())
            except BindError:
                pass  # reported below, with the event's index
        i = next(k for k, x in enumerate(evs) if x is e)
        if e.__class__ is not dict:
            raise BindError("wrong_type", f"events[{i}] : un objet {{type, date, ...}} est attendu, pas {kind_of(e)}")
        t = e.get("type")
        d = _date_cached(e.get("date"), f"events[{i}].date")
        if t.__class__ is not str:
            raise BindError("wrong_type" if t is not None else "missing_field",
                            f"events[{i}] : « type » (texte) est obligatoire")
        return d, self.event_fields.get(t, ())

    def item_env(self, env: dict, item: dict) -> dict:
        """The environment of a deadline's ``where`` for one event: its type, date and declared fields shadow the
        outer names (a declared field the event does not carry is unknown); keys no event type declares are not
        seen (they cannot be named in an expression, and must not hide an attribute of the same name)."""
        e = dict(env)
        get = item.get
        for f, unk in self._item_unknown:
            v = get(f)
            e[f] = unk if v is None else v
        e["type"] = item["type"]
        e["date"] = item["date"]
        return e


def _cached_dates(conv: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A date converter that first looks the text up among the valid dates already seen."""
    cache = _DATES

    def conv_cached(v):
        d = cache.get(v) if v.__class__ is str else None
        if d is None:
            d = conv(v)
            if v.__class__ is str and len(cache) < 100_000:
                cache[v] = d
        return d
    return conv_cached


try:
    from engine.expr.runtime import index_key as _index_key, sorted_key as _sorted_key

    _EVENTS_BY_TYPE = _index_key("events", "type")
    _EVENTS_SORTED = _sorted_key("events", "date")
except ImportError:  # pragma: no cover - a runtime without indexes: the key is simply never read
    _EVENTS_BY_TYPE = "_index:events:type"
    _EVENTS_SORTED = "_sorted:events:date"


class _NEVER:
    """No JSON value is of this class: the value always goes through its converter."""


def _edate(e: dict) -> date:
    return e["date"]


def index_by_type(evs: list) -> dict:
    """The events of each type, in their order (types in order of first appearance)."""
    index: dict = {}
    for e in evs:
        t = e["type"]
        lst = index.get(t)
        if lst is None:
            index[t] = [e]
        else:
            lst.append(e)
    return index


def in_date_order(evs: list, dates: list, index: dict) -> tuple[list, list, dict]:
    """``(events, their dates, events by type)`` sorted by date (stable), when they are not already (a C comparison
    of the dates, cheaper than a test per event)."""
    if sorted(dates) != dates:
        evs = sorted(evs, key=_edate)
        dates = [e["date"] for e in evs]
        index = {t: sorted(lst, key=_edate) for t, lst in index.items()}
    return evs, dates, index


def _drop_nulls(e: dict) -> None:
    """Remove the fields of an event whose value is null: such a field is then unknown when an expression reads it
    (``mode == "in_person"`` is unknown, not false; ``hours > 3`` is unknown, not a crash)."""
    for k in [k for k, v in e.items() if v is None]:
        del e[k]


def bind_record(spec, raw: dict, params: Mapping[str, Any] | None = None) -> dict:
    """Bind one raw record to ``spec``'s declared inputs (convenience; evaluation uses a cached :class:`Binder`)."""
    b = Binder(spec)
    return b.bind(raw, b.params(params))


def coerce_params(spec, params: Mapping[str, Any] | None) -> dict:
    return Binder(spec).params(params)
