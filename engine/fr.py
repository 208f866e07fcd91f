"""French wording of values, in one place: dates, numbers, money, percentages, day counts and plurals.

Every output a person reads (terminal views, reports, traces, the diff, the documentation site) formats its values
with these functions, so that a date or an amount reads the same everywhere:

- ``fr_date(date(2026, 3, 1))`` -> ``"01/03/2026"``; ``fr_long_date(...)`` -> ``"1er mars 2026"``;
- ``fr_number(Decimal("22800.5"))`` -> ``"22 800,5"`` (a narrow no-break space between thousands, a decimal comma);
- ``fr_money(Decimal("45000"))`` -> ``"45 000,00 €"`` (half-up to the cent, a no-break space before the sign);
- ``fr_percent(Decimal("0.174"))`` -> ``"17,4 %"`` (a rate 0..1 shown per hundred);
- ``fr_days(1)`` -> ``"1 jour"``, ``fr_plural(3, "échéance", "échéances")`` -> ``"3 échéances"`` (French plural:
  0 and 1 are singular).

Durations ("3 mois", "1 an et 6 mois") are worded by the expression language's duration module, which owns their
syntax. A leaf module: it imports nothing of the engine.
"""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

THIN = "\u202f"  # narrow no-break space: between groups of thousands
NBSP = "\u00a0"  # no-break space: before % and €

MONTHS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
          "novembre", "décembre")


def fr_date(d: Any) -> str:
    """``date(2026, 3, 1)`` -> "01/03/2026"; an ISO text is read first; anything else is shown as it is."""
    if isinstance(d, str):
        try:
            d = date.fromisoformat(d)
        except ValueError:
            return d
    if not isinstance(d, date):
        return "" if d is None else str(d)
    return f"{d.day:02d}/{d.month:02d}/{d.year}"


def fr_long_date(d: Any) -> str:
    """``date(2026, 3, 1)`` -> "1er mars 2026"."""
    if isinstance(d, str):
        try:
            d = date.fromisoformat(d)
        except ValueError:
            return d
    if not isinstance(d, date):
        return "" if d is None else str(d)
    return f"{'1er' if d.day == 1 else d.day} {MONTHS[d.month - 1]} {d.year}"


def fr_number(d: Any) -> str:
    """``Decimal("22800.5")`` -> "22 800,5"; booleans read "oui"/"non"; None is empty."""
    if isinstance(d, bool) or d is None:
        return "" if d is None else ("oui" if d else "non")
    if not isinstance(d, Decimal):
        try:
            d = Decimal(str(d))
        except ArithmeticError:
            return str(d)
    if not d.is_finite():
        return str(d)
    sign = "-" if d < 0 else ""
    text = format(abs(d).normalize(), "f")
    whole, _, frac = text.partition(".")
    groups = []
    while len(whole) > 3:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    groups.insert(0, whole)
    return sign + THIN.join(groups) + ("," + frac if frac else "")


def fr_percent(d: Any, places: int | None = None) -> str:
    """A rate (``Decimal("0.174")``) per hundred: "17,4 %"; ``places`` rounds half-up to that many decimals."""
    if d is None:
        return ""
    p = Decimal(str(d)) * 100
    if places is not None:
        p = p.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
    return fr_number(p) + NBSP + "%"


def fr_money(d: Any) -> str:
    """An amount in euros, half-up to the cent: "45 000,00 €"."""
    if d is None:
        return ""
    q = Decimal(str(d)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    text = fr_number(q)
    if "," not in text:
        text += ",00"
    elif len(text.split(",")[1]) == 1:
        text += "0"
    return text + NBSP + "€"


def fr_plural(n: int, singular: str, plural: str) -> str:
    """``3, "échéance", "échéances"`` -> "3 échéances" (0 and 1 take the singular in French)."""
    return f"{n} {singular if abs(n) < 2 else plural}"


def fr_days(n: int) -> str:
    """``1`` -> "1 jour", ``18`` -> "18 jours"."""
    return fr_plural(n, "jour", "jours")


__all__ = ["MONTHS", "fr_date", "fr_days", "fr_long_date", "fr_money", "fr_number", "fr_percent", "fr_plural"]
