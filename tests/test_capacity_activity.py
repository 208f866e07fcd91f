"""Capacity per role (01:37 « 1 ETP pour 800 DSP », 01:83 « 1 ETP = 70 places »): a ratio with `activity:` counts the
ETP of the staff assigned to that activity, not all staff of the operation."""

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.operation.report import build_report
from engine.spec.compile import load_spec

ROOT = Path(__file__).resolve().parent.parent
AT = date(2026, 6, 1)


@pytest.fixture(scope="module")
def spec():
    return load_spec(str(ROOT / "specs" / "dynamisation-des-parcours.yaml"))


def caps(spec, staff):
    op = {"id": "OP", "spec": "dynamisation-des-parcours", "convention_start": "2026-01-01",
          "convention_end": "2027-12-31", "dsp_places": 100, "staff": staff}
    return {c["id"]: c for c in build_report(spec, op, [], AT)["capacity"]}


def test_each_ratio_counts_its_own_staff(spec):
    c = caps(spec, [{"id": "A", "cost": 50000, "activity": "accueil"},
                    {"id": "B", "cost": 50000, "activity": "accompagnement"},
                    {"id": "C", "cost": 50000, "activity": "accompagnement", "work_time": 0.5}])
    assert (c["dsp_per_fte"]["fte"], c["dsp_per_fte"]["capacity"]) == (Decimal(1), Decimal(800))
    assert (c["places_per_fte"]["fte"], c["places_per_fte"]["capacity"]) == (Decimal("1.5"), Decimal(105))


def test_a_shared_person_appears_once_per_activity_with_its_share(spec):
    c = caps(spec, [{"id": "A", "cost": 25000, "activity": "accueil", "allocation": 0.5},
                    {"id": "A", "cost": 25000, "activity": "accompagnement", "allocation": 0.5}])
    assert c["dsp_per_fte"]["capacity"] == Decimal(400) and c["places_per_fte"]["capacity"] == Decimal(35)


def test_support_functions_never_count(spec):
    c = caps(spec, [{"id": "A", "cost": 50000, "activity": "accueil"},
                    {"id": "D", "cost": 20000, "activity": "accueil", "support_function": True}])
    assert c["dsp_per_fte"]["fte"] == Decimal(1)
    assert c["places_per_fte"]["fte"] == Decimal(0) and c["places_per_fte"]["capacity"] == Decimal(0)


def test_without_activities_the_capacity_is_unknown_not_all_staff(spec):
    c = caps(spec, [{"id": "A", "cost": 50000}, {"id": "B", "cost": 50000}])
    for k in ("dsp_per_fte", "places_per_fte"):
        assert c[k]["capacity"] is None and c[k]["status"] == "unknown"
        assert "activity" in c[k]["note"]


def test_a_bad_activity_in_the_record_is_a_record_error(spec):
    from engine.errors import RecordError
    with pytest.raises(RecordError) as e:
        caps(spec, [{"id": "A", "cost": 50000, "activity": 3}])
    assert "staff[0].activity" in e.value.diagnostic.message
