"""`engine graph --spec S [--format mermaid|dot] [-o OUT]`: print (or write) the phase graph (engine.spec.graph)."""

from __future__ import annotations

from engine.cli.args import output_format
from engine.errors import Diagnostic, SpecError
from engine.files.output import prepare, refuse_inputs, spec_inputs, write_bytes
from engine.spec.compile import load_spec
from engine.spec.graph import render_graph

SUFFIXES = {".dot": "dot", ".gv": "dot"}


def run(args) -> int:
    spec = load_spec(args.spec)
    if not spec.phases:
        what = "est un fichier de vocabulaire" if spec.kind == "vocabulary" else "ne déclare pas de phases"
        raise SpecError(Diagnostic(f"« {spec.id} » {what} : il n'y a pas de graphe à dessiner", file=str(args.spec),
                                   code="graph.no_phases",
                                   hint="donnez une spec qui a une section `phases:` (voir specs/README.md)"))
    fmt = output_format(args, SUFFIXES, "mermaid")
    target = prepare(getattr(args, "output", None), "-o")
    refuse_inputs([target], spec_inputs(spec))
    write_bytes(target, render_graph(spec, fmt).encode("utf-8"))
    return 0
