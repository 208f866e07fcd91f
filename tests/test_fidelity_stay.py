"""Time limits the texts do not give (issue 13 item 12): `every: stay` checks an obligation over the whole stay in its
phases, once it has ended, instead of calendar windows the text does not give (01:186 « 1 absence injustifiée =
lancement d'une procédure de suspension », no delay). The fast path and the plain one agree, and so does the trace."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.beneficiary import evaluate as E
from engine.errors import SpecError
from engine.spec.compile import load_spec
from evalkit import obligation_on_every_path

SPEC = """\
id: t
version: "1"
title: Test
inputs:
  events:
    absence: {label: Absence, fields: {justified: {type: boolean, label: Justifiée}}}
    suspension_request: {label: Procédure de suspension, fields: {}}
phases:
  accueil: {label: Accueil, initial: true, source: "01-dynamisation-des-parcours.txt:186"}
  contrat: {label: Contrat, source: "01-dynamisation-des-parcours.txt:186"}
  sortie: {label: Sortie, final: true, source: "01-dynamisation-des-parcours.txt:186"}
transitions:
  - {from: accueil, to: contrat, label: CE, source: "01-dynamisation-des-parcours.txt:186"}
  - {from: contrat, to: contrat, label: Renouvellement, source: "01-dynamisation-des-parcours.txt:186"}
  - {from: contrat, to: sortie, label: Sortie, source: "01-dynamisation-des-parcours.txt:186"}
obligations:
  - id: suspension
    label: Procédure de suspension après toute absence injustifiée
    during: [accueil, contrat]
    every: stay
    condition: >-
      count(events where type == "absence" and justified == false) == 0
      or (count(events where type == "suspension_request") >= 1
          and max((events where type == "suspension_request").date)
              >= max((events where type == "absence" and justified == false).date))
    source: "01-dynamisation-des-parcours.txt:186"
"""

HISTORY = [("accueil", "2026-02-02"), ("contrat", "2026-03-02"), ("sortie", "2026-06-01")]

CASES = [
    # history, events (type, date, justified), at -> status, checked, pending, failed window
    (HISTORY, [("absence", "2026-03-30", False), ("suspension_request", "2026-04-02", None)], "2026-07-01",
     "met", 1, 0, None),
    # across a month boundary is fine: no calendar cut
    (HISTORY, [("absence", "2026-04-30", False), ("suspension_request", "2026-05-04", None)], "2026-07-01",
     "met", 1, 0, None),
    # a procedure before the last absence does not cover it
    (HISTORY, [("suspension_request", "2026-03-01", None), ("absence", "2026-04-30", False)], "2026-07-01",
     "unmet", 1, 0, ("2026-02-02", "2026-05-31")),
    # a justified absence needs nothing
    (HISTORY, [("absence", "2026-04-30", True)], "2026-07-01", "met", 1, 0, None),
    # the stay is still running: pending, never failed before its end
    (HISTORY[:2], [("absence", "2026-04-30", False)], "2026-07-01", "pending", 0, 1, None),
    # a renewal continues the stay
    (HISTORY[:2] + [("contrat", "2026-09-01")], [("absence", "2026-04-30", False)], "2026-10-01",
     "pending", 0, 1, None),
    # the exit after the evaluation date: still running at that date
    (HISTORY, [("absence", "2026-04-30", False)], "2026-05-15", "pending", 0, 1, None),
]


def spec_of(tmp_path, text: str = SPEC):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec(p)


def _record(history, events):
    evs = []
    for t, d, j in events:
        e = {"type": t, "date": d}
        if j is not None:
            e["justified"] = j
        evs.append(e)
    return {"id": "r", "history": [{"phase": p, "date": d} for p, d in history], "events": evs}


@pytest.mark.parametrize("history,events,at,status,checked,pending,failed", CASES)
def test_an_obligation_over_the_whole_stay(tmp_path, history, events, at, status, checked, pending, failed):
    spec = spec_of(tmp_path)
    rec = _record(history, events)
    # the plain path (the reference of the fast one) and the trace agree (evalkit)
    out, ob, tob = obligation_on_every_path(spec, rec, date.fromisoformat(at))
    assert (ob["status"], ob["windows_checked"], ob["windows_pending"]) == (status, checked, pending)
    got = [(w["start"].isoformat(), w["end"].isoformat()) for w in ob["failed"]]
    assert got == ([failed] if failed else [])
    if failed:
        v = next(v for v in out["path"]["violations"] if v["code"] == "obligation_unmet")
        assert "(toute la durée du séjour)" in v["message"]
    assert "sur toute la durée du séjour" in tob["every_text"]


def test_a_calendar_month_would_have_cut_the_absence_from_its_procedure(tmp_path):
    """What the shipped specs did before (every: month, partial windows checked): March fails."""
    spec = spec_of(tmp_path, SPEC.replace("every: stay", "every: month\n    partial_windows: check"))
    rec = _record(HISTORY, [("absence", "2026-03-30", False), ("suspension_request", "2026-04-02", None)])
    (ob,) = E.evaluate_record(spec, rec, date(2026, 7, 1))["obligations"]
    assert ob["status"] == "unmet"


def test_every_stay_is_for_obligations_only(tmp_path):
    """`stay` is an obligation's period; a duration that is not one is still refused with its message."""
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, SPEC.replace("every: stay", "every: séjour"))
    assert any("every" in d.message for d in e.value.diagnostics)
