#!/usr/bin/env python3
"""Does `engine explain` cost `engine evaluate` anything? CPU instructions (callgrind) of evaluate with the engine of
a base revision (before explain) and with this tree, on the same spec and records, side by side.

    python tools/bench_explain.py [--base REV] [--spec specs/accompagnement-social-professionnel-intensif.yaml]
                                  [-n 3000] [--seed 1]

``--base`` (default: the parent of the commit that added engine/beneficiary/explain.py) is extracted with ``git archive`` into
a temporary folder (engine/ and grammar/); both engines evaluate the same records (tools/synth.py) with the same
child as ``tools/bench.py --instructions``. Printed: instructions per record (runs over 1,000 and 3,000 records,
the difference divided by 2,000: start-up and compilation cancel out) and of one whole `engine evaluate` run of
one record (start-up included: argument parsing registers the explain subcommand), with the change in percent.
The target is at most +2 % per record. Instruction counts do not depend on how busy the machine is.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from concurrent.futures import ThreadPoolExecutor
from datetime import date
from io import BytesIO
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from bench import INSTR_CHILD  # noqa: E402

STARTUP_CHILD = """
import sys
sys.path.insert(0, sys.argv[1])
from engine.cli.main import main
sys.exit(main(sys.argv[2:]))
"""


def git(*args: str) -> bytes:
    return subprocess.run(["git", *args], cwd=ROOT, check=True, capture_output=True).stdout


def default_base() -> str:
    added = git("log", "--diff-filter=A", "--format=%H", "--", "engine/beneficiary/explain.py").decode().split()
    if not added:
        raise SystemExit("bench_explain: engine/beneficiary/explain.py is not in the history yet: give --base REV")
    return added[-1] + "^"


def extract(rev: str, dest: Path) -> None:
    """engine/ and grammar/ of ``rev`` into ``dest`` (grammar also as the package engine.grammar)."""
    data = git("archive", "--format=tar", rev, "engine", "grammar")
    with tarfile.open(fileobj=BytesIO(data)) as tar:
        tar.extractall(dest, filter="data")
    g = dest / "engine" / "grammar"
    if not g.exists():
        shutil.copytree(dest / "grammar", g)
        (g / "__init__.py").touch()


def callgrind(code: str, args: list[str], cwd: Path) -> int:
    env = {**os.environ, "PYTHONHASHSEED": "0", "XDG_CACHE_HOME": str(cwd / ".cache")}
    p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c", code,
                        *args], env=env, capture_output=True, text=True, cwd=cwd)
    m = re.search(r"refs:\s*([\d,]+)", p.stderr)
    if not m:
        raise SystemExit(f"bench_explain: valgrind failed: {p.stderr[-2000:]}")
    return int(m.group(1).replace(",", ""))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", help="the revision to compare with (default: the parent of the commit adding explain)")
    ap.add_argument("--spec", default="specs/accompagnement-social-professionnel-intensif.yaml")
    ap.add_argument("-n", type=int, default=3000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--at", type=date.fromisoformat, default=date(2026, 12, 31))
    args = ap.parse_args(argv)
    if shutil.which("valgrind") is None:
        print("bench_explain: valgrind is not installed (apt-get install valgrind)")
        return 1
    base = args.base or default_base()
    base_id = git("rev-parse", "--short", base).decode().strip()
    from engine.spec.compile import load_spec
    from synth import Synth

    spec_path = str((ROOT / args.spec).resolve())
    spec = load_spec(spec_path)
    lo, hi = 1000, max(1001, args.n)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        src = tmp / "records.jsonl"
        s = Synth(spec, args.seed, date(2026, 1, 5))
        with open(src, "wb") as f:
            for i in range(hi):
                f.write(orjson.dumps(s.record(i, args.at, 0.3, 0.1, spread=120), option=orjson.OPT_APPEND_NEWLINE))
        one = tmp / "one.jsonl"
        one.write_bytes(src.read_bytes().split(b"\n", 1)[0] + b"\n")
        (tmp / "base").mkdir()
        extract(base, tmp / "base")
        trees = {"base": tmp / "base", "this tree": ROOT}
        jobs = [(name, "full", n) for name in trees for n in (lo, hi)]
        jobs += [(name, "startup", 1) for name in trees]

        def run(job):
            name, what, n = job
            work = tmp / f"work-{name.replace(' ', '-')}-{what}-{n}"
            work.mkdir()
            if what == "startup":
                return callgrind(STARTUP_CHILD, [str(trees[name]), "evaluate", "--spec", spec_path, str(one), "--at",
                                                 args.at.isoformat(), "-o", str(work / "out.jsonl")], work)
            return callgrind(INSTR_CHILD, [str(trees[name]), "full", spec_path, str(src), str(n),
                                           args.at.isoformat()], work)

        with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:
            counts = dict(zip(jobs, pool.map(run, jobs)))
    per = {name: (counts[name, "full", hi] - counts[name, "full", lo]) / (hi - lo) for name in trees}
    start = {name: counts[name, "startup", 1] for name in trees}
    d_rec = 100 * (per["this tree"] / per["base"] - 1)
    d_start = 100 * (start["this tree"] / start["base"] - 1)
    print(f"# engine evaluate, spec {spec.id}, records {lo}-{hi} of tools/synth.py (seed {args.seed}), at {args.at}")
    print(f"instructions per record   base {base_id}: {per['base']:,.0f}   this tree: {per['this tree']:,.0f}   "
          f"change {d_rec:+.2f} % (target <= +2 %)")
    print(f"one run of one record     base {base_id}: {start['base']:,}   this tree: {start['this tree']:,}   "
          f"change {d_start:+.2f} % (start-up, spec compilation)")
    print(f"reproduce: python tools/bench_explain.py --base {base_id} --spec {args.spec} -n {args.n}")
    return 0 if d_rec <= 2.0 else 1


if __name__ == "__main__":
    sys.exit(main())
