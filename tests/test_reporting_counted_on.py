"""`counted_on:` on a rhythm counted per period: a document counts for the period it covers (its date field), not
for the one it is sent in (10:114 « un tableau d'indicateurs au trimestre … selon un calendrier précis »: a table of
the first quarter sent on 15/04 covers the first quarter); with no calendar in the text, a period stays pending
while the operation runs and is missed at its end; a document that does not say what it covers is not counted."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.errors import RecordError, SpecError
from engine.operation.report import build_report
from engine.spec.compile import load_spec

HEAD = """\
id: t
version: "1"
title: Test
convention: {start: 2026-01-01, end: 2026-12-31, max_duration: 12 months, source: "10-clauses-sociales.txt:80"}
inputs:
  events:
    table_sent:
      label: Tableau transmis
      fields:
        covers: {type: date, label: Trimestre couvert}
  operation:
    convention_start: {type: date, label: Début}
    convention_end: {type: date, label: Fin}
reporting:
  - {id: tables, label: Un tableau par trimestre, event: table_sent, every: quarter, min: 1, counted_on: covers,
     source: "10-clauses-sociales.txt:114"}
"""


def spec_of(tmp_path, text=HEAD):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec(p)


def row(spec, at, events):
    op = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2026-12-31", "events": events}
    return build_report(spec, op, iter(()), date.fromisoformat(at))["reporting"][0]


def sent(d, covers=None):
    return {"type": "table_sent", "date": d, **({"covers": covers} if covers else {})}


def test_a_table_counts_for_the_quarter_it_covers(tmp_path):
    r = row(spec_of(tmp_path), "2026-10-20", [sent("2026-04-15", "2026-03-31"), sent("2026-07-15", "2026-06-30"),
                                              sent("2026-10-15")])
    assert [(w["count"], w["status"]) for w in r["windows"]] == [(1, "met"), (1, "met"), (0, "pending"),
                                                                 (0, "pending")]
    assert r["undated"] == 1 and r["status"] == "pending"


def test_a_missing_table_is_missed_once_the_operation_ended(tmp_path):
    r = row(spec_of(tmp_path), "2027-02-01", [sent("2026-04-15", "2026-03-31"), sent("2026-07-15", "2026-06-30"),
                                              sent("2027-01-15", "2026-12-31")])
    assert [w["status"] for w in r["windows"]] == ["met", "met", "unmet", "met"] and r["status"] == "unmet"


def test_a_table_sent_after_the_report_date_is_not_counted_yet(tmp_path):
    r = row(spec_of(tmp_path), "2026-04-10", [sent("2026-04-15", "2026-03-31")])
    assert r["windows"][0]["count"] == 0 and r["windows"][0]["status"] == "pending"


def test_a_malformed_period_is_a_record_error(tmp_path):
    with pytest.raises(RecordError) as e:
        row(spec_of(tmp_path), "2026-10-20", [sent("2026-04-15", "T1 2026")])
    assert "covers" in str(e.value.diagnostics[0].hint or "") or "covers" in e.value.diagnostics[0].message


@pytest.mark.parametrize("change", [("counted_on: covers", "counted_on: couvert"),
                                    ("every: quarter, min: 1, ", "min: 1, ")])
def test_counted_on_needs_a_date_field_and_periods(tmp_path, change):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, HEAD.replace(*change))
    assert "spec.reporting_counted_on" in [d.code for d in e.value.diagnostics]
