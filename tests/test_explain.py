"""`engine explain`: the trace on hand-made cases, its JSON Schema on real outputs, the French text, narrowing,
the command line and its errors."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import jsonschema
import pytest

from engine.cli.main import main
from engine.spec.compile import load_spec
from engine.errors import RecordError, UsageError
from engine.examples import jsonish
from engine.beneficiary.explain import explain_record
from engine.cli.explain import pick_record
from engine.render.explain import fmt, render_text
from engine.spec.schema import explain_schema

ROOT = Path(__file__).resolve().parent.parent
SPECS = sorted(p for p in (ROOT / "specs").glob("*.yaml") if p.name != "common.yaml")
ASPI = ROOT / "specs/accompagnement-social-professionnel-intensif.yaml"
CJ = ROOT / "specs/coach-jeunesse.yaml"
CS = ROOT / "specs/clauses-sociales.yaml"
VALIDATOR = jsonschema.Draft202012Validator(explain_schema(),
                                            format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)
_SPECS: dict = {}


def spec_of(p: Path):
    if p not in _SPECS:
        _SPECS[p] = load_spec(p)
    return _SPECS[p]


def valid(trace: dict) -> dict:
    errors = sorted(VALIDATOR.iter_errors(trace), key=lambda e: list(e.absolute_path))
    assert not errors, [(list(e.absolute_path), e.message[:300]) for e in errors[:3]]
    json.dumps(trace)  # plain JSON data, as a server sends it
    return trace


def get(obj, dotted: str):
    """``a.b.0.c``; a segment ``[id]`` picks the item of a list with that id."""
    for seg in dotted.split("."):
        if seg.startswith("["):
            obj = next(x for x in obj if x.get("id") == seg[1:-1])
        elif isinstance(obj, list):
            obj = obj[int(seg)]
        else:
            obj = obj[seg]
    return obj


# ----------------------------------------------------------------------------------------------- the schema

def test_the_schema_is_a_valid_json_schema(capsys):
    assert main(["schema", "--output", "explain"]) == 0
    schema = json.loads(capsys.readouterr().out)
    jsonschema.Draft202012Validator.check_schema(schema)
    assert schema == explain_schema()


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.stem)
def test_every_example_trace_matches_the_schema_and_renders(path):
    spec = spec_of(path)
    for ex in spec.examples:
        if ex.record is None:
            continue
        trace = valid(explain_record(spec, jsonish(ex.record), ex.at, dict(ex.params)))
        assert trace["status"] == "ok", ex.name
        text = render_text(trace)
        assert trace["record"]["id"] in text


def test_the_schema_rejects_what_is_not_a_trace():
    spec = spec_of(CJ)
    ex = next(e for e in spec.examples if e.record is not None)
    trace = explain_record(spec, jsonish(ex.record), ex.at, dict(ex.params))
    trace["eligibility"]["children"][0]["expr"]["kind"] = "guess"
    assert list(VALIDATOR.iter_errors(trace))


# ----------------------------------------------------------------------------------------------- hand-made cases

CJ_RECORD = {"id": "CJ-X", "birth_date": "2005-05-10", "department": "62", "disability": False,
             "in_school_training_or_insertion": False,
             "history": [{"phase": "reperage", "date": "2026-01-12"}, {"phase": "co_construction", "date": "2026-02-02"},
                         {"phase": "accompagnement", "date": "2026-03-02"}],
             "events": [{"type": "shared_diagnostic", "date": "2026-02-09"},
                        {"type": "appointment", "date": "2026-02-10", "mode": "in_person"},
                        {"type": "action_plan", "date": "2026-02-16"},
                        {"type": "appointment", "date": "2026-03-10", "mode": "in_person"}]}

CASES = [
    # (name, spec, record, at, params, {dotted path in the trace: expected value})
    ("age through a definition", CJ, CJ_RECORD, "2026-06-01", {"min_meetings_per_month": 1}, {
        "eligible": True,
        "eligibility.children.[age].children.[age_16_25].expr.children.0.children.0.kind": "definition",
        # 04:8 assessed at the repérage (12/01/2026, 20 years old), not at the evaluation date (21)
        "eligibility.children.[age].children.[age_16_25].expr.children.0.children.0.value": 20,
        "eligibility.children.[age].children.[age_16_25].assessed_on": "2026-01-12",
        "eligibility.children.[age].children.[age_16_25].expr.children.0.children.0.children.0.function": "age",
        "eligibility.children.[age].children.[age_16_25].reads": ["birth_date"],
        "parameters.0.value": 1, "parameters.0.supplied": True}),
    ("a missing birth date leaves the age unknown and names it", CJ,
     {k: v for k, v in CJ_RECORD.items() if k != "birth_date"}, "2026-06-01", {"min_meetings_per_month": 1}, {
         "eligible": None, "eligibility.missing": ["birth_date"],
         "eligibility.children.[age].children.[age_16_25].value": None,
         "eligibility.children.[age].children.[age_16_25].missing": ["birth_date"]}),
    ("short circuit: the operands after a false one are not evaluated", CJ, CJ_RECORD, "2026-06-01", {}, {
        "eligibility.children.[age].children.[disability_up_to_30].expr.children.0.value": False,
        "eligibility.children.[age].children.[disability_up_to_30].expr.children.1.kind": "skipped",
        "eligibility.children.[age].children.[disability_up_to_30].expr.children.1.evaluated": False}),
    ("a parameter not given is listed as such, and the obligation reading it is undecided", CJ, CJ_RECORD,
     "2026-06-01", {}, {
         "parameters.0.name": "min_meetings_per_month", "parameters.0.supplied": False, "parameters.0.value": None,
         "obligations.[regular_meetings].windows.1.status": "undecided",
         "obligations.[regular_meetings].missing": ["min_meetings_per_month"]}),
    ("a guard keeps the events it counted", CJ, CJ_RECORD, "2026-06-01", {"min_meetings_per_month": 1}, {
        "path.steps.2.transition.number": 2,
        "path.steps.2.transition.guard.value": True,
        "path.steps.2.transition.guard.children.0.children.0.children.0.kind": "filter",
        "path.steps.2.transition.guard.children.0.children.0.children.0.kept":
            [{"type": "shared_diagnostic", "date": "2026-02-09"}],
        "path.steps.2.transition.guard.children.0.children.0.children.0.total": 4}),
    ("a stay's window only holds the events of the stay (an absence before the reception is not counted)",
     ASPI, {"id": "X", "history": [{"phase": "orientation", "date": "2026-02-02"},
                                   {"phase": "accueil", "date": "2026-02-10"},
                                   {"phase": "sortie", "date": "2026-03-20"}],
            "events": [{"type": "absence", "date": "2026-02-03", "justified": False}]}, "2026-05-01", {}, {
         "obligations.[suspension_procedure].status": "met",
         "obligations.[suspension_procedure].windows.0.start": "2026-02-10",
         "obligations.[suspension_procedure].windows.0.end": "2026-03-19",
         "obligations.[suspension_procedure].windows.0.events": []}),
    ("a deadline's where: the candidates it left out and the one it took", CS,
     {"id": "cs", "rsa": True, "history": [{"phase": "mobilisation", "date": "2026-03-02"}],
      "events": [{"type": "follow_up", "date": "2026-04-01", "horizon": 12},
                 {"type": "follow_up", "date": "2026-09-03", "horizon": 6}]}, "2027-06-01", {}, {
         "deadlines.[follow_up_6_months].status": "met",
         "deadlines.[follow_up_6_months].earliest": "2026-08-02",
         "deadlines.[follow_up_6_months].due": "2026-10-02",
         "deadlines.[follow_up_6_months].anchor.history_index": 0,
         "deadlines.[follow_up_6_months].target.candidates.0.accepted": False,
         "deadlines.[follow_up_6_months].target.candidates.0.where.value": False,
         "deadlines.[follow_up_6_months].target.candidates.1.accepted": True,
         "deadlines.[follow_up_6_months].target.date": "2026-09-03"}),
    ("a milestone's window: a target before it does not count", CS,
     {"id": "cs", "rsa": True, "history": [{"phase": "mobilisation", "date": "2026-03-02"}],
      "events": [{"type": "follow_up", "date": "2026-05-01", "horizon": 6}]}, "2027-06-01", {}, {
         "deadlines.[follow_up_6_months].status": "missed",
         "deadlines.[follow_up_6_months].early": "2026-05-01",
         "deadlines.[follow_up_6_months].target.candidates.0.early": True,
         "deadlines.[follow_up_6_months].target.candidates.0.accepted": False,
         "deadlines.[follow_up_6_months].target.date": None}),
]


@pytest.mark.parametrize("name,spec_path,raw,at,params,expect", CASES, ids=[c[0] for c in CASES])
def test_cases(name, spec_path, raw, at, params, expect):
    trace = valid(explain_record(spec_of(spec_path), json.loads(json.dumps(raw)), date.fromisoformat(at), params))
    for key, want in expect.items():
        assert get(trace, key) == want, key


def test_every_node_carries_its_position_and_the_rule_source():
    spec = spec_of(CJ)
    trace = explain_record(spec, CJ_RECORD, date(2026, 6, 1), {"min_meetings_per_month": 1})
    rule = get(trace, "eligibility.children.[age].children.[age_16_25]")
    assert rule["at"].startswith(str(CJ)) and rule["source"] == "04-coach-jeunesse.txt:8"
    stack = [rule["expr"]]
    seen = 0
    while stack:
        n = stack.pop()
        seen += 1
        assert n["at"] and n["source"], n
        stack.extend(n.get("children") or ())
    assert seen > 5
    definition = rule["expr"]["children"][0]["children"][0]
    lines = Path(CJ).read_text(encoding="utf-8").splitlines()
    expr_line = next(i for i, ln in enumerate(lines, 1) if ln.strip() == "age_years:") + 1  # its `expr:` line
    assert definition["definition"]["at"].startswith(f"{CJ}:{expr_line}:")


def test_constants_list_the_numbers_and_durations_used():
    trace = explain_record(spec_of(CS), {"id": "cs", "history": [{"phase": "mobilisation", "date": "2026-03-02"}]},
                           date(2026, 12, 1), {}, deadlines=["follow_up_6_months"])
    by_name = {c.get("name") or c["in"]: c for c in trace["constants"]}
    assert by_name["deadlines[follow_up_6_months].within"]["text"] == "7 mois"
    assert by_name["deadlines[follow_up_6_months].not_before"]["text"] == "5 mois"
    assert by_name["deadlines[follow_up_6_months].within"]["source"] == "10-clauses-sociales.txt:34"


# ----------------------------------------------------------------------------------------------- narrowing

def test_narrowing():
    spec = spec_of(CJ)
    t = valid(explain_record(spec, CJ_RECORD, date(2026, 6, 1), {}, transitions=["2"]))
    assert [s["transition"]["number"] for s in t["path"]["steps"]] == [2]
    assert "eligibility" not in t and "deadlines" not in t and "obligations" not in t
    t = valid(explain_record(spec, CJ_RECORD, date(2026, 6, 1), {}, transitions=["reperage->co_construction"]))
    assert [s["index"] for s in t["path"]["steps"]] == [1]
    t = valid(explain_record(spec, CJ_RECORD, date(2026, 6, 1), {}, rules=["age_16_25", "age_years"]))
    assert [r["id"] for r in t["rules"]] == ["age_16_25", "age_years"]
    assert t["rules"][1]["kind"] == "definition" and t["rules"][1]["value"] == 21
    t = valid(explain_record(spec, CJ_RECORD, date(2026, 6, 1), {}, obligations=["regular_meetings"]))
    assert [o["id"] for o in t["obligations"]] == ["regular_meetings"] and "path" not in t
    assert t["selection"]["obligations"] == ["regular_meetings"]


@pytest.mark.parametrize("kw,code", [({"rules": ["age1625"]}, "explain.unknown_rule"),
                                     ({"deadlines": ["nope"]}, "explain.unknown_deadline"),
                                     ({"obligations": ["regular_meeting"]}, "explain.unknown_obligation"),
                                     ({"transitions": ["99"]}, "explain.unknown_transition")])
def test_unknown_names_are_usage_errors(kw, code):
    with pytest.raises(UsageError) as e:
        explain_record(spec_of(CJ), CJ_RECORD, date(2026, 6, 1), {}, **kw)
    assert e.value.code == code
    assert e.value.exit_code == 2


# ----------------------------------------------------------------------------------------------- French text

def test_french_values():
    assert fmt("0.4", "number") == "0,4"
    assert fmt("2026-03-02", "date") == "02/03/2026"
    assert fmt("P15D", "duration") == "15 jours"
    assert fmt(None, "unknown", ["birth_date"]) == "inconnu (manque : birth_date)"


def test_text_reads_like_the_decision(tmp_path, capsys):
    rec = tmp_path / "r.json"
    rec.write_text(json.dumps(CJ_RECORD), encoding="utf-8")
    assert main(["explain", "--spec", str(CJ), str(rec), "--at", "2026-06-01", "--param",
                 "min_meetings_per_month=1", "--format", "text"]) == 0
    text = capsys.readouterr().out
    assert "Éligibilité : ÉLIGIBLE" in text
    assert "age_years : âge au 12/01/2026 = 20 ans ≥ 16 : vrai" in text  # at the repérage (04:8, assessed at entry)
    assert "date retenue : âge à l'entrée le 2026-01-12 : 20 ans" in text
    assert "birth_date (Date de naissance) = 10/05/2005" in text
    assert "department = « 62 », égal à « 62 » : vrai" in text
    assert "· shared_diagnostic du 09/02/2026" in text
    line = next(i for i, ln in enumerate(Path(CJ).read_text(encoding="utf-8").splitlines(), 1)
                if ln.strip() == "- id: age_16_25")  # the rule, where its item starts
    assert f"[{CJ}:{line}:13 · texte 04-coach-jeunesse.txt:8]" in text
    assert "min_meetings_per_month = 1" in text


# ----------------------------------------------------------------------------------------------- command line

def test_format_follows_the_output(tmp_path, capsys):
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(CJ_RECORD) + "\n" + json.dumps({**CJ_RECORD, "id": "CJ-Y"}) + "\n", encoding="utf-8")
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "CJ-Y", "--at", "2026-06-01"]) == 0
    trace = valid(json.loads(capsys.readouterr().out))  # piped: JSON
    assert trace["record"] == {"id": "CJ-Y", "file": str(src), "line": 2}
    out = tmp_path / "trace.txt"
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "CJ-X", "--at", "2026-06-01", "-o", str(out)]) == 0
    assert out.read_text(encoding="utf-8").startswith("Explication de la décision")
    out = tmp_path / "trace.json"
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "CJ-X", "--at", "2026-06-01", "-o", str(out)]) == 0
    valid(json.loads(out.read_text(encoding="utf-8")))


def test_errors(tmp_path, capsys):
    src = tmp_path / "r.jsonl"
    src.write_text(json.dumps(CJ_RECORD) + "\n" + json.dumps({"id": "bad", "birth_date": "2026-02-30"}) + "\n",
                   encoding="utf-8")
    spec = spec_of(CJ)
    with pytest.raises(RecordError) as e:
        pick_record(str(src), spec, "CJ-Z")
    assert e.value.code == "explain.unknown_id" and "CJ-X" in e.value.diagnostic.hint
    with pytest.raises(UsageError) as e:
        pick_record(str(src), spec, None)
    assert e.value.code == "explain.several_records"
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "CJ-Z"]) == 1
    err = capsys.readouterr().err
    assert f"{src}: erreur : aucun enregistrement d'identifiant « CJ-Z »" in err and "vouliez-vous dire" in err
    assert main(["explain", "--spec", str(CJ), str(src)]) == 2
    assert "--id" in capsys.readouterr().err
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "bad"]) == 1  # a record that cannot be bound
    err = capsys.readouterr().err
    assert f"{src}:2: erreur : l'enregistrement bad ne peut pas être évalué" in err and "2026-02-30" in err
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "CJ-X", "--rule", "age1625"]) == 2
    assert "vouliez-vous dire « age_16_25 »" in capsys.readouterr().err
    assert main(["explain", "--spec", str(CJ), str(src), "--id", "CJ-X", "--param", "nope=1"]) == 2
    assert main(["explain", "--spec", str(CJ), str(tmp_path / "absent.jsonl")]) == 1
    assert "impossible d'ouvrir" in capsys.readouterr().err


def test_an_example_of_the_spec(capsys):
    name = "Jeune de 21 ans hors radars : repérage, co-construction, accompagnement avec une rencontre par mois"
    assert main(["explain", "--spec", str(CJ), "--example", name, "--format", "json"]) == 0
    trace = valid(json.loads(capsys.readouterr().out))
    assert trace["record"]["example"] == name and trace["as_of"] == "2026-06-01"
    assert trace["parameters"][0]["value"] == 1  # the example's params
    assert main(["explain", "--spec", str(CJ), "--example", name, "--param", "min_meetings_per_month=3",
                 "--format", "json"]) == 0
    assert json.loads(capsys.readouterr().out)["parameters"][0]["value"] == 3
    assert main(["explain", "--spec", str(CJ), "--example", "Jeune de 21 ans"]) == 2
    assert f"voulez-vous dire « {name} » ?" in capsys.readouterr().err
    assert main(["explain", "--spec", str(CJ)]) == 2  # neither a record nor an example


MINI_FAILING = """\
id: explain-failing
version: "1"
title: Une règle qui divise par un nombre du dossier
inputs:
  attributes:
    income: {type: number, label: Revenus}
    members: {type: integer, label: Personnes au foyer}
eligibility:
  beneficiary:
    all:
      - id: per_person
        label: Revenus par personne sous 500
        condition: income / members < 500
        source: "01-dynamisation-des-parcours.txt:20"
      - id: income_known
        label: Revenus déclarés
        condition: income >= 0
        source: "01-dynamisation-des-parcours.txt:21"
"""


def test_an_evaluation_error_is_explained_where_it_happens(tmp_path):
    p = tmp_path / "failing.yaml"
    p.write_text(MINI_FAILING, encoding="utf-8")
    spec = load_spec(p)
    trace = valid(explain_record(spec, {"id": "z", "income": 900, "members": 0}, date(2026, 3, 1)))
    assert trace["status"] == "error" and trace["error"]["code"] == "evaluation_error"
    leaf = get(trace, "eligibility.children.[per_person]")
    assert leaf["expr"]["kind"] == "error" and "division par zéro" in leaf["expr"]["error"]
    assert get(trace, "eligibility.children.[income_known].value") is True
    assert "erreur d'évaluation" in render_text(trace)
    bad = valid(explain_record(spec, {"id": "x", "income": "900.50", "members": 2}, date(2026, 3, 1)))
    assert bad["status"] == "error" and "eligibility" not in bad
    ok = valid(explain_record(spec, json.loads('{"id": "y", "income": 900.50, "members": 2}'), date(2026, 3, 1)))
    assert get(ok, "eligibility.children.[per_person].expr.children.0.value") == "450.25"
    assert "450,25 < 500 : vrai" in render_text(ok)
