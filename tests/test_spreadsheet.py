"""CSV for a French Excel (engine.render.spreadsheet) and the French Markdown report: the notation changes, the
figures do not."""

import csv
import io
import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.render.report import render
from engine.render.spreadsheet import BOM, EXCEL_FR, STANDARD, dialect
from engine.render.evaluation import write_csv

ROOT = Path(__file__).resolve().parent.parent
OPS = ROOT / "tests" / "data" / "ops"


@pytest.mark.parametrize("text,column,cell", [
    ("45000.00", "value", "45000,00"), ("-0.5", "value", "-0,5"), ("12", "value", "12"),
    ("2027-03-31", "value", "31/03/2027"), ("true", "eligible", "VRAI"), ("false", "legal", "FAUX"),
    ("2027-03-31", "id", "2027-03-31"), ("12.5", "label", "12.5"), ("true", "status", "true"),
    ("'=1+1", "value", "'=1+1"), ("", "value", ""), ("sortie", "value", "sortie"),
])
def test_excel_fr_cells(text, column, cell):
    assert EXCEL_FR.cell(text, column) == cell
    assert STANDARD.cell(text, column) == text


def test_unknown_dialect_is_a_key_error():
    assert dialect(None) is STANDARD and dialect("excel-fr") is EXCEL_FR
    with pytest.raises(KeyError):
        dialect("excel-de")


def _report():
    from engine.operation.record import load_operation
    from engine.operation.report import build_report
    from engine.beneficiary.records import read_records
    from engine.spec.compile import load_spec
    spec = load_spec(str(OPS / "aci.yaml"))
    op = load_operation(str(OPS / "aci.operation.json"))
    return build_report(spec, op, read_records(str(OPS / "aci.cohort.jsonl")), date(2027, 4, 15))


def test_report_csv_in_both_dialects_has_the_same_figures():
    r = _report()
    std = list(csv.reader(io.StringIO(render(r, "csv"))))
    fr_text = render(r, "csv", EXCEL_FR)
    assert fr_text.startswith(BOM) and "\r\n" in fr_text
    fr = list(csv.reader(io.StringIO(fr_text[1:]), delimiter=";"))
    assert len(fr) == len(std) and fr[0] == std[0]
    for a, b in zip(std[1:], fr[1:]):
        assert a[:3] == b[:3] and a[4:] == b[4:]
        v, w = a[3], b[3]
        if v in ("true", "false"):
            assert w == {"true": "VRAI", "false": "FAUX"}[v]
        elif v[:4].isdigit() and v[4:5] == "-":
            assert w == f"{v[8:10]}/{v[5:7]}/{v[:4]}"
        else:
            assert Decimal(w.replace(",", ".")) == Decimal(v) if v else w == ""


def test_evaluate_csv_excel_fr(tmp_path):
    from engine.spec.compile import load_spec
    from engine.beneficiary.evaluate import evaluate_record
    name = "accompagnement-social-professionnel-intensif"
    spec = load_spec(str(ROOT / "specs" / f"{name}.yaml"))
    recs = [json.loads(x) for x in (ROOT / "specs" / "samples" / f"{name}.records.jsonl").read_text().splitlines()]
    results = [evaluate_record(spec, r, date(2026, 6, 1)) for r in recs]
    std, fr = io.BytesIO(), io.BytesIO()
    write_csv(std, results, spec)
    write_csv(fr, results, spec, EXCEL_FR)
    a = list(csv.reader(io.StringIO(std.getvalue().decode())))
    text = fr.getvalue().decode("utf-8")
    assert text.startswith(BOM)
    b = list(csv.reader(io.StringIO(text[1:]), delimiter=";"))
    assert len(a) == len(b) == len(recs) + 1
    col = a[0].index("eligible")
    assert {row[col] for row in b[1:]} <= {"VRAI", "FAUX", "unknown"}
    assert [row[0] for row in a] == [row[0] for row in b]


def test_markdown_report_is_french_notation():
    md = render(_report(), "markdown")
    assert md.startswith("# Rapport de l'opération OP-ACI-TEST\n")
    assert "| Part des jeunes | 16,7\u00a0% |" in md
    assert "| Subvention retenue | 45\u202f000,00\u00a0€ |" in md
    assert "0.1667" not in md and "— —" not in md and "| funding_plan |" not in md
    assert "31/03/2027" in md and "2027-03-31" not in md
