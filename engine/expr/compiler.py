"""AST -> Python function, generated once per expression (and cached); `evaluate_expression`.

:func:`compile_expression` checks the types of an expression, has :mod:`engine.expr.codegen` write its Python source,
compiles it once per text and scope (a :class:`Template`: code, constants, table of positions) and makes a function
of it per position in the spec (:func:`instantiate`), so that a run-time error (division by zero, a date out of
range, the evaluation-cost limit) points at the expression's own line and column.
"""


from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from typing import Callable

from engine.clock import evaluation_date
from engine.expr import nodes as N
from engine.expr import runtime as R
from engine.expr import runtime_json as RJ
from engine.errors import EvaluationError, ExpressionError, TextOrigin
from engine.expr.record_scope import scope_from_record
from engine.expr.analysis import Facts
from engine.expr.types import BOOLEAN, Annotations, Checker, Scope, Type, is_numeric, unify
from engine.expr.codegen import _Gen


@dataclass(frozen=True)
class CompiledExpr:
    text: str
    node: N.Node
    type: Type
    names: frozenset
    fn: Callable[[dict, date], object]
    source: str = ""  # the generated Python code (for debugging)

    def __call__(self, env: dict, today: date):
        return self.fn(env, today)


# ------------------------------------------------------------------------------------------- building

CATCH = (R.DynamicTypeError, ArithmeticError, ValueError, KeyError)


@dataclass(frozen=True)
class Template:
    """An expression compiled independently of its position: code, constants, line -> (text, origin, span)."""

    code: object
    ns: dict
    where: tuple  # per line of the source: (text, origin or None for the expression itself, span), None: no node
    offset: int
    text: str


def _make_fail(ns: dict, t: Template, origin: TextOrigin):
    def fail(exc: BaseException) -> EvaluationError:
        tb, lineno = exc.__traceback__, None
        while tb is not None:
            if tb.tb_frame.f_globals is ns:
                lineno = tb.tb_lineno
            tb = tb.tb_next
        idx = (lineno or 0) - t.offset - 1
        text, where_origin, span = t.where[idx] if 0 <= idx < len(t.where) and t.where[idx] is not None else \
            (t.text, None, (0, len(t.text)))
        if isinstance(exc, R.DynamicTypeError):
            message, hint, code = exc.message, exc.hint, exc.code
        elif isinstance(exc, KeyError):  # the caller did not bind a name (absent attributes must be unknown(name))
            message, hint, code = f"aucune valeur n'a été donnée pour « {exc.args[0]} »" if exc.args else "valeur manquante", \
                "liez chaque nom déclaré dans env (unknown(name) quand il est absent)", "eval.unbound"
        elif isinstance(exc, ZeroDivisionError):
            message, hint, code = "division par zéro", "vérifiez d'abord que le diviseur n'est pas 0", \
                "eval.division_by_zero"
        elif isinstance(exc, (OverflowError, ValueError)) and ("date" in str(exc).lower() or
                                                               "year" in str(exc).lower()):
            message, hint, code = "date hors limites (années 1 à 9999)", None, "eval.range"
        else:
            message, hint, code = "nombre hors limites", None, "eval.range"
        return EvaluationError((where_origin or origin).diagnostic(text, span[0], message,
                                                                   width=max(1, span[1] - span[0]), hint=hint,
                                                                   code=code))
    return fail


def _template(gen: _Gen, result: str) -> tuple[Template, str]:
    header = ["def _expr(env, today):", "    cost = 0"] + [f"    {v} = _NS" for v in gen.value_slots.values()] + \
        ([f"    _m = [_NS] * {gen.m_slots}"] if gen.function_code else []) + ["    try:"]
    footer = [f"        return {result}", "    except _CATCH as _e:", "        raise _fail(_e) from None"]
    lines = header + gen.lines + footer
    where = [None] * len(header) + gen.where + [None] * len(footer)
    for flines, fwhere in gen.function_code:  # the definitions compiled as functions (errors inside are positioned)
        lines += flines
        where += fwhere
    source = "\n".join(lines) + "\n"
    code = _CODE_CACHE.get(source)
    if code is None:
        code = compile(source, _FILENAME, "exec")
        if len(_CODE_CACHE) >= 4096:
            _CODE_CACHE.pop(next(iter(_CODE_CACHE)))
        _CODE_CACHE[source] = code
    where = tuple(w and (w[0], None if w[1] is gen.main_origin else w[1], w[2]) for w in where)
    ns = gen.ns
    ns["_CATCH"] = CATCH
    return Template(code, ns, where, 0, gen.text), source


def instantiate(t: Template, origin: TextOrigin) -> Callable:
    """A function of its own: its namespace holds the constants and the error table positioned at ``origin``."""
    ns = dict(t.ns)
    ns["_fail"] = _make_fail(ns, t, origin)
    ns["_template"], ns["_origin"] = t, origin  # what engine.spec.snapshot stores to rebuild the function
    exec(t.code, ns)  # noqa: S102 - generated code only: no user text (see the module docstring)
    return ns["_expr"]


_FILENAME = "<compiled expression>"
_CODE_CACHE: dict[str, object] = {}  # generated source -> code object
_COMPILED_CACHE: dict[tuple, tuple] = {}  # (text, expect, scope) -> (template, type, names, node, source, pins)


def compile_expression(text: str, scope: Scope, *, origin: TextOrigin | None = None, expect: Type | None = None,
                       path: str | None = None) -> CompiledExpr:
    """Parse, type-check and compile ``text``. Raises ExpressionError with every error found.

    The work is cached: the same text in the same scope (e.g. a vocabulary definition used by every spec) is
    parsed, checked and compiled once; only the positions of run-time errors are rebound to ``origin``."""
    origin = origin or TextOrigin()
    try:
        key = (text, expect, tuple(scope.names.items()), tuple((k, id(d)) for k, d in scope.definitions.items()))
        hit = _COMPILED_CACHE.get(key)
    except TypeError:  # an unhashable type in the scope: no caching
        key, hit = None, None
    if hit is None:
        hit = _compile(text, scope, origin, expect, path)
        if key is not None:
            if len(_COMPILED_CACHE) >= 4096:
                _COMPILED_CACHE.pop(next(iter(_COMPILED_CACHE)))
            # the value pins the definitions, so that their ids in the key cannot be reused
            _COMPILED_CACHE[key] = hit + (tuple(scope.definitions.values()),)
    template, typ, names, node, source = hit[:5]
    return CompiledExpr(text, node, typ, names, instantiate(template, origin), source)


def _compile(text: str, scope: Scope, origin: TextOrigin, expect: Type | None, path: str | None) -> tuple:
    from engine.expr.parser import parse  # lark: only when something is compiled (a cached spec does not need it)

    try:
        node = parse(text, origin)
    except ExpressionError as e:
        if path:
            raise ExpressionError([replace(d, path=d.path or path) for d in e.diagnostics]) from None
        raise
    checker = Checker(scope, text, origin, path)
    ann = Annotations()
    t = checker.check(node, ann)
    if expect is not None and not checker.diagnostics and unify(expect, t) is None:
        what = "une condition oui/non" if expect == BOOLEAN else expect.describe()
        hint = None
        if expect == BOOLEAN and is_numeric(t):
            hint = "comparez-la à quelque chose, par exemple ... >= 2"
        checker.error(node, f"il faut {what}, pas {t.describe()}", hint=hint, code="expr.type.expected")
    if checker.diagnostics:
        raise ExpressionError(checker.diagnostics)
    gen = _Gen(text, origin)
    gen.facts = Facts(node, ann)
    result, _ = gen.gen(node, ann)
    try:
        template, source = _template(gen, result)
    except (SyntaxError, RecursionError, MemoryError):  # CPython: more than 20 nested loops (and/or/where)
        raise ExpressionError(origin.diagnostic(
            text, 0, "expression trop imbriquée pour être compilée (trop de and/or/where les uns dans les autres)",
            width=len(text), hint="écrivez-la avec moins de niveaux de parenthèses autour des and/or/where",
            code="expr.limit.depth")) from None
    return template, t, frozenset(checker.names_read), node, source


def evaluate_expression(text: str, env: dict | None = None, today: date | None = None,
                        scope: Scope | None = None, origin: TextOrigin | None = None):
    """Compile and evaluate ``text`` once (tests, `engine expr`). ``env`` holds JSON-like or runtime values;
    without ``scope`` every key of ``env`` is in scope with an inferred type."""
    env = dict(env or {})
    if scope is None:
        scope, env = scope_from_record(env)
    else:
        env = {k: (RJ.value_from_json(env[k], t, k) if k in env else R.unknown(k)) for k, t in scope.names.items()}
    compiled = compile_expression(text, scope, origin=origin or TextOrigin(file="<expr>"))
    return compiled.fn(env, evaluation_date(today))
