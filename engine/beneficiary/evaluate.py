"""Beneficiary evaluation: eligibility with reasons, path conformance, deadlines, obligations; ``engine evaluate``.

Library API::

    evaluate_record(spec, raw: dict, at: date, params: dict | None = None) -> dict   # the output object
    evaluate_stream(spec, items, at, params=None) -> Iterator[dict]                  # items: (line_no, dict|BadRecord)

Everything that depends only on the spec is precomputed once (:class:`Plan`, cached per spec object); the per-record
work binds the record (:mod:`engine.beneficiary.bind`), evaluates the compiled leaves of the rule tree, walks the history and
the deadlines (:mod:`engine.beneficiary.conformance`, :mod:`engine.beneficiary.deadlines`), the obligation windows (:mod:`engine.beneficiary.obligations`) and builds the output
dict. The output contract is DESIGN.md's; docs/evaluate.md documents every field.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any, Iterable, Iterator

from engine.beneficiary import conformance as C
from engine.beneficiary import deadlines as DL
from engine.beneficiary import obligations as OB
from engine.errors import EngineError
from engine.expr.runtime import age
from engine.beneficiary.bind import BindError, Binder, coerce_params
from engine.beneficiary.bind_typed import Typed, bind_typed, typed_decoder
from engine.beneficiary.records import BadRecord
from engine.faults import describe

# ----------------------------------------------------------------------------------------------- plan (per spec)


@dataclass(frozen=True)
class Plan:
    spec: Any
    header: tuple  # (("spec", id), ("spec_version", v))
    leaves: tuple  # (id, fn, label, source, assessed) — assessed: None, or (reads birth_date,) for `assessed_at: entry`
    tree: Any  # ("leaf", i) | ("all"|"any", (sub...)) | ("not", sub) | None
    path: C.PathPlan
    has_path: bool
    deadlines: tuple  # deadlines.deadline_info
    obligations: tuple  # obligations.obligation_info
    binder: Binder
    final: tuple  # end phases
    decoder: Any = None  # bind_typed.TypedDecoder of the spec (JSON bytes -> Typed), or None
    fast: bool = True  # False: the plain path (no shortcut), the reference the tests compare the fast path with


_PLANS: dict[int, Plan] = {}


def plan_for(spec) -> Plan:
    """The precomputed plan of a spec (built once, cached by object identity)."""
    p = _PLANS.get(id(spec))
    if p is not None and p.spec is spec:
        return p
    leaves: list = []

    def walk(rule):
        if rule is None:
            return None
        if hasattr(rule, "children"):
            subs = tuple(walk(c) for c in rule.children)
            return ("not", subs[0]) if rule.op == "not" else (rule.op, subs)
        assessed = ("birth_date" in rule.expr.names,) if rule.assessed_at == "entry" else None
        leaves.append((rule.id, rule.expr.fn, rule.label or rule.id, C._src(rule.source), assessed))
        return ("leaf", len(leaves) - 1)

    tree = walk(spec.eligibility_beneficiary)
    binder = Binder(spec)
    p = Plan(spec, (("spec", spec.id), ("spec_version", spec.version)), tuple(leaves), tree, C.build_path_plan(spec),
             bool(spec.phases), DL.deadline_info(spec.deadlines),
             OB.obligation_info(spec.obligations, spec.definitions, spec.events), binder,
             tuple(p for p, ph in spec.phases.items() if ph.final), typed_decoder(spec, binder))
    if len(_PLANS) > 64:
        _PLANS.clear()
    _PLANS[id(spec)] = p
    return p


# ----------------------------------------------------------------------------------------------- eligibility

def _names(v) -> frozenset:
    return frozenset(getattr(v, "names", ()) or ())


def _combine(node, vals):
    """Kleene combination; returns True, False, or a frozenset of missing names (unknown)."""
    kind = node[0]
    if kind == "leaf":
        return vals[node[1]]
    if kind == "not":
        v = _combine(node[1], vals)
        return (not v) if v is True or v is False else v
    decisive = kind == "any"  # the value that decides the group: True for any, False for all
    unknown: frozenset | None = None
    for sub in node[1]:
        v = _combine(sub, vals)
        if v is decisive:
            return decisive
        if v is not (not decisive):
            unknown = v if unknown is None else unknown | v
    return (not decisive) if unknown is None else unknown


def entry_date(history: list, at: date, declared=None) -> date | None:
    """The date of entry into the programme: the first entry of the history, when it is on or before ``at``; a record
    without history gives its declared ``entry_date`` (``declared``, when on or before ``at``): a participant of a
    cohort exported without its path entered on that date, not on the evaluation date (None: not entered by ``at``)."""
    first = min((h["date"] for h in history), default=None)
    if first is None and declared.__class__ is date:
        first = declared
    return first if first is not None and first <= at else None


def assessed_note(reads_age: bool, env: dict, entry: date | None, at: date) -> str:
    """What a reason of a rule assessed at entry says of the date used (« âge à l'entrée le 2026-03-01 : 25 ans »)."""
    if entry is None:
        return f"pas encore d'entrée : apprécié à la date d'évaluation le {at.isoformat()}"
    birth = env.get("birth_date") if reads_age else None
    if birth.__class__ is date:
        return f"âge à l'entrée le {entry.isoformat()} : {age(birth, entry)} ans"
    return f"apprécié à l'entrée le {entry.isoformat()}"


def eligibility(plan: Plan, env: dict, at: date) -> tuple[Any, list, list]:
    vals = []
    reasons = []
    entry: Any = False  # computed at the first rule assessed at entry
    for rid, fn, label, source, assessed in plan.leaves:
        if assessed is None:
            v = fn(env, at)
        else:
            if entry is False:
                entry = entry_date(env["history"], at, env.get("entry_date"))
            v = fn(env, entry or at)
        if v is True or v is False:
            vals.append(v)
            r = {"rule": rid, "value": v, "text": label, "source": source}
        else:
            names = _names(v)
            vals.append(names)
            r = {"rule": rid, "value": None, "text": label, "source": source, "missing": sorted(names)}
        if assessed is not None:
            r["assessed_at"] = "entry" if entry else "evaluation"
            r["assessed_on"] = entry or at
            r["assessed"] = assessed_note(assessed[0], env, entry, at)
        reasons.append(r)
    if plan.tree is None:
        return True, reasons, []
    res = _combine(plan.tree, vals)
    if res is True or res is False:
        return res, reasons, []
    return None, reasons, sorted(res)


# ----------------------------------------------------------------------------------------------- one record

def evaluate_record(spec, raw: dict, at: date, params: dict | None = None, *, line: int | None = None,
                    bounds: tuple | None = None) -> dict:
    """Evaluate one record (a raw dict as read from JSON) at ``at``. Never raises for bad data: a record that cannot
    be bound or evaluated gives ``{"id", "status": "error", "error": {"code", "message"}, "line"}``. ``raw`` is not
    modified (the streaming path, which owns its freshly decoded dicts, converts them in place instead).
    ``bounds``: ``(start, end)`` of the convention of the operation the beneficiary belongs to (either may be None);
    without it, the spec's ``convention`` dates bound the history and the events."""
    plan = plan_for(spec)
    return _evaluate(plan, _copy(raw), at, plan.binder.params(params), line, bounds=bounds)


def _copy(raw):
    """A copy of a raw record deep enough for binding (which converts events in place)."""
    if raw.__class__ is dict:
        raw = dict(raw)
        evs = raw.get("events")
        if evs.__class__ is list:
            raw["events"] = [x.copy() if x.__class__ is dict else x for x in evs]
    return raw


def error_result(rid, code: str, message: str, line: int | None, plan: Plan | None = None) -> dict:
    """The output line of a record that could not be evaluated: its id, the spec's header, ``status: error``, the
    error's code and message, the line it was read from."""
    out = {"id": rid if isinstance(rid, str) else None}
    if plan is not None:
        out.update(plan.header)
    out["status"] = "error"
    out["error"] = {"code": code, "message": message}
    out["line"] = line
    return out


def _evaluate(plan: Plan, raw: dict, at: date, params: dict, line: int | None, typed: bool = False,
              bounds: tuple | None = None) -> dict:
    if not isinstance(raw, dict):
        return error_result(None, "not_an_object", "l'enregistrement n'est pas un objet JSON {...}", line, plan)
    _stage = "binding"  # read by engine.faults.locate when an engine bug is met
    try:
        try:
            if typed:  # decoded by msgspec against the spec's types (engine.beneficiary.bind_typed)
                env, dates, index = bind_typed(plan.binder, raw, params, plan.decoder)
            else:
                env, dates, index = (plan.binder.bind_with_dates if plan.fast else plan.binder.bind_plain)(raw, params)
        except BindError as e:
            return error_result(raw.get("id") if isinstance(raw, dict) else None, e.code, e.message, line, plan)
        _stage = "evaluation"
        try:
            return _decide(plan, raw["id"], env, dates, index, at, bounds)
        except EngineError as e:
            d = e.diagnostic
            return error_result(raw["id"], "evaluation_error", f"erreur d'évaluation : {d.message}"
                          + (f" ({d.location()})" if d.file else ""), line, plan)
        except (ArithmeticError, ValueError, OverflowError, TypeError) as e:
            # a value the type checker could not foresee (e.g. a date out of range after adding a duration)
            return error_result(raw["id"], "evaluation_error", f"erreur d'évaluation : {type(e).__name__}: {e}", line, plan)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - an engine bug: this record gets its error line, the run goes on
        return _internal_error(plan, raw, e, line)


def _internal_error(plan: Plan, raw: dict, exc: Exception, line: int | None) -> dict:
    rid = raw.get("id")
    rid = rid if isinstance(rid, str) else None
    out = error_result(rid, "internal_error", "", line, plan)
    out["error"] = describe(exc, plan.spec, record=f"« {rid} »" if rid else (f"la ligne {line}" if line else None))
    return out


def _decide(plan: Plan, rid: str, env: dict, dates: list, index: dict | None, at: date,
            bounds: tuple | None = None) -> dict:
    out: dict = {"id": rid}
    out.update(plan.header)
    out["as_of"] = at
    out["status"] = "ok"
    _stage = "eligibility"  # read by engine.faults.locate when an engine bug is met (costs nothing otherwise)
    eligible, reasons, missing = eligibility(plan, env, at)
    out["eligible"] = eligible
    out["reasons"] = reasons
    out["missing"] = missing
    history = env["history"]
    events = env["events"]
    path_missing: set = set()
    # the record's events by sets of types (conformance.events_of), from its events by type (the binding's)
    fcache: dict | None = {None: index} if plan.fast else None
    _stage = "path"
    if plan.has_path:
        violations, stays, state, first = C.check_path(plan.path, history, env, at, path_missing, fcache, bounds)
        nxt = C.next_steps(plan.path, state, env, at)
        current = state[0] if state is not None else None
    else:
        violations, stays, state, nxt, current = [], [], None, [], None
        first = {}
        for i, h in enumerate(history):
            first.setdefault(h["phase"], (h["date"], i))
    if events and (plan.path.convention_start or plan.path.convention_end or bounds):
        ev_out = C.check_event_bounds(plan.path, events, dates, bounds)
        if ev_out:
            violations.extend(ev_out)
    if events and plan.path.after_exit:
        ex_out = C.check_events_after_exit(plan.path, events, first)
        if ex_out:
            violations.extend(ex_out)
    _stage = "deadlines"
    if plan.deadlines:
        ended = min((first[p][0] for p in plan.final if p in first), default=None)
        deadlines, dv = DL.check_deadlines(plan.deadlines, history, events, dates, first, env, at,
                                          plan.binder.item_env, ended, fcache)
        if dv:
            violations.extend(dv)
    else:
        deadlines = []
    _stage = "obligations"
    if not plan.obligations:
        obligations = []
    elif plan.fast:
        obligations, ov = OB.check_obligations(plan.obligations, stays, events, dates, env, at, fcache)
        if ov:
            violations.extend(ov)
    else:  # the plain path (reference of the fast one): every event in every window
        obligations = []
        for info in plan.obligations:
            o, ov = OB.check_obligation(info[:4] + (True, None), stays, events, dates, env, at)
            obligations.append(o)
            if ov:
                violations.extend(ov)
    _stage = "output"
    if len(violations) > 1:
        violations = C.sort_violations(violations)
    path = {"legal": not violations, "current_phase": current,
            "first_violation": violations[0] if violations else None, "violations": violations, "next": nxt}
    if path_missing:
        path["missing"] = sorted(path_missing)
    out["path"] = path
    out["deadlines"] = deadlines
    out["obligations"] = obligations
    return out


# ----------------------------------------------------------------------------------------------- streams

def evaluate_stream(spec, items: Iterable[tuple[int, Any]], at: date, params: dict | None = None, *,
                    owned: bool = False) -> Iterator[dict]:
    """One output dict per item, in order. ``items`` yields ``(line_no, dict | BadRecord)`` (see
    :func:`engine.beneficiary.records.read_records`). ``owned=True`` lets the evaluation convert the records' events in place
    (faster; for dicts nobody else reads afterwards, as in ``engine evaluate``); by default they are left untouched,
    so the same items can be evaluated under two specs."""
    plan = plan_for(spec)
    p = plan.binder.params(params)
    for line, item in items:
        if item.__class__ is Typed:
            yield _evaluate(plan, item.raw, at, p, line, True)
        elif isinstance(item, BadRecord):
            yield error_result(item.id, item.code, item.message, line, plan)
        else:
            yield _evaluate(plan, item if owned else _copy(item), at, p, line)


__all__ = ["Plan", "plan_for", "evaluate_record", "evaluate_stream", "eligibility", "coerce_params"]
