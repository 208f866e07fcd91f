"""Recurring operator obligations (engine.operation.record): partial windows, a rhythm read as a longest gap
(max_gap), and a document needed before each event (before_each); and the engine check rules of these keys."""

from datetime import date
from types import SimpleNamespace

import pytest

from engine.expr.runtime import Duration
from engine.operation.record import framed_windows, recurring
from engine.spec.check import check_paths

START, END = date(2026, 1, 1), date(2027, 12, 31)


def rule(**kw):
    base = dict(id="r", label=None, event="committee", where=None, every=None, min=None, max=None, source=None,
                max_severity="error", partial_windows="skip", max_gap=None, before_each=None)
    base.update(kw)
    return SimpleNamespace(**base)


def ev(*days, kind="committee"):
    return [{"type": kind, "date": date.fromisoformat(d)} for d in days]


@pytest.mark.parametrize("start,end,every,partial", [
    (date(2026, 2, 15), date(2026, 12, 31), "quarter", [True, False, False, False]),
    (date(2026, 1, 1), date(2026, 11, 30), "quarter", [False, False, False, True]),
    (date(2026, 1, 1), date(2026, 3, 10), Duration(0, 28), [False, False, True]),
    (date(2026, 1, 1), date(2026, 12, 31), None, [False]),
])
def test_windows_know_when_the_convention_cuts_them(start, end, every, partial):
    assert [p for _s, _e, p in framed_windows(start, end, every)] == partial


def test_a_partial_window_needs_no_minimum_unless_asked():
    evs = ev("2026-04-20", "2026-07-10")
    start = date(2026, 2, 15)
    skip = recurring(rule(every="quarter", min=1), evs, start, END, date(2026, 10, 15))
    assert [w["status"] for w in skip["windows"]] == ["skipped", "met", "met", "pending"]
    assert skip["status"] == "pending"
    check = recurring(rule(every="quarter", min=1, partial_windows="check"), evs, start, END, date(2026, 10, 15))
    assert check["windows"][0]["status"] == "unmet" and check["status"] == "unmet"


def test_a_maximum_holds_in_a_partial_window_too():
    r = recurring(rule(every="quarter", max=1), ev("2026-03-01", "2026-03-02"), date(2026, 2, 15), END,
                  date(2026, 4, 1))
    assert r["windows"][0]["status"] == "unmet"


def test_only_partial_windows_is_met_once_the_operation_ended():
    r = recurring(rule(every="year", min=1), [], date(2026, 7, 1), date(2026, 12, 31), date(2027, 2, 1))
    assert [w["status"] for w in r["windows"]] == ["skipped"] and r["status"] == "met"


def test_max_gap_counts_from_the_start_to_the_end():
    r = recurring(rule(max_gap=Duration(0, 56)), ev("2026-02-24", "2026-02-27", "2026-06-10"), START, END,
                  date(2026, 7, 1))
    assert [(g["days"], g["status"]) for g in r["gaps"]] == [(54, "met"), (3, "met"), (103, "unmet"),
                                                             (21, "pending")]
    assert r["status"] == "unmet" and "le premier du 2026-02-27 au 2026-06-10" in r["note"]


def test_max_gap_exactly_the_limit_is_met_and_the_open_gap_can_fail():
    ok = recurring(rule(max_gap=Duration(0, 56)), ev("2026-02-26"), START, END, date(2026, 3, 1))
    assert [g["status"] for g in ok["gaps"]] == ["met", "pending"] and ok["status"] == "pending"
    late = recurring(rule(max_gap=Duration(0, 56)), ev("2026-02-26"), START, END, date(2026, 4, 30))
    assert late["gaps"][-1]["status"] == "unmet" and late["status"] == "unmet"


def test_max_gap_after_the_end_is_met():
    r = recurring(rule(max_gap=Duration(1, 0)), ev("2026-01-20", "2026-02-15", "2026-03-10"), START,
                  date(2026, 3, 31), date(2026, 6, 1))
    assert r["status"] == "met" and r["gaps"][-1]["to"] == date(2026, 3, 31)


def test_before_each_needs_one_document_per_committee():
    evs = ev("2026-03-10", "2026-03-18", kind="dashboard") + ev("2026-03-20", "2026-06-19", "2026-09-18")
    evs += ev("2026-09-18", kind="dashboard")
    r = recurring(rule(event="dashboard", before_each="committee"), [e for e in evs if e["type"] == "dashboard"]
                  + [e for e in evs if e["type"] == "committee"], START, END, date(2026, 10, 15))
    assert [(a["date"].isoformat(), a["status"]) for a in r["anchors"]] == [
        ("2026-03-20", "met"), ("2026-06-19", "unmet"), ("2026-09-18", "met")]
    assert r["anchors"][0]["preceded_by"] == date(2026, 3, 18)
    assert r["status"] == "unmet"


def test_before_each_met_once_the_operation_ended():
    evs = ev("2026-03-19", kind="dashboard") + ev("2026-03-20")
    assert recurring(rule(event="dashboard", before_each="committee"), evs, START, date(2026, 6, 30),
                     date(2026, 8, 1))["status"] == "met"
    assert recurring(rule(event="dashboard", before_each="committee"), evs, START, END,
                     date(2026, 8, 1))["status"] == "pending"


SPEC_HEAD = (open("specs/mobilite.yaml", encoding="utf-8").read())


@pytest.mark.parametrize("block,key", [
    ("    event: follow_up_committee\n    max_gap: 3 months\n    every: quarter\n", "max_gap"),
    ("    event: dashboard_sent\n    before_each: follow_up_comittee\n", "before_each"),
    ("    max_gap: 3 months\n", "max_gap"),
    ("    event: follow_up_committee\n    every: quarter\n    partial_windows: sometimes\n", "partial_windows"),
])
def test_check_rejects_contradictory_readings(tmp_path, block, key):
    marker = "  - id: dashboard_before_committee\n"
    assert marker in SPEC_HEAD
    item = "  - id: extra_item\n    label: Essai\n" + block + "    source: 07-mobilite.txt:80\n"
    (tmp_path / "mobilite.yaml").write_text(SPEC_HEAD.replace(marker, item + marker), encoding="utf-8")
    (tmp_path / "common.yaml").write_text(open("specs/common.yaml", encoding="utf-8").read(), encoding="utf-8")
    result = check_paths([str(tmp_path / "mobilite.yaml")], seeds=None)
    found = [(d.code, d.message) for d in result.diagnostics]
    assert len(found) == 1, found  # one error, naming the key
    code, message = found[0]
    assert f".{key}" in message and code in ("spec.operation", "schema.enum"), found


def test_attendance_not_recorded_leaves_the_window_unknown():
    from engine.spec.compile import load_spec
    from engine.operation.compile import sections_of
    spec = load_spec("specs/mobilite.yaml")
    r = next(x for x in sections_of(spec).reporting if x.id == "quarterly_follow_up_committee")
    fields = tuple(spec.events["follow_up_committee"].fields)
    evs = [{"type": "follow_up_committee", "date": date(2026, 2, 1), "slai_present": True, "mamobilite_present": True},
           {"type": "follow_up_committee", "date": date(2026, 5, 1), "slai_present": True, "mamobilite_present": None},
           {"type": "follow_up_committee", "date": date(2026, 8, 1), "slai_present": False}]
    got = recurring(r, evs, START, END, date(2026, 10, 15), fields)
    assert [(w["status"], w.get("undecided", 0)) for w in got["windows"]] == [
        ("met", 0), ("unknown", 1), ("unmet", 0), ("pending", 0)]
    assert got["status"] == "unmet"
    assert recurring(r, evs[:2], START, END, date(2026, 7, 15), fields)["status"] == "unknown"


def test_an_undecided_event_that_could_pass_the_maximum_leaves_the_window_unknown():
    from engine.spec.compile import load_spec
    from engine.operation.compile import sections_of
    spec = load_spec("specs/clauses-sociales.yaml")
    import dataclasses
    shipped = next(x for x in sections_of(spec).reporting if x.id == "strategic_committee")  # min 1, max 1, warning
    r = dataclasses.replace(shipped, max_severity="error")  # the same committee with a blocking maximum
    fields = tuple(spec.events["strategic_committee"].fields)
    sure = {"type": "strategic_committee", "date": date(2026, 3, 1), "slai_present": True, "sie_present": True}
    maybe = {"type": "strategic_committee", "date": date(2026, 9, 1), "slai_present": True}
    assert recurring(r, [sure], START, END, date(2026, 10, 1), fields)["windows"][0]["status"] == "met"
    assert recurring(r, [sure, maybe], START, END, date(2026, 10, 1), fields)["windows"][0]["status"] == "unknown"
    # 10:44 as shipped: a second committee is only signalled, so an undecided one cannot fail the year
    assert recurring(shipped, [sure, maybe], START, END, date(2026, 10, 1), fields)["windows"][0]["status"] == "met"
