"""Expressions in the semantic diff: a canonical form from the engine's AST, constant-only differences, names read.

The comparison key of an expression is a canonical tree built generically from the AST's frozen dataclasses
(``engine.expr.nodes``): spans and spellings are ignored, redundant parentheses vanish, French and English keywords give
the same tree, ``40%`` and ``0.40`` the same number. Expressions are read with the engine's parser
(:func:`engine.expr.parser.parse`); text that does not parse is compared as text by the caller, and
``make_expr_parser(None)`` gives a token-level normal form for a diff run without the parser. Also :class:`Norm`, the
normalised value shared by the diff modules.
"""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Callable

from engine.errors import ExpressionError
from engine.expr import nodes as N
from engine.expr.parser import parse as parse_expression
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

_AST_SKIP = frozenset({"span", "text"})  # where a node is and how it was spelt (``N.Number.text``)


def _skip(name: str) -> bool:
    return name in _AST_SKIP or name.endswith(("_span", "_spans"))


_FR_WORDS = {"et": "and", "ou": "or", "non": "not", "vrai": True, "faux": False, "si": "if", "alors": "then",
             "sinon": "else", "jours": "days", "jour": "days", "day": "days", "semaines": "weeks",
             "semaine": "weeks", "week": "weeks", "mois": "months", "month": "months", "ans": "years",
             "an": "years", "year": "years", "aujourd'hui": "today", "dans": "in", "où": "where"}
_OP_FIELDS = frozenset({"op", "func"})  # the operator of BoolOp and Compare, the function of Call


def canon(node, _field: str = "") -> Any:
    """A hashable canonical tree of an AST: spans and spellings ignored (the parser keeps no parentheses)."""
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
    try:
        hash(node)
        return ("v", type(node).__name__, node)
    except TypeError:
        return ("r", repr(node))


_LITERALS = (N.Number, N.String, N.Boolean, N.DateLit, N.DurationLit)


def _is_literal(node) -> bool:
    """A constant of the expression: a number, text, boolean, date or duration literal, or the empty list."""
    return isinstance(node, _LITERALS) or (isinstance(node, N.ListLit) and not node.items)


def _span_text(node: N.Node, text: str) -> str | None:
    start, end = node.span
    return text[start:end] if 0 <= start < end <= len(text) else None


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
    if isinstance(node, N.DateLit):
        return fr_date(node.value)
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
            except ExpressionError:  # not an expression: the caller compares it as text
                node = None
            result = None if node is None else Norm(("expr", canon(node)), " ".join(text.split()), text, "expr",
                                                    (text, node))
        cache[text] = result
        return result

    return norm


def default_expr_parser() -> Callable[[str], N.Node]:
    """The engine's expression parser (:func:`engine.expr.parser.parse`), for :func:`make_expr_parser`."""
    return parse_expression


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
            if isinstance(x, N.Name):
                out.add(x.name)
            stack.extend(getattr(x, f.name) for f in dataclasses.fields(x) if not _skip(f.name))
        elif isinstance(x, (list, tuple)):
            stack.extend(x)
    return out
