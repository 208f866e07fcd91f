"""Money for operations: the pure computational core (no spec, no expression language, no I/O).

Everything an operation's finance check needs, as plain functions over ``Decimal``/``date`` values that return
frozen dataclasses, so that every figure of a report can be traced and tested by hand:

- (:mod:`engine.operation.money`) :func:`money` rounds to the cent, half-up (``ROUND_HALF_UP``); :func:`round_parts` rounds several exact amounts
  so that the rounded parts add up *exactly* to the rounded total (largest-remainder method: each part is first
  rounded down to the cent, then the cents still missing go to the parts with the largest remainders, the earliest
  part first on ties; no part moves by a cent or more from its exact value); :func:`split` divides a total by shares.
- staff: :func:`check_staff` (minimum allocation rate for partly assigned staff, support functions excluded) gives
  the eligible direct staff costs and the operation's FTE;
- :func:`eligible_costs` adds the flat rates (40 % or 15 % of direct staff costs), the declared cost categories
  (capped at their maximum) and the declared other costs, except what a flat rate already covers;
- :func:`departement_share` checks the Département's share of the total financing (40 % FSE+, 30 % FTJ);
- :func:`max_grant` takes the minimum of the share and every cap (375 EUR per participant-month, 22,800 EUR per
  ETP + 5,270 EUR Ségur...);
- :func:`conditional_funding` turns achievements into money: each part has a weight, an objective, an achieved
  value and a mode (``proportional``, ``threshold``, ``all_or_nothing``);
- (:mod:`engine.operation.payments`) :func:`payment_schedule` spreads the grant over tranches (advance at signature, installment after the
  intermediate review, balance after the final review) with due dates and a status at a date.

The money arithmetic and the payment schedule live in their own modules and are re-exported here, so that
``funding.money`` or ``funding.payment_schedule`` name them as before.

Conventions: shares and rates are ``Decimal`` fractions (``Decimal("0.40")`` for 40 %); money amounts are euros.
Intermediate computations use a 40-digit decimal context (no float ever), and only results are rounded to the cent.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, ROUND_HALF_UP, Decimal
from typing import Iterable, Sequence

from engine.operation.money import (CENT, ONE, ZERO, D, euros, money, mul, pct, ratio,  # noqa: F401 - re-exported
                                    round_parts, split)
from engine.operation.payments import (TRANCHE_STATUSES, ReviewState, Schedule, Tranche,  # noqa: F401 - re-exported
                                       TrancheSpec, payment_schedule)

MODES = ("proportional", "threshold", "all_or_nothing")


# --------------------------------------------------------------------------------------------- staff

@dataclass(frozen=True)
class StaffMember:
    """A person working on the operation. ``work_time``: the contract's working time (1 = full time);
    ``allocation``: the share of that time assigned to the operation (1 = fully assigned); ``cost``: the cost
    charged to the operation for the convention period (euros); ``support_function``: support functions (direction,
    accounting, HR...) are ineligible as direct staff costs."""

    id: str
    role: str | None
    cost: Decimal
    allocation: Decimal = ONE
    work_time: Decimal = ONE
    support_function: bool = False
    activity: str | None = None  # what the member does in the operation (accueil, accompagnement...): capacity per role

    @property
    def fte(self) -> Decimal:
        """The full-time equivalent on the operation: working time x allocation."""
        return mul(self.work_time, self.allocation)

    @property
    def full_time(self) -> bool:
        """A full-time post fully assigned to the operation (what the Ségur valuation is granted for)."""
        return self.work_time >= ONE and self.allocation >= ONE


@dataclass(frozen=True)
class StaffCheck:
    """The verdict on one staff member: ``eligible`` (its cost counts), and why not (``reason``, French)."""

    member: StaffMember
    eligible: bool
    reason: str | None = None
    rule: str | None = None  # "min_allocation" | "support_function" | None


@dataclass(frozen=True)
class StaffResult:
    checks: tuple[StaffCheck, ...]
    direct_staff_costs: Decimal  # eligible direct staff costs, to the cent
    fte: Decimal  # FTE of the eligible staff on the operation
    full_time_posts: int  # eligible staff members who are full time and fully assigned
    min_allocation: Decimal | None

    @property
    def conforming(self) -> bool:
        """No member below the minimum allocation rate (support-function staff are excluded from the eligible
        costs, which does not make the plan non-conforming)."""
        return not any(c.rule == "min_allocation" for c in self.checks)

    @property
    def refused(self) -> tuple[StaffCheck, ...]:
        return tuple(c for c in self.checks if not c.eligible)


def check_staff(staff: Iterable[StaffMember], min_allocation: Decimal | None = None,
                exclude_support_functions: bool = True) -> StaffResult:
    """Check the staff of an operation.

    - A partly assigned member (allocation < 100 %) whose allocation is below ``min_allocation`` is refused: its
      cost is not eligible (e.g. 25 % < 30 % minimum). Fully assigned members always pass.
    - A member in a support function is refused when ``exclude_support_functions``.
    Eligible direct staff costs are the sum of the eligible members' costs; FTE is the sum of their
    ``work_time x allocation``.
    """
    checks = []
    total = ZERO
    fte = ZERO
    full = 0
    for m in staff:
        if exclude_support_functions and m.support_function:
            checks.append(StaffCheck(m, False, "fonction support : dépense de personnel inéligible", "support_function"))
            continue
        if min_allocation is not None and m.allocation < ONE and m.allocation < min_allocation:
            checks.append(StaffCheck(m, False, f"taux d'affectation {pct(m.allocation)} inférieur au minimum de "
                                               f"{pct(min_allocation)} pour un salarié partiellement affecté",
                                     "min_allocation"))
            continue
        checks.append(StaffCheck(m, True))
        total += m.cost
        fte += m.fte
        full += 1 if m.full_time else 0
    return StaffResult(tuple(checks), money(total), fte, full, min_allocation)


# --------------------------------------------------------------------------------------------- eligible costs

@dataclass(frozen=True)
class FlatRate:
    """A flat rate on direct staff costs: ``rate`` x base covers the other costs (40 % "de compensation") or the
    indirect costs (15 % for the chantiers d'insertion). ``covers``: what it replaces (``other_costs``: every cost
    other than the staff costs; or cost category ids): costs declared under a covered category are not added."""

    id: str
    label: str | None
    rate: Decimal
    amount: Decimal
    covers: tuple[str, ...] = ()


@dataclass(frozen=True)
class CostLine:
    """A declared cost category of the plan (operating costs, services, indirect costs...): ``declared`` euros
    (None: not given), an optional ``maximum`` (e.g. 40 % of staff and operating costs), and the flat rate that
    already covers it (``covered_by``: its costs are then excluded)."""

    id: str
    label: str | None
    declared: Decimal | None
    maximum: Decimal | None = None
    covered_by: str | None = None


@dataclass(frozen=True)
class CostLineResult:
    """A cost category, computed: ``amount`` is what counts in the eligible base; ``status`` is ``counted``,
    ``capped`` (declared above its maximum: the maximum counts), ``excluded`` (covered by a flat rate: nothing
    counts) or ``not_declared`` (0); ``reason`` says why in French."""

    line: CostLine
    amount: Decimal
    status: str
    reason: str | None = None


@dataclass(frozen=True)
class EligibleCosts:
    direct_staff_costs: Decimal
    flat_rates: tuple[FlatRate, ...]
    other_costs: Decimal  # declared other costs retained (0 when a flat rate covers them)
    total: Decimal
    categories: tuple[CostLineResult, ...] = ()
    other_costs_declared: Decimal = ZERO
    other_costs_covered_by: str | None = None  # the flat rate that covers the declared other costs

    @property
    def flat_rate_amount(self) -> Decimal:
        return sum((f.amount for f in self.flat_rates), ZERO)


def cost_line(line: CostLine) -> CostLineResult:
    """What one declared category adds to the eligible base (see :class:`CostLineResult`)."""
    if line.covered_by is not None:
        why = f"couvert par le forfait « {line.covered_by} » : ces dépenses ne s'ajoutent pas à l'assiette"
        return CostLineResult(line, ZERO, "excluded" if line.declared else "not_declared", why)
    if line.declared is None:
        return CostLineResult(line, ZERO, "not_declared", "montant non déclaré dans l'opération")
    d = money(line.declared)
    if line.maximum is not None and d > money(line.maximum):
        m = money(line.maximum)
        return CostLineResult(line, m, "capped", f"déclaré {euros(d)}, retenu dans la limite de {euros(m)}")
    return CostLineResult(line, d, "counted")


def eligible_costs(direct_staff_costs, flat_rates: Sequence[tuple] = (), other_costs=ZERO,
                   categories: Sequence[CostLine] = ()) -> EligibleCosts:
    """Total eligible costs = direct staff costs + each flat rate (rate x direct staff costs, to the cent) + each
    declared cost category (:func:`cost_line`: capped at its maximum, nothing when a flat rate covers it) + the
    other declared costs, unless a flat rate covers ``other_costs``. ``flat_rates`` is a sequence of
    ``(id, label, rate)`` or ``(id, label, rate, covers)``."""
    base = money(direct_staff_costs)
    rates = tuple(FlatRate(r[0], r[1], D(r[2]), money(mul(base, r[2])), tuple(r[3]) if len(r) > 3 else ())
                  for r in flat_rates)
    lines = tuple(cost_line(c) for c in categories)
    declared_other = money(other_costs)
    covering = next((f.id for f in rates if "other_costs" in f.covers), None)
    other = ZERO if covering is not None else declared_other
    total = base + sum((f.amount for f in rates), ZERO) + sum((c.amount for c in lines), ZERO) + other
    return EligibleCosts(base, rates, other, money(total), lines, declared_other, covering)


# --------------------------------------------------------------------------------------------- Département share

@dataclass(frozen=True)
class ShareCheck:
    """The Département's share of the total financing: ``expected`` = share x total financing (to the cent);
    ``declared`` the Département's line of the financing plan (None when the plan gives none); conforming when
    they are equal to the cent."""

    share: Decimal
    total_financing: Decimal
    expected: Decimal
    declared: Decimal | None

    @property
    def conforming(self) -> bool | None:
        if self.declared is None:
            return None
        return money(self.declared) == self.expected


def departement_share(share, total_financing, declared=None) -> ShareCheck:
    """The Département's part of a financing plan: ``share`` (0.40 FSE+, 0.30 FTJ) of ``total_financing``."""
    total = money(total_financing)
    return ShareCheck(D(share), total, money(mul(total, share)), None if declared is None else money(declared))


# --------------------------------------------------------------------------------------------- caps, maximum grant

@dataclass(frozen=True)
class Cap:
    """A ceiling on the Département's funding (e.g. 375 EUR x participant-months), already evaluated to euros."""

    id: str
    label: str | None
    amount: Decimal


@dataclass(frozen=True)
class GrantLimit:
    """The maximum grant: the smallest of the Département's share and the caps; ``binding`` names which one
    decides (``share`` or a cap id)."""

    share_amount: Decimal | None
    caps: tuple[Cap, ...]
    amount: Decimal | None
    binding: str | None


def max_grant(share_amount, caps: Sequence[Cap] = ()) -> GrantLimit:
    """The maximum grant = min(share amount, every cap), to the cent. ``share_amount`` may be None (no share rule):
    then the smallest cap decides; with neither, there is no maximum (None)."""
    candidates: list[tuple[Decimal, str]] = []
    if share_amount is not None:
        candidates.append((money(share_amount), "share"))
    for c in caps:
        candidates.append((money(c.amount), c.id))
    if not candidates:
        return GrantLimit(None, tuple(caps), None, None)
    amount, binding = min(candidates, key=lambda t: t[0])  # first one on ties (the share before the caps)
    return GrantLimit(None if share_amount is None else money(share_amount), tuple(caps), amount, binding)


# --------------------------------------------------------------------------------------------- conditional funding

@dataclass(frozen=True)
class PartSpec:
    """One part of the grant tied to an objective: ``weight`` of the grant (0.90), ``objective`` (e.g. posts x 12
    months = 120), ``achieved`` (e.g. 108 months), ``mode`` and, for ``threshold``, the minimum ratio."""

    id: str
    label: str | None
    weight: Decimal
    objective: Decimal | None
    achieved: Decimal | None
    mode: str = "proportional"
    threshold: Decimal | None = None


@dataclass(frozen=True)
class PartResult:
    """A part of the grant, computed: ``ratio`` = achieved / objective capped at 1 (1 when the objective is 0);
    ``earned_ratio`` is what the mode makes of it; ``amount`` to the cent (None when the achievement is unknown)."""

    spec: PartSpec
    maximum: Decimal  # weight x base, to the cent (the parts' maxima add up to the base)
    ratio: Decimal | None
    earned_ratio: Decimal | None
    amount: Decimal | None
    rule: str  # a French sentence saying how the amount was obtained


@dataclass(frozen=True)
class ConditionalResult:
    base: Decimal
    parts: tuple[PartResult, ...]
    total: Decimal | None  # sum of the parts (None when one is unknown)
    cap_applied: Cap | None = None  # a cap on the result that lowered the total
    uncapped_total: Decimal | None = None


def achievement_ratio(objective, achieved) -> Decimal | None:
    """achieved / objective, capped at 1; 1 when the objective is zero or negative (nothing is required)."""
    if achieved is None or objective is None:
        return None
    obj, ach = D(objective), D(achieved)
    if obj <= 0:
        return ONE
    r = ratio(max(ach, ZERO), obj)
    return min(r, ONE)


def earned(mode: str, r: Decimal, threshold: Decimal | None = None) -> Decimal:
    """What a mode makes of an achievement ratio ``r`` (already capped at 1):

    - ``proportional``: ``r`` (90 % of the months achieved -> 90 % of the part);
    - ``threshold``: ``r`` when ``r >= threshold``, else 0 (below the threshold nothing is earned);
    - ``all_or_nothing``: 1 when the objective is fully met (``r == 1``), else 0.
    """
    if mode == "proportional":
        return r
    if mode == "threshold":
        if threshold is None:
            raise ValueError("threshold mode needs a threshold")
        return r if r >= threshold else ZERO
    if mode == "all_or_nothing":
        return ONE if r >= ONE else ZERO
    raise ValueError(f"unknown mode {mode!r}")


def _rule_text(p: PartSpec, r: Decimal | None, e: Decimal | None) -> str:
    if r is None:
        return "réalisation inconnue : montant indéterminé"
    if p.mode == "proportional":
        return f"proportionnel : {pct(round_ratio(r))} de l'objectif atteint"
    if p.mode == "threshold":
        ok = e is not None and e > 0
        return (f"seuil de {pct(p.threshold)} {'atteint' if ok else 'non atteint'} "
                f"({pct(round_ratio(r))} de l'objectif)")
    return "tout ou rien : objectif " + ("atteint" if r >= ONE else f"non atteint ({pct(round_ratio(r))})")


def round_ratio(r: Decimal) -> Decimal:
    """A ratio for display: 4 decimals (0.6667), half-up."""
    return r.quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)


def conditional_funding(base, parts: Sequence[PartSpec], result_caps: Sequence[Cap] = ()) -> ConditionalResult:
    """The money earned on a grant ``base`` whose parts are tied to objectives.

    Each part's maximum is ``weight x base``; the maxima are rounded together (:func:`round_parts`) so they add up
    exactly to ``base x sum(weights)``. A part earns ``maximum_exact x earned_ratio``; the earned amounts are also
    rounded together, so the total is the rounded sum of the exact amounts and the parts add up to it exactly.
    A cap on the result (e.g. 375 EUR x the participant-months actually achieved) lowers the total; the parts are
    then scaled down proportionally (rounded together again, so they still add up to the capped total).
    """
    b = money(base)
    exact_max = [mul(b, p.weight) for p in parts]
    maxima = round_parts(exact_max)
    ratios = [achievement_ratio(p.objective, p.achieved) for p in parts]
    earned_ratios = [None if r is None else earned(p.mode, r, p.threshold) for p, r in zip(parts, ratios)]
    if any(e is None for e in earned_ratios):
        amounts: list[Decimal | None] = [None if e is None else money(mul(m, e)) for m, e in zip(exact_max, earned_ratios)]
        total = None
    else:
        exact = [mul(m, e) for m, e in zip(exact_max, earned_ratios)]
        amounts = list(round_parts(exact))
        total = sum(amounts, ZERO)
    cap_applied = None
    uncapped = total
    if total is not None and result_caps:
        lowest = min(result_caps, key=lambda c: money(c.amount))
        if money(lowest.amount) < total:
            cap_applied = lowest
            limit = max(money(lowest.amount), ZERO)
            amounts = list(round_parts([ratio(mul(a, limit), total) for a in amounts])) if total else amounts
            total = sum(amounts, ZERO)
    results = tuple(PartResult(p, m, r, e, a, _rule_text(p, r, e))
                    for p, m, r, e, a in zip(parts, maxima, ratios, earned_ratios, amounts))
    return ConditionalResult(b, results, total, cap_applied, uncapped)


# --------------------------------------------------------------------------------------------- capacity

@dataclass(frozen=True)
class CapacityResult:
    """Places (or DSP...) covered by the staff: ``per_fte x fte`` rounded down to a whole number; compared with the
    actual caseload when there is one: ``over``, ``under`` or ``at``; ``limit`` is ``maximum`` (over = fail) or
    ``target`` (informative)."""

    id: str
    label: str | None
    capacity: Decimal | None
    actual: Decimal | None
    limit: str  # "maximum" | "target"
    position: str | None  # "over" | "under" | "at" | None

    @property
    def conforming(self) -> bool | None:
        """A target is informative (always conforming) once the capacity is known; unknown capacity: None."""
        if self.capacity is None:
            return None
        if self.limit != "maximum":
            return True
        if self.position is None:
            return None
        return self.position != "over"


def capacity(id: str, label: str | None, per_fte, fte, actual=None, limit: str = "target") -> CapacityResult:
    """Capacity = floor(per_fte x fte) (70 places per ETP: 1.5 ETP -> 105 places; 0.25 ETP -> 17 places)."""
    cap = None if per_fte is None or fte is None else mul(per_fte, fte).to_integral_value(rounding=ROUND_DOWN)
    return capacity_of(id, label, cap, actual, limit)


def activity_fte(checks: Iterable[StaffCheck], activity: str) -> Decimal | None:
    """The FTE of the eligible staff assigned to ``activity`` (01:37 « 1 ETP pour 800 DSP » counts the staff of the
    welcome phase, not all staff); None when no member says what they do (the capacity is then unknown)."""
    if not any(c.member.activity is not None for c in checks):
        return None
    return sum((c.member.fte for c in checks if c.eligible and c.member.activity == activity), ZERO)


def capacity_of(id: str, label: str | None, cap, actual=None, limit: str = "target") -> CapacityResult:
    pos = None
    if cap is not None and actual is not None:
        a = D(actual)
        pos = "over" if a > cap else "under" if a < cap else "at"
    return CapacityResult(id, label, None if cap is None else D(cap), None if actual is None else D(actual), limit, pos)


__all__ = [
    "CENT", "D", "money", "ratio", "mul", "round_parts", "split", "pct", "euros", "StaffMember", "StaffCheck",
    "StaffResult", "check_staff", "FlatRate", "CostLine", "CostLineResult", "cost_line", "EligibleCosts",
    "eligible_costs", "ShareCheck", "departement_share",
    "Cap", "GrantLimit", "max_grant", "PartSpec", "PartResult", "ConditionalResult", "achievement_ratio", "earned",
    "conditional_funding", "TrancheSpec", "ReviewState", "Tranche", "Schedule", "payment_schedule",
    "CapacityResult", "activity_fte", "capacity", "capacity_of", "round_ratio",
]
