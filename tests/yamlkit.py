"""YAML for the tests, read the way the engine reads it.

``read_yaml`` reads with the engine's own loader (:func:`engine.spec.yaml_safe.load_yaml`: YAML 1.2 core schema,
``on``/``yes`` stay text, dates stay ISO text, decimals are ``Decimal``), never with PyYAML's YAML 1.1 rules, so a
test sees a file as ``engine check`` does. ``yaml_text`` writes a document back (as JSON, which is YAML 1.2) for
tests that mutate a spec and load the result; ``dump_yaml`` writes real YAML text (block or flow style, line width)
for tests that re-spell a document. Tests never read YAML with PyYAML: only this writer uses its emitter.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from engine.spec.yaml_safe import load_yaml


def plain(value: Any) -> Any:
    """A loaded document as plain dicts and lists (positions dropped); decimals as floats."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() and "." not in str(value) else float(value)
    return value


def read_yaml(path: str | Path) -> dict:
    """The mapping of a YAML file as the engine reads it, as plain values."""
    return plain(load_yaml(path))


def yaml_text(doc: Any) -> str:
    """YAML text (JSON, a subset of YAML 1.2) of a plain document; the engine reads back the same values."""
    return json.dumps(plain(doc), ensure_ascii=False, indent=1)


class _Dumper(yaml.SafeDumper):
    pass


_Dumper.add_representer(Decimal, lambda d, v: d.represent_scalar("tag:yaml.org,2002:float", str(v)))


def dump_yaml(doc: Any, *, flow: bool | None = False, width: int = 80) -> str:
    """YAML text of a document (decimals as numbers, keys in order): block style, flow style (``flow=True``) or
    PyYAML's mix (``None``), lines folded at ``width``."""
    return yaml.dump(doc, Dumper=_Dumper, allow_unicode=True, sort_keys=False, default_flow_style=flow, width=width)
