"""Compilation of the operation sections of a spec: capacity, cohort_constraints, indicators, funding, payments,
reporting (the format is in specs/README.md, "Operations and cohorts").

Registered in ``engine.spec.compile.SECTION_COMPILERS``; the first operation section compiled compiles them all (the
cohort expressions of one section may read the indicators of another), stores the result on the compile context,
and each section compiler returns its part, so ``spec.sections`` holds ``indicators``, ``cohort_constraints``,
``capacity``, ``funding``, ``payments`` and ``reporting``.

Cohort expressions are streamed. An expression such as ``count(participants where young) <= 20% * count(participants)``
is compiled twice: once as written in the full operation scope (type checking, positioned errors), and once with
each aggregate over ``participants`` replaced by a placeholder name (:class:`Aggregate`), whose value is computed in
one pass over the cohort (:mod:`engine.operation.indicators`). ``participants`` anywhere else is an error.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Mapping

from engine.errors import Diagnostic, EngineError
from engine.spec.model import Expr

from engine.operation.model import (EVALUATION_NAMES, AGGREGATES, PLACEHOLDER, BUILTIN_NUMBERS, BUILTIN_INTEGERS, BUILTIN_DATES, STAFF_FIELDS,
                      SECTIONS, Aggregate, CohortExpr, Indicator, TARGET_KINDS, Check, CapacityRule, ShareRule,
                      FlatRateRule, CapRule, PartRule, Doc, FundingSpec, PaymentRule, ReportingRule,
                      OperationSections)  # noqa: F401 - re-exported

# --------------------------------------------------------------------------------------------- scopes

def operation_names(spec_fields: Mapping[str, Any]) -> dict[str, Any]:
    """Operation names and their types: declared operation attributes plus the built-ins."""
    from engine.expr import types as T

    names: dict[str, Any] = {}
    for n in BUILTIN_NUMBERS:
        names[n] = T.NUMBER
    for n in BUILTIN_INTEGERS:
        names[n] = T.INTEGER
    for n in BUILTIN_DATES:
        names[n] = T.DATE
    names["staff"] = T.ListType(T.RecordType({"id": T.STRING, "role": T.STRING, "cost": T.NUMBER,
                                              "allocation": T.NUMBER, "work_time": T.NUMBER, "fte": T.NUMBER,
                                              "support_function": T.BOOLEAN, "activity": T.STRING}))
    for a in (spec_fields.get("operation_attributes") or {}).values():
        names[a.name] = a.type
    return names


def make_scopes(base_scope, op_names: Mapping[str, Any], indicator_ids=(), parameters=(), deadline_ids=()):
    """(operation scope, cohort scope with ``participants``, participant scope). Participant names shadow the
    operation names in the participant scope (inside ``participants where ...`` the item's fields come first).
    The spec's ``parameters`` (names) are in every scope, as everywhere in a spec. ``deadline_ids``: the fields of
    the participant's ``deadlines`` (each deadline's status at the report date)."""
    from engine.expr import types as T

    defs = base_scope.definitions
    op = dict(base_scope.names)
    for k in ("events", "history"):
        op.pop(k, None)
    keep = set(parameters) | {"today"}
    beneficiary_only = {k for k in base_scope.names if k not in keep and k not in op_names}
    for k in beneficiary_only:
        op.pop(k, None)
    op.update(op_names)
    cohort = dict(op)
    for i in indicator_ids:
        cohort[i] = T.NUMBER
    participant_record = {n: t for n, t in base_scope.names.items() if n != "today"}
    participant_record.update(definition_types(base_scope))
    evaluation = {n: t for n, t in (("eligible", T.BOOLEAN), ("path_legal", T.BOOLEAN),
                                    ("current_phase", T.STRING),
                                    ("deadlines", T.RecordType({d: T.STRING for d in deadline_ids})))
                  if n not in base_scope.names}
    participant_record.update(evaluation)
    cohort_full = dict(cohort)
    cohort_full["participants"] = T.ListType(T.RecordType(participant_record))
    participant = dict(cohort)
    participant.update(base_scope.names)
    participant.update(evaluation)
    return (T.Scope(names=op, definitions=defs), T.Scope(names=cohort_full, definitions=defs),
            T.Scope(names=participant, definitions=defs), cohort)


def definition_types(scope) -> dict[str, Any]:
    """The type of each definition of ``scope`` (so that ``participants.support_months`` may project a definition);
    a definition that does not compile is left out (its own error is reported where it is defined)."""
    from engine.expr.compiler import compile_expression

    out = {}
    for name, d in (scope.definitions or {}).items():
        text = getattr(d, "text", None)
        if not isinstance(text, str):
            continue
        try:
            out[name] = compile_expression(text, scope, origin=None).type
        except EngineError:
            continue
    return out


# --------------------------------------------------------------------------------------------- AST lifting

def _parse(text: str, origin=None):
    from engine.expr import parser as P

    for name in ("parse_expression", "parse"):
        f = getattr(P, name, None)
        if f is not None:
            try:
                return f(text, origin=origin)
            except TypeError:
                return f(text)
    raise RuntimeError("engine.expr.parser has no parse function")


def _find_aggregates(tree):
    """Maximal aggregate calls over ``participants`` (outermost first), and the stray uses of ``participants``."""
    from engine.expr import nodes as N

    found, stray = [], []
    stack = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, N.Call) and _canonical(n.func) in AGGREGATES and len(n.args) == 1:
            shape = _shape(n.args[0])
            if shape is not None:
                found.append((n, shape))
                continue
        if isinstance(n, N.Name) and n.name == "participants":
            stray.append(n)
            continue
        stack.extend(n.children())
    return found, stray


def _canonical(func: str) -> str:
    try:
        from engine.expr.types import ALIASES
    except ImportError:  # pragma: no cover
        return func
    return ALIASES.get(func, func)


def _shape(arg):
    """``participants`` | ``participants where P`` | ``participants.f`` | ``(participants where P).f`` ->
    (where node or None, field name or None, field node or None); None for other shapes."""
    from engine.expr import nodes as N

    def base(x):
        if isinstance(x, N.Name) and x.name == "participants":
            return (None,)
        if isinstance(x, N.Filter) and isinstance(x.source, N.Name) and x.source.name == "participants":
            return (x.predicate,)
        return None

    b = base(arg)
    if b is not None:
        return (b[0], None, None)
    if isinstance(arg, N.Field):
        b = base(arg.target)
        if b is not None:
            return (b[0], arg.name, arg)
    return None


class _Compiler:
    """Compiles the operation sections of one spec document (see the module docstring)."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.op_names = operation_names(ctx.fields)
        self.agg_cache: dict[str, Aggregate] = {}
        base = ctx.scope
        ind = ctx.data.get("indicators") or ()
        self.indicator_ids = [str(i.get("id")) for i in ind if isinstance(i, Mapping) and i.get("id")]
        (self.op_scope, self.cohort_full, self.participant_scope, self.cohort_names) = make_scopes(
            base, self.op_names, (), tuple(ctx.fields.get("parameters") or ()),
            tuple(d.id for d in ctx.fields.get("deadlines") or ()))
        self.known_indicators: list[str] = []

    # -- helpers
    def src(self, node, path):
        return self.ctx.source(node, path)

    def number(self, node, key, path, *, required=False) -> Decimal | None:
        v = node.get(key) if isinstance(node, Mapping) else None
        if v is None:
            if required:
                self.ctx.error(self.ctx.pos(node), f"{path}: `{key}` is required", "spec.operation",
                               f"add `{key}:`", f"{path}.{key}")
            return None
        r = rate_value(v)
        if r is None:
            self.ctx.error(self.ctx.pos(node, key), f"{path}.{key}: expected a number or a percentage such as 40%, "
                           f"got {v!r}", "spec.operation", "write 40% or 0.40", f"{path}.{key}")
        return r

    def op_expr(self, node, key, expect, path) -> Expr | None:
        from engine.expr import types as T

        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        return self.ctx.expr(node, key, self.op_scope, expect if expect is not None else T.ANY, path)

    def cohort_expr(self, node, key, expect, path) -> CohortExpr | None:
        """Compile a cohort expression: as written (checks), then rewritten with its aggregates lifted."""
        from engine.expr import types as T
        from engine.expr.compiler import compile_expression

        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        scope = self._cohort_scope_now(full=True)
        e = self.ctx.expr(node, key, scope, expect if expect is not None else T.ANY, path)
        if e is None:
            return None
        text = e.text
        tree = getattr(e.compiled, "node", None)
        if tree is None:
            try:
                tree = _parse(text, e.origin)
            except EngineError as err:
                self.ctx.bag.extend(err.diagnostics)
                return None
        found, stray = _find_aggregates(tree)
        for n in stray:
            d = (e.origin.diagnostic(text, n.span[0], "`participants` can only be used inside count, sum, avg, "
                                     "min, max, any or all (the cohort is streamed, not held in memory)",
                                     width=n.span[1] - n.span[0], code="spec.participants",
                                     hint="write e.g. count(participants where rsa) or sum(participants.months)",
                                     path=path) if e.origin is not None else
                 Diagnostic("`participants` can only be used inside an aggregate", code="spec.participants"))
            self.ctx.bag.add(d)
        if stray:
            return None
        names = {}
        pieces = []
        aggs = []
        part_scope = self._participant_scope_now()
        for call, (where, fname, _fnode) in sorted(found, key=lambda t: t[0].span[0]):
            sub = text[call.span[0]:call.span[1]]
            key_ = " ".join(sub.split())
            agg = self.agg_cache.get(key_)
            try:
                agg_type = compile_expression(sub, scope, origin=None, path=path).type
                if agg is None:
                    w = None if where is None else compile_expression(
                        text[where.span[0]:where.span[1]], part_scope, origin=None, expect=T.BOOLEAN, path=path)
                    v = None if fname is None else compile_expression(fname, part_scope, origin=None, path=path)
                    agg = Aggregate(key_, _canonical(call.func), w, v, sub)
                    self.agg_cache[key_] = agg
            except EngineError as err:
                self.ctx.bag.extend(err.diagnostics)
                return None
            ph = names.get(key_)
            if ph is None:
                ph = f"{PLACEHOLDER}{len(names)}"
                names[key_] = ph
                aggs.append((ph, agg, agg_type))
            pieces.append((call.span, ph))
        rewritten_text = text
        for (s, t), ph in sorted(pieces, key=lambda p: -p[0][0]):
            rewritten_text = rewritten_text[:s] + ph + rewritten_text[t:]
        rscope_names = dict(self._cohort_scope_now(full=False).names)
        for ph, _agg, typ in aggs:
            rscope_names[ph] = typ
        try:
            rewritten = compile_expression(rewritten_text, T.Scope(names=rscope_names, definitions=scope.definitions),
                                           origin=None, expect=expect if expect is not None else T.ANY, path=path)
        except EngineError as err:
            self.ctx.bag.extend(err.diagnostics)
            return None
        return CohortExpr(e, rewritten, tuple((ph, a) for ph, a, _t in aggs))

    def _cohort_scope_now(self, full: bool):
        from engine.expr import types as T

        names = dict(self.cohort_full.names if full else self.cohort_names)
        if not full:
            names.pop("participants", None)
        for i in self.known_indicators:
            names[i] = T.NUMBER
        return T.Scope(names=names, definitions=self.cohort_full.definitions)

    def _participant_scope_now(self):
        return self.participant_scope

    # -- sections
    def indicators(self) -> tuple[Indicator, ...]:
        from engine.expr import types as T

        out = []
        seen = set()
        for i, node in enumerate(self.ctx.data.get("indicators") or ()):
            path = f"indicators[{i}]"
            if not isinstance(node, Mapping):
                continue
            iid = str(node.get("id") or f"indicator_{i + 1}")
            if iid in seen:
                self.ctx.error(self.ctx.pos(node, "id"), f'duplicate indicator id "{iid}"', "spec.duplicate_id",
                               "give each indicator its own id", path + ".id")
            if iid in self.cohort_names:
                self.ctx.error(self.ctx.pos(node, "id"), f'indicator id "{iid}" hides the operation attribute of the '
                               "same name", "spec.duplicate_id", "rename the indicator", path + ".id")
            seen.add(iid)
            value = self.cohort_expr(node, "value", T.ANY, path + ".value")
            num = self.cohort_expr(node, "numerator", T.NUMBER, path + ".numerator")
            den = self.cohort_expr(node, "denominator", T.NUMBER, path + ".denominator")
            if node.get("value") is None and (node.get("numerator") is None or node.get("denominator") is None):
                self.ctx.error(self.ctx.pos(node), f"{path}: an indicator needs `value`, or `numerator` and "
                               "`denominator`", "spec.operation", "add `value: count(participants where ...)`", path)
            kind = node.get("target_kind")
            if kind is not None and kind not in TARGET_KINDS:
                self.ctx.error(self.ctx.pos(node, "target_kind"), f"{path}.target_kind: expected one of "
                               f"{', '.join(TARGET_KINDS)}, got {kind!r}", "spec.operation",
                               "above (>), at_least (>=), at_most (<=) or below (<)", path + ".target_kind")
                kind = None
            if node.get("numerator") is not None:
                for k in ("numerator_label", "denominator_label"):
                    if not (isinstance(node.get(k), str) and node.get(k).strip()):
                        what = "numérateur" if k.startswith("num") else "dénominateur"
                        self.ctx.error(self.ctx.pos(node, "numerator" if k.startswith("num") else "denominator",
                                                    of_key=True),
                                       f"{path} : un taux dit en français qui compte son {what} (`{k}:`), à côté "
                                       "de sa `source:`", "spec.rate_undocumented",
                                       f"ajoutez `{k}: <qui est compté>` (ex. « CE signés dans les 4 semaines »)",
                                       f"{path}.{k}")
            out.append(Indicator(iid, node.get("label"), value, num, den, node.get("unit"), self.src(node, path),
                                 node.get("interpretation"), self.number(node, "target", path), kind,
                                 node.get("numerator_label"), node.get("denominator_label")))
            self.known_indicators.append(iid)
        return tuple(out)

    def checks(self, key: str, cohort: bool) -> tuple[Check, ...]:
        from engine.expr import types as T

        out = []
        for i, node in enumerate(self.ctx.data.get(key) or ()):
            path = f"{key}[{i}]"
            if not isinstance(node, Mapping):
                continue
            cond = (self.cohort_expr(node, "condition", T.BOOLEAN, path + ".condition") if cohort
                    else self.op_expr(node, "condition", T.BOOLEAN, path + ".condition"))
            out.append(Check(str(node.get("id") or f"{key}_{i + 1}"), node.get("label"), cond,
                             self.src(node, path), node.get("interpretation")))
        return tuple(out)

    def capacity(self) -> tuple[CapacityRule, ...]:
        from engine.expr import types as T

        out = []
        for i, node in enumerate(self.ctx.data.get("capacity") or ()):
            path = f"capacity[{i}]"
            if not isinstance(node, Mapping):
                continue
            limit = str(node.get("limit") or "target")
            if limit not in ("target", "maximum"):
                self.ctx.error(self.ctx.pos(node, "limit"), f"{path}.limit: expected target or maximum, got {limit!r}",
                               "spec.operation", "write `limit: maximum` or `limit: target`", path + ".limit")
            per_fte = self.number(node, "per_fte", path)
            value = self.op_expr(node, "value", T.NUMBER, path + ".value")
            if per_fte is None and node.get("value") is None:
                self.ctx.error(self.ctx.pos(node), f"{path}: capacity needs `per_fte` or `value`", "spec.operation",
                               "add `per_fte: 70` (places per ETP)", path)
            activity = node.get("activity")
            if activity is not None and (not isinstance(activity, str) or per_fte is None):
                self.ctx.error(self.ctx.pos(node, "activity"), f"{path}.activity : le nom d'une activité avec "
                               "`per_fte` est attendu", "spec.operation",
                               "`activity: accueil` : seuls les ETP du personnel affecté à cette activité comptent",
                               path + ".activity")
                activity = None
            out.append(CapacityRule(str(node.get("id") or f"capacity_{i + 1}"), node.get("label"), per_fte, value, limit,
                                    self.cohort_expr(node, "actual", T.NUMBER, path + ".actual"),
                                    self.src(node, path), node.get("interpretation"), activity))
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
        if isinstance(msa, Mapping):
            msa_rate = self.number(msa, "rate", "funding.min_staff_allocation", required=True)
            msa_label, msa_src = msa.get("label"), self.src(msa, "funding.min_staff_allocation")
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
        return FundingSpec(share, msa_rate, msa_label, msa_src, sf != "eligible", tuple(docs), tuple(rates), tuple(caps),
                           self.checks_of(f.get("plan_rules") or (), "funding.plan_rules"), tuple(parts))

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

    def payments(self) -> tuple[PaymentRule, ...]:
        from engine.expr import types as T

        out = []
        for i, node in enumerate(self.ctx.data.get("payments") or ()):
            if not isinstance(node, Mapping):
                continue
            path = f"payments[{i}]"
            share = share_expr = None
            raw = node.get("share")
            if isinstance(raw, str) and rate_value(raw) is None:
                # not a number: an operation expression (a parameter fixed by the convention, e.g. `advance_share`)
                share_expr = self.op_expr(node, "share", T.NUMBER, path + ".share")
            else:
                share = self.number(node, "share", path)
            out.append(PaymentRule(str(node.get("id") or f"tranche_{i + 1}"), node.get("label"),
                                   share, str(node.get("due") or "signature"),
                                   bool(node.get("at_most")), self.src(node, path),
                                   node.get("interpretation"), share_expr))
        shares = [p.share for p in out if p.share is not None]
        if shares and sum(shares, Decimal(0)) > 1:
            self.ctx.error(self.ctx.pos(self.ctx.data, "payments"), "payments: the shares add up to more than 100 %",
                           "spec.operation", "the tranches (advance, installment, balance) share the grant: "
                           "e.g. 30% + 50% + 20%", "payments")
        ids = {str(r.get("id")) for r in (self.ctx.data.get("reporting") or ()) if isinstance(r, Mapping)}
        for i, p in enumerate(out):
            if p.due != "signature" and p.due not in ids:
                node = self.ctx.data["payments"][i]
                self.ctx.error(self.ctx.pos(node, "due"), f'payments[{i}].due: "{p.due}" is neither `signature` nor '
                               "a reporting id", "spec.operation",
                               "declare the review in `reporting:` (e.g. intermediate_review) or write `signature`",
                               f"payments[{i}].due")
        return tuple(out)

    def reporting(self) -> tuple[ReportingRule, ...]:
        from engine.expr import types as T

        out = []
        for i, node in enumerate(self.ctx.data.get("reporting") or ()):
            if not isinstance(node, Mapping):
                continue
            path = f"reporting[{i}]"
            rid = str(node.get("id") or f"report_{i + 1}")
            after = node.get("after")
            if after is not None and str(after) not in self.op_names:
                self.ctx.error(self.ctx.pos(node, "after"), f"{path}.after: unknown operation date {after!r}",
                               "spec.operation", "use an operation date attribute such as convention_end",
                               path + ".after")
            if node.get("due") is not None and (node.get("within") is not None or after is not None):
                # "dans les 3 mois qui suivent la date de fin effective ... soit le 31/03/2028": the fixed date
                # assumes the longest convention; the review is due from the operation's actual end
                self.ctx.error(self.ctx.pos(node, "due"), f"{path}: `due` and `within`/`after` together (the fixed "
                               "date would win over the one computed from the operation)", "spec.reporting_due",
                               "keep `within` + `after: convention_end` for a delay from the actual end, or `due` "
                               "for a date the text fixes, not both", path + ".due")
            event = node.get("event")
            where = every = None
            if event is not None:
                event = str(event)
                et = (self.ctx.fields.get("events") or {}).get(event)
                if et is None:
                    from engine.errors import did_you_mean

                    self.ctx.error(self.ctx.pos(node, "event"), f'{path}.event: unknown event type "{event}"',
                                   "spec.operation", did_you_mean(event, self.ctx.fields.get("events") or {}) or
                                   "declare it in the vocabulary `events:` or in `inputs.events`", path + ".event")
                elif node.get("where") is not None:
                    names = {f: a.type for f, a in et.fields.items()}
                    names.update({"type": T.STRING, "date": T.DATE, "today": T.DATE})
                    where = self.ctx.expr(node, "where", T.Scope(names=names, definitions={}), T.BOOLEAN,
                                          path + ".where")
                ev = node.get("every")
                if ev in ("week", "month", "quarter", "year"):
                    every = ev
                elif ev is not None:
                    every = self.ctx.duration(node, "every", path)
                else:
                    every = None  # over the whole convention
            mn, mx = node.get("min"), node.get("max")
            for k, v in (("min", mn), ("max", mx)):
                if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                    self.ctx.error(self.ctx.pos(node, k), f"{path}.{k}: expected a whole number, got {v!r}",
                                   "spec.operation", f"write e.g. `{k}: 2`", f"{path}.{k}")
            over = node.get("over")
            if over is not None and over != "convention":
                self.ctx.error(self.ctx.pos(node, "over"), f"{path}.over : seule la valeur `convention` est prise en "
                               f"charge, pas {over!r}", "spec.reporting_over",
                               "écrivez `over: convention` pour un engagement sur toute la durée de l'opération",
                               path + ".over")
            if over is not None and node.get("condition") is None:
                self.ctx.error(self.ctx.pos(node, "over"), f"{path}.over : un engagement sur la durée de la "
                               "convention a besoin d'une `condition` (les événements comptés avec `event:` sans "
                               "`every:` le sont déjà sur toute la convention)", "spec.reporting_over",
                               "ajoutez `condition: comites_tenus >= 3`, ou retirez `over:`", path + ".over")
            sev = node.get("max_severity")
            if sev is not None and sev not in ("error", "warning"):
                self.ctx.error(self.ctx.pos(node, "max_severity"), f"{path}.max_severity : `error` ou `warning` "
                               f"attendu, pas {sev!r}", "spec.severity",
                               "`warning` : un dépassement du maximum est signalé sans être bloquant", path + ".max_severity")
            if sev is not None and mx is None:
                self.ctx.error(self.ctx.pos(node, "max_severity"), f"{path}.max_severity : sans `max:`, il n'y a pas "
                               "de maximum à signaler", "spec.severity", "ajoutez `max: 4` ou retirez `max_severity:`",
                               path + ".max_severity")
            if node.get("reachable") is not None and over is None:
                self.ctx.error(self.ctx.pos(node, "reachable"), f"{path}.reachable : seul un engagement sur la durée "
                               "de la convention (`over: convention`) peut être jugé impossible avant la fin",
                               "spec.reporting_over", "ajoutez `over: convention`, ou retirez `reachable:`",
                               path + ".reachable")
            condition = self.cohort_expr(node, "condition", T.BOOLEAN, path + ".condition")
            settles = reachable = None
            if over == "convention" and condition is not None:
                from engine.operation.commitments import settles as settles_of

                settles = settles_of(_parse(condition.text), self._count_names(),
                                     tuple(self.ctx.fields.get("parameters") or ()))
                reachable = self.cohort_expr(node, "reachable", T.BOOLEAN, path + ".reachable")
            timing = self._recurring_timing(node, path, event)
            out.append(ReportingRule(rid, node.get("label"), self.ctx.date(node, "due", path),
                                     self.ctx.duration(node, "within", path), None if after is None else str(after),
                                     str(node.get("submitted") or f"{rid}_date"),
                                     condition,
                                     self.src(node, path), node.get("interpretation"), event,
                                     where, every, mn if isinstance(mn, int) else None,
                                     mx if isinstance(mx, int) else None,
                                     "convention" if over == "convention" else None,
                                     "warning" if sev == "warning" else "error", settles, reachable, *timing))
        return tuple(out)

    def _count_names(self) -> set[str]:
        """The operation's integer names (attributes counting what was held or done, ``full_time_posts``...)."""
        from engine.expr import types as T

        return {n for n, t in self.op_scope.names.items() if t == T.INTEGER}

    def _recurring_timing(self, node: Mapping, path: str, event: str | None) -> tuple:
        """``(partial_windows, max_gap, before_each)`` of a reporting item that counts operation events: how a window
        cut by the convention's start or end is judged, the longest gap allowed between consecutive events (07:38,
        04:39 read as a rhythm), and the event type each of which needs its own ``event`` dated before it (07:80)."""
        pw = node.get("partial_windows", "skip")
        if pw not in ("skip", "check"):
            self.ctx.error(self.ctx.pos(node, "partial_windows"), f"{path}.partial_windows : `skip` ou `check` "
                           f"attendu, pas {pw!r}", "spec.operation",
                           "`skip` (défaut) : une période coupée par le début ou la fin de la convention n'exige pas "
                           "le minimum ; `check` : elle l'exige", path + ".partial_windows")
            pw = "skip"
        gap = self.ctx.duration(node, "max_gap", path)
        before = node.get("before_each")
        for key, value in (("max_gap", node.get("max_gap")), ("before_each", before)):
            if value is None:
                continue
            if event is None:
                self.ctx.error(self.ctx.pos(node, key), f"{path}.{key} : il faut `event:` (le type d'événement "
                               "contrôlé)", "spec.operation", "ajoutez `event: follow_up_committee`", f"{path}.{key}")
            for other in ("every", "min", "max", "condition", "due", "within"):
                if node.get(other) is not None:
                    self.ctx.error(self.ctx.pos(node, key), f"{path}.{key} et `{other}:` ensemble : deux lectures "
                                   "du même engagement", "spec.operation",
                                   f"gardez `{key}:` seul (avec `event:`), ou retirez-le", f"{path}.{key}")
        if gap is not None and before is not None:
            self.ctx.error(self.ctx.pos(node, "before_each"), f"{path} : `max_gap` et `before_each` ensemble",
                           "spec.operation", "un élément de bilan par règle", path + ".before_each")
        if before is not None:
            before = str(before)
            if before not in (self.ctx.fields.get("events") or {}):
                from engine.errors import did_you_mean

                self.ctx.error(self.ctx.pos(node, "before_each"), f'{path}.before_each : type d\'événement inconnu '
                               f'"{before}"', "spec.operation",
                               did_you_mean(before, self.ctx.fields.get("events") or {}) or
                               "déclarez-le dans `events:` du vocabulaire ou dans `inputs.events`",
                               path + ".before_each")
        return pw, gap, before


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


def compile_sections(ctx) -> OperationSections:
    """Compile every operation section of ``ctx``'s document (once; cached on the context)."""
    cached = getattr(ctx, "_operation_sections", None)
    if cached is not None:
        return cached
    c = _Compiler(ctx)
    ind = c.indicators()
    res = OperationSections(ind, c.checks("cohort_constraints", cohort=True), c.capacity(), c.funding(),
                            c.payments(), c.reporting(), (c.op_scope, c.participant_scope))
    ctx._operation_sections = res
    return res


def compile_indicators(ctx, value):
    return compile_sections(ctx).indicators


def compile_cohort_constraints(ctx, value):
    return compile_sections(ctx).cohort_constraints


def compile_capacity(ctx, value):
    return compile_sections(ctx).capacity


def compile_funding(ctx, value):
    return compile_sections(ctx).funding


def compile_payments(ctx, value):
    return compile_sections(ctx).payments


def compile_reporting(ctx, value):
    return compile_sections(ctx).reporting


def sections_of(spec) -> OperationSections:
    """The operation sections of a compiled spec (empty ones when the spec has none)."""
    s = spec.sections or {}
    return OperationSections(tuple(s.get("indicators") or ()), tuple(s.get("cohort_constraints") or ()),
                             tuple(s.get("capacity") or ()), s.get("funding"), tuple(s.get("payments") or ()),
                             tuple(s.get("reporting") or ()))

