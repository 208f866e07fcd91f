"""The tracing interpreter of expressions for `engine explain` (:mod:`engine.beneficiary.explain`): every node of a
checked expression evaluated with the runtime helpers the compiled code calls, each intermediate value kept with its
place in the spec and its source line.

It walks the typed AST (:mod:`engine.expr.nodes`, annotated again by the type checker of :mod:`engine.expr.types`) and
performs every operation with :mod:`engine.expr.runtime`, so it computes the same values the compiled code does;
``engine evaluate`` does not run any of this. Also here: the JSON form of runtime values in a trace (:func:`jv`,
:func:`vtype`) and the small positioned helpers the decision trace shares.
"""

from __future__ import annotations

import operator
from datetime import date
from decimal import Decimal
from typing import Any

from engine.beneficiary import conformance as C
from engine.errors import EngineError
from engine.expr import nodes as N
from engine.expr import runtime as R
from engine.expr.codegen import as_list, get_field, item_get

TRACE_FORMAT = "dispositif-explain/1"

#: what a rule, a deadline or a window may raise while being traced (the compiled code raises the same, positioned)
EVAL_ERRORS = (R.DynamicTypeError, ArithmeticError, ValueError, OverflowError, TypeError, EngineError)

_VARIABLES = {"phase_start": "date d'entrée dans la phase", "transition_date": "date du passage",
              "window_start": "début de la période", "window_end": "fin de la période"}
_PYOPS = {"==": operator.eq, "!=": operator.ne, "<": operator.lt, "<=": operator.le, ">": operator.gt,
          ">=": operator.ge}


# ----------------------------------------------------------------------------------------------- JSON values

def jv(v: Any) -> Any:
    """A runtime value as plain JSON data: dates ``YYYY-MM-DD``, durations ISO 8601 (``P15D``), decimals as exact
    texts (``"0.4"``: JSON numbers would go through floats), unknown as null."""
    c = v.__class__
    if v is None or c is bool or c is int or c is str:
        return v
    if c is Decimal:
        return format(v, "f")
    if c is date:
        return v.isoformat()
    if c is R.Duration:
        return v.iso()
    if c is R.Unknown:
        return None
    if isinstance(v, dict):
        return {str(k): jv(x) for k, x in v.items() if not (isinstance(k, str) and k.startswith("_"))}
    if isinstance(v, (list, tuple)):
        return [jv(x) for x in v]
    if isinstance(v, (set, frozenset)):
        return sorted(jv(x) for x in v)
    return str(v)


def vtype(v: Any) -> str:
    """The kind of a runtime value, as the trace's ``type`` says it."""
    c = v.__class__
    if c is bool:
        return "boolean"
    if c is int:
        return "integer"
    if c is Decimal:
        return "number"
    if c is str:
        return "string"
    if c is date:
        return "date"
    if c is R.Duration:
        return "duration"
    if c is R.Unknown:
        return "unknown"
    if isinstance(v, list):
        return "list"
    if isinstance(v, dict):
        return "record"
    return "other"


def value_names(v) -> list:
    return sorted(getattr(v, "names", ()) or ())


def pos_text(p) -> str | None:
    """``file:line[:col]`` of a model Position, or None."""
    if p is None or getattr(p, "file", None) is None and getattr(p, "line", None) is None:
        return None
    return str(p)


def source_text(source) -> str | None:
    return (str(source) or None) if source is not None else None


def duration_constant(name: str, dur, pos, source, used_in: str) -> dict:
    return {"name": name, "value": jv(dur), "type": "duration", "text": C.fr_duration(dur), "at": pos_text(pos), "source": source_text(source),
            "in": used_in}


# ----------------------------------------------------------------------------------------------- expressions

class Tracer:
    """Evaluates expressions of one spec on one record's environment and records how (a tree of plain dicts).

    ``params_used``/``constants``: what the traced decisions used, filled as expressions are traced."""

    def __init__(self, spec, at: date):
        self.spec = spec
        self.at = at
        self.params_used: dict[str, dict] = {}
        self.constants: dict[tuple, dict] = {}
        self._ann: dict[int, Any] = {}
        self.reads: set | None = None  # attributes read by the current top-level trace
        self.used_in = ""

    # -- entry point
    def trace(self, expr, scope, env: dict, source, used_in: str) -> dict:
        """The trace of a compiled :class:`engine.spec.model.Expr` (checked in ``scope``) on ``env``; a node with
        ``error`` when the evaluation fails (the compiled code fails there too)."""
        from engine.expr.types import Annotations, Checker

        node = expr.compiled.node
        ann = self._ann.get(id(node))
        if ann is None:
            ann = Annotations()
            Checker(scope, expr.text, expr.origin).check(node, ann)
            self._ann[id(node)] = ann
        self.text, self.origin, self.source = expr.text, expr.origin, source_text(source)
        self.env, self.frames = env, []
        self.used_in = used_in
        self.reads = set()
        try:
            _, t = self.ev(node, ann)
        except EVAL_ERRORS as e:
            msg = e.diagnostic.message if isinstance(e, EngineError) else getattr(e, "message", None) or str(e)
            t = self._mk(node, "error", R.unknown(), error=f"erreur d'évaluation : {msg}")
        t["reads"] = sorted(self.reads)
        return t

    # -- helpers
    def _at(self, span) -> str | None:
        o = self.origin
        if o is None:
            return None
        line, col, _ = o.locate(self.text, span[0])
        return f"{o.file or '<spec>'}:{line}:{col}"

    def _mk(self, node, kind: str, value, **extra) -> dict:
        d = {"kind": kind, "expr": self.text[node.span[0]:node.span[1]], "value": jv(value), "type": vtype(value)}
        if value.__class__ is R.Unknown:
            d["missing"] = value_names(value)
        d["at"] = self._at(node.span)
        d["source"] = self.source
        if extra:
            d.update(extra)
        return d

    def _skipped(self, node) -> dict:
        return {"kind": "skipped", "expr": self.text[node.span[0]:node.span[1]], "value": None, "type": "unknown",
                "at": self._at(node.span), "source": self.source, "evaluated": False}

    def _bool(self, node, ann):
        v, t = self.ev(node, ann)
        if ann.types[id(node)] == _any():
            v = R.as_bool(v)
        return v, t

    # -- nodes (the compiler's semantics, engine/expr/codegen.py, one case per node)
    def ev(self, node, ann):  # noqa: C901 - one case per node kind
        from engine.expr.types import ListType, RecordType

        if isinstance(node, (N.Number, N.DateLit, N.DurationLit)):
            v = node.value
            at = self._at(node.span)
            key = (at, self.used_in)
            if key not in self.constants:
                c = {"value": jv(v), "type": vtype(v), "text": getattr(node, "text", None) or jv(v), "at": at,
                     "source": self.source, "in": self.used_in}
                self.constants[key] = c
            return v, self._mk(node, "constant", v)
        if isinstance(node, (N.String, N.Boolean)):
            return node.value, self._mk(node, "literal", node.value)
        if isinstance(node, N.Name):
            return self._name(node, ann)
        if isinstance(node, N.ListLit):
            vals, kids = [], []
            for i in node.items:
                v, t = self.ev(i, ann)
                vals.append(v)
                kids.append(t)
            return vals, self._mk(node, "list", vals, children=kids)
        if isinstance(node, N.Not):
            a, t = self._bool(node.operand, ann)
            v = a if a.__class__ is R.Unknown else not a
            return v, self._mk(node, "not", v, children=[t])
        if isinstance(node, N.BoolOp):
            stop = node.op == "or"  # the value that decides
            acc = None
            kids = []
            v = None
            for k, op in enumerate(node.operands):
                a, t = self._bool(op, ann)
                kids.append(t)
                if a is stop:
                    v = stop
                    kids.extend(self._skipped(o) for o in node.operands[k + 1:])
                    break
                if a is not (not stop):
                    acc = a if acc is None else acc | a
            if v is None:
                v = (not stop) if acc is None else acc
            return v, self._mk(node, node.op, v, children=kids)
        if isinstance(node, N.Neg):
            a, t = self.ev(node.operand, ann)
            if a.__class__ is R.Unknown:
                v = a
            else:
                v = R.negate(a) if ann.types[id(node)] == _any() else -a
            return v, self._mk(node, "negate", v, children=[t])
        if isinstance(node, N.Arith):
            vals, kids = [], []
            for op in node.operands:
                a, t = self.ev(op, ann)
                vals.append(a)
                kids.append(t)
            unk = [a for a in vals if a.__class__ is R.Unknown]
            if unk:
                v = R.unknown_of(*unk)
            else:
                v = vals[0]
                for op, b in zip(node.ops, vals[1:]):
                    v = R.arith(op, v, b)
            return v, self._mk(node, "arith", v, ops=list(node.ops), children=kids)
        if isinstance(node, N.Compare):
            return self._compare(node, ann)
        if isinstance(node, N.If):
            c, ct = self._bool(node.cond, ann)
            if c is True:
                v, bt = self.ev(node.then, ann)
                kids = [ct, bt, self._skipped(node.else_)]
            elif c is False:
                v, bt = self.ev(node.else_, ann)
                kids = [ct, self._skipped(node.then), bt]
            else:
                v = c
                kids = [ct, self._skipped(node.then), self._skipped(node.else_)]
            return v, self._mk(node, "if", v, children=kids)
        if isinstance(node, N.Call):
            return self._call(node, ann)
        if isinstance(node, N.Filter):
            return self._filter(node, ann)
        if isinstance(node, N.Field):
            a, t = self.ev(node.target, ann)
            tt = ann.types[id(node.target)]
            miss = R.unknown(node.name)
            if a.__class__ is R.Unknown:
                v = a
            elif isinstance(tt, RecordType):
                v = a.get(node.name, miss)
            elif isinstance(tt, ListType) and isinstance(tt.item, RecordType):
                v = [x.get(node.name, miss) for x in a]
            else:
                v = get_field(a, node.name)
            return v, self._mk(node, "projection" if isinstance(v, list) else "field", v, name=node.name,
                               children=[t])
        raise AssertionError(type(node))

    def _name(self, node, ann):
        ref = ann.refs[id(node)]
        kind = ref[0]
        spec = self.spec
        if kind == "today":
            return self.at, self._mk(node, "today", self.at, name="today")
        if kind == "env":
            name = ref[1]
            v = self.env[name]
            if name in spec.parameters:
                p = spec.parameters[name]
                src = p.source
                self.params_used.setdefault(name, {
                    "name": name, "value": jv(v), "type": vtype(v), "label": p.label,
                    "at": pos_text(getattr(src, "pos", None)), "source": source_text(src),
                    "interpretation": p.interpretation, "supplied": v.__class__ is not R.Unknown})
                return v, self._mk(node, "parameter", v, name=name, label=p.label)
            if name in _VARIABLES:
                return v, self._mk(node, "variable", v, name=name, label=_VARIABLES[name])
            a = spec.attributes.get(name)
            if a is not None:
                self.reads.add(name)
            kind = "attribute" if a is not None else "list" if name in ("events", "history") else "variable"
            extra = {"name": name, "label": a.label if a is not None else
                     {"events": "événements", "history": "historique"}.get(name)}
            if kind == "list":
                extra["children"] = []
            return v, self._mk(node, kind, v, **extra)
        if kind == "item":
            it = self.frames[ref[1]]
            if ann.types[id(node)] == _any():
                v = item_get(it, ref[2])
            else:
                v = it.get(ref[2], R.unknown(ref[2]))
            return v, self._mk(node, "item_field", v, name=ref[2])
        if kind == "def":
            _, name, tree, sub, text, origin = ref
            d = spec.definitions.get(name)
            saved = (self.text, self.origin, self.source, self.used_in, self.frames)
            self.text, self.origin = text, origin
            if d is not None:
                self.source = source_text(d.source) or self.source
                self.used_in = f"definitions.{name}"
            try:
                v, body = self.ev(tree, sub)
            finally:
                self.text, self.origin, self.source, self.used_in, self.frames = saved
            dpos = pos_text(d.expr.pos) if d is not None else None
            t = self._mk(node, "definition", v, name=name, label=d.label if d is not None else None,
                         definition={"expr": text, "at": dpos, "source": source_text(d.source) if d is not None else None,
                                     "interpretation": d.interpretation if d is not None else None},
                         children=[body])
            return v, t
        raise AssertionError(ref)

    def _compare(self, node, ann):
        from engine.expr.types import BOOLEAN, DURATION, ListType, RecordType, unify

        a, lt_ = self.ev(node.left, ann)
        lt, rt = ann.types[id(node.left)], ann.types[id(node.right)]
        op = node.op
        anyt = _any()
        if op in ("in", "not_in"):
            right = node.right
            literal = isinstance(right, N.ListLit) and right.items and all(
                isinstance(i, (N.String, N.Number, N.DateLit)) for i in right.items)
            b, rt_ = self.ev(right, ann)
            if literal and lt != anyt and lt != DURATION and lt != BOOLEAN:
                if a.__class__ is R.Unknown:
                    v = a
                else:
                    v = a in frozenset(i.value for i in right.items)
                    if op == "not_in":
                        v = not v
            else:
                v = R.contains(a, b)
                if op == "not_in" and v.__class__ is not R.Unknown:
                    v = not v
            return v, self._mk(node, "compare", v, op=op, children=[lt_, rt_])
        b, rt_ = self.ev(node.right, ann)
        if a.__class__ is R.Unknown or b.__class__ is R.Unknown:
            v = R.unknown_of(a, b)
        else:
            u = unify(lt, rt)
            if lt == anyt or rt == anyt or isinstance(u, (ListType, RecordType)):
                v = R.compare(op, a, b)
            elif u == DURATION:
                v = _PYOPS[op](R.compare_durations(a, b), 0)
            else:
                v = _PYOPS[op](a, b)
        return v, self._mk(node, "compare", v, op=op, children=[lt_, rt_])

    def _call(self, node, ann):
        from engine.expr.types import ALIASES, DATE, ListType

        f = ALIASES.get(node.func, node.func)
        vals, kids = [], []
        for a in node.args:
            v, t = self.ev(a, ann)
            vals.append(v)
            kids.append(t)
        types = [ann.types[id(a)] for a in node.args]
        if f in ("min", "max") and len(vals) > 1:
            v = R.agg_minmax(list(vals), f)
        elif f == "known":
            v = vals[0].__class__ is not R.Unknown
        else:
            unk = [x for x in vals if x.__class__ is R.Unknown]
            if unk:
                v = R.unknown_of(*unk)
            elif f == "days_between":
                v = (vals[1] - vals[0]).days if types == [DATE, DATE] else R.days_between(vals[0], vals[1])
            elif f == "months_between":
                v = R.months_between(vals[0], vals[1])
            elif f == "age":
                v = R.age(vals[0], vals[1])
            elif f == "round":
                v = R.round_half_up(*vals)
            elif f == "count":
                v = len(vals[0]) if isinstance(types[0], ListType) else R.agg_count(vals[0])
            elif f in ("sum", "avg", "any", "all"):
                v = {"sum": R.agg_sum, "avg": R.agg_avg, "any": R.agg_any, "all": R.agg_all}[f](vals[0])
            else:
                v = R.agg_minmax(vals[0], f)
        return v, self._mk(node, "call", v, function=f, children=kids)

    def _filter(self, node, ann):
        from engine.expr.types import ListType

        s, st_ = self.ev(node.source, ann)
        if not isinstance(ann.types[id(node.source)], ListType):
            s = as_list(s)
        pred_text = self.text[node.predicate.span[0]:node.predicate.span[1]]
        if s.__class__ is R.Unknown:
            return s, self._mk(node, "filter", s, predicate=pred_text, total=None, kept=[], undecided=[],
                               children=[st_])
        kept, undecided, acc = [], [], None
        saved_reads = self.reads
        for item in s:
            self.frames.append(item)
            try:
                p, _ = self._bool(node.predicate, ann)
            finally:
                self.frames.pop()
            if p is True:
                kept.append(item)
            elif p is not False:
                acc = p if acc is None else acc | p
                undecided.append({"item": jv(item), "missing": value_names(p)})
        self.reads = saved_reads
        v = kept if acc is None else acc
        return v, self._mk(node, "filter", v, predicate=pred_text, total=len(s), kept=jv(kept),
                           undecided=undecided, children=[st_])


def _any():
    from engine.expr.types import ANY

    return ANY


__all__ = ["EVAL_ERRORS", "TRACE_FORMAT", "Tracer", "duration_constant", "jv", "pos_text", "source_text",
           "value_names", "vtype"]
