"""One duration syntax (engine/expr/durations.py): one table of texts, accepted and refused, run through every entry
point that reads a duration a person wrote -- the spec's duration fields, the expression grammar, the JSON Schema of
specs and the semantic diff's normal form -- which must agree on each text and on its value ("1 an et 6 mois" is 18
months everywhere). Records also read ISO 8601 (what the engine prints), and only records do."""

from __future__ import annotations

import json
import shutil
from importlib import resources
from pathlib import Path

import jsonschema
import pytest

from engine.audit.normal_form import norm_scalar
from engine.errors import ExpressionError, SpecError
from engine.expr import durations
from engine.expr import nodes as N
from engine.expr.parser import parse
from engine.expr.runtime import Duration
from engine.expr.runtime_json import parse_duration as record_duration
from engine.spec.compile import load_spec
from engine.spec.context import parse_duration as spec_duration

SPECS = Path(__file__).resolve().parent / "specs"

ACCEPTED = [
    ("15 days", 0, 15), ("15 jours", 0, 15), ("1 day", 0, 1), ("1 jour", 0, 1), ("4 weeks", 0, 28),
    ("4 semaines", 0, 28), ("1 semaine", 0, 7), ("6 months", 6, 0), ("6 mois", 6, 0), ("1 month", 1, 0),
    ("2 years", 24, 0), ("2 ans", 24, 0), ("1 an", 12, 0), ("3 années", 36, 0), ("1 année", 12, 0),
    ("2 annees", 24, 0), ("1 an et 6 mois", 18, 0), ("1 year and 6 months", 18, 0), ("1 year 6 months", 18, 0),
    ("2 ans 3 mois 10 jours", 27, 10), ("1 mois et 3 jours", 1, 3), ("6mois", 6, 0), ("  3 Months ", 3, 0),
    ("1 AN ET 6 MOIS", 18, 0), ("2 Années", 24, 0), ("0 days", 0, 0), ("0 mois", 0, 0), ("1 an  et   6 mois", 18, 0),
]
REFUSED = [
    "", "   ", "six mois", "15", "days", "mois 6", "15 fortnights", "15 dayss", "1.5 months", "1,5 mois", "-3 days",
    "+3 days", "P15D", "P1Y6M", "1 an, 6 mois", "1 an et", "et 6 mois", "1 an et et 6 mois", "1 an6 mois",
    "1 an ou 6 mois", "\u0663 mois", "6 mois x",
]


def by_spec(text):
    d = spec_duration(text)
    return None if d is None else (d.months, d.days)


def by_grammar(text):
    try:
        node = parse(text)
    except ExpressionError:
        return None
    return (node.value.months, node.value.days) if isinstance(node, N.DurationLit) else None


SCHEMA = json.loads((resources.files("engine.spec.schema") / "spec.schema.json").read_text(encoding="utf-8"))
DURATION_SCHEMA = SCHEMA["$defs"]["duration"]
VALIDATOR = jsonschema.validators.validator_for(SCHEMA)(DURATION_SCHEMA)


def by_schema(text):
    return VALIDATOR.is_valid(text)


def by_diff(text):
    n = norm_scalar(text, "max_duration")
    return n.key if n.kind == "duration" else None


def diff_value(key) -> tuple[int, int]:
    """(months, days) of a duration's comparison key: ("duration", "M", 18), ("duration", "D", 14), or both."""
    fields = dict(zip(key[1::2], key[2::2]))
    return fields.get("M", 0), fields.get("D", 0)


@pytest.mark.parametrize("text,months,days", ACCEPTED)
def test_every_entry_point_accepts_it_with_the_same_value(text, months, days):
    assert by_spec(text) == (months, days)
    assert by_grammar(text) == (months, days)
    assert by_schema(text)
    assert diff_value(by_diff(text)) == (months, days)
    assert record_duration(text) == Duration(months, days)


@pytest.mark.parametrize("text", REFUSED)
def test_every_entry_point_refuses_it(text):
    assert by_spec(text) is None
    assert by_grammar(text) is None
    assert not by_schema(text)
    assert by_diff(text) is None


@pytest.mark.parametrize("text,months,days", [("P15D", 0, 15), ("P1Y6M", 18, 0), ("-P3D", 0, -3), ("P2W", 0, 14)])
def test_records_also_read_iso_8601(text, months, days):
    assert record_duration(text) == Duration(months, days)
    assert by_spec(text) is None and by_grammar(text) is None and not by_schema(text)


def test_the_schema_holds_the_pattern_of_the_syntax():
    assert DURATION_SCHEMA["pattern"] == durations.SCHEMA_PATTERN, \
        "copy engine.expr.durations.SCHEMA_PATTERN into $defs.duration.pattern of engine/spec/schema/spec.schema.json"
    assert "(?i" not in durations.SCHEMA_PATTERN and "(?P" not in durations.SCHEMA_PATTERN  # ECMA 262, as editors read it


def test_the_grammar_holds_the_pattern_of_the_syntax():
    from engine.expr.parser import grammar_text

    assert durations.TOKEN_PATTERN in grammar_text() and "@DURATION@" not in grammar_text()


def test_the_diff_sees_one_year_and_six_months_as_eighteen_months():
    assert by_diff("1 an et 6 mois") == by_diff("18 months") == by_diff("1 year 6 months") == ("duration", "M", 18)
    assert by_diff("2 semaines") == by_diff("14 days") == ("duration", "D", 14)
    assert by_diff("1 mois et 3 jours") == ("duration", "M", 1, "D", 3) != by_diff("1 mois")
    assert norm_scalar("1 an et 6 mois").text == "1 an et 6 mois"
    assert norm_scalar("2 ans 3 mois 1 jour").text == "2 ans, 3 mois et 1 jour"
    assert norm_scalar("2 weeks").text == "2 semaines"


def test_an_expression_compares_one_year_and_six_months_with_eighteen_months():
    from engine.expr.compiler import evaluate_expression

    assert evaluate_expression("1 an et 6 mois == 18 mois", {}) is True
    assert evaluate_expression("max([15 days, 3 weeks])", {}) == Duration(0, 21)  # a comma still separates items


def test_the_grammar_keeps_its_messages_for_what_is_not_a_duration():
    with pytest.raises(ExpressionError) as e:
        parse("1.5 mois")
    assert e.value.diagnostics[0].code == "expr.syntax.duration"
    with pytest.raises(ExpressionError) as e:
        parse("1000000 days")
    assert e.value.diagnostics[0].code == "expr.limit.number"


@pytest.fixture
def spec_copy(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_IMPORT_ROOT", str(tmp_path))
    shutil.copy(SPECS / "vocab.yaml", tmp_path / "vocab.yaml")
    text = (SPECS / "ok_full.yaml").read_text(encoding="utf-8")
    assert "    total_max_duration: 18 months\n" in text

    def write(total: str) -> Path:
        p = tmp_path / "spec.yaml"
        p.write_text(text.replace("    total_max_duration: 18 months\n", f"    total_max_duration: {total}\n"),
                     encoding="utf-8")
        return p
    return write


def test_a_spec_reads_one_year_and_six_months(spec_copy):
    spec = load_spec(spec_copy("1 an et 6 mois"))
    assert spec.phases["contrat"].total_max_duration == Duration(18, 0)


@pytest.mark.parametrize("total", ["1 an, 6 mois", "P1Y6M", "18"])
def test_a_spec_refuses_what_is_not_a_duration(spec_copy, total):
    with pytest.raises(SpecError) as e:
        load_spec(spec_copy(total))
    assert any("total_max_duration" in (d.path or "") + d.message for d in e.value.diagnostics), e.value.diagnostics
