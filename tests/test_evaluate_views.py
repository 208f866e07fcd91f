"""engine evaluate for people: the French text view (default on a terminal, colour unless NO_COLOR), the format
chosen from the suffix of -o, the French Excel CSV, and the progress line with its total."""

import io
import json
from pathlib import Path

import pytest

import engine.cli.evaluate as cli_evaluate
from engine.cli.main import main
from engine.render.evaluation import count_lines, progress_bar
from engine.render.spreadsheet import BOM

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "specs" / "accompagnement-social-professionnel-intensif.yaml")
RECORDS = str(ROOT / "specs" / "samples" / "accompagnement-social-professionnel-intensif.records.jsonl")
BASE = ["evaluate", "--spec", SPEC, RECORDS, "--at", "2026-06-01"]


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def test_piped_output_stays_jsonl(capsys):
    code, out, _ = run(capsys, *BASE)
    assert code == 0 and json.loads(out.splitlines()[0])["id"] == "ASPI-A"


def test_on_a_terminal_the_default_is_the_french_view_in_colour(capsys, monkeypatch):
    monkeypatch.setattr(cli_evaluate, "_isatty", lambda stream: True)
    monkeypatch.delenv("NO_COLOR", raising=False)
    code, out, _ = run(capsys, *BASE)
    assert code == 0 and "\x1b[1mASPI-A\x1b[0m · \x1b[32méligible\x1b[0m · au 01/06/2026" in out


def test_no_color_is_respected(capsys, monkeypatch):
    monkeypatch.setattr(cli_evaluate, "_isatty", lambda stream: True)
    monkeypatch.setenv("NO_COLOR", "1")
    code, out, _ = run(capsys, *BASE)
    assert code == 0 and "\x1b" not in out and out.startswith("ASPI-A · éligible · au 01/06/2026\n")


def test_format_text_is_the_terminal_view_of_each_decision(capsys):
    code, out, _ = run(capsys, *BASE, "--format", "text")
    n = sum(1 for line in open(RECORDS, encoding="utf-8") if line.strip())
    assert code == 0 and out.count(" · au 01/06/2026") == n
    _, verbose, _ = run(capsys, *BASE, "--format", "text", "--verbose")
    assert len(verbose) > len(out) and "✓" in verbose


@pytest.mark.parametrize("suffix,check", [
    (".txt", lambda b: b.decode().startswith("ASPI-A · ")),
    (".csv", lambda b: b.decode().startswith("id,line,status,")),
    (".json", lambda b: isinstance(json.loads(b), list)),
    (".jsonl", lambda b: json.loads(b.splitlines()[0])["id"] == "ASPI-A"),
])
def test_the_suffix_of_the_output_picks_the_format(capsys, tmp_path, suffix, check):
    out = tmp_path / f"res{suffix}"
    code, _, _ = run(capsys, *BASE, "-o", str(out))
    assert code == 0 and check(out.read_bytes())


def test_format_wins_over_the_suffix(capsys, tmp_path):
    out = tmp_path / "res.txt"
    assert run(capsys, *BASE, "-o", str(out), "--format", "jsonl")[0] == 0
    assert json.loads(out.read_text().splitlines()[0])["id"] == "ASPI-A"


def test_excel_fr_csv(capsys, tmp_path):
    out = tmp_path / "res.csv"
    assert run(capsys, *BASE, "-o", str(out), "--csv-dialect", "excel-fr")[0] == 0
    text = out.read_bytes().decode("utf-8")
    assert text.startswith(BOM + "id;line;status;eligible;") and "\r\n" in text and ";VRAI;" in text


def test_csv_dialect_needs_csv(capsys):
    code, _, err = run(capsys, *BASE, "--format", "json", "--csv-dialect", "excel-fr")
    assert code == 2 and "--csv-dialect" in err


def test_report_csv_excel_fr(capsys):
    ops = ROOT / "tests" / "data" / "ops"
    code, out, _ = run(capsys, "report", "--spec", str(ops / "aci.yaml"), "--operation", str(ops / "aci.operation.json"),
                       "--records", str(ops / "aci.cohort.jsonl"), "--at", "2027-04-15", "--format", "csv",
                       "--csv-dialect", "excel-fr")
    assert code == 0 and out.startswith(BOM + "section;id;label;value;status;source;severity")
    assert "staff;E1;Encadrant technique;55000,00;passed;;" in out


def test_count_lines(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_bytes(b"{}\n{}\n{}")  # no final newline
    b.write_bytes(b"{}\n")
    assert count_lines([str(a), str(b)]) == 4
    assert count_lines(["-"]) is None and count_lines([str(tmp_path / "missing")]) is None


class FakeTty(io.StringIO):
    def isatty(self):
        return True


def test_the_progress_line_shows_the_total_and_a_percentage(monkeypatch):
    import engine.render.evaluation as ev
    clock = iter(range(0, 10**6, 3))  # every look at the clock: 3 seconds later
    monkeypatch.setattr(ev.time, "monotonic", lambda: next(clock))
    stream = FakeTty()
    got = list(progress_bar(({"status": "ok"} for _ in range(4096)), None, stream, total=lambda: 8192))
    assert len(got) == 4096
    text = stream.getvalue()
    assert "1\u202f024 / 8\u202f192 enregistrements évalués (12 %" in text and "4\u202f096 / 8\u202f192" in text
