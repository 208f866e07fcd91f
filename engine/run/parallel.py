"""Running a pass over records on several processes: input split into chunks, results back in input order.

Shared by ``engine evaluate --jobs`` and ``engine report --jobs`` (and the Dask runner, :mod:`engine.run.cluster`,
which uses the same chunks and the same per-chunk functions).

**Chunks.** A regular JSONL file is split into byte ranges that start at the beginning of a line
(:func:`file_chunks`); each worker opens the file and reads its own range, so the records never go through a
pipe. The parent reads the file once, sequentially, only to find where ranges start and at which line number
(``bytes.count`` over 1 MiB blocks, which is memory speed). Any other input (standard input, a JSON array, CSV) is
read by the parent, which sends batches of raw records (:func:`item_chunks`): JSON records travel as their bytes and
are decoded by the worker, CSV rows as the dicts the reader made.

**Order and memory.** :func:`ordered_map` keeps at most ``in_flight`` chunks submitted and not yet written
(default: twice the number of workers), and hands results back strictly in chunk order: the output is byte for
byte the one a single process writes, and memory is bounded by the chunk size times ``in_flight``, whatever the
input size.

**A failing worker.** When a worker process dies (killed, out of memory, a crash in C code) every chunk it may have
held is evaluated again, each alone in a fresh process, twice at most; a chunk whose process dies twice (or whose
function raises) is given to ``on_failure``, which makes one error line per record of the chunk (``engine evaluate``)
or counts its records as errors (``engine report``), so no record is ever lost or duplicated, and the run says so
on standard error and in its exit code.

Processes are forked where the system allows it (Linux: the compiled spec is shared, not copied); elsewhere they are
spawned and the spec is sent once to each (it is picklable, :mod:`engine.spec.snapshot`).
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from collections import deque
from concurrent.futures import ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator

from engine.beneficiary.records import detect_format
from engine.spec.snapshot import dumps, loads

MIN_CHUNK_BYTES = 64 * 1024
MAX_CHUNK_BYTES = 4 * 1024 * 1024
CHUNK_RECORDS = 2000  # records per batch for inputs the parent reads itself
_BLOCK = 1 << 20


@dataclass(frozen=True)
class Chunk:
    """One part of the input: the byte range ``[start, end)`` of ``path`` whose first line is ``first_line``, or
    (``items`` not None) a batch of ``(line, raw bytes | dict | BadRecord)`` read by the parent."""

    index: int
    path: str
    start: int = 0
    end: int = 0
    first_line: int = 1
    items: list | None = None

    @property
    def lines(self) -> str:
        """The lines it covers, for messages."""
        if self.items is not None:
            return f"{self.items[0][0]}-{self.items[-1][0]}" if self.items else "-"
        return f"{self.first_line}-"


def available_cpus() -> int:
    """The cores this process may run on (``auto``)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def parse_jobs(text: str | int | None) -> int | None:
    """``--jobs`` value: a positive integer or ``auto`` (the available cores); None when not given."""
    if text is None:
        return None
    if isinstance(text, int):
        return text
    if text.strip().lower() == "auto":
        return available_cpus()
    n = int(text)
    if n < 1:
        raise ValueError(text)
    return n


def splittable(path: str) -> bool:
    """A regular JSONL file (by name, as the reader decides), which workers can read by byte ranges."""
    if path == "-" or not os.path.isfile(path):
        return False
    try:
        with open(path, "rb") as f:
            head = f.read(4096)
    except OSError:
        return False
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return detect_format(path, head.lstrip()) == "jsonl"


def chunk_size(path: str, jobs: int) -> int:
    """About eight chunks per worker, between 64 KiB and 4 MiB."""
    try:
        size = os.path.getsize(path)
    except OSError:
        size = 0
    return max(MIN_CHUNK_BYTES, min(MAX_CHUNK_BYTES, size // max(1, jobs * 8) + 1))


def file_chunks(path: str, size: int, first_index: int = 0) -> Iterator[Chunk]:
    """Line-aligned byte ranges of about ``size`` bytes (each ends after the first newline at or past ``size``
    bytes), with the number of their first line; lazily, so the first ranges are handed out while the rest of the
    file is still being scanned."""
    size = max(1, size)
    block_size = max(MIN_CHUNK_BYTES, min(_BLOCK, size))
    index = first_index
    start = 0
    line = 1  # number of the line that starts at `start`
    with open(path, "rb") as f:
        while True:
            f.seek(start)
            pos = start
            count = 0
            while True:
                block = f.read(block_size)
                if not block:
                    if pos > start:
                        yield Chunk(index, path, start, pos, line)
                    return
                look = start + size - 1 - pos  # where in this block the range may end
                nl = block.find(b"\n", look) if look < len(block) else -1
                if nl < 0:
                    count += block.count(b"\n")
                    pos += len(block)
                    continue
                count += block.count(b"\n", 0, nl + 1)
                end = pos + nl + 1
                yield Chunk(index, path, start, end, line)
                index += 1
                line += count
                start = end
                break


def item_chunks(path: str, items: Iterable[tuple[int, Any]], first_index: int = 0,
                size: int = CHUNK_RECORDS) -> Iterator[Chunk]:
    """Batches of ``size`` items read by the parent."""
    index = first_index
    batch: list = []
    for it in items:
        batch.append(it)
        if len(batch) >= size:
            yield Chunk(index, path, items=batch)
            index += 1
            batch = []
    if batch:
        yield Chunk(index, path, items=batch)


def read_range(path: str, start: int, end: int, first_line: int = 1, *, limit: int | None = None,
               decode: Callable[[bytes], Any] | None = None) -> Iterator[tuple[int, Any]]:
    """``(line number, item)`` for the records of the byte range ``[start, end)`` of a JSONL file, exactly as
    :func:`engine.beneficiary.records.read_records` reads them from the whole file (a BOM at the start of the file, blank lines
    skipped, a line over ``limit`` is one ``record_too_large`` error). ``decode`` turns a line into an item (default:
    the line's bytes)."""
    from engine.beneficiary.records import MAX_RECORD_BYTES, too_large  # at call time: the limit can be lowered

    limit = MAX_RECORD_BYTES if limit is None else limit
    with open(path, "rb") as f:
        f.seek(start)
        pos = start
        n = first_line - 1
        readline = f.readline
        while pos < end:
            line = readline(min(limit + 2, end - pos))
            if not line:
                return
            pos += len(line)
            n += 1
            if pos - len(line) == 0 and line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
            if len(line) > limit and not line.endswith(b"\n") or len(line) > limit + 1:
                while not line.endswith(b"\n") and pos < end:
                    line = readline(min(1 << 20, end - pos))
                    if not line:
                        break
                    pos += len(line)
                yield n, too_large(limit)
                continue
            if line.isspace():
                continue
            yield n, line if decode is None else decode(line)


def chunk_items(chunk: Chunk, decode: Callable[[bytes], Any]) -> Iterator[tuple[int, Any]]:
    """The items of a chunk, JSON records decoded with ``decode``."""
    if chunk.items is None:
        return read_range(chunk.path, chunk.start, chunk.end, chunk.first_line, decode=decode)
    return ((line, decode(raw) if raw.__class__ is bytes else raw) for line, raw in chunk.items)


# ----------------------------------------------------------------------------------------------- the pool

_STATE: dict = {}  # what a worker needs (set in the parent before forking, or by _init after a spawn)


def _init(state: bytes | None) -> None:
    import gc

    if state is not None:
        _STATE.update(loads(state))
    gc.collect()
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)


def _call(fn: Callable, chunk: Chunk):
    return fn(_STATE, chunk)


@dataclass
class Failure:
    """A chunk that could not be run: why (French), to report."""

    chunk: Chunk
    reason: str


@dataclass
class _Pool:
    workers: int
    state: dict
    fork: bool
    executor: ProcessPoolExecutor | None = None
    spawned: list = field(default_factory=list)

    def get(self) -> ProcessPoolExecutor:
        if self.executor is None:
            if self.fork:
                _STATE.clear()
                _STATE.update(self.state)
                ctx = multiprocessing.get_context("fork")
                self.executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init,
                                                    initargs=(None,))
            else:
                ctx = multiprocessing.get_context("spawn")
                self.executor = ProcessPoolExecutor(self.workers, mp_context=ctx, initializer=_init,
                                                    initargs=(dumps(self.state),))
        return self.executor

    def close(self, wait: bool = True) -> None:
        if self.executor is not None:
            self.executor.shutdown(wait=wait, cancel_futures=True)
            self.executor = None


def _reason(exc: BaseException) -> str:
    if isinstance(exc, BrokenProcessPool):
        return "le processus de travail s'est arrêté brutalement (tué, mémoire épuisée ou plantage)"
    return f"{type(exc).__name__}: {exc}"


def ordered_map(fn: Callable[[dict, Chunk], Any], chunks: Iterable[Chunk], state: dict, workers: int, *,
                in_flight: int | None = None, on_failure: Callable[[Failure], Any]) -> Iterator[Any]:
    """``fn(state, chunk)`` for every chunk, on ``workers`` processes, yielded in chunk order (see the module
    docstring). ``state`` (picklable) is what ``fn`` needs besides the chunk (the spec, the date...). A chunk that
    cannot be run yields ``on_failure(Failure)`` in its place. With ``workers`` <= 1 the chunks are run here, one
    after the other."""
    if workers <= 1:  # in this process, chunk by chunk (the same chunks and results, no pool)
        for chunk in chunks:
            try:
                result = fn(state, chunk)
            except Exception as e:  # noqa: BLE001 - as a worker's: the chunk's records get error lines
                result = on_failure(Failure(chunk, _reason(e)))
            yield result
        return
    fork = "fork" in multiprocessing.get_all_start_methods()
    in_flight = max(1, in_flight or 2 * workers)
    pool = _Pool(workers, state, fork)
    pending: deque = deque()  # (chunk, future) in chunk order
    it = iter(chunks)
    done = False
    try:
        while True:
            while not done and len(pending) < in_flight:
                try:
                    chunk = next(it)
                except StopIteration:
                    done = True
                    break
                pending.append((chunk, _submit(pool, fn, chunk)))
            if not pending:
                return
            chunk, fut = pending[0]
            try:
                result = fut.result() if fut is not None else None
            except BrokenProcessPool:
                pool.close(wait=False)
                # every chunk in flight may have been on the dead process: run each alone, in order
                suspects = [c for c, _f in pending]
                pending.clear()
                for c in suspects:
                    yield _isolated(fn, c, state, fork, on_failure)
                continue
            except Exception as e:  # noqa: BLE001 - the function raised in the worker: try it alone once more
                pending.popleft()
                yield _isolated(fn, chunk, state, fork, on_failure, first=e)
                continue
            pending.popleft()
            yield result
    finally:
        pool.close(wait=False)


def _submit(pool: _Pool, fn, chunk):
    try:
        return pool.get().submit(_call, fn, chunk)
    except BrokenProcessPool:
        pool.close(wait=False)
        return pool.get().submit(_call, fn, chunk)


def _isolated(fn, chunk: Chunk, state: dict, fork: bool, on_failure, first: BaseException | None = None):
    """Run one chunk alone in a fresh process, at most twice in all (counting a first failed attempt)."""
    attempts = 1 if first is not None else 2
    last = first
    for _ in range(attempts):
        pool = _Pool(1, state, fork)
        try:
            return pool.get().submit(_call, fn, chunk).result()
        except Exception as e:  # noqa: BLE001 - BrokenProcessPool or the function's own exception
            last = e
        finally:
            pool.close(wait=False)
    return on_failure(Failure(chunk, _reason(last)))


def progress(stream=None):
    """A progress line on a terminal (standard error) once the run has lasted 2 s: call with the number of records
    done so far; ``end()`` clears it."""
    import time

    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    start = time.monotonic()
    shown = [0.0]

    def tick(n: int) -> None:
        if not tty:
            return
        now = time.monotonic()
        if now - start > 2 and now - shown[0] > 0.5:
            shown[0] = now
            stream.write(f"\r  {n} enregistrements évalués ({n / (now - start):,.0f}/s)".replace(",", " "))
            stream.flush()

    def end() -> None:
        if tty and shown[0]:
            stream.write("\r" + " " * 60 + "\r")
            stream.flush()

    tick.end = end  # type: ignore[attr-defined]
    return tick


__all__ = ["Chunk", "Failure", "available_cpus", "chunk_items", "chunk_size", "file_chunks", "item_chunks",
           "ordered_map", "parse_jobs", "progress", "read_range", "splittable"]
