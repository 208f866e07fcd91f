"""Path conformance of one beneficiary's dated history, deadlines and recurring obligations.

Used by :mod:`engine.beneficiary.evaluate`; everything spec-dependent is precomputed once per spec (:class:`PathPlan`), the
per-record work only reads plain dicts and tuples (no networkx).

Rules (documented in docs/evaluate.md):

- **Same-day ordering.** History entries dated the same day happen in the order they are listed. On a day when a
  phase is entered, the entry happens first and the day's events belong to the new phase (an appointment on the day
  the contract is signed counts in the ``contrat`` phase and its windows). A stay in a phase therefore covers the
  days from its entry date to the day before the next entry.
- **Limits are inclusive.** "within 15 days of X" is met on X + 15 days; a maximum duration of 6 months entered on
  2026-01-31 allows leaving on 2026-07-31 (month arithmetic clamps to the month's end); a minimum duration of
  1 month means not leaving before entry + 1 month.
- **Still in a phase at ``--at``.** ``max_duration_exceeded`` (or ``total_duration_exceeded``) is also reported for
  the current, open stay when ``--at`` is after the last allowed day (the violation's ``date`` is the first day
  over the limit). When every transition out of the current phase has a ``within`` limit and all have passed, the
  open stay gives ``deadline_missed``. A minimum duration is not a violation while the stay is open.
- **Renewals.** A self-transition (``contrat -> contrat``) is a renewal; ``max_renewals`` counts them inside one run
  of consecutive stays; ``total_max_duration`` bounds the run from its first entry to its exit (or ``--at``).
- **After the end.** ``after_end``: a history entry after entering an end (``final``) phase; ``event_after_exit``:
  an event dated after that entry when the final phase says which events may follow it (``events_after``: ``none``
  or a list of types), checked whatever the evaluation date.
- **Inside the convention.** ``outside_convention``: a history entry, or an event, dated before the start of the
  convention or after its end (the operation's dates in ``engine report``, else the spec's ``convention``); the
  event types the text still expects after the end (``convention.events_after_end``) may come after it.
- **Violations** are sorted by date, then by history index; ``first_violation`` is the earliest. Missed deadlines
  (``deadline_missed``) and failed obligation windows (``obligation_unmet``) are violations too.
- **Deadlines**: see :mod:`engine.beneficiary.deadlines`; **obligation windows**: see
  :mod:`engine.beneficiary.obligations`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from itertools import compress
from operator import itemgetter
from typing import Any

from engine.expr import nodes as N
from engine.expr.calendar import add_months
from engine.fr import fr_date, fr_days
from engine.beneficiary.bind import _EVENTS_BY_TYPE, _EVENTS_SORTED, index_by_type

ONE_DAY = timedelta(days=1)
MONTHS_FR = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
             "novembre", "décembre")


# ----------------------------------------------------------------------------------------------- dates, durations

_PLUS: dict = {}  # (date, months, days) -> date: month arithmetic is the hot spot of the path checks


_TD = tuple(timedelta(days=i) for i in range(4000))


def plus(d: date, dur: Any, times: int = 1) -> date:
    """``d + times * dur`` for a runtime ``Duration(months, days)`` (months first, then days)."""
    months = dur.months
    days = dur.days
    if times != 1:
        months *= times
        days *= times
    if not months:
        if not days:
            return d
        return d + (_TD[days] if 0 <= days < 4000 else timedelta(days=days))
    key = (d, months, days)
    r = _PLUS.get(key)
    if r is None:
        r = add_months(d, months)
        if days:
            r = r + timedelta(days=days)
        if len(_PLUS) > 100_000:
            _PLUS.clear()
        _PLUS[key] = r
    return r


def fr_duration(dur: Any) -> str:
    months, days = getattr(dur, "months", 0), getattr(dur, "days", 0)
    parts = []
    if months:
        if months % 12 == 0:
            parts.append(f"{months // 12} an{'s' if months > 12 else ''}")
        else:
            parts.append(f"{months} mois")
    if days:
        if days % 7 == 0:
            parts.append(f"{days // 7} semaine{'s' if days > 7 else ''}")
        else:
            parts.append(f"{days} jour{'s' if days > 1 else ''}")
    return " et ".join(parts) or "0 jour"


# ----------------------------------------------------------------------------------------------- event types

def events_of(types: frozenset, events: list, cache: dict) -> tuple[list, list]:
    """The record's events of ``types`` (in order) and their dates, computed once per record and set of types
    (``cache`` lives as long as the record's evaluation; under the key None it may hold the record's events by type,
    as the binding builds them)."""
    r = cache.get(types)
    if r is None:
        index = _index(events, cache)
        present = [index[t] for t in types if t in index]
        if len(present) < 2:  # one type present (or none): its events as they are
            evs = present[0] if present else []
        else:  # several: a mask over the record's types, in C (the order of the events is kept)
            tl = cache.get(_TYPES)
            if tl is None:
                tl = cache[_TYPES] = list(map(_TYPE, events))
            evs = list(compress(events, map(types.__contains__, tl)))
        r = cache[types] = (evs, list(map(_DATE, evs)))
    return r


def guard_events(types: frozenset, events: list, cache: dict) -> tuple[list, dict]:
    """The record's events of ``types`` (:func:`events_of`) and their index by type (the record's, restricted to
    ``types``), for a guard that only reads those types: it then keeps the binder's index and date order."""
    key = (_GUARD, types)
    r = cache.get(key)
    if r is None:
        index = _index(events, cache)
        r = cache[key] = (events_of(types, events, cache)[0], {t: index[t] for t in types if t in index})
    return r


def _index(events: list, cache: dict) -> dict:
    """The record's events by type: the binding's, or built on the first call."""
    index = cache.get(None)
    if index is None:
        index = cache[None] = index_by_type(events)
    return index


_GUARD = object()  # cache key prefix: guard_events
_TYPES = object()  # cache key: the list of the record's event types
_TYPE = itemgetter("type")
_DATE = itemgetter("date")


def event_types_seen(condition, definitions=()) -> frozenset | None:
    """The event types a condition can see, when every use of ``events`` in it is ``events where`` a predicate that
    requires ``type == "X"`` or ``type in [...]`` (directly or as the first operand of an ``and``); None otherwise
    (or when the condition uses a definition, whose body is not inspected). Such a condition gives the same result
    on the events of those types only (the list-size limit ``eval.limit.cost`` then counts fewer items)."""
    node = getattr(getattr(condition, "compiled", None), "node", None)
    if node is None:
        return None
    types: set = set()
    sources: set = set()
    for n in N.walk(node):
        if isinstance(n, N.Name) and n.name in definitions:
            return None
        if isinstance(n, N.Filter) and isinstance(n.source, N.Name) and n.source.name == "events":
            req = _type_requirement(n.predicate, N)
            if req is None:
                return None
            types |= req
            sources.add(id(n.source))
    for n in N.walk(node):
        if isinstance(n, N.Name) and n.name == "events" and id(n) not in sources:
            return None
    return frozenset(types)


def _type_requirement(p, N) -> set | None:
    if isinstance(p, N.Compare) and isinstance(p.left, N.Name) and p.left.name == "type":
        if p.op == "==" and isinstance(p.right, N.String):
            return {p.right.value}
        if p.op == "in" and isinstance(p.right, N.ListLit) and all(isinstance(x, N.String) for x in p.right.items):
            return {x.value for x in p.right.items}
    if isinstance(p, N.BoolOp) and p.op == "and" and p.operands:
        # only the first operand: on an item of another type the plain evaluation stops there (false), so nothing
        # after it is evaluated (no unknown, no run-time error) and dropping that item changes nothing
        return _type_requirement(p.operands[0], N)
    return None


# ----------------------------------------------------------------------------------------------- plan

@dataclass(frozen=True)
class PhaseInfo:
    id: str
    label: str
    initial: bool
    final: bool
    min_duration: Any
    max_duration: Any
    max_renewals: int | None
    total_max_duration: Any
    source: str | None
    out: tuple  # allowed next phases, in spec order
    all_within: bool  # every outgoing transition has a `within`


@dataclass(frozen=True)
class PathPlan:
    phases: dict
    initial_labels: str
    transitions: dict  # (from, to) -> Transition
    convention_end: date | None
    convention_source: str | None
    tinfo: dict  # (from, to) -> (Transition, source text, "from->to", event types its guard can see or None)
    convention_start: date | None = None
    events_after_end: frozenset = frozenset()  # event types allowed after the end ("*": all)
    event_labels: Any = None  # event type -> its label
    after_exit: Any = None  # final phase -> frozenset of the event types allowed after entering it (checked ones)


def build_path_plan(spec) -> PathPlan:
    tables = spec.tables
    nxt = dict(tables.next) if tables and tables.next else {}
    trans = dict(tables.transition) if tables and tables.transition else {}
    if not trans:  # tables not compiled (tests building small specs): derive them from the transitions
        for t in spec.transitions:
            trans.setdefault((t.from_phase, t.to_phase), t)
            nxt.setdefault(t.from_phase, ())
            if t.to_phase not in nxt[t.from_phase]:
                nxt[t.from_phase] = nxt[t.from_phase] + (t.to_phase,)
    phases = {}
    for pid, ph in spec.phases.items():
        out = tuple(nxt.get(pid, ()))
        phases[pid] = PhaseInfo(pid, ph.label or pid, ph.initial, ph.final, ph.min_duration, ph.max_duration,
                                ph.max_renewals, ph.total_max_duration, _src(ph.source), out,
                                bool(out) and all(trans[(pid, q)].within is not None for q in out))
    initial = [f"« {p.label} »" for p in phases.values() if p.initial]
    conv = spec.convention
    defs = frozenset(getattr(spec, "definitions", None) or ())
    tinfo = {k: (t, _src(t.source), f"{t.from_phase}->{t.to_phase}",
                 event_types_seen(t.guard, defs) if t.guard is not None else None) for k, t in trans.items()}
    return PathPlan(phases, ", ".join(initial) or "aucune", trans, conv.end if conv else None,
                    _src(conv.source) if conv else None, tinfo, conv.start if conv else None,
                    frozenset(getattr(conv, "events_after_end", ()) or ()),
                    {k: getattr(e, "label", None) or k for k, e in (getattr(spec, "events", None) or {}).items()},
                    {pid: frozenset(ph.events_after) for pid, ph in spec.phases.items()
                     if getattr(ph, "events_after", None) is not None} or None)


def _src(source) -> str | None:
    if source is None:
        return None
    return str(source) or None


def _v(code: str, at: int | None, d: date | None, message: str, rule: str | None, source: str | None,
       **extra) -> dict:
    v = {"code": code, "at": at, "date": d, "rule": rule, "source": source, "message": message}
    if extra:
        v.update(extra)
    return v


# ----------------------------------------------------------------------------------------------- path

def check_path(plan: PathPlan, history: list, env: dict, at: date, missing: set,
               fcache: dict | None = None, bounds: tuple | None = None) -> tuple[list, list, Any, dict]:
    """Walk the history step by step. Returns ``(violations, stays, state, first_entry)``: ``stays`` is a list of
    ``(phase, start, end_exclusive | None, index)``; ``state`` is None (no history) or ``(phase, stay_start,
    run_start, renewals, index, known)`` of the current stay; ``first_entry`` maps a phase to ``(date, index)``.
    ``fcache`` (the record's cache of :func:`events_of`): a guard that only reads events of some types is given
    those events only (same result, less work); None: every guard sees every event (the plain path). ``bounds``:
    ``(start, end)`` of the operation's convention (None: the spec's)."""
    phases = plan.phases
    out: list = []
    stays: list = []
    first: dict = {}
    if not history:
        return out, stays, None, first
    cur = None  # PhaseInfo of the current stay, or None when its phase is unknown
    cur_id = ""
    stay_start = run_start = history[0]["date"]
    renewals = 0
    total_flagged = False
    ended_at: tuple | None = None  # (index, date, label) of the entry into an end phase
    prev_date = None
    stay_index = 0
    conv_start, conv_end = bounds if bounds is not None else (plan.convention_start, plan.convention_end)
    for i, h in enumerate(history):
        p, d = h["phase"], h["date"]
        ph = phases.get(p)
        if p not in first:
            first[p] = (d, i)
        timing_ok = True
        if prev_date is not None and d < prev_date:
            timing_ok = False
            out.append(_v("dates_out_of_order", i, d,
                          f"L'étape « {_lab(ph, p)} » est datée du {fr_date(d)}, avant l'étape précédente "
                          f"« {_lab(cur, cur_id)} » du {fr_date(prev_date)} : l'historique doit être dans l'ordre "
                          "des dates.", None, None))
        if ph is None:
            out.append(_v("unknown_phase", i, d, f"La phase « {p} » (étape n° {i + 1}) n'existe pas dans ce "
                                                 "dispositif.", None, None))
        if conv_end is not None and d > conv_end:
            out.append(_v("outside_convention", i, d, f"L'étape « {_lab(ph, p)} » du {fr_date(d)} est postérieure à "
                                                      f"la fin de la convention ({fr_date(conv_end)}).", None,
                          plan.convention_source, limit=conv_end))
        elif conv_start is not None and d < conv_start:
            out.append(_v("outside_convention", i, d, f"L'étape « {_lab(ph, p)} » du {fr_date(d)} est antérieure au "
                                                      f"début de la convention ({fr_date(conv_start)}).", None,
                          plan.convention_source, limit=conv_start))
        if i == 0:
            if ph is not None and not ph.initial:
                out.append(_v("illegal_start", 0, d, f"Le parcours commence par « {ph.label} », qui n'est pas une "
                                                     f"phase d'entrée (phases d'entrée : {plan.initial_labels}).",
                              ph.id, ph.source))
        elif ended_at is not None:
            out.append(_v("after_end", i, d, f"L'étape « {_lab(ph, p)} » du {fr_date(d)} vient après la sortie du "
                                             f"dispositif (« {ended_at[2]} » le {fr_date(ended_at[1])}).",
                          None, None))
        elif cur is not None and ph is not None:
            ti = plan.tinfo.get((cur_id, p))
            if ti is None:
                allowed = ", ".join(f"« {phases[q].label} »" for q in cur.out) or "aucune"
                out.append(_v("transition_not_allowed", i, d,
                              f"Le passage de « {cur.label} » à « {ph.label} » le {fr_date(d)} n'est pas prévu par "
                              f"le dispositif (après « {cur.label} » : {allowed}).", None, cur.source))
            else:
                t, tsrc, tid, gtypes = ti
                if timing_ok and t.within is not None:
                    limit = plus(stay_start, t.within)
                    if d > limit:
                        out.append(_v("deadline_missed", i, d,
                                      f"« {ph.label} » a commencé {fr_days((d - stay_start).days)} après l'entrée en "
                                      f"« {cur.label} » (maximum {fr_duration(t.within)}, soit le {fr_date(limit)} "
                                      "au plus tard).", tid, tsrc, limit=limit))
                if timing_ok and t.after is not None:
                    limit = plus(stay_start, t.after)
                    if d < limit:
                        out.append(_v("min_duration_not_reached", i, d,
                                      f"« {ph.label} » a commencé {fr_days((d - stay_start).days)} après l'entrée en "
                                      f"« {cur.label} » (minimum {fr_duration(t.after)}, soit pas avant le "
                                      f"{fr_date(limit)}).", tid, tsrc, limit=limit))
                if t.guard is not None:
                    env["phase_start"] = stay_start
                    env["transition_date"] = d
                    if gtypes is not None and fcache is not None:  # the guard only sees events of these types
                        saved = env["events"], env.get(_EVENTS_BY_TYPE), env.get(_EVENTS_SORTED)
                        evs, index = guard_events(gtypes, saved[0], fcache)
                        env["events"] = env[_EVENTS_SORTED] = evs
                        env[_EVENTS_BY_TYPE] = (evs, index)
                        try:
                            g = t.guard.fn(env, at)
                        finally:
                            env["events"], env[_EVENTS_BY_TYPE], env[_EVENTS_SORTED] = saved
                    else:
                        g = t.guard.fn(env, at)
                    if g is False:
                        out.append(_v("guard_failed", i, d,
                                      f"Passage de « {cur.label} » à « {ph.label} » le {fr_date(d)} : la condition "
                                      f"« {t.guard.text} » n'est pas remplie.", tid, tsrc))
                    elif g is not True:
                        missing.update(getattr(g, "names", ()) or ())
            if timing_ok:
                _leave(out, cur, stay_start, d, i)
            if p == cur_id:
                renewals += 1
                if cur.max_renewals is not None and renewals > cur.max_renewals:
                    out.append(_v("renewals_exceeded", i, d,
                                  f"« {cur.label} » renouvelé {renewals} fois le {fr_date(d)} (maximum "
                                  f"{cur.max_renewals} renouvellement{'s' if cur.max_renewals > 1 else ''}).",
                                  cur.id, cur.source))
            if cur.total_max_duration is not None and timing_ok and not total_flagged:
                limit = plus(run_start, cur.total_max_duration)
                if d > limit:
                    total_flagged = True
                    out.append(_v("total_duration_exceeded", i, d,
                                  f"« {cur.label} », renouvellements compris, a duré "
                                  f"{fr_days((d - run_start).days)} (maximum {fr_duration(cur.total_max_duration)}, "
                                  f"soit jusqu'au {fr_date(limit)}).", cur.id, cur.source, limit=limit))
        if i > 0:
            stays.append((cur_id, stay_start, d, stay_index))
        if p != cur_id or i == 0:
            run_start = d
            renewals = 0
            total_flagged = False
        cur, cur_id, stay_start, stay_index, prev_date = ph, p, d, i, d
        if ph is not None and ph.final and ended_at is None:
            ended_at = (i, d, ph.label)
    stays.append((cur_id, stay_start, None, stay_index))
    if cur is not None and not cur.final and at >= stay_start:
        _open_stay(out, plan, cur, stay_start, run_start, total_flagged, stay_index, at)
    state = (cur_id, stay_start, run_start, renewals, stay_index, cur is not None)
    return out, stays, state, first


def check_events_after_exit(plan: PathPlan, events: list, first: dict) -> list:
    """``event_after_exit`` for each event dated after the entry into a final phase whose ``events_after`` does not
    list its type (``first``: phase -> (date, index) of its first entry). Independent of the evaluation date: the
    record's own events are read."""
    exits = [(first[p][0], p) for p in plan.after_exit if p in first]
    if not exits:
        return []
    left, phase = min(exits)
    allowed = plan.after_exit[phase]
    labels = plan.event_labels or {}
    ph = plan.phases.get(phase)
    out = []
    for j, e in enumerate(events):
        d = e.get("date")
        t = e.get("type")
        if isinstance(d, date) and d > left and t not in allowed:
            out.append(_v("event_after_exit", None, d, f"L'événement « {labels.get(t, t)} » du {fr_date(d)} vient après "
                          f"la sortie du dispositif (« {ph.label if ph else phase} » le {fr_date(left)}), après "
                          "laquelle " + ("aucun événement n'est attendu." if not allowed else
                                         "seuls sont attendus : " + ", ".join(f"« {labels.get(a, a)} »"
                                                                               for a in sorted(allowed)) + "."),
                          phase, ph.source if ph else None, event=j, limit=left))
    return out


def check_event_bounds(plan: PathPlan, events: list, dates: list, bounds: tuple | None = None) -> list:
    """``outside_convention`` for each event dated before the convention's start or after its end (but the types in
    ``convention.events_after_end``, after the end). ``dates``: the events' dates (one pass in C when all are in)."""
    start, end = bounds if bounds is not None else (plan.convention_start, plan.convention_end)
    if not dates or ((start is None or min(dates) >= start) and (end is None or max(dates) <= end)):
        return []
    allowed = plan.events_after_end
    labels = plan.event_labels or {}
    out = []
    for j, e in enumerate(events):
        d = e.get("date")
        if not isinstance(d, date):
            continue
        t = e.get("type")
        if start is not None and d < start:
            out.append(_v("outside_convention", None, d, f"L'événement « {labels.get(t, t)} » du {fr_date(d)} est "
                          f"antérieur au début de la convention ({fr_date(start)}).", None, plan.convention_source,
                          event=j, limit=start))
        elif end is not None and d > end and "*" not in allowed and t not in allowed:
            out.append(_v("outside_convention", None, d, f"L'événement « {labels.get(t, t)} » du {fr_date(d)} est "
                          f"postérieur à la fin de la convention ({fr_date(end)}).", None, plan.convention_source,
                          event=j, limit=end))
    return out


def _lab(ph, p) -> str:
    return ph.label if ph is not None else str(p)


def _leave(out: list, cur: PhaseInfo, start: date, d: date, i: int) -> None:
    if cur.min_duration is not None:
        limit = plus(start, cur.min_duration)
        if d < limit:
            out.append(_v("min_duration_not_reached", i, d,
                          f"La phase « {cur.label} » a duré {fr_days((d - start).days)} (minimum "
                          f"{fr_duration(cur.min_duration)}, soit jusqu'au {fr_date(limit)} au moins).",
                          cur.id, cur.source, limit=limit))
    if cur.max_duration is not None:
        limit = plus(start, cur.max_duration)
        if d > limit:
            out.append(_v("max_duration_exceeded", i, d,
                          f"La phase « {cur.label} » a duré {fr_days((d - start).days)} (maximum "
                          f"{fr_duration(cur.max_duration)}, soit jusqu'au {fr_date(limit)}).",
                          cur.id, cur.source, limit=limit))


def _open_stay(out: list, plan: PathPlan, cur: PhaseInfo, start: date, run_start: date, total_flagged: bool,
               i: int, at: date) -> None:
    if cur.max_duration is not None:
        limit = plus(start, cur.max_duration)
        if at > limit:
            out.append(_v("max_duration_exceeded", i, limit + ONE_DAY,
                          f"Toujours en « {cur.label} » au {fr_date(at)}, {fr_days((at - start).days)} après l'entrée "
                          f"(maximum {fr_duration(cur.max_duration)}) : la phase devait se terminer au plus tard le "
                          f"{fr_date(limit)}.", cur.id, cur.source, limit=limit))
    if cur.total_max_duration is not None and not total_flagged:
        limit = plus(run_start, cur.total_max_duration)
        if at > limit:
            out.append(_v("total_duration_exceeded", i, limit + ONE_DAY,
                          f"Toujours en « {cur.label} » au {fr_date(at)}, renouvellements compris depuis le "
                          f"{fr_date(run_start)} (maximum {fr_duration(cur.total_max_duration)}, soit jusqu'au "
                          f"{fr_date(limit)}).", cur.id, cur.source, limit=limit))
    if cur.all_within:
        ts = [plan.transitions[(cur.id, q)] for q in cur.out]
        limit = max(plus(start, t.within) for t in ts)
        if at > limit:
            names = ", ".join(f"« {plan.phases[t.to_phase].label} »" for t in ts)
            out.append(_v("deadline_missed", i, limit + ONE_DAY,
                          f"Toujours en « {cur.label} » au {fr_date(at)} : le passage vers {names} devait avoir lieu "
                          f"au plus tard le {fr_date(limit)}.", f"{cur.id}->", _src(ts[0].source), limit=limit))


def next_steps(plan: PathPlan, state, env: dict, at: date) -> list:
    """The phases allowed next at ``at``, with the earliest and latest dates the spec allows (None: no bound) and,
    for a guarded transition, its ``condition`` (the text of the guard, to be true on the day of the move)."""
    phases = plan.phases
    if state is None:
        return [{"phase": p.id, "label": p.label, "earliest": None, "latest": None}
                for p in phases.values() if p.initial]
    cur_id, start, run_start, renewals, _, known = state
    cur = phases.get(cur_id)
    if not known or cur is None or cur.final:
        return []
    res = []
    for q in cur.out:
        t = plan.transitions[(cur_id, q)]
        lo = [start]
        hi = []
        if t.after is not None:
            lo.append(plus(start, t.after))
        if cur.min_duration is not None:
            lo.append(plus(start, cur.min_duration))
        if t.within is not None:
            hi.append(plus(start, t.within))
        if cur.max_duration is not None:
            hi.append(plus(start, cur.max_duration))
        if q == cur_id:
            if cur.max_renewals is not None and renewals >= cur.max_renewals:
                continue
            if cur.total_max_duration is not None:
                hi.append(plus(run_start, cur.total_max_duration))
        latest = min(hi) if hi else None
        if latest is not None and latest < at:
            continue
        earliest = max(lo)
        if latest is not None and earliest > latest:
            continue
        step = {"phase": q, "label": phases[q].label, "earliest": earliest, "latest": latest}
        if t.guard is not None:  # not evaluated: it depends on what happens until the move
            step["condition"] = t.guard.text
        res.append(step)
    return res


def sort_violations(vs: list) -> list:
    return sorted(vs, key=lambda v: (v["date"] or date.max, -1 if v["at"] is None else v["at"]))
