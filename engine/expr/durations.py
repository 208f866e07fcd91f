"""The duration syntax, in one place: what a duration written by a person looks like, in a spec and in an expression.

A duration is one or more parts ``<whole number> <unit>`` (digits 0-9; a space between them is optional), the parts
separated by spaces and, if wanted, by ``et`` or ``and``: ``15 jours``, ``4 semaines``, ``6 mois``, ``2 ans``,
``1 an et 6 mois`` (18 months), ``1 year 6 months``. The units, in any case: ``day(s)``/``jour(s)``,
``week(s)``/``semaine(s)`` (7 days), ``month(s)``/``mois``, ``year(s)``/``an(s)``/``année(s)``/``annee(s)`` (12 months).
A comma does not join parts: in an expression it separates the arguments of a call and the items of a list
(``max([15 days, 3 weeks])``), so a spec may not use it either. Decimals (``1.5 mois``), signs and ISO 8601
(``P1Y6M``, the form the engine *prints* and reads back from JSON records: :mod:`engine.expr.runtime_json`) are not
this syntax.

Every reader of this syntax takes it from here, so that they accept exactly the same texts:

- the spec's duration fields (:func:`engine.spec.context.parse_duration`): :func:`parse_duration`;
- the expression grammar (``grammar/expr.lark``): its ``DURATION`` terminal is :data:`TOKEN_PATTERN`, put in place
  when the grammar is loaded (:func:`engine.expr.parser.lark_parser`);
- the JSON Schema of specs (``engine/spec/schema/spec.schema.json``, ``$defs.duration.pattern``): :data:`SCHEMA_PATTERN`,
  written out with each letter as a class (``[mM][oO][iI][sS]``) because the schema's regular expressions (ECMA 262, as
  editors read them) have no case-insensitive flag; ``tests/test_durations.py`` checks that the file holds it;
- the semantic diff's normal form (:func:`engine.audit.normal_form.norm_scalar`): :func:`parse_parts`.

``tests/test_durations.py`` runs one table of texts, accepted and refused, through all four.
"""

from __future__ import annotations

import re

from engine.expr.runtime import Duration

#: unit -> (months, days) it stands for
FACTORS = {"day": (0, 1), "week": (0, 7), "month": (1, 0), "year": (12, 0)}
#: unit word (lower case) -> unit
UNITS = {w: unit for unit, words in (
    ("day", ("day", "days", "jour", "jours")),
    ("week", ("week", "weeks", "semaine", "semaines")),
    ("month", ("month", "months", "mois")),
    ("year", ("year", "years", "an", "ans", "année", "années", "annee", "annees"))) for w in words}
SEPARATORS = ("et", "and")

# longest first, so that an alternative is never cut short by one of its prefixes (an / ans / année)
_WORDS = sorted(UNITS, key=lambda w: (-len(w), w))


def _letters(word: str) -> str:
    """``mois`` -> ``[mM][oO][iI][sS]``: a word in any case, without a regex flag."""
    return "".join(f"[{c}{c.upper()}]" if c.isalpha() else re.escape(c) for c in word)


def _pattern(word, end: str = "") -> str:
    unit = "(?:" + "|".join(word(w) for w in _WORDS) + ")" + end
    sep = "(?:" + "|".join(word(w) for w in SEPARATORS) + ")"
    part = r"[0-9]+\s*" + unit
    return part + r"(?:\s+(?:" + sep + r"\s+)?" + part + ")*"


#: the ``DURATION`` terminal of the expression grammar (lark, with its ``i`` flag): a unit is not followed by a letter
TOKEN_PATTERN = _pattern(lambda w: w, end=r"(?!\w)")
#: a whole text that is a duration, with surrounding spaces (the JSON Schema's ``pattern``, any case spelt out)
SCHEMA_PATTERN = r"^\s*" + _pattern(_letters) + r"\s*$"

_FULL = re.compile(r"\s*" + _pattern(lambda w: w) + r"\s*", re.IGNORECASE)
_PART = re.compile(r"([0-9]+)\s*(" + "|".join(_WORDS) + ")", re.IGNORECASE)


def parse_parts(text: object) -> tuple[tuple[int, str], ...] | None:
    """``"1 an et 6 mois"`` -> ``((1, "year"), (6, "month"))``: each part's number and unit; None when ``text`` is not
    a duration of this syntax."""
    if not isinstance(text, str) or not _FULL.fullmatch(text):
        return None
    return tuple((int(n), UNITS[w.lower()]) for n, w in _PART.findall(text))


def months_days(text: object) -> tuple[int, int] | None:
    """``"1 an et 6 mois"`` -> ``(18, 0)``, ``"2 semaines"`` -> ``(0, 14)``; None when ``text`` is not a duration."""
    parts = parse_parts(text)
    if parts is None:
        return None
    months = days = 0
    for n, unit in parts:
        m, d = FACTORS[unit]
        months += n * m
        days += n * d
    return months, days


def parse_duration(text: object) -> Duration | None:
    """The :class:`engine.expr.runtime.Duration` that ``text`` writes, or None when it is not a duration."""
    md = months_days(text)
    return None if md is None else Duration(*md)
