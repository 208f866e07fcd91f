#!/usr/bin/env python3
"""Benchmark of `engine diff --records`: the impact analysis on N synthetic records (default 100,000).

    python tools/bench_diff.py [-n 100000] [--seed 1] [--old tests/diff/base.yaml] \
        [--new tests/diff/v_deadline_21.yaml] [--at 2026-12-31] [--records FILE]

Generates the records with tools/synth.py for the old spec (unless --records is given; generation is not timed),
then measures, in one process: the semantic diff of the two specs; one plain evaluation of the file under the old
spec (the floor: what `engine evaluate` costs); the impact analysis (every record evaluated under both versions in
lockstep, compared, counted). Prints each figure (wall and CPU time: CPU time is the one to compare on a shared
machine), the ratio impact / one evaluation (about 2 is the expectation: two evaluations per record), the peak
memory, and the command that reproduces them.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date

ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
sys.path.insert(0, ROOT)

from engine.audit.diff import diff_versions  # noqa: E402
from engine.audit.versions import load_version  # noqa: E402
from engine.beneficiary.evaluate import evaluate_stream  # noqa: E402
from engine.audit.impact import analyse_impact  # noqa: E402
from engine.beneficiary.records import read_records  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("-n", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--old", default=os.path.join(ROOT, "tests/diff/base.yaml"))
    ap.add_argument("--new", default=os.path.join(ROOT, "tests/diff/v_deadline_21.yaml"))
    ap.add_argument("--at", type=date.fromisoformat, default=date(2026, 12, 31))
    ap.add_argument("--records", help="an existing record file (default: generate N with tools/synth.py)")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    args = ap.parse_args()
    params = dict(p.split("=", 1) for p in args.param)

    with tempfile.TemporaryDirectory(prefix="bench-diff-") as tmp:
        path = args.records
        if path is None:
            path = os.path.join(tmp, "records.jsonl")
            t = time.perf_counter()
            subprocess.run([sys.executable, os.path.join(ROOT, "tools/synth.py"), "--spec", args.old, "-n",
                            str(args.n), "--seed", str(args.seed), "-o", path], check=True)
            print(f"generated {args.n:,} records in {time.perf_counter() - t:.1f} s (not timed below)")
        size = os.path.getsize(path)

        with load_version(args.old) as old, load_version(args.new) as new:
            t = time.perf_counter()
            result = diff_versions(old, new)
            t_diff = time.perf_counter() - t
            old_spec, new_spec = old.compiled(), new.compiled()

            t, c = time.perf_counter(), time.process_time()
            n_eval = sum(1 for _ in evaluate_stream(old_spec, read_records(path, spec=old_spec), args.at, params,
                                                    owned=True))  # as `engine evaluate` does
            t_eval, c_eval = time.perf_counter() - t, time.process_time() - c

            c = time.process_time()
            impact = analyse_impact(old_spec, new_spec, path, at=args.at, params=params)
            c_impact = time.process_time() - c

    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"semantic diff: {len(result.changes)} changes ({len(result.semantic_changes)} semantic) in "
          f"{t_diff * 1000:.1f} ms")
    print(f"one evaluation (floor): {n_eval:,} records in {t_eval:.2f} s wall, {c_eval:.2f} s CPU = "
          f"{n_eval / c_eval:,.0f} records per CPU second")
    print(f"impact analysis: {impact.records:,} records ({size / 1e6:.1f} MB) in {impact.seconds:.2f} s wall, "
          f"{c_impact:.2f} s CPU = {impact.records / c_impact:,.0f} records per CPU second; "
          f"{impact.changed:,} change, {len(impact.kinds)} kinds of change")
    print(f"ratio impact / one evaluation (CPU): {c_impact / c_eval:.2f}; load average now "
          f"{os.getloadavg()[0]:.1f} on {os.cpu_count()} cores (wall times suffer when the machine is shared)")
    print(f"peak RSS: {peak_mb:.0f} MB")
    for k in impact.kinds:
        print(f"  {k.key}: {k.count:,}")
    print("reproduce: python tools/bench_diff.py " + " ".join(sys.argv[1:]))
    return 0


if __name__ == "__main__":
    sys.exit(main())
