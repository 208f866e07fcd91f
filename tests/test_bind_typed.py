"""Typed decoding (engine/beneficiary/bind_typed.py): records msgspec decodes against the spec's types evaluate exactly as the
ordinary path does (orjson, then the plain binding), whatever the record holds; what msgspec refuses falls back.

The shipped specs are compared in tests/test_evaluate_fastpath.py; here: arbitrary and hostile records (hypothesis),
numbers at the limits of orjson's reading, nulls, the fallback itself, and the specs it does not apply to.
"""

from __future__ import annotations

import dataclasses
from datetime import date
from pathlib import Path

import orjson
import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.beneficiary import evaluate as E
from engine.beneficiary.bind_typed import Typed, TypedDecoder
from engine.spec.compile import load_spec
from engine.beneficiary.records import BadRecord, decode_object, read_records

ROOT = Path(__file__).resolve().parent.parent
MINI = ROOT / "tests/data/specs/mini.yaml"
AT = date(2026, 9, 1)


def _variant(tmp_path: Path) -> Path:
    """mini.yaml plus an event type whose `mode` is a number (the appointment's is an enumeration), a list
    attribute and a duration attribute."""
    text = MINI.read_text(encoding="utf-8")
    text = text.replace("""    activity:
      label: Activité SIA""", """    meeting:
      label: Réunion
      fields:
        mode: {type: number, label: Nombre de participants}
    activity:
      label: Activité SIA""")
    text = text.replace("""    sex: {type: enum, values: [F, M], label: Sexe}""", """    sex: {type: enum, values: [F, M], label: Sexe}
    territories: {type: list, items: {type: enum, values: [artois, ternois]}, label: Territoires}
    notice: {type: duration, label: Préavis}""")
    p = tmp_path / "mini-variant.yaml"
    p.write_text(text, encoding="utf-8")
    return p


def _both(spec, lines: list[bytes], params=None) -> tuple[list, list, list]:
    """(typed results, plain results, the typed decoder's items)."""
    plan = E.plan_for(spec)
    items = [(i, plan.decoder(x)) for i, x in enumerate(lines, 1)]
    typed = list(E.evaluate_stream(spec, items, AT, params, owned=True))
    plain_plan = dataclasses.replace(plan, fast=False)
    E._PLANS[id(spec)] = plain_plan
    try:
        plain = list(E.evaluate_stream(spec, [(i, decode_object(x)) for i, x in enumerate(lines, 1)], AT, params,
                                       owned=True))
    finally:
        E._PLANS[id(spec)] = plan
    return typed, plain, items


# ----------------------------------------------------------------------------------------------- arbitrary records

_DATES = st.sampled_from(["2026-01-05", "2026-02-28", "2026-03-02", "2026-04-30", "2026-06-15", "2026-02-30",
                          "2026-1-05", "05/01/2026", "0000-01-01", ""])
_SCALARS = st.one_of(st.none(), st.booleans(), st.integers(-3, 40),
                     st.sampled_from([7.5, 15.0, 0.1, 1e300, 2.0 ** 60]),
                     st.sampled_from(["62", "59", "F", "M", "X", "in_person", "video", "artois", "6 months", "x"]),
                     _DATES)
_VALUES = st.one_of(_SCALARS, st.lists(_SCALARS, max_size=3), st.dictionaries(st.sampled_from(["a", "b"]), _SCALARS,
                                                                                 max_size=2))
_EVENT = st.fixed_dictionaries(
    {"type": st.one_of(st.sampled_from(["appointment", "activity", "meeting", "other"]), _SCALARS),
     "date": st.one_of(_DATES, _SCALARS)},
    optional={"mode": _VALUES, "hours": _VALUES, "note": _VALUES, "rsa": _VALUES})
_HISTORY = st.fixed_dictionaries({"phase": st.sampled_from(["orientation", "accueil", "contrat", "sortie", "zzz"]),
                                  "date": _DATES}, optional={"note": _VALUES})
_RECORD = st.fixed_dictionaries(
    {"id": st.one_of(st.sampled_from(["A-1", "B-2"]), _SCALARS)},
    optional={"birth_date": st.one_of(_DATES, _VALUES), "department": _VALUES, "rsa": _VALUES,
              "disability": _VALUES, "peripheral_barriers": _VALUES, "income": _VALUES, "sex": _VALUES,
              "territories": _VALUES, "notice": _VALUES, "undeclared": _VALUES,
              "history": st.one_of(st.lists(_HISTORY, max_size=4), _SCALARS),
              "events": st.one_of(st.lists(st.one_of(_EVENT, _SCALARS), max_size=8), _SCALARS)})


@pytest.fixture(scope="module")
def mini_spec():
    return load_spec(MINI)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(_RECORD, min_size=1, max_size=4))
def test_typed_path_equals_plain_path_on_arbitrary_records(mini_spec, records):
    lines = [orjson.dumps(r) for r in records]
    # text orjson cannot write: bad bytes, numbers that overflow or do not fit 64 bits, in declared and undeclared
    # keys
    hostile = [b'"\xff"', b'"\xed\xa0\x80"', b"1e400", b"-1E+309", b"1" * 330, b"123456789012345678901234567890",
               b"-0.0", b"1E2", b"18446744073709551616", b"-9223372036854775809", b"9223372036854775807"]
    lines = [ln.replace(b'"x"', hostile[k % len(hostile)], 1) if k % 3 == 0 else ln for k, ln in enumerate(lines)]
    typed, plain, _ = _both(mini_spec, lines, {"min_barriers": 2})
    assert typed == plain


@pytest.mark.parametrize("value", [b"18446744073709551615", b"18446744073709551616", b"-9223372036854775808",
                                   b"-9223372036854775809", b"123456789012345678901234567890", b"1e400", b"7.5",
                                   b"1e20", b"-4.5e17",
                                   b"15.0", b"0.1", b"1E2"])
@pytest.mark.parametrize("where", ["income", "peripheral_barriers", "hours", "note"])
def test_numbers_at_the_limits(mini_spec, value, where):
    if where == "hours":
        line = b'{"id": "A", "events": [{"type": "activity", "date": "2026-03-02", "hours": ' + value + b"}]}"
    else:
        line = b'{"id": "A", "' + where.encode() + b'": ' + value + b"}"
    typed, plain, _ = _both(mini_spec, [line], {"min_barriers": 2})
    assert typed == plain


def test_no_typed_decoding_for_inputs_msgspec_cannot_check(tmp_path):
    # a list and a duration attribute, and `mode` declared as an enumeration and as a number: the ordinary path
    spec = load_spec(_variant(tmp_path))
    assert E.plan_for(spec).decoder is None
    line = orjson.dumps({"id": "A", "territories": ["artois"], "notice": "2 months",
                         "events": [{"type": "meeting", "date": "2026-03-02", "mode": 12}]})
    [r] = E.evaluate_stream(spec, [(1, decode_object(line))], AT, {"min_barriers": 2}, owned=True)
    assert r["status"] == "ok"


@pytest.mark.parametrize("line, code", [(b'{"rsa": true}', "missing_id"), (b'{"id": "  ", "rsa": true}', "invalid_id")])
def test_id_errors_on_the_typed_path(mini_spec, line, code):
    # msgspec accepts both (the id is optional to it): the typed binding reports them as the ordinary one does
    typed, plain, items = _both(mini_spec, [line], {"min_barriers": 2})
    assert isinstance(items[0][1], Typed)
    assert typed == plain and typed[0]["error"]["code"] == code


def test_null_fields(mini_spec):
    # a null attribute is unknown on the typed path too; a null event field goes the ordinary way (dropped there)
    lines = [orjson.dumps({"id": "A", "rsa": None, "income": None}),
             orjson.dumps({"id": "B", "events": [{"type": "appointment", "date": "2026-03-02", "mode": None}]})]
    typed, plain, items = _both(mini_spec, lines, {"min_barriers": 2})
    assert typed == plain
    assert [type(x).__name__ for _, x in items] == ["Typed", "dict"]


def test_fractional_numbers_are_exact_decimals(mini_spec):
    line = orjson.dumps({"id": "A", "income": 1234.56, "peripheral_barriers": 3.0,
                         "events": [{"type": "activity", "date": "2026-03-02", "hours": 0.1}]})
    plan = E.plan_for(mini_spec)
    item = plan.decoder(line)
    assert isinstance(item, Typed)
    from engine.beneficiary.bind_typed import bind_typed

    env, dates, index = bind_typed(plan.binder, item.raw, plan.binder.params({"min_barriers": 2}), plan.decoder)
    from decimal import Decimal

    assert env["income"] == Decimal("1234.56") and env["income"].__class__ is Decimal
    assert env["peripheral_barriers"] == 3 and env["peripheral_barriers"].__class__ is int
    assert index["activity"][0]["hours"] == Decimal("0.1")
    assert dates == [date(2026, 3, 2)]


@pytest.mark.parametrize("line, kind", [
    (b'{"id": "A", "rsa": tru}', BadRecord),                               # invalid JSON: the ordinary message
    (b'{"id": "A", "rsa": "oui"}', dict),                                   # wrong type: the ordinary binding says so
    (b'{"id": "A", "events": [{"type": "activity", "date": "2026-02-30"}]}', dict),  # no such date
    (b'{"id": "A", "events": [{"type": "activity", "date": "2026-02-03", "hours": null}]}', dict),  # null field
    (b'[1, 2]', BadRecord),
    (b'{"id": "A", "b": "\xff"}', BadRecord),                               # invalid UTF-8 in a skipped key
    (b'{"id": "A", "b": "\xed\xa0\x80"}', BadRecord),                       # an encoded surrogate
    (b'{"id": "A", "b": 1e400}', BadRecord),                                # a skipped number that overflows
    (b'{"id": "A", "b": -1E+309}', BadRecord),
    (b'{"id": "A", "b": 9' + b"9" * 320 + b'.5}', BadRecord),
    (b'{"id": "A", "b": 1e-400, "rsa": true}', Typed),                      # underflow: no error for orjson either
    (b'{"id": "A", "rsa": true}', Typed),
])
def test_what_msgspec_refuses_goes_the_ordinary_way(mini_spec, line, kind):
    item = E.plan_for(mini_spec).decoder(line)
    assert isinstance(item, kind)
    if kind is not Typed:
        assert type(item) is type(decode_object(line)) and (kind is dict or item == decode_object(line))


def test_engine_evaluate_reads_jsonl_and_json_arrays_typed(mini_spec, tmp_path):
    recs = [{"id": "A", "rsa": True, "department": "62"}, {"id": "B", "rsa": "x"}]
    jl = tmp_path / "r.jsonl"
    jl.write_bytes(b"".join(orjson.dumps(r) + b"\n" for r in recs))
    arr = tmp_path / "r.json"
    arr.write_bytes(orjson.dumps(recs))
    dec = E.plan_for(mini_spec).decoder
    for path in (jl, arr):
        kinds = [type(x).__name__ for _, x in read_records(str(path), decode=dec)]
        assert kinds == ["Typed", "dict"]
