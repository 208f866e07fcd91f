"""The code generator of the expression compiler: a checked, annotated AST -> the Python source of one function
(:mod:`engine.expr.compiler` builds, caches and positions it).

The code generator writes Python source made only of: temporaries (``_t12``), loop variables, constants it
created itself (``_c3``, bound in the function's namespace: decimals, dates, texts, durations...), ``repr`` of
attribute/field names (identifiers matched by the grammar) used as dict keys ``env['rsa']`` / ``it.get('mode')``,
and calls to runtime helpers. User text never reaches ``exec``; field access on records is a dict lookup.

Each AST node becomes a few statements assigning a temporary; Kleene logic is inlined (``x.__class__ is _U``
checks only where a value may be unknown; ``and``/``or`` are ``while True: ... break`` blocks that stop at the
first deciding operand, so the right-hand operands are not evaluated when not needed). Run-time errors (division
by zero, dates out of range, duration units that cannot be compared, the evaluation-cost limit) are positioned
from the line of generated code that failed (a table line -> source span), at no cost when nothing fails.

Work is saved without changing any result (docs/expressions.md, "What the compiler does to be fast"): a sub-expression whose
twin was computed at a point that always runs before is reused (``gen``: one table of available values per region
of code that may not run; keys from `engine/expr/analysis.py`, by place: a definition's tree is shared by its
uses); a loop invariant of a ``where`` predicate is computed on its first use in that copy of the loop's code (a
``_h`` slot reset just before it); a definition used several times is written once as a function ``_fN``, memoised
for the call in the list ``_m`` when it reads no item around it (docs/compiler.md); the faster forms of ``where``
are in `engine/expr/compiler_filter.py`.

The namespace every generated function starts from is :data:`BASE_NS` (the runtime helpers it calls, under short
names); :func:`get_field`, :func:`as_list` and :func:`item_get` are also what the tracer of ``engine explain``
evaluates with, so that both read records the same way.
"""


from __future__ import annotations

from bisect import bisect_left, bisect_right
from datetime import date, timedelta
from decimal import Decimal
from operator import itemgetter

from engine.expr import nodes as N
from engine.expr import runtime as R
from engine.errors import ExpressionError, TextOrigin
from engine.expr.compiler_filter import FilterGen
from engine.expr.analysis import Facts
from engine.expr.types import (ANY, BOOLEAN, DATE, DURATION, ALIASES, Annotations, ListType, RecordType, arith_type,
                               is_numeric, unify)

MAX_INDENT = 90
_LITERALS = (N.Number, N.String, N.Boolean, N.DateLit, N.DurationLit)
_NOT_SET = object()  # an invariant's slot before its first use



def _cost_exceeded():
    raise R.DynamicTypeError(f"évaluation trop coûteuse : plus de {R.MAX_COST:,} éléments de listes parcourus".replace(",", "\u202f"),
                             hint="simplifiez l'expression ou réduisez les données", code="eval.limit.cost")


def get_field(v, name):
    if v.__class__ is R.Unknown:
        return v
    if v.__class__ is dict:
        return v.get(name, R.unknown(name))
    if v.__class__ is list:
        return [get_field(x, name) for x in v]
    raise R.DynamicTypeError(f"impossible de prendre le champ « {name} » {R.of_kind(v)}")


def as_list(v):
    if v.__class__ is list or v.__class__ is R.Unknown:
        return v
    raise R.DynamicTypeError(f"une liste est attendue, pas {R.kind(v)}")


def item_get(it, name):
    if it.__class__ is dict:
        return it.get(name, R.unknown(name))
    raise R.DynamicTypeError(f"impossible de prendre le champ « {name} » {R.of_kind(it)}")


def _days_between(a, b):
    return R.days_between(a, b)


BASE_NS = {
    "_U": R.Unknown, "_unk": R.unknown_of, "_D": Decimal, "_Dur": R.Duration, "_add_dur": R.add_duration,
    "_cmpdur": R.compare_durations, "_compare": R.compare, "_contains": R.contains, "_as_bool": R.as_bool,
    "_arith": R.arith, "_negate": R.negate, "_whole": R._whole, "_months_between": R.months_between,
    "_age": R.age, "_days_between": _days_between, "_round": R.round_half_up, "_count": R.agg_count,
    "_sum": R.agg_sum, "_avg": R.agg_avg, "_minmax": R.agg_minmax, "_any": R.agg_any, "_all": R.agg_all,
    "_MAX": R.MAX_COST, "_cost_error": _cost_exceeded, "_field": get_field, "_as_list": as_list,
    "_item_get": item_get, "_values_equal": R.values_equal, "_NS": _NOT_SET,
    "_all_texts": R.all_texts, "_all_kinds": R.all_kinds, "_text_index": R.text_index,
    "_bisect_left": bisect_left, "_bisect_right": bisect_right, "_DATE_OF": itemgetter("date"), "_date": date,
}


class _Gen(FilterGen):
    def __init__(self, text: str, origin: TextOrigin):
        self.lines: list[str] = []
        self.where: list[tuple] = []  # per line: (text, origin, span)
        self.ind = 2
        self.n = 0
        self.consts: dict = {}
        self.ns: dict = dict(BASE_NS)
        self.frames: list[str] = []
        self.text, self.origin = text, origin
        self.main_origin = origin
        self.span = (0, len(text))
        self.facts: Facts | None = None  # set by _compile before generating
        self.avail: list[dict] = [{}]  # per open region: key -> (value, may be unknown, cost counter or None)
        self.lazy: dict[tuple, str] = {}  # place -> slot of a loop invariant computed on first use (see _filter)
        self.nh = 0  # loop-invariant slots made so far (_h1, _h2, ...)
        self.value_slots: dict[tuple, str] = {}  # (list name, field) -> are all its values texts (see _filter)
        self.functions: dict[int, tuple] = {}  # def_key -> (function name, may be unknown, memo slots, free frames)
        self.function_code: list[tuple[list, list]] = []  # (lines, where) of each definition's function
        self.in_function = False
        self.m_slots = 0  # size of the per-call list _m (memoised definitions, and value slots inside functions)
        self.m_value_slots: dict[tuple, str] = {}

    # -- helpers
    def emit(self, line: str, span=None) -> None:
        if self.ind > MAX_INDENT:
            raise ExpressionError(self.origin.diagnostic(
                self.text, self.span[0], "expression trop imbriquée une fois ses définitions remplacées",
                hint="simplifiez les définitions qu'elle utilise", code="expr.limit.depth"))
        self.lines.append("    " * self.ind + line)
        self.where.append((self.text, self.origin, span or self.span))

    def tmp(self) -> str:
        self.n += 1
        return f"_t{self.n}"

    def const(self, value) -> str:
        key = (value.__class__, value if not isinstance(value, (list, dict)) else repr(value))
        name = self.consts.get(key)
        if name is None:
            name = f"_c{len(self.consts)}"
            self.consts[key] = name
            self.ns[name] = value
        return name

    def _gen_bool(self, node: N.Node, ann: Annotations) -> tuple[str, bool]:
        """``gen`` of a condition: an ANY-typed value goes through a fresh temporary checked to be a yes/no value
        or unknown (so it may then be unknown)."""
        a, mu = self.gen(node, ann)
        if ann.types[id(node)] != ANY:
            return a, mu
        t = self.tmp()
        self.emit(f"{t} = _as_bool({a})")
        return t, True

    def _open(self) -> None:
        """Indent into a region that may not run: values computed inside are not reused after it."""
        self.ind += 1
        self.avail.append({})

    def _close(self) -> None:
        self.ind -= 1
        self.avail.pop()

    def guard(self, vals: list[str], r: str) -> None:
        """Emit `if any of vals is unknown: r = union` / `else:` and indent; caller dedents."""
        if len(vals) == 1:
            self.emit(f"if {vals[0]}.__class__ is _U: {r} = {vals[0]}")
        elif len(vals) <= 4:
            self.emit("if " + " or ".join(f"{v}.__class__ is _U" for v in vals) + f": {r} = _unk({', '.join(vals)})")
        else:
            tup = "(" + ", ".join(vals) + ",)"
            self.emit(f"if any(_x.__class__ is _U for _x in {tup}): {r} = _unk(*{tup})")
        self.emit("else:")
        self._open()

    # -- nodes
    def gen(self, node: N.Node, ann: Annotations) -> tuple[str, bool]:
        """Emit the statements of ``node``; return (python expression of its value, may it be unknown).

        A node whose twin (same key, see engine/expr/analysis.py) was computed at a point that always runs before
        this one reuses its value (adding the list items the twin visited to the cost count); a loop invariant
        marked by ``_filter`` is computed on first use in the loop and kept in its slot."""
        saved = self.span
        self.span = node.span
        try:
            facts = self.facts
            if facts is None or isinstance(node, _LITERALS):
                return self._gen(node, ann)
            key = facts.key(node, ann)
            shared = facts.count.get(key, 0) > 1
            if shared:
                for region in reversed(self.avail):
                    hit = region.get(key)
                    if hit is not None:
                        v, mu, k = hit
                        if k is not None:
                            self.emit(f"cost += {k}")
                            self.emit("if cost > _MAX: _cost_error()")
                        return v, mu
            slot = self.lazy.get((id(node), id(ann)))
            if slot is not None:
                self.emit(f"if {slot} is _NS:")
                self._open()
                v, mu = self._gen(node, ann)
                self.emit(f"{slot} = {v}")
                self._close()
                if shared:
                    self.avail[-1][key] = (slot, mu, None)
                return slot, mu
            k = None
            if shared and facts.costly(node, ann):
                k = self.tmp()
                self.emit(f"{k} = cost")
            v, mu = self._gen(node, ann)
            if shared:
                if k is not None:
                    self.emit(f"{k} = cost - {k}")
                self.avail[-1][key] = (v, mu, k)
            return v, mu
        finally:
            self.span = saved

    def _gen(self, node: N.Node, ann: Annotations) -> tuple[str, bool]:  # noqa: C901
        ty = ann.types[id(node)]
        if isinstance(node, N.Number):
            v = node.value
            return (f"({v!r})" if isinstance(v, int) else self.const(v)), False
        if isinstance(node, N.Boolean):
            return repr(node.value), False
        if isinstance(node, (N.String, N.DateLit, N.DurationLit)):
            return self.const(node.value), False
        if isinstance(node, N.Name):
            return self._name(node, ann)
        r = self.tmp()
        if isinstance(node, N.ListLit):
            items = [self.gen(i, ann)[0] for i in node.items]
            self.emit(f"{r} = [{', '.join(items)}]")
            return r, False
        if isinstance(node, N.Not):
            a, mu = self._gen_bool(node.operand, ann)
            self.emit(f"{r} = {a} if {a}.__class__ is _U else not {a}" if mu else f"{r} = not {a}")
            return r, mu
        if isinstance(node, N.BoolOp):
            return self._boolop(node, ann, r)
        if isinstance(node, N.Neg):
            a, mu = self.gen(node.operand, ann)
            if mu:
                self.guard([a], r)
            self.emit(f"{r} = _negate({a})" if ty == ANY else f"{r} = -{a}")
            if mu:
                self._close()
            return r, mu
        if isinstance(node, N.Arith):
            return self._arith(node, ann, r)
        if isinstance(node, N.Compare):
            return self._compare(node, ann, r)
        if isinstance(node, N.If):
            c, cmu = self._gen_bool(node.cond, ann)
            self.emit(f"if {c} is True:" if cmu else f"if {c}:")
            self._open()
            a, amu = self.gen(node.then, ann)
            self.emit(f"{r} = {a}")
            self._close()
            self.emit(f"elif {c} is False:" if cmu else "else:")
            self._open()
            b, bmu = self.gen(node.else_, ann)
            self.emit(f"{r} = {b}")
            self._close()
            if cmu:
                self.emit(f"else: {r} = {c}")
            return r, cmu or amu or bmu
        if isinstance(node, N.Call):
            return self._call(node, ann, r)
        if isinstance(node, N.Filter):
            return self._filter(node, ann, r)
        if isinstance(node, N.Field):
            a, mu = self.gen(node.target, ann)
            tt = ann.types[id(node.target)]
            key = repr(node.name)
            miss = self.const(R.unknown(node.name))
            self.span = node.name_span
            if mu:
                self.guard([a], r)
            if isinstance(tt, RecordType):
                self.emit(f"{r} = {a}.get({key}, {miss})")
            elif isinstance(tt, ListType) and isinstance(tt.item, RecordType):
                self.emit(f"cost += len({a})")
                self.emit("if cost > _MAX: _cost_error()")
                self.emit(f"{r} = [_x.get({key}, {miss}) for _x in {a}]")
            else:
                self.emit(f"{r} = _field({a}, {key})")
            if mu:
                self._close()
            return r, True
        raise AssertionError(type(node))

    def _name(self, node: N.Name, ann: Annotations) -> tuple[str, bool]:
        ref = ann.refs[id(node)]
        kind = ref[0]
        if kind == "today":
            return "today", False
        r = self.tmp()
        if kind == "env":
            self.emit(f"{r} = env[{ref[1]!r}]")
            return r, True
        if kind == "item":
            it = self.frames[ref[1]]
            if ann.types[id(node)] == ANY:  # the item may be anything: check it is a record
                self.emit(f"{r} = _item_get({it}, {ref[2]!r})")
            else:
                self.emit(f"{r} = {it}.get({ref[2]!r}, {self.const(R.unknown(ref[2]))})")
            return r, True
        if kind == "def":
            _, name, tree, sub, text, origin = ref
            if self.facts is not None and self.facts.function(node, ann):
                return self._call_definition(node, ann, r)
            saved = (self.text, self.origin)
            self.text, self.origin = text, origin
            try:
                return self.gen(tree, sub)
            finally:
                self.text, self.origin = saved
        raise AssertionError(ref)

    # -- definitions compiled once, as functions of their own
    def m_slot(self) -> str:
        """A new entry of the per-call list ``_m`` (``_NS`` until set)."""
        self.m_slots += 1
        return f"_m[{self.m_slots - 1}]"

    def value_slot(self, name: str, field: str) -> str:
        """The slot that holds, for one call, whether every item of the list ``name`` has a text in ``field`` (or
        the binder's index of it): a local of the main function, an entry of ``_m`` inside a definition's."""
        if self.in_function:
            slot = self.m_value_slots.get((name, field))
            if slot is None:
                slot = self.m_value_slots[(name, field)] = self.m_slot()
            return slot
        slot = self.value_slots.get((name, field))
        if slot is None:
            slot = self.value_slots[(name, field)] = f"_ok{len(self.value_slots)}"
        return slot

    def _call_definition(self, node: N.Name, ann: Annotations, r: str) -> tuple[str, bool]:
        """A definition used several times (``Facts.function``): its code is written once, as a function
        ``_fN(env, today, cost, _m, items it reads...)`` returning ``(value, cost)``; one that reads no item around
        its uses is memoised for the call in two entries of ``_m`` (its value, and the list items it visited, added
        again to the cost count at each later use, as the plain evaluation visits them again)."""
        facts = self.facts
        dk = facts.def_key(node, ann)
        fn = self.functions.get(dk)
        if fn is None:
            fn = self.functions[dk] = self._function(node, ann)
        name, mu, memo, free = fn
        args = "".join(f", {self.frames[i]}" for i in free)
        if memo is None:
            self.emit(f"{r}, cost = {name}(env, today, cost, _m{args})")
            return r, mu
        value, visited = memo
        self.emit(f"if {value} is _NS: {r}, cost = {name}(env, today, cost, _m)")
        self.emit("else:")
        self.emit(f"    {r} = {value}")
        if visited is not None:
            self.emit(f"    cost += {visited}")
            self.emit("    if cost > _MAX: _cost_error()")
        return r, mu

    def _function(self, node: N.Name, ann: Annotations) -> tuple:
        facts = self.facts
        _, _name, tree, sub, text, origin = ann.refs[id(node)]
        mask = facts.mask(node, ann)
        free = tuple(i for i in range(mask.bit_length()) if mask >> i & 1)
        costly = facts.costly(node, ann)
        memo = None if mask else (self.m_slot(), self.m_slot() if costly else None)
        fname = f"_f{len(self.function_code)}"
        code: tuple[list, list] = ([], [])
        self.function_code.append(code)
        saved = (self.lines, self.where, self.ind, self.avail, self.lazy, self.frames, self.text, self.origin,
                 self.span, self.in_function)
        self.lines, self.where, self.ind, self.avail, self.lazy = code[0], code[1], 1, [{}], {}
        self.frames = [f"_it{i}" for i in range(len(self.frames))]
        self.text, self.origin, self.span, self.in_function = text, origin, tree.span, True
        try:
            params = "".join(f", _it{i}" for i in free)
            self.lines.append(f"def {fname}(env, today, cost, _m{params}):")
            self.where.append(None)
            start = None
            if memo is not None and costly:
                start = self.tmp()
                self.emit(f"{start} = cost")
            v, mu = self.gen(tree, sub)
            if memo is not None:
                self.emit(f"{memo[0]} = {v}")
                if start is not None:
                    self.emit(f"{memo[1]} = cost - {start}")
            self.emit(f"return {v}, cost")
        finally:
            (self.lines, self.where, self.ind, self.avail, self.lazy, self.frames, self.text, self.origin,
             self.span, self.in_function) = saved
        return fname, mu, memo, free

    def _boolop(self, node: N.BoolOp, ann: Annotations, r: str) -> tuple[str, bool]:
        stop = "False" if node.op == "and" else "True"
        go = "True" if node.op == "and" else "False"
        acc = self.tmp()
        self.emit(f"{acc} = None")
        if len(node.operands) <= 4 and self.ind < MAX_INDENT // 2:
            return self._boolop_nested(node, ann, r, acc, stop, go)
        self.emit("while True:")
        self.ind += 1  # the first operand always runs: what it computes stays available after the block
        any_mu = False
        for i, op in enumerate(node.operands):
            if i == 1:
                self.avail.append({})
            a, mu = self._gen_bool(op, ann)
            self.emit(f"if {a} is {stop}: {r} = {stop}; break")
            if mu:
                any_mu = True
                self.emit(f"if {a} is not {go}: {acc} = {a} if {acc} is None else {acc} | {a}")
        self.emit(f"{r} = {go} if {acc} is None else {acc}" if any_mu else f"{r} = {go}")
        self.emit("break")
        self._close()
        return r, any_mu

    def _boolop_nested(self, node: N.BoolOp, ann: Annotations, r: str, acc: str, stop: str, go: str):
        """A short ``and``/``or`` as nested if/else (no loop block: Python allows only 20 nested loops, so
        and/or/where nest deeper this way); the operands after the first run in the else branches."""
        any_mu = False
        depth = 0
        for i, op in enumerate(node.operands):
            a, mu = self._gen_bool(op, ann)
            any_mu = any_mu or mu
            self.emit(f"if {a} is {stop}: {r} = {stop}")
            self.emit("else:")
            self._open()
            depth += 1
            if mu:
                self.emit(f"if {a} is not {go}: {acc} = {a} if {acc} is None else {acc} | {a}")
        self.emit(f"{r} = {go} if {acc} is None else {acc}" if any_mu else f"{r} = {go}")
        for _ in range(depth):
            self._close()
        return r, any_mu

    def _arith(self, node: N.Arith, ann: Annotations, r: str) -> tuple[str, bool]:
        vals, mus, types = [], [], []
        for op in node.operands:
            v, mu = self.gen(op, ann)
            vals.append(v)
            mus.append(mu)
            types.append(ann.types[id(op)])
        unk = [v for v, mu in zip(vals, mus) if mu]
        if unk:
            self.guard(unk, r)
        cur, t = vals[0], types[0]
        for i, (op, span, v, vt) in enumerate(zip(node.ops, node.op_spans, vals[1:], types[1:])):
            self.span = span
            res = arith_type(op, t, vt) or ANY
            if t == ANY or vt == ANY:
                expr = f"_arith({op!r}, {cur}, {v})"
            elif is_numeric(t) and is_numeric(vt):
                expr = f"_D({cur}) / {v}" if op == "/" else f"{cur} {op} {v}"
            elif op in "+-" and t == DATE and self._days_only(node.operands[i + 1]):  # date +/- N days: timedelta
                days = node.operands[i + 1].value.days
                expr = f"{cur} {op} {self.const(timedelta(days=days))}"
            elif op == "+" and t == DATE:
                expr = f"_add_dur({cur}, {v})"
            elif op == "+" and vt == DATE:
                expr = f"_add_dur({v}, {cur})"
            elif op == "-" and t == DATE and vt == DURATION:
                expr = f"_add_dur({cur}, {v}, -1)"
            elif op == "-" and t == DATE and vt == DATE:
                expr = f"_Dur(0, ({cur} - {v}).days)"
            elif op in "+-":
                expr = f"{cur} {op} {v}"
            elif op == "*":
                expr = f"{cur}.scaled(_whole({v}))" if t == DURATION else f"{v}.scaled(_whole({cur}))"
            else:
                expr = f"_arith({op!r}, {cur}, {v})"
            self.emit(f"{r} = {expr}")
            cur, t = r, res
        if unk:
            self._close()
        return r, bool(unk)

    @staticmethod
    def _days_only(node: N.Node) -> bool:
        """A duration literal in days (weeks) only, small enough for a timedelta."""
        return isinstance(node, N.DurationLit) and not node.value.months and abs(node.value.days) <= 999_999_999

    def _compare(self, node: N.Compare, ann: Annotations, r: str) -> tuple[str, bool]:
        a, amu = self.gen(node.left, ann)
        lt, rt = ann.types[id(node.left)], ann.types[id(node.right)]
        op = node.op
        if op in ("in", "not_in"):
            right = node.right
            literal = isinstance(right, N.ListLit) and right.items and all(
                isinstance(i, (N.String, N.Number, N.DateLit)) for i in right.items)
            self.span = node.op_span
            if literal and lt != ANY and lt != DURATION and lt != BOOLEAN:
                s = self.const(frozenset(i.value for i in right.items))
                if amu:
                    self.guard([a], r)
                self.emit(f"{r} = {a} {'in' if op == 'in' else 'not in'} {s}")
                if amu:
                    self._close()
                return r, amu
            b, _ = self.gen(right, ann)
            self.span = node.op_span
            self.emit(f"if {b}.__class__ is list:")
            self.emit(f"    cost += len({b})")
            self.emit("    if cost > _MAX: _cost_error()")
            self.emit(f"{r} = _contains({a}, {b})")
            if op == "not_in":
                self.emit(f"if {r}.__class__ is not _U: {r} = not {r}")
            return r, True
        b, bmu = self.gen(node.right, ann)
        self.span = node.op_span
        unk = [v for v, mu in ((a, amu), (b, bmu)) if mu]
        if unk:
            self.guard(unk, r)
        u = unify(lt, rt)
        pyop = op
        generic = lt == ANY or rt == ANY or isinstance(u, (ListType, RecordType))
        if generic:  # may be unknown even with known operands (lists holding unknowns)
            self.emit(f"{r} = _compare({op!r}, {a}, {b})")
        elif u == DURATION:
            self.emit(f"{r} = _cmpdur({a}, {b}) {pyop} 0")
        else:
            self.emit(f"{r} = {a} {pyop} {b}")
        if unk:
            self._close()
        return r, bool(unk) or generic

    def _call(self, node: N.Call, ann: Annotations, r: str) -> tuple[str, bool]:
        f = ALIASES.get(node.func, node.func)
        args = [self.gen(a, ann) for a in node.args]
        types = [ann.types[id(a)] for a in node.args]
        vals = [v for v, _ in args]
        self.span = node.span
        if f in ("min", "max") and len(vals) > 1:
            self.emit(f"{r} = _minmax([{', '.join(vals)}], {f!r})")
            return r, any(mu for _, mu in args)
        if f == "known":  # whether the argument has a value: true or false, never unknown
            self.emit(f"{r} = {vals[0]}.__class__ is not _U" if args[0][1] else f"{r} = True")
            return r, False
        unk = [v for v, mu in args if mu]
        if unk:
            self.guard(unk, r)
        if f == "days_between":
            if types == [DATE, DATE]:
                self.emit(f"{r} = ({vals[1]} - {vals[0]}).days")
            else:
                self.emit(f"{r} = _days_between({vals[0]}, {vals[1]})")
        elif f == "months_between":
            self.emit(f"{r} = _months_between({vals[0]}, {vals[1]})")
        elif f == "age":
            self.emit(f"{r} = _age({vals[0]}, {vals[1]})")
        elif f == "round":
            self.emit(f"{r} = _round({', '.join(vals)})")
        elif f == "count":
            self.emit(f"{r} = len({vals[0]})" if isinstance(types[0], ListType) else f"{r} = _count({vals[0]})")
        else:
            self.emit(f"if {vals[0]}.__class__ is list:")
            self.emit(f"    cost += len({vals[0]})")
            self.emit("    if cost > _MAX: _cost_error()")
            helper = {"sum": "_sum", "avg": "_avg", "any": "_any", "all": "_all"}.get(f)
            self.emit(f"{r} = {helper}({vals[0]})" if helper else f"{r} = _minmax({vals[0]}, {f!r})")
        if unk:
            self._close()
        may_unknown = bool(unk) or f in ("sum", "avg", "min", "max", "any", "all")
        return r, may_unknown
