"""Golden tests of `engine check` on broken specs: one file per error kind in tests/broken/.

Each ``tests/broken/<name>.yaml`` must make `engine check` exit 1, print nothing on stdout, name the file, print no
traceback, and print exactly ``tests/broken/<name>.expected`` on stderr. Regenerate the golden files with
``python -m pytest tests/test_check_golden.py --update-goldens`` and review the diff by eye.
Sources are checked against the tiny text ``tests/broken/seeds/99-texte-de-test.txt`` (20 lines).
The ``expr_*`` and ``graph_*`` files hold messages written by the expression compiler and the phase-graph checker:
when their wording changes on purpose, regenerate and review.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from engine.cli.main import main

REPO = Path(__file__).resolve().parent.parent
BROKEN = REPO / "tests" / "broken"
CASES = sorted(p.name for p in BROKEN.glob("*.yaml"))


@pytest.fixture
def in_repo(monkeypatch):
    monkeypatch.chdir(REPO)
    monkeypatch.setenv("ENGINE_SEEDS", str(Path("tests") / "broken" / "seeds"))


def test_there_is_a_case_per_error_kind(golden):
    kinds = {"yaml_duplicate_key", "yaml_alias_bomb", "yaml_tag_python_object", "yaml_tag_include",
             "yaml_tag_binary", "yaml_tag_set", "yaml_tag_str", "yaml_multi_document", "yaml_empty",
             "yaml_comments_only", "yaml_top_level_scalar", "yaml_top_level_list", "yaml_non_string_key",
             "yaml_nan", "yaml_inf", "yaml_huge_number", "yaml_hex_number", "yaml_too_deep", "yaml_invalid_utf8",
             "yaml_control_char", "yaml_syntax_colon", "yaml_syntax_indent", "yaml_syntax_unclosed",
             "yaml_syntax_tab", "schema_invalid_date", "schema_unknown_key", "schema_bad_duration",
             "schema_missing_required", "schema_wrong_type", "schema_bad_enum", "schema_bad_source",
             "schema_comma_in_flow", "schema_rule_tree", "schema_vocabulary", "import_missing", "import_cycle",
             "import_not_vocabulary", "use_unknown_block", "source_past_end",
             # compile stage (engine.spec.compile, engine.expr.compiler, engine.spec.graph: their messages, our golden files)
             "expr_syntax_error", "expr_type_error", "expr_unknown_name", "expr_multiline_error",
             "graph_unknown_phase", "graph_unreachable", "graph_timing",
             # root cause first (engine.spec.rootcause): one error, not the cascade
             "root_misspelt_phase", "root_import_missing_uses"}
    assert kinds <= {Path(c).stem for c in CASES}
    for c in CASES:
        assert (BROKEN / c).with_suffix(".expected").exists() or golden.update, c


@pytest.mark.parametrize("name", CASES)
def test_broken_spec_golden(name, in_repo, capsys, golden):
    rel = f"tests/broken/{name}"
    rc = main(["check", rel])
    out, err = capsys.readouterr()
    assert rc == 1
    assert out == ""
    assert "Traceback" not in err and "internal error" not in err and "erreur interne" not in err
    assert err.startswith("tests/broken/"), err  # every message names its file first
    first = err.split(": erreur :", 1)[0]
    if Path(name).stem not in ("yaml_empty", "yaml_comments_only"):
        assert first.count(":") == 2, f"expected file:line:col, got {first!r}"
    golden((BROKEN / name).with_suffix(".expected"), err)


@pytest.mark.parametrize("name", ["schema_unknown_key.yaml", "yaml_duplicate_key.yaml"])
def test_broken_spec_json_output(name, in_repo, capsys):
    import json

    rc = main(["check", "--json", f"tests/broken/{name}"])
    out, err = capsys.readouterr()
    assert rc == 1 and err == ""
    data = json.loads(out)
    assert data["errors"] == len(data["diagnostics"]) >= 1
    d = data["diagnostics"][0]
    assert d["file"] == f"tests/broken/{name}" and d["line"] > 0 and d["column"] > 0 and d["message"]


def test_whole_broken_folder_reports_every_file_sorted(in_repo, capsys):
    rc = main(["check", "tests/broken"])
    out, err = capsys.readouterr()
    assert rc == 1
    locs = [line.split(": erreur :")[0] for line in err.splitlines() if ": erreur :" in line]
    files = {loc.split(":")[0] for loc in locs}
    assert {f"tests/broken/{c}" for c in CASES if c != "import_cycle.yaml"} <= files
    keys = []
    for loc in locs:
        parts = loc.split(":")
        keys.append((parts[0], int(parts[1]) if len(parts) > 1 else 0, int(parts[2]) if len(parts) > 2 else 0))
    assert keys == sorted(keys)
    assert err.rstrip().splitlines()[-1].endswith(" erreurs")
