"""The layout of engine/ (docs/architecture.md), read from the source with ``ast``: no import cycle, no import from a
higher subpackage, no ``_private`` name taken from another subpackage, no module over 650 lines, and the command
line read only in engine/cli/. Imports under ``if TYPE_CHECKING:`` are not imports at run time and are not
counted; imports inside functions are (they only hide a cycle or an upward reference, they do not remove it).
There are no allowances: every rule holds for every module.
"""

from __future__ import annotations

import ast
from pathlib import Path

import networkx as nx
import pytest

ENGINE = Path(__file__).resolve().parent.parent / "engine"

# the floor order, lowest first (HELPERS and docs/architecture.md): a module may import its own floor or lower ones
ORDER = [("errors", "codes", "faults", "escape", "fr", "clock"), ("files",), ("expr",), ("spec",), ("beneficiary",), ("operation",),
         ("audit",), ("render",), ("run",), ("examples", "api"), ("server",), ("cli",)]
FLOOR = {name: i for i, names in enumerate(ORDER) for name in names}

# ------------------------------------------------------------------------------------------- the graph

def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ENGINE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(p): p for p in sorted(ENGINE.rglob("*.py"))}
TREES = {m: ast.parse(p.read_text(encoding="utf-8"), str(p)) for m, p in MODULES.items()}


def _resolve(name: str) -> str:
    """The module a dotted name lives in (``engine.expr.runtime.Unknown`` -> ``engine.expr.runtime``)."""
    while name and name not in MODULES:
        name = name.rpartition(".")[0]
    return name


def _type_checking_nodes(tree: ast.AST) -> set[int]:
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            skip.update(id(x) for b in node.body for x in ast.walk(b))
    return skip


def imports(module: str):
    """``(imported module, names taken, line)`` for every run-time import of ``module`` of an engine module."""
    tree = TREES[module]
    skip = _type_checking_nodes(tree)
    for node in ast.walk(tree):
        if id(node) in skip:
            continue
        if isinstance(node, ast.Import):
            for a in node.names:
                if a.name == "engine" or a.name.startswith("engine."):
                    yield _resolve(a.name), (), node.lineno
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]
                for _ in range(node.level - 1):
                    base = base.rpartition(".")[0]
                source = base + ("." + node.module if node.module else "")
            else:
                source = node.module or ""
            if source != "engine" and not source.startswith("engine."):
                continue
            for a in node.names:
                full = f"{source}.{a.name}"
                if full in MODULES:  # `from engine.expr import runtime`: the module itself
                    yield full, (), node.lineno
                else:
                    yield _resolve(source), (a.name,), node.lineno


def floor(module: str) -> int:
    return FLOOR[module.split(".")[1]]


def graph() -> nx.DiGraph:
    g = nx.DiGraph()
    g.add_nodes_from(MODULES)
    for m in MODULES:
        for target, _names, line in imports(m):
            if target not in (m, "engine"):
                g.add_edge(m, target, line=line)
    return g


def test_every_module_has_a_floor():
    assert {m.split(".")[1] for m in MODULES if m != "engine"} <= set(FLOOR), \
        "a new subpackage or top-level module of engine/ needs its place in ORDER (and in docs/architecture.md)"


def test_no_import_cycle():
    g = graph()
    cycles = [c for c in nx.strongly_connected_components(g) if len(c) > 1]
    found = []
    for comp in cycles:
        cycle = nx.find_cycle(g.subgraph(comp))
        found.append(" -> ".join(f"{a} (line {g.edges[a, b]['line']})" for a, b in cycle) + f" -> {cycle[0][0]}")
    assert not found, "import cycles:\n" + "\n".join(found)


def test_no_upward_import():
    bad = []
    for m in MODULES:
        if m == "engine":
            continue
        for target, _names, line in imports(m):
            if target == "engine" or floor(target) <= floor(m):
                continue
            bad.append(f"{MODULES[m].relative_to(ENGINE.parent)}:{line}: {m} imports {target}, on a higher floor")
    assert not bad, "\n".join(bad)


def test_no_private_name_across_subpackages():
    bad = []
    for m in MODULES:
        if m == "engine":
            continue
        for target, names, line in imports(m):
            if target == "engine" or target.split(".")[1] == m.split(".")[1]:
                continue
            for n in names:
                if n.startswith("_") and not n.startswith("__"):
                    bad.append(f"{MODULES[m].relative_to(ENGINE.parent)}:{line}: {m} takes the private {target}.{n}")
    assert not bad, "\n".join(bad)


# ------------------------------------------------------------------------------------------- module size

MAX_LINES = 650  # a module longer than this holds more than one subject: split it along them (docs/architecture.md)


def test_no_module_is_too_long():
    long = {m: n for m, p in MODULES.items() if (n := len(p.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not long, f"modules over {MAX_LINES} lines: " + ", ".join(f"{MODULES[m].relative_to(ENGINE.parent)} ({n})"
                                                                     for m, n in sorted(long.items()))


# ------------------------------------------------------------------------------------------- the command line

def command_line_readers(module: str) -> list[str]:
    """Where ``module`` reads the command line: argparse, ``sys.argv``, a ``Namespace``, or a function taking the
    parsed arguments (a parameter called ``args``)."""
    out = []
    for node in ast.walk(TREES[module]):
        if isinstance(node, ast.Import) and any(a.name == "argparse" for a in node.names):
            out.append(f"{node.lineno}: imports argparse")
        elif isinstance(node, ast.ImportFrom) and node.module == "argparse":
            out.append(f"{node.lineno}: imports from argparse")
        elif isinstance(node, ast.Attribute) and node.attr == "argv" and ast.unparse(node.value) == "sys":
            out.append(f"{node.lineno}: reads sys.argv")
        elif isinstance(node, ast.Name) and node.id == "Namespace":
            out.append(f"{node.lineno}: names a Namespace")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            a = node.args
            params = [p.arg for p in a.posonlyargs + a.args + a.kwonlyargs]
            if "args" in params:
                out.append(f"{node.lineno}: takes the parsed arguments (a parameter `args`)")
    return out


def test_only_the_command_line_reads_arguments():
    bad = [f"{MODULES[m].relative_to(ENGINE.parent)}:{where}" for m in MODULES
           if not m.startswith("engine.cli") for where in command_line_readers(m)]
    assert not bad, "only engine/cli/ reads the command line:\n" + "\n".join(bad)


def test_every_command_has_its_module():
    from engine.cli.main import build_parser

    parser = build_parser()
    subs = next(a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction")
    for name, sub in subs.choices.items():
        handler = sub.get_default("handler")
        assert (ENGINE / "cli" / f"{handler}.py").is_file(), name
        assert any(isinstance(n, ast.FunctionDef) and n.name == "run" for n in TREES[f"engine.cli.{handler}"].body), \
            f"engine/cli/{handler}.py has no run(args)"


# ------------------------------------------------------------------------------------------- the checks check

@pytest.mark.parametrize("source,expected", [
    ("import argparse\n", "imports argparse"),
    ("import sys\nx = sys.argv[1:]\n", "reads sys.argv"),
    ("def run(args):\n    return args.at\n", "takes the parsed arguments"),
    ("def f(ns: 'argparse.Namespace'):\n    pass\n", None),
    ("def f(*args):\n    pass\n", None),
])
def test_the_command_line_scan_sees_what_it_should(source, expected, monkeypatch):
    monkeypatch.setitem(TREES, "engine.render.fake", ast.parse(source))
    found = command_line_readers("engine.render.fake")
    if expected is None:
        assert found == []
    else:
        assert any(expected in f for f in found), found


def test_the_cycle_floor_and_private_checks_see_what_they_should(monkeypatch, tmp_path):
    """A hand-made cycle and an upward import are found by the same functions the tests above use."""
    low, high = tmp_path / "engine" / "spec" / "low.py", tmp_path / "engine" / "render" / "high.py"
    monkeypatch.setitem(MODULES, "engine.spec.low", low)
    monkeypatch.setitem(MODULES, "engine.render.high", high)
    monkeypatch.setitem(TREES, "engine.spec.low", ast.parse("from engine.render.high import thing, _hidden\n"))
    monkeypatch.setitem(TREES, "engine.render.high", ast.parse("def f():\n    import engine.spec.low\n"))
    g = graph()
    assert g.has_edge("engine.spec.low", "engine.render.high") and g.has_edge("engine.render.high", "engine.spec.low")
    assert ["engine.spec.low", "engine.render.high"] in [sorted(c, reverse=True) for c in nx.simple_cycles(g)
                                                         if len(c) == 2]
    assert floor("engine.render.high") > floor("engine.spec.low")
    names = [n for t, ns, _ in imports("engine.spec.low") for n in ns]
    assert names == ["thing", "_hidden"]
