"""Regression cases of the expression compiler: the bug report of issue 12, item 1 (tests/data/nested-filters/,
copied from ../shared/repro/nested-filters/).

Nested ``where`` filters inside chained definitions (``renouv_d1 -> renouv_d2 -> renouv_d3``) made the compiled
renewal guard crash (``UnboundLocalError: _h3``, exit 70 for the whole run) or give another value than
``engine expr`` ("min of an empty list" where ``engine expr`` gives 2025-06-02), and inlining the definitions made
that guard 349,935 characters of Python. The cause: the parser shares a definition's tree between its uses, and the
compiler's facts (keys, frames) and loop-invariant slots were keyed by node identity alone, so the uses of a
definition at different depths took each other's keys and slots (docs/compiler.md).
"""

from __future__ import annotations

import contextlib
import io
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.spec.compile import load_spec
from engine.beneficiary.evaluate import evaluate_record
from shadow_eval import shadowed

DATA = Path(__file__).parent / "data" / "nested-filters"
AT = "2028-01-01"
CRASH, WRONG = DATA / "programme_crash.yaml", DATA / "programme_iterative_wrong_result.yaml"
REC11, REC02 = DATA / "record_c000011.jsonl", DATA / "record_c000002.json"

# the values `engine expr NAME --spec S --record R --at 2028-01-01` gives for each definition
EXPR_VALUES = {
    (CRASH, REC11): {
        "renouv_n": 2, "renouv_d1": "2024-08-08", "renouv_d2": "2024-10-06", "renouv_d3": "2024-10-06",
        "renouv_m1": 2, "renouv_m2": 3, "renouv_m3": 0, "ce_fin_0": "2024-08-19", "ce_fin_1": "2024-10-19",
        "ce_fin_2": "2025-01-19", "ce_fin_3": "2025-01-19", "ce_fin": "2025-01-19", "ce_plafond": "2025-08-19"},
    (WRONG, REC02): {
        "renouv_n": 2, "renouv_d1": "2025-04-07", "renouv_d2": "2025-06-02", "renouv_d3": "2025-06-02",
        "renouv_m1": 2, "renouv_m2": 4, "renouv_m3": 0, "ce_fin_0": "2025-04-15", "ce_fin_1": "2025-06-15",
        "ce_fin_2": "2025-10-15", "ce_fin_3": "2025-10-15", "ce_fin": "2025-10-15", "ce_plafond": "2026-04-15"},
}
CASES = list(EXPR_VALUES)


def _run(*argv) -> tuple[int, str, str]:
    if argv[0] == "evaluate":  # a real process, as in the report (it writes bytes to standard output)
        p = subprocess.run([sys.executable, "-c", "import sys; from engine.cli.main import main; sys.exit(main())",
                            *map(str, argv)], capture_output=True, text=True, timeout=120)
        return p.returncode, p.stdout, p.stderr
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main([str(a) for a in argv])
    return code, out.getvalue(), err.getvalue()


def _record(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8").splitlines()[0])


@pytest.mark.parametrize("spec,record", CASES, ids=["crash", "wrong_result"])
def test_engine_evaluate_gives_the_path_engine_expr_computes(spec, record):
    """The run completes (exit 0, no internal error) and the record is legal: its two renewals came after the
    agency's agreement, before the end of the contract as `engine expr` computes it (ce_fin_0, ce_fin_1), and the
    review came within 30 days before ce_fin."""
    code, out, err = _run("evaluate", "--spec", spec, record, "--at", AT)
    assert code == 0, err
    assert "internal error" not in err
    (line,) = out.splitlines()
    r = json.loads(line)
    assert r["status"] == "ok", r
    assert r["path"]["legal"] is True and r["path"]["violations"] == []
    assert r["deadlines"][0]["status"] == "met"
    assert [o["status"] for o in r["obligations"]] == ["met", "met"]


@pytest.mark.parametrize("spec,record", CASES, ids=["crash", "wrong_result"])
def test_definitions_equal_engine_expr(spec, record):
    """Each definition, through `engine expr`, has the value worked out from the record by hand (renewals on
    2024-08-08 for 2 months and 2024-10-06 for 3; 2025-04-07 for 2 and 2025-06-02 for 4)."""
    for name, want in EXPR_VALUES[(spec, record)].items():
        code, out, err = _run("expr", name, "--spec", spec, "--record", record, "--at", AT)
        assert code == 0, (name, err)
        assert json.loads(out) == want, name


def test_the_reported_expression():
    code, out, err = _run("expr", 'min((events where type in ["renouvellement"] and date > min((events where type '
                          '== "renouvellement").date)).date)', "--record", REC02)
    assert code == 0, err
    assert json.loads(out) == "2025-06-02"


@pytest.mark.parametrize("spec,record", CASES, ids=["crash", "wrong_result"])
def test_every_compiled_call_equals_the_reference(spec, record):
    """The guards, deadlines and obligations of the evaluation, each call compared with the reference evaluator on
    the same values (result, unknowns, errors, list items visited); the record with 0 to 4 renewals."""
    with shadowed() as sh:
        s = load_spec(spec)
    raw = _record(record)
    renewals = [e for e in raw["events"] if e["type"] == "renouvellement"]
    for extra in ([], [{"type": "renouvellement", "date": "2025-11-20", "mois": 1}]):
        for k in range(len(renewals) + 1):
            events = [e for e in raw["events"] if e["type"] != "renouvellement" or e in renewals[:k]] + extra
            out = evaluate_record(s, dict(raw, events=events), date.fromisoformat(AT))
            assert out["status"] == "ok", out
    assert sh.calls > 30
    assert not sh.mismatches, sh.mismatches[0][:3]


@pytest.mark.parametrize("spec", [CRASH, WRONG], ids=["crash", "wrong_result"])
def test_generated_code_stays_linear(spec):
    """The renewal guard was 349,935 characters of Python (each definition written out at each use, three levels
    deep, about 116 characters of Python per character of the guard and its definitions); each definition is now
    written once: at most 50 characters per character of the expression and of the definitions it reaches."""
    with shadowed() as sh:
        s = load_spec(spec)
    guard = s.transitions[2].guard.compiled.source
    assert len(guard) < 60_000
    for text, generated, written in sh.sizes:
        assert generated <= 50 * written + 300, (text, generated, written)
