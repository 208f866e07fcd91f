"""The French text of a trace (:func:`engine.beneficiary.explain.explain_record`), for a case worker on a terminal.

It reads only the JSON trace (a server can render the same text from what it sends), and writes an indented tree,
one decision a line, values the way a French reader writes them: dates ``02/03/2026``, decimals with a comma
(``0,4``), durations in words (``15 jours``), yes/no as ``vrai``/``faux``/``inconnu``. Every rule, deadline,
obligation and step ends with its place in the spec and its source in the text (``[specs/x.yaml:88 · texte
02-xxx.txt:21]``). For example::

    ✓ Âgé de 18 ans ou plus (majeur) : vrai  [specs/x.yaml:40 · texte 02-xxx.txt:21]
        âge au 02/03/2026 = 25 ans ≥ 18 : vrai
          birth_date (date de naissance) = 02/04/2000
"""

from __future__ import annotations

from datetime import date

from engine.escape import text_safe
from engine.fr import fr_date
from engine.beneficiary.conformance import fr_duration
from engine.expr.runtime_json import parse_duration

_OPS = {"==": "=", "!=": "≠", "<": "<", "<=": "≤", ">": ">", ">=": "≥", "in": "parmi", "not_in": "hors de"}
_WORDS = {"==": "égal à", "!=": "différent de", "in": "parmi", "not_in": "hors de"}
_FUNCS = {"sum": "somme", "avg": "moyenne", "min": "minimum", "max": "maximum", "any": "au moins un vrai parmi",
          "all": "tous vrais parmi", "round": "arrondi de", "count": "nombre d'éléments de"}
_STATUS = {"met": "respectée", "missed": "manquée", "early": "réalisée trop tôt (ne compte pas)", "pending": "en cours", "not_applicable": "sans objet",
           "unmet": "non respectée"}
_WINDOW = {"met": "respectée", "failed": "NON respectée", "undecided": "indéterminée", "pending": "en cours",
           "skipped": "non contrôlée (période incomplète)"}
_TRIVIAL = ("constant", "literal", "today", "skipped")
_INLINE = ("constant", "literal", "today", "attribute", "parameter", "variable", "item_field", "skipped")
MAX_ITEMS = 12  # items of a filter listed before "... et N autres"


# ----------------------------------------------------------------------------------------------- values

def fr_number(text: str) -> str:
    """``"1234.50"`` -> ``"1234,50"`` (decimal comma)."""
    return text.replace(".", ",")


def fr_duration_iso(text: str) -> str:
    try:
        return fr_duration(parse_duration(text))
    except (TypeError, ValueError, AttributeError):
        return str(text)


def truth(v) -> str:
    return "vrai" if v is True else "faux" if v is False else "inconnu"


def fmt(value, typ: str | None = None, missing=None) -> str:
    """A traced value (JSON form, with its ``type``) as a French reader writes it."""
    if value is None or typ == "unknown":
        return "inconnu" + (f" (manque : {', '.join(missing)})" if missing else "")
    if typ == "boolean" or value is True or value is False:
        return "oui" if value else "non"
    if typ == "number":
        return fr_number(str(value))
    if typ == "integer":
        return str(value)
    if typ == "date":
        return fr_date(value)
    if typ == "duration":
        return fr_duration_iso(value)
    if typ == "string":
        return f"« {value} »"
    if isinstance(value, list):
        if value and all(isinstance(x, dict) for x in value):
            return f"{len(value)} élément{'s' if len(value) > 1 else ''}"
        return "[" + ", ".join(fmt(x, _guess(x)) for x in value) + "]"
    if isinstance(value, dict):
        return item(value)
    return str(value)


def _guess(x) -> str | None:
    if isinstance(x, bool):
        return "boolean"
    if isinstance(x, int):
        return "integer"
    if isinstance(x, str):
        if len(x) == 10 and x[4:5] == "-" and x[7:8] == "-":
            return "date"
        if x[:1] == "P" and x[1:2].isdigit():
            return "duration"
        return "string"
    return None


def item(e: dict) -> str:
    """An event or a history entry on one line: ``appointment du 10/02/2026 (mode : in_person)``."""
    head = e.get("type") or e.get("phase") or "élément"
    d = e.get("date")
    rest = [f"{k} : {fmt(v, _guess(v)) if not isinstance(v, str) else v}" for k, v in e.items()
            if k not in ("type", "phase", "date")]
    return f"{head}" + (f" du {fr_date(d)}" if d else "") + (f" ({', '.join(rest)})" if rest else "")


def _where(n: dict) -> str:
    parts = []
    if n.get("at"):
        parts.append(n["at"])
    if n.get("source"):
        parts.append(f"texte {n['source']}")
    return f"  [{' · '.join(parts)}]" if parts else ""


# ----------------------------------------------------------------------------------------------- expressions

def phrase(n: dict) -> str:
    """A short phrase for a node's value, as it reads inside a comparison: ``âge au 02/03/2026 = 25 ans``."""
    k = n["kind"]
    v = fmt(n.get("value"), n.get("type"), n.get("missing"))
    if k in ("constant", "literal") or k == "list" and "name" not in n:
        return v
    if k == "today":
        return f"aujourd'hui ({v})"
    if k == "definition" and (n.get("children") or [{}])[0].get("kind") == "call":
        return f"{n['name']} : {phrase(n['children'][0])}"
    if k in ("attribute", "parameter", "variable", "item_field", "definition", "list"):
        prefix = "paramètre " if k == "parameter" else ""
        if n.get("value") is None and n.get("type") == "unknown":
            return f"{prefix}{n['name']} : non renseigné" if k == "attribute" else f"{prefix}{n['name']} = {v}"
        return f"{prefix}{n['name']} = {v}"
    if k == "call":
        f = n.get("function")
        args = n.get("children") or []
        if f == "age" and len(args) == 2:
            return f"âge au {fmt(args[1].get('value'), args[1].get('type'))} = " + (
                f"{n['value']} ans" if n.get("type") == "integer" else v)
        if f == "days_between" and len(args) == 2:
            return f"jours entre le {fmt(args[0].get('value'), args[0].get('type'))} et le " \
                   f"{fmt(args[1].get('value'), args[1].get('type'))} = {v}"
        if f == "months_between" and len(args) == 2:
            return f"mois entiers entre le {fmt(args[0].get('value'), args[0].get('type'))} et le " \
                   f"{fmt(args[1].get('value'), args[1].get('type'))} = {v}"
        if f == "known" and len(args) == 1:
            return f"« {args[0]['expr']} » {'renseigné' if n.get('value') is True else 'non renseigné'}"
        if f in _FUNCS and len(args) == 1:
            return f"{_FUNCS[f]} « {args[0]['expr']} » = {v}"
        return f"{n['expr']} = {v}"
    if k == "filter":
        return f"« {n['expr']} » ({_kept(n)})"
    if k in ("compare", "and", "or", "not"):
        return f"({n['expr']}) {truth(n.get('value'))}"
    if n["expr"] == v:
        return v
    return f"{n['expr']} = {v}"


def _kept(n: dict) -> str:
    if n.get("total") is None:
        return "liste inconnue"
    k = len(n.get("kept") or [])
    s = f"{k} retenu{'s' if k > 1 else ''} sur {n['total']}"
    if n.get("undecided"):
        s += f", {len(n['undecided'])} indéterminé{'s' if len(n['undecided']) > 1 else ''}"
    return s


def expr_line(n: dict) -> str:
    k = n["kind"]
    if k == "error":
        return f"{n['expr']} : {n.get('error')}"
    if k == "compare":
        left, right = (n.get("children") or [None, None])[:2]
        if n["op"] in _WORDS:
            return f"{phrase(left)}, {_WORDS[n['op']]} {phrase(right)} : {truth(n.get('value'))}"
        return f"{phrase(left)} {_OPS.get(n['op'], n['op'])} {phrase(right)} : {truth(n.get('value'))}"
    if k in ("and", "or"):
        word = "toutes les conditions (et)" if k == "and" else "au moins une condition (ou)"
        return f"{word} : {truth(n.get('value'))}"
    if k == "not":
        return f"non ({n['expr']}) : {truth(n.get('value'))}"
    if k == "definition":
        lab = f" ({n['label']})" if n.get("label") else ""
        d = n.get("definition") or {}
        where = _where({"at": d.get("at"), "source": d.get("source")})
        return f"définition « {n['name']} »{lab} = {fmt(n.get('value'), n.get('type'), n.get('missing'))}{where}"
    if k == "filter":
        return f"« {n['expr']} » : {_kept(n)}"
    if k == "skipped":
        return f"{n['expr']} : non évalué (le résultat était déjà décidé)"
    if k == "if":
        return f"si … alors … sinon … = {fmt(n.get('value'), n.get('type'), n.get('missing'))}"
    if k == "attribute":
        lab = f" ({n['label']})" if n.get("label") else ""
        if n.get("type") == "unknown":
            return f"{n['name']}{lab} : non renseigné"
        return f"{n['name']}{lab} = {fmt(n.get('value'), n.get('type'))}"
    if k == "parameter":
        return f"paramètre {n['name']}" + (f" ({n['label']})" if n.get("label") else "") + \
            f" = {fmt(n.get('value'), n.get('type'), n.get('missing'))}"
    if k == "variable":
        return f"{n.get('label') or n['name']} ({n['name']}) = {fmt(n.get('value'), n.get('type'))}"
    if k == "list" and "name" in n:
        return f"{n.get('label') or n['name']} ({n['name']}) : {fmt(n.get('value'), n.get('type'))}"
    return phrase(n)


def _display_children(n: dict) -> list:
    k = n["kind"]
    kids = n.get("children") or []
    if k == "compare":  # operands are inline in the line: show what is behind them
        out = []
        for c in kids:
            if c["kind"] in _INLINE or c["kind"] == "list":
                continue
            if c["kind"] == "call":
                out.extend(x for x in c.get("children") or [] if x["kind"] not in _TRIVIAL)
            else:
                out.append(c)
        return out
    if k == "call":
        return [c for c in kids if c["kind"] not in _TRIVIAL]
    if k == "filter":
        return [c for c in kids if c["kind"] not in _TRIVIAL + ("list",)]
    return [c for c in kids if c["kind"] not in ("constant", "literal", "today")]


def render_expr(n: dict, depth: int, out: list, seen: set | None = None) -> None:
    """``n`` and its working, indented; a definition already detailed with the same value under the same decision
    (``seen``) is one line."""
    pad = "  " * depth
    if seen is None:
        seen = set()
    if n["kind"] == "definition":
        key = (n["name"], repr(n.get("value")))
        if key in seen:
            out.append(pad + expr_line(n).split("  [", 1)[0] + " (détaillée plus haut)")
            return
        seen.add(key)
    out.append(pad + expr_line(n))
    if n["kind"] == "filter":
        kept = n.get("kept") or []
        for e in kept[:MAX_ITEMS]:
            out.append(pad + "    · " + item(e))
        if len(kept) > MAX_ITEMS:
            out.append(pad + f"    · ... et {len(kept) - MAX_ITEMS} autres")
        for u in n.get("undecided") or []:
            out.append(pad + "    ? " + item(u["item"]) + f" (manque : {', '.join(u.get('missing') or [])})")
    for c in _display_children(n):
        render_expr(c, depth + 1, out, seen)


# ----------------------------------------------------------------------------------------------- sections

def _mark(v) -> str:
    return "✓" if v is True else "✗" if v is False else "?"


def render_rule(r: dict, depth: int, out: list) -> None:
    pad = "  " * depth
    name = r.get("label") or r.get("id") or r.get("path")
    ident = f" ({r['id']})" if r.get("id") and r.get("label") else ""
    if r.get("op") in ("all", "any", "not"):
        word = {"all": "toutes les conditions", "any": "au moins une des conditions", "not": "le contraire de"}[r["op"]]
        head = f"{name}{ident} — " if r.get("label") or r.get("id") else ""
        out.append(f"{pad}{_mark(r['value'])} {head}{word} : {truth(r['value'])}{_miss(r)}{_where(r)}")
        for c in r.get("children") or []:
            render_rule(c, depth + 1, out)
        return
    out.append(f"{pad}{_mark(r['value'])} {name}{ident} : {truth(r['value'])}{_miss(r)}{_where(r)}")
    if r.get("assessed"):
        out.append(f"{pad}    date retenue : {r['assessed']}")
    if r.get("interpretation"):
        out.append(f"{pad}    lecture retenue : {r['interpretation']}")
    if r.get("expr"):
        render_expr(r["expr"], depth + 2, out)


def _miss(n: dict) -> str:
    return f" (manque : {', '.join(n['missing'])})" if n.get("value") is None and n.get("missing") else ""


def render_deadline(d: dict, out: list) -> None:
    out.append(f"  {d.get('label') or d['id']} ({d['id']}) : {_STATUS.get(d['status'], d['status'])}{_where(d)}")
    if d.get("applies_if"):
        out.append("      condition d'application :")
        render_expr(d["applies_if"], 4, out)
    if d.get("interpretation"):
        out.append(f"      lecture retenue : {d['interpretation']}")
    a = d.get("anchor")
    if a:
        what = {"phase": "entrée en phase", "event": "premier événement", "attribute": "attribut"}.get(a["kind"], "")
        when = fr_date(a["date"]) if a.get("date") else "aucune date"
        out.append(f"      point de départ : {what} « {a['name']} » = {when}"
                   + (f" (étape n° {a['history_index'] + 1} de l'historique)" if "history_index" in a else "")
                   + (f"  [{a['at']}]" if a.get("at") else ""))
    w = d.get("within")
    if w and d.get("due"):
        out.append(f"      délai : {w['text']}  [{w.get('at')}] → échéance le {fr_date(d['due'])}")
    nb = d.get("not_before")
    if nb and d.get("earliest"):
        out.append(f"      pas avant : {nb['text']}  [{nb.get('at')}] → à partir du {fr_date(d['earliest'])}")
    t = d.get("target")
    if t:
        what = "entrée en phase" if t["kind"] == "phase" else "événement"
        for c in t.get("candidates") or []:
            ok = c.get("accepted")
            why = " (avant la période attendue)" if c.get("early") else ""
            out.append(f"      candidat : {item(c['event'])} : {'retenu' if ok else 'écarté'}{why}")
            if c.get("where"):
                render_expr(c["where"], 5, out)
        got = fr_date(t["date"]) if t.get("date") else "aucun"
        out.append(f"      attendu : {what} « {t['name']} » à partir du point de départ → {got}")
    if d.get("reason"):
        out.append(f"      donc : {d['reason']}")


def render_obligation(o: dict, out: list, every_window: bool = False) -> None:
    out.append(f"  {o.get('label') or o['id']} ({o['id']}) : {_STATUS.get(o['status'], o['status'])}{_where(o)}")
    if o.get("interpretation"):
        out.append(f"      lecture retenue : {o['interpretation']}")
    out.append(f"      condition : {o['condition']}")
    out.append(f"      contrôle : {o['every_text']}, pendant les phases {', '.join(o['during'])}"
               f" (périodes incomplètes : {'contrôlées' if o['partial_windows'] == 'check' else 'non contrôlées'})")
    if o.get("applies_if"):
        out.append("      condition d'application :")
        render_expr(o["applies_if"], 4, out)
    for p in o.get("periods") or []:
        span = f"du {fr_date(p['start'])} au {fr_date(p['end'])}" if p.get("end") else \
            f"depuis le {fr_date(p['start'])} (en cours)"
        out.append(f"      période dans ces phases : {span}")
    for w in o.get("windows") or []:
        n = len(w.get("events") or [])
        evs = f", {n} événement{'s' if n > 1 else ''}" if "events" in w else ""
        out.append(f"      du {fr_date(w['start'])} au {fr_date(w['end'])} : "
                   f"{_WINDOW.get(w['status'], w['status'])}{evs}")
        if w.get("condition") and (every_window or w["status"] in ("failed", "undecided")):
            render_expr(w["condition"], 5, out)
    out.append(f"      bilan : {o['windows_checked']} période(s) contrôlée(s), {o['windows_skipped']} non contrôlée(s), "
               f"{o['windows_pending']} en cours")


def render_path(p: dict, out: list) -> None:
    legal = p.get("legal")
    out.append(f"  parcours {'conforme' if legal else 'NON conforme' if legal is False else 'indéterminé'}, "
               f"phase actuelle : {p.get('current_phase') or 'aucune'}")
    for s in p.get("steps") or []:
        lab = f" ({s['label']})" if s.get("label") else ""
        out.append(f"  {s['index'] + 1}. {fr_date(s['date'])} : {s['phase']}{lab}{_where(s)}")
        t = s.get("transition")
        if t:
            out.append(f"      transition n° {t['number']} {t['from']} → {t['to']}"
                       + (f" : {t['label']}" if t.get("label") else "") + _where(t))
            if "days_in_previous_phase" in s:
                out.append(f"      {s['days_in_previous_phase']} jour(s) après l'entrée en « {t['from']} » du "
                           f"{fr_date(s['stay_start'])}")
            for key, word in (("within", "au plus tard"), ("after", "pas avant")):
                lim = t.get(key)
                if lim:
                    res = "" if not lim.get("checked") else " : respecté" if lim.get("ok") else " : NON respecté"
                    out.append(f"      délai {lim['text']} → {word} le {fr_date(lim['limit'])}{res}"
                               f"  [{lim.get('at')}]")
            if t.get("guard"):
                out.append("      condition du passage :")
                render_expr(t["guard"], 4, out)
        for v in s.get("violations") or []:
            out.append(f"      ⚠ {v.get('code')} : {v.get('message')}")
    nxt = p.get("next") or []
    if nxt:
        out.append("  étapes possibles ensuite : " + ", ".join(
            n.get("phase") + (f" (au plus tard le {fr_date(n['latest'])})" if n.get("latest") else "")
            for n in nxt))


def render_text(trace: dict) -> str:
    """The whole trace as French text (ends with a newline)."""
    out: list = []
    sp = trace.get("spec") or {}
    rec = trace.get("record") or {}
    out.append(f"Explication de la décision — {sp.get('title') or sp.get('id')} (spec {sp.get('id')}, version "
               f"{sp.get('version')})")
    where = f" ({rec['file']}" + (f", ligne {rec['line']}" if rec.get("line") else "") + ")" if rec.get("file") else ""
    if rec.get("example"):
        where = f" (exemple « {rec['example']} » de {rec.get('file')}" + \
            (f", ligne {rec['line']}" if rec.get("line") else "") + ")"
    out.append(f"Bénéficiaire {rec.get('id')}{where}, évalué au {fr_date(trace.get('as_of'))}")
    if trace.get("error"):
        e = trace["error"]
        out.append(f"ERREUR ({e.get('code')}) : {e.get('message')}")
    if "eligibility" in trace and trace.get("eligibility") is not None:
        el = trace.get("eligible")
        word = "ÉLIGIBLE" if el is True else "NON ÉLIGIBLE" if el is False else "ÉLIGIBILITÉ INDÉTERMINÉE"
        missing = (trace.get("decision") or {}).get("missing") or []
        out.append("")
        out.append(f"Éligibilité : {word}" + (f" (manque : {', '.join(missing)})" if el is None and missing else ""))
        render_rule(trace["eligibility"], 1, out)
    for r in trace.get("rules") or []:
        out.append("")
        if r.get("kind") == "definition":
            out.append(f"Définition « {r['id']} »" + (f" ({r['label']})" if r.get("label") else "")
                       + f" : {fmt(r['expr'].get('value'), r['expr'].get('type'), r['expr'].get('missing'))}"
                       + _where(r))
            render_expr(r["expr"], 2, out)
        else:
            out.append("Règle :")
            render_rule(r, 1, out)
    if trace.get("path"):
        out.append("")
        out.append("Parcours :")
        render_path(trace["path"], out)
    if trace.get("deadlines"):
        out.append("")
        out.append("Échéances :")
        for d in trace["deadlines"]:
            render_deadline(d, out)
    if trace.get("obligations"):
        out.append("")
        out.append("Obligations :")
        narrowed = bool((trace.get("selection") or {}).get("obligations"))
        for o in trace["obligations"]:
            render_obligation(o, out, every_window=narrowed)
    if trace.get("parameters"):
        out.append("")
        out.append("Paramètres utilisés :")
        for p in trace["parameters"]:
            val = fmt(p.get("value"), p.get("type")) if p.get("supplied") else "non fourni (--param " + p["name"] + \
                "=...)"
            out.append(f"  {p['name']} = {val}" + (f" — {p['label']}" if p.get("label") else "") + _where(p))
    if trace.get("constants"):
        out.append("")
        out.append("Valeurs fixées par la spec :")
        for c in trace["constants"]:
            val = c["text"] if c.get("type") == "duration" else fmt(c.get("value"), c.get("type"))
            out.append(f"  {val} dans {c.get('name') or c.get('in')}{_where(c)}")
    return text_safe("\n".join(out) + "\n")


__all__ = ["render_text", "fmt", "truth", "phrase"]
