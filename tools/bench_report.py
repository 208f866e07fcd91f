#!/usr/bin/env python3
"""Benchmark of ``engine report`` on a large synthetic cohort: wall time and peak memory (RSS).

    python tools/bench_report.py [--spec specs/chantiers-insertion.yaml] [-n 1000000] [--distinct 2000] [--keep F]

A pool of ``--distinct`` participants is drawn by ``tools/synth.py`` (legal paths, about 35 events each), then
written ``-n`` times in a JSONL file with fresh ids (so the file is big without spending minutes in the generator).
``engine report`` is then run in a child process on that file with the spec's sample operation; the child's wall
time and peak RSS (``getrusage(RUSAGE_CHILDREN).ru_maxrss``) are printed, with the throughput. The cohort is streamed
in one pass: memory does not grow with ``-n``.
"""

from __future__ import annotations

import argparse
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date

import orjson

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.join(HERE, "..")
sys.path.insert(0, ROOT)
sys.path.insert(0, HERE)


def write_cohort(spec_path: str, n: int, distinct: int, out: str, seed: int = 11) -> float:
    from synth import Synth

    from engine.spec.compile import load_spec

    spec = load_spec(spec_path)
    syn = Synth(spec, seed, date(2026, 1, 5))
    pool = []
    for i in range(distinct):
        rec = syn.record(i, date(2027, 4, 15), 0.0, 0.05)
        rec.pop("id", None)
        pool.append(orjson.dumps(rec, default=str)[1:])  # without the opening brace
    rng = random.Random(seed)
    t0 = time.perf_counter()
    with open(out, "wb") as f:
        buf = []
        for i in range(n):
            buf.append(b'{"id":"B-%07d",' % i + pool[rng.randrange(distinct)] + b"\n")
            if len(buf) >= 10_000:
                f.write(b"".join(buf))
                buf.clear()
        f.write(b"".join(buf))
    return time.perf_counter() - t0


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--spec", default=os.path.join(ROOT, "specs", "chantiers-insertion.yaml"))
    ap.add_argument("--operation")
    ap.add_argument("-n", type=int, default=1_000_000)
    ap.add_argument("--distinct", type=int, default=2000)
    ap.add_argument("--keep", help="write the cohort here (and keep it) instead of a temporary file")
    ap.add_argument("--jobs", type=int, help="passed to engine report (default: automatic)")
    ap.add_argument("--reuse", action="store_true", help="with --keep: reuse the file if it exists")
    a = ap.parse_args(argv)
    spec_id = os.path.splitext(os.path.basename(a.spec))[0]
    op = a.operation or os.path.join(ROOT, "specs", "samples", f"{spec_id}.operation.json")
    tmp = None
    if a.keep:
        path = a.keep
    else:
        tmp = tempfile.TemporaryDirectory()
        path = os.path.join(tmp.name, "cohort.jsonl")
    if a.reuse and a.keep and os.path.exists(path):
        gen = 0.0
    else:
        gen = write_cohort(a.spec, a.n, a.distinct, path)
    size = os.path.getsize(path)
    print(f"cohort: {a.n:,} records, {size / 1e6:.0f} MB (written in {gen:.1f} s)")
    engine = os.path.join(os.path.dirname(sys.executable), "engine")
    cmd = [engine if os.path.exists(engine) else sys.executable, *([] if os.path.exists(engine) else
                                                                  ["-m", "engine.cli.main"]),
           "report", "--spec", a.spec, "--operation", op, "--records", path, "--at", "2027-04-15", "--format", "json",
           *([] if a.jobs is None else ["--jobs", str(a.jobs)])]
    t0 = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True)
    wall = time.perf_counter() - t0
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss  # KiB on Linux
    if proc.returncode != 0:
        sys.stderr.write(proc.stderr.decode("utf-8", "replace"))
        return 1
    report = orjson.loads(proc.stdout)
    print(f"engine report (jobs: {a.jobs or 'auto'}): {wall:.1f} s, {a.n / wall:,.0f} records/s, "
          f"peak RSS {rss / 1024:.0f} MiB (largest process)")
    print(f"participants read: {report['cohort']['participants']:,}, unreadable: {report['cohort']['errors']:,}, "
          f"funding total: {report['funding'].get('total')}")
    if tmp is not None:
        tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
