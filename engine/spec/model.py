"""The compiled spec: what a programme ("dispositif") says, once its YAML has been checked and compiled.

Everything here is a frozen dataclass built once per spec by :mod:`engine.spec.compile` and then only read: the
per-record evaluation (:mod:`engine.beneficiary.evaluate`), the operations and cohorts (:mod:`engine.operation.report`), the diff and the
renderers consume it. Expressions are compiled once (:class:`Expr` wraps the expression compiler's ``CompiledExpr``
with its text and its position in the spec file). The phase graph is also compiled into plain lookup tables
(:class:`PhaseTables`) so that checking a history never queries networkx.

Field names are English; ``label``/``explanation``/``interpretation`` are the French texts shown to case workers.

Durations are the runtime's ``Duration(months, days)`` (``engine.expr.runtime``); dates are ``datetime.date``; money and
rates are ``decimal.Decimal``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Mapping, Union

if TYPE_CHECKING:  # the expression language is another engineer's module; imported lazily at run time
    from engine.expr.runtime import Duration
    from engine.expr.types import Scope, Type

# "stay" and "entry": obligations only; "stay": one window a period (consecutive stays merged), "entry": one window
# each entry into a `during` phase (each contract of a renewed contract is checked on its own)
CALENDAR_PERIODS = ("week", "month", "quarter", "year", "stay", "entry")
# a deadline's `milestone` ("à 6 mois") without `tolerance`: met from 1 month before to 1 month after it
MILESTONE_TOLERANCE_MONTHS = 1
ANCHOR_KINDS = ("phase", "event", "attribute")


# --------------------------------------------------------------------------------------------- positions, sources

@dataclass(frozen=True)
class Position:
    """A place in a spec file (1-based line and column), to point a case worker or an editor at a rule."""

    file: str | None = None
    line: int | None = None
    col: int | None = None

    def __str__(self) -> str:
        parts = [self.file or "<spec>"]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)


@dataclass(frozen=True)
class Source:
    """Where a rule comes from: ``text`` is the reference into the call for projects (``02-xxx.txt:14`` or
    ``02-xxx.txt:14-16``, or None when the spec gives none) and ``pos`` is where the rule is written in the spec file.

    ``str(source)`` is the reference shown to case workers (the ``source`` of a reason in the output).
    """

    text: str | None
    pos: Position = field(default_factory=Position)

    def __str__(self) -> str:
        return self.text or ""

    @property
    def seed_file(self) -> str | None:
        """The seed file name of the reference (``02-xxx.txt``), or None."""
        if not self.text:
            return None
        return self.text.split(":", 1)[0]


@dataclass(frozen=True)
class Expr:
    """A compiled expression of the spec: its text as written (what a case worker reads), the compiled callable
    (``fn(env, today)``), its static type, the names it reads, and where it is written (``origin`` maps offsets of
    ``text`` to file positions, for positioned evaluation errors)."""

    text: str
    compiled: Any  # engine.expr.compiler.CompiledExpr
    origin: Any = None  # engine.errors.TextOrigin
    pos: Position = field(default_factory=Position)

    @property
    def fn(self):
        return self.compiled.fn

    @property
    def type(self) -> "Type":
        return self.compiled.type

    @property
    def names(self) -> frozenset[str]:
        return frozenset(getattr(self.compiled, "names", ()) or ())

    def __call__(self, env, today: date):
        return self.compiled.fn(env, today)

    def __str__(self) -> str:
        return self.text


# --------------------------------------------------------------------------------------------- declarations

@dataclass(frozen=True)
class Attribute:
    """A piece of data a record may carry (``birth_date``, ``rsa``...) with its type. Absent or null in a record:
    *unknown* (the decision may then be unknown, naming this attribute as missing)."""

    name: str
    type: "Type"
    decl: Mapping[str, Any]  # the declaration as written ({type: enum, values: [...]}, ...), plain Python values
    label: str | None = None
    source: Source | None = None
    origin: str = "spec"  # "spec" (inputs of this spec) or the vocabulary id it was imported from


@dataclass(frozen=True)
class EventType:
    """A kind of dated event a record's ``events`` list may contain (an appointment, a collective action...).
    Every event has ``type`` and ``date``; ``fields`` are the others."""

    name: str
    label: str | None
    fields: Mapping[str, Attribute]
    source: Source | None = None


@dataclass(frozen=True)
class Parameter:
    """A number the text does not give (e.g. "plusieurs freins"): no default, supplied at evaluation (``--param``
    or an example's ``params``). The ``interpretation`` says why it is a parameter."""

    name: str
    type: "Type"
    decl: Mapping[str, Any]
    label: str | None = None
    interpretation: str | None = None
    source: Source | None = None


@dataclass(frozen=True)
class Definition:
    """A named expression (``jeune: age(birth_date, today) <= 25``) usable by name in every expression of the spec."""

    name: str
    expr: Expr
    label: str | None = None
    interpretation: str | None = None
    source: Source | None = None
    origin: str = "spec"  # "spec" or the vocabulary id it was imported from


@dataclass(frozen=True)
class Session:
    """A session of the call for projects: applications accepted from ``opens`` to ``closes`` (inclusive)."""

    id: str
    label: str | None
    opens: date | None
    closes: date | None
    source: Source | None = None


@dataclass(frozen=True)
class Convention:
    """The convention between the Département and the operator: its period and its minimum and maximum duration
    (``min_duration``: a text that fixes the length, « fixée à 2 ans », rejects a shorter convention).
    ``events_after_end``: the beneficiary event types the text still expects after the end (``("*",)``: all);
    any other event, and any phase entry, dated outside ``start``..``end`` is an ``outside_convention`` violation."""

    start: date | None
    end: date | None
    max_duration: "Duration | None" = None
    tacit_renewal: bool | None = None
    source: Source | None = None
    events_after_end: tuple[str, ...] = ()
    min_duration: "Duration | None" = None


# --------------------------------------------------------------------------------------------- eligibility

@dataclass(frozen=True)
class RuleLeaf:
    """One eligibility condition ("Réside dans le Pas-de-Calais"): true, false or unknown for a record.
    ``path`` is the dotted path of the rule in the spec (``eligibility.beneficiary.all[0]``)."""

    id: str
    label: str | None
    expr: Expr
    source: Source | None = None
    interpretation: str | None = None
    explanation: str | None = None
    path: str = ""
    pos: Position = field(default_factory=Position)
    # when the condition is assessed (written on the rule or on a group around it, 08:8): None or "evaluation" =
    # at the evaluation date (`--at`); "entry" = at the date of entry into the programme (the first history entry)
    assessed_at: str | None = None


@dataclass(frozen=True)
class RuleGroup:
    """A group of conditions: ``all`` (every member), ``any`` (at least one) or ``not`` (one member, negated).
    Kleene logic: the group is unknown only when its known members do not decide it."""

    op: str  # "all" | "any" | "not"
    children: tuple["Rule", ...]
    id: str | None = None
    label: str | None = None
    source: Source | None = None
    interpretation: str | None = None
    explanation: str | None = None
    path: str = ""
    pos: Position = field(default_factory=Position)
    assessed_at: str | None = None  # as written on the group (its leaves carry the value they inherit)


Rule = Union[RuleLeaf, RuleGroup]


def iter_rules(rule: Rule | None):
    """Every rule of a tree, depth first, groups before their members."""
    if rule is None:
        return
    stack = [rule]
    while stack:
        r = stack.pop()
        yield r
        if isinstance(r, RuleGroup):
            stack.extend(reversed(r.children))


# --------------------------------------------------------------------------------------------- phases

@dataclass(frozen=True)
class Phase:
    """A stage of the path through the programme (orientation, accueil, contrat...). A path starts in an
    ``initial`` phase and ends in a ``final`` one. ``min_duration``/``max_duration`` bound one stay;
    ``max_renewals`` bounds the self-transitions (renewals of the same phase) and ``total_max_duration`` the
    consecutive stays including renewals."""

    id: str
    label: str | None
    initial: bool = False
    final: bool = False
    min_duration: "Duration | None" = None
    max_duration: "Duration | None" = None
    max_renewals: int | None = None
    total_max_duration: "Duration | None" = None
    source: Source | None = None
    interpretation: str | None = None
    explanation: str | None = None
    events_after: tuple[str, ...] | None = None  # final phase: the event types allowed after entering it (None: any)
    fields: Mapping[str, "Attribute"] = field(default_factory=dict)  # what a history entry of this phase may carry
    pos: Position = field(default_factory=Position)
    field_pos: Mapping[str, Position] = field(default_factory=dict)  # key -> position of its value


@dataclass(frozen=True)
class Transition:
    """An allowed move from one phase to another (or to itself: a renewal). ``within``: the move must happen at most
    that long after entering ``from_phase`` (inclusive); ``after``: not before that long; ``guard``: a condition that
    must be true on the transition date (in scope: ``phase_start``, ``transition_date``). ``index`` is its position
    in the spec's ``transitions`` list."""

    index: int
    from_phase: str
    to_phase: str
    label: str | None = None
    within: "Duration | None" = None
    after: "Duration | None" = None
    guard: Expr | None = None
    source: Source | None = None
    interpretation: str | None = None
    pos: Position = field(default_factory=Position)
    field_pos: Mapping[str, Position] = field(default_factory=dict)  # key -> position of its value
    id: str | None = None
    explanation: str | None = None

    @property
    def is_renewal(self) -> bool:
        return self.from_phase == self.to_phase


@dataclass(frozen=True)
class PhaseTables:
    """Plain lookup tables compiled from the phase graph, for the per-record path check (no networkx per record).

    - ``initial``/``final``: the entry and end phases;
    - ``next``: for each phase, the phases allowed next, in the spec's order;
    - ``transition``: the transition for each allowed ``(from, to)`` pair;
    - ``phase``: every phase by id (same as ``Spec.phases``);
    - ``reachable_final``: phases from which an end phase can be reached.
    """

    initial: frozenset[str]
    final: frozenset[str]
    next: Mapping[str, tuple[str, ...]]
    transition: Mapping[tuple[str, str], Transition]
    phase: Mapping[str, Phase]
    reachable_final: frozenset[str] = frozenset()


EMPTY_TABLES = PhaseTables(frozenset(), frozenset(), {}, {}, {})


# --------------------------------------------------------------------------------------------- deadlines, obligations

@dataclass(frozen=True)
class Anchor:
    """What a deadline counts from, or what it waits for: the first entry into a ``phase``, the first ``event`` of a
    type (on or after the anchor, for a target), or a date ``attribute`` of the record (anchors only)."""

    kind: str  # "phase" | "event" | "attribute"
    name: str
    pos: Position = field(default_factory=Position)

    def __str__(self) -> str:
        return f"{self.kind} {self.name}"


@dataclass(frozen=True)
class Deadline:
    """Something that must happen within a time limit: ``target`` at most ``within`` after ``anchor`` (met on or
    before anchor + within) and, with ``not_before``, not before anchor + not_before (a window, e.g. a review
    "à 6 mois" = ``milestone`` +/- a tolerance). ``where`` filters target events (their fields in scope);
    ``applies_if``: the deadline only applies to records where it is true. Status at the evaluation date: met,
    missed, pending, early (only a target before the window, which is still open), not_applicable."""

    id: str
    label: str | None
    anchor: Anchor
    target: Anchor
    within: "Duration"
    where: Expr | None = None
    not_before: "Duration | None" = None  # earliest date = anchor + not_before (a window), None: any date after it
    milestone: "Duration | None" = None  # "à 6 mois": the milestone the window surrounds (documentation, rendering)
    applies_if: Expr | None = None
    # the target must happen while the anchor phase lasts: once the beneficiary has left it without the target, the
    # deadline is missed (due = the last day of the stay), even when the exit is an end phase (03:65)
    during_phase: bool = False
    source: Source | None = None
    interpretation: str | None = None
    pos: Position = field(default_factory=Position)
    field_pos: Mapping[str, Position] = field(default_factory=dict)  # key -> position of its value


@dataclass(frozen=True)
class Obligation:
    """A recurring obligation while the beneficiary is in one of the ``during`` phases, checked per window:
    ``every`` is a calendar period (``week`` = ISO week, ``month``, ``quarter``, ``year``) or a ``Duration`` (windows
    counted from the phase entry). In ``condition``, ``events`` holds only the window's events, and
    ``window_start``/``window_end`` are in scope. ``partial_windows``: ``skip`` (default: a window not entirely
    inside a stay is not checked) or ``check``."""

    id: str
    label: str | None
    during: tuple[str, ...]
    every: "str | Duration"
    condition: Expr
    partial_windows: str = "skip"
    applies_if: Expr | None = None
    source: Source | None = None
    interpretation: str | None = None
    pos: Position = field(default_factory=Position)
    field_pos: Mapping[str, Position] = field(default_factory=dict)  # key -> position of its value

    @property
    def calendar(self) -> bool:
        """True for calendar windows (week/month/quarter/year), False for windows of a fixed duration."""
        return isinstance(self.every, str)


# --------------------------------------------------------------------------------------------- examples

@dataclass(frozen=True)
class Example:
    """An example embedded in the spec, run by ``engine test``: a record (or an operation and its cohort) evaluated
    at ``at`` with ``params`` must give the ``expect``ed values (dotted paths into the evaluation output).
    ``record``/``operation``/``cohort``/``expect`` hold plain Python values (dates as ``date``, numbers as
    ``Decimal``); ``expect_pos`` gives the position of each expectation in the spec file."""

    name: str
    at: date | None
    params: Mapping[str, Any]
    record: Mapping[str, Any] | None
    expect: Mapping[str, Any]
    operation: Mapping[str, Any] | None = None
    cohort: tuple[Mapping[str, Any], ...] | None = None
    expect_pos: Mapping[str, Position] = field(default_factory=dict)
    index: int = 0
    pos: Position = field(default_factory=Position)

    @property
    def kind(self) -> str:
        """``record`` for a beneficiary example, ``operation`` for an operation/cohort example."""
        return "operation" if self.operation is not None or self.cohort is not None else "record"


def jsonish(value: Any) -> Any:
    """An example's YAML value as a JSON decoder would give it: dates as ``YYYY-MM-DD``, integral decimals as
    ``int``, other decimals as ``float`` (what a record read from a JSONL line holds)."""
    if isinstance(value, dict):
        return {k: jsonish(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonish(v) for v in value]
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


# --------------------------------------------------------------------------------------------- the spec

@dataclass(frozen=True, eq=False)  # compared and hashed by identity: usable as a cache key
class Spec:
    """One programme, compiled. ``attributes``/``events``/``definitions`` include what the imported vocabularies
    declare. ``sections`` holds what other stages compile from the same document (``capacity``, ``funding``...,
    see ``engine.spec.compile.SECTION_COMPILERS``). ``document`` is the loaded YAML (positions included) for sections
    compiled elsewhere and for the diff. ``scope`` is the expression scope of the spec (see :func:`spec_scope`)."""

    id: str
    version: str | None
    title: str | None
    path: str | None
    kind: str = "spec"
    source_document: str | None = None
    valid_from: date | None = None
    valid_until: date | None = None
    sessions: tuple[Session, ...] = ()
    convention: Convention | None = None
    territories: tuple[str, ...] = ()
    attributes: Mapping[str, Attribute] = field(default_factory=dict)
    events: Mapping[str, EventType] = field(default_factory=dict)
    operation_attributes: Mapping[str, Attribute] = field(default_factory=dict)
    parameters: Mapping[str, Parameter] = field(default_factory=dict)
    definitions: Mapping[str, Definition] = field(default_factory=dict)
    eligibility_beneficiary: Rule | None = None
    eligibility_operator: Rule | None = None
    phases: Mapping[str, Phase] = field(default_factory=dict)
    transitions: tuple[Transition, ...] = ()
    deadlines: tuple[Deadline, ...] = ()
    obligations: tuple[Obligation, ...] = ()
    examples: tuple[Example, ...] = ()
    tables: PhaseTables = EMPTY_TABLES
    sections: Mapping[str, Any] = field(default_factory=dict)
    scope: Any = None  # engine.expr.types.Scope
    document: Any = None  # engine.spec.loader.Document
    section_pos: Mapping[str, Position] = field(default_factory=dict)  # top-level key -> its position

    def __reduce__(self):  # picklable (spec cache, --jobs, Dask): compiled expressions included
        from engine.spec.snapshot import reduce_spec

        return reduce_spec(self)

    def deadline(self, id: str) -> Deadline | None:
        return next((d for d in self.deadlines if d.id == id), None)

    def obligation(self, id: str) -> Obligation | None:
        return next((o for o in self.obligations if o.id == id), None)

    @property
    def has_path(self) -> bool:
        """True when the spec declares phases (records then have a path to check)."""
        return bool(self.phases)


# --------------------------------------------------------------------------------------------- scopes

def _union_of_fields(tables) -> dict[str, Any]:
    """Name -> type of the fields of several declarations (event types, phases); a field declared with different
    types by two of them is ``ANY``."""
    from engine.expr import types as T

    fields: dict[str, Any] = {}
    for table in tables:
        for name, attr in table.items():
            if name in fields and fields[name] != attr.type:
                fields[name] = T.ANY
            else:
                fields.setdefault(name, attr.type)
    return fields


def event_record_type(events: Mapping[str, EventType]):
    """The type of one item of ``events``: ``type`` (enum of the event type ids), ``date``, and the union of the
    declared event fields (a field declared with different types by two event types is ``ANY``)."""
    from engine.expr import types as T

    fields = _union_of_fields(ev.fields for ev in events.values())
    fields["type"] = T.EnumType(tuple(events)) if events else T.STRING
    fields["date"] = T.DATE
    return T.RecordType(fields)


def history_record_type(phases: Mapping[str, Any]):
    """The type of one item of ``history``: ``phase`` (enum of the phase ids), ``date``, and the union of the fields
    the phases declare (``phases`` maps each id to its fields, or to None; a field declared with different types by
    two phases is ``ANY``)."""
    from engine.expr import types as T

    fields = _union_of_fields(decl or {} for decl in phases.values())
    fields["phase"] = T.EnumType(tuple(phases)) if phases else T.STRING
    fields["date"] = T.DATE
    return T.RecordType(fields)


def spec_scope(attributes: Mapping[str, Attribute], events: Mapping[str, EventType],
               parameters: Mapping[str, Parameter], definitions: Mapping[str, Any],
               phases: Mapping[str, Any]) -> "Scope":
    """The names every expression of a spec sees: declared attributes (vocabulary + ``inputs``), parameters,
    ``today``, ``events``, ``history``; ``definitions`` are the expression compiler's definitions (name -> its
    ``Definition``)."""
    from engine.expr import types as T

    names: dict[str, Any] = {}
    for a in attributes.values():
        names[a.name] = a.type
    for p in parameters.values():
        names[p.name] = p.type
    names["today"] = T.DATE
    names["events"] = T.ListType(event_record_type(events))
    names["history"] = T.ListType(history_record_type(phases))
    return T.Scope(names=names, definitions=dict(definitions))


def child_scope(scope: "Scope", extra: Mapping[str, Any]) -> "Scope":
    """``scope`` plus (or rebinding) the names in ``extra``."""
    from engine.expr import types as T

    names = dict(scope.names)
    names.update(extra)
    return T.Scope(names=names, definitions=scope.definitions)


def guard_scope(scope: "Scope") -> "Scope":
    """Scope of a transition ``guard``: plus ``phase_start`` (date the current phase was entered) and
    ``transition_date``."""
    from engine.expr import types as T

    return child_scope(scope, {"phase_start": T.DATE, "transition_date": T.DATE})


def obligation_scope(scope: "Scope") -> "Scope":
    """Scope of an obligation ``condition``: ``events`` (rebound at run time to the window's events, same type),
    plus ``window_start`` and ``window_end`` (inclusive dates of the window)."""
    from engine.expr import types as T

    return child_scope(scope, {"window_start": T.DATE, "window_end": T.DATE})


def operator_scope(scope: "Scope", operation_attributes: Mapping[str, Attribute],
                   parameters: Mapping[str, Parameter]) -> "Scope":
    """Scope of the operator eligibility rules (``eligibility.operator``): the operation attributes (operator and
    convention), the parameters and ``today``; not the beneficiaries' attributes nor ``participants`` (an operator is
    judged on its application, before any cohort exists)."""
    from engine.expr import types as T

    names: dict[str, Any] = {a.name: a.type for a in operation_attributes.values()}
    names.update({p.name: p.type for p in parameters.values()})
    names["today"] = T.DATE
    return T.Scope(names=names, definitions=scope.definitions)
