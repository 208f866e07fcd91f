"""The calendar (engine/expr/calendar.py): the one implementation of month arithmetic, whole months and ages, checked
against python-dateutil's ``relativedelta`` (the same rule: month arithmetic clamps to the end of the month) on
random dates and offsets, and on every day of a leap cycle; and the engine's other users of month arithmetic are
this implementation, not copies of it."""

from __future__ import annotations

from datetime import date, timedelta

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from engine.expr import calendar as CAL

relativedelta = pytest.importorskip("dateutil.relativedelta", reason="python-dateutil is in the test extras").relativedelta

DATES = st.dates(min_value=date(1800, 1, 1), max_value=date(2300, 12, 31))
OFFSETS = st.integers(min_value=-1200, max_value=1200)
# every day of a leap cycle, and the month ends around it: where clamping happens
CYCLE = [date(2023, 1, 1) + timedelta(days=i) for i in range(366 + 365 * 3)]


def rd_months(a: date, b: date) -> int:
    r = relativedelta(b, a)
    return r.years * 12 + r.months


@pytest.mark.parametrize("d,n,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2024, 2, 29), 12, date(2025, 2, 28)), (date(2026, 3, 31), -1, date(2026, 2, 28)),
    (date(2026, 5, 31), 1, date(2026, 6, 30)), (date(2026, 12, 15), 1, date(2027, 1, 15)),
    (date(2026, 1, 15), -13, date(2024, 12, 15)), (date(2026, 8, 31), 0, date(2026, 8, 31)),
])
def test_add_months_clamps_to_the_end_of_the_month(d, n, expected):
    assert CAL.add_months(d, n) == expected == d + relativedelta(months=n)


@pytest.mark.parametrize("a,b,months", [
    (date(2026, 1, 31), date(2026, 2, 28), 1), (date(2026, 1, 31), date(2026, 2, 27), 0),
    (date(2026, 1, 15), date(2026, 7, 14), 5), (date(2026, 1, 15), date(2026, 7, 15), 6),
    (date(2026, 7, 15), date(2026, 1, 15), -6), (date(2026, 3, 31), date(2026, 2, 28), -1),
    (date(2026, 3, 27), date(2026, 2, 28), 0),
])
def test_months_between(a, b, months):
    assert CAL.months_between(a, b) == months == rd_months(a, b)


@pytest.mark.parametrize("birth,on,years", [
    (date(2008, 2, 29), date(2026, 2, 28), 18), (date(2008, 2, 29), date(2026, 2, 27), 17),
    (date(2008, 2, 29), date(2028, 2, 28), 19), (date(2008, 2, 29), date(2028, 2, 29), 20),
    (date(2000, 6, 1), date(2026, 5, 31), 25), (date(2000, 6, 1), date(2026, 6, 1), 26),
    (date(2026, 6, 1), date(2000, 6, 1), -26),
])
def test_age(birth, on, years):
    assert CAL.age(birth, on) == years == relativedelta(on, birth).years


def test_add_months_out_of_range_is_an_overflow():
    with pytest.raises(OverflowError):
        CAL.add_months(date(9999, 12, 1), 1)
    with pytest.raises(OverflowError):
        CAL.add_months(date(1, 1, 31), -1)


@settings(max_examples=3000, deadline=None)
@given(DATES, OFFSETS)
def test_add_months_is_relativedelta(d, n):
    assert CAL.add_months(d, n) == d + relativedelta(months=n)


@settings(max_examples=3000, deadline=None)
@given(DATES, OFFSETS, st.integers(min_value=-400, max_value=400))
def test_add_is_months_then_days(d, months, days):
    assert CAL.add(d, months, days) == d + relativedelta(months=months) + timedelta(days=days)


@settings(max_examples=3000, deadline=None)
@given(DATES, DATES)
@example(date(2000, 4, 30), date(2000, 1, 31))
def test_months_between_and_age_are_relativedelta(a, b):
    """Forward, relativedelta's whole months and years; backward, minus the forward count (relativedelta rounds a
    backward span toward zero from the later date: months_between(30/04/2000, 31/01/2000) is -3 here, -2 there)."""
    if b >= a:
        assert CAL.months_between(a, b) == rd_months(a, b)
        assert CAL.age(a, b) == relativedelta(b, a).years
    else:
        assert CAL.months_between(a, b) == -rd_months(b, a)
        assert CAL.age(a, b) == -relativedelta(a, b).years


@settings(max_examples=1000, deadline=None)
@given(DATES, DATES)
def test_months_between_is_the_largest_whole_number_of_months(a, b):
    m = CAL.months_between(a, b)
    if b >= a:
        assert CAL.add_months(a, m) <= b < CAL.add_months(a, m + 1)
    else:
        assert m == -CAL.months_between(b, a)


@pytest.mark.parametrize("n", [-25, -13, -12, -1, 1, 11, 12, 13, 25, 48])
def test_every_day_of_a_leap_cycle(n):
    for d in CYCLE:
        assert CAL.add_months(d, n) == d + relativedelta(months=n), (d, n)
        e = CAL.add_months(d, n)
        assert CAL.months_between(d, e) == rd_months(d, e) == n, (d, e)


def test_the_engine_has_one_month_arithmetic():
    """The runtime of expressions, the path checks, the phase graph and the obligation windows use this module."""
    from engine.beneficiary import conformance, obligations
    from engine.expr import runtime
    from engine.spec import graph

    assert runtime.add_months is CAL.add_months
    assert conformance.add_months is CAL.add_months
    assert obligations.add_months is CAL.add_months
    assert graph.add is CAL.add
    assert runtime.months_between(date(2026, 1, 31), date(2026, 2, 28)) == 1
    assert runtime.age(date(2008, 2, 29), date(2026, 2, 28)) == 18
