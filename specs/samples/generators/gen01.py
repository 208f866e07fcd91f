import sys, json
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _helpers import *
import _helpers

SPEC = "dynamisation-des-parcours"
PREFIX = "DYN"
PARAMS = {"min_barriers": 2}
RSI = dict(birth_date=D("1979-09-30"), sex="M", department="62", territory="calaisis", rsa=True, rsa_new_entrant=True,
           strand="rsi", peripheral_barriers=3, path_evolution_envisaged=True)
DSP = dict(birth_date=D("1992-01-15"), sex="F", department="62", territory="boulonnais", rsa=True, rsa_new_entrant=True,
           strand="accueil_dsp", dsp_completed=False)
DO = dict(birth_date=D("1988-06-03"), sex="M", department="62", territory="artois", rsa=False, former_rsa=True,
          struck_off_after_sanction=True, do_procedure=True, strand="decision_opportunite")

def actions(d, n=3):
    specs = [(False, False, 6), (True, False, 3), (False, True, 2), (False, True, 1)]
    return [{"type": "ce_action", "date": d, "professional": p, "simple": s, "months": m} for p, s, m in specs[:n]]

def contract_events(start, end, hours_override=None, appt=True, sia=True):
    return _helpers.contract_events(start, end, 10, hours_override, appt, sia)


AT = "2026-06-01"
S = []
def add(key, name, rec, expect, at=AT, example=True, sample=True, params=PARAMS):
    name, rec, at = into_convention(name, rec, at)
    rec = {"id": f"{PREFIX}-{key}", **rec}
    S.append((key, name, at, rec, expect, example, sample, params))
OK = {"eligible": True, "missing": []}
H = lambda *xs: [(p, D(d)) for p, d in xs]

recA = {**RSI, "exit_type": "change_of_financial_situation", "financial_situation_change": "aah", "exit_date": D("2026-04-01"),
        "history": H(("orientation", "2026-02-02"), ("accueil", "2026-02-10"), ("contrat", "2026-03-01"), ("sortie", "2026-04-01")),
        "events": accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + contract_events(D("2026-03-01"), D("2026-04-01"))}
expA = {**OK, "path.legal": True, "path.current_phase": "sortie", "path.violations": [],
        "deadlines.first_appointment": "met", "deadlines.ce_signature": "met", "deadlines.dsp_meeting": "not_applicable",
        "obligations.monthly_appointments": "met", "obligations.weekly_activity_hours": "met",
        "obligations.monthly_sia_update": "met", "obligations.suspension_procedure": "met"}
add("A", "RSI : parcours légal, 10 h d'activité par semaine, sortie pour changement de situation financière (AAH)",
    recA, {**expA, "obligations.ce_quality": "met"}, at="2026-10-01", sample=False)
add("A", "RSI : parcours légal, 10 h d'activité par semaine, sortie pour changement de situation financière (AAH)",
    recA, expA, example=False)
add("B", "Phase accueil DSP : rencontre à J+10, préconisation transmise, décision d'orientation",
    {**DSP, "history": H(("pre_orientation", "2026-03-02"), ("dsp_meeting", "2026-03-12"), ("recommendation", "2026-03-12"),
                         ("orientation_decided", "2026-03-30")), "events": []},
    {**OK, "path.legal": True, "path.current_phase": "orientation_decided", "path.violations": [],
     "deadlines.dsp_meeting": "met", "deadlines.first_appointment": "not_applicable", "deadlines.ce_signature": "not_applicable"})
add("C", "Phase accueil DSP : rencontre à J+18, hors du délai maximal de 15 jours",
    {**DSP, "history": H(("pre_orientation", "2026-03-02"), ("dsp_meeting", "2026-03-20"), ("recommendation", "2026-03-20")), "events": []},
    {**OK, "path.legal": False, "deadlines.dsp_meeting": "missed"})
add("D", "Phase accueil DSP : courrier du 25/05, rencontre attendue au plus tard le 09/06",
    {**DSP, "history": H(("pre_orientation", "2026-05-25")), "events": []},
    {**OK, "path.legal": True, "path.current_phase": "pre_orientation", "deadlines.dsp_meeting": "pending"})
add("E", "Non éligible : DSP complétée et jugée suffisante",
    {**DSP, "dsp_completed": True, "dsp_sufficient": True}, {"eligible": False, "missing": []})
add("F", "Inconnu : DSP complétée, suffisance non renseignée",
    {**DSP, "dsp_completed": True}, {"eligible": None, "missing": ["dsp_sufficient"]})
add("G", "Éligible malgré une donnée manquante : DSP non complétée (sa suffisance ne compte pas)",
    {**DSP}, {"eligible": True, "missing": []}, example=False)
add("H", "Décision d'opportunité : ancien BRSA radié, contact puis DSP et contrat de ré-engagement",
    {**DO, "history": H(("do_letter", "2026-03-02"), ("do_contact", "2026-03-10"), ("do_reengagement", "2026-03-20")), "events": []},
    {**OK, "path.legal": True, "path.current_phase": "do_reengagement"})
add("I", "RSI non éligible : un seul frein périphérique (minimum fixé à 2)",
    {**RSI, "peripheral_barriers": 1}, {"eligible": False, "missing": []})
add("J", "RSI éligible avec un seul frein quand le Département fixe le minimum à 1",
    {**RSI, "peripheral_barriers": 1}, {"eligible": True, "missing": []}, params={"min_barriers": 1}, sample=False)
recK = {**RSI, "rsa_new_entrant": False, "former_rsa": False}; del recK["strand"]
add("K", "Inconnu : volet non renseigné pour un BRSA qui remplit les conditions RSI", recK,
    {"eligible": None, "missing": ["strand"]})
evK2 = accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + contract_events(D("2026-03-01"), D("2026-04-01")) \
    + contract_events(D("2026-04-01"), D("2026-05-01"), appt=False, sia=False) \
    + [{"type": "appointment", "date": D("2026-04-06"), "mode": "phone"}, {"type": "appointment", "date": D("2026-04-20"), "mode": "video"}]
add("L", "RSI, avril : aucun rendez-vous physique et pas de mise à jour du SIA",
    {**RSI, "history": H(("orientation", "2026-02-02"), ("accueil", "2026-02-10"), ("contrat", "2026-03-01"), ("sortie", "2026-05-01")),
     "events": evK2},
    {**OK, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.monthly_appointments": "unmet",
     "obligations.monthly_sia_update": "unmet", "obligations.weekly_activity_hours": "met", "obligations.suspension_procedure": "met"})
evM = accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) \
    + contract_events(D("2026-03-01"), D("2026-04-01"), hours_override={D("2026-03-16"): 20}) \
    + [{"type": "absence", "date": D("2026-03-12"), "justified": False}]
add("M", "RSI : semaine du 16/03 à 20 h (au-delà de 15 h), absence injustifiée sans procédure de suspension",
    {**RSI, "history": H(("orientation", "2026-02-02"), ("accueil", "2026-02-10"), ("contrat", "2026-03-01"), ("sortie", "2026-04-01")),
     "events": evM},
    {**OK, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.weekly_activity_hours": "unmet",
     "obligations.suspension_procedure": "unmet", "obligations.monthly_appointments": "met", "obligations.monthly_sia_update": "met"})
add("N", "RSI : orienté le 25/05, premier rendez-vous et CE encore dans les délais au 01/06",
    {**RSI, "history": H(("orientation", "2026-05-25")), "events": []},
    {**OK, "path.legal": True, "path.current_phase": "orientation", "deadlines.first_appointment": "pending",
     "deadlines.ce_signature": "pending"})
evO = accueil_events(D("2026-02-20")) + actions(D("2026-03-05")) + contract_events(D("2026-03-05"), D("2026-05-01"))
add("O", "RSI : accueil à J+18 et CE à J+31 (premier rendez-vous et signature du CE hors délai)",
    {**RSI, "history": H(("orientation", "2026-02-02"), ("accueil", "2026-02-20"), ("contrat", "2026-03-05"), ("sortie", "2026-05-01")),
     "events": evO},
    {**OK, "path.legal": False, "deadlines.first_appointment": "missed", "deadlines.ce_signature": "missed",
     "obligations.monthly_appointments": "met", "obligations.weekly_activity_hours": "met"})
evP = accueil_events(D("2026-02-10")) + [{"type": "absence", "date": D("2026-02-17"), "justified": False},
                                         {"type": "suspension_request", "date": D("2026-02-18")}]
add("P", "RSI : absence injustifiée suivie d'une procédure de suspension, sortie avant l'échéance de signature du CE",
    {**RSI, "history": H(("orientation", "2026-02-02"), ("accueil", "2026-02-10"), ("sortie", "2026-02-25")), "events": evP},
    {**OK, "path.legal": True, "path.first_violation": None, "deadlines.first_appointment": "met",
     "deadlines.ce_signature": "not_applicable", "obligations.suspension_procedure": "met"}, example=False)
def long_path(last, final_review=True, slai=True):
    ev = accueil_events(D("2025-11-03")) + actions(D("2025-11-24")) + contract_events(D("2025-11-24"), D("2026-06-02"))
    if final_review:
        ev.append({"type": "final_review", "date": D("2026-05-18")})
    ev.append({"type": "diagnostic", "date": D("2026-05-18"), "kind": "update"})
    if slai:
        ev.append({"type": "slai_meeting", "date": D("2026-05-20"), "purpose": "renewal" if last == "contrat" else "reorientation"})
    if last == "contrat":
        ev += actions(D("2026-05-24"))
        hist = H(("orientation", "2025-10-27"), ("accueil", "2025-11-03"), ("contrat", "2025-11-24"), ("contrat", "2026-05-24"))
    else:
        ev = [e for e in ev if e["date"] < D("2026-05-21")]
        hist = H(("orientation", "2025-10-27"), ("accueil", "2025-11-03"), ("contrat", "2025-11-24"), (last, "2026-05-21"))
    return {**RSI, "history": hist, "events": ev}
add("Q", "RSI : renouvellement du CE au bout de 6 mois après bilan final, diagnostic actualisé et temps avec le SLAI",
    long_path("contrat"), {**OK, "path.legal": True, "path.current_phase": "contrat", "deadlines.ce_signature": "met"})
add("R", "RSI : renouvellement du CE sans entretien de bilan final",
    long_path("contrat", final_review=False), {**OK, "path.legal": False, "path.first_violation": "guard_failed"})
add("S", "RSI : réorientation après bilan final et temps avec le SLAI",
    long_path("reorientation"), {**OK, "path.legal": True, "path.current_phase": "reorientation"})
add("T", "RSI : CE toujours en cours au-delà de 6 mois sans renouvellement",
    {**RSI, "history": H(("orientation", "2025-10-27"), ("accueil", "2025-11-03"), ("contrat", "2025-11-24")),
     "events": accueil_events(D("2025-11-03")) + actions(D("2025-11-24")) + contract_events(D("2025-11-24"), D("2026-06-02"))},
    {**OK, "path.legal": False, "path.first_violation": "max_duration_exceeded"}, example=False)
add("U", "Phase accueil DSP : décision d'orientation sans rencontre avec un.e référent.e",
    {**DSP, "history": H(("pre_orientation", "2026-03-02"), ("orientation_decided", "2026-03-10")), "events": []},
    {**OK, "path.legal": False, "path.first_violation": "transition_not_allowed"})
add("V", "Historique commençant par la préconisation (pas de courrier de pré-orientation)",
    {**DSP, "history": H(("recommendation", "2026-03-12"), ("orientation_decided", "2026-03-30")), "events": []},
    {**OK, "path.legal": False, "path.first_violation": "illegal_start"}, example=False)
add("W", "RSI : CE avec seulement 2 actions (qualité du CE non respectée)",
    {**RSI, "history": H(("orientation", "2026-02-02"), ("accueil", "2026-02-10"), ("contrat", "2026-03-01"), ("sortie", "2026-04-01")),
     "events": accueil_events(D("2026-02-10")) + actions(D("2026-03-01"), n=2) + contract_events(D("2026-03-01"), D("2026-04-01"))},
    {**OK, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.ce_quality": "unmet"},
    at="2026-10-01", sample=False)


OPB = {"financing": {"departement": 56000, "fse_plus": 84000}, "funding_plan_annex_2_years": True, "staff_profile_validated": True, "monjob62_access_requested": True, "id": "OP-DYN-1", "spec": "dynamisation-des-parcours", "operator_name": "Plateforme Insertion Calaisis",
       "legal_form": "association_1901", "works_with_brsa": True, "staff_qualified": True, "premises_in_sector": True,
       "joint_fse_application": True, "label_referent_62": "labelled", "application_date": D("2026-02-10"), "fund": "fse_plus",
       "signature_date": D("2026-03-02"), "convention_start": D("2026-01-01"), "convention_end": D("2027-12-31"),
       "dsp_places": 10, "places": 10, "quality_charter_score": 1,
       "staff": [{"id": "R1", "role": "Référente DSP", "cost": 50000}, {"id": "R2", "role": "Référent RSI", "cost": 50000}]}
COH = [{"id": "d1", "strand": "accueil_dsp", "history": H(("pre_orientation", "2026-03-02"), ("dsp_meeting", "2026-03-10"), ("recommendation", "2026-03-10"), ("orientation_decided", "2026-03-20"))},
       {"id": "d2", "strand": "accueil_dsp", "history": H(("pre_orientation", "2026-03-02"), ("dsp_meeting", "2026-03-12"))},
       {"id": "d3", "strand": "decision_opportunite", "history": H(("do_letter", "2026-03-02"), ("do_contact", "2026-03-05"), ("do_reengagement", "2026-03-12"))},
       {"id": "r1", "strand": "rsi", "exit_type": "change_of_financial_situation", "financial_situation_change": "aah",
        "history": H(("orientation", "2026-03-02"), ("accueil", "2026-03-09"), ("contrat", "2026-03-23"), ("sortie", "2026-09-23"))},
       {"id": "r2", "strand": "rsi", "history": H(("orientation", "2026-03-02"), ("accueil", "2026-03-10"), ("contrat", "2026-03-30"))},
       {"id": "r3", "strand": "rsi", "history": H(("orientation", "2026-03-02"))}]
FUND = {"funding_plan.eligible_costs": 140000.00, "funding_plan.max_grant": 56000.00,
        "capacity.dsp_per_fte.capacity": 1600, "capacity.places_per_fte.capacity": 140,
        "indicators.dsp_done.value": 3, "indicators.contract_rate.value": 1, "indicators.financial_situation_exits.value": 1,
        "funding.parts.volume.objective": 20, "funding.parts.volume.achieved": 5, "funding.parts.volume.ratio": 0.25,
        "funding.parts.volume.amount": 5600.00, "funding.parts.quality_charter.amount": 33600.00, "funding.total": 39200.00,
        "payments.tranches.advance.amount": 16800.00, "payments.tranches.installment.amount": 22400.00,
        "payments.tranches.balance.amount": 0.00}
OPS1 = [
 ("Opération 1ère session : 2 référents (100 000 €), 10 places DSP + 10 places RSI, 3 DSP et 2 CE réalisés, charte respectée",
  "2027-04-15", OPB, COH, {"operator.eligible": True, **FUND}),
 ("Candidature déposée le 01/08/2026 : hors de la 1ère session", "2026-09-01",
  {**OPB, "id": "OP-DYN-2", "application_date": D("2026-08-01")}, None, {"operator.eligible": False}),
 ("Convention terminée le 30/06/2027 : bilan final dû dans les 3 mois, le 30/09/2027 (pas le 31/03/2028), en retard au 15/10/2027", "2027-10-15",
  {**OPB, "id": "OP-DYN-3", "convention_end": D("2027-06-30")}, None, {"reporting.final_review": "late", "reporting.final_review.due": "2027-09-30"}),
]
OP2 = {**OPB, "application_date": D("2026-08-01"), "covers_uncovered_zone": True, "signature_date": D("2026-10-01"),
       "convention_start": D("2026-10-01")}
OPS2 = [
 ("Opération 2ème session pour une zone non couverte : 2 référents, 3 DSP et 2 CE réalisés, charte respectée",
  "2027-04-15", {**OP2, "id": "OP-DYN-S2-1"}, COH, {"operator.eligible": True, **FUND}),
 ("2ème session : zone déjà couverte par la 1ère session, non éligible", "2026-09-01",
  {**OP2, "id": "OP-DYN-S2-2", "covers_uncovered_zone": False}, None, {"operator.eligible": False}),
 ("Candidature déposée le 10/02/2026 : hors de la 2ème session", "2026-09-01",
  {**OP2, "id": "OP-DYN-S2-3", "application_date": D("2026-02-10")}, None, {"operator.eligible": False}),
]

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "examples":
        print("\n".join(example_yaml(n, at, r, e, params=p) for k, n, at, r, e, ex, sa, p in S if ex))
        print("\n".join(op_example_yaml(n, at, op, c, e) for n, at, op, c, e in OPS1))
    elif what == "examples2":
        print("\n".join(example_yaml(n, at, r, e, params=p) for k, n, at, r, e, ex, sa, p in S if ex))
        print("\n".join(op_example_yaml(n, at, op, c, e) for n, at, op, c, e in OPS2))
    elif what == "operation":
        sys.stdout.write(op_json(OPB))
    elif what == "cohort":
        sys.stdout.write(jsonl([{"id": c["id"], **RSI, **c} if c["strand"] == "rsi" else {"id": c["id"], **(DSP if c["strand"] == "accueil_dsp" else DO), **c} for c in COH]
                               + [r for k, n, at, r, e, ex, sa, p in S if sa]))
    elif what == "records":
        sys.stdout.write(jsonl([r for k, n, at, r, e, ex, sa, p in S if sa]))
    elif what == "expected":
        for k, n, at, r, e, ex, sa, p in S:
            if sa:
                print(json.dumps({"id": r["id"], "at": at, "params": p, "name": n, **e}, ensure_ascii=False))
