"""A null event field is an absent one: reading it gives unknown (named in `missing`), never a wrong false or a crash.

Both binding paths (the fast one used by `engine evaluate` and the plain reference one) must agree.
"""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from engine.beneficiary.bind import Binder
from engine.spec.compile import load_spec
from engine.expr.compiler import compile_expression
from engine.expr.runtime import Unknown

MINI = Path(__file__).parent / "data" / "specs" / "mini.yaml"
AT = date(2026, 6, 1)


@pytest.fixture(scope="module")
def spec():
    return load_spec(MINI)


def _record(events):
    return {"id": "N-1", "birth_date": "1990-01-01", "department": "62", "rsa": True,
            "history": [{"phase": "orientation", "date": "2026-02-02"}], "events": events}


CASES = [
    # expression, events, expected (a value, or the set of missing names when unknown)
    ('count(events where type == "appointment" and mode == "in_person")',
     [{"type": "appointment", "date": "2026-02-10", "mode": None}], {"mode"}),
    ('count(events where type == "appointment" and mode == "in_person")',
     [{"type": "appointment", "date": "2026-02-10", "mode": "in_person"},
      {"type": "appointment", "date": "2026-02-11", "mode": None}], {"mode"}),
    ('count(events where type == "activity" and hours > 3)',
     [{"type": "activity", "date": "2026-02-10", "hours": None}], {"hours"}),
    ('count(events where type == "activity" and hours > 3)',
     [{"type": "activity", "date": "2026-02-10", "hours": 5}], 1),
    ('count(events where type == "appointment" and mode == "phone")',
     [{"type": "appointment", "date": "2026-02-10", "mode": "phone", "note": None}], 1),
]


@pytest.mark.parametrize("text,events,expected", CASES)
@pytest.mark.parametrize("path", ["fast", "plain"])
def test_null_event_field_is_unknown(spec, text, events, expected, path):
    import copy

    binder = Binder(spec)
    raw = copy.deepcopy(_record(events))
    env = binder.bind(raw, {}) if path == "fast" else binder.bind_plain(raw, {})[0]
    value = compile_expression(text, spec.scope).fn(env, AT)
    if isinstance(expected, set):
        assert isinstance(value, Unknown), value
        assert set(value.names) == expected
    else:
        assert value == expected
    assert all(v is not None for e in env["events"] for v in e.values())
