#!/usr/bin/env python3
"""Benchmarks of `engine evaluate`, side by side in one process and one run (figures for the README/closing note).

    python tools/bench.py [--spec specs/accompagnement-social-professionnel-intensif.yaml] [-n 20000] [--seed 1]
                          [--rss N] [--instructions [--stages]]

1. **One eligibility rule**, compiled by the engine vs the same rule written by hand in Python, on the same bound
   records: "department 62, RSA, age 16-25 or disabled and at most 30, a first appointment within 15 days of the
   orientation, at least 3 activities, 7 to 15 hours of activity in the last week" (target: compiled <= 2x).
2. **Full evaluation end to end** (read JSONL, bind, eligibility, path, deadlines, obligations, write JSONL) of
   ``-n`` synthetic records of ``--spec`` (tools/synth.py, about 35 events each) vs the **raw floor**: read + parse +
   write of the same file with the same JSON library (orjson). Targets: >= 15,000 records/s on one core, <= 10x the
   floor.
3. ``--rss N``: evaluates N records in a child process (``engine evaluate``) and reports its peak RSS (target:
   1,000,000 records under 500 MB).
4. ``--instructions``: CPU instructions per record under valgrind, full evaluation and raw floor (the same count
   however busy the machine is); ``--stages``: also per stage of the evaluation (see :func:`instructions`).

Figures are CPU seconds of this process (``time.process_time``), so a busy machine inflates them less than wall time;
wall time is printed too.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tools"))

from engine.spec.compile import load_spec  # noqa: E402
from engine.beneficiary.evaluate import evaluate_stream, plan_for  # noqa: E402
from engine.beneficiary.records import read_records  # noqa: E402
from engine.render.evaluation import tune_gc, write_jsonl  # noqa: E402
from engine.expr.runtime import Unknown, age  # noqa: E402

RULE = """
department == "62" and rsa
and (age(birth_date, today) >= 16 and age(birth_date, today) <= 25
     or disability and age(birth_date, today) <= 30)
and count(history where phase == "orientation") >= 1
and count(events where type == "appointment") >= 1
and min((events where type == "appointment").date) <= min((history where phase == "orientation").date) + 15 days
and count(events where type == "activity") >= 3
and sum((events where type == "activity" and date > today - 7 days).hours) >= 7
and sum((events where type == "activity" and date > today - 7 days).hours) <= 15
"""

RSS_CHILD = """
import atexit, sys
def hwm():
    try:
        with open("/proc/self/status") as f:
            sys.stderr.write("".join(ln for ln in f if ln.startswith("VmHWM:")))
    except OSError:
        pass
atexit.register(hwm)
from engine.cli.main import main
sys.exit(main(sys.argv[1:]))
"""

WEEK = timedelta(days=7)
FIFTEEN = timedelta(days=15)


def hand_written(env: dict, today: date):
    """The same rule by hand, with the same three-valued result (None when the missing data decides)."""
    U = Unknown
    unknown = False
    dep, rsa = env["department"], env["rsa"]
    if dep.__class__ is U:
        unknown = True
    elif dep != "62":
        return False
    if rsa.__class__ is U:
        unknown = True
    elif not rsa:
        return False
    birth, dis = env["birth_date"], env["disability"]
    a = None if birth.__class__ is U else age(birth, today)
    young = None if a is None else 16 <= a <= 25
    dis30 = False if dis is False or (a is not None and a > 30) else (None if dis.__class__ is U or a is None else True)
    public = True if young is True or dis30 is True else (None if young is None or dis30 is None else False)
    if public is False:
        return False
    if public is None:
        unknown = True
    events = env["events"]
    orient = [h["date"] for h in env["history"] if h["phase"] == "orientation"]
    if not orient:
        return False
    else:
        limit = min(orient) + FIFTEEN
        if not any(e["type"] == "appointment" and e["date"] <= limit for e in events):
            return False
    acts = [e for e in events if e["type"] == "activity"]
    if len(acts) < 3:
        return False
    since = today - WEEK
    hours = sum(e.get("hours", 0) for e in acts if e["date"] > since)
    if not 7 <= hours <= 15:
        return False
    return None if unknown else True


def _cpu() -> float:
    return time.process_time()


def calibration() -> float:
    """CPU nanoseconds per iteration of a plain Python loop (``s += i``), to compare machines: about 25-35 ns on
    a recent laptop with CPython 3.11; more on a busy or slower machine."""
    best = float("inf")
    for _ in range(3):
        t = _cpu()
        s = 0
        for i in range(2_000_000):
            s += i
        best = min(best, (_cpu() - t) / 2_000_000 * 1e9)
    return best


def bench_rule(spec, envs, today) -> tuple[float, float, int]:
    from engine.expr.compiler import compile_expression

    compiled = compile_expression(RULE, spec.scope).fn
    agree = 0
    for env in envs:
        c, h = compiled(env, today), hand_written(env, today)
        agree += (c if c is True or c is False else None) is h
    reps = max(1, 200_000 // max(1, len(envs)))
    t = _cpu()
    for _ in range(reps):
        for env in envs:
            hand_written(env, today)
    t_hand = (_cpu() - t) / (reps * len(envs))
    t = _cpu()
    for _ in range(reps):
        for env in envs:
            compiled(env, today)
    t_comp = (_cpu() - t) / (reps * len(envs))
    return t_hand, t_comp, agree


def raw_floor(src: str, dst: str) -> None:
    with open(src, "rb") as f, open(dst, "wb") as out:
        write = out.write
        for line in f:
            write(orjson.dumps(orjson.loads(line), option=orjson.OPT_APPEND_NEWLINE))


def full(spec, src: str, dst: str, at: date) -> None:
    with open(dst, "wb") as out:
        # as `engine evaluate` does: records decoded against the spec's types (engine.beneficiary.bind_typed)
        write_jsonl(out, evaluate_stream(spec, read_records(src, decode=plan_for(spec).decoder), at, {}, owned=True))


def timed(fn, *args) -> tuple[float, float]:
    w, c = time.perf_counter(), _cpu()
    fn(*args)
    return _cpu() - c, time.perf_counter() - w


INSTR_CHILD = """
import dataclasses, io, itertools, os, sys
from datetime import date
import orjson
sys.path.insert(0, sys.argv[1])
from engine.beneficiary import evaluate
from engine.spec.compile import load_spec
from engine.beneficiary.evaluate import evaluate_stream, plan_for
from engine.beneficiary.records import read_records
from engine.render.evaluation import tune_gc, write_jsonl
what, spec_path, src, n, at = sys.argv[2:7]
n = int(n)
out = io.BytesIO()
with tune_gc():
    if what == "floor":
        with open(src, "rb") as f:
            for line in itertools.islice(f, n):
                out.write(orjson.dumps(orjson.loads(line), option=orjson.OPT_APPEND_NEWLINE))
    else:
        spec = load_spec(spec_path)
        plan = plan_for(spec)
        items = itertools.islice(read_records(src, decode=getattr(plan, "decoder", None)), n)
        if what == "read":
            for _ in items:
                pass
            sys.exit(0)
        # the stages after `what` switched off (a plan without them: the same code, less work)
        off = {"bind": dict(leaves=(), tree=None, has_path=False, deadlines=(), obligations=()),
               "eligibility": dict(has_path=False, deadlines=(), obligations=()),
               "path": dict(deadlines=(), obligations=()), "deadlines": dict(obligations=()), "full": {}}[what]
        evaluate._PLANS[id(spec)] = dataclasses.replace(plan, **off)
        write_jsonl(out, evaluate_stream(spec, items, date.fromisoformat(at), {}, owned=True))
if os.environ.get("BENCH_CHECK"):  # (tests: the lines written)
    print(out.getvalue().count(b"\\n"))
"""


STAGES = ("floor", "read", "bind", "eligibility", "path", "deadlines", "full")


def instructions(args, src: str) -> None:
    """Instructions per record (callgrind), as the difference between runs over the first 3,000 and 1,000 records
    (start-up, spec compilation and warming caches cancel out). With ``--stages``, also the evaluation cut after
    each stage (reading only; binding and the output skeleton; + eligibility; + path; + deadlines; + obligations =
    full), so that the difference between two rows is what a stage costs, its share of the output included."""
    import re
    import shutil
    from concurrent.futures import ThreadPoolExecutor

    if shutil.which("valgrind") is None:
        print("instructions: valgrind is not installed (apt-get install valgrind)")
        return
    lo, hi = 1000, min(3000, args.n)
    if hi <= lo:
        print("instructions: needs -n 3000 or more")
        return

    def count(job: tuple) -> int:
        what, n = job
        p = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null", sys.executable, "-c",
                            INSTR_CHILD, str(ROOT), what, args.spec, src, str(n), args.at.isoformat()],
                           env={**os.environ, "PYTHONHASHSEED": "0"}, capture_output=True, text=True)
        m = re.search(r"refs:\s*([\d,]+)", p.stderr)
        if p.returncode or not m:
            raise SystemExit(f"instructions: valgrind failed: {p.stderr[-2000:]}")
        return int(m.group(1).replace(",", ""))

    whats = STAGES if args.stages else ("floor", "full")
    jobs = [(w, n) for w in whats for n in (lo, hi)]
    with ThreadPoolExecutor(max_workers=os.cpu_count() or 1) as pool:  # valgrind counts, so runs may overlap
        counts = dict(zip(jobs, pool.map(count, jobs)))
    per = {w: (counts[w, hi] - counts[w, lo]) / (hi - lo) for w in whats}
    print(f"instructions per record (records {lo}-{hi}): full {per['full']:,.0f}, floor {per['floor']:,.0f}, "
          f"ratio {per['full'] / per['floor']:.1f}x")
    if args.stages:
        labels = {"read": "read and decode (no output)", "bind": "binding, output skeleton and writing",
                  "eligibility": "eligibility", "path": "path and next steps", "deadlines": "deadlines",
                  "full": "obligations"}
        prev = 0.0
        for w in STAGES[1:]:
            cost = per[w] - prev
            print(f"  {labels[w]:<38} {cost:>9,.0f}  {100 * cost / per['full']:4.0f} %")
            prev = per[w]


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", default=str(ROOT / "specs/accompagnement-social-professionnel-intensif.yaml"))
    ap.add_argument("-n", type=int, default=20000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--at", type=date.fromisoformat, default=date(2026, 12, 31))
    ap.add_argument("--rss", type=int, default=0, metavar="N", help="also measure the peak RSS of N records")
    ap.add_argument("--instructions", action="store_true",
                    help="also count CPU instructions per record under valgrind (callgrind): full evaluate and raw "
                         "floor, records 1,000 to 3,000 of the file (steady state); unlike seconds, the same on a "
                         "busy machine")
    ap.add_argument("--stages", action="store_true",
                    help="with --instructions: the instructions of each stage of the evaluation (each stage "
                         "switched off in turn, from the last)")
    args = ap.parse_args(argv)

    from synth import Synth

    spec = load_spec(args.spec)
    plan = plan_for(spec)
    print(f"# dispositif engine benchmark -- spec {spec.id}, {args.n} records, seed {args.seed}, at {args.at}")
    print(f"# python {sys.version.split()[0]}, {os.cpu_count()} cpu, load average {os.getloadavg()[0]:.2f}, "
          f"calibration {calibration():.0f} ns per loop iteration (~30 ns on a recent idle laptop)")
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "records.jsonl")
        s = Synth(spec, args.seed, date(2026, 1, 5))
        n_events = 0
        with open(src, "wb") as f:
            for i in range(args.n):
                r = s.record(i, args.at, 0.3, 0.1, spread=120)
                n_events += len(r["events"]) + len(r["history"])
                f.write(orjson.dumps(r, option=orjson.OPT_APPEND_NEWLINE))
        size = os.path.getsize(src)
        print(f"records: {args.n}, {n_events / args.n:.1f} events + history entries per record, {size / 1e6:.1f} MB")

        # 1. one rule, compiled vs hand-written
        envs = []
        for _, raw in read_records(src):
            if isinstance(raw, dict):
                try:
                    envs.append(plan.binder.bind(raw, plan.binder.params({})))
                except Exception:  # noqa: BLE001 - bad synthetic records are simply not used here
                    pass
            if len(envs) >= 5000:
                break
        t_hand, t_comp, agree = bench_rule(spec, envs, args.at)
        print(f"rule  hand-written  {t_hand * 1e6:8.2f} us/record")
        print(f"rule  compiled      {t_comp * 1e6:8.2f} us/record   ratio {t_comp / t_hand:.2f}x (target <= 2x); "
              f"same result on {agree}/{len(envs)} records")

        # 2. end to end vs raw floor, interleaved (floor, full, floor, full, floor: keep the best of each, as a busy
        #    virtual machine slows one run now and then); the garbage collector tuned as `engine evaluate` does
        dst = os.path.join(tmp, "out.jsonl")
        with tune_gc():
            floors = [timed(raw_floor, src, dst) for _ in range(2)]
            fulls = []
            for _ in range(2):
                fulls.append(timed(full, spec, src, dst, args.at))
                floors.append(timed(raw_floor, src, dst))
        floor_cpu = min(c for c, _ in floors)
        full_cpu, full_wall = min(fulls)
        out_lines = sum(1 for _ in open(dst, "rb"))
        print(f"raw floor (read+parse+write, orjson) {args.n / floor_cpu:10,.0f} records/s  ({floor_cpu:.2f} s cpu)")
        print(f"full evaluate end to end             {args.n / full_cpu:10,.0f} records/s  ({full_cpu:.2f} s cpu, "
              f"{full_wall:.2f} s wall)  {out_lines} output lines")
        print(f"ratio full / floor {full_cpu / floor_cpu:.1f}x (target <= 10x); "
              f"{1e6 * full_cpu / args.n:.1f} us per record (target >= 15,000 records/s)")

        if args.rss:
            big = os.path.join(tmp, "big.jsonl")
            with open(src, "rb") as f:
                lines = f.read().splitlines(keepends=True)
            with open(big, "wb") as f:
                for i in range(args.rss):
                    f.write(lines[i % len(lines)])
            del lines, envs
            t = time.perf_counter()
            # the child reports its own peak (VmHWM of /proc/self/status, which starts afresh at exec): the
            # children's ru_maxrss would also count the pages of this process shared with the child before exec
            p = subprocess.run([sys.executable, "-c", RSS_CHILD, "evaluate", "--spec", args.spec, big, "--at",
                                args.at.isoformat(), "-o", os.path.join(tmp, "big.out.jsonl")], cwd=ROOT,
                               stderr=subprocess.PIPE)
            hwm = [ln for ln in p.stderr.decode(errors="replace").splitlines() if ln.startswith("VmHWM:")]
            rss = int(hwm[-1].split()[1]) / 1024 if hwm else resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
            print(f"rss: {args.rss} records in {time.perf_counter() - t:.0f} s wall, exit {p.returncode}, "
                  f"peak RSS {rss:.0f} MB (target < 500 MB)")
        if args.instructions or args.stages:
            instructions(args, src)
    cmd = f"python tools/bench.py --spec {os.path.relpath(args.spec, ROOT)} -n {args.n} --seed {args.seed}"
    print(f"reproduce: {cmd}" + (f" --rss {args.rss}" if args.rss else "")
          + (" --instructions" if args.instructions else "") + (" --stages" if args.stages else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
