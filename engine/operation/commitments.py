"""Commitments over the whole operation (``reporting`` items with ``over: convention``, 03:76).

A commitment's condition is evaluated at the report date, but it speaks of the whole convention: its status says
whether it is settled yet. How it settles depends on the shape of the condition (:func:`settles`), read once when
the spec is compiled:

- ``at_least`` -- a cumulative quantity (a count, a sum, an operation attribute that counts what was held or done)
  against a bound fixed for the operation (``follow_up_committees_held >= 3``): what has been done stays done, so
  the commitment is ``met`` as soon as the condition holds; while it does not, it is ``pending`` until the end,
  ``failed`` once the convention has ended, or earlier when the item's ``reachable:`` condition (the target can
  still be reached in the remaining time) is false;
- ``at_most`` -- the same quantity kept under a bound (``count(... missed) == 0``, ``x <= 4``): a bound passed cannot
  be undone, so the commitment is ``failed`` as soon as the condition is false, ``pending`` while it holds and the
  convention runs, ``met`` once it has ended with the condition true;
- ``at_end`` -- anything else (a rate, two quantities that both grow, a plain yes/no attribute): the value at the
  report date can still change either way, so the commitment cannot be judged before the end: ``pending`` (the
  note says how it stands today) until the convention ends, then ``met`` or ``failed``; ``reachable:`` still gives an
  early ``failed``.

An unknown condition is ``unknown`` whatever the shape. The bound side of ``at_least``/``at_most`` may only read
numbers, parameters and the operation's fixed figures; a quantity compared with another quantity that grows
(``dashboards_sent >= follow_up_committees_held``) or with a share of the cohort (``<= 20% * count(participants)``)
is ``at_end``.
"""

from __future__ import annotations

from datetime import date

from engine.expr import nodes as N
from engine.expr.types import ALIASES

SETTLES = ("at_least", "at_most", "at_end")

# operation figures fixed by the convention: a bound may read them (the places, posts, FTE, dates, money)
FIXED_NAMES = frozenset({"places", "posts", "fte", "full_time_posts", "dsp_places", "convention_months",
                         "direct_staff_costs", "eligible_costs", "flat_rate_costs", "other_costs", "max_grant",
                         "grant", "grant_awarded", "total_funding", "department_funding"})


def settles(tree, counts=frozenset(), parameters=frozenset(), fixed=FIXED_NAMES) -> str:
    """How a commitment with condition ``tree`` (an expression tree of :mod:`engine.expr.nodes`) settles before the
    end of the convention: ``at_least``, ``at_most`` or ``at_end`` (see the module docstring). ``counts``: the names
    in scope that count what was held or done (the operation's integer attributes; an indicator, a score or an
    amount is not one of them); ``parameters``: the spec's parameters (fixed, like ``fixed``)."""
    if not isinstance(tree, N.Compare) or tree.op not in (">=", ">", "<=", "<", "=="):
        return "at_end"
    left, right, op = tree.left, tree.right, tree.op
    fixed_names = set(fixed) | set(parameters)
    counts = set(counts) - fixed_names
    if _is_bound(left, fixed_names) and not _is_bound(right, fixed_names):  # 3 <= x reads as x >= 3
        left, right = right, left
        op = {">=": "<=", ">": "<", "<=": ">=", "<": ">", "==": "=="}[op]
    if not (_cumulative(left, counts) and _is_bound(right, fixed_names)):
        return "at_end"
    if op in (">=", ">"):
        return "at_least"
    if op in ("<=", "<"):
        return "at_most"
    return "at_most" if _is_zero(right) else "at_end"  # x == 0: kept at zero; x == 5 can be passed or not reached


def _is_zero(n) -> bool:
    return isinstance(n, N.Number) and n.value == 0


def _is_bound(n, fixed_names) -> bool:
    """Numbers, parameters and fixed operation figures, combined by arithmetic: nothing that moves during the
    operation, no aggregate over the cohort."""
    if isinstance(n, N.Number):
        return True
    if isinstance(n, N.Name):
        return n.name in fixed_names
    if isinstance(n, (N.Arith, N.Neg)):
        return all(_is_bound(c, fixed_names) for c in n.children())
    return False


def _cumulative(n, counts) -> bool:
    """A quantity that only grows while the operation runs: a count or a sum over the cohort or a list, an operation
    attribute that counts (what was held or done: ``follow_up_committees_held``, an integer), or a sum of those; never a division, an
    average, a minimum or a maximum (they can go down)."""
    if isinstance(n, N.Name):
        return n.name in counts
    if isinstance(n, N.Call):
        return ALIASES.get(n.func, n.func) in ("count", "sum") and len(n.args) == 1
    if isinstance(n, N.Arith):
        return all(op == "+" for op in n.ops) and all(_cumulative(c, counts) for c in n.operands)
    return False


def settle(row: dict, kind: str, end, at: date, reachable=None) -> None:
    """Give ``row`` (a reporting check: its ``status`` is ``passed``/``failed``/``unknown`` at ``at``) the status of a
    commitment over the convention ending on ``end`` (a date, or None when unknown), with a French note.
    ``reachable`` is the value of the item's ``reachable:`` condition (None when it has none)."""
    st = row["status"]
    row["over"] = "convention"
    row["settles"] = kind
    if st not in ("passed", "failed"):
        return  # unknown stays unknown
    ended = isinstance(end, date) and at > end
    holds = st == "passed"
    end_text = end.isoformat() if isinstance(end, date) else None
    if ended:
        row["status"] = "met" if holds else "failed"
        if not holds:
            row["note"] = f"convention terminée le {end_text} sans que l'engagement soit tenu"
        return
    if holds and kind == "at_least":
        row["status"] = "met"
        return
    if not holds and kind == "at_most":
        row["status"] = "failed"
        row["note"] = ("limite dépassée avant la fin de la convention : ce qui est fait ne se défait pas, "
                       "l'engagement ne peut plus être tenu")
        return
    if not holds and reachable is False:
        row["status"] = "failed"
        row["note"] = ("non atteint, et le temps qui reste avant la fin de la convention ne permet plus de l'atteindre "
                       "(condition « reachable » fausse)")
        return
    row["status"] = "pending"
    until = f"la convention court jusqu'au {end_text}" if end_text else "date de fin de la convention inconnue"
    if holds:
        row["note"] = f"tenu à ce jour, acquis seulement à la fin ; {until}"
    elif kind == "at_end":
        row["note"] = f"pas tenu à ce jour, jugé à la fin (la valeur peut encore changer) ; {until}"
    else:
        row["note"] = f"pas encore atteint ; {until}"
