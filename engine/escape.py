"""Escaping of text that comes from records or specs, for every output format that would otherwise run it.

- **CSV** (``csv_cell``): a text cell that a spreadsheet would take for a formula, one starting with ``=``, ``+``,
  ``-``, ``@``, a tab or a carriage return, gets a leading apostrophe (``'=SOMME(A1)``), which spreadsheets show and
  do not run. A cell that reads as a plain number (``-5``, ``+3.50``, ``-12,5``) is a number we wrote, not a
  formula, and stays as it is.
- **Terminal text** (``text_safe``): control characters (C0 but newline and tab, DEL, C1: ``ESC [31m`` and the like)
  are shown as ``\\x1b``-style escapes, so a record id or a label cannot move the cursor, recolour the terminal or
  hide what follows.
- **Markdown** (``md_cell``): the same, plus ``&`` and ``<`` escaped as HTML entities (``<script>`` is text, not markup; ``->`` stays readable), ``|`` escaped and line
  breaks joined, so a value stays in its table cell.

JSON and HTML outputs escape by construction (orjson, jinja2/``html.escape``).
"""

from __future__ import annotations

import re

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(?:\d+(?:[.,]\d+)?|[.,]\d+)(?:[eE][+-]?\d+)?")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")
_CONTROL_CELL = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def _show(m: re.Match) -> str:
    return f"\\x{ord(m.group()):02x}"


def csv_cell(text: str) -> str:
    """A CSV cell that no spreadsheet runs as a formula."""
    if text.startswith(FORMULA_STARTS) and not _NUMBER.fullmatch(text):
        return "'" + text
    return text


def text_safe(text: str) -> str:
    """Text for a terminal: control characters other than newline and tab shown escaped."""
    return _CONTROL.sub(_show, text) if _CONTROL.search(text) else text


def md_cell(text: str) -> str:
    """Text for one Markdown table cell or line: HTML escaped, ``|`` escaped, line breaks joined, controls shown."""
    text = text.replace("\r\n", " ").replace("\n", " ").replace("&", "&amp;").replace("<", "&lt;")
    return _CONTROL_CELL.sub(_show, text).replace("|", "\\|")
