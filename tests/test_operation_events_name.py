"""``operation_events``: the operation record's ``events`` read by any operation expression (an indicator counts
the committees actually held, 07:93), as known at the report date: an event dated after ``--at`` is not yet held,
and a field left empty is absent (unknown), not a value."""

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
convention: {start: 2026-01-01, end: 2027-12-31, max_duration: 24 months, source: "07-mobilite.txt:57"}
inputs:
  events:
    committee:
      label: Comité de suivi
      fields:
        slai_present: {type: boolean, label: SLAI présent}
  operation:
    convention_start: {type: date, label: Début de la convention}
    convention_end: {type: date, label: Fin de la convention}
"""


def spec_of(tmp_path, indicators: str):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD + textwrap.dedent(indicators), encoding="utf-8")
    return load_spec(p)


def indicator(spec, events, at, iid):
    op = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2027-12-31", "events": events}
    rep = build_report(spec, op, iter(()), date.fromisoformat(at))
    return next(i for i in rep["indicators"] if i["id"] == iid)["value"]


EVENTS = [{"type": "committee", "date": "2026-03-20", "slai_present": True},
          {"type": "committee", "date": "2026-06-19", "slai_present": False},
          {"type": "committee", "date": "2026-12-18", "slai_present": None}]

COUNT = """\
indicators:
  - {id: held, label: Comités tenus, value: 'count(operation_events where type == "committee")', source: "07-mobilite.txt:93"}
  - {id: with_slai, label: Comités avec le SLAI, value: 'count(operation_events where slai_present)', source: "07-mobilite.txt:93"}
  - {id: last, label: Dernier comité, value: 'max(operation_events.date)', source: "07-mobilite.txt:93"}
"""


@pytest.mark.parametrize("at,held,last", [
    ("2026-03-19", 0, None),           # nothing held yet
    ("2026-03-20", 1, "2026-03-20"),   # held on the report date: counted
    ("2026-10-15", 2, "2026-06-19"),   # the December committee has not happened yet
    ("2027-01-31", 3, "2026-12-18"),
])
def test_an_indicator_counts_the_events_held_by_the_report_date(tmp_path, at, held, last):
    spec = spec_of(tmp_path, COUNT)
    assert indicator(spec, EVENTS, at, "held") == held
    got = indicator(spec, EVENTS, at, "last")
    assert (str(got) if got is not None else None) == last


def test_an_empty_field_is_unknown_not_false(tmp_path):
    spec = spec_of(tmp_path, COUNT)
    assert indicator(spec, EVENTS[:2], "2027-01-31", "with_slai") == 1
    # the third committee does not say whether the SLAI came: the count is unknown, and says what is missing
    op = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2027-12-31", "events": EVENTS}
    row = next(i for i in build_report(spec, op, iter(()), date(2027, 1, 31))["indicators"] if i["id"] == "with_slai")
    assert row["value"] is None and row["missing"] == ["slai_present"]
    # ... but not before that committee is held
    assert indicator(spec, EVENTS, "2026-12-17", "with_slai") == 1


def test_a_misspelt_field_of_operation_events_is_a_positioned_error(tmp_path):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, COUNT.replace("where slai_present", "where slai_presnt"))
    d = e.value.diagnostics[0]
    assert (d.code, d.line) == ("expr.unknown_name", 16) and "slai_presnt" in d.message


def test_a_bracketed_predicate_of_a_cohort_aggregate_keeps_its_closing_bracket(tmp_path):
    """`sum((participants where count(history) >= 1 and (a or b)).x)`: the predicate is cut from the spec by its
    span; a bracketed last operand once lost its « ) » there (« ( n'est jamais fermé »)."""
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent("""\
        id: t
        version: "1"
        title: Test
        inputs:
          attributes:
            a: {type: boolean, label: A}
            b: {type: boolean, label: B}
            x: {type: number, label: X}
        indicators:
          - {id: s, label: S, value: 'sum((participants where count(history) >= 1 and (a or b)).x)',
             source: "03-travailleurs-independants.txt:146"}
        """), encoding="utf-8")
    spec = load_spec(p)
    cohort = [{"id": "p1", "a": True, "x": 2, "history": [{"phase": "p", "date": "2026-02-01"}]},
              {"id": "p2", "b": True, "x": 3, "history": [{"phase": "p", "date": "2026-02-01"}]},
              {"id": "p3", "a": False, "b": False, "x": 5, "history": [{"phase": "p", "date": "2026-02-01"}]}]
    rep = build_report(spec, {"id": "op"}, enumerate(cohort), date(2026, 6, 1))
    assert next(i for i in rep["indicators"] if i["id"] == "s")["value"] == 5
