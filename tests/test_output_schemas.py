"""The JSON Schemas of the outputs (`engine schema --output NAME`) hold for every real output: the bundled samples,
synthetic records of every spec (violations, missing data, bad lines), every operation example embedded in the
specs at several dates, and diffs with and without --records. Each schema also rejects what it must reject."""

from __future__ import annotations

import copy
import functools
import json
import sys
from datetime import date
from pathlib import Path

import jsonschema
import orjson
import pytest

from engine.cli.main import main
from engine.spec.compile import load_spec
from engine.render.schemas import NAMES, output_errors, output_schema

ROOT = Path(__file__).resolve().parent.parent
SAMPLES = ROOT / "specs" / "samples"
SPECS = sorted(p for p in (ROOT / "specs").glob("*.yaml") if p.name != "common.yaml")
sys.path.insert(0, str(ROOT / "tools"))

from synth import BAD_LINES, Synth  # noqa: E402

HINT = ("\nthe output does not match its JSON Schema (engine/render/schemas.py); if the output changed on purpose, "
        "change the schema and docs/output-schemas.md with it")


def _conforms(name: str, value) -> None:
    errors = output_errors(name, value)
    assert errors == [], "\n".join(errors[:10]) + HINT


def _json_default(v):
    from decimal import Decimal
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, date):
        return v.isoformat()
    raise TypeError(type(v).__name__)


def _params(spec) -> list[str]:
    out = []
    for pname, p in spec.parameters.items():
        t = (p.decl or {}).get("type")
        v = {"integer": "2", "number": "2", "boolean": "true"}.get(t)
        if v is not None:
            out += ["--param", f"{pname}={v}"]
    return out


def _run(argv: list[str], capsys) -> str:
    capsys.readouterr()
    rc = main(argv)
    out = capsys.readouterr()
    assert rc == 0, out.err
    return out.out


@pytest.mark.parametrize("name", NAMES)
def test_schemas_are_valid_json_schemas(name, capsys):
    schema = output_schema(name)
    jsonschema.validators.validator_for(schema).check_schema(schema)
    assert json.loads(_run(["schema", "--output", name], capsys)) == schema


@pytest.mark.parametrize("spec_path", SPECS, ids=lambda p: p.stem)
def test_evaluate_outputs_conform(spec_path, tmp_path, capsys):
    spec = load_spec(spec_path)
    s = Synth(spec, 7, date(2026, 1, 5))
    lines = [orjson.dumps(s.record(i, date(2027, 3, 31), 0.5, 0.25, spread=200)) for i in range(80)]
    for k, bad in enumerate(BAD_LINES):
        lines[(k * 11) % len(lines)] = bad
    records = tmp_path / "records.jsonl"
    records.write_bytes(b"\n".join(lines) + b"\n")
    inputs = [str(records)]
    sample = SAMPLES / f"{spec_path.stem}.records.jsonl"
    if sample.is_file():
        inputs.append(str(sample))
    outs = []
    for at in ("2026-03-01", "2027-03-31"):
        text = _run(["evaluate", "--spec", str(spec_path), *inputs, "--at", at, *_params(spec)], capsys)
        outs += [json.loads(x) for x in text.splitlines() if x]
    assert {o["status"] for o in outs} == {"ok", "error"}
    for o in outs:
        _conforms("evaluate", o)
    # --format json: an array of the same objects
    arr = json.loads(_run(["evaluate", "--spec", str(spec_path), str(records), "--format", "json", "--at",
                           "2027-03-31", *_params(spec)], capsys))
    assert isinstance(arr, list) and len(arr) == len(lines)
    for o in arr:
        _conforms("evaluate", o)


def _operation_cases():
    for spec_path in SPECS:
        spec = load_spec(spec_path)
        sample = SAMPLES / f"{spec_path.stem}.operation.json"
        if sample.is_file():
            yield spec_path, "sample", json.loads(sample.read_text(encoding="utf-8")), \
                (SAMPLES / f"{spec_path.stem}.cohort.jsonl").read_text(encoding="utf-8")
        for ex in spec.examples:
            if ex.kind == "operation":
                yield spec_path, f"example {ex.index + 1}", ex.operation or {"id": "op"}, \
                    "".join(json.dumps(r, default=_json_default) + "\n" for r in (ex.cohort or ()))


OPERATIONS = list(_operation_cases())


@functools.lru_cache(maxsize=None)
def _compiled(path: Path):
    return load_spec(path)


def _report_json(spec, op: Path, co: Path, at: str, params: dict) -> dict:
    """What `engine report --format json` prints, through the same functions (the spec compiled once)."""
    from engine.api import build_report, load_operation
    from engine.beneficiary.records import read_records
    from engine.render.report import render

    report = build_report(spec, load_operation(str(op)), read_records(str(co), spec=spec), date.fromisoformat(at),
                          params, records_path=str(co))
    return json.loads(render(report, "json"))


@pytest.mark.parametrize("spec_path,what,operation,cohort", OPERATIONS,
                         ids=[f"{c[0].stem}-{c[1]}" for c in OPERATIONS])
def test_report_outputs_conform(spec_path, what, operation, cohort, tmp_path, capsys):
    op = tmp_path / "op.json"
    op.write_text(json.dumps(operation, default=_json_default), encoding="utf-8")
    co = tmp_path / "cohort.jsonl"
    co.write_text(cohort, encoding="utf-8")
    spec = _compiled(spec_path)
    params = dict(a.split("=", 1) for a in _params(spec)[1::2])
    for at in ("2026-03-01", "2028-06-30"):
        _conforms("report", _report_json(spec, op, co, at, params))
    # without the parameters: unknown figures (nulls) must conform too
    _conforms("report", _report_json(spec, op, co, "2027-04-15", {}))
    if what == "sample":  # and through the command line itself
        _conforms("report", json.loads(_run(["report", "--spec", str(spec_path), "--operation", str(op), "--records",
                                             str(co), "--at", "2027-04-15", "--format", "json",
                                             *_params(spec)], capsys)))


DIFFS = [("specs/dynamisation-des-parcours.yaml", "specs/dynamisation-des-parcours-session-2.yaml",
          "specs/samples/dynamisation-des-parcours.records.jsonl")]
DIFFS += [("tests/diff/base.yaml", f"tests/diff/{p.name}", "tests/diff/records.jsonl")
          for p in sorted((ROOT / "tests" / "diff").glob("v_*.yaml"))]


@pytest.mark.parametrize("old,new,records", DIFFS, ids=[Path(d[1]).stem for d in DIFFS])
def test_diff_outputs_conform(old, new, records, capsys):
    old, new, records = str(ROOT / old), str(ROOT / new), str(ROOT / records)
    plain = json.loads(_run(["diff", old, new, "--format", "json"], capsys))
    assert plain["impact"] is None and plain["changes"]
    _conforms("diff", plain)
    with_records = json.loads(_run(["diff", old, new, "--records", records, "--at", "2026-09-01", "--param",
                                    "min_barriers=2", "--format", "json"], capsys) if "dynamisation" in old else
                              _run(["diff", old, new, "--records", records, "--at", "2026-09-01", "--format", "json"],
                                   capsys))
    assert with_records["impact"] is not None
    _conforms("diff", with_records)
    _conforms("diff", json.loads(_run(["diff", old, old, "--format", "json"], capsys)))  # no change at all


# --------------------------------------------------------------------------------------------- what they reject

def _decision(capsys) -> dict:
    spec = SPECS[0]
    text = _run(["evaluate", "--spec", str(spec), str(SAMPLES / f"{spec.stem}.records.jsonl"), "--at", "2026-06-01"],
                capsys)
    return next(o for o in map(json.loads, text.splitlines()) if o["status"] == "ok" and o["path"]["violations"])


MUTATIONS = [
    ("an unknown key", lambda o: o.update(extra=1)),
    ("a missing key", lambda o: o.pop("deadlines")),
    ("eligible as a text", lambda o: o.update(eligible="oui")),
    ("a date in French notation", lambda o: o.update(as_of="01/06/2026")),
    ("an impossible date", lambda o: o.update(as_of="2026-02-30")),
    ("an unknown deadline status", lambda o: o["deadlines"][0].update(status="late")),
    ("an unknown violation code", lambda o: o["path"]["violations"][0].update(code="oops")),
    ("a reason without its rule", lambda o: o["reasons"][0].pop("rule")),
    ("an error record with decision keys", lambda o: o.update(status="error", error={"code": "x", "message": "y"},
                                                              line=1)),
]


@pytest.mark.parametrize("what,mutate", MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_evaluate_schema_rejects(what, mutate, capsys):
    o = _decision(capsys)
    _conforms("evaluate", o)
    bad = copy.deepcopy(o)
    mutate(bad)
    assert output_errors("evaluate", bad), what


def test_report_and_diff_schemas_reject(capsys):
    spec = "chantiers-insertion"
    report = json.loads(_run(["report", "--spec", f"specs/{spec}.yaml", "--operation",
                              str(SAMPLES / f"{spec}.operation.json"), "--records",
                              str(SAMPLES / f"{spec}.cohort.jsonl"), "--at", "2027-04-15", "--format", "json"], capsys))
    for mutate in (lambda r: r.update(extra=1), lambda r: r.pop("payments"),
                   lambda r: r["payments"]["tranches"][0].update(amount="13 500 €"),
                   lambda r: r["payments"]["tranches"][0].update(status="paid"),
                   lambda r: r["capacity"][0].pop("status"), lambda r: r["operator"].update(eligible="yes")):
        bad = copy.deepcopy(report)
        mutate(bad)
        assert output_errors("report", bad)
    diff = json.loads(_run(["diff", str(ROOT / "tests/diff/base.yaml"), str(ROOT / "tests/diff/v_deadline_21.yaml"),
                            "--format", "json"], capsys))
    for mutate in (lambda d: d.update(extra=1), lambda d: d["changes"][0].update(kind="moved"),
                   lambda d: d["summary"].pop("semantic"), lambda d: d["changes"][0].update(semantic="oui")):
        bad = copy.deepcopy(diff)
        mutate(bad)
        assert output_errors("diff", bad)
