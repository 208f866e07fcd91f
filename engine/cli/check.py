"""`engine check [PATHS] [--json] [--seeds DIR]`: exit 1 on any error, else 0 with a one-line summary
(engine.spec.check)."""

from __future__ import annotations

import json
import sys

from engine.spec.check import check_paths, locate_seeds


def run(args) -> int:
    paths = list(getattr(args, "paths", None) or ["specs"])
    explicit = getattr(args, "seeds", None)
    result = check_paths(paths, seeds=locate_seeds(explicit)[0] if explicit is not None else "auto")
    if getattr(args, "json", False):
        sys.stdout.write(json.dumps(result.to_json(), ensure_ascii=False, indent=2) + "\n")
        return 0 if result.ok else 1
    if result.diagnostics:
        sys.stderr.write("\n".join(d.format() for d in result.diagnostics) + "\n")
    if result.ok:
        sys.stdout.write(result.summary() + "\n")
        return 0
    sys.stderr.write(result.summary() + "\n")
    return 1
