"""`engine check`: file discovery, summary and exit codes, JSON output, dedup of imported files, source lines."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from engine.spec.check import CheckResult, check_paths, find_files
from engine.cli.main import main

VOCAB = """\
kind: vocabulary
id: voc
attributes:
  rsa: {type: boolean, label: BRSA}
shared:
  brsa_rule:
    id: brsa
    label: Bénéficiaire du RSA
    condition: rsa
    source: "99-texte.txt:2"
"""
SPEC = """\
# yaml-language-server: $schema=../engine/spec/schema/spec.schema.json
id: {id}
version: "2026.1"
title: Spec de test
imports: [voc.yaml]
eligibility:
  beneficiary:
    all:
      - {{use: brsa_rule}}
phases:
  accueil: {{label: Accueil, initial: true, source: "99-texte.txt:3"}}
  sortie: {{label: Sortie, final: true, source: "99-texte.txt:4-5"}}
transitions:
  - {{from: accueil, to: sortie, within: 15 jours, label: Sortie, source: "99-texte.txt:5"}}
"""


@pytest.fixture
def folder(tmp_path, monkeypatch):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    (seeds / "99-texte.txt").write_text("".join(f"ligne {i}\n" for i in range(1, 11)), encoding="utf-8")
    monkeypatch.setenv("ENGINE_SEEDS", str(seeds))
    monkeypatch.chdir(tmp_path)
    d = tmp_path / "specs"
    d.mkdir()
    (d / "voc.yaml").write_text(VOCAB, encoding="utf-8")
    (d / "a.yaml").write_text(SPEC.format(id="a"), encoding="utf-8")
    (d / "b.yml").write_text(SPEC.format(id="b"), encoding="utf-8")
    (d / "samples").mkdir()
    (d / "samples" / "ignored.yaml").write_text("not: [valid\n", encoding="utf-8")
    (d / ".hidden").mkdir()
    (d / ".hidden" / "ignored.yaml").write_text("not: [valid\n", encoding="utf-8")
    (d / "notes.txt").write_text("not yaml", encoding="utf-8")
    return d


def test_find_files_skips_samples_and_hidden_folders(folder):
    files, diags = find_files(["specs"])
    assert files == ["specs/a.yaml", "specs/b.yml", "specs/voc.yaml"] and diags == []
    files, _ = find_files(["specs/a.yaml", "specs", "specs/../specs/a.yaml"])
    assert files == ["specs/a.yaml", "specs/b.yml", "specs/voc.yaml"]


def test_a_valid_folder_passes_with_a_one_line_summary(folder, capsys):
    assert main(["check", "specs"]) == 0
    out, err = capsys.readouterr()
    assert err == ""
    assert out.startswith("3 fichiers vérifiés : 0 erreur")
    result = check_paths(["specs"])
    assert isinstance(result, CheckResult) and result.ok and result.diagnostics == []
    assert set(result.specs) == {"specs/a.yaml", "specs/b.yml"}
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.files = []  # type: ignore[misc]


def test_default_path_is_specs(folder, capsys):
    assert main(["check"]) == 0
    assert capsys.readouterr().out.startswith("3 fichiers vérifiés")


def test_errors_of_a_shared_vocabulary_are_reported_once(folder, capsys):
    (folder / "voc.yaml").write_text(VOCAB.replace("  rsa: {type: boolean", "  rsa: {type: bool"), encoding="utf-8")
    assert main(["check", "specs/a.yaml", "specs/b.yml"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert err.count(": erreur :") == 1 and err.startswith("specs/voc.yaml:4:")
    assert err.rstrip().splitlines()[-1] == "3 fichiers vérifiés : 1 erreur"


def test_errors_of_several_files_are_all_reported_sorted(folder, capsys):
    (folder / "a.yaml").write_text(SPEC.format(id="a").replace("within: 15 jours", "within: quinze jours"),
                                   encoding="utf-8")
    (folder / "b.yml").write_text(SPEC.format(id="b") + "id: again\n", encoding="utf-8")
    assert main(["check", "specs"]) == 1
    err = capsys.readouterr().err
    locs = [line.split(": erreur :")[0] for line in err.splitlines() if ": erreur :" in line]
    assert locs == ["specs/a.yaml:14:41", "specs/b.yml:15:1"]


def test_json_output(folder, capsys):
    assert main(["check", "--json", "specs"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data == {"files": ["specs/a.yaml", "specs/b.yml", "specs/voc.yaml"], "errors": 0, "warnings": 0,
                    "diagnostics": []}
    (folder / "a.yaml").write_text(SPEC.format(id="a").replace("title:", "titel:"), encoding="utf-8")
    assert main(["check", "--json", "specs/a.yaml"]) == 1
    out, err = capsys.readouterr()
    assert err == ""
    data = json.loads(out)
    assert data["errors"] == 1
    d = data["diagnostics"][0]
    assert {k: d[k] for k in ("file", "line", "column", "code")} == {"file": "specs/a.yaml", "line": 4, "column": 1,
                                                                     "code": "schema.unknown_key"}
    assert d["hint"] == "vouliez-vous dire « title » ?"


@pytest.mark.parametrize("path,message", [("nowhere", "aucun fichier ni dossier de ce nom"),
                                                 ("nowhere.yaml", "aucun fichier ni dossier de ce nom")])
def test_unreadable_paths_exit_1_with_a_clear_message(folder, capsys, path, message):
    assert main(["check", path]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"{path}: erreur : impossible de lire ce chemin : {message}")
    assert "Traceback" not in err


def test_sources_are_checked_against_the_texts(folder, capsys):
    text = SPEC.format(id="a").replace('"99-texte.txt:4-5"', '"99-texte.txt:4-11"').replace(
        '"99-texte.txt:3"', '"98-texte.txt:3"')
    (folder / "a.yaml").write_text(text, encoding="utf-8")
    assert main(["check", "specs/a.yaml"]) == 1
    err = capsys.readouterr().err
    assert "specs/a.yaml:11:52: erreur : phases.accueil.source : aucun texte source nommé « 98-texte.txt »" in err
    assert "conseil : vouliez-vous dire « 99-texte.txt » ?" in err
    assert "specs/a.yaml:12:62: erreur : phases.sortie.source : la ligne 11 est au-delà de la fin de 99-texte.txt (10 lignes)" in err


def test_sources_are_not_checked_without_the_texts(folder, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ENGINE_SEEDS", str(tmp_path / "absent"))
    (folder / "a.yaml").write_text(SPEC.format(id="a").replace("99-texte.txt:3", "99-texte.txt:300"),
                                   encoding="utf-8")
    assert main(["check", "specs/a.yaml"]) == 0


def test_the_shared_block_sources_point_into_the_vocabulary(folder, capsys):
    (folder / "voc.yaml").write_text(VOCAB.replace("99-texte.txt:2", "99-texte.txt:20"), encoding="utf-8")
    assert main(["check", "specs"]) == 1
    err = capsys.readouterr().err
    assert err.count(": erreur :") == 1
    assert "specs/voc.yaml:10:27: erreur : shared.brsa_rule.source : la ligne 20 est au-delà de la fin" in err


def test_an_empty_folder_is_a_warning(folder, capsys):
    (folder / "empty").mkdir()
    assert main(["check", "specs/empty"]) == 0
    out, err = capsys.readouterr()
    assert err.startswith("specs/empty: avertissement : aucun fichier .yaml ou .yml dans ce dossier")
    assert out == "0 fichier vérifié : 0 erreur, 1 avertissement\n"


def test_an_engine_bug_is_reported_against_its_file_and_the_others_are_checked(folder, capsys, monkeypatch):
    import engine.spec.check as check

    def broken_compile():
        def compile_spec(doc):
            if doc.path.endswith("a.yaml"):
                raise ZeroDivisionError("boom")
            return object()
        return compile_spec

    monkeypatch.setattr(check, "_compiler", broken_compile)
    assert main(["check", "specs"]) == 1
    err = capsys.readouterr().err
    assert err.startswith("specs/a.yaml: erreur : erreur interne du moteur pendant la compilation de ce fichier (ZeroDivisionError: boom)")
    assert "Traceback" not in err and err.count(": erreur :") == 1


def test_import_conflicts_are_all_reported_once(folder, capsys):
    (folder / "voc2.yaml").write_text("kind: vocabulary\nid: voc2\nattributes:\n  rsa: {type: string}\n"
                                      "shared:\n  brsa_rule: {id: other, condition: rsa}\n", encoding="utf-8")
    for name, sid in (("a.yaml", "a"), ("b.yml", "b")):
        (folder / name).write_text(SPEC.format(id=sid).replace("[voc.yaml]", "[voc.yaml, voc2.yaml]"),
                                   encoding="utf-8")
    assert main(["check", "specs"]) == 1
    err = capsys.readouterr().err
    locs = [line.split(": erreur :")[0] for line in err.splitlines() if ": erreur :" in line]
    assert locs == ["specs/voc2.yaml:4:3", "specs/voc2.yaml:6:3"]
    assert "attributes : « rsa » est défini différemment dans deux vocabulaires importés, voc.yaml (ligne 4) et " \
           "voc2.yaml (ligne 4)" in err
