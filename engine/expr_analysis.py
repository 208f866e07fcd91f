"""Static facts about a checked expression tree that the code generator (`engine/compiler.py`) uses to emit less
work without changing any result: structural keys (common sub-expressions), item frames a node reads (loop
invariants) and whether a node visits list items (the evaluation-cost limit).

All the walks expand named definitions where they are used (a definition's tree is checked, and keyed, once per
use: ``Annotations.refs`` holds ``("def", name, tree, sub_annotations, text, origin)``), and are memoised by node
identity (every use of a definition has its own tree, so an ``id`` never stands for two different places).

- **Keys.** Two nodes with the same key compute the same value in the same environment: same kind of node, same
  operator or function (aliases folded), same literal value *and class* (``1`` and ``1.0`` differ, ``true`` and
  ``1`` differ), same static type, names resolved to the same thing (an attribute, ``today``, a field of the item of
  the same enclosing filter, or the same definition: keyed by its tree). Keys are small interned integers.
- **Frames.** ``max_frame(node)``: the deepest enclosing ``where`` whose item the node reads (-1: none). Inside the
  loop of filter number ``f``, a node with ``max_frame < f`` has the same value for every item.
- **Cost.** ``costly(node)``: the node may add to the per-call count of list items visited (``where``, field
  projection of a list, ``in`` a computed list, ``sum avg min max any all`` of a list). Such nodes are never hoisted
  out of a loop (the count, hence the ``eval.limit.cost`` error, must stay the same); a reused one adds the count it
  made the first time.
"""

from __future__ import annotations

from . import nodes as N
from .types import ALIASES, Annotations

_LITERALS = (N.Number, N.String, N.Boolean, N.DateLit, N.DurationLit)
_LIST_AGGREGATES = frozenset(("sum", "avg", "any", "all"))


def def_ref(node: N.Node, ann: Annotations):
    """``(tree, annotations)`` of the definition a Name stands for, or None."""
    if isinstance(node, N.Name):
        ref = ann.refs.get(id(node))
        if ref is not None and ref[0] == "def":
            return ref[2], ref[3]
    return None


def children(node: N.Node, ann: Annotations) -> list[tuple[N.Node, Annotations]]:
    d = def_ref(node, ann)
    if d is not None:
        return [d]
    return [(c, ann) for c in node.children()]


class Facts:
    """Keys, occurrence counts, frames and cost of every node of one expression (with its definitions)."""

    def __init__(self, root: N.Node, ann: Annotations):
        self._keys: dict[int, int] = {}
        self._interned: dict[tuple, int] = {}
        self.count: dict[int, int] = {}  # key -> number of nodes with that key
        self._frame: dict[int, int] = {}
        self._cost: dict[int, bool] = {}
        self.key(root, ann)

    def key(self, node: N.Node, ann: Annotations) -> int:
        k = self._keys.get(id(node))
        if k is not None:
            return k
        d = def_ref(node, ann)
        if d is not None:  # the definition's tree stands for this name: same key, same occurrence
            k = self._keys[id(node)] = self.key(*d)
            self._frame[id(node)] = self._frame[id(d[0])]
            return k
        kids = children(node, ann)
        keys = tuple(self.key(c, a) for c, a in kids)
        frame = max((self._frame[id(c)] for c, _ in kids), default=-1)
        if isinstance(node, N.Name) and ann.refs[id(node)][0] == "item":
            frame = ann.refs[id(node)][1]
        self._frame[id(node)] = frame
        k = self._keys[id(node)] = self._intern(self._shape(node, ann) + (keys,))
        self.count[k] = self.count.get(k, 0) + 1
        if isinstance(node, N.Filter) and isinstance(node.predicate, N.BoolOp) and node.predicate.op == "and":
            pk = self.prefix_key(node, ann)  # `xs where a and b` may start from `xs where a`: keep that one
            self.count[pk] = self.count.get(pk, 0) + 1
        return k

    def prefix_key(self, node: N.Filter, ann: Annotations) -> int:
        """The key ``xs where a`` would have, for ``node`` = ``xs where a and b ...``."""
        first = self.key(node.predicate.operands[0], ann)
        return self._intern(self._shape(node, ann) + ((self.key(node.source, ann), first),))

    def _intern(self, shape: tuple) -> int:
        k = self._interned.get(shape)
        if k is None:
            k = self._interned[shape] = len(self._interned)
        return k

    def _shape(self, node: N.Node, ann: Annotations) -> tuple:
        t = ann.types.get(id(node))
        if isinstance(node, _LITERALS):
            v = node.value
            return (node.__class__.__name__, v.__class__.__name__, repr(v), t)
        if isinstance(node, N.Name):
            return ("name",) + tuple(ann.refs[id(node)]) + (t,)
        if isinstance(node, N.BoolOp):
            return ("bool", node.op, t)
        if isinstance(node, N.Arith):
            return ("arith", node.ops, t)
        if isinstance(node, N.Compare):
            return ("cmp", node.op, t)
        if isinstance(node, N.Call):
            return ("call", ALIASES.get(node.func, node.func), len(node.args), t)
        if isinstance(node, N.Field):
            return ("field", node.name, t)
        return (node.__class__.__name__, t)

    def count_of(self, node: N.Node, ann: Annotations) -> int:
        return self.count.get(self.key(node, ann), 0)

    def max_frame(self, node: N.Node, ann: Annotations) -> int:
        self.key(node, ann)
        return self._frame[id(node)]

    def costly(self, node: N.Node, ann: Annotations) -> bool:
        c = self._cost.get(id(node))
        if c is None:
            if isinstance(node, (N.Filter, N.Field)):
                c = True
            elif isinstance(node, N.Compare) and node.op in ("in", "not_in"):
                c = True
            elif isinstance(node, N.Call) and (ALIASES.get(node.func, node.func) in _LIST_AGGREGATES or
                                               node.func in ("min", "max") and len(node.args) == 1):
                c = True
            else:
                c = any(self.costly(ch, a) for ch, a in children(node, ann))
            self._cost[id(node)] = c
        return c

    def invariants(self, pred: N.Node, ann: Annotations, frame: int, claimed: dict) -> list[N.Node]:
        """The largest sub-trees of ``pred`` (a filter's predicate, evaluated in loop ``frame``) that read no item of
        that loop or of an inner one, visit no list, and are worth keeping (not a literal nor a plain name)."""
        out: list[N.Node] = []
        stack = [(pred, ann)]
        while stack:
            node, a = stack.pop()
            if id(node) in claimed or isinstance(node, _LITERALS):
                continue
            trivial = isinstance(node, N.Name) and def_ref(node, a) is None
            if not trivial and self.max_frame(node, a) < frame and not self.costly(node, a):
                out.append(node)
                continue
            stack.extend(children(node, a))
        return out


def type_test(pred: N.Node, ann: Annotations, frame: int):
    """``(field, text, rest)`` when a filter predicate is ``field == "text"`` or ``field == "text" and rest...``,
    ``field`` being a text field of the filter's own item (number ``frame``); None otherwise."""
    from .types import is_text

    if isinstance(pred, N.BoolOp) and pred.op == "and":
        first, rest = pred.operands[0], pred.operands[1:]
    else:
        first, rest = pred, ()
    if not (isinstance(first, N.Compare) and first.op == "=="):
        return None
    if any(isinstance(x, N.Filter) for op in rest for x in walk_all(op, ann)):
        return None  # the rest is written twice (fast path and plain loop): no nesting of such copies
    for a, b in ((first.left, first.right), (first.right, first.left)):
        if isinstance(a, N.Name) and isinstance(b, N.String):
            ref = ann.refs.get(id(a))
            if ref and ref[0] == "item" and ref[1] == frame and is_text(ann.types[id(a)]):
                return ref[2], b.value, rest
    return None


def walk_all(node: N.Node, ann: Annotations):
    stack = [(node, ann)]
    while stack:
        n, a = stack.pop()
        yield n
        stack.extend(children(n, a))
