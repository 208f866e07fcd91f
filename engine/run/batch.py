"""``engine evaluate`` on chunks of the input: what one worker does with one chunk, and how the parent writes the
chunks back in order (``--jobs N`` through :mod:`engine.run.parallel`, ``--dask`` through :mod:`engine.run.cluster`).

A worker evaluates its chunk and renders it in the output format (:func:`render`): JSONL lines, JSON array
elements joined by ``,\\n``, or CSV rows. The parent's :class:`Writer` adds what belongs to the whole output (the
``[``/``]`` of a JSON array and the separators between chunks, the CSV header), so the bytes are exactly those of
the single-process run. Each chunk also brings back its counts (``--summary``) and its number of records that met an
engine bug; the parent adds them up (:func:`merge_summaries`).
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from datetime import date
from typing import IO, Any, Iterable, Iterator

import orjson

from engine.run.parallel import (CHUNK_RECORDS, Chunk, Failure, chunk_items, chunk_size, file_chunks, item_chunks,
                                 ordered_map, progress, splittable)
from engine.render.evaluation import Summary, cell_text, json_default, csv_columns, csv_row, dumps
from engine.beneficiary.evaluate import error_result, evaluate_stream, plan_for
from engine.beneficiary.records import decode_object, read_records

INTERNAL = "internal_error"


@dataclass
class ChunkResult:
    """What a chunk gives: its rendered records, how many, their counts (or None) and how many met an engine bug."""

    index: int
    data: bytes
    records: int
    summary: Any = None  # engine.render.evaluation.Summary
    internal: int = 0


def render(results: Iterable[dict], fmt: str, spec, summary=None) -> tuple[bytes, int, int]:
    """``(bytes, records, internal errors)`` of the results in ``fmt`` (``jsonl``, ``json``: elements joined by
    ``,\\n``, ``csv``: rows without the header), counting them in ``summary`` when given."""
    n = internal = 0
    parts: list = []
    add = summary.add if summary is not None else None
    if fmt == "csv":
        text = io.StringIO()
        w = csv.DictWriter(text, fieldnames=csv_columns(spec), extrasaction="ignore")
    for r in results:
        n += 1
        if add is not None:
            add(r)
        if r.get("status") == "error" and (r.get("error") or {}).get("code") == INTERNAL:
            internal += 1
        if fmt == "jsonl":
            parts.append(orjson.dumps(r, default=json_default, option=orjson.OPT_APPEND_NEWLINE))
        elif fmt == "json":
            parts.append(dumps(r))
        else:
            w.writerow({k: cell_text(v) for k, v in csv_row(r).items()})
    if fmt == "csv":
        return text.getvalue().encode("utf-8"), n, internal
    return (b",\n" if fmt == "json" else b"").join(parts), n, internal


def results_of(spec, chunk: Chunk, at: date, params: dict, several: bool) -> Iterator[dict]:
    """The evaluation of the chunk's records, in order (what the single-process run gives for them)."""
    plan = plan_for(spec)
    items = chunk_items(chunk, plan.decoder or decode_object)
    for r in evaluate_stream(spec, items, at, params, owned=True):
        if several and r.get("status") == "error":
            r["file"] = chunk.path
        yield r


def evaluate_chunk(state: dict, chunk: Chunk) -> ChunkResult:
    """The worker's function: ``state`` holds ``spec``, ``at``, ``params``, ``format``, ``several``, ``summary``."""
    spec = state["spec"]
    summary = Summary() if state.get("summary") else None
    data, n, internal = render(results_of(spec, chunk, state["at"], state["params"], state["several"]),
                               state["format"], spec, summary)
    return ChunkResult(chunk.index, data, n, summary, internal)


def failed_chunk(state: dict, failure: Failure) -> ChunkResult:
    """A chunk no worker could evaluate: one ``internal_error`` line per record (with its id when it can be read, and
    its line), so that N records in still give N lines out."""
    spec = state["spec"]
    plan = plan_for(spec)
    message = (f"erreur interne du moteur : l'enregistrement n'a pas pu être évalué ({failure.reason}) ; "
               "relancez sans --jobs ni --dask pour voir l'erreur, et signalez-la")

    def lines():
        for line, item in chunk_items(failure.chunk, decode_object):
            rid = item.get("id") if isinstance(item, dict) else getattr(item, "id", None)
            out = error_result(rid, INTERNAL, message, line, plan)
            if state["several"]:
                out["file"] = failure.chunk.path
            yield out

    summary = Summary() if state.get("summary") else None
    data, n, _ = render(lines(), state["format"], spec, summary)
    return ChunkResult(failure.chunk.index, data, n, summary, n)


def merge_summaries(summaries: Iterable) -> Any:
    """One :class:`engine.render.evaluation.Summary` counting what the given ones counted (they merge exactly)."""
    out = Summary()
    for s in summaries:
        if s is None:
            continue
        out.total += s.total
        out.eligible.update(s.eligible)
        out.legal.update(s.legal)
        out.first.update(s.first)
        out.errors.update(s.errors)
    return out


class Writer:
    """Writes the chunks' bytes in order, with what belongs to the whole output around and between them."""

    def __init__(self, out: IO[bytes], fmt: str, spec):
        self.out, self.fmt, self.first = out, fmt, True
        if fmt == "json":
            out.write(b"[")
        elif fmt == "csv":
            text = io.StringIO()
            csv.DictWriter(text, fieldnames=csv_columns(spec), extrasaction="ignore").writeheader()
            out.write(text.getvalue().encode("utf-8"))

    def write(self, r: ChunkResult) -> None:
        if not r.records:
            return
        if self.fmt == "json":
            self.out.write(b"\n" if self.first else b",\n")
        self.first = False
        self.out.write(r.data)

    def close(self) -> None:
        if self.fmt == "json":
            self.out.write(b"]\n" if self.first else b"\n]\n")


def input_chunks(spec, paths: list[str], jobs: int, chunk_bytes: int | None = None,
                 chunk_records: int | None = None) -> Iterator[Chunk]:
    """The chunks of every input, in order: byte ranges of regular JSONL files, batches of records read here for
    anything else. Every input is opened first (a missing file is an error before anything is written)."""
    plans = []
    for p in paths:
        if splittable(p):
            read_records(p, spec=spec).close()  # the same errors as the single-process run, before any output
            plans.append((p, None))
        else:
            plans.append((p, read_records(p, spec=spec, decode=bytes)))

    def gen():
        index = 0
        for p, items in plans:
            chunks = (file_chunks(p, chunk_bytes or chunk_size(p, jobs), index) if items is None
                      else item_chunks(p, items, index, chunk_records or CHUNK_RECORDS))
            for c in chunks:
                index = c.index + 1
                yield c

    return gen()


@dataclass
class RunStats:
    records: int
    internal: int
    summary: Any = None
    failures: list | None = None


def run_chunks(results: Iterator[ChunkResult], out: IO[bytes], fmt: str, spec, *, summary: bool) -> RunStats:
    """Write the chunk results (in order) to ``out``; counts for the summary and the exit code."""
    writer = Writer(out, fmt, spec)
    tick = progress()
    n = internal = 0
    summaries = []
    for r in results:
        writer.write(r)
        n += r.records
        internal += r.internal
        if summary:
            summaries.append(r.summary)
        tick(n)
    writer.close()
    tick.end()
    return RunStats(n, internal, merge_summaries(summaries) if summary else None)


def evaluate_files(spec, paths: list[str], at: date, params: dict, out: IO[bytes], *, fmt: str = "jsonl",
                   jobs: int = 2, summary: bool = False, chunk_bytes: int | None = None,
                   chunk_records: int | None = None) -> RunStats:
    """``engine evaluate --jobs N``: the records of ``paths`` evaluated on ``jobs`` processes, written to ``out`` in
    input order, byte for byte as one process writes them."""
    state = {"spec": spec, "at": at, "params": params, "format": fmt, "several": len(paths) > 1,
             "summary": summary}
    failures: list = []

    def on_failure(f: Failure) -> ChunkResult:
        failures.append(f)
        return failed_chunk(state, f)

    chunks = input_chunks(spec, paths, jobs, chunk_bytes, chunk_records)
    stats = run_chunks(ordered_map(_evaluate_chunk, chunks, state, jobs, on_failure=on_failure), out, fmt, spec,
                       summary=summary)
    stats.failures = failures
    return stats


def _evaluate_chunk(state: dict, chunk: Chunk) -> ChunkResult:
    return evaluate_chunk(state, chunk)  # looked up at call time: tests replace evaluate_chunk to make workers fail


__all__ = ["ChunkResult", "RunStats", "Writer", "evaluate_chunk", "evaluate_files", "failed_chunk", "input_chunks",
           "merge_summaries", "render", "results_of", "run_chunks"]
