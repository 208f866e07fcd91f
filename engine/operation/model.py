"""The compiled operation sections of a spec (frozen dataclasses), built by :mod:`engine.operation.compile` and read by
:mod:`engine.operation.report`: indicators, cohort constraints, capacity, funding, payments, reporting. The format is in
specs/README.md ("Operations and cohorts")."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

from engine.spec.model import Expr, Source

AGGREGATES = ("count", "sum", "avg", "min", "max", "any", "all")
PLACEHOLDER = "zz_participants_agg_"

# built-in operation names (see specs/README.md) and their type names
BUILTIN_NUMBERS = ("fte", "direct_staff_costs", "flat_rate_costs", "other_costs", "eligible_costs", "total_funding",
                   "department_funding", "grant", "max_grant", "planned_expenses", "spent_expenses",
                   "retained_expenses", "retained_eligible_costs")
BUILTIN_INTEGERS = ("convention_months", "full_time_posts")
BUILTIN_DATES = ("convention_start", "convention_end")  # the record's, else the spec's convention
STAFF_FIELDS = ("id", "role", "cost", "allocation", "work_time", "fte", "support_function", "activity")
# per participant, what the beneficiary evaluation (engine.beneficiary.evaluate) says, usable in participant expressions
# (``deadlines``: a record of each deadline's status by id, e.g. ``deadlines.review_6_months == "met"``)
EVALUATION_NAMES = ("eligible", "path_legal", "current_phase", "deadlines")
SECTIONS = ("indicators", "cohort_constraints", "capacity", "funding", "payments", "reporting")


# --------------------------------------------------------------------------------------------- compiled sections

@dataclass(frozen=True)
class Aggregate:
    """One aggregate over the cohort: ``func`` (count, sum, ...), an optional participant filter ``where`` and an
    optional projected ``value`` (both compiled in the participant scope). ``key`` identifies equal aggregates
    (computed once)."""

    key: str
    func: str
    where: Any = None  # CompiledExpr | None
    value: Any = None  # CompiledExpr | None
    text: str = ""
    by: Any = None  # CompiledExpr | None: accumulated per value of this participant expression (a breakdown)


@dataclass(frozen=True)
class Breakdown:
    """``by:`` of an indicator: the indicator computed again for each value of ``expr`` (a participant expression:
    an attribute or a definition, e.g. ``sex`` or ``contract_type``). ``values`` are the declared values in order (an
    enum's, or true/false), listed even when no participant has them; ``labels`` the French label of some values."""

    id: str
    label: str | None
    expr: Any  # CompiledExpr (participant scope)
    text: str
    values: tuple = ()
    labels: Mapping[Any, str] = field(default_factory=dict)
    of_all: bool = False  # a rate: each row's numerator over the whole indicator's denominator (a share of all)


def breakdown_key(k) -> str:
    """A breakdown value as a name (a row id ``employees.sex=F``, an example's path ``rows.true``): JSON's
    spelling (``true``/``false``, an ISO date, a plain decimal), « inconnu » for unknown values."""
    if k is None:
        return "inconnu"
    if k is True or k is False:
        return "true" if k else "false"
    if isinstance(k, date):
        return k.isoformat()
    if isinstance(k, Decimal):
        return format(k.normalize(), "f")
    return str(k)


def grouped_exprs(ind: "Indicator", b: Breakdown) -> list:
    """The cohort expressions of ``ind`` computed per group of ``b``: its value, or its numerator and, unless each
    row divides by the whole indicator's denominator (``denominator: all``), its denominator."""
    return [ce for ce in (ind.value, ind.numerator, None if b.of_all else ind.denominator) if ce is not None]


def grouped(a: "Aggregate", b: Breakdown) -> "Aggregate":
    """The aggregate ``a`` accumulated per value of the breakdown ``b`` (its own key: computed once per breakdown)."""
    return Aggregate(f"{a.key} | by {b.text}", a.func, a.where, a.value, a.text, b.expr)


@dataclass(frozen=True)
class CohortExpr:
    """A cohort expression: ``expr`` as written (for display and positions), ``fn`` the compiled rewrite reading
    ``aggregates`` by placeholder name."""

    expr: Expr
    rewritten: Any  # CompiledExpr over the cohort scope + placeholders
    aggregates: tuple[tuple[str, Aggregate], ...]  # (placeholder name, aggregate)

    @property
    def text(self) -> str:
        return self.expr.text


@dataclass(frozen=True)
class Indicator:
    id: str
    label: str | None
    value: CohortExpr | None = None
    numerator: CohortExpr | None = None
    denominator: CohortExpr | None = None
    unit: str | None = None
    source: Source | None = None
    interpretation: str | None = None
    target: Decimal | None = None
    target_kind: str | None = None  # above | at_least | at_most | below | None (informative)
    numerator_label: str | None = None  # for a rate: who is counted above and below the line, in French
    denominator_label: str | None = None
    by: tuple[Breakdown, ...] = ()  # the indicator again for each value of these participant expressions


TARGET_KINDS = ("above", "at_least", "at_most", "below")


@dataclass(frozen=True)
class Check:
    """A condition that must be true (a cohort constraint, a funding-plan rule, a reporting check)."""

    id: str
    label: str | None
    condition: Any  # CohortExpr or Expr
    source: Source | None = None
    interpretation: str | None = None


@dataclass(frozen=True)
class CapacityRule:
    id: str
    label: str | None
    per_fte: Decimal | None = None
    value: Expr | None = None
    limit: str = "target"
    actual: CohortExpr | None = None
    source: Source | None = None
    interpretation: str | None = None
    activity: str | None = None  # per_fte counts only the staff assigned to this activity


@dataclass(frozen=True)
class ShareRule:
    label: str | None
    share: Decimal | None = None
    by_fund: Mapping[str, Decimal] = field(default_factory=dict)
    cases: tuple[tuple[Expr, Decimal], ...] = ()
    source: Source | None = None
    interpretation: str | None = None


@dataclass(frozen=True)
class FlatRateRule:
    id: str
    label: str | None
    rate: Decimal
    source: Source | None = None
    covers: tuple[str, ...] = ()  # "other_costs" (every cost but staff) and/or cost category ids it replaces


@dataclass(frozen=True)
class CapRule:
    id: str
    label: str | None
    amount: Any  # Expr (on grant) or CohortExpr (on earned)
    on: str = "grant"
    source: Source | None = None
    interpretation: str | None = None


@dataclass(frozen=True)
class PartRule:
    id: str
    label: str | None
    weight: Decimal
    objective: Expr | None
    achieved: CohortExpr | None
    mode: str = "proportional"
    threshold: Decimal | None = None
    source: Source | None = None
    interpretation: str | None = None


@dataclass(frozen=True)
class Doc:
    """An eligible cost category, shown in the report with its source. With ``amount`` (an operation expression,
    euros) the category adds its declared costs to the eligible base, within ``maximum`` when given; without, it is
    documentation (the staff costs are ``direct_staff_costs``)."""

    id: str
    label: str | None
    excluded: bool = False
    source: Source | None = None
    amount: Expr | None = None
    maximum: Expr | None = None
    interpretation: str | None = None


@dataclass(frozen=True)
class ExpensesRule:
    """``funding.expenses``: planned against incurred expenses, line by line (:mod:`engine.operation.expenses`);
    ``paid_by`` the reporting id whose transmission date the expenses must be paid by (None: the report date)."""

    label: str | None
    paid_by: str | None
    source: Source | None = None
    interpretation: str | None = None


@dataclass(frozen=True)
class FundingSpec:
    share: ShareRule | None = None
    min_staff_allocation: Decimal | None = None
    min_staff_allocation_label: str | None = None
    min_staff_allocation_source: Source | None = None
    min_staff_allocation_funds: tuple[str, ...] = ()  # only for operations co-financed by these funds (empty: all)
    support_functions_excluded: bool = True
    eligible_costs: tuple[Doc, ...] = ()
    flat_rates: tuple[FlatRateRule, ...] = ()
    caps: tuple[CapRule, ...] = ()
    plan_rules: tuple[Check, ...] = ()
    conditional: tuple[PartRule, ...] = ()
    expenses: ExpensesRule | None = None


@dataclass(frozen=True)
class PaymentRule:
    id: str
    label: str | None
    share: Decimal | None
    due: str  # "signature" or a reporting id
    at_most: bool = False
    source: Source | None = None
    interpretation: str | None = None
    share_expr: Expr | None = None  # the share as an operation expression (e.g. a parameter), when not a number


@dataclass(frozen=True)
class ReviewOpening:
    """The earliest date a review counts (« à l'issue de la première année », 01:143): a ``date`` the text fixes, or
    the operation date ``after`` (convention_start) plus ``plus`` (a Duration; None: that day itself)."""

    date: Any = None
    after: str | None = None
    plus: Any = None


@dataclass(frozen=True)
class ReportingRule:
    id: str
    label: str | None
    due: Any = None  # date
    within: Any = None  # Duration
    after: str | None = None  # an operation date attribute (convention_end)
    submitted: str | None = None  # the operation attribute holding the submission date
    condition: CohortExpr | None = None
    source: Source | None = None
    interpretation: str | None = None
    event: str | None = None  # an operation event type counted per window (committees, reports sent...)
    where: Any = None  # CompiledExpr over the event's fields
    every: Any = None  # "week" | "month" | "quarter" | "year" | Duration
    min: int | None = None
    max: int | None = None
    over: str | None = None  # "convention": a commitment over the whole operation (pending until it ends)
    max_severity: str = "error"  # "warning": more than `max` is signalled, the status stays met
    settles: str | None = None  # over: convention -- "at_least" | "at_most" | "at_end" (engine.operation.commitments)
    reachable: CohortExpr | None = None  # over: convention -- false: the target can no longer be reached in time
    partial_windows: str = "skip"  # "skip": a window cut by the convention's start or end needs no minimum | "check"
    max_gap: Any = None  # Duration: the longest allowed gap between consecutive events (start and end included)
    before_each: str | None = None  # an event type each of which needs its own `event` dated before it
    not_before: ReviewOpening | None = None  # a review: submitted before this date, it is `early` (does not count)
    starts: str | None = None  # events counted per window: an operation date the rhythm runs from (signature_date)
    counted_on: str | None = None  # events counted per window: a date field of the event (the period a document covers)

    @property
    def kind(self) -> str:
        """``check`` (a cohort condition), ``recurring`` (events per window), ``review`` (a due date) or ``manual``
        (nothing the engine can check: listed for the record)."""
        if self.condition is not None:
            return "check"
        if self.event is not None:
            return "recurring"
        if self.due is not None or self.after:
            return "review"  # `after` without `within`: the text gives no deadline, the submission date still counts
        return "manual"


@dataclass(frozen=True)
class OperationSections:
    indicators: tuple[Indicator, ...] = ()
    cohort_constraints: tuple[Check, ...] = ()
    capacity: tuple[CapacityRule, ...] = ()
    funding: FundingSpec | None = None
    payments: tuple[PaymentRule, ...] = ()
    reporting: tuple[ReportingRule, ...] = ()
    scopes: Any = None  # (operation scope, cohort scope, participant scope)
