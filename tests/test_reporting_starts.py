"""`starts:` on a rhythm of operation events: the windows (or gaps) run from an operation date such as the
signature, not from a convention start that is retroactive (04:35-39: the committees the coach takes part in
cannot be held before the operator is selected); an unknown date leaves the rhythm unknown, never failed."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.errors import SpecError
from engine.operation.report import build_report
from engine.spec.compile import load_spec

HEAD = """\
id: t
version: "1"
title: Test
convention: {start: 2026-01-01, end: 2027-12-31, max_duration: 24 months, source: "04-coach-jeunesse.txt:63"}
inputs:
  events:
    committee: {label: Comité de suivi, fields: {}}
  operation:
    convention_start: {type: date, label: Début de la convention}
    convention_end: {type: date, label: Fin de la convention}
    signature_date: {type: date, label: Date de signature}
reporting:
"""
QUARTERLY = """\
  - {id: quarterly, label: Comité chaque trimestre, event: committee, every: quarter, min: 1, starts: signature_date,
     source: "04-coach-jeunesse.txt:35"}
"""
GAP = """\
  - {id: gap, label: Comité toutes les 8 semaines, event: committee, max_gap: 8 weeks, starts: signature_date,
     source: "04-coach-jeunesse.txt:39"}
"""


def spec_of(tmp_path, body):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return load_spec(p)


def row(spec, at, events, **op):
    record = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2027-12-31",
              "events": [{"type": "committee", "date": d} for d in events], **op}
    rep = build_report(spec, record, iter(()), date.fromisoformat(at))
    return rep["reporting"][0]


def test_quarters_run_from_the_signature(tmp_path):
    spec = spec_of(tmp_path, QUARTERLY)
    r = row(spec, "2026-10-15", ["2026-05-20", "2026-09-10"], signature_date="2026-04-15")
    assert r["from"] == date(2026, 4, 15)
    assert [(w["from"], w["status"]) for w in r["windows"]] == [
        (date(2026, 4, 15), "met"), (date(2026, 7, 1), "met"), (date(2026, 10, 1), "pending")]
    assert r["status"] != "unmet"
    # without `starts:` the first quarter of 2026, before any signature, would have failed
    plain = spec_of(tmp_path, QUARTERLY.replace(" starts: signature_date,", ""))
    r0 = row(plain, "2026-10-15", ["2026-05-20", "2026-09-10"], signature_date="2026-04-15")
    assert r0["windows"][0] == {"from": date(2026, 1, 1), "to": date(2026, 3, 31), "count": 0, "status": "unmet"}
    assert "from" not in r0


def test_a_signature_quarter_without_committee_is_only_partial(tmp_path):
    spec = spec_of(tmp_path, QUARTERLY)
    r = row(spec, "2026-10-15", ["2026-09-10"], signature_date="2026-04-15")
    assert r["windows"][0]["status"] == "skipped" and r["windows"][0]["partial"] is True


def test_the_first_gap_runs_from_the_signature(tmp_path):
    spec = spec_of(tmp_path, GAP)
    r = row(spec, "2026-07-01", ["2026-04-21", "2026-06-16"], signature_date="2026-04-15")
    assert r["gaps"][0]["from"] == date(2026, 4, 15) and r["gaps"][0]["status"] == "met"
    assert r["status"] != "unmet"


def test_a_signature_before_the_convention_start_keeps_the_start(tmp_path):
    spec = spec_of(tmp_path, QUARTERLY)
    r = row(spec, "2026-04-15", ["2026-02-10"], signature_date="2025-12-15")
    assert r["windows"][0]["from"] == date(2026, 1, 1) and "from" not in r


def test_an_unknown_signature_leaves_the_rhythm_unknown(tmp_path):
    spec = spec_of(tmp_path, QUARTERLY)
    r = row(spec, "2026-10-15", [])
    assert (r["status"], r["missing"]) == ("unknown", ["signature_date"])
    assert "signature_date" in r["note"]


@pytest.mark.parametrize("body", [
    QUARTERLY.replace("starts: signature_date", "starts: date_signature"),
    "  - {id: review, label: Bilan, due: 2027-03-31, starts: signature_date, source: \"04-coach-jeunesse.txt:88\"}\n",
])
def test_starts_needs_a_known_date_and_a_rhythm(tmp_path, body):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, body)
    assert [d.code for d in e.value.diagnostics] == ["spec.reporting_starts"]


def test_a_report_before_the_signature_owes_nothing_yet(tmp_path):
    for body in (QUARTERLY, GAP):
        r = row(spec_of(tmp_path, body), "2026-03-01", [], signature_date="2026-03-02")
        assert (r["status"], r["from"]) == ("pending", date(2026, 3, 2))
        assert r["note"] == "le rythme commence le 02/03/2026 (signature_date)"
        assert "gaps" not in r and "windows" not in r
