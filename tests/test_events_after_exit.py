"""events_after on a final phase: events after the beneficiary's exit are violations, whatever the evaluation date
(issue 13, item 13)."""

from datetime import date

import pytest

from engine.beneficiary.evaluate import evaluate_record
from engine.errors import SpecError
from engine.spec.compile import load_spec

BASE = """\
id: exit-test
version: "1"
title: Test
source_document: 01-dynamisation-des-parcours.txt
inputs:
  events:
    appointment: {label: Rendez-vous, fields: {}}
    follow_up: {label: Suivi après la sortie, fields: {}}
phases:
  entree: {label: Entrée, initial: true, source: "01-dynamisation-des-parcours.txt:31"}
  sortie: {label: Sortie, final: true, EXIT source: "01-dynamisation-des-parcours.txt:79"}
transitions:
  - {from: entree, to: sortie, source: "01-dynamisation-des-parcours.txt:79"}
"""
RECORD = {"id": "r", "history": [{"phase": "entree", "date": "2026-02-01"}, {"phase": "sortie", "date": "2026-05-01"}],
          "events": [{"type": "appointment", "date": "2026-03-01"}, {"type": "follow_up", "date": "2026-11-01"},
                     {"type": "appointment", "date": "2026-06-10"}]}


def spec_with(tmp_path, exit_key):
    p = tmp_path / "s.yaml"
    p.write_text(BASE.replace("EXIT ", exit_key), encoding="utf-8")
    return load_spec(str(p))


@pytest.mark.parametrize("exit_key,codes", [
    ("", []),
    ("events_after: none, ", ["event_after_exit", "event_after_exit"]),
    ("events_after: [follow_up], ", ["event_after_exit"]),
    ("events_after: [follow_up, appointment], ", []),
])
def test_events_after_the_exit(tmp_path, exit_key, codes):
    r = evaluate_record(spec_with(tmp_path, exit_key), RECORD, date(2026, 12, 1))
    got = [v["code"] for v in r["path"]["violations"]]
    assert got == codes
    assert r["path"]["legal"] is (not codes)


def test_the_violation_names_the_event_the_exit_and_what_may_follow(tmp_path):
    r = evaluate_record(spec_with(tmp_path, "events_after: [follow_up], "), RECORD, date(2026, 12, 1))
    v = r["path"]["first_violation"]
    assert (v["code"], v["event"], v["date"], v["limit"], v["rule"]) == (
        "event_after_exit", 1, date(2026, 6, 10), date(2026, 5, 1), "sortie")  # index among the events by date
    assert v["message"] == ("L'événement « Rendez-vous » du 10/06/2026 vient après la sortie du dispositif (« Sortie » "
                            "le 01/05/2026), après laquelle seuls sont attendus : « Suivi après la sortie ».")


def test_checked_whatever_the_evaluation_date(tmp_path):
    s = spec_with(tmp_path, "events_after: none, ")
    early = evaluate_record(s, RECORD, date(2026, 5, 2))  # the events after the exit are in the record already
    assert [v["code"] for v in early["path"]["violations"]] == ["event_after_exit", "event_after_exit"]


@pytest.mark.parametrize("phase_line,needle", [
    ('  entree: {label: Entrée, initial: true, events_after: none, source: "01-dynamisation-des-parcours.txt:31"}',
     "seule une phase finale"),
    ('  sortie: {label: Sortie, final: true, events_after: [folow_up], source: "01-dynamisation-des-parcours.txt:79"}',
     "type d'événement inconnu"),
])
def test_check_rejects_a_misplaced_or_unknown_events_after(tmp_path, phase_line, needle):
    text = BASE.replace("EXIT ", "")
    key = phase_line.split(":")[0]
    lines = [phase_line if line.startswith(key + ":") else line for line in text.splitlines()]
    p = tmp_path / "bad.yaml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(str(p))
    assert any(d.code == "spec.events_after" and needle in d.message for d in e.value.diagnostics)
