"""Eligibility (three-valued, reasons, exact `missing`), deadlines and obligations (see tests/evalkit.py)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import given, settings, strategies as st

import evalkit as K
from engine.beneficiary.evaluate import evaluate_record
from engine.spec.model import Obligation

O, A, C, S = "orientation", "accueil", "contrat", "sortie"

# ------------------------------------------------------------------------------------------------ eligibility

RES = K.leaf("resident_62", K.is_("department", "62"), "Réside dans le Pas-de-Calais")
RSA = K.leaf("brsa", K.is_("rsa", True), "Bénéficiaire du RSA")
DIS = K.leaf("disabled", K.is_("disability", True), "En situation de handicap")
SEX = K.leaf("woman", K.is_("sex", "F"), "Femme")
TREE = K.group("all", RES, K.group("any", RSA, DIS), K.group("not", SEX))
ELIG = K.make_spec(eligibility_beneficiary=TREE)

ABSENT = object()

# department, rsa, disability, sex -> eligible, missing
ELIG_CASES = [
    ("62", True, ABSENT, "M", True, []),
    ("59", True, ABSENT, "M", False, []),
    ("59", ABSENT, ABSENT, ABSENT, False, []),          # false and unknown == false: nothing is missing
    (ABSENT, True, ABSENT, "M", None, ["department"]),
    ("62", ABSENT, ABSENT, "M", None, ["disability", "rsa"]),
    ("62", ABSENT, True, "M", True, []),                # true or unknown == true
    ("62", False, False, "M", False, []),
    ("62", True, ABSENT, ABSENT, None, ["sex"]),        # not unknown == unknown
    ("62", True, ABSENT, "F", False, []),
    (ABSENT, ABSENT, ABSENT, ABSENT, None, ["department", "disability", "rsa", "sex"]),
    (ABSENT, True, ABSENT, "F", False, []),             # decided by the `not` group
]


def _elig_record(dep, rsa, dis, sex):
    r = {"id": "E-1"}
    for k, v in (("department", dep), ("rsa", rsa), ("disability", dis), ("sex", sex)):
        if v is not ABSENT:
            r[k] = v
    return r


@pytest.mark.parametrize("dep,rsa,dis,sex,eligible,missing", ELIG_CASES)
def test_eligibility_kleene_and_missing(dep, rsa, dis, sex, eligible, missing):
    out = evaluate_record(ELIG, _elig_record(dep, rsa, dis, sex), date(2026, 3, 1))
    assert out["eligible"] is eligible
    assert out["missing"] == missing


def test_reasons_list_every_leaf_with_value_label_source():
    out = evaluate_record(ELIG, _elig_record("62", ABSENT, True, "M"), date(2026, 3, 1))
    assert out["reasons"] == [
        {"rule": "resident_62", "value": True, "text": "Réside dans le Pas-de-Calais",
         "source": "01-dynamisation-des-parcours.txt:16"},
        {"rule": "brsa", "value": None, "text": "Bénéficiaire du RSA", "source": "01-dynamisation-des-parcours.txt:16",
         "missing": ["rsa"]},
        {"rule": "disabled", "value": True, "text": "En situation de handicap",
         "source": "01-dynamisation-des-parcours.txt:16"},
        {"rule": "woman", "value": False, "text": "Femme", "source": "01-dynamisation-des-parcours.txt:16"},
    ]


def _ref(tree, vals):
    """Reference Kleene evaluation over {True, False, None}; returns (value, missing set)."""
    kind = tree[0]
    if kind == "leaf":
        return vals[tree[1]]
    if kind == "not":
        v, m = _ref(tree[1], vals)
        return (None if v is None else not v), m
    subs = [_ref(t, vals) for t in tree[1]]
    dec = kind == "any"
    if any(v is dec for v, _ in subs):
        return dec, set()
    unk = [m for v, m in subs if v is None]
    if unk:
        return None, set().union(*unk)
    return (not dec), set()


@settings(max_examples=150, deadline=None)
@given(st.lists(st.sampled_from(["department", "rsa", "disability", "sex"]), unique=True),
       st.fixed_dictionaries({"department": st.sampled_from(["62", "59"]), "rsa": st.booleans(),
                              "disability": st.booleans(), "sex": st.sampled_from(["F", "M"])}))
def test_eligibility_matches_reference_kleene(absent, values):
    from engine.beneficiary.evaluate import plan_for

    rec = {"id": "H"}
    rec.update({k: v for k, v in values.items() if k not in absent})
    out = evaluate_record(ELIG, rec, date(2026, 3, 1))
    names = ["department", "rsa", "disability", "sex"]
    expect = {"department": "62", "rsa": True, "disability": True, "sex": "F"}
    vals = [(None, {n}) if n in absent else (values[n] == expect[n], set()) for n in names]
    v, missing = _ref(plan_for(ELIG).tree, vals)
    assert out["eligible"] is v
    assert out["missing"] == (sorted(missing) if v is None else [])


def test_no_eligibility_rules_means_eligible_with_no_reasons():
    out = evaluate_record(K.make_spec(), {"id": "x"}, date(2026, 3, 1))
    assert out["eligible"] is True and out["reasons"] == [] and out["missing"] == []


# ------------------------------------------------------------------------------------------------ deadlines

SPEC = K.path_spec(obligations=())
BASE = [(O, "2026-02-02"), (A, "2026-02-10"), (C, "2026-02-20")]


def _deadline(out, id_):
    return next(d for d in out["deadlines"] if d["id"] == id_)


# events, at -> status, due, date of first_appointment (15 days after orientation 2026-02-02, in person)
DEADLINE_CASES = [
    ([K.appt("2026-02-10")], "2026-03-01", "met", "2026-02-17", "2026-02-10"),
    ([K.appt("2026-02-17")], "2026-03-01", "met", "2026-02-17", "2026-02-17"),       # on the due date: met
    ([K.appt("2026-02-18")], "2026-03-01", "missed", "2026-02-17", "2026-02-18"),    # late
    ([], "2026-02-18", "missed", "2026-02-17", None),                                # due date passed, nothing
    ([], "2026-02-17", "pending", "2026-02-17", None),                               # still open on the due date
    ([K.appt("2026-02-10", "phone")], "2026-02-12", "pending", "2026-02-17", None),   # `where` filters the phone call
    ([K.appt("2026-02-10", "phone"), K.appt("2026-02-12")], "2026-03-01", "met", "2026-02-17", "2026-02-12"),
    ([K.appt("2026-01-20")], "2026-02-12", "pending", "2026-02-17", None),           # before the anchor: not counted
    ([K.appt("2026-02-02")], "2026-02-12", "met", "2026-02-17", "2026-02-02"),       # same day as the anchor
]


@pytest.mark.parametrize("events,at,status,due,when", DEADLINE_CASES)
def test_deadline_statuses(events, at, status, due, when):
    out = evaluate_record(SPEC, K.rec(BASE[:1], events), K.D(at))
    d = _deadline(out, "first_appointment")
    assert (d["status"], str(d["due"]), None if d["date"] is None else str(d["date"])) == (status, due, when)
    missed = [v for v in out["path"]["violations"] if v["rule"] == "first_appointment"]
    assert [v["code"] for v in missed] == (["deadline_missed"] if status == "missed" else [])


def test_deadline_not_applicable_without_anchor_and_phase_target():
    out = evaluate_record(SPEC, K.rec([]), K.D("2026-03-01"))
    assert [(d["id"], d["status"], d["due"]) for d in out["deadlines"]] == [
        ("first_appointment", "not_applicable", None), ("contract_signed", "not_applicable", None)]
    out = evaluate_record(SPEC, K.rec(BASE, [K.appt("2026-02-10")]), K.D("2026-03-01"))
    d = _deadline(out, "contract_signed")
    assert (d["status"], str(d["due"]), str(d["date"])) == ("met", "2026-03-02", "2026-02-20")
    late = BASE[:2] + [(C, "2026-03-03")]
    out = evaluate_record(SPEC, K.rec(late, [K.appt("2026-02-10")]), K.D("2026-03-05"))
    d = _deadline(out, "contract_signed")
    assert d["status"] == "missed" and str(d["date"]) == "2026-03-03"
    v = out["path"]["first_violation"]
    assert v["code"] == "deadline_missed" and v["at"] == 2
    assert v["message"] == ("« CE signé dans les 4 semaines » : échéance le 02/03/2026, réalisé le 03/03/2026 "
                            "(1 jour de retard).")


def test_deadline_applies_if():
    dl = SPEC.deadlines[0]
    spec = K.path_spec(obligations=(), deadlines=(type(dl)(**{**dl.__dict__, "applies_if": K.expr(K.is_("rsa", True))}),))
    out = evaluate_record(spec, K.rec(BASE[:1], rsa=False), K.D("2026-03-01"))
    assert out["deadlines"][0]["status"] == "not_applicable"
    r = K.rec(BASE[:1])
    del r["rsa"]
    out = evaluate_record(spec, r, K.D("2026-03-01"))
    assert out["deadlines"][0]["status"] == "not_applicable" and out["deadlines"][0]["missing"] == ["rsa"]


# ------------------------------------------------------------------------------------------------ obligations

def _ob(out):
    return out["obligations"][0]


def _appts(*days):
    return [K.appt(d, "in_person" if i == 0 else "phone") for i, d in enumerate(days)]


OSPEC = K.path_spec(deadlines=())


def test_obligation_met_unmet_pending_and_partial_windows_skipped():
    # contrat from 2026-02-20: February is partial (skipped), March and April are checked, May is pending at 05-10
    events = _appts("2026-03-02", "2026-03-20") + _appts("2026-04-02", "2026-04-25")
    out = evaluate_record(OSPEC, K.rec(BASE, events), K.D("2026-05-10"))
    o = _ob(out)
    assert (o["status"], o["windows_checked"], o["windows_skipped"], o["windows_pending"], o["failed"]) == \
        ("met", 2, 1, 1, [])
    # April with a single appointment: unmet, one failed window, one violation dated the window's end
    events = _appts("2026-03-02", "2026-03-20") + _appts("2026-04-02")
    out = evaluate_record(OSPEC, K.rec(BASE, events), K.D("2026-05-10"))
    o = _ob(out)
    assert o["status"] == "unmet"
    assert [(str(f["start"]), str(f["end"])) for f in o["failed"]] == [("2026-04-01", "2026-04-30")]
    v = [v for v in out["path"]["violations"] if v["code"] == "obligation_unmet"]
    assert len(v) == 1 and str(v[0]["date"]) == "2026-04-30" and v[0]["at"] == 2
    assert v[0]["message"] == ("« Au moins 2 rendez-vous par mois, dont 1 physique » non respecté sur la période du "
                               "01/04/2026 au 30/04/2026 (avril 2026).")


def test_obligation_legal_neighbour_is_legal():
    events = _appts("2026-03-02", "2026-03-20") + _appts("2026-04-02", "2026-04-30")
    out = evaluate_record(OSPEC, K.rec(BASE, events), K.D("2026-05-10"))
    assert out["path"]["legal"] is True and _ob(out)["status"] == "met"


def test_obligation_only_pending_and_not_applicable():
    out = evaluate_record(OSPEC, K.rec(BASE, []), K.D("2026-02-25"))
    o = _ob(out)
    assert (o["status"], o["windows_checked"], o["windows_pending"]) == ("pending", 0, 1)
    out = evaluate_record(OSPEC, K.rec(BASE[:2], []), K.D("2026-05-25"))
    assert _ob(out)["status"] == "not_applicable"


def test_obligation_partial_windows_check():
    ob = OSPEC.obligations[0]
    spec = K.path_spec(deadlines=(), obligations=(Obligation(**{**ob.__dict__, "partial_windows": "check"}),))
    # February (from 02-20) is now checked, with the events of the stay only
    events = [K.appt("2026-02-05"), K.appt("2026-02-10")] + _appts("2026-02-21", "2026-02-25") + \
        _appts("2026-03-02", "2026-03-20")
    out = evaluate_record(spec, K.rec(BASE, events), K.D("2026-04-10"))
    o = _ob(out)
    assert (o["status"], o["windows_checked"], o["windows_skipped"]) == ("met", 2, 0)
    events = [K.appt("2026-02-05"), K.appt("2026-02-10"), K.appt("2026-02-21")] + _appts("2026-03-02", "2026-03-20")
    o = _ob(evaluate_record(spec, K.rec(BASE, events), K.D("2026-04-10")))
    assert o["status"] == "unmet" and str(o["failed"][0]["start"]) == "2026-02-01"


def test_obligation_closed_stay_last_partial_window_skipped_and_renewals_merge():
    # contrat 2026-02-20 -> renewal 2026-03-20 -> sortie 2026-05-15: March is one window across the renewal,
    # May is partial (skipped); April has nothing -> unmet
    h = BASE + [(C, "2026-03-20"), (S, "2026-05-15")]
    events = _appts("2026-03-02", "2026-03-25")
    o = _ob(evaluate_record(OSPEC, K.rec(h, events), K.D("2026-06-10")))
    assert (o["status"], o["windows_checked"], o["windows_skipped"], o["windows_pending"]) == ("unmet", 2, 2, 0)
    assert [str(f["start"]) for f in o["failed"]] == ["2026-04-01"]


def test_same_day_event_belongs_to_the_new_phase():
    # the appointment on the day the contract starts (2026-03-01) counts in March, inside the contrat stay
    h = [(O, "2026-02-16"), (A, "2026-02-20"), (C, "2026-03-01")]
    events = [K.appt("2026-03-01"), K.appt("2026-03-31", "phone")]
    o = _ob(evaluate_record(OSPEC, K.rec(h, events), K.D("2026-04-02")))
    assert (o["status"], o["windows_checked"]) == ("met", 1)


@pytest.mark.parametrize("every,at,checked", [
    ("week", "2026-03-30", 5),      # ISO weeks from Mon 02-23 to Sun 03-29 (the stay starts on Friday 02-20)
    ("quarter", "2026-10-01", 2),   # Q2 and Q3 2026 (Q1 partial; the renewal on 08-01 keeps the period going)
    ("year", "2027-01-02", 0),      # 2026 is partial, 2027 is pending
])
def test_calendar_periods(every, at, checked):
    ob = OSPEC.obligations[0]
    always = K.expr(lambda env, t: True, "vrai")
    h = BASE + [(C, "2026-08-01")] if every != "week" else BASE
    spec = K.path_spec(deadlines=(), obligations=(Obligation(**{**ob.__dict__, "every": every, "condition": always}),))
    o = _ob(evaluate_record(spec, K.rec(h), K.D(at)))
    assert o["windows_checked"] == checked


def test_duration_windows_from_phase_entry():
    ob = OSPEC.obligations[0]
    seen = []

    def cond(env, t):
        seen.append((str(env["window_start"]), str(env["window_end"]), len(env["events"])))
        return len(env["events"]) >= 1

    spec = K.path_spec(deadlines=(), obligations=(Obligation(**{**ob.__dict__, "every": K.dur(days=14),
                                                                "condition": K.expr(cond)}),))
    events = [K.appt("2026-02-20"), K.appt("2026-03-10")]
    o = _ob(evaluate_record(spec, K.rec(BASE, events), K.D("2026-03-20")))
    assert seen == [("2026-02-20", "2026-03-05", 1), ("2026-03-06", "2026-03-19", 1)]
    assert (o["status"], o["windows_pending"]) == ("met", 1)


def test_evaluate_record_does_not_modify_its_input():
    import copy

    r = K.rec(BASE, [K.appt("2026-02-10"), {"type": "activity", "date": "2026-02-21", "hours": 2.5}])
    before = copy.deepcopy(r)
    out = evaluate_record(OSPEC, r, K.D("2026-03-01"))
    assert out["status"] == "ok" and r == before


def test_non_object_record_is_an_error_line():
    out = evaluate_record(OSPEC, ["not", "an", "object"], K.D("2026-03-01"))  # type: ignore[arg-type]
    assert out["status"] == "error" and out["error"]["code"] == "not_an_object"


# ------------------------------------------------------------------------------------------------ robustness

_json = st.recursive(st.none() | st.booleans() | st.integers(-10**20, 10**20) | st.floats(allow_nan=True)
                     | st.text(max_size=12) | st.sampled_from(["2026-02-10", "2026-02-30", "orientation", "contrat",
                                                              "appointment", "in_person", "62"]),
                     lambda kids: st.lists(kids, max_size=4) | st.dictionaries(
                         st.sampled_from(["phase", "date", "type", "mode", "hours", "x"]), kids, max_size=4),
                     max_leaves=20)
_entry = st.fixed_dictionaries({"phase": st.sampled_from([O, A, C, S, "zz", 3]),
                                "date": st.sampled_from(["2026-02-02", "2026-03-01", "2026-02-30", "2027-01-31",
                                                         None, 5])})
_event = st.fixed_dictionaries({"type": st.sampled_from(["appointment", "activity", "other", None]),
                                "date": st.sampled_from(["2026-02-10", "2026-03-05", "2026-13-01"])},
                               optional={"mode": st.sampled_from(["in_person", "phone", 1, None, ["x"]]),
                                         "hours": st.sampled_from([1, 2.5, "3", None, True])})


def _mini():
    from pathlib import Path

    from engine.spec.compile import load_spec

    return load_spec(Path(__file__).parent / "data/specs/mini.yaml")


MINI = _mini()


@pytest.mark.parametrize("spec", [OSPEC, MINI], ids=["python-rules", "compiled-mini"])
@settings(max_examples=120, deadline=None)
@given(st.dictionaries(st.sampled_from(["id", "rsa", "department", "birth_date", "income", "sex", "tags", "history",
                                        "events", "other"]), _json, max_size=6),
       st.lists(_entry, max_size=6), st.lists(_event, max_size=8), st.booleans())
def test_any_record_gives_an_ok_or_error_object(spec, raw, history, events, structured):
    if structured:
        raw = dict(raw, id="R", history=history, events=events)
    out = evaluate_record(spec, raw, K.D("2026-04-01"), {"min_barriers": 2} if spec is MINI else None)
    assert out["status"] in ("ok", "error")
    if out["status"] == "error":
        assert out["error"]["code"] and out["error"]["message"]
    else:
        assert out["eligible"] in (True, False, None) and isinstance(out["path"]["violations"], list)


def test_evaluate_stream_leaves_items_untouched_unless_owned():
    import copy

    from engine.beneficiary.evaluate import evaluate_stream

    r = K.rec(BASE, [K.appt("2026-02-10"), {"type": "activity", "date": "2026-02-21", "hours": 2.5}])
    before = copy.deepcopy(r)
    a = list(evaluate_stream(OSPEC, [(1, r)], K.D("2026-03-01")))
    assert r == before
    b = list(evaluate_stream(OSPEC, [(1, r)], K.D("2026-03-01"), owned=True))
    assert a == b and r["events"][0]["date"] == K.D("2026-02-10")  # converted in place
    assert list(evaluate_stream(OSPEC, [(1, r)], K.D("2026-03-01"))) == a  # a converted record evaluates the same
