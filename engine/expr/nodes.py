"""The typed AST of the expression language: frozen dataclasses, each with its source ``span``.

``span`` is ``(start_offset, end_offset)`` in the expression text (0-based, end exclusive). The parser
(`engine/expr/parser.py`) builds these nodes directly from the Lark tree; the type checker (`engine/expr/types.py`) and the
compiler (`engine/expr/codegen.py`) walk them. Chains of the same kind of binary operator are n-ary nodes
(``BoolOp``, ``Arith``) so that 600 chained ``+`` or ``and`` stay one level deep.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Union

from engine.expr.runtime import Duration

Span = tuple[int, int]


@dataclass(frozen=True)
class Node:
    span: Span

    def children(self) -> tuple["Node", ...]:
        return ()


@dataclass(frozen=True)
class Number(Node):
    value: Union[int, Decimal]  # percentages are already divided by 100
    text: str


@dataclass(frozen=True)
class String(Node):
    value: str


@dataclass(frozen=True)
class Boolean(Node):
    value: bool


@dataclass(frozen=True)
class DateLit(Node):
    value: date


@dataclass(frozen=True)
class DurationLit(Node):
    value: Duration
    text: str


@dataclass(frozen=True)
class Name(Node):
    name: str


@dataclass(frozen=True)
class ListLit(Node):
    items: tuple[Node, ...]

    def children(self):
        return self.items


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class Neg(Node):
    operand: Node

    def children(self):
        return (self.operand,)


@dataclass(frozen=True)
class BoolOp(Node):
    """``op`` is "and" or "or"; two or more operands."""

    op: str
    operands: tuple[Node, ...]

    def children(self):
        return self.operands


@dataclass(frozen=True)
class Arith(Node):
    """``operands[0] ops[0] operands[1] ops[1] ...`` evaluated left to right; all ops are from the same
    precedence level (``+``/``-`` or ``*``/``/``). ``op_spans[i]`` is the span of ``ops[i]``."""

    ops: tuple[str, ...]
    operands: tuple[Node, ...]
    op_spans: tuple[Span, ...]

    def children(self):
        return self.operands


@dataclass(frozen=True)
class Compare(Node):
    """``op`` is one of == != < <= > >= in not_in."""

    op: str
    left: Node
    right: Node
    op_span: Span

    def children(self):
        return (self.left, self.right)


@dataclass(frozen=True)
class If(Node):
    cond: Node
    then: Node
    else_: Node

    def children(self):
        return (self.cond, self.then, self.else_)


@dataclass(frozen=True)
class Call(Node):
    func: str
    args: tuple[Node, ...]
    func_span: Span

    def children(self):
        return self.args


@dataclass(frozen=True)
class Filter(Node):
    """``source where predicate``: the fields of each item are in scope in ``predicate``."""

    source: Node
    predicate: Node

    def children(self):
        return (self.source, self.predicate)


@dataclass(frozen=True)
class Field(Node):
    """``target.name``: field of a record, or projection of a list of records."""

    target: Node
    name: str
    name_span: Span

    def children(self):
        return (self.target,)


def walk(node: Node):
    """All nodes of the tree, parents before children (iterative: no recursion limit)."""
    stack = [node]
    while stack:
        n = stack.pop()
        yield n
        stack.extend(reversed(n.children()))
