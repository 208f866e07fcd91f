"""Operations and cohorts end to end (engine/operation/compile.py + engine/operation/report.py + engine/operation/indicators.py), on small specs in
tests/data/ops/ written from the texts. Expected figures are computed by hand in the comments."""

import json
import re
from datetime import date
from decimal import Decimal as D
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine.operation.report import build_report, load_operation
from engine.spec.compile import load_spec
from engine.errors import EngineError, RecordError, SpecError
from engine.beneficiary.records import BadRecord
from yamlkit import read_yaml, yaml_text

OPS = Path(__file__).parent / "data" / "ops"


def spec(name):
    return load_spec(str(OPS / f"{name}.yaml"))


def items(rows):
    return [(i + 1, dict(r)) for i, r in enumerate(rows)]


def by_id(rows, id_):
    return next(r for r in rows if r["id"] == id_)


@pytest.fixture(scope="module")
def aci():
    return spec("aci")


def aci_cohort():
    return [json.loads(line) for line in (OPS / "aci.cohort.jsonl").read_text().splitlines()]


# --------------------------------------------------------------------------------------------- chantier d'insertion

def test_chantier_insertion_report(aci):
    # 10 posts over 12 months (05:84-88); cohort: 12 participants x 9 months = 108 months, 3 dynamic exits,
    # 2 young people of 12; grant awarded 45 000
    r = build_report(aci, load_operation(str(OPS / "aci.operation.json")), items(aci_cohort()), date(2027, 4, 15))
    assert r["operator"]["eligible"] is True
    fp = r["funding_plan"]
    # staff 55 000 + 55 000 + 40 000 = 150 000 (the director, a support function, is excluded: 05:79)
    assert fp["direct_staff_costs"] == D("150000.00")
    assert [s["status"] for s in fp["staff"]] == ["passed", "passed", "passed", "excluded"]
    # + 15 % indirect costs (05:80) = 22 500 -> 172 500; Département 30 % (05:90) = 51 750, declared 51 750
    assert fp["eligible_costs"] == D("172500.00")
    assert fp["department_share"]["expected"] == D("51750.00")
    assert fp["department_share"]["status"] == "passed"
    # cap 375 x 10 posts x 12 months = 45 000 < 51 750 (05:88)
    assert fp["max_grant"] == D("45000.00") and fp["max_grant_binding"] == "per_participant_month"
    assert fp["conforming"] is True
    ind = {x["id"]: x["value"] for x in r["indicators"]}
    assert ind["participants_count"] == 12 and ind["brsa"] == 10
    assert ind["support_months_total"] == 108 and ind["dynamic_exits"] == 3
    assert ind["youth_share"] == D("0.1667")  # 2 / 12, shown to 4 decimals
    assert ind["avg_months"] == 9
    assert {x["id"]: x["status"] for x in r["constraints"]} == {"youth_share": "passed", "slai": "passed"}
    # conditional (05:84-86): 40 500 x 108/120 = 36 450; 2 250 x 3/4.5 = 1 500; quality 2 250 -> 40 200
    f = r["funding"]
    assert [p["amount"] for p in f["parts"]] == [D("36450.00"), D("1500.00"), D("2250.00")]
    assert [p["objective"] for p in f["parts"]] == [120, D("4.5"), 1]
    assert f["total"] == D("40200.00")
    assert "cap_applied" not in f  # 375 x 108 = 40 500 >= 40 200
    # payments 30/50/20 (05:96-98): 13 500 + 22 500 + (40 200 - 36 000 = 4 200)
    p = r["payments"]
    assert [t["amount"] for t in p["tranches"]] == [D("13500.00"), D("22500.00"), D("4200.00")]
    assert [t["status"] for t in p["tranches"]] == ["due", "due", "review_late"]
    assert p["total"] == D("40200.00") and p["due_at"] == D("36000.00")
    # reviews: intermediate 31/03/2027 submitted 20/03; final = 31/12/2026 + 3 months = 31/03/2027, not submitted
    rep = {x["id"]: x for x in r["reporting"]}
    assert rep["intermediate_review"]["status"] == "submitted"
    assert rep["final_review"]["due"] == date(2027, 3, 31) and rep["final_review"]["status"] == "late"


def test_chantier_insertion_realised_cap_and_missing_score(aci):
    # 100 months only (10 x 10): 40 500 x 100/120 = 33 750; exits 3 -> 1 500; quality unknown (not declared):
    # the quality part and the total are unknown; nothing is invented
    rows = aci_cohort()[:10]
    for r in rows:
        r["support_months"] = 10
    op = load_operation(str(OPS / "aci.operation.json"))
    del op["quality_referential_met"]
    r = build_report(aci, op, items(rows), date(2027, 4, 15))
    parts = r["funding"]["parts"]
    assert parts[0]["amount"] == D("33750.00") and parts[2]["amount"] is None
    assert r["funding"]["total"] is None
    assert r["payments"]["tranches"][1]["amount"] is None
    # with the score declared met: 33 750 + 1 500 + 2 250 = 37 500; the realised cap 375 x 100 = 37 500: equal,
    # so not lowered
    op["quality_referential_met"] = True
    r = build_report(aci, op, items(rows), date(2027, 4, 15))
    assert r["funding"]["total"] == D("37500.00") and "cap_applied" not in r["funding"]


def test_staff_allocated_25_percent_refused_in_report(aci):
    op = load_operation(str(OPS / "aci.operation.json"))
    op["staff"] = op["staff"][:3] + [{"id": "C2", "role": "CIP", "cost": 10000, "allocation": 0.25}]
    r = build_report(aci, op, items(aci_cohort()), date(2027, 4, 15))
    fp = r["funding_plan"]
    assert by_id(fp["staff"], "C2")["status"] == "failed"
    assert fp["min_staff_allocation"]["status"] == "failed"
    assert fp["conforming"] is False
    assert fp["direct_staff_costs"] == D("150000.00")  # the 10 000 are not eligible


def test_youth_share_constraint_counts_unknowns(aci):
    rows = aci_cohort()
    rows[5].pop("birth_date")  # unknown age: 2 young of 12 known, 3 of 12 (25 %) if this one is young
    r = build_report(aci, load_operation(str(OPS / "aci.operation.json")), items(rows), date(2027, 4, 15))
    c = by_id(r["constraints"], "youth_share")
    assert c["status"] == "unknown" and c["unknown"] == 1  # the unknown age could break the 20 % cap


def test_bad_records_are_counted_never_lost(aci):
    rows = items(aci_cohort())
    rows.append((13, BadRecord("json", "ligne illisible")))
    rows.append((14, {"id": "P99", "birth_date": "2026-02-30"}))  # invalid date: cannot be bound
    r = build_report(aci, load_operation(str(OPS / "aci.operation.json")), rows, date(2027, 4, 15))
    assert r["cohort"]["participants"] == 12 and r["cohort"]["errors"] == 2
    assert [e["line"] for e in r["cohort"]["error_samples"]] == [13, 14]


def test_operator_not_eligible_with_reasons(aci):
    op = load_operation(str(OPS / "aci.operation.json"))
    op["legal_form"] = "company"
    del op["cdiae_agreement_all_sites"]
    r = build_report(aci, op, items(aci_cohort()), date(2027, 4, 15))
    # all(association false, cdiae unknown) = false (Kleene): not eligible whatever the agreement
    assert r["operator"]["eligible"] is False
    assert [x["value"] for x in r["operator"]["reasons"]] == [False, None]


def test_operation_for_another_spec_is_refused(aci):
    op = load_operation(str(OPS / "aci.operation.json"))
    op["spec"] = "mobilite"
    with pytest.raises(RecordError) as e:
        build_report(aci, op, [], date(2027, 4, 15))
    assert "mobilite" in e.value.format()


@pytest.mark.parametrize("staff,message", [
    ("x", "« staff » doit être une liste"),
    ([{"id": "A"}], "« cost »"),
    ([{"id": "A", "cost": 100, "allocation": 1.5}], "entre 0"),
    ([{"id": "A", "cost": "beaucoup"}], "un nombre est attendu"),
])
def test_bad_operation_records(aci, staff, message):
    op = load_operation(str(OPS / "aci.operation.json"))
    op["staff"] = staff
    with pytest.raises(RecordError) as e:
        build_report(aci, op, [], date(2027, 4, 15))
    assert message in e.value.format()


# --------------------------------------------------------------------------------------------- mobilité

def mobility_cohort(young: int, total: int = 20):
    # young: born 2004 (21 or 22 at entry in 2026); others born 1980
    return [{"id": f"M{i}", "birth_date": "2004-03-01" if i < young else "1980-03-01", "entry_date": "2026-03-01",
             "rsa": i >= young, "mobility_solution": i % 2 == 0, "support_days": 30 + i} for i in range(total)]


@pytest.mark.parametrize("young,status", [
    (5, "failed"),   # 5 / 20 = 25 % > 20 % (07:12): refused
    (4, "passed"),   # 4 / 20 = 20 %: at most 20 %, accepted
    (0, "passed"),
])
def test_mobility_youth_share(young, status):
    s = spec("mobility")
    r = build_report(s, {"id": "OP-MOB", "spec": "test-mobilite"}, items(mobility_cohort(young)), date(2026, 12, 31))
    assert by_id(r["constraints"], "youth_share")["status"] == status
    ind = {x["id"]: x["value"] for x in r["indicators"]}
    assert ind["brsa"] == 20 - young
    assert ind["solutions"] == 10
    # days 30..49: average 39.5
    assert ind["avg_days"] == D("39.5")


@pytest.mark.parametrize("indirect,status", [
    # 07:69: indirect costs at most 40 % of (staff 50 000 + operating 10 000) = 24 000, services excluded
    (24000, "passed"), (24000.01, "failed"), (None, "unknown"),
])
def test_mobility_indirect_costs_rule(indirect, status):
    s = spec("mobility")
    op = {"id": "OP-MOB", "staff_costs_declared": 50000, "operating_costs": 10000, "service_costs": 30000}
    if indirect is not None:
        op["indirect_costs"] = indirect
    r = build_report(s, op, [], date(2026, 12, 31))
    assert by_id(r["funding_plan"]["rules"], "indirect_40")["status"] == status


# --------------------------------------------------------------------------------------------- clauses sociales

def clauses_op(fund, territory, declared=None):
    op = {"id": "OP-CS", "fund": fund, "territory": territory, "convention_start": "2026-01-01",
          "convention_end": "2027-12-31", "signature_date": "2026-02-01",
          "staff": [{"id": "A", "cost": 45000}, {"id": "B", "cost": 20000, "allocation": "50%"}]}
    if declared is not None:
        op["financing"] = {"departement": declared, "ftj" if fund == "ftj" else "fse_plus": 91000 - declared}
    return op


@pytest.mark.parametrize("fund,territory,eligible,rate,expected", [
    # staff 45 000 + 20 000 = 65 000; flat 40 % = 26 000; total 91 000 (10:87-90)
    ("ftj", "lens-lievin", True, "0.3", "27300.00"),     # FTJ in the Bassin Minier: 30 % (10:94)
    ("fse_plus", "calaisis", True, "0.4", "36400.00"),   # FSE+ outside: 40 % (10:93)
    ("ftj", "calaisis", False, None, None),              # FTJ outside the Bassin Minier: no share, not eligible
])
def test_clauses_sociales_share_by_fund_and_territory(fund, territory, eligible, rate, expected):
    r = build_report(spec("clauses"), clauses_op(fund, territory), [], date(2026, 3, 1))
    assert r["operator"]["eligible"] is eligible
    ds = r["funding_plan"]["department_share"]
    assert ds["rate"] == (None if rate is None else D(rate))
    assert ds["expected"] == (None if expected is None else D(expected))
    if expected is not None:
        assert r["funding_plan"]["max_grant"] == D(expected)


def test_ftj_lens_lievin_declared_share_and_payments():
    # declared 27 300 of a 91 000 plan: conforming; grant = max grant 27 300; 30/50/20 planned:
    # 8 190 + 13 650 + 5 460 = 27 300; no conditional part: amounts = planned
    r = build_report(spec("clauses"), clauses_op("ftj", "lens-lievin", 27300), [], date(2026, 3, 1))
    ds = r["funding_plan"]["department_share"]
    assert ds["declared"] == D("27300.00") and ds["status"] == "passed"
    p = r["payments"]["tranches"]
    assert [t["planned"] for t in p] == [D("8190.00"), D("13650.00"), D("5460.00")]
    assert [t["status"] for t in p] == ["due", "awaiting_review", "awaiting_review"]
    # final review due 31/12/2027 + 3 months = 31/03/2028 (10:116)
    assert by_id(r["reporting"], "final_review")["due"] == date(2028, 3, 31)
    r2 = build_report(spec("clauses"), clauses_op("ftj", "lens-lievin", 30000), [], date(2026, 3, 1))
    assert r2["funding_plan"]["department_share"]["status"] == "failed"
    assert r2["funding_plan"]["conforming"] is False


# --------------------------------------------------------------------------------------------- Logement d'abord

@pytest.mark.parametrize("cost,work_time,grant,advance,balance", [
    # full time, cost 72 000: 40 % = 28 800 > cap 22 800 x 12/12 + 5 270 = 28 070 (11:94); 60 % advance (11:100)
    # 28 070 x 0.6 = 16 842; balance 11 228
    (72000, 1, "28070.00", "16842.00", "11228.00"),
    # 0.8 ETP costing 50 000: 40 % = 20 000 < cap (22 800 + 5 270) x 0.8 = 22 456: 20 000; 12 000 + 8 000
    (50000, "0.8", "20000.00", "12000.00", "8000.00"),
])
def test_logement_d_abord_coordinator(cost, work_time, grant, advance, balance):
    s = spec("lda")
    op = {"id": "OP-LDA", "signature_date": "2026-02-01",
          "staff": [{"id": "COORD", "role": "Coordinateur", "cost": cost, "work_time": work_time}]}
    r = build_report(s, op, [], date(2026, 6, 1))
    assert r["funding_plan"]["max_grant"] == D(grant)
    t = r["payments"]["tranches"]
    assert [x["amount"] for x in t] == [D(advance), D(balance)]
    assert [x["status"] for x in t] == ["due", "awaiting_review"]
    assert sum(x["amount"] for x in t) == D(grant)


# --------------------------------------------------------------------------------------------- compile errors

def _compile_text(tmp_path, body):
    p = tmp_path / "s.yaml"
    p.write_text("id: t\nversion: \"1\"\ntitle: t\ninputs:\n  attributes:\n    rsa: {type: boolean, label: r}\n"
                 + body, encoding="utf-8")
    return str(p)


@pytest.mark.parametrize("body,needle", [
    ("indicators:\n  - {id: n, label: n, source: 05-chantiers-insertion.txt:17, value: 'participants'}\n", "can only be used inside"),
    ("indicators:\n  - {id: n, label: n, source: 05-chantiers-insertion.txt:17, value: 'count(participants where rsaa)'}\n", "rsaa"),
    ("cohort_constraints:\n  - {id: c, label: c, source: 05-chantiers-insertion.txt:17, condition: 'count(participants)'}\n", "oui/non"),
    ("payments:\n  - {id: a, label: a, source: 05-chantiers-insertion.txt:17, share: 30%, due: bilan_x}\n", "neither `signature` nor a reporting id"),
    ("payments:\n  - {id: a, label: a, source: 05-chantiers-insertion.txt:17, share: advance_shar, due: signature}\n", "advance_shar"),
    ("funding:\n  conditional:\n    - {id: p, label: p, source: 05-chantiers-insertion.txt:17, weight: 40%, achieved: '1', mode: progressive}\n",
     "proportional, threshold"),
    ("indicators:\n  - {id: fte, label: n, source: 05-chantiers-insertion.txt:17, value: 'count(participants)'}\n", "hides"),
    ("funding:\n  conditional:\n    - {id: a, label: a, source: 05-chantiers-insertion.txt:17, weight: 40%, achieved: '1'}\n"
     "    - {id: b, label: b, source: 05-chantiers-insertion.txt:17, weight: 50%, achieved: '1'}\n", "add up to 90 %, not 100 %"),
    ("payments:\n  - {id: a, label: a, source: 05-chantiers-insertion.txt:17, share: 60%, due: signature}\n  - {id: b, label: b, source: 05-chantiers-insertion.txt:17, share: 50%, due: signature}\n",
     "more than 100 %"),
])
def test_section_errors_are_positioned(tmp_path, body, needle):
    with pytest.raises(SpecError) as e:
        load_spec(_compile_text(tmp_path, body))
    text = e.value.format()
    assert needle in text
    assert "s.yaml:" in text  # file and line


def test_french_aggregate_names_are_streamed(tmp_path):
    p = _compile_text(tmp_path, "indicators:\n  - {id: n, label: n, source: 05-chantiers-insertion.txt:17, value: 'nombre(participants where rsa)'}\n")
    s = load_spec(p)
    r = build_report(s, {"id": "o"}, items([{"id": "a", "rsa": True}, {"id": "b", "rsa": False}]), date(2026, 1, 1))
    assert r["indicators"][0]["value"] == 1


def test_indicators_can_use_earlier_indicators(tmp_path):
    p = _compile_text(tmp_path, "indicators:\n  - {id: n, label: n, source: 05-chantiers-insertion.txt:17, value: 'count(participants where rsa)'}\n"
                                "  - {id: m, label: m, source: 05-chantiers-insertion.txt:17, value: 'n * 2 + count(participants)'}\n")
    s = load_spec(p)
    r = build_report(s, {"id": "o"}, items([{"id": "a", "rsa": True}, {"id": "b", "rsa": False}]), date(2026, 1, 1))
    assert [x["value"] for x in r["indicators"]] == [1, 4]


def test_rate_with_zero_denominator_is_unknown(tmp_path):
    p = _compile_text(tmp_path, "indicators:\n  - {id: r, label: r, source: 05-chantiers-insertion.txt:17, numerator: 'count(participants where rsa)', "
                                "denominator: 'count(participants)', numerator_label: BRSA, denominator_label: Participants}\n")
    r = build_report(load_spec(p), {"id": "o"}, [], date(2026, 1, 1))
    assert r["indicators"][0]["value"] is None and r["indicators"][0]["note"] == "dénominateur nul"


def test_a_rate_must_say_what_it_counts(tmp_path):
    # every rate documents its numerator and denominator in French beside its source (spec.rate_undocumented)
    p = _compile_text(tmp_path, "indicators:\n  - {id: r, label: r, source: 05-chantiers-insertion.txt:17, "
                                "numerator: 'count(participants where rsa)', denominator: 'count(participants)', "
                                "numerator_label: BRSA}\n")
    with pytest.raises(SpecError) as e:
        load_spec(p)
    codes = [d.code for d in e.value.diagnostics]
    assert codes == ["spec.rate_undocumented"]
    assert "dénominateur" in e.value.diagnostics[0].message


def test_evaluation_error_in_an_objective_makes_the_part_unknown(tmp_path):
    # posts / (posts - posts): a division by zero at run time; the part is unknown, the report still comes out
    p = tmp_path / "s.yaml"
    p.write_text("id: t\nversion: \"1\"\ntitle: t\ninputs:\n  operation:\n    posts: {type: integer, label: p}\n"
                 "    grant_awarded: {type: number, label: g}\nfunding:\n  conditional:\n"
                 "    - {id: a, label: a, source: 05-chantiers-insertion.txt:17, weight: 100%, objective: 'posts / (posts - posts)', "
                 "achieved: 'count(participants)'}\n", encoding="utf-8")
    r = build_report(load_spec(str(p)), {"id": "o", "posts": 3, "grant_awarded": 1000}, items([{"id": "a"}]),
                     date(2026, 1, 1))
    assert r["funding"]["parts"][0]["amount"] is None and r["funding"]["total"] is None


@pytest.mark.parametrize("kind,target,status", [
    ("above", "50%", "failed"),     # 1 of 2 = 50 %: not strictly above (« la majorité », 01:89)
    ("at_least", "50%", "passed"),
    ("below", "0.6", "passed"),
    ("at_most", "0.4", "failed"),
])
def test_indicator_targets(tmp_path, kind, target, status):
    p = _compile_text(tmp_path, "indicators:\n  - {id: r, label: r, source: 05-chantiers-insertion.txt:17, numerator: 'count(participants where rsa)', "
                                f"denominator: 'count(participants)', numerator_label: BRSA, denominator_label: Participants, "
                                f"target: {target}, target_kind: {kind}}}\n")
    r = build_report(load_spec(p), {"id": "o"}, items([{"id": "a", "rsa": True}, {"id": "b", "rsa": False}]),
                     date(2026, 1, 1))
    assert r["indicators"][0]["value"] == D("0.5")
    assert r["indicators"][0]["status"] == status


def test_participant_expressions_can_read_the_beneficiary_evaluation(tmp_path):
    # `eligible` and `current_phase` are what `engine evaluate` says of each participant at the report date
    p = tmp_path / "s.yaml"
    p.write_text(
        "id: t\nversion: \"1\"\ntitle: t\ninputs:\n  attributes:\n    rsa: {type: boolean, label: r}\n"
        "eligibility:\n  beneficiary: {id: brsa, label: BRSA, condition: rsa, source: \"05-chantiers-insertion.txt:15\"}\n"
        "phases:\n  entree: {label: Entrée, initial: true, source: \"05-chantiers-insertion.txt:19\"}\n"
        "  sortie: {label: Sortie, final: true, source: \"05-chantiers-insertion.txt:120\"}\n"
        "transitions:\n  - {from: entree, to: sortie, label: Sortie, source: \"05-chantiers-insertion.txt:120\"}\n"
        "indicators:\n  - {id: eligibles, label: e, source: 05-chantiers-insertion.txt:17, value: 'count(participants where eligible)'}\n"
        "  - {id: unknown_eligibility, label: u, source: 05-chantiers-insertion.txt:17, value: 'count(participants where not eligible)'}\n"
        "  - {id: exited, label: s, source: 05-chantiers-insertion.txt:17, value: 'count(participants where current_phase == \"sortie\")'}\n",
        encoding="utf-8")
    rows = [{"id": "a", "rsa": True, "history": [{"phase": "entree", "date": "2026-01-10"}]},
            {"id": "b", "rsa": False, "history": [{"phase": "entree", "date": "2026-01-10"},
                                                  {"phase": "sortie", "date": "2026-05-10"}]},
            {"id": "c", "history": [{"phase": "entree", "date": "2026-02-10"}]}]
    r = build_report(load_spec(str(p)), {"id": "o"}, items(rows), date(2026, 6, 1))
    ind = {x["id"]: x for x in r["indicators"]}
    assert ind["eligibles"]["value"] == 1
    assert ind["unknown_eligibility"]["value"] == 1 and ind["unknown_eligibility"]["unknown"] == 1  # c: rsa missing
    assert ind["exited"]["value"] == 1


_json = st.recursive(st.none() | st.booleans() | st.integers(-10 ** 6, 10 ** 6) | st.text(max_size=8)
                     | st.floats(allow_nan=False, allow_infinity=False),
                     lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=6), c, max_size=3),
                     max_leaves=10)
_keys = st.sampled_from(["id", "spec", "staff", "financing", "events", "posts", "grant_awarded", "legal_form",
                         "convention_start", "convention_end", "signature_date", "fund", "quality_referential_met",
                         "intermediate_review_date", "cdiae_agreement_all_sites"])


def _blamed_key(e: RecordError) -> str:
    """The key of the operation record an error of the operation record is about (read from its code and message)."""
    code = e.code.removeprefix("operation.")
    message = e.diagnostics[0].message
    if code in ("wrong_type", "invalid_value", "invalid_date"):  # « attribut d'opération « posts » : ... »
        return message.split("« ", 1)[1].split(" »", 1)[0]
    if code == "number":  # « financing.fse : un nombre est attendu ... », « staff[0].cost : ... »
        return re.split(r"[.\[]", message, maxsplit=1)[0]
    return code  # id, spec, staff, financing, events: the code names the section


def _of_type(v, decl) -> bool:
    """Whether a JSON value is one of the declared type (the oracle of the record's attribute checks)."""
    t = decl["type"]
    if t == "boolean":
        return isinstance(v, bool)
    if t == "enum":
        return isinstance(v, str) and v in decl["values"]
    if t == "date":
        try:
            return isinstance(v, str) and date.fromisoformat(v).isoformat() == v
        except ValueError:
            return False
    if t == "integer":
        return isinstance(v, int) and not isinstance(v, bool) or isinstance(v, float) and v.is_integer()
    return isinstance(v, (int, float)) and not isinstance(v, bool)


@settings(max_examples=150, deadline=None)
@given(st.dictionaries(_keys, _json | st.lists(st.dictionaries(st.sampled_from(
    ["id", "cost", "allocation", "work_time", "support_function", "type", "date"]), _json, max_size=4), max_size=3),
    max_size=8).map(lambda d: {**d, "id": "op-1"} if len(d) % 2 else d))  # half with a valid id: past the first check
def test_any_operation_record_gives_a_report_or_an_engine_error(aci, op):
    """Whatever the operation record holds, the report is built or one error of the record names its faulty key."""
    try:
        r = build_report(aci, op, items(aci_cohort()[:3]), date(2027, 4, 15))
    except RecordError as e:
        assert len(e.diagnostics) == 1 and e.code.startswith("operation."), e.format()
        key = _blamed_key(e)
        assert key in op or key == "id", (key, e.format())
        if key == "id":
            assert not isinstance(op.get("id"), str) or not op["id"], op.get("id")
        return
    assert isinstance(op.get("id"), str) and r["operation"] == op["id"]
    assert r["as_of"] == date(2027, 4, 15) and r["cohort"]["read"] == 3
    for name, a in aci.operation_attributes.items():  # accepted: each given attribute has a value of its type
        assert op.get(name) is None or _of_type(op[name], a.decl), (name, op[name])
    assert [i["id"] for i in r["indicators"]] == [i["id"] for i in read_yaml(OPS / "aci.yaml")["indicators"]]


def _mutations(n, seed=5):
    """(path, value) pairs: one value of the operation sections of tests/data/ops/aci.yaml replaced by junk."""
    import random

    doc = read_yaml(OPS / "aci.yaml")
    rng = random.Random(seed)
    junk = [True, 5, "x", None, [], {}, [1], {"a": 1}, "count(participants", "participants", -3, "150%", "1 / 0"]
    out = []
    for _ in range(n):
        sec = rng.choice(["capacity", "cohort_constraints", "indicators", "funding", "payments", "reporting"])
        paths, stack = [], [((sec,), doc[sec])]
        while stack:
            p, o = stack.pop()
            paths.append(p)
            items_ = o.items() if isinstance(o, dict) else enumerate(o) if isinstance(o, list) else ()
            stack.extend((p + (k,), v) for k, v in items_)
        out.append((rng.choice(sorted(paths, key=str)), rng.choice(junk)))
    return out


@pytest.mark.parametrize("path,value", _mutations(30))
def test_mangled_operation_sections_give_engine_errors_only(tmp_path, path, value):
    """A junk value anywhere in the operation sections is a positioned spec error, or a report (never a crash)."""
    doc = read_yaml(OPS / "aci.yaml")
    target = doc
    for k in path[:-1]:
        target = target[k]
    target[path[-1]] = value
    p = tmp_path / "m.yaml"
    p.write_text(yaml_text(doc), encoding="utf-8")
    try:
        s = load_spec(str(p))
    except SpecError as e:
        assert e.diagnostics and all(d.file == str(p) and d.line and d.message for d in e.diagnostics), e.format()
        return
    try:
        r = build_report(s, load_operation(str(OPS / "aci.operation.json")), items(aci_cohort()), date(2027, 4, 15))
    except EngineError as e:
        assert not isinstance(e, SpecError) and e.diagnostics and e.diagnostics[0].message, e.format()
        return
    assert r["operation"] and r["cohort"]["read"] == len(aci_cohort())
    assert [i["id"] for i in r["indicators"]] == [i["id"] for i in doc["indicators"] if isinstance(i, dict)]


# --------------------------------------------------------------------------------------------- parameters in scope

PARAM_SPEC = """parameters:
  max_young: {type: number, label: Part maximale de jeunes}
  advance_share: {type: number, label: Part de l'avance}
inputs:
  attributes:
    young: {type: boolean, label: jeune}
  operation:
    grant_awarded: {type: number, label: g}
    signature_date: {type: date, label: s}
cohort_constraints:
  - {id: youth, label: jeunes, source: 05-chantiers-insertion.txt:17, condition: 'count(participants where young) <= max_young * count(participants)'}
capacity:
  - {id: c, label: c, source: 05-chantiers-insertion.txt:17, value: 'max_young * 10'}
indicators:
  - {id: over, label: o, source: 05-chantiers-insertion.txt:17, value: 'count(participants where young) - max_young * count(participants)'}
payments:
  - {id: advance, label: Avance, source: 05-chantiers-insertion.txt:17, share: advance_share, due: signature}
  - {id: balance, label: Solde, source: 05-chantiers-insertion.txt:17, share: 40%, due: signature}
"""


def _param_report(tmp_path, params):
    p = tmp_path / "s.yaml"
    p.write_text('id: t\nversion: "1"\ntitle: t\n' + PARAM_SPEC, encoding="utf-8")
    s = load_spec(str(p))  # engine check used to report max_young / advance_share as unknown names
    cohort = items([{"id": "a", "young": True}, {"id": "b", "young": False}, {"id": "c", "young": False},
                    {"id": "d", "young": False}, {"id": "e", "young": False}])
    op = {"id": "o", "grant_awarded": 1000, "signature_date": "2026-02-01"}
    return build_report(s, op, cohort, date(2026, 6, 1), params)


def test_parameters_are_in_scope_in_cohort_constraints_and_payments(tmp_path):
    r = _param_report(tmp_path, {"max_young": "0.2", "advance_share": "0.6"})
    # 1 young of 5 = 20 % <= 20 %
    assert r["constraints"][0]["status"] == "passed"
    assert r["capacity"][0]["capacity"] == 2  # 0.2 x 10
    assert r["indicators"][0]["value"] == 0  # 1 - 0.2 x 5
    # advance 60 % of 1 000 = 600; balance 40 % = 400
    assert [t["share"] for t in r["payments"]["tranches"]] == [D("0.6"), D("0.4")]
    assert [t["planned"] for t in r["payments"]["tranches"]] == [D("600.00"), D("400.00")]
    assert r["parameters"] == {"max_young": D("0.2"), "advance_share": D("0.6")}
    assert r["missing_parameters"] == []
    r = _param_report(tmp_path, {"max_young": "0.1", "advance_share": "0.6"})
    assert r["constraints"][0]["status"] == "failed"  # 1 > 0.1 x 5


def test_a_missing_parameter_makes_figures_unknown_and_is_named(tmp_path):
    r = _param_report(tmp_path, {})
    assert r["missing_parameters"] == ["advance_share", "max_young"]
    c = r["constraints"][0]
    assert c["status"] == "unknown" and c["missing"] == ["max_young"]
    assert r["indicators"][0]["value"] is None and r["indicators"][0]["missing"] == ["max_young"]
    adv = r["payments"]["tranches"][0]
    assert adv["share"] is None and adv["planned"] is None and adv["missing"] == ["advance_share"]
    from engine.render.report import render

    text = render(r, "text")
    assert "max_young" in text and "--param" in text


def test_a_review_without_deadline_still_releases_its_tranche(tmp_path):
    # 11:101 « un solde annuel au service fait »: no deadline in the text (`after: convention_end`, no `within`);
    # the balance waits for the review and is due once it is submitted (final_review_date)
    p = tmp_path / "s.yaml"
    p.write_text('id: t\nversion: "1"\ntitle: t\ninputs:\n  operation:\n'
                 "    grant_awarded: {type: number, label: g}\n    signature_date: {type: date, label: s}\n"
                 "    final_review_date: {type: date, label: f}\n"
                 "payments:\n  - {id: advance, label: a, source: 05-chantiers-insertion.txt:17, share: 60%, due: signature}\n"
                 "  - {id: balance, label: b, source: 05-chantiers-insertion.txt:17, share: 40%, at_most: true, due: final_review}\n"
                 "reporting:\n  - {id: final_review, label: f, source: 05-chantiers-insertion.txt:17, after: convention_end}\n", encoding="utf-8")
    s = load_spec(str(p))
    op = {"id": "o", "grant_awarded": 28070, "signature_date": "2026-02-20", "convention_start": "2026-01-01",
          "convention_end": "2026-12-31"}
    r = build_report(s, dict(op, final_review_date="2027-02-26"), [], date(2027, 4, 15))
    # 60 % x 28 070 = 16 842; 40 % = 11 228, due on 26/02/2027
    assert [(t["amount"], t["status"]) for t in r["payments"]["tranches"]] == [
        (D("16842.00"), "due"), (D("11228.00"), "due")]
    assert r["payments"]["tranches"][1]["due_date"] == date(2027, 2, 26)
    assert r["reporting"][0]["status"] == "submitted"
    r = build_report(s, op, [], date(2027, 4, 15))
    assert r["payments"]["tranches"][1]["status"] == "awaiting_review" and r["reporting"][0]["status"] == "pending"


def test_a_missing_parameter_read_per_participant_is_named(tmp_path):
    # the parameter is read inside the aggregate's filter: each participant is unknown, the count leaves them out
    # and the report names the parameter
    p = tmp_path / "s.yaml"
    p.write_text('id: t\nversion: "1"\ntitle: t\nparameters:\n  min_hours: {type: number, label: h}\n'
                 "inputs:\n  attributes:\n    hours: {type: number, label: h}\n"
                 "indicators:\n  - {id: n, label: n, value: 'count(participants where hours >= min_hours)', "
                 "source: 05-chantiers-insertion.txt:17}\n"
                 "cohort_constraints:\n  - {id: c, label: c, condition: 'count(participants where hours >= min_hours) "
                 ">= 1', source: 05-chantiers-insertion.txt:17}\n", encoding="utf-8")
    s = load_spec(str(p))
    cohort = items([{"id": "a", "hours": 10}, {"id": "b", "hours": 3}])
    r = build_report(s, {"id": "o"}, cohort, date(2026, 6, 1), {})
    ind = r["indicators"][0]
    assert ind["unknown"] == 2 and ind["missing"] == ["min_hours"]
    # without the parameter no participant is decided: the condition cannot be judged (was a confident "failed")
    assert r["constraints"][0]["status"] == "unknown" and r["constraints"][0]["missing"] == ["min_hours"]
    r = build_report(s, {"id": "o"}, cohort, date(2026, 6, 1), {"min_hours": "5"})
    assert r["indicators"][0]["value"] == 1 and "missing" not in r["indicators"][0]
    assert r["constraints"][0]["status"] == "passed" and "missing" not in r["constraints"][0]
