"""Expression text -> AST (`engine/expr/nodes.py`), with limits checked before and after the Lark LALR parse.

Limits (each gives a positioned ExpressionError, never a RecursionError or a hang):

- ``MAX_LENGTH`` characters per expression, checked before anything else (1 MB of text fails at once);
- ``MAX_BRACKETS`` nested parentheses/brackets, found by a linear pre-scan before parsing (which also reports
  unbalanced brackets at the bracket that is never closed);
- ``MAX_DEPTH`` levels of nesting in the AST (e.g. 600 chained ``not``); chains of the same operator (``+``/``-``,
  ``*``/``/``, ``and``, ``or``) are flattened into one n-ary node, so 600 chained ``+`` are one level deep;
- ``MAX_NODES`` AST nodes.

The Lark tree is converted with an explicit stack (no recursion). Syntax errors are reworded: "expected a value",
"unknown unit "dayz"" with a "did you mean", "unterminated text", "'(' is never closed"...
"""

from __future__ import annotations

import dataclasses

import functools
from datetime import date
from decimal import Decimal
from importlib import resources

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from engine.expr import nodes as N
from engine.errors import ExpressionError, TextOrigin, did_you_mean
from engine.files.cache import cache_enabled, read_entry, write_entry
from engine.expr import durations
from engine.expr.runtime import Duration

MAX_LENGTH = 10_000
MAX_BRACKETS = 32
MAX_DEPTH = 32
MAX_NODES = 5_000

UNITS = tuple(durations.UNITS)
KEYWORDS = frozenset(("and", "et", "or", "ou", "not", "non", "pas", "in", "dans", "if", "si", "then", "alors",
                      "else", "sinon", "where", "où", "true", "vrai", "false", "faux"))

_parser: Lark | None = None


def lark_parser() -> Lark:
    """The LALR parser, built once per process."""
    global _parser
    if _parser is None:
        grammar = grammar_text()
        _parser = _cached_parser(grammar)
        if _parser is None:
            _parser = Lark(grammar, parser="lalr", lexer="contextual", propagate_positions=False,
                           maybe_placeholders=True, start="start")
            _store_parser(grammar, _parser)
    return _parser


def grammar_text() -> str:
    """The grammar of the expression language (``grammar/expr.lark``) with its duration terminal filled in from
    :data:`engine.expr.durations.TOKEN_PATTERN`."""
    text = (resources.files("engine.grammar") / "expr.lark").read_text(encoding="utf-8")
    return text.replace("@DURATION@", durations.TOKEN_PATTERN)


def _grammar_key(grammar: str) -> str:
    import hashlib
    import sys

    import lark

    return hashlib.sha256(f"{grammar}\0{lark.__version__}\0{sys.version}".encode()).hexdigest()


def _cached_parser(grammar: str) -> Lark | None:
    """The parser tables from the user's cache folder (:mod:`engine.files.cache`), built once instead of every run."""
    if not cache_enabled():
        return None
    entry = read_entry("grammar", _grammar_key(grammar))
    if entry is None:
        return None
    import io

    try:
        return Lark.load(io.BytesIO(entry[1]))
    except Exception:  # noqa: BLE001 - a bad entry is rebuilt
        return None


def _store_parser(grammar: str, parser: Lark) -> None:
    if not cache_enabled():
        return
    import io

    buf = io.BytesIO()
    try:
        parser.save(buf)
    except Exception:  # noqa: BLE001 - not cached, that is all
        return
    write_entry("grammar", _grammar_key(grammar), {"lark": True}, buf.getvalue())


def _err(text: str, origin: TextOrigin | None, offset: int, message: str, *, width: int = 1,
         hint: str | None = None, code: str = "expr.syntax") -> ExpressionError:
    origin = origin or TextOrigin()
    return ExpressionError(origin.diagnostic(text, offset, message, width=width, hint=hint, code=code))


def parse(text: str, origin: TextOrigin | None = None) -> N.Node:
    """Parse ``text`` into an AST. Raises ExpressionError (positioned through ``origin``)."""
    if not isinstance(text, str):
        raise _err(str(text), origin, 0, f"une expression (un texte) est attendue, pas {type(text).__name__}",
                   code="expr.syntax")
    if len(text) > MAX_LENGTH:
        raise _err(text[:200], origin, 0, f"expression trop longue : {len(text):,} caractères (la limite est de "
                   f"{MAX_LENGTH:,})".replace(",", "\u202f"), hint="découpez-la en définitions nommées", code="expr.limit.length")
    if not text.strip():
        raise _err(text, origin, 0, "expression vide", hint='écrivez une condition comme rsa and age(date_naissance, '
                   'today) <= 25', code="expr.syntax")
    _prescan(text, origin)
    try:
        node = _cached_parse(text)
    except _Located as e:
        raise _err(text, origin, e.offset, e.message, width=e.width, hint=e.hint, code=e.code) from None
    except UnexpectedInput as e:
        raise _syntax_error(text, origin, e) from None
    return node


class _Located(Exception):
    def __init__(self, offset, message, width=1, hint=None, code="expr.syntax"):
        super().__init__(message)
        self.offset, self.message, self.width, self.hint, self.code = offset, message, width, hint, code


@functools.lru_cache(maxsize=4096)
def _cached_parse(text: str) -> N.Node:
    tree = lark_parser().parse(text)
    return _convert(tree, text)


# ------------------------------------------------------------------------------------------- pre-scan

def _prescan(text: str, origin) -> None:
    """Bracket balance and nesting depth, in one linear pass that skips quoted texts."""
    stack: list[tuple[str, int]] = []
    pairs = {")": "(", "]": "["}
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if c == '"' or c == "'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            if j >= n or text[j] != c:
                raise _err(text, origin, i, "texte non terminé : le guillemet n'est jamais fermé",
                           hint=f"ajoutez le {c} fermant à la fin du texte", code="expr.syntax.string")
            i = j + 1
            continue
        if c in "([":
            stack.append((c, i))
            if len(stack) > MAX_BRACKETS:
                raise _err(text, origin, i, f"expression trop imbriquée : plus de {MAX_BRACKETS} niveaux de "
                           "parenthèses", hint="découpez-la en définitions nommées", code="expr.limit.depth")
        elif c in ")]":
            if not stack:
                raise _err(text, origin, i, f"« {c} » sans « {pairs[c]} » ouvrant avant lui",
                           hint=f"retirez ce « {c} » ou ajoutez le « {pairs[c]} » qui manque", code="expr.syntax.brackets")
            opener, pos = stack.pop()
            if opener != pairs[c]:
                closer = ")" if opener == "(" else "]"
                raise _err(text, origin, i, f"« {c} » ferme le « {opener} » de la colonne {pos + 1}",
                           hint=f"« {closer} » est attendu ici", code="expr.syntax.brackets")
        i += 1
    if stack:
        opener, pos = stack[-1]
        closer = ")" if opener == "(" else "]"
        raise _err(text, origin, pos, f"« {opener} » n'est jamais fermé",
                   hint=f"ajoutez le « {closer} » qui manque", code="expr.syntax.brackets")


# ------------------------------------------------------------------------------------ syntax errors

_VALUE_TERMS = {"NUMBER", "PERCENT", "DATE", "STRING", "NAME", "TRUE", "FALSE", "LPAR", "LSQB", "MINUS", "NOT",
                "IF"}
_TERM_WORDS = {
    "RPAR": "« ) »", "RSQB": "« ] »", "COMMA": "« , »", "THEN": "« then »/« alors »", "ELSE": "« else »/« sinon »",
    "COMP_OP": "une comparaison (==, <, ...)", "ADD_OP": "un opérateur (+, -, ...)", "MUL_OP": "un opérateur",
    "_AND": "« and »", "_OR": "« or »", "IN": "« in »", "_WHERE": "« where »", "DOT": "« . »", "UNIT": "une unité "
    "(jours, semaines, mois, ans)", "$END": "la fin de l'expression",
}


def _describe_expected(expected) -> str:
    words: list[str] = []
    if set(expected) & {"NUMBER", "NAME", "STRING", "DATE"}:  # ("(" alone after a name means a call)
        words.append("une valeur (un nombre, un nom, un texte, une date...)")
    for t in ("RPAR", "RSQB", "COMMA", "THEN", "ELSE", "UNIT", "IN"):
        if t in expected:
            words.append(_TERM_WORDS[t])
    if not words:
        if set(expected) & {"COMP_OP", "ADD_OP", "MUL_OP", "_AND", "_OR"}:
            words.append("un opérateur (and, or, ==, +, ...)")
        elif "$END" in expected:
            words.append("la fin de l'expression")
        else:
            words.append("autre chose")
    return " ou ".join(words)


def _syntax_error(text: str, origin, e: UnexpectedInput) -> ExpressionError:
    pos = getattr(e, "pos_in_stream", None)
    if isinstance(e, UnexpectedCharacters):
        c = text[e.pos_in_stream] if e.pos_in_stream < len(text) else ""
        hint = None
        if c == "=":
            hint = 'pour comparer, écrivez « == »'
        elif c == "&":
            hint = 'écrivez « and » (ou « et »)'
        elif c == "|":
            hint = 'écrivez « or » (ou « ou »)'
        elif c == "!":
            hint = 'écrivez « not » (ou « non »), ou « != » pour « est différent de »'
        elif c == "%":
            hint = "écrivez le pourcentage juste après le nombre, par exemple 40%"
        elif c in "≥≤≠":
            hint = "écrivez " + {"≥": ">=", "≤": "<=", "≠": "!="}[c]
        elif c in "«»“”‘’":
            hint = 'écrivez les textes entre guillemets droits : "..."'
        elif c == "'" or c == '"':
            hint = "un texte se termine sur la même ligne"
        return _err(text, origin, e.pos_in_stream, f"caractère inattendu « {c} »", hint=hint,
                    code="expr.syntax.character")
    if isinstance(e, UnexpectedToken) and e.token.type != "$END":
        tok: Token = e.token
        start = tok.start_pos if tok.start_pos is not None else 0
        width = max(1, len(str(tok)))
        before = text[:start].rstrip()
        if tok.type == "NAME" and before and before[-1].isdigit() and "UNIT" in e.expected:
            hint = did_you_mean(str(tok).lower(), UNITS) or "unités : jours/days, semaines/weeks, mois/months, ans/years"
            return _err(text, origin, start, f"unité inconnue « {tok} »", width=width, hint=hint,
                        code="expr.syntax.unit")
        if tok.type == "_WHERE":
            return _err(text, origin, start, f"« {tok} » n'est pas attendu ici : un filtre se met entre parenthèses", width=width,
                        hint='par exemple count(events where type == "rdv") >= 1', code="expr.syntax.where")
        if tok.type == "NAME" and str(tok).lower() in ("is", "est", "equals", "egal"):
            return _err(text, origin, start, f"mot inattendu : « {tok} »", width=width,
                        hint="pour comparer, écrivez « == » (ou « != »)", code="expr.syntax")
        what = f"« {tok} »" if tok.type != "NAME" else f"le nom « {tok} »"
        hint = None
        if tok.type in ("NAME", "NUMBER", "STRING", "DATE", "PERCENT", "TRUE", "FALSE") and \
                set(e.expected) & {"_AND", "COMP_OP", "ADD_OP"}:
            return _err(text, origin, start, f"{what} n'est pas attendu ici : il manque un opérateur (and, or, ==, +, ...) "
                        "avant", width=width, hint="ou une virgule, si c'est l'argument suivant d'une fonction",
                        code="expr.syntax")
        if tok.type == "COMMA" and before[-1:].isdigit() and text[tok.end_pos:tok.end_pos + 1].isdigit():
            hint = "les décimales s'écrivent avec un point : 0.5, pas 0,5"
        if tok.type == "COMP_OP" and "COMP_OP" not in e.expected and before:
            hint = "les comparaisons ne s'enchaînent pas : écrivez a <= x and x <= b"
        return _err(text, origin, start, f"{what} n'est pas attendu ici : il faut {_describe_expected(e.expected)}",
                    width=width, hint=hint, code="expr.syntax")
    # end of input
    expected = getattr(e, "expected", None) or ()
    end = len(text.rstrip())
    last = text.rstrip()[-1:] if text.strip() else ""
    start = end
    word = last.isalnum() or last == "_"
    while start > 0 and not text[start - 1].isspace() and (text[start - 1].isalnum() or text[start - 1] == "_") == word:
        start -= 1
    hint = None
    if last in "+-*/<>=" or text.rstrip().lower().endswith((" and", " or", " et", " ou", " not", " non")):
        hint = "l'opérateur final n'a rien à sa droite"
    return _err(text, origin, start, f"fin inattendue de l'expression : il faut {_describe_expected(expected)}",
                width=max(1, end - start), hint=hint, code="expr.syntax.end")


# --------------------------------------------------------------------------------- tree -> AST nodes

def _span(t) -> tuple[int, int]:
    """Span of a token, or of a leaf tree (one token)."""
    if isinstance(t, Token):
        return (t.start_pos, t.end_pos)
    return _span(t.children[0])


def _kid_span(k):
    if isinstance(k, Token):
        return (k.start_pos, k.end_pos)
    if isinstance(k, N.Node):
        return k.span
    if isinstance(k, tuple) and k:  # an argument list
        return (k[0].span[0], k[-1].span[1])
    return None


def _span_of(kids) -> tuple[int, int]:
    spans = [s for s in map(_kid_span, kids) if s is not None]
    return (spans[0][0], spans[-1][1])


def _string_value(raw: str) -> str:
    body = raw[1:-1]
    if "\\" not in body:
        return body
    out, i = [], 0
    esc = {"n": "\n", "t": "\t", "\\": "\\", '"': '"', "'": "'"}
    while i < len(body):
        c = body[i]
        if c == "\\" and i + 1 < len(body):
            out.append(esc.get(body[i + 1], body[i + 1]))
            i += 2
        else:
            out.append(c)
            i += 1
    return "".join(out)


def _leaf(t: Tree) -> N.Node:
    tok = t.children[0]
    span = _span(t)
    kind = t.data
    s = str(tok)
    if kind == "number":
        if len(s) > 30:
            raise _Located(span[0], "nombre trop long (plus de 30 chiffres)", width=len(s), code="expr.limit.number")
        return N.Number(span, int(s) if "." not in s else Decimal(s), s)
    if kind == "duration_lit":
        parts = durations.parse_parts(s)
        if parts is None or any(n >= 10**6 for n, _unit in parts):
            raise _Located(span[0], "durée trop longue", width=len(s), code="expr.limit.number")
        return N.DurationLit(span, Duration(*durations.months_days(s)), s)
    if kind == "percent":
        if len(s) > 30:
            raise _Located(span[0], "nombre trop long (plus de 30 chiffres)", width=len(s), code="expr.limit.number")
        return N.Number(span, Decimal(s[:-1]).scaleb(-2), s)
    if kind == "date":
        try:
            return N.DateLit(span, date.fromisoformat(s))
        except ValueError:
            raise _Located(span[0], f"date invalide {s}", width=len(s), hint="une date s'écrit AAAA-MM-JJ avec un "
                           "jour qui existe dans ce mois, par exemple 2026-02-28", code="expr.syntax.date") from None
    if kind == "string":
        return N.String(span, _string_value(s))
    if kind == "true":
        return N.Boolean(span, True)
    if kind == "false":
        return N.Boolean(span, False)
    if kind == "name":
        return N.Name(span, s)
    raise AssertionError(kind)


_LEAVES = {"number", "percent", "date", "string", "true", "false", "name", "duration_lit"}


def _convert(root, text: str) -> N.Node:
    """Post-order conversion with an explicit stack; checks MAX_DEPTH and MAX_NODES as it goes."""
    done: dict[int, tuple] = {}  # id(tree) -> (node or args tuple, depth)
    count = 0
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        t, expanded = stack.pop()
        if not isinstance(t, Tree):
            continue
        if not expanded and t.data not in _LEAVES:
            stack.append((t, True))
            for c in t.children:
                if isinstance(c, Tree):
                    stack.append((c, False))
            continue
        kids = [done.pop(id(c)) if isinstance(c, Tree) else c for c in t.children]
        depth = 1 + max((k[1] for k in kids if isinstance(k, tuple)), default=0)
        node = _build(t, [k[0] if isinstance(k, tuple) else k for k in kids], text)
        if isinstance(node, N.Node) and t.data != "paren":
            count += 1
            if count > MAX_NODES:
                raise _Located(node.span[0], f"expression trop grande : plus de {MAX_NODES:,} éléments".replace(",", "\u202f"),
                               hint="découpez-la en définitions nommées", code="expr.limit.nodes")
            if depth > MAX_DEPTH:
                raise _Located(node.span[0], f"expression trop imbriquée : plus de {MAX_DEPTH} niveaux",
                               hint="simplifiez-la (« not not x » vaut x) ou découpez-la en définitions nommées",
                               code="expr.limit.depth")
        elif t.data in ("paren", "args"):
            depth -= 1  # brackets and argument lists are not a level of their own
        done[id(t)] = (node, depth)
    return done[id(root)][0]


def _build(t: Tree, kids: list, text: str):
    d = t.data
    if d in _LEAVES:
        return _leaf(t)
    if d == "args":
        return tuple(k for k in kids if k is not None)
    span = _span_of(kids)
    if d in ("paren", "list", "call", "if_expr"):  # drop the bracket and keyword tokens
        name = kids[0] if d == "call" else None
        kids = [k for k in kids if not isinstance(k, Token)]
        if d == "paren":
            # the bracketed expression spans its brackets, so that the text of an enclosing node (the predicate of
            # `(participants where a and (b or c)).x`, cut from the spec by span) keeps its closing bracket
            inner = kids[0]
            return dataclasses.replace(inner, span=span) if isinstance(inner, N.Node) else inner
        if d == "list":
            return N.ListLit(span, kids[0] if kids and kids[0] is not None else ())
        if d == "call":
            return N.Call(span, str(name), kids[0] or (), _span(name))
        return N.If(span, kids[0], kids[1], kids[2])
    if d == "duration":
        num, unit = kids
        s = str(num)
        if "." in s:
            raise _Located(span[0], f"une durée compte des unités entières, pas {s}", width=span[1] - span[0],
                           hint="écrivez-la dans une unité plus petite, par exemple 45 jours au lieu de 1.5 mois",
                           code="expr.syntax.duration")
        # a whole number here is not written with the digits 0-9 (the DURATION terminal takes the others)
        raise _Located(span[0], f"une durée s'écrit avec les chiffres de 0 à 9, pas {s}", width=span[1] - span[0],
                       code="expr.syntax.duration")
    if d == "field":
        target, name = kids
        if str(name).lower() in KEYWORDS:
            raise _Located(name.start_pos, f"« {name} » est un mot réservé, pas un nom de champ", code="expr.syntax")
        return N.Field(span, target, str(name), _span(name))
    if d == "neg":
        operand = kids[1]
        if isinstance(operand, N.Number):
            return N.Number(span, -operand.value, "-" + operand.text)
        return N.Neg(span, operand)
    if d == "not_op":
        return N.Not(span, kids[1])
    if d == "compare":
        left, op, right = kids
        return N.Compare(span, str(op), left, right, _span(op))
    if d == "in_op":
        left, op, right = kids
        return N.Compare(span, "in", left, right, _span(op))
    if d == "not_in_op":
        left, op1, op2, right = kids
        return N.Compare(span, "not_in", left, right, (op1.start_pos, op2.end_pos))
    if d == "arith":
        operands, ops, op_spans = [], [], []
        for k in kids:
            if isinstance(k, Token):
                ops.append(str(k))
                op_spans.append(_span(k))
            else:
                operands.append(k)
        return N.Arith(span, tuple(ops), tuple(operands), tuple(op_spans))
    if d == "and_chain":
        return N.BoolOp(span, "and", tuple(kids))
    if d == "or_chain":
        return N.BoolOp(span, "or", tuple(kids))
    if d == "filter":
        return N.Filter(span, kids[0], kids[1])
    raise AssertionError(d)
