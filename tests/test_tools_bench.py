"""tools/bench.py's instruction child: every stage of ``--stages`` runs and the evaluating ones write one line per
record (the counts themselves need valgrind and are not run here)."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import bench  # noqa: E402
from synth import Synth  # noqa: E402

from engine.spec.compile import load_spec  # noqa: E402

SPEC_PATH = ROOT / "specs/accompagnement-social-professionnel-intensif.yaml"


@pytest.fixture(scope="module")
def records(tmp_path_factory):
    s = Synth(load_spec(SPEC_PATH), 2, date(2026, 1, 5))
    path = tmp_path_factory.mktemp("bench") / "r.jsonl"
    path.write_bytes(b"".join(orjson.dumps(s.record(i, date(2026, 12, 31), 0.3, 0.1, spread=120),
                                           option=orjson.OPT_APPEND_NEWLINE) for i in range(40)))
    return path


@pytest.mark.parametrize("stage", bench.STAGES)
def test_every_stage_runs(records, stage):
    p = subprocess.run([sys.executable, "-c", bench.INSTR_CHILD, str(ROOT), stage, str(SPEC_PATH), str(records), "30",
                        "2026-12-31"], capture_output=True, text=True, env={**os.environ, "BENCH_CHECK": "1"})
    assert p.returncode == 0, p.stderr
    lines = p.stdout.split()
    if stage == "read":
        assert lines == []  # nothing evaluated, nothing written
    else:
        assert lines == ["30"]
