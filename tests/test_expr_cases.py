"""Runs the data-driven expression cases of tests/expr_cases.yaml (see the header of that file)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.expr.compiler import compile_expression
from engine.expr.record_scope import scope_from_record
from engine.errors import EngineError, EvaluationError, ExpressionError, TextOrigin
from engine.expr.runtime import Unknown
from engine.expr.runtime_json import to_json, value_from_json
from engine.expr.types import BOOLEAN, type_from_decl
from yamlkit import read_yaml

_FILE = read_yaml(Path(__file__).parent / "expr_cases.yaml")  # the engine's loader (YAML 1.2, no anchors)
RECORDS = _FILE["records"]
CASES = _FILE["cases"]


def _id(case) -> str:
    return case["expr"][:60]


def strict_equal(a, b) -> bool:
    """== that tells true from 1 and 1 from 1.0's type-less twin only where JSON does (bool vs number)."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(strict_equal(x, y) for x, y in zip(a, b))
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(strict_equal(a[k], b[k]) for k in a)
    return a == b


def run_case(case):
    record = case.get("record") or {}
    if isinstance(record, str):  # a named record of the file's `records:`
        record = RECORDS[record]
    scope, env = scope_from_record(record)
    for name, decl in (case.get("types") or {}).items():
        t = type_from_decl(decl)
        scope.names[name] = t
        env[name] = value_from_json(record.get(name), t, name)
    expect = BOOLEAN if case.get("expect") == "boolean" else None
    compiled = compile_expression(case["expr"], scope, origin=TextOrigin(file="<case>"), expect=expect)
    at = date.fromisoformat(case["at"]) if case.get("at") else date(2026, 3, 1)
    return compiled.fn(env, at)


def test_at_least_200_cases():
    assert len(CASES) >= 200


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_case(case):
    if "error" in case:
        with pytest.raises(EngineError) as info:
            run_case(case)
        err = info.value
        assert isinstance(err, (ExpressionError, EvaluationError)), type(err)
        codes = [d.code for d in err.diagnostics]
        d = err.diagnostics[0]
        assert d.code == case["error"], err.format()
        if "col" in case:
            assert d.col == case["col"], err.format()
        if "message" in case:
            assert case["message"] in d.message, err.format()
        if "hint" in case:
            assert any(case["hint"] in (x.hint or "") for x in err.diagnostics), err.format()
        if "errors" in case:
            assert len(codes) == case["errors"], err.format()
        # every diagnostic is positioned and shows the text with a caret
        for x in err.diagnostics:
            assert x.line is not None and x.col is not None and x.source_line is not None
            assert "^" in x.format()
        return
    value = run_case(case)
    assert strict_equal(to_json(value), case["value"]), (value, case["value"])
    if case["value"] is None:
        assert isinstance(value, Unknown)
        assert sorted(value.names) == sorted(case.get("missing", [])), value
    else:
        assert "missing" not in case or case["missing"] == []
