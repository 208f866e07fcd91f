"""Property: streaming the aggregates over ``participants`` (engine/operation/compile.py lifts them out of the expression,
engine/operation/indicators.py computes them in one pass) gives the same value as the expression compiled as written and
evaluated with the whole cohort in memory as a list (the expression language's own ``count``/``sum``/... on a list).
Cohorts without missing data (with missing data the streamed count leaves unknown participants out, by design)."""

from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine.operation.report import _val, build_report
from engine.spec.compile import load_spec
from engine.beneficiary.evaluate import plan_for
from engine.operation.compile import sections_of

AT = date(2027, 4, 15)
EXPRESSIONS = [
    "count(participants)",
    "count(participants where rsa and support_months >= 6)",
    "sum((participants where not rsa).support_months)",
    "sum(participants.support_months) - 3 * count(participants where exit_type == \"cdi\")",
    "max(participants.support_months)",
    "min(participants.entry_date) <= 2026-03-01",
    "if any(participants.slai_validated) then 1 else 0",
    "if all(participants.slai_validated) then 1 else 0",
    "count(participants where exit_type in [\"cdi\", \"training\"]) * 2 + count(participants)",
    "avg(participants.support_months)",
    "count(participants where count(events where type == \"appointment\") >= 2)",
    "count(participants where rsa) <= 20% * count(participants)",
]


@pytest.fixture(scope="module")
def spec(tmp_path_factory):
    base = (Path(__file__).parent / "data" / "ops" / "aci.yaml").read_text(encoding="utf-8")
    base = base.replace("    slai_validated: {type: boolean, label: Validé par le SLAI}\n",
                        "    slai_validated: {type: boolean, label: Validé par le SLAI}\n"
                        "  events:\n    appointment: {label: Rendez-vous, fields: {}}\n")
    head = base.partition("indicators:\n")[0]
    inds = "indicators:\n" + "".join(f"  - {{id: e{i}, label: e{i}, value: '{e}', source: \"05-chantiers-insertion.txt:117\"}}\n"
                                     for i, e in enumerate(EXPRESSIONS))
    p = tmp_path_factory.mktemp("props") / "props.yaml"
    p.write_text(head + inds, encoding="utf-8")
    return load_spec(str(p))


participant = st.fixed_dictionaries({
    "rsa": st.booleans(),
    "support_months": st.integers(0, 24),
    "exit_type": st.sampled_from(["cdi", "cdd_short", "training", "none"]),
    "slai_validated": st.booleans(),
    "birth_date": st.dates(date(1960, 1, 1), date(2008, 12, 31)).map(date.isoformat),
    "entry_date": st.dates(date(2026, 1, 1), date(2026, 12, 31)).map(date.isoformat),
    "events": st.lists(st.fixed_dictionaries({"type": st.just("appointment"),
                                              "date": st.dates(date(2026, 1, 1), date(2027, 1, 1)).map(
                                                  date.isoformat)}), max_size=4),
})


@settings(max_examples=60, deadline=None)
@given(st.lists(participant, min_size=1, max_size=25))
def test_streamed_aggregates_equal_the_expression_on_the_whole_list(spec, people):
    rows = [dict(p, id=f"P{i}") for i, p in enumerate(people)]
    report = build_report(spec, {"id": "o"}, [(i + 1, {**r, "events": [dict(e) for e in r["events"]]})
                                              for i, r in enumerate(rows)], AT)
    binder = plan_for(spec).binder
    cohort = [binder.bind({**r, "events": [dict(e) for e in r["events"]]}, {}) for r in rows]
    env = {"participants": cohort, "today": AT}
    for ind, row in zip(sections_of(spec).indicators, report["indicators"]):
        expected = ind.value.expr.compiled.fn(env, AT)
        assert row["value"] == _val(expected), (ind.value.text, row["value"], expected)
