"""The money core (engine/operation/funding.py), with the cases of issue 5 computed by hand from the texts.

Every expected figure below is worked out in the comment next to it, from the line of the call for projects it
comes from; none was copied from the engine's output.
"""

from datetime import date
from decimal import Decimal as D

import pytest
from hypothesis import given, settings, strategies as st

from engine.operation.funding import (Cap, PartSpec, ReviewState, StaffMember, TrancheSpec, achievement_ratio, capacity,
                            check_staff, conditional_funding, departement_share, eligible_costs, euros, max_grant,
                            money, payment_schedule, pct, round_parts, split)


# --------------------------------------------------------------------------------------------- rounding

@pytest.mark.parametrize("value,expected", [
    ("0.125", "0.13"), ("0.124", "0.12"), ("2.675", "2.68"), ("-0.125", "-0.13"), ("10", "10.00"),
    ("16841.995", "16842.00"), ("0.005", "0.01"), ("0.0049999", "0.00"),
])
def test_money_rounds_half_up_to_the_cent(value, expected):
    assert money(D(value)) == D(expected)
    assert str(money(D(value))) == expected


def test_money_refuses_floats():
    with pytest.raises(TypeError):
        money(0.1)


@pytest.mark.parametrize("total,shares,expected", [
    # 30/50/20 of 10 000.01: exact 3000.003, 5000.005, 2000.002; floors add up to 10 000.00, the missing cent goes
    # to the largest remainder (0.005, the installment)
    ("10000.01", ["0.30", "0.50", "0.20"], ["3000.00", "5000.01", "2000.00"]),
    # 30/50/20 of 45 000: exact
    ("45000", ["0.30", "0.50", "0.20"], ["13500.00", "22500.00", "9000.00"]),
    # thirds of 100: 33.333.. x3 -> floors 99.99, 1 cent to the first (ties: earliest first)
    ("100", ["1", "1", "1"], None),
    # 60 % / 40 % of 28 070 (Logement d'abord): 16 842.00 + 11 228.00
    ("28070", ["0.60", "0.40"], ["16842.00", "11228.00"]),
    # 0.01 split in two halves: 0.005 each -> 0.01 + 0.00
    ("0.01", ["0.5", "0.5"], ["0.01", "0.00"]),
])
def test_split_adds_up_exactly(total, shares, expected):
    if expected is None:  # thirds: shares as fractions 1/3
        parts = round_parts([D(total) / 3] * 3)
        assert parts == (D("33.34"), D("33.33"), D("33.33"))
        return
    parts = split(D(total), [D(s) for s in shares])
    assert [str(p) for p in parts] == expected
    assert sum(parts) == money(D(total))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.decimals(min_value=0, max_value=10 ** 9, places=6, allow_nan=False, allow_infinity=False),
                min_size=1, max_size=12))
def test_round_parts_property(values):
    parts = round_parts(values)
    assert sum(parts) == money(sum(values))  # the parts add up exactly to the rounded total
    for v, p in zip(values, parts):
        assert abs(p - v) < D("0.01")  # and none moves by a cent or more
        assert p == p.quantize(D("0.01"))


@settings(max_examples=200, deadline=None)
@given(st.decimals(min_value=0, max_value=10 ** 8, places=2, allow_nan=False, allow_infinity=False),
       st.lists(st.integers(min_value=1, max_value=100), min_size=1, max_size=6))
def test_split_property_shares_summing_to_one(total, weights):
    shares = [D(w) / sum(weights) for w in weights]
    parts = split(total, shares)
    assert sum(parts) == money(total)


def test_french_formatting():
    assert euros(D("22800")) == "22 800,00 €"
    assert euros(D("1234567.891")) == "1 234 567,89 €"
    assert euros(D("-4.5")) == "-4,50 €"
    assert euros(None) == "indéterminé"
    assert pct(D("0.4")) == "40 %"
    assert pct(D("0.125")) == "12,5 %"


# --------------------------------------------------------------------------------------------- staff

@pytest.mark.parametrize("allocation,eligible", [
    # 05-chantiers-insertion.txt:79 (and 06:49, 08:61, 09:58, 10:87): minimum 30 % for partly assigned staff
    ("0.25", False), ("0.2999", False), ("0.30", True), ("0.50", True), ("1", True),
])
def test_minimum_allocation_rate(allocation, eligible):
    m = StaffMember("S1", "CIP", D("20000"), allocation=D(allocation))
    r = check_staff([m], min_allocation=D("0.30"))
    assert r.checks[0].eligible is eligible
    assert r.conforming is eligible
    # a refused member's cost is not eligible
    assert r.direct_staff_costs == (D("20000.00") if eligible else D("0.00"))
    if not eligible:
        assert r.checks[0].rule == "min_allocation"
        assert "30 %" in r.checks[0].reason


def test_staff_allocated_25_percent_is_refused_with_reason():
    # issue 5 case: a staff member allocated 25 % -> refused (minimum 30 %, 05-chantiers-insertion.txt:79)
    r = check_staff([StaffMember("S1", "Accompagnateur", D("12000"), allocation=D("0.25")),
                     StaffMember("S2", "Encadrant", D("40000"))], min_allocation=D("0.30"))
    assert [c.eligible for c in r.checks] == [False, True]
    assert r.checks[0].reason == ("taux d'affectation 25 % inférieur au minimum de 30 % pour un salarié "
                                  "partiellement affecté")
    assert r.direct_staff_costs == D("40000.00")
    assert r.fte == D("1")


def test_support_functions_are_excluded_and_fte():
    # 05:79 "Les fonctions supports ... sont inéligibles"
    staff = [StaffMember("E1", "Encadrant technique", D("55000")),
             StaffMember("E2", "Encadrant technique", D("55000")),
             StaffMember("C1", "CIP", D("20000"), allocation=D("0.5")),
             StaffMember("DIR", "Directeur", D("12000"), allocation=D("0.2"), support_function=True)]
    r = check_staff(staff, min_allocation=D("0.30"))
    # 55 000 + 55 000 + 20 000 = 130 000; FTE 1 + 1 + 0.5 = 2.5; 2 full-time posts
    assert r.direct_staff_costs == D("130000.00")
    assert r.fte == D("2.5")
    assert r.full_time_posts == 2
    assert [c.rule for c in r.refused] == ["support_function"]


# --------------------------------------------------------------------------------------------- chantier d'insertion

def aci_staff():
    # two technical supervisors (55 000 each) and one full-time CIP (40 000), a director in a support function
    return [StaffMember("E1", "Encadrant technique", D("55000")),
            StaffMember("E2", "Encadrant technique", D("55000")),
            StaffMember("C1", "Chargé d'insertion", D("40000")),
            StaffMember("DIR", "Direction", D("12000"), support_function=True)]


def test_chantier_insertion_funding_plan_and_max_grant():
    staff = check_staff(aci_staff(), min_allocation=D("0.30"))
    # direct staff costs: 55 000 + 55 000 + 40 000 = 150 000 (the director is excluded, 05:79)
    assert staff.direct_staff_costs == D("150000.00")
    # indirect costs flat 15 % of direct staff costs (05:80): 22 500; total 172 500
    costs = eligible_costs(staff.direct_staff_costs, [("indirect", "Charges indirectes 15 %", D("0.15"))])
    assert costs.flat_rate_amount == D("22500.00")
    assert costs.total == D("172500.00")
    # Département 30 % of the total financing (05:90): 172 500 x 0.30 = 51 750
    share = departement_share(D("0.30"), costs.total, declared=D("51750"))
    assert share.expected == D("51750.00") and share.conforming is True
    # cap 375 EUR per participant and per month (05:88), 10 posts x 12 months = 120 participant-months:
    # 375 x 120 = 45 000 < 51 750: the cap decides
    lim = max_grant(share.expected, [Cap("per_participant_month", None, D(375) * 10 * 12)])
    assert lim.amount == D("45000.00")
    assert lim.binding == "per_participant_month"


def aci_parts(months, exits, quality):
    # 05:84-86: 90 % on months of support (objective posts x 12 = 120), 5 % on sorties dynamiques (objective
    # posts x 0.45 = 4.5), 5 % on the quality référentiel (a declared score, objective 1)
    return [PartSpec("months", "Mois d'accompagnement", D("0.90"), D(10 * 12), D(months)),
            PartSpec("exits", "Sorties dynamiques", D("0.05"), D(10) * D("0.45"), D(exits)),
            PartSpec("quality", "Référentiel qualité", D("0.05"), D(1), D(quality), mode="all_or_nothing")]


def test_chantier_insertion_conditional_funding_proportional():
    r = conditional_funding(D("45000"), aci_parts(108, 3, 1), [Cap("realised", None, D(375) * 108)])
    assert [p.maximum for p in r.parts] == [D("40500.00"), D("2250.00"), D("2250.00")]  # 90/5/5 % of 45 000
    # months: 108 / 120 = 0.9 -> 40 500 x 0.9 = 36 450
    # exits: 3 / 4.5 = 2/3 -> 2 250 x 2/3 = 1 500
    # quality met -> 2 250
    assert [p.amount for p in r.parts] == [D("36450.00"), D("1500.00"), D("2250.00")]
    assert r.total == D("40200.00")
    # the realised cap 375 x 108 = 40 500 >= 40 200: not applied
    assert r.cap_applied is None
    assert r.parts[0].ratio == D("0.9")


def test_chantier_insertion_result_cap_scales_parts_exactly():
    # months 100 / 120 -> 40 500 x 5/6 = 33 750; exits 5 / 4.5 capped at 1 -> 2 250; quality 2 250: 38 250
    # the cap 375 x 100 = 37 500 < 38 250 lowers the total to 37 500; parts scaled by 37 500 / 38 250:
    # 33 750 x 0.98039.. = 33 088.235..; 2 250 x 0.98039.. = 2 205.882.. (twice); floors sum to 37 499.99 and the
    # missing cent goes to the largest remainder (0.005.. of the first part): 33 088.24 + 2 205.88 + 2 205.88
    r = conditional_funding(D("45000"), aci_parts(100, 5, 1), [Cap("realised", None, D(375) * 100)])
    assert r.uncapped_total == D("38250.00")
    assert r.cap_applied is not None and r.cap_applied.id == "realised"
    assert [p.amount for p in r.parts] == [D("33088.24"), D("2205.88"), D("2205.88")]
    assert r.total == D("37500.00")


@pytest.mark.parametrize("mode,threshold,exits,expected", [
    # 3 / 4.5 = 66.67 % of the objective, part maximum 2 250
    ("proportional", None, 3, "1500.00"),        # 2 250 x 2/3
    ("threshold", "0.80", 3, "0.00"),            # 66.67 % < 80 %: nothing
    ("threshold", "0.60", 3, "1500.00"),         # 66.67 % >= 60 %: proportional
    ("all_or_nothing", None, 3, "0.00"),         # not fully met
    ("all_or_nothing", None, "4.5", "2250.00"),  # met
    ("all_or_nothing", None, 7, "2250.00"),      # over-achieved: ratio capped at 1
])
def test_conditional_modes(mode, threshold, exits, expected):
    part = PartSpec("exits", None, D("0.05"), D("4.5"), D(exits), mode=mode,
                    threshold=None if threshold is None else D(threshold))
    r = conditional_funding(D("45000"), [part])
    assert r.parts[0].amount == D(expected)


def test_unknown_achievement_gives_unknown_total():
    r = conditional_funding(D("45000"), aci_parts(108, 3, 1)[:2] + [PartSpec("quality", None, D("0.05"), D(1), None)])
    assert r.parts[2].amount is None
    assert r.total is None
    assert r.parts[0].amount == D("36450.00")


def test_achievement_ratio_edges():
    assert achievement_ratio(D(0), D(0)) == 1  # nothing required
    assert achievement_ratio(D(120), D(-5)) == 0
    assert achievement_ratio(None, D(3)) is None


def test_chantier_insertion_payments():
    # 30 / 50 / 20 (05:96-98) of the 45 000 grant: 13 500, 22 500 max, 9 000 max
    tranches = [TrancheSpec("advance", "Avance", D("0.30"), "signature"),
                TrancheSpec("installment", "Acompte", D("0.50"), "review", "intermediate_review", conditional=True),
                TrancheSpec("balance", "Solde", D("0.20"), "review", "final_review", conditional=True)]
    reviews = {"intermediate_review": ReviewState("intermediate_review", None, date(2027, 3, 31), date(2027, 3, 20)),
               "final_review": ReviewState("final_review", None, date(2028, 3, 31))}
    s = payment_schedule(D("45000"), tranches, date(2027, 4, 15), date(2026, 1, 15), reviews, D("40200"))
    assert [t.planned for t in s.tranches] == [D("13500.00"), D("22500.00"), D("9000.00")]
    # earned 40 200: advance 13 500; installment min(22 500, 40 200 - 13 500 = 26 700) = 22 500;
    # balance 40 200 - 36 000 = 4 200
    assert [t.amount for t in s.tranches] == [D("13500.00"), D("22500.00"), D("4200.00")]
    assert s.total == D("40200.00")
    assert [t.status for t in s.tranches] == ["due", "due", "awaiting_review"]
    assert [t.due_date for t in s.tranches] == [date(2026, 1, 15), date(2027, 3, 20), None]
    assert [t.review_due for t in s.tranches] == [None, date(2027, 3, 31), date(2028, 3, 31)]
    assert s.due_at == D("36000.00")
    # after the final review's due date with nothing submitted: late
    s2 = payment_schedule(D("45000"), tranches, date(2028, 4, 1), date(2026, 1, 15), reviews, D("40200"))
    assert s2.tranches[2].status == "review_late"
    # before signature: scheduled
    s3 = payment_schedule(D("45000"), tranches, date(2026, 1, 10), date(2026, 1, 15), reviews, D("40200"))
    assert s3.tranches[0].status == "scheduled"


def test_balance_becomes_a_recovery_when_little_is_earned():
    # earned 10 000 on a 45 000 grant: advance 13 500 already due; installment max(0, min(22 500, 10 000 - 13 500))
    # = 0; balance 10 000 - 13 500 = -3 500 (the operator pays back 3 500)
    tranches = [TrancheSpec("advance", None, D("0.30"), "signature"),
                TrancheSpec("installment", None, D("0.50"), "review", "ir", conditional=True),
                TrancheSpec("balance", None, D("0.20"), "review", "fr", conditional=True)]
    reviews = {"ir": ReviewState("ir", None, date(2027, 3, 31), date(2027, 3, 1)),
               "fr": ReviewState("fr", None, date(2028, 3, 31), date(2028, 3, 1))}
    s = payment_schedule(D("45000"), tranches, date(2028, 3, 2), date(2026, 1, 1), reviews, D("10000"))
    assert [t.amount for t in s.tranches] == [D("13500.00"), D("0.00"), D("-3500.00")]
    assert [t.status for t in s.tranches] == ["due", "not_due", "recovery"]
    assert s.total == D("10000.00")


# --------------------------------------------------------------------------------------------- Logement d'abord

def test_logement_d_abord_full_time_coordinator():
    # one full-time coordinator costing 72 000 for 12 months (11:90). The Département funds 40 % of the post
    # (11:25): 72 000 x 0.40 = 28 800, within at most 22 800 per ETP for 12 months plus the Ségur valuation of
    # 5 270 for a full-time post (11:94): cap 22 800 x 1 x 12/12 + 5 270 x 1 = 28 070 < 28 800 -> grant 28 070
    staff = check_staff([StaffMember("COORD", "Coordinateur Logement d'abord", D("72000"))])
    assert staff.fte == 1 and staff.full_time_posts == 1
    costs = eligible_costs(staff.direct_staff_costs)
    share = departement_share(D("0.40"), costs.total)
    assert share.expected == D("28800.00")
    cap = D("22800") * staff.fte * 12 / 12 + D("5270") * staff.fte
    lim = max_grant(share.expected, [Cap("per_fte", None, cap)])
    assert lim.amount == D("28070.00")
    # payments (11:100-101): 60 % advance at signature = 16 842; the balance on service rendered = 11 228
    tranches = [TrancheSpec("advance", "Avance", D("0.60"), "signature"),
                TrancheSpec("balance", "Solde", D("0.40"), "review", "annual_report", conditional=True)]
    s = payment_schedule(lim.amount, tranches, date(2026, 3, 1), date(2026, 2, 1), {})
    assert [t.amount for t in s.tranches] == [D("16842.00"), D("11228.00")]
    assert sum(t.amount for t in s.tranches) == D("28070.00")
    assert [t.status for t in s.tranches] == ["due", "awaiting_review"]


def test_logement_d_abord_part_time_coordinator_cap():
    # 0.8 ETP: 22 800 x 0.8 = 18 240 plus the Ségur prorated (interpretation of "5 270 € pour un temps complet"):
    # 5 270 x 0.8 = 4 216 -> 22 456; at 40 % of a 50 000 cost = 20 000 the share decides
    staff = check_staff([StaffMember("COORD", None, D("50000"), work_time=D("0.8"))])
    cap = D("22800") * staff.fte + D("5270") * staff.fte
    assert money(cap) == D("22456.00")
    lim = max_grant(departement_share(D("0.40"), staff.direct_staff_costs).expected, [Cap("per_fte", None, cap)])
    assert lim.amount == D("20000.00") and lim.binding == "share"


# --------------------------------------------------------------------------------------------- FTJ, Bassin Minier

@pytest.mark.parametrize("share,declared,expected,conforming", [
    # clauses sociales (10:93-94): staff 45 000 + 20 000 (50 %) = 65 000, flat 40 % = 26 000, total 91 000
    # FTJ in Lens-Liévin (Bassin Minier): 30 % -> 27 300
    ("0.30", "27300", "27300.00", True),
    ("0.30", "27300.01", "27300.00", False),
    # FSE+ outside the Bassin Minier: 40 % -> 36 400
    ("0.40", "27300", "36400.00", False),
    ("0.40", None, "36400.00", None),
])
def test_departement_share_ftj_lens_lievin(share, declared, expected, conforming):
    staff = check_staff([StaffMember("A", None, D("45000")), StaffMember("B", None, D("20000"), allocation=D("0.5"))],
                        min_allocation=D("0.30"))
    costs = eligible_costs(staff.direct_staff_costs, [("compensation", None, D("0.40"))])
    assert costs.total == D("91000.00")
    s = departement_share(D(share), costs.total, None if declared is None else D(declared))
    assert s.expected == D(expected)
    assert s.conforming is conforming


# --------------------------------------------------------------------------------------------- capacity

@pytest.mark.parametrize("per_fte,fte,actual,limit,cap,position,conforming", [
    (70, "1", 70, "target", 70, "at", True),           # 01:83 1 ETP = 70 places
    (70, "1.5", 120, "target", 105, "over", True),     # 70 x 1.5 = 105; over a target is informative
    (70, "0.25", 10, "maximum", 17, "under", True),    # 70 x 0.25 = 17.5 -> 17 whole places
    (70, "1", 71, "maximum", 70, "over", False),       # 03:79 "maximum de 70 places"
    (30, "2", None, "target", 60, None, True),         # 04:44 1 ETP = 30 places
    (800, "0.5", 350, "target", 400, "under", True),   # 01:37 1 ETP pour 800 DSP
])
def test_capacity(per_fte, fte, actual, limit, cap, position, conforming):
    r = capacity("places", None, D(per_fte), D(fte), None if actual is None else D(actual), limit)
    assert r.capacity == cap
    assert r.position == position
    assert r.conforming is conforming


# --------------------------------------------------------------------------------------------- properties

_money = st.decimals(min_value=0, max_value=10 ** 7, places=2, allow_nan=False, allow_infinity=False)
_ratio = st.decimals(min_value=0, max_value=3, places=4, allow_nan=False, allow_infinity=False)


@settings(max_examples=200, deadline=None)
@given(_money, st.lists(st.tuples(st.integers(1, 100), _ratio, st.sampled_from(["proportional", "threshold",
                                                                                  "all_or_nothing"])),
                        min_size=1, max_size=5), st.one_of(st.none(), _money))
def test_conditional_parts_add_up_to_the_total(base, spec, cap):
    weights = [D(w) for w, _r, _m in spec]
    total_w = sum(weights)
    parts = [PartSpec(f"p{i}", None, w / total_w, D(1), r, m, D("0.5") if m == "threshold" else None)
             for i, ((_w, r, m), w) in enumerate(zip(spec, weights))]
    res = conditional_funding(base, parts, [] if cap is None else [Cap("cap", None, cap)])
    assert sum(p.maximum for p in res.parts) == money(base)  # the maxima add up to the base (weights sum to 1)
    assert sum(p.amount for p in res.parts) == res.total  # the parts add up to the total
    assert res.total <= money(base)
    if cap is not None:
        assert res.total <= money(cap)
    for p in res.parts:
        assert D(0) <= p.amount <= p.maximum + D("0.01")


@settings(max_examples=200, deadline=None)
@given(_money, st.one_of(st.none(), _money))
def test_payments_add_up_to_the_money_earned(grant, earned):
    tranches = [TrancheSpec("advance", None, D("0.30"), "signature"),
                TrancheSpec("installment", None, D("0.50"), "review", "ir", conditional=True),
                TrancheSpec("balance", None, D("0.20"), "review", "fr", conditional=True)]
    s = payment_schedule(grant, tranches, date(2027, 4, 15), date(2026, 1, 1), {}, earned)
    assert s.planned_total == money(grant)
    assert s.total == (money(grant) if earned is None else money(earned))
    assert s.tranches[0].amount == s.tranches[0].planned  # the advance is never conditional
    assert all(t.amount >= 0 for t in s.tranches[:-1])


# ---- cost categories and flat rates that cover (07:66-69; 09:60, 10:90)

@pytest.mark.parametrize("categories, other, covers, total, statuses", [
    # 07:66-69: staff 124 000 + operating 12 000 + services 8 000 + indirect 8 000 (within 40 % of 136 000)
    ([("operating", "12000", None), ("services", "8000", None), ("indirect", "8000", "54400")], "0", (),
     "152000.00", ["counted", "counted", "counted"]),
    # indirect costs above their limit: the limit counts, not the declared amount
    ([("operating", "12000", None), ("indirect", "60000", "54400")], "0", (), "190400.00", ["counted", "capped"]),
    # a category not declared counts 0
    ([("operating", None, None)], "0", (), "124000.00", ["not_declared"]),
    # the 40 % flat rate covers the other costs: the 20 000 declared do not add (124 000 x 1.4 = 173 600)
    ([], "20000", ("other_costs",), "173600.00", []),
    # without covers, the other costs add (the format's old reading, kept for a flat rate that covers nothing)
    ([], "20000", (), "193600.00", []),
])
def test_eligible_costs_categories_and_covers(categories, other, covers, total, statuses):
    from engine.operation.funding import CostLine

    lines = [CostLine(i, None, None if d is None else D(d), None if m is None else D(m)) for i, d, m in categories]
    rates = [("flat_40", None, D("0.40"), covers)] if covers or not categories else []
    res = eligible_costs(D("124000"), rates, D(other), lines)
    assert res.total == D(total)
    assert [c.status for c in res.categories] == statuses
    assert res.other_costs == (D(0) if "other_costs" in covers else D(other))
    assert res.other_costs_declared == D(other)


def test_a_covered_category_is_excluded_with_its_reason():
    from engine.operation.funding import CostLine, cost_line

    r = cost_line(CostLine("operating", None, D("5000"), None, covered_by="flat_40"))
    assert (r.amount, r.status) == (D(0), "excluded")
    assert "flat_40" in r.reason
