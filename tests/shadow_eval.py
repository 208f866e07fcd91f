"""Every compiled expression of a spec checked against the reference evaluator, on the very values the engine gives
it (tests/test_compiler_differential.py, tests/test_compiler_regressions.py).

``shadowed()`` wraps ``engine.expr.compiler.compile_expression`` while a spec is compiled: each compiled expression (a
rule, a guard, a deadline's ``where``, an obligation's condition, a definition) keeps its code, and each call of it
during an evaluation also runs ``reference_eval`` on the same ``env`` and ``today`` and compares the outcomes (the
value, the unknown's names, or an error of the same kind) and the number of list items visited (the compiled
function is run again with its cost limit set to that number, then to one less: it must pass, then fail with
``eval.limit.cost``). ``Shadow.sizes`` holds, per compiled expression, the size of its generated code and of the
expression with the definitions it reaches (each once).
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field, replace

from engine.expr import compiler as C
from engine.expr import nodes as N
from engine.errors import EvaluationError
from engine.expr.parser import parse
from engine.expr.runtime import MAX_COST, Unknown
from engine.expr.runtime_json import to_json
from engine.expr.types import ListType, RecordType
from reference_eval import RefCostError, RefError, reference_evaluate


def outcome_of(fn) -> tuple:
    try:
        v = fn()
    except EvaluationError as e:
        return ("error", "cost" if e.code == "eval.limit.cost" else "other")
    except RefCostError:
        return ("error", "cost")
    except (RefError, KeyError):
        return ("error", "other")
    if isinstance(v, Unknown):
        return ("unknown", frozenset(v.names))
    return ("value", repr(to_json(v)), type(to_json(v)).__name__)


def reached_definitions(text: str, definitions: dict) -> set[str]:
    """The definitions an expression uses, directly or through others."""
    seen: set[str] = set()
    todo = [text]
    while todo:
        for n in N.walk(parse(todo.pop())):
            if isinstance(n, N.Name) and n.name in definitions and n.name not in seen:
                seen.add(n.name)
                todo.append(definitions[n.name].text)
    return seen


@dataclass
class Shadow:
    calls: int = 0
    mismatches: list = field(default_factory=list)
    sizes: list = field(default_factory=list)  # (text, generated characters, characters of text + definitions)

    def wrap(self, compiled, scope):
        defs = {k: parse(d.text) for k, d in scope.definitions.items()}
        lists = {name: frozenset(t.item.fields) for name, t in scope.names.items()
                 if isinstance(t, ListType) and isinstance(t.item, RecordType)}
        reached = reached_definitions(compiled.text, scope.definitions)
        self.sizes.append((compiled.text, len(compiled.source),
                           len(compiled.text) + sum(len(scope.definitions[d].text) for d in reached)))
        real, node, text = compiled.fn, compiled.node, compiled.text

        def fn(env, today):
            result: list = []

            def run():
                result.append(real(env, today))
                return result[-1]

            got = outcome_of(run)
            costs: list = []
            want = outcome_of(lambda: reference_evaluate(node, env, today, definitions=defs, list_fields=lists,
                                                         max_cost=MAX_COST, costs=costs))
            self.calls += 1
            if got != want:
                self.mismatches.append((text, got, want, compiled.source))
            elif got[0] != "error":
                self._check_cost(real, env, today, costs[0], text)
            return real(env, today) if not result else result[0]

        return replace(compiled, fn=fn)

    def _check_cost(self, real, env, today, cost, text):
        g = real.__globals__
        saved = g["_MAX"]
        try:
            g["_MAX"] = cost
            at = outcome_of(lambda: real(env, today))
            g["_MAX"] = cost - 1
            below = outcome_of(lambda: real(env, today)) if cost > 0 else ("error", "cost")
        finally:
            g["_MAX"] = saved
        if at[0] == "error" or below != ("error", "cost"):
            self.mismatches.append((text, f"cost: the reference visits {cost} list items", at, below))


@contextlib.contextmanager
def shadowed():
    """While in the block, every expression compiled is checked at each call (see the module docstring)."""
    real = C.compile_expression
    sh = Shadow()

    def compile_expression(text, scope, **kw):
        return sh.wrap(real(text, scope, **kw), scope)

    C.compile_expression = compile_expression
    try:
        yield sh
    finally:
        C.compile_expression = real
