#!/usr/bin/env python3
"""Write a sample operation and cohort for every programme spec:
``specs/samples/<id>.operation.json`` and ``specs/samples/<id>.cohort.jsonl``.

    python tools/make_operation_samples.py [--n 40] [--seed 7] [SPEC.yaml ...]

The operation record gets a plausible value for each declared operation attribute (an association loi 1901,
labelled référent 62, the fund the spec's share rule expects, convention dates from the spec, two staff members,
reviews submitted on time...) and a financing plan whose Département line is exactly the share the spec asks for
(so the sample funding plan conforms). The cohort is drawn by ``tools/synth.py`` (legal paths, realistic events).
Same seed, same files. Existing samples are kept unless ``--force`` (several are edited by hand).
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

from engine.cohort import build_report, windows  # noqa: E402
from engine.compile import load_spec  # noqa: E402
from engine.opspec import sections_of  # noqa: E402

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


def operation_for(spec, rng: random.Random) -> dict:
    op: dict = {"id": f"OP-{spec.id}-2026-001", "spec": spec.id}
    for name, a in spec.operation_attributes.items():
        if name == "spec":
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
        op["staff"] = [{"id": "S1", "role": "Référent de parcours", "cost": 42000},
                       {"id": "S2", "role": "Conseiller en insertion", "cost": 19000, "allocation": 0.5},
                       {"id": "DIR", "role": "Direction (fonction support)", "cost": 6000, "allocation": 0.1,
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
    """Values a case worker would recognise, where the generic generator draws numbers at random: months of support
    between 3 and 12, CRE validated, exit proofs provided, the SLAI validation dated on the day of entry."""
    attrs = spec.attributes
    if "support_months" in attrs:
        rec["support_months"] = rng.randint(3, 12)
    for name in ("cre_validated_by_slai", "exit_proof_provided", "slai_validated"):
        if name in attrs:
            rec[name] = True
    if "slai_validation" in spec.events and rec.get("history"):
        rec.setdefault("events", []).insert(0, {"type": "slai_validation", "date": rec["history"][0]["date"]})
    return rec


def main(argv=None) -> int:
    from synth import Synth

    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("specs", nargs="*")
    ap.add_argument("--n", type=int, default=40)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--force", action="store_true",
                    help="overwrite existing samples (by default a programme that has a sample operation is skipped: "
                         "some are written by hand)")
    a = ap.parse_args(argv)
    paths = a.specs or sorted(p for p in glob.glob(os.path.join(HERE, "..", "specs", "*.yaml"))
                              if not p.endswith("common.yaml"))
    for path in paths:
        spec = load_spec(path)
        if spec.kind != "spec":
            continue
        rng = random.Random(a.seed)
        out = os.path.join(HERE, "..", "specs", "samples", f"{spec.id}.operation.json")
        if os.path.exists(out) and not a.force:
            print(f"{spec.id}: sample exists, skipped (--force to overwrite)")
            continue
        op = with_financing(spec, operation_for(spec, rng))
        with open(out, "w", encoding="utf-8") as f:
            f.write(json.dumps(op, ensure_ascii=False, indent=1) + "\n")
        syn = Synth(spec, a.seed, date(2026, 1, 5))
        lines = []
        for i in range(a.n):
            rec = realistic(spec, syn.record(i, AT, 0.0, 0.0), rng)
            lines.append(json.dumps(rec, ensure_ascii=False, default=str))
        with open(os.path.join(HERE, "..", "specs", "samples", f"{spec.id}.cohort.jsonl"), "w",
                  encoding="utf-8") as f:
            f.write("\n".join(lines) + "\n")
        print(f"{spec.id}: operation + {a.n} participants")
    return 0


if __name__ == "__main__":
    sys.exit(main())
