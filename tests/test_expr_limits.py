"""Limits of the expression language: each gives a value or a clear, positioned EngineError (never a
RecursionError, a hang or a raw exception). Timings are measured in tools/bench_expr.py, not asserted here."""

from __future__ import annotations

from datetime import date

import pytest

from engine.expr.compiler import compile_expression, evaluate_expression
from engine.errors import EvaluationError, ExpressionError, TextOrigin
from engine.expr.parser import MAX_BRACKETS, MAX_DEPTH, MAX_LENGTH, MAX_NODES, parse
from engine.expr.runtime import MAX_COST, unknown
from engine.expr.types import BOOLEAN, NUMBER, Definition, ListType, RecordType, Scope
from reference_eval import reference_evaluate

TODAY = date(2026, 3, 1)


def expr_error(text, scope=None, code=None) -> ExpressionError:
    with pytest.raises(ExpressionError) as info:
        compile_expression(text, scope or Scope({"x": NUMBER, "b": BOOLEAN}), origin=TextOrigin(file="<t>"))
    err = info.value
    if code:
        assert err.code == code, err.format()
    d = err.diagnostic
    assert d.line is not None and d.col is not None and d.source_line is not None
    return err


def test_10000_nested_parentheses():
    text = "(" * 10_000 + "1" + ")" * 10_000
    err = expr_error(text, code="expr.limit.length")
    assert "20\u202f001 caractères" in err.diagnostic.message


def test_nested_parentheses_within_the_length_limit():
    text = "(" * 4_000 + "1" + ")" * 4_000
    err = expr_error(text, code="expr.limit.depth")
    assert err.diagnostic.col == MAX_BRACKETS + 1  # the first bracket over the limit


def test_unbalanced_deep_brackets_fail_at_the_prescan():
    err = expr_error("[" * 5_000, code="expr.limit.depth")
    assert err.diagnostic.col == MAX_BRACKETS + 1


def test_one_megabyte_of_text():
    text = "1 + " * 262_144
    err = expr_error(text, code="expr.limit.length")
    assert f"{MAX_LENGTH:,}".replace(",", "\u202f") in err.diagnostic.message
    assert len(err.format()) < 2_000  # the snippet of a huge line is cut


def test_600_chained_plus_gives_a_value():
    assert evaluate_expression(" + ".join(["1"] * 601)) == 601


def test_600_chained_minus_and_times():
    assert evaluate_expression("1000 - " + " - ".join(["1"] * 600)) == 400
    assert evaluate_expression(" * ".join(["1"] * 600)) == 1


def test_600_chained_plus_with_unknowns():
    env = {"x": None}
    v = evaluate_expression(" + ".join(["1"] * 300 + ["x"] + ["1"] * 300), env)
    assert v == unknown("x")


@pytest.mark.parametrize("op,value", [("and", True), ("or", True), ("et", True), ("ou", True)])
def test_600_chained_and_or(op, value):
    assert evaluate_expression(f" {op} ".join(["true"] * 600)) is value


def test_600_chained_and_stops_at_the_first_false():
    text = " and ".join(["x > 0"] * 300 + ["false"] + ["1 / 0 == 1"] * 300)
    assert evaluate_expression(text, {"x": 1}) is False


def test_600_chained_not_is_a_clear_error():
    err = expr_error("not " * 600 + "b", code="expr.limit.depth")
    assert f"plus de {MAX_DEPTH} niveaux" in err.diagnostic.message


def test_20_chained_not_is_fine():
    assert evaluate_expression("not " * 20 + "true") is True


def test_600_chained_unary_minus_and_fields():
    expr_error("- " * 600 + "x", code="expr.limit.depth")
    scope = Scope({"r": RecordType({"a": NUMBER})})
    expr_error("r" + ".a" * 600, scope, code="expr.limit.depth")


def test_600_nested_ifs():
    text = "if true then " * 400 + "1" + " else 2" * 400
    expr_error(text, code="expr.limit.depth")


def test_node_limit():
    text = "+".join(["1"] * (MAX_NODES - 1 + 1))
    assert len(text) < MAX_LENGTH
    expr_error(text, code="expr.limit.nodes")


def test_evaluation_cost_limit():
    item = RecordType({"v": NUMBER})
    scope = Scope({"xs": ListType(item)})
    c = compile_expression("count(xs where count(xs where v > 0) > 0)", scope, origin=TextOrigin(file="<t>"))
    n = int(MAX_COST ** 0.5) + 200
    env = {"xs": [{"v": 1}] * n}
    with pytest.raises(EvaluationError) as info:
        c.fn(env, TODAY)
    assert info.value.code == "eval.limit.cost"
    assert info.value.diagnostic.col == 22  # the inner filter: count(xs where count(xs where ...
    # the same expression on a small list is fine
    assert c.fn({"xs": [{"v": 1}] * 10}, TODAY) == 10


def test_cost_counts_reused_and_invariant_list_work():
    """The compiler computes a repeated list expression once and keeps a loop invariant, but the cost limit counts
    the items as the plain evaluation visits them (the same inputs are refused)."""
    item = RecordType({"v": NUMBER})
    scope = Scope({"xs": ListType(item)})
    twice = compile_expression("count(xs where v > 0) + count(xs where v > 0) > 0", scope)
    assert twice.source.count("for _it0 in") == 1  # computed once...
    with pytest.raises(EvaluationError) as info:
        twice.fn({"xs": [{"v": 1}] * (MAX_COST // 2 + 10)}, TODAY)  # ... but counted twice
    assert info.value.code == "eval.limit.cost"
    assert twice.fn({"xs": [{"v": 1}] * (MAX_COST // 2 - 10)}, TODAY) is True
    inner = compile_expression("count(xs where sum(xs.v) > 0)", scope)
    n = 800  # n + n * 2n items visited: more than MAX_COST (only n + 2n if the inner sum were kept)
    with pytest.raises(EvaluationError) as info:
        inner.fn({"xs": [{"v": 1}] * n}, TODAY)
    assert info.value.code == "eval.limit.cost"
    assert inner.fn({"xs": [{"v": 1}] * 10}, TODAY) == 10


def test_too_many_nested_blocks_is_a_positioned_error():
    """Short and/or are nested if/else (Python refuses more than 20 nested loops in one function), so 30 nested
    and/or compile; deeper than the compiler's indentation budget is a positioned limit error, never a
    SyntaxError."""
    scope = Scope({"b": BOOLEAN, "n": NUMBER})

    def nested(k):
        text = "b"
        for _ in range(k):
            text = f"(b and (n > 1 or {text}))"
        return text

    c = compile_expression(nested(15), scope)
    assert c.fn({"b": True, "n": 0}, TODAY) is True
    assert c.fn({"b": True, "n": 0}, TODAY) == reference_evaluate(parse(nested(15)), {"b": True, "n": 0}, TODAY)
    assert c.fn({"b": unknown("b"), "n": 0}, TODAY) == unknown("b")
    err = expr_error(nested(20), scope, code="expr.limit.depth")
    assert "trop imbriquée" in err.format()


def test_cost_is_per_call():
    item = RecordType({"v": NUMBER})
    c = compile_expression("count(xs where v > 0)", Scope({"xs": ListType(item)}))
    env = {"xs": [{"v": 1}] * (MAX_COST // 2)}
    for _ in range(3):
        assert c.fn(env, TODAY) == MAX_COST // 2


def test_definition_cycle():
    scope = Scope({"x": NUMBER}, {"a": Definition("b + 1"), "b": Definition("a * 2")})
    err = expr_error("a > 1", scope, code="expr.cycle")
    assert "a -> b -> a" in err.format()


def test_definition_chain_too_deep_is_a_clear_error():
    defs = {f"d{i}": Definition(f"d{i + 1} + 1") for i in range(500)}
    defs["d500"] = Definition("x")
    scope = Scope({"x": NUMBER}, defs)
    expr_error("d0", scope, code="expr.limit.depth")


def test_definition_expansion_bomb():
    defs = {f"d{i}": Definition(f"d{i + 1} + d{i + 1}") for i in range(30)}
    defs["d30"] = Definition("x")
    scope = Scope({"x": NUMBER}, defs)
    err = expr_error("d0 > 1", scope)
    assert err.code in ("expr.limit.nodes", "expr.limit.depth")


def test_definitions_inline_and_count_their_names():
    scope = Scope({"x": NUMBER, "y": NUMBER}, {"big": Definition("x > 10"), "both": Definition("big and y > 1")})
    c = compile_expression("both or x == 0", scope)
    assert c.names == frozenset({"x", "y"})
    assert c.fn({"x": 11, "y": 2}, TODAY) is True
    assert c.fn({"x": unknown("x"), "y": 0}, TODAY) == unknown("x")


def test_definition_errors_point_into_the_definition():
    origin = TextOrigin(file="specs/common.yaml", line=40, col=11)
    scope = Scope({"x": NUMBER}, {"jeune": Definition("age(birth_dat, today) <= 25", origin)})
    err = expr_error("jeune", scope, code="expr.unknown_name")
    assert err.diagnostic.file == "specs/common.yaml" and err.diagnostic.line == 40
    assert err.diagnostic.col == 15


def test_definition_evaluated_on_each_item():
    participant = RecordType({"birth_date": NUMBER.__class__("date")})
    scope = Scope({"participants": ListType(participant)},
                  {"jeune": Definition("age(birth_date, today) <= 25")})
    c = compile_expression("count(participants where jeune)", scope)
    ps = [{"birth_date": date(2005, 1, 1)}, {"birth_date": date(1980, 1, 1)}, {}]
    assert c.fn({"participants": ps}, TODAY) == unknown("birth_date")
    assert c.fn({"participants": ps[:2]}, TODAY) == 1


def test_5000_digit_number_is_a_clear_error():
    err = expr_error("1" * 5_000, code="expr.limit.number")
    assert err.diagnostic.col == 1
