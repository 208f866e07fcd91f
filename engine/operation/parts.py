"""The cohort pass of ``engine report`` by partitions: per-partition accumulators that merge exactly.

A partition (a byte range of the cohort file, a list of records...) gives a :class:`CohortPart`: the accumulator of
every aggregate (count, sum, min, max, any, all, and avg as sum and count), the participants read, the bad records
with their first samples. Parts merge in input order (:meth:`CohortPart.merge`): sums, counts, extrema and
any/all combine exactly (decimals, no rounding), the samples kept are the first ones of the whole input, so the
report made from the merged parts is the report of one pass over the whole cohort.

A part is computed from picklable inputs only (the spec, the operation record, the date, the parameters and the
records), so it can run in a forked or spawned process (``engine report --jobs``) or on a Dask worker
(``engine report --dask``): :func:`cohort_part` prepares the operation's names exactly as :func:`engine.operation.report.
build_report` does (it runs it with the partition as its cohort and keeps the accumulators). Reading a cohort file
by byte ranges on several processes is :mod:`engine.run.cohort`'s.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping

from engine.operation.indicators import Acc, AggResult, MAX_ERRORS_KEPT, PassResult, _accumulate, merge_acc
from engine.operation.report import build_report


@dataclass
class CohortPart:
    """The accumulators of one partition of a cohort (see the module docstring)."""

    accs: dict[str, Acc] = field(default_factory=dict)
    funcs: dict[str, str] = field(default_factory=dict)
    participants: int = 0
    errors: int = 0
    error_samples: list = field(default_factory=list)
    internal_errors: int = 0
    not_entered: int = 0  # records left out: entered after the report date
    not_entered_samples: list = field(default_factory=list)
    entry_unknown: int = 0

    def merge(self, other: "CohortPart") -> "CohortPart":
        """This part followed by ``other`` (a new part; neither is changed)."""
        accs = dict(self.accs)
        for k, acc in other.accs.items():
            accs[k] = merge_acc(accs[k], acc) if k in accs else acc
        samples = (list(self.error_samples) + list(other.error_samples))[:MAX_ERRORS_KEPT]
        late = (list(self.not_entered_samples) + list(other.not_entered_samples))[:MAX_ERRORS_KEPT]
        return CohortPart(accs, {**self.funcs, **other.funcs}, self.participants + other.participants,
                          self.errors + other.errors, samples, self.internal_errors + other.internal_errors,
                          self.not_entered + other.not_entered, late, self.entry_unknown + other.entry_unknown)

    def result(self) -> PassResult:
        """The pass result the report is built from."""
        out = {k: AggResult(k, self.funcs[k], acc.value(), acc.n, acc.unknown) for k, acc in self.accs.items()}
        return PassResult(out, self.participants, self.errors, list(self.error_samples), self.internal_errors,
                          self.not_entered, list(self.not_entered_samples), self.entry_unknown)


def merge_parts(parts: Iterable[CohortPart]) -> CohortPart:
    """The parts merged in the order given."""
    out = CohortPart()
    for p in parts:
        out = out.merge(p)
    return out


def accumulate(aggregates, items: Iterable[tuple[int, Any]], bind, base_env: dict, at: date) -> CohortPart:
    """One partition's accumulators (``engine.operation.indicators``' pass, kept unfinished)."""
    plan, count, errors, samples, internal, (not_entered, late, entry_unknown) = _accumulate(
        aggregates, items, bind, base_env, at)
    return CohortPart({k: acc for k, _f, _w, _v, _b, acc in plan}, {k: f for k, f, _w, _v, _b, _acc in plan}, count,
                      errors, list(samples), internal, not_entered, list(late), entry_unknown)


class _Captured(Exception):
    pass


def cohort_part(spec, operation: dict, items: Iterable[tuple[int, Any]], at: date,
                params: Mapping[str, Any] | None = None) -> CohortPart:
    """The accumulators of ``items`` (``(line, raw dict | BadRecord)``, a partition of the cohort) for the report of
    ``operation`` at ``at``. Raises what :func:`engine.operation.report.build_report` raises for a bad operation."""
    got: list = []

    def capture(aggs, bind, env, when):
        got.append(accumulate(aggs, items, bind, env, when))
        raise _Captured

    try:
        build_report(spec, operation, (), at, params, cohort_pass=capture)
    except _Captured:
        pass
    if not got:  # pragma: no cover - build_report always reaches its cohort pass
        raise RuntimeError("the cohort pass was not reached")
    return got[0]


def report_from_parts(spec, operation: dict, parts: Iterable[CohortPart], at: date,
                      params: Mapping[str, Any] | None = None) -> dict:
    """The report whose cohort is the given partitions (in input order), identical to the one-pass report."""
    merged = merge_parts(parts)
    return build_report(spec, operation, (), at, params, cohort_pass=lambda *_a: merged.result())


__all__ = ["CohortPart", "accumulate", "cohort_part", "merge_parts", "report_from_parts"]
