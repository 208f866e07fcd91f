"""Code generation of ``xs where p`` (a mixin of the compiler's generator, `engine/expr/codegen.py`).

The plain loop visits every item and keeps those for which ``p`` is true; the filter is unknown when ``p`` is
unknown on an item (the union of the unknowns met). Three faster forms give the same items in the same order,
the same unknowns and the same errors, and the cost count is the same (``len(xs)`` before visiting):

- ``xs where a and b and ...``: the loop body ``continue``s at the first false operand (no per-item block);
- ``xs where a and b...`` when ``xs where a`` was computed before at a point that always runs first and gave a
  list (not unknown): the loop runs over that list with ``b...`` only (an item is kept iff ``a`` is true on it);
- ``xs where field == "text" [and ...]`` when every item of ``xs`` is a record holding a text in ``field``
  (``runtime.all_texts``, checked once per call for a list attribute): the items are picked by a comprehension.

A form that keeps the plain loop as its fallback writes the rest of the predicate twice; it is not used when the
rest holds a filter (no nesting of duplicated code).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from engine.expr import nodes as N
from engine.expr import runtime as R
from engine.expr.analysis import type_test
from engine.expr.types import DATE, Annotations, ListType, is_numeric, is_text

_FLIP = {"==": "==", "!=": "!=", "<": ">", "<=": ">=", ">": "<", ">=": "<="}
_DATES = frozenset((date,))
_NUMBERS = frozenset((int, Decimal))
_TEXTS = frozenset((str,))


class FilterGen:
    def _filter(self, node: N.Filter, ann: Annotations, r: str) -> tuple[str, bool]:
        s, smu = self.gen(node.source, ann)
        st = ann.types[id(node.source)]
        self.span = node.span
        if not isinstance(st, ListType):
            checked = self.tmp()
            self.emit(f"{checked} = _as_list({s})")
            s, smu = checked, True
        if smu:
            self.guard([s], r)
        acc = self.tmp()
        it = f"_it{len(self.frames)}"
        claimed = []
        if self.facts is not None:  # loop invariants of the predicate: computed once, on first use
            for inv, a in self.facts.invariants(node.predicate, ann, len(self.frames), self.lazy):
                self.nh += 1
                slot = self.lazy[(id(inv), id(a))] = f"_h{self.nh}"
                claimed.append((id(inv), id(a)))
                self.emit(f"{slot} = _NS")  # reset here, on the one path that leads to this loop's code
        try:
            return self._filter_code(node, ann, r, s, smu, acc, it)
        finally:  # the slots belong to this copy of the loop's code (a fallback copy gets its own)
            for p in claimed:
                del self.lazy[p]

    def _filter_code(self, node: N.Filter, ann: Annotations, r: str, s: str, smu: bool, acc: str, it: str):
        self.emit(f"cost += len({s})")
        self.emit("if cost > _MAX: _cost_error()")
        self.emit(f"{acc} = None")
        pred = node.predicate
        prefix = self._prefix(node, ann)
        fast = type_test(pred, ann, len(self.frames), self.facts) if self.facts is not None and prefix is None \
            else None
        if prefix is not None:  # `xs where a and b...` after `xs where a` (a list): over that list, with b...
            pv, pvmu = prefix
            if pvmu:
                self.emit(f"if {pv}.__class__ is not _U:")
                self._open()
            self.emit(f"{r} = []")
            pmu = self._filter_loop(pv, pred.operands[1:], ann, it, r, acc)
            if pvmu:
                self._close()
                self.emit("else:")
                self._open()
                fast = prefix  # the plain loop follows, in the else branch
            else:
                if pmu:
                    self.emit(f"if {acc} is not None: {r} = {acc}")
                if smu:
                    self._close()
                return r, smu or pmu
        elif fast is not None:  # `xs where type == "x" [and ...]`: pick the items at C speed when every type is a text
            field, text, rest = fast
            ref = ann.refs.get(id(node.source)) if isinstance(node.source, N.Name) else None
            if ref is not None and ref[0] == "env":  # the same list all along the call: checked once
                ok = self.value_slot(ref[1], field)
                key = R.index_key(ref[1], field)  # an index the binder may give (runtime.index_by_text)
                self.emit(f"if {ok} is _NS: {ok} = _text_index(env, {key!r}, {s}, {field!r})")
            else:
                ok = self.tmp()
                self.emit(f"{ok} = _all_texts({s}, {field!r})")
            self.emit(f"if {ok}:")
            self._open()
            c = self.const(text)
            comp = f"[_x for _x in {s} if _x[{field!r}] == {c}]"
            if ref is not None and ref[0] == "env":  # an index (dict) or True
                sub = f"{ok}.get({c}, ()) if {ok}.__class__ is dict else {comp}"
                copy = f"list({ok}.get({c}, ())) if {ok}.__class__ is dict else {comp}"
            else:
                sub = copy = comp
            if rest:
                self.emit(f"{r} = []")
                by_date = (ok, s, R.sorted_key(ref[1], "date")) if ref is not None and ref[0] == "env" else None
                pmu = self._filter_loop(f"({sub})" if sub is not comp else sub, rest, ann, it, r, acc,
                                        by_date=by_date)
            else:
                self.emit(f"{r} = {copy}")
                pmu = False
            self._close()
            self.emit("else:")
            self._open()
        self.emit(f"{r} = []")
        if isinstance(pred, N.BoolOp) and pred.op == "and" and (id(pred), id(ann)) not in self.lazy:
            pmu2 = self._filter_loop(s, pred.operands, ann, it, r, acc)
        else:
            loop = self._plain_loop if fast is not None else self._filter_loop  # (fast: the fallback)
            pmu2 = loop(s, None, ann, it, r, acc, pred)
        if fast is not None:
            self._close()
            pmu = pmu or pmu2
        else:
            pmu = pmu2
        if pmu:
            self.emit(f"if {acc} is not None: {r} = {acc}")
        if smu:
            self._close()
        return r, smu or pmu

    def _prefix(self, node: N.Filter, ann: Annotations):
        """(value, may be unknown) of ``xs where a`` when computed before (always) for ``node`` = ``xs where a and
        b...``: an item is kept by ``node`` iff ``a`` is true on it (never unknown then) and then ``b...``. Not
        when ``a`` visits lists (cost) or ``b...`` holds a filter (its code is written twice)."""
        pred = node.predicate
        facts = self.facts
        if facts is None or not (isinstance(pred, N.BoolOp) and pred.op == "and") or \
                (id(pred), id(ann)) in self.lazy or facts.costly(pred.operands[0], ann) or \
                any(facts.holds_filter(op, ann) for op in pred.operands[1:]):
            return None
        key = facts.prefix_key(node, ann)
        for region in reversed(self.avail):
            hit = region.get(key)
            if hit is not None:
                return hit[0], hit[1]
        return None

    def _filter_loop(self, src: str, operands, ann: Annotations, it: str, r: str, acc: str, pred=None,
                     by_date=None) -> bool:
        """``for it in src:`` appending to ``r`` the items for which ``pred`` is true, or every one of ``operands``
        (an ``and``); unknowns are gathered in ``acc``. Returns whether the predicate may be unknown. ``by_date``:
        ``(index slot, list, key)`` when ``src`` is a sublist of the binder's index of that list (see
        :meth:`_date_slice`)."""
        if by_date is not None and operands is not None:
            bounds = self._date_bounds(operands, ann)
            if bounds is not None:
                return self._date_slice(src, operands, bounds, by_date, ann, it, r, acc)
        single = operands[0] if operands is not None and len(operands) == 1 else pred
        simple = self._field_compare(single, ann) if isinstance(single, N.Compare) else None
        if simple is not None:
            return self._compare_comprehension(src, single, simple, ann, it, r, acc)
        return self._plain_loop(src, operands, ann, it, r, acc, pred)

    def _field_compare(self, node: N.Compare, ann: Annotations):
        """``(field, python operator, other side, kinds)`` when ``node`` compares a field of the current item with a
        value that does not depend on it (nor visits a list), both of one static kind (dates, numbers, or texts
        with == / !=); None otherwise."""
        facts, frame = self.facts, len(self.frames)
        if facts is None or node.op not in _FLIP:
            return None
        for a, b, op in ((node.left, node.right, node.op), (node.right, node.left, _FLIP[node.op])):
            ref = ann.refs.get(id(a)) if isinstance(a, N.Name) else None
            if ref is None or ref[0] != "item" or ref[1] != frame:
                continue
            if facts.max_frame(b, ann) >= frame or facts.costly(b, ann):
                return None
            ta, tb = ann.types[id(a)], ann.types[id(b)]
            if ta == DATE and tb == DATE:
                kinds = _DATES
            elif is_numeric(ta) and is_numeric(tb):
                kinds = _NUMBERS
            elif is_text(ta) and is_text(tb) and op in ("==", "!="):
                kinds = _TEXTS
            else:
                return None
            return ref[2], op, b, kinds
        return None

    def _compare_comprehension(self, src: str, node: N.Compare, simple, ann: Annotations, it: str, r: str,
                               acc: str) -> bool:
        """``xs where field > e`` (e not reading the item): when the list is not empty, ``e`` is computed (as the
        loop would on the first item) and, if it and every item's ``field`` are known values of the compared kind,
        the items are picked by a comprehension (same items, same order, no unknown); else the plain loop."""
        field, op, other, kinds = simple
        items = self.tmp()
        self.emit(f"{items} = {src}")
        self.emit(f"if {items}:")
        self._open()
        saved = self.span
        v, _ = self.gen(other, ann)
        self.span = saved
        ks = self.const(kinds)
        self.emit(f"if {v}.__class__ in {ks} and _all_kinds({items}, {field!r}, {ks}):")
        self._open()
        self.emit(f"{r} = [_x for _x in {items} if _x[{field!r}] {op} {v}]")
        self._close()
        self.emit("else:")
        self._open()
        self.emit(f"{r} = []")
        pmu = self._plain_loop(items, None, ann, it, r, acc, node)
        self._close()
        self._close()
        self.emit(f"else: {r} = []")
        return pmu

    def _date_bounds(self, operands, ann: Annotations):
        """``[(python operator, other side)]`` when every operand compares the item's ``date`` with a date that does
        not depend on the item (``<``, ``<=``, ``>``, ``>=``, ``==``); after the first, the other side must be a
        literal or an input (computing it cannot fail, as the loop would not compute it when an earlier operand is
        false on every item). None otherwise."""
        out = []
        for i, op in enumerate(operands):
            simple = self._field_compare(op, ann) if isinstance(op, N.Compare) else None
            if simple is None or simple[0] != "date" or simple[3] is not _DATES or simple[1] == "!=":
                return None
            other = simple[2]
            if i and not (isinstance(other, N.DateLit) or isinstance(other, N.Name) and
                          (ann.refs.get(id(other)) or ("",))[0] == "env"):
                return None
            out.append((simple[1], other))
        return out

    def _date_slice(self, src: str, operands, bounds, by_date, ann: Annotations, it: str, r: str, acc: str) -> bool:
        """``events where type == "x" and date <= d ...`` over the binder's index: the binding sorts the events by
        date (stable) and gives each a date, and says so (``env[runtime.sorted_key("events", "date")]`` is that
        list), so the events of a type are sorted too and the items kept are a slice, found by bisection (same
        items, same order, no unknown). When that does not hold or a bound is not a date, the ordinary code."""
        ok, whole, key = by_date
        items = self.tmp()
        self.emit(f"{items} = {src}")
        self.emit(f"if {items}:")
        self._open()
        saved = self.span
        vs = []
        for _op, other in bounds:
            v, _ = self.gen(other, ann)
            vs.append(v)
        self.span = saved
        known = " and ".join(f"{v}.__class__ is _date" for v in vs)
        self.emit(f"if {ok}.__class__ is dict and env.get({key!r}) is {whole} and {known}:")
        self._open()
        lo, hi = self.tmp(), self.tmp()
        self.emit(f"{lo} = 0; {hi} = len({items})")
        for (op, _), v in zip(bounds, vs):
            if op in ("<=", "=="):
                if op == "==":
                    self.emit(f"{lo} = _bisect_left({items}, {v}, {lo}, {hi}, key=_DATE_OF)")
                self.emit(f"{hi} = _bisect_right({items}, {v}, {lo}, {hi}, key=_DATE_OF)")
            elif op == "<":
                self.emit(f"{hi} = _bisect_left({items}, {v}, {lo}, {hi}, key=_DATE_OF)")
            elif op == ">=":
                self.emit(f"{lo} = _bisect_left({items}, {v}, {lo}, {hi}, key=_DATE_OF)")
            else:  # >
                self.emit(f"{lo} = _bisect_right({items}, {v}, {lo}, {hi}, key=_DATE_OF)")
        self.emit(f"{r} = {items}[{lo}:{hi}]")
        self._close()
        self.emit("else:")
        self._open()
        self.emit(f"{r} = []")
        pmu = self._filter_loop(items, operands, ann, it, r, acc)
        self._close()
        self._close()
        self.emit(f"else: {r} = []")
        return pmu

    def _plain_loop(self, src: str, operands, ann: Annotations, it: str, r: str, acc: str, pred=None) -> bool:
        self.emit(f"for {it} in {src}:")
        self._open()
        self.frames.append(it)
        try:
            if operands is not None:
                return self._filter_and(operands, ann, it, r, acc)
            p, pmu = self._gen_bool(pred, ann)
            self.emit(f"if {p} is True: {r}.append({it})")
            if pmu:
                self.emit(f"elif {p} is not False: {acc} = {p} if {acc} is None else {acc} | {p}")
            return pmu
        finally:
            self.frames.pop()
            self._close()

    def _filter_and(self, operands, ann: Annotations, it: str, r: str, acc: str) -> bool:
        """Loop body of ``xs where a and b and ...``: ``continue`` at the first false operand (no per-item block);
        the item is kept when every operand is true, and makes the filter unknown when none is false but one is
        unknown (the union of the unknowns met, as the Kleene ``and`` gives)."""
        p = self.tmp()
        self.emit(f"{p} = None")
        any_mu = False
        span = self.span
        for i, op in enumerate(operands):
            if i == 1:
                self.avail.append({})  # the operands after the first run only if the first is not false
            a, mu = self._gen_bool(op, ann)
            self.span = span
            self.emit(f"if {a} is False: continue")
            if mu:
                any_mu = True
                self.emit(f"if {a} is not True: {p} = {a} if {p} is None else {p} | {a}")
        if len(operands) > 1:
            self.avail.pop()
        if any_mu:
            self.emit(f"if {p} is None: {r}.append({it})")
            self.emit(f"else: {acc} = {p} if {acc} is None else {acc} | {p}")
        else:
            self.emit(f"{r}.append({it})")
        return any_mu
