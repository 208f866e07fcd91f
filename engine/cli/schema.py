"""`engine schema [--output evaluate|report|diff|explain]`: the JSON Schema of the spec format, or of an output
(engine.spec.schema, engine.render.schemas)."""

from __future__ import annotations

import sys

from engine.render.schemas import output_schema_text
from engine.spec.schema import explain_schema_text, schema_text


def run(args) -> int:
    which = getattr(args, "output", None)
    if which == "explain":
        sys.stdout.write(explain_schema_text())
    elif which:
        sys.stdout.write(output_schema_text(which))
    else:
        sys.stdout.write(schema_text())
    return 0
