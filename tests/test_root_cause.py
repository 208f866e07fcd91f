"""Root cause first: one slip in a real spec gives one error (or its error first, the rest marked as consequences),
not a cascade where the real error is buried.

Each case mutates a shipped spec (a copy of specs/ in a temporary folder), runs `engine check` on it and asserts the
code of the FIRST error and the most errors allowed. Declarations are found with the engine's loader (the key
declaring the name), so the cases follow the specs when their lines move.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.errors import Diagnostic
from engine.spec.check import check_paths, seeds_dir
from engine.spec.rootcause import closest, edit_distance, root_cause_first
from engine.spec.yaml_safe import load_yaml

REPO = Path(__file__).resolve().parents[1]
SEEDS = seeds_dir()  # $ENGINE_SEEDS, else ../shared/seeds; None: citations not checked (not what these tests are about)


def declare(path: tuple[str, ...], name: str, new: str):
    """Rename the key that declares ``name`` under ``path`` (a misspelt declaration)."""
    def mutate(text: str, file: str) -> str:
        node = load_yaml(file, text)
        for key in path:
            node = node[key]
        pos = node.key_pos(name)
        lines = text.split("\n")
        line = lines[pos.line - 1]
        assert line[pos.col - 1:].startswith(name), line
        lines[pos.line - 1] = line[:pos.col - 1] + new + line[pos.col - 1 + len(name):]
        return "\n".join(lines)
    return mutate


def first(pattern: str, new: str):
    """Replace the first match of ``pattern`` (its group 1 when it has one) by ``new`` (a misspelt reference)."""
    def mutate(text: str, file: str) -> str:
        m = re.search(pattern, text, flags=re.M)
        assert m, pattern
        start, end = (m.start(1), m.end(1)) if m.groups() else (m.start(), m.end())
        return text[:start] + new + text[end:]
    return mutate


# (file mutated, mutation, spec checked, expected first code, most errors allowed)
CASES = [
    # a misspelt phase where it is declared: every correct reference would be an "unknown phase", the graph broken
    ("coach-jeunesse.yaml", declare(("phases",), "accompagnement", "acompagnement"), "coach-jeunesse.yaml",
     "spec.misspelt_name", 1),
    ("mobilite.yaml", declare(("phases",), "accompagnement", "acompagnement"), "mobilite.yaml",
     "spec.misspelt_name", 1),
    ("travailleurs-independants.yaml", declare(("phases",), "orientation", "orentation"),
     "travailleurs-independants.yaml", "spec.misspelt_name", 1),
    ("travailleurs-independants.yaml", declare(("phases",), "cessation", "cesation"),
     "travailleurs-independants.yaml", "spec.misspelt_name", 1),
    ("dynamisation-des-parcours.yaml", declare(("phases",), "pre_orientation", "pr_orientation"),
     "dynamisation-des-parcours.yaml", "spec.misspelt_name", 1),
    # a parameter, an event type, an attribute of the vocabulary
    ("logement-d-abord.yaml", declare(("parameters",), "min_difficulties", "mi_difficulties"),
     "logement-d-abord.yaml", "spec.misspelt_name", 1),
    ("common.yaml", declare(("attributes",), "birth_date", "birth_dat"), "coach-jeunesse.yaml",
     "spec.misspelt_name", 1),
    # an event type used once: its reference is the error, the use of the definition it breaks a consequence
    ("mobilite.yaml", declare(("inputs", "events"), "mobility_solution", "moility_solution"), "mobilite.yaml",
     "expr.enum", 2),
    # a misspelt reference: one error at it, not also "unreachable" and "no path to the end"
    ("coach-jeunesse.yaml", first(r"^    to: (accompagnement)$", "acompagnement"), "coach-jeunesse.yaml",
     "graph.unknown_phase", 1),
    ("travailleurs-independants.yaml", first(r"^  - from: (orientation)$", "zzz"), "travailleurs-independants.yaml",
     "graph.unknown_phase", 1),
    ("nouveaux-modes-accompagnement.yaml", first(r"^\s*(?:- )?(?:- \{)?from: (entree)\b", "zzz"),
     "nouveaux-modes-accompagnement.yaml", "graph.unknown_phase", 1),
    # a missing import: no "unknown shared block" for the blocks it would have defined
    ("coach-jeunesse.yaml", first(r"^imports: \[(common\.yaml)\]", "commun.yaml"), "coach-jeunesse.yaml",
     "import.missing", 1),
    ("mobilite.yaml", first(r"^imports: \[(common\.yaml)\]", "../commun.yaml"), "mobilite.yaml",
     "import.outside_root", 1),
    # an import that is broken itself: its own error, not the uses of its blocks
    ("common.yaml", first(r"^(kind: vocabulary)$", "kind: vocabulary\nkind: vocabulary"), "coach-jeunesse.yaml",
     "yaml.duplicate_key", 1),
    # a misspelt shared block: one error
    ("coach-jeunesse.yaml", first(r"use: (session_1_2026)\b", "session_1_2062"), "coach-jeunesse.yaml",
     "use.unknown", 1),
]


def _id(case) -> str:
    return f"{case[0]}-{case[3]}-{CASES.index(case)}"


@pytest.fixture(scope="module")
def copy(tmp_path_factory):
    folder = tmp_path_factory.mktemp("specs")
    for f in (REPO / "specs").glob("*.yaml"):
        shutil.copy(f, folder / f.name)
    return folder


@pytest.mark.parametrize("case", CASES, ids=_id)
def test_the_root_cause_comes_first_and_alone(copy, case):
    mutated, mutate, checked, code, most = case
    target = copy / mutated
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(mutate(original, str(target)), encoding="utf-8")
        result = check_paths([str(copy / checked)], seeds=SEEDS)
    finally:
        target.write_text(original, encoding="utf-8")
    errors = result.errors
    shown = "\n".join(d.format() for d in errors)
    assert errors, "the mutation must break the spec"
    assert errors[0].code == code, shown
    assert len(errors) <= most, shown
    assert all(d.consequence_of for d in errors[1:]), shown  # anything after the root cause is marked


def test_the_misspelt_declaration_names_the_references_it_replaces(copy):
    target = copy / "coach-jeunesse.yaml"
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(declare(("phases",), "accompagnement", "acompagnement")(original, str(target)),
                          encoding="utf-8")
        (d,) = check_paths([str(target)], seeds=None).errors
    finally:
        target.write_text(original, encoding="utf-8")
    assert (d.code, d.tier, d.path) == ("spec.misspelt_name", 0, "phases.acompagnement")
    assert d.source_line.strip().startswith("acompagnement:") and d.width == len("acompagnement")
    assert "« acompagnement »" in d.message and "« accompagnement »" in d.message
    assert d.hint.startswith("renommez « acompagnement » en « accompagnement »")
    lines = [int(n) for n in re.findall(r"\d+", d.hint.split("(", 1)[1].split(")")[0])]
    text = original.split("\n")
    assert len(lines) >= 5 and all("accompagnement" in text[n - 1] for n in lines)


def test_a_reference_typo_is_reported_at_the_reference_with_its_suggestion(copy, capsys):
    target = copy / "coach-jeunesse.yaml"
    original = target.read_text(encoding="utf-8")
    try:
        target.write_text(first(r"^    to: (accompagnement)$", "acompagnement")(original, str(target)),
                          encoding="utf-8")
        assert main(["check", str(target)]) == 1
    finally:
        target.write_text(original, encoding="utf-8")
    err = capsys.readouterr().err
    assert err.count(": erreur :") == 1
    assert "nomme une phase inconnue « acompagnement »" in err and "vouliez-vous dire « accompagnement » ?" in err
    assert re.search(r"vérifiés? : 1 erreur(, 1 avertissement)?$", err.rstrip())


def test_graph_conclusions_come_after_local_errors_of_their_file():
    a = Diagnostic("conclusion", file="s.yaml", line=3, col=1, code="graph.unreachable", tier=2)
    b = Diagnostic("local", file="s.yaml", line=40, col=1, code="graph.min_above_max")
    c = Diagnostic("root", file="s.yaml", line=90, col=1, code="spec.misspelt_name", tier=0)
    d = Diagnostic("other file", file="r.yaml", line=50, col=1)
    assert [x.message for x in sorted([a, b, c, d], key=Diagnostic.sort_key)] == ["other file", "root", "local",
                                                                                  "conclusion"]


def test_a_consequence_is_marked_in_text_and_json():
    d = Diagnostic("unknown field", file="s.yaml", line=9, col=3, tier=3, consequence_of="s.yaml:4:7")
    assert d.format().splitlines()[-1] == "  remarque : sans doute une conséquence de l'erreur s.yaml:4:7 ci-dessus"
    assert d.to_json()["consequence_of"] == "s.yaml:4:7"
    assert "consequence_of" not in Diagnostic("x").to_json()


@pytest.mark.parametrize("a,b,n", [("sortei", "sortie", 1), ("accompagnement", "acompagnement", 1),
                                   ("pre_orientation", "reorientation", 2), ("abc", "abc", 0), ("", "ab", 2),
                                   ("ab", "ba", 1), ("kitten", "sitting", 3)])
def test_edit_distance(a, b, n):
    assert edit_distance(a, b) == n == edit_distance(b, a)


@pytest.mark.parametrize("name,candidates,expected", [
    ("sortei", ["accueil", "sortie"], "sortie"),
    ("pre_orientation", ["pr_orientation", "reorientation", "orientation"], "pr_orientation"),
    ("sortis", ["sortie", "sortir"], None),  # a tie: no guess
    ("zzz", ["accueil", "sortie"], None),  # nothing near
    ("sortie", [], None),
])
def test_closest(name, candidates, expected):
    assert closest(name, candidates) == expected


def test_diagnostics_without_a_root_cause_are_unchanged():
    ds = [Diagnostic("a", file="s.yaml", line=2, col=1, code="schema.type"),
          Diagnostic("b", file="s.yaml", line=1, col=1, code="expr.unknown_name", source_line="x", width=1)]
    assert root_cause_first(None, ds) == ds
