"""Planned against incurred expenses, line by line (``funding.expenses`` of a spec, ``expenses`` of the operation
record): « Seules les dépenses prévues dans le dossier de demande et effectivement encourues par le porteur du
projet seront retenues » (08:100, 09:89, 10:121), and « les dépenses déclarées devront avoir été réalisées durant
la période fixée dans la convention …, avoir été acquittées à la date de transmission du bilan » (08:122-123).

Each line of the application's budget has its planned amount (``planned``) and the expenses actually incurred on
it (``spent``: amount, date incurred, date paid). An expense is retained when it is

- on a line of the application (a line without a planned amount is « non prévue au dossier de demande »);
- dated within the convention period (« réalisée hors de la période de la convention » otherwise);
- with ``paid_by`` (08:123, 09:112: « acquittées à la date de transmission du bilan »), paid (``paid_on``) by the
  date that review was sent, or, while it has not been sent, by the report date; without ``paid_by`` (04:95,
  10:121 say only « effectivement encourues »), the date paid is not a condition;
- dated on or before the report date (a later one is not yet known to the report).

A line retains at most its planned amount: what exceeds it is « au-delà du montant prévu au dossier ». Amounts are
``Decimal`` to the cent (:func:`engine.operation.funding.money`). The report shows every line (planned, incurred,
retained), the expenses left out with their reason, and the totals; ``planned_expenses``, ``spent_expenses`` and
``retained_expenses`` are operation names (specs/README.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from engine.operation.funding import ZERO, CostLine, EligibleCosts, eligible_costs, euros, money

MAX_EXCLUDED_KEPT = 50  # expenses left out shown per report (all of them counted)


@dataclass(frozen=True)
class Spent:
    """One expense incurred on a line: its amount, the date it was incurred, the date it was paid (None: not paid)."""

    amount: Decimal
    date: date
    paid_on: date | None = None
    ref: str | None = None


@dataclass(frozen=True)
class ExpenseLine:
    """A line of the application's budget: ``planned`` None when the application does not plan it."""

    id: str
    label: str | None
    planned: Decimal | None
    spent: tuple[Spent, ...] = ()
    category: str | None = None  # direct_staff | other_costs | a category of funding.eligible_costs | None


@dataclass
class LineResult:
    line: ExpenseLine
    spent: Decimal = ZERO  # every expense declared on the line
    eligible: Decimal = ZERO  # those dated in the period and paid in time
    retained: Decimal = ZERO  # eligible, at most the planned amount
    beyond_planned: Decimal = ZERO
    excluded: list = field(default_factory=list)  # (Spent, reason)


@dataclass(frozen=True)
class ExpensesResult:
    lines: tuple[LineResult, ...]
    planned: Decimal
    spent: Decimal
    retained: Decimal
    paid_by: date | None  # the date payments are judged at (None: the date paid is not a condition)
    paid_by_is_review: bool  # True: the review's transmission date; False: the report date (review not sent)


def retained_expenses(lines: list[ExpenseLine], start: date | None, end: date | None, paid_by: date | None,
                      at: date, require_paid: bool = True) -> ExpensesResult:
    """The expenses retained on each line (see the module docstring). ``paid_by`` is the date the review was sent
    (None: not sent yet, payments are judged at ``at``); ``require_paid`` False: the date paid is not a condition."""
    limit = (paid_by if paid_by is not None else at) if require_paid else None
    out = []
    for ln in lines:
        r = LineResult(ln)
        for s in ln.spent:
            r.spent += money(s.amount)
            reason = _excluded_because(ln, s, start, end, limit, paid_by is not None, at)
            if reason is None:
                r.eligible += money(s.amount)
            else:
                r.excluded.append((s, reason))
        planned = money(ln.planned) if ln.planned is not None else None
        if planned is not None and r.eligible > planned:
            r.retained, r.beyond_planned = planned, r.eligible - planned
        else:
            r.retained = r.eligible
        out.append(r)
    return ExpensesResult(tuple(out), sum((money(x.line.planned) for x in out if x.line.planned is not None), ZERO),
                          sum((x.spent for x in out), ZERO), sum((x.retained for x in out), ZERO), limit,
                          paid_by is not None)


def _excluded_because(ln: ExpenseLine, s: Spent, start, end, limit: date | None, review_sent: bool,
                      at: date) -> str | None:
    if ln.planned is None or money(ln.planned) == ZERO:
        return "dépense non prévue au dossier de demande"
    if s.date > at:
        return f"datée du {s.date:%d/%m/%Y}, après la date du rapport"
    if (start is not None and s.date < start) or (end is not None and s.date > end):
        period = (f" (du {start:%d/%m/%Y} au {end:%d/%m/%Y})" if start is not None and end is not None else "")
        return f"réalisée le {s.date:%d/%m/%Y}, hors de la période de la convention{period}"
    if limit is not None and (s.paid_on is None or s.paid_on > limit):
        when = (f"à la date de transmission du bilan ({limit:%d/%m/%Y})" if review_sent
                else f"à la date du rapport ({limit:%d/%m/%Y}, bilan non encore transmis)")
        paid = "" if s.paid_on is None else f" (acquittée le {s.paid_on:%d/%m/%Y})"
        return f"non acquittée {when}{paid}"
    return None


def retained_base(res: ExpensesResult, flat_rates, categories: dict) -> EligibleCosts | None:
    """The eligible base rebuilt from the retained expenses, when the lines say what they are (``category``): the
    lines ``direct_staff`` are the direct staff costs, each flat rate applies to them (to the cent), a line of another
    category counts unless a flat rate covers it (``other_costs`` covers every non-staff cost), as in the
    application's plan (04:95 with 04's 40 % flat rate: staff planned at 45 000 €, incurred 40 000 €: a base of
    56 000 €). None when no line has a category (the retained total is then the base)."""
    if not any(r.line.category for r in res.lines):
        return None
    staff = sum((r.retained for r in res.lines if r.line.category == "direct_staff"), ZERO)
    other = sum((r.retained for r in res.lines if r.line.category in (None, "other_costs")), ZERO)
    per_cat: dict[str, Decimal] = {}
    for r in res.lines:
        c = r.line.category
        if c not in (None, "direct_staff", "other_costs"):
            per_cat[c] = per_cat.get(c, ZERO) + r.retained
    rates = [(f.id, f.label, f.rate, f.covers) for f in flat_rates]
    lines = [CostLine(c, categories.get(c), amount, None,
                      next((f.id for f in flat_rates if c in f.covers or "other_costs" in f.covers), None))
             for c, amount in per_cat.items()]
    return eligible_costs(staff, rates, other, lines)


def expenses_dict(res: ExpensesResult, rule, source: str | None, share_rate: Decimal | None,
                  grant: Decimal | None, base: EligibleCosts | None = None, running_until: date | None = None) -> dict:
    """The report's view: each line, the expenses left out with their reason, the totals and, when the share of the
    Département is known, its share of the retained expenses compared with the grant: a warning once the convention
    has ended (``running_until`` None), a note while it runs (the expenses are those incurred so far)."""
    excluded: list[dict] = []
    count = 0
    rows = []
    for r in res.lines:
        row = {"id": r.line.id, "label": r.line.label, "planned": None if r.line.planned is None else money(r.line.planned),
               "spent": r.spent, "retained": r.retained}
        if r.beyond_planned:
            row["beyond_planned"] = r.beyond_planned
            row["note"] = (f"{euros(r.beyond_planned)} au-delà du montant prévu au dossier "
                           f"({euros(money(r.line.planned))}) : non retenus")
        rows.append(row)
        for s, reason in r.excluded:
            count += 1
            if len(excluded) < MAX_EXCLUDED_KEPT:
                excluded.append({"line": r.line.id, "ref": s.ref, "amount": money(s.amount), "date": s.date,
                                 "paid_on": s.paid_on, "reason": reason})
    d = {"label": rule.label, "source": source, "paid_by": rule.paid_by, "payments_judged_at": res.paid_by,
         "lines": rows, "planned": res.planned, "spent": res.spent, "retained": res.retained,
         "excluded_count": count, "excluded": excluded}
    if not res.paid_by_is_review and rule.paid_by is not None:
        d["note"] = ("bilan non encore transmis : l'acquittement des dépenses est apprécié à la date du rapport, "
                     "le montant retenu peut encore changer")
    if base is not None:
        d["retained_direct_staff_costs"] = base.direct_staff_costs
        d["retained_flat_rates"] = [{"id": f.id, "label": f.label, "rate": f.rate, "amount": f.amount}
                                    for f in base.flat_rates]
        if base.other_costs_covered_by is not None and base.other_costs_declared:
            d["retained_other_costs_covered"] = base.other_costs_declared
        d["retained_eligible_costs"] = base.total
    if share_rate is not None:
        due = money((base.total if base is not None else res.retained) * share_rate)
        d["department_share_of_retained"] = due
        if grant is not None and due < money(grant):
            if running_until is None:
                d["warning"] = (f"la part du Département sur les dépenses retenues ({euros(due)}) est inférieure à "
                                f"la subvention ({euros(money(grant))}) : le solde est à revoir au contrôle de "
                                "service fait")
            else:
                d["so_far"] = (f"dépenses retenues à ce jour : l'opération court jusqu'au {running_until:%d/%m/%Y}, "
                               f"sa part du Département ({euros(due)}) n'est pas encore comparée à la subvention")
    if rule.interpretation:
        d["interpretation"] = rule.interpretation
    return d
