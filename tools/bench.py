#!/usr/bin/env python3
"""Benchmarks of `engine evaluate`, side by side in one process and one run (figures for docs/performance.md).

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
5. ``--scale``: the table of docs/performance.md, every figure a separate ``engine`` process on the same file, in
   one run (see :func:`scale`): ``engine evaluate`` vs the hand-written evaluator and the orjson floor
   (``--peers``, default ``../shared/bench``: CPU ratios), ``--jobs 1/2/auto`` (wall speed-up), ``--dask local``
   with 1 and 2 workers (wall, cluster start included and excluded), a one-record run and ``engine check`` warm
   and cold (CPU seconds), and with ``--rss N`` the peak memory of N records.

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
from engine.run.parallel import available_cpus  # noqa: E402

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


def _run(cmd, env=None) -> tuple[float, float]:
    """(wall, CPU) seconds of one command and every process it waited for (its workers included)."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t = time.monotonic()
    p = subprocess.run(cmd, env=env, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    wall = time.monotonic() - t
    if p.returncode not in (0, 1):  # 1: some records are invalid (the synthetic ones include bad lines)
        sys.exit(f"{' '.join(map(str, cmd))}: exit {p.returncode}\n{p.stderr.decode(errors='replace')}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    return wall, (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)


def _best(cmd, env=None, runs: int = 3) -> tuple[float, float]:
    """The best (least CPU) of ``runs`` runs: a busy machine slows a run now and then, never speeds one up."""
    return min((_run(cmd, env) for _ in range(runs)), key=lambda x: x[1])


DASK_TIMER = """
import sys, time
from datetime import date
from engine.api import load_spec
from engine.run.cluster import dask_client, evaluate_files_dask
spec, path, workers = load_spec(sys.argv[1]), sys.argv[2], int(sys.argv[3])
with dask_client("local", workers) as client, open(sys.argv[4], "wb") as out:
    client.wait_for_workers(workers)
    t = time.monotonic()
    evaluate_files_dask(spec, [path], date.fromisoformat(sys.argv[5]), {}, out, client=client)
    print(time.monotonic() - t)
"""


def scale(args, src: str, tmp: str) -> None:
    """The figures of docs/performance.md: every one a separate process on the same records, in this one run."""
    env = dict(os.environ, ENGINE_CACHE_DIR=os.path.join(tmp, "cache"), PYTHONPATH=str(ROOT))
    env.pop("PYTHONDONTWRITEBYTECODE", None)  # as installed: modules compiled once, not at every start
    at = args.at.isoformat()
    out = os.path.join(tmp, "scale.out.jsonl")
    one = os.path.join(tmp, "one.jsonl")
    with open(src, "rb") as fsrc, open(one, "wb") as fone:
        fone.write(fsrc.readline())

    def engine(path):
        return [sys.executable, "-m", "engine.cli", "evaluate", "--spec", args.spec, path, "--at", at, "-o", out]

    rows: list[tuple[str, float, float, str]] = []
    _run(engine(src), env)  # the cache and the compiled modules are warm from here on
    e, e1 = _best(engine(src), env), _best(engine(one), env, 5)
    peers = Path(args.peers)
    if (peers / "hand_aspi.py").exists() and (peers / "floor.py").exists():
        def hand(path):
            return [sys.executable, str(peers / "hand_aspi.py"), path, at, os.path.join(tmp, "hand.jsonl")]

        def floor(path):
            return [sys.executable, str(peers / "floor.py"), path, os.path.join(tmp, "floor.jsonl"), "full"]

        h, h1 = _best(hand(src), env), _best(hand(one), env, 5)
        f, f1 = _best(floor(src), env), _best(floor(one), env, 5)
        per = [(x[1] - x1[1]) / args.n * 1e6 for x, x1 in ((e, e1), (h, h1), (f, f1))]
        rows += [("engine evaluate", *e, f"whole process: **{e[1] / h[1]:.2f}x** hand-written, **{e[1] / f[1]:.2f}x** "
                  f"floor; per record (the one-record run taken off): {per[0]:.1f} us, **{per[0] / per[1]:.2f}x** "
                  f"hand-written, **{per[0] / per[2]:.2f}x** floor (CPU; targets 1.1x and 4x)"),
                 ("hand-written evaluator (hand_aspi.py)", *h, f"{per[1]:.1f} us per record"),
                 ("orjson floor (floor.py full)", *f, f"{per[2]:.1f} us per record")]
    else:
        rows.append(("engine evaluate", *e, f"(no peers in {peers}: --peers DIR)"))
    cpus = available_cpus()
    for jobs in ("1", "2", "auto"):
        j = _best(engine(src) + ["--jobs", jobs], env, 2)
        n = cpus if jobs == "auto" else int(jobs)
        rows.append((f"engine evaluate --jobs {jobs}" + (f" ({cpus})" if jobs == "auto" else ""), *j,
                     f"speed-up {rows[0][1] / j[0]:.2f}x wall on {n} process(es) (target >= {0.9 * n:.1f}x)"))
    try:
        import dask.distributed  # noqa: F401
    except ImportError:
        rows.append(("--dask local", float("nan"), float("nan"), "the [dask] extra is not installed"))
    else:
        inner = {}
        for w in (1, 2):
            d = _best(engine(src) + ["--dask", "local", "--jobs", str(w)], env, 2)
            p = subprocess.run([sys.executable, "-c", DASK_TIMER, args.spec, src, str(w), out, at], env=env, cwd=ROOT,
                               capture_output=True, text=True, check=True)
            inner[w] = float(p.stdout.split()[-1])
            rows.append((f"engine evaluate --dask local --jobs {w}", *d,
                         f"{inner[w]:.2f} s wall once the cluster is up" +
                         (f"; 2 workers **{inner[1] / inner[2]:.2f}x** one (target >= 1.7x)" if w == 2 else "")))
    single = engine(one)
    check = [sys.executable, "-m", "engine.cli", "check", args.spec]
    cold_env = dict(env, ENGINE_NO_CACHE="1")
    rows += [("one record, warm cache", *e1, "target < 0.3 s CPU"),
             ("one record, no cache (compile)", *_best(single, cold_env, 3), ""),
             ("engine check, one spec, warm cache", *_best(check, env, 5), "target < 0.5 s CPU"),
             ("engine check, one spec, no cache", *_best(check, cold_env, 3), "")]
    print(f"\n## scale: {args.n} records of {os.path.basename(args.spec)}, {cpus} available cores, load average "
          f"{os.getloadavg()[0]:.1f}\n")
    print("| run | wall s | CPU s | note |\n|---|---:|---:|---|")
    for name, wall, cpu, note in rows:
        print(f"| {name} | {wall:.2f} | {cpu:.2f} | {note} |")


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
    ap.add_argument("--scale", action="store_true", help="also the table of docs/performance.md (see the docstring)")
    ap.add_argument("--peers", default=str(ROOT.parent / "shared" / "bench"),
                    help="folder of hand_aspi.py and floor.py (default ../shared/bench)")
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
        if args.scale:
            scale(args, src, tmp)
    cmd = f"python tools/bench.py --spec {os.path.relpath(args.spec, ROOT)} -n {args.n} --seed {args.seed}"
    print(f"reproduce: {cmd}" + (f" --rss {args.rss}" if args.rss else "")
          + (" --instructions" if args.instructions else "") + (" --stages" if args.stages else "")
          + (" --scale" if args.scale else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
