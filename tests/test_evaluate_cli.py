"""`engine evaluate` end to end on a real YAML spec (tests/data/specs/mini.yaml): hostile inputs, exit codes,
formats, atomic output, summary, the golden output, and the bundled sample records of the programmes.

Regenerate the golden file after an intended change with ``python -m pytest tests/test_evaluate_cli.py --update-goldens``
and review the diff: the decisions in it were checked by hand (see test_golden_decisions_read_from_the_text).
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from engine.cli.main import main

HERE = Path(__file__).parent
SPEC = str(HERE / "data/specs/mini.yaml")
RECORDS = str(HERE / "data/records/mini.records.jsonl")
GOLDEN = HERE / "data/golden/mini.evaluate.jsonl"
ROOT = HERE.parent


def run(args: list[str], capsys) -> tuple[int, str]:
    rc = main(["evaluate", "--spec", SPEC, "--at", "2026-04-01", "--param", "min_barriers=2", *args])
    return rc, capsys.readouterr().err


def lines(path) -> list[dict]:
    return [json.loads(x) for x in Path(path).read_text(encoding="utf-8").splitlines()]


# ------------------------------------------------------------------------------------------------ hostile inputs

GOOD = b'{"id": "G-%d", "department": "62", "rsa": true, "peripheral_barriers": 2}'

HOSTILE = [
    ("bad bytes", [GOOD % 1, b'{"id": "x\xff\xfe", "rsa": true}', GOOD % 3], ["ok", "invalid_utf8", "ok"]),
    ("NaN", [b'{"id": "n", "peripheral_barriers": NaN}', GOOD % 2], ["invalid_number", "ok"]),
    ("non-object lines", [b"[1, 2]", b"42", b'"text"', b"null", GOOD % 5], ["not_an_object"] * 4 + ["ok"]),
    ("duplicate ids", [GOOD % 1, GOOD % 1], ["ok", "ok"]),
    ("invalid json", [b'{"id": "a", }', GOOD % 2, b"{", b"}"], ["invalid_json", "ok", "invalid_json", "invalid_json"]),
    ("no id / bad id", [b'{"rsa": true}', b'{"id": 7}', b'{"id": ""}'], ["missing_id", "invalid_id", "invalid_id"]),
    ("wrong types", [b'{"id": "t", "rsa": "oui"}', b'{"id": "d", "birth_date": "2026-02-30"}',
                     b'{"id": "h", "history": [{"phase": "orientation"}]}'], ["wrong_type", "invalid_date", "wrong_type"]),
]


def _write(tmp_path, name, raw_lines, *, sep=b"\n", bom=False, final=True):
    data = (b"\xef\xbb\xbf" if bom else b"") + sep.join(raw_lines) + (sep if final else b"")
    p = tmp_path / name
    p.write_bytes(data)
    return p


@pytest.mark.parametrize("sep,bom,final", [(b"\n", False, True), (b"\r\n", True, False)], ids=["lf", "crlf-bom-nofinal"])
@pytest.mark.parametrize("name,raw,statuses", HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_files_one_line_per_record_exit_0(tmp_path, capsys, name, raw, statuses, sep, bom, final):
    src = _write(tmp_path, "in.jsonl", raw, sep=sep, bom=bom, final=final)
    out = tmp_path / "out.jsonl"
    rc, err = run([str(src), "-o", str(out)], capsys)
    assert rc == 0, err
    got = lines(out)
    assert len(got) == len(raw)
    assert [r["status"] if r["status"] == "ok" else r["error"]["code"] for r in got] == statuses
    for i, r in enumerate(got, 1):
        if r["status"] == "error":
            assert r["line"] == i and r["error"]["message"]


def test_empty_file_gives_empty_output(tmp_path, capsys):
    src = tmp_path / "empty.jsonl"
    src.write_bytes(b"")
    out = tmp_path / "out.jsonl"
    rc, _ = run([str(src), "-o", str(out), "--summary"], capsys)
    assert rc == 0 and out.read_bytes() == b""


def test_fifty_megabyte_line(tmp_path, capsys):
    src = tmp_path / "big.jsonl"
    with open(src, "wb") as f:
        f.write(GOOD % 1 + b"\n" + b'{"id": "big", "blob": "')
        block = b"z" * (1 << 20)
        for _ in range(50):
            f.write(block)
        f.write(b'"}\n' + GOOD % 3)
    out = tmp_path / "out.jsonl"
    rc, _ = run([str(src), "-o", str(out)], capsys)
    got = lines(out)
    assert rc == 0 and [r["status"] for r in got] == ["ok", "error", "ok"]
    assert got[1]["error"]["code"] == "record_too_large" and got[1]["line"] == 2


def test_unreadable_file_exits_1_with_a_clear_message_and_writes_nothing(tmp_path, capsys):
    out = tmp_path / "out.jsonl"
    out.write_text("previous content")
    rc, err = run([str(tmp_path / "missing.jsonl"), "-o", str(out)], capsys)
    assert rc == 1
    assert "missing.jsonl" in err and "impossible d'ouvrir" in err and "Traceback" not in err
    assert out.read_text() == "previous content"
    assert [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]  # no temporary file left behind


def test_invalid_spec_exits_1(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nphases: [\n")
    rc = main(["evaluate", "--spec", str(bad), RECORDS])
    err = capsys.readouterr().err
    assert rc == 1 and "bad.yaml" in err and "Traceback" not in err


def test_bad_param_is_a_usage_error(capsys):
    rc = main(["evaluate", "--spec", SPEC, RECORDS, "--param", "min_barrier=2"])
    err = capsys.readouterr().err
    assert rc == 2 and "min_barriers" in err


# ------------------------------------------------------------------------------------------------ golden, formats

def test_golden_output(tmp_path, capsys, golden):
    out = tmp_path / "out.jsonl"
    rc, _ = run([RECORDS, "-o", str(out)], capsys)
    assert rc == 0
    golden(GOLDEN, out.read_bytes())


def test_golden_decisions_read_from_the_text():
    """The decisions of the golden file, derived by hand from the spec (at 2026-04-01, min_barriers=2)."""
    got = {r["id"]: r for r in lines(GOLDEN)}
    legal = got["M-legal"]
    assert legal["eligible"] is True and legal["path"]["legal"] is True
    assert [(d["id"], d["status"]) for d in legal["deadlines"]] == [("first_appointment", "met"),
                                                                    ("contract_signed", "met")]
    assert [(o["id"], o["status"], o["windows_checked"]) for o in legal["obligations"]] == [
        ("monthly_appointments", "met", 1), ("weekly_hours", "met", 5)]
    late = got["M-late-contract"]
    assert [(v["code"], v["rule"]) for v in late["path"]["violations"]] == [
        ("deadline_missed", "first_appointment"), ("deadline_missed", "contract_signed"),
        ("obligation_unmet", "weekly_hours")]
    unk = got["M-unknown"]
    assert unk["eligible"] is None and unk["missing"] == ["birth_date", "peripheral_barriers", "rsa"]
    assert [(n["phase"], n["latest"]) for n in unk["path"]["next"]] == [("accueil", "2026-04-04")]
    assert got["M-not-eligible"]["eligible"] is False and got["M-not-eligible"]["missing"] == []
    assert got["M-bad-date"]["status"] == "error" and got["M-bad-date"]["line"] == 5


def test_json_and_csv_formats_match_jsonl(tmp_path, capsys):
    jl = lines(GOLDEN)
    out = tmp_path / "out.json"
    assert run([RECORDS, "-o", str(out), "--format", "json"], capsys)[0] == 0
    assert json.loads(out.read_text(encoding="utf-8")) == jl
    out = tmp_path / "out.csv"
    assert run([RECORDS, "-o", str(out), "--format", "csv"], capsys)[0] == 0
    rows = list(csv.DictReader(io.StringIO(out.read_text(encoding="utf-8"))))
    assert [r["id"] for r in rows] == [r["id"] for r in jl]
    assert [r["eligible"] for r in rows] == ["true", "true", "unknown", "false", ""]
    assert rows[1]["first_violation"] == "deadline_missed" and rows[1]["deadline.contract_signed"] == "missed"
    assert rows[1]["obligation.weekly_hours"] == "unmet" and rows[4]["error_code"] == "invalid_date"


def test_summary_counts(tmp_path, capsys):
    rc, err = run([RECORDS, "-o", str(tmp_path / "o.jsonl"), "--summary"], capsys)
    assert rc == 0
    assert "5 enregistrement(s)" in err and "éligibles : 2 · non éligibles : 1 · indéterminés (données manquantes) : 1" \
        in err
    assert "conformes : 3 · non conformes : 1" in err and "première anomalie deadline_missed : 1" in err
    assert "invalid_date : 1" in err


def test_several_inputs_and_csv_input(tmp_path, capsys):
    c = tmp_path / "in.csv"
    c.write_text("id,department,rsa,peripheral_barriers\nC1,62,vrai,3\nC2,62,peut-être,1\n", encoding="utf-8")
    out = tmp_path / "out.jsonl"
    rc, _ = run([RECORDS, str(c), "-o", str(out)], capsys)
    got = lines(out)
    assert rc == 0 and [r["id"] for r in got] == ["M-legal", "M-late-contract", "M-unknown", "M-not-eligible",
                                                  "M-bad-date", "C1", "C2"]
    assert got[5]["eligible"] is True and got[6]["error"]["code"] == "wrong_type" and got[6]["file"] == str(c)


def test_stdout_stream_and_stdin(tmp_path):
    data = Path(RECORDS).read_bytes()
    p = subprocess.run([sys.executable, "-m", "engine.cli.main", "evaluate", "--spec", SPEC, "-", "--at", "2026-04-01",
                        "--param", "min_barriers=2"], input=data, capture_output=True, cwd=ROOT, timeout=60)
    assert p.returncode == 0, p.stderr
    assert p.stdout.decode("utf-8") == GOLDEN.read_text(encoding="utf-8")
    assert p.stderr == b""  # no progress bar when stderr is not a terminal


# ------------------------------------------------------------------------------------------------ bundled samples

def _samples():
    out = []
    for exp in sorted((ROOT / "specs/samples").glob("*.expected.jsonl")):
        sid = exp.name[: -len(".expected.jsonl")]
        out.append(pytest.param(sid, id=sid))
    return out


@pytest.mark.parametrize("sid", _samples())
def test_sample_records_evaluate_as_expected(sid):
    """specs/samples/<id>.records.jsonl against <id>.expected.jsonl (expectations written from the text by the
    spec authors): each expected line gives the record id, the date, and dotted paths into the output."""
    from datetime import date

    from engine.spec.compile import load_spec
    from engine.beneficiary.evaluate import evaluate_record
    from engine.examples import compare, lookup

    spec = load_spec(ROOT / "specs" / f"{sid}.yaml")
    records = {r["id"]: r for r in lines(ROOT / "specs/samples" / f"{sid}.records.jsonl")}
    failures = []
    expected = lines(ROOT / "specs/samples" / f"{sid}.expected.jsonl")
    assert expected
    for exp in expected:
        exp = dict(exp)
        rid = exp.pop("id")
        at = date.fromisoformat(exp.pop("at"))
        name = exp.pop("name", rid)
        params = exp.pop("params", None)
        out = evaluate_record(spec, json.loads(json.dumps(records[rid])), at, params)
        for key, want in exp.items():
            ok, actual = compare(want, lookup(out, key))
            if not ok:
                failures.append(f"{rid} ({name}): {key}: expected {want!r}, got {actual!r}")
    assert not failures, "\n".join(failures)


# ------------------------------------------------------------------------------------------------ atomic output, progress

def test_atomic_output_keeps_the_old_file_when_the_run_fails(tmp_path):
    from engine.render.evaluation import atomic_output

    target = tmp_path / "out.jsonl"
    target.write_text("old")
    with pytest.raises(RuntimeError):
        with atomic_output(str(target)) as f:
            f.write(b"half a line")
            raise RuntimeError("disk full")
    assert target.read_text() == "old" and [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]
    with atomic_output(str(target)) as f:
        f.write(b"new\n")
    assert target.read_text() == "new\n" and [p.name for p in tmp_path.iterdir()] == ["out.jsonl"]


def test_unwritable_output_folder_is_reported(tmp_path, capsys):
    rc, err = run([RECORDS, "-o", str(tmp_path / "no" / "such" / "dir" / "out.jsonl")], capsys)
    assert rc == 2 and "impossible d'écrire" in err


def test_progress_only_on_a_terminal_after_two_seconds(monkeypatch):
    from engine.render import evaluation as render

    class Tty(io.StringIO):
        def isatty(self):
            return True

    clock = iter(float(i) for i in range(10**6))  # one second per 1024 records
    monkeypatch.setattr(render.time, "monotonic", lambda: next(clock))
    tty, pipe = Tty(), io.StringIO()
    results = [{"status": "ok"}] * 5000
    assert len(list(render.progress_bar(iter(results), None, tty))) == 5000
    assert "enregistrements évalués" in tty.getvalue()
    assert len(list(render.progress_bar(iter(results), None, pipe))) == 5000 and pipe.getvalue() == ""


def test_missing_parameter_warns_and_leaves_decisions_unknown(tmp_path, capsys):
    out = tmp_path / "o.jsonl"
    rc = main(["evaluate", "--spec", SPEC, RECORDS, "--at", "2026-04-01", "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 0 and "min_barriers" in err and "--param min_barriers=" in err
    legal = lines(out)[0]
    assert legal["eligible"] is None and legal["missing"] == ["min_barriers"]
