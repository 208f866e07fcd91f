"""The French terminal view of ``engine evaluate``: a short verdict per record, for a person reading a terminal.

It reads only the decision objects that ``engine evaluate`` writes as JSON (the schema of ``engine schema --output
evaluate``), plus the spec for the labels of phases, deadlines, obligations and attributes, and writes for each record:

    DYN-C · éligible · parcours NON CONFORME · au 01/06/2026
      parcours : non conforme · phase actuelle : Préconisation d'orientation transmise au Département
        ✗ « Rencontre avec un.e référent.e » a commencé 18 jours après ... [01-dynamisation-des-parcours.txt:32]
      échéances : 1 manquée, 2 sans objet
        ✗ Rencontre avec un.e référent.e ... : manquée, faite le 20/03/2026 (au plus tard le 17/03/2026)
      obligations : 5 sans objet
      ensuite : Décision finale d'orientation par le Département (à partir du 20/03/2026)

The eligibility rules shown are those that explain the answer: the false ones of a refusal, the unknown ones (with
the missing data) of an unknown answer, none when eligible (``engine explain`` gives the whole reasoning); every rule,
and the deadlines and obligations that are met or without object, only when ``verbose``. Colour (``color=True``) only
marks the signs and the verdict words; the caller decides it (a terminal, and ``NO_COLOR`` unset).
"""

from __future__ import annotations

from typing import Any, Iterable, Iterator

from engine.escape import text_safe
from engine.fr import fr_date, fr_plural

GREEN, RED, YELLOW, DIM, BOLD, RESET = "\x1b[32m", "\x1b[31m", "\x1b[33m", "\x1b[2m", "\x1b[1m", "\x1b[0m"

DEADLINE_WORDS = {"met": ("respectée", "respectées"), "missed": ("manquée", "manquées"),
                  "early": ("trop tôt", "trop tôt"), "pending": ("à venir", "à venir"),
                  "not_applicable": ("sans objet", "sans objet")}
OBLIGATION_WORDS = {"met": ("respectée", "respectées"), "unmet": ("non respectée", "non respectées"),
                    "pending": ("en cours", "en cours"), "not_applicable": ("sans objet", "sans objet")}
ORDER = ("missed", "unmet", "early", "pending", "met", "not_applicable")


class Style:
    """The colour of a sign or a word: nothing unless ``color``."""

    def __init__(self, color: bool):
        self.color = color

    def __call__(self, text: str, code: str) -> str:
        return f"{code}{text}{RESET}" if self.color else text


class Labels:
    """Labels of a spec's phases, deadlines, obligations and attributes (ids when the spec gives none)."""

    def __init__(self, spec: Any = None):
        self.phases = {k: getattr(p, "label", None) for k, p in (getattr(spec, "phases", None) or {}).items()}
        self.deadlines = {d.id: d.label for d in getattr(spec, "deadlines", ()) or ()}
        self.obligations = {o.id: o.label for o in getattr(spec, "obligations", ()) or ()}
        self.attributes = {k: getattr(a, "label", None) for k, a in (getattr(spec, "attributes", None) or {}).items()}

    def phase(self, pid: str | None) -> str:
        return text_safe(self.phases.get(pid) or pid or "—")

    def deadline(self, did: str) -> str:
        return text_safe(self.deadlines.get(did) or did)

    def obligation(self, oid: str) -> str:
        return text_safe(self.obligations.get(oid) or oid)

    def attribute(self, name: str) -> str:
        return text_safe(self.attributes.get(name) or name)


def render_record(result: dict, labels: Labels, color: bool = False, verbose: bool = False) -> str:
    """The verdict of one output object of ``engine evaluate`` (a decision or a record error), several lines."""
    st = Style(color)
    who = text_safe(result.get("id") or "(sans identifiant)")
    if result.get("status") == "error":
        err = result.get("error") or {}
        where = f"ligne {result['line']} · " if result.get("line") else ""
        return (f"{st(who, BOLD)} · {st('ERREUR', RED)} · {where}{text_safe(err.get('code', ''))}\n"
                f"  {text_safe(err.get('message', ''))}\n")
    out: list[str] = []
    path = result.get("path") or {}
    head = [st(who, BOLD), _eligibility(result.get("eligible"), st)]
    if path.get("legal") is False:
        head.append("parcours " + st("NON CONFORME", RED))
    head.append(f"au {fr_date(result.get('as_of'))}")
    out.append(" · ".join(head))
    out.extend(_reasons(result, labels, st, verbose))
    out.extend(_path(path, labels, st))
    out.extend(_items("échéances", result.get("deadlines") or [], DEADLINE_WORDS, labels.deadline, _deadline_detail,
                      st, verbose))
    out.extend(_items("obligations", result.get("obligations") or [], OBLIGATION_WORDS, labels.obligation,
                      _obligation_detail, st, verbose))
    out.extend(_next(path, labels))
    return "\n".join(out) + "\n"


def render_records(results: Iterable[dict], spec: Any = None, color: bool = False,
                   verbose: bool = False) -> Iterator[str]:
    """The verdicts of a stream of results, one block each, separated by a blank line."""
    labels = Labels(spec)
    for i, r in enumerate(results):
        yield ("\n" if i else "") + render_record(r, labels, color, verbose)


def _eligibility(value: Any, st: Style) -> str:
    if value is True:
        return st("éligible", GREEN)
    if value is False:
        return st("non éligible", RED)
    return st("éligibilité indéterminée", YELLOW)


def _reasons(result: dict, labels: Labels, st: Style, verbose: bool) -> list[str]:
    reasons = result.get("reasons") or []
    decided = result.get("eligible")
    # the rules that explain the answer: none when eligible, the false ones of a refusal, the unknown ones of an
    # unknown answer (a false rule of another alternative did not decide it); every rule when verbose
    shown = reasons if verbose else [r for r in reasons if decided is not True and r.get("value") is decided]
    lines = []
    for r in sorted(shown, key=lambda r: {False: 0, None: 1, True: 2}.get(r.get("value"), 1)):
        v = r.get("value")
        sign = st("✓", GREEN) if v is True else st("✗", RED) if v is False else st("?", YELLOW)
        text = text_safe(r.get("text") or r.get("rule") or "")
        src = f"  {st('[' + r['source'] + ']', DIM)}" if r.get("source") else ""
        miss = r.get("missing") or []
        gap = f" (manque : {', '.join(labels.attribute(m) for m in miss)})" if v is None and miss else ""
        when = f" ({text_safe(r['assessed'])})" if r.get("assessed") else ""
        lines.append(f"  {sign} {text}{when}{gap}{src}")
    missing = result.get("missing") or []
    if missing and result.get("eligible") is None and not any(r.get("missing") for r in shown):
        lines.append(f"  données manquantes : {', '.join(labels.attribute(m) for m in missing)}")
    return lines


def _path(path: dict, labels: Labels, st: Style) -> list[str]:
    if not path:
        return []
    here = path.get("current_phase")
    where = f"phase actuelle : {labels.phase(here)}" if here else "pas encore entré dans le parcours"
    fv = path.get("first_violation")
    if not fv:
        return [f"  parcours : {st('conforme', GREEN)} · {where}"]
    src = f"  {st('[' + fv['source'] + ']', DIM)}" if fv.get("source") else ""
    more = len(path.get("violations") or []) - 1
    lines = [f"  parcours : {st('non conforme', RED)} · {where}",
             f"    {st('✗', RED)} {text_safe(fv.get('message') or fv.get('code', ''))}{src}"]
    if more > 0:
        lines.append(f"    (et {fr_plural(more, 'autre écart', 'autres écarts')} : --format json pour le détail)")
    return lines


def _items(title: str, items: list[dict], words: dict, label, detail, st: Style, verbose: bool) -> list[str]:
    if not items:
        return []
    counts: dict[str, int] = {}
    for it in items:
        counts[it.get("status")] = counts.get(it.get("status"), 0) + 1
    parts = []
    for s in sorted(counts, key=lambda s: ORDER.index(s) if s in ORDER else len(ORDER)):
        one, many = words.get(s, (s, s))
        parts.append(f"{counts[s]} {one if counts[s] < 2 else many}")
    lines = [f"  {title} : {', '.join(parts)}"]
    for it in items:
        s = it.get("status")
        if s in ("met", "not_applicable") and not verbose:
            continue
        sign = (st("✓", GREEN) if s == "met" else st("✗", RED) if s in ("missed", "unmet", "early")
                else st("…", YELLOW) if s == "pending" else "·")
        one, _many = words.get(s, (s, s))
        lines.append(f"    {sign} {label(it['id'])} : {one}{detail(it)}")
    return lines


def _deadline_detail(d: dict) -> str:
    s, due, got = d.get("status"), d.get("due"), d.get("date")
    if s == "met" and got:
        return f" le {fr_date(got)}" + (f" (au plus tard le {fr_date(due)})" if due else "")
    if s == "missed":
        return (f", faite le {fr_date(got)} (au plus tard le {fr_date(due)})" if got
                else f" (au plus tard le {fr_date(due)})" if due else "")
    if s == "early":
        return (f", faite le {fr_date(d.get('early'))}, avant la période attendue"
                + (f" (du {fr_date(d['earliest'])} au {fr_date(due)})" if d.get("earliest") and due else ""))
    if s == "pending":
        if d.get("earliest") and due:
            return f" (entre le {fr_date(d['earliest'])} et le {fr_date(due)})"
        return f" (au plus tard le {fr_date(due)})" if due else ""
    if d.get("missing"):
        return f" (manque : {', '.join(text_safe(m) for m in d['missing'])})"
    return ""


def _obligation_detail(o: dict) -> str:
    failed = o.get("failed") or []
    if failed:
        shown = ", ".join(f"du {fr_date(w.get('start'))} au {fr_date(w.get('end'))}" for w in failed[:3])
        more = f" et {len(failed) - 3} autres" if len(failed) > 3 else ""
        return f" ({fr_plural(len(failed), 'période', 'périodes')} : {shown}{more})"
    if o.get("status") == "pending" and o.get("windows_pending"):
        return f" ({fr_plural(o['windows_pending'], 'période en cours', 'périodes en cours')})"
    return ""


def _next(path: dict, labels: Labels) -> list[str]:
    steps = path.get("next") or []
    if not steps:
        return []
    parts = []
    for n in steps:
        label = text_safe(n.get("label") or labels.phase(n.get("phase")))
        lo, hi = n.get("earliest"), n.get("latest")
        when = (f" (entre le {fr_date(lo)} et le {fr_date(hi)})" if lo and hi else
                f" (au plus tard le {fr_date(hi)})" if hi else f" (à partir du {fr_date(lo)})" if lo else "")
        cond = " — sous condition" if n.get("condition") else ""
        parts.append(f"{label}{when}{cond}")
    if len(parts) == 1:
        return [f"  ensuite : {parts[0]}"]
    return ["  ensuite, au choix :"] + [f"    - {p}" for p in parts]


__all__ = ["Labels", "render_record", "render_records"]
