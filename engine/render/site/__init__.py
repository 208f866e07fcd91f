"""`engine docs SPECS -o SITE/`: a static documentation site, one page per programme plus an index.

What a page shows (French, for policy staff and operators): the programme's metadata, sessions and convention;
the eligibility rules of beneficiaries and operators as nested lists with their French labels and expressions;
the phase graph drawn as an inline SVG (laid out here, :mod:`engine.render.site.layout`: no graphviz, no network) with
the timing of each transition; deadlines, obligations, capacity, cohort constraints, indicators, funding,
payments and reviews; the examples that ``engine test`` runs. Every rule links to its source line
(``sources/NN-file.html#L12``, a page per source text) and quotes it, when the source texts are found (the same
folder as ``engine check``: ``$ENGINE_SEEDS`` or ``../shared/seeds``). Versions of one programme (specs with the
same ``id``) are linked to each other and compared side by side on a page of their own, which lists the semantic
changes (``engine diff``) with a link to the changed element.

Templates are jinja2 files shipped in the package (``engine/render/site/templates``) with autoescaping on: every text
from a spec is escaped. The pages use no script and load nothing from the network.

The site is written into a temporary folder next to ``SITE`` and moved into place at the end, so ``SITE`` is
never half written; an existing ``SITE`` is replaced only when it is empty or was written by ``engine docs``
(marker file ``.engine-docs``), and never when it holds one of the input specs.
"""

from __future__ import annotations

import errno
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from importlib import resources
from pathlib import Path
from typing import Any, Iterable, Mapping

from engine.errors import COMMAND_LINE, Diagnostic, SpecError, UsageError
from engine.fr import fr_long_date, fr_money, fr_number, fr_percent
from engine.spec.sources import SourceTexts

MARKER = ".engine-docs"
MANIFEST = "pages.json"  # each programme's page and anchors: what `engine diff --site` links to
QUOTE_LINES = 4  # lines of a source range quoted under a rule (the source page shows them all)
QUOTE_CHARS = 700  # characters of one quoted line
_REF_RE = re.compile(r"^(\d{2}-[a-z0-9-]+\.txt):(\d+)(?:-(\d+))?$")


# --------------------------------------------------------------------------------------------- French formatting

def fr_duration(d: Any) -> str:
    from engine.spec.graph import french_duration

    return "" if d is None else french_duration(d)


_PERIODS = {"week": "semaine (ISO)", "month": "mois civil", "quarter": "trimestre civil", "year": "année civile"}


def fr_every(every: Any) -> str:
    if every == "stay":
        return "sur tout le séjour (vérifié à sa fin)"
    if every == "entry":
        return "pour chaque entrée dans la phase, renouvellement compris (vérifié à sa fin)"
    if isinstance(every, str):
        return "par " + _PERIODS.get(every, every)
    return "par période de " + fr_duration(every)


def fr_territories(ts: Any) -> str:
    ts = [str(t) for t in (ts or ())]
    if not ts or ts == ["all"]:
        return "tout le Département"
    return ", ".join(ts)


def expr_text(x: Any) -> str | None:
    """The text of an expression as written in the spec (an ``Expr``, a cohort expression, a compiled one)."""
    if x is None:
        return None
    if isinstance(x, str):
        return x
    inner = getattr(x, "expr", None)
    if inner is not None and hasattr(inner, "text"):
        return " ".join(str(inner.text).split())
    text = getattr(x, "text", None)
    return " ".join(str(text).split()) if text is not None else None


def _plain(v: Any) -> Any:
    if isinstance(v, Decimal):
        return int(v) if v == v.to_integral_value() else float(v)
    if isinstance(v, date):
        return v.isoformat()
    if isinstance(v, Mapping):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, (list, tuple)):
        return [_plain(x) for x in v]
    return v


def to_json(v: Any, indent: int | None = 2) -> str:
    return json.dumps(_plain(v), ensure_ascii=False, indent=indent)


# --------------------------------------------------------------------------------------------- source texts

@dataclass(frozen=True)
class SourceRef:
    """A ``source:`` reference as the page shows it: the text, the link (when the source page exists), the quote."""

    ref: str
    href: str | None
    quote: tuple[str, ...] = ()
    more: bool = False  # lines of the range left out of the quote


def source_page(name: str) -> str:
    return "sources/" + name[:-4] + ".html"


# --------------------------------------------------------------------------------------------- pages

def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "-", text).strip("-") or "x"


@dataclass
class Programme:
    spec: Any
    file: str  # the spec file as given
    page: str  # its page in the site
    siblings: list["Programme"] = field(default_factory=list)  # the other versions (same id)
    compare_page: str | None = None


def _page_names(specs: list[tuple[str, Any]]) -> list[Programme]:
    by_id: dict[str, list[tuple[str, Any]]] = {}
    for f, s in specs:
        by_id.setdefault(s.id, []).append((f, s))
    out: list[Programme] = []
    used: set[str] = {"index.html"}
    for sid, group in by_id.items():
        group.sort(key=lambda fs: (fs[1].valid_from or date.min, str(fs[1].version or ""), fs[0]))
        progs = []
        for f, s in group:
            base = _slug(sid) if len(group) == 1 else f"{_slug(sid)}-{_slug(str(s.version or Path(f).stem))}"
            name, n = base + ".html", 2
            while name in used:
                name, n = f"{base}-{n}.html", n + 1
            used.add(name)
            progs.append(Programme(s, f, name))
        compare = f"{_slug(sid)}.versions.html" if len(group) > 1 else None
        for p in progs:
            p.siblings = [q for q in progs if q is not p]
            p.compare_page = compare
        out.extend(progs)
    return out


_ANCHOR_OF_SECTION = {"eligibility": "rule", "phases": "phase", "transitions": "transition", "deadlines": "deadline",
                      "obligations": "obligation", "capacity": "capacity", "cohort_constraints": "constraint",
                      "indicators": "indicator", "payments": "payment", "reporting": "reporting",
                      "definitions": "definition", "parameters": "parameter", "sessions": "session",
                      "funding": "funding"}


def anchor(kind: str, ident: Any) -> str:
    return f"{kind}-{_slug(str(ident))}"


class _Renderer:
    def __init__(self, texts: SourceTexts):
        import jinja2

        self.texts = texts
        self.env = jinja2.Environment(
            loader=jinja2.PackageLoader("engine.render.site", "templates"),
            autoescape=True, undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True,
            keep_trailing_newline=True)
        self.env.filters.update(num=fr_number, pct=fr_percent, money=fr_money, frdate=fr_long_date, dur=fr_duration,
                                every=fr_every, expr=expr_text, territories=fr_territories, tojson_fr=to_json, slug=_slug)
        self.env.globals.update(src=self.source, anchor=anchor, kind_of=self.kind_of)

    @staticmethod
    def kind_of(x: Any) -> str:
        return type(x).__name__

    def source(self, source: Any, root: str = "") -> SourceRef | None:
        """The reference of a rule's ``source`` (a :class:`engine.spec.model.Source` or a text)."""
        text = getattr(source, "text", source)
        if not text:
            return None
        text = str(text)
        m = _REF_RE.match(text)
        if not m:
            return SourceRef(text, None)
        name, first, last = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
        lines = self.texts.lines(name)
        if lines is None or not (1 <= first <= last <= len(lines)):
            return SourceRef(text, None)
        self.texts.used.add(name)
        quote = []
        for ln in lines[first - 1:min(last, first - 1 + QUOTE_LINES)]:
            ln = ln.strip()
            quote.append(ln if len(ln) <= QUOTE_CHARS else ln[:QUOTE_CHARS - 1] + "…")
        return SourceRef(text, f"{root}{source_page(name)}#L{first}", tuple(q for q in quote if q),
                         more=last - first + 1 > QUOTE_LINES)

    def render(self, template: str, **ctx) -> str:
        return self.env.get_template(template).render(**ctx)


def _graph(spec) -> Any:
    from engine.spec.graph import phase_caption
    from engine.render.site.layout import layout_graph

    if not spec.phases:
        return None
    phases = []
    for pid, ph in spec.phases.items():
        cap = phase_caption(ph)
        timing = cap[1] if len(cap) > 1 and not cap[1].startswith("(") else None
        phases.append((pid, ph.label or pid, timing, ph.initial, ph.final))
    trans = []
    for i, t in enumerate(spec.transitions, 1):
        timing = []
        if t.after is not None and (t.after.months or t.after.days):
            timing.append(f"après {fr_duration(t.after)}")
        if t.within is not None:
            timing.append(f"dans les {fr_duration(t.within)}")
        if t.guard is not None:
            timing.append("sous condition")
        trans.append((i, t.from_phase, t.to_phase, ", ".join(timing) or None))
    return layout_graph(phases, trans)


def _anchor_words(spec):
    """``Anchor`` -> « l'entrée en phase « Accueil » », for the deadlines table."""
    def words(a) -> str:
        table = {"phase": spec.phases, "event": spec.events, "attribute": spec.attributes}.get(a.kind, {})
        item = table.get(a.name)
        name = f"« {getattr(item, 'label', None) or a.name} »"
        return {"phase": "l'entrée en phase ", "event": "l'événement ", "attribute": "la date "}.get(a.kind, "") + name
    return words


def _reporting_label(spec):
    rules = {r.id: r for r in (spec.sections.get("reporting") or ())}

    def label(rid: str) -> str | None:
        r = rules.get(rid)
        return (r.label or rid) if r is not None else None
    return label


def _changes(prog: Programme, other: Programme) -> Any:
    """The semantic diff from ``other`` (older) to ``prog``: a DiffResult, or a French message when it fails."""
    from engine.audit.diff import diff_versions
    from engine.audit.versions import load_version

    try:
        with load_version(other.file) as old, load_version(prog.file) as new:
            return diff_versions(old, new)
    except (SpecError, UsageError) as e:
        return e.diagnostic.message


def change_anchor(change: Any, anchors: set[str]) -> str | None:
    """The anchor of the element a diff ``Change`` is about, when the page has one."""
    parts = str(change.path).split(".")
    kind = _ANCHOR_OF_SECTION.get(change.section)
    if kind is None or len(parts) < 2:
        return None
    for ident in parts[1:]:
        a = anchor(kind, ident)
        if a in anchors:
            return a
    return None


def site_links(site: str, spec_id: str | None, version: str | None, base: str | None = None):
    """``change -> URL`` of the element each diff change is about, on the page of version ``version`` of ``spec_id``
    in the site built by ``engine docs`` in the folder ``site`` (its ``pages.json``); links start with ``base`` (the
    site's URL) or else the folder as given. Raises UsageError when ``site`` is not such a site."""
    try:
        manifest = json.loads((Path(site) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        raise UsageError(Diagnostic(f"--site {site} : ce n'est pas un site construit par engine docs (pas de "
                                    f"{MANIFEST})", file=COMMAND_LINE, code="usage",
                                    hint="construire le site avec engine docs specs/ -o SITE, puis --site SITE")) from None
    progs = [p for p in manifest.get("programmes", ()) if p.get("id") == spec_id]
    prog = next((p for p in progs if p.get("version") == version), progs[0] if len(progs) == 1 else None)
    if prog is None:
        return lambda change: None
    prefix = (base or site).rstrip("/") + "/" + prog["page"]
    anchors = set(prog.get("anchors") or ())

    def link(change) -> str | None:
        a = change_anchor(change, anchors)
        return f"{prefix}#{a}" if a else prefix
    return link


@dataclass
class SiteResult:
    folder: str
    pages: list[str]
    programmes: int
    sources_found: bool
    warnings: list[Diagnostic] = field(default_factory=list)


def _check_output(out: str, inputs: Iterable[str]) -> Path:
    target = Path(out)
    real = Path(os.path.realpath(target))
    for f in inputs:
        rf = Path(os.path.realpath(f))
        if rf == real or real in rf.parents:
            raise UsageError(Diagnostic(f"engine docs : le dossier de sortie {out} contient la spec {f} : le site "
                                        "l'effacerait", file=COMMAND_LINE, code="output.is_input",
                                        hint="choisir un dossier de sortie à part, par exemple -o site/"))
    if target.exists() and not target.is_dir():
        raise UsageError(Diagnostic(f"engine docs : {out} existe et n'est pas un dossier", file=COMMAND_LINE,
                                    code="output.not_folder", hint="donner un dossier (nouveau ou déjà produit par "
                                    "engine docs)"))
    if target.is_dir():
        try:
            entries = [e.name for e in os.scandir(target)]
        except OSError as e:
            raise UsageError(Diagnostic(f"engine docs : impossible de lire le dossier {out} ({e.strerror})",
                                        file=COMMAND_LINE, code="output.unreadable")) from None
        if entries and MARKER not in entries:
            raise UsageError(Diagnostic(f"engine docs : le dossier {out} existe, n'est pas vide et n'a pas été "
                                        "produit par engine docs : il n'est pas remplacé", file=COMMAND_LINE,
                                        code="output.not_site",
                                        hint="choisir un dossier nouveau ou vide, ou supprimer celui-ci"))
    parent = real.parent
    if not parent.is_dir():
        raise UsageError(Diagnostic(f"engine docs : le dossier parent de {out} n'existe pas ({parent})",
                                    file=COMMAND_LINE, code="output.no_parent"))
    return real


def build_site(paths: list[str], out: str, seeds: Path | None | str = "auto") -> SiteResult:
    """Check and compile the specs named by ``paths`` (files or folders, as ``engine check``) and write the site
    into the folder ``out``. Raises :class:`SpecError` (every diagnostic) when a spec is invalid."""
    from engine.spec.check import check_paths, seeds_dir

    folder = seeds_dir() if seeds == "auto" else (Path(seeds) if seeds else None)
    if folder is not None and not folder.is_dir():
        folder = None
    result = check_paths(paths, seeds=folder)
    if not result.ok:
        raise SpecError(result.errors)
    texts = SourceTexts(folder if folder is not None and folder.is_dir() else None)
    specs = [(f, s) for f, s in result.specs.items() if getattr(s, "kind", "spec") == "spec"]
    if not specs:
        raise UsageError(Diagnostic("engine docs : aucune spec de programme dans " + ", ".join(paths),
                                    file=COMMAND_LINE, code="docs.no_spec",
                                    hint="donner des fichiers de spec ou un dossier, par exemple engine docs specs/"))
    target = _check_output(out, result.files)
    progs = _page_names(specs)
    r = _Renderer(texts)
    files: dict[str, str] = {}
    for p in progs:
        graph = _graph(p.spec)
        files[p.page] = r.render("programme.html", p=p, s=p.spec, graph=graph, root="", sec=p.spec.sections,
                                 sources_found=texts.folder is not None, anchor_text=_anchor_words(p.spec),
                                 reporting_label=_reporting_label(p.spec))
    groups: dict[str, list[Programme]] = {}
    for p in progs:
        groups.setdefault(p.spec.id, []).append(p)
    for sid, group in groups.items():
        if len(group) < 2:
            continue
        anchors_of = {q.page: set(re.findall(r'\bid="([^"]+)"', files[q.page])) for q in group}
        diffs = []
        for older, newer in zip(group, group[1:]):
            res = _changes(newer, older)
            links = {}
            if not isinstance(res, str):
                for i, c in enumerate(res.changes):
                    a = change_anchor(c, anchors_of[newer.page] if c.kind != "removed" else anchors_of[older.page])
                    if a:
                        links[i] = f"{(older if c.kind == 'removed' else newer).page}#{a}"
            diffs.append((older, newer, res, links))
        files[group[0].compare_page] = r.render("compare.html", group=group, diffs=diffs, root="",
                                                sources_found=texts.folder is not None)
    files["index.html"] = r.render("index.html", progs=progs, groups=groups, root="",
                                   sources_found=texts.folder is not None, seeds=texts.folder)
    for name in sorted(texts.used):
        lines = texts.lines(name) or []
        cited = [p for p in progs if (p.spec.source_document or "") == name]
        files[source_page(name)] = r.render("source.html", name=name, lines=lines, root="../", cited=cited)
    files["style.css"] = resources.files("engine.render.site").joinpath("templates/style.css").read_text(encoding="utf-8")
    files[MANIFEST] = json.dumps({"programmes": [
        {"id": p.spec.id, "version": p.spec.version, "page": p.page,
         "anchors": sorted(set(re.findall(r'\bid="([^"]+)"', files[p.page])))} for p in progs]},
        ensure_ascii=False, indent=1) + "\n"
    _write_site(target, files)
    warnings = []
    if texts.folder is None:
        warnings.append(Diagnostic("textes sources introuvables : les références sont affichées sans lien ni "
                                   "citation", file=COMMAND_LINE, code="source.unavailable", severity="warning",
                                   hint="indiquer le dossier des textes avec ENGINE_SEEDS=DOSSIER ou --seeds DOSSIER"))
    return SiteResult(str(out), sorted(files), len(progs), texts.folder is not None, warnings)


def _write_site(target: Path, files: Mapping[str, str]) -> None:
    """Write ``files`` into a fresh folder next to ``target``, then put it in place of ``target``."""
    tmp = Path(tempfile.mkdtemp(prefix=".engine-docs-", dir=target.parent))
    old: Path | None = None
    try:
        os.chmod(tmp, 0o777 & ~_umask())
        for name, text in files.items():
            f = tmp / name
            f.parent.mkdir(parents=True, exist_ok=True)
            f.write_text(text, encoding="utf-8")
        (tmp / MARKER).write_text("Dossier produit par `engine docs` : il est remplacé à chaque construction.\n",
                                  encoding="utf-8")
        if target.exists():
            old = Path(tempfile.mkdtemp(prefix=".engine-docs-old-", dir=target.parent))
            os.rmdir(old)
            os.rename(target, old)
        os.rename(tmp, target)
    except OSError as e:
        shutil.rmtree(tmp, ignore_errors=True)
        if old is not None and not target.exists():
            os.rename(old, target)
        from engine.files.output import OutputError, os_error_text

        reason, hint = os_error_text(e, str(target), str(target.parent))
        usage = e.errno in (errno.EISDIR, errno.ENOTDIR, errno.ENOENT, errno.ELOOP, errno.ENAMETOOLONG)
        cls = UsageError if usage else OutputError  # a full disk or a read-only folder is no usage error: exit 1
        raise cls(Diagnostic(f"engine docs : impossible d'écrire le site dans {target} : {reason}"
                             + (" ; le site précédent est intact" if target.is_dir() else ""),
                             file=COMMAND_LINE if usage else str(target), hint=hint,
                             code="output.write")) from None
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


__all__ = ["MANIFEST", "SiteResult", "build_site", "site_links"]
