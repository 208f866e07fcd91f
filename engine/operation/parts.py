"""The cohort pass of ``engine report`` by partitions: per-partition accumulators that merge exactly.

A partition (a byte range of the cohort file, a list of records...) gives a :class:`CohortPart`: the accumulator of
every aggregate (count, sum, min, max, any, all, and avg as sum and count), the participants read, the bad records
with their first samples. Parts merge in input order (:meth:`CohortPart.merge`): sums, counts, extrema and
any/all combine exactly (decimals, no rounding), the samples kept are the first ones of the whole input, so the
report made from the merged parts is the report of one pass over the whole cohort.

A part is computed from picklable inputs only (the spec, the operation record, the date, the parameters and the
records), so it can run in a forked or spawned process (``engine report --jobs``) or on a Dask worker
(``engine report --dask``): :func:`cohort_part` prepares the operation's names exactly as :func:`engine.operation.report.
build_report` does (it runs it with the partition as its cohort and keeps the accumulators).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any, Iterable, Mapping

from engine.operation.indicators import MAX_ERRORS_KEPT, Acc, AggResult, PassResult, merge_acc


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
    from engine.operation.indicators import _accumulate

    plan, count, errors, samples, internal, (not_entered, late, entry_unknown) = _accumulate(
        aggregates, items, bind, base_env, at)
    return CohortPart({k: acc for k, _f, _w, _v, acc in plan}, {k: f for k, f, _w, _v, _acc in plan}, count,
                      errors, list(samples), internal, not_entered, list(late), entry_unknown)


class _Captured(Exception):
    pass


def cohort_part(spec, operation: dict, items: Iterable[tuple[int, Any]], at: date,
                params: Mapping[str, Any] | None = None) -> CohortPart:
    """The accumulators of ``items`` (``(line, raw dict | BadRecord)``, a partition of the cohort) for the report of
    ``operation`` at ``at``. Raises what :func:`engine.operation.report.build_report` raises for a bad operation."""
    from engine.operation.report import build_report

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
    from engine.operation.report import build_report

    merged = merge_parts(parts)
    return build_report(spec, operation, (), at, params, cohort_pass=lambda *_a: merged.result())


# --------------------------------------------------------------------------------------------- --jobs

def part_of_chunk(state: dict, chunk) -> CohortPart:
    """The worker's function (engine.run.parallel): the part of one chunk of the cohort file."""
    from engine.run.parallel import chunk_items
    from engine.beneficiary.records import decode_object

    return cohort_part(state["spec"], state["operation"], chunk_items(chunk, decode_object), state["at"],
                       state["params"])


def failed_part(failure) -> CohortPart:
    """A chunk no worker could read: its records are counted as bad records (engine bug), never lost."""
    from engine.run.parallel import read_range

    n = 0
    samples = []
    for line, _raw in read_range(failure.chunk.path, failure.chunk.start, failure.chunk.end, failure.chunk.first_line):
        n += 1
        if len(samples) < MAX_ERRORS_KEPT:
            samples.append({"line": line, "id": None, "code": "internal_error",
                            "message": f"erreur interne du moteur : la partie de la cohorte qui contient cette ligne "
                                       f"n'a pas pu être lue ({failure.reason})"})
    return CohortPart(errors=n, error_samples=samples, internal_errors=n)


def report_parts(spec, operation: dict, path: str, at: date, params: Mapping[str, Any] | None, jobs: int,
                 chunk_bytes: int | None = None) -> list[CohortPart]:
    """The parts of a JSONL cohort file, computed on ``jobs`` processes (byte ranges, engine.run.parallel)."""
    from engine.run.parallel import chunk_size, file_chunks, ordered_map

    state = {"spec": spec, "operation": operation, "at": at, "params": dict(params or {})}
    chunks = file_chunks(path, chunk_bytes or chunk_size(path, jobs))
    return list(ordered_map(part_of_chunk, chunks, state, jobs, on_failure=failed_part))


__all__ = ["CohortPart", "accumulate", "cohort_part", "merge_parts", "part_of_chunk", "report_from_parts",
           "report_parts"]
