"""Fields on history entries (`phases.<id>.fields`, issue 13 item 13): an entry of a phase may carry declared fields
(a CE's signed length in months), converted like event fields and read by any expression through `history`, so a
guard can follow the renewals actually signed instead of a fixed length. The fast binding and the plain one agree."""

from __future__ import annotations

import dataclasses
import textwrap
from datetime import date

import pytest

from engine.beneficiary import evaluate as E
from engine.errors import SpecError
from engine.spec.compile import load_spec

SPEC = """\
id: t
version: "1"
title: Test
phases:
  accueil: {label: Accueil, initial: true, source: "03-travailleurs-independants.txt:56"}
  developpement:
    label: Développement
    source: "03-travailleurs-independants.txt:56"
    fields:
      months: {type: integer, label: Durée signée du CE (mois)}
  sortie: {label: Sortie, final: true, source: "03-travailleurs-independants.txt:56"}
transitions:
  - {from: accueil, to: developpement, label: CE, source: "03-travailleurs-independants.txt:56"}
  - from: developpement
    to: developpement
    label: Renouvellement au terme du CE signé
    guard: transition_date >= phase_start + max((history where date == phase_start).months) * 1 month
    source: "03-travailleurs-independants.txt:56"
  - {from: developpement, to: sortie, label: Sortie, source: "03-travailleurs-independants.txt:56"}
definitions:
  signed_months:
    expr: sum((history where phase == "developpement").months)
    label: Mois de CE signés
    source: "03-travailleurs-independants.txt:56"
eligibility:
  beneficiary: {id: all, label: Tous, condition: "true", source: "03-travailleurs-independants.txt:56"}
"""


def spec_of(tmp_path, text=SPEC):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    return load_spec(p)


def record(*steps):
    return {"id": "r", "history": [{"phase": "accueil", "date": "2026-01-05"}]
            + [{"phase": "developpement", "date": d, **({"months": m} if m is not None else {})} for d, m in steps]}


def both_paths(spec, rec, at):
    out = E.evaluate_record(spec, rec, at)
    plain = dataclasses.replace(E.plan_for(spec), fast=False)
    assert E._evaluate(plain, E._copy(rec), at, plain.binder.params({}), None) == out
    return out


@pytest.mark.parametrize("steps,legal", [
    ([("2026-02-02", 3), ("2026-05-02", 6)], True),    # renewed at the end of the 3 months signed
    ([("2026-02-02", 6), ("2026-05-02", 6)], False),   # renewed after 3 of the 6 months signed
])
def test_a_guard_follows_the_length_signed(tmp_path, steps, legal):
    out = both_paths(spec_of(tmp_path), record(*steps), date(2026, 6, 1))
    assert out["path"]["legal"] is legal
    assert [v["code"] for v in out["path"]["violations"]] == ([] if legal else ["guard_failed"])


def test_a_definition_reads_the_fields_and_an_absent_one_is_unknown(tmp_path):
    spec = spec_of(tmp_path)
    d = spec.definitions["signed_months"]
    b = E.plan_for(spec).binder
    env = b.bind(record(("2026-02-02", 3), ("2026-05-02", 6)), b.params({}))
    assert d.expr(env, date(2026, 6, 1)) == 9
    env = b.bind(record(("2026-02-02", 3), ("2026-05-02", None)), b.params({}))
    got = d.expr(env, date(2026, 6, 1))
    assert got is not True and "months" in getattr(got, "names", ())


def test_a_field_of_the_wrong_type_is_a_record_error(tmp_path):
    from engine.beneficiary.bind import BindError

    spec = spec_of(tmp_path)
    b = E.plan_for(spec).binder
    with pytest.raises(BindError) as e:
        b.bind(record(("2026-02-02", "3")), b.params({}))
    assert "étape « developpement », champ « months »" in str(e.value)


@pytest.mark.parametrize("change,code", [
    (("(history where date == phase_start).months", "(history where date == phase_start).mois"), "expr.unknown_field"),
    (("months: {type: integer", "date: {type: integer"), "spec.reserved"),
])
def test_unknown_or_reserved_fields_are_positioned_errors(tmp_path, change, code):
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, SPEC.replace(*change))
    assert code in [d.code for d in e.value.diagnostics]
