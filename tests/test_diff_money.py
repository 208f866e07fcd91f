"""engine diff --operation: the money impact of a funding change on one operation, to the cent, in every format;
and the HTML diff quoting the text line each changed element cites."""

import json
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest

from engine.audit.diff import diff_versions, load_version
from engine.audit.money import Amount, compare_reports, money_impact
from engine.operation.record import load_operation
from engine.render.diff import render
from engine.spec.compile import load_spec
from engine.spec.sources import SourceTexts

ROOT = Path(__file__).resolve().parent.parent
OPS = ROOT / "tests" / "data" / "ops"
AT = date(2027, 4, 15)


@pytest.fixture
def versions(tmp_path):
    """aci.yaml, and a version whose realised-months cap goes from 375 to 300 EUR a month (05:88)."""
    text = (OPS / "aci.yaml").read_text(encoding="utf-8")
    new = text.replace("amount: 375 * support_months_total", "amount: 300 * support_months_total")
    assert new != text
    (tmp_path / "old.yaml").write_text(text, encoding="utf-8")
    (tmp_path / "new.yaml").write_text(new, encoding="utf-8")
    for f in OPS.glob("*.yaml"):
        if f.name != "aci.yaml":
            (tmp_path / f.name).write_text(f.read_text(encoding="utf-8"), encoding="utf-8")
    return tmp_path / "old.yaml", tmp_path / "new.yaml"


def _impact(versions):
    old, new = versions
    return money_impact(load_spec(str(old)), load_spec(str(new)), load_operation(str(OPS / "aci.operation.json")),
                        str(OPS / "aci.cohort.jsonl"), AT)


def test_a_lower_cap_lowers_the_grant_and_the_amounts_due(versions):
    m = _impact(versions)
    got = {a.id: (a.old, a.new, a.delta) for a in m.changed}
    # 300 x 108 realised months = 32 400.00 (was 375 x 108 = 40 500.00): it now binds the grant (was 45 000.00)
    assert got["cap.per_participant_month_realised"] == (Decimal("40500.00"), Decimal("32400.00"),
                                                         Decimal("-8100.00"))
    assert "grant" not in got or got["grant"][0] == Decimal("45000.00")
    assert all(a.delta is None or a.delta == a.new - a.old for a in m.amounts)
    unchanged = {a.id for a in m.amounts if not a.changed}
    assert "eligible_costs" in unchanged


def test_every_format_shows_the_amounts_before_and_after(versions):
    old, new = versions
    result = diff_versions(load_version(str(old)), load_version(str(new)))
    m = _impact(versions)
    text = render(result, None, "text", money=m)
    assert "Impact financier sur l'opération OP-ACI-TEST au 15/04/2027" in text
    assert "40\u202f500,00\u00a0€ -> 32\u202f400,00\u00a0€ (-8\u202f100,00\u00a0€)" in text
    md = render(result, None, "markdown", money=m)
    assert "## Impact financier" in md and "| 40\u202f500,00\u00a0€ | 32\u202f400,00\u00a0€ |" in md
    html = render(result, None, "html", money=m)
    assert "<h2>Impact financier</h2>" in html and 'class="num"' in html
    js = json.loads(render(result, None, "json", money=m))
    row = next(a for a in js["money"]["amounts"] if a["id"] == "cap.per_participant_month_realised")
    assert row == {"section": "funding_plan", "id": "cap.per_participant_month_realised",
                   "label": "375 € par mois réalisé", "old": 40500.0, "new": 32400.0, "delta": -8100.0}


def test_json_with_money_conforms_to_the_diff_output_schema(versions):
    from jsonschema import Draft202012Validator
    from engine.render.schemas import output_schema
    old, new = versions
    result = diff_versions(load_version(str(old)), load_version(str(new)))
    doc = json.loads(render(result, None, "json", money=_impact(versions)))
    Draft202012Validator(output_schema("diff")).validate(doc)


def test_an_amount_only_one_version_has_is_added_or_removed():
    old = {"funding": {"parts": [{"id": "a", "label": "A", "amount": Decimal("10")}], "total": Decimal("10")}}
    new = {"funding": {"parts": [{"id": "b", "label": "B", "amount": Decimal("7.5")}], "total": Decimal("7.5")}}
    rows = {a.id: a for a in compare_reports(old, new)}
    assert rows["a"] == Amount("funding", "a", "A", Decimal("10"), None)
    assert rows["b"].old is None and rows["b"].new == Decimal("7.5") and rows["b"].delta is None
    assert rows["total"].delta == Decimal("-2.5")


def test_html_quotes_the_cited_line_when_the_texts_are_there(versions, tmp_path):
    seeds = tmp_path / "seeds"
    seeds.mkdir()
    lines = [f"ligne {i}" for i in range(1, 120)]
    lines[87] = "Plafond : 375 euros par mois et par participant."
    (seeds / "05-chantiers-insertion.txt").write_text("\n".join(lines), encoding="utf-8")
    old, new = versions
    result = diff_versions(load_version(str(old)), load_version(str(new)))
    assert any(c.source == "05-chantiers-insertion.txt:88" for c in result.changes)
    html = render(result, None, "html", sources=SourceTexts(seeds))
    assert "« Plafond : 375 euros par mois et par participant. »" in html
    assert "<blockquote" not in render(result, None, "html")  # no texts: no quote


def test_cli_diff_operation_gives_the_money_impact(versions, capsys):
    from engine.cli.main import main
    old, new = versions
    code = main(["diff", str(old), str(new), "--records", str(OPS / "aci.cohort.jsonl"), "--operation",
                 str(OPS / "aci.operation.json"), "--at", "2027-04-15", "--format", "json"])
    out, err = capsys.readouterr()
    assert code == 0, err
    money = json.loads(out)["money"]
    assert money["operation"] == "OP-ACI-TEST" and money["changed"] >= 1


def test_cli_diff_operation_needs_the_cohort(versions, capsys):
    from engine.cli.main import main
    old, new = versions
    assert main(["diff", str(old), str(new), "--operation", str(OPS / "aci.operation.json")]) == 2
    assert "--operation demande --records" in capsys.readouterr().err


def test_html_diff_links_each_change_to_the_site(versions, tmp_path, capsys):
    from engine.cli.main import main
    from engine.render.site import build_site
    old, new = versions
    site = tmp_path / "site"
    build_site([str(new)], str(site), seeds=None)
    assert (site / "pages.json").is_file()
    code = main(["diff", str(old), str(new), "--format", "html", "--site", str(site), "--site-url",
                 "https://example.org/dispositifs"])
    out, err = capsys.readouterr()
    assert code == 0, err
    assert 'href="https://example.org/dispositifs/test-aci.html#' in out
    assert main(["diff", str(old), str(new), "--format", "html", "--site", str(tmp_path)]) == 2  # not a site
