"""`engine report --spec S --operation OP.json --records COHORT.jsonl [--at D] [--param N=V] [--format F | --json]
[--jobs N|auto] [--dask ADDRESS] [-o OUT]`: the operation report (engine.operation.report, rendered by engine.render.report)."""

from __future__ import annotations

import sys
from dataclasses import replace

from engine.api import build_report, load_operation, load_spec, render_report
from engine.beneficiary.records import read_records
from engine.cli.args import output_format, params
from engine.clock import evaluation_date
from engine.errors import RecordError
from engine.faults import EXIT_INTERNAL, summary
from engine.files.output import open_output, prepare, refuse_inputs, spec_inputs
from engine.render.spreadsheet import dialect as csv_dialect
from engine.run.parallel import parse_jobs

SUFFIXES = {".json": "json", ".md": "markdown", ".markdown": "markdown", ".csv": "csv"}


def run(args) -> int:
    target = prepare(getattr(args, "output", None), "-o")  # a bad output name is a usage error before anything is read
    spec = load_spec(args.spec)
    refuse_inputs([target], spec_inputs(spec) + [("le fichier de l'opération (--operation)", args.operation),
                                                 ("le fichier de la cohorte (--records)", args.records)])
    op = load_operation(args.operation)
    at = evaluation_date(args.at)
    fmt = output_format(args, SUFFIXES, "text")
    with open_output(target) as out:  # a folder that cannot be written fails now, before the cohort is read
        try:
            report = build_report(spec, op, read_records(args.records, spec=spec), at, params(args),
                                  records_path=args.records, jobs=parse_jobs(getattr(args, "jobs", None)),
                                  dask=getattr(args, "dask", None))
        except RecordError as e:  # the operation's checks (engine/operation/record.py) do not know its file: name it
            raise RecordError([replace(d, file=args.operation) if d.file is None and d.code.startswith("operation.")
                               else d for d in e.diagnostics]) from None
        out.write(render_report(report, fmt, csv_dialect(getattr(args, "csv_dialect", None))).encode("utf-8"))
    internal = report["cohort"].get("internal_errors") or 0
    if internal:  # the report is complete, but some participants hit an engine bug: say it, exit 3
        sys.stderr.write(summary("report", internal, None, "participant",
                                 "comptés comme inconnus dans les chiffres de la cohorte ; le rapport est écrit"))
        return EXIT_INTERNAL
    return 0
