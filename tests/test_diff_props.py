"""Properties of the semantic diff (hypothesis), on random edits and random re-spellings of the base test spec:

- diff(a, a) is empty;
- diff(b, a) is the inverse of diff(a, b) (added <-> removed, old <-> new, same paths, same semantic flags);
- re-spelling a spec (key order, order of listed rules/phases/transitions/deadlines..., flow/block style through real YAML text, French keywords and durations, 40% vs
  0.40, 2 weeks vs 14 days, redundant parentheses, spaces) gives no change at all;
- an edit that changes a rule gives at least one semantic change, and an edit of labels only gives none.
"""

from __future__ import annotations

import copy
import os
import re
from decimal import Decimal
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from engine.audit.diff import diff_documents
from engine.audit.versions import load_version
from engine.spec.loader import load_yaml
from yamlkit import dump_yaml

HERE = Path(__file__).parent / "diff"


def _plain(v):
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    return v


with load_version(str(HERE / "base.yaml")) as _v:
    BASE_DOC, VOCAB = _plain(_v.doc), [_plain(v) for v in _v.vocabularies]

SETTINGS = settings(max_examples=int(os.environ.get("DIFF_PROP_EXAMPLES", "40")), deadline=None, suppress_health_check=[HealthCheck.too_slow])


def diff(a: dict, b: dict):
    return list(diff_documents(a, b, VOCAB, VOCAB).changes)


# ------------------------------------------------------------------------------------------------ edits

DURATIONS = ["10 days", "15 days", "21 jours", "4 weeks", "1 month", "6 mois", "2 years"]
LIST_SECTIONS = ["transitions", "deadlines", "obligations", "payments", "cohort_constraints", "sessions", "reporting"]
MAP_SECTIONS = ["phases", "definitions"]


def _items(doc: dict, section: str):
    value = doc.get(section)
    if isinstance(value, list):
        return [x for x in value if isinstance(x, dict)]
    if isinstance(value, dict):
        return [x for x in value.values() if isinstance(x, dict)]
    return []


@st.composite
def edits(draw, semantic_only: bool = False):
    """A list of (description, function doc -> None) edits, and whether they can change an outcome."""
    kinds = ["duration", "remove", "add_phase", "threshold", "share", "territories", "group"]
    if not semantic_only:
        kinds.append("label")
    chosen = draw(st.lists(st.sampled_from(kinds), min_size=1, max_size=4))
    ops = []
    for kind in chosen:
        if kind == "duration":
            section = draw(st.sampled_from(["deadlines", "transitions"]))
            idx = draw(st.integers(0, 10))
            dur = draw(st.sampled_from(DURATIONS))

            def op(doc, section=section, idx=idx, dur=dur):
                items = [x for x in _items(doc, section)]
                if items:
                    items[idx % len(items)]["within"] = dur
            ops.append(op)
        elif kind == "remove":
            section = draw(st.sampled_from(LIST_SECTIONS + MAP_SECTIONS))
            idx = draw(st.integers(0, 10))

            def op(doc, section=section, idx=idx):
                value = doc.get(section)
                if isinstance(value, list) and value:
                    value.pop(idx % len(value))
                elif isinstance(value, dict) and value:
                    del value[sorted(value)[idx % len(value)]]
            ops.append(op)
        elif kind == "add_phase":
            name = draw(st.sampled_from(["diagnostic", "bilan", "suspension"]))
            months = draw(st.integers(1, 12))

            def op(doc, name=name, months=months):
                doc.setdefault("phases", {})[name] = {"label": f"Phase {name}", "max_duration": f"{months} months"}
            ops.append(op)
        elif kind == "threshold":
            n = draw(st.integers(16, 40))

            def op(doc, n=n):
                doc.setdefault("definitions", {}).setdefault("jeune", {"label": "Jeune"})["expr"] = \
                    f"age(birth_date, today) <= {n}"
            ops.append(op)
        elif kind == "share":
            pct = draw(st.integers(1, 99))
            idx = draw(st.integers(0, 2))

            def op(doc, pct=pct, idx=idx):
                if doc["payments"]:
                    doc["payments"][idx % len(doc["payments"])]["share"] = f"{pct}%"
            ops.append(op)
        elif kind == "territories":
            terr = draw(st.lists(st.sampled_from(["arrageois", "artois", "lens-lievin"]), unique=True))

            def op(doc, terr=terr):
                doc["territories"] = terr
            ops.append(op)
        elif kind == "group":
            g = draw(st.sampled_from(["all", "any"]))

            def op(doc, g=g):
                public = doc["eligibility"]["beneficiary"]["all"][1]
                members = public.pop("any", None) or public.pop("all")
                public[g] = members
            ops.append(op)
        else:  # label
            section = draw(st.sampled_from(LIST_SECTIONS + MAP_SECTIONS))
            idx = draw(st.integers(0, 10))
            text = draw(st.text(alphabet="abcdéè ", min_size=1, max_size=12))

            def op(doc, section=section, idx=idx, text=text):
                items = _items(doc, section)
                if items:
                    items[idx % len(items)]["label"] = "Libellé " + text
            ops.append(op)
    return ops


def apply(ops) -> dict:
    doc = copy.deepcopy(BASE_DOC)
    for op in ops:
        op(doc)
    return doc


def _inverse(c) -> tuple:
    kind = {"added": "removed", "removed": "added"}.get(c.kind, c.kind)
    return (c.section, c.path, kind, repr(c.new), repr(c.old), c.semantic, tuple((b, a) for a, b in c.constants))


def _key(c) -> tuple:
    return (c.section, c.path, c.kind, repr(c.old), repr(c.new), c.semantic, c.constants)


@SETTINGS
@given(edits())
def test_diff_with_itself_is_empty(ops):
    a = apply(ops)
    assert diff(a, a) == []


@SETTINGS
@given(edits(), edits())
def test_reverse_diff_is_the_inverse(ops_a, ops_b):
    a, b = apply(ops_a), apply(ops_b)
    forward = sorted(_inverse(c) for c in diff(a, b))
    backward = sorted(_key(c) for c in diff(b, a))
    assert forward == backward


@SETTINGS
@given(edits(semantic_only=True))
def test_a_rule_edit_is_semantic(ops):
    b = apply(ops)
    changes = diff(BASE_DOC, b)
    if changes:  # some edit sequences cancel out (e.g. the same duration written again)
        assert any(c.semantic for c in changes)


@SETTINGS
@given(st.lists(st.tuples(st.sampled_from(LIST_SECTIONS + MAP_SECTIONS), st.integers(0, 9),
                          st.text(alphabet="xyzé ", min_size=1, max_size=8)), min_size=1, max_size=5))
def test_label_edits_are_never_semantic(edits_):
    b = copy.deepcopy(BASE_DOC)
    for section, idx, text in edits_:
        items = _items(b, section)
        if items:
            items[idx % len(items)]["label"] = "Libellé " + text
    changes = diff(BASE_DOC, b)
    assert changes and not any(c.semantic for c in changes)


# ------------------------------------------------------------------------------------------------ re-spelling

_FR = {"and": "et", "or": "ou", "not": "non"}
_DUR = re.compile(r"^(\d+) (days|weeks|months|years)$")
EXPR_KEYS = {"condition", "expr", "guard", "where", "applies_if", "achieved", "objective"}


def _respell_expr(text: str, draw) -> str:
    if draw(st.booleans()):
        text = re.sub(r"\b(and|or|not)\b", lambda m: _FR[m.group(1)], text)
    if draw(st.booleans()):
        text = re.sub(r"\s*(<=|>=|==|\*)\s*", lambda m: m.group(1), text)
    if draw(st.booleans()):
        text = f"({text})"
    if draw(st.booleans()):
        text = re.sub(r"(\d+)%", lambda m: str(Decimal(m.group(1)) / 100), text)
    return text


def _respell_duration(text: str, draw) -> str:
    m = _DUR.match(text)
    if not m:
        return text
    n, unit = int(m.group(1)), m.group(2)
    options = {"days": [f"{n} jours", f"{n} days"] + ([f"{n // 7} weeks", f"{n // 7} semaines"] if n % 7 == 0 else []),
               "weeks": [f"{n} semaines", f"{7 * n} days", f"{7 * n} jours"],
               "months": [f"{n} mois"] + ([f"{n // 12} ans", f"{n // 12} years"] if n % 12 == 0 else []),
               "years": [f"{n} ans", f"{12 * n} months"]}[unit]
    return draw(st.sampled_from(options))


def _respell(value, key: str, draw):
    if isinstance(value, dict):
        keys = list(value)
        keys = draw(st.permutations(keys))
        return {k: _respell(value[k], k, draw) for k in keys}
    if isinstance(value, list):
        items = [_respell(x, key, draw) for x in value]
        if key not in ("examples", "history", "events"):  # lists matched by id or compared as sets: order is no change
            items = draw(st.permutations(items))
        return items
    if isinstance(value, str):
        if key in EXPR_KEYS:
            return _respell_expr(value, draw)
        if _DUR.match(value):
            return _respell_duration(value, draw)
        m = re.match(r"^(\d+)%$", value)
        if m and draw(st.booleans()):
            return Decimal(m.group(1)) / 100
    return value


@SETTINGS
@given(st.data())
def test_respelling_gives_no_change(data):
    doc = _respell(copy.deepcopy(BASE_DOC), "", data.draw)
    flow = data.draw(st.sampled_from([False, True, None]))
    width = data.draw(st.sampled_from([60, 120, 1000]))
    text = dump_yaml(doc, flow=flow, width=width)
    reloaded = load_yaml(str(HERE / "respelled.yaml"), text=text)
    changes = diff(BASE_DOC, _plain(reloaded))
    assert changes == [], text




# ------------------------------------------------------------------------------------------------ any document shape

_scalars = st.one_of(st.none(), st.booleans(), st.integers(-5, 50), st.decimals(0, 100, places=2),
                     st.sampled_from(["15 days", "4 semaines", "40%", "0.40", "2026-01-12", "rsa and x <= 25",
                                      "rsa et x <= 29", "(", "all", "phase", "a->b", "", "use"]),
                     st.text(max_size=6))
_keys = st.sampled_from(["id", "label", "condition", "within", "from", "to", "all", "any", "not", "phase",
                         "event", "share", "use", "name", "source", "x", "values", "expr"])
_values = st.recursive(_scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                         st.dictionaries(_keys, inner, max_size=4)), max_leaves=20)
_sections = st.sampled_from(["eligibility", "phases", "transitions", "deadlines", "funding", "inputs", "territories",
                             "definitions", "sessions", "convention", "examples", "imports", "shared", "misc",
                             "valid_from", "version", "kind"])
_documents = st.dictionaries(_sections, _values, max_size=6)


@SETTINGS
@given(_documents, _documents)
def test_any_document_shape_diffs_without_error(a, b):
    """Whatever the loader lets through (the diff runs before any schema check), the diff never fails and keeps
    its two properties."""
    forward = diff_documents(a, b).changes
    assert list(diff_documents(a, a).changes) == []
    assert sorted(_inverse(c) for c in forward) == sorted(_key(c) for c in diff_documents(b, a).changes)
