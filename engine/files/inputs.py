"""Reading whole input files (specs, imports, operations, ``engine expr --record``) with a size bound, and locating
bad text in them.

A path may name anything the system can open: a regular file, but also a character device (``/dev/zero``,
``/dev/urandom``), a FIFO, a terminal or standard input (``/dev/stdin``). Its size on disk says nothing about what a
read returns, so :func:`read_bounded` never trusts ``stat`` and never calls an unbounded ``read()``: it reads at
most ``limit + 1`` bytes, in chunks, and says when there was more. The limits (docs/inputs.md):

==========================================  ==============================================================
spec and vocabulary files (and imports)     :data:`engine.spec.yaml_safe.MAX_FILE_BYTES` (1 MB)
operation file (``engine report``)          :data:`MAX_OPERATION_BYTES` (16 MiB, a record's limit)
``engine expr --record``                    :data:`engine.beneficiary.records.MAX_RECORD_BYTES` (16 MiB, as ``evaluate``)
==========================================  ==============================================================

:func:`utf8_problem` and :func:`surrogate_problem` find the first invalid UTF-8 byte of some bytes, or the first
lone surrogate of a text (what ``"\\udc80"`` in JSON, or an undecodable command-line argument, produces), as a
line and column, so that the caller can report a positioned error instead of an encoding traceback.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

MAX_OPERATION_BYTES = 16 * 1024 * 1024
_CHUNK = 1 << 16


class InputTooLarge(Exception):
    """More than ``limit`` bytes could be read from the input (nothing beyond ``limit + 1`` was read)."""

    def __init__(self, limit: int):
        super().__init__(limit)
        self.limit = limit


def read_bounded(path: str, limit: int) -> bytes:
    """The content of ``path``, at most ``limit`` bytes; raises :class:`InputTooLarge` when there is more, and
    ``OSError`` when it cannot be opened or read (a folder raises ``IsADirectoryError``)."""
    if os.path.isdir(path):
        raise IsADirectoryError(21, "Is a directory", path)
    with open(path, "rb", buffering=0) as f:
        return read_stream_bounded(f, limit)


def read_stream_bounded(f, limit: int) -> bytes:
    """At most ``limit`` bytes of an open binary stream; :class:`InputTooLarge` when it holds more."""
    parts: list[bytes] = []
    left = limit + 1
    while left > 0:
        chunk = f.read(min(left, _CHUNK))
        if not chunk:
            break
        parts.append(chunk)
        left -= len(chunk)
    if left <= 0:
        raise InputTooLarge(limit)
    return b"".join(parts)


def size_text(n: int) -> str:
    """A limit in words: ``16 Mio``, ``1 Mo``, ``100 octets``."""
    if n % (1024 * 1024) == 0:
        return f"{n // (1024 * 1024)} Mio"
    if n % 1_000_000 == 0:
        return f"{n // 1_000_000} Mo"
    return f"{n} octets"


@dataclass(frozen=True)
class TextProblem:
    """Where bad text sits: 1-based line and column (in characters of the decoded line), the line as shown (bad
    characters replaced by U+FFFD), and what is wrong."""

    line: int
    col: int
    source_line: str
    what: str


def _line_col(text: str, index: int) -> tuple[int, int, str]:
    start = text.rfind("\n", 0, index) + 1
    end = text.find("\n", index)
    line_text = text[start:] if end < 0 else text[start:end]
    return text.count("\n", 0, index) + 1, index - start + 1, line_text.rstrip("\r")


def utf8_problem(data: bytes) -> TextProblem | None:
    """The first invalid UTF-8 byte of ``data`` (a BOM is allowed), or None."""
    try:
        data.decode("utf-8")
        return None
    except UnicodeDecodeError as e:
        bad = data[e.start]
    text = data.decode("utf-8", errors="surrogateescape")
    m = _SURROGATE.search(text)
    index = m.start() if m else 0
    line, col, shown = _line_col(text, index)
    return TextProblem(line, col, _SURROGATE.sub("\ufffd", shown),
                       f"octet 0x{bad:02X} invalide")


_SURROGATE = re.compile("[\ud800-\udfff]")


def surrogate_problem(text: str) -> TextProblem | None:
    """The first lone surrogate (U+D800-U+DFFF) of ``text``, or None. Such a character cannot be written as UTF-8:
    it comes from an escape such as ``"\\udc80"`` or from bytes that were not UTF-8."""
    m = _SURROGATE.search(text)
    if m is None:
        return None
    line, col, shown = _line_col(text, m.start())
    return TextProblem(line, col, _SURROGATE.sub("\ufffd", shown),
                       f"caractère U+{ord(m.group()):04X} invalide (demi-paire de substitution isolée, par exemple "
                       f"un échappement « \\u{ord(m.group()):04x} ») : ce n'est pas du texte Unicode valide")


def has_surrogate(text: str) -> bool:
    return _SURROGATE.search(text) is not None


def load_json_document(data: bytes) -> tuple[object, TextProblem | None, str]:
    """Decode one JSON document (a UTF-8 BOM allowed) the way records are decoded (orjson: NaN, Infinity and lone
    surrogates refused). Returns ``(value, None, "")``, or ``(None, problem, code)`` with code ``encoding`` (invalid
    UTF-8, a lone surrogate escape) or ``json``."""
    import orjson

    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    bad = utf8_problem(data)
    if bad is not None:
        return None, bad, "encoding"
    try:
        return orjson.loads(data), None, ""
    except orjson.JSONDecodeError as e:
        text = data.decode("utf-8")
        pos = min(max(getattr(e, "pos", 0) or 0, 0), len(text))
        line, col, shown = _line_col(text, pos)
        if "surrogate" in e.msg:
            return None, TextProblem(line, col, shown, "un échappement « \\u » de ce texte n'est pas un caractère "
                                     "Unicode (demi-paire de substitution isolée)"), "encoding"
        return None, TextProblem(line, col, shown, f"JSON invalide ({e.msg})"), "json"
