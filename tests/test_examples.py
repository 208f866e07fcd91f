"""`engine test`: expectation lookup and comparison (data-driven), the failure format, the command's exit codes,
and an end-to-end run through the real beneficiary evaluation."""

from __future__ import annotations

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine import examples as X
from engine.cli.main import main
from engine.examples import compare, jsonish, lookup, run_examples

SPECS = Path(__file__).parent / "specs"
EX = SPECS / "examples"

OUTPUT = {
    "id": "B-1", "status": "ok", "eligible": True, "missing": ["rsa", "birth_date"],
    "reasons": [{"rule": "brsa", "value": True}],
    "path": {"legal": False, "current_phase": "accueil", "next": ["contrat", "sortie"],
             "violations": [{"code": "guard_failed", "at": 2}, {"code": "deadline_missed", "at": 3}],
             "first_violation": {"code": "guard_failed", "at": 2},
             "next_phases": [{"phase": "contrat", "earliest": "2026-03-01"}, {"phase": "sortie", "latest": None}]},
    "deadlines": [{"id": "first_appointment", "due": "2026-02-17", "status": "met", "date": "2026-02-10"},
                  {"id": "contract", "due": "2026-03-02", "status": "pending"}],
    "obligations": [{"id": "monthly", "window": "2026-02", "status": "met"},
                    {"id": "monthly", "window": "2026-03", "status": "unmet"},
                    {"id": "weekly", "window": "2026-W10", "status": "pending"}],
    "funding": {"total": 1234.5, "share": 0.4},
}


@pytest.mark.parametrize("key,expected,ok", [
    ("eligible", True, True),
    ("eligible", False, False),
    ("eligible", 1, False),                              # a boolean is not a number
    ("status", "ok", True),
    ("missing", ["birth_date", "rsa"], True),            # lists of texts: order does not matter
    ("missing", ["rsa"], False),
    ("missing", [], False),
    ("path.legal", False, True),
    ("path.current_phase", "accueil", True),
    ("path.next", ["sortie", "contrat"], True),
    ("path.violations", ["guard_failed", "deadline_missed"], True),   # codes of the violations
    ("path.violations", ["guard_failed"], False),
    ("path.violations.0.code", "guard_failed", True),
    ("path.violations.1.at", 3, True),
    ("path.first_violation", "guard_failed", True),     # an item compared with a text: its code
    ("path.first_violation", "deadline_missed", False),
    ("path.next_phases", ["sortie", "contrat"], True),  # list of items compared with texts: their phases
    ("path.next_phases", ["sortie"], False),
    ("deadlines.first_appointment", "met", True),       # status of the item with that id
    ("deadlines.first_appointment", "missed", False),
    ("deadlines.first_appointment.due", date(2026, 2, 17), True),    # dates compare as YYYY-MM-DD
    ("deadlines.first_appointment.due", "2026-02-17", True),
    ("deadlines.contract", "pending", True),
    ("deadlines.nope", "met", False),                    # absent
    ("obligations.monthly", "unmet", True),              # several windows: the worst status
    ("obligations.monthly", "met", False),
    ("obligations.weekly", "pending", True),
    ("funding.total", Decimal("1234.50"), True),         # exact decimals
    ("funding.total", Decimal("1234.51"), False),
    ("funding.share", Decimal("0.40"), True),
    ("funding.missing_key", None, False),                # absent is not null
    ("path.legal.deeper", False, False),
])
def test_lookup_and_compare(key, expected, ok):
    assert compare(expected, lookup(OUTPUT, key))[0] is ok


def test_null_expectation():
    assert compare(None, lookup({"eligible": None}, "eligible"))[0]
    assert not compare(None, lookup({"eligible": False}, "eligible"))[0]


def test_jsonish_is_what_a_jsonl_line_gives():
    assert jsonish({"d": date(2026, 1, 2), "n": Decimal("3"), "x": Decimal("0.5"), "l": [Decimal("1.0")]}) == \
        {"d": "2026-01-02", "n": 3, "x": 0.5, "l": [1]}


# --------------------------------------------------------------------------------------------- with a fake runner

@pytest.fixture
def fake_runner(monkeypatch):
    """Replace the evaluation by a fixed output, to test the runner and the report independently of it."""
    import sys
    import types

    mod = types.ModuleType("fake_runner")
    mod.run = lambda spec, ex: {"eligible": True, "path": {"current_phase": ex.record["history"][0]["phase"]}}
    monkeypatch.setitem(sys.modules, "fake_runner", mod)
    monkeypatch.setitem(X.EXAMPLE_RUNNERS, "record", "fake_runner:run")


def test_failure_message_format(fake_runner, capsys):
    assert main(["test", str(EX / "failing.yaml")]) == 1
    out = capsys.readouterr().out
    lines = (EX / "failing.yaml").read_text(encoding="utf-8").splitlines()
    ex_line = next(i for i, x in enumerate(lines, 1) if "name: attend à tort un refus" in x)
    exp_line = next(i for i, x in enumerate(lines, 1) if x.strip() == "eligible: false")
    f = str(EX / "failing.yaml")
    assert out.splitlines() == [f"FAIL {f}:{ex_line}: attend à tort un refus",
                                f"  {f}:{exp_line}: eligible: expected false, got true",
                                "1 example: 0 passed, 1 failed"]


def test_json_output_and_keyword(fake_runner, capsys):
    assert main(["test", str(EX), "--json", "-k", "REFUS"]) == 1
    doc = json.loads(capsys.readouterr().out)
    assert doc["summary"] == {"examples": 1, "passed": 0, "failed": 1, "errors": 0, "internal_errors": 0}
    (r,) = doc["results"]
    assert r["name"] == "attend à tort un refus" and r["status"] == "failed"
    assert r["mismatches"] == [{"key": "eligible", "expected": False, "actual": True, "line": r["line"] + 7}]


def test_keyword_selects_nothing(fake_runner, capsys):
    assert main(["test", str(EX), "-k", "no such example"]) == 0
    assert capsys.readouterr().out == "0 examples: 0 passed, 0 failed\n"


def test_broken_spec_is_an_error_not_a_skip(capsys, tmp_path):
    (tmp_path / "bad.yaml").write_text("id: bad\ntitle: T\nversion: '1'\nphases:\n  a: {label: A, source: '01-x.txt:1'}\n", encoding="utf-8")
    results = run_examples([tmp_path])
    assert [(r.status, r.name) for r in results] == [("error", "(spec)")]
    assert "aucune phase initiale" in results[0].message
    assert main(["test", str(tmp_path)]) == 1
    assert "1 example: 0 passed, 1 failed (1 error)" in capsys.readouterr().out


def test_vocabulary_files_are_not_specs():
    assert run_examples([SPECS / "vocab.yaml"]) == []


def test_operation_example_without_runner_is_an_error(tmp_path):
    (tmp_path / "op.yaml").write_text("id: op\ntitle: T\nversion: '1'\nexamples:\n  - name: op\n    at: 2026-01-01\n    operation: {id: O}\n"
                                      "    cohort: []\n    expect: {funding.total: 10}\n", encoding="utf-8")
    saved = X.EXAMPLE_RUNNERS.pop("operation", None)
    try:
        (r,) = run_examples([tmp_path])
    finally:
        if saved:
            X.EXAMPLE_RUNNERS["operation"] = saved
    assert r.status == "error" and "operation" in r.message


def test_example_without_record_nor_operation_is_a_positioned_error(tmp_path):
    (tmp_path / "s.yaml").write_text("id: s\ntitle: T\nversion: '1'\nexamples:\n  - name: vide\n    at: 2026-01-01\n"
                                     "    expect: {eligible: true}\n", encoding="utf-8")
    (r,) = run_examples([tmp_path])
    assert r.status == "error" and "no `record`" in r.message
    assert "s.yaml:5:" in r.message and "add `record:`" in r.message


def test_missing_path_is_a_usage_error(capsys):
    assert main(["test", "no/such/dir"]) == 2


# --------------------------------------------------------------------------------------------- end to end

def test_passing_examples_through_the_real_evaluation(capsys):
    assert main(["test", str(EX / "passing.yaml")]) == 0, capsys.readouterr().out
    assert capsys.readouterr().out == "2 examples: 2 passed, 0 failed\n"


def test_failing_example_through_the_real_evaluation(capsys):
    results = run_examples([EX / "failing.yaml"])
    (r,) = results
    assert r.status == "failed" and [(m.key, m.expected, m.actual) for m in r.mismatches] == [
        ("eligible", False, True)]
