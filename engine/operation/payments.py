"""The payment schedule of an operation's grant: tranches (an advance at signature, an installment after the
intermediate review, the balance after the final review), their due dates, amounts and status at a date.

Re-exported by :mod:`engine.operation.funding` (the money of an operation, of which the payments are the last step).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Sequence

from engine.operation.money import ZERO, money, split

TRANCHE_STATUSES = ("scheduled", "due", "awaiting_review", "review_late", "not_due", "recovery")


@dataclass(frozen=True)
class TrancheSpec:
    """A payment tranche: ``share`` of the grant (a maximum for installments and the balance), paid at
    ``signature`` or once a review (``review`` id) is submitted. ``conditional``: the amount depends on the
    commitments being met (installment, balance); the last tranche is the balance."""

    id: str
    label: str | None
    share: Decimal | None
    trigger: str  # "signature" | "review"
    review: str | None = None
    conditional: bool = False


@dataclass(frozen=True)
class ReviewState:
    """A review (intermediate, final) of the operation: when it is due and when it was submitted (None: not yet)."""

    id: str
    label: str | None
    due: date | None
    submitted: date | None = None
    opens: date | None = None  # the first day a submission counts (None: any day)

    def status(self, at: date) -> str:
        """``submitted`` (on time), ``submitted_late``, ``early`` (submitted before it opens: it does not count),
        ``late`` (due date passed, nothing), ``pending``."""
        if self.submitted is not None and self.submitted <= at:
            if self.opens is not None and self.submitted < self.opens:
                return "early"
            if self.due is not None and self.submitted > self.due:
                return "submitted_late"
            return "submitted"
        if self.due is not None and at > self.due:
            return "late"
        return "pending"

    def early_note(self) -> str:
        """The French note of an early submission: « remis trop tôt (avant le 01/01/2027) »."""
        return f"remis trop tôt (avant le {self.opens:%d/%m/%Y})" if self.opens is not None else "remis trop tôt"


@dataclass(frozen=True)
class Tranche:
    """A computed tranche: ``planned`` (share x grant, the maximum), ``amount`` (what is due given the money
    earned; negative for the balance when the operator must pay back part of what was paid), ``due_date`` (signature
    date or review submission date, None while unknown) and ``status`` at the report date."""

    spec: TrancheSpec
    planned: Decimal | None
    amount: Decimal | None
    due_date: date | None
    status: str
    note: str | None = None
    review_due: date | None = None  # the deadline of the review that triggers the tranche


@dataclass(frozen=True)
class Schedule:
    grant: Decimal
    earned: Decimal | None
    tranches: tuple[Tranche, ...]

    @property
    def planned_total(self) -> Decimal | None:
        """The sum of the planned amounts; None when a tranche's share is unknown (a partial sum is not a total)."""
        if any(t.planned is None for t in self.tranches):
            return None
        return sum((t.planned for t in self.tranches), ZERO)  # type: ignore[misc]

    @property
    def total(self) -> Decimal | None:
        if any(t.amount is None for t in self.tranches):
            return None
        return sum((t.amount for t in self.tranches), ZERO)  # type: ignore[misc]

    @property
    def due_at(self) -> Decimal | None:
        """The money due at the report date: tranches whose status is ``due`` (or a recovery); None when one of
        them has no known amount (a partial sum is not what is due)."""
        due = [t for t in self.tranches if t.status in ("due", "recovery")]
        if any(t.amount is None for t in due):
            return None
        return sum((t.amount for t in due), ZERO)  # type: ignore[misc]


def payment_schedule(grant, tranches: Sequence[TrancheSpec], at: date, signature: date | None,
                     reviews: dict[str, ReviewState] | None = None, earned_total=None,
                     earned_unknown: bool = False) -> Schedule:
    """Spread ``grant`` over ``tranches`` and say what is due at ``at``.

    - Planned amounts: ``split(grant, shares)`` (they add up exactly to the grant when the shares add up to 1).
      A tranche without a share (the text gives none) has no planned amount.
    - Amounts: the unconditional tranches (the advance) are their planned amount. Then, with ``earned_total`` (the
      money earned, :func:`conditional_funding`), each conditional tranche but the last is
      ``min(planned, earned - paid before)`` (never below 0), and the last tranche (the balance) is
      ``earned - everything before`` (negative: the operator pays back the difference). So the tranches add up
      exactly to the money earned. Without ``earned_total`` the amounts are the planned amounts, unless
      ``earned_unknown`` (the money earned cannot be computed: missing data): then the conditional tranches and the
      balance are unknown (None).
    - Due date and status: a ``signature`` tranche is due on the signature date (``scheduled`` before);
      a ``review`` tranche is due when its review is submitted (``due``, or ``recovery`` for a negative balance);
      before that ``awaiting_review`` or ``review_late`` when the review's due date has passed.
    """
    g = money(grant)
    reviews = reviews or {}
    shares = [t.share for t in tranches]
    known = [i for i, s in enumerate(shares) if s is not None]
    planned_known = split(g, [shares[i] for i in known]) if known else ()
    planned: list[Decimal | None] = [None] * len(tranches)
    for i, amount in zip(known, planned_known):
        planned[i] = amount
    e = None if earned_total is None else money(earned_total)
    amounts: list[Decimal | None] = list(planned)
    if e is None and earned_unknown:
        amounts = [None if (t.conditional or i == len(tranches) - 1) else a
                   for i, (t, a) in enumerate(zip(tranches, amounts))]
    if e is not None:
        paid = ZERO
        for i, t in enumerate(tranches):
            last = i == len(tranches) - 1
            if not t.conditional and not last:
                a = planned[i]
            elif last:
                a = e - paid
            elif planned[i] is None:
                a = None
            else:
                a = max(ZERO, min(planned[i], e - paid))  # type: ignore[type-var]
            amounts[i] = a
            if a is None:
                # the rest cannot be known
                for j in range(i + 1, len(tranches)):
                    amounts[j] = None
                break
            paid += a
    out = []
    for t, p, a in zip(tranches, planned, amounts):
        note = None
        rv_due = reviews[t.review].due if t.trigger == "review" and t.review in reviews else None
        if t.trigger == "signature":
            due = signature
            if signature is None:
                status = "scheduled"
                note = "date de signature de la convention inconnue"
            else:
                status = "due" if at >= signature else "scheduled"
        else:
            rv = reviews.get(t.review or "")
            if rv is None:
                due, status = None, "awaiting_review"
                note = f"bilan « {t.review} » non renseigné"
            else:
                st = rv.status(at)
                if st in ("submitted", "submitted_late"):
                    due = rv.submitted
                    status = "due"
                    if st == "submitted_late":
                        note = "bilan remis après l'échéance"
                else:
                    due = None
                    # an early review does not count: the tranche waits for one submitted in its window
                    late = st == "late" or (st == "early" and rv.due is not None and at > rv.due)
                    status = "review_late" if late else "awaiting_review"
                    if st == "early":
                        note = f"bilan {rv.early_note()}"
        if status == "due" and a is not None and a < 0:
            status = "recovery"
        if a is not None and a == 0 and status == "due" and t.conditional:
            status = "not_due"
        out.append(Tranche(t, p, a, due, status, note, rv_due))
    return Schedule(g, e, tuple(out))
