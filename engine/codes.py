"""The registry of every diagnostic code the engine reports, with its French title, an example and its fix.

A code is the stable English name of a problem (``expr.syntax.brackets``, ``graph.unknown_phase``,
``server.bad_date``...): tests, the JSON outputs, the server's problem types and the documentation use it, while
the message itself is French and may change. The table is data, in ``engine/codes.yaml`` (subject by subject, in
the order of the documentation page); this module reads it once. Every code the source names is listed there, and
every code listed is named by the source: ``tests/test_error_codes.py`` reads the source (ast) to hold both
directions, and ``tools/gen_error_codes.py`` writes ``docs/error-codes.md`` from the table (``--check`` fails when
it drifts).

A leaf module: it imports nothing from the engine.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

TABLE = Path(__file__).with_name("codes.yaml")


@dataclass(frozen=True)
class Code:
    """One diagnostic code: what it means (``title``), a text that triggers it (``example``), how to fix it."""

    code: str
    subject: str
    title: str
    example: str
    fix: str


def _load(path: Path) -> tuple[dict[str, tuple[str, str]], dict[str, tuple[str, ...]], dict[str, Code]]:
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    subjects: dict[str, tuple[str, str]] = {}
    codes: dict[str, Code] = {}
    for subject, entry in data["subjects"].items():
        subjects[subject] = (entry["heading"], entry["intro"])
        for row in entry.get("codes") or ():
            if row["code"] in codes:  # pragma: no cover - a typo in the table
                raise ValueError(f"diagnostic code {row['code']} listed twice in {path.name}")
            codes[row["code"]] = Code(row["code"], subject, row["title"], row["example"], row["fix"])
    composed = {prefix: tuple(kinds) for prefix, kinds in (data.get("composed") or {}).items()}
    return subjects, composed, codes


#: subject -> (heading, one sentence on where these codes come from), in the order of the documentation page
SUBJECTS: dict[str, tuple[str, str]]
#: codes the source builds as prefix + kind (f-strings): the prefix -> its kinds, each expansion registered
COMPOSED: dict[str, tuple[str, ...]]
#: code -> its entry
CODES: dict[str, Code]
SUBJECTS, COMPOSED, CODES = _load(TABLE)


def lookup(code: str) -> Code | None:
    """The registry's entry for ``code``, or None when it is not a known code."""
    return CODES.get(code)
