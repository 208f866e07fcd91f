"""A bounded loopback load test of the HTTP API (`engine serve`, docs/server.md), beside `engine evaluate` on the
same records.

    python tools/bench_serve.py                       # 200 requests of 1 and of 100 records, 4 clients
    python tools/bench_serve.py --requests 500 --clients 8 --batch 1,10,100 --spec specs/mobilite.yaml

It starts `engine serve SPEC` (uvicorn, one process) in a subprocess on a free loopback port, waits for /healthz,
checks that one answer is byte for byte what `engine evaluate` writes for the same records, then sends
``--requests`` POST /v1/specs/ID/evaluate requests (JSON lines, ``--batch`` records each) from ``--clients``
threads with keep-alive connections, and reports requests/s and records/s. The CLI line evaluates the same number of
records from one file (`engine evaluate --spec SPEC FILE -o /dev/null`, process start and the cached spec included).
Everything is bounded: the number of requests, a timeout per request, and the server is stopped at the end.
Figures depend on the machine and its load: compare rows of one run, not runs of different days.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SPEC = ROOT / "specs" / "accompagnement-social-professionnel-intensif.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def sample_lines(spec: Path) -> list[bytes]:
    path = ROOT / "specs" / "samples" / (spec.stem + ".records.jsonl")
    if not path.is_file():
        sys.exit(f"bench_serve: no sample records for {spec.name} ({path})")
    return [line for line in path.read_bytes().splitlines() if line.strip()]


def batch_of(lines: list[bytes], n: int, start: int = 0) -> bytes:
    return b"".join(lines[(start + i) % len(lines)] + b"\n" for i in range(n))


def start_server(spec: Path, port: int, max_records: int) -> subprocess.Popen:
    env = {**os.environ, "ENGINE_SERVE_LOG": "warning"}
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "serve", str(spec), "--port", str(port),
                             "--max-records", str(max_records)], env=env, cwd=ROOT,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            sys.exit("bench_serve: the server stopped: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            c.request("GET", "/healthz")
            if c.getresponse().status == 200:
                return proc
        except OSError:
            time.sleep(0.2)
    proc.terminate()
    sys.exit("bench_serve: the server did not answer /healthz within 120 s")


def post(conn: http.client.HTTPConnection, url: str, body: bytes) -> bytes:
    conn.request("POST", url, body=body, headers={"content-type": "application/x-ndjson"})
    r = conn.getresponse()
    data = r.read()
    if r.status != 200:
        raise RuntimeError(f"HTTP {r.status}: {data[:300]!r}")
    return data


def load(port: int, url: str, lines: list[bytes], requests: int, clients: int, batch: int) -> tuple[float, int]:
    """(seconds, records answered) for ``requests`` requests of ``batch`` records from ``clients`` threads."""
    bodies = [batch_of(lines, batch, i * batch) for i in range(min(requests, 16))]
    todo = iter(range(requests))
    lock = threading.Lock()
    answered = [0]
    errors: list[str] = []

    def client():
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        while True:
            with lock:
                i = next(todo, None)
            if i is None or errors:
                return
            try:
                out = post(conn, url, bodies[i % len(bodies)])
            except Exception as e:  # noqa: BLE001 - reported below, the run stops
                errors.append(str(e))
                return
            with lock:
                answered[0] += out.count(b"\n")

    threads = [threading.Thread(target=client) for _ in range(clients)]
    t0 = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    dt = time.perf_counter() - t0
    if errors:
        sys.exit("bench_serve: a request failed: " + errors[0])
    return dt, answered[0]


def cli_run(spec: Path, lines: list[bytes], records: int, at: str, params: list[str]) -> float:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "records.jsonl"
        path.write_bytes(batch_of(lines, records))
        cmd = [sys.executable, "-m", "engine.cli.main", "evaluate", "--spec", str(spec), str(path), "--at", at,
               "-o", os.devnull] + [x for p in params for x in ("--param", p)]
        t0 = time.perf_counter()
        subprocess.run(cmd, check=True, cwd=ROOT, stdout=subprocess.DEVNULL)
        return time.perf_counter() - t0


def identical(port: int, url: str, spec: Path, lines: list[bytes], at: str, params: list[str]) -> bool:
    body = batch_of(lines, len(lines))
    got = post(http.client.HTTPConnection("127.0.0.1", port, timeout=60), url, body)
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "r.jsonl"
        path.write_bytes(body)
        want = subprocess.run([sys.executable, "-m", "engine.cli.main", "evaluate", "--spec", str(spec), str(path),
                               "--at", at] + [x for p in params for x in ("--param", p)], cwd=ROOT,
                              capture_output=True, check=True).stdout
    return got == want


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--spec", type=Path, default=DEFAULT_SPEC)
    ap.add_argument("--requests", type=int, default=200, help="requests per row (default 200, at most 100000)")
    ap.add_argument("--clients", type=int, default=4, help="concurrent clients (default 4, at most 64)")
    ap.add_argument("--batch", default="1,100", help="records per request, one row each (default 1,100)")
    ap.add_argument("--at", default="2026-06-01")
    ap.add_argument("--param", action="append", default=[], metavar="NAME=VALUE")
    ap.add_argument("--json", action="store_true", help="print the rows as JSON")
    a = ap.parse_args(argv)
    requests, clients = max(1, min(a.requests, 100_000)), max(1, min(a.clients, 64))
    batches = [max(1, min(int(b), 10_000)) for b in a.batch.split(",") if b.strip()]
    spec = a.spec.resolve()
    lines = sample_lines(spec)
    from engine import api

    spec_id = api.load_spec(str(spec)).id
    url = f"/v1/specs/{spec_id}/evaluate?at={a.at}" + "".join(f"&param={p}" for p in a.param)
    port = free_port()
    proc = start_server(spec, port, max(batches + [len(lines)]))
    rows = []
    try:
        same = identical(port, url, spec, lines, a.at, a.param)
        post(http.client.HTTPConnection("127.0.0.1", port, timeout=60), url, batch_of(lines, 10))  # warm-up
        for b in batches:
            dt, n = load(port, url, lines, requests, clients, b)
            rows.append({"what": f"API, {b} record(s) per request, {clients} clients", "requests": requests,
                         "records": n, "seconds": round(dt, 3), "requests_per_s": round(requests / dt, 1),
                         "records_per_s": round(n / dt, 1)})
            cdt = cli_run(spec, lines, n, a.at, a.param)
            rows.append({"what": f"engine evaluate, the same {n} records (one process)", "requests": None,
                         "records": n, "seconds": round(cdt, 3), "requests_per_s": None,
                         "records_per_s": round(n / cdt, 1)})
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
    if a.json:
        print(json.dumps({"identical_to_engine_evaluate": same, "spec": spec_id, "rows": rows}, indent=2))
    else:
        print(f"spec {spec_id}; answers identical to engine evaluate: {'yes' if same else 'NO'}")
        print(f"{'':58} {'requests/s':>11} {'records/s':>10} {'seconds':>8}")
        for r in rows:
            rq = f"{r['requests_per_s']:.1f}" if r["requests_per_s"] is not None else "-"
            print(f"{r['what']:58} {rq:>11} {r['records_per_s']:>10.1f} {r['seconds']:>8.2f}")
    return 0 if same else 1


if __name__ == "__main__":
    sys.exit(main())
