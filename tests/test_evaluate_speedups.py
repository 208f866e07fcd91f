"""The shortcuts of the hot path give exactly the results of the plain evaluation.

- obligations: windows restricted to the event types a condition can see, one evaluation for all empty windows;
- caches of dates, month arithmetic and window sequences.
"""

from __future__ import annotations

import dataclasses
import sys
from datetime import date
from pathlib import Path

import orjson
import pytest

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tools"))

from synth import Synth  # noqa: E402

from engine.beneficiary import evaluate as E  # noqa: E402
from engine.spec.compile import load_spec  # noqa: E402
from engine.expr.compiler import compile_expression  # noqa: E402
from engine.spec.model import obligation_scope  # noqa: E402
from engine.beneficiary.obligations import event_types_seen  # noqa: E402

MINI = load_spec(ROOT / "tests/data/specs/mini.yaml")


def _cond(text: str):
    return dataclasses.replace(MINI.obligations[0].condition,
                               compiled=compile_expression(text, obligation_scope(MINI.scope)))


@pytest.mark.parametrize("text,types", [
    ('count(events where type == "appointment") >= 2', {"appointment"}),
    ('count(events where type == "appointment" and mode == "in_person") >= 1 '
     'and sum((events where type == "activity").hours) <= 15', {"appointment", "activity"}),
    ('count(events where type in ["appointment", "activity"]) >= 1', {"appointment", "activity"}),
    ('count(events where type == "appointment" and mode == "phone" and hours > 1) >= 1', {"appointment"}),
    # the type test must come first: `x and type == ...` evaluates x (which may fail) on every item
    ('count(events where mode == "phone" and type == "appointment") >= 1', None),
    ("count(events) >= 2", None),                                                   # every event counts
    ('count(events where type == "appointment" or mode == "phone") >= 1', None),    # `or`: not a restriction
    ('count(events where mode == "phone") >= 1', None),
    ('count(events where type != "activity") >= 1', None),
    ('window_end - window_start >= 7 days', set()),                                 # no event at all
])
def test_event_types_seen(text, types):
    got = event_types_seen(_cond(text))
    assert (None if got is None else set(got)) == types


def test_a_definition_disables_the_restriction():
    assert event_types_seen(_cond('count(events where type == "appointment") >= 2'), {"count_rdv"}) is not None
    cond = _cond('count(events where type == "appointment") >= 2 and rsa')
    assert event_types_seen(cond, {"rsa"}) is None


@pytest.mark.parametrize("spec_path", ["tests/data/specs/mini.yaml",
                                       "specs/accompagnement-social-professionnel-intensif.yaml"])
def test_shortcuts_give_the_plain_results(spec_path):
    spec = load_spec(ROOT / spec_path)
    s = Synth(spec, 11, date(2026, 1, 5))
    lines = [orjson.dumps(s.record(i, date(2026, 12, 31), 0.4, 0.2, spread=150)) for i in range(300)]
    params = {"min_barriers": 2} if "min_barriers" in spec.parameters else {}
    at = date(2026, 10, 15)
    fast = list(E.evaluate_stream(spec, [(i, orjson.loads(x)) for i, x in enumerate(lines, 1)], at, params))
    plan = E.plan_for(spec)
    # the plain evaluation: every event in every window, no shared empty-window result (bounds "read")
    plain_obl = tuple(info[:4] + (True, None, None, None, info[8][:5] + (None,)) for info in plan.obligations)
    E._PLANS[id(spec)] = dataclasses.replace(plan, obligations=plain_obl)
    try:
        plain = list(E.evaluate_stream(spec, [(i, orjson.loads(x)) for i, x in enumerate(lines, 1)], at, params))
    finally:
        E._PLANS.pop(id(spec), None)
    assert fast == plain
    assert sum(o["windows_checked"] for r in fast if r["status"] == "ok" for o in r["obligations"]) > 300


# ------------------------------------------------------------------------------------------ memo by window content

@pytest.mark.parametrize("text,fields", [
    ('count(events where type == "appointment") >= 2', ("type",)),
    ('count(events where type == "appointment" and mode == "in_person") >= 1', ("type", "mode")),
    ('sum((events where type == "activity").hours) >= 7', ("type", "hours")),
    ('count(events where type == "appointment" and date >= window_start) >= 1', None),   # dates differ
    ('count(events where type == "activity" and date > today - 7 days) >= 1', None),     # depends on --at
    ('count(events where type == "appointment") >= 1 and rsa', None),                    # an attribute
    ('count(events where type == "appointment" and hours > 1) >= 1', None),  # not declared for appointments
    ("count(events) >= 2", None),                                            # any type
    # a field is checked against the types of the filter it is read in, not every type the condition sees
    ('count(events where type == "appointment" and mode == "phone") == 0 '
     'or count(events where type == "activity") >= 1', ("type", "mode")),
    ('sum((events where type == "activity").hours) >= 7 and count(events where type == "appointment") >= 1',
     ("type", "hours")),
    ('count(events where type == "activity" and mode == "phone") >= 1', None),           # mode: not an activity's
    ('sum((events where type in ["activity", "appointment"]).hours) >= 7', None),        # hours: not an appointment's
])
def test_content_memo_only_when_the_window_content_decides(text, fields):
    from engine.beneficiary.obligations import content_memo

    cond = _cond(text)
    getter = content_memo(cond, event_types_seen(cond), frozenset(MINI.definitions), MINI.events)
    assert (None if getter is None else getter.fields) == fields


def test_memo_tells_absent_null_and_present_fields_apart():
    """Months whose appointments carry the same values hit the memo; a mode absent, null or of another value are
    different contents (compared with the plain path, every window evaluated)."""
    def rdv(d, **f):
        return {"type": "appointment", "date": d, **f}

    rec = {"id": "m", "rsa": True, "department": "62", "peripheral_barriers": 3, "birth_date": "1990-01-01",
           "history": [{"phase": "orientation", "date": "2026-01-02"}, {"phase": "accueil", "date": "2026-01-05"},
                       {"phase": "contrat", "date": "2026-02-01"}],
           "events": [rdv("2026-01-06", mode="in_person"),
                      rdv("2026-02-03", mode="in_person"), rdv("2026-02-10", mode="phone"),       # met
                      rdv("2026-03-03", mode="in_person"), rdv("2026-03-10", mode="phone"),       # same content
                      rdv("2026-04-03"), rdv("2026-04-10", mode="phone"),                         # mode absent
                      rdv("2026-05-03", mode=None), rdv("2026-05-10", mode="phone"),              # mode null
                      rdv("2026-06-03", mode="phone"), rdv("2026-06-10", mode="phone")]}          # unmet
    plan = E.plan_for(MINI)
    outs = []
    for p in (plan, dataclasses.replace(plan, fast=False)):
        E._PLANS[id(MINI)] = p
        try:
            outs.append(E.evaluate_record(MINI, rec, date(2026, 7, 15), {"min_barriers": 2}))
        finally:
            E._PLANS.pop(id(MINI), None)
    fast, plain = outs
    assert fast == plain
    ob = next(o for o in fast["obligations"] if o["id"] == "monthly_appointments")
    assert ob["windows_checked"] == 5 and [w["start"] for w in ob["failed"]][-1] == date(2026, 6, 1)
    assert ob["missing"] == ["mode"]  # the absent mode leaves April undecided
