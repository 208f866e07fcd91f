"""The engine's public Python API: load a spec, evaluate records, merge summaries, build cohort reports by parts.

Stable: the names in ``__all__`` keep their meaning and signatures (new keyword arguments may be added); everything
else in the package is internal. Documented in ``docs/api.md``. The command line is built on it (``engine
evaluate`` and ``engine report`` load their spec with :func:`load_spec`; ``--jobs`` and ``--dask`` evaluate byte
ranges with :func:`evaluate_lines` and merge with :func:`merge_summaries` / :func:`merge_parts`).

    from datetime import date
    from engine import api

    spec = api.load_spec("specs/coach-jeunesse.yaml")          # compiled once, then from the cache; picklable
    out = api.evaluate_record(spec, {"id": "B-1", "birth_date": "2005-04-02"}, date(2026, 6, 1))
    for part in api.split_file("records.jsonl", parts=4):      # line-aligned byte ranges
        results = api.evaluate_lines(spec, api.read_lines("records.jsonl", part), date(2026, 6, 1))

Results are plain dicts (the ``engine evaluate`` output objects: dates as ``datetime.date``, amounts as
``Decimal``); :func:`to_json` gives the exact bytes ``engine evaluate`` writes for one.
"""

from __future__ import annotations

from datetime import date
from typing import Any, Iterable, Iterator, Mapping

from engine.run.parallel import Chunk


# ----------------------------------------------------------------------------------------------- specs

def load_spec(path, *, cache: bool | None = None):
    """The compiled spec of ``path`` (its imports resolved), from the user's cache when it is current
    (:mod:`engine.spec.cache`; ``cache=False`` or ``ENGINE_NO_CACHE=1`` compiles it anyway). Raises
    :class:`engine.errors.SpecError` (every problem, positioned) for an invalid spec. The spec is picklable (a
    worker process or a Dask worker receives it whole, without compiling it again)."""
    from engine.spec.cache import load_spec_cached

    return load_spec_cached(path, use_cache=cache)


# ----------------------------------------------------------------------------------------------- records

def evaluate_record(spec, record: Mapping[str, Any], at: date, params: Mapping[str, Any] | None = None) -> dict:
    """The decision for one record (a dict as read from JSON: dates as ``YYYY-MM-DD`` texts); never raises for bad data
    (an error object instead, ``status: "error"``). ``record`` is not modified."""
    from engine.beneficiary.evaluate import evaluate_record as ev

    return ev(spec, dict(record), at, dict(params) if params else None)


def evaluate_lines(spec, lines: Iterable[tuple[int, bytes]], at: date,
                   params: Mapping[str, Any] | None = None) -> Iterator[dict]:
    """One decision per record of ``lines`` (``(line number, JSON text of one record)``, e.g. :func:`read_lines`),
    in order; blank lines are not records. The line number is the one error objects carry."""
    from engine.beneficiary.evaluate import evaluate_stream, plan_for
    from engine.beneficiary.records import BadRecord, decode_object

    decode = plan_for(spec).decoder or decode_object

    def items():
        for n, raw in lines:
            if isinstance(raw, BadRecord):
                yield n, raw
                continue
            if raw.__class__ is not bytes:
                raw = bytes(raw, "utf-8") if isinstance(raw, str) else bytes(raw)
            if not raw or raw.isspace():
                continue
            yield n, decode(raw)

    return evaluate_stream(spec, items(), at, dict(params) if params else None, owned=True)


def evaluate_bytes(spec, data: bytes, at: date, params: Mapping[str, Any] | None = None, *,
                   fmt: str = "jsonl") -> Iterator[dict]:
    """One decision per record of ``data``, the content of a JSONL (``fmt="jsonl"``) or JSON (``"json"``: one
    object or an array of them) file already in memory, e.g. an HTTP request's body: the results, line numbers
    included, are those of ``engine evaluate`` on a file holding these bytes. Raises
    :class:`engine.errors.RecordError` when a JSON text is neither an object nor an array."""
    from engine.beneficiary.evaluate import evaluate_stream, plan_for
    from engine.beneficiary.records import read_records_bytes

    items = read_records_bytes(data, fmt, spec=spec, decode=plan_for(spec).decoder)
    return evaluate_stream(spec, items, at, dict(params) if params else None, owned=True)


def explain_record(spec, record: Mapping[str, Any], at: date, params: Mapping[str, Any] | None = None, *,
                   rules: Iterable[str] = (), deadlines: Iterable[str] = (), obligations: Iterable[str] = (),
                   transitions: Iterable[str] = ()) -> dict:
    """The trace of the decision on one record (``engine explain --format json``, ``docs/explain.md``): plain JSON
    data. The selections narrow it (nothing given: everything); a name the spec does not have raises
    :class:`engine.errors.UsageError` (``explain.unknown_*``)."""
    from engine.beneficiary.explain import explain_record as explain

    return explain(spec, dict(record), at, dict(params) if params else None, rules=rules, deadlines=deadlines,
                   obligations=obligations, transitions=transitions)


def read_lines(path: str, part: Chunk | None = None) -> Iterator[tuple[int, bytes]]:
    """``(line number, bytes)`` of the records of a JSONL file, or of one of its parts (:func:`split_file`), as
    ``engine evaluate`` reads them (a BOM at the start of the file, blank lines skipped, a line over 16 MiB given
    as ``(line, BadRecord)``)."""
    from engine.run.parallel import read_range

    if part is None:
        import os

        return read_range(path, 0, os.path.getsize(path))
    return read_range(part.path, part.start, part.end, part.first_line)


def split_file(path: str, *, parts: int | None = None, chunk_bytes: int | None = None) -> list[Chunk]:
    """Line-aligned byte ranges of a JSONL file (``Chunk``: ``path``, ``start``, ``end``, ``first_line``): about
    ``parts`` of them, or of ``chunk_bytes`` bytes each. Every record is in exactly one range."""
    import os

    if chunk_bytes is None:
        size = os.path.getsize(path)
        chunk_bytes = max(1, -(-size // max(1, parts or 1)))
    from engine.run.parallel import file_chunks

    return list(file_chunks(path, chunk_bytes))


def to_json(result: dict) -> bytes:
    """The JSON line ``engine evaluate`` writes for one result (with its final newline)."""
    import orjson

    from engine.render.evaluation import json_default

    return orjson.dumps(result, default=json_default, option=orjson.OPT_APPEND_NEWLINE)


def summarize(results: Iterable[dict]):
    """The counts of ``engine evaluate --summary`` for these results (:class:`engine.render.evaluation.Summary`: ``as_dict()``,
    ``format()``)."""
    from engine.render.evaluation import Summary

    s = Summary()
    for r in results:
        s.add(r)
    return s


def merge_summaries(summaries: Iterable):
    """One summary counting everything the given ones counted (exact: counts add up)."""
    from engine.run.batch import merge_summaries as merge

    return merge(summaries)


# ----------------------------------------------------------------------------------------------- versions

def diff_texts(old_text: str | bytes, new_text: str | bytes, *, import_folders: Iterable[str] = ()) -> dict:
    """The semantic diff of two spec texts (``engine diff --format json`` as data), never read from a path given
    by the caller. Their ``imports:`` are resolved only inside ``import_folders`` (an absolute import, or one that
    leaves them, is refused without being opened; see :func:`engine.audit.versions.text_version`). Raises
    :class:`engine.errors.SpecError` for a text that does not load; its diagnostics name the texts ``old`` and
    ``new``."""
    import json

    from engine.audit.diff import diff_versions
    from engine.audit.versions import forget_text_version, text_version
    from engine.render.diff import render

    folders = tuple(import_folders)
    old = text_version(old_text, "old", folders)
    try:
        new = text_version(new_text, "new", folders)
        try:
            return json.loads(render(diff_versions(old, new), None, "json"))
        finally:
            forget_text_version(new)
    finally:
        forget_text_version(old)


# ----------------------------------------------------------------------------------------------- cohorts

def load_operation(path: str) -> dict:
    """The operation record of ``engine report --operation`` (raises :class:`engine.errors.RecordError`)."""
    from engine.operation.report import load_operation as load

    return load(path)


def build_report(spec, operation: Mapping[str, Any], cohort: Iterable[tuple[int, Any]], at: date,
                 params: Mapping[str, Any] | None = None, *, records_path: str | None = None,
                 jobs: int | None = None, dask: str | None = None, client=None) -> dict:
    """The operation report (``engine report``) of ``operation`` and its ``cohort`` (``(line, raw dict)`` pairs,
    e.g. ``read_records(path)``), in one pass. With ``records_path`` (the JSONL file ``cohort`` is read from), a
    large cohort is read by several processes (``jobs`` forces their number), or on a Dask cluster (``dask``:
    ``"local"`` or a scheduler's address, or a ``dask.distributed.Client``); the report is the same."""
    from engine.run.cohort import build_report as build

    return build(spec, dict(operation), cohort, at, params, records_path=records_path, jobs=jobs, dask=dask,
                 client=client)


def cohort_part(spec, operation: Mapping[str, Any], cohort: Iterable[tuple[int, Any]], at: date,
                params: Mapping[str, Any] | None = None):
    """The accumulators of one partition of the cohort (:class:`engine.operation.parts.CohortPart`, picklable).
    ``cohort`` yields ``(line, raw dict | bytes)``: bytes are decoded as JSON (e.g. :func:`read_lines` of a part)."""
    from engine.operation.parts import cohort_part as part
    from engine.beneficiary.records import decode_object

    items = ((n, decode_object(r) if r.__class__ is bytes else r) for n, r in cohort)
    return part(spec, dict(operation), items, at, params)


def merge_parts(parts: Iterable):
    """Partitions merged in input order (exact: the report of the merge is the one-pass report)."""
    from engine.operation.parts import merge_parts as merge

    return merge(parts)


def report_from_parts(spec, operation: Mapping[str, Any], parts: Iterable, at: date,
                      params: Mapping[str, Any] | None = None) -> dict:
    """The operation report whose cohort is the given partitions (in input order)."""
    from engine.operation.parts import report_from_parts as build

    return build(spec, dict(operation), parts, at, params)


def render_report(report: dict, fmt: str = "text", dialect=None) -> str:
    """The report as ``engine report --format`` shows it: ``text``, ``json``, ``markdown`` or ``csv``; ``dialect``
    (:mod:`engine.render.spreadsheet`: ``STANDARD`` or ``EXCEL_FR``) for the CSV."""
    from engine.render.report import render
    from engine.render.spreadsheet import STANDARD

    return render(report, fmt, dialect or STANDARD)


__all__ = ["Chunk", "build_report", "cohort_part", "diff_texts", "evaluate_bytes", "evaluate_lines", "evaluate_record",
           "explain_record", "load_operation",
           "load_spec", "merge_parts", "merge_summaries", "read_lines", "render_report", "report_from_parts",
           "split_file", "summarize", "to_json"]
