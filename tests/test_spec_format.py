"""One source of truth for the spec format: the JSON Schema and the compilers do not drift.

Every spec and vocabulary of ``specs/`` and every YAML fixture under ``tests/`` that passes the schema is loaded and
compiled while the mappings the engine reads from record each key asked for (``m[k]``, ``m.get(k)``, ``k in m``).
Beside it, the schema is walked down each document (``$ref``, ``allOf``, ``if``/``then``/``else`` and the branches
of ``anyOf``/``oneOf`` the value satisfies), which gives, for each mapping of the files, the schema objects that
describe it. Then:

* every key the compilers read in a mapping is a property of one of its schema objects (or of a branch of the same
  union: a rule probes ``all``/``any``/``not`` before it knows which kind it is);
* every property of the schema is read by the loader or the compilers, except the texts a human reads (labels,
  sources, interpretations...), which the diff reads from the document as wording
  (:data:`engine.audit.normal_form.NON_SEMANTIC_KEYS`) and ``engine check`` checks (sources);
* every object of the schema describes at least one mapping of the corpus (else the two checks above could not
  see it: add a fixture that uses it, e.g. in ``tests/specs/schema/shapes.yaml``).

Nothing here is a list to keep by hand: a key added to the schema and forgotten by the compiler (or the reverse)
fails with its schema path. The same file checks that the editor schema (the JSON Schema alone on the file as
written, as yaml-language-server applies it) and ``engine check`` agree.
"""

from __future__ import annotations

import re
from collections import defaultdict
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from engine.audit.normal_form import NON_SEMANTIC_KEYS
from engine.errors import SpecError
from engine.spec.compile import compile_spec
from engine.spec.loader import load_document
from engine.spec.schema import schema, validate
from engine.spec.yaml_safe import YList, YMap, load_yaml
from yamlkit import read_yaml

REPO = Path(__file__).resolve().parent.parent
SHIPPED = sorted((REPO / "specs").glob("*.yaml"))
CORPUS = SHIPPED + sorted((REPO / "tests").rglob("*.yaml"))
ROOT = schema()
VALIDATOR = Draft202012Validator(ROOT, format_checker=Draft202012Validator.FORMAT_CHECKER)


# ------------------------------------------------------------------------------------------- the schema, walked

def _resolve(ref: str) -> dict:
    node = ROOT
    for part in ref.lstrip("#/").split("/"):
        node = node[part]
    return node


def _valid(sub: dict, value) -> bool:
    return VALIDATOR.evolve(schema=sub).is_valid(value)


def _applicable(node, value) -> list[dict]:
    """The schema objects that apply to ``value`` under ``node``: refs followed, ``allOf`` members, the branch of an
    ``if`` the value selects, the ``anyOf``/``oneOf`` branches it satisfies."""
    out: list[dict] = []
    todo = [node]
    while todo:
        n = todo.pop()
        if not isinstance(n, dict) or any(n is o for o in out):
            continue
        out.append(n)
        if "$ref" in n:
            todo.append(_resolve(n["$ref"]))
        todo.extend(n.get("allOf", []))
        if "if" in n:
            branch = n.get("then") if _valid(n["if"], value) else n.get("else")
            if branch is not None:
                todo.append(branch)
        for kw in ("anyOf", "oneOf"):
            todo.extend(b for b in n.get(kw, []) if _valid(b, value))
    return out


def _union(nodes: list[dict]) -> list[dict]:
    """Every branch of the unions among ``nodes``, taken or not (the keys a reader may probe to tell them apart)."""
    out: list[dict] = []
    todo = list(nodes)
    while todo:
        n = todo.pop()
        if not isinstance(n, dict) or any(n is o for o in out):
            continue
        out.append(n)
        if "$ref" in n:
            todo.append(_resolve(n["$ref"]))
        todo.extend(n[k] for k in ("then", "else") if k in n)
        for kw in ("anyOf", "oneOf", "allOf"):
            todo.extend(n.get(kw, []))
    return out


def _children(nodes: list[dict], key: str) -> list:
    out = []
    for n in nodes:
        props = n.get("properties") or {}
        if key in props:
            out.append(props[key])
            continue
        pattern = [sub for pat, sub in (n.get("patternProperties") or {}).items() if re.search(pat, key)]
        out.extend(pattern)
        if not pattern and isinstance(n.get("additionalProperties"), dict):
            out.append(n["additionalProperties"])
    return out


def _where(m) -> tuple:
    return (m.pos.file, m.pos.line, m.pos.col)


class SchemaMap:
    """For each mapping of the walked documents (by position): the schema objects describing it, and its unions."""

    def __init__(self):
        self.at: dict[tuple, list[dict]] = defaultdict(list)
        self.union_at: dict[tuple, list[dict]] = defaultdict(list)

    def walk(self, nodes: list[dict], value) -> None:
        if isinstance(value, dict):
            here, union = self.at[_where(value)], self.union_at[_where(value)]
            here.extend(n for n in nodes if not any(n is o for o in here))
            union.extend(n for n in _union(nodes) if not any(n is o for o in union))
            for k in dict.keys(value):
                v = dict.__getitem__(value, k)
                self.walk([a for c in _children(nodes, k) for a in _applicable(c, v)], v)
        elif isinstance(value, list):
            for v in value:
                self.walk([a for n in nodes if isinstance(n.get("items"), dict) for a in _applicable(n["items"], v)],
                          v)

    def document(self, data) -> None:
        self.walk(_applicable(ROOT, data), data)


def _pointers() -> dict[int, str]:
    out: dict[int, str] = {}

    def index(n, p):
        if isinstance(n, dict):
            out.setdefault(id(n), p)
            for k, v in n.items():
                index(v, f"{p}/{k}")
        elif isinstance(n, list):
            for i, v in enumerate(n):
                index(v, f"{p}/{i}")

    index(ROOT, "#")
    return out


def _schema_objects() -> list[tuple[dict, str]]:
    """Every object of the schema that declares properties, with its path (conditions of an ``if`` excluded: they
    test a value, they describe nothing)."""
    ptr = _pointers()
    out = []

    def visit(n, under_if: bool):
        if isinstance(n, dict):
            if isinstance(n.get("properties"), dict) and not under_if:
                out.append((n, ptr[id(n)]))
            for k, v in n.items():
                visit(v, under_if or k == "if")
        elif isinstance(n, list):
            for v in n:
                visit(v, under_if)

    visit(ROOT, False)
    return out


# ------------------------------------------------------------------------------------------- the reads, recorded

class Reads:
    """Records the keys asked of every YMap while active: ``m[k]``, ``m.get(k)``, ``k in m``."""

    def __init__(self):
        self.keys: set[tuple[tuple, str]] = set()
        self.active = False

    def __enter__(self):
        self._saved = (YMap.__getitem__, YMap.get, YMap.__contains__)
        getitem, get, contains = self._saved
        reads = self

        def _getitem(m, k):
            if reads.active:
                reads.keys.add((_where(m), k))
            return getitem(m, k)

        def _get(m, k, default=None):
            if reads.active:
                reads.keys.add((_where(m), k))
            return get(m, k, default)

        def _contains(m, k):
            if reads.active:
                reads.keys.add((_where(m), k))
            return contains(m, k)

        YMap.__getitem__, YMap.get, YMap.__contains__ = _getitem, _get, _contains
        return self

    def __exit__(self, *exc):
        YMap.__getitem__, YMap.get, YMap.__contains__ = self._saved
        self.active = False


class Corpus:
    def __init__(self):
        self.files: list[str] = []
        self.compiled: set = set()  # keys read by the compilers
        self.loaded: set = set()  # keys read by the loader (kind, imports, use...)
        self.schema = SchemaMap()


@pytest.fixture(scope="module")
def corpus(monkeypatch_module) -> Corpus:
    monkeypatch_module.setenv("ENGINE_IMPORT_ROOT", str(REPO / "tests" / "specs"))  # as conftest.py, for this scope
    out = Corpus()
    walked: set[str] = set()
    for path in CORPUS:  # each file its own recorder: a file that fails leaves nothing behind
        with Reads() as reads:
            reads.active = True
            try:
                doc = load_document(path, cache={})
            except SpecError:
                continue
            finally:
                reads.active = False
            loaded = set(reads.keys)
            if any(d.severity == "error" for sub in doc.all_documents() for d in validate(sub)):
                continue
            reads.keys = set()
            reads.active = True
            if doc.kind == "spec":
                try:
                    compile_spec(doc)  # a fixture with compile errors is read through all the same
                except SpecError:
                    pass
            reads.active = False
        out.files.append(str(path))
        out.loaded |= loaded
        out.compiled |= reads.keys
        for sub in doc.all_documents():
            if sub.path not in walked:
                walked.add(sub.path)
                out.schema.document(load_yaml(sub.path))  # as written (the use: sites)
            out.schema.document(sub.data)  # expanded (what the compilers read)
    return out


@pytest.fixture(scope="module")
def monkeypatch_module():
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


def test_the_corpus_is_the_shipped_specs_and_the_valid_fixtures(corpus):
    assert {str(p) for p in SHIPPED} <= set(corpus.files)
    assert len(corpus.files) > len(SHIPPED) + 10, corpus.files


def test_every_key_the_compilers_read_is_in_the_schema(corpus):
    ptr = _pointers()
    missing: dict[str, dict[str, str]] = defaultdict(dict)
    for where, key in sorted(corpus.compiled, key=str):
        nodes = [n for n in corpus.schema.at.get(where, []) if "properties" in n]
        if not nodes:
            continue  # a mapping of names (phases, attributes...) or of free data (an example's record)
        known = {k for n in corpus.schema.union_at[where] for k in (n.get("properties") or {})}
        if key not in known:
            missing[" + ".join(sorted(ptr[id(n)] for n in nodes))].setdefault(key, ":".join(map(str, where)))
    assert not missing, "keys read by the compilers that the schema does not declare:\n" + "\n".join(
        f"  {where}: " + ", ".join(f"{k} (e.g. read at {at})" for k, at in sorted(keys.items()))
        for where, keys in sorted(missing.items()))


def test_every_schema_key_is_read(corpus):
    read: set[tuple[int, str]] = set()
    for where, key in corpus.compiled | corpus.loaded:
        for n in corpus.schema.at.get(where, []):
            if key in (n.get("properties") or {}):
                read.add((id(n), key))
    unread = [f"  {path}: {key}" for n, path in _schema_objects() for key in n["properties"]
              if (id(n), key) not in read and key not in NON_SEMANTIC_KEYS]
    assert not unread, ("schema properties no compiler reads (the engine would ignore what a spec writes there: "
                        "read them, or take them out of the schema):\n" + "\n".join(unread))


def test_every_schema_object_describes_something_in_the_corpus(corpus):
    seen = {id(n) for nodes in corpus.schema.at.values() for n in nodes}
    never = [path for n, path in _schema_objects() if id(n) not in seen]
    assert not never, ("schema objects no spec or fixture uses (so the checks above cannot see them): add a fixture "
                       "that does, e.g. in tests/specs/schema/shapes.yaml:\n  " + "\n  ".join(never))


# ------------------------------------------------------------------------------------------- editor and check agree

def _editor_errors(path: Path) -> list:
    """The JSON Schema alone on the file as written (what yaml-language-server shows in an editor)."""
    return list(VALIDATOR.iter_errors(read_yaml(path)))


@pytest.mark.parametrize("path", SHIPPED, ids=lambda p: p.name)
def test_shipped_spec_is_valid_for_the_editor_schema(path):
    errors = _editor_errors(path)
    assert not errors, "\n".join(f"{path.name}: {list(e.absolute_path)}: {e.message}" for e in errors)


def _lines_of_error(path: Path, err) -> set[int]:
    """The lines an error of the editor schema is about: its node's, and for a mapping each of its keys' (an
    unknown key is reported on its own line)."""
    node = load_yaml(path)
    parent = None
    for key in err.absolute_path:
        parent, node = node, node[key]
    if isinstance(node, YMap):
        return {node.pos.line} | {node.key_pos(k).line for k in node}
    if isinstance(node, YList):
        return {node.pos.line}
    last = list(err.absolute_path)[-1]
    return {parent.key_pos(last).line if isinstance(parent, YMap) else parent.item_pos(last).line}


def test_every_editor_error_is_a_check_error():
    """Each error the editor schema shows in a file is also reported by ``engine check`` on that line (check sees
    more: the shared blocks expanded, the expressions, the phase graph)."""
    disagree = []
    for path in CORPUS:
        try:
            data = read_yaml(path)
        except SpecError:
            continue
        if not isinstance(data, dict):
            continue
        editor = _editor_errors(path)
        if not editor:
            continue
        try:
            doc = load_document(path, cache={})
        except SpecError as e:
            found = e.diagnostics
        else:
            found = [d for sub in doc.all_documents() for d in validate(sub)]
        lines = {d.line for d in found if d.file and Path(d.file).resolve() == path.resolve()}
        for err in editor:
            about = _lines_of_error(path, err)
            if not about & lines:
                disagree.append(f"{path.relative_to(REPO)}:{min(about)}: {err.message}")
    assert not disagree, "the editor schema reports errors engine check does not:\n" + "\n".join(disagree)


VOCAB = """kind: vocabulary
id: voc
shared:
  share_40:
    label: Part du Département (40 %)
    share: 40%
    source: "10-clauses-sociales.txt:93"
"""

SPEC = """id: demo
version: "1"
title: Démo
imports: [voc.yaml]
funding:
  department_share:
    use: share_40
    label: Part du Département{extra}
"""


@pytest.mark.parametrize("extra, errors", [
    ("", ["funding.department_share : clé « source » manquante"]),
    ('\n    source: "01-dynamisation-des-parcours.txt:126"', []),
], ids=["use without its own source", "use with its source"])
def test_a_funding_rule_using_a_shared_block_cites_its_own_source(tmp_path, extra, errors):
    """specs/README.md: every rule has a source, and a spec cites its own line for a shared rule. The schema asks
    for `source` beside `use:` in funding; check says so too (it once accepted the block's, the editor did not)."""
    (tmp_path / "voc.yaml").write_text(VOCAB, encoding="utf-8")
    spec = tmp_path / "demo.yaml"
    spec.write_text(SPEC.format(extra=extra), encoding="utf-8")
    found = validate(load_document(spec, cache={}))
    assert [d.message for d in found] == errors
    assert [(d.line, d.col) for d in found] == [(6, 3)] * len(errors)
    assert bool(_editor_errors(spec)) == bool(errors)


@pytest.mark.parametrize("declared, expr, error", [
    ("boolean", "rsa", None),
    ("boolean", "age(birth_date, today)", "il faut une condition oui/non"),
    ("number", "age(birth_date, today) + 1", None),
    ("date", "rsa", "il faut une date"),
])
def test_a_definition_type_is_checked(tmp_path, declared, expr, error):
    """`definitions.NAME.type` is the type the expression must have: the compiler checks it."""
    spec = tmp_path / "demo.yaml"
    spec.write_text(f"""id: demo
version: "1"
title: Démo
inputs:
  attributes:
    rsa: {{type: boolean, label: BRSA}}
    birth_date: {{type: date, label: Date de naissance}}
definitions:
  d:
    expr: "{expr}"
    type: {declared}
    label: Définition
""", encoding="utf-8")
    doc = load_document(spec, cache={})
    assert validate(doc) == []
    if error is None:
        assert "d" in compile_spec(doc).definitions
        return
    with pytest.raises(SpecError) as e:
        compile_spec(doc)
    assert [d.line for d in e.value.diagnostics] == [10]
    assert error in e.value.diagnostics[0].message
