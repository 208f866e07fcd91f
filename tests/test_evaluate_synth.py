"""tools/synth.py: deterministic, realistic records; each violation kind it aims at is produced and detected."""

from __future__ import annotations

import sys
from collections import Counter
from datetime import date
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from synth import MUTATIONS, Synth, main as synth_main  # noqa: E402

from engine.spec.compile import load_spec  # noqa: E402
from engine.beneficiary.evaluate import evaluate_stream  # noqa: E402
from engine.beneficiary.records import read_records  # noqa: E402

SPEC = load_spec(ROOT / "tests/data/specs/mini.yaml")
AT = date(2026, 12, 31)


def test_legal_records_are_mostly_legal_and_have_realistic_sizes():
    s = Synth(SPEC, 7, date(2026, 1, 5))
    recs = [s.record(i, AT, 0.0, 0.0, spread=120) for i in range(200)]
    outs = list(evaluate_stream(SPEC, [(i, orjson.loads(orjson.dumps(r))) for i, r in enumerate(recs, 1)], AT,
                                {"min_barriers": 2}))
    assert all(o["status"] == "ok" for o in outs)
    structural = {"illegal_start", "unknown_phase", "transition_not_allowed", "dates_out_of_order", "after_end",
                  "outside_convention",
                  "renewals_exceeded", "max_duration_exceeded", "total_duration_exceeded", "min_duration_not_reached"}
    bad = [o["id"] for o in outs if any(v["code"] in structural for v in o["path"]["violations"])]
    assert not bad, bad[:5]
    assert sum(len(r["events"]) + len(r["history"]) for r in recs) / len(recs) > 15


def test_each_mutation_gives_its_violation():
    s = Synth(SPEC, 3, date(2026, 1, 5))
    recs = [s.record(i, AT, 1.0, 0.0, spread=120) for i in range(10 * len(MUTATIONS))]
    outs = list(evaluate_stream(SPEC, [(i, orjson.loads(orjson.dumps(r))) for i, r in enumerate(recs, 1)], AT,
                                {"min_barriers": 2}))
    seen: dict = {m: Counter() for m in MUTATIONS}
    for i, o in enumerate(outs):
        seen[MUTATIONS[i % len(MUTATIONS)]].update({v["code"] for v in o["path"]["violations"]})
    for kind in MUTATIONS:
        assert seen[kind][kind] > 0, (kind, seen[kind])


def test_deterministic_with_bad_lines(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    for p in (a, b):
        synth_main(["--spec", str(ROOT / "tests/data/specs/mini.yaml"), "-n", "300", "--seed", "5", "--bad-lines",
                    "0.1", "-o", str(p)])
    assert a.read_bytes() == b.read_bytes()
    items = list(read_records(str(a)))
    assert len(items) == 300
    outs = list(evaluate_stream(SPEC, items, AT, {"min_barriers": 2}))
    assert len(outs) == 300 and 10 < sum(o["status"] == "error" for o in outs) < 60
