"""The shipped specs (`specs/*.yaml`): what `engine check specs/` and `engine test specs/` do, run in CI by pytest,
one test per file so that a failure names the programme.

- `engine check` finds no error (YAML, schema, expressions, phase graph, source lines against the seeds);
- every embedded example passes (expectations written from the source texts, see each spec);
- a programme with beneficiary paths (a `phases:` section) has at least 10 beneficiary examples, and every spec
  has at least one example.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.check import check_paths
from engine.examples import run_examples
from engine.loader import load_document

ROOT = Path(__file__).resolve().parent.parent
ALL = sorted((ROOT / "specs").glob("*.yaml"))
SPECS = [p for p in ALL if str(load_document(p).data.get("kind") or "spec") == "spec"]


def _ids(p: Path) -> str:
    return p.stem


def test_there_are_eleven_programmes_at_least():
    assert len(SPECS) >= 11, [p.name for p in SPECS]


@pytest.mark.parametrize("path", ALL, ids=_ids)
def test_engine_check_finds_no_error(path):
    result = check_paths([str(path)])
    assert [d.format() for d in result.errors] == []


@pytest.mark.parametrize("path", SPECS, ids=_ids)
def test_embedded_examples_pass(path):
    results = run_examples([path])
    assert results, f"{path.name} has no example"
    failed = [{"example": r.name, "line": r.line, "status": r.status, "message": r.message,
               "mismatches": [(m.key, m.expected, m.actual) for m in r.mismatches]}
              for r in results if not r.passed]
    assert failed == []


@pytest.mark.parametrize("path", SPECS, ids=_ids)
def test_programmes_with_paths_have_ten_beneficiary_examples(path):
    data = load_document(path).data
    if not data.get("phases"):  # operator side only (06): operation examples
        assert len(data.get("examples") or ()) >= 1
        return
    records = [e for e in data.get("examples") or () if e.get("record") is not None]
    assert len(records) >= 10, f"{path.name}: {len(records)} beneficiary examples"
