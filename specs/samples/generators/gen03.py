import sys, json
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _helpers import *
PREFIX = "TI"
BASE = dict(birth_date=D("1980-02-14"), sex="M", department="62", territory="montreuillois", rsa=True,
            independent_activity_kind="micro_entrepreneur")
AT = "2026-06-01"
S = []
def add(key, name, rec, expect, at=AT):
    name, rec, at = into_convention(name, rec, at)
    S.append((name, at, {"id": f"{PREFIX}-{key}", **rec}, expect))
OK = {"eligible": True, "missing": []}
H = lambda *xs: [(p, D(d)) for p, d in xs]
ap = lambda *ds: [{"type": "appointment", "date": D(d), "mode": "in_person"} for d in ds]
slai = lambda *ds: [{"type": "slai_meeting", "date": D(d), "purpose": "renewal"} for d in ds]
def monthly(start, end):
    return monthly_appointments(D(start), D(end), days=((8, "in_person"),))

add("A", "BRSA auto-entrepreneur : diagnostic en 3 entretiens puis développement, entretiens mensuels",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26"), ("development", "2026-04-01")),
     "events": ap("2026-01-26", "2026-02-10", "2026-03-05") + monthly("2026-04-01", "2026-06-02")},
    {**OK, "path.legal": True, "path.current_phase": "development", "path.violations": [],
     "deadlines.diagnostic_contract": "met", "deadlines.cessation_receipt": "not_applicable",
     "obligations.monthly_interview": "met"})
add("B", "Non éligible : aucune activité indépendante", {**BASE, "independent_activity_kind": "none"},
    {"eligible": False, "missing": []})
young = dict(BASE); young.update(rsa=False, birth_date=D("2002-03-01"), independent_activity_kind="sas_president_or_director")
add("C", "Jeune de 24 ans non BRSA, président de SASU : éligible", young, {**OK})
older = dict(BASE); older.update(rsa=False, birth_date=D("1996-01-01"))
add("D", "Non éligible : 30 ans et pas au RSA", older, {"eligible": False, "missing": []})
recE = dict(BASE); del recE["rsa"]; del recE["birth_date"]
add("E", "Inconnu : ni RSA ni date de naissance renseignés", recE, {"eligible": None, "missing": ["birth_date", "rsa"]})
recF = dict(BASE); del recF["independent_activity_kind"]
add("F", "Inconnu : forme de l'activité non renseignée", recF, {"eligible": None, "missing": ["independent_activity_kind"]})
add("G", "Orienté le 20/05 : premier CE attendu au plus tard le 17/06",
    {**BASE, "history": H(("orientation", "2026-05-20")), "events": []},
    {**OK, "path.legal": True, "path.current_phase": "orientation", "deadlines.diagnostic_contract": "pending"})
add("H", "Premier CE établi 5 semaines après l'orientation",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-02-10")), "events": ap("2026-02-10")},
    {**OK, "path.legal": False, "deadlines.diagnostic_contract": "missed"})
add("I", "Cessation : récépissé obtenu, entretiens mensuels, réorientation",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26"), ("cessation", "2026-03-02"),
                          ("reorientation", "2026-05-29")),
     "events": ap("2026-01-26", "2026-02-05", "2026-02-20") + monthly("2026-03-02", "2026-05-29")
               + [{"type": "cessation_receipt", "date": D("2026-04-20")}]},
    {**OK, "path.legal": True, "path.current_phase": "reorientation", "deadlines.cessation_receipt": "met",
     "obligations.monthly_interview": "met"})
add("J", "Réorientation à la fin de la cessation sans récépissé de dépôt de la demande de cessation",
    {**BASE, "history": H(("orientation", "2025-09-01"), ("diagnostic", "2025-09-22"), ("cessation", "2025-11-03"),
                          ("reorientation", "2026-05-01")),
     "events": ap("2025-09-22", "2025-10-06", "2025-10-20") + monthly("2025-11-03", "2026-05-01")},
    {**OK, "path.legal": False, "path.first_violation": "guard_failed", "deadlines.cessation_receipt": "not_applicable",
     "obligations.monthly_interview": "met"})
add("J2", "Récépissé de cessation obtenu le 10/05/2026, après l'échéance du CE de cessation (03/05/2026) et après la réorientation",
    {**BASE, "history": H(("orientation", "2025-09-01"), ("diagnostic", "2025-09-22"), ("cessation", "2025-11-03"),
                          ("reorientation", "2026-04-30")),
     "events": ap("2025-09-22", "2025-10-06", "2025-10-20") + monthly("2025-11-03", "2026-04-30")
               + [{"type": "cessation_receipt", "date": D("2026-05-10")}]},
    {**OK, "path.legal": False, "deadlines.cessation_receipt": "missed"})
add("K", "Cessation commencée le 01/04 : récépissé attendu au plus tard le 01/10",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26"), ("cessation", "2026-04-01")),
     "events": ap("2026-01-26", "2026-02-10", "2026-03-05") + monthly("2026-04-01", "2026-06-02")},
    {**OK, "path.legal": True, "deadlines.cessation_receipt": "pending", "obligations.monthly_interview": "met"})
add("L", "Développement : aucun entretien en mai",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26"), ("development", "2026-04-01")),
     "events": ap("2026-01-26", "2026-02-10", "2026-03-05", "2026-04-08")},
    {**OK, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.monthly_interview": "unmet"})
add("M", "Passage au développement après 2 entretiens de diagnostic seulement",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26"), ("development", "2026-04-01")),
     "events": ap("2026-01-26", "2026-02-10") + monthly("2026-04-01", "2026-06-02")},
    {**OK, "path.legal": False, "path.first_violation": "guard_failed"})
add("N", "Développement renouvelé 3 fois (au plus 2 renouvellements, 3 x 6 mois)",
    {**BASE, "history": H(("orientation", "2025-05-04"), ("diagnostic", "2025-05-25"), ("development", "2025-06-02"),
                          ("development", "2025-09-01"), ("development", "2025-12-01"), ("development", "2026-03-02")),
     "events": ap("2025-05-25", "2025-05-28", "2025-05-30") + monthly("2025-06-02", "2026-06-02")
               + slai("2025-08-25", "2025-11-24", "2026-02-23")},
    {**OK, "path.legal": False, "path.first_violation": "renewals_exceeded"})
add("O", "Renouvellement du CE de cessation (non renouvelable)",
    {**BASE, "history": H(("orientation", "2025-09-01"), ("diagnostic", "2025-09-22"), ("cessation", "2025-11-03"),
                          ("cessation", "2026-05-01")),
     "events": ap("2025-09-22", "2025-10-06", "2025-10-20") + monthly("2025-11-03", "2026-06-02")
               + [{"type": "cessation_receipt", "date": D("2026-01-15")}]},
    {**OK, "path.legal": False, "path.first_violation": "transition_not_allowed"})
add("P", "Réorientation en fin de développement sans échange avec le SLAI",
    {**BASE, "history": H(("orientation", "2025-10-06"), ("diagnostic", "2025-10-27"), ("development", "2025-12-01"),
                          ("reorientation", "2026-05-29")),
     "events": ap("2025-10-27", "2025-11-10", "2025-11-24") + monthly("2025-12-01", "2026-05-29")},
    {**OK, "path.legal": False, "path.first_violation": "guard_failed", "obligations.monthly_interview": "met"})
add("Q", "Diagnostic toujours en cours plus de 3 mois après le premier CE",
    {**BASE, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26")),
     "events": ap("2026-01-26", "2026-02-10", "2026-03-05")},
    {**OK, "path.legal": False, "path.first_violation": "max_duration_exceeded"})
add("R", "Développement renouvelé 2 fois après accord du SLAI : 3 CE de 6 mois au plus, légal",
    {**BASE, "history": H(("orientation", "2025-05-04"), ("diagnostic", "2025-05-25"), ("development", "2025-06-02"),
                          ("development", "2025-12-01"), ("development", "2026-05-25")),
     "events": ap("2025-05-25", "2025-05-28", "2025-05-30") + monthly("2025-06-02", "2026-06-02")
               + slai("2025-11-24", "2026-05-18")},
    {**OK, "path.legal": True, "path.current_phase": "development", "obligations.monthly_interview": "met"})


OPB = {"financing": {"departement": 29400, "ftj": 68600}, "staff_profile_validated": True, "monjob62_access_requested": True, "id": "OP-TI-1", "spec": "travailleurs-independants", "operator_name": "GIP Initiative Entreprendre 62", "legal_form": "gip",
       "promotes_inclusive_business_or_supports_ti": True, "joint_ftj_application": True, "staff_qualified": True,
       "label_referent_62": "labelled", "application_date": D("2026-02-02"), "fund": "ftj", "territories": ["lens-lievin", "artois"],
       "signature_date": D("2026-03-02"), "convention_start": D("2026-01-01"), "convention_end": D("2027-12-31"),
       "follow_up_committees_held": 3,
       "staff": [{"id": "C1", "role": "Conseillère création", "cost": 50000}, {"id": "C2", "role": "Conseiller (mi-temps sur l'opération)", "cost": 20000, "allocation": 0.5}]}
COH = [{"id": "t1", "rsa": True, "profit_increased": True, "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-26"), ("development", "2026-04-01"))},
       {"id": "t2", "rsa": True, "business_struck_off": True, "exit_type": "reorientation",
        "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-02-10"), ("cessation", "2026-04-01"), ("reorientation", "2026-09-01"))},
       {"id": "t3", "rsa": True, "exit_type": "rsa_exit", "rsa_exit_financial_impact": 7200,
        "history": H(("orientation", "2026-01-05"), ("diagnostic", "2026-01-20"), ("development", "2026-03-16"), ("sortie", "2026-09-16"))},
       {"id": "t4", "rsa": True, "history": H(("orientation", "2026-03-02"))}]
OPS = [
 ("Opération FTJ (Bassin Minier) : 1 ETP + 1 salarié affecté à 50 %, part du Département 30 %, 3 comités de suivi", "2027-04-15", OPB, COH,
  {"operator.eligible": True, "funding_plan.direct_staff_costs": 70000.00, "funding_plan.eligible_costs": 98000.00,
   "funding_plan.department_share.rate": 0.3, "funding_plan.max_grant": 29400.00, "capacity.places_per_fte.capacity": 105,
   "indicators.oriented.value": 4, "indicators.diagnostics_done.value": 3, "indicators.contract_delay_respected.value": 0.6667,
   "indicators.development_supports.value": 2, "indicators.rsa_exits.value": 1, "indicators.rsa_exit_impact.value": 7200,
   "indicators.exited.value": 2, "funding_plan.department_share.status": "passed", "funding_plan.conforming": True,
   "payments.tranches.advance.amount": 8820.00}),
 ("Même opération cofinancée par le FSE+ : part du Département 40 %", "2027-04-15", {**OPB, "id": "OP-TI-2", "fund": "fse_plus", "financing": {"departement": 39200, "fse_plus": 58800}}, None,
  {"funding_plan.department_share.rate": 0.4, "funding_plan.max_grant": 39200.00, "funding_plan.department_share.status": "passed",
   "payments.tranches.advance.amount": 11760.00}),
 ("Porteur sans candidature conjointe au FTJ : non éligible", "2026-03-01", {**OPB, "id": "OP-TI-3", "joint_ftj_application": False}, None,
  {"operator.eligible": False}),
 ("Convention terminée le 30/06/2027 : bilan final dû dans les 3 mois, le 30/09/2027 (pas le 31/03/2028), en retard au 15/10/2027", "2027-10-15",
  {**OPB, "id": "OP-TI-4", "convention_end": D("2027-06-30")}, None, {"reporting.final_review": "late", "reporting.final_review.due": "2027-09-30"}),
]

if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "examples"
    if what == "examples":
        print("\n".join(example_yaml(n, at, r, e) for n, at, r, e in S))
        print("\n".join(op_example_yaml(n, at, op, c, e) for n, at, op, c, e in OPS))
    elif what == "records":
        sys.stdout.write(jsonl([r for n, at, r, e in S]))
    elif what == "expected":
        for n, at, r, e in S:
            print(json.dumps({"id": r["id"], "at": at, "name": n, **e}, ensure_ascii=False))
    elif what == "operation":
        sys.stdout.write(op_json(OPB))
    elif what == "cohort":
        sys.stdout.write(jsonl([{**BASE, **c} for c in COH] + [r for n, at, r, e in S]))
