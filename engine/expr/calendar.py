"""The calendar of the engine, in one place: month arithmetic, whole months between two dates, ages.

The rule (docs/expressions.md, DESIGN): **month arithmetic clamps to the end of the month**. ``2026-01-31 + 1 month`` is
2026-02-28, ``2024-02-29 + 1 year`` is 2025-02-28; a duration adds its months first, then its days. Whole months and
ages count by the same arithmetic: ``months_between(a, b)`` is the largest ``m`` with ``add_months(a, m) <= b``
(negative when ``b < a``), ``age(birth, on)`` the largest ``y`` with ``add_months(birth, 12 * y) <= on`` -- so
somebody born on 29 February has their birthday on 28 February in the other years.

This is the rule of python-dateutil's ``relativedelta`` (``d + relativedelta(months=n)``, ``relativedelta(b, a)``), and
``tests/test_calendar.py`` checks that both give the same answers on random dates and offsets. The engine does not
call dateutil at run time: month arithmetic is the inner loop of the path checks and of the compiled expressions, and
the few lines below are an order of magnitude faster than a ``relativedelta`` (see docs/architecture.md).

Functions of plain ``datetime.date`` values; the expression language's versions (:mod:`engine.expr.runtime`) add the
type checks of its values. A leaf of ``expr/``: it imports nothing of the engine.
"""

from __future__ import annotations

from datetime import date, timedelta

_DIM = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def days_in_month(y: int, m: int) -> int:
    """The number of days of month ``m`` (1-12) of year ``y``."""
    if m == 2 and y % 4 == 0 and (y % 100 != 0 or y % 400 == 0):
        return 29
    return _DIM[m]


def add_months(d: date, n: int) -> date:
    """``d`` plus ``n`` calendar months (``n`` may be negative), clamped to the end of the month
    (2026-01-31 + 1 month = 2026-02-28). OverflowError beyond the years 1-9999."""
    total = d.year * 12 + (d.month - 1) + n
    y, m0 = divmod(total, 12)
    if not 1 <= y <= 9999:
        raise OverflowError("date out of range")
    m = m0 + 1
    day = d.day
    if day > 28:
        day = min(day, days_in_month(y, m))
    return date(y, m, day)


def add(d: date, months: int, days: int) -> date:
    """``d`` plus ``months`` months (clamped, :func:`add_months`), then ``days`` days."""
    if months:
        d = add_months(d, months)
    if days:
        d = d + timedelta(days=days)
    return d


def months_between(a: date, b: date) -> int:
    """Whole months from ``a`` to ``b``: the largest m with ``add_months(a, m) <= b`` (negative when b < a)."""
    if b < a:
        return -months_between(b, a)
    m = (b.year - a.year) * 12 + (b.month - a.month)
    # add_months(a, m) falls in b's month, on day min(a.day, days in b's month)
    if b.day < min(a.day, days_in_month(b.year, b.month)):
        m -= 1
    return m


def age(birth: date, on: date) -> int:
    """Whole years from ``birth`` to ``on`` (birthday on 29 February: 28 February in the other years); negative when
    ``on`` is before ``birth``."""
    if on < birth:
        return -age(on, birth)
    y = on.year - birth.year
    bm, bd = birth.month, birth.day
    if bm == 2 and bd == 29 and days_in_month(on.year, 2) == 28:
        bd = 28
    if on.month < bm or (on.month == bm and on.day < bd):
        y -= 1
    return y
