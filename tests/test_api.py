"""The public Python API (engine.api, docs/api.md): what it gives is what the command line writes."""

from __future__ import annotations

import pickle
from datetime import date
from pathlib import Path

import orjson
import pytest

import engine
from engine import api
from engine.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "specs" / "samples"
SPEC = ROOT / "specs" / "coach-jeunesse.yaml"
RECORDS = SAMPLES / "coach-jeunesse.records.jsonl"
AT = date(2026, 6, 1)


def cli_output(tmp_path, spec=SPEC, records=RECORDS) -> bytes:
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", "--spec", str(spec), str(records), "--at", AT.isoformat(), "-o", str(out)]) == 0
    return out.read_bytes()


def test_the_package_exports_the_api():
    assert engine.api is api
    for name in api.__all__:
        assert getattr(api, name).__doc__ or name == "Chunk", name


def test_load_spec_is_picklable_and_evaluate_record_matches_the_command(tmp_path):
    spec = api.load_spec(SPEC)
    again = pickle.loads(pickle.dumps(spec))
    want = cli_output(tmp_path).splitlines(keepends=True)
    records = [orjson.loads(line) for line in RECORDS.read_bytes().splitlines() if line.strip()]
    for rec, line in zip(records, want):
        got = api.evaluate_record(again, rec, AT)
        if got["status"] == "error":  # a record alone has no line number
            got["line"] = orjson.loads(line)["line"]
        assert api.to_json(got) == line
    assert len(records) == len(want)


@pytest.mark.parametrize("parts", [1, 2, 5, 40])
def test_evaluate_lines_over_the_parts_of_a_file_is_the_command_output(tmp_path, parts):
    spec = api.load_spec(SPEC)
    want = cli_output(tmp_path)
    chunks = api.split_file(str(RECORDS), parts=parts)
    assert chunks[0].start == 0 and chunks[-1].end == RECORDS.stat().st_size
    assert all(a.end == b.start for a, b in zip(chunks, chunks[1:]))
    results = [r for c in chunks for r in api.evaluate_lines(spec, api.read_lines(str(RECORDS), c), AT)]
    assert b"".join(api.to_json(r) for r in results) == want
    summaries = [api.summarize(api.evaluate_lines(spec, api.read_lines(str(RECORDS), c), AT)) for c in chunks]
    assert api.merge_summaries(summaries).as_dict() == api.summarize(results).as_dict()


def test_evaluate_lines_takes_text_and_skips_blank_lines():
    spec = api.load_spec(SPEC)
    lines = [(1, '{"id": "A"}'), (2, b"   \n"), (3, b'{"id": 7}'), (4, b"{bad")]
    got = list(api.evaluate_lines(spec, lines, AT))
    assert [r["id"] for r in got] == ["A", None, None]
    assert [r.get("line") for r in got[1:]] == [3, 4]


def test_cohort_parts_give_the_report_of_one_pass():
    name = "logement-d-abord"
    spec = api.load_spec(ROOT / "specs" / f"{name}.yaml")
    op = api.load_operation(str(SAMPLES / f"{name}.operation.json"))
    path = str(SAMPLES / f"{name}.cohort.jsonl")
    at = date(2027, 4, 15)
    from engine.beneficiary.records import read_records

    whole = api.build_report(spec, op, read_records(path, spec=spec), at)
    parts = [api.cohort_part(spec, op, api.read_lines(path, c), at) for c in api.split_file(path, parts=4)]
    parts = pickle.loads(pickle.dumps(parts))  # what a worker sends back
    merged = api.report_from_parts(spec, op, [api.merge_parts(parts[:2]), api.merge_parts(parts[2:])], at)
    assert api.render_report(merged, "json") == api.render_report(whole, "json")
