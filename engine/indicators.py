"""One streaming pass over a cohort: every aggregate over ``participants`` of every cohort expression of a spec is
computed while the cohort file is read once, record by record, in bounded memory (only the accumulators are kept).

Rules (documented in specs/README.md): a participant for whom the filter ``where`` (or the projected value) is
unknown is left out of the aggregate and counted in ``unknown``; a record that cannot be read or bound is counted in
``errors`` (with its line and message, the first ones kept), never silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from .errors import EngineError
from .runtime import Unknown, unknown

MAX_ERRORS_KEPT = 20


@dataclass
class Acc:
    """The accumulator of one aggregate."""

    func: str
    n: int = 0  # participants matching the filter with a known value
    unknown: int = 0  # participants left out because the filter or the value was unknown
    total: Any = 0
    best: Any = None
    any_true: bool = False
    any_false: bool = False

    def value(self):
        f = self.func
        if f == "count":
            return self.n
        if f == "sum":
            return self.total
        if f == "avg":
            return unknown() if self.n == 0 else Decimal(self.total) / self.n
        if f in ("min", "max"):
            return unknown() if self.best is None else self.best
        if f == "any":
            return True if self.any_true else (unknown() if self.unknown else False)
        if f == "all":
            return False if self.any_false else (unknown() if self.unknown else True)
        raise ValueError(f)


@dataclass(frozen=True)
class AggResult:
    key: str
    func: str
    value: Any
    n: int
    unknown: int


@dataclass
class PassResult:
    """What one pass gives: the aggregates by key, the number of participants read, and the bad records."""

    aggregates: dict[str, AggResult]
    participants: int
    errors: int
    error_samples: list[dict] = field(default_factory=list)


def _is_unknown(v) -> bool:
    return v.__class__ is Unknown


def run_pass(aggregates: Iterable, items: Iterable[tuple[int, Any]], bind, base_env: dict, at: date) -> PassResult:
    """Evaluate ``aggregates`` (``engine.opspec.Aggregate``, deduplicated by key) over ``items`` (``(line, raw dict
    or BadRecord)``). ``bind(raw) -> env`` binds one record (raising for a bad one); ``base_env`` holds the
    operation names (the participant's own names shadow them)."""
    from .records import BadRecord

    aggs = {}
    for a in aggregates:
        aggs.setdefault(a.key, a)
    plan = [(a.key, a.func, a.where.fn if a.where is not None else None, a.value.fn if a.value is not None else None,
             Acc(a.func)) for a in aggs.values()]
    count = errors = 0
    samples: list[dict] = []
    for line, raw in items:
        if isinstance(raw, BadRecord):
            errors += 1
            if len(samples) < MAX_ERRORS_KEPT:
                samples.append({"line": line, "id": raw.id, "code": raw.code, "message": raw.message})
            continue
        try:
            penv = bind(raw)
        except Exception as e:  # noqa: BLE001 - a BindError or a RecordError: one bad record, the pass goes on
            errors += 1
            if len(samples) < MAX_ERRORS_KEPT:
                rid = raw.get("id") if isinstance(raw, dict) else None
                samples.append({"line": line, "id": rid if isinstance(rid, str) else None,
                                "code": getattr(e, "code", "record.invalid"),
                                "message": getattr(e, "message", None) or str(e)})
            continue
        count += 1
        env = dict(base_env)
        env.update(penv)
        for _key, func, where, value, acc in plan:
            try:
                if where is not None:
                    w = where(env, at)
                    if w is not True:
                        if w is not False:
                            acc.unknown += 1
                        continue
                if value is None:
                    if func == "count":
                        acc.n += 1
                    continue
                v = value(env, at)
                if _is_unknown(v):
                    acc.unknown += 1
                    continue
                _add(acc, func, v)
            except EngineError:
                acc.unknown += 1
            except (TypeError, ArithmeticError, ValueError):
                acc.unknown += 1
    out = {k: AggResult(k, f, acc.value(), acc.n, acc.unknown) for k, f, _w, _v, acc in plan}
    return PassResult(out, count, errors, samples)


def _add(acc: Acc, func: str, v) -> None:
    acc.n += 1
    if func == "count":
        return
    if func in ("sum", "avg"):
        if v is True or v is False:
            v = 1 if v else 0
        acc.total = acc.total + v
    elif func == "min":
        if acc.best is None or v < acc.best:
            acc.best = v
    elif func == "max":
        if acc.best is None or v > acc.best:
            acc.best = v
    elif func in ("any", "all"):
        if v is True:
            acc.any_true = True
        elif v is False:
            acc.any_false = True
        else:
            acc.n -= 1
            acc.unknown += 1
