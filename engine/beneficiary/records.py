"""Reading beneficiary records one by one, in bounded memory, and binding them to a spec's declared inputs.

Reading (:func:`read_records`) yields ``(line_no, item)`` where ``item`` is the record's raw ``dict`` or a
:class:`BadRecord` (code + French message). One bad record never stops the run: N records in, N items out.

Formats (chosen by the file name, or sniffed for ``-``/standard input and unknown extensions):

- **JSONL** (``.jsonl``, ``.ndjson``, anything else): one JSON object per line, decoded line by line with orjson, so
  one bad byte loses one record, not the file. CRLF line ends, a UTF-8 BOM and a missing final newline change
  nothing. **Blank lines (empty or only spaces) are not records and are skipped**: the rule is "one output line per
  non-blank input line". ``line_no`` is the physical line number (1-based), so outputs can be matched to inputs.
- **JSON** (``.json``): a top-level array of objects, split element by element by a streaming scanner (bounded
  memory; one bad element gives one error); ``line_no`` is the line where the element starts. A ``.json`` file
  holding a single object is one record.
- **CSV** (``.csv``): a header row with an ``id`` column; each other column is an attribute, converted from text to
  its declared type (boolean: true/false/vrai/faux/oui/non/1/0; numbers with ``.`` or ``,`` as decimal mark; dates
  ``YYYY-MM-DD``). An empty cell is an absent attribute. ``history`` and ``events`` columns, when present, hold JSON.

Limit: a record (a JSONL line, a JSON array element, a CSV row) larger than :data:`MAX_RECORD_BYTES` (16 MiB) gives
one ``record_too_large`` error; JSONL lines and JSON elements over the limit are skipped without being loaded.

A file that cannot be opened, or whose content is not records at all (a JSON file that is neither an array nor an
object, a CSV file without an ``id`` column), raises :class:`~engine.errors.RecordError` before anything is read
(exit code 1).

Binding (:mod:`engine.beneficiary.bind`: :class:`Binder`, :func:`bind_record`) turns a raw dict into the evaluation environment: every declared
attribute converted to its type (absent or ``null``: *unknown*), ``history`` and ``events`` as lists of dicts with
``date`` as ``datetime.date`` (events sorted by date, stable), parameters. A wrong type, an invalid date, a missing or
non-string ``id`` raise :class:`BindError` (a code and a French message), which the evaluation turns into an error
line.
"""

from __future__ import annotations

import csv
import io
import os
import re
import sys
from dataclasses import dataclass
from typing import IO, Any, Callable, Iterator, Union

import orjson

from engine.errors import Diagnostic, RecordError

MAX_RECORD_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 20


@dataclass(frozen=True)
class BadRecord:
    """A record that cannot be read or bound: a stable ``code`` and a plain French ``message``."""

    code: str
    message: str
    id: str | None = None


Item = Union[dict, BadRecord]


# ----------------------------------------------------------------------------------------------- opening

def _open_binary(path: str) -> IO[bytes]:
    if path == "-":
        return sys.stdin.buffer
    try:
        if os.path.isdir(path):
            raise IsADirectoryError(21, "is a directory")
        return open(path, "rb")  # noqa: SIM115 - closed by the generator
    except OSError as e:
        reason = {2: "fichier introuvable", 13: "permission refusée", 21: "c'est un dossier"}.get(e.errno or 0,
                                                                                                   e.strerror)
        raise RecordError(Diagnostic(f"impossible d'ouvrir le fichier de données : {reason}", file=path,
                                     code="input.unreadable",
                                     hint="vérifiez le chemin et les droits du fichier (`-` lit l'entrée standard)"))


def _peek(f: IO[bytes], n: int = 4096) -> bytes:
    """The first non-blank bytes of the stream, without consuming them (BOM removed)."""
    head = f.peek(n)[:n] if hasattr(f, "peek") else b""
    if head.startswith(b"\xef\xbb\xbf"):
        head = head[3:]
    return head.lstrip()


def detect_format(path: str, head: bytes) -> str:
    low = path.lower()
    if low.endswith(".csv"):
        return "csv"
    if low.endswith(".json"):
        return "json"
    if low.endswith((".jsonl", ".ndjson")):
        return "jsonl"
    return "json" if head[:1] == b"[" else "jsonl"


RECORD_SUFFIXES = (".jsonl", ".ndjson", ".json", ".csv")


def record_files(paths: list[str]) -> list[str]:
    """The inputs of ``paths`` with every folder replaced by its record files: the regular files directly in it whose
    name ends in .jsonl, .ndjson, .json or .csv (any case), hidden ones (``.name``) left out, sorted by name so that
    the output order is the same on every machine. A folder with none is an error (exit 1), as a missing file is."""
    out: list[str] = []
    for p in paths:
        if p == "-" or not os.path.isdir(p):
            out.append(p)
            continue
        try:
            names = sorted(os.listdir(p))
        except OSError as e:
            raise RecordError(Diagnostic(f"impossible de lire le dossier d'enregistrements : {e.strerror or e}",
                                         file=p, code="input.unreadable")) from None
        found = [os.path.join(p, n) for n in names
                 if not n.startswith(".") and n.lower().endswith(RECORD_SUFFIXES) and os.path.isfile(os.path.join(p, n))]
        if not found:
            raise RecordError(Diagnostic("le dossier ne contient aucun fichier d'enregistrements (.jsonl, .ndjson, "
                                         ".json ou .csv)", file=p, code="input.empty_folder",
                                         hint="donnez les fichiers eux-mêmes, ou un dossier qui en contient"))
        out.extend(found)
    return out


def read_records(path: str, *, spec=None, fmt: str | None = None, max_record_bytes: int = MAX_RECORD_BYTES,
                 decode: Callable[[bytes], Any] | None = None) -> Iterator[tuple[int, Item]]:
    """Open ``path`` (``-`` = standard input) now and return an iterator of ``(line_no, dict | BadRecord)``.
    ``decode`` turns one JSON record's bytes into an item (default :func:`decode_object`; ``engine evaluate`` gives
    its spec's typed decoder, :mod:`engine.beneficiary.bind_typed`).

    Raises :class:`RecordError` at once when the file cannot be opened or is not a record file at all. ``spec``
    (a compiled spec) is needed for CSV only, to convert cells to the declared attribute types.
    """
    f = _open_binary(path)
    return _records_of(f, path, spec=spec, fmt=fmt, max_record_bytes=max_record_bytes, decode=decode)


def read_records_bytes(data: bytes, fmt: str, *, spec=None, max_record_bytes: int = MAX_RECORD_BYTES,
                       decode: Callable[[bytes], Any] | None = None) -> Iterator[tuple[int, Item]]:
    """The records of ``data`` (the content of a ``jsonl`` or ``json`` file, already in memory: an HTTP request's
    body), read exactly as :func:`read_records` reads a file holding these bytes (same line numbers, same errors)."""
    name = "<requête>.jsonl" if fmt == "jsonl" else "<requête>.json"
    return _records_of(io.BufferedReader(io.BytesIO(data)), name, spec=spec, fmt=fmt,
                       max_record_bytes=max_record_bytes, decode=decode)


def _records_of(f, path: str, *, spec, fmt: str | None, max_record_bytes: int,
                decode: Callable[[bytes], Any] | None) -> Iterator[tuple[int, Item]]:
    try:
        if not hasattr(f, "peek"):
            f = io.BufferedReader(f)  # type: ignore[arg-type]
        head = _peek(f)
        fmt = fmt or detect_format(path, head)
        if fmt == "jsonl":
            gen = _read_jsonl(f, max_record_bytes, decode or decode_object)
        elif fmt == "json":
            if head[:1] == b"[":
                gen = _read_json_array(f, max_record_bytes, decode or decode_object)
            elif head[:1] == b"{":
                gen = _read_json_object(f, max_record_bytes, decode or decode_object)
            elif not head:
                gen = iter(())
            else:
                raise RecordError(Diagnostic("le fichier JSON ne contient ni un tableau d'enregistrements ni un objet",
                                             file=path, line=1, code="input.not_records",
                                             hint="attendu : [ {\"id\": ...}, ... ] ou un fichier JSONL (.jsonl)"))
        elif fmt == "csv":
            gen = _read_csv(f, path, spec, max_record_bytes)
        else:  # pragma: no cover - the CLI restricts the choices
            raise ValueError(fmt)
    except BaseException:
        if f is not sys.stdin.buffer:
            f.close()
        raise
    return _closing(gen, f)


def _closing(gen: Iterator, f: IO[bytes]) -> Iterator:
    try:
        yield from gen
    finally:
        if f is not sys.stdin.buffer and not getattr(f, "closed", True) is True:
            f.close()


# ----------------------------------------------------------------------------------------------- JSONL

_BAD_NUMBER = re.compile(rb"(?<![\w\"])-?(?:NaN|Infinity|inf|nan)(?![\w\"])")


def decode_object(data: bytes) -> Item:
    """Decode one JSON text that must be an object; errors become :class:`BadRecord`."""
    try:
        obj = orjson.loads(data)
    except orjson.JSONDecodeError as e:
        msg = str(e)
        if "UTF-8" in msg or "surrogate" in msg:
            return BadRecord("invalid_utf8", "octets invalides : l'enregistrement n'est pas du texte UTF-8 valide")
        if "infinity" in msg or _BAD_NUMBER.search(data):
            return BadRecord("invalid_number", "nombre invalide (NaN ou infini) : un nombre JSON doit être fini")
        pos = getattr(e, "pos", None)
        where = f" (caractère {pos + 1})" if isinstance(pos, int) else ""
        return BadRecord("invalid_json", f"JSON invalide{where} : {_short(msg)}")
    if not isinstance(obj, dict):
        kind = {list: "un tableau", str: "une chaîne", bool: "un booléen", type(None): "null"}.get(type(obj),
                                                                                                   "un nombre")
        return BadRecord("not_an_object", f"l'enregistrement est {kind}, pas un objet JSON {{...}}")
    return obj


def _short(msg: str) -> str:
    return msg.split(": line ")[0][:160]


def too_large(limit: int) -> BadRecord:
    """The bad record that stands for a line longer than ``limit`` bytes (skipped without being read)."""
    return BadRecord("record_too_large", f"enregistrement trop long (plus de {limit // (1024 * 1024)} Mio) ; "
                                         "il est ignoré sans être lu")


def _read_jsonl(f: IO[bytes], limit: int, decode: Callable[[bytes], Any]) -> Iterator[tuple[int, Item]]:
    line_no = 0
    readline = f.readline
    first = True
    while True:
        line = readline(limit + 2)
        if not line:
            return
        line_no += 1
        if first:
            first = False
            if line.startswith(b"\xef\xbb\xbf"):
                line = line[3:]
        if len(line) > limit and not line.endswith(b"\n") or len(line) > limit + 1:
            # over the limit: drop the rest of the line without holding it
            while not line.endswith(b"\n"):
                line = readline(_CHUNK)
                if not line:
                    break
            yield line_no, too_large(limit)
            continue
        if line.isspace():
            continue
        yield line_no, decode(line)


# ----------------------------------------------------------------------------------------------- JSON

def _read_json_object(f: IO[bytes], limit: int, decode: Callable[[bytes], Any]) -> Iterator[tuple[int, Item]]:
    data = f.read(limit + 1)
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    if len(data) > limit:
        yield 1, too_large(limit)
        return
    yield 1, decode(data)


_OUT = re.compile(rb'[\[\]{}",\n]')
_IN = re.compile(rb'["\\\n]')


def _element(text: bytes, line: int, oversize: bool, limit: int,
             decode: Callable[[bytes], Any]) -> tuple[int, Item]:
    """An array element's (start line, item): the line of its first non-blank character."""
    stripped = text.lstrip()
    line += text.count(b"\n", 0, len(text) - len(stripped))
    if oversize:
        return line, too_large(limit)
    if not stripped:
        return line, BadRecord("invalid_json", "élément vide dans le tableau (virgule en trop)")
    return line, decode(stripped)


def _read_json_array(f: IO[bytes], limit: int, decode: Callable[[bytes], Any]) -> Iterator[tuple[int, Item]]:
    """Split a top-level JSON array into its elements without loading the file (string-aware bracket scanner)."""
    buf = f.read(_CHUNK)
    if buf.startswith(b"\xef\xbb\xbf"):
        buf = buf[3:]
    pos = buf.index(b"[") + 1
    line = 1 + buf.count(b"\n", 0, pos)
    depth = 1  # 1 = directly inside the top-level array
    in_str = False
    start = pos  # start of the current element in buf
    start_line = line
    oversize = False
    count = 0
    eof = False
    while True:
        m = (_IN if in_str else _OUT).search(buf, pos)
        if m is None:
            if eof:
                break
            # need more input: drop what is consumed, keep the current element (unless oversize)
            if oversize:
                buf, pos, start = b"", 0, 0
            else:
                buf, pos, start = buf[start:], len(buf) - start, 0
                if len(buf) > limit:
                    oversize = True
                    buf, pos = b"", 0
            more = f.read(_CHUNK)
            if not more:
                eof = True
                pos = len(buf)
                continue
            buf += more
            continue
        c = m.group()
        pos = m.end()
        if c == b"\n":
            line += 1
        elif in_str:
            if c == b"\\":
                if pos >= len(buf) and not eof:
                    more = f.read(_CHUNK)
                    if more:
                        buf += more
                pos += 1  # skip the escaped character
            else:
                in_str = False
        elif c == b'"':
            in_str = True
        elif c in b"[{":
            depth += 1
        elif c in b"]}":
            depth -= 1
            if depth == 0:
                text = buf[start:pos - 1]
                if oversize or text.strip() or count:
                    count += 1
                    yield _element(text, start_line, oversize, limit, decode)
                if buf[pos:].strip() or _more_after(f):
                    yield line, BadRecord("invalid_json", "contenu inattendu après la fin du tableau JSON")
                return
        elif c == b"," and depth == 1:
            count += 1
            yield _element(b"" if oversize else buf[start:pos - 1], start_line, oversize, limit, decode)
            oversize = False
            start, start_line = pos, line
        if not oversize and pos - start > limit:
            oversize = True
    # end of file inside the array: the input is damaged, say it (never a silent end after a comma); an element
    # complete before the end is still a record
    rest = buf[start:]
    truncated = BadRecord("invalid_json", "fichier JSON tronqué : le tableau n'est pas fermé")
    if oversize:
        yield _element(rest, start_line, oversize, limit, decode)
    elif rest.strip() and depth == 1 and not in_str:
        yield _element(rest, start_line, False, limit, decode)
    elif rest.strip():
        yield _element(rest, start_line, False, limit, decode)[0], truncated
        return
    yield line, truncated


def _more_after(f: IO[bytes]) -> bool:
    """Whether anything but blanks follows the end of the array (read in chunks: the rest may be endless)."""
    while True:
        chunk = f.read(_CHUNK)
        if not chunk:
            return False
        if chunk.strip():
            return True


# ----------------------------------------------------------------------------------------------- CSV

_SURROGATES = re.compile("[\udc80-\udcff]")


def _read_csv(f: IO[bytes], path: str, spec, limit: int) -> Iterator[tuple[int, Item]]:
    text = io.TextIOWrapper(f, encoding="utf-8-sig", errors="surrogateescape", newline="")
    csv.field_size_limit(max(limit, 1024))
    sample = text.readline(limit + 1)
    if len(sample) > limit and not sample.endswith("\n"):
        raise RecordError(Diagnostic(f"l'en-tête du fichier CSV est trop long (plus de {limit // (1024 * 1024)} Mio)",
                                     file=path, line=1, code="input.csv_header",
                                     hint="la première ligne doit nommer les colonnes, dont « id »"))
    if not sample.strip():
        return iter(())
    dialect = ";" if sample.count(";") > sample.count(",") else ","
    header = next(csv.reader([sample], delimiter=dialect))
    header = [h.strip() for h in header]
    if any(_SURROGATES.search(h) for h in header):
        col = next(i for i, ch in enumerate(sample) if "\udc80" <= ch <= "\udcff") + 1
        raise RecordError(Diagnostic("l'en-tête du fichier CSV n'est pas du texte UTF-8 valide", file=path, line=1,
                                     col=col, source_line=_SURROGATES.sub("\ufffd", sample.rstrip("\r\n")),
                                     code="input.encoding", hint="enregistrez le fichier en UTF-8"))
    if "id" not in header:
        raise RecordError(Diagnostic("le fichier CSV n'a pas de colonne « id »", file=path, line=1, source_line=sample,
                                     code="input.csv_no_id",
                                     hint="la première ligne doit nommer les colonnes, dont « id »"))
    return _csv_rows(text, header, dialect, spec, limit)


def _csv_rows(text: IO[str], header: list[str], delimiter: str, spec, limit: int) -> Iterator[tuple[int, Item]]:
    from engine.beneficiary.bind import csv_converters

    conv = csv_converters(spec, header)
    reader = csv.reader(text, delimiter=delimiter)
    prev = 1  # physical lines consumed so far (the header was read before the reader existed)
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            line_no = prev + 1
            prev = max(reader.line_num + 1, prev + 1)
            code = "record_too_large" if "larger than field limit" in str(e) else "invalid_csv"
            yield line_no, (too_large(limit) if code == "record_too_large"
                            else BadRecord("invalid_csv", f"ligne CSV illisible : {e}"))
            continue
        line_no = prev + 1
        prev = reader.line_num + 1
        if not row or all(not c.strip() for c in row):
            continue
        if len(row) != len(header):
            yield line_no, BadRecord("invalid_csv", f"la ligne a {len(row)} colonnes, l'en-tête en a {len(header)}")
            continue
        if any("\udc80" <= ch <= "\udcff" for c in row for ch in c if ch >= "\udc80"):
            yield line_no, BadRecord("invalid_utf8", "octets invalides : la ligne n'est pas du texte UTF-8 valide")
            continue
        yield line_no, _convert_row(header, row, conv)


def _convert_row(header: list[str], row: list[str], conv: dict) -> Item:
    raw: dict = {}
    for name, cell in zip(header, row):
        cell = cell.strip()
        if cell == "":
            continue
        fn = conv.get(name)
        if fn is None:
            raw[name] = cell
            continue
        try:
            raw[name] = fn(cell)
        except ValueError as e:
            return BadRecord("wrong_type", f"colonne « {name} » : {e}", id=raw.get("id") or row[header.index("id")])
    return raw


# binding lives in engine.beneficiary.bind; re-exported here for callers that look for it next to the readers
from engine.beneficiary.bind import BindError, Binder, bind_record  # noqa: E402,F401
