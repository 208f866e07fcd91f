"""The sample operations and cohorts of specs/samples/ (tools/make_operation_samples.py): realistic data, and
`engine report` figures checked by hand from the source texts for two programmes.

The hand checks recount what they need from the sample files with plain Python (months of support, exits...), then
apply the rules of the text with the arithmetic written out; the figures in the comments are those of the committed
samples, so a regenerated sample that changes them is noticed here (read specs/samples/README.md)."""

import json
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.operation.report import build_report, load_operation
from engine.spec.compile import load_spec
from engine.beneficiary.evaluate import evaluate_record
from engine.beneficiary.records import read_records

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "specs" / "samples"
AT = date(2027, 4, 15)
PARAMS = {"dynamisation-des-parcours": {"min_barriers": "2"}, "coach-jeunesse": {"min_meetings_per_month": "1"},
          "logement-d-abord": {"min_difficulties": "2"}}
COHORTS = sorted(SAMPLES.glob("*.cohort.jsonl"))


def rows(pid):
    return [json.loads(line) for line in (SAMPLES / f"{pid}.cohort.jsonl").read_text().splitlines() if line.strip()]


def report(pid):
    spec = load_spec(str(ROOT / "specs" / f"{pid}.yaml"))
    path = str(SAMPLES / f"{pid}.cohort.jsonl")
    return build_report(spec, load_operation(str(SAMPLES / f"{pid}.operation.json")), read_records(path, spec=spec),
                        AT, PARAMS.get(pid, {}))


# --------------------------------------------------------------------------------------------- every sample

@pytest.mark.parametrize("cohort", COHORTS, ids=lambda p: p.name.split(".")[0])
def test_sample_cohorts_follow_the_programme(cohort):
    """An operation accompanies people it may accompany, on the programme's path: every participant is eligible
    and has a legal path at the report date (deadlines, guards, obligations), and no step of a path lies outside
    the convention."""
    pid = cohort.name.split(".")[0]
    spec = load_spec(str(ROOT / "specs" / f"{pid}.yaml"))
    op = load_operation(str(SAMPLES / f"{pid}.operation.json"))
    start = date.fromisoformat(op.get("convention_start") or spec.convention.start.isoformat())
    end = date.fromisoformat(op.get("convention_end") or spec.convention.end.isoformat())
    bad = []
    for rec in rows(pid):
        steps = [date.fromisoformat(h["date"]) for h in rec.get("history") or ()]
        if any(d < start or d > end for d in steps):
            bad.append((rec["id"], "step outside the convention"))
        out = evaluate_record(spec, json.loads(json.dumps(rec)), AT, PARAMS.get(pid, {}))
        if out.get("eligible") is not True:
            bad.append((rec["id"], "not eligible", out.get("missing")))
        elif not out["path"]["legal"]:
            bad.append((rec["id"], out["path"]["violations"][0]["code"]))
    assert bad == []


@pytest.mark.parametrize("cohort", COHORTS, ids=lambda p: p.name.split(".")[0])
def test_sample_numbers_are_plausible(cohort):
    pid = cohort.name.split(".")[0]
    data = rows(pid)
    for rec in data:
        hist = rec.get("history") or []
        if "support_months" in rec:  # whole months between entering the second phase and leaving (or AT)
            assert 0 <= rec["support_months"] <= 24, rec["id"]
            if len(hist) > 1:
                d0 = date.fromisoformat(hist[1]["date"])
                d1 = min(AT, date.fromisoformat(hist[-1]["date"]) if len(hist) > 2 else AT)
                assert rec["support_months"] <= (d1.year - d0.year) * 12 + d1.month - d0.month, rec["id"]
        if rec.get("exit_type") is not None or rec.get("exit_date") is not None:
            assert len(hist) >= 2, rec["id"]  # an exit only for someone who left
    # at most 20 % young people aged 18-25 at the report date where the text caps them (05:17, 07, 08, 09)
    if "20% * count(participants)" not in (ROOT / "specs" / f"{pid}.yaml").read_text():
        return
    young = 0
    for rec in data:
        if rec.get("birth_date"):
            b = date.fromisoformat(rec["birth_date"])
            age = AT.year - b.year - ((AT.month, AT.day) < (b.month, b.day))
            young += 18 <= age <= 25
    assert young <= D("0.2") * len(data)


@pytest.mark.parametrize("op", sorted(SAMPLES.glob("*.operation.json")), ids=lambda p: p.name.split(".")[0])
def test_sample_operations_conform_and_fit_their_capacity(op):
    pid = op.name.split(".")[0]
    r = report(pid)
    assert r["funding_plan"]["conforming"] is True
    assert r["missing_parameters"] == []
    for c in r["capacity"]:
        # the staff's places per ETP, or the posts, are not exceeded by the participants in progress
        assert c["status"] == "passed", c
        if c["limit"] == "maximum" or c["per_fte"] is None:
            assert c["actual"] is not None and c["actual"] <= c["capacity"], c


# --------------------------------------------------------------------------------------------- 05 chantiers d'insertion

def test_chantiers_insertion_sample_by_hand():
    r = report("chantiers-insertion")
    data = rows("chantiers-insertion")
    fp = r["funding_plan"]
    # staff (05:79): two technical supervisors 76 000 + 76 000 over the 24 months, the CIP half time 40 000 (50 % >=
    # the 30 % minimum allocation); the director is a support function, excluded -> 192 000
    assert fp["direct_staff_costs"] == D("192000.00")
    assert [s["status"] for s in fp["staff"]] == ["passed", "passed", "passed", "excluded"]
    # indirect costs 15 % of direct staff costs (05:80): 28 800 -> eligible costs 220 800
    assert fp["eligible_costs"] == D("220800.00")
    # Département 30 % of the total financing (05:90): 30 % x 220 800 = 66 240, the financing plan's line
    assert fp["department_share"]["expected"] == D("66240.00") and fp["department_share"]["status"] == "passed"
    # cap 375 EUR per participant-month (05:88) on the conventioned volume: 375 x 10 posts x 24 months = 90 000
    assert [c["amount"] for c in fp["caps"] if c["on"] == "grant"] == [D("90000.00")]
    # maximum grant = min(66 240, 90 000) = 66 240, awarded 66 240
    assert fp["max_grant"] == D("66240.00") and fp["grant"] == D("66240.00")

    # the cohort: 23 participants; months of support (CRE) recounted from the file: 123
    months = sum(x["support_months"] for x in data)
    assert len(data) == 23 and months == 123
    # sorties dynamiques as the ACI list (05:120-123), with their proof (05:115): 7
    dynamic = {"cdi", "cdd_6_months_or_more", "mission_6_months_or_more", "business_creation", "civil_service",
               "professionalisation_or_apprenticeship", "independent_activity", "cdd_under_6_months",
               "mission_under_6_months", "aided_contract_cdd", "qualifying_training", "siae_hiring",
               "other_positive_exit"}
    exits = sum(1 for x in data if x.get("exit_type") in dynamic and x.get("exit_proof_provided"))
    assert exits == 7
    # 10 posts: 9 people in a CDDI at 15/04/2027 (one post between two participants)
    in_post = sum(1 for x in data if [h["phase"] for h in x["history"]][-1] == "parcours")
    assert in_post == 9 and r["capacity"][0]["actual"] == 9 and r["capacity"][0]["capacity"] == 10
    # at most 20 % young people (05:17): 4 aged 18-25 at their entry, of the 22 who entered the operation = 18.18 %
    # (ACI-011 was positioned, then gave up before entering: not a participant, 05:19)
    ind = {x["id"]: x for x in r["indicators"]}
    assert (ind["youth_share"]["numerator"], ind["youth_share"]["denominator"]) == (4, 22)
    assert ind["participants_total"]["value"] == 22
    assert {x["id"]: x["status"] for x in r["constraints"]} == {"youth_share": "passed",
                                                                 "slai_validated_before_entry": "passed"}
    assert ind["support_months_total"]["value"] == months and ind["dynamic_exits"]["value"] == exits

    # conditional funding (05:84-86), parts of 66 240:
    #   months 90 % = 59 616; objective posts x 12 a year = 10 x 24 = 240; 123 / 240 = 51.25 % -> 30 553.20
    #   sorties dynamiques 5 % = 3 312; objective 0.45 x 10 = 4.5; 7 >= 4.5 -> 100 % -> 3 312.00
    #   quality référentiel 5 % = 3 312 x 3/4 (3 of its 4 themes respected, 05:40-44) = 2 484.00
    #   total 36 349.20, below the realised cap 375 x 123 = 46 125
    parts = {p["id"]: p for p in r["funding"]["parts"]}
    assert parts["support_months"]["objective"] == 240 and parts["support_months"]["ratio"] == D("0.5125")
    assert [p["amount"] for p in r["funding"]["parts"]] == [D("30553.20"), D("3312.00"), D("2484.00")]
    assert r["funding"]["total"] == D("36349.20") and "cap_applied" not in r["funding"]
    # payments (05:96-98): advance 30 % x 66 240 = 19 872; installment at most 50 % = 33 120, limited to what is
    # earned: 36 349.20 - 19 872 = 16 477.20; balance (bilan final due 31/03/2028) 36 349.20 - 36 349.20 = 0
    t = r["payments"]["tranches"]
    assert [x["planned"] for x in t] == [D("19872.00"), D("33120.00"), D("13248.00")]
    assert [x["amount"] for x in t] == [D("19872.00"), D("16477.20"), D("0.00")]
    assert [x["status"] for x in t] == ["due", "due", "awaiting_review"]
    assert r["payments"]["due_at"] == D("36349.20")


# --------------------------------------------------------------------------------------------- 11 logement d'abord

def test_logement_d_abord_sample_by_hand():
    r = report("logement-d-abord")
    data = rows("logement-d-abord")
    fp = r["funding_plan"]
    # one coordinator, full time, dedicated post (11:37): 57 000 + 5 270 Ségur valuation = 62 270
    assert fp["direct_staff_costs"] == D("62270.00") and fp["eligible_costs"] == D("62270.00")
    # 40 % of the post (11:25) = 24 908, capped at 22 800 per ETP for 12 months (11:94), plus Ségur 5 270 for a
    # full-time post: min(24 908, 22 800) + 5 270 = 28 070 = maximum grant = grant awarded
    assert [c["amount"] for c in fp["caps"]] == [D("28070.00")]
    assert fp["max_grant"] == D("28070.00") and fp["grant"] == D("28070.00")
    assert {x["id"]: x["status"] for x in fp["rules"]} == {"dedicated_post": "passed", "budget_adopted": "passed",
                                                           "fse_plus": "passed"}
    # 1 ETP per platform (11:24): 1 post, 1 ETP
    assert (r["capacity"][0]["capacity"], r["capacity"][0]["actual"]) == (1, 1)
    # payments (11:100-101): advance 60 % = 16 842 at signature; annual balance 40 % = 11 228, released by the
    # activity report (service fait) of 18/12/2026; 16 842 + 11 228 = 28 070
    t = r["payments"]["tranches"]
    assert [(x["amount"], x["status"]) for x in t] == [(D("16842.00"), "due"), (D("11228.00"), "due")]
    assert t[1]["due_date"] == date(2026, 12, 18) and r["payments"]["due_at"] == D("28070.00")
    # the convention is 2026 (11:90): every step of every path is in 2026
    assert all(h["date"].startswith("2026-") for x in data for h in x["history"])
    # 30 situations referred; 25 supported, each after a referent was designated (11:49), 5 orientations not
    # validated; every support has its reviews transmitted (11:105)
    supported = [x for x in data if any(h["phase"] == "accompagnement" for h in x["history"])]
    assert len(data) == 30 and len(supported) == 25
    for x in supported:
        start = next(h["date"] for h in x["history"] if h["phase"] == "accompagnement")
        assert any(e["type"] == "referent_designation" and e["date"] <= start for e in x["events"])
    # a commitment over the convention (over: convention), which ended on 31/12/2026 with no review missed: met
    rep = {x["id"]: x["status"] for x in r["reporting"]}
    # the annual activity report is the final review (11:107-108): submitted on 18/12/2026, it releases the balance
    assert rep == {"annual_activity_report": "submitted", "support_reviews_transmitted": "met"}
    # indicators (11:112-114) declared by the operator; positive exits (11:105) recounted: 3
    ind = {x["id"]: x["value"] for x in r["indicators"]}
    assert (ind["solicitations_count"], ind["coordination_meetings_count"], ind["fluidity_commissions_count"]) == \
        (64, 11, 10)
    assert ind["exits_by_reason"] == sum(1 for x in data if x.get("exit_reason") == "positive") == 3


def test_the_report_page_shows_the_real_report_of_the_chantiers_sample(capsys):
    from engine.cli.main import main

    rc = main(["report", "--spec", str(ROOT / "specs" / "chantiers-insertion.yaml"), "--operation",
               str(SAMPLES / "chantiers-insertion.operation.json"), "--records",
               str(SAMPLES / "chantiers-insertion.cohort.jsonl"), "--at", "2027-04-15"])
    assert rc == 0
    out = capsys.readouterr().out
    page = (ROOT / "docs" / "report.md").read_text(encoding="utf-8")
    start = page.index("```\nOpération OP-chantiers-insertion-2026-001") + 4
    assert page[start:page.index("```\n", start)] == out
