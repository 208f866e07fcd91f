"""`engine test [PATHS] [-k TEXT] [--json]`: run the examples embedded in specs (engine.examples). Exit 1 when an
example fails or a spec does not load, 3 when the engine itself failed on one (an internal error: see
engine.faults), whatever the others did."""

from __future__ import annotations

import json
import sys

from engine.examples import format_result, run_examples, summary_line
from engine.faults import EXIT_INTERNAL, summary


def run(args) -> int:
    results = run_examples(getattr(args, "paths", None) or ["specs"], getattr(args, "keyword", None))
    internal = sum(r.code == "internal_error" for r in results)
    if getattr(args, "json", False):
        passed = sum(r.passed for r in results)
        errors = sum(r.status == "error" for r in results)
        doc = {"summary": {"examples": len(results), "passed": passed, "failed": len(results) - passed,
                           "errors": errors, "internal_errors": internal},
               "results": [r.to_json() for r in results]}
        sys.stdout.write(json.dumps(doc, ensure_ascii=False, indent=2) + "\n")
    else:
        for r in results:
            if not r.passed:
                sys.stdout.write(format_result(r) + "\n")
        sys.stdout.write(summary_line(results) + "\n")
    if internal:
        sys.stderr.write(summary("test", internal, len(results), "exemple", "signalés ERROR ; les autres exemples ont été "
                                                                          "exécutés"))
        return EXIT_INTERNAL
    return 0 if all(r.passed for r in results) else 1
