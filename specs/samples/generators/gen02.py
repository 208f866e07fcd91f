import sys, json
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _helpers import *
import _helpers

SPEC = "accompagnement-social-professionnel-intensif"
PREFIX = "ASPI"
BASE = dict(birth_date=D("1985-04-12"), sex="F", department="62", territory="lens-lievin", rsa=True,
            peripheral_barriers=2, professional_project_within_year=True)

def actions(d, n=3, prof=2, long=True):
    out = []
    specs = [(True, False, 6), (True, False, 3), (False, True, 2), (False, True, 1)]
    if not long:
        specs = [(True, False, 4), (True, False, 3), (False, True, 2)]
    if prof < 2:
        specs = [(True, False, 6), (False, True, 2), (False, False, 3)]
    for p, s, m in specs[:n]:
        out.append({"type": "ce_action", "date": d, "professional": p, "simple": s, "months": m})
    return out

def contract_events(start, end, hours_override=None, appt=True, sia=True):
    return _helpers.contract_events(start, end, 15, hours_override, appt, sia)


AT = "2026-06-01"
S = []   # (key, name, at, record, expect, in_examples)

def add(key, name, rec, expect, at=AT, example=True, sample=True):
    name, rec, at = into_convention(name, rec, at)
    rec = dict(rec); rec = {"id": f"{PREFIX}-{key}", **rec}
    S.append((key, name, at, rec, expect, example, sample))

OK_ELIG = {"eligible": True, "missing": []}
H2 = lambda *xs: [(p, D(d)) for p, d in xs]

# A: legal complete path
evA = accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + [{"type": "collective_action", "date": D("2026-03-16")}] \
    + contract_events(D("2026-03-01"), D("2026-04-01"))
recA = {**BASE, "exit_type": "cdi", "exit_date": D("2026-04-01"),
        "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("contrat", D("2026-03-01")), ("sortie", D("2026-04-01"))],
        "events": evA}
expA = {**OK_ELIG, "path.legal": True, "path.current_phase": "sortie", "path.violations": [],
        "deadlines.first_appointment": "met", "deadlines.ce_signature": "met", "deadlines.collective_action": "met",
        "obligations.monthly_appointments": "met", "obligations.weekly_activity_hours": "met",
        "obligations.monthly_sia_update": "met", "obligations.suspension_procedure": "met"}
add("A", "Parcours complet et légal : accueil à J+8, CE signé dans les 4 semaines, action collective, sortie en CDI",
    recA, {**expA, "obligations.ce_quality": "met"}, at="2026-10-01", sample=False)
add("A", "Parcours complet et légal : accueil à J+8, CE signé dans les 4 semaines, action collective, sortie en CDI",
    recA, expA, example=False)

add("B", "Non éligible : réside hors du Pas-de-Calais", {**BASE, "department": "59"}, {"eligible": False, "missing": []})
add("C", "Non éligible : ne perçoit pas le RSA", {**BASE, "rsa": False}, {"eligible": False, "missing": []}, example=False)
recD = dict(BASE); del recD["professional_project_within_year"]
add("D", "Inconnu : projet professionnel dans l'année non renseigné", recD,
    {"eligible": None, "missing": ["professional_project_within_year"]})
recE = dict(BASE); del recE["department"]; del recE["peripheral_barriers"]
add("E", "Inconnu : département et freins non renseignés", recE,
    {"eligible": None, "missing": ["department", "peripheral_barriers"]}, example=False)
recF = dict(BASE); del recF["department"]; recF["rsa"] = False
add("F", "Non éligible malgré une donnée manquante : pas au RSA, département inconnu", recF,
    {"eligible": False, "missing": []})

# G: pending deadlines
add("G", "Échéances en cours : orienté le 25/05, ni rendez-vous ni CE au 01/06",
    {**BASE, "history": [("orientation", D("2026-05-25"))], "events": []},
    {**OK_ELIG, "path.legal": True, "path.current_phase": "orientation", "deadlines.first_appointment": "pending",
     "deadlines.ce_signature": "pending", "deadlines.collective_action": "not_applicable"})

# H: late accueil, late CE
evH = accueil_events(D("2026-02-20")) + actions(D("2026-03-05")) + [{"type": "collective_action", "date": D("2026-03-20")}] \
    + contract_events(D("2026-03-05"), D("2026-05-01"))
add("H", "Accueil à J+18 et CE à J+31 : premier rendez-vous et signature du CE hors délai",
    {**BASE, "exit_type": "cdd_under_6_months", "exit_date": D("2026-05-01"),
     "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-20")), ("contrat", D("2026-03-05")), ("sortie", D("2026-05-01"))],
     "events": evH},
    {**OK_ELIG, "path.legal": False, "deadlines.first_appointment": "missed", "deadlines.ce_signature": "missed",
     "deadlines.collective_action": "met", "obligations.monthly_appointments": "met", "obligations.weekly_activity_hours": "met",
     "obligations.monthly_sia_update": "met"})

# I: collective action late
evI = accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + [{"type": "collective_action", "date": D("2026-04-10")}] \
    + contract_events(D("2026-03-01"), D("2026-05-01"))
add("I", "Action collective le 10/04 pour un CE signé le 01/03 : hors du mois suivant la signature",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("contrat", D("2026-03-01")), ("sortie", D("2026-05-01"))],
     "events": evI},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "deadline_missed", "deadlines.first_appointment": "met",
     "deadlines.ce_signature": "met", "deadlines.collective_action": "missed", "obligations.monthly_appointments": "met",
     "obligations.weekly_activity_hours": "met", "obligations.monthly_sia_update": "met"})

# J: collective action pending
evJ = accueil_events(D("2026-05-12")) + actions(D("2026-05-20")) + contract_events(D("2026-05-20"), D("2026-06-02"))
add("J", "CE signé le 20/05 : action collective attendue au plus tard le 20/06",
    {**BASE, "history": [("orientation", D("2026-05-04")), ("accueil", D("2026-05-12")), ("contrat", D("2026-05-20"))], "events": evJ},
    {**OK_ELIG, "path.legal": True, "path.current_phase": "contrat", "deadlines.first_appointment": "met",
     "deadlines.ce_signature": "met", "deadlines.collective_action": "pending"})

# K: appointments and SIA unmet in April
evK = accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + [{"type": "collective_action", "date": D("2026-03-16")}] \
    + contract_events(D("2026-03-01"), D("2026-04-01")) + contract_events(D("2026-04-01"), D("2026-05-01"), appt=False, sia=False) \
    + [{"type": "appointment", "date": D("2026-04-06"), "mode": "phone"}, {"type": "appointment", "date": D("2026-04-20"), "mode": "phone"}]
add("K", "Avril : 2 rendez-vous téléphoniques sans rendez-vous physique et pas de mise à jour du SIA",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("contrat", D("2026-03-01")), ("sortie", D("2026-05-01"))],
     "events": evK},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.monthly_appointments": "unmet",
     "obligations.monthly_sia_update": "unmet", "obligations.weekly_activity_hours": "met", "obligations.suspension_procedure": "met"})

# L: weekly hours unmet, suspension unmet
evL = accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + [{"type": "collective_action", "date": D("2026-03-16")}] \
    + contract_events(D("2026-03-01"), D("2026-04-01"), hours_override={D("2026-03-09"): 10}) \
    + [{"type": "absence", "date": D("2026-03-12"), "justified": False}]
add("L", "Semaine du 09/03 à 10 h d'activité, absence injustifiée le 12/03 sans procédure de suspension",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("contrat", D("2026-03-01")), ("sortie", D("2026-04-01"))],
     "events": evL},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.weekly_activity_hours": "unmet",
     "obligations.suspension_procedure": "unmet", "obligations.monthly_appointments": "met", "obligations.monthly_sia_update": "met"})

# M: suspension met, exit before CE
evM = accueil_events(D("2026-02-10")) + [{"type": "absence", "date": D("2026-02-17"), "justified": False},
                                         {"type": "suspension_request", "date": D("2026-02-18")}]
add("M", "Absence injustifiée suivie d'une procédure de suspension, sortie avant l'échéance de signature du CE",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("sortie", D("2026-02-25"))], "events": evM},
    {**OK_ELIG, "path.legal": True, "path.first_violation": None, "path.current_phase": "sortie",
     "deadlines.first_appointment": "met", "deadlines.ce_signature": "not_applicable", "deadlines.collective_action": "not_applicable",
     "obligations.suspension_procedure": "met"})

# N: CE quality unmet (only 2 actions)
evN = accueil_events(D("2026-02-10")) + actions(D("2026-03-01"), n=2) + [{"type": "collective_action", "date": D("2026-03-16")}] \
    + contract_events(D("2026-03-01"), D("2026-04-01"))
add("N", "CE avec seulement 2 actions : qualité du CE non respectée",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("contrat", D("2026-03-01")), ("sortie", D("2026-04-01"))],
     "events": evN},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.ce_quality": "unmet",
     "obligations.monthly_appointments": "met"}, at="2026-10-01", sample=False)

# O: legal renewal (exactly 6 months, CE signed exactly 4 weeks after orientation)
def renewal(slai=True, quality_first=3):
    ev = accueil_events(D("2025-11-03")) + actions(D("2025-11-24"), n=quality_first) + actions(D("2026-05-24")) \
        + [{"type": "collective_action", "date": D("2025-12-10")}] + contract_events(D("2025-11-24"), D("2026-06-02")) \
        + [{"type": "final_review", "date": D("2026-05-18")}, {"type": "diagnostic", "date": D("2026-05-18"), "kind": "update"}]
    if slai:
        ev.append({"type": "slai_meeting", "date": D("2026-05-20"), "purpose": "renewal"})
    return {**BASE, "history": [("orientation", D("2025-10-27")), ("accueil", D("2025-11-03")), ("contrat", D("2025-11-24")),
                                ("contrat", D("2026-05-24"))], "events": ev}
add("O", "Renouvellement du CE au bout de 6 mois après bilan final, diagnostic actualisé et temps avec le SLAI",
    renewal(), {**OK_ELIG, "path.legal": True, "path.current_phase": "contrat", "deadlines.first_appointment": "met",
                "deadlines.ce_signature": "met", "deadlines.collective_action": "met"})
add("P", "Renouvellement du CE sans le temps obligatoire avec le SLAI",
    renewal(slai=False), {**OK_ELIG, "path.legal": False, "path.first_violation": "guard_failed"})
add("Q", "CE non renouvelé et toujours en cours au-delà de 6 mois",
    {**BASE, "history": [("orientation", D("2025-10-27")), ("accueil", D("2025-11-03")), ("contrat", D("2025-11-24"))],
     "events": accueil_events(D("2025-11-03")) + actions(D("2025-11-24")) + [{"type": "collective_action", "date": D("2025-12-10")}]
               + contract_events(D("2025-11-24"), D("2026-06-02"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "max_duration_exceeded", "path.current_phase": "contrat"})
add("R", "CE signé sans passer par la phase d'accueil",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("contrat", D("2026-02-20"))],
     "events": accueil_events(D("2026-02-10")) + actions(D("2026-02-20")) + [{"type": "collective_action", "date": D("2026-03-05")}]
               + contract_events(D("2026-02-20"), D("2026-06-02"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "transition_not_allowed", "deadlines.ce_signature": "met"})
add("S", "Historique commençant par la phase d'accueil (pas d'orientation)",
    {**BASE, "history": [("accueil", D("2026-02-10")), ("sortie", D("2026-02-20"))], "events": accueil_events(D("2026-02-10"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "illegal_start", "deadlines.first_appointment": "not_applicable",
     "deadlines.ce_signature": "not_applicable"}, example=False)
add("T", "Phase inconnue dans l'historique",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("bilan", D("2026-02-10"))], "events": accueil_events(D("2026-02-10"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "unknown_phase"}, example=False)
add("U", "Dates de l'historique dans le désordre",
    {**BASE, "history": [("orientation", D("2026-02-10")), ("accueil", D("2026-02-05"))], "events": accueil_events(D("2026-02-05"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "dates_out_of_order"}, example=False)
add("V", "Nouveau CE après la sortie du dispositif",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("sortie", D("2026-02-20")), ("contrat", D("2026-03-01"))],
     "events": accueil_events(D("2026-02-10")) + actions(D("2026-03-01")) + [{"type": "collective_action", "date": D("2026-03-16")}]
               + contract_events(D("2026-03-01"), D("2026-06-02"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "after_end"}, example=False)
add("W", "CE signé sans diagnostic à 360",
    {**BASE, "history": [("orientation", D("2026-02-02")), ("accueil", D("2026-02-10")), ("contrat", D("2026-02-24")), ("sortie", D("2026-04-01"))],
     "events": [{"type": "appointment", "date": D("2026-02-10"), "mode": "in_person"}] + actions(D("2026-02-24"))
               + [{"type": "collective_action", "date": D("2026-03-05")}] + contract_events(D("2026-02-24"), D("2026-04-01"))},
    {**OK_ELIG, "path.legal": False, "path.first_violation": "guard_failed", "deadlines.ce_signature": "met",
     "obligations.monthly_appointments": "met"}, example=False)


OPBASE = {"funding_plan_annex_2_years": True, "staff_profile_validated": True, "monjob62_access_requested": True, "id": "OP-ASPI-1", "spec": "accompagnement-social-professionnel-intensif", "operator_name": "Association Insertion Artois",
          "legal_form": "association_1901", "works_in_insertion": True, "joint_fse_application": True, "staff_qualified": True,
          "premises_in_sector": True, "label_referent_62": "labelled", "application_date": D("2026-02-10"), "fund": "fse_plus",
          "signature_date": D("2026-03-02"), "convention_start": D("2026-01-01"), "convention_end": D("2027-12-31"), "places": 4,
          "quality_charter_score": 0.5, "staff": [{"id": "R1", "role": "Référente", "cost": 60000}]}
COH = [{"id": "p1", "department": "62", "rsa": True, "history": H2(("orientation", "2026-03-02"), ("accueil", "2026-03-09"), ("contrat", "2026-03-23"))},
       {"id": "p2", "department": "62", "rsa": True, "history": H2(("orientation", "2026-03-02"), ("accueil", "2026-03-10"), ("contrat", "2026-04-06"))},
       {"id": "p3", "department": "62", "rsa": True, "exit_type": "cdi",
        "history": H2(("orientation", "2026-03-02"), ("accueil", "2026-03-12"), ("contrat", "2026-03-26"), ("sortie", "2026-09-26"))},
       {"id": "p4", "department": "62", "rsa": True, "history": H2(("orientation", "2026-03-02"), ("accueil", "2026-03-16"))}]
OPS = [
 ("Opération : 1 référente à temps plein (60 000 €), 4 places, 3 CE signés sur 4 BRSA accueillis, charte respectée à 50 %",
  "2027-04-15", OPBASE, COH,
  {"operator.eligible": True, "funding_plan.eligible_costs": 84000.00, "funding_plan.max_grant": 33600.00,
   "capacity.places_per_fte.capacity": 70, "indicators.contract_rate.value": 0.75, "indicators.ce_signature_delay.value": 0.6667,
   "indicators.average_path_months.value": 6,
   "funding.parts.volume.ratio": 0.75, "funding.parts.volume.amount": 10080.00, "funding.parts.quality_charter.amount": 10080.00,
   "funding.total": 20160.00, "payments.tranches.advance.amount": 10080.00, "payments.tranches.installment.amount": 10080.00,
   "payments.tranches.balance.amount": 0.00}),
 ("Porteur sans label référent 62 : non éligible", "2026-03-01", {**OPBASE, "id": "OP-ASPI-2", "label_referent_62": "none"}, None,
  {"operator.eligible": False}),
 ("Porteur en moratoire du label référent 62 : éligible", "2026-03-01", {**OPBASE, "id": "OP-ASPI-3", "label_referent_62": "moratorium"}, None,
  {"operator.eligible": True}),
 ("Candidature déposée le 16/02/2026, après la clôture de la session : non éligible", "2026-03-01",
  {**OPBASE, "id": "OP-ASPI-4", "application_date": D("2026-02-16")}, None, {"operator.eligible": False}),
 ("Plan de financement : 30 000 € demandés au Département pour 84 000 € au total, au lieu de 40 % (33 600 €)", "2026-03-01",
  {**OPBASE, "id": "OP-ASPI-5", "financing": {"departement": 30000, "fse_plus": 54000}}, None,
  {"funding_plan.department_share.expected": 33600.00, "funding_plan.department_share.status": "failed"}),
 ("Convention terminée le 30/06/2027 : bilan final dû dans les 3 mois, le 30/09/2027 (pas le 31/03/2028), en retard au 15/10/2027", "2027-10-15",
  {**OPBASE, "id": "OP-ASPI-6", "convention_end": D("2027-06-30")}, None, {"reporting.final_review": "late", "reporting.final_review.due": "2027-09-30"}),
]

SAMPLE_OP = {"id": "OP-ASPI-2026-001", "spec": "accompagnement-social-professionnel-intensif", "operator_name": "Association Insertion Lens-Liévin",
      "legal_form": "association_1901", "plie": False, "works_in_insertion": True, "joint_fse_application": True, "staff_qualified": True,
      "premises_in_sector": True, "label_referent_62": "labelled", "application_date": "2026-02-10", "fund": "fse_plus",
      "territories": ["lens-lievin"], "signature_date": "2026-03-02", "convention_start": "2026-01-01", "convention_end": "2027-12-31",
      "places": 70, "quality_charter_score": 0.8, "intermediate_review_date": "2027-03-25",
      "staff": [{"id": "R1", "role": "Référente de parcours", "cost": 84000}, {"id": "R2", "role": "Référent de parcours (mi-temps)", "cost": 42000, "work_time": 0.5}],
      "financing": {"departement": 70560, "fse_plus": 105840},
      "funding_plan_annex_2_years": True, "staff_profile_validated": True, "monjob62_access_requested": True}

if __name__ == "__main__":
    what = sys.argv[1]
    if what == "examples":
        print("\n".join(example_yaml(n, at, r, e) for k, n, at, r, e, ex, sa in S if ex))
        print("\n".join(op_example_yaml(n, at, op, c, e) for n, at, op, c, e in OPS))
    elif what == "operation":
        sys.stdout.write(op_json(SAMPLE_OP))
    elif what == "cohort":
        sys.stdout.write(jsonl([r for k, n, at, r, e, ex, sa in S if sa]))
    elif what == "records":
        sys.stdout.write(jsonl([r for k, n, at, r, e, ex, sa in S if sa]))
    elif what == "expected":
        for k, n, at, r, e, ex, sa in S:
            if sa:
                print(json.dumps({"id": r["id"], "at": at, "name": n, **e}, ensure_ascii=False))
