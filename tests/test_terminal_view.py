"""The French terminal view of engine evaluate (engine.render.terminal): golden verdicts for the bundled samples of
two programmes, and the rules of what is shown (refusals and unknowns always, the rest only when verbose; colour
only when asked; no control character from a record reaches the terminal)."""

import json
from datetime import date
from pathlib import Path

import pytest

from engine.beneficiary.evaluate import evaluate_record
from engine.render.terminal import Labels, render_record, render_records
from engine.spec.compile import load_spec

ROOT = Path(__file__).resolve().parent.parent
GOLDEN = ROOT / "tests" / "data" / "terminal"
AT = date(2026, 6, 1)
PROGRAMMES = ["dynamisation-des-parcours", "accompagnement-social-professionnel-intensif"]


def _results(name: str):
    spec = load_spec(str(ROOT / "specs" / f"{name}.yaml"))
    lines = (ROOT / "specs" / "samples" / f"{name}.records.jsonl").read_text(encoding="utf-8").splitlines()
    return spec, [json.loads(json.dumps(evaluate_record(spec, json.loads(x), AT), default=str)) for x in lines if x]


@pytest.mark.parametrize("name", PROGRAMMES)
def test_golden_verdicts(name, golden):
    spec, results = _results(name)
    golden(GOLDEN / f"{name}.txt", "".join(render_records(results, spec)))


@pytest.mark.parametrize("answer,sign", [(False, "✗"), (None, "?"), (True, None)])
def test_the_rules_shown_are_those_that_explain_the_answer(answer, sign):
    spec, results = _results("dynamisation-des-parcours")
    r = next(x for x in results if x["eligible"] is answer)
    rules = [line for line in render_record(r, Labels(spec)).splitlines()[1:] if line[2:3] in "✗?✓"]
    expected = [x for x in r["reasons"] if answer is not True and x["value"] is answer]
    assert len(rules) == len(expected)
    assert all(line.startswith(f"  {sign} ") for line in rules)


def test_verbose_shows_every_rule_and_every_item():
    spec, results = _results("accompagnement-social-professionnel-intensif")
    r = results[0]
    short, full = render_record(r, Labels(spec)), render_record(r, Labels(spec), verbose=True)
    assert full.count("✓") == len([x for x in r["reasons"] if x["value"] is True]) + \
        len([d for d in r["deadlines"] if d["status"] == "met"]) + \
        len([o for o in r["obligations"] if o["status"] == "met"])
    assert short.count("✓") == 0 and len(full) > len(short)


def test_colour_only_when_asked():
    spec, results = _results("dynamisation-des-parcours")
    plain = "".join(render_records(results, spec))
    coloured = "".join(render_records(results, spec, color=True))
    assert "\x1b[" not in plain and "\x1b[31m" in coloured
    assert coloured.replace("\x1b[32m", "").replace("\x1b[31m", "").replace("\x1b[33m", "").replace(
        "\x1b[2m", "").replace("\x1b[1m", "").replace("\x1b[0m", "") == plain


def test_a_record_error_is_one_readable_block():
    err = {"id": None, "spec": "s", "spec_version": "1", "status": "error", "line": 7,
           "error": {"code": "invalid_json", "message": "JSON invalide : attendu une valeur"}}
    assert render_record(err, Labels()) == ("(sans identifiant) · ERREUR · ligne 7 · invalid_json\n"
                                            "  JSON invalide : attendu une valeur\n")


def test_text_from_a_record_cannot_drive_the_terminal():
    r = {"id": "X\x1b[2J", "status": "ok", "as_of": "2026-06-01", "eligible": True, "reasons": [], "missing": [],
         "path": {"legal": True, "current_phase": None, "first_violation": None, "violations": [], "next": []},
         "deadlines": [], "obligations": []}
    text = render_record(r, Labels())
    assert "\x1b" not in text and text.startswith("X\\x1b[2J · éligible")


def test_dates_and_windows_read_in_french():
    r = {"id": "D", "status": "ok", "as_of": "2026-06-01", "eligible": True, "reasons": [], "missing": [],
         "path": {"legal": True, "current_phase": "a", "first_violation": None, "violations": [],
                  "next": [{"phase": "b", "label": "Bilan", "earliest": "2026-06-05", "latest": "2026-07-05"}]},
         "deadlines": [{"id": "bilan", "status": "pending", "due": "2026-07-05", "date": None,
                        "earliest": "2026-06-05"}],
         "obligations": []}
    text = render_record(r, Labels())
    assert "bilan : à venir (entre le 05/06/2026 et le 05/07/2026)" in text
    assert "ensuite : Bilan (entre le 05/06/2026 et le 05/07/2026)" in text
    assert text.splitlines()[0] == "D · éligible · au 01/06/2026"
