"""The source texts a spec cites (``source: NN-file.txt:LINE`` or ``NN-file.txt:LINE-LINE``), read once each.

Used where a citation is shown with its words: the documentation site quotes the lines under each rule, and the
HTML diff quotes the line each changed element cites. The folder is found by :func:`engine.spec.check.locate_seeds`
(``--seeds``, ``$ENGINE_SEEDS``, ``../shared/seeds``); ``None``: citations are shown without their words.
"""

from __future__ import annotations

import re
from pathlib import Path

NAME = re.compile(r"\d{2}-[a-z0-9-]+\.txt")
CITATION = re.compile(r"^(\d{2}-[a-z0-9-]+\.txt):(\d+)(?:-(\d+))?$")


class SourceTexts:
    """The source texts (``NN-file.txt``) of ``folder``, read once; ``None`` folder: no text is known."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self._lines: dict[str, list[str] | None] = {}
        self.used: set[str] = set()

    def lines(self, name: str) -> list[str] | None:
        if name not in self._lines:
            text = None
            if self.folder is not None and NAME.fullmatch(name):
                try:
                    text = (self.folder / name).read_text(encoding="utf-8", errors="replace").splitlines()
                except OSError:
                    text = None
            self._lines[name] = text
        return self._lines[name]

    def names(self) -> list[str]:
        if self.folder is None:
            return []
        return sorted(p.name for p in self.folder.glob("*.txt") if NAME.fullmatch(p.name))

    def quote(self, citation: str | None, max_lines: int = 4) -> tuple[str, ...]:
        """The non-blank lines ``citation`` points at (at most ``max_lines``); () when unknown or out of range."""
        m = CITATION.match(citation or "")
        if not m:
            return ()
        lines = self.lines(m.group(1))
        lo = int(m.group(2))
        hi = int(m.group(3) or lo)
        if lines is None or not 1 <= lo <= hi <= len(lines):
            return ()
        return tuple(x.strip() for x in lines[lo - 1:hi] if x.strip())[:max_lines]


__all__ = ["CITATION", "SourceTexts"]
