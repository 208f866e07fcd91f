"""The operation record (``engine report --operation OP.json``) and the operation's own dated obligations.

- :func:`load_operation` reads the JSON object; :func:`staff_members`, :func:`financing`, :func:`attribute_env` and
  :func:`operation_events` check and convert its parts (a bad record raises :class:`~engine.errors.RecordError`,
  exit code 1, with a French message naming the field);
- :func:`windows` and :func:`recurring` count the operation's events (committees held, reports sent) per calendar
  window of the convention.

The format is in specs/README.md ("The operation record").
"""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from engine.operation import funding as F
from engine.errors import Diagnostic, RecordError
from engine.expr.runtime import Unknown, add_duration, add_months, unknown
from engine.files.inputs import InputTooLarge, MAX_OPERATION_BYTES, load_json_document, read_bounded, size_text
from engine.operation.compile import rate_value
from engine.beneficiary.bind import BindError, parse_date, value_converter

_RESERVED = ("id", "spec", "staff", "financing", "events", "expenses")


# --------------------------------------------------------------------------------------------- the operation record

def load_operation(path: str) -> dict:
    """Read an operation record (one JSON object) from ``path``: at most :data:`engine.files.inputs.MAX_OPERATION_BYTES`
    (16 MiB, a record's limit), whatever ``path`` is (a file, a FIFO, a device); invalid UTF-8, a lone surrogate
    (``"\\udc80"``) or invalid JSON is a positioned error."""
    try:
        data = read_bounded(path, MAX_OPERATION_BYTES)
    except InputTooLarge:
        raise RecordError(Diagnostic(f"le fichier de l'opération est trop volumineux : plus de "
                                     f"{size_text(MAX_OPERATION_BYTES)}", file=path, code="operation.too_large",
                                     hint="une opération est un objet JSON de quelques Ko : vérifiez le chemin "
                                          "donné à --operation")) from None
    except OSError as e:
        raise RecordError(Diagnostic(f"impossible de lire le fichier de l'opération : {e.strerror}", file=path,
                                     code="operation.unreadable", hint="vérifiez le chemin du fichier")) from None
    raw, bad, kind = load_json_document(data)
    if bad is not None:
        what = "n'est pas du texte UTF-8 valide" if kind == "encoding" else "n'est pas un JSON valide"
        raise RecordError(Diagnostic(f"le fichier de l'opération {what} : {bad.what}", file=path, line=bad.line,
                                     col=bad.col, source_line=bad.source_line, code=f"operation.{kind}",
                                     hint="enregistrez le fichier en UTF-8" if kind == "encoding"
                                     else "un objet JSON : {\"id\": ..., \"spec\": ..., ...}"))
    if not isinstance(raw, dict):
        raise RecordError(Diagnostic("le fichier de l'opération doit contenir un objet JSON {...}", file=path,
                                     code="operation.shape"))
    return raw


def _bad(msg: str, code: str = "operation.invalid", hint: str | None = None, file: str | None = None):
    return RecordError(Diagnostic(msg, file=file, code=code, hint=hint))


def _dec(v, what: str) -> Decimal:
    r = None
    if isinstance(v, (int, Decimal)) and not isinstance(v, bool):
        r = Decimal(v)
    elif isinstance(v, float):
        r = Decimal(repr(v))
    elif isinstance(v, str):
        r = rate_value(v)
    if r is None or not r.is_finite():
        raise _bad(f"{what} : un nombre est attendu, pas {v!r}", "operation.number",
                   'un nombre JSON ou un texte de nombre : 14500, "14500.00", 0.5 ou "50%"')
    return r


def staff_members(raw) -> list[F.StaffMember] | None:
    if raw is None:
        return None
    if not isinstance(raw, list):
        raise _bad("« staff » doit être une liste de salariés", "operation.staff")
    out = []
    for i, s in enumerate(raw):
        if not isinstance(s, dict):
            raise _bad(f"staff[{i}] : un objet {{id, role, cost, allocation, work_time}} est attendu",
                       "operation.staff")
        if s.get("cost") is None:
            raise _bad(f"staff[{i}] : « cost » (coût imputé à l'opération, en euros) est obligatoire",
                       "operation.staff")
        alloc = _dec(s.get("allocation", 1), f"staff[{i}].allocation")
        wt = _dec(s.get("work_time", 1), f"staff[{i}].work_time")
        if not (0 < alloc <= 1) or not (0 < wt <= 1):
            raise _bad(f"staff[{i}] : « allocation » et « work_time » sont entre 0 (exclu) et 1", "operation.staff",
                       "écrivez 0.5 ou \"50%\" pour un mi-temps")
        sf = s.get("support_function", False)
        if not isinstance(sf, bool):
            raise _bad(f"staff[{i}].support_function : vrai/faux attendu", "operation.staff")
        act = s.get("activity")
        if act is not None and not (isinstance(act, str) and act.strip()):
            raise _bad(f"staff[{i}].activity : le nom d'une activité est attendu (ex. \"accueil\")", "operation.staff",
                       "une personne partagée entre deux activités figure deux fois, chacune avec sa part "
                       "(« allocation »)")
        out.append(F.StaffMember(str(s.get("id") or f"S{i + 1}"), s.get("role"), _dec(s["cost"], f"staff[{i}].cost"),
                                 alloc, wt, sf, act))
    return out


def financing(raw) -> dict[str, Decimal] | None:
    if raw is None:
        return None
    if not isinstance(raw, dict):
        raise _bad("« financing » doit être un objet {financeur: montant}", "operation.financing",
                   'par exemple {"departement": 27300, "ftj": 63700}')
    return {str(k): _dec(v, f"financing.{k}") for k, v in raw.items()}


def attribute_env(spec, raw: dict) -> dict:
    env: dict = {}
    for name, a in spec.operation_attributes.items():
        v = raw.get(name)
        if v is None:
            env[name] = unknown(name)
            continue
        try:
            env[name] = value_converter(a.decl, f"attribut d'opération « {name} »")(v)
        except BindError as e:
            raise _bad(e.message, "operation." + e.code) from None
    return env


def _known(v) -> bool:
    return v.__class__ is not Unknown


def _num(v):
    """A runtime number as Decimal, None when unknown."""
    if v is None or v.__class__ is Unknown or isinstance(v, bool):
        return None
    if isinstance(v, (int, Decimal)):
        return Decimal(v)
    return None


def _src(s) -> str | None:
    return str(s) if s is not None and str(s) else None


def operation_events(raw) -> list[dict]:
    """The operation's events (committees held, reports sent...): ``[{type, date, ...}]``, dates parsed."""
    if raw is None:
        return []
    if not isinstance(raw, list):
        raise _bad("« events » doit être une liste d'événements {type, date}", "operation.events")
    out = []
    for i, e in enumerate(raw):
        if not isinstance(e, dict) or not isinstance(e.get("type"), str):
            raise _bad(f"events[{i}] : un objet {{type, date, ...}} est attendu", "operation.events")
        try:
            d = parse_date(e.get("date"), f"events[{i}].date")
        except BindError as err:
            raise _bad(err.message, "operation.events") from None
        out.append({**e, "date": d})
    return out


def windows(start: date, end: date, every) -> list[tuple[date, date]]:
    """The windows of a recurring obligation between ``start`` and ``end`` (inclusive): calendar weeks (ISO,
    Monday-Sunday), months, quarters or years, clipped to [start, end]; or windows of a fixed ``Duration`` counted
    from ``start``; or the whole period when ``every`` is None."""
    return [(ws, we) for ws, we, _partial in framed_windows(start, end, every)]


def framed_windows(start: date, end: date, every) -> list[tuple[date, date, bool]]:
    """:func:`windows` with, for each, whether it is *partial*: cut by the convention's start or end (a calendar
    quarter begun before the convention, the last fixed-length window cut by its end)."""
    if every is None:
        return [(start, end, False)]
    out = []
    if isinstance(every, str):
        if every == "week":
            s = start - timedelta(days=start.weekday())
        elif every == "month":
            s = start.replace(day=1)
        elif every == "quarter":
            s = date(start.year, 3 * ((start.month - 1) // 3) + 1, 1)
        else:
            s = date(start.year, 1, 1)
        step = {"week": None, "month": 1, "quarter": 3, "year": 12}[every]
        while s <= end:
            nxt = s + timedelta(days=7) if step is None else add_months(s, step)
            last = nxt - timedelta(days=1)
            out.append((max(s, start), min(last, end), s < start or last > end))
            s = nxt
        return out
    s = start
    k = 1
    while s <= end and len(out) < 10_000:
        nxt = add_duration(start, every.scaled(k))
        if nxt <= s:
            break
        last = nxt - timedelta(days=1)
        out.append((s, min(last, end), last > end))
        s = nxt
        k += 1
    return out


def recurring(r, events: list[dict], start, end, at: date, fields: tuple[str, ...] = ()) -> dict:
    """Events of type ``r.event`` (filtered by ``r.where``) counted per window; each window is ``met`` (count within
    [min, max]), ``unmet`` (ended with too few, or too many), ``pending`` (not ended, not enough yet); windows that
    start after ``at`` are not listed, and an event dated after ``at`` is not counted (the record may be exported
    later than the report date: a committee of June is not held yet in a report of April)."""
    row: dict[str, Any] = {"id": r.id, "label": r.label, "event": r.event, "min": r.min, "max": r.max,
                           "source": _src(r.source)}
    if not isinstance(start, date) or not isinstance(end, date):
        row.update(status="unknown", note="dates de la convention inconnues")
        return row
    evs, undecided = _kept(r, [e for e in events if e["type"] == r.event], at, fields)
    on = getattr(r, "counted_on", None)
    if on is not None:  # placed in the window of the period it covers; held (sent) by the report date
        def covered(e):
            v = e.get(on)
            if v is None or isinstance(v, date):
                return v
            try:
                return parse_date(v, f"events.{on}")
            except BindError as err:
                raise _bad(f"événement « {r.event} » du {e['date']:%d/%m/%Y} : {err.message}", "operation.events",
                           f"« {on} » est une date AAAA-MM-JJ (la période que couvre le document)") from None

        undated = 0

        def placed(xs):
            nonlocal undated
            out = []
            for e in xs:
                if e["date"] <= at:
                    c = covered(e)
                    if c is None:
                        undated += 1
                    else:
                        out.append({**e, "date": c})
            return out

        evs, undecided = placed(evs), placed(undecided)
        if undated:
            row["undated"] = undated  # sent without saying which period they cover: not counted
    if getattr(r, "max_gap", None) is not None:
        row.update(_gaps(r, evs, start, end, at))
        return row
    if getattr(r, "before_each", None) is not None:
        row.update(_preceded(r, evs, [e for e in events if e["type"] == r.before_each], start, end, at))
        return row
    wins = []
    warn = getattr(r, "max_severity", "error") == "warning"
    warnings = []
    skip_partial = getattr(r, "partial_windows", "skip") == "skip"
    for ws, we, partial in framed_windows(start, end, r.every):
        if ws > at:
            break
        last = min(we, at)  # an event dated after the report date has not happened yet at that date
        n = sum(1 for e in evs if ws <= e["date"] <= last)
        u = sum(1 for e in undecided if ws <= e["date"] <= last)
        over = r.max is not None and n > r.max
        if over and not warn:
            st = "unmet"  # more than the maximum cannot be undone: failed at once, even before the window ends
        elif r.max is not None and n + u > r.max and not warn:
            st = "unknown"  # over the maximum if the undecided events count: cannot be told
        elif n >= (r.min or 0):
            st = "met"
        elif n + u >= (r.min or 0):
            st = "unknown"  # enough events, but the record does not say whether they meet `where` (attendance)
        elif partial and skip_partial:
            st = "skipped"  # a window cut by the convention's start or end does not require the full minimum
        else:
            # a document placed by the period it covers may still be sent while the operation runs (no calendar)
            st = "unmet" if we < at and (on is None or at > end) else "pending"
        w = {"from": ws, "to": we, "count": n, "status": st}
        if u:
            w["undecided"] = u
        if partial:
            w["partial"] = True
        if over and warn:
            w["severity"] = "warning"
            warnings.append(f"{n} du {ws.isoformat()} au {we.isoformat()}, au-delà du maximum de {r.max} "
                            "(signalé sans être bloquant)")
        wins.append(w)
    row["windows"] = wins
    if warnings:
        row["severity"] = "warning"
        row["warnings"] = warnings
    statuses = {w["status"] for w in wins}
    if statuses & {"unmet", "unknown", "pending", "met"}:
        row["status"] = next(x for x in ("unmet", "unknown", "pending", "met") if x in statuses)
    else:  # no window yet, or only partial ones, which require nothing: met once the operation ended
        row["status"] = "met" if wins and end < at else "pending"
    return row


def _kept(r, evs: list[dict], at: date, fields: tuple[str, ...] = ()) -> tuple[list[dict], list[dict]]:
    """``(kept, undecided)``: the events that ``r.where`` keeps (all without it), and those for which it is unknown
    (a committee whose attendance the record does not give: ``fields``, the event type's declared fields, absent or
    null are unknown); an event that cannot be read does not count."""
    if r.where is None:
        return evs, []
    kept, undecided = [], []
    for e in evs:
        env = {f: unknown(f) for f in fields}
        env.update((k, v) for k, v in e.items() if v is not None)
        env["today"] = at
        try:
            ok = r.where.fn(env, at)
        except Exception:  # noqa: BLE001 - an event that cannot be read does not count
            ok = False
        if ok is True:
            kept.append(e)
        elif isinstance(ok, Unknown):
            undecided.append(e)
    return kept, undecided


def _gaps(r, evs: list[dict], start: date, end: date, at: date) -> dict:
    """``max_gap``: the rhythm read as a longest gap. The gaps run from the convention's start to the first event,
    between consecutive events, and from the last one to the end (or to ``at`` while the operation runs). A gap
    longer than ``max_gap`` is ``unmet`` as soon as it is (it cannot be undone); the open gap up to ``at`` within the
    limit leaves the item ``pending``; ``met`` once the operation ended with every gap within the limit."""
    horizon = min(end, at)
    dates = sorted(e["date"] for e in evs if start <= e["date"] <= horizon)
    marks = [start] + dates + [horizon]
    gaps, late = [], []
    for a, b in zip(marks, marks[1:]):
        limit = add_duration(a, r.max_gap)
        g = {"from": a, "to": b, "days": (b - a).days, "limit": limit,
             "status": "unmet" if b > limit else "met"}
        gaps.append(g)
        if b > limit:
            late.append(g)
    if gaps and horizon < end and gaps[-1]["status"] == "met":
        gaps[-1]["status"] = "pending"  # the open gap: the next event may still come in time
    status = "unmet" if late else "pending" if horizon < end else "met"
    return {"max_gap": r.max_gap, "gaps": gaps, "count": len(dates), "status": status,
            **({"note": f"{len(late)} écart(s) au-delà du délai, le premier du {late[0]['from'].isoformat()} au "
                        f"{late[0]['to'].isoformat()}"} if late else {})}


def _preceded(r, evs: list[dict], anchors: list[dict], start: date, end: date, at: date) -> dict:
    """``before_each``: every anchor event (a committee) held by ``at`` needs its own ``r.event`` (a dashboard) dated
    on or before it and after the previous anchor (the first one: on or after the convention's start). Each anchor
    is ``met`` or ``unmet``; the item is ``unmet`` when one is, else ``met`` once the operation ended, else
    ``pending``."""
    horizon = min(end, at)
    held = sorted(a["date"] for a in anchors if start <= a["date"] <= horizon)
    own = sorted(e["date"] for e in evs if start <= e["date"] <= horizon)
    rows, prev = [], None
    for d in held:
        mine = [x for x in own if (prev is None or x > prev) and x <= d]
        rows.append({"date": d, "preceded_by": mine[-1] if mine else None, "status": "met" if mine else "unmet"})
        prev = d
    missing = [x for x in rows if x["status"] == "unmet"]
    status = "unmet" if missing else "met" if horizon >= end else "pending"
    out = {"before_each": r.before_each, "anchors": rows, "count": len(own), "status": status}
    if missing:
        out["note"] = (f"{len(missing)} sans {r.event} propre avant eux, le premier le "
                       f"{missing[0]['date'].isoformat()}")
    return out
