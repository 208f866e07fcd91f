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
    assert "| section | id | libellé | valeur | statut | source | gravité |" in md
    assert any("departmental_meetings" in line and line.rstrip().endswith("| avertissement |")
               for line in md.splitlines())
    csv = render(r, "csv").splitlines()
    assert csv[0] == "section,id,label,value,status,source,severity"
    row = next(line for line in csv if ",departmental_meetings," in line)
    assert row.endswith(",warning")
    assert '"severity": "warning"' in render(r, "json")


def test_maximum_is_still_an_error_without_warning_severity(cs):
    # 10:44 one strategic committee a year: a second one is not met (max 1, default severity)
    ev = [{"type": "strategic_committee", "date": "2026-03-01"}, {"type": "strategic_committee", "date": "2026-09-01"}]
    row = by_id(report(cs, {"events": ev}, at=date(2026, 10, 1))["reporting"], "strategic_committee")
    assert row["windows"][0]["status"] == "unmet" and "severity" not in row


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
    from engine.operation.parts import report_from_parts, report_parts

    two = report_from_parts(nma, op, report_parts(nma, op, str(path), at, {}, 3, chunk_bytes=700), at, {})
    for r in (one, two):
        co = r["cohort"]
        assert (co["participants"], co["left_out"]["not_entered"], co["entry_unknown"]) == (45, 25, 5)
    assert one["cohort"]["not_entered_samples"] == two["cohort"]["not_entered_samples"]
    assert one["indicators"] == two["indicators"]
