"""Recurring operator obligations read the operation as known at the report date: an event dated after ``--at``
(a committee held later, in a record exported later) is not counted in its window, neither towards the minimum nor
against the maximum (05:105, 10:42, 10:44)."""

from datetime import date
from types import SimpleNamespace

import pytest

from engine.operation.record import recurring

START, END = date(2026, 1, 1), date(2027, 12, 31)


def rule(**kw):
    base = dict(id="r", label=None, event="committee", where=None, every=None, min=None, max=None, source=None,
                max_severity="error", partial_windows="skip", max_gap=None, before_each=None)
    base.update(kw)
    return SimpleNamespace(**base)


def ev(*days, **fields):
    return [{"type": "committee", "date": date.fromisoformat(d), **fields} for d in days]


@pytest.mark.parametrize("at,count,status", [
    (date(2026, 4, 1), 1, "pending"),    # the June committee has not happened yet
    (date(2026, 5, 31), 1, "pending"),
    (date(2026, 6, 1), 2, "met"),        # held on the report date: counted
    (date(2027, 1, 15), 2, "met"),
])
def test_a_minimum_counts_only_the_events_held_by_the_report_date(at, count, status):
    r = recurring(rule(every="year", min=2), ev("2026-03-01", "2026-06-01"), START, END, at)
    assert r["windows"][0]["count"] == count and r["windows"][0]["status"] == status


def test_a_later_event_does_not_pass_the_maximum_before_it_happens():
    evs = ev("2026-03-01", "2026-11-01")
    early = recurring(rule(every="year", min=1, max=1), evs, START, END, date(2026, 4, 1))
    assert early["windows"][0] == {"from": START, "to": date(2026, 12, 31), "count": 1, "status": "met"}
    late = recurring(rule(every="year", min=1, max=1), evs, START, END, date(2026, 11, 2))
    assert late["windows"][0]["status"] == "unmet"


def test_an_undecided_event_after_the_report_date_is_not_counted_either():
    evs = ev("2026-03-01", slai_present=True) + ev("2026-06-01")
    where = SimpleNamespace(fn=lambda env, at: env.get("slai_present", None) is True or _unknown(env))
    r = recurring(rule(every="year", min=2, where=where), evs, START, END, date(2026, 4, 1), ("slai_present",))
    assert r["windows"][0]["count"] == 1 and "undecided" not in r["windows"][0]


def _unknown(env):
    from engine.expr.runtime import Unknown
    v = env.get("slai_present")
    return v if isinstance(v, Unknown) else False
