"""The operation's convention checked against the text: its start, its end and its length (issue 13, item 2).

A call for projects fixes when conventions may start and end and how long they may last ("24 mois maximum",
"du 1er janvier 2026 au 31 décembre 2027"): the spec's ``convention`` (``start``, ``end``, ``max_duration``). An
operation record gives its own ``convention_start`` and ``convention_end``; ``engine report`` checks them:

- ``start``: not before the spec's start (the earliest date the text allows);
- ``end``: not after the spec's end, and not before the start;
- ``max_duration``: the length (whole months from the start to the day after the end) at most the maximum;
- ``min_duration``: at least the minimum, where the text fixes the length (« fixée à 2 ans, soit du 01/01/2026 au
  31/12/2027 »): a shorter convention is not the one the text describes.

Each check is ``passed``, ``failed`` or ``unknown`` (a date missing), with a French message. Amounts that grow with
the convention's length (a cap of 375 EUR per participant and per month) use the **checked** length: a convention
longer than allowed is reported as failed and counted at the maximum, never rewarded with a bigger cap.
"""

from __future__ import annotations

from datetime import date, timedelta
from typing import Any

from engine.expr.runtime import add_duration, months_between
from engine.fr import fr_date


def check_convention(rule: Any, start: Any, end: Any) -> dict:
    """The ``convention`` section of a report: the operation's dates (``start``, ``end``: dates or None) against the
    spec's convention ``rule`` (:class:`engine.spec.model.Convention`, or None when the spec has none)."""
    start = start if isinstance(start, date) else None
    end = end if isinstance(end, date) else None
    months = months_between(start, end + timedelta(days=1)) if start and end and end >= start else None
    out: dict[str, Any] = {"start": start, "end": end, "months": months, "months_used": months, "checks": []}
    if rule is None:
        out["status"] = "passed" if months is not None else "unknown"
        return out
    src = None
    if getattr(rule, "source", None) is not None:
        src = str(rule.source)
    max_months = rule.max_duration.months if rule.max_duration is not None and not rule.max_duration.days else None
    out["max_months"] = max_months
    checks = out["checks"]

    def add(cid: str, ok: bool | None, message: str) -> None:
        checks.append({"id": cid, "status": "unknown" if ok is None else "passed" if ok else "failed",
                       "message": message, "source": src})

    if rule.start is not None:
        ok = None if start is None else start >= rule.start
        add("start", ok, "date de début inconnue" if start is None else
            f"début le {fr_date(start)}" + ("" if ok else f", avant le {fr_date(rule.start)} que fixe le texte"))
    if start is not None and end is not None and end < start:
        add("order", False, f"fin le {fr_date(end)}, avant le début le {fr_date(start)}")
    if rule.end is not None:
        ok = None if end is None else end <= rule.end
        add("end", ok, "date de fin inconnue" if end is None else
            f"fin le {fr_date(end)}" + ("" if ok else f", après le {fr_date(rule.end)} que fixe le texte"))
    if rule.max_duration is not None:
        if start is None or end is None or end < start:
            add("max_duration", None, "durée inconnue (dates de début et de fin nécessaires)")
        else:
            latest = add_duration(start, rule.max_duration) - timedelta(days=1)
            ok = end <= latest
            length = f"{months} mois" if months is not None else "durée"
            add("max_duration", ok, f"{length} du {fr_date(start)} au {fr_date(end)}" + (
                "" if ok else f" : plus que les {max_months or rule.max_duration} mois permis (fin au plus tard le "
                              f"{fr_date(latest)}) ; les montants qui dépendent de la durée sont comptés sur "
                              f"{max_months} mois"))
            if not ok and max_months is not None and months is not None:
                out["months_used"] = max_months
    if getattr(rule, "min_duration", None) is not None:
        if start is None or end is None or end < start:
            add("min_duration", None, "durée inconnue (dates de début et de fin nécessaires)")
        else:
            earliest = add_duration(start, rule.min_duration) - timedelta(days=1)
            ok = end >= earliest
            length = f"{months} mois" if months is not None else "durée"
            min_months = rule.min_duration.months if not rule.min_duration.days else None
            add("min_duration", ok, f"{length} du {fr_date(start)} au {fr_date(end)}" + (
                "" if ok else f" : moins que les {min_months or rule.min_duration} mois que fixe le texte (fin au "
                              f"plus tôt le {fr_date(earliest)})"))
    statuses = {c["status"] for c in checks}
    out["status"] = "failed" if "failed" in statuses else "unknown" if "unknown" in statuses or months is None \
        else "passed"
    return out


__all__ = ["check_convention"]
