"""A review's earliest date (`not_before`): « à l'issue de la première année de l'opération, un bilan intermédiaire
sera à remettre au plus tard le 31/03/2027 » (01:143) is a window, not only a deadline. A review submitted before the
window opens is `early`: it does not count and the tranche that waits for it is not due."""

from __future__ import annotations

import textwrap
from datetime import date

import pytest

from engine.errors import SpecError
from engine.operation.report import build_report
from engine.render.report import render_text
from engine.spec.compile import load_spec

HEAD = """\
id: t
version: "1"
title: Test
convention: {start: 2026-01-01, end: 2027-12-31, max_duration: 24 months, source: "05-chantiers-insertion.txt:74"}
inputs:
  operation:
    convention_start: {type: date, label: Début de la convention}
    convention_end: {type: date, label: Fin de la convention}
    grant_awarded: {type: number, label: Subvention attribuée}
    intermediate_review_date: {type: date, label: Date de remise du bilan intermédiaire}
    final_review_date: {type: date, label: Date de remise du bilan final}
payments:
  - {id: advance, label: Avance, share: 30%, due: signature, source: "05-chantiers-insertion.txt:98"}
  - {id: installment, label: Acompte, share: 50%, at_most: true, due: intermediate_review,
     source: "05-chantiers-insertion.txt:99"}
  - {id: balance, label: Solde, share: 20%, at_most: true, due: final_review, source: "05-chantiers-insertion.txt:100"}
"""
RELATIVE = """\
reporting:
  - id: intermediate_review
    label: Bilan intermédiaire à l'issue de la première année, au plus tard le 31/03/2027
    due: 2027-03-31
    not_before: {after: convention_start, plus: 12 months}
    source: "05-chantiers-insertion.txt:102"
  - id: final_review
    label: Bilan final dans les 3 mois qui suivent la fin effective
    within: 3 months
    after: convention_end
    not_before: {after: convention_end}
    source: "05-chantiers-insertion.txt:107"
"""
FIXED = RELATIVE.replace("not_before: {after: convention_start, plus: 12 months}", "not_before: 2027-01-01")


def spec_of(tmp_path, body: str):
    p = tmp_path / "t.yaml"
    p.write_text(HEAD + textwrap.dedent(body), encoding="utf-8")
    return load_spec(p)


def errors_of(tmp_path, body: str) -> list[str]:
    with pytest.raises(SpecError) as e:
        spec_of(tmp_path, body)
    return [d.code for d in e.value.diagnostics]


def report(spec, operation, at):
    op = {"id": "op", "convention_start": "2026-01-01", "convention_end": "2027-12-31", "grant_awarded": 100000,
          **operation}
    return build_report(spec, op, iter(()), date.fromisoformat(at))


def row(rep, rid):
    return next(r for r in rep["reporting"] if r["id"] == rid)


def tranche(rep, tid):
    return next(t for t in rep["payments"]["tranches"] if t["id"] == tid)


# submitted on, report date -> status of the review, status of the installment
INTERMEDIATE = [
    ("2026-12-31", "2027-02-01", "early", "awaiting_review"),   # the day before the first year ends
    ("2027-01-01", "2027-02-01", "submitted", "due"),            # the day it opens
    ("2027-03-31", "2027-04-15", "submitted", "due"),            # on the deadline
    ("2027-04-01", "2027-04-15", "submitted_late", "due"),       # the day after
    ("2026-12-31", "2027-04-15", "early", "review_late"),        # only an early one, and the deadline has passed
    (None, "2027-04-15", "late", "review_late"),
    (None, "2026-12-01", "pending", "awaiting_review"),
]


@pytest.mark.parametrize("body", [RELATIVE, FIXED], ids=["relative", "fixed"])
@pytest.mark.parametrize("submitted,at,status,payment", INTERMEDIATE)
def test_intermediate_review_window(tmp_path, body, submitted, at, status, payment):
    spec = spec_of(tmp_path, body)
    rep = report(spec, {"intermediate_review_date": submitted} if submitted else {}, at)
    r = row(rep, "intermediate_review")
    assert (str(r["opens"]), str(r["due"]), r["status"]) == ("2027-01-01", "2027-03-31", status)
    t = tranche(rep, "installment")
    assert t["status"] == payment
    if status == "early":
        assert r["note"] == "remis trop tôt (avant le 01/01/2027)"
        assert t["note"] == "bilan remis trop tôt (avant le 01/01/2027)" and t["due_date"] is None
    else:
        assert "note" not in r


def test_opening_follows_the_operation_start(tmp_path):
    """A convention that starts on 01/03/2026 ends its first year on 01/03/2027: a review on 15/02/2027 is early."""
    spec = spec_of(tmp_path, RELATIVE)
    rep = report(spec, {"convention_start": "2026-03-01", "intermediate_review_date": "2027-02-15"}, "2027-03-01")
    assert (str(row(rep, "intermediate_review")["opens"]), row(rep, "intermediate_review")["status"]) == \
        ("2027-03-01", "early")
    fixed = report(spec_of(tmp_path, FIXED), {"convention_start": "2026-03-01",
                                              "intermediate_review_date": "2027-02-15"}, "2027-03-01")
    assert row(fixed, "intermediate_review")["status"] == "submitted"


def test_a_record_without_its_start_opens_from_the_texts_start(tmp_path):
    spec = spec_of(tmp_path, RELATIVE)
    op = {"id": "op", "convention_end": "2027-12-31", "grant_awarded": 100000,
          "intermediate_review_date": "2026-06-01"}
    r = row(build_report(spec, op, iter(()), date(2026, 7, 1)), "intermediate_review")
    assert (r["opens"], r["status"]) == (date(2027, 1, 1), "early")


@pytest.mark.parametrize("submitted,status", [
    ("2027-06-29", "early"),            # before the actual end
    ("2027-06-30", "submitted"),        # on the end
    ("2027-09-30", "submitted"),
    ("2027-10-01", "submitted_late"),
])
def test_final_review_opens_at_the_actual_end(tmp_path, submitted, status):
    spec = spec_of(tmp_path, RELATIVE)
    rep = report(spec, {"convention_end": "2027-06-30", "final_review_date": submitted}, "2027-10-15")
    r = row(rep, "final_review")
    assert (str(r["opens"]), str(r["due"]), r["status"]) == ("2027-06-30", "2027-09-30", status)
    assert tranche(rep, "balance")["status"] in (("awaiting_review", "review_late") if status == "early"
                                                 else ("due", "not_due", "recovery"))


def test_text_report_says_when_it_opens_and_that_it_came_too_early(tmp_path):
    spec = spec_of(tmp_path, RELATIVE)
    text = render_text(report(spec, {"intermediate_review_date": "2026-12-20"}, "2027-02-01"))
    line = next(x for x in text.splitlines() if "Bilan intermédiaire" in x and "échéance" in x)
    assert "au plus tôt le 2027-01-01, échéance 2027-03-31, remis 2026-12-20 — remis trop tôt (avant le " \
           "01/01/2027)" in line


@pytest.mark.parametrize("body,code", [
    (FIXED.replace("not_before: 2027-01-01", "not_before: 2027-04-01"), "spec.reporting_window"),
    (RELATIVE.replace("not_before: {after: convention_end}", "not_before: {after: convention_end, plus: 4 months}"),
     "spec.reporting_window"),
    (RELATIVE.replace("{after: convention_start, plus", "{after: convention_debut, plus"), "spec.reporting_window"),
    (RELATIVE.replace("{after: convention_start, plus", "{from: convention_start, plus"), None),
    (RELATIVE + """\
  - id: committees
    label: Comités
    condition: grant_awarded > 0
    not_before: 2027-01-01
    source: "05-chantiers-insertion.txt:105"
""", "spec.reporting_window"),
])
def test_impossible_or_misplaced_opening_is_an_error(tmp_path, body, code):
    codes = errors_of(tmp_path, body)
    assert codes and (code is None or codes == [code]), codes


def test_opening_on_the_deadline_is_allowed(tmp_path):
    spec = spec_of(tmp_path, FIXED.replace("not_before: 2027-01-01", "not_before: 2027-03-31"))
    assert row(report(spec, {"intermediate_review_date": "2027-03-31"}, "2027-04-01"),
               "intermediate_review")["status"] == "submitted"


@pytest.mark.parametrize("start,submitted,at,status", [
    ("2026-06-01", "2027-03-15", "2027-04-15", "submitted"),       # in time for the text's deadline: it counts
    ("2026-06-01", "2027-05-15", "2027-06-15", "submitted_late"),  # after the deadline, not « too early »
    ("2026-06-01", None, "2027-04-15", "late"),
])
def test_an_opening_after_the_deadline_is_dropped_and_said(tmp_path, start, submitted, at, status):
    """A convention starting on 01/06/2026 ends its first year on 01/06/2027, after « au plus tard le 31/03/2027 »:
    no day would satisfy both, so the deadline is kept without an opening and the row says why."""
    spec = spec_of(tmp_path, RELATIVE)
    op = {"convention_start": start, **({"intermediate_review_date": submitted} if submitted else {})}
    rep = report(spec, op, at)
    r = row(rep, "intermediate_review")
    assert (r["opens"], r["due"], r["status"]) == (None, date(2027, 3, 31), status)
    assert r["note"] == ("sans date d'ouverture : l'ouverture calculée (01/06/2027) tombe après l'échéance "
                         "(31/03/2027), seule l'échéance est retenue")
    assert tranche(rep, "installment")["status"] == {"submitted": "due", "submitted_late": "due",
                                                     "late": "review_late"}[status]
    assert "seule l'échéance est retenue" in render_text(rep)


def test_an_opening_on_or_before_the_deadline_is_kept(tmp_path):
    spec = spec_of(tmp_path, RELATIVE)
    r = row(report(spec, {"convention_start": "2026-03-31", "intermediate_review_date": "2027-03-30"},
                   "2027-04-15"), "intermediate_review")
    assert (r["opens"], r["status"]) == (date(2027, 3, 31), "early") and "ouverture calculée" not in r["note"]
