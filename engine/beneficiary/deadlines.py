"""The deadlines of one beneficiary: each deadline's due date from its anchor (a phase entry, an event, an
attribute's date), whether and when its target happened, its status at the evaluation date, and the violations.

Used by :mod:`engine.beneficiary.evaluate`, with the path checks of :mod:`engine.beneficiary.conformance` (whose
rules apply: limits are inclusive, month arithmetic clamps to the month's end, a deadline that falls due after the
beneficiary left is ``not_applicable``).
"""

from __future__ import annotations

from bisect import bisect_left
from datetime import date

from engine.beneficiary.conformance import ONE_DAY, _src, _v, events_of, plus
from engine.fr import fr_date, fr_days

def deadline_info(deadlines) -> tuple:
    """Per-spec precomputation: ``(deadline, source text, label, {anchor event type}, {target event type})``."""
    return tuple((dl, _src(dl.source), dl.label or dl.id, frozenset((dl.anchor.name,)),
                  frozenset((dl.target.name,))) for dl in deadlines)


def phase_closed(dl, history: list, anchor_index: int | None, due: date, at: date) -> date | None:
    """For a deadline ``during_phase``: ``(date, history index)`` of the step by which the beneficiary left its anchor
    phase (entered another one, on or before ``at``), when it is on or before the due date; else None. The stay includes that day (a target on the
    day of the transition counts, as a guard ``date <= transition_date`` counts it); a renewal (the same phase
    entered again) continues the stay."""
    if anchor_index is None:
        return None
    name = dl.anchor.name
    for j in range(anchor_index + 1, len(history)):
        h = history[j]
        if h["phase"] != name:
            return (h["date"], j) if h["date"] <= at and h["date"] <= due else None
    return None


def check_deadlines(infos, history: list, events: list, dates: list, first: dict, env: dict, at: date,
                    item_env, ended: date | None = None, fcache: dict | None = None) -> tuple[list, list]:
    """Returns ``(deadline outputs, violations)``. ``ended``: the date the path entered an end phase, if it did: a
    deadline whose target never happened and whose due date is after that exit is ``not_applicable`` (the
    beneficiary left before it fell due). ``fcache`` (the record's cache of :func:`events_of`): event anchors and
    targets are looked up among the events of their type only (same result); None: in every event."""
    res = []
    vio = []
    for dl, src, label, a_types, t_types in infos:
        entry = {"id": dl.id, "status": "not_applicable", "due": None, "date": None}
        if dl.applies_if is not None:
            ok = dl.applies_if.fn(env, at)
            if ok is not True:
                if ok is not False:
                    entry["missing"] = sorted(getattr(ok, "names", ()) or ())
                res.append(entry)
                continue
        a = dl.anchor
        anchor_date = anchor_index = None
        if a.kind == "phase":
            hit = first.get(a.name)
            if hit is not None:
                anchor_date, anchor_index = hit
        elif a.kind == "event":
            if fcache is not None:
                ds = events_of(a_types, events, fcache)[1]
                anchor_date = ds[0] if ds else None
            else:
                anchor_date = next((e["date"] for e in events if e.get("type") == a.name), None)
        else:
            v = env.get(a.name)
            if isinstance(v, date):
                anchor_date = v
            elif v is not None and not isinstance(v, (str, int)):
                entry["missing"] = sorted(getattr(v, "names", ()) or (a.name,))
        if anchor_date is None:
            res.append(entry)
            continue
        due = plus(anchor_date, dl.within)
        closed = phase_closed(dl, history, anchor_index, due, at) if dl.during_phase else None
        if closed is not None:  # the anchor phase ended before the due date: the stay's end is the limit
            closed, closed_index = closed
            due = closed
            entry["phase_end"] = closed
        entry["due"] = due
        earliest = plus(anchor_date, dl.not_before) if dl.not_before is not None else None
        if earliest is not None:
            entry["earliest"] = earliest
        start = anchor_date if earliest is None or earliest < anchor_date else earliest
        t = dl.target
        got = got_index = early = early_index = None
        if t.kind == "phase":
            for j, h in enumerate(history):
                if h["phase"] == t.name and h["date"] >= anchor_date:
                    if h["date"] < start:  # before the window: does not count
                        if early is None:
                            early, early_index = h["date"], j
                        continue
                    got, got_index = h["date"], j
                    break
        else:
            name = t.name
            where = dl.where
            evs, ds = (events, dates) if fcache is None else events_of(t_types, events, fcache)
            for j in range(bisect_left(ds, anchor_date), len(evs)):
                e = evs[j]
                if e["type"] != name:
                    continue
                if where is not None and where.fn(item_env(env, e), at) is not True:
                    continue
                if e["date"] < start:
                    if early is None:
                        early = e["date"]
                    continue
                got = e["date"]
                break
        entry["date"] = got
        if early is not None and got is None:
            entry["early"] = early
        if got is None and not dl.during_phase and ended is not None and ended <= due \
                and (early is None or t.kind != "phase"):
            entry["status"] = "not_applicable"  # left before it fell due (a target phase entered early: missed)
        elif got is not None and got <= due:
            entry["status"] = "met"
        elif got is not None or due < at or closed is not None:
            entry["status"] = "missed"
            if got is not None:
                msg = (f"« {label} » : échéance le {fr_date(due)}, réalisé le {fr_date(got)} "
                       f"({fr_days((got - due).days)} de retard).")
                vio.append(_v("deadline_missed", got_index if got_index is not None else anchor_index, got, msg,
                              dl.id, src, limit=due))
            elif early is not None:
                msg = (f"« {label} » : seulement réalisé le {fr_date(early)}, avant la période attendue (du "
                       f"{fr_date(earliest)} au {fr_date(due)}), qui est dépassée au {fr_date(at)}.")
                vio.append(_v("deadline_missed", early_index if early_index is not None else anchor_index,
                              due + ONE_DAY, msg, dl.id, src, limit=due, earliest=earliest, early=early))
            elif closed is not None:
                msg = (f"« {label} » : la phase « {dl.anchor.name} » a pris fin le {fr_date(closed)} "
                       f"sans qu'il ait eu lieu.")
                vio.append(_v("deadline_missed", closed_index, closed, msg, dl.id, src, limit=due))
            else:
                msg = f"« {label} » : échéance du {fr_date(due)} dépassée, rien n'a été enregistré au {fr_date(at)}."
                vio.append(_v("deadline_missed", anchor_index, due + ONE_DAY, msg, dl.id, src, limit=due))
        elif early is not None:
            entry["status"] = "early"  # done before the window, which is still open: it does not count (yet)
        else:
            entry["status"] = "pending"
        res.append(entry)
    return res, vio
