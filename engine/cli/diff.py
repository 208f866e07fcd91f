"""`engine diff OLD NEW [--records R] [--at D] [--param N=V] [--format text|json|markdown|html | --json] [-o OUT]
[--changed C]`: the semantic diff of two spec versions (engine.audit.diff), with the impact on records
(engine.audit.impact), rendered by engine.render.diff."""

from __future__ import annotations

import os
import sys
from contextlib import ExitStack

from engine.audit.diff import diff_versions
from engine.audit.impact import analyse_impact
from engine.audit.money import money_impact
from engine.audit.versions import load_version
from engine.cli.args import params as params_of
from engine.clock import evaluation_date
from engine.errors import COMMAND_LINE, UsageError
from engine.faults import EXIT_INTERNAL, summary
from engine.files.output import open_output, prepare, refuse_inputs
from engine.operation.record import load_operation
from engine.spec.check import locate_seeds
from engine.spec.sources import SourceTexts
from engine.render.diff import render
from engine.render.site import site_links

SUFFIXES = {".json": "json", ".md": "markdown", ".html": "html", ".htm": "html"}


def version_inputs(version, label: str) -> list[tuple[str, str]]:
    """The files a version was read from (its spec and the vocabularies it imports); none for ``path@rev``, read
    from git into a private folder."""
    if getattr(version, "rev", None):
        return []
    files = [getattr(getattr(version.doc, "pos", None), "file", None) or version.path]
    files += [getattr(getattr(v, "pos", None), "file", None) for v in version.vocabularies]
    out = []
    for i, f in enumerate(files):
        if f:
            out.append((label if i == 0 else f"un fichier importé par {label}", str(f)))
    return out


def _format(args) -> str:
    """``--format`` wins over ``--json``, then the suffix of ``-o``; text otherwise."""
    if args.format:
        return args.format
    if getattr(args, "json", False):
        return "json"
    out = getattr(args, "output", None)
    if out:
        return SUFFIXES.get(os.path.splitext(out)[1].lower(), "text")
    return "text"


def run(args) -> int:
    fmt = _format(args)
    out_path = getattr(args, "output", None)
    params = params_of(args)
    records = getattr(args, "records", None)
    changed = getattr(args, "changed", None)
    if getattr(args, "operation", None) and not records:
        raise UsageError("--operation demande --records (la cohorte de l'opération)", file=COMMAND_LINE,
                         code="usage", hint="ajoutez --records COHORTE.jsonl")
    if changed is not None and not records:
        raise UsageError("--changed demande --records (les enregistrements à comparer)", file=COMMAND_LINE,
                         code="usage", hint="ajoutez --records FICHIER.jsonl, ou retirez --changed")
    # the outputs are checked before anything is read (usage errors, exit 2), and refused if they are an input
    target = prepare(out_path, "-o")
    changed_target = prepare(changed, "--changed") if changed is not None else None
    with ExitStack() as stack:
        old = stack.enter_context(load_version(args.old))
        new = stack.enter_context(load_version(args.new))
        inputs = version_inputs(old, "l'ancienne version") + version_inputs(new, "la nouvelle version")
        if records:
            inputs.append(("le fichier d'enregistrements (--records)", records))
        if getattr(args, "operation", None):
            inputs.append(("le fichier de l'opération (--operation)", args.operation))
        refuse_inputs([t for t in (target, changed_target) if t is not None], inputs)
        out = stack.enter_context(open_output(target)) if out_path else None  # a folder we cannot write: now
        result = diff_versions(old, new)
        impact = None
        if records:
            impact = analyse_impact(old.compiled(), new.compiled(), records, at=evaluation_date(args.at),
                                    params=params, progress=sys.stderr.isatty(), changed_path=changed_target)
        money = None
        if getattr(args, "operation", None):
            money = money_impact(old.compiled(), new.compiled(), load_operation(args.operation), records,
                                 evaluation_date(args.at), params)
        sources = None
        if fmt == "html":
            folder, _unchecked = locate_seeds(getattr(args, "seeds", None))
            sources = SourceTexts(folder)
        links = None
        if getattr(args, "site", None):
            links = site_links(args.site, result.new.id, result.new.version, getattr(args, "site_url", None))
        text = render(result, impact, fmt, money=money, sources=sources, links=links)
        if out is not None:
            out.write(text.encode("utf-8"))
        else:
            sys.stdout.write(text)
    if out_path or fmt != "text":  # the text output shows them already
        for w in result.warnings:
            sys.stderr.write(f"engine diff: attention : {w}\n")
    if impact is not None and impact.internal_errors:
        sys.stderr.write(summary("diff", impact.internal_errors, impact.records, "enregistrement",
                                 "comptés comme des changements d'évaluation ; le reste de la comparaison est complet"))
        return EXIT_INTERNAL
    return 0
