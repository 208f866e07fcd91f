"""Eligibility assessed at entry (`assessed_at: entry`, issue 13 item 9) and statuses implied by known ones (item 10):
a public defined at entry ("jeunes de 18 à 25 ans" entering the action, 08:8) is judged at the date of entry into the
programme, and the reason says which date was used; someone receiving the RSA is not "ne percevant plus le RSA".
Each case is a small spec compiled from YAML, as a user writes it (docs/fidelity.md, specs/README.md)."""

from __future__ import annotations

import textwrap
from datetime import date
from pathlib import Path

import pytest

from engine.beneficiary.bind import Binder
from engine.beneficiary.evaluate import evaluate_record
from engine.beneficiary.explain import explain_record
from engine.errors import SpecError
from engine.spec.compile import load_spec

SPECS = Path(__file__).resolve().parent.parent / "specs"

PHASES = """\
phases:
  entree: {label: Entrée, initial: true, source: "08-appui-dispositifs-insertion.txt:40"}
  sortie: {label: Sortie, final: true, source: "08-appui-dispositifs-insertion.txt:40"}
transitions:
  - {from: entree, to: sortie, label: Sortie, source: "08-appui-dispositifs-insertion.txt:40"}
"""

HEAD = """\
id: t
version: "1"
title: Test
inputs:
  attributes:
    birth_date: {type: date, label: Date de naissance}
    rsa: {type: boolean, label: BRSA}
"""

AGE_RULE = """\
eligibility:
  beneficiary:
    id: young
    label: Jeune de 18 à 25 ans
    condition: age(birth_date, today) >= 18 and age(birth_date, today) <= 25
    assessed_at: entry
    source: "08-appui-dispositifs-insertion.txt:8"
"""


def spec_of(tmp_path, body: str, phases: str = PHASES):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD + phases + textwrap.dedent(body), encoding="utf-8")
    return load_spec(p)


def errors_of(tmp_path, body: str, phases: str = PHASES) -> list[tuple[str, str]]:
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, body, phases)
    return [(d.code, d.message) for d in e.value.diagnostics]


def _record(birth, history, **attrs):
    rec = {"id": "r", "history": [{"phase": p, "date": d} for p, d in history], **attrs}
    if birth is not None:
        rec["birth_date"] = birth
    return rec


ENTRY_CASES = [
    # birth, history, at -> value, assessed_at, assessed_on, assessed
    ("2000-05-01", [("entree", "2026-03-01")], "2026-09-01",
     True, "entry", "2026-03-01", "âge à l'entrée le 2026-03-01 : 25 ans"),
    # the same person at the evaluation date is 26: the entry decides
    ("2000-05-01", [("entree", "2026-03-01"), ("sortie", "2026-08-01")], "2027-01-01",
     True, "entry", "2026-03-01", "âge à l'entrée le 2026-03-01 : 25 ans"),
    # 17 at entry, 18 at the evaluation date: not of the public when entering
    ("2008-06-01", [("entree", "2026-03-01")], "2026-09-01",
     False, "entry", "2026-03-01", "âge à l'entrée le 2026-03-01 : 17 ans"),
    # no history yet: assessed at the evaluation date, and the reason says so
    ("2000-05-01", [], "2026-09-01",
     False, "evaluation", "2026-09-01", "pas encore d'entrée : apprécié à la date d'évaluation le 2026-09-01"),
    ("2000-05-01", [], "2026-03-01",
     True, "evaluation", "2026-03-01", "pas encore d'entrée : apprécié à la date d'évaluation le 2026-03-01"),
    # an entry after the evaluation date is not an entry yet
    ("2000-05-01", [("entree", "2026-10-01")], "2026-03-01",
     True, "evaluation", "2026-03-01", "pas encore d'entrée : apprécié à la date d'évaluation le 2026-03-01"),
    # unknown birth date: unknown, the reason still says the date used (no age to give)
    (None, [("entree", "2026-03-01")], "2026-09-01",
     None, "entry", "2026-03-01", "apprécié à l'entrée le 2026-03-01"),
]


@pytest.mark.parametrize("birth,history,at,value,mode,on,note", ENTRY_CASES)
def test_age_is_assessed_at_entry(tmp_path, birth, history, at, value, mode, on, note):
    spec = spec_of(tmp_path, AGE_RULE)
    out = evaluate_record(spec, _record(birth, history), date.fromisoformat(at))
    (reason,) = out["reasons"]
    assert out["eligible"] is value
    assert reason["value"] is value
    assert (reason["assessed_at"], reason["assessed_on"].isoformat(), reason["assessed"]) == (mode, on, note)
    assert out["missing"] == ([] if value is not None else ["birth_date"])


def test_without_assessed_at_the_evaluation_date_decides(tmp_path):
    spec = spec_of(tmp_path, AGE_RULE.replace("    assessed_at: entry\n", ""))
    out = evaluate_record(spec, _record("2000-05-01", [("entree", "2026-03-01")]), date(2026, 9, 1))
    assert out["eligible"] is False
    assert "assessed_on" not in out["reasons"][0] and "assessed" not in out["reasons"][0]


GROUP = """\
eligibility:
  beneficiary:
    id: public
    label: Public
    assessed_at: entry
    all:
      - {id: brsa, label: BRSA, condition: rsa, source: "08-appui-dispositifs-insertion.txt:8"}
      - id: young
        label: Jeune
        condition: age(birth_date, today) <= 25
        source: "08-appui-dispositifs-insertion.txt:8"
      - id: young_now
        label: Jeune à la date d'évaluation
        condition: age(birth_date, today) <= 25
        assessed_at: evaluation
        source: "08-appui-dispositifs-insertion.txt:8"
"""


def test_a_group_passes_assessed_at_to_its_rules_and_a_rule_may_override_it(tmp_path):
    spec = spec_of(tmp_path, GROUP)
    out = evaluate_record(spec, _record("2000-05-01", [("entree", "2026-03-01")], rsa=True), date(2026, 9, 1))
    r = {x["rule"]: x for x in out["reasons"]}
    assert r["brsa"]["assessed"] == "apprécié à l'entrée le 2026-03-01"  # no age read: the date only
    assert r["young"]["value"] is True and r["young"]["assessed"] == "âge à l'entrée le 2026-03-01 : 25 ans"
    assert r["young_now"]["value"] is False and "assessed" not in r["young_now"]
    assert out["eligible"] is False


def test_explain_traces_the_rule_at_the_date_the_evaluation_used(tmp_path):
    spec = spec_of(tmp_path, GROUP)
    rec = _record("2000-05-01", [("entree", "2026-03-01")], rsa=True)
    trace = explain_record(spec, rec, date(2026, 9, 1))
    kids = {k["id"]: k for k in trace["eligibility"]["children"]}
    assert kids["young"]["value"] is True
    assert (kids["young"]["assessed_at"], kids["young"]["assessed_on"]) == ("entry", "2026-03-01")
    assert kids["young_now"]["value"] is False and "assessed_on" not in kids["young_now"]
    decision = {x["rule"]: x["value"] for x in trace["decision"]["reasons"]}
    assert decision == {k: v["value"] for k, v in kids.items()}


@pytest.mark.parametrize("body,phases,code,words", [
    (AGE_RULE, "", "spec.assessed_at", "entry demande des phases"),
    (AGE_RULE.replace("age(birth_date, today) >= 18 and age(birth_date, today) <= 25", "rsa"), PHASES,
     "spec.assessed_at", "entry ne change rien ici"),
    (AGE_RULE.replace("assessed_at: entry", "assessed_at: sortie"), PHASES, None, "entry ou evaluation"),
])
def test_check_rejects_assessed_at_that_cannot_apply(tmp_path, body, phases, code, words):
    errs = errors_of(tmp_path, body, phases)
    assert any(words in m and (code is None or c == code) for c, m in errs), errs


def test_check_rejects_assessed_at_on_operator_rules(tmp_path):
    body = AGE_RULE + """\
  operator:
    id: op
    label: Porteur
    condition: today >= 2026-01-01
    assessed_at: entry
    source: "08-appui-dispositifs-insertion.txt:46"
"""
    errs = errors_of(tmp_path, body)
    assert [c for c, m in errs if "porteur" in m] == ["spec.assessed_at"]


# ---- item 10: an attribute implied by known ones decides the rule (the shipped vocabulary, 08:8) -----------------

NO_LONGER_RSA = [
    # rsa, former_rsa_in_insertion_path -> value of « ne perçoit plus le RSA mais toujours en parcours »
    (True, None, False),
    (True, True, False),
    (True, False, False),
    (False, True, True),
    (False, False, False),
    (False, None, None),
    (None, True, None),
    (None, False, False),
    (None, None, None),
]


@pytest.mark.parametrize("rsa,former,value", NO_LONGER_RSA)
def test_receiving_the_rsa_decides_no_longer_receiving_it(rsa, former, value):
    spec = load_spec(SPECS / "appui-dispositifs-insertion.yaml")
    rec = {"id": "r", "birth_date": "1980-04-04", "department": "62"}
    if rsa is not None:
        rec["rsa"] = rsa
    if former is not None:
        rec["former_rsa_in_insertion_path"] = former
    out = evaluate_record(spec, rec, date(2026, 3, 1))
    reason = next(r for r in out["reasons"] if r["rule"] == "former_brsa_in_path")
    assert reason["value"] is value
    if rsa is True:  # BRSA: eligible, nothing asked about a past RSA
        assert out["eligible"] is True and out["missing"] == []


@pytest.mark.parametrize("name", ["appui-dispositifs-insertion", "nouveaux-modes-accompagnement"])
def test_youth_cap_counts_the_age_at_entry(name):
    """young_18_25_at_entry (vocabulary): 25 at entry still counts after the 26th birthday."""
    spec = load_spec(SPECS / f"{name}.yaml")
    d = spec.definitions["young_18_25_at_entry"]
    env_rec = {"id": "r", "birth_date": "2000-06-01", "history": [{"phase": "entree", "date": "2026-03-02"}]}
    b = Binder(spec)
    env = b.bind(env_rec, b.params({}))
    assert d.expr(env, date(2026, 10, 1)) is True
    # a path that starts after the evaluation date: not entered yet, assessed at the evaluation date (26)
    env = b.bind({"id": "r", "birth_date": "2000-06-01", "history": [{"phase": "entree", "date": "2026-11-02"}]},
                 b.params({}))
    assert d.expr(env, date(2026, 10, 1)) is False
    # no history: the declared entry date, not the report date (25 on 02/03/2026, still young in October)
    env = b.bind({"id": "r", "birth_date": "2000-06-01", "entry_date": "2026-03-02"}, b.params({}))
    assert d.expr(env, date(2026, 10, 1)) is True
    # neither: the entry is unknown, so is the youth (counted among the undecided of the cap)
    env = b.bind({"id": "r", "birth_date": "2000-06-01"}, b.params({}))
    got = d.expr(env, date(2026, 10, 1))
    assert got is not True and got is not False and "entry_date" in getattr(got, "names", ())


def test_a_record_without_history_is_assessed_at_its_declared_entry_date():
    """Engine side of the same reading: `assessed_at: entry` uses the record's `entry_date` when it has no history
    (a cohort exported without paths), and says so in the reason."""
    from engine.beneficiary.evaluate import entry_date, evaluate_record

    assert entry_date([], date(2026, 10, 1), date(2026, 3, 2)) == date(2026, 3, 2)
    assert entry_date([], date(2026, 2, 1), date(2026, 3, 2)) is None          # declared after the evaluation date
    assert entry_date([{"date": date(2026, 4, 1)}], date(2026, 10, 1), date(2026, 3, 2)) == date(2026, 4, 1)
    spec = load_spec(SPECS / "appui-dispositifs-insertion.yaml")
    out = evaluate_record(spec, {"id": "r", "birth_date": "2000-06-01", "entry_date": "2026-03-02"}, date(2026, 10, 1))
    entry_rules = [r for r in out["reasons"] if r.get("assessed_at") == "entry"]
    assert entry_rules and all(r["assessed_on"] == date(2026, 3, 2) for r in entry_rules)
    assert any(r["assessed"] == "âge à l'entrée le 2026-03-02 : 25 ans" for r in entry_rules)
