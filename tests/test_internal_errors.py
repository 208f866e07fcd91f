"""N in, N out, even on an engine bug (engine/faults.py, docs/safety.md): a bug injected into a compiled rule or a
stage of the evaluation gives that record an ``internal_error`` line naming the section and the rule, the run goes
on, and the command ends with a French count on standard error and exit 3 -- for `engine evaluate`, `engine report`
over a cohort, `engine diff --records` and `engine test`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

import engine.spec.compile as compile_mod
import engine.beneficiary.conformance as conformance
import engine.beneficiary.deadlines as deadlines
import engine.beneficiary.evaluate as evaluate
import engine.operation.indicators as indicators
import engine.beneficiary.obligations as obligations
from engine.cli.main import main
from engine.faults import EXIT_INTERNAL

HERE = Path(__file__).parent
ROOT = HERE.parent
MINI = HERE / "data/specs/mini.yaml"
AT = "2026-04-01"
PARAMS = ["--param", "min_barriers=2"]


def _record(i: int, birth: str = "1999-05-01") -> dict:
    return {"id": f"R-{i}", "birth_date": birth, "department": "62", "rsa": True, "disability": True,
            "peripheral_barriers": 2, "history": [{"phase": "orientation", "date": "2026-02-02"},
                                                  {"phase": "accueil", "date": "2026-02-10"}],
            "events": [{"type": "appointment", "date": "2026-02-10", "mode": "in_person"}]}


@pytest.fixture
def records(tmp_path) -> Path:
    """Six lines: five records (the third born on 1977-07-07) and one line that is not JSON (bad data)."""
    lines = [json.dumps(_record(1)), json.dumps(_record(2)), json.dumps(_record(3, "1977-07-07")), "{not json",
             json.dumps(_record(5)), json.dumps(_record(6))]
    p = tmp_path / "in.jsonl"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def _out(path: Path) -> list[dict]:
    return [json.loads(x) for x in path.read_text(encoding="utf-8").splitlines()]


def _failing_once_on(n: int):
    """A stand-in that raises RuntimeError on its n-th call and otherwise calls the original."""
    def wrap(original):
        calls = [0]

        def fake(*a, **k):
            calls[0] += 1
            if calls[0] == n:
                raise RuntimeError("injected bug")
            return original(*a, **k)
        return fake
    return wrap


# ------------------------------------------------------------------------------------------------ evaluate

def test_a_bug_in_a_compiled_rule_gives_that_record_an_error_line(records, tmp_path, capsys, monkeypatch):
    """The helper that computes age() fails for one birth date: that record only, located on its rule."""
    real_load = compile_mod.load_spec

    def load_and_break(path):
        spec = real_load(path)
        leaf = next(c for g in spec.eligibility_beneficiary.children for c in getattr(g, "children", ())
                    if getattr(c, "id", None) == "young_disabled")
        ns = leaf.expr.fn.__globals__
        real_age = ns["_age"]

        def age(birth, on):
            if birth.year == 1977:
                raise RuntimeError("injected bug")
            return real_age(birth, on)

        monkeypatch.setitem(ns, "_age", age)
        return spec

    monkeypatch.setattr(compile_mod, "load_spec", load_and_break)
    monkeypatch.setenv("ENGINE_NO_CACHE", "1")  # compiled here, not read from the compiled-spec cache
    out = tmp_path / "out.jsonl"
    code = main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == EXIT_INTERNAL == 3
    got = _out(out)
    assert len(got) == 6  # N in, N out
    assert [r["id"] for r in got] == ["R-1", "R-2", "R-3", None, "R-5", "R-6"]
    assert [r["status"] for r in got] == ["ok", "ok", "error", "error", "ok", "ok"]
    assert got[3]["error"]["code"] == "invalid_json"  # bad data stays bad data
    e = got[2]["error"]
    assert e["code"] == "internal_error" and e["section"] == "eligibility" and e["rule"] == "young_disabled"
    assert e["at"].startswith(f"{MINI}:54:") and e["exception"] == "RuntimeError" and e["debug"] == "ENGINE_DEBUG=1"
    assert "young_disabled" in e["message"] and "ENGINE_DEBUG=1" in e["message"] and "injected bug" in e["message"]
    assert got[2]["line"] == 3
    assert "1 enregistrement sur 6 a rencontré une erreur interne" in err and "code de sortie 3" in err
    assert "Traceback" not in err


STAGES = [("check_path", conformance, "path"), ("check_deadlines", deadlines, "deadlines"),
          ("check_obligations", obligations, "obligations"), ("eligibility", evaluate, "eligibility")]


@pytest.mark.parametrize("name,module,section", STAGES, ids=[s[0] for s in STAGES])
def test_a_bug_in_a_stage_is_located_and_the_run_goes_on(records, tmp_path, capsys, monkeypatch, name, module,
                                                          section):
    monkeypatch.setattr(module, name, _failing_once_on(2)(getattr(module, name)))
    out = tmp_path / "out.jsonl"
    code = main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "-o", str(out)])
    assert code == 3
    got = _out(out)
    assert len(got) == 6 and [r["status"] for r in got] == ["ok", "error", "ok", "error", "ok", "ok"]
    assert got[1]["id"] == "R-2" and got[1]["error"]["code"] == "internal_error"
    assert got[1]["error"]["section"] == section
    assert "1 enregistrement sur 6" in capsys.readouterr().err


def test_a_bug_while_binding_is_located(records, tmp_path, capsys, monkeypatch):
    from engine.beneficiary.bind import Binder

    monkeypatch.setattr(Binder, "bind_with_dates", _failing_once_on(1)(Binder.bind_with_dates))
    monkeypatch.setattr(evaluate, "bind_typed", _failing_once_on(1)(evaluate.bind_typed))
    out = tmp_path / "out.jsonl"
    assert main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "-o", str(out)]) == 3
    got = _out(out)
    assert len(got) == 6 and got[0]["error"]["code"] == "internal_error" and got[0]["error"]["section"] == "binding"


def test_the_csv_output_has_the_error_row_too(records, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(deadlines, "check_deadlines", _failing_once_on(1)(deadlines.check_deadlines))
    out = tmp_path / "out.csv"
    assert main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "--format", "csv",
                 "-o", str(out)]) == 3
    rows = out.read_text(encoding="utf-8").splitlines()
    assert len(rows) == 7 and ",internal_error," in rows[1]


def test_debug_prints_the_traceback_on_standard_error(records, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(deadlines, "check_deadlines", _failing_once_on(1)(deadlines.check_deadlines))
    monkeypatch.delenv("ENGINE_DEBUG", raising=False)
    out = tmp_path / "out.jsonl"
    args = ["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "-o", str(out)]
    assert main(["--debug", *args]) == 3
    err = capsys.readouterr().err
    assert "Traceback (most recent call last)" in err and "RuntimeError: injected bug" in err and "« R-1 »" in err
    assert len(_out(out)) == 6


def test_engine_debug_in_the_environment_prints_it_too(records, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(deadlines, "check_deadlines", _failing_once_on(1)(deadlines.check_deadlines))
    monkeypatch.setenv("ENGINE_DEBUG", "1")
    assert main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "-o",
                 str(tmp_path / "o.jsonl")]) == 3
    assert "Traceback (most recent call last)" in capsys.readouterr().err


def test_a_memory_error_is_not_swallowed_as_a_record_error(monkeypatch):
    spec = compile_mod.load_spec(MINI)

    def oom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(evaluate, "_decide", oom)
    with pytest.raises(MemoryError):
        evaluate.evaluate_record(spec, _record(1), __import__("datetime").date(2026, 4, 1), {"min_barriers": 2})


_SPEC: list = []


def _mini_spec():
    if not _SPEC:
        _SPEC.append(compile_mod.load_spec(MINI))
    return _SPEC[0]


@settings(max_examples=40, deadline=None)
@given(n=st.integers(0, 12), failing=st.sets(st.integers(0, 11)))
def test_n_records_in_n_lines_out_whatever_fails(n, failing):
    """Property: any subset of records hitting a bug still gives one line per record, in order, and the failing
    ones -- exactly those -- are internal errors."""
    from datetime import date

    real = evaluate._decide
    bad = {f"R-{i}" for i in failing if i < n}

    def decide(plan, rid, *a):
        if rid in bad:
            raise KeyError("injected bug")
        return real(plan, rid, *a)

    evaluate._decide = decide
    try:
        items = [(i + 1, _record(i)) for i in range(n)]
        out = list(evaluate.evaluate_stream(_mini_spec(), items, date(2026, 4, 1), {"min_barriers": 2}))
    finally:
        evaluate._decide = real
    assert [r["id"] for r in out] == [f"R-{i}" for i in range(n)]
    assert {r["id"] for r in out if r["status"] == "error"} == bad
    assert all(r["error"]["code"] == "internal_error" and r["error"]["section"] == "evaluation"
               for r in out if r["status"] == "error")


# ------------------------------------------------------------------------------------------------ report, diff, test

@pytest.fixture
def programme(tmp_path) -> Path:
    for name in ("coach-jeunesse.yaml", "common.yaml"):
        shutil.copy(ROOT / "specs" / name, tmp_path / name)
    for name in ("operation.json", "cohort.jsonl", "records.jsonl"):
        shutil.copy(ROOT / "specs/samples" / f"coach-jeunesse.{name}", tmp_path / name)
    return tmp_path


def test_report_counts_a_participant_that_hits_a_bug_and_exits_3(programme, capsys, monkeypatch):
    real_plan = indicators._plan

    def plan(aggregates):  # the first aggregate's filter fails on the first participant
        rows = real_plan(aggregates)
        key, func, where, value, by, acc = rows[0]
        rows[0] = (key, func, _failing_once_on(1)(where or (lambda env, at: True)), value, by, acc)
        return rows

    monkeypatch.setattr(indicators, "_plan", plan)
    out = programme / "report.json"
    code = main(["report", "--spec", str(programme / "coach-jeunesse.yaml"), "--operation",
                 str(programme / "operation.json"), "--records", str(programme / "cohort.jsonl"), "--at",
                 "2026-12-31", "--param", "min_meetings_per_month=2", "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 3, err
    rep = json.loads(out.read_text(encoding="utf-8"))  # the report is written all the same
    assert rep["cohort"]["internal_errors"] == 1
    sample = [s for s in rep["cohort"]["error_samples"] if s["code"] == "internal_error"]
    assert len(sample) == 1 and "agrégat" in sample[0]["message"] and sample[0]["section"] == "cohort"
    assert "1 participant a rencontré une erreur interne" in err


def test_report_without_bug_has_no_internal_errors_key(programme, capsys):
    code = main(["report", "--spec", str(programme / "coach-jeunesse.yaml"), "--operation",
                 str(programme / "operation.json"), "--records", str(programme / "cohort.jsonl"), "--at",
                 "2026-12-31", "--param", "min_meetings_per_month=2", "--json"])
    assert code == 0
    assert "internal_errors" not in json.loads(capsys.readouterr().out)["cohort"]


def test_diff_records_counts_internal_errors_and_exits_3(programme, capsys, monkeypatch):
    monkeypatch.setattr(evaluate, "_decide", _failing_once_on(3)(evaluate._decide))
    spec = str(programme / "coach-jeunesse.yaml")
    changed = programme / "changed.jsonl"
    code = main(["diff", spec, spec, "--records", str(programme / "records.jsonl"), "--at", "2026-06-01",
                 "--param", "min_meetings_per_month=2", "--changed", str(changed), "--json"])
    cap = capsys.readouterr()
    assert code == 3, cap.err
    assert "1 enregistrement sur 15" in cap.err
    lines = _out(changed)  # the record whose old evaluation failed is a change ok -> error, the others compare
    assert len(lines) == 1 and lines[0]["changes"][0]["kind"] == "status"


def test_engine_test_reports_the_example_and_runs_the_others(programme, capsys, monkeypatch):
    monkeypatch.setattr(evaluate, "_decide", _failing_once_on(1)(evaluate._decide))
    code = main(["test", str(programme / "coach-jeunesse.yaml"), "--json"])
    cap = capsys.readouterr()
    assert code == 3, cap.err
    doc = json.loads(cap.out)
    assert doc["summary"]["internal_errors"] == 1 and doc["summary"]["passed"] == doc["summary"]["examples"] - 1
    bad = [r for r in doc["results"] if r["status"] == "error"]
    assert len(bad) == 1 and bad[0]["code"] == "internal_error" and "ENGINE_DEBUG=1" in bad[0]["message"]
    assert "1 exemple sur" in cap.err


def test_engine_test_survives_a_runner_that_crashes(programme, capsys, monkeypatch):
    import engine.examples as examples

    monkeypatch.setattr(examples, "run_record_example", _failing_once_on(2)(examples.run_record_example))
    code = main(["test", str(programme / "coach-jeunesse.yaml")])
    out = capsys.readouterr().out
    assert code == 3
    assert out.count("ERROR ") == 1 and "internal error (engine bug)" in out


def test_without_a_bug_the_exit_codes_are_unchanged(records, tmp_path, capsys):
    assert main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "-o",
                 str(tmp_path / "o.jsonl")]) == 0
    assert all(r.get("error", {}).get("code") != "internal_error" for r in _out(tmp_path / "o.jsonl"))


@pytest.mark.parametrize("jobs", ["2", "3"])
def test_the_same_with_several_processes(records, tmp_path, capsys, monkeypatch, jobs):
    """`--jobs N`: the per-record capture is in the evaluation of one record, so forked workers give the same lines
    and the command the same exit code."""
    real = evaluate._decide

    def decide(plan, rid, *a):
        if rid == "R-5":
            raise RuntimeError("injected bug")
        return real(plan, rid, *a)

    monkeypatch.setattr(evaluate, "_decide", decide)
    out = tmp_path / "out.jsonl"
    code = main(["evaluate", "--spec", str(MINI), str(records), "--at", AT, *PARAMS, "--jobs", jobs, "-o", str(out)])
    assert code == 3, capsys.readouterr().err
    got = _out(out)
    assert [r["id"] for r in got] == ["R-1", "R-2", "R-3", None, "R-5", "R-6"]
    assert [r["error"]["code"] for r in got if r["status"] == "error"] == ["invalid_json", "internal_error"]
