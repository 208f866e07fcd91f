"""`engine test`: run the examples embedded in specs (OpenFisca-style) and compare them with what the engine says.

An example (see specs/README.md, "Examples") gives a record evaluated at a date (``at``) with optional ``params``,
and ``expect``: dotted paths into the evaluation output (the output contract of ``engine evaluate``) and the values
they must have. Lookup rules, so that policy staff write short expectations:

- ``a.b`` walks into mappings; in a list, a segment selects the item whose ``id`` is that segment (so
  ``deadlines.first_appointment`` is the deadline ``first_appointment``; an eligibility reason, which has no
  ``id``, by its ``rule``: ``reasons.young.assessed``), or an index (``path.violations.0``);
- when the expectation is a text and the value found an item, the item's ``status``, else its ``code``, else its
  ``phase`` is compared (``deadlines.first_appointment: met``, ``obligations.monthly_appointments: unmet``,
  ``path.first_violation: guard_failed``); several items with the same id (an obligation's windows) compare the
  worst status: error > unmet/missed > early > pending > met > not_applicable;
- when the expectation is a list of texts and the value a list of items, the same key of each item is compared
  (``path.violations: [guard_failed]``, ``path.next: [sortie]``); lists of texts/numbers compare as multisets (order
  does not matter);
- dates compare as ``YYYY-MM-DD``, numbers as exact decimals (``1.10 == 1.1``).

Records are passed to the evaluation exactly as a JSONL line would give them (dates as text, numbers as JSON
numbers), so an example exercises the same path as ``engine evaluate``.

Operation examples (``operation:`` + ``cohort:``) are run by the runner registered in ``EXAMPLE_RUNNERS["operation"]``
(``"module:function"``, called as ``fn(spec, example) -> dict``); until one is registered they are reported as
errors, never silently skipped.
"""

from __future__ import annotations

import importlib
import json
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any, Callable, Iterable

from engine.errors import EngineError, UsageError, Diagnostic
from engine.spec.model import Example, Position, Spec, jsonish  # noqa: F401  (jsonish: re-exported)
from engine.beneficiary.evaluate import evaluate_record
from engine.faults import CODE, describe
from engine.spec.compile import compile_spec
from engine.spec.schema import validate_document
from engine.spec.loader import load_document

# kind of example -> "module:function" called as fn(spec, example) -> output dict
EXAMPLE_RUNNERS: dict[str, str] = {
    "record": "engine.examples:run_record_example",
    "operation": "engine.operation.report:run_operation_example",
}

_MISSING = object()
_SHORT_KEYS = ("status", "code", "phase")  # an item compared with a text: its status, its code or its phase
_STATUS_RANK = {"unmet": 4, "missed": 4, "failed": 4, "error": 5, "early": 3, "pending": 2, "met": 1, "not_applicable": 0}


@dataclass(frozen=True)
class Mismatch:
    """One expectation that does not hold: the dotted ``key``, the expected and the actual value (as shown)."""

    key: str
    expected: Any
    actual: Any
    pos: Position = field(default_factory=Position)


@dataclass(frozen=True)
class ExampleResult:
    """The outcome of one example: ``status`` is ``passed``, ``failed`` (``mismatches``) or ``error`` (``message``:
    the spec does not compile, or the example cannot be run)."""

    spec: str
    file: str
    line: int | None
    name: str
    status: str
    mismatches: tuple[Mismatch, ...] = ()
    message: str | None = None
    code: str | None = None  # "internal_error" when the engine itself failed on this example (engine.faults)

    @property
    def passed(self) -> bool:
        return self.status == "passed"

    def to_json(self) -> dict:
        d: dict[str, Any] = {"spec": self.spec, "file": self.file, "line": self.line, "name": self.name,
                             "status": self.status}
        if self.mismatches:
            d["mismatches"] = [{"key": m.key, "expected": jsonish(m.expected), "actual": jsonish(m.actual),
                                "line": m.pos.line} for m in self.mismatches]
        if self.message:
            d["message"] = self.message
        if self.code:
            d["code"] = self.code
        return d


# --------------------------------------------------------------------------------------------- values

def _num(v: Any) -> Decimal | None:
    if isinstance(v, bool) or not isinstance(v, (int, float, Decimal)):
        return None
    try:
        return Decimal(str(v))
    except InvalidOperation:
        return None


def _norm(v: Any) -> Any:
    if isinstance(v, date):
        return v.isoformat()
    n = _num(v)
    if n is not None:
        return n.normalize() if n == n else n
    if isinstance(v, (list, tuple)):
        return [_norm(x) for x in v]
    if isinstance(v, dict):
        return {k: _norm(x) for k, x in v.items()}
    return v


def _text(v: Any) -> str:
    if v is _MISSING:
        return "(absent)"
    return json.dumps(jsonish(v), ensure_ascii=False, default=str)


def _item_key(x: dict) -> str:
    """What a path segment names a list item by: its ``id``, else (an eligibility reason) its ``rule``, else (a row
    of an indicator's breakdown) its ``key``: ``true``/``false`` for a yes/no, ``inconnu`` for unknown values
    (``indicators.employees.breakdowns.sex.rows.F.value``)."""
    k = x.get("id")
    if k is None:
        k = x.get("rule")
    if k is None and "key" in x and "label" in x:
        from engine.operation.model import breakdown_key

        return breakdown_key(x["key"])
    return None if k is None else str(k)


def lookup(output: Any, key: str) -> Any:
    """The value at dotted ``key`` in an evaluation output (see the module docstring), or a marker when absent."""
    cur: Any = output
    for seg in key.split("."):
        if isinstance(cur, dict):
            cur = cur.get(seg, _MISSING)
        elif isinstance(cur, list):
            if seg.isdigit() and not any(isinstance(x, dict) and _item_key(x) == seg for x in cur):
                i = int(seg)
                cur = cur[i] if i < len(cur) else _MISSING
            else:
                found = [x for x in cur if isinstance(x, dict) and _item_key(x) == seg]
                cur = found[0] if len(found) == 1 else (found or _MISSING)
        else:
            return _MISSING
        if cur is _MISSING:
            return _MISSING
    return cur


def compare(expected: Any, actual: Any) -> tuple[bool, Any]:
    """Whether ``actual`` satisfies ``expected``, and the actual value as shown in a failure."""
    if actual is _MISSING:
        return False, actual
    if isinstance(expected, str):
        if isinstance(actual, dict):
            key = next((k for k in _SHORT_KEYS if k in actual), None)
            actual = actual[key] if key else actual
        elif isinstance(actual, list) and actual and all(isinstance(x, dict) and "status" in x for x in actual):
            actual = max((x["status"] for x in actual), key=lambda s: _STATUS_RANK.get(s, 3))
    if isinstance(expected, (list, tuple)) and isinstance(actual, list):
        if all(isinstance(x, str) for x in expected) and actual and all(isinstance(x, dict) for x in actual):
            key = next((k for k in _SHORT_KEYS if all(k in x for x in actual)), None)
            actual = [x[key] for x in actual] if key else actual
        exp, act = _norm(list(expected)), _norm(actual)
        if all(not isinstance(x, (dict, list)) for x in exp + act):
            key = lambda x: (type(x).__name__, str(x))  # noqa: E731
            return sorted(exp, key=key) == sorted(act, key=key), actual
        return exp == act, actual
    if expected is None or isinstance(expected, bool) or isinstance(actual, bool):
        return expected is actual or expected == actual and type(expected) is type(actual), actual
    return _norm(expected) == _norm(actual), actual


# --------------------------------------------------------------------------------------------- running

def run_record_example(spec: Spec, example: Example) -> dict:
    """Evaluate a beneficiary example with ``engine.beneficiary.evaluate.evaluate_record``."""
    if example.record is None:
        raise EngineError(Diagnostic("the example has no `record`", file=example.pos.file, line=example.pos.line,
                                     col=example.pos.col, code="example.no_record",
                                     hint="add `record:` (the beneficiary's data) or `operation:` with `cohort:`"))
    return evaluate_record(spec, jsonish(example.record), example.at, dict(example.params))


def _runner(kind: str) -> Callable[[Spec, Example], dict] | None:
    target = EXAMPLE_RUNNERS.get(kind)
    if not target:
        return None
    mod, _, fn = target.partition(":")
    return getattr(importlib.import_module(mod), fn)


def run_example(spec: Spec, example: Example) -> ExampleResult:
    """Run one example of a compiled spec and compare every expectation."""
    base = dict(spec=spec.id, file=example.pos.file or spec.path or "", line=example.pos.line, name=example.name)
    if example.at is None:
        return ExampleResult(status="error", message="the example has no `at` date (the evaluation date)", **base)
    runner = _runner(example.kind)
    if runner is None:
        return ExampleResult(status="error", message=f"no runner for {example.kind} examples yet", **base)
    try:
        output = runner(spec, example)
    except EngineError as e:
        return ExampleResult(status="error", message=e.format(), **base)
    except MemoryError:
        raise
    except Exception as e:  # noqa: BLE001 - an engine bug on this example: reported, the other examples still run
        err = describe(e, spec, record=f"l'exemple « {example.name} »")
        return ExampleResult(status="error", message=err["message"], code=CODE, **base)
    err = output.get("error") if isinstance(output, dict) and output.get("status") == "error" else None
    if isinstance(err, dict) and err.get("code") == "internal_error":
        return ExampleResult(status="error", message=err.get("message"), code="internal_error", **base)
    mismatches = []
    for key, expected in example.expect.items():
        ok, actual = compare(expected, lookup(output, key))
        if not ok:
            mismatches.append(Mismatch(key, expected, actual, example.expect_pos.get(key, example.pos)))
    return ExampleResult(status="failed" if mismatches else "passed", mismatches=tuple(mismatches), **base)


def spec_files(paths: Iterable[str | Path]) -> list[Path]:
    """The ``.yaml``/``.yml`` files named or found (recursively, sorted) under ``paths``."""
    out: list[Path] = []
    for p in paths:
        p = Path(p)
        if p.is_dir():
            out.extend(sorted(x for x in p.rglob("*") if x.suffix in (".yaml", ".yml") and x.is_file()))
        elif p.exists():
            out.append(p)
        else:
            raise UsageError(Diagnostic(f"no such file or folder: {p}", file=str(p), code="usage",
                                        hint="give spec files or folders, e.g. `engine test specs/`"))
    return out


def _load(path: Path, cache: dict) -> Spec | None:
    """The compiled spec at ``path``, or None for a vocabulary file (``cache``: files already loaded)."""
    doc = load_document(path, cache=cache)
    if str(doc.data.get("kind") or "spec") != "spec":
        return None
    validate_document(doc)
    return compile_spec(doc)


def run_examples(paths: Iterable[str | Path], keyword: str | None = None) -> list[ExampleResult]:
    """Run every example of every spec under ``paths`` (only those whose name contains ``keyword``, ignoring case).
    A spec that does not load gives one ``error`` result carrying its diagnostics."""
    results: list[ExampleResult] = []
    kw = keyword.lower() if keyword else None
    cache: dict = {}
    for path in spec_files(paths):
        try:
            spec = _load(path, cache)
        except EngineError as e:
            results.append(ExampleResult(spec=path.stem, file=str(path), line=None, name="(spec)", status="error",
                                         message=e.format()))
            continue
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - an engine bug compiling this spec: the other specs still run
            results.append(ExampleResult(spec=path.stem, file=str(path), line=None, name="(spec)", status="error",
                                         message=describe(e, None, doing="le chargement", what=str(path))["message"],
                                         code=CODE))
            continue
        if spec is None:
            continue
        for ex in spec.examples:
            if kw is None or kw in ex.name.lower():
                results.append(run_example(spec, ex))
    return results


def summary_line(results: list[ExampleResult]) -> str:
    passed = sum(r.passed for r in results)
    errors = sum(r.status == "error" for r in results)
    internal = sum(r.code == "internal_error" for r in results)
    failed = len(results) - passed
    line = f"{len(results)} example{'s' if len(results) != 1 else ''}: {passed} passed, {failed} failed"
    line += f" ({errors} error{'s' if errors != 1 else ''})" if errors else ""
    return line + (f", {internal} internal error{'s' if internal != 1 else ''} (engine bug)" if internal else "")


def format_result(r: ExampleResult) -> str:
    """A failure as shown on a terminal: the example's file:line and name, then each expectation: expected/actual."""
    head = f"{r.file}:{r.line}" if r.line else r.file
    if r.status == "error":
        lines = [f"ERROR {head}: {r.name}"]
        lines += ["  " + x for x in (r.message or "").splitlines()]
        return "\n".join(lines)
    lines = [f"FAIL {head}: {r.name}"]
    for m in r.mismatches:
        where = f"{m.pos.file}:{m.pos.line}" if m.pos.line else head
        lines.append(f"  {where}: {m.key}: expected {_text(m.expected)}, got {_text(m.actual)}")
    return "\n".join(lines)


