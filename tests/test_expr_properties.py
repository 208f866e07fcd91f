"""Hypothesis properties of the expression language (issue 2, item 7).

1. Arbitrary text (random characters, or random sequences of the language's own tokens) never makes the parser,
   the type checker, the compiler or the compiled function raise anything but an EngineError subclass.
2. For generated well-typed expressions, the compiled function gives the same result as the slow reference
   evaluator of tests/reference_eval.py (same value, same missing names, or an error in both).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.expr.compiler import compile_expression
from engine.errors import EngineError, EvaluationError, TextOrigin
from engine.expr.parser import parse
from engine.expr.runtime import Duration, Unknown, unknown
from engine.expr.runtime_json import to_json
from engine.expr.types import BOOLEAN, DATE, NUMBER, STRING, Definition, EnumType, ListType, RecordType, Scope
from reference_eval import RefError, reference_evaluate

TODAY = date(2026, 3, 1)
ITEM = RecordType({"v": NUMBER, "ok": BOOLEAN, "d": DATE})
SCOPE = Scope({"n1": NUMBER, "n2": NUMBER, "b1": BOOLEAN, "b2": BOOLEAN, "d1": DATE, "d2": DATE,
               "s1": EnumType(("a", "b", "c")), "t1": STRING, "xs": ListType(ITEM),
               "v": NUMBER},  # an outer name that the items' field "v" shadows inside `where`
              {"grand": Definition("n1 > 2 or b2"), "positif": Definition("v > 0"),
               "recent": Definition("count(xs where d >= 2026-02-15) > 0 and grand")})
DEFS = {k: parse(d.text) for k, d in SCOPE.definitions.items()}

# ------------------------------------------------------------------------------------- 1. never a crash

TOKENS = ["1", "0", "2.5", "40%", "2026-01-31", "15 days", "6 mois", "\"a\"", "'b'", "true", "faux", "n1", "b1",
          "d1", "xs", "s1", "today", "v", "and", "or", "not", "et", "ou", "non", "in", "not in", "if", "then", "else",
          "si", "alors", "sinon", "where", "+", "-", "*", "/", "==", "!=", "<", "<=", ">", ">=", "(", ")", "[", "]",
          ",", ".", "count(", "sum(", "min(", "max(", "avg(", "any(", "all(", "age(", "round(", "days_between(",
          "months_between(", ".v", ".ok", ".d", "=", "%", "\"", "dayz", "é", "\n", "\\"]


def _env(n1=3, n2=Decimal("0.5"), b1=True, b2=None, d1=date(2000, 2, 29), xs=None):
    raw = {"n1": n1, "n2": n2, "b1": b1, "b2": b2, "d1": d1, "d2": date(2026, 1, 31), "s1": "b", "t1": "x", "v": 100,
           "xs": xs if xs is not None else [{"v": 1, "ok": True, "d": date(2026, 2, 1)},
                                            {"v": Decimal("2.5"), "ok": unknown("ok"), "d": date(2026, 2, 28)}]}
    return {k: (unknown(k) if v is None else v) for k, v in raw.items()}


def _run_anything(text: str) -> None:
    try:
        c = compile_expression(text, SCOPE, origin=TextOrigin(file="<prop>"))
        c.fn(_env(), TODAY)
    except EngineError as e:
        assert e.diagnostics and all(d.message for d in e.diagnostics)
        e.format()


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text(max_size=60))
def test_arbitrary_text_only_raises_engine_errors(text):
    _run_anything(text)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_token_soup_only_raises_engine_errors(tokens):
    _run_anything(" ".join(tokens))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(TOKENS), max_size=14))
def test_token_soup_without_spaces(tokens):
    _run_anything("".join(tokens))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(["1", "9.", "(", ")", "not ", "-", "1+", "x.", "[", "\"", " and "]),
                          st.integers(1, 3000)), min_size=1, max_size=3))
def test_long_repetitive_text_only_raises_engine_errors(parts):
    _run_anything("".join(piece * n for piece, n in parts))


# ------------------------------------------------------------------------- 2. compiled == reference

def _lit_number():
    return st.one_of(st.integers(-20, 20).map(str), st.sampled_from(["0.1", "2.5", "0.333", "40%", "12.5%", "1000"]))


def _paren(s):
    return "(" + s + ")"


def _num(depth):
    leaves = st.one_of(_lit_number(), st.sampled_from(["n1", "n2", "v", "count(xs)", "days_between(d1, d2)",
                                                        "months_between(d1, today)", "age(d1, today)"]))
    if depth <= 0:
        return leaves
    sub, b, d = _num(depth - 1), _bool(depth - 1), _date(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from(["+", "-", "*", "/"]), sub).map(lambda t: _paren(f"{t[0]} {t[1]} {t[2]}")),
        sub.map(lambda s: f"-{_paren(s)}"),
        st.tuples(sub, st.integers(0, 3)).map(lambda t: f"round({t[0]}, {t[1]})"),
        st.tuples(b, sub, sub).map(lambda t: _paren(f"if {t[0]} then {t[1]} else {t[2]}")),
        st.tuples(d, d).map(lambda t: f"days_between({t[0]}, {t[1]})"),
        st.tuples(d, d).map(lambda t: f"months_between({t[0]}, {t[1]})"),
        _list(depth - 1).map(lambda s: f"count({s})"),
        _list(depth - 1).map(lambda s: f"sum(({s}).v)"),
        _list(depth - 1).map(lambda s: f"max(({s}).v)"),
        _list(depth - 1).map(lambda s: f"avg(({s}).v)"),
        st.lists(sub, min_size=2, max_size=3).map(lambda xs: f"min({', '.join(xs)})"),
    )


def _dur():
    return st.sampled_from(["15 days", "4 weeks", "6 months", "1 year", "0 days", "2 mois", "3 jours"])


def _date(depth):
    leaves = st.sampled_from(["d1", "d2", "today", "2026-01-31", "2024-02-29", "2025-12-31"])
    if depth <= 0:
        return leaves
    sub = _date(depth - 1)
    return st.one_of(
        leaves,
        st.tuples(sub, st.sampled_from(["+", "-"]), _dur()).map(lambda t: _paren(f"{t[0]} {t[1]} {t[2]}")),
        _list(depth - 1).map(lambda s: f"min(({s}).d)"),
    )


def _bool(depth):
    leaves = st.sampled_from(["true", "false", "b1", "b2", "vrai", "faux", "grand", "positif", "recent"])
    if depth <= 0:
        return leaves
    sub, n, d = _bool(depth - 1), _num(depth - 1), _date(depth - 1)
    cmp = st.sampled_from(["==", "!=", "<", "<=", ">", ">="])
    return st.one_of(
        leaves,
        st.tuples(n, cmp, n).map(lambda t: _paren(f"{t[0]} {t[1]} {t[2]}")),
        st.tuples(d, cmp, d).map(lambda t: _paren(f"{t[0]} {t[1]} {t[2]}")),
        st.tuples(d, d, cmp, st.sampled_from(["15 days", "4 weeks", "0 days", "3 jours", "-2 days"])).map(
            lambda t: _paren(f"{t[0]} - {t[1]} {t[2]} {t[3]}")),
        st.tuples(_dur(), cmp, _dur()).map(lambda t: _paren(f"({t[0]}) + 0 days {t[1]} {t[2]}")),
        sub.map(lambda s: f"not {_paren(s)}"),
        st.lists(sub, min_size=2, max_size=4).map(lambda xs: _paren(" and ".join(xs))),
        st.lists(sub, min_size=2, max_size=4).map(lambda xs: _paren(" or ".join(xs))),
        st.tuples(n, st.lists(_lit_number(), min_size=1, max_size=3)).map(
            lambda t: _paren(f"{t[0]} in [{', '.join(t[1])}]")),
        st.sampled_from(['s1 == "a"', 's1 != "b"', 's1 in ["a", "c"]', 's1 not in ["b"]', 't1 == "x"']),
        st.tuples(n, n, st.sampled_from(["==", "!="])).map(lambda t: _paren(f"[{t[0]}, 1] {t[2]} [{t[1]}, 1]")),
        st.tuples(n, n).map(lambda t: _paren(f"[{t[0]}] in [[1], [{t[1]}]]")),
        _list(depth - 1).map(lambda s: f"any(({s}).ok)"),
        _list(depth - 1).map(lambda s: f"all(({s}).ok)"),
        st.tuples(b_item(), sub).map(lambda t: _paren(f"count(xs where {t[0]}) > 0 or {t[1]}")),
        st.one_of(n, d, sub).map(lambda s: f"known({s})"),
    )


def b_item():
    """A predicate on the items of xs (fields v, ok, d)."""
    return st.sampled_from(["ok", "v > 1", "d >= 2026-02-15", "v > n1", "ok and v < 2", "not ok", "d1 < d",
                            "v in [1, 2]", "ok or b1", "positif", "positif and grand"])


def _list(depth):
    base = st.just("xs")
    if depth <= 0:
        return base
    return st.one_of(base, b_item().map(lambda p: f"(xs where {p})"))


def _any_expr():
    return st.one_of(_num(2), _bool(2), _date(2))


def _item(v=None, ok=None, d=None, drop=()):
    it = {"v": v, "ok": ok, "d": d}
    return {k: (unknown(k) if val is None else val) for k, val in it.items() if k not in drop}


_items = st.lists(st.builds(
    _item, st.one_of(st.none(), st.integers(-3, 3), st.sampled_from([Decimal("2.5"), Decimal("0.1")])),
    st.sampled_from([True, False, None]),
    st.sampled_from([date(2026, 2, 1), date(2026, 2, 28), date(2024, 2, 29), None]),
    st.sampled_from([(), ("ok",)])), max_size=4)

_envs = st.builds(
    _env,
    n1=st.one_of(st.none(), st.integers(-5, 5), st.just(Decimal("2.5"))),
    n2=st.one_of(st.none(), st.sampled_from([0, 1, Decimal("0.5"), Decimal("-1.25")])),
    b1=st.sampled_from([True, False, None]), b2=st.sampled_from([True, False, None]),
    d1=st.sampled_from([date(2000, 2, 29), date(2026, 1, 31), date(2026, 3, 1), None]),
    xs=_items)


def _outcome(fn):
    try:
        v = fn()
    except (EvaluationError, RefError):
        return ("error",)
    if isinstance(v, Unknown):
        return ("unknown", frozenset(v.names))
    return ("value", repr(to_json(v)), type(to_json(v)).__name__)


@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_any_expr(), _envs)
def test_compiled_equals_reference(text, env):
    compiled = compile_expression(text, SCOPE, origin=TextOrigin(file="<prop>"))
    node = parse(text)
    got = _outcome(lambda: compiled.fn(env, TODAY))
    want = _outcome(lambda: reference_evaluate(node, env, TODAY, item_fields=ITEM.fields, definitions=DEFS))
    assert got == want, (text, compiled.source)


@settings(max_examples=100, deadline=None)
@given(_any_expr())
def test_generated_expressions_are_well_typed(text):
    compiled = compile_expression(text, SCOPE)
    assert compiled.type in (NUMBER, BOOLEAN, DATE) or compiled.type.__class__.__name__ == "SimpleType"


def test_duration_values_compare_like_the_reference():
    for a, b in [(Duration(0, 15), Duration(0, 28)), (Duration(6, 0), Duration(12, 0)), (Duration(), Duration(0, 3))]:
        text = "x < y"
        scope = Scope({"x": SCOPE.names["d1"].__class__("duration"), "y": SCOPE.names["d1"].__class__("duration")})
        c = compile_expression(text, scope)
        assert c.fn({"x": a, "y": b}, TODAY) == reference_evaluate(parse(text), {"x": a, "y": b}, TODAY)


# ------------------------------------------------------------------- calendar helpers against naive loops

_dates = st.dates(min_value=date(1995, 1, 1), max_value=date(2035, 12, 31))


@settings(max_examples=400, deadline=None)
@given(_dates, _dates)
def test_age_and_months_between_match_the_naive_definitions(a, b):
    from engine.expr import runtime as R
    import reference_eval as ref

    assert R.age(a, b) == ref.whole_years(a, b)
    assert R.months_between(a, b) == ref.whole_months(a, b)
    assert R.days_between(a, b) == (b - a).days


@settings(max_examples=400, deadline=None)
@given(_dates, st.integers(-500, 500))
def test_add_months_matches_the_naive_definition(d, n):
    from engine.expr import runtime as R
    import reference_eval as ref

    assert R.add_months(d, n) == ref.add_months(d, n)
    # clamping: the day never grows, and only shrinks to the last day of the month
    r = R.add_months(d, n)
    assert r.day <= d.day and (r.day == d.day or (r + __import__("datetime").timedelta(days=1)).day == 1)


# ----------------------------------------------------- untyped (ANY) values: run-time checks, never a crash

from engine.expr.types import ANY  # noqa: E402

ANY_SCOPE = Scope({k: ANY for k in ("n1", "n2", "b1", "b2", "d1", "d2", "xs", "s1", "t1", "v", "ok", "d")},
                  SCOPE.definitions)
_any_values = st.one_of(
    st.none(), st.booleans(), st.integers(-3, 3), st.sampled_from([Decimal("2.5"), Decimal(0)]),
    st.sampled_from(["a", "", date(2026, 1, 31), Duration(1, 0), Duration(0, 15)]),
    st.lists(st.one_of(st.integers(0, 2), st.booleans(), st.none(),
                       st.fixed_dictionaries({"v": st.integers(0, 3), "ok": st.booleans()})), max_size=3),
    st.fixed_dictionaries({"v": st.integers(0, 3)}))


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(st.sampled_from(TOKENS), min_size=1, max_size=10).map(" ".join), _any_expr()),
       st.fixed_dictionaries({k: _any_values for k in ANY_SCOPE.names}))
def test_untyped_values_only_raise_engine_errors(text, raw):
    env = {k: (unknown(k) if v is None else [unknown(k) if x is None else x for x in v] if isinstance(v, list)
               else v) for k, v in raw.items()}
    try:
        c = compile_expression(text, ANY_SCOPE, origin=TextOrigin(file="<prop>"))
        v = c.fn(env, TODAY)
        to_json(v)
    except EngineError as e:
        assert e.diagnostics and e.format()


# ------------------------------------------------------------------- `engine expr`: never an internal error

@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.one_of(st.lists(st.sampled_from(TOKENS + ["123456789012345678901234567890", "1e5", "99999 years"]),
                          min_size=1, max_size=10).map(" ".join),
                 _any_expr().map(lambda t: t.replace("n1", "7").replace("n2", "0.5").replace("b1", "true")
                                 .replace("b2", "false").replace("d1", "2000-02-29").replace("d2", "2026-01-31")
                                 .replace("s1", '"a"').replace("t1", '"x"'))))
def test_engine_expr_exits_0_or_1(text):
    import contextlib
    import io

    from engine.cli.main import main

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["expr", "--at", "2026-03-01", "--", text])
    assert code in (0, 1), err.getvalue()
    assert "internal error" not in err.getvalue() and "Traceback" not in err.getvalue()
    if code == 0:
        import json
        json.loads(out.getvalue())


# ------------------------------------- compiler optimisations: repeated sub-expressions and loop invariants

def _repeats():
    """Expressions that repeat a sub-expression in places that do or do not always run before one another
    (reused values, recomputed values), and filters whose predicate holds sub-expressions not reading the item
    (computed once, on first use)."""
    b, n = _bool(1), _num(1)
    return st.one_of(
        st.tuples(b, b).map(lambda t: f"(({t[0]}) and ({t[1]})) or ({t[0]})"),
        st.tuples(b, b).map(lambda t: f"(({t[1]}) or ({t[0]})) and ({t[0]})"),
        st.tuples(b, n).map(lambda t: f"(if {t[0]} then {t[1]} else 0) + ({t[1]}) > 1"),
        st.tuples(b, b_item()).map(lambda t: f"count(xs where ({t[1]}) and ({t[0]})) >= 1"),
        st.tuples(b, b_item()).map(lambda t: f"count(xs where ({t[0]}) or ({t[1]})) + count(xs where {t[1]}) > 1"),
        st.tuples(n, b_item()).map(lambda t: f"sum((xs where {t[1]} and v < {t[0]}).v) > 1"),
        st.tuples(n, b_item()).map(lambda t: f"count(xs where count(xs where v > {t[0]}) > 0 and {t[1]}) > 0"),
        b_item().map(lambda p: f"count(xs where {p}) >= 1 and min((xs where {p}).d) <= d2 and "
                               f"max((xs where {p}).v) > 0"),
    )


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(_repeats(), _envs)
def test_optimised_code_equals_reference(text, env):
    compiled = compile_expression(text, SCOPE, origin=TextOrigin(file="<prop>"))
    node = parse(text)
    got = _outcome(lambda: compiled.fn(env, TODAY))
    want = _outcome(lambda: reference_evaluate(node, env, TODAY, item_fields=ITEM.fields, definitions=DEFS))
    assert got == want, (text, compiled.source)


# `ys where k == "text" [and ...]` (a text field: comprehension when every item holds a text, else the loop)
ITEM_K = RecordType({"k": STRING, "v": NUMBER})
SCOPE_K = Scope({**SCOPE.names, "ys": ListType(ITEM_K)}, SCOPE.definitions)
_k_items = st.lists(st.fixed_dictionaries(
    {"k": st.sampled_from(["a", "b", None, "absent"]), "v": st.one_of(st.none(), st.integers(-2, 3))}).map(
    lambda d: {k: (unknown(k) if x is None else x) for k, x in d.items() if x != "absent"}), max_size=5)


def _k_filter():
    rest = st.sampled_from(["", " and v > 0", " and v > n1", " and 1 / v > 0", " and (v > 1 or b1)"])
    return st.tuples(st.sampled_from(['k == "a"', '"b" == k']), rest).map(lambda t: f"(ys where {t[0]}{t[1]})")


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_k_filter(), min_size=1, max_size=3), st.sampled_from(["count({})", "sum(({}).v)", "max(({}).v)"]),
       _envs, _k_items)
def test_text_field_filters_equal_reference(filters, agg, env, ys):
    text = " + ".join(agg.format(f) for f in filters) + " >= 1"
    env = dict(env, ys=ys)
    compiled = compile_expression(text, SCOPE_K, origin=TextOrigin(file="<prop>"))
    got = _outcome(lambda: compiled.fn(env, TODAY))
    want = _outcome(lambda: reference_evaluate(parse(text), env, TODAY, item_fields=ITEM_K.fields,
                                               definitions=DEFS))
    assert got == want, (text, compiled.source)
