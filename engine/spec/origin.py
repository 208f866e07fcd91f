"""Text origins of YAML string values: map a character offset of a loaded string to its file line and column.

Used by :meth:`engine.spec.loader.YMap.origin`: an error inside an expression written in a spec (plain, single- or
double-quoted, literal ``|`` or folded ``>`` scalar, on one or several lines) points at the right place in the file.
Each character of the value is aligned with the source text of its scalar (escapes, folding and indentation
accounted for) and the alignment is compressed into ``TextOrigin.segments``.
"""

from __future__ import annotations

from typing import Any

from engine.errors import TextOrigin

_SOURCES: dict[str, tuple[str, ...]] = {}  # file -> lines of its last load, to show snippets in diagnostics

def origin_of(info, value: Any) -> TextOrigin:
    """The TextOrigin of a loaded value from its node info (see ``engine.spec.yaml_safe._Info``)."""
    src = info.src
    if src is None:
        return TextOrigin(file=info.pos.file, line=info.pos.line, col=info.pos.col,
                          lines=_SOURCES.get(info.pos.file))
    if not isinstance(value, str) or (info.style is None and "\n" not in src.text[info.start:info.end]):
        return TextOrigin(file=src.file, line=info.pos.line, col=info.pos.col, lines=src.lines)
    return TextOrigin(file=src.file, line=info.pos.line, col=info.pos.col, lines=src.lines,
                      segments=_segments(value, src.text, info))


def _segments(value: str, text: str, info) -> tuple[tuple[int, int, int], ...]:
    """Align each character of a string value with the source text of its scalar; compress into segments."""
    raw_start, raw_end, style = info.start, info.end, info.style
    p = raw_start
    line, col = info.pos.line, info.pos.col
    # skip the opening quote, or the block header line (``|-`` / ``>+2`` and a comment)
    if style in ("'", '"'):
        p += 1
        col += 1
    indent = 0
    if style in ("|", ">"):
        nl = text.find("\n", p, raw_end)
        if nl < 0:
            return ()
        p = nl + 1
        line, col = line + 1, 1
        first = text[p:raw_end].lstrip("\n")
        indent = len(first) - len(first.lstrip(" "))

    def advance(n: int) -> None:
        nonlocal p, line, col
        for _ in range(n):
            if p < raw_end and text[p] == "\n":
                line, col = line + 1, 1
                p += 1
                if indent:  # block scalars: the indentation is not part of the value
                    k = 0
                    while k < indent and p < raw_end and text[p] == " ":
                        p, col, k = p + 1, col + 1, k + 1
            else:
                p, col = p + 1, col + 1

    segs: list[tuple[int, int, int]] = []
    last: tuple[int, int] | None = None
    for i, c in enumerate(value):
        if style == '"':
            while p + 1 < raw_end and text[p] == "\\" and text[p + 1] == "\n":  # escaped line break
                advance(2)
                while p < raw_end and text[p] in " \t":
                    advance(1)
        if p >= raw_end:
            here = (line, col)
            step = 0
        elif style == '"' and text[p] == "\\":
            esc = text[p + 1] if p + 1 < raw_end else ""
            step = {"x": 4, "u": 6, "U": 10}.get(esc, 2)
            here = (line, col)
        elif style == "'" and text.startswith("''", p):
            here, step = (line, col), 2
        else:
            while p < raw_end and text[p] != c and not (c in " \n" and text[p] == "\n"):
                advance(1)
            here, step = (line, col), 1
        if last is None or here != (last[0], last[1] + 1):
            segs.append((i, here[0], here[1]))
        last = here
        if p < raw_end:
            advance(step)
    return tuple(segs)
