"""The evaluation date: one rule for what a decision's "today" is when the command line does not say.

Every command (``evaluate``, ``report``, ``diff --records``, ``explain``, ``expr``, ``test``) and the library
functions that run an embedded example take their date from :func:`evaluation_date`: the date given (``--at``), else
the example's own ``at:``, else the current date of the machine. A leaf module: it imports nothing of the engine.
"""

from __future__ import annotations

from datetime import date


def evaluation_date(at: date | None = None, example_at: date | None = None) -> date:
    """The date a decision is taken at: ``at`` when given (``--at``), else ``example_at`` (an embedded example's
    ``at:``), else today."""
    if at is not None:
        return at
    if example_at is not None:
        return example_at
    return date.today()


__all__ = ["evaluation_date"]
