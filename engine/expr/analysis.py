"""Static facts about a checked expression tree that the code generator (`engine/expr/codegen.py`) uses to emit less
work without changing any result: structural keys (common sub-expressions), the item frames a node reads (loop
invariants), whether a node visits list items (the evaluation-cost limit), and which definitions are compiled as
functions of their own (docs/compiler.md).

All the walks expand named definitions where they are used: a definition is checked once per use, in the frames of
that use (``Annotations.refs`` holds ``("def", name, tree, sub_annotations, text, origin)``). The tree of a
definition is the parser's, shared by all its uses (the parser caches trees by text); only the annotations are
per use. So a *place* in the expanded expression is the pair ``(id(node), id(annotations))``, never ``id(node)``
alone, and every fact here is memoised by place.

- **Keys.** Two places with the same key compute the same value in the same environment and the same items of the
  enclosing filters: same kind of node, same operator or function (aliases folded), same literal value *and class*
  (``1`` and ``1.0`` differ, ``true`` and ``1`` differ), same static type, names resolved to the same thing (an
  attribute, ``today``, a field of the item of the filter at the same depth, or the same definition: keyed by its
  tree). Keys are small interned integers.
- **Free frames.** ``mask(node)``: the enclosing ``where`` loops (by depth, bit ``f`` for loop ``f``) whose item
  the node reads; the loops inside the node itself do not count. Inside the loop of depth ``f``, a node whose mask
  has no bit ``>= f`` has the same value for every item of that loop and of the loops inside it.
- **Cost.** ``costly(node)``: the node may add to the per-call count of list items visited (``where``, field
  projection of a list, ``in`` a computed list, ``sum avg min max any all`` of a list). Such nodes are never hoisted
  out of a loop (the count, hence the ``eval.limit.cost`` error, must stay the same); a reused one adds the count it
  made the first time.
- **Definitions.** ``def_key(use)``: the key of a definition's tree up to the depth it is used at (its own loops are
  counted from the use, the loops it reads around the use are absolute), so the uses of a definition at several
  depths that read no item around them share one key. ``function(use)``: such a definition used several times
  (and costly, or of at least ``INLINE_BELOW`` nodes) is compiled once as a function of its own; when it reads no
  item around its uses its value is memoised for the call.
"""

from __future__ import annotations

from engine.expr import nodes as N
from engine.expr.types import ALIASES, Annotations

_LITERALS = (N.Number, N.String, N.Boolean, N.DateLit, N.DurationLit)
_LIST_AGGREGATES = frozenset(("sum", "avg", "any", "all"))
INLINE_BELOW = 16  # a definition of fewer nodes (expanded) is written out at each use


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


def place(node: N.Node, ann: Annotations) -> tuple[int, int]:
    """The identity of one node at one place of the expanded expression (see the module docstring)."""
    return id(node), id(ann)


class Facts:
    """Keys, occurrence counts, free frames, sizes and cost of every place of one expression (with its
    definitions)."""

    def __init__(self, root: N.Node, ann: Annotations):
        self._keys: dict[tuple, int] = {}
        self._rel: dict[tuple, int] = {}  # place -> key with item frames counted from the place's own depth
        self._mask: dict[tuple, int] = {}
        self._size: dict[tuple, int] = {}
        self._depth: dict[tuple, int] = {}
        self._cost: dict[tuple, bool] = {}
        self._interned: dict[tuple, int] = {}
        self.count: dict[int, int] = {}  # key -> number of places with that key
        self.def_uses: dict[int, int] = {}  # def_key -> number of uses
        self._visit(root, ann, 0)

    def _visit(self, node: N.Node, ann: Annotations, depth: int) -> int:
        p = (id(node), id(ann))
        k = self._keys.get(p)
        if k is not None:
            return k
        self._depth[p] = depth
        d = def_ref(node, ann)
        if d is not None:  # the definition's tree stands for this name: same key, same occurrence
            tp = (id(d[0]), id(d[1]))
            k = self._keys[p] = self._visit(d[0], d[1], depth)
            self._rel[p], self._mask[p], self._size[p] = self._rel[tp], self._mask[tp], self._size[tp]
            dk = self.def_key(node, ann)
            self.def_uses[dk] = self.def_uses.get(dk, 0) + 1
            return k
        kids = children(node, ann)
        inner = isinstance(node, N.Filter)
        keys, rels, mask, size = [], [], 0, 1
        for i, (c, a) in enumerate(kids):
            keys.append(self._visit(c, a, depth + 1 if inner and i == 1 else depth))
            cp = (id(c), id(a))
            rels.append(self._rel[cp])
            mask |= self._mask[cp]
            size += self._size[cp]
        if inner:
            mask &= ~(1 << depth)  # the filter's own item is not read from around it
        shape = self._shape(node, ann)
        rel_shape = shape
        if isinstance(node, N.Name):
            ref = ann.refs[id(node)]
            if ref[0] == "item":
                mask |= 1 << ref[1]
                rel_shape = ("name", "item", depth - ref[1], ref[2], shape[-1])
        self._mask[p], self._size[p] = mask, size
        self._rel[p] = self._intern(("rel",) + rel_shape + (tuple(rels),))
        k = self._keys[p] = self._intern(shape + (tuple(keys),))
        self.count[k] = self.count.get(k, 0) + 1
        if isinstance(node, N.Filter) and isinstance(node.predicate, N.BoolOp) and node.predicate.op == "and":
            pk = self.prefix_key(node, ann)  # `xs where a and b` may start from `xs where a`: keep that one
            self.count[pk] = self.count.get(pk, 0) + 1
        return k

    def key(self, node: N.Node, ann: Annotations) -> int:
        return self._keys[(id(node), id(ann))]

    def prefix_key(self, node: N.Filter, ann: Annotations) -> int:
        """The key ``xs where a`` would have, for ``node`` = ``xs where a and b ...``."""
        first = self.key(node.predicate.operands[0], ann)
        return self._intern(self._shape(node, ann) + ((self.key(node.source, ann), first),))

    def def_key(self, node: N.Name, ann: Annotations) -> int:
        """The key of a definition used at ``node``, the same for its uses at any depth when it reads no item
        around them (its own loops counted from the use); with the depth of the use otherwise."""
        p = (id(node), id(ann))
        mask = self._mask[p]
        return self._intern(("def", self._rel[p], self._depth[p] if mask else None))

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

    def mask(self, node: N.Node, ann: Annotations) -> int:
        return self._mask[(id(node), id(ann))]

    def max_frame(self, node: N.Node, ann: Annotations) -> int:
        """The deepest enclosing loop whose item the node reads (-1: none)."""
        return self._mask[(id(node), id(ann))].bit_length() - 1

    def size(self, node: N.Node, ann: Annotations) -> int:
        return self._size[(id(node), id(ann))]

    def costly(self, node: N.Node, ann: Annotations) -> bool:
        p = (id(node), id(ann))
        c = self._cost.get(p)
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
            self._cost[p] = c
        return c

    def function(self, node: N.Node, ann: Annotations) -> bool:
        """A definition's use that is compiled as a call of a function of its own: the definition is used several
        times (with the same key) and is costly or too large to be written out at each use."""
        if def_ref(node, ann) is None:
            return False
        p = (id(node), id(ann))
        return self.def_uses.get(self.def_key(node, ann), 0) > 1 and \
            (self._size[p] >= INLINE_BELOW or self.costly(node, ann))

    def invariants(self, pred: N.Node, ann: Annotations, frame: int, claimed: dict) -> list[tuple]:
        """The largest sub-trees of ``pred`` (a filter's predicate, evaluated in loop ``frame``) that read no item of
        that loop or of an inner one, visit no list, and are worth keeping (not a literal nor a plain name), as
        ``(node, annotations)``; not the inside of a definition compiled as a function (its code is elsewhere)."""
        out: list[tuple] = []
        stack = [(pred, ann)]
        while stack:
            node, a = stack.pop()
            if (id(node), id(a)) in claimed or isinstance(node, _LITERALS):
                continue
            trivial = isinstance(node, N.Name) and def_ref(node, a) is None
            if not trivial and self.mask(node, a) >> frame == 0 and not self.costly(node, a):
                out.append((node, a))
                continue
            if not self.function(node, a):
                stack.extend(children(node, a))
        return out

    def holds_filter(self, node: N.Node, ann: Annotations) -> bool:
        """Whether writing ``node`` out writes the code of a filter (a definition compiled as a function is only a
        call)."""
        stack = [(node, ann)]
        while stack:
            n, a = stack.pop()
            if isinstance(n, N.Filter):
                return True
            if not self.function(n, a):
                stack.extend(children(n, a))
        return False


def type_test(pred: N.Node, ann: Annotations, frame: int, facts: Facts):
    """``(field, text, rest)`` when a filter predicate is ``field == "text"`` or ``field == "text" and rest...``,
    ``field`` being a text field of the filter's own item (number ``frame``); None otherwise."""
    from engine.expr.types import is_text

    if isinstance(pred, N.BoolOp) and pred.op == "and":
        first, rest = pred.operands[0], pred.operands[1:]
    else:
        first, rest = pred, ()
    if not (isinstance(first, N.Compare) and first.op == "=="):
        return None
    if any(facts.holds_filter(op, ann) for op in rest):
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
