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

The compiler is split by subject: the scopes and the search for aggregates (:mod:`engine.operation.scopes`), the
``funding`` section (:mod:`engine.operation.compile_funding`), the ``reporting`` section
(:mod:`engine.operation.compile_reporting`); this module holds the core (cohort expressions, indicators, checks,
capacity, payments) and the entry points of ``SECTION_COMPILERS``.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Mapping

from engine.errors import Diagnostic, EngineError
from engine.spec.model import Expr
from engine.expr.parser import parse

from engine.operation.model import (EVALUATION_NAMES, AGGREGATES, PLACEHOLDER, BUILTIN_NUMBERS, BUILTIN_INTEGERS, BUILTIN_DATES, STAFF_FIELDS,
                      SECTIONS, Aggregate, Breakdown, CohortExpr, Indicator, TARGET_KINDS, Check, CapacityRule, ShareRule,
                      FlatRateRule, CapRule, PartRule, Doc, FundingSpec, PaymentRule, ReportingRule,
                      OperationSections)  # noqa: F401 - re-exported
from engine.operation.compile_funding import FundingSections, rate_value  # noqa: F401 - re-exported
from engine.operation.compile_reporting import ReportingSections
from engine.operation.scopes import (aggregate_shape, canonical, definition_types, find_aggregates,  # noqa: F401 - re-exported
                                     make_scopes, operation_names)


class _Compiler(FundingSections, ReportingSections):
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
                tree = parse(text, e.origin)
            except EngineError as err:
                self.ctx.bag.extend(err.diagnostics)
                return None
        found, stray = find_aggregates(tree)
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
                    agg = Aggregate(key_, canonical(call.func), w, v, sub)
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
            by = self.breakdowns(node, path, (value, num, den))
            out.append(Indicator(iid, node.get("label"), value, num, den, node.get("unit"), self.src(node, path),
                                 node.get("interpretation"), self.number(node, "target", path), kind,
                                 node.get("numerator_label"), node.get("denominator_label"), by))
            self.known_indicators.append(iid)
        return tuple(out)

    def breakdowns(self, node, path, exprs) -> tuple[Breakdown, ...]:
        """``by:`` of an indicator: one participant expression, or a list of them, each a text or a mapping
        ``{value: <expression>, label: <French>, labels: {<value>: <French>}}`` (specs/README.md, « Indicators »)."""
        from engine.expr import types as T

        raw = node.get("by")
        if raw is None:
            return ()
        items = raw if isinstance(raw, list) else [raw]
        out: list[Breakdown] = []
        reads = sorted({n for ce in exprs if ce is not None for n in (getattr(ce.rewritten, "names", ()) or ())
                        if n in self.known_indicators})
        if reads:
            self.ctx.error(self.ctx.pos(node, "by"), f"{path}.by : un indicateur ventilé ne peut pas lire un autre "
                           f"indicateur ({', '.join(reads)}) : sa valeur par groupe serait celle de toute la cohorte",
                           "spec.breakdown", "écrivez l'agrégat lui-même dans l'indicateur (count(participants where ...))",
                           path + ".by")
            return ()
        seen = set()
        for j, it in enumerate(items):
            p = f"{path}.by[{j}]" if isinstance(raw, list) else f"{path}.by"
            holder, key = (it, "value") if isinstance(it, Mapping) else ((items if isinstance(raw, list) else node),
                                                                          j if isinstance(raw, list) else "by")
            if isinstance(it, Mapping) and it.get("value") is None:
                self.ctx.error(self.ctx.pos(it), f"{p} : `value:` (l'attribut ou la définition qui répartit les "
                               "participants) est requis", "spec.breakdown", "écrivez `value: sex`", p + ".value")
                continue
            e = self.ctx.expr(holder, key, self._participant_scope_now(), T.ANY,
                              p + (".value" if isinstance(it, Mapping) else ""))
            if e is None:
                continue
            t = e.compiled.type
            if isinstance(t, T.EnumType):
                values: tuple = tuple(t.values)
            elif t == T.BOOLEAN:
                values = (True, False)
            elif t in (T.STRING, T.INTEGER, T.NUMBER, T.DATE):
                values = ()
            else:
                self.ctx.error(self.ctx.pos(holder, key), f"{p} : la ventilation se fait selon une valeur simple "
                               f"(un texte, une valeur oui/non, un nombre ou une date), pas {t.describe()}",
                               "spec.breakdown", "ventilez selon un attribut ou une définition, ex. `by: sex`", p)
                continue
            text = " ".join(e.text.split())
            of_all = self._breakdown_of_all(it, p, exprs[2] is not None)
            bid = f"{text}_share" if of_all else text  # a share of all beside the same breakdown by group
            if bid in seen:
                self.ctx.error(self.ctx.pos(holder, key), f"{p} : « {text} » est déjà une ventilation de cet "
                               "indicateur", "spec.breakdown", "retirez le doublon", p)
                continue
            seen.add(bid)
            declared = values
            if isinstance(it, Mapping) and it.get("values") is not None:
                values = self._breakdown_values(it, p, t, declared, text)
            decl = ((self.ctx.fields.get("attributes") or {}).get(text)
                    or (self.ctx.fields.get("definitions") or {}).get(text))
            labels = self._breakdown_labels(it, p, t, declared, text, getattr(decl, "decl", None))
            label = it.get("label") if isinstance(it, Mapping) else None
            if label is None:  # the label of its attribute or definition, in French
                label = getattr(decl, "label", None)
            out.append(Breakdown(bid, label, e.compiled, text, values, labels, of_all))
        return tuple(out)

    def _breakdown_of_all(self, it, p, is_rate: bool) -> bool:
        """``denominator:`` of a breakdown: `group` (the default: each group's own denominator) or `all` (the whole
        indicator's: each value's share of all), on a rate only."""
        mode = it.get("denominator") if isinstance(it, Mapping) else None
        if mode is None:
            return False
        if mode not in ("group", "all") or not is_rate:
            self.ctx.error(self.ctx.pos(it, "denominator"), f"{p}.denominator : `group` (le dénominateur de "
                           "chaque groupe) ou `all` (celui de tout l'indicateur), sur un taux seulement",
                           "spec.breakdown", "écrivez `denominator: all` sur la ventilation d'un taux "
                           "(numerator/denominator)", p + ".denominator")
        return mode == "all"

    def _breakdown_labels(self, it, p, t, declared: tuple, text: str, decl) -> dict:
        """The French label of some values: the vocabulary's `value_labels:` of an enum attribute, then the
        breakdown's own `labels:` (a key that is not one of the declared values is an error)."""
        labels: dict = {}
        if isinstance(decl, Mapping) and isinstance(decl.get("value_labels"), Mapping):
            labels.update({str(k): str(v) for k, v in decl["value_labels"].items()})
        given = it.get("labels") if isinstance(it, Mapping) else None
        if given is None:
            return labels
        if not isinstance(given, Mapping):
            self.ctx.error(self.ctx.pos(it, "labels"), f"{p}.labels : une table valeur -> libellé est attendue",
                           "spec.breakdown", "écrivez `labels: {F: Femmes, M: Hommes}`", p + ".labels")
            return labels
        for k0, lab in given.items():
            k = _label_key(k0, t)
            if k is None or (declared and k not in declared):
                shown = ", ".join("true" if v is True else "false" if v is False else str(v) for v in declared)
                self.ctx.error(self.ctx.pos(given, k0, of_key=True), f"{p}.labels : « {k0} » n'est pas une "
                               f"valeur de {text}" + (f" ({shown})" if shown else ""), "spec.breakdown",
                               "corrigez la valeur ou retirez-la", f"{p}.labels.{k0}")
                continue
            labels[k] = str(lab)
        return labels

    def _breakdown_values(self, it, p, t, declared: tuple, text: str) -> tuple:
        """``values:`` of a breakdown: the rows shown first, in this order (e.g. only the dynamic exits among the
        exit types, or age bands in their order); a value outside the declared ones of an enum is an error."""
        raw = it.get("values")
        if not isinstance(raw, list) or not raw:
            self.ctx.error(self.ctx.pos(it, "values"), f"{p}.values : une liste de valeurs est attendue",
                           "spec.breakdown", "écrivez `values: [cdi, cdd_6_months_or_more]`", p + ".values")
            return declared
        out = []
        for j, v in enumerate(raw):
            k = _label_key(v, t)
            if k is None or (declared and k not in declared):
                self.ctx.error(self.ctx.pos(raw, j), f"{p}.values : « {v} » n'est pas une valeur de {text}",
                               "spec.breakdown", "corrigez la valeur ou retirez-la", f"{p}.values[{j}]")
                continue
            if k not in out:
                out.append(k)
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


def _label_key(key, t):
    """A key of a breakdown's ``labels:`` (always a text in YAML) as the value it names: true/false for a boolean,
    a number for a number, a date for a date; None when it cannot be one."""
    from datetime import date
    from engine.expr import types as T

    k = str(key)
    if t == T.BOOLEAN:
        return {"true": True, "false": False}.get(k)
    if t in (T.INTEGER, T.NUMBER):
        try:
            return Decimal(k)
        except ArithmeticError:
            return None
    if t == T.DATE:
        try:
            return date.fromisoformat(k)
        except ValueError:
            return None
    return k


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

