"""The phase graph: one broken spec per check (positioned), calendar-aware duration comparison, lookup tables,
and `engine graph` output (golden files in tests/specs/golden/; regenerate with --update-goldens after checking the
diff by eye)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st

from engine.cli.main import main
from engine.spec.compile import compile_spec
from engine.spec.graph import always_longer, check_graph, compile_tables, french_duration, render_dot, render_mermaid
from engine.spec.loader import load_document
from engine.spec.model import Phase, Transition
from engine.expr.runtime import Duration

from test_compile import SPECS, assert_expected_diagnostics, compile_errors, expectations

GRAPH_CASES = sorted((SPECS / "graph").glob("*.yaml"))
GOLDEN = SPECS / "golden"


@pytest.mark.parametrize("path", GRAPH_CASES, ids=lambda p: p.stem)
def test_graph_check_is_positioned(path):
    assert_expected_diagnostics(path)


@pytest.mark.parametrize("path", GRAPH_CASES, ids=lambda p: p.stem)
def test_graph_check_reports_only_its_problem(path):
    """Each broken spec has one problem: no other diagnostic (the checks do not cascade)."""
    codes = {c for c, _, _ in expectations(path)}
    assert {d.code for d in compile_errors(path)} == codes


def test_every_graph_code_has_a_case():
    import engine.spec.graph as g

    documented = {line.split("``")[1] for line in g.__doc__.splitlines() if line.startswith("``graph.")}
    covered = {c for p in GRAPH_CASES for c, _, _ in expectations(p)}
    assert documented == covered


def test_graph_error_cli(capsys):
    path = SPECS / "graph" / "unreachable.yaml"
    ((_, line, _),) = expectations(path)
    assert main(["graph", "--spec", str(path)]) == 1
    err = capsys.readouterr().err
    assert f'unreachable.yaml:{line}:3: erreur : la phase « island » ne peut être atteinte' in err and "^^^^^^" in err


@pytest.mark.parametrize("a,b,longer", [
    ((1, 0), (0, 30), False),   # February: 1 month can be 28 days
    ((0, 32), (1, 0), True),
    ((0, 31), (1, 0), False),   # 31-day months
    ((2, 0), (0, 40), True),
    ((12, 0), (6, 0), True),
    ((0, 28), (1, 0), False),
    ((0, 366), (12, 0), False),  # leap years
    ((0, 367), (12, 0), True),
    ((0, 0), (0, 0), False),
])
def test_always_longer(a, b, longer):
    assert always_longer(Duration(*a), Duration(*b)) is longer


@given(st.integers(0, 40), st.integers(0, 400), st.integers(0, 40), st.integers(0, 400))
def test_always_longer_is_asymmetric_and_irreflexive(m1, d1, m2, d2):
    a, b = Duration(m1, d1), Duration(m2, d2)
    assert not (always_longer(a, b) and always_longer(b, a))
    assert not always_longer(a, a)
    assert always_longer(a + Duration(0, 1), a)


@pytest.mark.parametrize("months,days,text", [
    (0, 15, "15 jours"), (0, 1, "1 jour"), (0, 28, "4 semaines"), (0, 7, "1 semaine"), (6, 0, "6 mois"),
    (12, 0, "1 an"), (24, 0, "2 ans"), (18, 0, "18 mois"), (1, 3, "1 mois et 3 jours"), (0, 0, "0 jour"),
])
def test_french_duration(months, days, text):
    assert french_duration(Duration(months, days)) == text


def test_tables_ignore_unknown_phases_and_keep_first_duplicate():
    phases = {"a": Phase("a", "A", initial=True), "b": Phase("b", "B", final=True), "c": Phase("c", "C")}
    ts = [Transition(0, "a", "b"), Transition(1, "a", "zz"), Transition(2, "a", "b", within=Duration(0, 3)),
          Transition(3, "a", "c")]
    tb = compile_tables(phases, ts)
    assert tb.next == {"a": ("b", "c"), "b": (), "c": ()}
    assert tb.transition[("a", "b")] is ts[0] and ("a", "zz") not in tb.transition
    assert tb.reachable_final == {"a", "b"}
    assert all(type(v) is tuple for v in tb.next.values()) and type(tb.transition) is dict


# --------------------------------------------------------------------------------------------- rendering

@pytest.fixture(scope="module")
def full():
    return compile_spec(load_document(SPECS / "ok_full.yaml"))


def test_mermaid_golden(full, golden):
    golden(GOLDEN / "ok_full.mmd", render_mermaid(full))


def test_dot_golden(full, golden):
    golden(GOLDEN / "ok_full.dot", render_dot(full))


def test_mermaid_content(full):
    text = render_mermaid(full)
    assert text.startswith("flowchart LR\n")
    assert 'ph_orientation(["Orientation<br/>(phase d\'entrée)"]):::initial' in text
    assert 'ph_sortie[["Sortie<br/>(phase de fin)"]]:::final' in text
    assert "au moins 1 mois, au plus 6 mois, 2 renouvellements max., 18 mois au total" in text
    assert 'ph_accueil -->|"Signature du contrat<br/>dans les 4 semaines<br/>si transition_date #gt;= ' \
           'phase_start and rsa"| ph_contrat' in text
    assert text.count("-->") == len(full.transitions)
    # deadlines: an event target is a note on its anchor phase, an attribute anchor a note towards its target phase
    assert 'dl_1>"Délai : Premier rendez-vous dans les 15 jours<br/>« Rendez-vous » au plus tard 15 jours après ' \
           "l'entrée en « Orientation »<br/>si rsa\"]:::deadline" in text
    assert "ph_orientation -.- dl_1" in text and "dl_2 -.-> ph_contrat" in text
    assert "la date « Date d'orientation »" in text


def test_phase_to_phase_deadline_is_a_dotted_arrow(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("id: s\nphases:\n  a: {label: A, initial: true}\n  b: {label: B, final: true}\n"
                 "transitions:\n  - {from: a, to: b}\ndeadlines:\n"
                 "  - {id: d, label: Vite, from: {phase: a}, to: {phase: b}, within: 2 weeks}\n", encoding="utf-8")
    spec = compile_spec(load_document(f))
    assert 'ph_a -.->|"Délai : Vite<br/>Entrée en « B » au plus tard 2 semaines après l\'entrée en « A »"| ph_b' \
        in render_mermaid(spec)
    assert '"a" -> "b" [label="Délai : Vite\\nEntrée en « B » au plus tard 2 semaines après l\'entrée en « A »", ' \
           'style=dashed, constraint=false];' in render_dot(spec)


def test_long_guards_are_referred_to_by_line(tmp_path):
    guard = "count(events where type == 'appointment' and date <= transition_date) >= 2 and rsa"
    f = tmp_path / "s.yaml"
    f.write_text('id: s\ninputs:\n  attributes: {rsa: {type: boolean}}\n  events: {appointment: {fields: {}}}\n'
                 'phases:\n  a: {label: A, initial: true}\n  b: {label: B, final: true}\n'
                 f'transitions:\n  - {{from: a, to: b, guard: "{guard}"}}\n  - {{from: a, to: a, guard: rsa}}\n',
                 encoding="utf-8")
    text = render_mermaid(compile_spec(load_document(f)))
    assert 'ph_a -->|"sous condition (voir la spec ligne 9)"| ph_b' in text
    assert 'ph_a -->|"si rsa"| ph_a' in text


def test_cli_graph(capsys, full):
    assert main(["graph", "--spec", str(SPECS / "ok_full.yaml")]) == 0
    assert capsys.readouterr().out == render_mermaid(full)
    assert main(["graph", "--spec", str(SPECS / "ok_full.yaml"), "--format", "dot"]) == 0
    assert capsys.readouterr().out == render_dot(full)


def test_cli_graph_without_phases(capsys, tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("id: s\ntitle: T\nversion: '1'\n", encoding="utf-8")
    assert main(["graph", "--spec", str(f)]) == 1
    assert "ne déclare pas de phases" in capsys.readouterr().err


def test_mermaid_escapes_and_reserved_ids(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text('id: s\nphases:\n  end: {label: "Fin <\\"x\\"> | ok", initial: true, final: true}\n'
                 '  mid-phase: {label: Milieu, initial: true}\ntransitions:\n  - {from: mid-phase, to: end}\n',
                 encoding="utf-8")
    text = render_mermaid(compile_spec(load_document(f)))
    assert 'ph_end(["Fin #lt;#quot;x#quot;#gt; #124; ok<br/>(phase d\'entrée)<br/>(phase de fin)"]):::initial' in text
    assert "ph_mid_phase --> ph_end" in text and 'ph_mid_phase(["Milieu' in text
    dot = render_dot(compile_spec(load_document(f)))
    assert '"end" [label="Fin <\\"x\\"> | ok\\n(phase d\'entrée)\\n(phase de fin)", style="rounded,bold", peripheries=2];' in dot


# --------------------------------------------------------------------------------------------- properties

def _reach(edges: set[tuple[str, str]], starts: set[str]) -> set[str]:
    """Reference reachability (plain fixed point), independent of networkx."""
    seen = set(starts)
    changed = True
    while changed:
        changed = False
        for a, b in edges:
            if a in seen and b not in seen:
                seen.add(b)
                changed = True
    return seen


@given(st.integers(1, 7).flatmap(lambda n: st.tuples(
    st.just(n), st.sets(st.integers(0, n - 1), max_size=n), st.sets(st.integers(0, n - 1), max_size=n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=12))))
def test_graph_checks_agree_with_reference_reachability(case):
    n, initial, final, pairs = case
    names = [f"p{i}" for i in range(n)]
    phases = {p: Phase(p, p, initial=i in initial, final=i in final) for i, p in enumerate(names)}
    ts = [Transition(k, names[a], names[b]) for k, (a, b) in enumerate(pairs)]
    codes = [(d.code, d.path) for d in check_graph(phases, ts)]
    edges = {(names[a], names[b]) for a, b in pairs}
    starts = {names[i] for i in initial}
    ends = {names[i] for i in final}
    if starts:
        unreachable = set(names) - _reach(edges, starts)
        assert {p.split(".")[1] for c, p in codes if c == "graph.unreachable"} == unreachable
    if ends:
        reverse = {(b, a) for a, b in edges}
        stuck = set(names) - _reach(reverse, ends)
        assert {p.split(".")[1] for c, p in codes if c == "graph.no_path_to_end"} == stuck
        assert compile_tables(phases, ts).reachable_final == set(names) - stuck
    assert ("graph.no_initial", "phases") in codes if not starts else ("graph.no_initial", "phases") not in codes
    assert ("graph.no_final", "phases") in codes if not ends else ("graph.no_final", "phases") not in codes
    dup = len(pairs) - len(set(pairs))
    assert sum(c == "graph.duplicate_transition" for c, _ in codes) == dup
    tables = compile_tables(phases, ts)
    assert {(a, b) for a, nxt in tables.next.items() for b in nxt} == edges


def test_cli_graph_on_a_vocabulary(capsys):
    assert main(["graph", "--spec", str(SPECS / "vocab.yaml")]) == 1
    assert "« testvocab » est un fichier de vocabulaire : il n'y a pas de graphe à dessiner" in capsys.readouterr().err
