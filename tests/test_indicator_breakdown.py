"""`by:` on an indicator: the indicator computed again for each value of a participant expression (10:137-143
« typologie des salariés : sexe, âge, … », « déclinés selon les modalités d'insertion »; 08:102 « niveau
d'instruction, sexe, niveau de formation »). Each row is the indicator over that group only (a count, a sum or a
rate of the group), the declared values listed in their order even when nobody has them, « inconnu » for the
participants whose value is unknown; the rows of a count add up to the count, and a cohort read by parts gives
the same rows as one pass."""

from __future__ import annotations

import textwrap
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import SpecError
from engine.operation import parts as CP
from engine.operation.report import build_report
from engine.render.report import render
from engine.spec.compile import load_spec

HEAD = """\
id: t
version: "1"
title: Test
inputs:
  attributes:
    sex: {type: enum, values: [F, M], label: Sexe}
    rsa: {type: boolean, label: Bénéficiaire du RSA}
    hours: {type: number, label: Heures}
    contract: {type: string, label: Type de contrat}
    tags: {type: list, items: {type: string}, label: Étiquettes}
definitions:
  adult:
    expr: hours >= 0
    label: Heures déclarées
indicators:
"""

INDICATORS = """\
  - id: employees
    label: Nombre de salariés
    value: count(participants)
    by: [sex, {value: rsa, label: BRSA, labels: {"true": BRSA, "false": non BRSA}}, contract]
    source: "10-clauses-sociales.txt:131"
  - id: hours
    label: Volume d'heures
    value: sum(participants.hours)
    by: {value: sex, labels: {F: Femmes, M: Hommes}}
    source: "10-clauses-sociales.txt:131"
  - id: brsa_share
    label: Part des BRSA
    numerator: count(participants where rsa)
    denominator: count(participants)
    numerator_label: BRSA
    denominator_label: Salariés
    by: sex
    source: "10-clauses-sociales.txt:132"
"""

OP = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2026-12-31"}
AT = date(2026, 6, 30)


def spec_of(tmp_path, indicators=INDICATORS):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD + textwrap.dedent(indicators), encoding="utf-8")
    return load_spec(p)


def person(i, **kw):
    return {"id": f"p{i}", "entry_date": "2026-01-05", **kw}


COHORT = [person(1, sex="F", rsa=True, hours=10, contract="CDI"),
          person(2, sex="F", rsa=False, hours=5.5, contract="CDD"),
          person(3, rsa=True, hours=3),
          person(4, sex="M", rsa=True)]


def report(spec, cohort=COHORT):
    return build_report(spec, OP, enumerate(cohort, 1), AT)


def table(ind, bid):
    b = next(b for b in ind["breakdowns"] if b["id"] == bid)
    return [(g["key"], g["label"], g["value"], g.get("unknown", 0)) for g in b["rows"]]


def test_a_count_by_an_enum_lists_its_values_then_the_unknown(tmp_path):
    ind = report(spec_of(tmp_path))["indicators"][0]
    assert ind["value"] == 4
    assert table(ind, "sex") == [("F", "F", 2, 0), ("M", "M", 1, 0), (None, "inconnu", 1, 0)]
    b = ind["breakdowns"][0]
    assert b["label"] == "Sexe" and b["by"] == "sex"  # the attribute's French label when none is given


def test_a_boolean_breakdown_uses_its_labels_and_a_text_one_the_values_met(tmp_path):
    ind = report(spec_of(tmp_path))["indicators"][0]
    assert table(ind, "rsa") == [(True, "BRSA", 3, 0), (False, "non BRSA", 1, 0)]
    assert table(ind, "contract") == [("CDD", "CDD", 1, 0), ("CDI", "CDI", 1, 0), (None, "inconnu", 2, 0)]


def test_a_declared_value_nobody_has_is_still_a_row(tmp_path):
    ind = report(spec_of(tmp_path), [person(1, sex="F", rsa=True, hours=1)])["indicators"][0]
    assert table(ind, "sex") == [("F", "F", 1, 0), ("M", "M", 0, 0)]


def test_a_sum_by_group_counts_its_unknown_values_in_their_group(tmp_path):
    ind = report(spec_of(tmp_path))["indicators"][1]
    assert ind["value"] == Decimal("18.5") and ind["unknown"] == 1
    assert table(ind, "sex") == [("F", "Femmes", Decimal("15.5"), 0), ("M", "Hommes", 0, 1),
                                 (None, "inconnu", 3, 0)]


def test_a_rate_by_group_is_the_rate_of_the_group(tmp_path):
    ind = report(spec_of(tmp_path))["indicators"][2]
    rows = {g["key"]: (g["numerator"], g["denominator"], g["value"]) for g in ind["breakdowns"][0]["rows"]}
    assert rows == {"F": (1, 2, Decimal("0.5")), "M": (1, 1, 1), None: (1, 1, 1)}


def test_values_choose_and_order_the_rows_shown_first(tmp_path):
    spec = spec_of(tmp_path, """\
      - id: employees
        label: Nombre de salariés
        value: count(participants)
        by: {value: sex, values: [M], labels: {F: Femmes}}
        source: "10-clauses-sociales.txt:131"
      - id: bands
        label: Salariés par tranche d'heures
        value: count(participants)
        by: {value: 'if hours < 5 then "moins de 5 h" else "5 h et plus"', label: Heures, values: ["moins de 5 h", "5 h et plus"]}
        source: "10-clauses-sociales.txt:131"
    """)
    r = report(spec)["indicators"]
    # F is met, not listed in `values:`: it follows, with its label
    assert table(r[0], "sex") == [("M", "M", 1, 0), ("F", "Femmes", 2, 0), (None, "inconnu", 1, 0)]
    assert [(g["key"], g["value"]) for g in r[1]["breakdowns"][0]["rows"]] == [
        ("moins de 5 h", 1), ("5 h et plus", 2), (None, 1)]


def test_the_vocabulary_s_value_labels_are_the_default_labels(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD.replace("    sex: {type: enum, values: [F, M], label: Sexe}",
                              "    sex: {type: enum, values: [F, M], label: Sexe, value_labels: {F: Femmes, M: Hommes}}")
                 + textwrap.dedent("""\
                   - {id: n, label: Salariés, value: count(participants), by: sex, source: "10-clauses-sociales.txt:131"}
                   - id: m
                     label: Salariés
                     value: count(participants)
                     by: {value: sex, labels: {M: Messieurs}}
                     source: "10-clauses-sociales.txt:131"
                 """), encoding="utf-8")
    r = report(load_spec(p))["indicators"]
    assert [g["label"] for g in r[0]["breakdowns"][0]["rows"]] == ["Femmes", "Hommes", "inconnu"]
    assert [g["label"] for g in r[1]["breakdowns"][0]["rows"]] == ["Femmes", "Messieurs", "inconnu"]


def test_a_value_label_of_no_value_is_an_error(tmp_path):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD.replace("    sex: {type: enum, values: [F, M], label: Sexe}",
                              "    sex: {type: enum, values: [F, M], label: Sexe, value_labels: {X: Autre}}")
                 + '  - {id: n, label: Salariés, value: count(participants), source: "10-clauses-sociales.txt:131"}\n',
                 encoding="utf-8")
    with pytest.raises(SpecError) as e:
        load_spec(p)
    assert "value_labels : « X » n'est pas une valeur de « sex »" in str(e.value)


def test_a_share_of_all_divides_each_group_by_the_whole_denominator(tmp_path):
    # 08:102 « le nombre et le taux de sorties dynamiques … détaillé ainsi »: each nature's rate over all exits
    spec = spec_of(tmp_path, """\
      - id: rsa_rate
        label: Part des BRSA
        numerator: count(participants where rsa)
        denominator: count(participants)
        numerator_label: BRSA
        denominator_label: Salariés
        by: [{value: sex, denominator: all}, sex]
        source: "10-clauses-sociales.txt:132"
    """)
    ind = report(spec)["indicators"][0]
    shares, own = (ind["breakdowns"][0]["rows"], ind["breakdowns"][1]["rows"])
    assert [(g["key"], g["numerator"], g["denominator"]) for g in shares] == [("F", 1, 4), ("M", 1, 4), (None, 1, 4)]
    assert [g["value"] for g in shares] == [Decimal("0.25"), Decimal("0.25"), Decimal("0.25")]
    assert sum(g["value"] for g in shares) == ind["value"]
    assert [(g["numerator"], g["denominator"]) for g in own] == [(1, 2), (1, 1), (1, 1)]


def test_the_renderers_show_one_row_per_value(tmp_path):
    r = report(spec_of(tmp_path))
    text = render(r, "text")
    assert "par Sexe : F 2 ; M 1 ; inconnu 1" in text
    assert "par Sexe : F 50 % (1 / 2) ; M 100 % (1 / 1) ; inconnu 100 % (1 / 1)" in text
    csv = render(r, "csv")
    assert "indicator,employees.rsa=true,Nombre de salariés — BRSA : BRSA,3," in csv
    assert "indicator,hours.sex=F,Volume d'heures — Sexe : Femmes,15.5," in csv
    md = render(r, "markdown")
    assert "| Nombre de salariés — Type de contrat : inconnu | 2 |" in md


@pytest.mark.parametrize("by, message", [
    ("tags", "la ventilation se fait selon une valeur simple"),
    ("{value: sex, labels: {X: Autre}}", "« X » n'est pas une valeur de sex (F, M)"),
    ("{value: rsa, labels: {oui: BRSA}}", "« oui » n'est pas une valeur de rsa (true, false)"),
    ("[sex, sex]", "« sex » est déjà une ventilation"),
    ("{value: sex, values: [F, X]}", "« X » n'est pas une valeur de sex"),
    ("{label: Sexe}", "clé « value » manquante"),
    ("{value: sex, denominator: all}", "sur un taux seulement"),
    ("unknown_name", "unknown_name"),
])
def test_a_bad_breakdown_is_a_positioned_error(tmp_path, by, message):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, f"""\
          - id: employees
            label: Nombre de salariés
            value: count(participants)
            by: {by}
            source: "10-clauses-sociales.txt:131"
        """)
    text = str(e.value)
    assert message in text
    assert "t.yaml:" in text


def test_a_breakdown_cannot_read_another_indicator(tmp_path):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, """\
          - {id: employees, label: Salariés, value: count(participants), source: "10-clauses-sociales.txt:131"}
          - id: share
            label: Part des BRSA
            value: count(participants where rsa) / employees
            by: sex
            source: "10-clauses-sociales.txt:132"
        """)
    assert "un indicateur ventilé ne peut pas lire un autre indicateur (employees)" in str(e.value)


PEOPLE = st.lists(st.fixed_dictionaries({
    "sex": st.sampled_from(["F", "M", None]), "rsa": st.sampled_from([True, False, None]),
    "hours": st.one_of(st.none(), st.integers(0, 40)), "contract": st.sampled_from(["CDI", "CDD", None])}),
    max_size=12)


@settings(max_examples=40, deadline=None)
@given(people=PEOPLE, cut=st.integers(0, 12))
def test_rows_add_up_to_the_indicator_and_parts_merge_exactly(tmp_path_factory, people, cut):
    spec = spec_of(tmp_path_factory.mktemp("bd"))
    cohort = [person(i, **{k: v for k, v in p.items() if v is not None}) for i, p in enumerate(people)]
    one = report(spec, cohort)
    for ind in one["indicators"][:2]:
        for b in ind["breakdowns"]:
            assert sum(g["value"] for g in b["rows"]) == ind["value"]
            assert sum(g.get("unknown", 0) for g in b["rows"]) == ind.get("unknown", 0)
    items = list(enumerate(cohort, 1))
    parts = [CP.cohort_part(spec, OP, items[:cut], AT), CP.cohort_part(spec, OP, items[cut:], AT)]
    merged = CP.report_from_parts(spec, OP, parts, AT)
    assert merged["indicators"] == one["indicators"]
