"""The spec compiler: every section of a complete hand-made spec, and one broken spec per compile error kind.

Broken specs live in tests/specs/compile/ and tests/specs/graph/; each starts with ``# expect: CODE LINE TOKEN``
lines: a diagnostic whose code starts with CODE must point at LINE, at a column inside the first occurrence of TOKEN
on that line (the position is computed from the file text here, not taken from the engine).
"""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from engine.spec import compile as C
from engine.spec.compile import compile_spec, load_spec, parse_duration
from engine.errors import SpecError
from engine.spec.loader import load_document
from engine.spec.model import Anchor, RuleGroup, RuleLeaf, iter_rules
from engine.expr.runtime import Duration

SPECS = Path(__file__).parent / "specs"
FULL = SPECS / "ok_full.yaml"


def expectations(path: Path) -> list[tuple[str, int, str]]:
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        m = re.match(r"# expect: (\S+) (\d+) (.+)$", line)
        if m:
            out.append((m.group(1), int(m.group(2)), m.group(3)))
    return out


def compile_errors(path: Path) -> list:
    with pytest.raises(SpecError) as e:
        compile_spec(load_document(path))
    return e.value.diagnostics


def assert_expected_diagnostics(path: Path) -> None:
    exp = expectations(path)
    assert exp, f"{path} has no '# expect:' line"
    diags = compile_errors(path)
    lines = path.read_text(encoding="utf-8").splitlines()
    for code, line, token in exp:
        start = lines[line - 1].index(token) + 1
        hits = [d for d in diags if d.code.startswith(code) and d.line == line
                and start <= (d.col or 0) < start + len(token) and d.file and Path(d.file).name == path.name]
        assert hits, f"{path.name}: no {code} diagnostic at {line}:{start}; got " + "; ".join(
            f"{d.code}@{d.line}:{d.col} {d.message}" for d in diags)
        shown = hits[0].format()
        assert f"{path.name}:{line}:" in shown and "^" in shown and lines[line - 1].strip() in shown


# --------------------------------------------------------------------------------------------- the complete spec

@pytest.fixture(scope="module")
def spec():
    return compile_spec(load_document(FULL))


def test_metadata(spec):
    assert (spec.id, spec.version, spec.title) == ("test-full", "2026.1", "Dispositif de test complet")
    assert (spec.valid_from, spec.valid_until) == (date(2026, 1, 1), date(2027, 12, 31))
    assert spec.source_document == "02-accompagnement-social-professionnel-intensif.txt"
    assert [(s.id, s.opens, s.closes) for s in spec.sessions] == [("s1", date(2026, 1, 12), date(2026, 2, 15))]
    assert spec.sessions[0].source.text == "02-accompagnement-social-professionnel-intensif.txt:102"
    assert spec.convention.max_duration == Duration(24, 0) and spec.convention.end == date(2027, 12, 31)
    assert spec.territories == ("arrageois", "artois")
    assert spec.path == str(FULL) and spec.document is not None
    assert spec.section_pos["phases"].line == FULL.read_text().splitlines().index("phases:") + 1


def test_declarations_merge_vocabulary_and_inputs(spec):
    assert {"birth_date", "department", "rsa", "dsp_completed"} <= set(spec.attributes)
    assert spec.attributes["rsa"].origin != "spec" and spec.attributes["dsp_completed"].origin == "spec"
    assert spec.attributes["dsp_completed"].label == "DSP complétée"
    assert set(spec.events) == {"appointment", "activity", "collective_action"}
    assert set(spec.events["appointment"].fields) == {"mode"}
    p = spec.parameters["min_barriers"]
    assert p.interpretation.startswith("Le texte dit") and p.source.text == "01-dynamisation-des-parcours.txt:21"
    assert set(spec.definitions) == {"adult", "young", "young_adult"}
    assert spec.definitions["adult"].origin != "spec" and spec.definitions["young"].label.startswith("Jeune")


def test_scope_names(spec):
    names = spec.scope.names
    assert {"rsa", "birth_date", "dsp_completed", "min_barriers", "today", "events", "history"} <= set(names)
    assert "phase_start" not in names and "window_start" not in names


def test_eligibility_tree(spec):
    root = spec.eligibility_beneficiary
    assert isinstance(root, RuleGroup) and root.op == "all" and len(root.children) == 3
    resident, public, barriers = root.children
    assert isinstance(resident, RuleLeaf) and resident.expr.text == 'department == "62"'
    assert resident.source.text == "02-accompagnement-social-professionnel-intensif.txt:14"
    assert resident.label == "Réside dans le Pas-de-Calais" and resident.path == "eligibility.beneficiary.all[resident_62]"
    assert resident.pos.line == resident.expr.pos.line - 2
    assert public.op == "any" and [c.id for c in public.children] == ["brsa", "jeune"]
    assert barriers.op == "not" and barriers.id == "barriers" and barriers.children[0].id == "no_barriers"
    assert [r.id for r in iter_rules(root) if isinstance(r, RuleLeaf)] == ["resident_62", "brsa", "jeune", "no_barriers"]
    op = spec.eligibility_operator
    assert op.op == "all" and [c.id for c in op.children] == ["association", "staffed"]
    assert op.path == "eligibility.operator" and op.children[1].path == "eligibility.operator.all[staffed]"


def test_operator_rules_see_operation_attributes(spec):
    staffed = spec.eligibility_operator.children[1]
    assert "fte" in staffed.expr.names
    assert set(spec.operation_attributes) == {"legal_form", "fte"}
    assert "legal_form" not in spec.scope.names and "participants" not in spec.scope.names


@pytest.mark.parametrize("condition", ["fte >= 1 and rsa", "count(participants) >= 1", "young"])
def test_operator_rules_see_neither_beneficiaries_nor_participants(tmp_path, condition):
    text = FULL.read_text(encoding="utf-8").replace('"fte >= 1 and today >= 2026-01-01"', f'"{condition}"')
    (tmp_path / "vocab.yaml").write_text((SPECS / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    diags = compile_errors(f)
    assert diags and all(d.code.startswith("expr") for d in diags)


def test_operator_rules_do_not_apply_to_beneficiary_rules(tmp_path):
    text = FULL.read_text(encoding="utf-8").replace('condition: department == "62"',
                                                    'condition: department == "62" and fte > 1')
    (tmp_path / "vocab.yaml").write_text((SPECS / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text(text, encoding="utf-8")
    (d,) = compile_errors(f)
    line = next(i for i, x in enumerate(text.splitlines(), 1) if "fte > 1" in x)
    assert (d.line, d.col, d.code.split(".")[0]) == (line, text.splitlines()[line - 1].index("fte > 1") + 1, "expr")


def test_compiled_condition_runs(spec):
    """The leaf's compiled callable is the expression compiler's: it evaluates on an environment."""
    leaf = spec.eligibility_beneficiary.children[0]
    assert leaf.expr.fn is leaf.expr.compiled.fn
    assert "department" in leaf.expr.names


def test_phases(spec):
    assert list(spec.phases) == ["orientation", "accueil", "contrat", "sortie"]
    c = spec.phases["contrat"]
    assert (c.min_duration, c.max_duration, c.max_renewals, c.total_max_duration) == (
        Duration(1, 0), Duration(6, 0), 2, Duration(18, 0))
    assert spec.phases["orientation"].initial and spec.phases["sortie"].final
    assert not spec.phases["accueil"].initial and not spec.phases["accueil"].final
    assert c.field_pos["max_renewals"].line == c.pos.line + 4


def test_transitions(spec):
    t = spec.transitions
    assert [(x.from_phase, x.to_phase) for x in t] == [("orientation", "accueil"), ("accueil", "contrat"),
                                                       ("contrat", "contrat"), ("contrat", "sortie"),
                                                       ("accueil", "sortie")]
    assert t[0].within == Duration(0, 15) and t[0].after is None and t[0].guard is None
    assert t[1].within == Duration(0, 28) and t[1].after == Duration(0, 0)
    assert t[1].guard.text == "transition_date >= phase_start and rsa"
    assert t[2].is_renewal and not t[3].is_renewal
    assert t[1].field_pos["guard"].line == t[1].pos.line


def test_tables(spec):
    tb = spec.tables
    assert tb.initial == {"orientation"} and tb.final == {"sortie"}
    assert tb.next == {"orientation": ("accueil",), "accueil": ("contrat", "sortie"), "contrat": ("contrat", "sortie"),
                       "sortie": ()}
    assert tb.transition[("accueil", "contrat")] is spec.transitions[1]
    assert tb.phase["contrat"] is spec.phases["contrat"]
    assert tb.reachable_final == set(spec.phases)


def test_deadlines(spec):
    d1, d2 = spec.deadlines
    assert (d1.id, d1.anchor.kind, d1.anchor.name, d1.target.kind, d1.target.name) == (
        "first_appointment", "phase", "orientation", "event", "appointment")
    assert d1.within == Duration(0, 15) and d1.where.text == 'mode == "in_person"' and d1.applies_if.text == "rsa"
    assert d2.anchor == Anchor("attribute", "orientation_date", d2.anchor.pos) and d2.within == Duration(0, 28)
    assert d2.where is None and d2.applies_if is None
    assert spec.deadline("contract_signed") is d2 and spec.deadline("nope") is None


def test_obligations(spec):
    o1, o2 = spec.obligations
    assert (o1.during, o1.every, o1.partial_windows, o1.calendar) == (("contrat",), "month", "skip", True)
    assert o1.condition.text.startswith('count(events where type == "appointment") >= 2')
    assert (o2.every, o2.partial_windows, o2.calendar) == (Duration(0, 56), "check", False)
    assert spec.obligation("activity_hours") is o2


def test_examples(spec):
    ex, op = spec.examples
    assert op.kind == "operation" and op.operation == {"id": "op-1", "legal_form": "association_1901",
                                                      "fte": Decimal("1.5")}
    assert op.cohort == ({"id": "c1", "rsa": True},) and op.record is None and op.index == 1
    assert ex.name == "BRSA du Pas-de-Calais accueilli dans les délais" and ex.at == date(2026, 3, 1)
    assert ex.params == {"min_barriers": 2} and ex.kind == "record"
    assert ex.record["history"][1] == {"phase": "accueil", "date": "2026-02-10"}
    assert type(ex.record) is dict and type(ex.record["history"]) is list
    assert ex.expect == {"eligible": True, "path.legal": True, "path.current_phase": "accueil",
                         "deadlines.first_appointment": "met"}
    lines = FULL.read_text().splitlines()
    assert lines[ex.expect_pos["path.legal"].line - 1].strip() == "path.legal: true"
    assert lines[ex.pos.line - 1].strip().startswith("- name: BRSA")


def test_load_spec_validates_and_compiles():
    spec = load_spec(FULL)
    assert spec.id == "test-full" and len(spec.transitions) == 5


# --------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("path", sorted((SPECS / "compile").glob("*.yaml")), ids=lambda p: p.stem)
def test_compile_errors_are_positioned(path):
    assert_expected_diagnostics(path)


def test_every_error_is_reported_not_only_the_first():
    diags = compile_errors(SPECS / "compile" / "many_errors.yaml")
    assert len({d.code.split(".")[0] for d in diags}) >= 3 and len(diags) >= 4


@pytest.mark.parametrize("text,months,days", [
    ("15 days", 0, 15), ("15 jours", 0, 15), ("1 day", 0, 1), ("1 jour", 0, 1), ("4 weeks", 0, 28),
    ("4 semaines", 0, 28), ("6 months", 6, 0), ("6 mois", 6, 0), ("2 years", 24, 0), ("2 ans", 24, 0),
    ("1 an", 12, 0), ("1 year 6 months", 18, 0), ("1 an et 6 mois", 18, 0), ("  3 Months ", 3, 0), ("0 days", 0, 0),
])
def test_parse_duration(text, months, days):
    assert parse_duration(text) == Duration(months, days)


# ISO 8601 is what the engine prints and records may hold, not the spec's syntax (tests/test_durations.py)
@pytest.mark.parametrize("text", ["six mois", "15", "days", "15 fortnights", "", "1.5 months", "-3 days", None, 15,
                                  "P15D", "P1Y6M"])
def test_parse_duration_rejects(text):
    assert parse_duration(text) is None


# --------------------------------------------------------------------------------------------- the section hook

def test_section_compilers_hook(monkeypatch, tmp_path):
    seen = {}

    def compile_capacity(ctx, value):
        seen["value"] = value
        for i, item in enumerate(value):
            if item.get("per_fte", 0) <= 0:
                ctx.error(ctx.pos(item, "per_fte"), "per_fte must be positive", "spec.capacity", path="capacity")
        return ("compiled", len(value))

    import sys
    import types

    mod = types.ModuleType("fake_sections")
    mod.compile_capacity = compile_capacity
    monkeypatch.setitem(sys.modules, "fake_sections", mod)
    monkeypatch.setattr(C, "SECTION_COMPILERS", C.SECTION_COMPILERS + [("capacity", "fake_sections:compile_capacity")])
    f = tmp_path / "s.yaml"
    f.write_text("id: s\ncapacity:\n  - {id: places, per_fte: 70}\n", encoding="utf-8")
    spec = compile_spec(load_document(f))
    assert spec.sections["capacity"] == ("compiled", 1) and seen["value"][0]["id"] == "places"
    f.write_text("id: s\ncapacity:\n  - {id: places, per_fte: 0}\n", encoding="utf-8")
    with pytest.raises(SpecError) as e:
        compile_spec(load_document(f))
    assert (e.value.diagnostic.code, e.value.diagnostic.line, e.value.diagnostic.col) == ("spec.capacity", 3, 27)


def test_redeclared_attribute_with_another_type(tmp_path):
    (tmp_path / "v.yaml").write_text((SPECS / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text("id: s\nimports: [v.yaml]\ninputs:\n  attributes:\n    rsa: {type: date}\n", encoding="utf-8")
    diags = compile_errors(f)
    assert [(d.code, d.line, d.col) for d in diags] == [("spec.redeclared", 5, 5)]
    f.write_text("id: s\nimports: [v.yaml]\ninputs:\n  attributes:\n    rsa: {type: boolean, label: RSA}\n",
                 encoding="utf-8")
    assert compile_spec(load_document(f)).attributes["rsa"].origin == "spec"


def test_decimal_values_stay_exact(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("id: s\nparameters:\n  rate: {type: number}\nexamples:\n  - name: x\n    at: 2026-01-01\n"
                 "    params: {rate: 0.1}\n    record: {id: a}\n"
                 "    expect: {eligible: true}\n", encoding="utf-8")
    (ex,) = compile_spec(load_document(f)).examples
    assert ex.params["rate"] == Decimal("0.1")


def test_an_error_in_a_definition_is_reported_once(tmp_path):
    (tmp_path / "v.yaml").write_text((SPECS / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text("id: s\nimports: [v.yaml]\ndefinitions:\n  bad: {expr: rsaa and rsa, label: B}\n"
                 "eligibility:\n  beneficiary:\n    all:\n      - {id: r1, condition: bad}\n"
                 "      - {id: r2, condition: not bad}\n", encoding="utf-8")
    diags = compile_errors(f)
    assert [(d.line, d.col) for d in diags] == [(4, 15)] and "rsaa" in diags[0].message


# --------------------------------------------------------------------------------------------- robustness

_BASE = None
_JUNK = [None, True, 0, -1, 3, "x", "", "15 days", "0 days", [], {}, [1], {"a": 1}, "2026-13-01", "rsa", "1.5",
         {"phase": "nowhere"}, ["a", {"b": 1}]]


def _paths(node, pre=()):
    yield pre
    if isinstance(node, dict):
        for k, v in node.items():
            yield from _paths(v, pre + (k,))
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from _paths(v, pre + (i,))


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.data())
def test_compile_never_crashes_on_mangled_specs(tmp_path, data):
    """Any key replaced by junk or deleted: the compiler reports SpecErrors (or compiles), never crashes, even when
    called without the schema validation in front of it."""
    import copy

    from yamlkit import read_yaml, yaml_text

    global _BASE
    if _BASE is None:
        _BASE = read_yaml(FULL)
    doc = copy.deepcopy(_BASE)
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from([p for p in _paths(doc) if p]))
        node = doc
        for k in path[:-1]:
            node = node[k]
        junk = data.draw(st.sampled_from(_JUNK + ["DELETE"]))
        if junk == "DELETE":
            del node[path[-1]]
        else:
            node[path[-1]] = copy.deepcopy(junk)
    (tmp_path / "vocab.yaml").write_text((SPECS / "vocab.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    f = tmp_path / "s.yaml"
    f.write_text(yaml_text(doc), encoding="utf-8")
    try:
        spec = compile_spec(load_document(f))
    except SpecError as e:
        assert e.diagnostics and all(d.message for d in e.diagnostics)
    else:
        from engine.spec.graph import render_dot, render_mermaid

        assert spec.id and render_mermaid(spec).startswith("flowchart") and render_dot(spec).endswith("}\n")


def test_a_vocabulary_compiles_as_a_vocabulary():
    voc = compile_spec(load_document(SPECS / "vocab.yaml"))
    assert voc.kind == "vocabulary" and voc.territories == ("arrageois", "artois", "lens-lievin")
    assert "adult" in voc.definitions and not voc.phases and voc.examples == ()
