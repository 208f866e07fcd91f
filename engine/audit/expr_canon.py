"""Expressions in the semantic diff: a canonical form from the engine's AST, constant-only differences, names read.

The comparison key of an expression is a canonical tree built generically from the AST's frozen dataclasses
(``engine.expr.nodes``): spans and spellings are ignored, redundant parentheses vanish, French and English keywords give
the same tree, ``40%`` and ``0.40`` the same number. This module does not depend on the exact node classes; without a
parser (or for text that does not parse) a token-level normal form is used. Also the French rendering of values
(:class:`Norm`, dates, numbers, rates) shared by the diff modules.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from engine.fr import fr_date

@dataclass(frozen=True)
class Norm:
    """A normalised value: equal when ``key`` is equal, whatever the spelling."""

    key: Any
    text: str = field(compare=False)          # French rendering
    json: Any = field(compare=False)          # JSON value (the original spelling)
    kind: str = field(compare=False, default="text")  # expr|duration|percent|number|date|bool|set|text|null
    ast: Any = field(compare=False, default=None)     # parsed expression (for constant-only differences)


# ------------------------------------------------------------------------------------------------ expressions

_AST_SKIP = frozenset({"span", "text", "raw", "origin", "pos", "position", "spelling", "keyword", "lang",
                       "percent", "is_percent", "paren", "parens", "parenthesized", "line", "col", "column",
                       "loc", "location", "meta", "unit_text"})


def _skip(name: str) -> bool:
    return name in _AST_SKIP or name.endswith(("_span", "_spans"))
_PAREN_NAMES = frozenset({"Paren", "Parens", "Group", "Parenthesized", "ParenExpr", "Grouping"})
_FR_WORDS = {"et": "and", "ou": "or", "non": "not", "vrai": True, "faux": False, "si": "if", "alors": "then",
             "sinon": "else", "jours": "days", "jour": "days", "day": "days", "semaines": "weeks",
             "semaine": "weeks", "week": "weeks", "mois": "months", "month": "months", "ans": "years",
             "an": "years", "year": "years", "aujourd'hui": "today", "dans": "in", "où": "where"}
_OP_FIELDS = frozenset({"op", "operator", "kind", "unit", "fn", "func", "function", "name_fr", "keyword_op"})
_LITERAL_RE = re.compile(r"(Lit|Literal|Number|Num|Decimal|Date|Duration|String|Str|Bool|Percent|Const|Today)",
                         re.IGNORECASE)
_NAME_RE = re.compile(r"(Name|Var|Ident|Attr|Field|Ref|Call|Func)", re.IGNORECASE)


def _unparen(node):
    while dataclasses.is_dataclass(node) and type(node).__name__ in _PAREN_NAMES:
        inner = [getattr(node, f.name) for f in dataclasses.fields(node) if not _skip(f.name)]
        if len(inner) != 1:
            break
        node = inner[0]
    return node


def canon(node, _field: str = "") -> Any:
    """A hashable canonical tree of an AST: spans, spellings and redundant parentheses ignored."""
    node = _unparen(node)
    if dataclasses.is_dataclass(node) and not isinstance(node, type):
        return (type(node).__name__,) + tuple(
            (f.name, canon(getattr(node, f.name), f.name)) for f in dataclasses.fields(node) if not _skip(f.name))
    if isinstance(node, (list, tuple)):
        return ("[]",) + tuple(canon(x) for x in node)
    if isinstance(node, bool):
        return ("bool", node)
    if isinstance(node, (int, Decimal)):
        return ("num", Decimal(node).normalize())
    if isinstance(node, float):
        return ("num", Decimal(str(node)).normalize())
    if isinstance(node, str):
        if _field in _OP_FIELDS:
            low = node.lower()
            return ("str", _FR_WORDS.get(low, low))
        return ("str", node)
    if hasattr(node, "value") and hasattr(node, "name") and type(node).__class__.__name__ == "EnumType":
        v = node.value
        return ("enum", _FR_WORDS.get(v, v) if isinstance(v, str) else v)
    try:
        hash(node)
        return ("v", type(node).__name__, node)
    except TypeError:
        return ("r", repr(node))


def _is_literal(node) -> bool:
    if not dataclasses.is_dataclass(node):
        return False
    name = type(node).__name__
    if _NAME_RE.search(name) and not _LITERAL_RE.search(name):
        return False
    for f in dataclasses.fields(node):
        if _skip(f.name):
            continue
        v = getattr(node, f.name)
        if _is_node(v, node) or (isinstance(v, (list, tuple)) and any(_is_node(x, node) for x in v)):
            return False
    return bool(_LITERAL_RE.search(name))


def _is_node(value, parent) -> bool:
    """A child AST node (a dataclass of the AST's module), not a runtime value held by a literal (a Duration)."""
    return dataclasses.is_dataclass(value) and type(value).__module__ == type(parent).__module__


def _span_text(node, text: str) -> str | None:
    span = getattr(node, "span", None)
    if span is None:
        return None
    start = getattr(span, "start", None)
    end = getattr(span, "end", None)
    if start is None and isinstance(span, tuple) and len(span) >= 2:
        start, end = span[0], span[1]
    if isinstance(start, int) and isinstance(end, int) and 0 <= start < end <= len(text):
        return text[start:end]
    return None


def constant_changes(old: Norm, new: Norm) -> list[tuple[str, str]] | None:
    """When two expressions differ only by constants, the ``(old, new)`` constant texts; else None."""
    if old.kind != "expr" or new.kind != "expr" or old.ast is None or new.ast is None:
        return None
    a_text, a_node = old.ast
    b_text, b_node = new.ast
    if a_node is None or b_node is None:  # token fallback
        return _token_constant_changes(a_text, b_text)
    out: list[tuple[str, str]] = []

    def walk(a, b) -> bool:
        a, b = _unparen(a), _unparen(b)
        if canon(a) == canon(b):
            return True
        if _is_literal(a) and _is_literal(b):
            out.append((_literal_text(a, a_text), _literal_text(b, b_text)))
            return True
        if type(a) is not type(b) or not dataclasses.is_dataclass(a):
            if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)) and len(a) == len(b):
                return all(walk(x, y) for x, y in zip(a, b))
            return False
        for f in dataclasses.fields(a):
            if _skip(f.name):
                continue
            va, vb = getattr(a, f.name), getattr(b, f.name)
            if dataclasses.is_dataclass(va) or isinstance(va, (list, tuple)):
                if not walk(va, vb):
                    return False
            elif canon(va, f.name) != canon(vb, f.name):
                return False
        return True

    return out if walk(a_node, b_node) and out else None


def _literal_text(node, text: str) -> str:
    value = getattr(node, "value", None)
    if isinstance(value, _dt.date):
        return fr_date(value)
    return _span_text(node, text) or _canon_text(node)


def _canon_text(node) -> str:
    vals = [getattr(node, f.name) for f in dataclasses.fields(node) if not _skip(f.name)]
    return " ".join(str(v) for v in vals)


_TOKEN_RE = re.compile(r'\d{4}-\d{2}-\d{2}|\d+(?:\.\d+)?\s*%?|"[^"]*"|[A-Za-zÀ-ÿ_][\w\']*|==|!=|<=|>=|\S')


def _tokens(text: str) -> list[str]:
    toks = []
    for t in _TOKEN_RE.findall(text):
        m = re.match(r"^(\d+(?:\.\d+)?)\s*(%?)$", t)
        if m:
            d = Decimal(m.group(1)) / (100 if m.group(2) else 1)
            toks.append(str(d.normalize()))
            continue
        low = t.lower()
        word = _FR_WORDS.get(low, low)
        toks.append(word if isinstance(word, str) else str(word).lower())
    return toks


def _is_const_token(t: str) -> bool:
    return bool(re.match(r'^(\d|")', t)) or t in ("true", "false", "True", "False")


def _token_constant_changes(a: str, b: str) -> list[tuple[str, str]] | None:
    ta, tb = _tokens(a), _tokens(b)
    if len(ta) != len(tb):
        return None
    out = []
    for x, y in zip(ta, tb):
        if x != y:
            if not (_is_const_token(x) and _is_const_token(y)):
                return None
            out.append((x, y))
    return out or None


def make_expr_parser(parse: Callable[[str], Any] | None) -> Callable[[str], Norm | None]:
    """Build the expression normaliser from a parser ``text -> AST`` (None: token normal form)."""
    cache: dict[str, Norm | None] = {}

    def norm(text: str) -> Norm | None:
        if text in cache:
            return cache[text]
        result: Norm | None
        if parse is None:
            result = Norm(("expr-tokens", tuple(_tokens(text))), " ".join(text.split()), text, "expr", (text, None))
        else:
            try:
                node = parse(text)
            except Exception:  # not an expression: the caller compares it as text
                node = None
            result = None if node is None else Norm(("expr", canon(node)), " ".join(text.split()), text, "expr",
                                                    (text, node))
        cache[text] = result
        return result

    return norm


def default_expr_parser() -> Callable[[str], Any] | None:
    """The engine's expression parser, whatever its module currently exposes; None when absent."""
    import importlib

    for mod_name, fn_names in (("engine.expr.parser", ("parse_expression", "parse_expr", "parse")),
                               ("engine.expr.compiler", ("parse_expression", "parse_expr", "parse"))):
        try:
            mod = importlib.import_module(mod_name)
        except Exception:  # module not there yet, or broken: fall back
            continue
        for fn in fn_names:
            f = getattr(mod, fn, None)
            if callable(f):
                return _adapt_parse(f)
    return None


def _adapt_parse(f: Callable) -> Callable[[str], Any]:
    def parse(text: str):
        node = f(text)
        for attr in ("node", "ast", "tree"):  # a result object wrapping the AST
            if not dataclasses.is_dataclass(node) and hasattr(node, attr):
                node = getattr(node, attr)
        return node
    return parse


# ------------------------------------------------------------------------------------------------ names used

def expr_names(n: Norm) -> set[str]:
    """The names an expression reads (attributes, definitions, parameters...)."""
    if n.kind != "expr" or not n.ast:
        return set()
    text, node = n.ast
    if node is None:
        return {t for t in _tokens(text) if re.match(r"^[^\W\d]\w*$", t)}
    out: set[str] = set()
    stack = [node]
    while stack:
        x = stack.pop()
        if dataclasses.is_dataclass(x) and not isinstance(x, type):
            if type(x).__name__ == "Name" and isinstance(getattr(x, "name", None), str):
                out.add(x.name)
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x) if not _skip(f.name))
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    return out
