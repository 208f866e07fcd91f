"""`engine report`: runs on the sample operation and cohort of every programme; output formats (golden files for the
hand-checked chantier d'insertion case of tests/data/ops); errors exit 1 with a message, never a traceback.

Regenerate the golden files after a deliberate change with ``python -m pytest tests/test_report.py --update-goldens``
(and read the diff: every figure of the chantier case is worked out in tests/test_cohort.py)."""

import csv
import io
import json
import os
from decimal import Decimal as D
from pathlib import Path

import pytest

from engine.cli.main import main

ROOT = Path(__file__).parent.parent
SAMPLES = ROOT / "specs" / "samples"
OPS = Path(__file__).parent / "data" / "ops"
OPERATIONS = sorted(SAMPLES.glob("*.operation.json"))
PROGRAMMES = sorted(p.stem for p in (ROOT / "specs").glob("*.yaml") if p.stem != "common"
                    and not p.stem.endswith("-session-2"))


def run(capsys, *argv):
    rc = main(list(argv))
    out = capsys.readouterr()
    return rc, out.out, out.err


def test_every_programme_has_a_sample_operation_and_cohort():
    missing = [p for p in PROGRAMMES if not (SAMPLES / f"{p}.operation.json").exists()
               or not (SAMPLES / f"{p}.cohort.jsonl").exists()]
    assert missing == []


@pytest.mark.parametrize("op", OPERATIONS, ids=lambda p: p.name.split(".")[0])
def test_report_runs_on_every_sample(capsys, op):
    pid = op.name.split(".")[0]
    rc, out, err = run(capsys, "report", "--spec", str(ROOT / "specs" / f"{pid}.yaml"), "--operation", str(op),
                       "--records", str(SAMPLES / f"{pid}.cohort.jsonl"), "--at", "2027-04-15", "--format", "json")
    assert rc == 0, err
    r = json.loads(out, parse_float=D)
    assert r["spec"] == pid and r["as_of"] == "2027-04-15"
    n = sum(1 for line in (SAMPLES / f"{pid}.cohort.jsonl").read_text().splitlines() if line.strip())
    assert r["cohort"]["participants"] + r["cohort"]["errors"] == n  # never a lost record
    assert r["operator"]["eligible"] is True
    # the parts add up exactly to the totals, whenever they are known
    parts = r["funding"]["parts"]
    if parts and r["funding"]["total"] is not None:
        assert sum(D(str(p["amount"])) for p in parts) == D(str(r["funding"]["total"]))
    tranches = r["payments"]["tranches"]
    if tranches and r["payments"]["total"] is not None:
        assert sum(D(str(t["amount"])) for t in tranches) == D(str(r["payments"]["total"]))
        planned = [t["planned"] for t in tranches]
        if None not in planned and sum(D(str(t["share"])) for t in tranches) == 1:
            assert sum(D(str(p)) for p in planned) == D(str(r["payments"]["grant"]))


ACI = ["report", "--spec", str(OPS / "aci.yaml"), "--operation", str(OPS / "aci.operation.json"),
       "--records", str(OPS / "aci.cohort.jsonl"), "--at", "2027-04-15"]


@pytest.mark.parametrize("fmt,ext", [("text", "txt"), ("markdown", "md"), ("csv", "csv")])
def test_golden_outputs(capsys, fmt, ext, golden):
    rc, out, err = run(capsys, *ACI, "--format", fmt)
    assert rc == 0, err
    golden(OPS / f"aci.report.{ext}", out)


def test_json_money_is_exact(capsys):
    rc, out, _ = run(capsys, *ACI, "--json")
    assert rc == 0
    assert '"total": 40200.00' in out  # two decimals, no float noise
    r = json.loads(out, parse_float=D)
    assert r["payments"]["due_at"] == D("36000.00")
    assert [t["status"] for t in r["payments"]["tranches"]] == ["due", "due", "review_late"]


def test_csv_rows_are_traceable(capsys):
    rc, out, _ = run(capsys, *ACI, "--format", "csv")
    rows = list(csv.DictReader(io.StringIO(out)))
    total = next(r for r in rows if r["section"] == "funding" and r["id"] == "total")
    assert total["value"] == "40200.00"
    share = next(r for r in rows if r["id"] == "department_share")
    assert share["source"] == "05-chantiers-insertion.txt:90" and share["status"] == "passed"


@pytest.mark.parametrize("change,needle", [
    ({"operation": "nope.json"}, "impossible de lire"),
    ({"operation_text": "{not json"}, "n'est pas un JSON valide"),
    ({"operation_text": "[1, 2]"}, "doit contenir un objet JSON"),
    ({"operation_text": '{"id": "x", "spec": "mobilite"}'}, "déclarée pour le dispositif"),
    ({"operation_text": '{"id": "x", "posts": "dix"}'}, "posts"),
    ({"operation_text": '{"posts": 10}'}, "pas d'identifiant"),
    ({"operation_text": '{"id": "x", "staff": 3}'}, "« staff » doit être une liste"),
    ({"operation_text": '{"id": "x", "staff": [1]}'}, "staff[0] : un objet"),
    ({"operation_text": '{"id": "x", "staff": [{"id": "a"}]}'}, "« cost »"),
    ({"operation_text": '{"id": "x", "staff": [{"cost": "cher"}]}'}, "staff[0].cost : un nombre est attendu"),
    ({"operation_text": '{"id": "x", "staff": [{"cost": 100, "allocation": 2}]}'}, "entre 0 (exclu) et 1"),
    ({"operation_text": '{"id": "x", "staff": [{"cost": 100, "support_function": "oui"}]}'}, "vrai/faux"),
    ({"operation_text": '{"id": "x", "financing": [1]}'}, "« financing » doit être un objet"),
    ({"operation_text": '{"id": "x", "events": {}}'}, "« events » doit être une liste"),
    ({"operation_text": '{"id": "x", "events": [{"date": "2026-01-01"}]}'}, "events[0] : un objet"),
    ({"operation_text": '{"id": "x", "events": [{"type": "a", "date": "demain"}]}'}, "events[0].date"),
    ({"records": "nope.jsonl"}, "fichier introuvable"),
])
def test_errors_exit_1_with_a_message(capsys, tmp_path, change, needle):
    argv = list(ACI)
    if "operation" in change:
        argv[argv.index("--operation") + 1] = str(tmp_path / change["operation"])
    if "operation_text" in change:
        p = tmp_path / "op.json"
        p.write_text(change["operation_text"], encoding="utf-8")
        argv[argv.index("--operation") + 1] = str(p)
    if "records" in change:
        argv[argv.index("--records") + 1] = str(tmp_path / change["records"])
    rc, out, err = run(capsys, *argv)
    assert rc == 1
    assert needle in err
    assert "Traceback" not in err and "internal error" not in err
    if "operation_text" in change:  # a bad operation names its file
        assert err.startswith(f"{tmp_path / 'op.json'}:")


def test_usage_error_exit_2(capsys):
    rc, _, err = run(capsys, "report", "--spec", str(OPS / "aci.yaml"))
    assert rc == 2 and "--operation" in err


def test_parallel_pass_gives_the_same_report(tmp_path):
    # the sample cohort written 5 times with bad lines in between: 2 and 3 processes must give exactly the report of
    # one pass, including the line numbers of the bad records
    from datetime import date

    from engine.api import build_report, load_operation
    from engine.spec.compile import load_spec
    from engine.beneficiary.records import read_records
    from engine.render.report import to_json

    lines = (SAMPLES / "chantiers-insertion.cohort.jsonl").read_text(encoding="utf-8").splitlines()
    out = []
    for k in range(5):
        out += [ln.replace('"id": "', f'"id": "{k}-', 1) for ln in lines]
        out += ["{not json", "", "[1, 2]"]
    path = tmp_path / "cohort.jsonl"
    path.write_text("\n".join(out) + "\n", encoding="utf-8")
    spec = load_spec(str(ROOT / "specs" / "chantiers-insertion.yaml"))
    op = load_operation(str(SAMPLES / "chantiers-insertion.operation.json"))
    reports = [to_json(build_report(spec, op, read_records(str(path), spec=spec), date(2027, 4, 15),
                                    records_path=str(path), jobs=j)) for j in (1, 2, 3)]
    assert reports[0] == reports[1] == reports[2]
    r = json.loads(reports[0])
    assert r["cohort"]["participants"] == 5 * len(lines) and r["cohort"]["errors"] == 10
    assert r["cohort"]["error_samples"][0]["line"] == len(lines) + 1


def test_csv_cohort_gives_the_same_report(capsys, tmp_path):
    rows = [json.loads(line) for line in (OPS / "aci.cohort.jsonl").read_text().splitlines()]
    path = tmp_path / "cohort.csv"
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        for r in rows:
            w.writerow({k: ("true" if v is True else "false" if v is False else v) for k, v in r.items()})
    argv = list(ACI)
    argv[argv.index("--records") + 1] = str(path)
    rc, out, err = run(capsys, *argv, "--json")
    assert rc == 0, err
    rc2, out2, _ = run(capsys, *ACI, "--json")
    assert json.loads(out) == json.loads(out2)
