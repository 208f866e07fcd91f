"""Property: the trace of `engine explain` says what `engine evaluate` decided, on generated records of every shipped
spec. Each traced rule, definition, deadline, obligation (its windows) and path step (its guard and timing) is
compared with the decision (or, for definitions, which the output does not carry, with the compiled code)."""

from __future__ import annotations

import sys
from datetime import date, timedelta
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from synth import Synth  # noqa: E402

from engine.spec.compile import load_spec  # noqa: E402
from engine.beneficiary.evaluate import _copy, evaluate_record, plan_for  # noqa: E402
from engine.beneficiary.explain import explain_record, jv  # noqa: E402

SPECS = sorted(p for p in (ROOT / "specs").glob("*.yaml") if p.name != "common.yaml")
_LOADED: dict = {}


def spec_of(path: Path):
    if path not in _LOADED:
        _LOADED[path] = load_spec(path)
    return _LOADED[path]


def _leaves(rule):
    if rule.get("op") == "condition":
        yield rule
    for c in rule.get("children") or ():
        yield from _leaves(c)


def _missing(node) -> list:
    return sorted(node.get("missing") or [])


def check_trace(spec, raw: dict, at: date, params: dict) -> None:
    decision = jv(evaluate_record(spec, raw, at, params))
    trace = explain_record(spec, raw, at, params)
    assert trace["decision"] == decision
    if decision["status"] == "error":
        return
    # eligibility: every leaf as the reasons say, the tree as `eligible` and `missing` say
    reasons = {r["rule"]: r for r in decision["reasons"]}
    if spec.eligibility_beneficiary is None:
        assert trace["eligibility"] is None and decision["eligible"] is True
    else:
        el = trace["eligibility"]
        assert el["value"] == decision["eligible"]
        if el["value"] is None:
            assert _missing(el) == decision["missing"]
        leaves = list(_leaves(el))
        assert [x["id"] for x in leaves] == [r["rule"] for r in decision["reasons"]]
        for leaf in leaves:
            r = reasons[leaf["id"]]
            assert leaf["value"] == r["value"], leaf["id"]
            assert leaf["expr"]["value"] == r["value"], leaf["id"]
            if r["value"] is None:
                assert _missing(leaf) == r["missing"], leaf["id"]
    # definitions: the traced value is the compiled one
    if spec.definitions:
        plan = plan_for(spec)
        env, _, _ = plan.binder.bind_plain(_copy(raw), plan.binder.params(params))
        dtrace = explain_record(spec, raw, at, params, rules=sorted(spec.definitions))
        for item in dtrace["rules"]:
            d = spec.definitions[item["id"]]
            try:
                want = d.expr.fn(dict(env), at)
            except Exception as e:  # noqa: BLE001 - the compiled code fails: the trace says so too
                assert item["expr"]["kind"] == "error", (item["id"], e)
                continue
            assert item["expr"]["value"] == jv(want), item["id"]
            assert item["expr"]["type"] != "unknown" or _missing(item["expr"]) == sorted(want.names), item["id"]
    # deadlines
    assert [d["id"] for d in trace["deadlines"]] == [d["id"] for d in decision["deadlines"]]
    for t, d in zip(trace["deadlines"], decision["deadlines"]):
        assert (t["status"], t["due"], t["date"]) == (d["status"], d["due"], d["date"]), t["id"]
        assert _missing(t) == sorted(d.get("missing") or []), t["id"]
    # obligations and their windows
    assert [o["id"] for o in trace["obligations"]] == [o["id"] for o in decision["obligations"]]
    for t, o in zip(trace["obligations"], decision["obligations"]):
        for k in ("status", "windows_checked", "windows_skipped", "windows_pending", "failed"):
            assert t[k] == o[k], (t["id"], k)
        assert _missing(t) == sorted(o.get("missing") or []), t["id"]
        assert [{"start": w["start"], "end": w["end"]} for w in t["windows"] if w["status"] == "failed"] == o["failed"]
        assert sum(w["status"] == "pending" for w in t["windows"]) == o["windows_pending"]
    # path steps: the guards and the timing limits as the violations say
    if spec.phases:
        path, dpath = trace["path"], decision["path"]
        assert (path["legal"], path["current_phase"]) == (dpath["legal"], dpath["current_phase"])
        assert len(path["steps"]) == len(raw.get("history") or [])
        guard_missing: set = set()
        for s in path["steps"]:
            t = s.get("transition")
            codes = {(v["code"], v.get("rule")) for v in dpath["violations"] if v["at"] == s["index"]}
            if not t:
                continue
            tid = f"{t['from']}->{t['to']}"
            if "guard" in t:
                g = t["guard"]["value"]
                assert (g is False) == (("guard_failed", tid) in codes), (s["index"], tid)
                if g is None:
                    guard_missing.update(t["guard"].get("missing") or [])
            if t.get("within", {}).get("checked"):
                assert (not t["within"]["ok"]) == (("deadline_missed", tid) in codes), (s["index"], tid)
            if t.get("after", {}).get("checked"):
                assert (not t["after"]["ok"]) == (("min_duration_not_reached", tid) in codes), (s["index"], tid)
        assert sorted(guard_missing) == sorted(dpath.get("missing") or [])


@st.composite
def cases(draw):
    path = draw(st.sampled_from(SPECS))
    spec = spec_of(path)
    seed = draw(st.integers(0, 10_000))
    at = date(2026, 1, 5) + timedelta(days=draw(st.integers(20, 700)))
    s = Synth(spec, seed, date(2026, 1, 5))
    raw = s.record(draw(st.integers(0, 50)), at, draw(st.sampled_from([0.0, 0.5, 1.0])),
                   draw(st.sampled_from([0.0, 0.3])), spread=draw(st.sampled_from([None, 30, 120])))
    evs = raw.get("events") or []
    if evs and draw(st.booleans()):  # lose some events: windows and deadlines fail
        keep = draw(st.lists(st.booleans(), min_size=len(evs), max_size=len(evs)))
        raw["events"] = [e for e, k in zip(evs, keep) if k]
    types = sorted(spec.events)
    for _ in range(draw(st.integers(0, 8)) if types else 0):  # events anywhere: partial windows, late targets
        t = draw(st.sampled_from(types))
        e = {"type": t, "date": (at - timedelta(days=draw(st.integers(-30, 400)))).isoformat()}
        for f, a in spec.events[t].fields.items():
            if draw(st.integers(0, 3)):
                e[f] = s.value(f, a.decl)
        raw.setdefault("events", []).append(e)
    at = at - timedelta(days=draw(st.integers(0, 200)))  # also evaluated before the end of the path
    params = {name: draw(st.integers(0, 4)) for name in spec.parameters if draw(st.booleans())}
    return spec, orjson.loads(orjson.dumps(raw)), at, params


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(cases())
def test_trace_equals_decision_on_generated_records(case):
    spec, raw, at, params = case
    check_trace(spec, raw, at, params)


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_trace_equals_decision_on_the_specs_examples(path):
    from engine.examples import jsonish

    spec = spec_of(path)
    for ex in spec.examples:
        if ex.record is not None:
            check_trace(spec, jsonish(ex.record), ex.at, dict(ex.params))


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_trace_equals_decision_on_many_synthetic_records(path):
    spec = spec_of(path)
    s = Synth(spec, 11, date(2026, 1, 5))
    at = date(2026, 9, 30)
    params = {name: 2 for name in spec.parameters}
    for i in range(40):
        check_trace(spec, orjson.loads(orjson.dumps(s.record(i, at, 0.5, 0.2, spread=120))), at, params)
