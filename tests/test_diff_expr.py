"""Expression comparison in the diff (engine/audit/expr_canon.py), data-driven: which spellings are the same expression,
which differences are constant-only (thresholds), and which names an expression reads."""

from __future__ import annotations

import pytest

from engine.audit.expr_canon import constant_changes, default_expr_parser, expr_names, make_expr_parser

PARSE = make_expr_parser(default_expr_parser())
TOKENS = make_expr_parser(None)  # the fallback when the engine's parser is absent

SAME = [
    ("rsa and not disability", "rsa et non disability"),
    ("rsa or disability", "rsa ou disability"),
    ("(rsa)", "rsa"),
    ("((age(birth_date, today) <= 25))", "age( birth_date,today )<=25"),
    ("x <= 40%", "x <= 0.40"),
    ("x <= 40%", "x <= 0.4"),
    ("d + 15 days <= today", "d + 15 jours <= today"),
    ("d + 2 weeks <= today", "d + 14 days <= today"),
    ("d + 1 year <= today", "d + 12 months <= today"),
    ('if rsa then 1 else 2', 'si rsa alors 1 sinon 2'),
    ('count(events where type == "appointment") >= 2', 'count(events where (type == "appointment")) >= 2'),
    ("true", "vrai"),
]
DIFFERENT = [
    ("rsa and disability", "rsa or disability"),
    ("rsa and disability", "disability and rsa"),  # order is kept: no claim of commutativity
    ("x <= 25", "y <= 25"),
    ("x <= 25", "x < 25"),
    ("d + 1 month <= today", "d + 30 days <= today"),
    ('department == "62"', 'department == "59"'),
]
CONSTANTS = [
    ("age(birth_date, today) <= 25", "age(birth_date, today) <= 29", [("25", "29")]),
    ('department == "62"', 'department == "59"', [('"62"', '"59"')]),
    ("d >= 2026-01-12 and d <= 2026-02-15", "d >= 2026-07-01 and d <= 2026-09-15",
     [("12/01/2026", "01/07/2026"), ("15/02/2026", "15/09/2026")]),
    ("count(xs where jeune) <= 20% * count(xs)", "count(xs where jeune) <= 25% * count(xs)", [("20%", "25%")]),
    ('count(events where type == "appointment") >= 2', 'count(events where type == "appointment") >= 3',
     [("2", "3")]),
    ("d + 15 days <= today", "d + 21 jours <= today", [("15 days", "21 jours")]),
    ("x <= 25", "y <= 29", None),
    ("rsa and x <= 25", "rsa or x <= 29", None),
    ("x <= 25", "x <= 25 and rsa", None),
]


@pytest.mark.parametrize("a, b", SAME)
def test_same_expression(a, b):
    assert PARSE(a) == PARSE(b)


@pytest.mark.parametrize("a, b", DIFFERENT)
def test_different_expression(a, b):
    assert PARSE(a) != PARSE(b)


@pytest.mark.parametrize("a, b, expected", CONSTANTS)
def test_constant_changes(a, b, expected):
    assert constant_changes(PARSE(a), PARSE(b)) == expected


@pytest.mark.parametrize("a, b", [("rsa and disability", "rsa et disability"), ("x <= 40%", "x <= 0.40"),
                                  ("x <= 25", "x  <=  25")])
def test_token_fallback_same(a, b):
    assert TOKENS(a) == TOKENS(b)


def test_token_fallback_constants():
    assert constant_changes(TOKENS("age(b, today) <= 25"), TOKENS("age(b, today) <= 29")) == [("25", "29")]
    assert constant_changes(TOKENS("x <= 25"), TOKENS("y <= 25")) is None


def test_text_that_does_not_parse_is_compared_as_text():
    assert PARSE("this is ( not an expression") is None


def test_names_read():
    assert expr_names(PARSE('count(participants where jeune and department == "62") <= 20% * count(participants)')) \
        == {"participants", "jeune", "department"}
    assert expr_names(PARSE("age(birth_date, today) <= max_age")) == {"birth_date", "today", "max_age"}


def test_a_literal_written_as_an_expression_is_the_same_value():
    from engine.audit.diff import diff_documents

    a = {"capacity": [{"id": "places", "value": 70, "objective": 1}], "x": {"condition": True}}
    b = {"capacity": [{"id": "places", "value": "70", "objective": "1.0"}], "x": {"condition": "vrai"}}
    assert diff_documents(a, b).changes == ()
    c = {"capacity": [{"id": "places", "value": "71", "objective": 1}], "x": {"condition": True}}
    assert [x.sentence for x in diff_documents(a, c).changes] == ["Capacité « places » — valeur : 70 -> 71"]
