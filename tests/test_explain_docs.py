"""docs/examples/: the worked examples are what `engine explain` says today on the specs' own examples."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

import gen_explain_docs  # noqa: E402


def test_the_committed_pages_are_up_to_date():
    want = gen_explain_docs.pages()
    stale = [str(p) for p, text in want.items()
             if not (ROOT / p).is_file() or (ROOT / p).read_text(encoding="utf-8") != text]
    assert not stale, f"out of date (run python tools/gen_explain_docs.py): {stale}"
    committed = {p.relative_to(ROOT) for p in (ROOT / "docs/examples").glob("*.md")}
    assert committed == set(want), "pages of no programme (run python tools/gen_explain_docs.py)"


def test_one_page_per_programme_with_beneficiary_examples():
    want = gen_explain_docs.pages()
    for sp in gen_explain_docs.spec_paths():
        spec = gen_explain_docs.load_spec(ROOT / sp)
        has = any(e.record is not None for e in spec.examples)
        assert (Path("docs/examples") / f"{sp.stem}.md" in want) == has, sp
    page = want[Path("docs/examples/coach-jeunesse.md")]
    # 04:8 the age is assessed at the repérage (assessed_at: entry), not at the evaluation date (01/06/2026, 21)
    assert "age_years : âge au 12/01/2026 = 20 ans ≥ 16 : vrai" in page
    assert "date retenue : âge à l'entrée le 2026-01-12 : 20 ans" in page
    assert 'engine explain --spec specs/coach-jeunesse.yaml --example "' in page


def test_the_reproduce_command_prints_the_page_trace(capsys):
    import os
    import shlex

    from engine.cli.main import main

    page = (ROOT / "docs/examples/mobilite.md").read_text(encoding="utf-8")
    cmd = page.split("```sh\n", 1)[1].split("\n", 1)[0]
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        assert main(shlex.split(cmd)[1:]) == 0
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert out.rstrip("\n") in page
