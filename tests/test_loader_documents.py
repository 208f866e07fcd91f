"""Documents: imports (relative paths, missing, cycles, non-vocabulary), merged vocabulary, `use:` blocks."""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.errors import SpecError
from engine.spec.loader import Document, diag_at, load_document

VOCAB = """\
kind: vocabulary
id: common
attributes:
  rsa: {type: boolean, label: BRSA}
events:
  appointment: {label: Rendez-vous, fields: {}}
shared:
  session_2026:
    id: session_1
    label: 1ère session
    opens: 2026-01-12
    closes: 2026-02-15
    source: "01-dynamisation-des-parcours.txt:116"
  payments_30_70:
    - {id: advance, share: 30%}
    - {id: balance, share: 70%}
  nested:
    id: n
    inner: {use: session_2026}
  loop_a: {use: loop_b}
  loop_b: {use: loop_a}
"""


def write(tmp_path: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        p = tmp_path / name
        p.parent.mkdir(parents=True, exist_ok=True)
        p.write_text(text, encoding="utf-8")


def errors_of(path) -> list:
    with pytest.raises(SpecError) as ei:
        load_document(path)
    return ei.value.diagnostics


def test_imports_relative_to_the_importing_file_and_use_blocks(tmp_path, monkeypatch):
    monkeypatch.setenv("ENGINE_IMPORT_ROOT", str(tmp_path))  # ../voc is outside the spec's own folder
    write(tmp_path, {"voc/common.yaml": VOCAB, "specs/s.yaml": """\
id: s
imports: [../voc/common.yaml]
sessions:
  - {use: session_2026, source: "02-accompagnement-social-professionnel-intensif.txt:102"}
payments: {use: payments_30_70}
nested: {use: nested}
"""})
    doc = load_document(tmp_path / "specs" / "s.yaml")
    assert isinstance(doc, Document) and doc.kind == "spec"
    assert [d.kind for d in doc.imports] == ["vocabulary"]
    assert set(doc.vocabulary["attributes"]) == {"rsa"} and "appointment" in doc.vocabulary["events"]
    session = doc.data["sessions"][0]
    assert session["opens"] == "2026-01-12" and session["id"] == "session_1"
    # local keys override the block, and keep their own position
    assert session["source"] == "02-accompagnement-social-professionnel-intensif.txt:102"
    assert session.value_pos("source").file.endswith("s.yaml") and session.value_pos("source").line == 4
    # the block's keys point into the vocabulary file
    assert session.value_pos("opens").file.endswith("common.yaml") and session.value_pos("opens").line == 11
    assert [p["id"] for p in doc.data["payments"]] == ["advance", "balance"]
    assert doc.data["nested"]["inner"]["label"] == "1ère session"
    # the vocabulary itself is untouched
    assert doc.imports[0].data["shared"]["nested"]["inner"] == {"use": "session_2026"}


def test_use_block_does_not_leak_between_uses(tmp_path):
    write(tmp_path, {"common.yaml": VOCAB, "s.yaml": """\
id: s
imports: [common.yaml]
a: {use: session_2026, label: A}
b: {use: session_2026}
"""})
    doc = load_document(tmp_path / "s.yaml")
    assert doc.data["a"]["label"] == "A" and doc.data["b"]["label"] == "1ère session"


@pytest.mark.parametrize("files,code,line,col,hint", [
    ({"s.yaml": "id: s\nimports: [commun.yaml]\n", "common.yaml": VOCAB}, "import.missing", 2, 11,
     'vouliez-vous dire « common.yaml » ?'),
    ({"s.yaml": "id: s\nimports: [a.yaml]\n", "a.yaml": "kind: vocabulary\nid: a\nimports: [b.yaml]\n",
      "b.yaml": "kind: vocabulary\nid: b\nimports: [a.yaml]\n"}, "import.cycle", 3, 11, None),
    ({"s.yaml": "id: s\nimports: [s.yaml]\n"}, "import.cycle", 2, 11, None),
    ({"s.yaml": "id: s\nimports: [other.yaml]\n", "other.yaml": "id: other\n"}, "import.kind", 2, 11, None),
    ({"s.yaml": "id: s\nimports: common.yaml\n"}, "import.invalid", 2, 10, None),
    ({"s.yaml": "id: s\nimports: [common.yaml]\nx: {use: session2026}\n", "common.yaml": VOCAB}, "use.unknown", 3, 10,
     'vouliez-vous dire « session_2026 » ?'),
    ({"s.yaml": "id: s\nx: {use: session_2026}\n"}, "use.unknown", 2, 10, None),
    ({"s.yaml": "id: s\nimports: [common.yaml]\nx: {use: loop_a}\n", "common.yaml": VOCAB}, "use.cycle", 21, 17, None),
    ({"s.yaml": "id: s\nimports: [common.yaml]\nx: {use: payments_30_70, id: p}\n", "common.yaml": VOCAB},
     "use.not_mapping", 3, 26, None),
    ({"s.yaml": "id: s\nx: {use: [a]}\n"}, "use.invalid", 2, 10, None),
])
def test_import_and_use_errors_are_positioned(tmp_path, files, code, line, col, hint):
    write(tmp_path, files)
    diags = errors_of(tmp_path / "s.yaml")
    d = next(d for d in diags if d.code == code)
    assert (d.line, d.col) == (line, col), d.format()
    assert d.source_line is not None
    if hint:
        assert d.hint == hint


def test_errors_of_an_imported_file_are_reported_without_use_noise(tmp_path):
    write(tmp_path, {"common.yaml": VOCAB + "  session_2026: {}\n", "s.yaml": "id: s\nimports: [common.yaml]\n"
                     "x: {use: session_2026}\n"})
    diags = errors_of(tmp_path / "s.yaml")
    assert [(Path(d.file).name, d.code) for d in diags] == [("common.yaml", "yaml.duplicate_key")]


def test_a_cache_shares_loaded_files(tmp_path):
    write(tmp_path, {"common.yaml": VOCAB, "a.yaml": "id: a\nimports: [common.yaml]\n",
                     "b.yaml": "id: b\nimports: [common.yaml]\n"})
    cache: dict = {}
    a = load_document(tmp_path / "a.yaml", cache=cache)
    b = load_document(tmp_path / "b.yaml", cache=cache)
    assert a.imports[0] is b.imports[0]


def test_diag_at_shows_the_line_of_any_loaded_file(tmp_path):
    write(tmp_path, {"common.yaml": VOCAB, "s.yaml": "id: s\nimports: [common.yaml]\nx: {use: session_2026}\n"})
    doc = load_document(tmp_path / "s.yaml")
    pos = doc.data["x"].value_pos("opens")
    d = diag_at(doc, pos, "too early", hint="later", width=10)
    assert d.source_line == "    opens: 2026-01-12" and (d.line, d.col) == (11, 12)
    assert d.format().splitlines()[2] == "      | " + " " * 11 + "^" * 10


# ------------------------------------------------------------------------------------------------ import.conflict

def vocab(name: str, body: str, imports: str = "") -> str:
    return f"kind: vocabulary\nid: {name}\n" + (f"imports: [{imports}]\n" if imports else "") + body


def test_two_imports_defining_a_name_differently_conflict(tmp_path):
    write(tmp_path, {
        "a.yaml": vocab("a", "attributes:\n  rsa: {type: boolean}\nshared:\n  blk: {x: 1}\n"),
        "b.yaml": vocab("b", "events:\n  rdv: {fields: {}}\nattributes:\n  age: {type: integer}\n"
                        "  rsa: {type: string}\nshared:\n  blk: {x: 2}\n"),
        "s.yaml": "id: s\nimports: [a.yaml, b.yaml]\nx: {use: nope}\n"})
    diags = errors_of(tmp_path / "s.yaml")
    conflicts = [d for d in diags if d.code == "import.conflict"]
    # every conflict is reported, and the other loading errors too
    assert [(Path(d.file).name, d.line, d.col, d.path) for d in conflicts] == [
        ("b.yaml", 7, 3, "attributes.rsa"), ("b.yaml", 9, 3, "shared.blk")]
    assert any(d.code == "use.unknown" for d in diags)
    d = conflicts[0]
    assert "attributes" in d.message and "« rsa »" in d.message
    assert "a.yaml (ligne 4)" in d.message and "b.yaml (ligne 7)" in d.message
    assert d.source_line == "  rsa: {type: string}" and d.width == 3
    assert d.format().splitlines()[2].endswith("|   ^^^")
    assert "renommez" in d.hint and "un seul vocabulaire" in d.hint


def test_a_diamond_or_an_identical_copy_is_not_a_conflict(tmp_path):
    write(tmp_path, {
        "common.yaml": VOCAB,
        "a.yaml": vocab("a", "attributes:\n  age: {type: integer}\n", "common.yaml"),
        "b.yaml": vocab("b", "attributes:\n  disability: {type: boolean, label: RQTH}\n", "common.yaml"),
        "c.yaml": vocab("c", "attributes:\n  age: {type: integer}\n"),  # the same text as a.yaml's age
        "s.yaml": "id: s\nimports: [a.yaml, b.yaml, c.yaml]\nx: {use: session_2026}\n"})
    doc = load_document(tmp_path / "s.yaml")
    assert set(doc.vocabulary["attributes"]) == {"rsa", "age", "disability"}
    assert "session_2026" in doc.vocabulary["shared"] and doc.data["x"]["id"] == "session_1"


def test_a_vocabulary_redefining_an_imported_name_is_a_conflict(tmp_path):
    write(tmp_path, {
        "common.yaml": VOCAB,
        "local.yaml": vocab("local", "attributes:\n  rsa: {type: string}\n  age: {type: integer}\n", "common.yaml"),
        "s.yaml": "id: s\nimports: [local.yaml]\n"})
    diags = errors_of(tmp_path / "s.yaml")
    assert [(Path(d.file).name, d.line, d.col, d.code) for d in diags] == [("local.yaml", 5, 3, "import.conflict")]
    d = diags[0]
    assert "attributes" in d.message and "« rsa »" in d.message
    assert "common.yaml (ligne 4)" in d.message and "local.yaml (ligne 5)" in d.message
    assert d.source_line == "  rsa: {type: string}"
    assert "renommez" in d.hint and "common.yaml" in d.hint
    # loading the vocabulary itself reports it too
    assert [d.code for d in errors_of(tmp_path / "local.yaml")] == ["import.conflict"]
