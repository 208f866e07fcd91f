"""One streaming pass over a cohort: every aggregate over ``participants`` of every cohort expression of a spec is
computed while the cohort file is read once, record by record, in bounded memory (only the accumulators are kept).

Rules (documented in specs/README.md and docs/money-and-cohorts.md): the cohort is the one at the report date, so
a record whose entry (its first history entry, else ``entry_date``) is after that date is left out and counted in
``not_entered`` (the first ones kept with their line); a participant for whom the filter ``where`` (or the
projected value) is unknown is left out of the aggregate and counted in ``unknown``; a record that cannot be read or
bound is counted in ``errors`` (with its line and message, the first ones kept), never silently lost.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any, Iterable

from engine.errors import EngineError
from engine.expr.runtime import Unknown, unknown
from engine.faults import CODE as INTERNAL, describe
from engine.beneficiary.bind import BindError, kind_of
from engine.beneficiary.records import BadRecord
from engine.operation.model import EVALUATION_NAMES
from engine.beneficiary.evaluate import evaluate_record

MAX_ERRORS_KEPT = 20


@dataclass
class Acc:
    """The accumulator of one aggregate."""

    func: str
    n: int = 0  # participants matching the filter with a known value
    unknown: int = 0  # participants left out because the filter or the value was unknown
    total: Any = 0
    best: Any = None
    any_true: bool = False
    any_false: bool = False

    def value(self):
        f = self.func
        if f == "count":
            return self.n
        if f == "sum":
            return self.total
        if f == "avg":
            return unknown() if self.n == 0 else Decimal(self.total) / self.n
        if f in ("min", "max"):
            return unknown() if self.best is None else self.best
        if f == "any":
            return True if self.any_true else (unknown() if self.unknown else False)
        if f == "all":
            return False if self.any_false else (unknown() if self.unknown else True)
        raise ValueError(f)


@dataclass
class GroupAcc:
    """The accumulator of an aggregate broken down by a participant expression (an indicator's ``by:``): one
    :class:`Acc` per value met, ``None`` for the participants whose value is unknown."""

    func: str
    groups: dict = field(default_factory=dict)

    def group(self, g) -> Acc:
        acc = self.groups.get(g)
        if acc is None:
            acc = self.groups[g] = Acc(self.func)
        return acc

    @property
    def n(self) -> int:
        return sum(a.n for a in self.groups.values())

    @property
    def unknown(self) -> int:
        return sum(a.unknown for a in self.groups.values())

    def value(self) -> dict:
        """Each value met -> its accumulator (read by the report: its value and its unknowns)."""
        return dict(self.groups)


@dataclass(frozen=True)
class AggResult:
    key: str
    func: str
    value: Any
    n: int
    unknown: int


@dataclass
class PassResult:
    """What one pass gives: the aggregates by key, the number of participants read, and the bad records."""

    aggregates: dict[str, AggResult]
    participants: int
    errors: int
    error_samples: list[dict] = field(default_factory=list)
    internal_errors: int = 0  # records that hit an engine bug (engine.faults): counted, each with a sample
    not_entered: int = 0  # records left out: entered after the report date (first history entry, else entry_date)
    not_entered_samples: list[dict] = field(default_factory=list)
    entry_unknown: int = 0  # participants kept whose entry date the record does not give


def entry_date(raw: dict):
    """The date a participant entered the operation: the earliest date of their ``history`` (the first phase
    entered), else their ``entry_date`` attribute; None when the record gives neither (or not as a date)."""
    best = None
    hist = raw.get("history")
    if isinstance(hist, list):
        for h in hist:
            d = _as_date(h.get("date")) if isinstance(h, dict) else None
            if d is not None and (best is None or d < best):
                best = d
    if best is None:
        best = _as_date(raw.get("entry_date"))
    return best


def as_of(raw: dict, at: date) -> dict:
    """The participant as known at the report date: history entries and events dated after ``at`` left out (a phase
    entered in August does not count in a report of June: 04's volume part, 07's mobility solutions). The record
    itself when nothing is after ``at``; entries whose date cannot be read are kept (the binding reports them)."""
    out = None
    for key in ("history", "events"):
        items = raw.get(key)
        if not isinstance(items, list):
            continue
        kept = [x for x in items if not (isinstance(x, dict) and (d := _as_date(x.get("date"))) is not None and d > at)]
        if len(kept) != len(items):
            if out is None:
                out = dict(raw)
            out[key] = kept
    return raw if out is None else out


def _as_date(v):
    if isinstance(v, date):
        return v
    if isinstance(v, str) and len(v) == 10:
        try:
            return date.fromisoformat(v)
        except ValueError:
            return None
    return None


def merge_acc(a, b):
    """Combine two accumulators of the same aggregate (from two parts of the cohort)."""
    if isinstance(a, GroupAcc):
        groups = dict(a.groups)
        for g, acc in b.groups.items():
            groups[g] = merge_acc(groups[g], acc) if g in groups else acc
        return GroupAcc(a.func, groups)
    out = Acc(a.func, a.n + b.n, a.unknown + b.unknown, a.total + b.total)
    bests = [x for x in (a.best, b.best) if x is not None]
    if bests:
        out.best = min(bests) if a.func == "min" else max(bests)
    out.any_true = a.any_true or b.any_true
    out.any_false = a.any_false or b.any_false
    return out


def _is_unknown(v) -> bool:
    return v.__class__ is Unknown


def run_pass(aggregates: Iterable, items: Iterable[tuple[int, Any]], bind, base_env: dict, at: date) -> PassResult:
    """Evaluate ``aggregates`` (``engine.operation.compile.Aggregate``, deduplicated by key) over ``items`` (``(line, raw dict
    or BadRecord)``). ``bind(raw) -> env`` binds one record (raising for a bad one); ``base_env`` holds the
    operation names (the participant's own names shadow them)."""
    plan, count, errors, samples, internal, entry = _accumulate(aggregates, items, bind, base_env, at)
    out = {k: AggResult(k, f, acc.value(), acc.n, acc.unknown) for k, f, _w, _v, _b, acc in plan}
    return PassResult(out, count, errors, samples, internal, *entry)


def _plan(aggregates):
    aggs = {}
    for a in aggregates:
        aggs.setdefault(a.key, a)
    return [(a.key, a.func, a.where.fn if a.where is not None else None, a.value.fn if a.value is not None else None,
             a.by.fn if a.by is not None else None, Acc(a.func) if a.by is None else GroupAcc(a.func))
            for a in aggs.values()]


def _internal_sample(e: Exception, line, raw, what: str | None) -> dict:
    rid = raw.get("id") if isinstance(raw, dict) else None
    rid = rid if isinstance(rid, str) else None
    err = describe(e, None, doing="le calcul de la cohorte", what=what,
                   record=f"« {rid} »" if rid else f"la ligne {line}")
    return {"line": line, "id": rid, **err}


def _accumulate(aggregates, items, bind, base_env, at):
    plan = _plan(aggregates)
    count = errors = internal = not_entered = entry_unknown = 0
    samples: list[dict] = []
    late: list[dict] = []
    for line, raw in items:
        if isinstance(raw, BadRecord):
            errors += 1
            if len(samples) < MAX_ERRORS_KEPT:
                samples.append({"line": line, "id": raw.id, "code": raw.code, "message": raw.message})
            continue
        entered = entry_date(raw) if isinstance(raw, dict) else None
        if entered is not None and entered > at:
            # the cohort at the report date: someone who enters later is not yet a participant (09:119)
            not_entered += 1
            if len(late) < MAX_ERRORS_KEPT:
                rid = raw.get("id")
                late.append({"line": line, "id": rid if isinstance(rid, str) else None, "entry": entered})
            continue
        raw = as_of(raw, at)  # what is dated after the report date is not yet known to the report
        try:
            penv = bind(raw)
        except (BindError, EngineError, ValueError, TypeError, ArithmeticError) as e:  # one bad record: counted
            errors += 1
            if getattr(e, "code", None) == INTERNAL:  # engine.beneficiary.evaluate met an engine bug on this participant
                internal += 1
            if len(samples) < MAX_ERRORS_KEPT:
                rid = raw.get("id") if isinstance(raw, dict) else None
                samples.append({"line": line, "id": rid if isinstance(rid, str) else None,
                                "code": getattr(e, "code", "record.invalid"),
                                "message": getattr(e, "message", None) or str(e)})
            continue
        except MemoryError:
            raise
        except Exception as e:  # noqa: BLE001 - an engine bug while binding: this record is counted, the pass goes on
            errors += 1
            internal += 1
            if len(samples) < MAX_ERRORS_KEPT:
                samples.append(_internal_sample(e, line, raw, "la lecture du participant"))
            continue
        count += 1
        if entered is None:
            entry_unknown += 1
        env = dict(base_env)
        env.update(penv)
        hit = False
        for _key, func, where, value, by, acc in plan:
            try:
                if by is not None:  # a breakdown: this participant's group (None when its value is unknown)
                    acc = acc.group(_group_of(by, env, at))
                if where is not None:
                    w = where(env, at)
                    if w is not True:
                        if w is not False:
                            acc.unknown += 1
                        continue
                if value is None:
                    if func == "count":
                        acc.n += 1
                    continue
                v = value(env, at)
                if _is_unknown(v):
                    acc.unknown += 1
                    continue
                _add(acc, func, v)
            except EngineError:
                _unknown_in(acc)
            except (TypeError, ArithmeticError, ValueError):
                _unknown_in(acc)
            except MemoryError:
                raise
            except Exception as e:  # noqa: BLE001 - an engine bug: the value is unknown for this participant
                _unknown_in(acc)
                if not hit:
                    hit = True
                    internal += 1
                    if len(samples) < MAX_ERRORS_KEPT:
                        samples.append(_internal_sample(e, line, raw, f"l'agrégat « {_key} »"))
    return plan, count, errors, samples, internal, (not_entered, late, entry_unknown)


def _unknown_in(acc) -> None:
    """One more participant whose value is unknown (in the group « inconnu » when the aggregate is broken down and
    the group itself could not be computed)."""
    (acc.group(None) if acc.__class__ is GroupAcc else acc).unknown += 1


def _group_of(by, env, at):
    """The breakdown value of one participant: None when it is unknown or cannot be computed (a bad value)."""
    try:
        g = by(env, at)
    except (EngineError, TypeError, ArithmeticError, ValueError):  # no value for this participant: « inconnu »
        return None
    if _is_unknown(g):
        return None
    try:
        hash(g)
    except TypeError:
        return None
    return g


def _add(acc: Acc, func: str, v) -> None:
    acc.n += 1
    if func == "count":
        return
    if func in ("sum", "avg"):
        if v is True or v is False:
            v = 1 if v else 0
        acc.total = acc.total + v
    elif func == "min":
        if acc.best is None or v < acc.best:
            acc.best = v
    elif func == "max":
        if acc.best is None or v > acc.best:
            acc.best = v
    elif func in ("any", "all"):
        if v is True:
            acc.any_true = True
        elif v is False:
            acc.any_false = True
        else:
            acc.n -= 1
            acc.unknown += 1


# --------------------------------------------------------------------------------------------- binding a participant

def participant_binder(binder, aggs, pvals: dict, *, spec=None, at: date | None = None, params=None,
                       bounds: tuple | None = None):
    """A function binding one cohort record to what the aggregates read, and nothing else: only the attributes
    their expressions name (directly or through definitions), ``history`` and ``events`` only when read. The other
    keys of a record are not converted, so a bad value in an attribute the report does not use does not make the
    record unreadable (it is still counted as a participant).

    ``eligible``, ``path_legal``, ``current_phase`` and ``deadlines`` (what ``engine evaluate`` says of the
    participant at ``at``) are computed only when an aggregate reads them (it costs a full evaluation per record),
    against ``bounds``, the ``(start, end)`` of the operation's convention."""
    needed: set = set()
    for a in aggs:
        for e in (a.where, a.value, a.by):
            if e is not None:
                needed |= set(getattr(e, "names", ()) or ())
    attrs = tuple(t for t in getattr(binder, "attrs", ()) if t[0] in needed)
    hist = getattr(binder, "_history", None) if "history" in needed else None
    evs = getattr(binder, "_events", None) if "events" in needed else None
    wanted = [n for n in EVALUATION_NAMES if n in needed and spec is not None and n not in spec.attributes]
    if wanted:
        return _evaluating_binder(binder, pvals, spec, at, params, wanted, bounds)
    if ("history" in needed and hist is None) or ("events" in needed and evs is None) or not hasattr(binder, "attrs"):
        return lambda raw: binder.bind(raw, pvals)

    def bind(raw: dict) -> dict:
        rid = raw.get("id")
        if rid is None:
            raise BindError("missing_id", "l'enregistrement n'a pas d'identifiant « id »")
        if not isinstance(rid, str) or not rid.strip():
            raise BindError("invalid_id", f"l'identifiant « id » doit être un texte non vide, pas {kind_of(rid)}")
        env = dict(pvals)
        get = raw.get
        for name, conv, unk in attrs:
            v = get(name)
            env[name] = unk if v is None else conv(v)
        if hist is not None:
            env["history"] = hist(get("history"))
        if evs is not None:
            e = evs(get("events"))
            # engine.beneficiary.bind's reader may also return the events' dates alongside: (events, dates)
            env["events"] = e[0] if e.__class__ is tuple else e
        return env

    return bind


def _evaluating_binder(binder, pvals, spec, at, params, wanted, bounds=None):
    """Full binding plus the beneficiary evaluation's verdict (eligibility, path) for each participant."""
    import copy

    def bind(raw: dict) -> dict:
        out = evaluate_record(spec, copy.deepcopy(raw), at, dict(params or {}), bounds=bounds)
        if out.get("status") == "error":
            err = out.get("error") or {}
            raise BindError(err.get("code", "record.invalid"), err.get("message", "enregistrement illisible"))
        env = binder.bind(raw, pvals)
        path = out.get("path") or {}
        values = {"eligible": out.get("eligible"), "path_legal": path.get("legal"),
                  "current_phase": path.get("current_phase"),
                  "deadlines": {d["id"]: d["status"] for d in out.get("deadlines") or ()}}
        for n in wanted:
            v = values[n]
            env[n] = unknown(n) if v is None else v
        return env

    return bind
