"""`engine diff`: golden outputs for hand-made version pairs, exact changes, CLI formats and errors.

The pairs live in tests/diff/: ``base.yaml`` and variants ``v_*.yaml`` that each change one thing (the comment at the
top of each variant says what). Golden files: tests/diff/golden/<variant>.{txt,json}; regenerate with
``python -m pytest tests/test_diff.py --update-goldens`` and review the change before committing.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.audit.diff import diff_versions
from engine.audit.versions import load_version

HERE = Path(__file__).parent / "diff"
GOLDEN = HERE / "golden"
BASE = str(HERE / "base.yaml")
VARIANTS = sorted(p.stem for p in HERE.glob("v_*.yaml"))


def _diff(new: str, old: str = BASE):
    with load_version(old) as a, load_version(new) as b:
        return diff_versions(a, b)


def _run(argv, capsys):
    code = main(argv)
    out = capsys.readouterr()
    return code, out.out, out.err


def _rel(text: str) -> str:
    return text.replace(str(HERE) + os.sep, "tests/diff/")


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("fmt, suffix", [("text", "txt"), ("json", "json"), ("markdown", "md"), ("html", "html")])
def test_golden_outputs(variant, fmt, suffix, capsys, golden, tmp_path):
    new = str(HERE / f"{variant}.yaml")
    # no source texts: the goldens do not depend on where the texts are (the quotes: tests/test_diff_money.py)
    code, out, _ = _run(["diff", BASE, new, "--format", fmt, "--seeds", str(tmp_path)], capsys)
    assert code == 0
    golden(GOLDEN / f"{variant}.{suffix}", _rel(out))


def _semantic(result) -> dict:
    return {c.path: c for c in result.changes if c.semantic}


def test_deadline_15_to_21_days():
    r = _diff(str(HERE / "v_deadline_21.yaml"))
    sem = _semantic(r)
    assert list(sem) == ["deadlines.first_appointment.within"]
    c = sem["deadlines.first_appointment.within"]
    assert (c.kind, c.old, c.new) == ("changed", "15 days", "21 jours")
    assert "15 jours -> 21 jours" in c.sentence and c.sentence.startswith("Délai « Premier rendez-vous")
    # the label, version and validity changed too, as non-semantic changes
    assert {c.path for c in r.changes if not c.semantic} == {
        "deadlines.first_appointment.label", "metadata.version", "metadata.valid_from", "metadata.valid_until"}
    assert len(r.warnings) == 1 and "chevauchent" in r.warnings[0] and "du 01/06/2026 au 30/06/2026" in r.warnings[0]


def test_youth_cap_removed():
    r = _diff(str(HERE / "v_youth_cap_removed.yaml"))
    assert [(c.path, c.kind, c.semantic) for c in r.changes] == [
        ("cohort_constraints.youth_share", "removed", True)]
    c = r.changes[0]
    assert c.new is None and c.old["condition"].startswith("count(participants where jeune) <= 20%")
    assert c.sentence == "Contrainte de cohorte supprimée : « Au plus 20 % de jeunes » (youth_share)"
    assert any("même" in w for w in r.warnings)  # same version number, different rules


def test_phase_added_and_transitions_matched_by_phases():
    r = _diff(str(HERE / "v_phase_added.yaml"))
    assert sorted((c.path, c.kind) for c in r.changes) == [
        ("phases.diagnostic", "added"),
        ("transitions.accueil->contrat", "removed"),
        ("transitions.accueil->diagnostic", "added"),
        ("transitions.diagnostic->contrat", "added")]
    phase = next(c for c in r.changes if c.path == "phases.diagnostic")
    assert phase.new["max_duration"] == "1 month" and phase.old is None
    assert phase.sentence == "Phase ajoutée : « Diagnostic 360° » (diagnostic)"


def test_funding_share_changed():
    r = _diff(str(HERE / "v_funding_share.yaml"))
    sem = _semantic(r)
    assert list(sem) == ["funding.department_share.share"]
    c = sem["funding.department_share.share"]
    assert (c.old, c.new) == ("40%", "30%")
    assert c.sentence.endswith("part : 40\u00a0% -> 30\u00a0%")


def test_threshold_inside_expression():
    r = _diff(str(HERE / "v_age_threshold.yaml"))
    c = _semantic(r)["eligibility.beneficiary.young_disabled.condition"]
    assert c.constants == (("25", "29"),)
    assert c.old.endswith("<= 25 and disability") and c.new.endswith("<= 29 and disability")
    assert c.sentence.endswith("seuil de la condition : 25 -> 29")
    src = next(c for c in r.changes if c.path == "eligibility.beneficiary.brsa.source")
    assert not src.semantic


def test_same_file_has_no_change(capsys):
    r = _diff(BASE, BASE)
    assert r.changes == () and r.warnings == ()
    code, out, _ = _run(["diff", BASE, BASE, "--json"], capsys)
    data = json.loads(out)
    assert code == 0 and data["changes"] == [] and data["impact"] is None
    code, out, _ = _run(["diff", BASE, BASE], capsys)
    assert "Aucune différence." in out


def test_reformatted_copy_has_no_change(tmp_path):
    """Flow vs block style, key order, French keywords and durations, 0.40 for 40%, extra parentheses: no change."""
    text = (HERE / "base.yaml").read_text(encoding="utf-8")
    for a, b in [
        ("within: 15 days", "within: 15 jours"), ("within: 4 weeks", "within: 28 days"),
        ("max_duration: 24 months", "max_duration: 2 ans"), ("share: 40%", "share: 0.40"),
        ("condition: rsa, source", "condition: (rsa), source"),
        ('      and count(events where type == "appointment" and mode == "in_person") >= 1',
         '      et (count(events where type == "appointment" et mode == "in_person") >= 1)'),
        ("<= 20% * count(participants)", "<= 0.2 * count( participants )"),
        ("""  - id: resident_62
        label: Réside dans le Pas-de-Calais
        condition: department == "62"
        source: 01-dynamisation-des-parcours.txt:16""",
         """  - source: 01-dynamisation-des-parcours.txt:16
        condition: 'department=="62"'
        label: Réside dans le Pas-de-Calais
        id: resident_62"""),
    ]:
        assert a in text, a
        text = text.replace(a, b)
    (tmp_path / "vocab.yaml").write_text((HERE / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    r = _diff(str(tmp_path / "spec.yaml"))
    assert r.changes == ()


def test_rule_moved_to_another_group_is_a_parent_change(tmp_path):
    text = (HERE / "base.yaml").read_text(encoding="utf-8")
    moved = text.replace("""      - id: resident_62
        label: Réside dans le Pas-de-Calais
        condition: department == "62"
        source: 01-dynamisation-des-parcours.txt:16
      - id: public
        label: Public visé
        any:
""", """      - id: public
        label: Public visé
        any:
          - id: resident_62
            label: Réside dans le Pas-de-Calais
            condition: department == "62"
            source: 01-dynamisation-des-parcours.txt:16
""")
    assert moved != text
    (tmp_path / "vocab.yaml").write_text((HERE / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(moved, encoding="utf-8")
    r = _diff(str(tmp_path / "spec.yaml"))
    assert [(c.path, c.old, c.new) for c in r.changes] == [
        ("eligibility.beneficiary.resident_62.parent", "beneficiary", "public")]
    assert r.changes[0].semantic


def test_vocabulary_change_is_seen_through_the_import(tmp_path):
    (tmp_path / "vocab.yaml").write_text((HERE / "vocab.yaml").read_text(encoding="utf-8").replace(
        "values: [in_person, phone, video]", "values: [in_person, phone, video, visit]"), encoding="utf-8")
    (tmp_path / "spec.yaml").write_text((HERE / "base.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    r = _diff(str(tmp_path / "spec.yaml"))
    assert [(c.path, c.semantic) for c in r.changes] == [("inputs.event:appointment.fields.mode.values", True)]
    assert "ajout de « visit »" in r.changes[0].sentence


# ------------------------------------------------------------------------------------------------ formats, CLI

def test_markdown_and_html_outputs(tmp_path, capsys):
    new = str(HERE / "v_deadline_21.yaml")
    code, out, _ = _run(["diff", BASE, new, "--format", "markdown"], capsys)
    assert code == 0 and out.startswith("# Différences entre deux versions")
    assert "| ~ | Délai « Premier rendez-vous dans les 21 jours suivant l'orientation » — délai : 15 jours -> " \
           f"21 jours | `deadlines.first_appointment.within` {new}:70 | décisions |" in out
    target = tmp_path / "diff.html"
    code, out, err = _run(["diff", BASE, new, "-o", str(target)], capsys)
    assert code == 0 and out == ""
    page = target.read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>") and page.rstrip().endswith("</html>")
    assert "15 jours -&gt; 21 jours" in page
    low = page.lower()
    for external in ("http://", "https://", "src=", "<link", "<script", "@import", "url("):
        assert external not in low, external
    assert "chevauchent" in err  # warnings go to stderr when the output is a file
    assert [p.name for p in tmp_path.iterdir()] == ["diff.html"]  # no temporary file left behind


def test_output_is_atomic_when_the_folder_is_missing(tmp_path, capsys):
    code, _, err = _run(["diff", BASE, BASE, "-o", str(tmp_path / "nope" / "x.json")], capsys)
    assert code == 2 and "n'existe pas" in err


@pytest.mark.parametrize("argv, code, needle", [
    (["diff", "tests/diff/nope.yaml", BASE], 1, "no such spec file"),
    (["diff", str(HERE), BASE], 2, "is a folder"),
    (["diff", BASE], 2, "obligatoires manquants : NOUVELLE"),
    (["diff", BASE, BASE, "--format", "pdf"], 2, "choix invalide"),
])
def test_usage_and_missing_files(argv, code, needle, capsys):
    got, out, err = _run(argv, capsys)
    assert got == code and needle in err and "Traceback" not in err and out == ""


def test_broken_yaml_is_a_positioned_error(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("id: x\nphases:\n  a: {label: A}\n  a: {label: B}\n", encoding="utf-8")
    code, out, err = _run(["diff", BASE, str(bad)], capsys)
    assert code == 1 and f"{bad}:4:3" in err and "en double" in err and "Traceback" not in err


def test_changed_definitions_and_attributes_name_their_users(tmp_path):
    (tmp_path / "vocab.yaml").write_text((HERE / "vocab.yaml").read_text(encoding="utf-8").replace(
        "department: {type: string, label: Département de résidence}",
        "department: {type: enum, values: [\"59\", \"62\"], label: Département de résidence}"), encoding="utf-8")
    text = (HERE / "base.yaml").read_text(encoding="utf-8")
    text = text.replace("expr: age(birth_date, today) <= 25", "expr: age(birth_date, today) <= 29")
    text = text.replace("definitions:\n", "definitions:\n  jeune_du_62:\n    expr: jeune and department == \"62\"\n"
                        "    label: Jeune du Pas-de-Calais\n", 1)
    text = text.replace("where jeune)", "where jeune_du_62)")
    (tmp_path / "spec.yaml").write_text(text, encoding="utf-8")
    r = _diff(str(tmp_path / "spec.yaml"))
    by_path = {c.path: c for c in r.changes}
    jeune = by_path["definitions.jeune.expr"]
    # read through the definition jeune_du_62 by the youth cap
    assert jeune.used_by == ("cohort_constraints.youth_share", "definitions.jeune_du_62")
    assert jeune.sentence.endswith("seuil de l'expression : 25 -> 29 ; utilisée par : Contrainte de cohorte « Au plus "
                                   "20 % de jeunes », Définition « Jeune du Pas-de-Calais »")
    dep = by_path["inputs.attribute:department.type"]
    assert dep.used_by == ("cohort_constraints.youth_share", "definitions.jeune_du_62",
                           "eligibility.beneficiary.resident_62")
    assert "; utilisé par : Contrainte de cohorte" in dep.sentence
    assert by_path["inputs.attribute:department.values"].kind == "added"


def test_diff_of_a_vocabulary_file(tmp_path):
    text = (HERE / "vocab.yaml").read_text(encoding="utf-8")
    text = text.replace("  rsa: {type: boolean, label: Bénéficiaire du RSA}\n",
                        "  rsa: {type: boolean, label: Bénéficiaire du RSA}\n  precarity: {type: boolean, label: Précarité}\n")
    text += "shared:\n  advance:\n    {id: advance, label: Avance, share: 30%, due: signature}\n"
    (tmp_path / "vocab.yaml").write_text(text, encoding="utf-8")
    r = _diff(str(tmp_path / "vocab.yaml"), str(HERE / "vocab.yaml"))
    assert [(c.path, c.kind) for c in r.changes] == [("inputs.attribute:precarity", "added"),
                                                     ("shared.advance", "added")]
    assert r.changes[1].sentence == "Bloc partagé ajouté : « Avance » (advance)"


@pytest.mark.parametrize("variant", VARIANTS)
def test_reverse_of_each_pair_is_the_inverse(variant):
    new = str(HERE / f"{variant}.yaml")
    forward, backward = _diff(new), _diff(BASE, new)
    flip = {"added": "removed", "removed": "added", "changed": "changed"}
    assert sorted((c.path, flip[c.kind], repr(c.new), repr(c.old), c.semantic) for c in forward.changes) == \
        sorted((c.path, c.kind, repr(c.old), repr(c.new), c.semantic) for c in backward.changes)
    assert forward.changes  # each variant differs from the base
