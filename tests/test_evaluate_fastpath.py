"""The fast path of ``engine evaluate`` gives exactly the results of the plain path, on synthetic records of every
shipped spec (and the test spec), hostile lines included.

The plain path (``Plan.fast = False``) binds every value through its converter (no date cache, no shortcut), lets
every guard, deadline and obligation window see every event of the record, and evaluates every window (no shared
result for empty windows). The fast path restricts conditions to the event types they can see, shares the per-record
filtered lists, the obligation periods and the bisection bounds, and binds with the cached fast checks.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from synth import BAD_LINES, Synth  # noqa: E402

from engine import evaluate as E  # noqa: E402
from engine.compile import load_spec  # noqa: E402
from engine.records import decode_object  # noqa: E402

SPECS = sorted(str(p.relative_to(ROOT)) for p in (ROOT / "specs").glob("*.yaml") if p.name != "common.yaml")
SPECS.append("tests/data/specs/mini.yaml")


def _params(spec) -> dict:
    out = {}
    for name, p in spec.parameters.items():
        t = (p.decl or {}).get("type")
        out[name] = {"integer": 2, "number": 2, "boolean": True}.get(t)
        if out[name] is None:
            out.pop(name)
    return out


def _lines(spec, n: int, seed: int) -> list[bytes]:
    s = Synth(spec, seed, date(2026, 1, 5))
    lines = [orjson.dumps(s.record(i, date(2027, 3, 31), 0.5, 0.2, spread=200)) for i in range(n)]
    # shuffle some events (the binding sorts them), hostile lines, a float field
    for i in range(0, n, 7):
        r = orjson.loads(lines[i])
        r["events"] = list(reversed(r.get("events") or []))
        lines[i] = orjson.dumps(r)
    for k, bad in enumerate(BAD_LINES):
        lines[(k * 13) % n] = bad
    return lines


def _run(spec, plan, lines, at, params):
    E._PLANS[id(spec)] = plan
    try:
        return list(E.evaluate_stream(spec, [(i, decode_object(x)) for i, x in enumerate(lines, 1)], at, params,
                                      owned=True))
    finally:
        E._PLANS.pop(id(spec), None)


@pytest.mark.parametrize("spec_path", SPECS)
def test_fast_path_equals_plain_path(spec_path):
    spec = load_spec(ROOT / spec_path)
    fast_plan = E.plan_for(spec)
    assert fast_plan.fast
    plain_plan = dataclasses.replace(fast_plan, fast=False)
    lines = _lines(spec, 160, 5)
    params = _params(spec)
    for at in (date(2026, 5, 20), date(2027, 2, 1)):
        fast = _run(spec, fast_plan, lines, at, params)
        plain = _run(spec, plain_plan, lines, at, params)
        assert len(fast) == len(plain) == len(lines)
        for f, p in zip(fast, plain):
            assert f == p
        # the output bytes too (key order included)
        assert [orjson.dumps(x, default=str) for x in fast] == [orjson.dumps(x, default=str) for x in plain]
    ok = [r for r in fast if r["status"] == "ok"]
    assert len(ok) > 100 and any(r["status"] == "error" for r in fast)
    if spec.phases:
        assert any(not r["path"]["legal"] for r in ok)
