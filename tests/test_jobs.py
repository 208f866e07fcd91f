"""``engine evaluate --jobs N`` (engine.run.parallel, engine.run.batch): the output is byte for byte the single-process
output for every shipped spec's samples and every format, whatever the chunking; hostile files split anywhere; a
worker that dies is retried, one that keeps dying gives one error line per record of its chunk (never a lost one)."""

from __future__ import annotations

import io
import json
import multiprocessing
import os
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from engine.run import batch
from engine.cli.main import main
from engine.beneficiary.evaluate import evaluate_stream, plan_for
from engine.run.parallel import file_chunks, read_range
from engine.beneficiary.records import read_records
from engine.render.evaluation import Summary, write_csv, write_json, write_jsonl
from engine.spec.cache import load_spec_cached

pytestmark = pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(),
                                reason="the failure tests replace the worker function in forked processes")

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "specs" / "samples"
SHIPPED = sorted(p.name.replace(".records.jsonl", "") for p in SAMPLES.glob("*.records.jsonl"))
AT = date(2026, 6, 1)
MINI = str(ROOT / "tests/data/specs/mini.yaml")
GOOD = b'{"id": "G-%d", "department": "62", "rsa": true, "peripheral_barriers": 2}'
HOSTILE = [GOOD % 1, b"", b'{"id": "x\xff\xfe", "rsa": true}', b"   ", b'{"id": "n", "peripheral_barriers": NaN}',
           b"[1, 2]", b'{"id": "a", }', GOOD % 2, b'{"rsa": true}', b'{"id": "t", "rsa": "oui"}', GOOD % 3]


def single(spec, paths, fmt, params=None, summary=None) -> bytes:
    """What one process writes (engine.render.evaluation's writers on engine.beneficiary.evaluate's stream)."""
    out = io.BytesIO()
    plan = plan_for(spec)

    def results():
        for p in paths:
            for r in evaluate_stream(spec, read_records(p, spec=spec, decode=plan.decoder), AT, params or {},
                                     owned=True):
                if len(paths) > 1 and r.get("status") == "error":
                    r["file"] = p
                if summary is not None:
                    summary.add(r)
                yield r

    if fmt == "csv":
        write_csv(out, results(), spec)
    else:
        {"jsonl": write_jsonl, "json": write_json}[fmt](out, results())
    return out.getvalue()


def chunked(spec, paths, fmt, params=None, **kw) -> tuple[bytes, batch.RunStats]:
    out = io.BytesIO()
    stats = batch.evaluate_files(spec, paths, AT, params or {}, out, fmt=fmt, **kw)
    return out.getvalue(), stats


@pytest.mark.parametrize("name", SHIPPED)
def test_every_sample_is_byte_identical_across_jobs_and_chunks(name):
    spec = load_spec_cached(ROOT / "specs" / f"{name}.yaml")
    records = str(SAMPLES / f"{name}.records.jsonl")
    n = len(list(read_records(records)))
    for fmt in ("jsonl", "json", "csv"):
        want = single(spec, [records], fmt)
        for size in (1, 700, 5000, 10 ** 7):  # the chunks evaluated in this process: chunking and rendering
            got, stats = chunked(spec, [records], fmt, jobs=1, chunk_bytes=size)
            assert got == want, (fmt, size)
            assert stats.records == n
        got, stats = chunked(spec, [records], fmt, jobs=2, chunk_bytes=(1, 900, 3000)[len(fmt) % 3])  # processes
        assert got == want, (fmt, "processes")


def test_two_inputs_and_the_summary_merge_exactly():
    spec = load_spec_cached(ROOT / "specs" / "coach-jeunesse.yaml")
    records = str(SAMPLES / "coach-jeunesse.records.jsonl")
    other = str(SAMPLES / "mobilite.records.jsonl")  # another programme's records: errors and unknowns
    want_summary = Summary()
    want = single(spec, [records, other], "jsonl", summary=want_summary)
    got, stats = chunked(spec, [records, other], "jsonl", jobs=2, chunk_bytes=900, summary=True)
    assert got == want
    assert stats.summary.as_dict() == want_summary.as_dict() and stats.records == want_summary.total


@pytest.mark.parametrize("sep,bom,final", [(b"\n", False, True), (b"\r\n", True, False)], ids=["lf", "crlf-bom"])
def test_hostile_lines_split_anywhere(tmp_path, sep, bom, final):
    spec = load_spec_cached(MINI)
    src = tmp_path / "in.jsonl"
    src.write_bytes((b"\xef\xbb\xbf" if bom else b"") + sep.join(HOSTILE) + (sep if final else b""))
    params = {"min_barriers": "2"}
    want = single(spec, [str(src)], "jsonl", params)
    size = len(src.read_bytes())
    for chunk in range(1, size + 2):
        got, _ = chunked(spec, [str(src)], "jsonl", params, jobs=2 if chunk in (1, size // 2) else 1,
                         chunk_bytes=chunk)
        assert got == want, chunk
        ranges = list(file_chunks(str(src), chunk))  # the ranges alone, for every size
        items = [x for c in ranges for x in read_range(c.path, c.start, c.end, c.first_line)]
        assert items == list(read_records(str(src), decode=lambda b: b))


def test_inputs_read_by_the_parent_json_array_csv_and_stdin(tmp_path):
    spec = load_spec_cached(MINI)
    params = {"min_barriers": "2"}
    arr = tmp_path / "in.json"
    arr.write_bytes(b"[\n" + b",\n".join([GOOD % 1, b'{"id": "bad", "rsa": "oui"}', GOOD % 2, b"42"]) + b"\n]\n")
    csvf = tmp_path / "in.csv"
    csvf.write_text("id,department,rsa,peripheral_barriers\nC1,62,vrai,3\nC2,62,peut-être,1\n", encoding="utf-8")
    for fmt in ("jsonl", "json", "csv"):
        want = single(spec, [str(arr), str(csvf)], fmt, params)
        got, _ = chunked(spec, [str(arr), str(csvf)], fmt, params, jobs=2, chunk_records=1)
        assert got == want
    data = (ROOT / "tests/data/records/mini.records.jsonl").read_bytes()
    cmd = [sys.executable, "-m", "engine.cli.main", "evaluate", "--spec", MINI, "-", "--at", "2026-04-01", "--param",
           "min_barriers=2"]
    one = subprocess.run(cmd, input=data, capture_output=True, cwd=ROOT, timeout=120)
    two = subprocess.run(cmd + ["--jobs", "2"], input=data, capture_output=True, cwd=ROOT, timeout=120)
    assert one.returncode == two.returncode == 0, two.stderr
    assert two.stdout == one.stdout and one.stdout


def test_the_command_line_jobs_auto_and_summary(tmp_path, capsys):
    src = tmp_path / "many.jsonl"
    base = (SAMPLES / "coach-jeunesse.records.jsonl").read_bytes()
    src.write_bytes(base * 150)  # ~ enough for several 64 KiB ranges
    spec = str(ROOT / "specs" / "coach-jeunesse.yaml")
    outs = {}
    for jobs in ("1", "2", "auto"):
        out = tmp_path / f"out{jobs}.csv"
        rc = main(["evaluate", "--spec", spec, str(src), "--at", "2026-06-01", "--jobs", jobs, "--summary",
                   "--format", "csv", "-o", str(out)])
        outs[jobs] = (rc, out.read_bytes(), capsys.readouterr().err)
    assert outs["1"] == outs["2"] == outs["auto"]
    assert outs["1"][0] == 0 and "enregistrement(s) évalué(s)" in outs["1"][2]
    assert main(["evaluate", "--spec", spec, str(src), "--jobs", "0"]) == 2
    assert "--jobs" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ failures

def _crash_once(state, chunk):
    """Kill the worker process on chunk 1 the first time it is seen (a marker file remembers it)."""
    marker = Path(os.environ["CRASH_MARKER"])
    if chunk.index == 1 and not marker.exists():
        marker.write_text("crashed")
        os._exit(9)
    return REAL(state, chunk)


def _crash_always(state, chunk):
    if chunk.index == 1:
        os._exit(9)
    return REAL(state, chunk)


def _raise_always(state, chunk):
    if chunk.index == 2:
        raise RuntimeError("a bug in the chunk code")
    return REAL(state, chunk)


REAL = batch.evaluate_chunk


def test_a_worker_that_dies_once_is_retried_and_nothing_changes(tmp_path, monkeypatch):
    monkeypatch.setenv("CRASH_MARKER", str(tmp_path / "marker"))
    monkeypatch.setattr(batch, "evaluate_chunk", _crash_once)
    spec = load_spec_cached(ROOT / "specs" / "coach-jeunesse.yaml")
    records = str(SAMPLES / "coach-jeunesse.records.jsonl")
    want = single(spec, [records], "jsonl")
    got, stats = chunked(spec, [records], "jsonl", jobs=2, chunk_bytes=600)
    assert (tmp_path / "marker").exists()  # it did die
    assert got == want and stats.failures == [] and stats.internal == 0


@pytest.mark.parametrize("failing", [_crash_always, _raise_always], ids=["dies", "raises"])
def test_a_chunk_that_keeps_failing_gives_one_error_line_per_record(monkeypatch, failing):
    monkeypatch.setattr(batch, "evaluate_chunk", failing)
    spec = load_spec_cached(ROOT / "specs" / "coach-jeunesse.yaml")
    records = str(SAMPLES / "coach-jeunesse.records.jsonl")
    want = [json.loads(x) for x in single(spec, [records], "jsonl").splitlines()]
    got_bytes, stats = chunked(spec, [records], "jsonl", jobs=2, chunk_bytes=600)
    got = [json.loads(x) for x in got_bytes.splitlines()]
    assert len(got) == len(want) and len(stats.failures) == 1
    bad = stats.failures[0].chunk
    lines = [n for n, _ in read_range(bad.path, bad.start, bad.end, bad.first_line)]
    assert lines and stats.internal == len(lines)
    for r, w in zip(got, want):
        if r.get("line") in lines and r["status"] == "error" and r["error"]["code"] == "internal_error":
            assert r["id"] == w["id"] and r["spec"] == w["spec"] and r["error"]["message"]
        else:
            assert r == w
    assert sum(r["status"] == "error" and r["error"]["code"] == "internal_error" for r in got) == len(lines)


def test_the_command_reports_a_failed_chunk_and_exits_3(tmp_path, monkeypatch, capsys):
    monkeypatch.setattr(batch, "evaluate_chunk", _crash_always)
    monkeypatch.setattr("engine.run.parallel.MIN_CHUNK_BYTES", 500)
    src = tmp_path / "in.jsonl"
    src.write_bytes((SAMPLES / "coach-jeunesse.records.jsonl").read_bytes() * 3)
    out = tmp_path / "out.jsonl"
    rc = main(["evaluate", "--spec", str(ROOT / "specs/coach-jeunesse.yaml"), str(src), "--at", "2026-06-01",
               "--jobs", "2", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 3, err
    assert "n'a pas pu être évaluée" in err and "internal_error" in err
    n_in = sum(1 for line in src.read_bytes().splitlines() if line.strip())
    assert len(out.read_bytes().splitlines()) == n_in


def test_a_folder_is_its_record_files_by_name(tmp_path, capsys):
    """A folder argument is the .jsonl/.ndjson/.json/.csv files directly in it, sorted by name, hidden files and
    other names left out: the output is that of the files given one by one, with one process or two."""
    folder = tmp_path / "inputs"
    folder.mkdir()
    lines = (SAMPLES / "coach-jeunesse.records.jsonl").read_bytes().splitlines(keepends=True)
    bad = b'{"id": "bad-1", "birth_date": "not a date"}\n'
    parts = {"b.jsonl": lines[:4] + [bad], "a.ndjson": lines[4:8], "c.JSONL": lines[8:]}
    for name, content in parts.items():
        (folder / name).write_bytes(b"".join(content))
    (folder / ".hidden.jsonl").write_bytes(lines[0])
    (folder / "notes.txt").write_text("pas des enregistrements")
    (folder / "sub.jsonl").mkdir()  # a folder named like a file: not an input
    spec = ["--spec", str(ROOT / "specs/coach-jeunesse.yaml"), "--at", "2026-06-01"]
    files = [str(folder / n) for n in ("a.ndjson", "b.jsonl", "c.JSONL")]
    assert main(["evaluate", *spec, *files]) == 0  # a bad record is an output line, not a failed run
    want = capsys.readouterr().out
    assert want.count("\n") == sum(len(c) for c in parts.values()) and '"file"' in want
    for extra in ([], ["--jobs", "2"]):
        assert main(["evaluate", *spec, str(folder), *extra]) == 0
        assert capsys.readouterr().out == want


def test_an_empty_folder_is_an_input_error(tmp_path, capsys):
    (tmp_path / "README").write_text("rien")
    rc = main(["evaluate", "--spec", str(ROOT / "specs/coach-jeunesse.yaml"), str(tmp_path), "--at", "2026-06-01"])
    err = capsys.readouterr().err
    assert rc == 1 and "aucun fichier d'enregistrements" in err and str(tmp_path) in err
