"""Semantic diff between two versions of a spec, and its impact on records (`engine diff`).

Two versions (files, or ``path@gitrev`` read with ``git show`` without touching the work tree; imports are read at
the same revision) are normalised (:mod:`engine.audit.normal_form`) into entities matched by id -- rules, phases,
transitions, deadlines, obligations, indicators, payments, sessions... never by list position -- and compared
field by field after normalisation (expressions through their AST, durations and rates by value). Every difference
is a :class:`Change` with a French sentence (« Délai « Premier rendez-vous » -- délai : 15 jours -> 21 jours ») and
whether it can change an outcome (``semantic``) or not (a label, a source, an interpretation, an example).

``--records`` evaluates every record under both versions (:mod:`engine.audit.impact`); the renderers are in
:mod:`engine.render.diff`.

Choices (documented in docs/diff.md): metadata (version, title, validity dates) and examples are not semantic; the
validity period of each version is compared and an overlap is a warning; a rule moved to another group is a change
of its ``parent`` field; an expression that differs only by constants is reported as a threshold change.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any, Callable

from engine.audit.normal_form import (Entity, Norm, NormalSpec, constant_changes, default_expr_parser, field_is_semantic,
                                      make_expr_parser, normalise_spec, users_of, NON_SEMANTIC_SECTIONS)
from engine.fr import fr_date, fr_percent

# ------------------------------------------------------------------------------------------------ results

SECTION_ORDER = ("metadata", "sessions", "convention", "territories", "inputs", "parameters", "definitions",
                 "eligibility", "phases", "transitions", "deadlines", "obligations", "capacity",
                 "cohort_constraints", "indicators", "funding", "payments", "reporting", "vocabulary", "shared",
                 "imports", "examples")

# section -> (noun, feminine?)
SECTION_NOUNS = {
    "metadata": ("Métadonnées", True), "sessions": ("Session", True), "convention": ("Convention", True),
    "territories": ("Territoires", False), "parameters": ("Paramètre", False),
    "definitions": ("Définition", True), "eligibility": ("Règle d'éligibilité", True), "phases": ("Phase", True),
    "transitions": ("Transition", True), "deadlines": ("Délai", False), "obligations": ("Obligation", True),
    "capacity": ("Capacité", True), "cohort_constraints": ("Contrainte de cohorte", True),
    "indicators": ("Indicateur", False), "funding": ("Financement", False), "payments": ("Versement", False),
    "reporting": ("Bilan", False), "vocabulary": ("Vocabulaire", False), "imports": ("Import", False),
    "shared": ("Bloc partagé", False),
    "examples": ("Exemple", False),
}
_INPUT_NOUNS = {"attribute": ("Attribut", False), "event": ("Type d'événement", False),
                "operation": ("Attribut d'opération", False)}

FIELD_FR = {
    "within": "délai", "not_before": "date au plus tôt", "during_phase": "pendant la phase", "milestone": "jalon", "tolerance": "tolérance",
    "after": "délai minimal", "min_duration": "durée minimale", "max_duration": "durée maximale",
    "max_renewals": "nombre maximal de renouvellements", "total_max_duration": "durée totale maximale",
    "condition": "condition", "guard": "condition de passage", "where": "filtre", "applies_if": "s'applique si",
    "from": "point de départ", "to": "cible", "label": "libellé", "source": "source", "interpretation": "interprétation",
    "explanation": "explication", "opens": "ouverture", "closes": "clôture", "start": "début", "end": "fin",
    "share": "part", "due": "échéance", "per_fte": "par ETP", "every": "périodicité", "during": "phases concernées",
    "partial_windows": "fenêtres partielles", "initial": "phase d'entrée", "final": "phase de sortie", "type": "type",
    "values": "valeurs", "valid_from": "valide à partir du", "valid_until": "valide jusqu'au", "version": "version",
    "title": "titre", "numerator": "numérateur", "denominator": "dénominateur", "tacit_renewal": "tacite reconduction",
    "expr": "expression", "parent": "groupe", "group": "combinaison", "value": "valeur", "members": "membres",
    "weight": "poids", "objective": "objectif", "achieved": "réalisé", "method": "mode de calcul", "rate": "taux",
    "amount": "montant", "base": "assiette", "cap": "plafond", "by_fund": "par fonds", "min": "minimum",
    "max": "maximum", "items": "éléments", "fields": "champs", "id": "identifiant", "kind": "nature",
    "source_document": "document source", "per": "par", "covers": "couvre", "event": "événement",
}

@dataclass(frozen=True)
class Change:
    """One difference between two versions. ``path`` is ``section.id.field`` (``deadlines.first_appointment.within``);
    ``old``/``new`` are JSON values (None on the missing side); ``constants`` lists ``(old, new)`` constants when an
    expression differs only by them (a threshold)."""

    section: str
    path: str
    kind: str  # "added" | "removed" | "changed"
    old: Any
    new: Any
    sentence: str
    semantic: bool
    constants: tuple[tuple[str, str], ...] = ()
    where: str | None = None  # "file:line" of the change in the new version (the old one for a removal)
    used_by: tuple[str, ...] = ()  # for a definition, parameter or attribute: paths of the elements reading it
    source: str | None = None  # the element's `source:` citation (NN-file.txt:LINE), new version first

    def to_json(self) -> dict:
        d = {"section": self.section, "path": self.path, "kind": self.kind, "old": self.old, "new": self.new,
             "sentence": self.sentence, "semantic": self.semantic}
        if self.constants:
            d["constants"] = [{"old": a, "new": b} for a, b in self.constants]
        if self.where:
            d["where"] = self.where
        if self.used_by:
            d["used_by"] = list(self.used_by)
        if self.source:
            d["source"] = self.source
        return d


@dataclass(frozen=True)
class VersionInfo:
    ref: str
    id: str | None
    version: str | None
    title: str | None
    valid_from: date | None
    valid_until: date | None

    def to_json(self) -> dict:
        return {"ref": self.ref, "id": self.id, "version": self.version, "title": self.title,
                "valid_from": self.valid_from.isoformat() if self.valid_from else None,
                "valid_until": self.valid_until.isoformat() if self.valid_until else None}


@dataclass(frozen=True)
class DiffResult:
    old: VersionInfo
    new: VersionInfo
    changes: tuple[Change, ...]
    warnings: tuple[str, ...] = ()

    @property
    def semantic_changes(self) -> tuple[Change, ...]:
        return tuple(c for c in self.changes if c.semantic)

    def to_json(self) -> dict:
        return {"old": self.old.to_json(), "new": self.new.to_json(), "warnings": list(self.warnings),
                "summary": {"changes": len(self.changes), "semantic": len(self.semantic_changes)},
                "changes": [c.to_json() for c in self.changes]}


# ------------------------------------------------------------------------------------------------ sentences

def _noun(section: str, ident: str) -> tuple[str, bool]:
    if section == "inputs":
        kind = ident.split(":", 1)[0]
        return _INPUT_NOUNS.get(kind, ("Donnée d'entrée", True))
    return SECTION_NOUNS.get(section, (section.replace("_", " ").capitalize(), False))


def _display_id(e: Entity) -> str:
    return e.id.split(":", 1)[1] if e.section in ("inputs", "vocabulary") and ":" in e.id else e.id


def _subject(e: Entity) -> str:
    noun, _ = _noun(e.section, e.id)
    if not e.id:
        return noun
    return f"{noun} « {e.label or _display_id(e)} »"


def _field_fr(path: str) -> str:
    parts = []
    for comp in path.split("."):
        name, _, ident = comp.partition("[")
        word = FIELD_FR.get(name, name.replace("_", " "))
        parts.append(f"{word} « {ident.rstrip(']')} »" if ident else word)
    return " › ".join(parts)


_FEMININE = {"durée minimale", "durée maximale", "durée totale maximale", "condition", "condition de passage",
             "fin", "interprétation", "explication", "source", "clôture", "ouverture", "part", "échéance",
             "périodicité", "phases concernées", "fenêtres partielles", "phase d'entrée", "phase de sortie", "valeurs",
             "version", "combinaison", "valeur", "expression", "assiette", "cible", "tacite reconduction",
             "nature", "couvre"}
MAX_TEXT = 160


def _agree(what: str, masculine: str) -> str:
    last = what.rsplit(" › ", 1)[-1].split(" « ", 1)[0]
    if last not in _FEMININE:
        return masculine
    return masculine + "e" + ("s" if last.endswith("s") and not last.endswith("ss") else "")


def _of(what: str) -> str:
    """« de la condition », « du filtre », « de l'expression »."""
    if what[:1].lower() in "aeiouyéèêh":
        return f"de l'{what}"
    first = what.split(" › ", 1)[0].split(" « ", 1)[0]
    return f"de la {what}" if first in _FEMININE else f"du {what}"


def _short(text: str) -> str:
    return text if len(text) <= MAX_TEXT else text[:MAX_TEXT - 1].rstrip() + "…"


def _show(n: Norm, other: Norm | None = None) -> str:
    if n.kind == "expr":
        return f"« {_short(n.text)} »"
    if n.kind == "number" and other is not None and other.kind == "percent":
        return fr_percent(n.key[1])
    if n.kind == "text":
        return f"« {_short(n.text)} »"
    return n.text


def _field_sentence(e: Entity, path: str, a: Norm | None, b: Norm | None, consts) -> str:
    subject, what = _subject(e), _field_fr(path)
    if a is None:
        return f"{subject} — {what} {_agree(what, 'ajouté')} : {_show(b)}"
    if b is None:
        return f"{subject} — {what} {_agree(what, 'supprimé')} (était {_show(a)})"
    if a.kind == "set" and b.kind == "set":
        old_items = {n.key: n for n in a.ast or ()}
        new_items = {n.key: n for n in b.ast or ()}
        plus = [_show(n) for k, n in new_items.items() if k not in old_items]
        minus = [_show(n) for k, n in old_items.items() if k not in new_items]
        bits = []
        if plus:
            bits.append("ajout de " + ", ".join(sorted(plus)))
        if minus:
            bits.append("retrait de " + ", ".join(sorted(minus)))
        return f"{subject} — {what} : " + " ; ".join(bits)
    if consts:
        dates = all(re.match(r"^\d\d/\d\d/\d{4}$", x) and re.match(r"^\d\d/\d\d/\d{4}$", y) for x, y in consts)
        label = ("date" if dates else "seuil") + ("s" if len(consts) > 1 else "")
        return f"{subject} — {label} {_of(what)} : " + ", ".join(f"{x} -> {y}" for x, y in consts)
    return f"{subject} — {what} : {_show(a, b)} -> {_show(b, a)}"


def _entity_sentence(e: Entity, kind: str) -> str:
    noun, fem = _noun(e.section, e.id)
    verb = ("ajoutée" if fem else "ajouté") if kind == "added" else ("supprimée" if fem else "supprimé")
    if not e.id:
        return f"{noun} : section {'ajoutée' if kind == 'added' else 'supprimée'}"
    ident = _display_id(e)
    return f"{noun} {verb} : « {e.label} » ({ident})" if e.label else f"{noun} {verb} : « {ident} »"


# ------------------------------------------------------------------------------------------------ the diff

def _section_rank(section: str) -> tuple[int, str]:
    return (SECTION_ORDER.index(section) if section in SECTION_ORDER else len(SECTION_ORDER), section)


def jsonable(value: Any) -> Any:
    """Plain JSON value of document data (dates ISO, decimals as numbers)."""
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [jsonable(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (str, int)):
        return value if not isinstance(value, str) else str(value)
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and abs(value) < 10 ** 15 else float(value)
    if isinstance(value, date):
        return value.isoformat()
    return str(value)


def _where(pos, file_map: Callable[[str], str] | None) -> str | None:
    if not pos or not pos[0]:
        return None
    file = file_map(pos[0]) if file_map else pos[0]
    return f"{file}:{pos[1]}"


def diff_normal(old: NormalSpec, new: NormalSpec, old_files: Callable[[str], str] | None = None,
                new_files: Callable[[str], str] | None = None) -> list[Change]:
    """The changes from ``old`` to ``new`` (both normalised), in a stable order: by section, then id, then field.
    ``old_files``/``new_files`` map the file names of positions to the names shown (``path@rev``)."""
    changes: list[Change] = []
    keys = sorted(set(old.entities) | set(new.entities), key=lambda k: (_section_rank(k[0]), k[1]))
    for key in keys:
        a, b = old.entities.get(key), new.entities.get(key)
        if a is None or b is None:
            e = b if a is None else a
            kind = "added" if a is None else "removed"
            data = jsonable(e.data)
            changes.append(Change(e.section, e.path, kind, None if a is None else data, data if a is None else None,
                                  _entity_sentence(e, kind), e.section not in NON_SEMANTIC_SECTIONS, (),
                                  _where(e.pos, new_files if a is None else old_files), source=_source_of(b, a)))
            continue
        for fpath in sorted(set(a.fields) | set(b.fields)):
            fa, fb = a.fields.get(fpath), b.fields.get(fpath)
            if fa == fb:
                continue
            kind = "added" if fa is None else "removed" if fb is None else "changed"
            consts = constant_changes(fa, fb) if fa is not None and fb is not None else None
            top = fpath.split(".", 1)[0].split("[", 1)[0]
            where = (_where(b.field_pos.get(top) or b.pos, new_files) if fb is not None
                     else _where(a.field_pos.get(top) or a.pos, old_files))
            changes.append(Change(
                b.section, f"{b.path}.{fpath}", kind, None if fa is None else fa.json, None if fb is None else fb.json,
                _field_sentence(b, fpath, fa, fb, consts), field_is_semantic(b.section, fpath),
                tuple(consts or ()), where, source=_source_of(b, a)))
    return [_with_users(c, old, new) for c in changes]


def _source_of(*entities: Entity | None) -> str | None:
    """The `source:` citation of the first of ``entities`` that has one (a text line such as NN-file.txt:LINE)."""
    for e in entities:
        n = e.fields.get("source") if e is not None else None
        if n is not None and isinstance(n.json, str):
            return n.json
    return None


MAX_USERS = 4


def _with_users(c: Change, old: NormalSpec, new: NormalSpec) -> Change:
    """A semantic change of a definition, parameter or attribute names the rules that read it (in the new version,
    in the old one for a removal), through other definitions too."""
    if not c.semantic or c.section not in ("definitions", "parameters", "inputs"):
        return c
    ident = c.path.split(".", 2)[1] if c.path.count(".") else ""
    if not ident:
        return c
    if c.section == "inputs":
        kind, _, ident = ident.partition(":")
        if kind not in ("attribute", "operation"):
            return c
    spec = old if c.kind == "removed" and c.path.count(".") == 1 else new
    users = users_of(spec, ident, exclude=(c.section, c.path.split(".", 2)[1]))
    if not users:
        return c
    names = [_subject(u) for u in users[:MAX_USERS]]
    more = len(users) - MAX_USERS
    tail = f" et {more} autre{'s' if more > 1 else ''}" if more > 0 else ""
    _, feminine = _noun(c.section, ident if c.section != "inputs" else "attribute:")
    used = "utilisée" if feminine else "utilisé"
    return replace(c, sentence=f"{c.sentence} ; {used} par : {', '.join(names)}{tail}",
                   used_by=tuple(u.path for u in users))


def _period(info: VersionInfo) -> str:
    start = fr_date(info.valid_from) if info.valid_from else "…"
    end = fr_date(info.valid_until) if info.valid_until else "…"
    return f"du {start} au {end}"


def validity_warnings(old: VersionInfo, new: VersionInfo, changes: list[Change]) -> list[str]:
    """Warnings about the two versions' metadata: overlapping validity, unchanged version number."""
    out = []
    if not changes:
        return out
    if old.id and new.id and old.id != new.id:
        out.append(f"Les deux versions ne décrivent pas le même dispositif (« {old.id} » et « {new.id} »).")
    same_version = old.version is not None and old.version == new.version
    if not same_version and (old.valid_from is not None or old.valid_until is not None):
        if new.valid_from is not None or new.valid_until is not None:
            lo = max(old.valid_from or date.min, new.valid_from or date.min)
            hi = min(old.valid_until or date.max, new.valid_until or date.max)
            if lo <= hi:
                out.append(f"Les périodes de validité se chevauchent : version {old.version or '?'} {_period(old)}, "
                           f"version {new.version or '?'} {_period(new)} (chevauchement {_period_dates(lo, hi)}) ; "
                           "un dossier évalué dans cette période relève de deux versions.")
    if same_version and any(c.semantic for c in changes):
        out.append(f"Le numéro de version ({old.version}) est le même alors que des règles changent.")
    return out


def _period_dates(lo: date, hi: date) -> str:
    return f"du {fr_date(lo) if lo != date.min else '…'} au {fr_date(hi) if hi != date.max else '…'}"


def _as_date(v) -> date | None:
    if isinstance(v, date):
        return v
    if isinstance(v, str):
        try:
            return date.fromisoformat(v.strip())
        except ValueError:
            return None
    return None


def version_info(ref: str, normal: NormalSpec) -> VersionInfo:
    m = normal.meta
    return VersionInfo(ref, _str(m.get("id")), _str(m.get("version")), _str(m.get("title")),
                       _as_date(m.get("valid_from")), _as_date(m.get("valid_until")))


def _str(v) -> str | None:
    return None if v is None else str(v)


def diff_documents(old_doc: dict, new_doc: dict, old_vocab=(), new_vocab=(), *, old_ref: str = "old",
                   new_ref: str = "new", parser: Callable[[str], Any] | None | str = "default",
                   old_files: Callable[[str], str] | None = None,
                   new_files: Callable[[str], str] | None = None) -> DiffResult:
    """Diff two spec documents (plain data, or loaded YAML whose positions then locate the changes) with the
    vocabularies they import."""
    parse = default_expr_parser() if parser == "default" else parser
    norm_expr = make_expr_parser(parse)
    a = normalise_spec(old_doc, old_vocab, norm_expr)
    b = normalise_spec(new_doc, new_vocab, norm_expr)
    changes = diff_normal(a, b, old_files, new_files)
    ia, ib = version_info(old_ref, a), version_info(new_ref, b)
    return DiffResult(ia, ib, tuple(changes), tuple(validity_warnings(ia, ib, changes)))


# ------------------------------------------------------------------------------------------------ reading versions
from engine.audit.versions import SpecVersion, load_version  # noqa: E402  (re-exported: the public API lives here)


def diff_versions(old: SpecVersion, new: SpecVersion) -> DiffResult:
    return diff_documents(old.doc, new.doc, old.vocabularies, new.vocabularies, old_ref=old.display,
                          new_ref=new.display, old_files=old.shown_file, new_files=new.shown_file)
