"""Output formats. This part: ``engine evaluate`` (JSONL, JSON, CSV; ``--summary``; atomic ``-o``; progress bar).

- ``jsonl`` (default): one JSON object per input record, in input order, written as it is computed (streamed).
- ``json``: the same objects as one JSON array (still streamed: ``[`` then one object per line).
- ``csv``: one row per record, flat columns (see :func:`csv_columns`): decisions, first violation, one column per
  deadline and per obligation of the spec (their status).

``-o FILE`` is written atomically: a temporary file in the same folder, renamed over ``FILE`` at the end (never a
half-written file; on error or interruption the temporary file is removed and ``FILE`` is untouched).
"""

from __future__ import annotations

import io
import os
import sys
import time
from collections import Counter
from contextlib import contextmanager
from datetime import date
from decimal import Decimal
from typing import IO, Any, Iterable, Iterator

import orjson

from engine.escape import csv_cell
from engine.render.spreadsheet import STANDARD, Dialect, write_table
from engine.expr.runtime import Duration, Unknown
from engine.files.output import open_output, prepare


def json_default(v: Any):
    """orjson's fallback for the values it does not write itself: decimals as exact numbers, durations ISO 8601,
    unknown as null, sets sorted and tuples as lists."""
    if v.__class__ is Decimal:
        return orjson.Fragment(format(v, "f"))
    if isinstance(v, Duration):
        return v.iso()
    if isinstance(v, Unknown):
        return None
    if isinstance(v, (set, frozenset, tuple)):
        return sorted(v) if isinstance(v, (set, frozenset)) else list(v)
    raise TypeError(f"cannot encode {type(v).__name__}")


def dumps(obj: Any) -> bytes:
    """One output object as compact JSON bytes (dates ``YYYY-MM-DD``, decimals as exact JSON numbers)."""
    return orjson.dumps(obj, default=json_default)


# ----------------------------------------------------------------------------------------------- atomic output

@contextmanager
def atomic_output(path: str | None) -> Iterator[IO[bytes]]:
    """A binary stream to write to: standard output when ``path`` is None or ``-``, else ``path`` written by
    :mod:`engine.files.output` (atomically for a file, in place for a device or a FIFO)."""
    with open_output(prepare(path)) as out:
        yield out


# ----------------------------------------------------------------------------------------------- formats

def write_jsonl(out: IO[bytes], results: Iterable[dict]) -> None:
    write = out.write
    for r in results:
        write(orjson.dumps(r, default=json_default, option=orjson.OPT_APPEND_NEWLINE))


def write_json(out: IO[bytes], results: Iterable[dict]) -> None:
    write = out.write
    first = True
    write(b"[")
    for r in results:
        write(b"\n" if first else b",\n")
        first = False
        write(dumps(r))
    write(b"\n]\n" if not first else b"]\n")


def csv_columns(spec) -> list[str]:
    cols = ["id", "line", "status", "eligible", "missing", "legal", "current_phase", "first_violation",
            "first_violation_message", "violations", "next"]
    cols += [f"deadline.{d.id}" for d in spec.deadlines]
    cols += [f"obligation.{o.id}" for o in spec.obligations]
    cols += ["error_code", "error_message"]
    return cols


def cell_text(v: Any) -> str:
    """A CSV cell: text that a spreadsheet would run as a formula is neutralised (engine.escape.csv_cell)."""
    if v.__class__ is str:
        return csv_cell(v)
    if v is None:
        return ""
    if v is True:
        return "true"
    if v is False:
        return "false"
    if isinstance(v, date):
        return v.isoformat()
    return str(v)


def csv_row(r: dict) -> dict:
    row = {"id": r.get("id"), "line": r.get("line"), "status": r.get("status")}
    if r.get("status") == "error":
        err = r.get("error") or {}
        row["error_code"] = err.get("code")
        row["error_message"] = err.get("message")
        return row
    row["eligible"] = "unknown" if r.get("eligible") is None else r.get("eligible")
    row["missing"] = ";".join(r.get("missing") or ())
    path = r.get("path") or {}
    row["legal"] = path.get("legal")
    row["current_phase"] = path.get("current_phase")
    fv = path.get("first_violation")
    if fv:
        row["first_violation"] = fv["code"]
        row["first_violation_message"] = fv["message"]
    row["violations"] = ";".join(v["code"] for v in path.get("violations") or ())
    row["next"] = ";".join(n["phase"] for n in path.get("next") or ())
    for d in r.get("deadlines") or ():
        row[f"deadline.{d['id']}"] = d["status"]
    for o in r.get("obligations") or ():
        row[f"obligation.{o['id']}"] = o["status"]
    return row


def write_csv(out: IO[bytes], results: Iterable[dict], spec, dialect: Dialect = STANDARD) -> None:
    """One row per result; ``dialect`` is the standard CSV or French Excel's (engine.render.spreadsheet)."""
    text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=False)
    cols = csv_columns(spec)
    try:
        rows = ([cell_text(row.get(k)) for k in cols] for row in map(csv_row, results))
        write_table(text, cols, rows, dialect)
        text.flush()
    finally:
        text.detach()


# ----------------------------------------------------------------------------------------------- summary, progress

class Summary:
    """Counts for ``--summary``."""

    def __init__(self) -> None:
        self.total = 0
        self.eligible = Counter()
        self.legal = Counter()
        self.first = Counter()
        self.errors = Counter()

    def add(self, r: dict) -> None:
        self.total += 1
        if r.get("status") == "error":
            self.errors[(r.get("error") or {}).get("code")] += 1
            return
        e = r.get("eligible")
        self.eligible["eligible" if e is True else "not_eligible" if e is False else "unknown"] += 1
        path = r.get("path") or {}
        if path.get("legal"):
            self.legal["legal"] += 1
        else:
            self.legal["illegal"] += 1
            fv = path.get("first_violation") or {}
            self.first[fv.get("code")] += 1

    def as_dict(self) -> dict:
        return {"records": self.total, "eligible": self.eligible["eligible"],
                "not_eligible": self.eligible["not_eligible"], "unknown": self.eligible["unknown"],
                "legal": self.legal["legal"], "illegal": self.legal["illegal"],
                "first_violation": dict(sorted(self.first.items())), "errors": sum(self.errors.values()),
                "errors_by_code": dict(sorted(self.errors.items()))}

    def format(self) -> str:
        d = self.as_dict()
        lines = [f"{d['records']} enregistrement(s) évalué(s)",
                 f"  éligibles : {d['eligible']} · non éligibles : {d['not_eligible']} · indéterminés (données "
                 f"manquantes) : {d['unknown']}",
                 f"  parcours conformes : {d['legal']} · non conformes : {d['illegal']}"]
        for code, n in d["first_violation"].items():
            lines.append(f"    première anomalie {code} : {n}")
        lines.append(f"  erreurs (enregistrements illisibles) : {d['errors']}")
        for code, n in d["errors_by_code"].items():
            lines.append(f"    {code} : {n}")
        return "\n".join(lines)


def count_lines(paths: Iterable[str], limit: int = 1 << 31) -> int | None:
    """The number of non-empty lines of the regular files ``paths`` (the records of a JSONL input; a JSON array or a
    CSV counts as well as it can), read in blocks; None when one is not a regular file (standard input, a FIFO)."""
    total = 0
    for p in paths:
        try:
            if p == "-" or not os.path.isfile(p):
                return None
            with open(p, "rb") as f:
                last = b"\n"
                for block in iter(lambda: f.read(1 << 20), b""):
                    total += block.count(b"\n")
                    last = block[-1:]
                total += last != b"\n"
        except OSError:
            return None
        if total > limit:
            return None
    return total


def progress_bar(results: Iterable[dict], summary: Summary | None, stream=None, total=None) -> Iterator[dict]:
    """Pass results through, counting them for the summary; on a terminal, show a progress line on stderr once the
    run has lasted more than 2 seconds: the count, the rate and, when ``total()`` gives the number of input lines
    (regular files), the total and the percentage."""
    stream = stream or sys.stderr
    tty = hasattr(stream, "isatty") and stream.isatty()
    start = time.monotonic()
    shown = 0.0
    n = 0
    of = None  # the input's line count, asked for once the progress line first shows (a second pass over the files)
    for r in results:
        n += 1
        if summary is not None:
            summary.add(r)
        if tty and not n & 1023:
            now = time.monotonic()
            if now - start > 2 and now - shown > 0.5:
                if not shown and total is not None:
                    of = total()
                shown = now
                rate = f"{n / (now - start):,.0f}/s".replace(",", " ")
                if of:
                    line = f"\r  {n:,} / {of:,} enregistrements évalués ({min(100, 100 * n // of)} %, {rate})"
                else:
                    line = f"\r  {n:,} enregistrements évalués ({rate})"
                stream.write(line.replace(",", "\u202f") if of else line.replace(",", " "))
                stream.flush()
        yield r
    if tty and shown:
        stream.write("\r" + " " * 78 + "\r")
        stream.flush()


# ----------------------------------------------------------------------------------------------- the command

@contextmanager
def tune_gc():
    """For a long streaming run: the records are trees of dicts and lists (freed by reference counting, no cycles),
    so the cyclic collector need not run every 700 allocations nor walk the compiled spec again and again. The
    previous settings are restored at the end. Only the youngest generation is collected before the freeze: a full
    collection costs little in a fresh process but about half a second in a long-lived one holding a large heap
    (a test session, an embedding program), on every run; older garbage frozen here is collected after the run."""
    import gc

    old = gc.get_threshold()
    gc.collect(0)
    gc.freeze()
    gc.set_threshold(100_000, 50, 50)
    try:
        yield
    finally:
        gc.set_threshold(*old)
        gc.unfreeze()
