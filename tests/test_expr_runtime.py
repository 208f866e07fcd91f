"""Runtime values: JSON in (value_from_json) and out (to_json), durations, calendar helpers."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from engine.errors import EvaluationError, RecordError
from engine.expr.runtime import Duration, Unknown, add_months, unknown, unknown_of
from engine.expr.runtime_json import parse_duration, to_json, value_from_json
from engine.expr.types import (ANY, BOOLEAN, DATE, DURATION, INTEGER, NUMBER, STRING, EnumType, ListType, RecordType,
                          type_from_decl)

EVENT = RecordType({"type": EnumType(("appointment", "workshop")), "date": DATE, "mode": STRING})


@pytest.mark.parametrize("raw,typ,expected", [
    (True, BOOLEAN, True),
    ("vrai", BOOLEAN, True),
    (3, NUMBER, 3),
    (0.1, NUMBER, Decimal("0.1")),
    (2.0, NUMBER, 2),
    ("12,50", NUMBER, Decimal("12.50")),
    (Decimal("3.00"), INTEGER, 3),
    ("abc", STRING, "abc"),
    ("lens-lievin", EnumType(("artois", "lens-lievin")), "lens-lievin"),
    ("2026-02-28", DATE, date(2026, 2, 28)),
    ("6 mois", DURATION, Duration(6, 0)),
    ("P1Y6M", DURATION, Duration(18, 0)),
    ("4 weeks", DURATION, Duration(0, 28)),
    ([1, 2.5], ListType(NUMBER), [1, Decimal("2.5")]),
    ([{"type": "appointment", "date": "2026-02-10", "extra": 1.5}], ListType(EVENT),
     [{"type": "appointment", "date": date(2026, 2, 10), "extra": Decimal("1.5")}]),
    ("2026-01-01", ANY, date(2026, 1, 1)),
    ("not a date", ANY, "not a date"),
])
def test_value_from_json(raw, typ, expected):
    v = value_from_json(raw, typ, "x")
    assert v == expected and type(v) is type(expected)


def test_null_is_unknown_with_the_attribute_name():
    assert value_from_json(None, NUMBER, "income") == unknown("income")
    assert value_from_json([1, None], ListType(NUMBER), "xs")[1] == unknown("xs[1]")


@pytest.mark.parametrize("raw,typ,fragment", [
    ("yes", BOOLEAN, "il faut true ou false"),
    (True, NUMBER, "il faut un nombre"),
    (float("nan"), NUMBER, "il faut un nombre"),
    ("1e999999999", NUMBER, "il faut un nombre"),
    ("abc", NUMBER, "il faut un nombre"),
    (2.5, INTEGER, "il faut un nombre entier"),
    (3, STRING, "il faut un texte"),
    ("2026-02-30", DATE, "il faut une date"),
    ("26/02/2026", DATE, "il faut une date"),
    ("six mois", DURATION, "il faut une durée"),
    ({"a": 1}, ListType(NUMBER), "il faut une liste"),
    ([None], ListType(EVENT), "il faut un objet"),
    ([3], ListType(EVENT), "il faut un objet"),
])
def test_value_from_json_errors(raw, typ, fragment):
    with pytest.raises(RecordError) as info:
        value_from_json(raw, typ, "x")
    assert fragment in info.value.diagnostic.message and "« x" in info.value.diagnostic.message


@pytest.mark.parametrize("raw,typ,shown", [
    (True, NUMBER, "pas true"),
    (3, STRING, "pas 3"),
    ("abc", NUMBER, 'pas "abc"'),
    ({"a": 1}, ListType(NUMBER), "pas une table"),
    (Decimal("1E+40"), NUMBER, "pas 1E+40"),
])
def test_value_from_json_errors_show_the_value_as_json_not_python(raw, typ, shown):
    with pytest.raises(RecordError) as info:
        value_from_json(raw, typ, "x")
    assert info.value.diagnostic.message.endswith(shown)


def test_enum_value_error_suggests():
    with pytest.raises(RecordError) as info:
        value_from_json("lens-lieven", EnumType(("artois", "lens-lievin")), "territory")
    assert info.value.code == "record.enum" and "lens-lievin" in info.value.diagnostic.hint


@pytest.mark.parametrize("value,expected", [
    (Decimal("0.30"), 0.3), (Decimal("3.50"), 3.5), (Decimal("40.00"), 40), (Decimal("5270.26"), 5270.26),
    (Decimal("1E+2"), 100), (7, 7), (True, True), (date(2026, 2, 28), "2026-02-28"),
    (Duration(0, 15), "P15D"), (Duration(6, 0), "P6M"), (Duration(18, 0), "P1Y6M"), (Duration(24, 0), "P2Y"),
    (Duration(1, 15), "P1M15D"), (Duration(), "P0D"), (Duration(0, -15), "-P15D"), (Duration(-18, 0), "-P1Y6M"),
    (unknown("x"), None), ([Decimal("1.10"), unknown("y")], [1.1, None]), ({"a": date(2026, 1, 1)}, {"a": "2026-01-01"}),
])
def test_to_json(value, expected):
    out = to_json(value)
    assert out == expected and type(out) is type(expected)


def test_to_json_decimals_print_without_float_noise():
    import orjson
    assert orjson.dumps(to_json(Decimal("0.1") + Decimal("0.2"))) == b"0.3"
    assert orjson.dumps(to_json(Decimal("1234567.89"))) == b"1234567.89"


@pytest.mark.parametrize("text,expected", [
    ("15 days", Duration(0, 15)), ("15 jours", Duration(0, 15)), ("1 day", Duration(0, 1)), ("2 semaines", Duration(0, 14)),
    ("6 months", Duration(6, 0)), ("1 mois", Duration(1, 0)), ("2 ans", Duration(24, 0)), ("1 année", Duration(12, 0)),
    ("P15D", Duration(0, 15)), ("P2W", Duration(0, 14)), ("-P1M", Duration(-1, 0)), ("six mois", None), ("P", None),
    ("15", None),
])
def test_parse_duration(text, expected):
    assert parse_duration(text) == expected


@pytest.mark.parametrize("d,n,expected", [
    (date(2026, 1, 31), 1, date(2026, 2, 28)), (date(2024, 1, 31), 1, date(2024, 2, 29)),
    (date(2026, 3, 31), -1, date(2026, 2, 28)), (date(2026, 12, 31), 2, date(2027, 2, 28)),
    (date(2026, 8, 31), 1, date(2026, 9, 30)), (date(2024, 2, 29), 12, date(2025, 2, 28)),
    (date(2026, 5, 15), -17, date(2024, 12, 15)),
])
def test_add_months_clamps(d, n, expected):
    assert add_months(d, n) == expected


def test_add_months_out_of_range():
    with pytest.raises(OverflowError):
        add_months(date(9999, 12, 1), 1)


def test_unknown_union_and_truth_value():
    a, b = unknown("a"), unknown("b")
    assert (a | b).names == {"a", "b"} and (a | a) is a
    assert unknown_of(1, a, b, True).names == {"a", "b"}
    with pytest.raises(TypeError):
        bool(a)
    assert isinstance(Unknown(), Unknown) and Unknown().names == frozenset()


def test_type_from_decl():
    assert type_from_decl({"type": "enum", "values": ["a", "b"]}) == EnumType(("a", "b"))
    assert type_from_decl({"type": "list", "items": {"type": "date"}}) == ListType(DATE)
    assert type_from_decl({"type": "integer"}) == INTEGER
    assert type_from_decl("boolean") == BOOLEAN
    assert hash(RecordType({"a": NUMBER})) == hash(RecordType({"a": NUMBER}))
    with pytest.raises(ValueError):
        type_from_decl({"type": "money"})


def test_unbound_name_is_an_evaluation_error_not_a_key_error():
    from engine.expr.compiler import compile_expression
    from engine.errors import EvaluationError
    from engine.expr.types import Scope

    c = compile_expression("x + y", Scope({"x": NUMBER, "y": NUMBER}))
    with pytest.raises(EvaluationError) as info:
        c.fn({"x": 1}, date(2026, 1, 1))
    assert info.value.code == "eval.unbound" and info.value.diagnostic.col == 5


def test_runtime_errors_are_positioned_at_each_origin():
    """The same text compiled at two places of a spec gives errors at each place (compilations are shared)."""
    from engine.expr.compiler import compile_expression
    from engine.errors import EvaluationError, TextOrigin
    from engine.expr.types import Scope

    scope = Scope({"x": NUMBER})
    a = compile_expression("10 / x", scope, origin=TextOrigin(file="a.yaml", line=3, col=16))
    b = compile_expression("10 / x", scope, origin=TextOrigin(file="b.yaml", line=9, col=5))
    for c, where in ((a, ("a.yaml", 3, 19)), (b, ("b.yaml", 9, 8))):
        with pytest.raises(EvaluationError) as info:
            c.fn({"x": 0}, date(2026, 1, 1))
        d = info.value.diagnostic
        assert (d.file, d.line, d.col) == where
    assert a.fn({"x": 4}, date(2026, 1, 1)) == Decimal("2.5")


@pytest.mark.parametrize("value", [10**20, -(10**40), 10**400, Decimal("1E+400"), Decimal("123456789012345678901.5")])
def test_to_json_of_huge_numbers_is_writable(value):
    import json

    from engine.cli.expr import _dumps
    out = _dumps(to_json(value))
    if isinstance(value, int):
        assert json.loads(out) == value  # whole numbers stay exact


# ------------------------------------------------- optional index of a list attribute by a text field (binder)

def test_index_given_in_env_is_used_only_for_its_own_list():
    from engine.expr.compiler import compile_expression
    from engine.expr.runtime import index_by_text, index_key
    from engine.expr.types import NUMBER, STRING, ListType, RecordType, Scope

    scope = Scope({"events": ListType(RecordType({"type": STRING, "v": NUMBER}))})
    text = 'count(events where type == "a") * 10 + count(events where type == "a" and v > 1)'
    c = compile_expression(text, scope)
    events = [{"type": "a", "v": 2}, {"type": "b", "v": 5}, {"type": "a", "v": 1}]
    plain = c.fn({"events": events}, date(2026, 3, 1))
    assert plain == 21
    key = index_key("events", "type")
    assert key == "_index:events:type"
    ix = index_by_text(events, "type")
    assert ix[1] == {"a": [events[0], events[2]], "b": [events[1]]}
    assert c.fn({"events": events, key: ix}, date(2026, 3, 1)) == 21
    # the index is read: a (deliberately wrong) index for this list changes what the filter sees...
    fake = (events, {"a": [events[0]]})
    assert c.fn({"events": events, key: fake}, date(2026, 3, 1)) == 11
    # ... but one built for another list object is ignored (the window's events of an obligation, a copy)
    assert c.fn({"events": list(events), key: fake}, date(2026, 3, 1)) == 21
    # no index when an item has no text type
    assert index_by_text([{"type": "a"}, {"v": 1}], "type") is None
    assert index_by_text([{"type": "a"}, "x"], "type") is None


# ------------------------------------------------- events vouched sorted by date (binder): filters on date bisect

_DATE_FILTERS = [
    'count(events where type == "a" and date <= d)',
    'count(events where type == "a" and date < d)',
    'count(events where type == "a" and date >= d)',
    'count(events where type == "a" and date > d)',
    'count(events where type == "a" and date == d)',
    'count(events where type == "a" and date >= d - 3 days and date <= e)',
    'count(events where type == "a" and date > 2026-03-05 and date < e)',
    'sum((events where type == "a" and d <= date).v)',
    'min((events where type == "a" and date >= d).v)',
]


def _date_scope():
    from engine.expr.types import NUMBER, STRING, ListType, RecordType, Scope

    return Scope({"events": ListType(RecordType({"type": STRING, "date": DATE, "v": NUMBER})), "d": DATE,
                  "e": DATE})


def _outcome(fn, env):
    try:
        return "value", repr(fn(env, date(2026, 4, 1)))
    except EvaluationError as e:  # (an empty min: the same error either way)
        return "error", str(e)


@pytest.mark.parametrize("text", _DATE_FILTERS)
def test_filters_on_dates_of_sorted_events_bisect_with_the_same_result(text):
    """With the binder's index and its promise that the events are sorted by date (``runtime.sorted_key``), a
    filter on the date of the events of a type takes a slice found by bisection: the same result as the loop, for
    every bound (before, between, on and after the dates, duplicates, unknown)."""
    from hypothesis import given, settings, strategies as st

    from engine.expr.compiler import compile_expression
    from engine.expr.runtime import index_by_text, index_key, sorted_key

    c = compile_expression(text, _date_scope())
    assert "_bisect_" in c.source  # the sliced form is generated
    days = st.integers(0, 12).map(lambda k: date(2026, 3, 1 + k))

    @settings(max_examples=150, deadline=None, database=None)
    @given(st.lists(st.tuples(st.sampled_from("ab"), days, st.integers(0, 9)), max_size=12),
           st.one_of(days, st.just(unknown("d"))), days)
    def check(raw, d, e):
        events = sorted(({"type": t, "date": x, "v": v} for t, x, v in raw), key=lambda ev: ev["date"])
        plain = _outcome(c.fn, {"events": events, "d": d, "e": e})
        fast = _outcome(c.fn, {"events": events, "d": d, "e": e,
                               index_key("events", "type"): index_by_text(events, "type"),
                               sorted_key("events", "date"): events})
        assert fast == plain

    check()


def test_sorted_promise_is_read_only_for_its_own_list():
    from engine.expr.compiler import compile_expression
    from engine.expr.runtime import index_by_text, index_key, sorted_key

    c = compile_expression('count(events where type == "a" and date <= d)', _date_scope())
    events = [{"type": "a", "date": date(2026, 3, k), "v": 1} for k in (9, 2, 5)]  # NOT sorted
    d = date(2026, 3, 4)
    ix = index_by_text(events, "type")
    assert c.fn({"events": events, "d": d}, date(2026, 4, 1)) == 1
    # the promise is believed (a false one changes the answer: it is the binder's to keep) ...
    assert c.fn({"events": events, "d": d, index_key("events", "type"): ix, sorted_key("events", "date"): events},
                date(2026, 4, 1)) == 2  # (a bisection over [9, 2, 5]: the first two)
    # ... only for the very list it names, and only with the index of that list
    assert c.fn({"events": events, "d": d, index_key("events", "type"): ix,
                 sorted_key("events", "date"): list(events)}, date(2026, 4, 1)) == 1
    assert c.fn({"events": events, "d": d, sorted_key("events", "date"): events}, date(2026, 4, 1)) == 1
