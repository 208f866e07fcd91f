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

from engine.spec.check import check_paths
from engine.examples import run_examples
from engine.spec.loader import load_document

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


# ------------------------------------------------------------------------------------------ bundled samples

def _sample_cases():
    out = []
    for exp in sorted((ROOT / "specs" / "samples").glob("*.expected.jsonl")):
        sid = exp.name[: -len(".expected.jsonl")]
        recs = exp.with_name(f"{sid}.records.jsonl")
        spec = ROOT / "specs" / f"{sid}.yaml"
        if recs.exists() and spec.exists():
            out.append((spec, recs, exp))
    return out


@pytest.mark.parametrize("spec_path,records_path,expected_path", _sample_cases(), ids=lambda p: p.name)
def test_bundled_sample_records_give_the_expected_decisions(spec_path, records_path, expected_path):
    """specs/samples/<id>.records.jsonl evaluated at each expectation's `at` (with its `params`) gives the decisions
    of specs/samples/<id>.expected.jsonl (written from the source text)."""
    import json
    from datetime import date

    from engine.spec.compile import load_spec
    from engine.beneficiary.evaluate import evaluate_record
    from engine.examples import compare, lookup

    spec = load_spec(spec_path)
    records = {r["id"]: r for r in map(json.loads, records_path.read_text(encoding="utf-8").splitlines()) if r}
    expectations = [json.loads(x) for x in expected_path.read_text(encoding="utf-8").splitlines() if x.strip()]
    assert expectations and set(e["id"] for e in expectations) <= set(records)
    wrong = []
    for e in expectations:
        out = evaluate_record(spec, records[e["id"]], date.fromisoformat(e["at"]), e.get("params") or {})
        for key, want in e.items():
            if key in ("id", "at", "params", "name"):
                continue
            ok, got = compare(want, lookup(out, key))
            if not ok:
                wrong.append((e["id"], key, want, str(got)))
    assert wrong == []
