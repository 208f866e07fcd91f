"""The documentation site in a real headless browser (Debian's chromium, driven by playwright).

Every page loads without a console message, a script error or a failed request; every internal link leads to an
existing page and element; every phase graph is drawn (its screenshot is not blank); the pages are in French.
Chromium is found at /usr/bin/chromium (or $ENGINE_CHROMIUM); playwright's own browser download is never used.
Skipped only when chromium is absent on a developer's machine; in CI (``CI`` set) its absence is a failure.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest

from engine.render.site import build_site

from sitekit import ink_fraction

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = os.environ.get("ENGINE_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync"]

if not CHROMIUM:
    if os.environ.get("CI"):
        pytest.fail("chromium is required in CI for the browser tests (.ci/run installs Debian's chromium)",
                    pytrace=False)
    pytest.skip("chromium is not installed (apt-get install -y chromium); the browser tests need it",
                allow_module_level=True)

sync_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed (pip install -e '.[test]')")


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("browser") / "site"
    build_site([str(ROOT / "specs")], str(out))
    return out


@pytest.fixture(scope="module")
def browser(tmp_path_factory):
    profile = tmp_path_factory.mktemp("profile")
    with sync_api.sync_playwright() as pw:
        ctx = pw.chromium.launch_persistent_context(str(profile), executable_path=CHROMIUM, headless=True,
                                                    args=ARGS, viewport={"width": 1280, "height": 900},
                                                    device_scale_factor=0.5)  # smaller screenshots to read
        yield ctx
        ctx.close()


def _visit(browser, url: str):
    """Open ``url``; return (page, problems): console messages, script errors and failed requests."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(f"console {m.type}: {m.text}") if m.type in ("error", "warning")
            else None)
    page.on("pageerror", lambda e: problems.append(f"script error: {e}"))
    page.on("requestfailed", lambda r: problems.append(f"failed request: {r.url}"))
    response = page.goto(url, wait_until="load")
    if response is not None and not response.ok:
        problems.append(f"HTTP {response.status}")
    return page, problems


def test_every_page_loads_cleanly_in_french_and_its_links_resolve(site, browser):
    pages = sorted(site.rglob("*.html"))
    targets: dict[str, set[str]] = {}
    ids: dict[str, set[str]] = {}
    for f in pages:
        page, problems = _visit(browser, f.as_uri())
        assert problems == [], f"{f.name}: {problems}"
        assert page.evaluate("document.documentElement.lang") == "fr", f.name
        assert page.title().endswith("Dispositifs du Pas-de-Calais"), f.name
        ids[page.url.split("#")[0]] = set(page.eval_on_selector_all("[id]", "els => els.map(e => e.id)"))
        for href in page.eval_on_selector_all(
                "a[href], link[href]",  # an SVG link's href is an SVGAnimatedString: resolve its text
                "els => els.map(e => typeof e.href === 'string' ? e.href : new URL(e.href.baseVal, document.baseURI).href)"):
            if href.startswith("data:"):
                continue
            assert href.startswith("file://"), f"{f.name}: external link {href}"
            url, frag = urldefrag(href)
            targets.setdefault(url, set()).add(frag)
        page.close()
    assert len(targets) >= len(pages)  # every page is linked from somewhere (index, sources, versions)
    for url, frags in sorted(targets.items()):
        path = Path(urlsplit(url).path)
        assert path.is_file(), f"link to a missing file: {path}"
        if path.suffix == ".html":
            assert url in ids, f"a link leads out of the site: {url}"
            missing = sorted(f for f in frags if f and f not in ids[url])
            assert missing == [], f"{path.name}: no element for #{missing}"


def test_every_phase_graph_is_drawn(site, browser):
    drawn = 0
    for f in sorted(site.glob("*.html")):
        page, problems = _visit(browser, f.as_uri())
        graph = page.locator("svg.graph")
        if graph.count() == 0:
            page.close()
            continue
        assert graph.is_visible(), f.name
        box = graph.bounding_box()
        assert box and box["width"] > 150 and box["height"] > 80, f"{f.name}: {box}"
        n_phases = page.locator("#parcours h3 + table tr[id^=phase-]").count()
        assert graph.locator("g.node").count() == n_phases > 0, f.name
        shot = graph.screenshot()
        assert ink_fraction(shot) > 0.03, f"{f.name}: the graph's screenshot is blank"
        drawn += 1
        page.close()
    assert drawn == 11  # every programme with an individual path (tetes-de-reseaux-iae has none)


def test_text_is_french(site, browser):
    page, _ = _visit(browser, (site / "chantiers-insertion.html").as_uri())
    text = page.inner_text("main")
    for words in ("Éligibilité des bénéficiaires", "Toutes les conditions suivantes", "Source :", "Parcours",
                  "Financement"):
        assert words in text
    assert "Eligibility" not in text and "undefined" not in text
    page.close()
