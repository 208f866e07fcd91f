"""`every: entry`: an obligation checked once for each entry into its phases, not over calendar windows nor over
the merged stay: « chaque CE » (01:214-215) is each contract of a renewal, checked at its own end. The fast path,
the plain one and the trace agree."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.beneficiary import evaluate as E
from engine.spec.compile import load_spec
from evalkit import obligation_on_every_path

SPEC = """\
id: t
version: "1"
title: Test
inputs:
  events:
    ce_action: {label: Action du CE, fields: {}}
phases:
  accueil: {label: Accueil, initial: true, source: "01-dynamisation-des-parcours.txt:214"}
  contrat: {label: Contrat, source: "01-dynamisation-des-parcours.txt:214"}
  sortie: {label: Sortie, final: true, source: "01-dynamisation-des-parcours.txt:214"}
transitions:
  - {from: accueil, to: contrat, label: CE, source: "01-dynamisation-des-parcours.txt:214"}
  - {from: contrat, to: contrat, label: Renouvellement, source: "01-dynamisation-des-parcours.txt:214"}
  - {from: contrat, to: sortie, label: Sortie, source: "01-dynamisation-des-parcours.txt:214"}
obligations:
  - id: ce_quality
    label: Au moins 3 actions par CE
    during: [contrat]
    every: entry
    condition: count(events where type == "ce_action") >= 3
    source: "01-dynamisation-des-parcours.txt:214-215"
"""

H = [("accueil", "2026-02-02"), ("contrat", "2026-03-02"), ("contrat", "2026-08-03"), ("sortie", "2027-01-04")]


def actions(*days):
    return [{"type": "ce_action", "date": d} for d in days]


CASES = [
    # each contract has its 3 actions, dated the day it was signed: both met
    (H, actions(*["2026-03-02"] * 3, *["2026-08-03"] * 3), "2027-02-01", "met", 2, 0, []),
    # the renewal without actions fails on its own, even though the first contract had 6
    (H, actions(*["2026-03-02"] * 6), "2027-02-01", "unmet", 2, 0, [("2026-08-03", "2027-01-03")]),
    # the renewal still running: its window is pending, never failed before its end
    (H[:3], actions(*["2026-03-02"] * 3), "2026-10-01", "met", 1, 1, []),
    # nothing yet ended
    (H[:2], [], "2026-04-01", "pending", 0, 1, []),
]


def spec_of(tmp_path, text: str = SPEC):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec(p)


def record(history, events):
    return {"id": "r", "history": [{"phase": p, "date": d} for p, d in history], "events": events}


@pytest.mark.parametrize("history,events,at,status,checked,pending,failed", CASES)
def test_each_entry_is_its_own_window(tmp_path, history, events, at, status, checked, pending, failed):
    out, ob, tob = obligation_on_every_path(spec_of(tmp_path), record(history, events), date.fromisoformat(at))
    assert (ob["status"], ob["windows_checked"], ob["windows_pending"]) == (status, checked, pending)
    assert [(w["start"].isoformat(), w["end"].isoformat()) for w in ob["failed"]] == failed
    if failed:
        v = next(v for v in out["path"]["violations"] if v["code"] == "obligation_unmet")
        assert "(séjour commencé le 03/08/2026)" in v["message"]
    assert "chaque contrat" in tob["every_text"]


def test_a_merged_stay_would_have_hidden_the_empty_renewal(tmp_path):
    """`every: stay` (the merged stay) counts the 6 actions of the first contract for both."""
    spec = spec_of(tmp_path, SPEC.replace("every: entry", "every: stay"))
    (ob,) = E.evaluate_record(spec, record(H, actions(*["2026-03-02"] * 6)), date(2027, 2, 1))["obligations"]
    assert ob["status"] == "met"
