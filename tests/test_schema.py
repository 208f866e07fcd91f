"""The JSON Schema of the spec format: valid 2020-12, documented, strict on the beneficiary side, plain messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator

from engine.cli.main import main
from engine.errors import SpecError
from engine.spec.loader import load_document, load_yaml
from engine.spec.schema import schema, schema_text, validate, validate_data, validate_document

REPO = Path(__file__).resolve().parent.parent
SPECS = sorted(p for p in (REPO / "specs").glob("*.yaml"))
SCHEMA_LINE = "# yaml-language-server: $schema=../engine/spec/schema/spec.schema.json"


def test_schema_is_valid_2020_12_and_printed_by_engine_schema(capsys):
    s = schema()
    Draft202012Validator.check_schema(s)
    assert s["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert main(["schema"]) == 0
    out = capsys.readouterr().out
    assert json.loads(out) == s == json.loads(schema_text())


def _walk(node, path=""):
    if isinstance(node, dict):
        yield path, node
        for k, v in node.items():
            yield from _walk(v, f"{path}/{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _walk(v, f"{path}/{i}")


def test_every_property_has_a_title_and_a_description():
    missing = []
    for path, node in _walk(schema()):
        for name, prop in (node.get("properties") or {}).items():
            if path.endswith("/if") or "/if/" in path:
                continue  # discriminators, not documentation
            if not (isinstance(prop, dict) and prop.get("title") and prop.get("description")):
                if isinstance(prop, dict) and "$ref" in prop and len(prop) == 1:
                    target = schema()
                    for part in prop["$ref"].lstrip("#/").split("/"):
                        target = target[part]
                    if target.get("title") and target.get("description"):
                        continue
                missing.append(f"{path}/properties/{name}")
    assert missing == []


STRICT = ["spec", "vocabulary", "eligibility", "rule_leaf", "rule_all", "rule_any", "rule_not", "phase",
          "transition", "anchor", "deadline", "obligation", "attribute", "event_type", "parameter", "definition",
          "inputs", "session", "convention", "example"]


@pytest.mark.parametrize("name", STRICT)
def test_beneficiary_side_objects_reject_unknown_keys(name):
    assert schema()["$defs"][name].get("additionalProperties") is False


def test_editor_schema_path_of_the_specs_resolves_to_the_packaged_schema():
    target = (REPO / "specs" / "../engine/spec/schema/spec.schema.json").resolve()
    assert json.loads(target.read_text(encoding="utf-8")) == schema()


@pytest.mark.parametrize("path", SPECS, ids=lambda p: p.name)
def test_specs_start_with_the_schema_line_and_validate(path):
    assert path.read_text(encoding="utf-8").splitlines()[0] == SCHEMA_LINE
    doc = load_document(path)
    assert [d.format() for d in validate(doc)] == []


# ---------------------------------------------------------------------------------------------- scalar formats
def _def_validator(name: str) -> Draft202012Validator:
    s = schema()
    return Draft202012Validator({"$defs": s["$defs"], "$ref": f"#/$defs/{name}"},
                                format_checker=Draft202012Validator.FORMAT_CHECKER)


FORMATS = [
    ("duration", ["15 days", "15 jours", "1 day", "4 weeks", "4 semaines", "6 months", "6 mois", "2 years", "2 ans",
                  "1 an", " 3 mois ", "6months", "1 an et 6 mois"],  # the syntax of engine/expr/durations.py
     ["six mois", "6", "6 moiss", "-1 day", "1.5 months", "1 an, 6 mois", "P6M", 6, ""]),
    ("date", ["2026-01-12", "2024-02-29"], ["2026-02-30", "2025-02-29", "2026-13-01", "20260112", "12/01/2026",
                                            "2026-1-12", 20260112]),
    ("source", ["02-accompagnement-social-professionnel-intensif.txt:14", "05-chantiers-insertion.txt:12-14"],
     ["02-accompagnement.txt", "accompagnement.txt:14", "02-Foo.txt:1", "02-foo.txt:a", "02-foo.txt:1-", 14]),
    ("percentage", ["40%", "40 %", "100%", "12.5%", 0, 1, "0%"], ["40", "40 pour cent", 1.5, -0.1, "%", True]),
    ("money", [22800, 0, "5270.00" and 5270], [-1, "22 800 €", True]),
    ("expression", ["rsa", "age(birth_date, today) >= 18"], ["", True, 3]),
]


@pytest.mark.parametrize("name,good,bad", FORMATS, ids=[f[0] for f in FORMATS])
def test_scalar_formats(name, good, bad):
    from decimal import Decimal

    v = _def_validator(name)
    for value in good:
        assert v.is_valid(value), (name, value)
    assert v.is_valid(Decimal("0.40")) if name == "percentage" else True
    for value in bad:
        assert not v.is_valid(value), (name, value)


# ---------------------------------------------------------------------------------------------- messages
BASE = """\
id: test
version: "2026.1"
title: Test
inputs:
  attributes:
    rsa: {type: boolean, label: BRSA}
eligibility:
  beneficiary:
    all:
      - id: brsa
        label: BRSA
        condition: rsa
        source: "02-accompagnement-social-professionnel-intensif.txt:21"
phases:
  accueil:
    label: Accueil
    initial: true
    max_duration: 6 months
    source: "02-accompagnement-social-professionnel-intensif.txt:38"
  sortie: {label: Sortie, final: true, source: "02-accompagnement-social-professionnel-intensif.txt:74"}
transitions:
  - {from: accueil, to: sortie, within: 15 days, source: "02-accompagnement-social-professionnel-intensif.txt:38"}
deadlines:
  - id: first_appointment
    label: Premier rendez-vous
    from: {phase: accueil}
    to: {event: appointment}
    within: 15 days
    source: "02-accompagnement-social-professionnel-intensif.txt:150"
"""

MESSAGES = [
    # (replace old -> new in BASE, expected message, line, col, expected hint or None, code)
    ("max_duration: 6 months", "max_duration: six mois",
     'phases.accueil.max_duration : il faut une durée comme "6 mois" ou "15 jours", trouvé : "six mois"', 18, 19, None,
     "schema.value"),
    ("        condition: rsa", "        condtion: rsa",
     "eligibility.beneficiary.all[brsa] : clé « condtion » inconnue", 12, 9, "vouliez-vous dire « condition » ?",
     "schema.unknown_key"),
    ("    label: Accueil\n", "", "phases.accueil : clé « label » manquante", 15, 3, "ajoutez label: ... (Libellé)",
     "schema.required"),
    ('version: "2026.1"', "version: 2026.1",
     'version : il faut une version entre guillemets, comme "2026.1", trouvé : 2026.1', 2, 10, None, "schema.value"),
    ("title: Test", "title: Test\nvalid_from: 2026-02-30",
     "valid_from : 2026-02-30 n'est pas une date valable : février 2026 a 28 jours", 4, 13, None, "schema.date"),
    ("title: Test", "title: Test\nvalid_until: 2025-02-29",
     "valid_until : 2025-02-29 n'est pas une date valable : février 2025 a 28 jours", 4, 14, None, "schema.date"),
    ("title: Test", "title: Test\nvalid_until: 12/01/2026",
     'valid_until : il faut une date comme 2026-01-12 (année-mois-jour), trouvé : "12/01/2026"', 4, 14, None,
     "schema.value"),
    ("within: 15 days, source", "within: 15, source",
     'transitions[1].within : il faut une durée comme "6 mois" ou "15 jours", trouvé : 15', 22, 41, None,
     "schema.value"),
    ("from: {phase: accueil}", "from: {phase: accueil, event: x}",
     "deadlines[first_appointment].from : il faut exactement un de {phase: ...}, {event: ...} ou {attribute: ...}, "
     "trouvé : une table", 26, 5, None, "schema.value"),
    ("from: {phase: accueil}", "from: {phasee: accueil}",
     "deadlines[first_appointment].from : clé « phasee » inconnue", 26, 12, "vouliez-vous dire « phase » ?",
     "schema.unknown_key"),
    ("initial: true", "initial: yes", 'phases.accueil.initial : il faut true ou false, trouvé : "yes"', 17, 14, None,
     "schema.type"),
    ("initial: true", "initial: null", "phases.accueil.initial : il faut true ou false, trouvé : rien (null)", 17, 14,
     None, "schema.type"),
    ("title: Test", "title: Test\nterritories: [artois, 12]",
     'territories[2] : il faut un identifiant comme "first_appointment" (lettres, chiffres, _ et -), trouvé : 12',
     4, 23, None, "schema.value"),
    ("title: Test", "title: Test\nkind: spek", "kind : il faut l'une des valeurs spec, vocabulary, trouvé : \"spek\"",
     4, 7, "vouliez-vous dire « spec » ?", "schema.enum"),
    ("title: Test", "title: Test\nphasess: {}", "niveau supérieur : clé « phasess » inconnue", 4, 1,
     "vouliez-vous dire « phases » ?", "schema.unknown_key"),
    ("    rsa: {type: boolean, label: BRSA}", "    rsa: {type: bool, label: BRSA}",
     "inputs.attributes.rsa.type : il faut l'une des valeurs boolean, number, integer, string, date, duration, enum, "
     'list, trouvé : "bool"', 6, 17, "vouliez-vous dire « boolean » ?", "schema.enum"),
    ("    rsa: {type: boolean, label: BRSA}", "    rsa: {type: boolean, label: BRSA (oui, non)}",
     "inputs.attributes.rsa : clé « non) » inconnue", 6, 44, "entre { }, une virgule sépare les entrées : mettez un "
     'texte qui contient une virgule entre guillemets, par exemple label: "a, b"', "schema.unknown_key"),
    ("    rsa: {type: boolean, label: BRSA}", "    2rsa: {type: boolean, label: BRSA}",
     "inputs.attributes : « 2rsa » n'est pas un nom valable ici : il faut un nom comme \"birth_date\" (lettres, "
     "chiffres et _)", 6, 5, None, "schema.name"),
    ("        source: \"02-accompagnement-social-professionnel-intensif.txt:21\"", "        source: ligne 21",
     'eligibility.beneficiary.all[brsa].source : il faut une source comme '
     '"02-accompagnement-social-professionnel-intensif.txt:14" ou "...txt:14-16", trouvé : "ligne 21"', 13, 17, None,
     "schema.value"),
]


@pytest.mark.parametrize("old,new,message,line,col,hint,code", MESSAGES, ids=[m[2][:40] for m in MESSAGES])
def test_schema_errors_are_one_plain_sentence_at_the_node(old, new, message, line, col, hint, code):
    assert old in BASE
    data = load_yaml("t.yaml", BASE.replace(old, new, 1))
    diags = validate_data(data)
    assert [d.message for d in diags] == [message]
    d = diags[0]
    assert (d.file, d.line, d.col) == ("t.yaml", line, col), d.format()
    assert d.hint == hint
    assert d.code == code
    assert "{" not in d.message.split(":")[0]  # a path, never a schema dump


def test_base_is_valid_and_several_errors_are_all_reported_sorted():
    assert validate_data(load_yaml("t.yaml", BASE)) == []
    text = BASE.replace("max_duration: 6 months", "max_duration: 6").replace("        condition: rsa",
                                                                             "        condtion: rsa")
    diags = validate_data(load_yaml("t.yaml", text))
    assert [d.line for d in diags] == [12, 18]


def test_vocabulary_files_use_the_vocabulary_schema():
    ok = "kind: vocabulary\nid: v\nattributes:\n  rsa: {type: boolean, label: BRSA}\nshared:\n  anything: [1, 2]\n"
    assert validate_data(load_yaml("v.yaml", ok)) == []
    bad = ok + "phases: {}\n"
    assert [d.message for d in validate_data(load_yaml("v.yaml", bad))] == ["niveau supérieur : clé « phases » inconnue"]


def test_validate_document_raises_with_every_error(tmp_path):
    (tmp_path / "s.yaml").write_text(BASE.replace("max_duration: 6 months", "max_duration: 6"), encoding="utf-8")
    with pytest.raises(SpecError) as ei:
        validate_document(load_document(tmp_path / "s.yaml"))
    assert len(ei.value.diagnostics) == 1 and ei.value.diagnostics[0].line == 18


# ---------------------------------------------------------------------------------------------- robustness
def _keys():
    names = set()
    for _, node in _walk(schema()):
        names.update((node.get("properties") or {}).keys())
    return sorted(names | {"condtion", "x", "Bad Key", "2"})


_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-5, 100) | st.sampled_from(
        ["6 mois", "six mois", "2026-02-30", "2026-01-12", "40%", "rsa", "", "all", "vocabulary", "spec",
         "02-accompagnement-social-professionnel-intensif.txt:14", "month", "skip"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(_keys()), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(st.sampled_from(_keys()), _VALUES, max_size=6))
def test_any_document_gives_positioned_plain_diagnostics_never_an_exception(data):
    from yamlkit import dump_yaml

    text = dump_yaml(data) if data else "id: x\n"
    loaded = load_yaml("fuzz.yaml", text)
    for d in validate_data(loaded):
        assert d.file == "fuzz.yaml" and d.line and d.col and d.message
        assert "{'" not in d.message and "Traceback" not in d.message
