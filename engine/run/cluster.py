"""``engine evaluate --dask local|tcp://HOST:PORT`` (extra ``[dask]``): the chunks of :mod:`engine.run.batch` evaluated
on a Dask cluster, written back in input order (byte for byte the single-process output).

The spec is sent once to every worker (``Client.scatter(..., broadcast=True)``; it is picklable,
:mod:`engine.spec.snapshot`); each task evaluates one chunk (a byte range of a JSONL file the workers can read at the
same path, or a batch of records read here) and returns its rendered bytes and counts. At most ``4 x workers``
tasks are in flight. A worker that dies: the scheduler runs its tasks again on another worker (a task is a pure
function of its chunk, so nothing is lost or written twice: the client writes each chunk once, in order); a task
that killed several workers (``KilledWorker``) or raised gives one ``internal_error`` line per record of its chunk.
"""

from __future__ import annotations

from collections import deque
from datetime import date
from typing import IO

from engine.run.batch import ChunkResult, RunStats, evaluate_chunk, failed_chunk, input_chunks, run_chunks
from engine.errors import Diagnostic, UsageError
from engine.run.parallel import Failure, available_cpus


def _client(address: str, workers: int | None):
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(Diagnostic("--dask demande Dask : installez l'extra « dask » (pip install -e '.[dask]')",
                                    file="<command line>", code="usage.dask_missing")) from None
    if address == "local":
        cluster = LocalCluster(n_workers=workers or available_cpus(), threads_per_worker=1, processes=True,
                               dashboard_address=None)
        return Client(cluster), cluster
    try:
        return Client(address, timeout="20s"), None
    except OSError as e:
        raise UsageError(Diagnostic(f"impossible de joindre le planificateur Dask {address} : {e}",
                                    file="<command line>", code="usage.dask_unreachable",
                                    hint="démarrez-le avec « dask scheduler » et des « dask worker ADRESSE »")) from None


def _task(spec, state: dict, chunk) -> ChunkResult:
    return evaluate_chunk({**state, "spec": spec}, chunk)


def evaluate_files_dask(spec, paths: list[str], at: date, params: dict, out: IO[bytes], *, address: str = "local",
                        fmt: str = "jsonl", workers: int | None = None, summary: bool = False,
                        chunk_bytes: int | None = None, client=None) -> RunStats:
    """The records of ``paths`` evaluated on a Dask cluster, written to ``out`` in input order."""
    own = None
    if client is None:
        client, own = _client(address, workers)
        close = True
    else:
        close = False
    state = {"at": at, "params": params, "format": fmt, "several": len(paths) > 1, "summary": summary}
    failures: list = []
    try:
        n = max(1, len(client.scheduler_info().get("workers", {})) or (workers or 1))
        remote_spec = client.scatter(spec, broadcast=True)
        chunks = input_chunks(spec, paths, n, chunk_bytes)

        def results():
            pending: deque = deque()
            it = iter(chunks)
            done = False
            while True:
                while not done and len(pending) < 4 * n:
                    c = next(it, None)
                    if c is None:
                        done = True
                        break
                    pending.append((c, client.submit(_task, remote_spec, state, c, pure=False)))
                if not pending:
                    return
                c, fut = pending.popleft()
                try:
                    yield fut.result()
                except Exception as e:  # noqa: BLE001 - KilledWorker or the task's own error
                    f = Failure(c, f"{type(e).__name__}: {e}")
                    failures.append(f)
                    yield failed_chunk({**state, "spec": spec}, f)

        stats = run_chunks(results(), out, fmt, spec, summary=summary)
    finally:
        if close:
            client.close()
            if own is not None:
                own.close()
    stats.failures = failures
    return stats


__all__ = ["evaluate_files_dask"]
