"""Payment shares the operation gives (08:77-79 and 09:67-69 leave them to the convention): a share outside
0..100 %, or shares adding up to more than 100 %, would pay more than the grant; the report leaves those amounts
uncomputed and says why, and the planned total is not a partial sum."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.operation.report import build_report
from engine.render.report import render_text
from engine.spec.compile import load_spec

SPEC = Path(__file__).resolve().parent.parent / "specs" / "appui-dispositifs-insertion.yaml"


def payments(**shares):
    op = {"id": "op", "spec": "appui-dispositifs-insertion", "convention_start": "2026-01-01",
          "convention_end": "2027-12-31", "grant_awarded": 100000, "signature_date": "2026-02-01", **shares}
    rep = build_report(load_spec(SPEC), op, iter(()), date(2027, 4, 15))
    return rep, {t["id"]: t for t in rep["payments"]["tranches"]}


def test_shares_that_add_up_to_the_grant_are_spread():
    rep, t = payments(advance_share=0.3, installment_share=0.5, balance_share=0.2)
    assert [t[k]["planned"] for k in ("advance", "installment", "balance")] == [30000, 50000, 20000]
    assert rep["payments"]["planned_total"] == 100000 and all(x["note"] is None or "part" not in x["note"]
                                                             for x in t.values())


@pytest.mark.parametrize("bad,shown", [(1.5, "150 %"), (-0.1, "-10 %")])
def test_a_share_outside_0_100_is_not_computed(bad, shown):
    rep, t = payments(advance_share=0.3, installment_share=0.5, balance_share=bad)
    assert (t["balance"]["share"], t["balance"]["planned"], t["balance"]["amount"]) == (None, None, None)
    assert t["balance"]["note"] == f"part invalide : {shown} (une part est comprise entre 0 et 100 %)"
    assert t["advance"]["planned"] == 30000           # the valid ones are still spread
    assert rep["payments"]["planned_total"] is None  # not the partial 80 000
    assert rep["payments"]["total"] is None


def test_shares_above_100_percent_leave_every_given_share_uncomputed():
    rep, t = payments(advance_share=0.3, installment_share=0.5, balance_share=0.4)
    note = "les parts dépassent 100 % (30 % + 50 % + 40 % = 120 %) : montant non calculé"
    assert all((x["planned"], x["amount"], x["note"]) == (None, None, note) for x in t.values())
    assert rep["payments"]["planned_total"] is None and rep["payments"]["due_at"] is None  # the advance is due, amount unknown
    assert "les parts dépassent 100 %" in render_text(rep)


def test_a_share_with_decimals_is_shown_in_french():
    _rep, t = payments(advance_share=0.125, installment_share=0.5, balance_share=0.5)
    assert t["advance"]["note"].startswith("les parts dépassent 100 % (12,5 % + 50 % + 50 % = 112,5 %)")
