"""Runtime values of the expression language and the helpers compiled expressions call.

Values: ``True``/``False``, ``int`` or ``Decimal`` (never float; division is exact), ``str``, ``datetime.date``,
:class:`Duration`, ``list``, ``dict`` (records, events, history entries) and :class:`Unknown`.

Unknown (missing data) follows Kleene's three-valued logic: ``false and unknown`` is false, ``true or unknown`` is
true, ``not unknown`` is unknown; every other operation on an unknown is unknown. An :class:`Unknown` carries the
names of the attributes whose absence made it unknown (the union over the operands that mattered).

Calendar rules (documented in docs/expressions.md; the arithmetic itself is :mod:`engine.expr.calendar`):

- month arithmetic clamps to the end of the month: 2026-01-31 + 1 month = 2026-02-28;
- ``date + duration`` adds the months first, then the days;
- ``months_between(a, b)`` is the largest whole number of months m with ``a + m months <= b`` (negative when b < a);
- ``age(birth, on)`` is the largest whole number of years y with ``birth + y years <= on``; so somebody born on
  29 February has their birthday on 28 February in non-leap years (the month-end clamp, as for every date).
- durations in months and durations in days are not comparable (a month has no fixed number of days): comparing
  them is an error that suggests ``days_between``/``months_between``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from engine.expr import calendar
from engine.expr.calendar import add_months  # noqa: F401 (part of the runtime's API)


#: evaluation cost limit: list items visited by one call of a compiled expression
MAX_COST = 1_000_000


class Unknown:
    """An unknown value. ``names``: the missing attributes that caused it (may be empty)."""

    __slots__ = ("names",)

    def __init__(self, names=frozenset()):
        self.names = frozenset(names)

    def __or__(self, other: "Unknown") -> "Unknown":
        if not other.names or other.names <= self.names:
            return self
        return Unknown(self.names | other.names)

    def __eq__(self, other):
        return isinstance(other, Unknown) and other.names == self.names

    def __hash__(self):
        return hash(("Unknown", self.names))

    def __bool__(self):  # an unknown must never be used as a Python truth value
        raise TypeError("the truth value of an unknown is undecided")

    def __repr__(self):
        return f"Unknown({sorted(self.names)})"


def unknown(name: str | None = None) -> Unknown:
    return Unknown(frozenset((name,)) if name else frozenset())


def unknown_of(*values) -> Unknown:
    """The union of the unknowns among ``values``."""
    names: set = set()
    for v in values:
        if v.__class__ is Unknown:
            names |= v.names
    return Unknown(frozenset(names))


@dataclass(frozen=True)
class Duration:
    """A calendar duration: whole months plus days (4 weeks = 28 days; 2 years = 24 months)."""

    months: int = 0
    days: int = 0

    def __add__(self, other):
        if isinstance(other, Duration):
            return Duration(self.months + other.months, self.days + other.days)
        return NotImplemented

    def __sub__(self, other):
        if isinstance(other, Duration):
            return Duration(self.months - other.months, self.days - other.days)
        return NotImplemented

    def __neg__(self):
        return Duration(-self.months, -self.days)

    def scaled(self, n: int) -> "Duration":
        return Duration(self.months * n, self.days * n)

    def iso(self) -> str:
        if self.months <= 0 and self.days <= 0 and (self.months or self.days):
            return "-" + (-self).iso()
        out = "P"
        y, m = divmod(self.months, 12) if self.months >= 0 else (0, self.months)
        if y:
            out += f"{y}Y"
        if m:
            out += f"{m}M"
        if self.days or out == "P":
            out += f"{self.days}D"
        return out

    def __str__(self):
        return self.iso()


class DynamicTypeError(Exception):
    """Raised by runtime helpers; the compiled expression turns it into a positioned EvaluationError."""

    def __init__(self, message: str, hint: str | None = None, code: str = "eval.type"):
        super().__init__(message)
        self.message, self.hint, self.code = message, hint, code


# ------------------------------------------------------------------------------------------------ dates

def add_duration(d: date, dur: Duration, sign: int = 1) -> date:
    if dur.months:
        d = add_months(d, sign * dur.months)
    if dur.days:
        d = d + timedelta(days=sign * dur.days)
    return d


def months_between(a: date, b: date) -> int:
    """Whole months from ``a`` to ``b``: the largest m with add_months(a, m) <= b (negative if b < a)."""
    if a.__class__ is not date or b.__class__ is not date:
        raise DynamicTypeError("months_between attend deux dates")
    return calendar.months_between(a, b)


def age(birth: date, on: date) -> int:
    """Whole years from ``birth`` to ``on`` (birthday on 29 February: 28 February in non-leap years)."""
    if birth.__class__ is not date or on.__class__ is not date:
        raise DynamicTypeError("age attend deux dates : age(date_naissance, date)")
    return calendar.age(birth, on)


def days_between(a: date, b: date) -> int:
    if not (isinstance(a, date) and isinstance(b, date)):
        raise DynamicTypeError("days_between attend deux dates")
    return (b - a).days


# ---------------------------------------------------------------------------------------------- numbers

def is_number(v) -> bool:
    c = v.__class__
    return c is int or c is Decimal


def round_half_up(x, n=0):
    if not is_number(x):
        raise DynamicTypeError("round attend un nombre")
    if n.__class__ is not int and not (n.__class__ is Decimal and n == n.to_integral_value()):
        raise DynamicTypeError("le nombre de décimales de round doit être un nombre entier")
    n = int(n)
    if not 0 <= n <= 12:
        raise DynamicTypeError("round garde de 0 à 12 décimales", code="eval.range")
    try:
        return Decimal(x).quantize(Decimal(1).scaleb(-n), rounding=ROUND_HALF_UP)
    except InvalidOperation:
        raise DynamicTypeError("nombre trop grand pour être arrondi", code="eval.range") from None


_ZERO = Duration()


def compare_durations(a: Duration, b: Duration) -> int:
    """-1, 0 or 1. Months and days are not comparable (a month has no fixed length)."""
    if a.months == 0 and b.months == 0:
        return (a.days > b.days) - (a.days < b.days)
    if a.days == 0 and b.days == 0:
        return (a.months > b.months) - (a.months < b.months)
    za, zb = a == _ZERO, b == _ZERO
    if za or zb:  # 0 against a mixed duration whose parts have the same sign
        other, flip = (b, -1) if za else (a, 1)
        if other.months >= 0 and other.days >= 0:
            return flip
        if other.months <= 0 and other.days <= 0:
            return -flip
    raise DynamicTypeError(
        f"impossible de comparer une durée de {_dur_words(a)} et une durée de {_dur_words(b)} : un mois n'a pas de "
        "nombre de jours fixe", hint="comparez des dates, ou utilisez days_between(a, b) ou months_between(a, b)",
        code="eval.duration_units")


def _dur_words(d: Duration) -> str:
    parts = []
    if d.months:
        parts.append(f"{d.months} mois")
    if d.days or not parts:
        parts.append(f"{d.days} jour{'s' if abs(d.days) > 1 else ''}")
    return " et ".join(parts)


# -------------------------------------------------------------------------------------- dynamic checks

def kind(v) -> str:
    c = v.__class__
    if c is bool:
        return "une valeur oui/non"
    if c is int or c is Decimal:
        return "un nombre"
    if c is str:
        return "un texte"
    if c is date:
        return "une date"
    if c is Duration:
        return "une durée"
    if c is list:
        return "une liste"
    if c is dict:
        return "un objet"
    if c is Unknown:
        return "une valeur inconnue"
    return "une valeur"


def of_kind(v) -> str:
    """« d'un nombre », « d'une liste »: :func:`kind` after « de »."""
    return "d'" + kind(v)


def _same_kind(a, b) -> bool:
    return kind(a) == kind(b)


def values_equal(a, b):
    """Kleene equality for values of the same kind: True, False or an Unknown (DynamicTypeError for different
    kinds)."""
    if a.__class__ is Unknown or b.__class__ is Unknown:
        return unknown_of(a, b)
    if not _same_kind(a, b):
        raise DynamicTypeError(f"impossible de comparer {kind(a)} et {kind(b)}")
    if a.__class__ is Duration:
        return compare_durations(a, b) == 0
    if a.__class__ is list:
        if len(a) != len(b):
            return False
        acc = None
        for x, y in zip(a, b):
            r = values_equal(x, y)
            if r is False:
                return False
            if r is not True:
                acc = r if acc is None else acc | r
        return True if acc is None else acc
    if a.__class__ is dict:
        if a.keys() != b.keys():
            return False
        return values_equal(list(a.values()), [b[k] for k in a])
    return a == b


def compare(op: str, a, b):
    """Dynamic comparison (both operands known)."""
    if op == "==":
        return values_equal(a, b)
    if op == "!=":
        r = values_equal(a, b)
        return r if r.__class__ is Unknown else not r
    if not _same_kind(a, b) or a.__class__ in (bool, str, list, dict):
        if _same_kind(a, b):
            raise DynamicTypeError(f"impossible de classer {kind(a)} et {kind(b)} avec {op}")
        raise DynamicTypeError(f"impossible de comparer {kind(a)} et {kind(b)}")
    c = compare_durations(a, b) if a.__class__ is Duration else (a > b) - (a < b)
    return {"<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[op]


def contains(x, xs):
    """Kleene membership: true if an item equals x, unknown if undecided, else false."""
    if x.__class__ is Unknown:
        return x
    if xs.__class__ is Unknown:
        return xs
    if xs.__class__ is not list:
        raise DynamicTypeError(f"« in » attend une liste à sa droite, pas {kind(xs)}")
    acc = None
    for item in xs:
        r = values_equal(x, item)
        if r is True:
            return True
        if r is not False:
            acc = r if acc is None else acc | r
    return False if acc is None else acc


def as_bool(v):
    if v is True or v is False or v.__class__ is Unknown:
        return v
    raise DynamicTypeError(f"une valeur oui/non est attendue, pas {kind(v)}")


def arith(op: str, a, b):
    """Dynamic + - * / for known operands."""
    ca, cb = a.__class__, b.__class__
    num_a, num_b = ca in (int, Decimal), cb in (int, Decimal)
    if op == "+":
        if num_a and num_b:
            return a + b
        if ca is date and cb is Duration:
            return add_duration(a, b)
        if ca is Duration and cb is date:
            return add_duration(b, a)
        if ca is Duration and cb is Duration:
            return a + b
        raise _cannot("add", a, b, hint="écrivez une durée avec son unité, par exemple « 15 jours »"
                      if (ca is date and num_b) or (cb is date and num_a) else None)
    if op == "-":
        if num_a and num_b:
            return a - b
        if ca is date and cb is Duration:
            return add_duration(a, b, -1)
        if ca is date and cb is date:
            return Duration(0, (a - b).days)
        if ca is Duration and cb is Duration:
            return a - b
        raise _cannot("subtract", a, b)
    if op == "*":
        if num_a and num_b:
            return a * b
        if ca is Duration and num_b:
            return a.scaled(_whole(b))
        if cb is Duration and num_a:
            return b.scaled(_whole(a))
        raise _cannot("multiply", a, b)
    if op == "/":
        if num_a and num_b:
            if b == 0:
                raise DynamicTypeError("division par zéro", hint="vérifiez d'abord que le diviseur n'est pas 0",
                                       code="eval.division_by_zero")
            return Decimal(a) / b
        raise _cannot("divide", a, b)
    raise AssertionError(op)


def _whole(n) -> int:
    if n.__class__ is int:
        return n
    if n == n.to_integral_value():
        return int(n)
    raise DynamicTypeError("une durée ne se multiplie que par un nombre entier")


def _cannot(verb: str, a, b, hint=None) -> DynamicTypeError:
    words = {"add": f"d'additionner {kind(a)} et {kind(b)}", "subtract": f"de soustraire {kind(b)} {of_kind(a)}",
             "multiply": f"de multiplier {kind(a)} par {kind(b)}", "divide": f"de diviser {kind(a)} par {kind(b)}"}
    return DynamicTypeError(f"impossible {words[verb]}", hint=hint)


def negate(a):
    if a.__class__ in (int, Decimal):
        return -a
    if a.__class__ is Duration:
        return -a
    raise DynamicTypeError(f"impossible de prendre l'opposé {of_kind(a)}")


# ------------------------------------------------------------------------------------------ aggregates

def _list(xs, func):
    if xs.__class__ is not list:
        raise DynamicTypeError(f"{func} attend une liste, pas {kind(xs)}")
    acc = None
    for x in xs:
        if x.__class__ is Unknown:
            acc = x if acc is None else acc | x
    return acc


def agg_count(xs):
    if xs.__class__ is not list:
        raise DynamicTypeError(f"count attend une liste, pas {kind(xs)}")
    return len(xs)


def agg_sum(xs):
    if xs.__class__ is list:  # fast path: only numbers (no unknown, no duration)
        total = 0
        for x in xs:
            c = x.__class__
            if c is not int and c is not Decimal:
                break
            total += x
        else:
            return total
    u = _list(xs, "sum")
    if u is not None:
        return u
    if xs and xs[0].__class__ is Duration:
        total = Duration()
        for x in xs:
            if x.__class__ is not Duration:
                raise DynamicTypeError(f"sum : impossible d'ajouter {kind(x)} à une durée")
            total = total + x
        return total
    total = 0
    for x in xs:
        if not is_number(x):
            raise DynamicTypeError(f"sum attend des nombres, pas {kind(x)}")
        total += x
    return total


def agg_avg(xs):
    u = _list(xs, "avg")
    if u is not None:
        return u
    if not xs:
        raise DynamicTypeError("avg d'une liste vide n'a pas de valeur", hint="gardez le calcul par count(...) > 0",
                               code="eval.empty")
    total = agg_sum(xs)
    if total.__class__ is Duration:
        raise DynamicTypeError("avg attend des nombres, pas des durées")
    return Decimal(total) / len(xs)


def agg_minmax(xs, func: str):
    if xs.__class__ is list and xs:  # fast path: all dates, all ints or all decimals (the first best is kept)
        c0 = xs[0].__class__
        if c0 is date or c0 is int or c0 is Decimal:
            for x in xs:
                if x.__class__ is not c0:
                    break
            else:
                return min(xs) if func == "min" else max(xs)
    u = _list(xs, func)
    if u is not None:
        return u
    if not xs:
        raise DynamicTypeError(f"{func} d'une liste vide n'a pas de valeur", hint="gardez le calcul par count(...) > 0",
                               code="eval.empty")
    best = xs[0]
    if best.__class__ in (bool, str, list, dict):
        raise DynamicTypeError(f"{func} attend des nombres, des dates ou des durées, pas {kind(best)}")
    for x in xs[1:]:
        c = compare("<", x, best) if func == "min" else compare(">", x, best)
        if c:
            best = x
    return best


def agg_any(xs):
    """Kleene OR over a list of yes/no values."""
    if xs.__class__ is not list:
        raise DynamicTypeError(f"any attend une liste, pas {kind(xs)}")
    acc = None
    for x in xs:
        x = as_bool(x)
        if x is True:
            return True
        if x is not False:
            acc = x if acc is None else acc | x
    return False if acc is None else acc


def agg_all(xs):
    """Kleene AND over a list of yes/no values."""
    if xs.__class__ is not list:
        raise DynamicTypeError(f"all attend une liste, pas {kind(xs)}")
    acc = None
    for x in xs:
        x = as_bool(x)
        if x is False:
            return False
        if x is not True:
            acc = x if acc is None else acc | x
    return True if acc is None else acc


_TEXT_ONLY = frozenset((str,))


def all_texts(xs, field: str) -> bool:
    """Whether every item of ``xs`` is a record holding a text in ``field`` (never absent nor unknown): then the
    compiled ``xs where field == "text"`` may pick its items with a plain comprehension (same items, same order)."""
    return all_kinds(xs, field, _TEXT_ONLY)


def index_key(name: str, field: str) -> str:
    """The optional ``env`` key of an index of the list attribute ``name`` by its text ``field``
    (``"_index:events:type"``; not an attribute name: ``:`` cannot appear in one)."""
    return f"_index:{name}:{field}"


def sorted_key(name: str, field: str) -> str:
    """The optional ``env`` key that vouches for the list attribute ``name`` (``"_sorted:events:date"``): when
    ``env[key]`` is the very list ``env[name]``, its items are records sorted by their ``field`` (ascending), each
    holding a date there, and so are the lists of its index (:func:`index_by_text`, which keeps the order). The
    binder gives it for the events; compiled ``events where type == "x" and date <= d`` then bisect."""
    return f"_sorted:{name}:{field}"


def index_by_text(xs: list, field: str):
    """``(xs, {text: [items of xs with that text in field, in order]})``, to put in ``env[index_key(name, field)]``
    next to ``env[name] = xs`` (the binder may do so for ``events``/``type``): compiled ``events where type ==
    "x" [and ...]`` then read the items of that type instead of visiting the list. Every item must be a record
    holding a text in ``field`` (else None: no index), and ``xs`` must not be changed afterwards (the index is
    used only while ``env[name]`` is this very list object)."""
    ix: dict = {}
    for x in xs:
        v = x.get(field) if x.__class__ is dict else None
        if v.__class__ is not str:
            return None
        same = ix.get(v)
        if same is None:
            ix[v] = [x]
        else:
            same.append(x)
    return (xs, ix)


def text_index(env: dict, key: str, xs, field: str):
    """For a compiled ``xs where field == "text"``: the index of ``xs`` given in ``env[key]`` (a dict) when it is
    for this very list, else whether every item holds a text in ``field`` (:func:`all_texts`)."""
    ix = env.get(key)
    if ix is not None and ix[0] is xs:
        return ix[1]
    return all_texts(xs, field)


def all_kinds(xs, field: str, kinds: frozenset) -> bool:
    """Whether every item of ``xs`` is a record whose ``field`` holds a value of one of the classes ``kinds``."""
    try:
        found = {x[field].__class__ for x in xs}
    except (KeyError, TypeError, IndexError):
        return False
    return found <= kinds


