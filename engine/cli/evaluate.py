"""`engine evaluate --spec S RECORDS... [--at D] [--param N=V] [--format jsonl|json|csv] [-o OUT] [--summary]
[--jobs N|auto] [--dask ADDRESS]`: one output line per input record (engine.beneficiary.evaluate, engine.run.batch,
written by engine.render.evaluation)."""

from __future__ import annotations

import os
import sys
from typing import Iterator

from engine.api import load_spec
from engine.beneficiary.evaluate import evaluate_stream, plan_for
from engine.beneficiary.records import read_records, record_files
from engine.cli import args as A
from engine.clock import evaluation_date
from engine.errors import COMMAND_LINE, UsageError
from engine.faults import EXIT_INTERNAL, Counter as InternalCounter, summary as internal_summary
from engine.files.output import open_output, prepare, refuse_inputs, spec_inputs
from engine.render.evaluation import Summary, count_lines, progress_bar, tune_gc, write_csv, write_json, write_jsonl
from engine.render.spreadsheet import STANDARD, dialect as csv_dialect
from engine.render.terminal import render_records
from engine.run.batch import INTERNAL, evaluate_files
from engine.run.cluster import evaluate_files_dask
from engine.run.parallel import parse_jobs

SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".txt": "text"}


def output_format(args) -> str:
    """``--format``, else the suffix of ``-o``, else ``text`` on a terminal and ``jsonl`` when piped or written."""
    fmt = A.output_format(args, SUFFIXES, "")
    if fmt:
        return fmt
    return "text" if getattr(args, "output", None) is None and _isatty(sys.stdout) else "jsonl"


def _isatty(stream) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):
        return False


def colour(args) -> bool:
    """Colour the text view only on a terminal, and never when ``NO_COLOR`` is set (https://no-color.org)."""
    return getattr(args, "output", None) is None and _isatty(sys.stdout) and not os.environ.get("NO_COLOR")


def run(args) -> int:
    at = evaluation_date(args.at)
    args.format = output_format(args)
    dialect = csv_dialect(args.csv_dialect)
    if args.csv_dialect and args.format != "csv":
        raise UsageError(f"--csv-dialect ne s'applique qu'au format csv (format choisi : {args.format})",
                         file=COMMAND_LINE, code="usage", hint="ajoutez --format csv, ou retirez --csv-dialect")
    if sum(1 for p in args.records if p == "-") > 1:
        raise UsageError("l'entrée standard (-) ne peut être lue qu'une fois", file=COMMAND_LINE, code="usage")
    target = prepare(args.output, "-o")  # a bad output name is a usage error before anything is read
    spec = load_spec(args.spec)
    args.records = record_files(list(args.records))  # a folder: its record files, by name
    plan = plan_for(spec)
    params = A.params(args)
    plan.binder.params(params)  # a bad --param is a usage error (exit 2) before anything is read
    for name in sorted(set(spec.parameters) - set(params)):
        sys.stderr.write(f"engine evaluate: attention : le paramètre « {name} » n'est pas fourni (--param {name}=...) ; "
                         "les décisions qui en dépendent seront indéterminées (null) et le nommeront dans "
                         "« missing »\n")
    refuse_inputs([target], spec_inputs(spec) + [("le fichier d'enregistrements", p) for p in args.records])
    several_processes = (getattr(args, "jobs", None) not in (None, "1", 1)) or getattr(args, "dask", None)
    if several_processes and args.format == "text":
        sys.stderr.write("engine evaluate: le format text est écrit par un seul processus (--jobs et --dask sont "
                         "pour les formats jsonl, json et csv)\n")
    elif several_processes:
        if dialect is not STANDARD:
            raise UsageError("--csv-dialect excel-fr avec --jobs ou --dask n'est pas pris en charge",
                             file=COMMAND_LINE, code="usage", hint="retirez --jobs, ou convertissez ensuite")
        return _run_chunked(args, spec, at, params, target)
    sources = [(p, read_records(p, spec=spec, decode=plan.decoder)) for p in args.records]  # open everything first: exit 1 before output
    several = len(sources) > 1

    def results() -> Iterator[dict]:
        for path, items in sources:
            for r in evaluate_stream(spec, items, at, params, owned=True):
                if several and r.get("status") == "error":
                    r["file"] = path
                yield r

    summary = Summary() if args.summary else None
    counter = InternalCounter()
    stream = progress_bar(counter.watch(results()), summary, total=lambda: count_lines(args.records))
    with open_output(target) as out, tune_gc():
        if args.format == "json":
            write_json(out, stream)
        elif args.format == "csv":
            write_csv(out, stream, spec, dialect)
        elif args.format == "text":
            for block in render_records(stream, spec, color=colour(args), verbose=args.verbose):
                out.write(block.encode("utf-8"))
        else:
            write_jsonl(out, stream)
    if summary is not None:
        sys.stderr.write(summary.format() + "\n")
    if counter.internal:  # every record has its line; the bug is said, and the exit code says it to scripts
        sys.stderr.write(internal_summary("evaluate", counter.internal, counter.total))
        return EXIT_INTERNAL
    return 0


def _run_chunked(args, spec, at, params: dict, target) -> int:
    """``--jobs N`` (N > 1) or ``--dask ADDRESS``: the same output, in the same order, and the same summary."""
    jobs = parse_jobs(getattr(args, "jobs", None)) or 1
    dask = getattr(args, "dask", None)
    with open_output(target) as out, tune_gc():
        if dask:
            stats = evaluate_files_dask(spec, list(args.records), at, params, out, address=dask, fmt=args.format,
                                        workers=getattr(args, "jobs", None) and jobs, summary=args.summary)
        else:
            stats = evaluate_files(spec, list(args.records), at, params, out, fmt=args.format, jobs=jobs,
                                   summary=args.summary)
    for f in stats.failures or ():
        where = f"{f.chunk.path}, lignes {f.chunk.lines}" if f.chunk.items is not None else \
            f"{f.chunk.path}, octets {f.chunk.start}-{f.chunk.end} (à partir de la ligne {f.chunk.first_line})"
        sys.stderr.write(f"engine evaluate: erreur interne : une partie de l'entrée n'a pas pu être évaluée ({where}) : "
                         f"{f.reason} ; chacun de ses enregistrements a sa ligne d'erreur « {INTERNAL} »\n")
    if stats.summary is not None:
        sys.stderr.write(stats.summary.format() + "\n")
    if stats.internal:
        sys.stderr.write(f"engine evaluate: {stats.internal} enregistrement(s) sur {stats.records} ont rencontré une "
                         f"erreur interne du moteur (code « {INTERNAL} ») ; les autres sont évalués normalement\n")
        return EXIT_INTERNAL
    return 0
