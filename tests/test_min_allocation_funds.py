"""`funds:` on `funding.min_staff_allocation`: « s'agissant de la contrepartie d'une opération cofinancée FSE+, ...
le taux d'affectation minimum est de 30 % » (05:79, 09:58) holds for an FSE+ operation, not for an FTJ one; with the
fund unknown the rule is applied and the report says so."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.errors import SpecError
from engine.operation.report import build_report
from engine.render.report import render_text
from engine.spec.compile import load_spec

SPEC = """\
id: t
version: "1"
title: Test
inputs:
  operation:
    fund: {type: enum, values: [fse_plus, ftj], label: Fonds}
funding:
  eligible_costs:
    - {id: direct_staff, label: Personnel, source: "09-nouveaux-modes-accompagnement.txt:58"}
  min_staff_allocation: {rate: 30%, funds: [fse_plus], label: Affectation minimum, source: "09-nouveaux-modes-accompagnement.txt:58"}
"""
STAFF = [{"id": "S1", "role": "Référent", "cost": 40000}, {"id": "S2", "role": "Conseiller", "cost": 10000,
                                                            "allocation": 0.25}]


def plan(tmp_path, text=SPEC, **op):
    p = tmp_path / "t.yaml"
    p.write_text(textwrap.dedent(text), encoding="utf-8")
    rep = build_report(load_spec(p), {"id": "op", "staff": STAFF, **op}, iter(()), date(2026, 6, 1))
    return rep, rep["funding_plan"]


@pytest.mark.parametrize("fund,status,costs,s2", [
    ("fse_plus", "failed", 40000, "failed"),       # 25 % < 30 %: the member is refused
    ("ftj", "not_applicable", 50000, "passed"),    # the FSE+ rule does not hold for an FTJ operation
])
def test_the_rule_holds_for_its_funds_only(tmp_path, fund, status, costs, s2):
    rep, fp = plan(tmp_path, fund=fund)
    assert fp["min_staff_allocation"]["status"] == status and fp["min_staff_allocation"]["funds"] == ["fse_plus"]
    assert fp["direct_staff_costs"] == costs
    assert next(s for s in fp["staff"] if s["id"] == "S2")["status"] == s2
    if fund == "ftj":
        assert fp["min_staff_allocation"]["note"] == "règle des opérations cofinancées fse_plus : l'opération est cofinancée ftj"
        assert "sans objet (règle des opérations cofinancées fse_plus" in render_text(rep)


def test_an_unknown_fund_applies_the_rule_and_says_so(tmp_path):
    _rep, fp = plan(tmp_path)
    assert fp["min_staff_allocation"]["status"] == "failed"
    assert fp["min_staff_allocation"]["note"] == "fonds non renseigné (fund) : la règle est appliquée"


def test_without_funds_the_rule_holds_for_every_fund(tmp_path):
    _rep, fp = plan(tmp_path, SPEC.replace("funds: [fse_plus], ", ""), fund="ftj")
    assert fp["min_staff_allocation"]["status"] == "failed" and "funds" not in fp["min_staff_allocation"]


def test_an_unknown_fund_name_is_a_positioned_error(tmp_path):
    with pytest.raises(SpecError) as e:
        plan(tmp_path, SPEC.replace("funds: [fse_plus]", "funds: [fse]"))
    d = e.value.diagnostics[0]
    assert d.code == "spec.operation" and "fse" in d.message and "fse_plus" in (d.hint or "")
