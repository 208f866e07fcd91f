"""Rendering of an operation report (:func:`engine.operation.report.build_report`): text (terminal, French), markdown, CSV
(one row per figure) and JSON (money as JSON numbers with exactly two decimals, e.g. ``45000.00``; rates as exact
decimals; dates ``YYYY-MM-DD``)."""

from __future__ import annotations

import io
import json
from datetime import date
from decimal import Decimal
from typing import Any

from engine.escape import csv_cell, md_cell, text_safe
from engine.fr import fr_date, fr_money, fr_number, fr_percent
from engine.render.spreadsheet import STANDARD, Dialect, write_table
from engine.operation.funding import euros, pct
from engine.operation.model import breakdown_key

STATUS_FR = {"passed": "conforme", "failed": "NON CONFORME", "unknown": "indéterminé", "due": "exigible",
              "scheduled": "à venir", "awaiting_review": "en attente du bilan", "review_late": "bilan en retard",
              "not_due": "rien à verser", "excluded": "exclu", "met": "respecté", "unmet": "NON RESPECTÉ",
              "not_evaluated": "à vérifier", "recovery": "reversement", "submitted": "remis",
              "submitted_late": "remis en retard", "early": "remis trop tôt", "late": "en retard", "pending": "à venir",
              "counted": "retenu", "skipped": "non exigé (période partielle)", "warning": "avertissement", "error": "erreur", "capped": "plafonné", "not_declared": "non déclaré", "not_applicable": "sans objet"}
_MONEY_KEYS = {"cost", "amount", "planned", "maximum", "total", "due_at", "grant", "earned", "base", "max_grant",
               "grant_awarded", "direct_staff_costs", "other_costs", "eligible_costs", "expected", "declared",
               "total_funding", "amount_on_eligible_costs", "planned_total", "uncapped_total",
               "other_costs_declared"}


def render(report: dict, fmt: str, dialect: Dialect = STANDARD) -> str:
    if fmt == "json":
        return to_json(report) + "\n"
    if fmt == "markdown":
        return render_markdown(report)
    if fmt == "csv":
        return render_csv(report, dialect)
    return render_text(report)


# --------------------------------------------------------------------------------------------- JSON

def to_json(value: Any, key: str | None = None) -> str:
    """Exact JSON: Decimal money as numbers with two decimals, other decimals exactly, dates as text."""
    if isinstance(value, dict):
        return "{" + ", ".join(json.dumps(str(k), ensure_ascii=False) + ": " + to_json(v, str(k))
                               for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(to_json(v, key) for v in value) + "]"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, Decimal):
        return _decimal_text(value, key in _MONEY_KEYS)
    if isinstance(value, date):
        return json.dumps(value.isoformat())
    if isinstance(value, (int, float, str)):
        return json.dumps(value, ensure_ascii=False)
    return json.dumps(str(value), ensure_ascii=False)


# --------------------------------------------------------------------------------------------- text

def _d(v) -> str:
    return v.isoformat() if isinstance(v, date) else "—" if v is None else str(v)


def _n(v) -> str:
    if v is None:
        return "indéterminé"
    if isinstance(v, Decimal):
        return format(v.normalize(), "f").replace(".", ",")
    return str(v)


def _st(s) -> str:
    return STATUS_FR.get(s, str(s))


def _src(x) -> str:
    return f"  [{x['source']}]" if x.get("source") else ""


def _miss(x) -> str:
    return f" (manque : {', '.join(x['missing'])})" if x.get("missing") else ""


def render_text(r: dict) -> str:
    out = []
    w = out.append
    w(f"Opération {r['operation']} — dispositif {r['spec']} (version {r['spec_version']}), au {_d(r['as_of'])}")
    w(f"Période : du {_d(r['period']['from'])} au {_d(r['period']['to'])}")
    conv = r.get("convention")
    if conv and (conv.get("checks") or conv["status"] != "passed"):
        months = f", {conv['months']} mois" if conv.get("months") is not None else ""
        most = f" (au plus {conv['max_months']})" if conv.get("max_months") else ""
        w(f"Convention : du {_d(conv['start'])} au {_d(conv['end'])}{months}{most} — {_st(conv['status'])}")
        for c in conv["checks"]:
            if c["status"] != "passed":
                w(f"  ! {c['message']}{_src(c)}")
    if r.get("parameters"):
        w("")
        w("PARAMÈTRES")
        for k, v in r["parameters"].items():
            w(f"  - {k} = {_n(v)}" if v is not None else
              f"  - {k} : NON FOURNI — les chiffres qui en dépendent sont indéterminés (--param {k}=VALEUR)")
    op = r["operator"]
    w("")
    w("PORTEUR : " + ("éligible" if op["eligible"] is True else "NON ÉLIGIBLE" if op["eligible"] is False
                      else "éligibilité indéterminée"))
    for x in op["reasons"]:
        v = "oui" if x["value"] is True else "non" if x["value"] is False else "inconnu"
        extra = f" (manque : {', '.join(x['missing'])})" if x.get("missing") else ""
        w(f"  - {x['text']} : {v}{extra}{_src(x)}")
    fp = r["funding_plan"]
    w("")
    w("PLAN DE FINANCEMENT : " + {True: "conforme", False: "NON CONFORME", None: "conformité indéterminée"}[
        fp["conforming"]])
    for s in fp.get("staff", []):
        w(f"  - salarié {s['id']} ({s['role'] or '?'}) : {euros(s['cost'])}, affectation {pct(s['allocation'])}"
          f" — {'retenu' if s['status'] == 'passed' else ('exclu : ' if s['status'] == 'excluded' else 'REFUSÉ : ') + (s['reason'] or '')}")
    if fp.get("min_staff_allocation"):
        m = fp["min_staff_allocation"]
        w(f"  Taux d'affectation minimum {pct(m['rate'])} : {_st(m['status'])}"
          f"{' (' + m['note'] + ')' if m.get('note') else ''}{_src(m)}")
    w(f"  Dépenses directes de personnel : {euros(fp['direct_staff_costs'])}")
    for f in fp["flat_rates"]:
        w(f"  {f['label'] or f['id']} ({pct(f['rate'])}) : {euros(f['amount'])}{_src(f)}")
    for c in fp.get("eligible_cost_categories", []):
        if "status" not in c:
            continue
        shown = {"counted": f"{euros(c['amount'])}", "capped": f"{euros(c['amount'])} ({c.get('reason')})",
                 "excluded": f"exclu : {c.get('reason')}", "not_declared": "non déclaré"}.get(c["status"], "")
        w(f"  {c['label'] or c['id']} : {shown}{_src(c)}")
    if fp["other_costs"]:
        w(f"  Autres dépenses : {euros(fp['other_costs'])}")
    if fp.get("other_costs_excluded"):
        w(f"  Autres dépenses : exclu : {fp['other_costs_excluded']}")
    w(f"  Coûts éligibles : {euros(fp['eligible_costs'])}")
    ds = fp.get("department_share")
    if ds:
        w(f"  Part du Département {pct(ds['rate']) if ds['rate'] is not None else '?'} du financement total "
          f"{euros(ds['total_funding'])} = {euros(ds['expected'])} ; déclarée : {euros(ds['declared'])} — "
          f"{_st(ds['status'])}{_src(ds)}")
    for c in fp["caps"]:
        w(f"  Plafond {c['label'] or c['id']} : {euros(c['amount'])}{' (déterminant)' if c['binding'] else ''}"
          f"{_src(c)}")
    for x in fp["rules"]:
        w(f"  Règle {x['label'] or x['id']} : {_st(x['status'])}{_src(x)}")
    w(f"  Subvention maximale : {euros(fp['max_grant'])} ; attribuée : {euros(fp['grant_awarded'])}"
      f" ({_st(fp['grant_within_max'])})")
    ex = fp.get("expenses")
    if ex:
        w(f"  {ex['label'] or 'Dépenses prévues et encourues'} : prévues {euros(ex['planned'])}, encourues "
          f"{euros(ex['spent'])}, retenues {euros(ex['retained'])}{_src(ex)}")
        for ln in ex["lines"]:
            planned = "non prévu au dossier" if ln["planned"] is None else f"prévu {euros(ln['planned'])}"
            w(f"    - {ln['label'] or ln['id']} : {planned}, encouru {euros(ln['spent'])}, "
              f"retenu {euros(ln['retained'])}" + (f" ({ln['note']})" if ln.get("note") else ""))
        for x in ex["excluded"][:10]:
            w(f"    ! non retenue : {euros(x['amount'])} ({x['line']}{', ' + x['ref'] if x.get('ref') else ''}) — "
              f"{x['reason']}")
        if ex["excluded_count"] > 10:
            w(f"    ! … et {ex['excluded_count'] - 10} autres dépenses non retenues")
        if ex.get("retained_eligible_costs") is not None:
            w(f"    Assiette sur les dépenses retenues : personnel {euros(ex['retained_direct_staff_costs'])}"
              + "".join(f" + {f['label'] or f['id']} {euros(f['amount'])}" for f in ex["retained_flat_rates"])
              + f" = {euros(ex['retained_eligible_costs'])}"
              + (f" (autres coûts retenus, couverts par le forfait : {euros(ex['retained_other_costs_covered'])})"
                 if ex.get("retained_other_costs_covered") else ""))
        if ex.get("department_share_of_retained") is not None:
            w(f"    Part du Département sur ces dépenses : {euros(ex['department_share_of_retained'])}")
        for k in ("note", "so_far", "warning"):
            if ex.get(k):
                w(f"    {'! ' if k == 'warning' else ''}{ex[k]}")
    if r["capacity"]:
        w("")
        w("CAPACITÉ")
        for c in r["capacity"]:
            pos = {"over": "au-dessus", "under": "en dessous", "at": "atteinte", None: "—"}[c["position"]]
            w(f"  - {c['label'] or c['id']} : capacité {_n(c['capacity'])}, réel {_n(c['actual'])} ({pos}) — "
              f"{_st(c['status'])}{_src(c)}")
    co = r["cohort"]
    w("")
    ne = co.get("left_out", {}).get("not_entered", 0)
    w(f"COHORTE : {co['participants']} participants retenus (entrés au plus tard le {_d(co.get('entered_by'))}), "
      f"{ne} écartés car entrés après cette date, {co['errors']} enregistrements illisibles"
      + (f" ; {co['entry_unknown']} sans date d'entrée connue, retenus" if co.get("entry_unknown") else ""))
    for e in co.get("not_entered_samples", [])[:5]:
        w(f"  - écarté : ligne {e['line']} ({e.get('id') or 'sans id'}), entrée le {_d(e['entry'])}")
    if co.get("internal_errors"):
        w(f"  ! {co['internal_errors']} participant(s) ont rencontré une erreur interne du moteur (internal_error) : "
          "les chiffres qui en dépendent les comptent comme inconnus")
    for e in co["error_samples"][:5]:
        w(f"  ! ligne {e['line']} ({e.get('id') or 'sans id'}) : {e['message']}")
    if r["constraints"]:
        w("")
        w("CONTRAINTES DE COHORTE")
        for x in r["constraints"]:
            w(f"  - {x['label'] or x['id']} : {_st(x['status'])}"
              f"{' (' + str(x['unknown']) + ' inconnus)' if x.get('unknown') else ''}{_miss(x)}{_src(x)}")
    if r["indicators"]:
        w("")
        w("INDICATEURS")
        for x in r["indicators"]:
            v = x["value"]
            shown = (pct(v) if x.get("numerator") is not None and v is not None else _n(v))
            nd = f" ({_n(x['numerator'])} / {_n(x['denominator'])})" if "numerator" in x else ""
            tgt = ""
            if x.get("target") is not None:
                t = pct(x["target"]) if "numerator" in x else _n(x["target"])
                tgt = f", cible {t}" + (f" — {_st(x['status'])}" if x.get("status") else "")
            w(f"  - {x['label'] or x['id']} : {shown}{nd}{tgt}"
              f"{' (' + str(x['unknown']) + ' inconnus)' if x.get('unknown') else ''}{_miss(x)}{_src(x)}")
            for b in x.get("breakdowns") or ():
                w(f"      par {b['label'] or b['by']} : " + " ; ".join(
                    f"{g['label']} {pct(g['value']) if 'numerator' in g and g['value'] is not None else _n(g['value'])}"
                    + (f" ({_n(g['numerator'])} / {_n(g['denominator'])})" if "numerator" in g else "")
                    + (f" ({g['unknown']} inconnus)" if g.get("unknown") else "") for g in b["rows"]))
    fu = r["funding"]
    if fu["parts"]:
        w("")
        w(f"FINANCEMENT CONDITIONNEL (base {euros(fu['base'])})")
        for p in fu["parts"]:
            w(f"  - {p['label'] or p['id']} : poids {pct(p['weight'])}, objectif {_n(p['objective'])}, réalisé "
              f"{_n(p['achieved'])}, taux {pct(p['ratio']) if p['ratio'] is not None else '?'} -> "
              f"{euros(p['amount'])} sur {euros(p['maximum'])} ({p['rule']}){_src(p)}")
        if fu.get("cap_applied"):
            w(f"  Plafond appliqué ({fu['cap_applied']}) : {euros(fu['uncapped_total'])} ramené à {euros(fu['total'])}")
        w(f"  Total dû : {euros(fu['total'])}")
    pa = r["payments"]
    if pa["tranches"]:
        w("")
        w("ÉCHÉANCIER")
        for t in pa["tranches"]:
            w(f"  - {t['label'] or t['id']} ({pct(t['share']) if t['share'] is not None else '?'}) : prévu "
              f"{euros(t['planned'])}, montant {euros(t['amount'])}, date {_d(t['due_date'])}"
              f"{' (bilan attendu au plus tard le ' + _d(t['review_due']) + ')' if t.get('review_due') and not t['due_date'] else ''}"
              f" — {_st(t['status'])}"
              f"{' (' + t['note'] + ')' if t.get('note') else ''}{_miss(t)}{_src(t)}")
        w(f"  Total : {euros(pa['total'])} ; exigible au {_d(r['as_of'])} : {euros(pa['due_at'])}")
    if r["reporting"]:
        w("")
        w("BILANS ET SUIVI")
        for x in r["reporting"]:
            if "due" in x:
                opens = f"au plus tôt le {_d(x['opens'])}, " if x.get("opens") else ""
                w(f"  - {x['label'] or x['id']} : {opens}échéance {_d(x['due'])}, remis {_d(x['submitted'])} — "
                  f"{x['note'] if x['status'] == 'early' and x.get('note') else _st(x['status'])}{_src(x)}")
                if x["status"] != "early" and x.get("note"):
                    w(f"      {x['note']}")
            elif "windows" in x:
                counts = ", ".join(f"{_d(v['from'])}..{_d(v['to'])}: {v['count']}"
                                   + (" (période partielle, non exigée)" if v["status"] == "skipped" else "")
                                   for v in x["windows"][-4:])
                w(f"  - {x['label'] or x['id']} : {_st(x['status'])} ({counts}){_src(x)}")
            elif "gaps" in x:
                longest = max(x["gaps"], key=lambda g: g["days"]) if x["gaps"] else None
                w(f"  - {x['label'] or x['id']} : {_st(x['status'])} ({x['count']} événement(s)"
                  + (f", écart le plus long {longest['days']} jours du {_d(longest['from'])} au {_d(longest['to'])}"
                     if longest else "") + f"){_src(x)}")
                if x.get("note"):
                    w(f"      {x['note']}")
            elif "anchors" in x:
                done = sum(1 for a in x["anchors"] if a["status"] == "met")
                w(f"  - {x['label'] or x['id']} : {_st(x['status'])} ({done} sur {len(x['anchors'])} précédé(s) de "
                  f"leur propre envoi){_src(x)}")
                if x.get("note"):
                    w(f"      {x['note']}")
            else:
                w(f"  - {x['label'] or x['id']} : {_st(x['status'])}"
                  f"{' (' + x['note'] + ')' if x.get('over') and x.get('note') else ''}{_src(x)}")
            for msg in x.get("warnings", ()):
                w(f"      AVERTISSEMENT : {msg}")
    return text_safe("\n".join(out) + "\n")


MD_SECTIONS = {"convention": "Convention", "parameter": "Paramètres", "operator": "Porteur", "staff": "Personnel", "funding_plan": "Plan de financement",
               "capacity": "Capacité", "cohort": "Cohorte", "constraint": "Contraintes de cohorte",
               "indicator": "Indicateurs", "funding": "Financement dû", "payment": "Versements",
               "reporting": "Bilans et rendus"}
MD_VALUE_HEAD = {"operator": "Valeur", "staff": "Coût", "funding_plan": "Montant", "funding": "Montant",
                 "payment": "Montant", "reporting": "Échéance", "capacity": "Capacité"}
UNITS_FR = {"months": "mois", "days": "jours", "weeks": "semaines", "hours": "heures", "people": "personnes"}


def render_markdown(r: dict) -> str:
    """A French document: a heading per section, a table of its figures with French labels and values in French
    notation (``45 000,00 €``, ``16,67 %``, ``31/03/2027``); a column that no row of a section fills is left out."""
    period = r.get("period") or {}
    head = [f"# Rapport de l'opération {md_cell(str(r['operation']))}", "",
            f"Programme `{md_cell(str(r['spec']))}`" + (f" (version {md_cell(str(r['spec_version']))})"
                                                       if r.get("spec_version") else "")
            + f", au {fr_date(r['as_of'])}"
            + (f", période du {fr_date(period['from'])} au {fr_date(period['to'])}"
               if period.get("from") and period.get("to") else "") + "."]
    out = head
    sections: dict[str, list] = {}
    for row in flat_rows(r):
        sections.setdefault(row[0], []).append(row)
    for sec, rows in sections.items():
        out += ["", f"## {MD_SECTIONS.get(sec, sec)}", ""]
        cols = [("Libellé", lambda x: x[2] or x[1]), (MD_VALUE_HEAD.get(sec, "Valeur"), lambda x: _md_value(x[3])),
                ("Statut", lambda x: _st(x[4]) if x[4] else ""), ("Source", lambda x: x[5] or ""),
                ("Gravité", lambda x: _st(x[6]) if x[6] else "")]
        table = [[f(x) for _h, f in cols] for x in rows]
        keep = [i for i in range(len(cols)) if i == 0 or any(t[i] for t in table)]
        out.append("| " + " | ".join(cols[i][0] for i in keep) + " |")
        out.append("|" + "|".join("---:" if cols[i][0] in MD_VALUE_HEAD.values() or cols[i][0] == "Valeur"
                                  else "---" for i in keep) + "|")
        for t in table:
            out.append("| " + " | ".join(md_cell(str(t[i])) for i in keep) + " |")
    return "\n".join(out) + "\n"


def _md_value(v) -> str:
    """A figure in French notation, from its kind (money, rate, number, date, bool); text as it is."""
    kind = getattr(v, "kind", None)
    raw = getattr(v, "raw", v)
    if v is None or v == "":
        return ""
    if kind == "money":
        return fr_money(raw)
    if kind == "rate":
        return fr_percent(raw, 1)
    if kind == "bool":
        return "oui" if raw else "non"
    if kind == "date":
        return fr_date(raw)
    if kind == "number":
        unit = getattr(v, "unit", None)
        return fr_number(raw) + (f" {UNITS_FR.get(unit, unit)}" if unit else "")
    return str(v)


def render_csv(r: dict, dialect: Dialect = STANDARD) -> str:
    """One row per figure; ``dialect`` is the standard CSV or French Excel's (engine.render.spreadsheet)."""
    buf = io.StringIO()
    rows = (["" if c is None else csv_cell(str(c)) for c in row] for row in flat_rows(r))
    write_table(buf, ["section", "id", "label", "value", "status", "source", "severity"], rows, dialect, "\n")
    return buf.getvalue()


def _decimal_text(v: Decimal, money: bool) -> str:
    """A Decimal as plain text (JSON and CSV): an amount with its two decimals, any other number without trailing
    zeros."""
    return format(v.quantize(Decimal("0.01")), "f") if money else format(v.normalize(), "f")


class Figure(str):
    """The standard text of a figure (what CSV writes), carrying its value and kind for the French renderings."""

    raw: Any
    kind: str
    unit: str | None

    def __new__(cls, text: str, raw: Any, kind: str, unit: str | None = None):
        f = super().__new__(cls, text)
        f.raw, f.kind, f.unit = raw, kind, unit
        return f


def _cell(v, money: bool = False, kind: str | None = None, unit: str | None = None) -> str:
    if v is None:
        return ""
    if isinstance(v, bool):
        return Figure("true" if v else "false", v, "bool")
    if isinstance(v, Decimal):
        return Figure(_decimal_text(v, money), v, "money" if money else kind or "number", unit)
    if isinstance(v, int):
        return Figure(str(v), v, "money" if money else kind or "number", unit)
    if isinstance(v, date):
        return Figure(v.isoformat(), v, "date")
    return str(v)


def flat_rows(r: dict) -> list[tuple]:
    """(section, id, label, value, status, source, severity) for every figure of the report; ``severity`` is
    ``warning`` for a reporting item whose status stands but that the text wants signalled (a maximum exceeded
    "sans être bloquant"), else None."""
    rows = []
    for k, v in (r.get("parameters") or {}).items():
        rows.append(("parameter", k, "Paramètre (--param)", _cell(v), "passed" if v is not None else "unknown", None))
    conv = r.get("convention")
    if conv:
        rows.append(("convention", "months", "Durée de la convention (mois)", _cell(conv.get("months")),
                     conv["status"], None))
        for c in conv.get("checks", ()):
            rows.append(("convention", c["id"], c["message"], "", c["status"], c.get("source")))
    op = r["operator"]
    rows.append(("operator", "eligible", "Porteur éligible", _cell(op["eligible"]),
                 None if op["eligible"] is None else ("passed" if op["eligible"] else "failed"), None))
    for x in op["reasons"]:
        rows.append(("operator", x["rule"], x["text"], _cell(x["value"]), None, x.get("source")))
    fp = r["funding_plan"]
    for s in fp.get("staff", []):
        rows.append(("staff", s["id"], s["role"], _cell(s["cost"], True), s["status"], None))
    for k, lbl in (("direct_staff_costs", "Dépenses directes de personnel"), ("eligible_costs", "Coûts éligibles"),
                   ("max_grant", "Subvention maximale"), ("grant", "Subvention retenue")):
        rows.append(("funding_plan", k, lbl, _cell(fp[k], True), None, None))
    for f in fp["flat_rates"]:
        rows.append(("funding_plan", f["id"], f["label"], _cell(f["amount"], True), None, f["source"]))
    for c in fp.get("eligible_cost_categories", []):
        if "status" in c:
            rows.append(("funding_plan", c["id"], c["label"], _cell(c["amount"], True), c["status"], c["source"]))
    ds = fp.get("department_share")
    if ds:
        rows.append(("funding_plan", "department_share", ds["label"], _cell(ds["expected"], True), ds["status"],
                     ds["source"]))
    for c in fp["caps"]:
        rows.append(("funding_plan", c["id"], c["label"], _cell(c["amount"], True), None, c["source"]))
    for x in fp["rules"]:
        rows.append(("funding_plan", x["id"], x["label"], "", x["status"], x["source"]))
    ex = fp.get("expenses")
    if ex:
        for ln in ex["lines"]:
            rows.append(("funding_plan", f"expenses.{ln['id']}", f"Dépenses retenues — {ln['label'] or ln['id']}",
                         _cell(ln["retained"], True), None, ex["source"]))
        rows.append(("funding_plan", "retained_expenses", ex["label"] or "Dépenses retenues",
                     _cell(ex["retained"], True), None, ex["source"]))
    for c in r["capacity"]:
        rows.append(("capacity", c["id"], c["label"], _cell(c["capacity"]), c["status"], c["source"]))
    rows.append(("cohort", "participants", "Participants retenus (entrés à la date du rapport)",
                 _cell(r["cohort"]["participants"]), None, None))
    rows.append(("cohort", "not_entered", "Écartés : entrés après la date du rapport",
                 _cell(r["cohort"].get("left_out", {}).get("not_entered", 0)), None, None))
    rows.append(("cohort", "errors", "Enregistrements illisibles", _cell(r["cohort"]["errors"]), None, None))
    for x in r["constraints"]:
        rows.append(("constraint", x["id"], x["label"], "", x["status"], x["source"]))
    for x in r["indicators"]:
        rate = "rate" if x.get("denominator") is not None else None
        rows.append(("indicator", x["id"], x["label"], _cell(x["value"], kind=rate, unit=x.get("unit")), None,
                     x["source"]))
        for b in x.get("breakdowns") or ():  # one row per value: « Salariés — Sexe : F »
            for g in b["rows"]:
                rows.append(("indicator", f"{x['id']}.{b['id']}={breakdown_key(g['key'])}",
                             f"{x['label'] or x['id']} — {b['label'] or b['by']} : {g['label']}",
                             _cell(g["value"], kind=rate, unit=x.get("unit")), None, x["source"]))
    for p in r["funding"]["parts"]:
        rows.append(("funding", p["id"], p["label"], _cell(p["amount"], True), None, p["source"]))
    rows.append(("funding", "total", "Total dû", _cell(r["funding"]["total"], True), None, None))
    for t in r["payments"]["tranches"]:
        rows.append(("payment", t["id"], t["label"], _cell(t["amount"], True), t["status"], t["source"]))
    for x in r["reporting"]:
        rows.append(("reporting", x["id"], x["label"], _cell(x.get("due")), x["status"], x["source"],
                     x.get("severity")))
    return [row if len(row) == 7 else row + (None,) for row in rows]
