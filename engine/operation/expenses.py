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

from engine.beneficiary.bind import BindError, parse_date
from engine.operation.funding import ZERO, CostLine, EligibleCosts, eligible_costs, euros, money
from engine.operation.record import _bad, _dec

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
    staff: str | None = None  # the staff member (``staff[].id``) a direct_staff line pays: the staff rules apply


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
                      at: date, require_paid: bool = True, ineligible_staff: dict | None = None) -> ExpensesResult:
    """The expenses retained on each line (see the module docstring). ``paid_by`` is the date the review was sent
    (None: not sent yet, payments are judged at ``at``); ``require_paid`` False: the date paid is not a condition;
    ``ineligible_staff`` maps a staff member whose cost the staff rules exclude (support function, allocation
    below the minimum) to the reason: the lines that pay them retain nothing."""
    limit = (paid_by if paid_by is not None else at) if require_paid else None
    ineligible_staff = ineligible_staff or {}
    out = []
    for ln in lines:
        r = LineResult(ln)
        for s in ln.spent:
            r.spent += money(s.amount)
            reason = _excluded_because(ln, s, start, end, limit, paid_by is not None, at, ineligible_staff)
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
                      at: date, ineligible_staff: dict) -> str | None:
    if ln.planned is None or money(ln.planned) == ZERO:
        return "dépense non prévue au dossier de demande"
    if ln.staff is not None and ln.staff in ineligible_staff:
        return f"salarié « {ln.staff} » non éligible : {ineligible_staff[ln.staff]}"
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
        notes = []
        if r.line.staff is not None:
            row["staff"] = r.line.staff
        if r.beyond_planned:
            row["beyond_planned"] = r.beyond_planned
            notes.append(f"{euros(r.beyond_planned)} au-delà du montant prévu au dossier "
                         f"({euros(money(r.line.planned))}) : non retenus")
        if r.line.category == "direct_staff" and r.line.staff is None:
            notes.append("ligne de personnel sans salarié désigné (« staff ») : les règles du personnel (fonctions "
                         "support, taux d'affectation minimum) n'y sont pas vérifiées")
        if notes:
            row["note"] = " ; ".join(notes)
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


# --------------------------------------------------------------------------------------------- the record, the report

def expense_lines(raw) -> list[ExpenseLine] | None:
    """``expenses`` of the operation record: the application's budget lines, each with its planned amount and the
    expenses incurred on it (:mod:`engine.operation.expenses`); None when the record gives none."""
    if raw is None:
        return None
    hint = ('[{"id": "personnel", "label": "Frais de personnel", "planned": 60000, '
            '"spent": [{"amount": 14500, "date": "2026-03-31", "paid_on": "2026-04-05"}]}]')
    if not isinstance(raw, list):
        raise _bad("« expenses » doit être une liste de lignes de dépenses", "operation.expenses", hint)
    out, seen = [], set()
    for i, ln in enumerate(raw):
        where = f"expenses[{i}]"
        if not isinstance(ln, dict):
            raise _bad(f"{where} : un objet {{id, label, planned, spent}} est attendu", "operation.expenses", hint)
        lid = ln.get("id")
        if not isinstance(lid, str) or not lid.strip():
            raise _bad(f"{where}.id : l'identifiant de la ligne (un texte) est obligatoire", "operation.expenses", hint)
        if lid in seen:
            raise _bad(f"{where}.id : la ligne « {lid} » figure deux fois", "operation.expenses",
                       "une ligne par poste du budget ; ses dépenses vont dans sa liste « spent »")
        seen.add(lid)
        planned = None if ln.get("planned") is None else _dec(ln["planned"], f"{where}.planned")
        if planned is not None and planned < 0:
            raise _bad(f"{where}.planned : un montant positif ou nul est attendu", "operation.expenses",
                       "le montant prévu au dossier de demande pour cette ligne, ex. 60000")
        spent_raw = ln.get("spent") or []
        if not isinstance(spent_raw, list):
            raise _bad(f"{where}.spent : une liste de dépenses est attendue", "operation.expenses", hint)
        spent = []
        for j, x in enumerate(spent_raw):
            w = f"{where}.spent[{j}]"
            if not isinstance(x, dict) or x.get("amount") is None or x.get("date") is None:
                raise _bad(f"{w} : une dépense a un montant (« amount ») et une date de réalisation (« date »)",
                           "operation.expenses", '{"amount": 14500, "date": "2026-03-31", "paid_on": "2026-04-05"}')
            amount = _dec(x["amount"], f"{w}.amount")
            if amount < 0:
                raise _bad(f"{w}.amount : un montant positif ou nul est attendu", "operation.expenses",
                           "un avoir se déduit de la dépense qu'il corrige")
            try:
                d = parse_date(x["date"], f"{w}.date")
                paid = None if x.get("paid_on") is None else parse_date(x["paid_on"], f"{w}.paid_on")
            except BindError as e:
                raise _bad(e.message, "operation.expenses", "une date AAAA-MM-JJ, ex. \"2026-03-31\"") from None
            ref = x.get("ref")
            spent.append(Spent(amount, d, paid, ref if isinstance(ref, str) else None))
        label = ln.get("label")
        cat = ln.get("category")
        if cat is not None and not (isinstance(cat, str) and cat.strip()):
            raise _bad(f"{where}.category : le nom d'une catégorie est attendu", "operation.expenses",
                       "direct_staff, other_costs ou une catégorie de dépenses éligibles du dispositif")
        who = ln.get("staff")
        if who is not None and not (isinstance(who, str) and who.strip()):
            raise _bad(f"{where}.staff : l'identifiant d'un salarié de « staff » est attendu", "operation.expenses",
                       'ex. "staff": "E1" (le champ « id » du salarié dans « staff »)')
        if who is not None and cat != "direct_staff":
            raise _bad(f"{where}.staff : seule une ligne de personnel (« category »: « direct_staff ») paie un salarié",
                       "operation.expenses", 'écrivez "category": "direct_staff", ou retirez « staff »')
        out.append(ExpenseLine(lid, label if isinstance(label, str) else None, planned, tuple(spent), cat, who))
    return out


def expenses_of(fs, secs, operation: dict, env: dict, start, end, at, staff_res=None):
    """Planned against incurred expenses (``funding.expenses`` and the record's ``expenses``), judged at the
    transmission date of the review ``paid_by`` names (the report date while it is not sent); the totals become
    ``planned_expenses``, ``spent_expenses``, ``retained_expenses`` (and ``retained_eligible_costs`` when the lines
    give their category). Returns ``(result, rebuilt base or None)``; ``(None, None)`` when the spec or the record
    has no expenses."""
    lines = expense_lines(operation.get("expenses"))
    if fs.expenses is None or lines is None:
        return None, None
    review = next((r for r in secs.reporting if r.id == fs.expenses.paid_by), None)
    sent = env.get(review.submitted or "") if review is not None else None
    sent = sent if isinstance(sent, date) and sent <= at else None
    cats = {d.id: d.label for d in fs.eligible_costs}
    for i, ln in enumerate(lines):
        if ln.category is not None and ln.category not in ("direct_staff", "other_costs") and ln.category not in cats:
            raise _bad(f"expenses[{i}].category : « {ln.category} » n'est ni direct_staff, ni other_costs, ni une "
                       "catégorie de dépenses éligibles du dispositif", "operation.expenses",
                       "catégories du dispositif : " + ", ".join(["direct_staff", "other_costs", *cats]))
    checks = {c.member.id: c for c in (staff_res.checks if staff_res is not None else ())}
    for i, ln in enumerate(lines):
        if ln.staff is not None and ln.staff not in checks:
            raise _bad(f"expenses[{i}].staff : « {ln.staff} » n'est pas un salarié de « staff »", "operation.expenses",
                       "salariés de l'opération : " + (", ".join(checks) or "aucun (« staff » absent)"))
    excluded_staff = {k: c.reason or "non éligible" for k, c in checks.items() if not c.eligible}
    res = retained_expenses(lines, start if isinstance(start, date) else None, end if isinstance(end, date) else None,
                            sent, at, require_paid=fs.expenses.paid_by is not None, ineligible_staff=excluded_staff)
    base = retained_base(res, fs.flat_rates, cats)
    env["planned_expenses"], env["spent_expenses"], env["retained_expenses"] = res.planned, res.spent, res.retained
    if base is not None:
        env["retained_eligible_costs"] = base.total
    return res, base
