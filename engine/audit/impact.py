"""Impact of a spec change on records: evaluate every record under both versions and count what changes.

Streamed: records are read once (:func:`engine.beneficiary.records.read_records`) and each one is evaluated under the old and
the new spec in lockstep (``itertools.tee`` of one reader, so memory stays bounded whatever the file size).

A record *changes* when, between the two versions, its evaluation status (``ok``/``error``), its eligibility
(``true``/``false``/``null`` = unknown), the legality of its path (counted per first violation code of the
illegal side), or the status of one of its deadlines or
obligations (by id; ``absent`` when the version does not have it) differs. Each kind of change
(``eligibility true -> false``, ``deadline first_appointment: met -> missed``...) is counted, with the first few
record ids as examples. A line that cannot be read as a record is counted in ``unreadable`` and compared no further.
"""

from __future__ import annotations

import itertools
from collections import deque
import sys
import time
from dataclasses import dataclass
from datetime import date
from typing import Any, Callable, Iterable, Iterator

import orjson

from engine.faults import is_internal
from engine.beneficiary.evaluate import evaluate_stream, plan_for
from engine.beneficiary.records import BadRecord, read_records
from engine.files.output import Output, open_output, prepare

EXAMPLES_PER_KIND = 5

_BOOL_FR = {True: "éligible", False: "non éligible", None: "inconnu"}
_LEGAL_FR = {True: "légal", False: "non conforme", None: "inconnu"}
_STATUS_FR = {"met": "respecté", "missed": "manqué", "pending": "en cours", "early": "trop tôt", "not_applicable": "sans objet",
              "unmet": "non respectée", "ok": "ok", "error": "erreur", None: "absent"}


@dataclass(frozen=True)
class ImpactKind:
    """One kind of change and the records that show it."""

    kind: str        # "status" | "eligibility" | "path" | "deadline" | "obligation"
    item: str | None  # the deadline or obligation id; for "path", the first violation code of the illegal side
    old: Any
    new: Any
    count: int
    examples: tuple[str, ...]
    label: str | None = None  # the deadline's or obligation's French label


    @property
    def key(self) -> str:
        what = self.kind if self.item is None else f"{self.kind} {self.item}"
        return f"{what}: {_j(self.old)} -> {_j(self.new)}"

    @property
    def sentence(self) -> str:
        if self.kind == "eligibility":
            return f"éligibilité : {_BOOL_FR.get(self.old)} -> {_BOOL_FR.get(self.new)}"
        if self.kind == "path":
            why = (f" ({'anomalie levée' if self.new else 'première anomalie'} : {self.item})" if self.item else "")
            return f"parcours : {_LEGAL_FR.get(self.old)} -> {_LEGAL_FR.get(self.new)}{why}"
        if self.kind == "status":
            return f"évaluation : {_STATUS_FR.get(self.old, self.old)} -> {_STATUS_FR.get(self.new, self.new)}"
        noun = "délai" if self.kind == "deadline" else "obligation"
        return (f"{noun} « {self.label or self.item} » : {_STATUS_FR.get(self.old, self.old)} -> "
                f"{_STATUS_FR.get(self.new, self.new)}")

    def to_json(self) -> dict:
        return {"kind": self.kind, "item": self.item, "old": self.old, "new": self.new, "count": self.count,
                "examples": list(self.examples), "key": self.key, "sentence": self.sentence}


@dataclass(frozen=True)
class Impact:
    at: date
    records: int          # records read (including unreadable lines)
    changed: int          # records with at least one change
    unreadable: int       # lines that are not records (bad JSON...): not compared
    kinds: tuple[ImpactKind, ...]
    seconds: float = 0.0
    internal_errors: int = 0  # records that hit an engine bug under either version (engine.faults)

    def to_json(self) -> dict:
        return {"at": self.at.isoformat(), "records": self.records, "changed": self.changed,
                "unchanged": self.records - self.changed - self.unreadable, "unreadable": self.unreadable,
                "kinds": [k.to_json() for k in self.kinds]}


def _j(v) -> str:
    return "null" if v is None else ("true" if v is True else "false" if v is False else str(v))


def _by_id(items) -> dict:
    out = {}
    for x in items or ():
        if isinstance(x, dict) and "id" in x:
            out[x["id"]] = x.get("status")
    return out


def record_changes(old: dict, new: dict) -> list[tuple[str, str | None, Any, Any]]:
    """The changes between two evaluation outputs of the same record: ``(kind, item, old, new)``."""
    so, sn = old.get("status"), new.get("status")
    if so != "ok" or sn != "ok":
        return [] if so == sn else [("status", None, so, sn)]
    out = []
    if old.get("eligible") != new.get("eligible"):
        out.append(("eligibility", None, old.get("eligible"), new.get("eligible")))
    po, pn = old.get("path") or {}, new.get("path") or {}
    lo, ln = po.get("legal"), pn.get("legal")
    if lo != ln:
        illegal = pn if ln is False else po  # why the illegal side is illegal: its first violation's code
        out.append(("path", (illegal.get("first_violation") or {}).get("code"), lo, ln))
    for kind, key in (("deadline", "deadlines"), ("obligation", "obligations")):
        a, b = _by_id(old.get(key)), _by_id(new.get(key))
        for item in sorted(set(a) | set(b)):
            if a.get(item) != b.get(item):
                out.append((kind, item, a.get(item), b.get(item)))
    return out


_KIND_ORDER = {"status": 0, "eligibility": 1, "path": 2, "deadline": 3, "obligation": 4}


def compare_outputs(pairs: Iterable[tuple], at: date, examples: int = EXAMPLES_PER_KIND,
                    labels: dict | None = None, sink: Callable[[dict], None] | None = None) -> Impact:
    """Count the changes over ``(old, new)`` outputs of the same records, or ``(unreadable, old, new)`` triples
    where ``unreadable`` says that the input line was not a record at all. ``labels`` maps ``(kind, id)`` of
    deadlines and obligations to their French labels; ``sink`` receives one dict per changed record
    (``{"id", "line", "changes": [{"kind", "item", "old", "new"}]}``), in input order."""
    labels = labels or {}
    counts: dict[tuple, list] = {}
    records = changed = unreadable = internal = 0
    for n, pair in enumerate(pairs, 1):
        records += 1
        bad, a, b, line = (pair if len(pair) == 4 else (pair + (None,)) if len(pair) == 3
                           else (False, pair[0], pair[1], None))
        if bad:
            unreadable += 1
            continue
        if a.get("status") == "error" or b.get("status") == "error":
            internal += is_internal(a) or is_internal(b)
        diffs = record_changes(a, b)
        if not diffs:
            continue
        changed += 1
        line = line or a.get("line") or b.get("line")
        rid = a.get("id") or b.get("id") or f"ligne {line or n}"
        if sink is not None:
            sink({"id": a.get("id") or b.get("id"), "line": line,
                  "changes": [{"kind": k, "item": i, "old": o, "new": w} for k, i, o, w in diffs]})
        for d in diffs:
            slot = counts.get(d)
            if slot is None:
                counts[d] = slot = [0, []]
            slot[0] += 1
            if len(slot[1]) < examples:
                slot[1].append(str(rid))
    kinds = tuple(ImpactKind(k[0], k[1], k[2], k[3], v[0], tuple(v[1]), labels.get((k[0], k[1])))
                  for k, v in sorted(counts.items(), key=lambda kv: (_KIND_ORDER.get(kv[0][0], 9), kv[0][1] or "",
                                                                     -kv[1][0], _j(kv[0][2]), _j(kv[0][3]))))
    return Impact(at, records, changed, unreadable, kinds, internal_errors=internal)


def evaluate_pairs(old_spec, new_spec, records_path: str, at: date, params: dict | None = None,
                   progress: bool = False) -> Iterator[tuple[bool, dict, dict, int]]:
    """``(unreadable, old output, new output, line)`` for each record of the file, streamed (one reader, two
    evaluations in lockstep)."""
    p_old, p_new = split_params(old_spec, new_spec, params or {})
    items = read_records(records_path, spec=new_spec)
    flags: deque = deque()

    def feed():
        for line, item in items:
            flags.append((isinstance(item, BadRecord), line))
            yield line, item

    ia, ib = itertools.tee(feed(), 2)
    # zip pulls the old evaluation first: it must leave the shared dicts untouched; the new one, their last reader,
    # may convert them in place (owned)
    pairs = zip(evaluate_stream(old_spec, ia, at, p_old), evaluate_stream(new_spec, ib, at, p_new, owned=True))

    def joined():
        for a, b in pairs:
            bad, line = flags.popleft()
            yield bad, a, b, line

    return _with_progress(joined()) if progress else joined()


def split_params(old_spec, new_spec, params: dict) -> tuple[dict, dict]:
    """The ``--param`` values for each version: a parameter declared by one version only is given to that one;
    a name neither declares goes to both, so that the usual usage error names it. Checked before any record is
    read (a bad value is a usage error, exit 2)."""
    decl_old = set(plan_for(old_spec).binder.param_decls)
    decl_new = set(plan_for(new_spec).binder.param_decls)
    either = decl_old | decl_new
    p_old = {k: v for k, v in params.items() if k in decl_old or k not in either}
    p_new = {k: v for k, v in params.items() if k in decl_new or k not in either}
    plan_for(old_spec).binder.params(p_old)
    plan_for(new_spec).binder.params(p_new)
    return p_old, p_new


def _with_progress(pairs):
    start = last = time.monotonic()
    for n, p in enumerate(pairs, 1):
        yield p
        now = time.monotonic()
        if now - last > 0.5:
            last = now
            sys.stderr.write(f"\rengine diff: {n} dossiers comparés ({n / (now - start):,.0f}/s)")
            sys.stderr.flush()
    if last != start:
        sys.stderr.write("\n")


def analyse_impact(old_spec, new_spec, records_path: str, *, at: date, params: dict | None = None,
                   progress: bool = False, examples: int = EXAMPLES_PER_KIND,
                   changed_path=None) -> Impact:
    """Evaluate every record of ``records_path`` under both compiled specs and count the changes. With
    ``changed_path`` (a file name, or an :class:`engine.files.output.Output` already checked), every changed record is
    also written there (JSONL, streamed, through :mod:`engine.files.output`: atomically for a file, never half-written)."""
    if changed_path is not None:
        target = changed_path if isinstance(changed_path, Output) else prepare(changed_path, "--changed")
        with open_output(target) as out:
            write = out.write
            return _analyse(old_spec, new_spec, records_path, at, params, progress, examples,
                            lambda obj: write(orjson.dumps(obj, default=str) + b"\n"))
    return _analyse(old_spec, new_spec, records_path, at, params, progress, examples, None)


def _analyse(old_spec, new_spec, records_path, at, params, progress, examples, sink) -> Impact:
    t0 = time.perf_counter()
    labels = {}
    for spec in (old_spec, new_spec):  # the new version's labels win
        for kind, items in (("deadline", getattr(spec, "deadlines", ())), ("obligation", getattr(spec, "obligations", ()))):
            for x in items or ():
                if getattr(x, "label", None):
                    labels[(kind, x.id)] = x.label
    impact = compare_outputs(evaluate_pairs(old_spec, new_spec, records_path, at, params, progress), at, examples,
                             labels, sink)
    return Impact(impact.at, impact.records, impact.changed, impact.unreadable, impact.kinds,
                  time.perf_counter() - t0, impact.internal_errors)
