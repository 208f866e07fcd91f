"""Deadlines of a phase that ended (`during_phase: true`, issue 13 item 11): a target the text ties to a phase (the
cessation receipt during the cessation contract, 03:65) is `missed` once the beneficiary left the phase without it,
not `not_applicable`, even when the exit is an end phase. Small specs compiled from YAML, as a user writes them."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.beneficiary.evaluate import evaluate_record
from engine.beneficiary.explain import explain_record
from engine.errors import SpecError
from engine.spec.compile import load_spec

HEAD = """\
id: t
version: "1"
title: Test
inputs:
  events:
    receipt: {label: Récépissé de cessation, fields: {}}
phases:
  cessation: {label: Cessation, initial: true, max_duration: 6 months, source: "03-travailleurs-independants.txt:63"}
  reorientation: {label: Réorientation, final: true, source: "03-travailleurs-independants.txt:63"}
transitions:
  - {from: cessation, to: reorientation, label: Réorientation, source: "03-travailleurs-independants.txt:63"}
  - {from: cessation, to: cessation, label: Renouvellement, source: "03-travailleurs-independants.txt:63"}
deadlines:
  - id: receipt
    label: Récépissé obtenu pendant le CE de cessation
    from: {phase: cessation}
    to: {event: receipt}
    within: 6 months
    during_phase: true
    source: "03-travailleurs-independants.txt:65"
"""


def spec_of(tmp_path, text: str = HEAD):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec(p)


CASES = [
    # history (phase, date), receipts, at -> status, due, phase_end, violation date
    ([("cessation", "2026-03-02"), ("reorientation", "2026-05-04")], [], "2026-06-01",
     "missed", "2026-05-04", "2026-05-04", "2026-05-04"),
    # the receipt on the day the phase ends counts (as a guard `date <= transition_date` counts it)
    ([("cessation", "2026-03-02"), ("reorientation", "2026-05-04")], ["2026-05-04"], "2026-06-01",
     "met", "2026-05-04", "2026-05-04", None),
    # obtained after leaving the phase, though within the 6 months: too late
    ([("cessation", "2026-03-02"), ("reorientation", "2026-05-04")], ["2026-05-10"], "2026-06-01",
     "missed", "2026-05-04", "2026-05-04", "2026-05-10"),
    # the phase still runs: pending until its 6 months
    ([("cessation", "2026-03-02")], [], "2026-06-01", "pending", "2026-09-02", None, None),
    # a renewal continues the stay: still pending
    ([("cessation", "2026-03-02"), ("cessation", "2026-06-01")], [], "2026-07-01", "pending", "2026-09-02", None, None),
    # a step after the evaluation date has not ended the phase yet
    ([("cessation", "2026-03-02"), ("reorientation", "2026-07-01")], [], "2026-06-01",
     "pending", "2026-09-02", None, None),
    # left after the due date: the ordinary limit
    ([("cessation", "2026-03-02"), ("reorientation", "2026-10-01")], [], "2026-11-01",
     "missed", "2026-09-02", None, "2026-09-03"),
]


@pytest.mark.parametrize("history,receipts,at,status,due,phase_end,vdate", CASES)
def test_a_deadline_during_a_phase(tmp_path, history, receipts, at, status, due, phase_end, vdate):
    spec = spec_of(tmp_path)
    rec = {"id": "r", "history": [{"phase": p, "date": d} for p, d in history],
           "events": [{"type": "receipt", "date": d} for d in receipts]}
    out = evaluate_record(spec, rec, date.fromisoformat(at))
    (dl,) = out["deadlines"]
    assert dl["status"] == status
    assert dl["due"].isoformat() == due
    assert (dl["phase_end"].isoformat() if "phase_end" in dl else None) == phase_end
    missed = [v for v in out["path"]["violations"] if v["code"] == "deadline_missed"]
    assert [v["date"].isoformat() for v in missed] == ([vdate] if vdate else [])
    trace = explain_record(spec, rec, date.fromisoformat(at))
    (tdl,) = trace["deadlines"]
    assert (tdl["status"], tdl["due"], tdl.get("phase_end")) == (status, due, phase_end)


def test_without_during_phase_an_exit_makes_it_not_applicable(tmp_path):
    spec = spec_of(tmp_path, HEAD.replace("    during_phase: true\n", ""))
    rec = {"id": "r", "history": [{"phase": "cessation", "date": "2026-03-02"},
                                  {"phase": "reorientation", "date": "2026-05-04"}]}
    (dl,) = evaluate_record(spec, rec, date(2026, 6, 1))["deadlines"]
    assert dl["status"] == "not_applicable"


def test_the_violation_names_the_phase_and_the_step_that_left_it(tmp_path):
    spec = spec_of(tmp_path)
    rec = {"id": "r", "history": [{"phase": "cessation", "date": "2026-03-02"},
                                  {"phase": "reorientation", "date": "2026-05-04"}]}
    (v,) = evaluate_record(spec, rec, date(2026, 6, 1))["path"]["violations"]
    assert v["at"] == 1 and v["rule"] == "receipt"
    assert "la phase « cessation » a pris fin le 04/05/2026" in v["message"]


def test_during_phase_needs_a_phase_anchor(tmp_path):
    text = HEAD.replace("from: {phase: cessation}", "from: {event: receipt}")
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, text)
    assert [d.code for d in e.value.diagnostics if "during_phase" in d.message] == ["spec.deadline"]
