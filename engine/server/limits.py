"""What one request to the HTTP API may cost (``engine serve --max-body-bytes/--max-records/--max-seconds``)."""

from __future__ import annotations

from dataclasses import dataclass

MIB = 1024 * 1024


@dataclass(frozen=True)
class Limits:
    """What one request may cost: its body (bytes), its records (evaluate; the cohort of report), its time
    (seconds; past it the answer is a 503 ``server.time_limit`` and the work stops at the next record)."""

    max_body_bytes: int = 10 * MIB
    max_records: int = 10_000
    max_seconds: float = 30.0
