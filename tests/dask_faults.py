"""Chunk functions that kill the Dask worker running them (os._exit), for tests/test_dask.py: sent to the workers
by value (cloudpickle), so the workers need not import the tests."""

from __future__ import annotations

import os
from pathlib import Path

from engine.run.batch import evaluate_chunk
from engine.run.cohort import part_of_chunk


def _die_once(marker: str, target: int, chunk) -> None:
    """Kills the worker the first time it runs chunk ``target`` (a flag file under ``marker`` remembers it)."""
    flag = Path(marker) / f"killed-{chunk.index}"
    if chunk.index == target and not flag.exists():
        flag.touch()
        os._exit(1)


def kill_once(marker: str, target: int, state: dict, chunk):
    """Kills its worker the first time it runs chunk ``target`` (the scheduler then runs it on another worker)."""
    _die_once(marker, target, chunk)
    return evaluate_chunk(state, chunk)


def kill_always(target: int, state: dict, chunk):
    """Kills every worker that runs chunk ``target``: Dask gives up on it (KilledWorker)."""
    if chunk.index == target:
        os._exit(1)
    return evaluate_chunk(state, chunk)


def part_kill_once(marker: str, target: int, state: dict, chunk):
    """:func:`kill_once` for the parts of a cohort report."""
    _die_once(marker, target, chunk)
    return part_of_chunk(state, chunk)
