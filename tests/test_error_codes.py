"""The registry of diagnostic codes (engine/codes.py) against the source: every code the engine names is
registered, every registered code is named somewhere, and docs/error-codes.md is what the registry gives.

The source is read with ``ast``, not run: a code is a string in a place that holds a code — a ``code=`` keyword,
the default of a ``code`` parameter, the argument a function or class of the engine takes as ``code`` (``_diag``,
``BindError``, ``Problem``...), a ``"code":`` dict entry, an assignment to ``code``, a comparison with ``x.code``,
the ``CODES`` table of the server. An f-string code (``f"record.{kind}"``) must have its prefix in
``engine.codes.COMPOSED``, whose expansions are registered.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

import pytest

from engine.codes import CODES, COMPOSED, SUBJECTS

ROOT = Path(__file__).resolve().parent.parent
ENGINE = ROOT / "engine"
CODE_LIKE = re.compile(r"^[a-z][a-z_0-9]*(\.[a-z][a-z_0-9]*)*$")


def _values(node):
    """(literal codes, composed prefixes) an expression can evaluate to."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}, set()
    if isinstance(node, ast.JoinedStr):
        first = node.values[0] if node.values else None
        prefix = first.value if isinstance(first, ast.Constant) else ""
        return set(), {prefix}
    if isinstance(node, ast.IfExp):
        a, b = _values(node.body), _values(node.orelse)
        return a[0] | b[0], a[1] | b[1]
    if isinstance(node, ast.BoolOp):
        lit, pre = set(), set()
        for v in node.values:
            more = _values(v)
            lit |= more[0]
            pre |= more[1]
        return lit, pre
    return set(), set()


def _callee(call):
    f = call.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else None


def _is_code_ref(node):
    """``x.code``, ``x["code"]``, ``x.get("code")``."""
    if isinstance(node, ast.Attribute) and node.attr == "code":
        return True
    if isinstance(node, ast.Subscript) and isinstance(node.slice, ast.Constant) and node.slice.value == "code":
        return True
    return (isinstance(node, ast.Call) and _callee(node) == "get" and node.args
            and isinstance(node.args[0], ast.Constant) and node.args[0].value == "code")


def scan(root=ENGINE):
    trees = {p: ast.parse(p.read_text(encoding="utf-8"), str(p)) for p in sorted(root.rglob("*.py"))}
    index = {}  # callable name -> positional indexes of its ``code`` parameter
    for tree in trees.values():
        for node in ast.walk(tree):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                names = [a.arg for a in node.args.posonlyargs + node.args.args]
                method = bool(names) and names[0] in ("self", "cls")
                index.setdefault(node.name, set()).add(names.index("code") - method if "code" in names else None)
            elif isinstance(node, ast.ClassDef):
                fields = [s.target.id for s in node.body if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)]
                if "code" in fields:
                    index.setdefault(node.name, set()).add(fields.index("code"))
                elif fields and not any(isinstance(s, ast.FunctionDef) and s.name == "__init__" for s in node.body):
                    index.setdefault(node.name, set()).add(None)
                for s in node.body:
                    if isinstance(s, ast.FunctionDef) and s.name == "__init__":
                        names = [a.arg for a in s.args.args]
                        if "code" in names:
                            index.setdefault(node.name, set()).add(names.index("code") - 1)
    used = {}  # code -> [file:line]
    composed = {}  # prefix -> [file:line]
    def add(node, where, p, dotted=False):
        lit, pre = _values(node)
        lit = {c for c in lit if CODE_LIKE.match(c) and (not dotted or "." in c)}
        for c in lit:
            used.setdefault(c, []).append(f"{p.relative_to(root.parent)}:{where.lineno}")
        for c in pre:
            if not re.match(r"^[a-z][a-z_0-9]*(\.[a-z][a-z_0-9]*)*\.$", c):
                continue
            composed.setdefault(c, []).append(f"{p.relative_to(root.parent)}:{where.lineno}")
    for p, tree in trees.items():
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                for kw in node.keywords:
                    if kw.arg == "code":
                        add(kw.value, node, p)
                # a name defined once (or always with ``code`` at one place) is sure; a name with several
                # signatures (``error``) takes only dotted codes at its candidate places
                where = index.get(_callee(node), set())
                sure = len(where) == 1
                for i in where - {None}:
                    if 0 <= i < len(node.args):
                        add(node.args[i], node, p, dotted=not sure)
                if _callee(node) in ("get", "getattr") and len(node.args) >= 2:
                    key = node.args[-2]
                    if isinstance(key, ast.Constant) and key.value == "code":
                        add(node.args[-1], node, p)
            elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                args = node.args.posonlyargs + node.args.args
                for a, d in zip(args[len(args) - len(node.args.defaults):], node.args.defaults):
                    if a.arg == "code":
                        add(d, node, p)
                for a, d in zip(node.args.kwonlyargs, node.args.kw_defaults):
                    if a.arg == "code" and d is not None:
                        add(d, node, p)
            elif isinstance(node, ast.Dict):
                for k, v in zip(node.keys, node.values):
                    if isinstance(k, ast.Constant) and k.value == "code":
                        add(v, node, p)
            elif isinstance(node, (ast.Assign, ast.AnnAssign)):
                targets = node.targets if isinstance(node, ast.Assign) else [node.target]
                for t in targets:
                    if isinstance(t, ast.Tuple) and isinstance(node.value, ast.Tuple):
                        for te, ve in zip(t.elts, node.value.elts):
                            if isinstance(te, ast.Name) and te.id == "code":
                                add(ve, node, p)
                    name = t.id if isinstance(t, ast.Name) else t.attr if isinstance(t, ast.Attribute) else None
                    if name in ("code", "CODE") and node.value is not None:
                        add(node.value, node, p)
                    if name == "CODES" and isinstance(node.value, ast.Dict):
                        for k in node.value.keys:
                            add(k, node, p)
            elif isinstance(node, ast.Compare):
                sides = [node.left, *node.comparators]
                if any(_is_code_ref(s) for s in sides):
                    for s in sides:
                        add(s, node, p)
                        if isinstance(s, (ast.Tuple, ast.Set, ast.List)):
                            for e in s.elts:
                                add(e, node, p)
    return used, composed


USED, COMPOSED_USED = scan()


def test_every_code_the_source_names_is_registered():
    missing = {c: USED[c][:3] for c in sorted(set(USED) - set(CODES))}
    assert not missing, f"codes used but not in engine/codes.py (add a title, an example and a fix): {missing}"


def test_every_registered_code_is_named_by_the_source():
    composed = {p + s for p, suffixes in COMPOSED.items() for s in suffixes}
    unused = sorted(set(CODES) - set(USED) - composed)
    assert not unused, f"codes in engine/codes.py that no source names (remove them): {unused}"


def test_composed_codes_have_their_prefix_declared():
    assert set(COMPOSED_USED) == set(COMPOSED), (
        f"f-string codes in the source: {COMPOSED_USED}; engine.codes.COMPOSED: {sorted(COMPOSED)}")
    for prefix, suffixes in COMPOSED.items():
        for s in suffixes:
            assert prefix + s in CODES, f"{prefix}{s} is built by an f-string but not registered"


def test_the_scan_finds_codes_in_each_kind_of_place():
    # one witness per kind of place, so that a scanner that stops seeing one is noticed
    assert "engine/expr/parser.py" in " ".join(USED["expr.syntax.brackets"])  # code= keyword
    assert "engine/spec/graph.py" in " ".join(USED["graph.unknown_phase"])  # positional code of _diag
    assert USED["wrong_type"] and USED["guard_failed"]  # BindError(code, ...) and _v(code, ...)
    assert USED["server.time_limit"]  # Problem(status, code, ...) and the server's CODES table
    assert USED["eval.unbound"]  # message, hint, code = ..., ..., "eval.unbound"
    assert USED["expr.type"]  # the default of a ``code`` parameter
    assert "record." in COMPOSED_USED and "operation." in COMPOSED_USED
    # strings that are not codes in the same calls (paths, hints, file names) are not taken for codes
    assert not {"valid_until", "payments", "phases", "index.html"} & set(USED)


@pytest.mark.parametrize("code", sorted(CODES))
def test_each_entry_is_complete_and_french(code):
    entry = CODES[code]
    assert entry.code == code and CODE_LIKE.match(code)
    assert entry.subject in SUBJECTS
    for text in (entry.title, entry.example, entry.fix):
        assert text.strip() and text == text.strip()
    assert (entry.title[0].isupper() or entry.title.startswith("«")) and not entry.title.endswith(".")
    assert entry.fix.endswith((".", ")", "`"))


def test_codes_are_grouped_by_their_prefix():
    for code, entry in CODES.items():
        head = code.split(".")[0]
        if head in SUBJECTS:
            assert entry.subject == head or (head, entry.subject) in {
                ("use", "import"), ("example", "explain"), ("docs", "output")}, code
        if head in ("use", "example", "docs"):
            continue
        if "." in code and head not in SUBJECTS:
            pytest.fail(f"{code}: its prefix {head} is no subject of engine.codes.SUBJECTS")


def test_the_error_codes_page_is_up_to_date():
    r = subprocess.run([sys.executable, str(ROOT / "tools" / "gen_error_codes.py"), "--check"], cwd=ROOT,
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_the_page_lists_each_code_once_with_its_example_and_fix():
    sys.path.insert(0, str(ROOT / "tools"))
    import gen_error_codes

    page = gen_error_codes.render()
    for code, entry in CODES.items():
        assert page.count(f"<a id=\"{code}\"></a>") == 1, code
    assert "### `expr.syntax.brackets`" in page
    section = page.split("### `expr.syntax.brackets`", 1)[1].split("### ", 1)[0]
    assert CODES["expr.syntax.brackets"].title in section
    assert CODES["expr.syntax.brackets"].example in section and CODES["expr.syntax.brackets"].fix in section
    headings = [line for line in page.splitlines() if line.startswith("## ")]
    assert headings == [f"## {SUBJECTS[s][0]}" for s in SUBJECTS if any(e.subject == s for e in CODES.values())]
