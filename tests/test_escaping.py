"""Text from records and specs cannot run in the tools that read our outputs: formula cells in CSV are neutralised,
control characters and terminal escapes are shown escaped in text and Markdown, Markdown escapes HTML; and a short
fuzz run of `evaluate` and `expr` (bounded by examples) never ends in a traceback, exit 70 or a lost line."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.cli.main import main
from engine.escape import csv_cell, md_cell, text_safe

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "specs" / "coach-jeunesse.yaml")
OP_SPEC = str(ROOT / "specs" / "chantiers-insertion.yaml")
OPERATION = ROOT / "specs" / "samples" / "chantiers-insertion.operation.json"
COHORT = str(ROOT / "specs" / "samples" / "chantiers-insertion.cohort.jsonl")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("text, expected", [
    ("=SOMME(A1:A9)", "'=SOMME(A1:A9)"), ("+33 6", "'+33 6"), ("-cmd|' /C calc'!A0", "'-cmd|' /C calc'!A0"),
    ("@SUM(1)", "'@SUM(1)"), ("\t=1", "'\t=1"), ("\r=1", "'\r=1"),
    ("-5", "-5"), ("+3.50", "+3.50"), ("-12,5", "-12,5"), ("-1e3", "-1e3"), ("ok", "ok"), ("", ""), ("a=b", "a=b"),
])
def test_csv_cell(text, expected):
    assert csv_cell(text) == expected


@pytest.mark.parametrize("text, expected", [
    ("\x1b[31mrouge\x1b[0m", "\\x1b[31mrouge\\x1b[0m"), ("a\x07b", "a\\x07b"), ("a\x9bb", "a\\x9bb"),
    ("deux\nlignes\tet tab", "deux\nlignes\tet tab"), ("é — ok", "é — ok"), ("a\rb", "a\\x0db"),
])
def test_text_safe(text, expected):
    assert text_safe(text) == expected


def test_md_cell():
    assert md_cell("<script>alert(1)</script> | x & y\n-> \x1b[2J") == \
        "&lt;script>alert(1)&lt;/script> \\| x &amp; y -> \\x1b[2J"


def _hostile_records(tmp_path: Path) -> Path:
    rows = [{"id": "=HYPERLINK(\"http://x\")", "birth_date": "2005-05-10"},
            {"id": "\x1b[31mrouge\x1b[0m", "birth_date": "2005-05-10"},
            {"id": "+1", "birth_date": "pas une date"}]
    p = tmp_path / "hostile.jsonl"
    p.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    return p


def test_evaluate_csv_neutralises_formula_ids(tmp_path, capsys):
    code, out, _ = run(capsys, "evaluate", "--spec", SPEC, str(_hostile_records(tmp_path)), "--at", "2026-06-01",
                       "--format", "csv")
    assert code == 0
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["id"] for r in rows] == ["'=HYPERLINK(\"http://x\")", "\x1b[31mrouge\x1b[0m", "+1"]  # +1 reads as a number: no formula
    assert rows[2]["line"] == "3"  # numbers we write stay numbers


def test_report_outputs_escape_text_from_the_operation(tmp_path, capsys):
    op = json.loads(OPERATION.read_text(encoding="utf-8"))
    op["id"] = "=1+1 <b>\x1b[2J</b> | x"
    p = tmp_path / "op.json"
    p.write_text(json.dumps(op), encoding="utf-8")
    base = ["report", "--spec", OP_SPEC, "--operation", str(p), "--records", COHORT, "--at", "2027-04-15"]
    code, text, _ = run(capsys, *base)
    assert code == 0 and "\x1b" not in text and "\\x1b[2J" in text
    code, md, _ = run(capsys, *base, "--format", "markdown")
    assert code == 0 and "\x1b" not in md and "<b>" not in md and "&lt;b>" in md
    code, out, _ = run(capsys, *base, "--format", "csv")
    assert code == 0 and out.startswith("section,id,label,value,status,source,severity\n")


def test_report_csv_neutralises_formula_cells(monkeypatch):
    from engine.render import report as report_render
    monkeypatch.setattr(report_render, "flat_rows",
                        lambda r: [("indicator", "=id", "@lbl", "-5.00", "met", "+src", None)])
    rows = list(csv.reader(io.StringIO(report_render.render_csv({}))))
    assert rows[1] == ["indicator", "'=id", "'@lbl", "-5.00", "met", "'+src", ""]


def test_record_errors_on_stderr_show_escapes(tmp_path, capsys):
    p = tmp_path / "r.json"
    p.write_text(json.dumps({"id": "x", "birth_date": "\x1b[2J"}), encoding="utf-8")
    code, out, err = run(capsys, "expr", "birth_date", "--record", str(p), "--spec", SPEC)
    assert "\x1b" not in out + err


# ----------------------------------------------------------------------------------------------------- fuzz

_line = st.one_of(
    st.binary(max_size=60).map(lambda b: b.replace(b"\n", b" ").replace(b"\r", b" ")),
    st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=8)
                 | st.sampled_from(["2026-02-30", "2005-05-10", "62", "reperage"]),
                 lambda c: st.lists(c, max_size=3) | st.dictionaries(
                     st.sampled_from(["id", "birth_date", "history", "events", "phase", "date", "type", "x"]), c,
                     max_size=4), max_leaves=10).map(lambda v: json.dumps(v).encode()),
)


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_line, min_size=1, max_size=6))
def test_fuzz_evaluate_n_lines_in_n_lines_out(tmp_path, capsys, lines):
    p = tmp_path / "fuzz.jsonl"
    p.write_bytes(b"\n".join(lines) + b"\n")
    code, out, err = run(capsys, "evaluate", "--spec", SPEC, str(p), "--at", "2026-06-01")
    assert code in (0, 1), err
    if code == 0:
        # a UTF-8 BOM opening the file is not part of the first record (README, "a UTF-8 BOM ... change nothing")
        first = lines[0][3:] if lines[0].startswith(b"\xef\xbb\xbf") else lines[0]
        expected = sum(1 for ln in [first, *lines[1:]] if ln.strip())
        got = out.splitlines()
        assert len(got) == expected and all(json.loads(g)["status"] in ("ok", "error") for g in got)
        assert not any(json.loads(g).get("error", {}).get("code") == "internal_error" for g in got)
    assert "Traceback" not in err


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.text(max_size=40))
def test_fuzz_expr_never_crashes(capsys, text):
    code, _, err = run(capsys, "expr", text, "--at", "2026-03-01")
    assert code in (0, 1, 2), err
    assert "Traceback" not in err and "internal error" not in err
