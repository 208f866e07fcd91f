"""Path conformance: every violation code has a case that triggers it and a legal neighbour that does not.

The spec (tests/evalkit.py): orientation (entry) -> accueil within 15 days -> contrat (guard: rsa; min 1 month,
max 6 months, at most 2 renewals, 15 months in total) -> sortie (end, not before 7 days in contrat); accueil ->
sortie; convention ends 2027-12-31. Deadlines and obligations are switched off here (tested in
test_evaluate_deadlines.py) so that each case isolates the path rules.
"""

from __future__ import annotations

import pytest

import evalkit as K
from engine.beneficiary.evaluate import evaluate_record

SPEC = K.path_spec(deadlines=(), obligations=())

O, A, C, S = "orientation", "accueil", "contrat", "sortie"
BASE = [(O, "2026-02-02"), (A, "2026-02-10"), (C, "2026-02-20")]

# (name, history, at, extra attributes, expected codes in order, expected `at` index of the first violation)
CASES = [
    ("legal path", BASE, "2026-03-01", {}, [], None),
    ("no history", [], "2026-03-01", {}, [], None),
    # illegal_start
    ("illegal_start", [(A, "2026-02-10"), (C, "2026-02-20")], "2026-03-01", {}, ["illegal_start"], 0),
    ("illegal_start neighbour", [(O, "2026-02-10"), (A, "2026-02-20")], "2026-03-01", {}, [], None),
    # unknown_phase
    ("unknown_phase", [(O, "2026-02-02"), ("acceuil", "2026-02-10")], "2026-02-12", {}, ["unknown_phase"], 1),
    ("unknown_phase neighbour", [(O, "2026-02-02"), (A, "2026-02-10")], "2026-02-12", {}, [], None),
    # transition_not_allowed
    ("transition_not_allowed", [(O, "2026-02-02"), (C, "2026-02-10")], "2026-02-12", {}, ["transition_not_allowed"], 1),
    ("transition_not_allowed neighbour", [(O, "2026-02-02"), (A, "2026-02-05"), (C, "2026-02-10")], "2026-02-12", {},
     [], None),
    # guard_failed
    ("guard_failed", BASE, "2026-03-01", {"rsa": False}, ["guard_failed"], 2),
    ("guard_failed neighbour", BASE, "2026-03-01", {"rsa": True}, [], None),
    # dates_out_of_order
    ("dates_out_of_order", [(O, "2026-02-10"), (A, "2026-02-02")], "2026-02-12", {}, ["dates_out_of_order"], 1),
    ("dates_out_of_order neighbour (same day)", [(O, "2026-02-10"), (A, "2026-02-10")], "2026-02-12", {}, [], None),
    # min_duration_not_reached (phase minimum 1 month, transition `after` 7 days)
    ("min_duration_not_reached (phase)", BASE + [(S, "2026-03-19")], "2026-04-01", {}, ["min_duration_not_reached"], 3),
    ("min_duration_not_reached neighbour (exactly 1 month)", BASE + [(S, "2026-03-20")], "2026-04-01", {}, [], None),
    # max_duration_exceeded: on leaving, and while still in the phase at --at
    ("max_duration_exceeded", BASE + [(S, "2026-08-21")], "2026-09-01", {}, ["max_duration_exceeded"], 3),
    ("max_duration_exceeded neighbour (last allowed day)", BASE + [(S, "2026-08-20")], "2026-09-01", {}, [], None),
    ("max_duration_exceeded open stay", BASE, "2026-08-21", {}, ["max_duration_exceeded"], 2),
    ("max_duration_exceeded open stay neighbour", BASE, "2026-08-20", {}, [], None),
    # renewals_exceeded (at most 2 renewals)
    ("renewals_exceeded", BASE + [(C, "2026-03-20"), (C, "2026-04-20"), (C, "2026-05-20")], "2026-06-01", {},
     ["renewals_exceeded"], 5),
    ("renewals_exceeded neighbour", BASE + [(C, "2026-03-20"), (C, "2026-04-20")], "2026-06-01", {}, [], None),
    # total_duration_exceeded (15 months including renewals; each stay stays under 6 months)
    ("total_duration_exceeded", [(O, "2026-01-20"), (A, "2026-01-25"), (C, "2026-02-01"), (C, "2026-07-01"),
                                 (C, "2026-12-01"), (S, "2027-05-02")], "2027-06-01", {},
     ["total_duration_exceeded"], 5),
    ("total_duration_exceeded neighbour", [(O, "2026-01-20"), (A, "2026-01-25"), (C, "2026-02-01"),
                                           (C, "2026-07-01"), (C, "2026-12-01"), (S, "2027-05-01")], "2027-06-01", {},
     [], None),
    ("total_duration_exceeded open stay", [(O, "2026-01-20"), (A, "2026-01-25"), (C, "2026-02-01"),
                                           (C, "2026-07-01"), (C, "2026-12-01")], "2027-05-02", {},
     ["total_duration_exceeded"], 4),
    # outside_convention: dated before the start of the convention (2026-01-01)
    ("outside_convention (start)", [(O, "2025-12-31"), (A, "2026-01-05")], "2026-01-10", {}, ["outside_convention"], 0),
    ("outside_convention (start) neighbour", [(O, "2026-01-01"), (A, "2026-01-05")], "2026-01-10", {}, [], None),
    # after_end: after an end phase; outside_convention: dated after the end of the convention
    ("after_end (after exit)", [(O, "2026-02-02"), (A, "2026-02-10"), (S, "2026-02-12"), (A, "2026-02-20")],
     "2026-03-01", {}, ["after_end"], 3),
    ("after_end neighbour", [(O, "2026-02-02"), (A, "2026-02-10"), (S, "2026-02-12")], "2026-03-01", {}, [], None),
    ("outside_convention (end)", [(O, "2027-12-20"), (A, "2028-01-02")], "2028-01-03", {}, ["outside_convention"], 1),
    ("outside_convention (end) neighbour", [(O, "2027-12-20"), (A, "2027-12-31")], "2028-01-03", {}, [], None),
    # deadline_missed on a transition `within`, and for an open stay whose only ways out have passed
    ("deadline_missed (transition)", [(O, "2026-02-02"), (A, "2026-02-18")], "2026-02-20", {}, ["deadline_missed"], 1),
    ("deadline_missed (transition) neighbour", [(O, "2026-02-02"), (A, "2026-02-17")], "2026-02-20", {}, [], None),
    ("deadline_missed (open stay)", [(O, "2026-02-02")], "2026-02-18", {}, ["deadline_missed"], 0),
    ("deadline_missed (open stay) neighbour", [(O, "2026-02-02")], "2026-02-17", {}, [], None),
]


def _run(history, at, attrs):
    return evaluate_record(SPEC, K.rec(history, **attrs), K.D(at))


@pytest.mark.parametrize("name,history,at,attrs,codes,first_at", CASES, ids=[c[0] for c in CASES])
def test_violation_codes(name, history, at, attrs, codes, first_at):
    out = _run(history, at, attrs)
    assert out["status"] == "ok", out
    path = out["path"]
    assert [v["code"] for v in path["violations"]] == codes
    assert path["legal"] is (not codes)
    if codes:
        fv = path["first_violation"]
        assert fv["code"] == codes[0] and fv["at"] == first_at
        assert fv["message"] and fv["date"] is not None
    else:
        assert path["first_violation"] is None


def test_every_code_is_covered():
    wanted = {"illegal_start", "unknown_phase", "transition_not_allowed", "guard_failed", "dates_out_of_order",
              "min_duration_not_reached", "max_duration_exceeded", "renewals_exceeded", "total_duration_exceeded",
              "after_end", "outside_convention", "deadline_missed"}  # obligation_unmet: test_evaluate_obligations.py
    assert wanted <= {c for case in CASES for c in case[4]}


def test_message_is_plain_french_with_dates_and_limit():
    out = _run([(O, "2026-02-02"), (A, "2026-02-18")], "2026-02-20", {})
    v = out["path"]["first_violation"]
    assert v["message"] == ("« Accueil » a commencé 16 jours après l'entrée en « Orientation » (maximum 15 jours, "
                            "soit le 17/02/2026 au plus tard).")
    assert v["source"] == K.SRC and v["rule"] == "orientation->accueil"
    assert str(v["limit"]) == "2026-02-17"


def test_min_duration_message_and_source():
    out = _run(BASE + [(S, "2026-03-10")], "2026-04-01", {})
    v = out["path"]["violations"][0]
    assert v["message"] == ("La phase « Contrat d'engagement » a duré 18 jours (minimum 1 mois, soit jusqu'au "
                            "20/03/2026 au moins).")
    assert v["source"] == "01-dynamisation-des-parcours.txt:79" and v["rule"] == "contrat"


def test_month_end_clamp_for_max_duration():
    # entered on 31 August: 6 months later is 28 February (clamped); leaving on 1 March is over the limit
    h = [(O, "2026-08-20"), (A, "2026-08-25"), (C, "2026-08-31")]
    assert _run(h + [(S, "2027-02-28")], "2027-03-05", {})["path"]["violations"] == []
    codes = [v["code"] for v in _run(h + [(S, "2027-03-01")], "2027-03-05", {})["path"]["violations"]]
    assert codes == ["max_duration_exceeded"]


def test_violations_sorted_by_date_and_several_reported():
    # a late accueil (deadline_missed at index 1) and then an illegal move (index 2)
    out = _run([(O, "2026-02-02"), (A, "2026-02-20"), (O, "2026-02-25")], "2026-02-26", {})
    codes = [(v["code"], v["at"]) for v in out["path"]["violations"]]
    assert codes[:2] == [("deadline_missed", 1), ("transition_not_allowed", 2)]
    assert out["path"]["first_violation"]["code"] == "deadline_missed"


def test_unknown_guard_is_not_a_violation_but_is_reported_missing():
    r = K.rec(BASE)
    del r["rsa"]
    out = evaluate_record(SPEC, r, K.D("2026-03-01"))
    assert out["path"]["violations"] == []
    assert out["path"]["missing"] == ["rsa"]


def test_current_phase_and_next_steps():
    out = _run(BASE, "2026-03-01", {})
    path = out["path"]
    assert path["current_phase"] == C
    nxt = {n["phase"]: (str(n["earliest"]), str(n["latest"])) for n in path["next"]}
    # renewal or exit: not before 1 month (min), exit also not before 7 days; at most 6 months
    assert nxt == {C: ("2026-03-20", "2026-08-20"), S: ("2026-03-20", "2026-08-20")}


def test_next_steps_exclude_exhausted_renewals_and_passed_limits():
    h = BASE + [(C, "2026-03-20"), (C, "2026-04-20")]
    nxt = [n["phase"] for n in _run(h, "2026-05-01", {})["path"]["next"]]
    assert nxt == [S]  # 2 renewals used
    # orientation: accueil within 15 days; after that nothing is allowed any more
    assert [n["phase"] for n in _run([(O, "2026-02-02")], "2026-02-17", {})["path"]["next"]] == [A]
    assert _run([(O, "2026-02-02")], "2026-02-18", {})["path"]["next"] == []


def test_next_steps_show_the_guard_as_a_condition():
    nxt = _run([(O, "2026-02-02"), (A, "2026-02-05")], "2026-02-06", {"rsa": False})["path"]["next"]
    assert [(n["phase"], n.get("condition")) for n in nxt] == [(C, "rsa"), (S, None)]


def test_next_steps_without_history_and_after_end():
    assert [n["phase"] for n in _run([], "2026-02-06", {})["path"]["next"]] == [O]
    out = _run([(O, "2026-02-02"), (A, "2026-02-05"), (S, "2026-02-06")], "2026-03-01", {})
    assert out["path"]["current_phase"] == S and out["path"]["next"] == []


DETERMINISTIC = [(O, "2026-02-10"), (A, "2026-02-02"), (C, "2026-01-01"), ("x", "2026-01-02"), (S, "2029-01-01")]


def _violations_json() -> str:
    """The violations of a history with several faults, as JSON (run in a child process too)."""
    import json

    return json.dumps(_run(DETERMINISTIC, "2026-03-01", {})["path"]["violations"], default=str, ensure_ascii=False)


def test_deterministic():
    """Several violations come in one order, by date then step, the same in every run and under any hash seed."""
    import json
    import os
    import subprocess
    import sys
    from pathlib import Path

    a = _run(DETERMINISTIC, "2026-03-01", {})
    assert a == _run(DETERMINISTIC, "2026-03-01", {})
    assert [(v["code"], v["at"]) for v in a["path"]["violations"]] == [
        ("dates_out_of_order", 2), ("unknown_phase", 3), ("dates_out_of_order", 1), ("outside_convention", 4)]
    assert a["path"]["first_violation"] == a["path"]["violations"][0]
    here = Path(__file__).resolve().parent
    code = "import test_conformance as t; print(t._violations_json())"
    for seed in ("0", "1", "12345"):
        env = {**os.environ, "PYTHONHASHSEED": seed, "PYTHONPATH": os.pathsep.join([str(here), str(here.parent)])}
        out = subprocess.run([sys.executable, "-c", code], env=env, cwd=here, capture_output=True, text=True,
                             check=True).stdout
        assert json.loads(out) == json.loads(_violations_json()), seed
