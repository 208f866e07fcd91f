"""The safe YAML loader: scalar resolution (YAML 1.2 core), positions, origins, every rejection, BOM/CRLF."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from engine.errors import EngineError, SpecError
from engine.spec.loader import MAX_DEPTH, YList, YMap, load_yaml

# ---------------------------------------------------------------------------------------------- scalars
SCALARS = [
    # (plain text, expected Python value)
    ("yes", "yes"), ("no", "no"), ("on", "on"), ("off", "off"), ("y", "y"), ("n", "n"), ("Yes", "Yes"),
    ("true", True), ("True", True), ("TRUE", True), ("false", False), ("False", False), ("FALSE", False),
    ("tRUE", "tRUE"),
    ("null", None), ("Null", None), ("NULL", None), ("~", None), ("", None),
    ("0", 0), ("42", 42), ("-7", -7), ("+5", 5), ("010", 10), ("007", 7),
    ("1:30", "1:30"), ("190:20:30", "190:20:30"), ("1_000", "1_000"),
    ("0.1", Decimal("0.1")), ("1.10", Decimal("1.10")), ("-2.5", Decimal("-2.5")), (".5", Decimal("0.5")),
    ("1e3", Decimal("1E+3")), ("5270.00", Decimal("5270.00")), ("1.", Decimal("1")),
    ("2026-01-12", "2026-01-12"), ("2026-02-30", "2026-02-30"), ("2026-01-12T10:00:00", "2026-01-12T10:00:00"),
    ("nan", "nan"), ("inf", "inf"), ("40%", "40%"), ("15 days", "15 days"), ("=", "="),
    ("123456789012345678901234567890", 123456789012345678901234567890),  # exactly 30 digits
]


@pytest.mark.parametrize("text,expected", SCALARS)
def test_plain_scalars_follow_yaml_12_core(text, expected):
    value = load_yaml("t.yaml", f"k: {text}\n")["k"]
    assert value == expected and type(value) is type(expected)


@pytest.mark.parametrize("text", ["'yes'", '"true"', "'010'", '"1.5"', "'null'", '".nan"', "|\n  true\n"])
def test_quoted_and_block_scalars_are_always_text(text):
    assert isinstance(load_yaml("t.yaml", f"k: {text}\n")["k"], str)


def test_decimal_is_exact_not_float():
    d = load_yaml("t.yaml", "a: 0.1\nb: 0.2\nc: 0.3\n")
    assert d["a"] + d["b"] == d["c"]


# ---------------------------------------------------------------------------------------------- rejections
REJECTED = [
    # (text, code, line, col)
    ("a: 1\na: 2\n", "yaml.duplicate_key", 2, 1),
    ("a:\n  b: 1\n  c: 2\n  b: 3\n", "yaml.duplicate_key", 4, 3),
    ("a: [{x: 1, x: 2}]\n", "yaml.duplicate_key", 1, 12),
    ("'a': 1\n\"a\": 2\n", "yaml.duplicate_key", 2, 1),
    ("a: &x 1\n", "yaml.anchor", 1, 4),
    ("a: 1\nb: *x\n", "yaml.alias", 2, 4),
    ("a: !!python/object:os.system x\n", "yaml.tag", 1, 4),
    ("a: !!python/name:os.system\n", "yaml.tag", 1, 4),
    ("a: !include x.yaml\n", "yaml.tag", 1, 4),
    ("a: !!binary aGk=\n", "yaml.tag", 1, 4),
    ("a: !!set {x: null}\n", "yaml.tag", 1, 4),
    ("a: !!str 1\n", "yaml.tag", 1, 4),
    ("a: !!int '1'\n", "yaml.tag", 1, 4),
    ("a: ! x\n", "yaml.tag", 1, 4),
    ("a: !!omap [{x: 1}]\n", "yaml.tag", 1, 4),
    ("a: 1\n---\nb: 2\n", "yaml.multi_document", 2, 1),
    ("", "yaml.empty", 1, 1),
    ("   \n\n", "yaml.empty", 1, 1),
    ("# comment\n", "yaml.empty", 1, 1),
    ("\r\ufeff", "yaml.empty", 1, 1),
    ("- a\n", "yaml.top_level", 1, 1),
    ("hello\n", "yaml.top_level", 1, 1),
    ("42\n", "yaml.top_level", 1, 1),
    ("---\n", "yaml.top_level", 2, 1),
    ("1: a\n", "yaml.key_type", 1, 1),
    ("true: a\n", "yaml.key_type", 1, 1),
    ("~: a\n", "yaml.key_type", 1, 1),
    ("1.5: a\n", "yaml.key_type", 1, 1),
    ("? [a]\n: b\n", "yaml.key_type", 1, 3),
    ("? {a: 1}\n: b\n", "yaml.key_type", 1, 3),
    ("a: .nan\n", "yaml.nan", 1, 4),
    ("a: .NaN\n", "yaml.nan", 1, 4),
    ("a: .inf\n", "yaml.nan", 1, 4),
    ("a: -.Inf\n", "yaml.nan", 1, 4),
    ("a: +.INF\n", "yaml.nan", 1, 4),
    ("a: 1234567890123456789012345678901\n", "yaml.number_too_large", 1, 4),
    ("a: 1.234567890123456789012345678901\n", "yaml.number_too_large", 1, 4),
    ("a: 1e31\n", "yaml.number_too_large", 1, 4),
    ("a: 1e-40\n", "yaml.number_too_large", 1, 4),
    ("a: 9" + "9" * 5000 + "\n", "yaml.number_too_large", 1, 4),
    ("a: 0x1F\n", "yaml.number_base", 1, 4),
    ("a: 0o17\n", "yaml.number_base", 1, 4),
    ("a: " + "[" * (MAX_DEPTH + 5) + "]" * (MAX_DEPTH + 5) + "\n", "yaml.depth", 1, 4 + MAX_DEPTH),
    ("a: x\x01y\n", "yaml.control_char", 1, 5),
    ("a: 1\nb: \x1b[31m\n", "yaml.control_char", 2, 4),
    ("a: x\u2028y\n", "yaml.control_char", 1, 5),
    ("a: b: c\n", "yaml.syntax", 1, 5),
    ("a:\n  - x\n b: 2\n", "yaml.syntax", 3, 2),
    ("a: 'x\n", "yaml.syntax", 2, 1),
    ("a: [x, y\n", "yaml.syntax", 2, 1),
    ("a: {x: 1\n", "yaml.syntax", 2, 1),
    ("a:\n\t- x\n", "yaml.syntax", 2, 1),
    ("a: @x\n", "yaml.syntax", 1, 4),
    ("a: `x\n", "yaml.syntax", 1, 4),
    ('a: "\\q"\n', "yaml.syntax", 1, 6),
]


@pytest.mark.parametrize("text,code,line,col", REJECTED)
def test_rejected_with_position(text, code, line, col):
    with pytest.raises(SpecError) as ei:
        load_yaml("bad.yaml", text)
    d = ei.value.diagnostics[0]
    assert (d.code, d.file, d.line, d.col) == (code, "bad.yaml", line, col), d.format()
    assert d.message and "Traceback" not in d.format()


def test_invalid_utf8_reports_the_byte_position():
    with pytest.raises(SpecError) as ei:
        load_yaml("bad.yaml", "a: 1\nb: caf".encode() + b"\xe9 x\n")
    d = ei.value.diagnostics[0]
    assert (d.code, d.line, d.col) == ("yaml.encoding", 2, 7)
    assert "0xE9" in d.message


def test_several_problems_of_a_file_are_all_reported():
    with pytest.raises(SpecError) as ei:
        load_yaml("bad.yaml", "a: 1\na: 2\nb: !!str x\nc: .nan\n1: x\n")
    codes = [d.code for d in ei.value.diagnostics]
    assert codes == ["yaml.duplicate_key", "yaml.tag", "yaml.nan", "yaml.key_type"]


def test_alias_bomb_fails_at_the_first_anchor_without_expanding():
    levels = ['a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 30):  # 9**30 nodes if it were expanded
        levels.append(f"{chr(97 + i % 26)}{i}: &{chr(97 + i % 26)}{i} [" + ", ".join(
            [f"*{levels[-1].split('&')[1].split()[0]}"] * 9) + "]")
    with pytest.raises(SpecError) as ei:
        load_yaml("bomb.yaml", "\n".join(levels) + "\n")
    assert ei.value.diagnostics[0].code == "yaml.anchor"
    assert len(ei.value.diagnostics) <= 3


def test_deep_nesting_is_a_clear_error_not_a_recursion_error():
    for text in ("a: " + "[" * 10000 + "]" * 10000, "a: " + "{b: " * 5000 + "1" + "}" * 5000):
        with pytest.raises(SpecError) as ei:
            load_yaml("deep.yaml", text + "\n")
        assert ei.value.diagnostics[0].code == "yaml.depth"


def test_depth_limit_is_exact():
    ok = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"  # the top mapping is level 1
    assert isinstance(load_yaml("t.yaml", ok)["a"], list)
    with pytest.raises(SpecError):
        load_yaml("t.yaml", "a: " + "[" * MAX_DEPTH + "]" * MAX_DEPTH + "\n")


# ---------------------------------------------------------------------------------------------- positions
DOC = """\
id: test
phases:
  accueil:
    label: Accueil
    max_duration: 6 months
transitions:
  - from: accueil
    to: sortie
  - {from: sortie, to: accueil}
"""


def test_every_node_keeps_its_position():
    d = load_yaml("p.yaml", DOC)
    assert isinstance(d, YMap) and isinstance(d["transitions"], YList)
    assert (d.key_pos("phases").line, d.key_pos("phases").col) == (2, 1)
    acc = d["phases"]["accueil"]
    assert (acc.key_pos("max_duration").line, acc.key_pos("max_duration").col) == (5, 5)
    assert (acc.value_pos("max_duration").line, acc.value_pos("max_duration").col) == (5, 19)
    assert acc.value_width("max_duration") == len("6 months")
    tr = d["transitions"]
    assert (tr.item_pos(0).line, tr.item_pos(0).col) == (7, 5)
    assert (tr.item_pos(1).line, tr.item_pos(1).col) == (9, 5)
    assert (tr[1].value_pos("to").line, tr[1].value_pos("to").col) == (9, 24)
    assert str(tr[1].value_pos("to")) == "p.yaml:9:24"


def _bom_crlf(text: str) -> bytes:
    return b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode()


def _positions(node, out=None):
    out = [] if out is None else out
    if isinstance(node, YMap):
        for k, v in node.items():
            out.append((k, node.key_pos(k), node.value_pos(k)))
            _positions(v, out)
    elif isinstance(node, YList):
        for i, v in enumerate(node):
            out.append((i, node.item_pos(i)))
            _positions(v, out)
    return out


@pytest.mark.parametrize("variant", [_bom_crlf, lambda t: t.replace("\n", "\r\n"), lambda t: "\ufeff" + t,
                                     lambda t: t.replace("\n", "\r")])
def test_bom_and_crlf_change_nothing(variant):
    plain = load_yaml("p.yaml", DOC)
    other = load_yaml("p.yaml", variant(DOC))
    assert other == plain
    assert _positions(other) == _positions(plain)


# ---------------------------------------------------------------------------------------------- origins
ORIGIN_DOC = '''\
a: rsa and  dept == "62"
b: "x \\"q\\" \\u00e9 BAD"
c: 'it''s BAD'
d: >-
  first line
  second BAD

  third
e: |
  l1
    l2 BAD
f: plain multi
  line BAD
  here
g: "dq multi
   line BAD"
h:   spaced BAD
'''
ORIGINS = [("a", "dept", 1, 13), ("b", "BAD", 2, 20), ("c", "BAD", 3, 11), ("d", "BAD", 6, 10),
           ("e", "BAD", 11, 8), ("f", "BAD", 13, 8), ("g", "BAD", 16, 9), ("h", "BAD", 17, 13)]


@pytest.mark.parametrize("key,needle,line,col", ORIGINS)
def test_origin_maps_offsets_into_the_file(key, needle, line, col):
    d = load_yaml("o.yaml", ORIGIN_DOC)
    value = d[key]
    got_line, got_col, src = d.origin(key).locate(value, value.index(needle))
    assert (got_line, got_col) == (line, col)
    assert src[got_col - 1:got_col - 1 + len(needle)] == needle


def test_origin_diagnostic_points_into_the_file_with_crlf():
    d = load_yaml("o.yaml", _bom_crlf(ORIGIN_DOC))
    diag = d.origin("f").diagnostic(d["f"], d["f"].index("BAD"), "unknown name", width=3)
    assert (diag.file, diag.line, diag.col) == ("o.yaml", 13, 8)
    assert "^^^" in diag.format()


def test_list_item_origin():
    d = load_yaml("o.yaml", "xs:\n  - count(events) >= 2\n  - 'a BAD'\n")
    assert d["xs"].origin(1).locate(d["xs"][1], 2)[:2] == (3, 8)


# ---------------------------------------------------------------------------------------------- robustness
@pytest.mark.parametrize("text", ["---", "--- \n", "---\n...\n", "--- ~"])
def test_an_empty_document_is_a_positioned_error(text):
    with pytest.raises(EngineError) as e:
        load_yaml("empty.yaml", text)
    assert e.value.diagnostics[0].code == "yaml.top_level"


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab:-[]{},&*!|>'\"#\n \t?%@`\\0.1e~\x00\u00e9\ufeff\r")), max_size=60))
def test_arbitrary_text_raises_only_engine_errors(text):
    """Any text gives a mapping whose keys are texts placed in the file, or positioned YAML errors (never another
    exception, never an error outside the text)."""
    lines = text.replace("\r\n", "\n").replace("\r", "\n").count("\n") + 1
    try:
        data = load_yaml("fuzz.yaml", text)
    except SpecError as e:
        assert e.diagnostics and all(d.code.startswith("yaml.") and d.file == "fuzz.yaml" and d.message
                                     and 1 <= d.line <= lines + 1 and d.col >= 1 for d in e.diagnostics), e.format()
        return
    assert isinstance(data, YMap)
    for key in data:
        assert isinstance(key, str), key
        pos = data.key_pos(key)
        assert pos.file == "fuzz.yaml" and 1 <= pos.line <= lines and pos.col >= 1, (key, pos)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=40))
def test_arbitrary_bytes_raise_only_engine_errors(data):
    """Any bytes give a mapping holding ``a``, or positioned YAML errors; bytes that are not UTF-8 always fail so."""
    try:
        data.decode("utf-8")
        utf8 = True
    except UnicodeDecodeError:
        utf8 = False
    try:
        doc = load_yaml("fuzz.yaml", b"a: " + data)
    except SpecError as e:
        assert e.diagnostics and all(d.code.startswith("yaml.") and d.file == "fuzz.yaml" and d.line >= 1
                                     and d.col >= 1 and d.message for d in e.diagnostics), e.format()
        assert utf8 or "yaml.encoding" in {d.code for d in e.diagnostics}, e.format()
        return
    assert utf8, "bytes that are not UTF-8 were accepted"
    assert isinstance(doc, YMap) and "a" in doc


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from(list("ab: -'\"|>\n  \\nxé#,")), max_size=60))
def test_origins_point_at_the_characters_of_the_value(text):
    """Every letter of a string value is found at the file position its origin gives (all scalar styles)."""
    try:
        d = load_yaml("f.yaml", "k: " + text)
    except EngineError:
        return
    v = d.get("k")
    if not isinstance(v, str):
        return
    origin = d.origin("k")
    for i, c in enumerate(v):
        if c in "abxé":
            line, col, src = origin.locate(v, i)
            assert src is not None and src[col - 1] == c


def test_size_limits(monkeypatch, tmp_path):
    import engine.spec.yaml_safe as ys

    monkeypatch.setattr(ys, "MAX_NODES", 50)
    with pytest.raises(SpecError) as ei:
        load_yaml("big.yaml", "a: [" + ", ".join(["1"] * 60) + "]\n")
    assert ei.value.diagnostics[0].code == "yaml.too_large"
    assert load_yaml("ok.yaml", "a: [" + ", ".join(["1"] * 40) + "]\n")["a"] == [1] * 40
    monkeypatch.setattr(ys, "MAX_FILE_BYTES", 100)
    path = tmp_path / "big.yaml"
    path.write_text("a: " + "x" * 200 + "\n", encoding="utf-8")
    with pytest.raises(SpecError) as ei:
        load_yaml(path)
    assert ei.value.diagnostics[0].code == "yaml.too_large" and "100" in ei.value.diagnostics[0].message


def test_unreadable_files_are_engine_errors(tmp_path):
    for path, code in ((tmp_path / "missing.yaml", "file.missing"), (tmp_path, "file.unreadable")):
        with pytest.raises(SpecError) as ei:
            load_yaml(path)
        assert ei.value.diagnostics[0].code == code and ei.value.diagnostics[0].file == str(path)
