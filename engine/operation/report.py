"""Operations and cohorts: the operation report (``engine report``).

Library API (``load_operation`` and ``windows`` come from :mod:`engine.operation.record`)::

    load_operation(path) -> dict                                     # the raw operation record (RecordError if bad)
    build_report(spec, operation: dict, items, at, params=None) -> dict
        # items: (line, raw dict | BadRecord) pairs, e.g. engine.beneficiary.records.read_records(path); streamed once
        # (a large cohort file read on several processes: engine.run.cohort.build_report)
    run_operation_example(spec, example) -> dict                     # `engine test` for operation examples

The report (a dict; money as ``Decimal`` rounded to the cent; dates as ``date``) has: ``operator`` (eligibility
with reasons), ``funding_plan`` (staff, eligible costs, Département share, caps, plan rules, maximum grant),
``capacity``, ``cohort`` (participants read, bad records), ``constraints``, ``indicators``, ``funding`` (each
conditional part), ``payments`` (each tranche: amount, due date, status at ``at``) and ``reporting``. Rendering is
in :mod:`engine.render.report`. The money rules are in :mod:`engine.operation.funding`, the streaming pass in
:mod:`engine.operation.indicators`, the compiled sections in :mod:`engine.operation.compile`.
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any, Iterable, Mapping

from engine.clock import evaluation_date
from engine.operation import funding as F
from engine.spec.model import jsonish
from engine.operation.compile import (BUILTIN_DATES, BUILTIN_INTEGERS, BUILTIN_NUMBERS, CohortExpr, FundingSpec,
                                      OperationSections, sections_of)
from engine.operation.convention import check_convention
from engine.operation.expenses import expenses_dict, expenses_of
from engine.operation.model import grouped, grouped_exprs
from engine.operation.report_sections import (_all_ok, _check_row, _cohort_dict, _EvalFailure, _funding_dict,
                                              _missing, _payments_dict, _plan_dict, _status, _val,
                                              breakdown, evaluate_cohort, rate_of)
from engine.operation.record import (_bad, _known, _num, _src, attribute_env, financing, load_operation,  # noqa: F401
                        operation_events, recurring, staff_members, windows)
from engine.expr.runtime import Unknown, add_duration, months_between, unknown
from engine.beneficiary.evaluate import plan_for
from engine.operation.indicators import participant_binder, run_pass
from engine.operation.commitments import settle

# --------------------------------------------------------------------------------------------- the report

MAX_CORNERS = 16  # counts with unknowns tried together (2**4 corners); beyond, the condition is left unknown


def decide_with_unknowns(ce: CohortExpr, value: bool, unk: int, env: dict, aggvals: dict, unknowns: dict, at):
    """``value`` when the condition ``ce`` gives it for every assignment of the unknown participants at the ends of
    the counts they could change; an Unknown otherwise (or when an aggregate other than a count has unknowns: a sum,
    an average... has no two ends)."""
    from itertools import product

    uncertain = []
    for ph, a in ce.aggregates:
        u = unknowns.get(a.key) or 0
        if not u:
            continue
        if a.func != "count" or not isinstance(aggvals.get(a.key), int):
            return unknown()
        uncertain.append((ph, aggvals[a.key], u))
    if len(uncertain) > 4:
        return unknown()
    base = dict(env)
    for ph, a in ce.aggregates:
        base[ph] = aggvals[a.key]
    for ends in product(*[(lo, lo + u) for _ph, lo, u in uncertain]):
        cenv = dict(base)
        for (ph, _lo, _u), v in zip(uncertain, ends):
            cenv[ph] = v
        try:
            got = ce.rewritten.fn(cenv, at)
        except Exception:  # noqa: BLE001 - a corner that cannot be evaluated: undecided
            return unknown()
        if got is not value:
            return unknown()
    return value


def build_report(spec, operation: dict, items: Iterable[tuple[int, Any]], at: date,
                 params: Mapping[str, Any] | None = None, *, cohort_pass=None) -> dict:
    """The report of one operation and its cohort at ``at`` (see the module docstring), in one pass over ``items``.
    ``cohort_pass(aggregates, bind, base_env, at) -> PassResult`` replaces that pass (the cohort read by partitions
    elsewhere: :mod:`engine.operation.parts`, or by byte ranges on several processes: :mod:`engine.run.cohort`)."""
    secs = sections_of(spec)
    rid = operation.get("id")
    if not isinstance(rid, str) or not rid.strip():
        raise _bad("l'opération n'a pas d'identifiant « id » (texte)", "operation.id")
    if operation.get("spec") is not None and operation.get("spec") != spec.id:
        raise _bad(f"l'opération est déclarée pour le dispositif « {operation.get('spec')} », pas « {spec.id} »",
                   "operation.spec", "passez la bonne spec avec --spec, ou corrigez le champ « spec »")
    binder = plan_for(spec).binder
    pvals = binder.params(params)
    missing_params = {k for k, v in pvals.items() if isinstance(v, Unknown)}
    env: dict = dict(pvals)
    env.update(attribute_env(spec, operation))
    fs = secs.funding or F_EMPTY
    staff = staff_members(operation.get("staff"))
    fin = financing(operation.get("financing"))

    # ---- staff, costs, share
    staff_res = None
    if staff is not None:
        staff_res = F.check_staff(staff, _min_allocation(fs, env), fs.support_functions_excluded)
        env["direct_staff_costs"] = staff_res.direct_staff_costs
        if not _known(env.get("fte", unknown("fte"))):
            env["fte"] = staff_res.fte
        env["full_time_posts"] = staff_res.full_time_posts
        env["staff"] = [{"id": m.id, "role": m.role or "", "cost": m.cost, "allocation": m.allocation,
                         "work_time": m.work_time, "fte": m.fte, "support_function": m.support_function,
                         "activity": m.activity or ""}
                        for m in staff]
    else:
        env["staff"] = []
    for n in ("direct_staff_costs", "fte", "full_time_posts", "other_costs", "total_funding", "department_funding"):
        env.setdefault(n, unknown(n))
    if fin is not None:
        if not _known(env["total_funding"]):
            env["total_funding"] = sum(fin.values(), Decimal(0))
        if not _known(env["department_funding"]):
            env["department_funding"] = fin.get("departement", Decimal(0))
    dsc = _num(env["direct_staff_costs"])
    other = _num(env["other_costs"])
    costs = None
    if dsc is not None:
        env["direct_staff_costs"] = dsc
        costs = F.eligible_costs(dsc, [(r.id, r.label, r.rate, r.covers) for r in fs.flat_rates], other or 0,
                                 _cost_lines(fs, env, at))
        env["flat_rate_costs"] = costs.flat_rate_amount
        env["eligible_costs"] = costs.total
    else:
        env["flat_rate_costs"] = unknown("direct_staff_costs")
        env["eligible_costs"] = unknown("direct_staff_costs")
    start = env.get("convention_start")
    end = env.get("convention_end")
    if not (start is not None and _known(start)) and spec.convention is not None and spec.convention.start:
        start = env["convention_start"] = spec.convention.start
    if not (end is not None and _known(end)) and spec.convention is not None and spec.convention.end:
        end = env["convention_end"] = spec.convention.end
    convention = check_convention(spec.convention, start, end)
    if convention["months_used"] is not None:
        # the checked length: a convention longer than the text allows counts at the maximum (13, item 2)
        env["convention_months"] = convention["months_used"]
    else:
        env["convention_months"] = unknown("convention_end")
    share_rate, share_note = _share_rate(fs.share, env, at)
    spending, spending_base = expenses_of(fs, secs, operation, env, start, end, at, staff_res)
    share_check = None
    share_amount = None
    if share_rate is not None:
        tf = _num(env["total_funding"])
        base = tf if tf is not None else (costs.total if costs is not None else None)
        if base is not None:
            share_check = F.departement_share(share_rate, base, _num(env["department_funding"]))
        if costs is not None:
            share_amount = F.money(F.mul(costs.total, share_rate))
    caps = []
    cap_rows = []
    for c in fs.caps:
        if c.on != "grant" or c.amount is None:
            continue
        v = _num(_op_eval(c.amount, env, at))
        cap_rows.append((c, v))
        if v is not None:
            caps.append(F.Cap(c.id, c.label, F.money(v)))
    limit = F.max_grant(share_amount, caps)
    env["max_grant"] = limit.amount if limit.amount is not None else unknown("max_grant")
    awarded = _num(env.get("grant_awarded"))
    grant = F.money(awarded) if awarded is not None else limit.amount
    env["grant"] = grant if grant is not None else unknown("grant_awarded")
    for n in BUILTIN_NUMBERS + BUILTIN_INTEGERS + BUILTIN_DATES:
        if n not in env or env[n] is None:
            env[n] = unknown(n)
    op_events = operation_events(operation.get("events"))
    # what an expression reads: the events held by the report date, a field left empty read as absent
    env["operation_events"] = [{k: v for k, v in e.items() if v is not None} for e in op_events if e["date"] <= at]

    # ---- operator eligibility
    operator = _operator(spec, env, at)

    # ---- the cohort, in one pass
    exprs = _cohort_exprs(secs)
    aggs = [a for ce in exprs for _ph, a in ce.aggregates]
    aggs += [grouped(a, b) for ind in secs.indicators for b in ind.by for ce in grouped_exprs(ind, b)
             for _ph, a in ce.aggregates]
    # participants are checked against this operation's convention (its dates, else the spec's)
    bounds = (start if isinstance(start, date) else None, end if isinstance(end, date) else None)
    pbind = participant_binder(binder, aggs, pvals, spec=spec, at=at, params=params, bounds=bounds)
    if cohort_pass is not None:
        cohort = cohort_pass(aggs, pbind, env, at)
    else:
        cohort = run_pass(aggs, items, pbind, env, at)
    aggvals = {k: r.value for k, r in cohort.aggregates.items()}
    unknowns = {k: r.unknown for k, r in cohort.aggregates.items()}

    def ev(ce: CohortExpr | None):
        return (None, 0) if ce is None else evaluate_cohort(ce, env, at, aggvals, unknowns)

    def check(ce: CohortExpr | None):
        """A condition over the cohort, decided only if the participants whose filter is unknown (a birth date
        missing) cannot change it: each count with unknowns is tried at its two ends (none of them, all of them);
        the same answer at every corner decides, else the answer is unknown (4 of 5 ages unknown: not « passed »)."""
        v, unk = ev(ce)
        if not unk or not isinstance(v, bool):
            return v, unk
        return decide_with_unknowns(ce, v, unk, env, aggvals, unknowns, at), unk

    # ---- indicators (over the cohort given, for the convention period up to the report date)
    period = {"from": start if isinstance(start, date) else None,
              "to": min(at, end) if isinstance(end, date) else at}
    indicators = []
    for ind in secs.indicators:
        row: dict[str, Any] = {"id": ind.id, "label": ind.label, "unit": ind.unit, "period": period,
                               "source": _src(ind.source)}
        if ind.value is not None:
            v, unk = ev(ind.value)
        else:
            n, u1 = ev(ind.numerator)
            d, u2 = ev(ind.denominator)
            unk = u1 + u2
            row["numerator"], row["denominator"] = _val(n), _val(d)
            row["numerator_label"], row["denominator_label"] = ind.numerator_label, ind.denominator_label
            v = rate_of(n, d)
            if _num(d) == 0:
                row["note"] = "dénominateur nul"
        row["value"] = _val(v)
        miss = sorted(set(_missing(v, *((n, d) if ind.value is None else ())))
                      | _params_read(missing_params, ind.value, ind.numerator, ind.denominator))
        if miss:
            row["missing"] = miss
        if isinstance(v, _EvalFailure):
            row["error"] = v.message
        if unk:
            row["unknown"] = unk
        if ind.target is not None:
            row["target"] = ind.target
            nv = _num(v) if not isinstance(v, _EvalFailure) else None
            if ind.target_kind is not None:
                ok = None if nv is None else {"above": nv > ind.target, "at_least": nv >= ind.target,
                                              "at_most": nv <= ind.target, "below": nv < ind.target}[ind.target_kind]
                row["target_kind"] = ind.target_kind
                row["status"] = _status(ok)
        if ind.by:
            row["breakdowns"] = [breakdown(ind, b, env, cohort.aggregates, at) for b in ind.by]
        if ind.interpretation:
            row["interpretation"] = ind.interpretation
        indicators.append(row)
        env[ind.id] = v if not isinstance(v, _EvalFailure) else unknown(ind.id)

    # ---- constraints, plan rules, capacity
    constraints = [_check_row(c, *check(c.condition), _params_read(missing_params, c.condition))
                   for c in secs.cohort_constraints]
    plan_rules = [_check_row(c, *check(c.condition), _params_read(missing_params, c.condition))
                  for c in fs.plan_rules]
    capacity = []
    for c in secs.capacity:
        actual, unk = ev(c.actual)
        fte = _num(env.get("fte"))
        if c.activity is not None:
            fte = F.activity_fte(staff_res.checks, c.activity) if staff_res is not None else None
        if c.per_fte is not None:
            res = F.capacity(c.id, c.label, c.per_fte, fte, _num(actual), c.limit)
        else:
            res = F.capacity_of(c.id, c.label, _num(_op_eval(c.value, env, at)) if c.value is not None else None,
                                _num(actual), c.limit)
        row = {"id": c.id, "label": c.label, "per_fte": c.per_fte, "fte": _val(fte),
               "capacity": res.capacity, "actual": res.actual, "limit": c.limit, "position": res.position,
               "status": _status(res.conforming), "source": _src(c.source)}
        if c.activity is not None:
            row["activity"] = c.activity
            if fte is None:
                row["note"] = (f"le personnel de l'opération ne dit pas qui est affecté à « {c.activity} » "
                               "(champ « activity » de chaque salarié) : capacité inconnue")
        capacity.append(row)

    # ---- conditional funding
    parts = []
    for p in fs.conditional:
        obj = Decimal(1) if p.objective is None else _num(_op_eval(p.objective, env, at))
        ach_v, _unk = ev(p.achieved) if p.achieved is not None else (None, 0)
        if ach_v is True or ach_v is False:
            ach = Decimal(1 if ach_v else 0)
        else:
            ach = _num(ach_v)
        parts.append(F.PartSpec(p.id, p.label, p.weight, obj, ach, p.mode, p.threshold))
    earned_caps = []
    for c in fs.caps:
        if c.on == "earned" and c.amount is not None:
            v = _num(ev(c.amount)[0])
            cap_rows.append((c, v))
            if v is not None:
                earned_caps.append(F.Cap(c.id, c.label, F.money(v)))
    cond = F.conditional_funding(grant, parts, earned_caps) if parts and grant is not None else None

    # ---- reporting and payments
    reviews = {}
    reporting = []
    payment_reviews = {p.due for p in secs.payments}  # a review a tranche waits for, even without a due date
    for r in secs.reporting:
        if r.condition is not None:
            row = _check_row(r, *check(r.condition), _params_read(missing_params, r.condition))
            if r.over == "convention":
                reach = ev(r.reachable)[0] if r.reachable is not None else None
                settle(row, r.settles or "at_end", end, at, reach if isinstance(reach, bool) else None)
            reporting.append(row)
            continue
        if r.event is not None:
            reporting.append(_rhythm_row(r, spec.events.get(r.event), op_events, env, start, end, at))
            continue
        if r.kind == "manual" and r.id not in payment_reviews:
            reporting.append({"id": r.id, "label": r.label, "status": "not_evaluated", "source": _src(r.source),
                              "note": "à vérifier par le service instructeur (rien à calculer)"})
            continue
        due = r.due
        if due is None and r.within is not None and r.after:
            base = env.get(r.after)
            if isinstance(base, date):
                due = add_duration(base, r.within)
        sub = env.get(r.submitted or "")
        sub = sub if isinstance(sub, date) else None
        opens = _opening(r.not_before, env)
        empty_window = opens is not None and due is not None and opens > due
        # an opening after the deadline (a late start: one year after it ends after « au plus tard le 31/03/2027 »)
        # leaves no day to comply: the text's deadline is kept, the opening dropped, and the report says so
        rs = F.ReviewState(r.id, r.label, due, sub, None if empty_window else opens)
        reviews[r.id] = rs
        row = {"id": r.id, "label": r.label, "due": due, "submitted": sub, "status": rs.status(at),
               "source": _src(r.source)}
        if r.not_before is not None:
            row["opens"] = rs.opens
        if row["status"] == "early":
            row["note"] = rs.early_note()
        elif empty_window:
            row["note"] = (f"sans date d'ouverture : l'ouverture calculée ({opens:%d/%m/%Y}) tombe après "
                           f"l'échéance ({due:%d/%m/%Y}), seule l'échéance est retenue")
        reporting.append(row)
    signature = env.get("signature_date")
    signature = signature if isinstance(signature, date) else (start if isinstance(start, date) else None)
    tranches = []
    tranche_missing: dict[str, list] = {}
    tranche_invalid: dict[str, str] = {}
    for p in secs.payments:
        share = p.share
        if p.share_expr is not None:  # an expression (a parameter): unknown -> no planned amount, say what is missing
            v = _op_eval(p.share_expr, env, at)
            share = _num(v)
            if share is None:
                tranche_missing[p.id] = _missing(v) or ["share"]
        tranches.append(F.TrancheSpec(p.id, p.label, share, "signature" if p.due == "signature" else "review",
                                      None if p.due == "signature" else p.due, p.at_most))
    tranches = _given_shares_checked(tranches, secs.payments, tranche_invalid)
    schedule = None
    if tranches and grant is not None:
        earned_total = cond.total if cond is not None else None
        if cond is not None and cond.total is None:
            earned_total = None
        schedule = F.payment_schedule(grant, tranches, at, signature, reviews, earned_total,
                                      earned_unknown=cond is not None and cond.total is None)

    plan_ok = _all_ok([share_check.conforming if share_check else True,
                       staff_res.conforming if staff_res else True,
                       (awarded is None or limit.amount is None or F.money(awarded) <= limit.amount)]
                      + [r["status"] == "passed" if r["status"] != "unknown" else None for r in plan_rules])
    return {
        "spec": spec.id, "spec_version": spec.version, "operation": rid, "as_of": at,
        "period": period,
        "convention": convention,
        "parameters": {k: _val(v) for k, v in pvals.items()},
        "missing_parameters": sorted(k for k, v in pvals.items() if isinstance(v, Unknown)),
        "operator": operator,
        "funding_plan": _plan_dict(fs, staff_res, costs, share_rate, share_check, share_amount, cap_rows, limit,
                                   awarded, grant, plan_rules, plan_ok, env,
                                   None if spending is None else
                                   expenses_dict(spending, fs.expenses, _src(fs.expenses.source), share_rate, grant,
                                                 spending_base, end if isinstance(end, date) and at < end else None)),
        "capacity": capacity,
        "cohort": _cohort_dict(cohort, at),
        "constraints": constraints,
        "indicators": indicators,
        "funding": _funding_dict(cond, secs, grant),
        "payments": _payments_dict(schedule, secs, tranche_missing, tranche_invalid),
        "reporting": reporting,
    }


F_EMPTY = None  # replaced below (an empty FundingSpec)


def _opening(opening, env) -> date | None:
    """The first day a review counts: its fixed date, or the operation date it follows plus the delay (None while
    that date is unknown: no lower bound)."""
    if opening is None:
        return None
    if opening.date is not None:
        return opening.date
    base = env.get(opening.after or "")
    if not isinstance(base, date):
        return None
    return add_duration(base, opening.plus) if opening.plus is not None else base


def _rhythm_row(r, event_type, op_events, env, start, end, at) -> dict:
    """The row of a rhythm of operation events (:func:`engine.operation.record.recurring`), run from ``r.starts``
    (an operation date such as the signature) when it is later than the convention's start: ``unknown`` while that
    date is, ``pending`` before it."""
    fields = tuple(event_type.fields) if event_type is not None else ()
    if r.starts is None:
        return recurring(r, op_events, start, end, at, fields)
    own = env.get(r.starts)
    stub = {"id": r.id, "label": r.label, "event": r.event, "min": r.min, "max": r.max, "source": _src(r.source)}
    if not isinstance(own, date):
        return {**stub, "status": "unknown", "missing": [r.starts],
                "note": f"« {r.starts} » inconnue : le rythme court à partir de cette date"}
    if own > at:  # the rhythm has not begun at the report date: nothing is due yet
        return {**stub, "status": "pending", "from": own, "note": f"le rythme commence le {own:%d/%m/%Y} ({r.starts})"}
    if not isinstance(start, date) or own <= start:
        return recurring(r, op_events, start, end, at, fields)
    return {**recurring(r, op_events, own, end, at, fields), "from": own}


def _given_shares_checked(tranches: list, rules, invalid: dict) -> list:
    """The tranches with the shares the operation gives (``share: advance_share``, 08:77-79) left uncomputed when
    one is outside 0..100 % or they add up to more than 100 % (the spec's own shares are checked by `engine check`);
    ``invalid`` gets the note of each."""
    out = list(tranches)
    for i, (t, p) in enumerate(zip(out, rules)):
        if p.share_expr is not None and t.share is not None and not 0 <= t.share <= 1:
            invalid[p.id] = f"part invalide : {F.pct(t.share)} (une part est comprise entre 0 et 100 %)"
            out[i] = F.TrancheSpec(t.id, t.label, None, t.trigger, t.review, t.conditional)
    total = sum((t.share for t in out if t.share is not None), Decimal(0))
    if total > 1:
        parts = " + ".join(F.pct(t.share) for t in out if t.share is not None)
        for i, (t, p) in enumerate(zip(out, rules)):
            if p.share_expr is not None and t.share is not None:
                invalid[p.id] = f"les parts dépassent 100 % ({parts} = {F.pct(total)}) : montant non calculé"
                out[i] = F.TrancheSpec(t.id, t.label, None, t.trigger, t.review, t.conditional)
    return out


def _min_allocation(fs, env):
    """The minimum allocation of a partly assigned staff member, when it applies to this operation's fund: a rule
    written « s'agissant de la contrepartie d'une opération cofinancée FSE+ » (05:79, 09:58) does not hold for an
    FTJ operation; with the fund unknown, the rule is applied (the report says so)."""
    funds = fs.min_staff_allocation_funds
    if fs.min_staff_allocation is None or not funds:
        return fs.min_staff_allocation
    fund = env.get("fund")
    return fs.min_staff_allocation if not isinstance(fund, str) or fund in funds else None


def _op_eval(expr, env, at):
    """Evaluate an operation expression; an evaluation error (division by zero...) gives *unknown*, so one bad
    figure does not stop the report (the figure shows as unknown)."""
    try:
        return expr(env, at)
    except Exception:  # noqa: BLE001 - EvaluationError, DynamicTypeError
        return unknown()


def _cost_lines(fs, env, at) -> list:
    """The declared cost categories of the plan (``eligible_costs`` items with ``amount``, or covered by a flat
    rate): declared amount (an unknown attribute is a category not declared: 0), maximum, covering flat rate."""
    out = []
    for d in fs.eligible_costs:
        cover = next((r.id for r in fs.flat_rates if d.id in r.covers or
                      (d.amount is not None and "other_costs" in r.covers)), None)
        if d.amount is None and cover is None:
            continue
        declared = _num(_op_eval(d.amount, env, at)) if d.amount is not None else None
        maximum = _num(_op_eval(d.maximum, env, at)) if d.maximum is not None else None
        out.append(F.CostLine(d.id, d.label, declared, maximum, cover))
    return out


def _share_rate(rule, env, at) -> tuple[Decimal | None, str | None]:
    if rule is None:
        return None, None
    for when, share in rule.cases:
        if _op_eval(when, env, at) is True:
            return share, when.text
    if rule.by_fund:
        fund = env.get("fund")
        if isinstance(fund, str) and fund in rule.by_fund:
            return rule.by_fund[fund], f"fund == {fund}"
        if rule.share is None:
            return None, "fonds inconnu"
    return rule.share, None


def _operator(spec, env, at) -> dict:
    rule = spec.eligibility_operator
    if rule is None:
        return {"eligible": None, "reasons": [], "missing": [], "note": "pas de règle d'éligibilité des porteurs"}
    reasons: list = []

    def walk(r):
        if hasattr(r, "children"):
            vals = [walk(c) for c in r.children]
            if r.op == "not":
                v = vals[0]
                return (not v) if isinstance(v, bool) else v
            decisive = r.op == "any"
            unk = None
            for v in vals:
                if v is decisive:
                    return decisive
                if not isinstance(v, bool):
                    unk = v if unk is None else unk | v
            return (not decisive) if unk is None else unk
        try:
            v = r.expr.fn(env, at)
        except Exception as e:  # noqa: BLE001
            v = unknown()
            reasons.append({"rule": r.id, "value": None, "text": r.label, "source": _src(r.source),
                            "error": getattr(e, "message", None) or str(e)})
            return v
        if v is True or v is False:
            reasons.append({"rule": r.id, "value": v, "text": r.label, "source": _src(r.source)})
            return v
        names = sorted(getattr(v, "names", ()) or ())
        reasons.append({"rule": r.id, "value": None, "text": r.label, "source": _src(r.source), "missing": names})
        return v if isinstance(v, Unknown) else unknown()

    res = walk(rule)
    if isinstance(res, bool):
        return {"eligible": res, "reasons": reasons, "missing": []}
    return {"eligible": None, "reasons": reasons, "missing": sorted(res.names)}


def _cohort_exprs(secs: OperationSections) -> list[CohortExpr]:
    out: list = []
    for i in secs.indicators:
        out += [i.value, i.numerator, i.denominator]
    out += [c.condition for c in secs.cohort_constraints]
    out += [c.actual for c in secs.capacity]
    out += [r.condition for r in secs.reporting] + [r.reachable for r in secs.reporting]
    if secs.funding is not None:
        out += [c.condition for c in secs.funding.plan_rules]
        out += [p.achieved for p in secs.funding.conditional]
        out += [c.amount for c in secs.funding.caps if c.on == "earned"]
    return [e for e in out if isinstance(e, CohortExpr)]


def _params_read(missing_params: set, *exprs) -> set:
    """The parameters not supplied that these cohort expressions read (directly, through a definition, or inside
    an aggregate's filter or projection)."""
    if not missing_params:
        return set()
    names: set = set()
    for ce in exprs:
        if ce is None:
            continue
        names |= set(getattr(getattr(ce, "rewritten", None), "names", ()) or ())
        for _ph, a in getattr(ce, "aggregates", ()):
            for e in (a.where, a.value):
                if e is not None:
                    names |= set(getattr(e, "names", ()) or ())
    return names & missing_params


# --------------------------------------------------------------------------------------------- entry points

def run_operation_example(spec, example) -> dict:
    """``engine test`` runner for operation examples (``operation:`` + ``cohort:``)."""
    if example.operation is None:
        raise _bad("l'exemple n'a pas d'« operation »", "example.no_operation")
    op = jsonish(dict(example.operation))
    op.setdefault("id", "example")
    cohort = [(i + 1, jsonish(dict(r))) for i, r in enumerate(example.cohort or ())]
    return build_report(spec, op, cohort, evaluation_date(example_at=example.at), dict(example.params))


def _empty_funding():
    return FundingSpec()


F_EMPTY = _empty_funding()
