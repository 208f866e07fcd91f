"""Root cause first: find, among the errors of one spec, the one that causes others; report it first and drop the
errors that only follow from it.

`engine check` reports every error, but one slip can produce many: a misspelt phase name in ``phases:`` makes every
transition, obligation and expression that names the phase correctly fail ("phase inconnue", "valeur non admise"),
and the graph conclusions drawn from them follow. The cascades recognised, each where the facts are:

- **a failed import** (missing file, outside the root, a cycle, not a vocabulary, or an imported file with errors):
  the loader (:mod:`engine.spec.loader`) does not expand the ``use:`` blocks then, so no "bloc partagé inconnu" is
  reported for the blocks the failed vocabulary would have defined;
- **a misspelt reference** (``to: sortei``): the phase graph is checked as the author meant it, each unknown phase
  name read as the one declared phase it is nearest to (:func:`closest`, in :mod:`engine.spec.graph`), so the typo
  gives one error, not also "phase inatteignable" and "aucun chemin vers une phase finale"; a name near none could be
  any phase, and the conclusions it could change are not drawn;
- **a misspelt declaration** (``acompagnement:`` under ``phases:``), here: a name declared by the spec (a phase, an
  attribute or event type of ``inputs``, a parameter, a definition) or by a vocabulary it imports, that nothing uses,
  while at least two references to a name nearest to it are reported unknown. The declaration is the root cause:
  one error at it (``spec.misspelt_name``, first in its file, ``Diagnostic.tier`` 0) whose hint counts the references
  and gives their lines, and the unknown-reference errors it explains are dropped (the fix makes them all disappear);
- **a broken definition**: a definition whose expression has an error is left out of the scope, so its uses are
  reported unknown: each is marked as a consequence of the definition's error (``Diagnostic.consequence_of``, tier
  3), or dropped with it when that error is itself explained by a misspelt declaration.

Diagnostics are ordered by :meth:`engine.errors.Diagnostic.sort_key`: file, then tier (root causes, ordinary
errors, conclusions drawn from the whole phase graph, consequences), then line and column.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, replace
from typing import Any, Iterable, Mapping

from engine.errors import Diagnostic

# the codes of "this name is not declared" errors, and the kinds of declaration the name may have meant
REFERENCE_CODES: dict[str, tuple[str, ...]] = {
    "graph.unknown_phase": ("phases",),
    "graph.unknown_anchor": ("phases", "events", "attributes"),
    "expr.enum": ("phases", "events"),
    "expr.unknown_name": ("attributes", "parameters", "definitions"),
    "spec.unknown_event": ("events",),
    "spec.unknown_parameter": ("parameters",),
    "expr.unknown_field": ("attributes", "definitions"),
}

# the codes of a use of a name that is declared but left out of the scope (a definition whose expression has an error)
USE_CODES = ("expr.unknown_name", "expr.unknown_field")

# where a spec declares names of its own: kind -> path of the mapping whose keys are the names
DECLARATIONS: dict[str, tuple[str, ...]] = {
    "phases": ("phases",),
    "attributes": ("inputs", "attributes"),
    "events": ("inputs", "events"),
    "parameters": ("parameters",),
    "definitions": ("definitions",),
}
# and where a vocabulary declares them
VOCABULARY_DECLARATIONS: dict[str, tuple[str, ...]] = {
    "attributes": ("attributes",),
    "events": ("events",),
    "parameters": ("parameters",),
    "definitions": ("definitions",),
}

# how the message names each kind: (with "le", with "un", "cité" and "déclaré" agreed)
_WORDS = {
    "phases": ("la phase", "une phase", "citée", "déclarée"),
    "attributes": ("l'attribut", "un attribut", "cité", "déclaré"),
    "events": ("le type d'événement", "un type d'événement", "cité", "déclaré"),
    "parameters": ("le paramètre", "un paramètre", "cité", "déclaré"),
    "definitions": ("la définition", "une définition", "citée", "déclarée"),
}

# prose: a word there is not a use of a name
_PROSE_KEYS = {"label", "title", "interpretation", "explanation", "description", "source", "source_document", "name",
               "note", "notes"}
_TOKEN = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
MIN_REFERENCES = 2  # one unknown reference is its own typo (its hint names the close declaration)


@dataclass(frozen=True)
class _Declared:
    kind: str
    name: str
    pos: Any  # the position of the key that declares it
    path: str  # "phases.accueil", "attributes.rsa"
    in_vocabulary: bool = False


def edit_distance(a: str, b: str) -> int:
    """Letters to insert, delete, replace or swap with their neighbour to turn ``a`` into ``b`` (optimal string
    alignment distance): ``sortei`` -> ``sortie`` is 1, ``pre_orientation`` -> ``reorientation`` is 2."""
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = a[i - 1] != b[j - 1]
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def closest(name: str, candidates: Iterable[str]) -> str | None:
    """The one candidate that ``name`` is most probably a misspelling of: the nearest by :func:`edit_distance`,
    when it is near (at most one edit per five letters, at least one) and strictly nearer than every other; else
    None (no candidate, or a tie: ``orientaton`` is as near to two names)."""
    scored = sorted((edit_distance(name, c), c) for c in set(candidates) if c != name)
    if not scored or scored[0][0] > max(1, len(name) // 5) or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


def caret_name(d: Diagnostic) -> str | None:
    """The name under the caret of a diagnostic (quotes removed), or None when it is not a name."""
    if not d.source_line or not d.col:
        return None
    text = d.source_line[d.col - 1: d.col - 1 + max(1, d.width)].strip().strip("\"'")
    return text if _TOKEN.fullmatch(text) else None


def referenced_name(d: Diagnostic) -> str | None:
    """The name under the caret of an unknown-reference diagnostic (quotes removed), or None."""
    return caret_name(d) if d.code in REFERENCE_CODES else None


def _at_path(data: Any, path: tuple[str, ...]) -> Any:
    node = data
    for key in path:
        node = node.get(key) if isinstance(node, Mapping) else None
    return node


def _declared(data: Any, table: Mapping[str, tuple[str, ...]], in_vocabulary: bool = False) -> list[_Declared]:
    out = []
    for kind, path in table.items():
        node = _at_path(data, path)
        if isinstance(node, Mapping) and hasattr(node, "key_pos"):
            out.extend(_Declared(kind, str(name), node.key_pos(name), ".".join(path) + f".{name}", in_vocabulary)
                       for name in node)
    return out


def _uses(datas: Iterable[tuple[Any, Mapping[str, tuple[str, ...]]]]) -> dict[str, int]:
    """How many times each name-like word appears in the documents outside prose and outside the declarations
    (values of any key but the prose ones, and keys of mappings other than the declaring ones)."""
    counts: dict[str, int] = {}
    for data, table in datas:
        _count(data, {id(n) for n in (_at_path(data, p) for p in table.values()) if isinstance(n, Mapping)}, counts)
    return counts


def _count(data: Any, declaring: set[int], counts: dict[str, int]) -> None:

    def words(text: str) -> None:
        for w in _TOKEN.findall(text):
            counts[w] = counts.get(w, 0) + 1

    todo: list[Any] = [data]
    while todo:
        node = todo.pop()
        if isinstance(node, Mapping):
            for k, v in node.items():
                if id(node) not in declaring and isinstance(k, str):
                    words(k)
                if isinstance(v, str):
                    if k not in _PROSE_KEYS:
                        words(v)
                elif isinstance(v, (Mapping, list)):
                    todo.append(v)
        elif isinstance(node, list):
            for v in node:
                if isinstance(v, str):
                    words(v)
                elif isinstance(v, (Mapping, list)):
                    todo.append(v)


def _lines(ds: Iterable[Diagnostic]) -> str:
    nums = sorted({d.line for d in ds if d.line})
    shown = [str(n) for n in nums[:12]] + (["..."] if len(nums) > 12 else [])
    if len(shown) == 1:
        return f"ligne {shown[0]}"
    return "lignes " + ", ".join(shown[:-1]) + " et " + shown[-1]


def root_cause_first(doc: Any, diagnostics: list[Diagnostic]) -> list[Diagnostic]:
    """``diagnostics`` of the spec document ``doc`` with each misspelt declaration reported once, first, in place of
    the unknown-reference errors it causes (see the module docstring); the others unchanged."""
    data = getattr(doc, "data", None)
    refs: dict[str, list[Diagnostic]] = {}
    for d in diagnostics:
        name = referenced_name(d) if d.severity == "error" else None
        if name is not None:
            refs.setdefault(name, []).append(d)
    if not refs or not isinstance(data, Mapping):
        return _after_broken_definitions(diagnostics, set(), diagnostics)
    vocabularies = [v for v in (doc.all_documents() if hasattr(doc, "all_documents") else [doc])[1:]
                    if isinstance(getattr(v, "data", None), Mapping)]
    declared = _declared(data, DECLARATIONS)
    for v in vocabularies:
        declared.extend(_declared(v.data, VOCABULARY_DECLARATIONS, in_vocabulary=True))
    names = {d.name for d in declared}
    uses = None
    dropped: set[int] = set()
    found: list[Diagnostic] = []
    for wrong, ds in sorted(refs.items()):
        if wrong in names:
            continue
        kinds = {k for d in ds for k in REFERENCE_CODES[d.code]}
        candidates = [x for x in declared if x.kind in kinds]
        match = closest(wrong, [x.name for x in candidates])
        if match is None:
            continue
        decl = next(x for x in candidates if x.name == match)
        same = [d for d in ds if decl.kind in REFERENCE_CODES[d.code]]
        if len(same) < MIN_REFERENCES:
            continue
        if uses is None:
            uses = _uses([(data, DECLARATIONS)] + [(v.data, VOCABULARY_DECLARATIONS) for v in vocabularies])
        if uses.get(decl.name, 0):
            continue  # the declared name is used as written elsewhere: the references are the typos
        noun, a_noun, cited, declared_word = _WORDS[decl.kind]
        where = _lines(same)
        files = sorted({os.path.basename(d.file) for d in same if d.file and d.file != decl.pos.file})
        if files:
            where += " de " + ", ".join(files)
        nowhere = f"ni par cette spec ni par {os.path.basename(decl.pos.file)}" if decl.in_vocabulary else "nulle part"
        message = (f"{noun} « {decl.name} » n'est {cited} {nowhere}, alors que des références nomment « {wrong} », "
                   f"{a_noun} qui n'est pas {declared_word} : le nom déclaré est sans doute mal orthographié")
        hint = (f"renommez « {decl.name} » en « {wrong} » ; les {len(same)} références à « {wrong} » ({where}) ne "
                "sont pas signalées une à une : cette correction les résout toutes")
        if decl.in_vocabulary:
            hint += f" (ou, si « {decl.name} » est le bon nom, corrigez-les)"
        found.append(_at(doc, decl.pos, message, hint, decl))
        dropped.update(id(d) for d in same)
    return _after_broken_definitions(found + [d for d in diagnostics if id(d) not in dropped], dropped, diagnostics)


def _after_broken_definitions(kept: list[Diagnostic], dropped: set[int], every: list[Diagnostic]) -> list[Diagnostic]:
    """A definition whose expression has an error is left out of the scope, so each use of it is then reported as an
    unknown name (or field): such a use is a consequence of the definition's error (marked so), or disappears with
    it when that error was itself explained by a root cause."""
    broken: dict[str, Diagnostic] = {}
    for d in every:
        parts = (d.path or "").split(".")
        if d.severity == "error" and len(parts) in (2, 3) and parts[0] == "definitions" and parts[2:] in ([], ["expr"]):
            broken.setdefault(parts[1], d)
    if not broken:
        return kept
    out = []
    for d in kept:
        name = caret_name(d) if d.code in USE_CODES else None
        cause = broken.get(name) if name else None
        if cause is None or cause is d or (d.path or "").startswith(f"definitions.{name}"):
            out.append(d)
        elif id(cause) not in dropped:
            out.append(replace(d, tier=3, consequence_of=cause.location()))
    return out


def _at(doc: Any, pos: Any, message: str, hint: str, decl: _Declared) -> Diagnostic:
    from engine.spec.loader import diag_at

    d = diag_at(doc, pos, message, hint=hint, code="spec.misspelt_name", path=decl.path, width=max(1, len(decl.name)))
    return replace(d, tier=0)


__all__ = ["REFERENCE_CODES", "referenced_name", "root_cause_first"]
