"""Money and cohorts as the texts mean them (docs/money-and-cohorts.md): flat rates that cover, cost categories,
commitments over the operation, warnings that do not block, rates over everyone due, cohorts at the report date.
Each case is read from the shipped specs and their texts; expected figures are worked out in the comments."""

from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.operation.report import build_report
from engine.spec.compile import load_spec
from engine.render.report import render

SPECS = Path(__file__).resolve().parent.parent / "specs"


@pytest.fixture(scope="module")
def ti():
    return load_spec(str(SPECS / "travailleurs-independants.yaml"))


@pytest.fixture(scope="module")
def cs():
    return load_spec(str(SPECS / "clauses-sociales.yaml"))


def by_id(rows, id_):
    return next(r for r in rows if r["id"] == id_)


def report(spec, op, cohort=(), at=date(2027, 4, 15), params=None):
    base = {"id": "OP-T", "spec": spec.id, "convention_start": "2026-01-01", "convention_end": "2027-12-31"}
    base.update(op)
    return build_report(spec, base, [(i + 1, dict(r)) for i, r in enumerate(cohort)], at, params or {})


# --------------------------------------------------------------------------------------------- commitments

@pytest.mark.parametrize("at, held, status", [
    (date(2026, 9, 1), 0, "pending"),    # 03:76 "à minima 3 comités": the convention runs until 31/12/2027
    (date(2026, 9, 1), 2, "pending"),
    (date(2026, 9, 1), 3, "met"),        # met as soon as reached
    (date(2027, 12, 31), 2, "pending"),  # the last day of the convention: still possible
    (date(2028, 1, 1), 2, "failed"),     # the convention has ended without the third committee
    (date(2028, 1, 1), 4, "met"),
])
def test_commitment_over_the_convention(ti, at, held, status):
    r = report(ti, {"follow_up_committees_held": held}, at=at)
    row = by_id(r["reporting"], "follow_up_committees")
    assert row["status"] == status
    assert row["over"] == "convention"
    assert ("note" in row) == (status != "met")


def test_commitment_without_convention_end_stays_pending(ti):
    spec_end = ti.convention.end if ti.convention else None
    r = build_report(ti, {"id": "OP-T", "spec": ti.id, "follow_up_committees_held": 1}, [], date(2026, 6, 1), {})
    row = by_id(r["reporting"], "follow_up_committees")
    assert row["status"] == "pending"
    if spec_end is None:
        assert "inconnue" in row["note"]


# ------------------------------------------------------------------------- how each kind of commitment settles

COMMITMENTS_SPEC = """id: t
version: "1"
title: t
inputs:
  attributes:
    rsa: {type: boolean, label: r}
    hours: {type: integer, label: h}
  operation:
    committees_held: {type: integer, label: comités tenus}
    dashboards_sent: {type: integer, label: tableaux transmis}
    charter_signed: {type: boolean, label: charte signée}
    score: {type: number, label: note}
    convention_start: {type: date, label: début}
    convention_end: {type: date, label: fin}
reporting:
  - {id: committees, label: c, source: 03-travailleurs-independants.txt:76, over: convention,
     condition: committees_held >= 3,
     reachable: 'committees_held + months_between(today, convention_end) + 1 >= 3'}
  - {id: hours, label: h, source: 03-travailleurs-independants.txt:76, over: convention,
     condition: sum(participants.hours) >= 100}
  - {id: no_rsa, label: n, source: 03-travailleurs-independants.txt:76, over: convention,
     condition: count(participants where rsa) == 0}
  - {id: rsa_share, label: s, source: 03-travailleurs-independants.txt:76, over: convention,
     condition: count(participants where rsa) <= 50% * count(participants)}
  - {id: charter, label: ch, source: 03-travailleurs-independants.txt:76, over: convention, condition: charter_signed}
  - {id: dashboards, label: d, source: 03-travailleurs-independants.txt:76, over: convention,
     condition: dashboards_sent >= committees_held}
  - {id: score, label: sc, source: 03-travailleurs-independants.txt:76, over: convention, condition: score >= 0.8}
"""


@pytest.fixture(scope="module")
def commitments(tmp_path_factory):
    p = tmp_path_factory.mktemp("c") / "t.yaml"
    p.write_text(COMMITMENTS_SPEC, encoding="utf-8")
    return load_spec(str(p))


@pytest.mark.parametrize("text, kind", [
    ("committees_held >= 3", "at_least"),                   # a count of what was held: reached stays reached
    ("3 <= committees_held", "at_least"),
    ("committees_held > places", "at_least"),               # a bound fixed by the convention
    ("sum(participants.hours) >= 100", "at_least"),
    ("count(participants where rsa) + committees_held >= n", "at_least"),  # n: a parameter
    ("count(participants where rsa) == 0", "at_most"),     # kept at zero: one is enough to fail it
    ("committees_held <= 4", "at_most"),
    ("sum(participants.hours) < 100", "at_most"),
    ("count(participants where rsa) == 3", "at_end"),      # can be passed or not yet reached
    ("count(participants where rsa) <= 50% * count(participants)", "at_end"),  # a share of the cohort: a rate
    ("count(participants where rsa) / count(participants) >= 50%", "at_end"),
    ("avg(participants.hours) >= 10", "at_end"),
    ("dashboards_sent >= committees_held", "at_end"),      # both grow
    ("score >= 0.8", "at_end"),                            # a number, not a count: it can go down
    ("charter_signed", "at_end"),                          # a plain yes/no
    ("charter_signed and committees_held >= 3", "at_end"),
])
def test_how_a_commitment_settles(text, kind):
    from engine.expr.parser import parse
    from engine.operation.commitments import settles

    assert settles(parse(text), {"committees_held", "dashboards_sent", "places"}, {"n"}) == kind


MID, AFTER = date(2027, 4, 15), date(2028, 1, 15)  # the convention runs 2026-01-01 .. 2027-12-31


@pytest.mark.parametrize("item, op, cohort, at, status", [
    # a count to reach: met as soon as reached, pending while it can be, failed at the end
    ("committees", {"committees_held": 3}, [], MID, "met"),
    ("committees", {"committees_held": 1}, [], MID, "pending"),
    ("committees", {"committees_held": 1}, [], AFTER, "failed"),
    # reachable (here: at most one committee a month): on 2027-12-15, room for one more before the end
    ("committees", {"committees_held": 1}, [], date(2027, 12, 15), "failed"),
    ("committees", {"committees_held": 2}, [], date(2027, 12, 15), "pending"),
    ("committees", {"committees_held": 3}, [], date(2027, 12, 15), "met"),
    ("committees", {"committees_held": 1}, [], date(2027, 11, 15), "pending"),
    # a sum to reach, without `reachable:`: the engine cannot know how fast it can still grow
    ("hours", {}, [{"id": "a", "hours": 60}, {"id": "b", "hours": 40}], MID, "met"),
    ("hours", {}, [{"id": "a", "hours": 60}], date(2027, 12, 31), "pending"),
    ("hours", {}, [{"id": "a", "hours": 60}], AFTER, "failed"),
    # a count kept at zero: failed at once, met only once the convention has ended
    ("no_rsa", {}, [{"id": "a", "rsa": True}], MID, "failed"),
    ("no_rsa", {}, [{"id": "a", "rsa": False}], MID, "pending"),
    ("no_rsa", {}, [{"id": "a", "rsa": False}], AFTER, "met"),
    # a rate: judged at the end only, whichever way it stands today
    ("rsa_share", {}, [{"id": "a", "rsa": True}, {"id": "b", "rsa": False}], MID, "pending"),
    ("rsa_share", {}, [{"id": "a", "rsa": True}, {"id": "b", "rsa": True}], MID, "pending"),
    ("rsa_share", {}, [{"id": "a", "rsa": True}, {"id": "b", "rsa": False}], AFTER, "met"),
    ("rsa_share", {}, [{"id": "a", "rsa": True}, {"id": "b", "rsa": True}], AFTER, "failed"),
    # a plain yes/no cannot be judged before the end
    ("charter", {"charter_signed": True}, [], MID, "pending"),
    ("charter", {"charter_signed": False}, [], MID, "pending"),
    ("charter", {"charter_signed": True}, [], AFTER, "met"),
    ("charter", {"charter_signed": False}, [], AFTER, "failed"),
    ("charter", {}, [], MID, "unknown"),
    # two quantities that both grow, a score: at the end too
    ("dashboards", {"dashboards_sent": 2, "committees_held": 2}, [], MID, "pending"),
    ("dashboards", {"dashboards_sent": 1, "committees_held": 2}, [], AFTER, "failed"),
    ("score", {"score": 0.9}, [], MID, "pending"),
    ("score", {"score": 0.9}, [], AFTER, "met"),
])
def test_each_kind_of_commitment_settles_in_its_time(commitments, item, op, cohort, at, status):
    row = by_id(report(commitments, op, cohort, at)["reporting"], item)
    assert row["status"] == status
    assert row["over"] == "convention"
    if status == "pending":
        assert ("tenu à ce jour" in row["note"]) or ("pas" in row["note"])
    if status == "failed" and at < date(2027, 12, 31):
        assert "ne peut plus" in row["note"] or "ne permet plus" in row["note"]


def test_reachable_needs_a_commitment_over_the_convention(tmp_path):
    from engine.errors import SpecError

    p = tmp_path / "t.yaml"
    p.write_text(COMMITMENTS_SPEC.replace("over: convention,\n     condition: committees_held >= 3",
                                          "condition: committees_held >= 3"), encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(str(p))
    assert [d.code for d in e.value.diagnostics] == ["spec.reporting_over"]
    assert "reachable" in e.value.diagnostics[0].message


# --------------------------------------------------------------------------------------------- warnings

def meetings(n, year=2026):
    return [{"type": "departmental_meeting", "date": f"{year}-{m:02d}-01"} for m in range(1, n + 1)]


@pytest.mark.parametrize("n, status, severity", [
    (2, "unmet", None),       # 10:51 "3 à 4 fois par an": fewer than 3 in 2026 is not met
    (3, "met", None),
    (4, "met", None),
    (5, "met", "warning"),    # more than 4: signalled without blocking (the spec's max_severity: warning)
    (7, "met", "warning"),
])
def test_maximum_exceeded_is_a_warning(cs, n, status, severity):
    r = report(cs, {"events": meetings(n)}, at=date(2027, 1, 15))
    row = by_id(r["reporting"], "departmental_meetings")
    w0 = row["windows"][0]
    assert (w0["count"], w0["status"], w0.get("severity")) == (n, status, severity)
    assert row.get("severity") == severity
    assert bool(row.get("warnings")) == (severity is not None)


def test_warning_is_shown_in_every_format(cs):
    r = report(cs, {"events": meetings(5)}, at=date(2027, 1, 15))
    text = render(r, "text")
    assert "AVERTISSEMENT : 5 du 2026-01-01 au 2026-12-31, au-delà du maximum de 4" in text
    md = render(r, "markdown")
    label = next(x["label"] for x in r["reporting"] if x["id"] == "departmental_meetings")
    assert "| Libellé | Échéance | Statut | Source | Gravité |" in md
    assert any(line.startswith(f"| {label} |") and line.rstrip().endswith("| avertissement |")
               for line in md.splitlines())
    csv = render(r, "csv").splitlines()
    assert csv[0] == "section,id,label,value,status,source,severity"
    row = next(line for line in csv if ",departmental_meetings," in line)
    assert row.endswith(",warning")
    assert '"severity": "warning"' in render(r, "json")


def test_maximum_is_still_an_error_without_warning_severity():
    # a maximum without max_severity: one event more than allowed fails the window at once, before it ends
    from types import SimpleNamespace

    from engine.operation.record import recurring
    rule = SimpleNamespace(id="r", label=None, event="committee", where=None, every="year", min=1, max=1,
                           source=None, max_severity="error", partial_windows="skip", max_gap=None, before_each=None)
    ev = [{"type": "committee", "date": date.fromisoformat(d)} for d in ("2026-03-01", "2026-09-01")]
    row = recurring(rule, ev, date(2026, 1, 1), date(2027, 12, 31), date(2026, 10, 1))
    assert row["windows"][0]["status"] == "unmet" and "severity" not in row


def test_a_second_strategic_committee_is_signalled_not_failed(cs):
    # 10:44 « Une fois par an » sets a yearly rhythm: a second strategic committee is a warning, the year is met
    ev = [{"type": "strategic_committee", "date": d, "slai_present": True, "sie_present": True}
          for d in ("2026-03-01", "2026-09-01")]
    row = by_id(report(cs, {"events": ev}, at=date(2026, 10, 1))["reporting"], "strategic_committee")
    assert row["windows"][0]["status"] == "met" and row["severity"] == "warning"


# --------------------------------------------------------------------------------------------- flat rates that cover

def test_declared_other_costs_covered_by_the_flat_rate_are_excluded_with_the_reason(cs):
    # 10:90: the 40 % flat rate "pour couvrir les autres coûts restants": 60 000 staff -> 24 000 flat rate; the
    # 20 000 of other costs declared are not added: 84 000 eligible (not 104 000), Département 40 % FSE+ = 33 600
    op = {"fund": "fse_plus", "other_costs": 20000, "staff": [{"id": "F1", "role": "Facilitateur", "cost": 60000}]}
    fp = report(cs, op)["funding_plan"]
    assert fp["eligible_costs"] == D("84000.00")
    assert fp["other_costs"] == D("0.00") and fp["other_costs_declared"] == D("20000.00")
    assert "flat_rate_40" in fp["other_costs_excluded"]
    assert fp["max_grant"] == D("33600.00")
    assert "Autres dépenses : exclu : autres dépenses déclarées (20 000,00 €)" in render(report(cs, op), "text")


def test_no_conditional_part_total_is_the_grant(ti):
    # 03:117-130 no part of the grant is tied to objectives: the money due is the grant
    op = {"fund": "ftj", "grant_awarded": 29400, "staff": [{"id": "C1", "role": "Conseillère", "cost": 70000}]}
    r = report(ti, op)
    assert r["funding"]["parts"] == [] and r["funding"]["total"] == D("29400.00")


# --------------------------------------------------------------------------------------------- cohort at the date

@pytest.mark.parametrize("raw, entered", [
    ({"history": [{"phase": "entree", "date": "2026-03-02"}, {"phase": "sortie", "date": "2026-09-01"}]},
     date(2026, 3, 2)),
    ({"history": [{"phase": "b", "date": "2026-05-01"}, {"phase": "a", "date": "2026-04-01"}]}, date(2026, 4, 1)),
    ({"history": [], "entry_date": "2026-02-01"}, date(2026, 2, 1)),       # no history: the entry_date attribute
    ({"entry_date": "2026-02-30"}, None),                                  # not a date: unknown (kept)
    ({}, None),
    ({"history": "nope"}, None),
])
def test_entry_date(raw, entered):
    from engine.operation.indicators import entry_date

    assert entry_date(raw) == entered


@pytest.fixture(scope="module")
def nma():
    return load_spec(str(SPECS / "nouveaux-modes-accompagnement.yaml"))


def entrants(n_before, n_after, n_unknown=0):
    rows = [{"id": f"B{i}", "rsa": True, "birth_date": "1980-01-01",
             "history": [{"phase": "entree", "date": "2026-02-02"}]} for i in range(n_before)]
    rows += [{"id": f"L{i}", "rsa": True, "birth_date": "1980-01-01",
              "history": [{"phase": "entree", "date": "2026-09-01"}]} for i in range(n_after)]
    rows += [{"id": f"U{i}", "rsa": True, "birth_date": "1980-01-01"} for i in range(n_unknown)]
    return rows


@pytest.mark.parametrize("before, after, unknown", [(3, 0, 0), (3, 2, 0), (0, 2, 0), (2, 1, 1)])
def test_cohort_counts_only_those_entered_by_the_report_date(nma, before, after, unknown):
    # 09:119 "nombre de participants accueillis" at the report date (01/06/2026): entries of 01/09 are not counted
    r = report(nma, {}, entrants(before, after, unknown), at=date(2026, 6, 1))
    co = r["cohort"]
    assert co["participants"] == before + unknown
    assert co["left_out"]["not_entered"] == after
    assert co["read"] == before + after + unknown
    assert co["entry_unknown"] == unknown
    assert [x["id"] for x in co.get("not_entered_samples", [])] == [f"L{i}" for i in range(after)]
    assert by_id(r["indicators"], "participants_total")["value"] == before + unknown
    text = render(r, "text")
    assert f"{before + unknown} participants retenus (entrés au plus tard le 2026-06-01), {after} écartés" in text


def test_the_parallel_pass_leaves_out_the_same_records(nma, tmp_path):
    import json

    from engine.beneficiary.records import read_records

    rows = entrants(40, 25, 5)
    rows = [rows[i] for i in sorted(range(len(rows)), key=lambda i: (i * 37) % len(rows))]  # mixed order
    path = tmp_path / "c.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    op = {"id": "OP-T", "spec": nma.id, "convention_start": "2026-01-01", "convention_end": "2027-12-31"}
    at = date(2026, 6, 1)
    one = build_report(nma, op, read_records(str(path), spec=nma), at, {})
    from engine.operation.parts import report_from_parts
    from engine.run.cohort import report_parts

    two = report_from_parts(nma, op, report_parts(nma, op, str(path), at, {}, 3, chunk_bytes=700), at, {})
    for r in (one, two):
        co = r["cohort"]
        assert (co["participants"], co["left_out"]["not_entered"], co["entry_unknown"]) == (45, 25, 5)
    assert one["cohort"]["not_entered_samples"] == two["cohort"]["not_entered_samples"]
    assert one["indicators"] == two["indicators"]


# ------------------------------------------------------------------ a settled commitment stays settled (property)

from datetime import timedelta  # noqa: E402

from hypothesis import given, settings, strategies as st  # noqa: E402


@settings(max_examples=300, deadline=None)
@given(st.lists(st.integers(0, 3), min_size=1, max_size=12), st.integers(0, 8),
       st.sampled_from([">=", ">", "<=", "<", "=="]), st.integers(0, 14))
def test_a_settled_commitment_stays_settled_as_what_is_done_grows(steps, bound, op, end_index):
    # a cumulative quantity (committees held) grows month by month; the convention ends after month end_index
    from engine.expr.parser import parse
    from engine.operation.commitments import settle, settles

    text = f"committees_held {op} {bound}"
    kind = settles(parse(text), {"committees_held"})
    end = date(2026, 1, 1) + timedelta(days=31 * end_index)
    held, seen = 0, []
    holds_at_end = None
    for month, more in enumerate(steps):
        at = date(2026, 1, 1) + timedelta(days=31 * month)
        if at <= end:
            held += more  # nothing more is done once the convention has ended
        holds = {">=": held >= bound, ">": held > bound, "<=": held <= bound, "<": held < bound,
                 "==": held == bound}[op]
        if at <= end:
            holds_at_end = holds
        row = {"status": "passed" if holds else "failed"}
        settle(row, kind, end, at)
        seen.append(row["status"])
        if at > end:  # once ended: the condition as it stood at the end
            assert row["status"] == ("met" if holds_at_end else "failed")
    # never back from a settled status: met stays met, failed stays failed
    for a, b in zip(seen, seen[1:]):
        if a in ("met", "failed"):
            assert b == a, (text, kind, seen)


# --------------------------------------------------------------------------------------------- known at the report date

def test_a_participant_is_read_as_known_at_the_report_date():
    from engine.operation.indicators import as_of
    raw = {"id": "x", "history": [{"phase": "a", "date": "2026-02-01"}, {"phase": "b", "date": "2026-08-03"}],
           "events": [{"type": "e", "date": date(2026, 5, 1)}, {"type": "e", "date": "2026-09-01"},
                      {"type": "e", "date": "pas une date"}], "support_months": 4}
    got = as_of(raw, date(2026, 6, 1))
    assert [h["phase"] for h in got["history"]] == ["a"]
    assert [e["date"] for e in got["events"]] == [date(2026, 5, 1), "pas une date"]
    assert got["support_months"] == 4 and len(raw["history"]) == 2  # the record itself is not changed
    assert as_of(raw, date(2026, 12, 31)) is raw  # nothing after the date: the same record
# --------------------------------------------------------------------------------------------- unknown participants

def test_a_cohort_condition_is_decided_only_if_the_unknown_participants_cannot_change_it():
    from types import SimpleNamespace
    from engine.operation.report import decide_with_unknowns

    class Fn:
        def __init__(self, f):
            self.fn = f
    young = SimpleNamespace(key="y", func="count")
    everyone = SimpleNamespace(key="n", func="count")
    ce = SimpleNamespace(aggregates=(("_a0", young), ("_a1", everyone)),
                         rewritten=Fn(lambda env, at: env["_a0"] * 5 <= env["_a1"]))  # at most 20 % young
    # 1 young, 4 unknown of 5: 1..5 young -> undecided
    got = decide_with_unknowns(ce, True, 4, {}, {"y": 1, "n": 5}, {"y": 4, "n": 0}, None)
    assert got is not True and got is not False
    # 1 young, 1 unknown of 10: 1..2 young of 10 -> at most 20 % whatever the unknown one is
    assert decide_with_unknowns(ce, True, 1, {}, {"y": 1, "n": 10}, {"y": 1, "n": 0}, None) is True
    # a sum with unknowns has no two ends: undecided
    total = SimpleNamespace(key="s", func="sum")
    ce2 = SimpleNamespace(aggregates=(("_a0", total),), rewritten=Fn(lambda env, at: env["_a0"] >= 0))
    got = decide_with_unknowns(ce2, True, 1, {}, {"s": 3}, {"s": 1}, None)
    assert got is not True and got is not False
