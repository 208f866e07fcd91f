"""The sections of an operation report as plain data (:func:`engine.operation.report.build_report` computes, this
module shapes): the cohort used, each constraint and indicator row with its status, the commitments over the
convention, the funding plan, each conditional part of the funding and the payment schedule. Money stays
``Decimal`` (rounded by :mod:`engine.operation.funding`), dates stay ``date``; the renderers of
:mod:`engine.render.report` turn these dicts into text, Markdown, CSV or JSON.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

from engine.expr.runtime import Unknown, unknown
from engine.fr import fr_date
from engine.operation import funding as F
from engine.operation.indicators import Acc
from engine.operation.model import grouped, grouped_exprs
from engine.operation.record import _num, _src


def _cohort_dict(cohort, at: date) -> dict:
    """The cohort actually used: participants who had entered by the report date (first history entry, else
    ``entry_date``), the records left out and why, the unreadable ones."""
    read = cohort.participants + cohort.not_entered + cohort.errors
    d = {"read": read, "participants": cohort.participants, "entered_by": at,
         "left_out": {"not_entered": cohort.not_entered, "errors": cohort.errors},
         "entry_unknown": cohort.entry_unknown,
         "errors": cohort.errors, "error_samples": cohort.error_samples}
    if cohort.internal_errors:
        d["internal_errors"] = cohort.internal_errors
    if cohort.not_entered:
        d["not_entered_samples"] = cohort.not_entered_samples
    d["rule"] = (f"participants entrés au plus tard le {at.isoformat()} (date de la première entrée dans une phase, "
                 "sinon entry_date) ; les entrées postérieures sont écartées")
    return d


class _EvalFailure:
    def __init__(self, message: str):
        self.message = message


def _missing(*values) -> list[str]:
    """The names (attributes, parameters) whose absence left these values unknown."""
    out: set = set()
    for v in values:
        if isinstance(v, Unknown):
            out |= set(v.names or ())
    return sorted(out)


def _val(v):
    if v is None or isinstance(v, (Unknown, _EvalFailure)):
        return None
    if isinstance(v, Decimal):
        return v.quantize(Decimal("0.0001")).normalize() if v != v.to_integral_value() else v.to_integral_value()
    return v


def _status(ok) -> str:
    return "passed" if ok is True else "failed" if ok is False else "unknown"


def _all_ok(vals) -> bool | None:
    if any(v is False for v in vals):
        return False
    if any(v is None for v in vals):
        return None
    return True


def _check_row(c, v, unk, params_missing=()) -> dict:
    row = {"id": c.id, "label": c.label, "status": _status(v if isinstance(v, bool) else None),
           "condition": c.condition.text if c.condition is not None else None, "source": _src(c.source)}
    miss = set(v.names or ()) if isinstance(v, Unknown) else set()
    if v is not True and v is not False:
        miss |= set(params_missing)  # a parameter not supplied that the condition reads
    elif unk:
        miss |= set(params_missing)  # decided, but some participants were left out for want of it
    if miss:
        row["missing"] = sorted(miss)
    if isinstance(v, _EvalFailure):
        row["error"] = v.message
    if unk:
        row["unknown"] = unk
    if getattr(c, "interpretation", None):
        row["interpretation"] = c.interpretation
    return row


def _plan_dict(fs, staff_res, costs, share_rate, share_check, share_amount, cap_rows, limit, awarded, grant,
               plan_rules, plan_ok, env, expenses: dict | None = None) -> dict:
    d: dict[str, Any] = {"conforming": plan_ok}
    if expenses is not None:
        d["expenses"] = expenses
    if staff_res is not None:
        d["staff"] = [{"id": c.member.id, "role": c.member.role, "cost": F.money(c.member.cost),
                       "allocation": c.member.allocation, "work_time": c.member.work_time,
                       "status": "passed" if c.eligible else "excluded" if c.rule == "support_function" else "failed",
                       "reason": c.reason} for c in staff_res.checks]
    if fs.min_staff_allocation is not None:
        d["min_staff_allocation"] = {"rate": fs.min_staff_allocation, "label": fs.min_staff_allocation_label,
                                     "source": _src(fs.min_staff_allocation_source),
                                     "status": _status(staff_res.conforming if staff_res else None)}
        funds = fs.min_staff_allocation_funds
        if funds:
            fund = env.get("fund")
            d["min_staff_allocation"]["funds"] = list(funds)
            if isinstance(fund, str) and fund not in funds:
                d["min_staff_allocation"]["status"] = "not_applicable"
                d["min_staff_allocation"]["note"] = (f"règle des opérations cofinancées {', '.join(funds)} : "
                                                     f"l'opération est cofinancée {fund}")
            elif not isinstance(fund, str):
                d["min_staff_allocation"]["note"] = "fonds non renseigné (fund) : la règle est appliquée"
    lines = {c.line.id: c for c in (costs.categories if costs else ())}
    cats = []
    for x in fs.eligible_costs:
        row = {"id": x.id, "label": x.label, "excluded": x.excluded, "source": _src(x.source)}
        c = lines.get(x.id)
        if c is not None:
            row.update(declared=None if c.line.declared is None else F.money(c.line.declared),
                       maximum=None if c.line.maximum is None else F.money(c.line.maximum), amount=c.amount,
                       status=c.status)
            if c.reason:
                row["reason"] = c.reason
        if x.interpretation:
            row["interpretation"] = x.interpretation
        cats.append(row)
    d["eligible_cost_categories"] = cats
    d["direct_staff_costs"] = costs.direct_staff_costs if costs else None
    d["flat_rates"] = ([{"id": f.id, "label": f.label, "rate": f.rate, "amount": f.amount, "covers": list(f.covers),
                         "source": _src(next((r.source for r in fs.flat_rates if r.id == f.id), None))}
                        for f in costs.flat_rates] if costs else [])
    d["other_costs"] = costs.other_costs if costs else None
    if costs is not None and costs.other_costs_covered_by is not None and costs.other_costs_declared:
        d["other_costs_declared"] = costs.other_costs_declared
        d["other_costs_excluded"] = (f"autres dépenses déclarées ({F.euros(costs.other_costs_declared)}) couvertes par "
                                     f"le forfait « {costs.other_costs_covered_by} » : non ajoutées à l'assiette")
    d["eligible_costs"] = costs.total if costs else None
    if fs.share is not None:
        d["department_share"] = {
            "rate": share_rate, "label": fs.share.label, "source": _src(fs.share.source),
            "total_funding": share_check.total_financing if share_check else None,
            "expected": share_check.expected if share_check else None,
            "declared": share_check.declared if share_check else None,
            "status": _status(share_check.conforming if share_check else None),
            "amount_on_eligible_costs": share_amount}
        if fs.share.interpretation:
            d["department_share"]["interpretation"] = fs.share.interpretation
    d["caps"] = [{"id": c.id, "label": c.label, "on": c.on, "amount": None if v is None else F.money(v),
                  "expression": getattr(c.amount, "text", None), "source": _src(c.source),
                  "binding": c.id == limit.binding} for c, v in cap_rows]
    d["rules"] = plan_rules
    d["max_grant"] = limit.amount
    d["max_grant_binding"] = limit.binding
    d["grant_awarded"] = None if awarded is None else F.money(awarded)
    d["grant_within_max"] = _status(None if awarded is None or limit.amount is None
                                    else F.money(awarded) <= limit.amount)
    d["grant"] = grant
    return d


def _funding_dict(cond, secs, grant) -> dict:
    if cond is None:
        if not (secs.funding and secs.funding.conditional):
            # no part of the grant depends on objectives: the money due is the grant (awarded, else the maximum)
            return {"base": grant, "parts": [], "total": grant,
                    "note": "aucune part conditionnelle dans le texte : le total est la subvention retenue"}
        return {"base": grant, "parts": [], "total": None}
    rules = {p.id: p for p in (secs.funding.conditional if secs.funding else ())}
    parts = []
    for p in cond.parts:
        r = rules.get(p.spec.id)
        parts.append({"id": p.spec.id, "label": p.spec.label, "weight": p.spec.weight, "mode": p.spec.mode,
                      "threshold": p.spec.threshold, "objective": _val(p.spec.objective),
                      "achieved": _val(p.spec.achieved),
                      "ratio": None if p.ratio is None else F.round_ratio(p.ratio), "maximum": p.maximum,
                      "amount": p.amount, "rule": p.rule, "source": _src(r.source if r else None),
                      "interpretation": r.interpretation if r else None})
    d = {"base": cond.base, "parts": parts, "total": cond.total}
    if cond.cap_applied is not None:
        d["cap_applied"] = cond.cap_applied.id
        d["uncapped_total"] = cond.uncapped_total
    return d


def _payments_dict(schedule, secs, missing=None, invalid=None) -> dict:
    """The ``payments`` section; ``missing``: what each tranche's unknown share lacks; ``invalid``: the note of a
    share the operation gives out of 0..100 % (or shares adding up to more than 100 %), left uncomputed."""
    invalid = invalid or {}
    if schedule is None:  # no grant to spread (none awarded nor computable): each tranche is there, amount unknown
        rows = [{"id": p.id, "label": p.label, "share": p.share, "at_most": p.at_most, "planned": None, "amount": None,
                 "due_date": None, "review_due": None, "status": "unknown",
                 "note": invalid.get(p.id, "montant inconnu : la subvention attribuée n'est pas renseignée"),
                 "source": _src(p.source), "missing": (missing or {}).get(p.id, ["grant_awarded"])}
                for p in secs.payments]
        return {"grant": None, "earned": None, "tranches": rows, "planned_total": None, "total": None, "due_at": None}
    srcs = {p.id: p for p in secs.payments}
    rows = []
    for t in schedule.tranches:
        p = srcs.get(t.spec.id)
        rows.append({"id": t.spec.id, "label": t.spec.label, "share": t.spec.share, "at_most": t.spec.conditional,
                     "planned": t.planned, "amount": t.amount, "due_date": t.due_date, "review_due": t.review_due,
                     "status": t.status,
                     "note": "; ".join(n for n in (invalid.get(t.spec.id), t.note) if n) or None,
                     "source": _src(p.source if p else None)})
        if missing and t.spec.id in missing:
            rows[-1]["missing"] = missing[t.spec.id]
    return {"grant": schedule.grant, "earned": schedule.earned, "tranches": rows, "planned_total": schedule.planned_total,
            "total": schedule.total, "due_at": schedule.due_at}


def evaluate_cohort(ce, env: dict, at, values, unknowns) -> tuple:
    """A cohort expression with each aggregate's value (``values`` by aggregate key), and the number of participants
    its aggregates left out as unknown (``unknowns`` by key); an evaluation error (division by zero...) makes the
    value an :class:`_EvalFailure`, so one bad figure does not stop the report."""
    cenv = dict(env)
    for ph, a in ce.aggregates:
        cenv[ph] = values[a.key]
    unk = sum(unknowns[a.key] for _ph, a in ce.aggregates)
    try:
        return ce.rewritten.fn(cenv, at), unk
    except Exception as e:  # noqa: BLE001 - EvaluationError, DynamicTypeError, ArithmeticError...
        return _EvalFailure(getattr(e, "message", None) or str(e)), unk


def rate_of(n, d):
    """numerator / denominator of a rate indicator, unknown when either is unknown or the denominator is 0."""
    nn, dd = _num(n), _num(d)
    return F.ratio(nn, dd) if nn is not None and dd not in (None, 0) else unknown()


def breakdown(ind, b, env: dict, results: dict, at) -> dict:
    """The indicator ``ind`` again for each value of the breakdown ``b``: the declared values in their order (listed
    even when nobody has them), then the others met in the cohort, then « inconnu » (participants whose value is
    unknown), when there are some. Each row is computed from the group's own aggregates, like the indicator."""
    exprs = grouped_exprs(ind, b)
    per_agg = {a.key: results[grouped(a, b).key].value for ce in exprs for _ph, a in ce.aggregates}
    met = {g for groups in per_agg.values() for g, acc in groups.items() if acc.n or acc.unknown}
    others = sorted((g for g in met if g is not None and g not in b.values), key=lambda g: (str(type(g)), g))
    keys = list(b.values) + others + ([None] if None in met else [])
    whole = None
    if b.of_all and ind.denominator is not None:  # every row over the whole indicator's denominator
        whole = evaluate_cohort(ind.denominator, env, at, {k: r.value for k, r in results.items()},
                                {k: r.unknown for k, r in results.items()})
    funcs = {a.key: a.func for ce in exprs for _ph, a in ce.aggregates}
    rows = []
    for g in keys:
        accs = {k: per_agg[k].get(g) or Acc(f) for k, f in funcs.items()}  # a group nobody is in: empty
        vals, unks = {k: acc.value() for k, acc in accs.items()}, {k: acc.unknown for k, acc in accs.items()}
        row: dict[str, Any] = {"key": g, "label": _group_label(b, g)}
        if ind.value is not None:
            v, unk = evaluate_cohort(ind.value, env, at, vals, unks)
        else:
            (n, u1) = evaluate_cohort(ind.numerator, env, at, vals, unks)
            (d, u2) = whole if b.of_all else evaluate_cohort(ind.denominator, env, at, vals, unks)
            unk = u1 + u2
            row["numerator"], row["denominator"] = _val(n), _val(d)
            v = rate_of(n, d)
        row["value"] = _val(v)
        if unk:
            row["unknown"] = unk
        rows.append(row)
    return {"id": b.id, "label": b.label, "by": b.text, "rows": rows}


def _group_label(b, g) -> str:
    if g in b.labels:
        return b.labels[g]
    if g is None:
        return "inconnu"
    if g is True or g is False:
        return "oui" if g else "non"
    if isinstance(g, date):
        return fr_date(g)
    if isinstance(g, Decimal):
        return format(g.normalize(), "f").replace(".", ",")
    return str(g)
