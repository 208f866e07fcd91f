"""Shared test set-up.

The spec fixtures of tests/specs/{compile,examples,graph}/ import their common vocabulary tests/specs/vocab.yaml
with ``../vocab.yaml``: outside their own folder, so tests/specs is added to the import roots (ENGINE_IMPORT_ROOT
adds roots, it never removes the spec's own folder: tests in temporary folders are not affected). The tests of the
import root itself (tests/test_inputs.py) remove it.

Golden files: every test that compares an output with an expected file goes through the ``golden`` fixture.
After an intended change of output, regenerate them with ``python -m pytest --update-goldens`` (or
``UPDATE_GOLDEN=1 python -m pytest``, the same switch) and review the diff by eye before committing.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SPECS = Path(__file__).resolve().parent / "specs"


@pytest.fixture(autouse=True)
def _fixture_import_root(monkeypatch):
    monkeypatch.setenv("ENGINE_IMPORT_ROOT", str(SPECS))


def pytest_addoption(parser):
    parser.addoption("--update-goldens", action="store_true", default=False,
                     help="rewrite the golden files with the current output instead of comparing (review the diff)")


def updating_goldens(config) -> bool:
    """True when the golden files are to be rewritten: ``--update-goldens`` or ``UPDATE_GOLDEN=1``."""
    return bool(config.getoption("--update-goldens") or os.environ.get("UPDATE_GOLDEN"))


class Golden:
    """Compares a text (or bytes) with its golden file, or rewrites the file when updating."""

    def __init__(self, update: bool):
        self.update = update

    def __call__(self, path: Path, got: str | bytes) -> None:
        path = Path(path)
        if self.update:
            path.parent.mkdir(parents=True, exist_ok=True)
            if isinstance(got, bytes):
                path.write_bytes(got)
            else:
                path.write_text(got, encoding="utf-8")
        assert path.exists(), f"missing golden file {path} (run python -m pytest --update-goldens and review it)"
        want = path.read_bytes() if isinstance(got, bytes) else path.read_text(encoding="utf-8")
        assert got == want, f"output differs from the golden file {path} (after an intended change: --update-goldens)"


@pytest.fixture
def golden(request) -> Golden:
    """``golden(path, text)``: assert ``text`` equals the golden file ``path`` (rewritten with --update-goldens)."""
    return Golden(updating_goldens(request.config))
