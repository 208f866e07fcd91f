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

from engine.beneficiary import evaluate as E  # noqa: E402
from engine.spec.compile import load_spec  # noqa: E402
from engine.beneficiary.records import decode_object  # noqa: E402

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


def _typed_lines(spec, n: int, seed: int) -> list[bytes]:
    """Synthetic lines plus what the typed decoding must hand back to the ordinary path (or read the same way): null
    attributes, undeclared keys (top level and in events, one named like an attribute), a fractional number, a null
    event field, an undeclared event type, a wrongly typed attribute, an event without a date."""
    lines = _lines(spec, n, seed)
    attrs = [a for a in spec.attributes if a not in ("id", "history", "events")]
    number_fields = [(t, f) for t, ev in spec.events.items() for f, a in ev.fields.items()
                     if (a.decl or {}).get("type") == "number"]
    for i in range(1, n, 5):
        try:
            r = orjson.loads(lines[i])
        except orjson.JSONDecodeError:  # one of the hostile lines
            continue
        if not isinstance(r, dict):
            continue
        k = i // 5
        evs = r.get("events") or []
        if k % 7 == 0 and attrs:
            r[attrs[k % len(attrs)]] = None
        elif k % 7 == 1:
            r["not_declared"] = {"x": [1, 2]}
            for e in evs[:3]:
                e["note"] = "libre"
                if attrs:
                    e[attrs[0]] = "shadow"
        elif k % 7 == 2 and number_fields:
            t, f = number_fields[k % len(number_fields)]
            evs.append({"type": t, "date": "2026-03-02", f: 7.5})
        elif k % 7 == 3 and evs:
            evs[0][next(iter(evs[0].keys() - {"type", "date"}), "x")] = None
        elif k % 7 == 4:
            evs.append({"type": "not_a_declared_type", "date": "2026-04-01", "mode": 3})
        elif k % 7 == 5 and attrs:
            r[attrs[-1]] = [1]
        elif k % 7 == 6 and evs:
            del evs[-1]["date"]
        r["events"] = evs
        lines[i] = orjson.dumps(r)
    return lines


@pytest.mark.parametrize("spec_path", SPECS)
def test_typed_decoding_equals_plain_path(spec_path):
    """Records decoded by msgspec against the spec's types (engine.beneficiary.bind_typed, what `engine evaluate` reads JSONL
    with) give exactly the plain path's output; records it refuses go the ordinary way, with the same errors."""
    from engine.beneficiary.bind_typed import Typed

    spec = load_spec(ROOT / spec_path)
    plan = E.plan_for(spec)
    assert plan.decoder is not None
    plain_plan = dataclasses.replace(plan, fast=False)
    lines = _typed_lines(spec, 210, 7)
    params = _params(spec)
    typed_items = [(i, plan.decoder(x)) for i, x in enumerate(lines, 1)]
    kinds = [type(x).__name__ for _, x in typed_items]
    assert kinds.count("Typed") > len(lines) // 2 and kinds.count("dict") > 10 and "BadRecord" in kinds
    for at in (date(2026, 5, 20), date(2027, 2, 1)):
        typed = list(E.evaluate_stream(spec, typed_items if at.month == 5 else
                                       [(i, plan.decoder(x)) for i, x in enumerate(lines, 1)], at, params, owned=True))
        plain = _run(spec, plain_plan, lines, at, params)
        assert len(typed) == len(plain) == len(lines)
        for t, p, (_, item) in zip(typed, plain, typed_items):
            assert t == p, (type(item).__name__, t.get("id"))
        assert [orjson.dumps(x, default=str) for x in typed] == [orjson.dumps(x, default=str) for x in plain]
    assert any(isinstance(x, Typed) for _, x in typed_items)
