"""`engine diff --records`: the impact of a change on a small hand-made record set (tests/diff/records.jsonl),
with the expected changes counted by hand from the rules, and the per-record comparison on crafted outputs.

Hand count at 2026-04-01, base.yaml -> v_deadline_21.yaml (first appointment within 15 -> 21 days of orientation):
- R2 oriented 02/02, first appointment 20/02 (day 18): due 17/02 missed -> due 23/02 met; it was the only
  violation, so the path becomes legal;
- R4 oriented 14/03, no appointment yet: due 29/03 passed (missed) -> due 04/04 not passed (pending); the path stays
  illegal (still in orientation after the 15 days of the transition to accueil, unchanged);
- R1 (day 8) and R3 (day 25) are met / missed under both; R5-R8 have no history; R9 is not valid JSON.
base.yaml -> v_age_threshold.yaml (young disabled: age <= 25 -> <= 29): only R5 (27, disabled, not RSA) becomes
eligible; R6 (31) stays not eligible, R7 (no birth date) stays unknown.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.audit.versions import load_version
from engine.audit.impact import ImpactKind, analyse_impact, compare_outputs, record_changes

HERE = Path(__file__).parent / "diff"
BASE = str(HERE / "base.yaml")
RECORDS = str(HERE / "records.jsonl")
AT = date(2026, 4, 1)


def _impact(variant: str):
    with load_version(BASE) as a, load_version(str(HERE / variant)) as b:
        return analyse_impact(a.compiled(), b.compiled(), RECORDS, at=AT)


def _kinds(impact) -> list[tuple]:
    return [(k.kind, k.item, k.old, k.new, k.count, k.examples) for k in impact.kinds]


def test_deadline_15_to_21_days_on_records():
    impact = _impact("v_deadline_21.yaml")
    assert (impact.records, impact.changed, impact.unreadable) == (9, 2, 1)
    assert _kinds(impact) == [
        ("path", "deadline_missed", False, True, 1, ("R2-rdv-a-18-jours",)),
        ("deadline", "first_appointment", "missed", "met", 1, ("R2-rdv-a-18-jours",)),
        ("deadline", "first_appointment", "missed", "pending", 1, ("R4-oriente-le-14-mars",)),
    ]
    assert impact.kinds[1].sentence == ("délai « Premier rendez-vous dans les 21 jours suivant l'orientation » : "
                                        "manqué -> respecté")


def test_age_threshold_on_records():
    impact = _impact("v_age_threshold.yaml")
    assert (impact.records, impact.changed, impact.unreadable) == (9, 1, 1)
    assert _kinds(impact) == [("eligibility", None, False, True, 1, ("R5-handicap-27-ans",))]
    assert impact.kinds[0].sentence == "éligibilité : non éligible -> éligible"


def test_same_version_changes_nothing():
    impact = _impact("base.yaml")
    assert (impact.records, impact.changed, impact.unreadable, impact.kinds) == (9, 0, 1, ())


def test_cli_json_impact(capsys, tmp_path):
    out = tmp_path / "impact.json"
    code = main(["diff", BASE, str(HERE / "v_deadline_21.yaml"), "--records", RECORDS, "--at", "2026-04-01",
                 "-o", str(out)])
    assert code == 0, capsys.readouterr().err
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["impact"]["records"] == 9 and data["impact"]["changed"] == 2 and data["impact"]["unchanged"] == 6
    assert [(k["key"], k["count"]) for k in data["impact"]["kinds"]] == [
        ("path deadline_missed: false -> true", 1), ("deadline first_appointment: missed -> met", 1),
        ("deadline first_appointment: missed -> pending", 1)]
    assert [c["path"] for c in data["changes"] if c["semantic"]] == ["deadlines.first_appointment.within"]


def test_cli_missing_records_file(capsys):
    code = main(["diff", BASE, BASE, "--records", str(HERE / "nope.jsonl")])
    err = capsys.readouterr().err
    assert code == 1 and "nope.jsonl" in err and "Traceback" not in err


# ------------------------------------------------------------------------------------------------ per record

def _out(**kw) -> dict:
    base = {"id": "x", "status": "ok", "eligible": True, "path": {"legal": True},
            "deadlines": [{"id": "d1", "status": "met"}], "obligations": [{"id": "o1", "status": "met"}]}
    base.update(kw)
    return base


@pytest.mark.parametrize("old, new, expected", [
    (_out(), _out(), []),
    (_out(), _out(eligible=None), [("eligibility", None, True, None)]),
    (_out(eligible=False), _out(eligible=True), [("eligibility", None, False, True)]),
    (_out(), _out(path={"legal": False}), [("path", None, True, False)]),
    (_out(), _out(path={"legal": False, "first_violation": {"code": "renewals_exceeded"}}),
     [("path", "renewals_exceeded", True, False)]),
    (_out(path={"legal": False, "first_violation": {"code": "guard_failed"}}), _out(),
     [("path", "guard_failed", False, True)]),
    (_out(), _out(deadlines=[{"id": "d1", "status": "missed"}, {"id": "d2", "status": "pending"}]),
     [("deadline", "d1", "met", "missed"), ("deadline", "d2", None, "pending")]),
    (_out(), _out(obligations=[]), [("obligation", "o1", "met", None)]),
    (_out(), {"id": "x", "status": "error", "error": {"code": "evaluation_error"}}, [("status", None, "ok", "error")]),
    ({"id": "x", "status": "error"}, {"id": "x", "status": "error"}, []),
])
def test_record_changes(old, new, expected):
    assert record_changes(old, new) == expected


def test_compare_outputs_counts_and_examples():
    pairs = [(_out(id=f"r{i}"), _out(id=f"r{i}", eligible=(i % 3 == 0))) for i in range(12)]
    pairs.append((True, {"status": "error"}, {"status": "error"}))
    impact = compare_outputs(pairs, AT, examples=2)
    assert (impact.records, impact.changed, impact.unreadable) == (13, 8, 1)
    assert impact.kinds == (ImpactKind("eligibility", None, True, False, 8, ("r1", "r2")),)


def _with_parameter(tmp_path) -> str:
    text = (HERE / "base.yaml").read_text(encoding="utf-8")
    text = text.replace("definitions:\n", """parameters:
  min_age:
    type: integer
    label: Âge minimal du public jeune handicapé
    interpretation: Paramètre de test.
    source: 01-dynamisation-des-parcours.txt:20

definitions:
""", 1).replace("age(birth_date, today) >= 16 and", "age(birth_date, today) >= min_age and")
    (tmp_path / "vocab.yaml").write_text((HERE / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "param.yaml").write_text(text, encoding="utf-8")
    return str(tmp_path / "param.yaml")


def test_a_parameter_of_one_version_only(tmp_path, capsys):
    new = _with_parameter(tmp_path)
    code = main(["diff", BASE, new, "--records", RECORDS, "--at", "2026-04-01", "--param", "min_age=16", "--json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    data = json.loads(out.out)
    assert [c["path"] for c in data["changes"] if c["semantic"]] == [
        "parameters.min_age", "eligibility.beneficiary.young_disabled.condition"]
    assert data["impact"]["changed"] == 0  # min_age=16: the same rule as before
    # without the value the new version still decides every record: for R5-R7 "age <= 25" is false or unknown, and
    # Kleene logic gives false (R5, R6) or unknown (R7, no birth date) as before
    code = main(["diff", BASE, new, "--records", RECORDS, "--at", "2026-04-01", "--json"])
    data = json.loads(capsys.readouterr().out)
    assert code == 0 and data["impact"]["changed"] == 0 and data["impact"]["unchanged"] == 8
    # a name that neither version declares is a usage error
    code = main(["diff", BASE, new, "--records", RECORDS, "--param", "nope=1"])
    err = capsys.readouterr().err
    assert code == 2 and "nope" in err


def test_json_array_input_gives_the_same_impact(tmp_path):
    lines = [line for line in (HERE / "records.jsonl").read_text(encoding="utf-8").splitlines() if line.strip()]
    valid = [json.loads(line) for line in lines[:-1]]  # the last line is the broken one
    path = tmp_path / "records.json"
    path.write_text(json.dumps(valid, ensure_ascii=False, indent=1), encoding="utf-8")
    with load_version(BASE) as a, load_version(str(HERE / "v_deadline_21.yaml")) as b:
        impact = analyse_impact(a.compiled(), b.compiled(), str(path), at=AT)
    assert (impact.records, impact.changed, impact.unreadable) == (8, 2, 0)
    assert _kinds(impact) == _kinds(_impact("v_deadline_21.yaml"))


@pytest.mark.parametrize("variant", ["v_deadline_21.yaml", "v_phase_added.yaml", "base.yaml"])
def test_lockstep_outputs_equal_separate_evaluations(variant):
    """Both versions read the same decoded records in lockstep: each output must equal that of a separate run."""
    from engine.beneficiary.evaluate import evaluate_stream
    from engine.audit.impact import evaluate_pairs
    from engine.beneficiary.records import read_records

    with load_version(BASE) as a, load_version(str(HERE / variant)) as b:
        sa, sb = a.compiled(), b.compiled()
        pairs = list(evaluate_pairs(sa, sb, RECORDS, AT))
        alone_a = list(evaluate_stream(sa, read_records(RECORDS), AT))
        alone_b = list(evaluate_stream(sb, read_records(RECORDS), AT))
    assert [p[1] for p in pairs] == alone_a and [p[2] for p in pairs] == alone_b
    assert [p[0] for p in pairs] == [False] * 8 + [True]


def test_changed_records_file(tmp_path, capsys):
    out = tmp_path / "changed.jsonl"
    code = main(["diff", BASE, str(HERE / "v_deadline_21.yaml"), "--records", RECORDS, "--at", "2026-04-01",
                 "--changed", str(out)])
    assert code == 0, capsys.readouterr().err
    rows = [json.loads(line) for line in out.read_text(encoding="utf-8").splitlines()]
    assert rows == [
        {"id": "R2-rdv-a-18-jours", "line": 2, "changes": [
            {"kind": "path", "item": "deadline_missed", "old": False, "new": True},
            {"kind": "deadline", "item": "first_appointment", "old": "missed", "new": "met"}]},
        {"id": "R4-oriente-le-14-mars", "line": 4, "changes": [
            {"kind": "deadline", "item": "first_appointment", "old": "missed", "new": "pending"}]}]
    # a run that fails leaves no file (and no temporary file) behind
    out2 = tmp_path / "none.jsonl"
    code = main(["diff", BASE, str(HERE / "v_deadline_21.yaml"), "--records", RECORDS, "--param", "nope=1",
                 "--changed", str(out2)])
    capsys.readouterr()
    assert code == 2 and sorted(p.name for p in tmp_path.iterdir()) == ["changed.jsonl"]
