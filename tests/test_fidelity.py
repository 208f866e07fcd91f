"""Readings of time the texts need (docs/fidelity.md): milestones "à N mois" (a window around the milestone, status
``early``), and the checks `engine check` makes of them. Each case is a small spec compiled from YAML, as a user
writes it, evaluated with ``engine.beneficiary.evaluate``."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.spec.compile import load_spec
from engine.errors import SpecError
from engine.beneficiary.evaluate import evaluate_record

HEAD = """\
id: t
version: "1"
title: Test
phases:
  suivi: {label: Suivi, initial: true, source: "10-clauses-sociales.txt:34"}
  fin: {label: Fin, final: true, source: "10-clauses-sociales.txt:34"}
transitions:
  - {from: suivi, to: fin, label: Fin, source: "10-clauses-sociales.txt:34"}
inputs:
  events:
    point: {label: Point de situation, fields: {horizon: {type: integer, label: Horizon}}}
"""


def spec_of(tmp_path, body: str, head: str = HEAD):
    p = tmp_path / "t.yaml"
    p.write_text(head + textwrap.dedent(body), encoding="utf-8")
    return load_spec(p)


def errors_of(tmp_path, body: str, head: str = HEAD) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, body, head)
    return [(d.code, d.message) for d in e.value.diagnostics]


MILESTONE = """\
deadlines:
  - id: six
    label: Point à 6 mois
    from: {phase: suivi}
    to: {event: point}
    where: horizon == 6
    milestone: 6 months
    source: "10-clauses-sociales.txt:34"
"""


def _dl(spec, events, at, entry="2026-03-02", id_="six"):
    rec = {"id": "r", "history": [{"phase": "suivi", "date": entry}],
           "events": [{"type": "point", "date": d, "horizon": h} for d, h in events]}
    out = evaluate_record(spec, rec, date.fromisoformat(at))
    return next(d for d in out["deadlines"] if d["id"] == id_), out


# events (date, horizon), at -> status, earliest, due, date, early; entry 2026-03-02, window 2026-08-02..2026-10-02
MILESTONE_CASES = [
    ([("2026-09-02", 6)], "2026-12-01", "met", "2026-08-02", "2026-10-02", "2026-09-02", None),      # on the milestone
    ([("2026-08-02", 6)], "2026-12-01", "met", "2026-08-02", "2026-10-02", "2026-08-02", None),      # first day
    ([("2026-10-02", 6)], "2026-12-01", "met", "2026-08-02", "2026-10-02", "2026-10-02", None),      # last day
    ([("2026-10-03", 6)], "2026-12-01", "missed", "2026-08-02", "2026-10-02", "2026-10-03", None),   # late
    ([("2026-08-01", 6)], "2026-09-01", "early", "2026-08-02", "2026-10-02", None, "2026-08-01"),    # the day before
    ([("2026-04-02", 6)], "2026-09-01", "early", "2026-08-02", "2026-10-02", None, "2026-04-02"),    # a month after entry
    ([("2026-04-02", 6)], "2026-10-02", "early", "2026-08-02", "2026-10-02", None, "2026-04-02"),    # window still open
    ([("2026-04-02", 6)], "2026-10-03", "missed", "2026-08-02", "2026-10-02", None, "2026-04-02"),   # window closed
    ([("2026-04-02", 6), ("2026-09-01", 6)], "2026-12-01", "met", "2026-08-02", "2026-10-02", "2026-09-01", None),
    ([("2026-04-02", 6), ("2026-10-05", 6)], "2026-12-01", "missed", "2026-08-02", "2026-10-02", "2026-10-05", None),
    ([("2026-09-02", 12)], "2026-12-01", "missed", "2026-08-02", "2026-10-02", None, None),          # `where` filters
    ([], "2026-05-01", "pending", "2026-08-02", "2026-10-02", None, None),
    ([("2026-01-10", 6)], "2026-05-01", "pending", "2026-08-02", "2026-10-02", None, None),          # before the anchor
]


@pytest.mark.parametrize("events,at,status,earliest,due,when,early", MILESTONE_CASES)
def test_milestone_window(tmp_path, events, at, status, earliest, due, when, early):
    spec = spec_of(tmp_path, MILESTONE)
    d, out = _dl(spec, events, at)
    got = (d["status"], str(d["earliest"]), str(d["due"]), d["date"] and str(d["date"]),
           d.get("early") and str(d["early"]))
    assert got == (status, earliest, due, when, early)
    codes = [v["code"] for v in out["path"]["violations"] if v["rule"] == "six"]
    assert codes == (["deadline_missed"] if status == "missed" else [])


def test_missed_after_an_early_event_says_so(tmp_path):
    spec = spec_of(tmp_path, MILESTONE)
    _d, out = _dl(spec, [("2026-04-02", 6)], "2026-10-03")
    v = out["path"]["first_violation"]
    assert v["message"] == ("« Point à 6 mois » : seulement réalisé le 02/04/2026, avant la période attendue (du "
                            "02/08/2026 au 02/10/2026), qui est dépassée au 03/10/2026.")
    assert (str(v["early"]), str(v["earliest"]), str(v["date"])) == ("2026-04-02", "2026-08-02", "2026-10-03")


@pytest.mark.parametrize("tolerance,earliest,due", [
    ("tolerance: 15 days", "2026-08-18", "2026-09-17"),
    ("tolerance: {before: 2 months}", "2026-07-02", "2026-10-02"),
    ("tolerance: {after: 0 days}", "2026-08-02", "2026-09-02"),
    ("tolerance: {before: 0 days, after: 2 weeks}", "2026-09-02", "2026-09-16"),
])
def test_milestone_tolerance_override(tmp_path, tolerance, earliest, due):
    spec = spec_of(tmp_path, MILESTONE + f"    {tolerance}\n")
    d, _ = _dl(spec, [], "2026-05-01")
    assert (str(d["earliest"]), str(d["due"])) == (earliest, due)


def test_within_with_not_before(tmp_path):
    body = MILESTONE.replace("milestone: 6 months", "within: 6 months\n    not_before: 5 months")
    spec = spec_of(tmp_path, body)
    assert _dl(spec, [("2026-09-02", 6)], "2026-12-01")[0]["status"] == "met"
    assert _dl(spec, [("2026-04-02", 6)], "2026-06-01")[0]["status"] == "early"
    d, _ = _dl(spec, [("2026-04-02", 6)], "2026-10-01")
    assert (d["status"], str(d["earliest"]), str(d["due"])) == ("missed", "2026-08-02", "2026-09-02")
    # without not_before nothing changes: any date after the anchor counts, and no `earliest` is reported
    spec = spec_of(tmp_path, MILESTONE.replace("milestone: 6 months", "within: 6 months"))
    d, _ = _dl(spec, [("2026-04-02", 6)], "2026-06-01")
    assert d["status"] == "met" and "earliest" not in d and "early" not in d


def test_phase_target_before_the_window_is_early(tmp_path):
    body = """\
    deadlines:
      - id: exit_window
        label: Fin entre 1 et 2 mois
        from: {phase: suivi}
        to: {phase: fin}
        within: 2 months
        not_before: 1 month
        source: "10-clauses-sociales.txt:34"
    """
    spec = spec_of(tmp_path, body)
    rec = {"id": "r", "history": [{"phase": "suivi", "date": "2026-03-02"}, {"phase": "fin", "date": "2026-03-10"}]}
    out = evaluate_record(spec, rec, date(2026, 6, 1))
    d = out["deadlines"][0]
    assert (d["status"], str(d["early"])) == ("missed", "2026-03-10")


@pytest.mark.parametrize("body,code,words", [
    (MILESTONE.replace("    milestone: 6 months\n", ""), "spec.deadline", "n'a ni `within` ni `milestone`"),
    (MILESTONE.replace("milestone: 6 months", "milestone: 6 months\n    within: 7 months"), "spec.deadline",
     "`milestone` et `within` ensemble"),
    (MILESTONE.replace("milestone: 6 months", "within: 6 months\n    tolerance: 1 month"), "spec.deadline",
     "`tolerance` ne s'applique qu'à un `milestone`"),
    (MILESTONE.replace("milestone: 6 months", "within: 1 month\n    not_before: 2 months"), "spec.deadline",
     "not_before (2 mois) est plus long que within (1 mois) : la fenêtre est vide"),
    (MILESTONE.replace("milestone: 6 months", "milestone: 6 months\n    not_before: 5 months"), "spec.deadline",
     "`not_before` avec un `milestone`"),
    (MILESTONE.replace("milestone: 6 months", "milestone: 1 month\n    tolerance: 2 months"), "spec.deadline",
     "la fenêtre s'ouvrirait avant son point de départ"),
    (MILESTONE + "    tolerance: {avant: 1 month}\n", "schema", "avant"),
])
def test_check_rejects_bad_windows(tmp_path, body, code, words):
    errs = errors_of(tmp_path, body)
    assert any(words in m and (c == code or code == "schema") for c, m in errs), errs


def test_default_tolerance_is_documented():
    from pathlib import Path

    from engine.spec.model import MILESTONE_TOLERANCE_MONTHS

    assert MILESTONE_TOLERANCE_MONTHS == 1
    doc = (Path(__file__).parent.parent / "specs" / "README.md").read_text(encoding="utf-8")
    assert "1 month before" in doc and "milestone:" in doc


# ------------------------------------------------------------------------------------------------ relative dates

REVIEW_HEAD = """\
id: t
version: "1"
title: Test
convention: {start: 2026-01-01, end: 2027-12-31, max_duration: 24 months, source: "05-chantiers-insertion.txt:74"}
inputs:
  operation:
    convention_start: {type: date, label: Début de la convention}
    convention_end: {type: date, label: Fin de la convention}
    final_review_date: {type: date, label: Date de remise du bilan final}
"""
FINAL_REVIEW = """\
reporting:
  - id: final_review
    label: Bilan final dans les 3 mois suivant la fin effective
    within: 3 months
    after: convention_end
    source: "05-chantiers-insertion.txt:107"
"""


def _report(spec, operation, at):
    from engine.operation.report import build_report

    return build_report(spec, {"id": "op", **operation}, iter(()), date.fromisoformat(at))


@pytest.mark.parametrize("operation,at,due,status", [
    ({"convention_end": "2027-06-30"}, "2027-10-15", "2027-09-30", "late"),         # the operation's actual end
    ({"convention_end": "2027-06-30"}, "2027-09-30", "2027-09-30", "pending"),
    ({"convention_end": "2027-06-30", "final_review_date": "2027-09-30"}, "2027-10-15", "2027-09-30", "submitted"),
    ({"convention_end": "2027-06-30", "final_review_date": "2027-10-01"}, "2027-10-15", "2027-09-30", "submitted_late"),
    ({}, "2028-04-01", "2028-03-31", "late"),                                        # the text's end, when not given
])
def test_final_review_counts_from_the_actual_end(tmp_path, operation, at, due, status):
    spec = spec_of(tmp_path, FINAL_REVIEW, REVIEW_HEAD)
    rev = next(r for r in _report(spec, operation, at)["reporting"] if r["id"] == "final_review")
    assert (str(rev["due"]), rev["status"]) == (due, status)


def test_fixed_date_and_relative_delay_together_is_an_error(tmp_path):
    errs = errors_of(tmp_path, FINAL_REVIEW + "    due: 2028-03-31\n", REVIEW_HEAD)
    assert [c for c, _m in errs] == ["spec.reporting_due"]


# ------------------------------------------------------------------------------------------------ operation bounds

BOUNDS_HEAD = HEAD.replace('title: Test\n', '''title: Test
convention: {start: 2026-01-01, end: 2027-12-31, source: "08-appui-dispositifs-insertion.txt:54"EXTRA}
''')


def _path(spec, history, events=(), at="2026-06-01", bounds=None):
    rec = {"id": "r", "history": [{"phase": p, "date": d} for p, d in history],
           "events": [{"type": "point", "date": d, "horizon": 6} for d in events]}
    out = evaluate_record(spec, rec, date.fromisoformat(at), bounds=bounds)
    return [(v["code"], v["at"], v.get("event"), str(v["date"])) for v in out["path"]["violations"]], out


# history, events, bounds -> violations (code, history index, event index, date)
BOUNDS_CASES = [
    ([("suivi", "2026-01-01"), ("fin", "2027-12-31")], [], None, []),                     # both limits included
    ([("suivi", "2025-12-31")], [], None, [("outside_convention", 0, None, "2025-12-31")]),
    ([("suivi", "2026-03-02"), ("fin", "2028-01-01")], [], None, [("outside_convention", 1, None, "2028-01-01")]),
    ([("suivi", "2026-03-02")], ["2025-12-20"], None, [("outside_convention", None, 0, "2025-12-20")]),
    ([("suivi", "2026-03-02")], ["2026-04-01", "2028-02-01"], None, [("outside_convention", None, 1, "2028-02-01")]),
    # the operation's own convention (engine report): a start later than the spec's
    ([("suivi", "2026-03-02")], ["2026-04-01"], (date(2026, 4, 1), date(2027, 3, 31)),
     [("outside_convention", 0, None, "2026-03-02")]),
    ([("suivi", "2026-04-01")], ["2027-04-01"], (date(2026, 4, 1), date(2027, 3, 31)),
     [("outside_convention", None, 0, "2027-04-01")]),
    ([("suivi", "2025-06-01")], [], (None, None), []),                                   # no dates at all: no bound
]


@pytest.mark.parametrize("history,events,bounds,expected", BOUNDS_CASES)
def test_history_and_events_inside_the_convention(tmp_path, history, events, bounds, expected):
    spec = spec_of(tmp_path, "", BOUNDS_HEAD.replace("EXTRA", ""))
    got, _ = _path(spec, history, events, at="2028-03-01", bounds=bounds)
    assert got == expected


def test_outside_convention_messages(tmp_path):
    spec = spec_of(tmp_path, "", BOUNDS_HEAD.replace("EXTRA", ""))
    _, out = _path(spec, [("suivi", "2025-12-31")], ["2025-12-30"])
    msgs = sorted(v["message"] for v in out["path"]["violations"])
    assert msgs == ["L'étape « Suivi » du 31/12/2025 est antérieure au début de la convention (01/01/2026).",
                    "L'événement « Point de situation » du 30/12/2025 est antérieur au début de la convention "
                    "(01/01/2026)."]
    assert {v["source"] for v in out["path"]["violations"]} == {"08-appui-dispositifs-insertion.txt:54"}


@pytest.mark.parametrize("extra,codes", [
    (", events_after_end: [point]", []),
    (", events_after_end: all", []),
    ("", ["outside_convention"]),
])
def test_events_the_text_expects_after_the_end(tmp_path, extra, codes):
    spec = spec_of(tmp_path, "", BOUNDS_HEAD.replace("EXTRA", extra))
    got, _ = _path(spec, [("suivi", "2027-06-01")], ["2028-01-15"], at="2028-02-01")
    assert [c for c, *_ in got] == codes
    # a phase entry after the end is outside the convention whatever the events allowed
    got, _ = _path(spec, [("suivi", "2027-06-01"), ("fin", "2028-01-15")], at="2028-02-01")
    assert [c for c, *_ in got] == ["outside_convention"]


def test_events_after_end_names_declared_event_types(tmp_path):
    errs = errors_of(tmp_path, "", BOUNDS_HEAD.replace("EXTRA", ", events_after_end: [pont]"))
    assert errs == [("spec.unknown_event", "convention.events_after_end : type d'événement inconnu « pont »")]


def test_a_convention_minimum_longer_than_its_maximum_is_an_error_at_the_minimum(tmp_path):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, "", BOUNDS_HEAD.replace("EXTRA", ", min_duration: 36 months, max_duration: 24 months"))
    [d] = e.value.diagnostics
    assert (d.code, d.line, d.path) == ("convention.min_above_max", 4, "convention.min_duration")
    assert d.source_line[d.col - 1:].startswith("36 months")
    assert d.message == ("convention : min_duration (3 ans) est plus longue que max_duration (2 ans) : aucune "
                         "convention ne peut respecter les deux")
    assert d.hint == "baissez min_duration ou augmentez max_duration"


@pytest.mark.parametrize("durations", [", min_duration: 24 months, max_duration: 24 months",
                                       ", min_duration: 2 years, max_duration: 24 months",
                                       ", min_duration: 1 month, max_duration: 30 days"])
def test_a_convention_minimum_equal_to_its_maximum_is_no_error(tmp_path, durations):
    spec = spec_of(tmp_path, "", BOUNDS_HEAD.replace("EXTRA", durations))
    assert spec.convention.min_duration is not None


def test_report_checks_participants_against_the_operation_convention(tmp_path):
    body = MILESTONE + """\
indicators:
  - {id: met, label: Points faits, value: 'count(participants where deadlines.six == "met")', source: "10-clauses-sociales.txt:141"}
  - {id: legal, label: Parcours conformes, value: count(participants where path_legal), source: "10-clauses-sociales.txt:141"}
inputs:
  operation:
    convention_start: {type: date, label: Début}
    convention_end: {type: date, label: Fin}
"""
    head = BOUNDS_HEAD.replace("EXTRA", "").replace("inputs:\n  events:", "inputs_:\n  events:")
    # one `inputs` block: merge the events into the operation's
    head = head.replace("inputs_:\n  events:\n    point: {label: Point de situation, fields: {horizon: {type: integer, "
                        "label: Horizon}}}\n", "")
    body = body.replace("inputs:\n  operation:", "inputs:\n  events:\n    point: {label: Point de situation, fields: "
                        "{horizon: {type: integer, label: Horizon}}}\n  operation:")
    spec = spec_of(tmp_path, body, head)
    from engine.operation.report import build_report

    cohort = [(1, {"id": "a", "history": [{"phase": "suivi", "date": "2026-03-02"}],
                   "events": [{"type": "point", "date": "2026-09-02", "horizon": 6}]})]
    rep = build_report(spec, {"id": "op", "convention_start": date(2026, 1, 1)}, iter(cohort), date(2026, 12, 1))
    assert [r["value"] for r in rep["indicators"]] == [1, 1]
    # the same participant in an operation that started on 01/04/2026: entered before it, the path is not legal
    rep = build_report(spec, {"id": "op", "convention_start": date(2026, 4, 1)}, iter(cohort), date(2026, 12, 1))
    assert [r["value"] for r in rep["indicators"]] == [1, 0]
