"""Recurring obligations checked over calendar windows (used by :mod:`engine.beneficiary.evaluate`).

- Consecutive stays in the obligation's ``during`` phases form one **period** (a renewal does not cut a month in two);
  with ``every: entry`` each stay is its own period and its own window (each contract of a renewal is checked).
- **Windows**: ISO weeks (Monday-Sunday), calendar months, quarters, years, or windows of a duration counted from
  the period's first day. In the condition, ``events`` holds the window's events and ``window_start``/``window_end``
  its bounds.
- **Partial windows** (not entirely inside the period): not checked with ``partial_windows: skip`` (the default),
  checked with the period's events only with ``check``. A window that has not ended at ``--at`` is **pending**, never
  failed.
- Status: ``unmet`` when a window failed, else ``met`` when one was checked, else ``pending`` when one is under way,
  else ``not_applicable``. Each failed window is an ``obligation_unmet`` violation dated the window's last day.

Speed (the same results, less work; :func:`check_obligations` is the fast path, :func:`check_obligation` the plain
one the tests compare it with): per spec, the event types a condition can see are worked out from its syntax tree
when every use of ``events`` is a filter whose first test is on ``type`` (``events where type == "appointment" and
...``): the windows then hold only those events. A condition that does not read ``window_start``/``window_end``
gives the same result on every empty window of a record, so it is evaluated once for them; one that reads nothing
but fields of its events, each declared for the event types it is read on (no date, bound, attribute, parameter or
``today``), is memoised across windows and records by the values of those fields (:func:`content_memo`). Per
record, periods are computed once per ``during`` set and the filtered events once per set of types.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from operator import itemgetter
from datetime import date, timedelta

from engine.expr import nodes as N
from engine.expr.calendar import add_months
from engine.beneficiary.conformance import (MONTHS_FR, ONE_DAY, _src, _type_requirement, _v, event_types_seen, events_of,  # noqa: F401
                          plus)
from engine.fr import fr_date

_NEXT_MONTH: dict = {}


def _month_start_plus(d: date, n: int) -> date:
    """The first day of the month ``n`` months after the month of ``d`` (``d`` is a first day)."""
    key = (d, n)
    r = _NEXT_MONTH.get(key)
    if r is None:
        r = _NEXT_MONTH[key] = add_months(d, n)
    return r


_STEP = {"month": 1, "quarter": 3, "year": 12}


def windows(every, first_day: date, end: date):
    """The windows ``(start, end)`` (inclusive dates) that start on or before ``end``: calendar windows containing
    ``first_day`` and after (``every`` = week/month/quarter/year) or windows of a duration from ``first_day``."""
    if every == "week":
        ws = first_day - timedelta(days=first_day.weekday())
        step = timedelta(days=7)
        last = timedelta(days=6)
        while ws <= end:
            yield ws, ws + last
            ws += step
    elif every.__class__ is str:
        n = _STEP[every]
        if every == "month":
            ws = first_day.replace(day=1)
        elif every == "quarter":
            ws = date(first_day.year, (first_day.month - 1) // 3 * 3 + 1, 1)
        else:
            ws = date(first_day.year, 1, 1)
        while ws <= end:
            nxt = _month_start_plus(ws, n)
            yield ws, nxt - ONE_DAY
            ws = nxt
    else:
        k = 0
        ws = first_day
        while ws <= end:
            k += 1
            nxt = plus(first_day, every, k)
            yield ws, nxt - ONE_DAY
            ws = nxt


_SEQ: dict = {}  # (every, anchor) -> (window starts, windows), a few years of windows from the anchor
_HORIZON = timedelta(days=4 * 366)


def _window_seq(every, first_day: date, end: date) -> tuple:
    """``(starts, ends, windows)``: the windows of :func:`windows` from the one containing ``first_day``, at least up
    to ``end`` (often further). Calendar windows only depend on the period they start in (the Monday of the week,
    the first day of the month...), so one precomputed sequence serves every record."""
    seq = _BYDAY.get((every, first_day))
    if seq is not None and seq[0][-1] >= end:
        return seq
    if every == "week":
        anchor = first_day - timedelta(days=first_day.weekday())
    elif every == "month":
        anchor = first_day.replace(day=1)
    elif every == "quarter":
        anchor = date(first_day.year, (first_day.month - 1) // 3 * 3 + 1, 1)
    elif every == "year":
        anchor = date(first_day.year, 1, 1)
    else:
        anchor = first_day
    key = (every, anchor)
    seq = _SEQ.get(key)
    if seq is None or seq[0][-1] < end:
        horizon = max(end, anchor + _HORIZON)
        ws = tuple(windows(every, first_day, horizon))
        seq = ([w[0] for w in ws], [w[1] for w in ws], ws)
        if len(_SEQ) > 5_000:
            _SEQ.clear()
        _SEQ[key] = seq
    if len(_BYDAY) > 20_000:
        _BYDAY.clear()
    _BYDAY[(every, first_day)] = seq
    return seq


_BYDAY: dict = {}  # (every, first day) -> the sequence of its anchor (shared)


def _windows_list(every, first_day: date, end: date):
    """The windows of :func:`windows` as a sequence."""
    starts, _, ws = _window_seq(every, first_day, end)
    return ws[:bisect_right(starts, end)]


def stay_window(first_day: date, last_day: date | None, at: date) -> tuple[date, date]:
    """``every: stay``: the one window of a period, the period itself once it has ended by ``at`` (a limit the text
    does not give is not cut into calendar months, 01:186); while it lasts, a window that has not ended (pending)."""
    return (first_day, last_day) if last_day is not None and last_day < at else (first_day, date.max)


WHOLE_PERIOD = ("stay", "entry")  # one window: the whole period


def period_windows(every, first_day: date, last_day: date | None, end_bound: date, at: date):
    """The windows of one period: :func:`stay_window` for ``every: stay``/``entry``, else :func:`_windows_list`."""
    if every in WHOLE_PERIOD:
        return (stay_window(first_day, last_day, at),)
    return _windows_list(every, first_day, end_bound)


def obligation_periods(stays: list, during: frozenset, split: bool = False) -> list[tuple[date, date | None, int]]:
    """Merge consecutive stays in ``during`` phases into periods ``(first day, last day | None when open, index of
    the history entry that opened the period)``. A same-day (empty) stay inside a period keeps it going. ``split``
    (``every: entry``): each stay is its own period, not merged with the next."""
    periods: list = []
    cur_start = cur_end = cur_index = None
    for phase, start, end, index in stays:
        if phase in during:
            if end is not None and end <= start:
                continue
            if split and cur_start is not None:
                periods.append((cur_start, cur_end, cur_index))
                cur_start = None
            if cur_start is None:
                cur_start, cur_index = start, index
            cur_end = None if end is None else end - ONE_DAY
            if end is None:
                break
        elif cur_start is not None:
            periods.append((cur_start, cur_end, cur_index))
            cur_start = None
    if cur_start is not None:
        periods.append((cur_start, cur_end, cur_index))
    return periods


def obligation_info(obligations, definitions=(), event_decls=None) -> tuple:
    """Per-spec precomputation: ``(obligation, during set, source text, label, condition reads the window bounds,
    event types the condition can see or None, content getter or None, memo, (compiled condition, every, partial
    windows checked, id, applies_if, getter's itemgetter))`` (see :func:`content_memo`)."""
    out = []
    for ob in obligations:
        names = getattr(ob.condition.compiled, "names", None)
        bounds = names is None or bool({"window_start", "window_end"} & set(names))
        types = event_types_seen(ob.condition, frozenset(definitions))
        getter = content_memo(ob.condition, types, frozenset(definitions), event_decls)
        out.append((ob, frozenset(ob.during), _src(ob.source), ob.label or ob.id, bounds, types, getter,
                    {} if getter is not None else None,
                    (ob.condition.fn, ob.every, ob.partial_windows == "check", ob.id, ob.applies_if,
                     getter.get if getter is not None else None)))
    return tuple(out)


_MEMO_MAX = 20_000  # results kept per obligation


def content_memo(condition, types, definitions, event_decls):
    """An ``itemgetter`` of the event fields a condition reads (``type`` first), when its result on a window only
    depends on them: it reads nothing but ``events`` (no attribute, parameter, definition, ``today``, window bound
    or event ``date``), it only sees events of known types (:func:`event_types_seen`) and every field it reads on
    the events of a type is declared for that type (so the binding has normalised their values: booleans, integers
    or non-integral decimals, texts): a field read inside ``events where type == "x" and ...`` (or on its items,
    ``(events where ...).hours``) must be declared for the types that filter admits, any other for all of them. The
    result on a window is then memoised by the tuple of those values, item by item (the same content in the same
    order gives the same result, the same errors aside, which are never memoised; a field that is not read on an
    event's type only makes its key more particular). None when this does not hold."""
    compiled = getattr(condition, "compiled", None)
    node = getattr(compiled, "node", None)
    names = getattr(compiled, "names", None)
    if node is None or names is None or set(names) - {"events"} or not types or not event_decls:
        return None
    reads = _field_reads(node, types)
    if reads is None:
        return None
    fields: set = set()
    for name, admitted in reads:
        if name in ("today", "date", "window_start", "window_end") or name in definitions:
            return None
        if name == "type":
            continue
        fields.add(name)
        for t in admitted:
            declared = getattr(event_decls.get(t), "fields", None)
            if declared is None or name not in declared:
                return None
    return _Getter(("type", *sorted(fields)))


def _field_reads(node, types: frozenset) -> list | None:
    """``(name, event types it is read on)`` for every name and field of the condition but ``events`` itself: inside
    a filter of ``events`` (or on its items), the types that filter admits; elsewhere every type seen. None for a
    filter nested in such a filter's predicate (not analysed)."""
    scoped: dict = {}  # id(node) -> the types admitted where it is read
    for n in N.walk(node):
        if isinstance(n, N.Filter) and isinstance(n.source, N.Name) and n.source.name == "events":
            admitted = _type_requirement(n.predicate, N)
            if admitted is None:
                return None
            for m in N.walk(n.predicate):
                if isinstance(m, N.Filter):
                    return None
                scoped[id(m)] = admitted
        elif isinstance(n, N.Field) and isinstance(n.target, N.Filter) and isinstance(n.target.source, N.Name) \
                and n.target.source.name == "events":
            scoped[id(n)] = _type_requirement(n.target.predicate, N)  # (None: the filter below returns None)
    out = []
    for n in N.walk(node):
        if isinstance(n, (N.Name, N.Field)) and not (isinstance(n, N.Name) and n.name == "events"):
            out.append((n.name, scoped.get(id(n), types)))
    return out


def check_obligations(infos, stays: list, events: list, dates: list, env: dict, at: date,
                      fcache: dict) -> tuple[list, list]:
    """Every obligation of a record (the fast path of :func:`check_obligation`, same results): ``(entries,
    violations)``. Periods are computed once per ``during`` set, the events of the types a condition can see once per
    set of types (``fcache``: the record's cache of :func:`~engine.beneficiary.conformance.events_of`) and only when a period
    exists; consecutive windows share their bisection bounds."""
    entries: list = []
    vio: list = []
    pcache: dict = {}
    saved = env.get("events")
    bl, br = bisect_left, bisect_right
    try:
        for _ob, during, src, label, bounds, types, getter, memo, (fn, every, partial_check, oid, applies_if,
                                                                    get) in infos:
            if applies_if is not None:
                env["events"] = saved
                ok = applies_if.fn(env, at)
                if ok is not True:
                    entry = _entry(oid, 0, 0, 0, [], None)
                    if ok is not False:
                        entry["missing"] = sorted(getattr(ok, "names", ()) or ())
                    entries.append(entry)
                    continue
            pkey = (during, every == "entry")
            periods = pcache.get(pkey)
            if periods is None:
                periods = pcache[pkey] = obligation_periods(stays, during, every == "entry")
            if not periods:
                entries.append(_entry(oid, 0, 0, 0, [], None))
                continue
            if types is None:
                evs, ds = events, dates
            else:
                evs, ds = events_of(types, events, fcache)
            failed: list = []
            unknown: set = set()
            checked = skipped = pending = 0
            empty = _NOT_YET
            nd = len(ds)
            # per period: at most one leading partial window (it starts before the period), a run of full windows,
            # then at most one trailing window (not ended at `at`: pending; else ending after the period: partial)
            for first_day, last_day, index in periods:
                if first_day > at:
                    continue
                end_bound = last_day if last_day is not None and last_day < at else at
                if every in WHOLE_PERIOD:
                    wl = (stay_window(first_day, last_day, at),)
                    starts, ends = (first_day,), (wl[0][1],)
                else:
                    starts, ends, wl = _window_seq(every, first_day, end_bound)
                n_w = br(starts, end_bound)
                k0 = 0 if starts[0] >= first_day else 1
                if k0:  # leading partial window
                    ws, we = wl[0]
                    if we > at:
                        pending += 1
                        continue
                    if not partial_check:
                        skipped += 1
                    else:
                        checked += 1
                        lo, hi = bl(ds, first_day), br(ds, min(we, end_bound))
                        if lo == hi and not bounds:
                            if empty is _NOT_YET:
                                env["events"] = []
                                empty = fn(env, at)
                            r = empty
                        else:
                            r = self_check(fn, env, at, evs, lo, hi, ws, we, bounds, memo, getter)
                        if r is not True:
                            _record(r, ws, we, failed, vio, unknown, label, every, index, oid, src)
                # full windows: inside the period and ended at `at`
                k1 = br(ends, end_bound)
                if k1 > k0:
                    checked += k1 - k0
                    lo = bl(ds, starts[k0]) if nd else 0
                    for k in range(k0, k1):
                        if nd:
                            hi = br(ds, ends[k], lo)
                        else:
                            hi = 0
                        if lo == hi and not bounds:  # an empty window: the same result all along the record
                            if empty is _NOT_YET:
                                env["events"] = []
                                empty = fn(env, at)
                            v = empty
                        elif memo is not None:  # memoised by the content of the window (see content_memo)
                            window = evs[lo:hi]
                            try:
                                key = tuple(map(get, window))
                                v = memo.get(key, _NOT_YET)
                            except (KeyError, TypeError):  # a field absent, a value that is not hashable
                                key = _content_key(getter, window)
                                v = memo.get(key, _NOT_YET) if key is not None else _NOT_YET
                            if v is _NOT_YET:
                                env["events"] = window
                                v = fn(env, at)
                                if key is not None:
                                    if len(memo) >= _MEMO_MAX:
                                        memo.clear()
                                    memo[key] = v
                        else:
                            env["events"] = evs[lo:hi]
                            if bounds:
                                env["window_start"] = starts[k]
                                env["window_end"] = ends[k]
                            v = fn(env, at)
                        lo = hi
                        if v is not True:
                            _record(v, starts[k], ends[k], failed, vio, unknown, label, every, index, oid, src)
                k = k1 if k1 > k0 else k0
                if k < n_w:  # trailing window
                    ws, we = wl[k]
                    if we > at:
                        pending += 1
                    elif not partial_check:
                        skipped += 1
                    else:
                        checked += 1
                        lo, hi = bl(ds, max(ws, first_day)), br(ds, min(we, end_bound))
                        if lo == hi and not bounds:
                            if empty is _NOT_YET:
                                env["events"] = []
                                empty = fn(env, at)
                            r = empty
                        else:
                            r = self_check(fn, env, at, evs, lo, hi, ws, we, bounds, memo, getter)
                        if r is not True:
                            _record(r, ws, we, failed, vio, unknown, label, every, index, oid, src)
            entries.append(_entry(oid, checked, skipped, pending, failed, unknown))
    finally:
        env["events"] = saved
    return entries, vio


def self_check(fn, env: dict, at: date, evs: list, lo: int, hi: int, ws: date, we: date, bounds: bool, memo, getter):
    """The condition on one partial window (events ``evs[lo:hi]``), memoised like the full windows."""
    window = evs[lo:hi]
    if memo is not None:
        key = _content_key(getter, window)
        v = memo.get(key, _NOT_YET) if key is not None else _NOT_YET
        if v is _NOT_YET:
            env["events"] = window
            v = fn(env, at)
            if key is not None:
                if len(memo) >= _MEMO_MAX:
                    memo.clear()
                memo[key] = v
        return v
    env["events"] = window
    if bounds:
        env["window_start"] = ws
        env["window_end"] = we
    return fn(env, at)


_ABSENT = object()  # a field the event does not carry, in a memo key


def _content_key(getter, window: list):
    """The memo key of a window: the values of the fields the condition reads, event by event (``_ABSENT`` for a
    field an event does not carry); None when a value cannot be a key."""
    try:
        try:
            key = tuple(map(getter, window))
        except KeyError:
            fields = getter.fields
            if len(fields) == 1:
                key = tuple(e.get(fields[0], _ABSENT) for e in window)
            else:
                key = tuple(tuple(e.get(f, _ABSENT) for f in fields) for e in window)
        hash(key)
        return key
    except TypeError:
        return None


class _Getter:
    """``operator.itemgetter`` of the fields a condition reads, with the field names kept."""

    __slots__ = ("fields", "get")

    def __init__(self, fields: tuple):
        self.fields = fields
        self.get = itemgetter(*fields)

    def __call__(self, e):
        return self.get(e)


def _record(v, ws: date, we: date, failed: list, vio: list, unknown: set, label: str, every, index: int, oid: str,
            src) -> None:
    """A window whose condition is false (a failure and its violation) or unknown (its names)."""
    if v is False:
        failed.append({"start": ws, "end": we})
        vio.append(_v("obligation_unmet", index, we,
                      f"« {label} » non respecté sur la période du {fr_date(ws)} au {fr_date(we)}"
                      f"{_period_name(every if every.__class__ is str else None, ws)}.", oid, src,
                      window={"start": ws, "end": we}))
    else:
        unknown.update(getattr(v, "names", ()) or ())


def check_obligation(info, stays: list, events: list, dates: list, env: dict, at: date) -> tuple[dict, list]:
    """Evaluate one obligation over its windows (the plain path, the reference of :func:`check_obligations`).
    ``events``/``dates``: the record's events (possibly restricted to the types the condition can see, see
    :func:`filtered`) and their dates, sorted."""
    ob, during, src, label, bounds = info[:5]
    failed: list = []
    entry = _entry(ob.id, 0, 0, 0, failed, None)
    if ob.applies_if is not None:
        ok = ob.applies_if.fn(env, at)
        if ok is not True:
            if ok is not False:
                entry["missing"] = sorted(getattr(ok, "names", ()) or ())
            return entry, []
    periods = obligation_periods(stays, during, ob.every == "entry")
    if not periods:
        return entry, []
    vio = []
    unknown: set = set()
    checked = skipped = pending = 0
    saved = env.get("events")
    fn = ob.condition.fn
    every = ob.every
    partial_check = ob.partial_windows == "check"
    bl, br = bisect_left, bisect_right
    empty = _NOT_YET  # the result on an empty window, when it cannot depend on the window
    try:
        for first_day, last_day, index in periods:
            if first_day > at:
                continue
            end_bound = last_day if last_day is not None and last_day < at else at
            for ws, we in period_windows(every, first_day, last_day, end_bound, at):
                if we > at:
                    pending += 1
                    break
                if ws >= first_day and (last_day is None or we <= last_day):
                    lo, hi = bl(dates, ws), br(dates, we)
                elif partial_check:
                    lo, hi = bl(dates, max(ws, first_day)), br(dates, min(we, end_bound))
                else:
                    skipped += 1
                    continue
                checked += 1
                if lo == hi and not bounds:
                    if empty is _NOT_YET:
                        env["events"] = []
                        empty = fn(env, at)
                    v = empty
                else:
                    env["events"] = events[lo:hi]
                    if bounds:
                        env["window_start"] = ws
                        env["window_end"] = we
                    v = fn(env, at)
                if v is True:
                    continue
                if v is False:
                    failed.append({"start": ws, "end": we})
                    vio.append(_v("obligation_unmet", index, we,
                                  f"« {label} » non respecté sur la période du {fr_date(ws)} au {fr_date(we)}"
                                  f"{_period_name(every if every.__class__ is str else None, ws)}.", ob.id, src,
                                  window={"start": ws, "end": we}))
                else:
                    unknown.update(getattr(v, "names", ()) or ())
    finally:
        env["events"] = saved
    return _entry(ob.id, checked, skipped, pending, failed, unknown), vio


def _entry(oid: str, checked: int, skipped: int, pending: int, failed: list, unknown) -> dict:
    """An obligation's output: its counts and status, unmet if a window failed, else met if one was checked, else
    pending if one is still open, else not_applicable; ``missing``: the names that left a window undecided."""
    entry = {"id": oid, "status": "unmet" if failed else "met" if checked else "pending" if pending else
             "not_applicable", "windows_checked": checked, "windows_skipped": skipped, "windows_pending": pending,
             "failed": failed}
    if unknown:
        entry["missing"] = sorted(unknown)
    return entry


_NOT_YET = object()


def _period_name(kind: str | None, ws: date) -> str:
    if kind == "month":
        return f" ({MONTHS_FR[ws.month - 1]} {ws.year})"
    if kind == "week":
        y, w, _ = ws.isocalendar()
        return f" (semaine {w} de {y})"
    if kind == "quarter":
        return f" ({(ws.month - 1) // 3 + 1}e trimestre {ws.year})"
    if kind == "year":
        return f" (année {ws.year})"
    if kind == "stay":
        return " (toute la durée du séjour)"
    if kind == "entry":
        return f" (séjour commencé le {fr_date(ws)})"
    return ""


