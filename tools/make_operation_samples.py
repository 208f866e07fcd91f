#!/usr/bin/env python3
"""Write a sample operation and cohort for every programme spec:
``specs/samples/<id>.operation.json`` and ``specs/samples/<id>.cohort.jsonl``.

    python tools/make_operation_samples.py [--force] [--cohort-only] [--n 40] [--seed 7] [SPEC.yaml ...]

Chantiers d'insertion, clauses sociales and Logement d'abord get an operation and a cohort designed from their texts
(``BUILDERS``: posts filled one participant after another, SLAI validation, referent designation, follow-up points,
reviews...). For the other programmes the operation record gets a plausible value for each declared operation
attribute (an association loi 1901, labelled référent 62, the fund the spec's share rule expects, convention dates
from the spec, staff over the 24-month convention, reviews submitted on time...) and a financing plan whose
Département line is exactly the share the spec asks for (so the sample funding plan conforms); the operations of
01-04 are written by hand (``HAND_WRITTEN``: kept, only their cohort is drawn). Generated cohorts are drawn by
``tools/synth.py`` and keep only eligible participants on a legal path (``generic_cohort``): ``--n`` of them, or,
where the spec has a capacity in places per ETP, 25 plus an active caseload of about 85 % of the places.
Same seed, same files. Existing samples are kept unless ``--force`` (``--cohort-only``: rewrite the cohort only).
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import random
import sys
from datetime import date, timedelta
from decimal import Decimal

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, ".."))
sys.path.insert(0, HERE)

from engine.operation.report import build_report, load_operation, windows  # noqa: E402
from engine.spec.compile import load_spec  # noqa: E402
from engine.operation.compile import sections_of  # noqa: E402

AT = date(2027, 4, 15)

# name -> value, for the common operation attributes
NAMED = {
    "legal_form": "association_1901", "label_referent_62": "labelled", "joint_fse_application": True,
    "joint_ftj_application": True, "application_date": "2026-02-10", "signature_date": "2026-02-20",
    "fte": None, "places": 70, "posts": 10, "grant_awarded": None, "quality_charter_score": 0.9,
    "intermediate_review_date": "2027-03-25", "final_review_date": None, "staff_qualified": True,
    "staff_profile_validated": True, "premises_in_sector": True, "budget_2026_adopted": True,
    "staff_support_functions_costs": 0, "operating_costs": 12000, "service_costs": 8000, "indirect_costs": 8000,
    "staff_costs_declared": 40000, "target_share_brsa_young": 0.5, "aci_sites": 2, "aci_sites_with_cdiae_agreement": 2,
    "dsp_places": 400, "territories": ["lens-lievin"], "territory": "lens-lievin",
    # computed by the engine from `staff` and `financing` (left out of the record)
    "total_funding": None, "department_funding": None, "direct_staff_costs": None, "other_costs": None,
    "staff_allocation_rates": None, "convention_start": None, "convention_end": None,
}


def spec_path(spec_id: str) -> str:
    return os.path.join(HERE, "..", "specs", f"{spec_id}.yaml")


def op_value(name: str, decl: dict, rng: random.Random):
    if name in NAMED:
        return NAMED[name]
    t = decl.get("type")
    if t == "boolean":
        return True
    if t == "integer":
        return rng.randint(3, 12)
    if t == "number":
        return rng.randint(1, 20)
    if t == "enum":
        return (decl.get("values") or [None])[0]
    if t == "list":
        item = decl.get("items") or {}
        v = op_value(name + "_item", item, rng)
        return [] if v is None else [v]
    return None


SIZES = ("places", "posts", "dsp_places")  # only in the operations of programmes whose texts count them


def operation_for(spec, rng: random.Random) -> dict:
    import re

    op: dict = {"id": f"OP-{spec.id}-2026-001", "spec": spec.id}
    text = open(spec_path(spec.id), encoding="utf-8").read()
    for name, a in spec.operation_attributes.items():
        if name == "spec" or (name in SIZES and not re.search(rf"\b{name}\b", text)):
            continue
        v = op_value(name, dict(a.decl), rng)
        if v is not None:
            op[name] = v
    conv = spec.convention
    start = conv.start if conv and conv.start else date(2026, 1, 1)
    end = conv.end if conv and conv.end else date(2027, 12, 31)
    if "convention_start" in spec.operation_attributes or True:
        op["convention_start"] = start.isoformat()
        op["convention_end"] = end.isoformat()
    fs = sections_of(spec).funding
    share = fs.share if fs else None
    if share is not None and share.by_fund:
        op["fund"] = sorted(share.by_fund)[0]
    if spec.id == "chantiers-insertion" or "operator_in_bassin_minier" in spec.operation_attributes:
        op["fund"] = "ftj"
    if spec.id == "logement-d-abord":
        op["staff"] = [{"id": "COORD", "role": "Coordinateur Logement d'abord", "cost": 72000}]
        op["platform"] = op.get("platform")
    else:
        # costs charged to the operation over the 24-month convention: a full-time referent, an adviser half
        # time on the operation, a director's 10 % (support function: not eligible)
        op["staff"] = [{"id": "S1", "role": "Référent de parcours", "cost": 84000},
                       {"id": "S2", "role": "Conseiller en insertion", "cost": 40000, "allocation": 0.5},
                       {"id": "DIR", "role": "Direction (fonction support)", "cost": 12000, "allocation": 0.1,
                        "support_function": True}]
    # committees and reports held (operation events), when the spec counts them
    events = []
    for r in sections_of(spec).reporting:
        if r.event is None:
            continue
        n = max(r.min or 1, 1)
        for ws, we in windows(start, end, r.every):
            span = (we - ws).days
            for k in range(n):
                d = ws + timedelta(days=int(span * (k + 1) / (n + 1)))
                if d <= AT:
                    events.append({"type": r.event, "date": d.isoformat(), "anonymised": True})
    if events:
        op["events"] = sorted(events, key=lambda e: e["date"])
    return op


def with_financing(spec, op: dict) -> dict:
    """Add a financing plan whose Département line is exactly the expected share (a conforming sample)."""
    r = build_report(spec, op, [], AT)
    if r["funding_plan"]["max_grant"] is None and "grant_awarded" in spec.operation_attributes:
        op["grant_awarded"] = 30000  # no share rule nor cap in the text: the grant is what the convention says
    ds = r["funding_plan"].get("department_share")
    total = r["funding_plan"].get("eligible_costs")
    if ds and ds.get("rate") is not None and total is not None:
        dep = (total * ds["rate"]).quantize(Decimal("0.01"))
        other = "ftj" if op.get("fund") == "ftj" else "fse_plus"
        op["financing"] = {"departement": float(dep) if dep != dep.to_integral_value() else int(dep),
                           other: float(total - dep) if (total - dep) != (total - dep).to_integral_value()
                           else int(total - dep)}
    return op


def realistic(spec, rec: dict, rng: random.Random) -> dict:
    """Values a case worker would recognise, where the generic generator draws them at random: months of support
    from the dates of the path (entry of the second phase to the exit or ``AT``), CRE validated, exit proofs
    provided, the SLAI validation dated on the day of entry, an exit type and date only for people who left,
    former BRSA only when not BRSA."""
    from engine.expr.runtime import months_between

    attrs = spec.attributes
    hist = rec.get("history") or []
    final = {p for p, ph in spec.phases.items() if ph.final}
    left = next((h["date"] for h in hist if h["phase"] in final), None)
    left = date.fromisoformat(left) if isinstance(left, str) else left
    if left is None:
        for k in ("exit_type", "exit_date", "exit_reason"):
            rec.pop(k, None)
    elif "exit_date" in attrs:
        rec["exit_date"] = left.isoformat()
    if "former_rsa" in rec and rec.get("rsa"):
        rec["former_rsa"] = False
    if "support_months" in attrs:
        d0 = hist[1]["date"] if len(hist) > 1 else (hist[0]["date"] if hist else None)
        d0 = date.fromisoformat(d0) if isinstance(d0, str) else d0
        rec["support_months"] = 0 if d0 is None else max(0, months_between(d0, min(left or AT, AT)))
    for name in ("cre_validated_by_slai", "exit_proof_provided", "slai_validated"):
        if name in attrs:
            rec[name] = True
    if "slai_validation" in spec.events and rec.get("history"):
        rec.setdefault("events", []).insert(0, {"type": "slai_validation", "date": rec["history"][0]["date"]})
    return rec


# --------------------------------------------------------------------------------------------- hand-designed samples
# Three programmes get cohorts built from their texts rather than drawn at random: every record follows the spec's
# phases, guards and deadlines, its dates stay inside the convention, and the figures (months of support, hours,
# reviews) follow from the dates. specs/samples/README.md says what each one shows.

DYNAMIC_EXITS_ACI = ("cdi", "cdd_6_months_or_more", "professionalisation_or_apprenticeship", "cdd_under_6_months",
                     "aided_contract_cdd", "qualifying_training", "siae_hiring")
OTHER_EXITS = ("abandonment", "moved_away", "reorientation", "other")


def _iso(d: date) -> str:
    return d.isoformat()


def _person(rng: random.Random, i: int, prefix: str, young: bool, territory: str, at: date) -> dict:
    """Civil-state attributes: an adult of 27 to 58 at ``at``, or a young person of 19 to 24."""
    age = rng.randint(19, 24) if young else rng.randint(27, 58)
    birth = date(at.year - age - 1, rng.randint(1, 12), rng.randint(1, 28))
    if birth.replace(year=birth.year + age + 1) <= at:  # keep the age at `at` exactly `age`
        birth = birth.replace(year=birth.year + 1)
    return {"id": f"{prefix}-{i + 1:03d}", "birth_date": _iso(birth), "sex": rng.choice("FM"), "department": "62",
            "territory": territory}


def chantiers_operation(op: dict) -> dict:
    """An ACI association with 10 insertion posts over the 2026-2027 convention (05:74, 84-88): two technical
    supervisors full time and a CIP half time for 24 months, a director (support function, excluded: 05:79)."""
    op.update({"operator_name": "Association Les Jardins du Littoral", "runs_aci": True, "aci_sites": 2,
               "aci_sites_with_cdiae_agreement": 2, "posts": 10, "fund": "ftj",
               # 40-44: 3 of the 4 themes of the quality référentiel respected (the digital one is not)
               "quality_theme_professional_project": True, "quality_theme_mobility": True,
               "quality_theme_soft_skills": True, "quality_theme_digital": False,
               "grant_awarded": 66240, "intermediate_review_date": "2027-03-25"})
    for k in ("places", "quality_charter_score"):
        op.pop(k, None)
    op["staff"] = [
        {"id": "ET1", "role": "Encadrant technique (maraîchage)", "cost": 76000},
        {"id": "ET2", "role": "Encadrant technique (espaces verts)", "cost": 76000},
        {"id": "CIP", "role": "Conseillère en insertion professionnelle", "cost": 40000, "allocation": 0.5},
        {"id": "DIR", "role": "Direction (fonction support)", "cost": 16000, "allocation": 0.1,
         "support_function": True}]
    # 76 000 + 76 000 + 40 000 = 192 000; + 15 % = 220 800; Département 30 % = 66 240; FTJ the rest
    op["financing"] = {"departement": 66240, "ftj": 154560}
    op["events"] = ([{"type": "steering_committee", "date": d} for d in ("2026-03-12", "2026-10-08", "2027-03-11")]
                    + [{"type": "follow_up_committee", "date": d}
                       for d in ("2026-02-05", "2026-05-07", "2026-09-10", "2026-12-03", "2027-03-04")])
    op["events"].sort(key=lambda e: e["date"])
    return op


def chantiers_cohort(rng: random.Random, at: date) -> list[dict]:
    """10 posts filled from January 2026: on each post, participants follow one another (positionnement, SLAI
    validation before entry: 05:19, a CDDI of 6 to 12 months, then an exit, the next one entering two to three
    weeks later). ``support_months`` = whole months of the CDDI up to the exit or ``at`` (the CRE count)."""
    from engine.expr.runtime import add_months, months_between

    out = []
    young_left = 4  # at most 20 % young people (05:17): about 1 in 6 here
    for post in range(10):
        start = date(2026, 1, 21) + timedelta(days=3 * post)  # positionnement from January 2026
        while True:
            pos = start - timedelta(days=rng.randint(10, 20))
            slai = pos + timedelta(days=rng.randint(3, 8))
            months = rng.randint(6, 12)
            end = add_months(start, months) - timedelta(days=rng.randint(0, 10))
            i = len(out)
            young = young_left > 0 and i % 6 == 3
            young_left -= young
            rec = _person(rng, i, "ACI", young, rng.choice(["lens-lievin", "henin-carvin"]), at)
            rec.update({"rsa": not young, "precarity": True, "former_rsa_in_insertion_path": False,
                        "cre_validated_by_slai": True})
            hist = [{"phase": "positionnement", "date": _iso(pos)}, {"phase": "parcours", "date": _iso(start)}]
            if end <= at:
                ex = rng.choice(DYNAMIC_EXITS_ACI) if rng.random() < 0.55 else rng.choice(OTHER_EXITS)
                rec.update({"exit_type": ex, "exit_date": _iso(end), "exit_proof_provided": True})
                hist.append({"phase": "sortie", "date": _iso(end)})
                rec["support_months"] = months_between(start, end)
            else:
                rec["support_months"] = months_between(start, at)
            rec.update({"entry_date": _iso(start), "history": hist,
                        "events": [{"type": "slai_validation", "date": _iso(slai)}]})
            out.append(rec)
            if end > at:
                break
            start = end + timedelta(days=rng.randint(14, 21))
            if start > at:
                break
    # one person referred who left before the contract (positionnement -> sortie): no month of support
    rec = _person(rng, len(out), "ACI", False, "lens-lievin", at)
    rec.update({"rsa": True, "precarity": True, "cre_validated_by_slai": True, "support_months": 0,
                "exit_type": "abandonment", "exit_date": "2026-06-19", "exit_proof_provided": True,
                "history": [{"phase": "positionnement", "date": "2026-06-01"}, {"phase": "sortie", "date": "2026-06-19"}],
                "events": []})
    out.append(rec)
    out.sort(key=lambda r: r["history"][0]["date"])
    for k, r in enumerate(out):
        r["id"] = f"ACI-{k + 1:03d}"
    return out


def lda_operation(op: dict) -> dict:
    """One full-time coordinator of the Lens-Hénin platform for 2026 (11:24-37, 90-94)."""
    for k in ("places", "posts", "label_referent_62", "joint_ftj_application", "intermediate_review_date",
              "quality_charter_score", "staff_qualified", "staff_profile_validated", "premises_in_sector",
              "staff_support_functions_costs", "slai_opinion_favourable"):
        op.pop(k, None)
    op.update({"operator_name": "Association Habitat Solidaire Lens-Hénin", "territories": ["lens-lievin", "henin-carvin"],
               "fund": "fse_plus", "platform": "lda_lens_henin", "grant_awarded": 28070,
               "solicitations": 64, "coordination_meetings": 11, "fluidity_commissions": 10,
               "final_review_date": "2026-12-18"})
    # 57 000 for the post + 5 270 Ségur valuation; Département min(40 % x 62 270, 22 800) + 5 270 = 28 070;
    # FSE+ 60 % of the post = 34 200
    op["staff"] = [{"id": "COORD", "role": "Coordinatrice Logement d'abord (temps plein, poste dédié)", "cost": 62270}]
    op["financing"] = {"departement": 28070, "fse_plus": 34200}
    # the annual activity report (11:108) sent before the end of the year; it is the service-fait review that
    # releases the balance (11:101)
    op["events"] = [{"type": "activity_report", "date": "2026-12-18"}]
    return op


def lda_cohort(rng: random.Random, at: date) -> list[dict]:
    """Situations referred to the platform in 2026 (saisine), studied within 1 to 4 weeks (diagnostic), a referent
    designated before the support starts (11:49), reviews at 3 (informal), 6 and 12 months (11:105), exits
    recorded in 2026 (the convention ends on 31/12/2026: no later step). Some referrals are not validated (the
    coordinator stays a resource: diagnostic -> sortie, 11:53)."""
    from engine.expr.runtime import add_months

    end = date(2026, 12, 31)
    out = []
    for i in range(30):
        sais = date(2026, 1, 12) + timedelta(days=int(i * 300 / 30) + rng.randint(0, 6))
        diag = sais + timedelta(days=rng.randint(7, 28))
        homeless = rng.random() < 0.45
        rec = _person(rng, i, "LDA", False, rng.choice(["lens-lievin", "henin-carvin"]), at)
        rec.update({"homeless": homeless, "housing_access_difficulty": True,
                    "social_health_difficulties": rng.randint(2, 4) if not homeless else rng.randint(1, 4)})
        hist = [{"phase": "saisine", "date": _iso(sais)}, {"phase": "diagnostic", "date": _iso(diag)}]
        events = []
        if i % 6 == 5:  # orientation not validated
            out_d = diag + timedelta(days=rng.randint(5, 15))
            hist.append({"phase": "sortie", "date": _iso(out_d)})
            rec["exit_reason"] = "other"
        else:
            ref = diag + timedelta(days=rng.randint(3, 10))
            start = ref + timedelta(days=rng.randint(0, 7))
            events.append({"type": "referent_designation", "date": _iso(ref)})
            hist.append({"phase": "accompagnement", "date": _iso(start)})
            length = rng.randint(4, 14)  # months of support
            stop = add_months(start, length)
            for h in (3, 6, 12):
                d = add_months(start, h) - timedelta(days=rng.randint(0, 12))
                if (d < stop or stop > end) and d <= at:  # support going on after 2026: reviews go on
                    ev = {"type": "support_review", "date": _iso(d), "horizon": h}
                    if h == 3:
                        ev["informal"] = True
                    events.append(ev)
            if stop <= end:
                hist.append({"phase": "sortie", "date": _iso(stop)})
                rec["exit_reason"] = rng.choice(["positive", "positive", "positive", "support_breakdown",
                                                 "non_adherence"])
        rec["history"] = hist
        rec["events"] = sorted(events, key=lambda e: e["date"])
        out.append(rec)
    return out


def clauses_operation(op: dict) -> dict:
    """A PLIE association of the Bassin Minier (Lens-Liévin): FTJ, Département 30 % (10:93-94), two facilitators
    (one full time, one half time) over the 2026-2027 convention, 40 % flat rate (10:87-89)."""
    for k in ("places", "posts", "quality_charter_score"):
        op.pop(k, None)
    op.update({"operator_name": "PLIE de Lens-Liévin", "runs_plie": True, "operator_in_bassin_minier": True,
               "fund": "ftj", "territories": ["lens-lievin"], "target_share_brsa_young": 0.5,
               "contracting_authorities": 9, "social_considerations": 27, "markets_followed": 23,
               "companies_supported": 31, "department_markets_short_ended": 2, "hours_reviews_produced": 2,
               "grant_awarded": 55440})
    # 88 000 + 44 000 (half time: the cost charged) = 132 000; + 40 % = 184 800; Département 30 % = 55 440
    op["staff"] = [{"id": "FAC1", "role": "Facilitatrice des clauses sociales", "cost": 88000},
                   {"id": "FAC2", "role": "Facilitateur des clauses sociales", "cost": 44000, "allocation": 0.5},
                   {"id": "DIR", "role": "Direction du PLIE (fonction support)", "cost": 9000, "allocation": 0.1,
                    "support_function": True}]
    op["financing"] = {"departement": 55440, "ftj": 129360}
    ev = []
    for y in (2026, 2027):
        for m in (2, 6, 10):
            ev.append(("territorial_committee", date(y, m, 12)))
        ev.append(("strategic_committee", date(y, 11, 19)))
        for m in (3, 6, 9, 12):
            ev.append(("departmental_meeting", date(y, m, 20)))
        ev.append(("activity_report", date(y, 12, 15)))
    # the table of each quarter sent on the 15th of the month after it, saying which quarter it covers (10:114)
    for y in (2026, 2027):
        for m in (4, 7, 10, 13):
            ev.append(("indicator_table_sent", date(y + m // 13, m % 12 or 12, 15)))
    op["events"] = [dict({"type": t, "date": _iso(d)},
                         **({"anonymised": True, "covers": _iso(date(d.year, d.month, 1) - timedelta(days=1))}
                            if t == "indicator_table_sent" else {}))
                    for t, d in sorted(ev, key=lambda e: e[1]) if d <= AT]
    # the budget of the application, line by line, and the expenses incurred by the report date (10:121): the
    # facilitators' pay each quarter (paid the month after), premises and travel covered by the 40 % flat rate
    quarters = [date(2026, 3, 31), date(2026, 6, 30), date(2026, 9, 30), date(2026, 12, 31), date(2027, 3, 31)]
    op["expenses"] = [
        {"id": "personnel", "label": "Frais de personnel des facilitateurs", "category": "direct_staff",
         "planned": 132000,
         "spent": [{"amount": 16500, "date": _iso(q), "paid_on": _iso(q + timedelta(days=5)),
                    "ref": f"paie T{(q.month - 1) // 3 + 1} {q.year}"} for q in quarters]},
        {"id": "deplacements", "label": "Frais de déplacement", "category": "other_costs", "planned": 6000,
         "spent": [{"amount": 1450, "date": "2026-06-30", "paid_on": "2026-07-10", "ref": "notes de frais S1 2026"},
                   {"amount": 1620, "date": "2026-12-31", "paid_on": "2027-01-12", "ref": "notes de frais S2 2026"},
                   {"amount": 380, "date": "2025-12-18", "paid_on": "2025-12-20", "ref": "avant la convention"}]},
        {"id": "communication", "label": "Supports de communication", "category": "other_costs",
         "spent": [{"amount": 900, "date": "2026-05-04", "paid_on": "2026-05-20", "ref": "non prévue au dossier"}]},
    ]
    return op


def clauses_cohort(rng: random.Random, at: date) -> list[dict]:
    """People mobilised on the insertion hours of public contracts from February 2026: a mission of 1 to 8 months
    (clause hours about 35 h a week), then the follow-up of what became of them, with a point at 6 and at 12
    months after entry (10:34, 141); the follow-up ends after the 12-month point (suivi -> fin_de_suivi, or
    directly from mobilisation for a person still in post after 12 months)."""
    from engine.expr.runtime import add_months

    out = []
    for i in range(36):
        entry = date(2026, 2, 2) + timedelta(days=int(i * 390 / 36) + rng.randint(0, 5))
        if entry > at:
            break
        kind = i % 4  # 0: RSA, 1: young in precarity, 2: IAE follow-on (BRSA at IAE entry), 3: other clause public
        rec = _person(rng, i, "CLS", kind == 1, "lens-lievin" if i % 3 else "henin-carvin", at)
        rec.update({"rsa": kind == 0, "precarity": kind in (0, 1), "clause_eligible": True,
                    "iae_path_follow_on": kind == 2, "rsa_at_iae_entry": kind == 2})
        months = rng.randint(1, 8)
        mission_end = add_months(entry, months)
        long_post = months >= 8 and rng.random() < 0.5  # still in post at 12 months
        rec["clause_hours"] = 35 * 4 * min(months, 12) + rng.choice((0, 7, 14, 21))
        hist = [{"phase": "mobilisation", "date": _iso(entry)}]
        events = []
        for h in (6, 12):
            d = add_months(entry, h) - timedelta(days=rng.randint(0, 10))
            if d <= at:
                events.append({"type": "follow_up", "date": _iso(d), "horizon": h})
        twelve = add_months(entry, 12)
        if not long_post and mission_end <= at:
            hist.append({"phase": "suivi", "date": _iso(mission_end)})
        if twelve + timedelta(days=3) <= at:
            hist.append({"phase": "fin_de_suivi", "date": _iso(twelve + timedelta(days=3))})
        rec["history"] = hist
        rec["events"] = events
        # what the annual indicators are broken down by (10:137-143), drawn from the index (the draws above unchanged)
        rec.update({"contract_type": ("cdd", "interim_insertion", "cdi", "work_study", "interim", "cdd")[i % 6],
                    "contract_start": _iso(entry),
                    "market_type": ("works", "services", "works", "supplies")[i % 4],
                    "activity_nature": ("bâtiment", "propreté", "espaces verts")[i % 3],
                    "insertion_modality": ("execution_clause", "execution_clause", "other_modalities",
                                           "other_modalities", "social_consideration")[i % 5],
                    "qpv_resident": i % 3 == 0,
                    "training_level": ("infra_3", "level_3", "level_3", "level_4", "level_5")[i % 5]})
        out.append(rec)
    return out


def complete_events(spec, op: dict) -> dict:
    """The operation's events as a careful operator records them: each committee says who attended (the boolean
    fields that the spec's `where:` read: the presence the texts require), and each document that must precede an event
    (``before_each``) is sent two days before it. Applied to every sample operation, written or generated."""
    evs = op.get("events")
    if not evs:
        return op
    required: dict[str, set] = {}  # event type -> the boolean fields a `where:` of this spec reads
    for r in sections_of(spec).reporting:
        if r.event is not None and r.where is not None:
            required.setdefault(r.event, set()).update(getattr(r.where, "names", ()) or ())
    for e in evs:
        et = spec.events.get(e["type"])
        for name, attr in (et.fields.items() if et is not None else ()):
            if attr.decl.get("type") == "boolean" and name in required.get(e["type"], ()):
                e.setdefault(name, True)
    for r in sections_of(spec).reporting:
        if getattr(r, "before_each", None) is None:
            continue
        evs[:] = [e for e in evs if e["type"] != r.event]
        anchors = sorted(e["date"] for e in evs if e["type"] == r.before_each)
        evs.extend({"type": r.event, "date": (date.fromisoformat(d) - timedelta(days=2)).isoformat()} for d in anchors)
    evs.sort(key=lambda e: e["date"])  # stable: events of one day keep their order
    return op


BUILDERS = {"chantiers-insertion": (chantiers_operation, chantiers_cohort),
            "logement-d-abord": (lda_operation, lda_cohort),
            "clauses-sociales": (clauses_operation, clauses_cohort)}


# --------------------------------------------------------------------------------------------- generic samples

# programmes whose sample operation is written by hand (with the operation examples of their specs)
HAND_WRITTEN = {"dynamisation-des-parcours", "accompagnement-social-professionnel-intensif",
                "travailleurs-independants", "coach-jeunesse"}
PARAMS = {"dynamisation-des-parcours": {"min_barriers": "2"}, "coach-jeunesse": {"min_meetings_per_month": "1"},
          "logement-d-abord": {"min_difficulties": "2"}}  # the values specs/samples/README.md gives


def generic_cohort(spec, n: int, seed: int, rng: random.Random, active: int = 0) -> list[dict]:
    """Records drawn by tools/synth.py and kept only when ``engine evaluate`` finds them eligible with a legal path
    at ``AT`` (an operation accompanies the people it may accompany, on the programme's path; the deliberately
    broken records are in ``<id>.records.jsonl``), with at most 15 % young people aged 18-25 (the texts cap them
    at 20 %): ``n`` paths started since the beginning of the convention, plus ``active`` paths started in the five
    months before ``AT`` and still going on at ``AT`` (the active caseload a capacity in places per ETP is about)."""
    from synth import Synth

    from engine.beneficiary.evaluate import evaluate_record

    final = {p for p, ph in spec.phases.items() if ph.final}
    out: list[dict] = []
    young = [0]

    def draw(syn, count, spread, must_be_active):
        kept = 0
        for i in range(300 * max(count, 1)):
            if kept == count:
                return
            rec = realistic(spec, syn.record(i, AT, 0.0, 0.0, spread), rng)
            b = rec.get("birth_date")
            age = None
            if isinstance(b, str):
                bd = date.fromisoformat(b)
                age = AT.year - bd.year - ((AT.month, AT.day) < (bd.month, bd.day))
                if 18 <= age <= 25 and young[0] + 1 > 0.15 * (n + active):
                    continue
            res = evaluate_record(spec, json.loads(json.dumps(rec, default=str)), AT, PARAMS.get(spec.id, {}))
            if res.get("eligible") is not True or not res["path"]["legal"]:
                continue
            if must_be_active and (res["path"].get("current_phase") in final or not rec.get("history")):
                continue
            young[0] += age is not None and 18 <= age <= 25
            out.append(rec)
            kept += 1

    draw(Synth(spec, seed, date(2026, 1, 5)), n, None, False)
    if active:
        draw(Synth(spec, seed + 1, AT - timedelta(days=150)), active, 120, True)
    out.sort(key=lambda r: (r["history"][0]["date"] if r.get("history") else "", r["id"]))
    for k, rec in enumerate(out):
        rec["id"] = f"{spec.id[:3].upper()}-{k + 1:03d}"
    return out


def active_target(spec, op: dict) -> int:
    """About 85 % of the places the operation's staff gives (``per_fte`` capacities), at most 90 records."""
    from engine.operation.report import build_report

    best = 0
    for c in build_report(spec, op, [], AT, PARAMS.get(spec.id, {}))["capacity"]:
        if c.get("per_fte") is not None and c.get("per_fte") <= 100 and c.get("capacity") is not None:
            best = max(best, int(c["capacity"]))
    return min(90, int(best * 0.85))


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("specs", nargs="*")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--force", action="store_true",
                    help="overwrite existing samples (by default a programme that has a sample operation is skipped: "
                         "some are written by hand)")
    ap.add_argument("--cohort-only", action="store_true", help="write the cohort only (keep the operation record)")
    ap.add_argument("--events-only", action="store_true",
                    help="complete the events of the existing operation records only (attendance, documents sent "
                         "before each committee); cohorts untouched")
    a = ap.parse_args(argv)
    paths = a.specs or sorted(p for p in glob.glob(os.path.join(HERE, "..", "specs", "*.yaml"))
                              if not p.endswith(("common.yaml", "-session-2.yaml")))
    for path in paths:
        spec = load_spec(path)
        if spec.kind != "spec":
            continue
        rng = random.Random(a.seed)
        out = os.path.join(HERE, "..", "specs", "samples", f"{spec.id}.operation.json")
        if a.events_only:
            if os.path.exists(out):
                with open(out, encoding="utf-8") as f:
                    op = complete_events(spec, json.load(f))
                with open(out, "w", encoding="utf-8") as f:
                    f.write(json.dumps(op, ensure_ascii=False, indent=1) + "\n")
            continue
        if os.path.exists(out) and not (a.force or a.cohort_only):
            print(f"{spec.id}: sample exists, skipped (--force to overwrite)")
            continue
        if spec.id in BUILDERS:
            make_op, make_cohort = BUILDERS[spec.id]
            op = make_op(operation_for(spec, rng))
            cohort = make_cohort(rng, AT)
        else:
            keep = a.cohort_only or spec.id in HAND_WRITTEN
            op = load_operation(out) if keep else with_financing(spec, operation_for(spec, rng))
            active = active_target(spec, op)
            cohort = generic_cohort(spec, 25 if active else a.n, a.seed, rng, active)
        op = complete_events(spec, op)
        if not (a.cohort_only or spec.id in HAND_WRITTEN):
            with open(out, "w", encoding="utf-8") as f:
                f.write(json.dumps(op, ensure_ascii=False, indent=1) + "\n")
        lines = [json.dumps(rec, ensure_ascii=False, default=str) for rec in cohort]
        with open(os.path.join(HERE, "..", "specs", "samples", f"{spec.id}.cohort.jsonl"), "w",
                  encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{spec.id}: {'' if a.cohort_only or spec.id in HAND_WRITTEN else 'operation + '}{len(lines)} "
              "participants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
