"""Cohort reports by partitions (engine.operation.parts): the accumulators of any split of a cohort merge into exactly
the one-pass report, for every shipped operation sample; ``engine report --jobs`` uses the same byte ranges as
``engine evaluate --jobs``; a failing chunk is counted, never lost."""

from __future__ import annotations

import json
import multiprocessing
import os
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.operation import parts as CP
from engine.run import cohort as RC
from engine.operation.report import build_report, load_operation
from engine.beneficiary.records import read_records
from engine.render.report import to_json
from engine.spec.cache import load_spec_cached

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "specs" / "samples"
WITH_OPS = sorted(p.name.replace(".operation.json", "") for p in SAMPLES.glob("*.operation.json")
                  if (SAMPLES / p.name.replace(".operation.json", ".cohort.jsonl")).exists())
AT = date(2027, 4, 15)


def one_pass(spec, op, path) -> str:
    return to_json(build_report(spec, op, read_records(str(path), spec=spec), AT))


def cohort_file(tmp_path, name, copies=3) -> Path:
    """The sample cohort several times (ids made unique), with bad lines between the copies."""
    lines = (SAMPLES / f"{name}.cohort.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for k in range(copies):
        out += [ln.replace('"id": "', f'"id": "{k}-', 1) for ln in lines]
        out += ["{not json", "", "[1, 2]"]
    path = tmp_path / f"{name}.cohort.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize("name", WITH_OPS)
def test_parts_of_every_sample_cohort_merge_into_the_one_pass_report(tmp_path, name):
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    op = load_operation(str(SAMPLES / f"{name}.operation.json"))
    path = cohort_file(tmp_path, name)
    want = one_pass(spec, op, path)
    for size in (1, 400, 10 ** 7):  # one record per part, a few parts, one part
        parts = RC.report_parts(spec, op, str(path), AT, None, 1, chunk_bytes=size)
        assert to_json(CP.report_from_parts(spec, op, parts, AT)) == want, size
    parts = RC.report_parts(spec, op, str(path), AT, None, 2, chunk_bytes=700)  # on two processes
    assert len(parts) > 2 and to_json(CP.report_from_parts(spec, op, parts, AT)) == want


@settings(max_examples=25, deadline=None)
@given(cuts=st.lists(st.integers(min_value=0, max_value=60), max_size=6))
def test_any_split_of_a_list_of_records_merges_exactly(cuts):
    name = "chantiers-insertion"
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    op = load_operation(str(SAMPLES / f"{name}.operation.json"))
    items = list(read_records(str(SAMPLES / f"{name}.cohort.jsonl"), spec=spec))
    items += [(len(items) + 1, {"id": 7}), (len(items) + 2, {"id": "x", "birth_date": "not a date"})]
    bounds = sorted({0, len(items), *(c % (len(items) + 1) for c in cuts)})
    parts = [CP.cohort_part(spec, op, [(ln, dict(r) if isinstance(r, dict) else r) for ln, r in items[a:b]], AT)
             for a, b in zip(bounds, bounds[1:])]
    want = to_json(build_report(spec, op, [(ln, dict(r) if isinstance(r, dict) else r) for ln, r in items], AT))
    assert to_json(CP.report_from_parts(spec, op, parts, AT)) == want


def test_report_jobs_on_the_command_line(tmp_path, capsys, monkeypatch):
    from engine.cli.main import main

    monkeypatch.setattr("engine.run.parallel.MIN_CHUNK_BYTES", 512)  # several ranges even for a small file
    name = "chantiers-insertion"
    path = cohort_file(tmp_path, name, copies=6)
    outs = []
    for jobs in ("1", "2", "auto"):
        rc = main(["report", "--spec", str(ROOT / "specs" / f"{name}.yaml"), "--operation",
                   str(SAMPLES / f"{name}.operation.json"), "--records", str(path), "--at", "2027-04-15", "--json",
                   "--jobs", jobs])
        outs.append((rc, capsys.readouterr().out))
    assert outs[0] == outs[1] == outs[2] and outs[0][0] == 0
    assert json.loads(outs[0][1])["cohort"]["errors"] == 12


def _fail_on_second(state, chunk):
    if chunk.index == 1:
        os._exit(9)
    return REAL(state, chunk)


REAL = RC.part_of_chunk


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="replaces the worker function")
def test_a_chunk_that_keeps_failing_is_counted_not_lost(tmp_path, monkeypatch):
    monkeypatch.setattr(RC, "part_of_chunk", _fail_on_second)
    name = "chantiers-insertion"
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    op = load_operation(str(SAMPLES / f"{name}.operation.json"))
    path = cohort_file(tmp_path, name)
    whole = json.loads(one_pass(spec, op, path))["cohort"]
    parts = RC.report_parts(spec, op, str(path), AT, None, 2, chunk_bytes=700)
    report = CP.report_from_parts(spec, op, parts, AT)
    c = report["cohort"]
    assert c["participants"] + c["errors"] == whole["participants"] + whole["errors"]  # every record counted
    assert c["participants"] < whole["participants"]
    assert any(s["code"] == "internal_error" for s in c["error_samples"])
