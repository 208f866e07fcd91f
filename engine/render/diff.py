"""Renderers of `engine diff`: text (terminal), JSON, Markdown and one self-contained HTML page.

JSON is ``{"old": {...}, "new": {...}, "warnings": [...], "summary": {...}, "changes": [...], "impact": {...}}``
(``changes`` is empty when nothing differs; ``impact`` is null without ``--records``). The HTML page has its style
inline and no script, font or image from elsewhere, so an auditor can open it offline or archive it.
"""

from __future__ import annotations

import html
import json
from typing import Iterable

from engine.escape import md_cell, text_safe
from engine.audit.diff import SECTION_ORDER, Change, DiffResult
from engine.fr import fr_date, fr_money, fr_plural
from engine.files.output import prepare, write_bytes
from engine.render.report import STATUS_FR

SECTION_TITLES = {
    "metadata": "Métadonnées", "sessions": "Sessions de l'appel à projets", "convention": "Convention",
    "territories": "Territoires", "inputs": "Données d'entrée", "parameters": "Paramètres",
    "definitions": "Définitions", "eligibility": "Éligibilité", "phases": "Phases", "transitions": "Transitions",
    "deadlines": "Délais", "obligations": "Obligations", "capacity": "Capacité",
    "cohort_constraints": "Contraintes de cohorte", "indicators": "Indicateurs", "funding": "Financement",
    "payments": "Versements", "reporting": "Bilans", "vocabulary": "Vocabulaire commun", "shared": "Blocs partagés", "imports": "Imports",
    "examples": "Exemples",
}
_MARK = {"added": "+", "removed": "-", "changed": "~"}


def _sections(changes: Iterable[Change]) -> list[tuple[str, list[Change]]]:
    groups: dict[str, list[Change]] = {}
    for c in changes:
        groups.setdefault(c.section, []).append(c)
    order = {s: i for i, s in enumerate(SECTION_ORDER)}
    return sorted(groups.items(), key=lambda kv: (order.get(kv[0], len(order)), kv[0]))


def _version_line(v) -> str:
    bits = [v.ref]
    if v.version:
        bits.append(f"version {v.version}")
    if v.valid_from or v.valid_until:
        bits.append(f"valide du {fr_date(v.valid_from) if v.valid_from else '…'} au "
                    f"{fr_date(v.valid_until) if v.valid_until else '…'}")
    return ", ".join(bits)


def _summary(result: DiffResult) -> str:
    n, s = len(result.changes), len(result.semantic_changes)
    if not n:
        return "Aucune différence."
    return (f"{n} changement{'s' if n > 1 else ''}, dont {s} pouvant changer des décisions "
            f"et {n - s} de forme (libellés, sources, interprétations, exemples).")


def _impact_lines(impact) -> list[str]:
    if impact is None:
        return []
    same = impact.records - impact.changed - impact.unreadable
    head = (f"Impact sur {fr_plural(impact.records, 'dossier évalué', 'dossiers évalués')} au {fr_date(impact.at)} : "
            f"{fr_plural(impact.changed, 'change', 'changent')}, {fr_plural(same, 'inchangé', 'inchangés')}")
    if impact.unreadable:
        head += f", {fr_plural(impact.unreadable, 'ligne illisible non comparée', 'lignes illisibles non comparées')}"
    lines = [head + "."]
    for k in impact.kinds:
        lines.append(f"  {k.sentence} : {k.count} (ex. {', '.join(k.examples)})")
    return lines


def _money_head(money) -> str:
    n = len(money.changed)
    return (f"Impact financier sur l'opération {money.operation} au {fr_date(money.at)} : "
            + (f"{fr_plural(n, 'montant change', 'montants changent')}." if n else "aucun montant ne change."))


def _amount(v) -> str:
    return fr_money(v) if v is not None else "—"


def _delta(a) -> str:
    d = a.delta
    if d is None:
        return "ajouté" if a.old is None else "retiré"
    return ("+" if d > 0 else "") + fr_money(d) if d else "="


def _status_change(a) -> str:
    if a.old_status == a.new_status:
        return ""
    return f" ; statut : {STATUS_FR.get(a.old_status, a.old_status or '—')} -> " \
           f"{STATUS_FR.get(a.new_status, a.new_status or '—')}"


def _money_lines(money) -> list[str]:
    if money is None:
        return []
    lines = [_money_head(money)]
    for a in money.changed:
        lines.append(f"  {a.label or a.id} : {_amount(a.old)} -> {_amount(a.new)} ({_delta(a)}){_status_change(a)}")
    return lines


# ------------------------------------------------------------------------------------------------ text

def render_text(result: DiffResult, impact=None, money=None, sources=None, links=None) -> str:
    out = [f"Ancienne version : {_version_line(result.old)}", f"Nouvelle version : {_version_line(result.new)}",
           _summary(result)]
    for w in result.warnings:
        out.append(f"Attention : {w}")
    for section, changes in _sections(result.changes):
        out.append("")
        out.append(SECTION_TITLES.get(section, section))
        for c in changes:
            tag = "" if c.semantic else "  (forme)"
            out.append(f"  {_MARK[c.kind]} {c.sentence}{tag}")
            out.append(f"      [{c.path}]" + (f" {c.where}" if c.where else ""))
    for lines in (_impact_lines(impact), _money_lines(money)):
        if lines:
            out.append("")
            out.extend(lines)
    return text_safe("\n".join(out) + "\n")


# ------------------------------------------------------------------------------------------------ json

def render_json(result: DiffResult, impact=None, money=None, sources=None, links=None) -> str:
    d = result.to_json()
    d["impact"] = impact.to_json() if impact is not None else None
    if money is not None:
        d["money"] = money.to_json()
    return json.dumps(d, ensure_ascii=False, indent=2, default=str) + "\n"


# ------------------------------------------------------------------------------------------------ markdown

def _md(text: str) -> str:
    return md_cell(text)


def render_markdown(result: DiffResult, impact=None, money=None, sources=None, links=None) -> str:
    out = ["# Différences entre deux versions", "", f"- Ancienne version : {_md(_version_line(result.old))}",
           f"- Nouvelle version : {_md(_version_line(result.new))}", "", _summary(result)]
    for w in result.warnings:
        out += ["", f"> **Attention** : {_md(w)}"]
    for section, changes in _sections(result.changes):
        out += ["", f"## {SECTION_TITLES.get(section, section)}", "", "| | changement | chemin | effet |",
                "|---|---|---|---|"]
        for c in changes:
            where = f" {_md(c.where)}" if c.where else ""
            out.append(f"| {_MARK[c.kind]} | {_md(c.sentence)} | `{c.path}`{where} | "
                       f"{'décisions' if c.semantic else 'forme'} |")
    if impact is not None:
        out += ["", "## Impact sur les dossiers", "", _md(_impact_lines(impact)[0])]
        if impact.kinds:
            out += ["", "| changement | dossiers | exemples |", "|---|---|---|"]
            for k in impact.kinds:
                out.append(f"| {_md(k.sentence)} | {k.count} | {_md(', '.join(k.examples))} |")
    if money is not None:
        out += ["", "## Impact financier", "", _md(_money_head(money))]
        if money.changed:
            out += ["", "| montant | avant | après | écart |", "|---|---:|---:|---:|"]
            for a in money.changed:
                out.append(f"| {_md(a.label or a.id)}{_md(_status_change(a))} | {_amount(a.old)} | {_amount(a.new)} "
                           f"| {_delta(a)} |")
    return "\n".join(out) + "\n"


# ------------------------------------------------------------------------------------------------ html

_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,Arial,sans-serif;margin:2rem auto;max-width:70rem;
color:#1d2433;line-height:1.45;padding:0 1rem}
h1{font-size:1.5rem}h2{font-size:1.15rem;margin-top:2rem;border-bottom:1px solid #d5d9e0;padding-bottom:.2rem}
table{border-collapse:collapse;width:100%}td,th{border:1px solid #d5d9e0;padding:.35rem .5rem;vertical-align:top;
text-align:left}th{background:#f2f4f7}code{font-size:.85em;color:#4a5568}
.added td:first-child{color:#1a7f37;font-weight:bold}.removed td:first-child{color:#cf222e;font-weight:bold}
.changed td:first-child{color:#9a6700;font-weight:bold}.form{color:#6b7280}
.warn{background:#fff8c5;border:1px solid #d4a72c;padding:.5rem .75rem;border-radius:4px}
.meta td:first-child{width:12rem;font-weight:bold}
blockquote.src{margin:.3rem 0 0;padding:.2rem .6rem;border-left:3px solid #d5d9e0;color:#4a5568;font-size:.9em}
td.num{text-align:right;white-space:nowrap}
@media print{body{margin:0}}
"""


def _e(text) -> str:
    return html.escape(str(text), quote=True)


def _quote_html(c, sources) -> str:
    """The words of the text line the changed element cites, when the source texts are available."""
    if sources is None or not c.source:
        return ""
    words = sources.quote(c.source)
    if not words:
        return ""
    return f'<blockquote class="src" cite="{_e(c.source)}">« {_e(" ".join(words))} » <code>{_e(c.source)}</code></blockquote>'


def render_html(result: DiffResult, impact=None, money=None, sources=None, links=None) -> str:
    out = ["<!DOCTYPE html>", '<html lang="fr"><head><meta charset="utf-8">',
           '<meta name="viewport" content="width=device-width, initial-scale=1">',
           f"<title>Différences : {_e(result.new.id or result.new.ref)}</title>", f"<style>{_CSS}</style>",
           "</head><body>", "<h1>Différences entre deux versions</h1>", '<table class="meta">',
           f"<tr><td>Ancienne version</td><td>{_e(_version_line(result.old))}</td></tr>",
           f"<tr><td>Nouvelle version</td><td>{_e(_version_line(result.new))}</td></tr></table>",
           f"<p>{_e(_summary(result))}</p>"]
    for w in result.warnings:
        out.append(f'<p class="warn"><strong>Attention :</strong> {_e(w)}</p>')
    for section, changes in _sections(result.changes):
        out.append(f"<h2>{_e(SECTION_TITLES.get(section, section))}</h2>")
        out.append("<table><tr><th></th><th>changement</th><th>chemin</th><th>effet</th></tr>")
        for c in changes:
            effect = "décisions" if c.semantic else '<span class="form">forme</span>'
            href = links(c) if links is not None else None
            page = f' <a href="{_e(href)}">page du programme</a>' if href else ""
            out.append(f'<tr class="{c.kind}"><td>{_MARK[c.kind]}</td><td>{_e(c.sentence)}{page}{_quote_html(c, sources)}</td>'
                       f"<td><code>{_e(c.path)}</code>{'<br>' + _e(c.where) if c.where else ''}</td>"
                       f"<td>{effect}</td></tr>")
        out.append("</table>")
    if impact is not None:
        out.append("<h2>Impact sur les dossiers</h2>")
        out.append(f"<p>{_e(_impact_lines(impact)[0])}</p>")
        if impact.kinds:
            out.append("<table><tr><th>changement</th><th>dossiers</th><th>exemples</th></tr>")
            for k in impact.kinds:
                out.append(f"<tr><td>{_e(k.sentence)}</td><td>{k.count}</td><td>{_e(', '.join(k.examples))}</td></tr>")
            out.append("</table>")
    if money is not None:
        out.append("<h2>Impact financier</h2>")
        out.append(f"<p>{_e(_money_head(money))}</p>")
        if money.changed:
            out.append("<table><tr><th>montant</th><th>avant</th><th>après</th><th>écart</th></tr>")
            for a in money.changed:
                out.append(f"<tr><td>{_e(a.label or a.id)}{_e(_status_change(a))}</td><td class=\"num\">{_e(_amount(a.old))}</td>"
                           f"<td class=\"num\">{_e(_amount(a.new))}</td><td class=\"num\">{_e(_delta(a))}</td></tr>")
            out.append("</table>")
    out.append("</body></html>")
    return "\n".join(out) + "\n"


RENDERERS = {"text": render_text, "json": render_json, "markdown": render_markdown, "html": render_html}


def render(result: DiffResult, impact, fmt: str, money=None, sources=None, links=None) -> str:
    """``result`` in ``fmt``; ``impact`` (records), ``money`` (an operation's amounts, engine.audit.money),
    ``sources`` (engine.spec.sources.SourceTexts: the HTML page quotes the cited lines) and ``links`` (change -> URL
    of its element on the documentation site, engine.render.site.site_links: the HTML page links to it) are
    optional."""
    return RENDERERS[fmt](result, impact, money, sources, links)


def write_output(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through :mod:`engine.files.output` (atomically for a file)."""
    write_bytes(prepare(path, "-o"), text.encode("utf-8"))
