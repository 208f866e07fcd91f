"""A slow, obviously-correct tree-walking evaluator of the expression AST, for the property "compiled ==
reference" (tests/test_expr_properties.py). It shares only the value classes (Unknown, Duration) with the engine;
the calendar rules are re-implemented naively (day by day, month by month) on purpose.
"""

from __future__ import annotations

import calendar
from datetime import date, timedelta
from decimal import ROUND_HALF_UP, Decimal

from engine.expr import nodes as N
from engine.expr.runtime import Duration, Unknown


class RefError(Exception):
    """An evaluation error (the engine raises EvaluationError in the same cases)."""


class RefCostError(RefError):
    """More list items visited than ``max_cost`` (the engine's ``eval.limit.cost``)."""


def is_unknown(v) -> bool:
    return isinstance(v, Unknown)


def union(*vals) -> Unknown:
    names: set = set()
    for v in vals:
        if is_unknown(v):
            names |= v.names
    return Unknown(frozenset(names))


def add_months(d: date, n: int) -> date:
    y, m = d.year, d.month
    step = 1 if n >= 0 else -1
    for _ in range(abs(n)):
        m += step
        if m == 13:
            y, m = y + 1, 1
        elif m == 0:
            y, m = y - 1, 12
    if not 1 <= y <= 9999:
        raise RefError("date out of range")
    last = calendar.monthrange(y, m)[1]
    return date(y, m, min(d.day, last))


def add_duration(d: date, dur: Duration, sign: int) -> date:
    d = add_months(d, sign * dur.months)
    try:
        return d + timedelta(days=sign * dur.days)
    except OverflowError:
        raise RefError("date out of range") from None


def whole_months(a: date, b: date) -> int:
    if b < a:
        return -whole_months(b, a)
    m = 0
    while add_months(a, m + 1) <= b:
        m += 1
    return m


def whole_years(birth: date, on: date) -> int:
    if on < birth:
        return -whole_years(on, birth)
    y = 0
    while add_months(birth, 12 * (y + 1)) <= on:
        y += 1
    return y


def dur_cmp(a: Duration, b: Duration) -> int:
    if a.months == 0 and b.months == 0:
        x, y = a.days, b.days
    elif a.days == 0 and b.days == 0:
        x, y = a.months, b.months
    else:
        raise RefError("months and days")
    return (x > y) - (x < y)


def equal(a, b):
    """True, False, or an Unknown when an unknown item leaves it undecided."""
    if is_unknown(a) or is_unknown(b):
        return union(a, b)
    if isinstance(a, Duration):
        return dur_cmp(a, b) == 0
    if isinstance(a, list):
        if len(a) != len(b):
            return False
        results = [equal(x, y) for x, y in zip(a, b)]
        if any(r is False for r in results):
            return False
        unknowns = [r for r in results if is_unknown(r)]
        return union(*unknowns) if unknowns else True
    return a == b


class Ref:
    """``cost`` counts the list items visited, as the engine's ``eval.limit.cost`` does: every item of a list that
    is filtered, projected (``xs.field``), searched by ``in`` (not a bracketed list of literals) or aggregated by
    ``sum avg min max any all`` (not ``count``), each time it is evaluated (a definition at each use)."""

    def __init__(self, env: dict, today: date, definitions: dict | None = None, max_cost: int | None = None):
        self.env, self.today, self.definitions = env, today, definitions or {}
        self.frames: list[dict] = []
        self.cost, self.max_cost = 0, max_cost

    def visit(self, xs) -> None:
        if isinstance(xs, list):
            self.cost += len(xs)
            if self.max_cost is not None and self.cost > self.max_cost:
                raise RefCostError("too many list items visited")

    def ev(self, n: N.Node):  # noqa: C901 - one case per node
        if isinstance(n, (N.Number, N.String, N.Boolean, N.DateLit, N.DurationLit)):
            return n.value
        if isinstance(n, N.Name):
            for frame in reversed(self.frames):
                if n.name in frame.get("__fields__", ()):
                    return frame["item"].get(n.name, Unknown(frozenset({n.name})))
            if n.name == "today":
                return self.today
            if n.name in self.env:
                return self.env[n.name]
            return self.ev(self.definitions[n.name])
        if isinstance(n, N.ListLit):
            return [self.ev(i) for i in n.items]
        if isinstance(n, N.Not):
            v = self.ev(n.operand)
            return v if is_unknown(v) else not v
        if isinstance(n, N.BoolOp):
            unknowns = []
            for op in n.operands:
                v = self.ev(op)
                if n.op == "and" and v is False:
                    return False
                if n.op == "or" and v is True:
                    return True
                if is_unknown(v):
                    unknowns.append(v)
            return union(*unknowns) if unknowns else (n.op == "and")
        if isinstance(n, N.Neg):
            v = self.ev(n.operand)
            return v if is_unknown(v) else -v
        if isinstance(n, N.Arith):
            vals = [self.ev(o) for o in n.operands]
            if any(is_unknown(v) for v in vals):
                return union(*vals)
            acc = vals[0]
            for op, v in zip(n.ops, vals[1:]):
                acc = self.arith(op, acc, v)
            return acc
        if isinstance(n, N.Compare):
            a, b = self.ev(n.left), self.ev(n.right)
            if n.op in ("in", "not_in"):
                if not (isinstance(n.right, N.ListLit) and
                        all(isinstance(i, (N.String, N.Number, N.DateLit)) for i in n.right.items)):
                    self.visit(b)
                if is_unknown(a):
                    return a
                if is_unknown(b):
                    return b
                found, unknowns = False, []
                for item in b:
                    e = equal(a, item)
                    if is_unknown(e):
                        unknowns.append(e)
                    elif e:
                        found = True
                res = True if found else (union(*unknowns) if unknowns else False)
                return res if n.op == "in" or is_unknown(res) else not res
            if is_unknown(a) or is_unknown(b):
                return union(a, b)
            if isinstance(a, Duration):
                c = dur_cmp(a, b)
            elif n.op in ("==", "!="):
                e = equal(a, b)
                if is_unknown(e):
                    return e
                c = 0 if e else 1
            else:
                c = (a > b) - (a < b)
            return {"==": c == 0, "!=": c != 0, "<": c < 0, "<=": c <= 0, ">": c > 0, ">=": c >= 0}[n.op]
        if isinstance(n, N.If):
            c = self.ev(n.cond)
            if is_unknown(c):
                return c
            return self.ev(n.then) if c else self.ev(n.else_)
        if isinstance(n, N.Call):
            return self.call(n)
        if isinstance(n, N.Filter):
            src = self.ev(n.source)
            if is_unknown(src):
                return src
            self.visit(src)
            out, unknowns = [], []
            for item in src:
                self.frames.append({"item": item, "__fields__": self.fields_of(n)})
                try:
                    p = self.ev(n.predicate)
                finally:
                    self.frames.pop()
                if p is True:
                    out.append(item)
                elif is_unknown(p):
                    unknowns.append(p)
            return union(*unknowns) if unknowns else out
        if isinstance(n, N.Field):
            t = self.ev(n.target)
            if is_unknown(t):
                return t
            if isinstance(t, list):
                self.visit(t)
                return [x.get(n.name, Unknown(frozenset({n.name}))) for x in t]
            return t.get(n.name, Unknown(frozenset({n.name})))
        raise AssertionError(n)

    def fields_of(self, n: N.Filter):
        """The declared fields of the filtered items: by the name of the list filtered (``self.list_fields``, also
        through filters of filters), else given by the test (``self.item_fields``)."""
        src = n.source
        while isinstance(src, N.Filter):
            src = src.source
        if isinstance(src, N.Name) and src.name in self.list_fields:
            return self.list_fields[src.name]
        return self.item_fields

    item_fields: frozenset = frozenset()
    list_fields: dict = {}

    def arith(self, op, a, b):
        if op == "+":
            if isinstance(a, date):
                return add_duration(a, b, 1)
            if isinstance(b, date):
                return add_duration(b, a, 1)
            if isinstance(a, Duration):
                return Duration(a.months + b.months, a.days + b.days)
            return a + b
        if op == "-":
            if isinstance(a, date) and isinstance(b, date):
                return Duration(0, (a - b).days)
            if isinstance(a, date):
                return add_duration(a, b, -1)
            if isinstance(a, Duration):
                return Duration(a.months - b.months, a.days - b.days)
            return a - b
        if op == "*":
            if isinstance(a, Duration):
                return Duration(a.months * int(b), a.days * int(b))
            if isinstance(b, Duration):
                return Duration(b.months * int(a), b.days * int(a))
            return a * b
        if b == 0:
            raise RefError("division by zero")
        return Decimal(a) / Decimal(b)

    def call(self, n: N.Call):
        args = [self.ev(a) for a in n.args]
        f = n.func
        if f in ("min", "max") and len(args) > 1:
            args = [args]
        if f in ("count",):
            return args[0] if is_unknown(args[0]) else len(args[0])
        if f in ("known", "connu"):  # spelt out here, not through the engine's alias table
            return not is_unknown(args[0])
        if any(is_unknown(a) for a in args):
            return union(*args)
        if f == "days_between":
            return (args[1] - args[0]).days
        if f == "months_between":
            return whole_months(args[0], args[1])
        if f == "age":
            return whole_years(args[0], args[1])
        if f == "round":
            places = int(args[1]) if len(args) > 1 else 0
            if not 0 <= places <= 12:
                raise RefError("round range")
            return Decimal(args[0]).quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_UP)
        xs = args[0]
        if len(n.args) == 1:  # min(a, b, ...) of several arguments visits no list
            self.visit(xs)
        if any(is_unknown(x) for x in xs) and f not in ("any", "all"):
            return union(*xs)
        if f == "sum":
            if xs and isinstance(xs[0], Duration):
                return Duration(sum(x.months for x in xs), sum(x.days for x in xs))
            return sum(xs, 0)
        if f in ("min", "max", "avg") and not xs:
            raise RefError("empty")
        if f == "avg":
            return Decimal(sum(xs, 0)) / len(xs)
        if f in ("min", "max"):
            best = xs[0]
            for x in xs[1:]:
                c = dur_cmp(x, best) if isinstance(x, Duration) else (x > best) - (x < best)
                if (c < 0 and f == "min") or (c > 0 and f == "max"):
                    best = x
            return best
        if f == "any":
            if True in [x is True for x in xs]:
                return True
            unk = [x for x in xs if is_unknown(x)]
            return union(*unk) if unk else False
        if f == "all":
            if any(x is False for x in xs):
                return False
            unk = [x for x in xs if is_unknown(x)]
            return union(*unk) if unk else True
        raise AssertionError(f)


def reference_evaluate(node: N.Node, env: dict, today: date, item_fields=frozenset(), definitions=None,
                       list_fields=None, max_cost=None, costs: list | None = None):
    """``definitions``: name -> parsed AST, evaluated where used (item fields in scope inside `where`);
    ``list_fields``: list name -> the fields of its items (else ``item_fields`` for every filter); ``costs``: gets
    the number of list items visited appended (also when an error is raised)."""
    r = Ref(env, today, definitions, max_cost)
    r.item_fields = frozenset(item_fields)
    r.list_fields = {k: frozenset(v) for k, v in (list_fields or {}).items()}
    try:
        return r.ev(node)
    finally:
        if costs is not None:
            costs.append(r.cost)
