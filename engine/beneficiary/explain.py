"""`engine explain`: the trace of one beneficiary's decision, every intermediate value with its place in the spec.

Library API (what a server calls; the result is plain JSON-serialisable data: ``json.dumps`` takes it as is)::

    explain_record(spec, raw: dict, at: date, params=None, *, rules=(), deadlines=(), obligations=(),
                   transitions=(), record=None) -> dict

The trace is produced by a tracing interpreter over the typed AST (:mod:`engine.expr.nodes`, annotated again by the type
checker of :mod:`engine.expr.types`) that performs every operation with the runtime helpers the compiled code calls
(:mod:`engine.expr.runtime`), so it computes the same values the compiled code does; ``engine evaluate`` does not run
any of this (it pays nothing for explain). The decision itself (``decision``) is the output of
:func:`engine.beneficiary.evaluate.evaluate_record`, and the property test ``tests/test_explain_props.py`` holds every traced
rule, definition, deadline, obligation window and path step equal to it on generated records of every shipped
spec.

The shape of the trace is documented by its JSON Schema (``engine schema --output explain``,
``engine/spec/schema/explain.schema.json``) and in ``docs/explain.md``; the French text rendering is
:mod:`engine.render.explain`.
"""

from __future__ import annotations

import operator
from bisect import bisect_left, bisect_right
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from engine.beneficiary import conformance as C
from engine.expr import nodes as N
from engine.beneficiary import obligations as OB
from engine.expr import runtime as R
from engine.errors import Diagnostic, EngineError, UsageError, did_you_mean
from engine.spec.model import RuleGroup, RuleLeaf, guard_scope, obligation_scope

TRACE_FORMAT = "dispositif-explain/1"

#: what a rule, a deadline or a window may raise while being traced (the compiled code raises the same, positioned)
_EVAL_ERRORS = (R.DynamicTypeError, ArithmeticError, ValueError, OverflowError, TypeError, EngineError)

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


def _names(v) -> list:
    return sorted(getattr(v, "names", ()) or ())


def _pos(p) -> str | None:
    """``file:line[:col]`` of a model Position, or None."""
    if p is None or getattr(p, "file", None) is None and getattr(p, "line", None) is None:
        return None
    return str(p)


def _src(source) -> str | None:
    return (str(source) or None) if source is not None else None


def _duration_constant(name: str, dur, pos, source, used_in: str) -> dict:
    return {"name": name, "value": jv(dur), "type": "duration", "text": C.fr_duration(dur), "at": _pos(pos), "source": _src(source),
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
        self.text, self.origin, self.source = expr.text, expr.origin, _src(source)
        self.env, self.frames = env, []
        self.used_in = used_in
        self.reads = set()
        try:
            _, t = self.ev(node, ann)
        except _EVAL_ERRORS as e:
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
            d["missing"] = _names(value)
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

    # -- nodes (the compiler's semantics, engine/expr/compiler.py, one case per node)
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
                from engine.expr.compiler import _field

                v = _field(a, node.name)
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
                    "at": _pos(getattr(src, "pos", None)), "source": _src(src),
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
                from engine.expr.compiler import _item_get

                v = _item_get(it, ref[2])
            else:
                v = it.get(ref[2], R.unknown(ref[2]))
            return v, self._mk(node, "item_field", v, name=ref[2])
        if kind == "def":
            _, name, tree, sub, text, origin = ref
            d = spec.definitions.get(name)
            saved = (self.text, self.origin, self.source, self.used_in, self.frames)
            self.text, self.origin = text, origin
            if d is not None:
                self.source = _src(d.source) or self.source
                self.used_in = f"definitions.{name}"
            try:
                v, body = self.ev(tree, sub)
            finally:
                self.text, self.origin, self.source, self.used_in, self.frames = saved
            dpos = _pos(d.expr.pos) if d is not None else None
            t = self._mk(node, "definition", v, name=name, label=d.label if d is not None else None,
                         definition={"expr": text, "at": dpos, "source": _src(d.source) if d is not None else None,
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
        from engine.expr.compiler import _as_list
        from engine.expr.types import ListType

        s, st_ = self.ev(node.source, ann)
        if not isinstance(ann.types[id(node.source)], ListType):
            s = _as_list(s)
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
                undecided.append({"item": jv(item), "missing": _names(p)})
        self.reads = saved_reads
        v = kept if acc is None else acc
        return v, self._mk(node, "filter", v, predicate=pred_text, total=len(s), kept=jv(kept),
                           undecided=undecided, children=[st_])


def _any():
    from engine.expr.types import ANY

    return ANY


# ----------------------------------------------------------------------------------------------- eligibility

def _kleene(op: str, values: list):
    if op == "not":
        v = values[0]
        return (not v) if v is True or v is False else v
    decisive = op == "any"
    unknown = None
    for v in values:
        if v is decisive:
            return decisive
        if v is not (not decisive):
            unknown = v if unknown is None else unknown | v
    return (not decisive) if unknown is None else unknown


def _rule_trace(tr: Tracer, rule, env: dict) -> tuple[Any, dict]:
    common = {"id": rule.id, "label": rule.label, "at": _pos(rule.pos), "source": _src(rule.source),
              "interpretation": rule.interpretation, "path": rule.path}
    if isinstance(rule, RuleLeaf):
        t = tr.trace(rule.expr, tr.spec.scope, env, rule.source, rule.path or rule.id)
        v = R.unknown_of() if t["kind"] == "error" else _runtime_bool(t)
        d = {"kind": "rule", **common, "op": "condition", "condition": rule.expr.text, "value": t["value"],
             "expr": t, "reads": t.get("reads", [])}
        if t["value"] is None:
            d["missing"] = t.get("missing", [])
        if t["kind"] == "error":
            d["error"] = t["error"]
        return v, d
    vals, kids = [], []
    for c in rule.children:
        v, d = _rule_trace(tr, c, env)
        vals.append(v)
        kids.append(d)
    v = _kleene(rule.op, vals)
    d = {"kind": "rule", **common, "op": rule.op, "value": jv(v), "children": kids}
    if v.__class__ is R.Unknown:
        d["missing"] = _names(v)
    return v, d


def _runtime_bool(t: dict):
    v = t["value"]
    if v is True or v is False:
        return v
    return R.Unknown(frozenset(t.get("missing") or ()))


def _find_rule(rule, rid: str):
    if rule is None:
        return None
    stack = [rule]
    while stack:
        r = stack.pop()
        if r.id == rid:
            return r
        if isinstance(r, RuleGroup):
            stack.extend(r.children)
    return None


def _rule_ids(rule) -> list:
    from engine.spec.model import iter_rules

    return [r.id for r in iter_rules(rule) if r.id]


# ----------------------------------------------------------------------------------------------- deadlines

def _deadline_trace(tr: Tracer, dl, env: dict, history: list, events: list, dates: list, first: dict,
                    ended: date | None, item_env) -> dict:
    spec, at = tr.spec, tr.at
    fp = dl.field_pos or {}
    out: dict = {"kind": "deadline", "id": dl.id, "label": dl.label, "at": _pos(dl.pos), "source": _src(dl.source),
                 "interpretation": dl.interpretation, "status": "not_applicable", "due": None, "date": None}
    within = _duration_constant(f"deadlines[{dl.id}].within", dl.within, fp.get("within") or fp.get("milestone"),
                                dl.source, dl.id)
    out["within"] = within
    if dl.applies_if is not None:
        t = tr.trace(dl.applies_if, spec.scope, env, dl.source, f"deadlines[{dl.id}].applies_if")
        out["applies_if"] = t
        if t["value"] is not True:
            if t["value"] is None:
                out["missing"] = t.get("missing", [])
            out["reason"] = "ne s'applique pas : la condition d'application n'est pas remplie" \
                if t["value"] is False else "indéterminée : la condition d'application est inconnue"
            return out
    a = dl.anchor
    anchor: dict = {"kind": a.kind, "name": a.name, "at": _pos(a.pos), "date": None}
    anchor_date = None
    if a.kind == "phase":
        hit = first.get(a.name)
        if hit is not None:
            anchor_date, anchor["history_index"] = hit
    elif a.kind == "event":
        e = next((e for e in events if e.get("type") == a.name), None)
        if e is not None:
            anchor_date = e["date"]
            anchor["event"] = jv(e)
    else:
        v = env.get(a.name)
        if isinstance(v, date):
            anchor_date = v
        elif v is not None and not isinstance(v, (str, int)):
            out["missing"] = _names(v) or [a.name]
            anchor["missing"] = out["missing"]
    anchor["date"] = jv(anchor_date)
    out["anchor"] = anchor
    if anchor_date is None:
        out["reason"] = "pas de point de départ : " + ("l'attribut n'est pas renseigné" if a.kind == "attribute"
                                                       else "il n'a pas eu lieu")
        return out
    tr.constants.setdefault((within["at"], dl.id), within)
    due = C.plus(anchor_date, dl.within)
    out["due"] = jv(due)
    not_before = getattr(dl, "not_before", None)
    earliest = C.plus(anchor_date, not_before) if not_before is not None else None
    if earliest is not None:
        out["earliest"] = jv(earliest)
        c = _duration_constant(f"deadlines[{dl.id}].not_before", not_before, fp.get("not_before") or
                               fp.get("milestone"), dl.source, dl.id)
        out["not_before"] = c
        tr.constants.setdefault((c["at"], c["name"]), c)
    if getattr(dl, "milestone", None) is not None:
        out["milestone"] = _duration_constant(f"deadlines[{dl.id}].milestone", dl.milestone, fp.get("milestone"),
                                              dl.source, dl.id)
    start = anchor_date if earliest is None or earliest < anchor_date else earliest
    t = dl.target
    target: dict = {"kind": t.kind, "name": t.name, "at": _pos(t.pos), "date": None, "candidates": []}
    got = early = None
    if t.kind == "phase":
        for j, h in enumerate(history):
            if h["phase"] == t.name and h["date"] >= anchor_date:
                if h["date"] < start:  # before the window: does not count
                    if early is None:
                        early = h["date"]
                        target["early_history_index"] = j
                    continue
                got = h["date"]
                target["history_index"] = j
                break
    else:
        where = dl.where
        wscope = _where_scope(spec, t) if where is not None else None
        for j in range(bisect_left(dates, anchor_date), len(events)):
            e = events[j]
            if e["type"] != t.name:
                continue
            cand: dict = {"event": jv(e)}
            target["candidates"].append(cand)
            if where is not None:
                wt = tr.trace(where, wscope, item_env(env, e), dl.source, f"deadlines[{dl.id}].where")
                cand["where"] = wt
                if wt["value"] is not True:
                    cand["accepted"] = False
                    continue
            if e["date"] < start:
                cand["accepted"] = False
                cand["early"] = True
                if early is None:
                    early = e["date"]
                continue
            cand["accepted"] = True
            got = e["date"]
            target["event"] = jv(e)
            break
    target["date"] = jv(got)
    out["target"] = target
    out["date"] = jv(got)
    if early is not None and got is None:
        out["early"] = jv(early)
    if ended is not None:
        out["ended"] = jv(ended)
    window = f"entre le {C.fr_date(earliest)} et le {C.fr_date(due)}" if earliest is not None else \
        f"au plus tard le {C.fr_date(due)}"
    if got is None and ended is not None and ended <= due and (early is None or t.kind != "phase"):
        out["status"] = "not_applicable"
        out["reason"] = f"sortie du dispositif le {C.fr_date(ended)}, avant l'échéance du {C.fr_date(due)}"
    elif got is not None and got <= due:
        out["status"] = "met"
        out["reason"] = f"réalisé le {C.fr_date(got)}, {window}"
    elif got is not None:
        out["status"] = "missed"
        out["reason"] = f"réalisé le {C.fr_date(got)}, après l'échéance du {C.fr_date(due)} " \
                        f"({C.fr_days((got - due).days)} de retard)"
    elif due < at:
        out["status"] = "missed"
        out["reason"] = (f"seulement réalisé le {C.fr_date(early)}, avant la période attendue ({window}), dépassée "
                         f"au {C.fr_date(at)}") if early is not None else \
            f"rien d'enregistré au {C.fr_date(at)} ; l'échéance était le {C.fr_date(due)}"
    elif early is not None:
        out["status"] = "early"
        out["reason"] = f"réalisé le {C.fr_date(early)}, avant la période attendue ({window}), qui est encore ouverte"
    else:
        out["status"] = "pending"
        out["reason"] = f"pas encore réalisé au {C.fr_date(at)} ; attendu {window}"
    return out


def _where_scope(spec, target):
    from engine.spec.model import child_scope, event_record_type

    events = spec.events
    if target is not None and target.kind == "event" and target.name in events:
        rec = event_record_type({target.name: events[target.name]})
    else:
        rec = event_record_type(events)
    return child_scope(spec.scope, dict(rec.fields))


# ----------------------------------------------------------------------------------------------- obligations

def _obligation_trace(tr: Tracer, ob, env: dict, stays: list, events: list, dates: list) -> dict:
    spec, at = tr.spec, tr.at
    fp = ob.field_pos or {}
    every = ob.every if isinstance(ob.every, str) else jv(ob.every)
    out: dict = {"kind": "obligation", "id": ob.id, "label": ob.label, "at": _pos(ob.pos), "source": _src(ob.source),
                 "interpretation": ob.interpretation, "during": list(ob.during), "every": every,
                 "every_text": _every_fr(ob.every), "partial_windows": ob.partial_windows,
                 "condition": ob.condition.text, "status": "not_applicable", "periods": [], "windows": [],
                 "windows_checked": 0, "windows_skipped": 0, "windows_pending": 0, "failed": []}
    if not isinstance(ob.every, str):
        c = _duration_constant(f"obligations[{ob.id}].every", ob.every, fp.get("every"), ob.source, ob.id)
        tr.constants.setdefault((c["at"], ob.id), c)
    if ob.applies_if is not None:
        t = tr.trace(ob.applies_if, spec.scope, env, ob.source, f"obligations[{ob.id}].applies_if")
        out["applies_if"] = t
        if t["value"] is not True:
            if t["value"] is None:
                out["missing"] = t.get("missing", [])
            return out
    periods = OB.obligation_periods(stays, frozenset(ob.during))
    out["periods"] = [{"start": jv(s), "end": jv(e), "history_index": i} for s, e, i in periods]
    scope = obligation_scope(spec.scope)
    partial_check = ob.partial_windows == "check"
    unknown: set = set()
    counts = {"checked": 0, "skipped": 0, "pending": 0}
    wenv = dict(env)
    for first_day, last_day, index in periods:
        if first_day > at:
            continue
        end_bound = last_day if last_day is not None and last_day < at else at
        for ws, we in OB._windows_list(ob.every, first_day, end_bound):
            w: dict = {"start": jv(ws), "end": jv(we), "history_index": index}
            if we > at:
                counts["pending"] += 1
                w["status"] = "pending"
                out["windows"].append(w)
                break
            full = ws >= first_day and (last_day is None or we <= last_day)
            w["partial"] = not full
            if full:
                lo, hi = bisect_left(dates, ws), bisect_right(dates, we)
            elif partial_check:
                lo, hi = bisect_left(dates, max(ws, first_day)), bisect_right(dates, min(we, end_bound))
            else:
                counts["skipped"] += 1
                w["status"] = "skipped"
                out["windows"].append(w)
                continue
            counts["checked"] += 1
            wenv["events"] = events[lo:hi]
            wenv["window_start"], wenv["window_end"] = ws, we
            t = tr.trace(ob.condition, scope, wenv, ob.source, f"obligations[{ob.id}].condition")
            w["events"] = jv(events[lo:hi])
            w["condition"] = t
            v = t["value"]
            w["value"] = v
            if v is True:
                w["status"] = "met"
            elif v is False:
                w["status"] = "failed"
                out["failed"].append({"start": jv(ws), "end": jv(we)})
            else:
                w["status"] = "undecided"
                unknown.update(t.get("missing") or ())
            out["windows"].append(w)
    out["windows_checked"], out["windows_skipped"], out["windows_pending"] = \
        counts["checked"], counts["skipped"], counts["pending"]
    out["status"] = "unmet" if out["failed"] else "met" if counts["checked"] else \
        "pending" if counts["pending"] else "not_applicable"
    if unknown:
        out["missing"] = sorted(unknown)
    return out


def _every_fr(every) -> str:
    if isinstance(every, str):
        return {"week": "chaque semaine (du lundi au dimanche)", "month": "chaque mois civil",
                "quarter": "chaque trimestre civil", "year": "chaque année civile"}.get(every, every)
    return f"par périodes de {C.fr_duration(every)} depuis l'entrée"


# ----------------------------------------------------------------------------------------------- path

def _transition_number(spec, t) -> int:
    return t.index + 1


def _path_trace(tr: Tracer, env: dict, history: list, decision_path: dict, transitions: set | None) -> dict:
    """Each history entry, the transition it takes with its timing limits and its guard's working, and the
    violations at that step (the decision's)."""
    spec = tr.spec
    phases = spec.phases
    trans = spec.tables.transition if spec.tables and spec.tables.transition else \
        {(t.from_phase, t.to_phase): t for t in spec.transitions}
    gscope = guard_scope(spec.scope)
    violations = decision_path.get("violations") or []
    steps = []
    cur = None
    cur_id = ""
    stay_start = history[0]["date"] if history else None
    prev_date = None
    ended = False
    genv = dict(env)
    for i, h in enumerate(history):
        p, d = h["phase"], h["date"]
        ph = phases.get(p)
        step: dict = {"index": i, "phase": p, "label": ph.label if ph is not None else None, "date": jv(d),
                      "at": _pos(ph.pos) if ph is not None else None,
                      "source": _src(ph.source) if ph is not None else None, "known_phase": ph is not None}
        timing_ok = prev_date is None or d >= prev_date
        if i > 0:
            step["stay_start"] = jv(stay_start)
            step["days_in_previous_phase"] = (d - stay_start).days
        t = trans.get((cur_id, p)) if i > 0 and cur is not None and ph is not None else None
        if t is not None:
            tn = _transition_number(spec, t)
            fp = t.field_pos or {}
            td: dict = {"number": tn, "id": t.id, "from": t.from_phase, "to": t.to_phase, "label": t.label,
                        "at": _pos(t.pos), "source": _src(t.source), "interpretation": t.interpretation}
            if not ended:
                for key, dur in (("within", t.within), ("after", t.after)):
                    if dur is None:
                        continue
                    c = _duration_constant(f"transitions[{tn}].{key}", dur, fp.get(key), t.source, f"transition {tn}")
                    tr.constants.setdefault((c["at"], c["in"]), c)
                    limit = C.plus(stay_start, dur)
                    lim = {**c, "limit": jv(limit), "checked": timing_ok}
                    if timing_ok:
                        lim["ok"] = d <= limit if key == "within" else d >= limit
                    td[key] = lim
                if t.guard is not None:
                    genv["phase_start"], genv["transition_date"] = stay_start, d
                    td["guard"] = tr.trace(t.guard, gscope, genv, t.source, f"transitions[{tn}].guard")
            else:
                td["after_end"] = True
            step["transition"] = td
        elif i > 0 and cur is not None and ph is not None:
            step["transition"] = None  # not allowed: see the violations
        step["violations"] = [v for v in violations if v.get("at") == i]
        steps.append(step)
        if ph is not None and ph.final:
            ended = True
        cur, cur_id, stay_start, prev_date = ph, p, d, d
    if transitions is not None:
        steps = [s for s in steps if s.get("transition") and s["transition"]["number"] in transitions]
    out = {"kind": "path", "legal": decision_path.get("legal"), "current_phase": decision_path.get("current_phase"),
           "steps": steps, "violations": violations, "next": decision_path.get("next", [])}
    if decision_path.get("missing"):
        out["missing"] = decision_path["missing"]
    for ph in phases.values():  # the limits of the phases the history went through
        if not any(s["phase"] == ph.id for s in steps):
            continue
        for key in ("min_duration", "max_duration", "total_max_duration"):
            dur = getattr(ph, key)
            if dur is not None:
                c = _duration_constant(f"phases.{ph.id}.{key}", dur, (ph.field_pos or {}).get(key), ph.source,
                                       f"phases.{ph.id}")
                tr.constants.setdefault((c["at"], c["in"]), c)
    return out


def _find_transition(spec, text: str):
    """A transition by its 1-based number, its id or ``from->to``."""
    for t in spec.transitions:
        if text.isdigit() and int(text) == t.index + 1 or t.id == text or f"{t.from_phase}->{t.to_phase}" == text:
            return t
    return None


# ----------------------------------------------------------------------------------------------- the trace

def explain_record(spec, raw: dict, at: date, params: dict | None = None, *, rules: Iterable[str] = (),
                   deadlines: Iterable[str] = (), obligations: Iterable[str] = (), transitions: Iterable[str] = (),
                   record: dict | None = None) -> dict:
    """The trace of the decision on one raw record (a dict as read from JSON) at ``at``: plain JSON data (see the
    module docstring and ``docs/explain.md``). ``rules``/``deadlines``/``obligations``/``transitions`` narrow it to
    those (rule ids or definition names; deadline and obligation ids; transition numbers, ids or ``from->to``);
    nothing given: everything. ``record``: where the record comes from (``{"file", "line"}``), copied into the
    trace. Raises :class:`UsageError` (code ``explain.unknown_*``) for a name the spec does not have and a bad
    parameter; a record that cannot be bound gives a trace with ``status: error``."""
    from engine.beneficiary.evaluate import _copy, evaluate_record, plan_for

    rules, deadlines, obligations, transitions = (list(x) for x in (rules, deadlines, obligations, transitions))
    check_selection(spec, rules, deadlines, obligations, transitions)
    plan = plan_for(spec)
    p = plan.binder.params(params)
    decision = evaluate_record(spec, raw, at, params)
    trace: dict = {"format": TRACE_FORMAT,
                   "spec": {"id": spec.id, "version": spec.version, "title": spec.title, "file": spec.path},
                   "record": {"id": raw.get("id") if isinstance(raw, dict) else None, **(record or {})},
                   "as_of": at.isoformat(), "status": decision.get("status"), "decision": jv(decision)}
    selected = bool(rules or deadlines or obligations or transitions)
    trace["selection"] = {"rules": rules, "deadlines": deadlines, "obligations": obligations,
                          "transitions": transitions} if selected else None
    if decision.get("status") == "error" and decision.get("error", {}).get("code") != "evaluation_error":
        trace["error"] = decision["error"]  # the record cannot be bound: nothing to trace
        trace["parameters"], trace["constants"] = [], []
        return trace
    if decision.get("status") == "error":
        trace["error"] = decision["error"]
    env, dates, _ = plan.binder.bind_plain(_copy(raw), p)
    tr = Tracer(spec, at)
    try:
        history, events = env["history"], env["events"]
        if not selected or rules:
            if rules:
                items = []
                for rid in rules:
                    r = _find_rule(spec.eligibility_beneficiary, rid)
                    if r is not None:
                        items.append(_rule_trace(tr, r, env)[1])
                    else:
                        d = spec.definitions[rid]
                        t = tr.trace(d.expr, spec.scope, env, d.source, f"definitions.{rid}")
                        items.append({"kind": "definition", "id": rid, "label": d.label, "at": _pos(d.expr.pos),
                                      "source": _src(d.source), "interpretation": d.interpretation, "value": t["value"],
                                      "missing": t.get("missing", []), "expr": t})
                trace["eligibility"] = None
                trace["rules"] = items
            else:
                tree = spec.eligibility_beneficiary
                trace["eligibility"] = _rule_trace(tr, tree, env)[1] if tree is not None else None
                trace["eligible"] = decision.get("eligible")
        path_missing: set = set()
        if spec.phases:
            _v, stays, _state, first = C.check_path(plan.path, history, dict(env), at, path_missing, None)
        else:
            stays = []
            first = {}
            for i, h in enumerate(history):
                first.setdefault(h["phase"], (h["date"], i))
        dpath = decision.get("path") or {}
        if spec.phases and (not selected or transitions):
            numbers = {_find_transition(spec, x).index + 1 for x in transitions} if transitions else None
            trace["path"] = _path_trace(tr, env, history, jv(dpath), numbers)
        if not selected or deadlines:
            final = tuple(q for q, ph in spec.phases.items() if ph.final)
            ended = min((first[q][0] for q in final if q in first), default=None)
            trace["deadlines"] = [_deadline_trace(tr, dl, env, history, events, dates, first, ended,
                                                  plan.binder.item_env)
                                  for dl in spec.deadlines if not deadlines or dl.id in deadlines]
        if not selected or obligations:
            trace["obligations"] = [_obligation_trace(tr, ob, env, stays, events, dates)
                                    for ob in spec.obligations if not obligations or ob.id in obligations]
    except _EVAL_ERRORS:
        if decision.get("status") != "error":  # the decision was reached: the walk must reach it too (a bug)
            raise
        # the evaluation fails (the decision's error says where): the sections traced up to there are kept
    trace["parameters"] = sorted(tr.params_used.values(), key=lambda x: x["name"])
    trace["constants"] = sorted(tr.constants.values(), key=lambda c: (c.get("in") or "", c.get("at") or ""))
    return trace


def check_selection(spec, rules, deadlines, obligations, transitions) -> None:
    """Every name asked for exists (a positioned usage error with "did you mean" otherwise)."""
    def fail(what: str, kinds: str, flag: str, name: str, known: list, code: str):
        hint = did_you_mean(name, known) or (f"{kinds} de cette spec : " + (", ".join(known) or "aucune"))
        raise UsageError(Diagnostic(f"{flag} {name} : {what} dans la spec {spec.id}", file="<command line>",
                                    code=code, hint=hint))

    ids = _rule_ids(spec.eligibility_beneficiary)
    for r in rules:
        if r not in ids and r not in spec.definitions:
            fail("règle ou définition inconnue", "règles et définitions", "--rule", r, ids + sorted(spec.definitions), "explain.unknown_rule")
    for d in deadlines:
        if spec.deadline(d) is None:
            fail("échéance inconnue", "échéances", "--deadline", d, [x.id for x in spec.deadlines], "explain.unknown_deadline")
    for o in obligations:
        if spec.obligation(o) is None:
            fail("obligation inconnue", "obligations", "--obligation", o, [x.id for x in spec.obligations], "explain.unknown_obligation")
    for t in transitions:
        if _find_transition(spec, t) is None:
            known = [str(x.index + 1) for x in spec.transitions] + \
                [f"{x.from_phase}->{x.to_phase}" for x in spec.transitions]
            fail("transition inconnue", "transitions", "--transition", t, known, "explain.unknown_transition")


__all__ = ["TRACE_FORMAT", "Tracer", "check_selection", "explain_record", "jv", "vtype"]
