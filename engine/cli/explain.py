"""`engine explain --spec S RECORD [--id ID] [--at DATE] [--param N=V] [--rule ID] [--deadline ID] [--obligation ID]
[--transition N] [--format text|json] [-o OUT]`: the trace of one record's decision (:mod:`engine.beneficiary.explain`).

``RECORD`` is a JSON file holding one record, or a JSONL/JSON array/CSV file from which ``--id`` picks one (a file
of one record needs no ``--id``); ``--example NAME`` explains one of the spec's embedded examples instead. The format is ``text`` (French, indented) on a terminal and ``json`` when the
output is piped, unless ``--format`` or the suffix of ``-o`` (``.json``, ``.txt``) says otherwise.

Errors (exit 1: the spec or the record file is invalid, the id is not in the file, the record cannot be read;
exit 2: a rule, deadline, obligation or transition the spec does not have, a bad ``--param``) are positioned French
messages with a stable code (``explain.unknown_id``, ``explain.several_records``, ``explain.unknown_rule``...).
"""

from __future__ import annotations

import json
import sys

from engine.beneficiary.evaluate import plan_for
from engine.beneficiary.explain import check_selection, explain_record
from engine.beneficiary.records import BadRecord, read_records
from engine.cli import args as A
from engine.clock import evaluation_date
from engine.errors import COMMAND_LINE, Diagnostic, RecordError, UsageError, did_you_mean
from engine.render.evaluation import atomic_output
from engine.render.explain import render_text
from engine.spec.compile import load_spec
from engine.spec.model import jsonish


def pick_record(path: str, spec, rid: str | None) -> tuple[dict, int | None]:
    """The raw record ``rid`` of the file (or its only record) and its line; RecordError/UsageError otherwise."""
    ids: list = []
    found = None
    count = 0
    for line, item in read_records(path, spec=spec):
        count += 1
        iid = item.id if isinstance(item, BadRecord) else item.get("id") if isinstance(item, dict) else None
        if rid is None:
            if found is None:
                found = (line, item)
            continue
        if iid == rid:
            found = (line, item)
            break
        if isinstance(iid, str) and len(ids) < 100_000:
            ids.append(iid)
    if rid is None and count > 1:
        raise UsageError(Diagnostic(f"le fichier contient {count} enregistrements : lequel expliquer ?", file=path,
                                    code="explain.several_records",
                                    hint="choisissez-en un avec --id IDENTIFIANT"))
    if found is None:
        if rid is None:
            raise RecordError(Diagnostic("le fichier ne contient aucun enregistrement", file=path,
                                         code="explain.no_record", hint="donnez un fichier JSON d'un enregistrement "
                                         "ou un fichier JSONL"))
        hint = did_you_mean(rid, ids) or ("identifiants du fichier : " + ", ".join(ids[:5])
                                          + (", ..." if len(ids) > 5 else "") if ids else None)
        raise RecordError(Diagnostic(f"aucun enregistrement d'identifiant « {rid} » dans ce fichier", file=path,
                                     code="explain.unknown_id", hint=hint))
    line, item = found
    if isinstance(item, BadRecord):
        raise RecordError(Diagnostic(f"l'enregistrement ne peut pas être lu : {item.message}", file=path, line=line,
                                     code=item.code))
    if not isinstance(item, dict):
        raise RecordError(Diagnostic("l'enregistrement n'est pas un objet JSON {...}", file=path, line=line,
                                     code="not_an_object"))
    return item, line


def example_of(spec, name: str):
    """The record example of ``spec`` called ``name`` (UsageError ``explain.unknown_example`` otherwise)."""
    names = [e.name for e in spec.examples if e.record is not None]
    for e in spec.examples:
        if e.name == name and e.record is not None:
            return e
    part = [n for n in names if name.lower() in n.lower()]
    hint = (f"voulez-vous dire « {part[0]} » ?" if len(part) == 1 else None) or did_you_mean(name, names) or \
        ("exemples de cette spec : " + ("; ".join(names[:5]) or "aucun"))
    raise UsageError(Diagnostic(f"--example {name} : pas d'exemple de bénéficiaire de ce nom dans la spec {spec.id}",
                                file=COMMAND_LINE, code="explain.unknown_example", hint=hint))


def output_format(args) -> str:
    """``--format``, else the suffix of ``-o`` (``.json``/``.jsonl``: json, anything else: text), else text on a
    terminal and json when the output is piped."""
    if args.format:
        return args.format
    out = getattr(args, "output", None)
    if out and out != "-":
        return "json" if out.lower().endswith((".json", ".jsonl")) else "text"
    return "text" if sys.stdout.isatty() else "json"


def run(args) -> int:
    spec = load_spec(args.spec)
    params = A.params(args)
    plan_for(spec).binder.params(params)  # a bad --param is a usage error before the record is read
    check_selection(spec, args.rule or (), args.deadline or (), args.obligation or (), args.transition or ())
    if args.example is not None:
        if args.record is not None or args.id is not None:
            raise UsageError("--example explique un exemple de la spec : ne donnez ni fichier ni --id",
                             file=COMMAND_LINE, code="usage")
        ex = example_of(spec, args.example)
        raw, line = jsonish(ex.record), ex.pos.line
        at = evaluation_date(args.at, ex.at)
        params = {**{k: jsonish(v) for k, v in ex.params.items()}, **params}
        origin = {"file": ex.pos.file or spec.path, "line": line, "example": ex.name}
    else:
        if args.record is None:
            raise UsageError("donnez le fichier de l'enregistrement à expliquer (ou --example NOM)",
                             file=COMMAND_LINE, code="usage", hint="engine explain --spec S RECORD [--id ID]")
        at = evaluation_date(args.at)
        raw, line = pick_record(args.record, spec, args.id)
        origin = {"file": args.record, "line": line}
    trace = explain_record(spec, raw, at, params, rules=args.rule or (), deadlines=args.deadline or (),
                           obligations=args.obligation or (), transitions=args.transition or (), record=origin)
    err = trace.get("error")
    if err and err.get("code") != "evaluation_error":  # the record cannot be bound: nothing to explain
        raise RecordError(Diagnostic(f"l'enregistrement {trace['record'].get('id') or ''} ne peut pas être évalué : "
                                     f"{err.get('message')}".replace("  ", " "), file=origin["file"], line=line,
                                     code=err.get("code") or "record.invalid"))
    fmt = output_format(args)
    text = render_text(trace) if fmt == "text" else json.dumps(trace, ensure_ascii=False, indent=2) + "\n"
    with atomic_output(args.output) as out:
        out.write(text.encode("utf-8"))
    return 0
