"""``--dask local|tcp://HOST:PORT`` (extra ``[dask]``) for ``engine evaluate`` and ``engine report``: the chunks of
:mod:`engine.run.parallel` computed on a Dask cluster and given back in input order, so the output is byte for byte
the single-process one.

:func:`dask_map` is the one mechanism: the state every chunk needs (the compiled spec, the date, the parameters,
the operation) is sent once to the cluster, as the result of a task that every chunk's task depends on: each worker
fetches it once, and the scheduler computes it again if every worker that held it has died (scattered data could
not be recovered); a compiled spec is picklable (:mod:`engine.spec.snapshot`); each task computes one chunk (a byte range of a JSONL file the workers read at the same
path, or a batch of records read here and sent with the task). At most ``4 x workers`` tasks are in flight, so the
client's memory stays bounded whatever the size of the input.

A worker that dies (killed, out of memory) loses the tasks it was running: the scheduler runs them again on another
worker. A task is a pure function of its chunk and the client writes each chunk once, in order, so nothing is lost
and nothing is written twice. A task that killed several workers in turn (Dask's ``KilledWorker``, after
``distributed.scheduler.allowed-failures`` attempts) or raised gives ``on_failure(Failure)`` in its place: an
``internal_error`` line per record of its chunk for ``evaluate``, its records counted as engine errors for
``report``. Never a lost record.
"""

from __future__ import annotations

from collections import deque
from contextlib import contextmanager, nullcontext
from datetime import date
from typing import IO, Any, Callable, Iterable, Iterator

from engine.errors import COMMAND_LINE, Diagnostic, UsageError
from engine.run.batch import ChunkResult, RunStats, evaluate_chunk, failed_chunk, input_chunks, run_chunks
from engine.run.parallel import Chunk, Failure, available_cpus


@contextmanager
def dask_client(address: str, workers: int | None = None):
    """A Dask client: ``local`` starts a LocalCluster of ``workers`` processes (one per available core by default) on
    this machine and stops it on exit; anything else is the address of a running scheduler (``dask scheduler``)."""
    try:
        from dask.distributed import Client, LocalCluster
    except ImportError:
        raise UsageError(Diagnostic("--dask demande Dask : installez l'extra « dask » (pip install -e '.[dask]')",
                                    file=COMMAND_LINE, code="usage.dask_missing")) from None
    cluster = None
    if address == "local":
        cluster = LocalCluster(n_workers=workers or available_cpus(), threads_per_worker=1, processes=True,
                               dashboard_address=":0")
        client = Client(cluster)
    else:
        try:
            client = Client(address, timeout="20s")
        except (OSError, TimeoutError) as e:
            raise UsageError(Diagnostic(f"impossible de joindre le planificateur Dask {address} : {e}",
                                        file=COMMAND_LINE, code="usage.dask_unreachable",
                                        hint="démarrez-le avec « dask scheduler » et des « dask worker ADRESSE »")) \
                from None
    try:
        yield client
    finally:
        client.close()
        if cluster is not None:
            cluster.close()


def _identity(x):
    return x


def _call(fn: Callable[[dict, Chunk], Any], state: dict, chunk: Chunk):
    return fn(state, chunk)


def worker_count(client, default: int = 1) -> int:
    """The number of workers the scheduler knows now (``default`` while none has joined yet)."""
    return max(1, len(client.scheduler_info().get("workers", {})) or default)


def dask_map(fn: Callable[[dict, Chunk], Any], chunks: Iterable[Chunk], state: dict, client, *,
             on_failure: Callable[[Failure], Any], in_flight: int | None = None) -> Iterator[Any]:
    """``fn(state, chunk)`` for every chunk, on the workers of ``client``, yielded in chunk order. ``fn`` must be
    importable by the workers (a module-level function of the engine); ``state`` is sent once to every worker. A
    chunk whose task failed yields ``on_failure(Failure)`` in its place (see the module docstring)."""
    n = worker_count(client)
    in_flight = max(1, in_flight or 4 * n)
    # the state as the result of a task, not scattered data: a worker that dies takes its copy with it, and the
    # scheduler can compute a task's result again, never scattered data (lost once every holder has died)
    remote_state = client.submit(_identity, state, pure=False)
    pending: deque = deque()
    it = iter(chunks)
    done = False
    try:
        while True:
            while not done and len(pending) < in_flight:
                c = next(it, None)
                if c is None:
                    done = True
                    break
                pending.append((c, client.submit(_call, fn, remote_state, c, pure=False)))
            if not pending:
                return
            c, fut = pending.popleft()
            try:
                result = fut.result()
            except Exception as e:  # noqa: BLE001 - KilledWorker, or the task's own error
                result = on_failure(Failure(c, _reason(e)))
            yield result
    finally:
        for _c, fut in pending:  # an interrupted run leaves nothing running on the cluster
            fut.cancel()


def _reason(exc: BaseException) -> str:
    if type(exc).__name__ == "KilledWorker":
        return ("les processus de travail Dask qui ont exécuté cette partie se sont arrêtés brutalement à chaque "
                "tentative (tués, mémoire épuisée ou plantage)")
    return f"{type(exc).__name__}: {exc}"


def _evaluate(state: dict, chunk: Chunk) -> ChunkResult:
    return evaluate_chunk(state, chunk)


def evaluate_files_dask(spec, paths: list[str], at: date, params: dict, out: IO[bytes], *, address: str = "local",
                        fmt: str = "jsonl", workers: int | None = None, summary: bool = False,
                        chunk_bytes: int | None = None, client=None,
                        task: Callable[[dict, Chunk], ChunkResult] = _evaluate) -> RunStats:
    """The records of ``paths`` evaluated on a Dask cluster (``client``, or one made from ``address``), written to
    ``out`` in input order: the bytes of ``engine evaluate`` in one process. ``task`` is the function run for each
    chunk (:func:`engine.run.batch.evaluate_chunk`)."""
    state = {"spec": spec, "at": at, "params": params, "format": fmt, "several": len(paths) > 1, "summary": summary}
    failures: list = []

    def on_failure(f: Failure) -> ChunkResult:
        failures.append(f)
        return failed_chunk(state, f)

    with nullcontext(client) if client is not None else dask_client(address, workers) as client:
        chunks = input_chunks(spec, paths, worker_count(client, workers or 1), chunk_bytes)
        stats = run_chunks(dask_map(task, chunks, state, client, on_failure=on_failure), out, fmt, spec,
                           summary=summary)
    stats.failures = failures
    return stats


__all__ = ["dask_client", "dask_map", "evaluate_files_dask", "worker_count"]
