import sys, json
sys.path.insert(0, str(__import__("pathlib").Path(__file__).resolve().parent))
from _helpers import *
PREFIX = "CJ"
PARAMS = {"min_meetings_per_month": 1}
BASE = dict(birth_date=D("2005-05-10"), sex="M", department="62", territory="henin-carvin",
            in_school_training_or_insertion=False, disability=False)
AT = "2026-06-01"
S = []
def add(key, name, rec, expect, at=AT, params=PARAMS):
    S.append((name, at, {"id": f"{PREFIX}-{key}", **rec}, expect, params))
OK = {"eligible": True, "missing": []}
H = lambda *xs: [(p, D(d)) for p, d in xs]
def meet(start, end, day=10):
    return monthly_appointments(D(start), D(end), days=((day, "in_person"),))
cc = [{"type": "shared_diagnostic", "date": D("2026-02-09")}, {"type": "action_plan", "date": D("2026-02-16")}]
hist_A = H(("reperage", "2026-01-12"), ("co_construction", "2026-02-02"), ("accompagnement", "2026-03-02"))

add("A", "Jeune de 21 ans hors radars : repérage, co-construction, accompagnement avec une rencontre par mois",
    {**BASE, "history": hist_A, "events": meet("2026-01-12", "2026-06-02") + cc},
    {**OK, "path.legal": True, "path.current_phase": "accompagnement", "path.violations": [],
     "obligations.regular_meetings": "met", "obligations.regular_watch_contacts": "not_applicable"})
add("B", "Non éligible : 27 ans sans handicap", {**BASE, "birth_date": D("1999-01-01")}, {"eligible": False, "missing": []})
add("C", "Éligible : 28 ans en situation de handicap", {**BASE, "birth_date": D("1998-03-01"), "disability": True}, {**OK})
add("D", "Non éligible : 31 ans même en situation de handicap", {**BASE, "birth_date": D("1995-01-01"), "disability": True},
    {"eligible": False, "missing": []})
add("E", "Non éligible : en formation et mobilisé", {**BASE, "in_school_training_or_insertion": True, "demobilised": False},
    {"eligible": False, "missing": []})
add("F", "Éligible (volet préventif) : en parcours mais démobilisé", {**BASE, "in_school_training_or_insertion": True, "demobilised": True},
    {**OK})
recG = dict(BASE, demobilised=False); del recG["in_school_training_or_insertion"]
add("G", "Inconnu : situation scolaire ou d'insertion non renseignée", recG,
    {"eligible": None, "missing": ["in_school_training_or_insertion"]})
recH = dict(BASE); del recH["birth_date"]
add("H", "Inconnu : date de naissance non renseignée", recH, {"eligible": None, "missing": ["birth_date"]})
add("I", "Accompagnement sans aucune rencontre en avril",
    {**BASE, "history": hist_A, "events": [e for e in meet("2026-01-12", "2026-06-02") if e["date"].month != 4] + cc},
    {**OK, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.regular_meetings": "unmet"})
add("J", "Accompagnement commencé sans plan d'action personnalisé",
    {**BASE, "history": hist_A, "events": meet("2026-01-12", "2026-06-02") + cc[:1]},
    {**OK, "path.legal": False, "path.first_violation": "guard_failed"})
add("K", "Mise en veille depuis le 01/04 avec un contact par mois",
    {**BASE, "history": hist_A + H(("veille", "2026-04-01")), "events": meet("2026-01-12", "2026-06-02") + cc},
    {**OK, "path.legal": True, "path.current_phase": "veille", "obligations.regular_watch_contacts": "met",
     "obligations.regular_meetings": "met"})
add("L", "Mise en veille sans contact en avril",
    {**BASE, "history": hist_A[:2] + H(("accompagnement", "2026-02-20"), ("veille", "2026-03-01")),
     "events": [e for e in meet("2026-01-12", "2026-06-02") if e["date"].month != 4] + cc},
    {**OK, "path.legal": False, "path.first_violation": "obligation_unmet", "obligations.regular_watch_contacts": "unmet"})
add("M", "Accompagnement sans passer par la co-construction",
    {**BASE, "history": H(("reperage", "2026-01-12"), ("accompagnement", "2026-02-02")), "events": meet("2026-01-12", "2026-06-02")},
    {**OK, "path.legal": False, "path.first_violation": "transition_not_allowed"})
add("N", "Repérage sans engagement du jeune puis sortie",
    {**BASE, "history": H(("reperage", "2026-01-12"), ("sortie", "2026-03-01")), "events": []},
    {**OK, "path.legal": True, "path.current_phase": "sortie", "obligations.regular_meetings": "not_applicable"})
add("O", "Reprise de l'accompagnement pendant la veille",
    {**BASE, "history": hist_A + H(("veille", "2026-04-01"), ("accompagnement", "2026-05-04")),
     "events": meet("2026-01-12", "2026-06-02") + cc},
    {**OK, "path.legal": True, "path.current_phase": "accompagnement", "obligations.regular_meetings": "met"})
add("P", "Deux rencontres par mois exigées par le Département : une seule en mai",
    {**BASE, "history": hist_A, "events": meet("2026-01-12", "2026-05-01") + meet("2026-03-01", "2026-05-01", day=24)
               + meet("2026-05-01", "2026-06-02") + cc},
    {**OK, "path.legal": False, "obligations.regular_meetings": "unmet"}, params={"min_meetings_per_month": 2})


TNC = ["2026-01-20", "2026-03-17", "2026-05-12", "2026-07-07", "2026-09-01", "2026-10-27", "2026-12-22", "2027-02-16"]
OPB = {"financing": {"departement": 25200, "fse_plus": 37800}, "funding_plan_annex_2_years": True, "id": "OP-CJ-1", "spec": "coach-jeunesse", "operator_name": "Association Prévention Jeunesse Hénin", "legal_form": "association_1901",
       "youth_expertise": True, "local_anchoring": True, "joint_fse_application": True, "application_date": D("2026-02-05"),
       "fund": "fse_plus", "signature_date": D("2026-03-02"), "convention_start": D("2026-01-01"), "convention_end": D("2027-12-31"),
       "places": 30, "quality_charter_score": 0.8, "tracking_table_fed": True, "department_trainings_attended": True,
       "department_toolbox_used": True, "partners_mobilised": 12,
       "staff": [{"id": "C1", "role": "Coach jeunesse", "cost": 45000}],
       "events": [{"type": "follow_up_committee", "date": D(d)} for d in ["2026-03-20", "2026-06-15", "2026-09-15", "2026-12-10", "2027-03-15"]]
                 + [{"type": "steering_committee", "date": D("2026-11-20")}]
                 + [{"type": "technical_network_committee", "date": D(d)} for d in TNC]}
COH = [{"id": "c1", "history": H(("reperage", "2026-02-02"), ("co_construction", "2026-03-02")), "events": [{"type": "appointment", "date": D("2026-03-02"), "mode": "in_person"}]},
       {"id": "c2", "history": H(("reperage", "2026-02-02"), ("co_construction", "2026-02-16"), ("accompagnement", "2026-03-16")),
        "events": [{"type": "appointment", "date": D("2026-02-16"), "mode": "in_person"}]},
       {"id": "c3", "history": H(("reperage", "2026-01-12"), ("co_construction", "2026-02-02"), ("accompagnement", "2026-03-02")),
        "events": [{"type": "appointment", "date": D("2026-02-02"), "mode": "in_person"}, {"type": "referral", "date": D("2026-05-04"), "domain": "training"}]},
       {"id": "c4", "history": H(("reperage", "2026-04-01"))}]
OPS = [
 ("Opération : 1 coach (45 000 €), 30 places, 4 jeunes repérés dont 3 engagés, comités tenus (périodes 2027 en cours), charte respectée à 80 %", "2027-04-15", OPB, COH,
  {"operator.eligible": True, "funding_plan.eligible_costs": 63000.00, "funding_plan.max_grant": 25200.00,
   "capacity.places_per_fte.capacity": 30, "indicators.spotted_count.value": 4, "indicators.met_count.value": 3,
   "indicators.engaged_count.value": 3, "indicators.referred_to_mainstream.value": 1,
   "funding.parts.volume.ratio": 0.1, "funding.parts.volume.amount": 1260.00, "funding.parts.quality_charter.amount": 10080.00,
   "funding.total": 11340.00, "payments.tranches.advance.amount": 7560.00, "payments.tranches.installment.amount": 3780.00,
   "payments.tranches.balance.amount": 0.00,
   "reporting.quarterly_follow_up_committee.status": "pending", "reporting.yearly_steering_committee.status": "pending",
   "reporting.network_technical_committee.status": "pending"}),
 ("Comité technique de réseau manqué entre le 13/08 et le 07/10/2026, aucun comité de suivi au 3e trimestre", "2027-04-15",
  {**OPB, "id": "OP-CJ-2", "events": [e for e in OPB["events"] if e["date"] not in (D("2026-09-01"), D("2026-09-15"))]}, [],
  {"reporting.network_technical_committee.status": "unmet", "reporting.quarterly_follow_up_committee.status": "unmet",
   "reporting.yearly_steering_committee.status": "pending"}),
 ("Structure sans ancrage local ni repérage actif : non éligible", "2026-03-01", {**OPB, "id": "OP-CJ-3", "local_anchoring": False}, None,
  {"operator.eligible": False}),
]

if __name__ == "__main__":
    what = sys.argv[1] if len(sys.argv) > 1 else "examples"
    if what == "examples":
        print("\n".join(example_yaml(n, at, r, e, params=p) for n, at, r, e, p in S))
        print("\n".join(op_example_yaml(n, at, op, c, e) for n, at, op, c, e in OPS))
    elif what == "records":
        sys.stdout.write(jsonl([r for n, at, r, e, p in S if p == PARAMS]))
    elif what == "expected":
        for n, at, r, e, p in S:
            if p == PARAMS:
                print(json.dumps({"id": r["id"], "at": at, "params": p, "name": n, **e}, ensure_ascii=False))
    elif what == "operation":
        sys.stdout.write(op_json(OPB))
    elif what == "cohort":
        sys.stdout.write(jsonl([{**BASE, **c} for c in COH] + [r for n, at, r, e, p in S]))
