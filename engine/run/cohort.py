"""The cohort of ``engine report`` read on several processes: byte ranges of a JSONL cohort file, one
:class:`engine.operation.parts.CohortPart` per range (computed by a worker of :mod:`engine.run.parallel`, the
mechanism of ``engine evaluate --jobs``, or by a Dask worker of :mod:`engine.run.cluster` with ``--dask``), merged
exactly in input order: the report is the one-pass report.

:func:`build_report` is the operation report that decides how to read its cohort: one pass over ``items``, or the
file ``records_path`` by ranges when it is large (:func:`parallel_jobs`) or ``jobs`` asks for it.
"""

from __future__ import annotations

import os
from contextlib import nullcontext
from datetime import date
from typing import Any, Iterable, Mapping

from engine.beneficiary.records import decode_object
from engine.operation.indicators import MAX_ERRORS_KEPT
from engine.operation.parts import CohortPart, cohort_part, merge_parts
from engine.operation.report import build_report as build_one_pass
from engine.errors import COMMAND_LINE, Diagnostic, UsageError
from engine.run.cluster import dask_client, dask_map, worker_count
from engine.run.parallel import (available_cpus, chunk_items, chunk_size, file_chunks, ordered_map, read_range,
                                 splittable)

PARALLEL_MIN_BYTES = 64 * 1024 * 1024  # below this, one process is faster than starting workers


def parallel_jobs(path: str | None, jobs: int | None = None) -> int:
    """How many processes to use for the cohort file ``path``: ``jobs`` when given (``ENGINE_JOBS`` otherwise), else
    the number of CPUs (at most 4) for a regular JSONL file of 64 MiB or more, else 1."""
    if path is None or path == "-" or not os.path.isfile(path):
        return 1
    if not path.lower().endswith((".jsonl", ".ndjson")):
        return 1
    env = os.environ.get("ENGINE_JOBS")
    if jobs is None and env and env.isdigit():
        jobs = int(env)
    if jobs is None:
        if os.path.getsize(path) < PARALLEL_MIN_BYTES:
            return 1
        jobs = min(4, available_cpus())
    return max(1, jobs)


def build_report(spec, operation: dict, items: Iterable[tuple[int, Any]], at: date,
                 params: Mapping[str, Any] | None = None, *, records_path: str | None = None,
                 jobs: int | None = None, dask: str | None = None, client=None,
                 chunk_bytes: int | None = None) -> dict:
    """The report of :func:`engine.operation.report.build_report`; with ``records_path`` (the JSONL file ``items``
    comes from), a large cohort is read by several processes (:func:`parallel_jobs`; ``jobs`` forces the number),
    or by the workers of a Dask cluster (``dask``: ``local`` or a scheduler's address, or a ``client``), with the
    same result."""
    on_dask = dask is not None or client is not None
    if on_dask and (records_path in (None, "-") or os.path.exists(records_path)):  # a missing file: the reader says it
        if not splittable(records_path or "-"):
            raise UsageError(Diagnostic(
                "--dask lit la cohorte par parties : elle doit être un fichier JSONL (.jsonl ou .ndjson), pas "
                f"{'l’entrée standard' if records_path in (None, '-') else records_path}",
                file=COMMAND_LINE, code="usage.dask_input",
                hint="écrivez la cohorte dans un fichier JSONL, ou retirez --dask"))

        def on_cluster(_aggregates, _bind, _env, _at):  # reached once the operation itself is known to be valid
            with nullcontext(client) if client is not None else dask_client(dask, jobs) as c:
                return merge_parts(report_parts_dask(spec, operation, records_path, at, params, c,
                                                     chunk_bytes)).result()

        return build_one_pass(spec, operation, (), at, params, cohort_pass=on_cluster)
    n_jobs = parallel_jobs(records_path, jobs) if records_path else 1
    if n_jobs <= 1:
        return build_one_pass(spec, operation, items, at, params)

    def by_ranges(_aggregates, _bind, _env, _at):  # reached once the operation itself is known to be valid
        return merge_parts(report_parts(spec, operation, records_path, at, params, n_jobs, chunk_bytes)).result()

    return build_one_pass(spec, operation, (), at, params, cohort_pass=by_ranges)


def part_of_chunk(state: dict, chunk) -> CohortPart:
    """The worker's function (engine.run.parallel): the part of one chunk of the cohort file."""
    return cohort_part(state["spec"], state["operation"], chunk_items(chunk, decode_object), state["at"],
                       state["params"])


def failed_part(failure) -> CohortPart:
    """A chunk no worker could read: its records are counted as bad records (engine bug), never lost."""
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
    state = {"spec": spec, "operation": operation, "at": at, "params": dict(params or {})}
    chunks = file_chunks(path, chunk_bytes or chunk_size(path, jobs))
    return list(ordered_map(part_of_chunk, chunks, state, jobs, on_failure=failed_part))


def report_parts_dask(spec, operation: dict, path: str, at: date, params: Mapping[str, Any] | None, client,
                      chunk_bytes: int | None = None) -> list[CohortPart]:
    """The parts of a JSONL cohort file, computed on the workers of a Dask ``client`` (byte ranges the workers read
    at the same path; engine.run.cluster)."""
    state = {"spec": spec, "operation": operation, "at": at, "params": dict(params or {})}
    chunks = file_chunks(path, chunk_bytes or chunk_size(path, worker_count(client)))
    return list(dask_map(part_of_chunk, chunks, state, client, on_failure=failed_part))


__all__ = ["PARALLEL_MIN_BYTES", "build_report", "failed_part", "parallel_jobs", "part_of_chunk", "report_parts",
           "report_parts_dask"]
