"""Shared test set-up.

The spec fixtures of tests/specs/{compile,examples,graph}/ import their common vocabulary tests/specs/vocab.yaml
with ``../vocab.yaml``: outside their own folder, so tests/specs is added to the import roots (ENGINE_IMPORT_ROOT
adds roots, it never removes the spec's own folder: tests in temporary folders are not affected). The tests of the
import root itself (tests/test_inputs.py) remove it.
"""

from __future__ import annotations

from pathlib import Path

import pytest

SPECS = Path(__file__).resolve().parent / "specs"


@pytest.fixture(autouse=True)
def _fixture_import_root(monkeypatch):
    monkeypatch.setenv("ENGINE_IMPORT_ROOT", str(SPECS))
