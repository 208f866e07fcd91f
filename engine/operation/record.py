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

_RESERVED = ("id", "spec", "staff", "financing", "events")


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
        raise _bad(f"{what} : un nombre est attendu, pas {v!r}", "operation.number")
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
        out.append(F.StaffMember(str(s.get("id") or f"S{i + 1}"), s.get("role"), _dec(s["cost"], f"staff[{i}].cost"),
                                 alloc, wt, sf))
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
    if every is None:
        return [(start, end)]
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
            out.append((max(s, start), min(nxt - timedelta(days=1), end)))
            s = nxt
        return out
    s = start
    k = 1
    while s <= end and len(out) < 10_000:
        nxt = add_duration(start, every.scaled(k))
        if nxt <= s:
            break
        out.append((s, min(nxt - timedelta(days=1), end)))
        s = nxt
        k += 1
    return out


def recurring(r, events: list[dict], start, end, at: date) -> dict:
    """Events of type ``r.event`` (filtered by ``r.where``) counted per window; each window is ``met`` (count within
    [min, max]), ``unmet`` (ended with too few, or too many), ``pending`` (not ended, not enough yet); windows that
    start after ``at`` are not listed."""
    row: dict[str, Any] = {"id": r.id, "label": r.label, "event": r.event, "min": r.min, "max": r.max,
                           "source": _src(r.source)}
    if not isinstance(start, date) or not isinstance(end, date):
        row.update(status="unknown", note="dates de la convention inconnues")
        return row
    evs = [e for e in events if e["type"] == r.event]
    if r.where is not None:
        kept = []
        for e in evs:
            try:
                ok = r.where.fn({**e, "today": at}, at)
            except Exception:  # noqa: BLE001 - an event that cannot be read does not count
                ok = False
            if ok is True:
                kept.append(e)
        evs = kept
    wins = []
    warn = getattr(r, "max_severity", "error") == "warning"
    warnings = []
    for ws, we in windows(start, end, r.every):
        if ws > at:
            break
        n = sum(1 for e in evs if ws <= e["date"] <= we)
        over = r.max is not None and n > r.max
        if over and not warn:
            st = "unmet"  # more than the maximum cannot be undone: failed at once, even before the window ends
        elif n >= (r.min or 0):
            st = "met"
        else:
            st = "unmet" if we < at else "pending"
        w = {"from": ws, "to": we, "count": n, "status": st}
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
    row["status"] = ("unmet" if "unmet" in statuses else "pending" if "pending" in statuses
                     else "met" if wins else "pending")
    return row
