"""The README is a front page that tells the truth: its main command prints the summary it shows, its test command
is the one CI runs, it stays short, and every page of docs/ is in the index docs/README.md."""

from __future__ import annotations

import re
import shlex
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")


def _section(title: str) -> str:
    start = README.index(f"\n## {title}\n")
    end = README.find("\n## ", start + 1)
    return README[start:end if end >= 0 else None]


def test_the_main_command_prints_the_summary_the_readme_shows(capsys, monkeypatch):
    from engine.cli.main import main

    section = _section("The main command")
    commands = re.findall(r"^    (engine .+)$", section, flags=re.M)
    assert len(commands) == 1, commands
    shown = re.search(r"```\n(.*?)```\n", section, flags=re.S).group(1)
    monkeypatch.chdir(ROOT)
    rc = main(shlex.split(commands[0])[1:])
    captured = capsys.readouterr()
    assert rc == 0
    assert captured.err == shown
    assert len(captured.out.splitlines()) == int(shown.split()[0])  # one decision per record


def test_the_test_command_is_the_one_ci_runs():
    commands = re.findall(r"^    (\S.*)$", _section("Tests"), flags=re.M)
    assert commands == ["python -m pytest -n auto"]  # one worker per core (pytest-xdist, in the `test` extra)
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8")
    assert re.search(r"^# The README's test command[^\n]*:\n(?:set [+-]e\n)?" + re.escape(commands[0]) + "$", ci,
                     flags=re.M), ci


def test_the_readme_is_a_front_page():
    assert len(README.splitlines()) <= 150
    for title in ("Set up", "The main command", "Tests", "Commands", "Documentation"):
        assert f"\n## {title}\n" in README, title


def test_every_command_has_a_row_and_a_page():
    from engine.cli.main import build_parser

    rows = {}
    for line in _section("Commands").splitlines():
        cells = [c.strip() for c in re.split(r"(?<!\\)\|", line)[1:-1]]
        if len(cells) == 3 and cells[0].startswith("`engine "):
            rows[cells[0].split()[1].strip("`")] = re.fullmatch(r"\[[^]]+\]\(([^)]+)\)", cells[2]).group(1)
    parser = build_parser()
    sub = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    assert set(rows) == set(sub.choices), (set(rows) ^ set(sub.choices))
    for page in rows.values():
        assert (ROOT / page.split("#")[0]).is_file(), page


def test_every_page_of_docs_is_in_the_index():
    index = (ROOT / "docs" / "README.md").read_text(encoding="utf-8")
    listed = set(re.findall(r"^\| \[[^]]+\]\(([^)#]+)\)", index, flags=re.M))
    pages = {p.name for p in (ROOT / "docs").glob("*.md") if p.name != "README.md"}
    assert pages <= listed, pages - listed
