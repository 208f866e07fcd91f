"""The evaluation date's default is decided in one place (engine.clock.evaluation_date) and every command uses it:
with the machine's date replaced there, every command without --at evaluates on that date."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engine import clock
from engine.cli.main import main
from engine.clock import evaluation_date

ROOT = Path(__file__).resolve().parent.parent
SPECS, SAMPLES = ROOT / "specs", ROOT / "specs" / "samples"
TODAY = date(2027, 2, 28)  # not the machine's date: a command that works it out elsewhere is seen


@pytest.mark.parametrize("at,example_at,expected", [
    (date(2026, 3, 1), None, date(2026, 3, 1)),            # --at given
    (date(2026, 3, 1), date(2025, 1, 1), date(2026, 3, 1)),  # --at wins over the example's date
    (None, date(2025, 1, 1), date(2025, 1, 1)),            # an example's own at:
    (None, None, TODAY),                                   # else today
])
def test_the_rule(at, example_at, expected, frozen_today):
    assert evaluation_date(at, example_at) == expected


def test_today_is_the_machines_date_when_nothing_replaces_it():
    assert evaluation_date() == date.today()


class _FrozenDate(date):
    @classmethod
    def today(cls):
        return TODAY


@pytest.fixture
def frozen_today(monkeypatch):
    monkeypatch.setattr(clock, "date", _FrozenDate)


def test_evaluate_without_at(frozen_today, capsys):
    code = main(["evaluate", "--spec", str(SPECS / "coach-jeunesse.yaml"),
                 str(SAMPLES / "coach-jeunesse.records.jsonl")])
    lines = [json.loads(x) for x in capsys.readouterr().out.splitlines()]
    assert code == 0 and lines and {r["as_of"] for r in lines} == {TODAY.isoformat()}


def test_report_without_at(frozen_today, capsys):
    name = "chantiers-insertion"
    code = main(["report", "--spec", str(SPECS / f"{name}.yaml"), "--operation",
                 str(SAMPLES / f"{name}.operation.json"), "--records", str(SAMPLES / f"{name}.cohort.jsonl"),
                 "--json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["as_of"] == TODAY.isoformat()


def test_expr_without_at(frozen_today, capsys):
    assert main(["expr", "today"]) == 0
    assert json.loads(capsys.readouterr().out) == TODAY.isoformat()


def test_explain_without_at(frozen_today, capsys):
    code = main(["explain", "--spec", str(SPECS / "coach-jeunesse.yaml"),
                 str(SAMPLES / "coach-jeunesse.records.jsonl"), "--id", "CJ-A", "--format", "json"])
    assert code == 0 and json.loads(capsys.readouterr().out)["as_of"] == TODAY.isoformat()


def test_explain_of_an_example_takes_its_date(frozen_today, capsys):
    name = "Jeune de 21 ans hors radars : repérage, co-construction, accompagnement avec une rencontre par mois"
    assert main(["explain", "--spec", str(SPECS / "coach-jeunesse.yaml"), "--example", name, "--format",
                 "json"]) == 0
    assert json.loads(capsys.readouterr().out)["as_of"] == "2026-06-01"  # the example's at:, not today


def test_diff_records_without_at(frozen_today, capsys, monkeypatch):
    seen = []
    import engine.cli.diff as cli_diff

    real = cli_diff.analyse_impact
    monkeypatch.setattr(cli_diff, "analyse_impact", lambda *a, **k: seen.append(k["at"]) or real(*a, **k))
    spec = str(SPECS / "mobilite.yaml")
    assert main(["diff", spec, spec, "--records", str(SAMPLES / "mobilite.records.jsonl"), "--json"]) == 0
    assert seen == [TODAY]
