"""The money impact of a spec change on one operation: its report built under both versions, amounts compared.

``engine diff OLD NEW --operation OP.json --records COHORT.jsonl [--at D]`` builds the operation report
(:func:`engine.operation.report.build_report`) of the same operation and cohort under the old and the new spec, and
lists every amount that a finance officer acts on, before and after, to the cent:

- the funding plan: eligible costs, the maximum grant, the grant retained, each cap;
- the funding due: each conditional part and the total;
- the payments: each tranche's amount (and its status when it changes).

An amount present in one version only (a part added or removed) has ``None`` on the other side. The comparison is
exact (``Decimal``); ``delta`` is ``new - old`` when both exist.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Mapping

CENT = Decimal("0.01")


@dataclass(frozen=True)
class Amount:
    """One amount of the operation under both versions."""

    section: str  # funding_plan | funding | payment
    id: str
    label: str | None
    old: Decimal | None
    new: Decimal | None
    old_status: str | None = None
    new_status: str | None = None

    @property
    def delta(self) -> Decimal | None:
        return None if self.old is None or self.new is None else self.new - self.old

    @property
    def changed(self) -> bool:
        return self.old != self.new or self.old_status != self.new_status

    def to_json(self) -> dict:
        d = {"section": self.section, "id": self.id, "label": self.label, "old": _money(self.old),
             "new": _money(self.new), "delta": _money(self.delta)}
        if self.old_status is not None or self.new_status is not None:
            d["old_status"], d["new_status"] = self.old_status, self.new_status
        return d


@dataclass(frozen=True)
class MoneyImpact:
    operation: str
    at: date
    amounts: tuple[Amount, ...]

    @property
    def changed(self) -> tuple[Amount, ...]:
        return tuple(a for a in self.amounts if a.changed)

    def to_json(self) -> dict:
        return {"operation": self.operation, "at": self.at.isoformat(), "changed": len(self.changed),
                "amounts": [a.to_json() for a in self.amounts]}


def _money(v: Decimal | None) -> float | None:
    return None if v is None else float(v.quantize(CENT))


def _dec(v: Any) -> Decimal | None:
    if v is None or isinstance(v, bool):
        return None
    return v if isinstance(v, Decimal) else Decimal(str(v))


def report_amounts(report: Mapping[str, Any]) -> dict[tuple[str, str], tuple[str | None, Decimal | None, str | None]]:
    """``(section, id) -> (label, amount, status)`` of every amount of one report, in report order."""
    out: dict = {}
    fp = report.get("funding_plan") or {}
    for key, label in (("eligible_costs", "Coûts éligibles"), ("max_grant", "Subvention maximale"),
                       ("grant", "Subvention retenue")):
        if key in fp:
            out[("funding_plan", key)] = (label, _dec(fp.get(key)), None)
    for c in fp.get("caps") or ():
        out[("funding_plan", f"cap.{c['id']}")] = (c.get("label"), _dec(c.get("amount")), None)
    funding = report.get("funding") or {}
    for p in funding.get("parts") or ():
        out[("funding", p["id"])] = (p.get("label"), _dec(p.get("amount")), None)
    if "total" in funding:
        out[("funding", "total")] = ("Total dû", _dec(funding.get("total")), None)
    for t in (report.get("payments") or {}).get("tranches") or ():
        out[("payment", t["id"])] = (t.get("label"), _dec(t.get("amount")), t.get("status"))
    return out


def compare_reports(old: Mapping[str, Any], new: Mapping[str, Any]) -> tuple[Amount, ...]:
    """Every amount of either report, old order first, then the amounts only the new one has."""
    a, b = report_amounts(old), report_amounts(new)
    rows = []
    for key in list(a) + [k for k in b if k not in a]:
        la, va, sa = a.get(key, (None, None, None))
        lb, vb, sb = b.get(key, (None, None, None))
        rows.append(Amount(key[0], key[1], lb or la, va, vb, sa, sb))
    return tuple(rows)


def money_impact(old_spec, new_spec, operation: dict, cohort_path: str, at: date,
                 params: Mapping[str, Any] | None = None) -> MoneyImpact:
    """The reports of ``operation`` with the cohort file ``cohort_path`` under both specs, compared."""
    from engine.beneficiary.records import read_records
    from engine.operation.report import build_report

    old = build_report(old_spec, operation, read_records(cohort_path), at, params)
    new = build_report(new_spec, operation, read_records(cohort_path), at, params)
    return MoneyImpact(str(operation.get("id") or ""), at, compare_reports(old, new))


__all__ = ["Amount", "MoneyImpact", "compare_reports", "money_impact", "report_amounts"]
