"""`engine diff path@rev`: versions read from git in a temporary repository made by the test (and a fresh clone),
imports read at the same revision, the work tree never touched, clear errors."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from engine.cli.main import main

HERE = Path(__file__).parent / "diff"


def git(repo: Path, *args: str) -> str:
    r = subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.org",
                        "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)
    return r.stdout


@pytest.fixture(scope="module")
def repo(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("repo")
    git(root, "init", "-q", "-b", "main")
    specs = root / "specs"
    specs.mkdir()
    shutil.copy(HERE / "vocab.yaml", specs / "vocab.yaml")
    shutil.copy(HERE / "base.yaml", specs / "prog.yaml")
    git(root, "add", ".")
    git(root, "commit", "-qm", "v1")
    git(root, "tag", "v1")
    # second revision: the deadline becomes 21 days, the shared vocabulary gains an appointment mode
    prog = (specs / "prog.yaml").read_text(encoding="utf-8").replace("    within: 15 days\n", "    within: 21 days\n")
    (specs / "prog.yaml").write_text(prog, encoding="utf-8")
    vocab = (specs / "vocab.yaml").read_text(encoding="utf-8").replace("video]", "video, visit]")
    (specs / "vocab.yaml").write_text(vocab, encoding="utf-8")
    (specs / "broken.yaml").write_text("id: broken\nphases:\n  a: {label: A}\n  a: {label: B}\n", encoding="utf-8")
    git(root, "add", ".")
    git(root, "commit", "-qm", "v2")
    # uncommitted work: the funding share changes in the work tree only
    (specs / "prog.yaml").write_text(prog.replace("share: 40%", "share: 30%"), encoding="utf-8")
    return root


def _json(argv, capsys) -> dict:
    code = main(argv + ["--format", "json"])
    out = capsys.readouterr()
    assert code == 0, out.err
    return json.loads(out.out)


def _status(repo: Path) -> tuple[str, list[str]]:
    return git(repo, "status", "--porcelain", "--ignored"), sorted(str(p) for p in repo.rglob("*") if ".git" not in p.parts)


def test_two_revisions_with_imports_at_the_same_revision(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo)
    before = _status(repo)
    data = _json(["diff", "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD"], capsys)
    assert [(c["path"], c["old"], c["new"]) for c in data["changes"]] == [
        ("inputs.event:appointment.fields.mode.values", ["in_person", "phone", "video"],
         ["in_person", "phone", "video", "visit"]),
        ("deadlines.first_appointment.within", "15 days", "21 days")]
    assert data["old"]["ref"] == "specs/prog.yaml@HEAD~1" and data["new"]["ref"] == "specs/prog.yaml@HEAD"
    # positions name the file at its revision (the vocabulary too), never the private copy
    line_of = {name: [i for i, t in enumerate((HERE / name).read_text(encoding="utf-8").splitlines(), 1) if needle in t]
               for name, needle in (("vocab.yaml", "mode:"), ("base.yaml", "    within: 15 days"))}
    assert [c["where"] for c in data["changes"]] == [f"specs/vocab.yaml@HEAD:{line_of['vocab.yaml'][0]}",
                                                    f"specs/prog.yaml@HEAD:{line_of['base.yaml'][0]}"]
    assert _status(repo) == before  # nothing written, nothing changed in the work tree


def test_tag_against_the_work_tree(repo, capsys, monkeypatch):
    monkeypatch.chdir(repo / "specs")  # a path relative to a sub-folder of the repository
    data = _json(["diff", "prog.yaml@v1", "prog.yaml"], capsys)
    paths = [c["path"] for c in data["changes"] if c["semantic"]]
    assert paths == ["inputs.event:appointment.fields.mode.values", "deadlines.first_appointment.within",
                     "funding.department_share.share"]


def test_fresh_clone(repo, tmp_path, capsys, monkeypatch):
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True, capture_output=True)
    monkeypatch.chdir(clone)
    data = _json(["diff", "specs/prog.yaml@v1", "specs/prog.yaml@origin/main"], capsys)
    assert [c["path"] for c in data["changes"]] == ["inputs.event:appointment.fields.mode.values",
                                                    "deadlines.first_appointment.within"]
    # the file need not exist in the work tree
    os.remove(clone / "specs" / "prog.yaml")
    data = _json(["diff", "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD"], capsys)
    assert len(data["changes"]) == 2


def _private_copies() -> set:
    return set(Path(tempfile.gettempdir()).glob("engine-diff-*"))


def test_private_copies_are_removed(repo, capsys, monkeypatch, tmp_path):
    # a private temporary folder: other processes' copies in the shared /tmp must not make this test flaky
    private_tmp = tmp_path / "tmp"
    private_tmp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(private_tmp))
    monkeypatch.chdir(repo)
    before = _private_copies()
    _json(["diff", "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD"], capsys)
    assert main(["diff", "specs/broken.yaml@HEAD", "specs/prog.yaml@HEAD"]) == 1
    capsys.readouterr()
    assert _private_copies() == before == set()


@pytest.mark.parametrize("old, new, needle", [
    ("specs/prog.yaml@nosuchrev", "specs/prog.yaml", "unknown git revision 'nosuchrev'"),
    ("specs/broken.yaml@v1", "specs/prog.yaml", "specs/broken.yaml does not exist at revision v1"),
    ("specs/broken.yaml@HEAD", "specs/prog.yaml", "specs/broken.yaml@HEAD:4:3: erreur : clé « "),
])
def test_git_errors(repo, capsys, monkeypatch, old, new, needle):
    monkeypatch.chdir(repo)
    code = main(["diff", old, new])
    err = capsys.readouterr().err
    assert code == 1 and needle in err and "Traceback" not in err and "engine-diff-" not in err


def test_not_a_repository(tmp_path, capsys, monkeypatch):
    shutil.copy(HERE / "base.yaml", tmp_path / "spec.yaml")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    code = main(["diff", "spec.yaml@HEAD", "spec.yaml"])
    err = capsys.readouterr().err
    assert code == 1 and "not inside a git repository" in err


def test_hostile_file_at_a_revision(tmp_path, capsys, monkeypatch):
    """An alias bomb committed in history fails fast with the loader's positioned error, like `engine check`."""
    git(tmp_path, "init", "-q", "-b", "main")
    bomb = "a: &a [x, x, x, x, x, x, x, x, x]\n" + "".join(
        f"{c}: &{c} [*{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}, *{p}]\n" for p, c in zip("abcdefgh", "bcdefghi"))
    (tmp_path / "bomb.yaml").write_text("imports: [x.yaml]\n" + bomb, encoding="utf-8")
    git(tmp_path, "add", ".")
    git(tmp_path, "commit", "-qm", "bomb")
    monkeypatch.chdir(tmp_path)
    code = main(["diff", "bomb.yaml@HEAD", "bomb.yaml@HEAD"])
    err = capsys.readouterr().err
    assert code == 1 and "bomb.yaml@HEAD:" in err and "alias" in err.lower()
