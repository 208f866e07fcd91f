"""Citations are always checked: the tests and CI run with the source texts, a citation to a line that does not
exist fails, and a run without the texts says so once (a warning with how to point at them)."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest

import engine.spec.check as check
from engine.spec.check import locate_seeds
from engine.cli.main import main

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"


def test_the_tests_run_with_the_source_texts():
    folder, warning = locate_seeds()
    assert folder is not None and warning is None, (
        "the source texts are not found, so no source: citation is checked; " + check.SEEDS_HINT)
    names = sorted(p.name for p in folder.glob("*.txt"))
    for spec in SPECS.glob("*.yaml"):
        doc = spec.read_text(encoding="utf-8")
        if "source_document:" in doc:
            cited = doc.split("source_document:", 1)[1].split()[0]
            assert cited in names, f"{spec.name} cites {cited}, which is not among the source texts"


@pytest.fixture
def copy_of_specs(tmp_path) -> Path:
    folder = tmp_path / "specs"
    folder.mkdir()
    for name in ("common.yaml", "mobilite.yaml"):
        shutil.copy(SPECS / name, folder / name)
    return folder


def test_a_citation_past_the_end_of_its_text_fails(copy_of_specs, capsys):
    spec = copy_of_specs / "mobilite.yaml"
    text = spec.read_text(encoding="utf-8")
    changed = re.sub(r"(\n\s+source: \"?07-mobilite\.txt:)\d+(?=[\"\n])", r"\g<1>9999", text, count=1)
    assert changed != text
    spec.write_text(changed, encoding="utf-8")
    assert main(["check", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "la ligne 9999 est au-delà de la fin de 07-mobilite.txt" in err
    assert "warning" not in err


def test_without_the_texts_one_warning_says_how_to_point_at_them(copy_of_specs, capsys, monkeypatch):
    monkeypatch.delenv("ENGINE_SEEDS", raising=False)
    monkeypatch.setattr(check, "_default_seed_folders", lambda: [copy_of_specs / "nowhere"])
    assert main(["check", str(copy_of_specs)]) == 0
    out = capsys.readouterr()
    assert out.err.count(": avertissement :") == 1  # once for the run, not once per file
    assert "textes sources introuvables" in out.err
    assert "ENGINE_SEEDS=DOSSIER" in out.err and "--seeds DOSSIER" in out.err
    assert out.out.strip() == "2 fichiers vérifiés : 0 erreur, 1 avertissement"
    assert main(["check", str(copy_of_specs), "--json"]) == 0
    diags = json.loads(capsys.readouterr().out)["diagnostics"]
    assert [d["code"] for d in diags] == ["source.unchecked"] and diags[0]["severity"] == "warning"


def test_engine_seeds_naming_no_folder_is_named_in_the_warning(copy_of_specs, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ENGINE_SEEDS", str(tmp_path / "typo"))
    assert main(["check", str(copy_of_specs)]) == 0
    err = capsys.readouterr().err
    assert err.count(": avertissement :") == 1 and f"ENGINE_SEEDS={tmp_path / 'typo'} n'est pas un dossier" in err


def test_the_seeds_option_points_at_a_folder(copy_of_specs, capsys, monkeypatch, tmp_path):
    monkeypatch.setenv("ENGINE_SEEDS", str(tmp_path / "typo"))  # --seeds wins over the environment
    other = tmp_path / "other-texts"
    other.mkdir()
    (other / "07-mobilite.txt").write_text("une seule ligne\n", encoding="utf-8")
    assert main(["check", str(copy_of_specs / "mobilite.yaml"), "--seeds", str(other)]) == 1
    err = capsys.readouterr().err
    assert "est au-delà de la fin de 07-mobilite.txt (1 ligne)" in err
    assert "warning" not in err
    assert main(["check", str(copy_of_specs), "--seeds", str(tmp_path / "absent")]) == 2
    assert "--seeds" in capsys.readouterr().err
