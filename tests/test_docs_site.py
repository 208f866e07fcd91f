"""`engine docs`: the static site (pages, links, quotes, escaping, output safety) and the graph layout."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from engine.spec.check import seeds_dir
from engine.cli.main import main
from engine.errors import SpecError, UsageError
from engine.render.site import build_site
from engine.render.site.layout import layout_graph, wrap

from sitekit import broken_links, parse_page

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
DATA = Path(__file__).resolve().parent / "data" / "site"
SEEDS = seeds_dir()
needs_seeds = pytest.mark.skipif(SEEDS is None, reason="source texts not found (ENGINE_SEEDS or ../shared/seeds)")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("site") / "site"
    build_site([str(SPECS)], str(out))
    return out


def test_one_page_per_programme_and_an_index(site):
    index = (site / "index.html").read_text(encoding="utf-8")
    specs = [p for p in SPECS.glob("*.yaml") if p.name != "common.yaml"]
    pages = [p for p in site.glob("*.html") if p.name != "index.html" and not p.name.endswith(".versions.html")]
    assert len(pages) == len(specs) == 12
    for p in pages:
        assert f'href="{p.name}"' in index, p.name
    assert (site / "dynamisation-des-parcours.versions.html").is_file()
    assert (site / ".engine-docs").is_file()


def test_every_internal_link_resolves(site):
    assert broken_links(site) == []


def test_pages_are_french(site):
    for page in site.rglob("*.html"):
        assert parse_page(page).lang == "fr", page.name


@needs_seeds
def test_rules_link_to_their_source_line_and_quote_it(site):
    page = (site / "chantiers-insertion.html").read_text(encoding="utf-8")
    # the rule "resident_62" cites 05-chantiers-insertion.txt:15; its line is quoted under it
    line15 = (SEEDS / "05-chantiers-insertion.txt").read_text(encoding="utf-8").splitlines()[14].strip()
    m = re.search(r'<li class="leaf" id="rule-resident_62">(.*?)</li>', page, re.S)
    assert m, "the rule resident_62 has an anchor"
    assert 'href="sources/05-chantiers-insertion.html#L15"' in m.group(1)
    from markupsafe import escape
    assert str(escape(line15[:80])) in m.group(1)
    src = (site / "sources" / "05-chantiers-insertion.html").read_text(encoding="utf-8")
    assert 'id="L15"' in src and str(escape(line15[:80])) in src


def test_sections_of_a_programme(site):
    page = (site / "chantiers-insertion.html").read_text(encoding="utf-8")
    for title in ("Éligibilité des bénéficiaires", "Éligibilité du porteur de projet", "Parcours", "Capacité",
                  "Contraintes de cohorte", "Indicateurs", "Financement", "Échéancier des paiements",
                  "Bilans et comptes rendus", "Exemples"):
        assert f">{title}</h" in page, title
    assert ("count(participants where in_operation_05 and young_at_entry_05) &lt;= 20% * "
            "count(participants where in_operation_05)") in page  # an expression
    assert "30\u00a0%" in page  # the Département's share, in French notation
    assert "<svg" in page and "Graphe des phases" in page
    dsp = (site / "dynamisation-des-parcours-2026.1.html").read_text(encoding="utf-8")
    assert ">Échéances</h2>" in dsp and ">Obligations récurrentes</h2>" in dsp
    assert "1 · dans les 15 jours" in dsp  # a transition drawn with its timing


def test_versions_side_by_side(site):
    page = (site / "dynamisation-des-parcours.versions.html").read_text(encoding="utf-8")
    assert 'href="dynamisation-des-parcours-2026.1.html"' in page
    assert 'href="dynamisation-des-parcours-2026.2.html"' in page
    assert "De la version 2026.1 à la version 2026.2" in page
    assert "1er juillet 2026" in page  # the 2nd session's validity
    # a change links to the changed element of the new version's page
    assert re.search(r'href="dynamisation-des-parcours-2026\.2\.html#[a-z]+-', page)
    one = (site / "dynamisation-des-parcours-2026.1.html").read_text(encoding="utf-8")
    assert 'href="dynamisation-des-parcours-2026.2.html"' in one


def test_everything_is_escaped(tmp_path):
    out = tmp_path / "site"
    build_site([str(DATA / "hostile.yaml")], str(out), seeds=DATA / "seeds")
    for page in out.rglob("*.html"):
        text = page.read_text(encoding="utf-8")
        assert "<script" not in text and "<img" not in text and "<b>" not in text and "<u>" not in text, page.name
    page = (out / "tiny.html").read_text(encoding="utf-8")
    assert "Programme &lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; co" in page
    assert "ligne deux &amp; &#34;citation&#34; &lt;script&gt;x&lt;/script&gt;" in page  # the quoted source line
    assert "Entrée &lt;i&gt;" in page  # a phase label, in the SVG too
    assert broken_links(out) == []


def test_without_source_texts_references_are_plain_and_a_warning_says_how(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("ENGINE_SEEDS", str(tmp_path / "nowhere"))
    out = tmp_path / "site"
    assert main(["docs", str(DATA / "hostile.yaml"), "-o", str(out)]) == 0
    err = capsys.readouterr().err
    assert "textes sources introuvables" in err and "ENGINE_SEEDS" in err and "--seeds" in err
    page = (out / "tiny.html").read_text(encoding="utf-8")
    assert "sources/" not in page and "<code>01-test.txt:2</code>" in page
    assert not (out / "sources").exists()
    assert broken_links(out) == []


def test_a_previous_site_is_replaced_and_nothing_is_left_behind(tmp_path):
    out = tmp_path / "site"
    build_site([str(DATA / "hostile.yaml")], str(out), seeds=DATA / "seeds")
    (out / "stale.html").write_text("old", encoding="utf-8")
    build_site([str(DATA / "hostile.yaml")], str(out), seeds=DATA / "seeds")
    assert not (out / "stale.html").exists() and (out / "tiny.html").is_file()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["site"]  # no temporary folder left


def test_refuses_a_folder_it_did_not_write(tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("à garder", encoding="utf-8")
    with pytest.raises(UsageError) as e:
        build_site([str(DATA / "hostile.yaml")], str(out), seeds=DATA / "seeds")
    assert e.value.code == "output.not_site"
    assert (out / "notes.txt").read_text(encoding="utf-8") == "à garder"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["mine"]


def test_refuses_an_output_folder_holding_an_input(tmp_path):
    spec = tmp_path / "out" / "hostile.yaml"
    spec.parent.mkdir()
    shutil.copy(DATA / "hostile.yaml", spec)
    (spec.parent / ".engine-docs").write_text("", encoding="utf-8")
    with pytest.raises(UsageError) as e:
        build_site([str(spec)], str(spec.parent), seeds=DATA / "seeds")
    assert e.value.code == "output.is_input"
    assert spec.is_file()


def test_cli_errors(tmp_path, capsys):
    assert main(["docs", str(tmp_path / "absent.yaml"), "-o", str(tmp_path / "s")]) == 1
    assert "aucun fichier ni dossier de ce nom" in capsys.readouterr().err
    assert main(["docs", str(DATA / "hostile.yaml"), "--seeds", str(DATA / "seeds"),
                 "-o", str(tmp_path / "no" / "such" / "s")]) == 2
    assert "n'existe pas" in capsys.readouterr().err
    assert main(["docs", str(DATA / "hostile.yaml"), "--seeds", str(tmp_path / "x"), "-o", str(tmp_path / "s")]) == 2
    assert main(["docs", str(DATA / "hostile.yaml")]) == 2  # -o is required


def test_an_invalid_spec_is_reported_not_drawn(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((DATA / "hostile.yaml").read_text(encoding="utf-8").replace("within: 15 days", "within: 15 ans"
                   ).replace("condition: 'age", "condition: 'agee"), encoding="utf-8")
    with pytest.raises(SpecError):
        build_site([str(bad)], str(tmp_path / "s"), seeds=DATA / "seeds")
    assert not (tmp_path / "s").exists()


# --------------------------------------------------------------------------------------------- layout

def test_wrap_keeps_every_word_within_the_width():
    lines = wrap("Contrat d'Engagement (CE) de 6 mois renouvelable après le bilan final", 20, 10)
    assert all(len(x) <= 20 for x in lines)
    assert " ".join(lines) == "Contrat d'Engagement (CE) de 6 mois renouvelable après le bilan final"
    assert wrap("a " * 100, 10, 2)[-1].endswith("…")


graphs = st.integers(min_value=1, max_value=9).flatmap(lambda n: st.tuples(
    st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=3 * n)))


@settings(max_examples=150, deadline=None)
@given(graphs)
def test_layout_boxes_never_overlap_and_fit(g):
    n, pairs = g
    phases = [(f"p{i}", f"Phase numéro {i} " * (i % 3 + 1), "au plus 6 mois" if i % 2 else None, i == 0,
               i == n - 1) for i in range(n)]
    trans = [(k + 1, f"p{a}", f"p{b}", "dans les 15 jours" if k % 2 else None) for k, (a, b) in enumerate(pairs)]
    lay = layout_graph(phases, trans)
    assert [x.id for x in lay.nodes] == [p[0] for p in phases]
    assert len(lay.edges) == len(trans)
    for a in lay.nodes:
        assert 0 <= a.x and a.x + a.w <= lay.width and 0 <= a.y and a.y + a.h <= lay.height
        for b in lay.nodes:
            if a is not b:
                assert a.x + a.w <= b.x or b.x + b.w <= a.x or a.y + a.h <= b.y or b.y + b.h <= a.y
    for e in lay.edges:
        assert e.path.startswith("M") and e.label.startswith(str(e.number))
        assert 0 <= e.label_x <= lay.width and 0 <= e.label_y <= lay.height
    # a transition goes down unless it closes a cycle
    layer = {x.id: x.y for x in lay.nodes}
    for e in lay.edges:
        if e.kind == "forward":
            assert layer[e.target] > layer[e.source]
    assert layout_graph(phases, trans) == lay  # deterministic


def test_long_edges_go_around_boxes():
    # a -> b -> c and a -> c: the long edge a -> c must not run through b's box
    lay = layout_graph([("a", "A", None, True, False), ("b", "B", None, False, False), ("c", "C", None, False, True)],
                       [(1, "a", "b", None), (2, "b", "c", None), (3, "a", "c", None)])
    b = next(x for x in lay.nodes if x.id == "b")
    long = next(e for e in lay.edges if e.number == 3)
    xs = [float(v) for v in re.findall(r"(-?\d+(?:\.\d+)?),", long.path)]
    ys = [float(v) for v in re.findall(r",(-?\d+(?:\.\d+)?)", long.path)]
    for x, y in zip(xs, ys):
        assert not (b.x < x < b.x + b.w and b.y < y < b.y + b.h)
