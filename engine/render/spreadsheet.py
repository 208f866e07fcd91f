"""CSV dialects: the standard one (RFC 4180: ``,``, decimal point, ISO dates) and French Excel's (``excel-fr``).

A French Excel opens a ``.csv`` by double-click with ``;`` as separator and reads ``0,4`` as a number, ``01/03/2026``
as a date and ``VRAI``/``FAUX`` as booleans; without a UTF-8 BOM it reads accents as Windows-1252. So ``excel-fr``:

- separator ``;``, a UTF-8 BOM at the start of the file, lines ended by CRLF (what Excel writes);
- a number cell ``45000.00`` becomes ``45000,00`` (no thousands separator: Excel would read it as text);
- a date cell ``2026-03-01`` becomes ``01/03/2026``; ``true``/``false`` become ``VRAI``/``FAUX``;
- text columns (ids, labels, messages, sources) are never converted, whatever they look like;
- every text cell stays formula-safe (:func:`engine.escape.csv_cell` runs before, on the standard cell).

The standard dialect writes the cells as they are. Converting from the standard cell text (not from the value)
keeps one formatting rule per output (the engine's exact decimals, two decimals for money) and adds only notation.
"""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from typing import IO, Iterable, Sequence

from engine.fr import fr_date

NUMBER = re.compile(r"-?\d+(\.\d+)?")
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
TEXT_COLUMNS = frozenset({"id", "label", "source", "section", "message", "error_message", "first_violation_message",
                          "error_code", "first_violation", "violations", "next", "missing", "current_phase", "path",
                          "sentence", "rule", "status", "severity", "code", "kind", "old", "new", "where"})


@dataclass(frozen=True)
class Dialect:
    name: str
    delimiter: str
    bom: bool
    lineterminator: str | None  # None: the command's own (CRLF for evaluate, as RFC 4180; LF for report)
    french: bool

    def cell(self, text: str, column: str | None = None) -> str:
        """The cell as this dialect writes it (``text`` is the standard cell)."""
        if not self.french or not text or column in TEXT_COLUMNS:
            return text
        if text == "true":
            return "VRAI"
        if text == "false":
            return "FAUX"
        if NUMBER.fullmatch(text):
            return text.replace(".", ",")
        if ISO_DATE.fullmatch(text):
            return fr_date(text)
        return text


STANDARD = Dialect("standard", ",", False, None, False)
EXCEL_FR = Dialect("excel-fr", ";", True, "\r\n", True)
DIALECTS = {d.name: d for d in (STANDARD, EXCEL_FR)}
BOM = "\ufeff"


def dialect(name: str | None) -> Dialect:
    """The dialect called ``name`` (None: the standard one); a KeyError names an unknown one."""
    return STANDARD if name is None else DIALECTS[name]


def write_table(text: IO[str], header: Sequence[str], rows: Iterable[Sequence[str]], d: Dialect = STANDARD,
                lineterminator: str = "\r\n") -> None:
    """``header`` then ``rows`` (standard cell texts) to ``text`` in the dialect ``d``."""
    if d.bom:
        text.write(BOM)
    w = csv.writer(text, delimiter=d.delimiter, lineterminator=d.lineterminator or lineterminator)
    w.writerow(header)
    for row in rows:
        w.writerow([d.cell(c, col) for c, col in zip(row, header)])


__all__ = ["BOM", "DIALECTS", "Dialect", "EXCEL_FR", "STANDARD", "dialect", "write_table"]
