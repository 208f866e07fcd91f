"""Compilation of the ``funding`` section of an operation (staff, eligible costs, flat rates, caps, the Département's
share, the conditional parts) and of the checks it carries: a part of :class:`engine.operation.compile._Compiler`,
which it is mixed into (``self.ctx``, ``self.number``, ``self.op_expr``, ``self.cohort_expr``...)."""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from engine.operation.model import (CapRule, Check, Doc, ExpensesRule, FlatRateRule, FundingSpec, PartRule, ShareRule)


def rate_value(v) -> Decimal | None:
    """``40%`` / ``"40 %"`` / ``0.40`` / ``375`` -> Decimal (percentages divided by 100); None when not a number."""
    if isinstance(v, bool):
        return None
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    if isinstance(v, float):
        return Decimal(repr(v))
    if isinstance(v, str):
        t = v.strip().replace(",", ".").replace("\u00a0", "").replace(" ", "")
        try:
            if t.endswith("%"):
                return Decimal(t[:-1]) / 100
            return Decimal(t)
        except Exception:  # noqa: BLE001 - decimal.InvalidOperation
            return None
    return None


class FundingSections:
    """The ``funding`` section (see the module docstring)."""

    def _funds(self, node: Mapping) -> tuple[str, ...]:
        """``funds:`` of a rule written for some funds only: the values of the operation attribute ``fund``."""
        from engine.errors import did_you_mean

        raw = node.get("funds")
        if raw is None:
            return ()
        attr = (self.ctx.fields.get("operation_attributes") or {}).get("fund")
        known = tuple(getattr(attr.type, "values", ()) or ()) if attr is not None else ()
        out = []
        for k, v in enumerate(raw if isinstance(raw, list) else [raw]):
            if known and str(v) not in known:
                self.ctx.error(self.ctx.pos(node, "funds"), f"funding.min_staff_allocation.funds[{k}] : fonds inconnu "
                               f"{str(v)!r}", "spec.operation",
                               did_you_mean(str(v), known) or f"valeurs de `fund` : {', '.join(known)}",
                               "funding.min_staff_allocation.funds")
            out.append(str(v))
        return tuple(out)

    def funding(self) -> FundingSpec | None:
        from engine.expr import types as T

        f = self.ctx.data.get("funding")
        if not isinstance(f, Mapping):
            return None
        share = None
        s = f.get("department_share")
        if isinstance(s, Mapping):
            by_fund = {}
            bf = s.get("by_fund")
            if isinstance(bf, Mapping):
                for k in bf:
                    r = self.number(bf, k, "funding.department_share.by_fund")
                    if r is not None:
                        by_fund[str(k)] = r
            cases = []
            for j, c in enumerate(s.get("cases") or ()):
                p = f"funding.department_share.cases[{j}]"
                w = self.op_expr(c, "when", T.BOOLEAN, p + ".when")
                r = self.number(c, "share", p, required=True)
                if w is not None and r is not None:
                    cases.append((w, r))
            share = ShareRule(s.get("label"), self.number(s, "share", "funding.department_share"), by_fund,
                              tuple(cases), self.src(s, "funding.department_share"), s.get("interpretation"))
        msa = f.get("min_staff_allocation")
        msa_rate = msa_label = msa_src = None
        msa_funds: tuple[str, ...] = ()
        if isinstance(msa, Mapping):
            msa_rate = self.number(msa, "rate", "funding.min_staff_allocation", required=True)
            msa_label, msa_src = msa.get("label"), self.src(msa, "funding.min_staff_allocation")
            msa_funds = self._funds(msa)
        elif msa is not None:
            msa_rate = rate_value(msa)
        docs = []
        for j, d in enumerate(f.get("eligible_costs") or ()):
            if not isinstance(d, Mapping):
                continue
            p = f"funding.eligible_costs[{j}]"
            amount = self.op_expr(d, "amount", T.NUMBER, p + ".amount")
            maximum = self.op_expr(d, "max", T.NUMBER, p + ".max")
            if d.get("max") is not None and d.get("amount") is None:
                self.ctx.error(self.ctx.pos(d, "max"), f"{p}.max : un plafond sans montant déclaré (`amount`) ne "
                               "limite rien", "spec.cost_max_without_amount",
                               "ajoutez `amount: <attribut de l'opération>` (ex. indirect_costs)", p + ".max")
            docs.append(Doc(str(d.get("id") or f"cost_{j + 1}"), d.get("label"), bool(d.get("excluded")),
                            self.src(d, p), amount, maximum, d.get("interpretation")))
        rates = []
        for j, r in enumerate(f.get("flat_rates") or ()):
            if isinstance(r, Mapping):
                p = f"funding.flat_rates[{j}]"
                rate = self.number(r, "rate", p, required=True)
                raw_cov = r.get("covers")
                covers = tuple(str(c) for c in (raw_cov if isinstance(raw_cov, list) else
                                                 [raw_cov] if raw_cov is not None else []))
                if rate is not None:
                    rates.append(FlatRateRule(str(r.get("id") or f"flat_rate_{j + 1}"), r.get("label"), rate,
                                              self.src(r, p), covers))
                self._check_covers(r, p, covers, docs)
        caps = []
        for j, c in enumerate(f.get("caps") or ()):
            if not isinstance(c, Mapping):
                continue
            p = f"funding.caps[{j}]"
            on = str(c.get("on") or "grant")
            if on not in ("grant", "earned"):
                self.ctx.error(self.ctx.pos(c, "on"), f"{p}.on: expected grant or earned, got {on!r}",
                               "spec.operation", "write `on: grant` or `on: earned`", p + ".on")
            amount = (self.cohort_expr(c, "amount", T.NUMBER, p + ".amount") if on == "earned"
                      else self.op_expr(c, "amount", T.NUMBER, p + ".amount"))
            if c.get("amount") is None:
                self.ctx.error(self.ctx.pos(c), f"{p}: a cap needs `amount` (euros, an expression)",
                               "spec.operation", "add `amount: 375 * posts * convention_months`", p)
            caps.append(CapRule(str(c.get("id") or f"cap_{j + 1}"), c.get("label"), amount, on, self.src(c, p),
                                c.get("interpretation")))
        parts = []
        for j, c in enumerate(f.get("conditional") or ()):
            if not isinstance(c, Mapping):
                continue
            p = f"funding.conditional[{j}]"
            mode = str(c.get("mode") or c.get("method") or "proportional")
            if mode not in ("proportional", "threshold", "all_or_nothing"):
                self.ctx.error(self.ctx.pos(c, "mode" if "mode" in c else "method"), f"{p}.mode: expected "
                               f"proportional, threshold or all_or_nothing, got {mode!r}", "spec.operation",
                               "choose one of proportional, threshold, all_or_nothing", p + ".mode")
            threshold = self.number(c, "threshold", p, required=mode == "threshold")
            parts.append(PartRule(str(c.get("id") or f"part_{j + 1}"), c.get("label"),
                                  self.number(c, "weight", p, required=True) or Decimal(0),
                                  self.op_expr(c, "objective", T.NUMBER, p + ".objective"),
                                  self.cohort_expr(c, "achieved", T.ANY, p + ".achieved"), mode, threshold,
                                  self.src(c, p), c.get("interpretation")))
        total_w = sum((p.weight for p in parts), Decimal(0))
        if parts and total_w != 1:
            self.ctx.error(self.ctx.pos(f, "conditional"), f"funding.conditional: the weights add up to "
                           f"{format(total_w * 100, 'f').rstrip('0').rstrip('.')} %, not 100 %", "spec.operation",
                           "the parts of the grant tied to objectives must cover it exactly (e.g. 40% + 60%)",
                           "funding.conditional")
        sf = f.get("support_functions")
        return FundingSpec(share, msa_rate, msa_label, msa_src, msa_funds, sf != "eligible", tuple(docs), tuple(rates), tuple(caps),
                           self.checks_of(f.get("plan_rules") or (), "funding.plan_rules"), tuple(parts),
                           self._expenses(f.get("expenses")))

    def _expenses(self, node) -> ExpensesRule | None:
        """``funding.expenses``: ``paid_by`` names a review of ``reporting`` (its transmission date is an operation
        attribute, `submitted:`, by default ``<id>_date``), the date by which every expense must be paid (08:123)."""
        if not isinstance(node, Mapping):
            return None
        p = "funding.expenses"
        paid_by = node.get("paid_by")
        if paid_by is not None:
            reviews = {str(r.get("id")): r for r in (self.ctx.data.get("reporting") or ()) if isinstance(r, Mapping)}
            r = reviews.get(str(paid_by))
            def is_review(v):
                return v.get("event") is None and v.get("condition") is None

            if r is None or not is_review(r):
                from engine.errors import did_you_mean

                known = [k for k, v in reviews.items() if is_review(v)]
                self.ctx.error(self.ctx.pos(node, "paid_by"), f"{p}.paid_by : « {paid_by} » n'est pas un bilan de "
                               "`reporting:` (un bilan remis, dont l'opération donne la date de transmission)",
                               "spec.expenses_paid_by",
                               did_you_mean(str(paid_by), known) or "nommez le bilan (ex. `paid_by: final_review`)",
                               p + ".paid_by")
                paid_by = None
        return ExpensesRule(node.get("label"), None if paid_by is None else str(paid_by), self.src(node, p),
                            node.get("interpretation"))

    def _check_covers(self, node, path, covers, docs) -> None:
        """A flat rate names what it replaces: ``other_costs`` (every cost other than the staff costs) or cost
        categories of ``eligible_costs``. A category that declares an amount (``amount:``) cannot also be covered
        by a flat rate: the same costs would be paid twice."""
        from engine.errors import did_you_mean

        by_id = {d.id: d for d in docs}
        for c in covers:
            if c != "other_costs" and c not in by_id:
                self.ctx.error(self.ctx.pos(node, "covers"), f"{path}.covers : « {c} » n'est ni `other_costs` ni une "
                               "catégorie de `funding.eligible_costs`", "spec.unknown_cost_category",
                               did_you_mean(c, list(by_id) + ["other_costs"]) or
                               "écrivez `covers: other_costs` (tous les coûts autres que le personnel) ou l'id d'une "
                               "catégorie", path + ".covers")
        covered = [d for d in docs if d.amount is not None and ("other_costs" in covers or d.id in covers)]
        for d in covered:
            self.ctx.error(self.ctx.pos(node, "covers"), f"{path}.covers : le forfait couvre déjà la catégorie "
                           f"« {d.id} », qui ajoute pourtant son montant déclaré à l'assiette (`amount:`) : ces "
                           "dépenses seraient comptées deux fois", "spec.cost_covered_twice",
                           f"retirez `amount:` de la catégorie « {d.id} » (le forfait la couvre) ou retirez-la de "
                           "`covers:`", path + ".covers")

    def checks_of(self, items, key) -> tuple[Check, ...]:
        from engine.expr import types as T

        out = []
        for i, node in enumerate(items):
            if isinstance(node, Mapping):
                path = f"{key}[{i}]"
                out.append(Check(str(node.get("id") or f"rule_{i + 1}"), node.get("label"),
                                 self.cohort_expr(node, "condition", T.BOOLEAN, path + ".condition"),
                                 self.src(node, path), node.get("interpretation")))
        return tuple(out)
