"""The expression scopes of the operation sections, and the aggregates over ``participants`` found in a cohort
expression (what :mod:`engine.operation.compile` lifts out of it to compute them in one pass over the cohort).

Three scopes: the operation's (its attributes, the built-ins such as ``participants_count``, the parameters), the
cohort's (the same, the indicators, and ``participants``: the list of every participant's record, evaluation and
definitions) and the participant's (inside ``participants where ...``: the item's fields shadow the operation's).
"""

from __future__ import annotations

from typing import Any, Mapping

from engine.errors import EngineError
from engine.operation.model import AGGREGATES, BUILTIN_DATES, BUILTIN_INTEGERS, BUILTIN_NUMBERS

def operation_names(spec_fields: Mapping[str, Any]) -> dict[str, Any]:
    """Operation names and their types: declared operation attributes plus the built-ins (``staff``,
    ``operation_events``: the operation record's ``events`` up to the report date)."""
    from engine.expr import types as T
    from engine.spec.model import event_record_type

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
    # the operation's own events (committees held, reports sent...), typed as a record's ``events``
    names["operation_events"] = T.ListType(event_record_type(spec_fields.get("events") or {}))
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

def find_aggregates(tree):
    """Maximal aggregate calls over ``participants`` (outermost first), and the stray uses of ``participants``."""
    from engine.expr import nodes as N

    found, stray = [], []
    stack = [tree]
    while stack:
        n = stack.pop()
        if isinstance(n, N.Call) and canonical(n.func) in AGGREGATES and len(n.args) == 1:
            shape = aggregate_shape(n.args[0])
            if shape is not None:
                found.append((n, shape))
                continue
        if isinstance(n, N.Name) and n.name == "participants":
            stray.append(n)
            continue
        stack.extend(n.children())
    return found, stray


def canonical(func: str) -> str:
    """The function's own name for an alias (``nombre`` -> ``count``)."""
    from engine.expr.types import ALIASES

    return ALIASES.get(func, func)


def aggregate_shape(arg):
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
