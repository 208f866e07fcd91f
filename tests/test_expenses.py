"""`funding.expenses`: planned against incurred expenses, line by line (08:100 « Seules les dépenses prévues dans le
dossier de demande et effectivement encourues … seront retenues », 08:122-123 « réalisées durant la période fixée
dans la convention … acquittées à la date de transmission du bilan »). Each case below is one reading of those
lines: what is retained, what is left out and why, and where the totals go."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import RecordError, SpecError
from engine.operation.expenses import ExpenseLine, Spent, retained_expenses
from engine.operation.report import build_report
from engine.render.report import render
from engine.spec.compile import load_spec

SPEC = """\
id: t
version: "1"
title: Test
convention: {start: 2026-01-01, end: 2026-12-31, max_duration: 12 months, source: "08-appui-dispositifs-insertion.txt:54"}
inputs:
  operation:
    convention_start: {type: date, label: Début}
    convention_end: {type: date, label: Fin}
    final_review_date: {type: date, label: Bilan final remis le}
    grant_awarded: {type: number, label: Subvention attribuée}
funding:
  department_share: {share: 40%, label: Part du Département 40 %, source: "08-appui-dispositifs-insertion.txt:69"}
  expenses:
    label: Dépenses prévues et effectivement encourues
    paid_by: final_review
    source: "08-appui-dispositifs-insertion.txt:100"
  plan_rules:
    - {id: within_plan, label: Dépenses retenues au plus les prévues, condition: "retained_expenses <= planned_expenses",
       source: "08-appui-dispositifs-insertion.txt:100"}
reporting:
  - {id: final_review, label: Bilan final, within: 1 month, after: convention_end,
     source: "08-appui-dispositifs-insertion.txt:95"}
"""

LINES = [
    {"id": "personnel", "label": "Frais de personnel", "planned": 30000,
     "spent": [{"amount": 14000, "date": "2026-06-30", "paid_on": "2026-07-05", "ref": "paie S1"},
               {"amount": 17000, "date": "2026-12-31", "paid_on": "2027-01-10", "ref": "paie S2"}]},
    {"id": "deplacements", "label": "Frais de déplacement", "planned": 2000,
     "spent": [{"amount": 500, "date": "2025-12-15", "paid_on": "2025-12-20", "ref": "avant la convention"},
               {"amount": 800, "date": "2026-05-10", "ref": "non payée"},
               {"amount": 700, "date": "2026-09-10", "paid_on": "2027-02-15", "ref": "payée après le bilan"}]},
    {"id": "communication", "label": "Communication", "spent": [{"amount": 1200, "date": "2026-04-01",
                                                                 "paid_on": "2026-04-02"}]},
]


def spec_of(tmp_path, text=SPEC):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec(p)


def report(spec, at="2027-02-20", sent="2027-01-25", lines=LINES, grant=None):
    op = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2026-12-31", "expenses": lines}
    if sent:
        op["final_review_date"] = sent
    if grant is not None:
        op["grant_awarded"] = grant
    return build_report(spec, op, iter(()), date.fromisoformat(at))


def test_only_planned_incurred_in_the_period_and_paid_by_the_review_are_retained(tmp_path):
    ex = report(spec_of(tmp_path))["funding_plan"]["expenses"]
    got = {ln["id"]: (ln["planned"], ln["spent"], ln["retained"]) for ln in ex["lines"]}
    assert got == {"personnel": (Decimal("30000.00"), Decimal("31000.00"), Decimal("30000.00")),
                   "deplacements": (Decimal("2000.00"), Decimal("2000.00"), Decimal("0.00")),
                   "communication": (None, Decimal("1200.00"), Decimal("0.00"))}
    assert (ex["planned"], ex["spent"], ex["retained"]) == (Decimal("32000.00"), Decimal("34200.00"),
                                                            Decimal("30000.00"))
    assert ex["payments_judged_at"] == date(2027, 1, 25)
    reasons = {x["ref"]: x["reason"] for x in ex["excluded"]}
    assert reasons["avant la convention"].startswith("réalisée le 15/12/2025, hors de la période de la convention")
    assert reasons["non payée"] == "non acquittée à la date de transmission du bilan (25/01/2027)"
    assert reasons["payée après le bilan"] == ("non acquittée à la date de transmission du bilan (25/01/2027) "
                                               "(acquittée le 15/02/2027)")
    assert reasons[None] == "dépense non prévue au dossier de demande"
    assert ex["excluded_count"] == 4
    line = next(ln for ln in ex["lines"] if ln["id"] == "personnel")
    assert line["beyond_planned"] == Decimal("1000.00") and "au-delà du montant prévu" in line["note"]


def test_before_the_review_is_sent_payments_are_judged_at_the_report_date(tmp_path):
    ex = report(spec_of(tmp_path), at="2027-01-05", sent=None)["funding_plan"]["expenses"]
    assert ex["payments_judged_at"] == date(2027, 1, 5)
    assert "bilan non encore transmis" in ex["note"]
    personnel = next(ln for ln in ex["lines"] if ln["id"] == "personnel")
    assert personnel["retained"] == Decimal("14000.00")  # the second pay, paid on 10/01/2027, is not yet paid


def test_without_paid_by_the_date_paid_is_not_a_condition(tmp_path):
    # 04:95 and 10:121 say only « effectivement encourues »: an unpaid expense of the period is retained
    ex = report(spec_of(tmp_path, SPEC.replace("    paid_by: final_review\n", "")))["funding_plan"]["expenses"]
    assert ex["payments_judged_at"] is None and "note" not in ex
    lines = {ln["id"]: ln["retained"] for ln in ex["lines"]}
    assert lines == {"personnel": Decimal("30000.00"), "deplacements": Decimal("1500.00"),
                     "communication": Decimal("0.00")}
    assert {x["ref"] for x in ex["excluded"]} == {"avant la convention", None}


def test_an_expense_dated_after_the_report_date_is_not_yet_known(tmp_path):
    lines = [{"id": "a", "planned": 100, "spent": [{"amount": 50, "date": "2026-08-01", "paid_on": "2026-08-02"}]}]
    ex = report(spec_of(tmp_path), at="2026-06-30", sent=None, lines=lines)["funding_plan"]["expenses"]
    assert ex["retained"] == 0 and "après la date du rapport" in ex["excluded"][0]["reason"]


def test_the_totals_are_operation_names_and_the_share_of_the_retained_is_compared_with_the_grant(tmp_path):
    r = report(spec_of(tmp_path), grant=15000)
    fp = r["funding_plan"]
    assert [x["status"] for x in fp["rules"]] == ["passed"]
    ex = fp["expenses"]
    assert ex["department_share_of_retained"] == Decimal("12000.00")
    assert "inférieure à la subvention (15 000,00 €)" in ex["warning"]
    assert "warning" not in report(spec_of(tmp_path), grant=12000)["funding_plan"]["expenses"]


def test_while_the_convention_runs_the_share_is_not_yet_compared_with_the_grant(tmp_path):
    ex = report(spec_of(tmp_path), at="2026-10-01", sent=None, grant=15000)["funding_plan"]["expenses"]
    assert "warning" not in ex
    assert ex["so_far"].startswith("dépenses retenues à ce jour : l'opération court jusqu'au 31/12/2026")


def test_without_expenses_in_the_record_the_names_are_unknown(tmp_path):
    r = report(spec_of(tmp_path), lines=None)
    assert "expenses" not in r["funding_plan"]
    assert r["funding_plan"]["rules"][0]["status"] == "unknown"


def test_the_renderers_show_each_line_and_what_was_left_out(tmp_path):
    r = report(spec_of(tmp_path))
    text = render(r, "text")
    assert ("Dépenses prévues et effectivement encourues : prévues 32 000,00 €, encourues 34 200,00 €, retenues "
            "30 000,00 €") in text
    assert "! non retenue : 800,00 € (deplacements, non payée) — non acquittée" in text
    csv = render(r, "csv")
    assert "funding_plan,expenses.personnel,Dépenses retenues — Frais de personnel,30000.00," in csv


FLAT = SPEC.replace("""  expenses:""", """  flat_rates:
    - {id: flat_40, label: Forfait de 40 %, rate: 40%, covers: other_costs, source: "04-coach-jeunesse.txt:56"}
  expenses:""")


def test_with_categories_the_eligible_base_is_rebuilt_from_what_is_retained(tmp_path):
    # 04:95 read with 04's flat rate: staff planned at 45 000 €, incurred 40 000 €: base 40 000 + 40 % = 56 000 €;
    # the other costs are covered by the flat rate (retained on their line, not added to the base)
    lines = [{"id": "staff", "category": "direct_staff", "planned": 45000,
              "spent": [{"amount": 40000, "date": "2026-12-31", "paid_on": "2027-01-05"}]},
             {"id": "rent", "category": "other_costs", "planned": 6000,
              "spent": [{"amount": 6000, "date": "2026-12-31", "paid_on": "2027-01-05"}]}]
    ex = report(spec_of(tmp_path, FLAT), lines=lines, grant=25000)["funding_plan"]["expenses"]
    assert ex["retained"] == Decimal("46000.00")
    assert ex["retained_direct_staff_costs"] == Decimal("40000.00")
    assert [f["amount"] for f in ex["retained_flat_rates"]] == [Decimal("16000.00")]
    assert ex["retained_other_costs_covered"] == Decimal("6000.00")
    assert ex["retained_eligible_costs"] == Decimal("56000.00")
    assert ex["department_share_of_retained"] == Decimal("22400.00")  # 40 % of 56 000 €
    assert "22 400,00 €" in ex["warning"]


STAFF_SPEC = FLAT.replace("""  expenses:""", """  min_staff_allocation: {rate: 30%, label: Affectation minimum de 30 %, source: "08-appui-dispositifs-insertion.txt:61"}
  expenses:""")


def test_a_staff_line_follows_the_staff_rules_of_the_member_it_pays(tmp_path):
    # 08:59 (support functions ineligible) and 08:61 (30 % minimum) apply to the staff lines that name their member
    op = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2026-12-31", "grant_awarded": 30000,
          "final_review_date": "2027-01-20",
          "staff": [{"id": "E1", "role": "Conseillère", "cost": 54000},
                    {"id": "DIR", "role": "Direction", "cost": 6000, "allocation": 0.5, "support_function": True},
                    {"id": "E2", "role": "Animateur", "cost": 3000, "allocation": 0.2}],
          "expenses": [{"id": f"l-{m}", "category": "direct_staff", "staff": m, "planned": c,
                        "spent": [{"amount": c, "date": "2026-12-31", "paid_on": "2027-01-05"}]}
                       for m, c in (("E1", 54000), ("DIR", 6000), ("E2", 3000))]
          + [{"id": "sans-nom", "category": "direct_staff", "planned": 1000,
              "spent": [{"amount": 1000, "date": "2026-12-31", "paid_on": "2027-01-05"}]}]}
    ex = build_report(spec_of(tmp_path, STAFF_SPEC), op, iter(()), date(2027, 2, 1))["funding_plan"]["expenses"]
    got = {ln["id"]: ln["retained"] for ln in ex["lines"]}
    assert got == {"l-E1": Decimal("54000.00"), "l-DIR": Decimal("0.00"), "l-E2": Decimal("0.00"),
                   "sans-nom": Decimal("1000.00")}
    reasons = {x["line"]: x["reason"] for x in ex["excluded"]}
    assert reasons["l-DIR"].startswith("salarié « DIR » non éligible : ")
    assert reasons["l-E2"].startswith("salarié « E2 » non éligible : ")
    assert ex["retained_direct_staff_costs"] == Decimal("55000.00")  # 54 000 + the unnamed line's 1 000
    note = next(ln["note"] for ln in ex["lines"] if ln["id"] == "sans-nom")
    assert "sans salarié désigné" in note


def test_a_staff_line_names_a_member_of_the_staff(tmp_path):
    lines = [{"id": "a", "category": "direct_staff", "staff": "X9", "planned": 10, "spent": []}]
    with pytest.raises(RecordError) as e:
        report(spec_of(tmp_path, FLAT), lines=lines)
    assert "« X9 » n'est pas un salarié de « staff »" in str(e.value)
    with pytest.raises(RecordError) as e:
        report(spec_of(tmp_path, FLAT), lines=[{"id": "a", "category": "other_costs", "staff": "E1", "planned": 1}])
    assert "seule une ligne de personnel" in str(e.value)


def test_an_unknown_category_is_an_error_naming_the_known_ones(tmp_path):
    lines = [{"id": "a", "category": "loyer", "planned": 10, "spent": []}]
    with pytest.raises(RecordError) as e:
        report(spec_of(tmp_path, FLAT), lines=lines)
    assert "« loyer » n'est ni direct_staff, ni other_costs" in str(e.value)


@pytest.mark.parametrize("lines, message", [
    ({"id": "x"}, "« expenses » doit être une liste"),
    ([{"planned": 10}], "expenses[0].id"),
    ([{"id": "a"}, {"id": "a"}], "la ligne « a » figure deux fois"),
    ([{"id": "a", "planned": -1}], "expenses[0].planned : un montant positif"),
    ([{"id": "a", "spent": [{"amount": 5}]}], "expenses[0].spent[0] : une dépense a un montant"),
    ([{"id": "a", "spent": [{"amount": 5, "date": "2026-02-30"}]}], "la date « 2026-02-30 » n'existe pas"),
    ([{"id": "a", "spent": [{"amount": "cinq", "date": "2026-02-03"}]}], "expenses[0].spent[0].amount"),
    (["personnel"], "expenses[0] : un objet {id, label, planned, spent} est attendu"),
    ([{"id": "a", "spent": {"amount": 5}}], "expenses[0].spent : une liste de dépenses est attendue"),
    ([{"id": "a", "spent": [{"amount": -5, "date": "2026-02-03"}]}], "expenses[0].spent[0].amount : un montant positif"),
    ([{"id": "a", "spent": [{"amount": 5, "date": "2026-02-03", "paid_on": 20260210}]}], "expenses[0].spent[0].paid_on"),
    ([{"id": "a", "category": 3}], "expenses[0].category : le nom d'une catégorie est attendu"),
    ([{"id": "a", "category": "direct_staff", "staff": ""}], "expenses[0].staff : l'identifiant d'un salarié"),
])
def test_a_bad_expenses_list_is_a_french_error(tmp_path, lines, message):
    with pytest.raises(RecordError) as e:
        report(spec_of(tmp_path), lines=lines)
    assert message in str(e.value)
    assert e.value.diagnostic.code in ("operation.expenses", "operation.number") and e.value.diagnostic.hint


def test_paid_by_must_name_a_review(tmp_path):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, SPEC.replace("paid_by: final_review", "paid_by: final_reveiw"))
    assert "« final_reveiw » n'est pas un bilan de `reporting:`" in str(e.value)
    assert "final_review" in str(e.value)


AMOUNTS = st.decimals(min_value=0, max_value=100000, places=2, allow_nan=False, allow_infinity=False)
DAYS = st.dates(min_value=date(2025, 10, 1), max_value=date(2027, 3, 31))


@settings(max_examples=60, deadline=None)
@given(lines=st.lists(st.tuples(st.one_of(st.none(), AMOUNTS),
                                st.lists(st.tuples(AMOUNTS, DAYS, st.one_of(st.none(), DAYS)), max_size=4)),
                      max_size=4),
       sent=st.one_of(st.none(), DAYS))
def test_retained_never_exceeds_planned_nor_incurred(lines, sent):
    ls = [ExpenseLine(f"l{i}", None, p, tuple(Spent(a, d, q) for a, d, q in sp)) for i, (p, sp) in enumerate(lines)]
    res = retained_expenses(ls, date(2026, 1, 1), date(2026, 12, 31), sent, date(2027, 3, 31))
    for r in res.lines:
        assert 0 <= r.retained <= r.spent
        assert r.line.planned is None and r.retained == 0 or r.retained <= r.line.planned
        kept = sum((s.amount for s in r.line.spent if all(s is not x for x, _ in r.excluded)), Decimal(0))
        assert r.retained == min(kept, r.line.planned if r.line.planned is not None else kept)
    assert res.retained == sum((r.retained for r in res.lines), Decimal(0)) <= res.spent
