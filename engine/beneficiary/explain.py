"""`engine explain`: the trace of one beneficiary's decision, every intermediate value with its place in the spec.

Library API (what a server calls; the result is plain JSON-serialisable data: ``json.dumps`` takes it as is)::

    explain_record(spec, raw: dict, at: date, params=None, *, rules=(), deadlines=(), obligations=(),
                   transitions=(), record=None) -> dict

The trace of each expression is produced by the tracing interpreter of :mod:`engine.beneficiary.explain_expr`, over
the typed AST (:mod:`engine.expr.nodes`, annotated again by the type checker of :mod:`engine.expr.types`); it performs
every operation with the runtime helpers the compiled code calls (:mod:`engine.expr.runtime`), so it computes the
same values the compiled code does; ``engine evaluate`` does not run
any of this (it pays nothing for explain). The decision itself (``decision``) is the output of
:func:`engine.beneficiary.evaluate.evaluate_record`, and the property test ``tests/test_explain_props.py`` holds every traced
rule, definition, deadline, obligation window and path step equal to it on generated records of every shipped
spec.

The shape of the trace is documented by its JSON Schema (``engine schema --output explain``,
``engine/spec/schema/explain.schema.json``) and in ``docs/explain.md``; the French text rendering is
:mod:`engine.render.explain`.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date
from typing import Any, Iterable

from engine.beneficiary import conformance as C
from engine.beneficiary.deadlines import phase_closed
from engine.beneficiary import obligations as OB
from engine.beneficiary.explain_expr import (EVAL_ERRORS, TRACE_FORMAT, Tracer, duration_constant, jv,  # noqa: F401
                                             pos_text, source_text, value_names, vtype)
from engine.expr import runtime as R
from engine.errors import COMMAND_LINE, Diagnostic, UsageError, did_you_mean
from engine.spec.model import (RuleGroup, RuleLeaf, child_scope, event_record_type, guard_scope, iter_rules,
                               obligation_scope)
from engine.beneficiary.evaluate import _copy, assessed_note, entry_date, evaluate_record, plan_for

# ----------------------------------------------------------------------------------------------- eligibility

def _kleene(op: str, values: list):
    if op == "not":
        v = values[0]
        return (not v) if v is True or v is False else v
    decisive = op == "any"
    unknown = None
    for v in values:
        if v is decisive:
            return decisive
        if v is not (not decisive):
            unknown = v if unknown is None else unknown | v
    return (not decisive) if unknown is None else unknown


def _rule_trace(tr: Tracer, rule, env: dict) -> tuple[Any, dict]:
    common = {"id": rule.id, "label": rule.label, "at": pos_text(rule.pos), "source": source_text(rule.source),
              "interpretation": rule.interpretation, "path": rule.path}
    if isinstance(rule, RuleLeaf):
        at = tr.at
        entry = entry_date(env["history"], at, env.get("entry_date")) if rule.assessed_at == "entry" else None
        if entry is not None:  # `assessed_at: entry`: `today` is the date of entry (as in the evaluation)
            tr.at = entry
        try:
            t = tr.trace(rule.expr, tr.spec.scope, env, rule.source, rule.path or rule.id)
        finally:
            tr.at = at
        v = R.unknown_of() if t["kind"] == "error" else _runtime_bool(t)
        d = {"kind": "rule", **common, "op": "condition", "condition": rule.expr.text, "value": t["value"],
             "expr": t, "reads": t.get("reads", [])}
        if rule.assessed_at == "entry":
            d["assessed_at"] = "entry" if entry else "evaluation"
            d["assessed_on"] = (entry or at).isoformat()
            d["assessed"] = assessed_note("birth_date" in rule.expr.names, env, entry, at)
        if t["value"] is None:
            d["missing"] = t.get("missing", [])
        if t["kind"] == "error":
            d["error"] = t["error"]
        return v, d
    vals, kids = [], []
    for c in rule.children:
        v, d = _rule_trace(tr, c, env)
        vals.append(v)
        kids.append(d)
    v = _kleene(rule.op, vals)
    d = {"kind": "rule", **common, "op": rule.op, "value": jv(v), "children": kids}
    if v.__class__ is R.Unknown:
        d["missing"] = value_names(v)
    return v, d


def _runtime_bool(t: dict):
    v = t["value"]
    if v is True or v is False:
        return v
    return R.Unknown(frozenset(t.get("missing") or ()))


def _find_rule(rule, rid: str):
    if rule is None:
        return None
    stack = [rule]
    while stack:
        r = stack.pop()
        if r.id == rid:
            return r
        if isinstance(r, RuleGroup):
            stack.extend(r.children)
    return None


def _rule_ids(rule) -> list:
    return [r.id for r in iter_rules(rule) if r.id]


# ----------------------------------------------------------------------------------------------- deadlines

def _deadline_trace(tr: Tracer, dl, env: dict, history: list, events: list, dates: list, first: dict,
                    ended: date | None, item_env) -> dict:
    spec, at = tr.spec, tr.at
    fp = dl.field_pos or {}
    out: dict = {"kind": "deadline", "id": dl.id, "label": dl.label, "at": pos_text(dl.pos), "source": source_text(dl.source),
                 "interpretation": dl.interpretation, "status": "not_applicable", "due": None, "date": None}
    within = duration_constant(f"deadlines[{dl.id}].within", dl.within, fp.get("within") or fp.get("milestone"),
                                dl.source, dl.id)
    out["within"] = within
    if dl.applies_if is not None:
        t = tr.trace(dl.applies_if, spec.scope, env, dl.source, f"deadlines[{dl.id}].applies_if")
        out["applies_if"] = t
        if t["value"] is not True:
            if t["value"] is None:
                out["missing"] = t.get("missing", [])
            out["reason"] = "ne s'applique pas : la condition d'application n'est pas remplie" \
                if t["value"] is False else "indéterminée : la condition d'application est inconnue"
            return out
    a = dl.anchor
    anchor: dict = {"kind": a.kind, "name": a.name, "at": pos_text(a.pos), "date": None}
    anchor_date = None
    if a.kind == "phase":
        hit = first.get(a.name)
        if hit is not None:
            anchor_date, anchor["history_index"] = hit
    elif a.kind == "event":
        e = next((e for e in events if e.get("type") == a.name), None)
        if e is not None:
            anchor_date = e["date"]
            anchor["event"] = jv(e)
    else:
        v = env.get(a.name)
        if isinstance(v, date):
            anchor_date = v
        elif v is not None and not isinstance(v, (str, int)):
            out["missing"] = value_names(v) or [a.name]
            anchor["missing"] = out["missing"]
    anchor["date"] = jv(anchor_date)
    out["anchor"] = anchor
    if anchor_date is None:
        out["reason"] = "pas de point de départ : " + ("l'attribut n'est pas renseigné" if a.kind == "attribute"
                                                       else "il n'a pas eu lieu")
        return out
    tr.constants.setdefault((within["at"], dl.id), within)
    due = C.plus(anchor_date, dl.within)
    closed = phase_closed(dl, history, anchor.get("history_index"), due, at) if dl.during_phase else None
    if closed is not None:
        closed = due = closed[0]
        out["phase_end"] = jv(closed)
    out["due"] = jv(due)
    not_before = getattr(dl, "not_before", None)
    earliest = C.plus(anchor_date, not_before) if not_before is not None else None
    if earliest is not None:
        out["earliest"] = jv(earliest)
        c = duration_constant(f"deadlines[{dl.id}].not_before", not_before, fp.get("not_before") or
                               fp.get("milestone"), dl.source, dl.id)
        out["not_before"] = c
        tr.constants.setdefault((c["at"], c["name"]), c)
    if getattr(dl, "milestone", None) is not None:
        out["milestone"] = duration_constant(f"deadlines[{dl.id}].milestone", dl.milestone, fp.get("milestone"),
                                              dl.source, dl.id)
    start = anchor_date if earliest is None or earliest < anchor_date else earliest
    t = dl.target
    target: dict = {"kind": t.kind, "name": t.name, "at": pos_text(t.pos), "date": None, "candidates": []}
    got = early = None
    if t.kind == "phase":
        for j, h in enumerate(history):
            if h["phase"] == t.name and h["date"] >= anchor_date:
                if h["date"] < start:  # before the window: does not count
                    if early is None:
                        early = h["date"]
                        target["early_history_index"] = j
                    continue
                got = h["date"]
                target["history_index"] = j
                break
    else:
        where = dl.where
        wscope = _where_scope(spec, t) if where is not None else None
        for j in range(bisect_left(dates, anchor_date), len(events)):
            e = events[j]
            if e["type"] != t.name:
                continue
            cand: dict = {"event": jv(e)}
            target["candidates"].append(cand)
            if where is not None:
                wt = tr.trace(where, wscope, item_env(env, e), dl.source, f"deadlines[{dl.id}].where")
                cand["where"] = wt
                if wt["value"] is not True:
                    cand["accepted"] = False
                    continue
            if e["date"] < start:
                cand["accepted"] = False
                cand["early"] = True
                if early is None:
                    early = e["date"]
                continue
            cand["accepted"] = True
            got = e["date"]
            target["event"] = jv(e)
            break
    target["date"] = jv(got)
    out["target"] = target
    out["date"] = jv(got)
    if early is not None and got is None:
        out["early"] = jv(early)
    if ended is not None:
        out["ended"] = jv(ended)
    window = f"entre le {C.fr_date(earliest)} et le {C.fr_date(due)}" if earliest is not None else \
        f"au plus tard le {C.fr_date(due)}"
    if got is None and closed is not None:
        out["status"] = "missed"
        out["reason"] = f"la phase « {dl.anchor.name} » a pris fin le {C.fr_date(closed)} sans qu'il ait eu lieu"
    elif got is None and not dl.during_phase and ended is not None and ended <= due \
            and (early is None or t.kind != "phase"):
        out["status"] = "not_applicable"
        out["reason"] = f"sortie du dispositif le {C.fr_date(ended)}, avant l'échéance du {C.fr_date(due)}"
    elif got is not None and got <= due:
        out["status"] = "met"
        out["reason"] = f"réalisé le {C.fr_date(got)}, {window}"
    elif got is not None:
        out["status"] = "missed"
        out["reason"] = f"réalisé le {C.fr_date(got)}, après l'échéance du {C.fr_date(due)} " \
                        f"({C.fr_days((got - due).days)} de retard)"
    elif due < at:
        out["status"] = "missed"
        out["reason"] = (f"seulement réalisé le {C.fr_date(early)}, avant la période attendue ({window}), dépassée "
                         f"au {C.fr_date(at)}") if early is not None else \
            f"rien d'enregistré au {C.fr_date(at)} ; l'échéance était le {C.fr_date(due)}"
    elif early is not None:
        out["status"] = "early"
        out["reason"] = f"réalisé le {C.fr_date(early)}, avant la période attendue ({window}), qui est encore ouverte"
    else:
        out["status"] = "pending"
        out["reason"] = f"pas encore réalisé au {C.fr_date(at)} ; attendu {window}"
    return out


def _where_scope(spec, target):
    events = spec.events
    if target is not None and target.kind == "event" and target.name in events:
        rec = event_record_type({target.name: events[target.name]})
    else:
        rec = event_record_type(events)
    return child_scope(spec.scope, dict(rec.fields))


# ----------------------------------------------------------------------------------------------- obligations

def _obligation_trace(tr: Tracer, ob, env: dict, stays: list, events: list, dates: list) -> dict:
    spec, at = tr.spec, tr.at
    fp = ob.field_pos or {}
    every = ob.every if isinstance(ob.every, str) else jv(ob.every)
    out: dict = {"kind": "obligation", "id": ob.id, "label": ob.label, "at": pos_text(ob.pos), "source": source_text(ob.source),
                 "interpretation": ob.interpretation, "during": list(ob.during), "every": every,
                 "every_text": _every_fr(ob.every), "partial_windows": ob.partial_windows,
                 "condition": ob.condition.text, "status": "not_applicable", "periods": [], "windows": [],
                 "windows_checked": 0, "windows_skipped": 0, "windows_pending": 0, "failed": []}
    if not isinstance(ob.every, str):
        c = duration_constant(f"obligations[{ob.id}].every", ob.every, fp.get("every"), ob.source, ob.id)
        tr.constants.setdefault((c["at"], ob.id), c)
    if ob.applies_if is not None:
        t = tr.trace(ob.applies_if, spec.scope, env, ob.source, f"obligations[{ob.id}].applies_if")
        out["applies_if"] = t
        if t["value"] is not True:
            if t["value"] is None:
                out["missing"] = t.get("missing", [])
            return out
    periods = OB.obligation_periods(stays, frozenset(ob.during), ob.every == "entry")
    out["periods"] = [{"start": jv(s), "end": jv(e), "history_index": i} for s, e, i in periods]
    scope = obligation_scope(spec.scope)
    partial_check = ob.partial_windows == "check"
    unknown: set = set()
    counts = {"checked": 0, "skipped": 0, "pending": 0}
    wenv = dict(env)
    for first_day, last_day, index in periods:
        if first_day > at:
            continue
        end_bound = last_day if last_day is not None and last_day < at else at
        for ws, we in OB.period_windows(ob.every, first_day, last_day, end_bound, at):
            w: dict = {"start": jv(ws), "end": jv(we), "history_index": index}
            if we > at:
                counts["pending"] += 1
                w["status"] = "pending"
                out["windows"].append(w)
                break
            full = ws >= first_day and (last_day is None or we <= last_day)
            w["partial"] = not full
            if full:
                lo, hi = bisect_left(dates, ws), bisect_right(dates, we)
            elif partial_check:
                lo, hi = bisect_left(dates, max(ws, first_day)), bisect_right(dates, min(we, end_bound))
            else:
                counts["skipped"] += 1
                w["status"] = "skipped"
                out["windows"].append(w)
                continue
            counts["checked"] += 1
            wenv["events"] = events[lo:hi]
            wenv["window_start"], wenv["window_end"] = ws, we
            t = tr.trace(ob.condition, scope, wenv, ob.source, f"obligations[{ob.id}].condition")
            w["events"] = jv(events[lo:hi])
            w["condition"] = t
            v = t["value"]
            w["value"] = v
            if v is True:
                w["status"] = "met"
            elif v is False:
                w["status"] = "failed"
                out["failed"].append({"start": jv(ws), "end": jv(we)})
            else:
                w["status"] = "undecided"
                unknown.update(t.get("missing") or ())
            out["windows"].append(w)
    out["windows_checked"], out["windows_skipped"], out["windows_pending"] = \
        counts["checked"], counts["skipped"], counts["pending"]
    out["status"] = "unmet" if out["failed"] else "met" if counts["checked"] else \
        "pending" if counts["pending"] else "not_applicable"
    if unknown:
        out["missing"] = sorted(unknown)
    return out


def _every_fr(every) -> str:
    if isinstance(every, str):
        return {"week": "chaque semaine (du lundi au dimanche)", "month": "chaque mois civil",
                "quarter": "chaque trimestre civil", "year": "chaque année civile",
                "stay": "sur toute la durée du séjour dans ces phases, à sa fin",
                "entry": "pour chaque entrée dans ces phases (chaque contrat, renouvellement compris), à sa fin"
                }.get(every, every)
    return f"par périodes de {C.fr_duration(every)} depuis l'entrée"


# ----------------------------------------------------------------------------------------------- path

def _transition_number(spec, t) -> int:
    return t.index + 1


def _path_trace(tr: Tracer, env: dict, history: list, decision_path: dict, transitions: set | None) -> dict:
    """Each history entry, the transition it takes with its timing limits and its guard's working, and the
    violations at that step (the decision's)."""
    spec = tr.spec
    phases = spec.phases
    trans = spec.tables.transition if spec.tables and spec.tables.transition else \
        {(t.from_phase, t.to_phase): t for t in spec.transitions}
    gscope = guard_scope(spec.scope)
    violations = decision_path.get("violations") or []
    steps = []
    cur = None
    cur_id = ""
    stay_start = history[0]["date"] if history else None
    prev_date = None
    ended = False
    genv = dict(env)
    for i, h in enumerate(history):
        p, d = h["phase"], h["date"]
        ph = phases.get(p)
        step: dict = {"index": i, "phase": p, "label": ph.label if ph is not None else None, "date": jv(d),
                      "at": pos_text(ph.pos) if ph is not None else None,
                      "source": source_text(ph.source) if ph is not None else None, "known_phase": ph is not None}
        timing_ok = prev_date is None or d >= prev_date
        if i > 0:
            step["stay_start"] = jv(stay_start)
            step["days_in_previous_phase"] = (d - stay_start).days
        t = trans.get((cur_id, p)) if i > 0 and cur is not None and ph is not None else None
        if t is not None:
            tn = _transition_number(spec, t)
            fp = t.field_pos or {}
            td: dict = {"number": tn, "id": t.id, "from": t.from_phase, "to": t.to_phase, "label": t.label,
                        "at": pos_text(t.pos), "source": source_text(t.source), "interpretation": t.interpretation}
            if not ended:
                for key, dur in (("within", t.within), ("after", t.after)):
                    if dur is None:
                        continue
                    c = duration_constant(f"transitions[{tn}].{key}", dur, fp.get(key), t.source, f"transition {tn}")
                    tr.constants.setdefault((c["at"], c["in"]), c)
                    limit = C.plus(stay_start, dur)
                    lim = {**c, "limit": jv(limit), "checked": timing_ok}
                    if timing_ok:
                        lim["ok"] = d <= limit if key == "within" else d >= limit
                    td[key] = lim
                if t.guard is not None:
                    genv["phase_start"], genv["transition_date"] = stay_start, d
                    td["guard"] = tr.trace(t.guard, gscope, genv, t.source, f"transitions[{tn}].guard")
            else:
                td["after_end"] = True
            step["transition"] = td
        elif i > 0 and cur is not None and ph is not None:
            step["transition"] = None  # not allowed: see the violations
        step["violations"] = [v for v in violations if v.get("at") == i]
        steps.append(step)
        if ph is not None and ph.final:
            ended = True
        cur, cur_id, stay_start, prev_date = ph, p, d, d
    if transitions is not None:
        steps = [s for s in steps if s.get("transition") and s["transition"]["number"] in transitions]
    out = {"kind": "path", "legal": decision_path.get("legal"), "current_phase": decision_path.get("current_phase"),
           "steps": steps, "violations": violations, "next": decision_path.get("next", [])}
    if decision_path.get("missing"):
        out["missing"] = decision_path["missing"]
    for ph in phases.values():  # the limits of the phases the history went through
        if not any(s["phase"] == ph.id for s in steps):
            continue
        for key in ("min_duration", "max_duration", "total_max_duration"):
            dur = getattr(ph, key)
            if dur is not None:
                c = duration_constant(f"phases.{ph.id}.{key}", dur, (ph.field_pos or {}).get(key), ph.source,
                                       f"phases.{ph.id}")
                tr.constants.setdefault((c["at"], c["in"]), c)
    return out


def _find_transition(spec, text: str):
    """A transition by its 1-based number, its id or ``from->to``."""
    for t in spec.transitions:
        if text.isdigit() and int(text) == t.index + 1 or t.id == text or f"{t.from_phase}->{t.to_phase}" == text:
            return t
    return None


# ----------------------------------------------------------------------------------------------- the trace

def explain_record(spec, raw: dict, at: date, params: dict | None = None, *, rules: Iterable[str] = (),
                   deadlines: Iterable[str] = (), obligations: Iterable[str] = (), transitions: Iterable[str] = (),
                   record: dict | None = None) -> dict:
    """The trace of the decision on one raw record (a dict as read from JSON) at ``at``: plain JSON data (see the
    module docstring and ``docs/explain.md``). ``rules``/``deadlines``/``obligations``/``transitions`` narrow it to
    those (rule ids or definition names; deadline and obligation ids; transition numbers, ids or ``from->to``);
    nothing given: everything. ``record``: where the record comes from (``{"file", "line"}``), copied into the
    trace. Raises :class:`UsageError` (code ``explain.unknown_*``) for a name the spec does not have and a bad
    parameter; a record that cannot be bound gives a trace with ``status: error``."""
    rules, deadlines, obligations, transitions = (list(x) for x in (rules, deadlines, obligations, transitions))
    check_selection(spec, rules, deadlines, obligations, transitions)
    plan = plan_for(spec)
    p = plan.binder.params(params)
    decision = evaluate_record(spec, raw, at, params)
    trace: dict = {"format": TRACE_FORMAT,
                   "spec": {"id": spec.id, "version": spec.version, "title": spec.title, "file": spec.path},
                   "record": {"id": raw.get("id") if isinstance(raw, dict) else None, **(record or {})},
                   "as_of": at.isoformat(), "status": decision.get("status"), "decision": jv(decision)}
    selected = bool(rules or deadlines or obligations or transitions)
    trace["selection"] = {"rules": rules, "deadlines": deadlines, "obligations": obligations,
                          "transitions": transitions} if selected else None
    if decision.get("status") == "error" and decision.get("error", {}).get("code") != "evaluation_error":
        trace["error"] = decision["error"]  # the record cannot be bound: nothing to trace
        trace["parameters"], trace["constants"] = [], []
        return trace
    if decision.get("status") == "error":
        trace["error"] = decision["error"]
    env, dates, _ = plan.binder.bind_plain(_copy(raw), p)
    tr = Tracer(spec, at)
    try:
        history, events = env["history"], env["events"]
        if not selected or rules:
            if rules:
                items = []
                for rid in rules:
                    r = _find_rule(spec.eligibility_beneficiary, rid)
                    if r is not None:
                        items.append(_rule_trace(tr, r, env)[1])
                    else:
                        d = spec.definitions[rid]
                        t = tr.trace(d.expr, spec.scope, env, d.source, f"definitions.{rid}")
                        items.append({"kind": "definition", "id": rid, "label": d.label, "at": pos_text(d.expr.pos),
                                      "source": source_text(d.source), "interpretation": d.interpretation, "value": t["value"],
                                      "missing": t.get("missing", []), "expr": t})
                trace["eligibility"] = None
                trace["rules"] = items
            else:
                tree = spec.eligibility_beneficiary
                trace["eligibility"] = _rule_trace(tr, tree, env)[1] if tree is not None else None
                trace["eligible"] = decision.get("eligible")
        path_missing: set = set()
        if spec.phases:
            _v, stays, _state, first = C.check_path(plan.path, history, dict(env), at, path_missing, None)
        else:
            stays = []
            first = {}
            for i, h in enumerate(history):
                first.setdefault(h["phase"], (h["date"], i))
        dpath = decision.get("path") or {}
        if spec.phases and (not selected or transitions):
            numbers = {_find_transition(spec, x).index + 1 for x in transitions} if transitions else None
            trace["path"] = _path_trace(tr, env, history, jv(dpath), numbers)
        if not selected or deadlines:
            final = tuple(q for q, ph in spec.phases.items() if ph.final)
            ended = min((first[q][0] for q in final if q in first), default=None)
            trace["deadlines"] = [_deadline_trace(tr, dl, env, history, events, dates, first, ended,
                                                  plan.binder.item_env)
                                  for dl in spec.deadlines if not deadlines or dl.id in deadlines]
        if not selected or obligations:
            trace["obligations"] = [_obligation_trace(tr, ob, env, stays, events, dates)
                                    for ob in spec.obligations if not obligations or ob.id in obligations]
    except EVAL_ERRORS:
        if decision.get("status") != "error":  # the decision was reached: the walk must reach it too (a bug)
            raise
        # the evaluation fails (the decision's error says where): the sections traced up to there are kept
    trace["parameters"] = sorted(tr.params_used.values(), key=lambda x: x["name"])
    trace["constants"] = sorted(tr.constants.values(), key=lambda c: (c.get("in") or "", c.get("at") or ""))
    return trace


def check_selection(spec, rules, deadlines, obligations, transitions) -> None:
    """Every name asked for exists (a positioned usage error with "did you mean" otherwise)."""
    def fail(what: str, kinds: str, flag: str, name: str, known: list, code: str):
        hint = did_you_mean(name, known) or (f"{kinds} de cette spec : " + (", ".join(known) or "aucune"))
        raise UsageError(Diagnostic(f"{flag} {name} : {what} dans la spec {spec.id}", file=COMMAND_LINE,
                                    code=code, hint=hint))

    ids = _rule_ids(spec.eligibility_beneficiary)
    for r in rules:
        if r not in ids and r not in spec.definitions:
            fail("règle ou définition inconnue", "règles et définitions", "--rule", r, ids + sorted(spec.definitions), "explain.unknown_rule")
    for d in deadlines:
        if spec.deadline(d) is None:
            fail("échéance inconnue", "échéances", "--deadline", d, [x.id for x in spec.deadlines], "explain.unknown_deadline")
    for o in obligations:
        if spec.obligation(o) is None:
            fail("obligation inconnue", "obligations", "--obligation", o, [x.id for x in spec.obligations], "explain.unknown_obligation")
    for t in transitions:
        if _find_transition(spec, t) is None:
            known = [str(x.index + 1) for x in spec.transitions] + \
                [f"{x.from_phase}->{x.to_phase}" for x in spec.transitions]
            fail("transition inconnue", "transitions", "--transition", t, known, "explain.unknown_transition")


__all__ = ["TRACE_FORMAT", "Tracer", "check_selection", "explain_record", "jv", "vtype"]
