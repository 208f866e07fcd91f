"""Money arithmetic for operations: exact decimals, rounding to the cent half-up, parts that add up to their rounded
total, and the French wording of amounts and rates in labels.

- :func:`money` rounds to the cent, half-up (``ROUND_HALF_UP``); :func:`round_parts` rounds several exact amounts
  so that the rounded parts add up *exactly* to the rounded total (largest-remainder method); :func:`split` divides
  a total by shares; :func:`ratio` and :func:`mul` compute with 40 significant digits (no float ever).
- :func:`pct` and :func:`euros` word a rate and an amount for the labels of a report.

Re-exported by :mod:`engine.operation.funding`, whose computations use them.
"""

from __future__ import annotations

from decimal import ROUND_DOWN, ROUND_HALF_UP, Context, Decimal, localcontext
from typing import Sequence

CENT = Decimal("0.01")
ZERO = Decimal(0)
ONE = Decimal(1)
_CTX = Context(prec=40)


def D(x) -> Decimal:
    """A Decimal from an int, a str or a Decimal (never a float: floats are refused, they are not exact)."""
    if isinstance(x, Decimal):
        return x
    if isinstance(x, bool) or isinstance(x, float):
        raise TypeError(f"expected an exact number, got {x!r}")
    return Decimal(x)


def money(x) -> Decimal:
    """``x`` rounded to the cent, half-up: ``money("0.125") == Decimal("0.13")``."""
    return D(x).quantize(CENT, rounding=ROUND_HALF_UP)


def ratio(num, den) -> Decimal:
    """``num / den`` with 40 significant digits (``den`` must not be zero)."""
    with localcontext(_CTX):
        return D(num) / D(den)


def mul(*xs) -> Decimal:
    """Exact product (40 significant digits)."""
    with localcontext(_CTX):
        r = ONE
        for x in xs:
            r = r * D(x)
        return r


def round_parts(exact: Sequence) -> tuple[Decimal, ...]:
    """Round each exact amount to the cent so that the parts add up exactly to ``money(sum(exact))``.

    Largest-remainder method: every part is rounded down (toward zero for non-negative parts) to the cent; the
    cents still missing to reach the rounded total go one by one to the parts with the largest remainders (the
    earliest part first on ties). Each rounded part differs from its exact value by less than one cent.
    Negative parts are handled by symmetry (rounded up toward zero first, then cents removed).
    """
    values = [D(v) for v in exact]
    if not values:
        return ()
    with localcontext(_CTX):
        total = money(sum(values, ZERO))
        floors = [v.quantize(CENT, rounding=ROUND_DOWN) if v >= 0 else -((-v).quantize(CENT, rounding=ROUND_DOWN))
                  for v in values]
        rems = [v - f for v, f in zip(values, floors)]
        missing = int(((total - sum(floors, ZERO)) / CENT).to_integral_value())
        parts = list(floors)
        if missing > 0:
            order = sorted(range(len(values)), key=lambda i: (-rems[i], i))
            for k in range(missing):
                parts[order[k % len(order)]] += CENT
        elif missing < 0:
            order = sorted(range(len(values)), key=lambda i: (rems[i], i))
            for k in range(-missing):
                parts[order[k % len(order)]] -= CENT
    return tuple(parts)


def split(total, shares: Sequence) -> tuple[Decimal, ...]:
    """Split ``money(total)`` by ``shares`` (fractions, e.g. 0.30/0.50/0.20) into cents that add up exactly to the
    total when the shares add up to 1 (otherwise to ``money(total * sum(shares))``)."""
    t = money(total)
    return round_parts([mul(t, s) for s in shares])


def pct(x: Decimal | None) -> str:
    """A fraction as a French percentage for labels: ``Decimal('0.4') -> '40 %'``, ``0.125 -> '12,5 %'``."""
    if x is None:
        return "?"
    v = (D(x) * 100).normalize()
    s = format(v, "f")
    if "." in s:
        s = s.rstrip("0").rstrip(".")
    return s.replace(".", ",") + " %"


def euros(x: Decimal | None) -> str:
    """Money as French text: ``Decimal('22800') -> '22 800,00 €'``."""
    if x is None:
        return "indéterminé"
    v = money(x)
    sign = "-" if v < 0 else ""
    whole, _, cents = format(abs(v), "f").partition(".")
    groups = []
    while whole:
        groups.insert(0, whole[-3:])
        whole = whole[:-3]
    return f"{sign}{' '.join(groups) or '0'},{cents or '00'} €"
