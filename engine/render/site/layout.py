"""A layered drawing of a phase graph, computed here (no graphviz, no network), for an inline SVG.

The layout is the classic one of Sugiyama et al., kept simple:

1. **cycles**: a depth-first search from the initial phases (in spec order) marks back edges, which are reversed
   for the layering (renewals, a phase to itself, are drawn as loops beside their box);
2. **layers**: the longest path from a source over the remaining edges, top to bottom; an edge spanning several
   layers gets a narrow invisible point in each layer it crosses, so it never runs through a box;
3. **order**: inside each layer, boxes and points are sorted by the barycentre of their neighbours in the layer
   above, then below (a few sweeps: fewer crossings), ties kept in spec order so that the drawing is deterministic;
4. **coordinates**: fixed-width boxes whose height follows their wrapped caption; each layer is centred.

Edges are vertical cubic curves from layer to layer; a back edge between neighbouring layers bulges out to the
right of its boxes. Each transition carries its number (the row of the transitions table under the drawing) and
its timing (« dans les 15 jours », « après 1 mois »); a label is moved along its edge when it would cover another
label or a box. Everything is plain numbers and texts: the template (``templates/graph.svg``) draws them, jinja2
escaping every text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Mapping, Sequence

BOX_W = 210
LINE_H = 15
PAD_Y = 10
GAP_X = 56
GAP_Y = 84
MARGIN = 24
DUMMY_W = 28
CHARS_PER_LINE = 30  # at 12px sans-serif a box of 210px holds about 30 characters
MAX_LINES = 4
CHAR_W = 6.1  # mean width of a character of an 11px label
LABEL_H = 13


def wrap(text: str, width: int = CHARS_PER_LINE, max_lines: int = MAX_LINES) -> list[str]:
    """``text`` cut at spaces into lines of at most ``width`` characters (a longer word is cut); at most
    ``max_lines`` lines, the last one ending with « … » when text was left out."""
    lines: list[str] = []
    cur = ""
    for w in text.split():
        while len(w) > width:
            if cur:
                lines.append(cur)
                cur = ""
            lines.append(w[:width - 1] + "-")
            w = w[width - 1:]
        if not cur:
            cur = w
        elif len(cur) + 1 + len(w) <= width:
            cur += " " + w
        else:
            lines.append(cur)
            cur = w
    if cur:
        lines.append(cur)
    if len(lines) > max_lines:
        lines = lines[:max_lines]
        last = lines[-1]
        lines[-1] = (last[:width - 1] if len(last) >= width else last) + "…"
    return lines or [""]


@dataclass
class Node:
    id: str
    lines: list[str]
    sub: list[str]  # the timing lines (« au plus 6 mois »), in italics
    initial: bool
    final: bool
    layer: int = 0
    x: float = 0
    y: float = 0
    w: float = BOX_W
    h: float = 0
    dummy: bool = False
    right: float = 0  # room kept on the right (a renewal loop and its label)

    @property
    def cx(self) -> float:
        return self.x + self.w / 2

    @property
    def cy(self) -> float:
        return self.y + self.h / 2


@dataclass
class Edge:
    number: int  # 1-based number of the transition in the spec (the row of the table)
    source: str
    target: str
    timing: str | None
    path: str = ""  # the SVG path data
    label_x: float = 0
    label_y: float = 0
    label: str = ""
    anchor: str = "middle"  # text-anchor of the label
    kind: str = "forward"  # forward | back | loop


@dataclass
class Layout:
    width: float
    height: float
    nodes: list[Node] = field(default_factory=list)
    edges: list[Edge] = field(default_factory=list)


def _back_edges(ids: Sequence[str], succ: Mapping[str, list[str]], starts: Sequence[str]) -> set[tuple[str, str]]:
    """Edges closing a cycle in a depth-first search from ``starts`` then from every unvisited phase (iterative)."""
    state: dict[str, int] = {}  # 1 on the stack, 2 done
    back: set[tuple[str, str]] = set()
    for root in list(starts) + list(ids):
        if root in state:
            continue
        state[root] = 1
        stack = [(root, iter(succ.get(root, ())))]
        while stack:
            node, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                state[node] = 2
                stack.pop()
            elif nxt == node:
                continue  # a renewal: drawn as a loop
            elif state.get(nxt) == 1:
                back.add((node, nxt))
            elif nxt not in state:
                state[nxt] = 1
                stack.append((nxt, iter(succ.get(nxt, ()))))
    return back


def _layers(ids: Sequence[str], edges: Sequence[tuple[str, str]]) -> dict[str, int]:
    """Longest-path layering of the acyclic ``edges`` (Kahn's order)."""
    indeg = {i: 0 for i in ids}
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for a, b in edges:
        succ[a].append(b)
        indeg[b] += 1
    layer = {i: 0 for i in ids}
    ready = [i for i in ids if indeg[i] == 0]
    while ready:
        n = ready.pop(0)
        for m in succ[n]:
            layer[m] = max(layer[m], layer[n] + 1)
            indeg[m] -= 1
            if indeg[m] == 0:
                ready.append(m)
    return layer


def _order(rows: list[list[str]], up: Mapping[str, list[str]], down: Mapping[str, list[str]],
           rank: Mapping[str, float], sweeps: int = 6) -> None:
    pos = {n: i for row in rows for i, n in enumerate(row)}

    def bary(n: str, nbrs: Mapping[str, list[str]]) -> float:
        ps = [pos[m] for m in nbrs.get(n, ()) if m in pos]
        return sum(ps) / len(ps) if ps else pos[n]

    for s in range(sweeps):
        seq = range(1, len(rows)) if s % 2 == 0 else range(len(rows) - 2, -1, -1)
        nbrs = up if s % 2 == 0 else down
        for li in seq:
            rows[li].sort(key=lambda n: (bary(n, nbrs), rank[n]))
            for i, n in enumerate(rows[li]):
                pos[n] = i


def _label_w(text: str) -> float:
    return CHAR_W * len(text) + 6


def layout_graph(phases: Sequence[tuple[str, str, str | None, bool, bool]],
                 transitions: Sequence[tuple[int, str, str, str | None]]) -> Layout:
    """Lay out the phases ``(id, caption, timing, initial, final)`` and transitions ``(number, from, to, timing)``.

    Transitions naming an unknown phase are left out (``engine check`` rejects such specs anyway)."""
    ids = [p[0] for p in phases]
    known = set(ids)
    trans = [t for t in transitions if t[1] in known and t[2] in known]
    succ: dict[str, list[str]] = {i: [] for i in ids}
    for _, a, b, _ in trans:
        if b not in succ[a]:
            succ[a].append(b)
    back = _back_edges(ids, succ, [p[0] for p in phases if p[3]])
    rank: dict[str, float] = {pid: float(i) for i, pid in enumerate(ids)}
    dag: list[tuple[str, str]] = []
    for _, a, b, _ in trans:
        e = (b, a) if (a, b) in back else (a, b)
        if a != b and e not in dag:
            dag.append(e)
    layer = _layers(ids, dag)
    nodes: dict[str, Node] = {}
    for pid, caption, timing, initial, final in phases:
        nodes[pid] = Node(pid, wrap(caption), wrap(timing, max_lines=2) if timing else [], initial, final,
                          layer=layer[pid])
    # long edges: a chain of points, one per crossed layer
    chains: dict[tuple[str, str], list[str]] = {}
    up: dict[str, list[str]] = {i: [] for i in ids}
    down: dict[str, list[str]] = {i: [] for i in ids}
    for k, (a, b) in enumerate(dag):
        chain = [a]
        for li in range(layer[a] + 1, layer[b]):
            d = f"~{k}~{li}"
            nodes[d] = Node(d, [], [], False, False, layer=li, w=DUMMY_W, dummy=True)
            rank[d] = rank[a] + 0.5
            up[d], down[d] = [], []
            chain.append(d)
        chain.append(b)
        for x, y in zip(chain, chain[1:]):
            down[x].append(y)
            up[y].append(x)
        chains[(a, b)] = chain
    n_layers = max((n.layer for n in nodes.values()), default=-1) + 1
    rows: list[list[str]] = [[] for _ in range(n_layers)]
    for nid, n in nodes.items():
        rows[n.layer].append(nid)
    for row in rows:
        row.sort(key=lambda n: rank[n])
    _order(rows, up, down, rank)
    # renewal loops keep room on the right of their box for the loop and its label
    for num, a, b, timing in trans:
        if a == b:
            label = f"{num}" + (f" · {timing}" if timing else "")
            nodes[a].right = max(nodes[a].right, 40 + _label_w(label))
    for n in nodes.values():
        if not n.dummy:
            n.h = PAD_Y * 2 + LINE_H * (len(n.lines) + len(n.sub))
    row_w = [sum(nodes[p].w + nodes[p].right for p in row) + GAP_X * max(len(row) - 1, 0) for row in rows]
    inner = max(row_w, default=BOX_W)
    bulge = 60 if any(layer[b] - layer[a] == 1 for a, b in back) else 0  # back edges bulge out on the right
    width = inner + 2 * MARGIN + bulge
    y = MARGIN
    row_box: list[tuple[float, float]] = []
    for li, row in enumerate(rows):
        x = MARGIN + (inner - row_w[li]) / 2
        h = max((nodes[p].h for p in row), default=0)
        for p in row:
            n = nodes[p]
            n.x, n.y = x, y + (h - n.h) / 2
            if n.dummy:
                n.h = 0
                n.y = y + h / 2
            x += n.w + n.right + GAP_X
        row_box.append((y, y + h))
        y += h + GAP_Y
    height = y - GAP_Y + MARGIN if rows else 2 * MARGIN
    placed: list[tuple[float, float, float, float]] = [(n.x, n.y, n.x + n.w, n.y + n.h)
                                                      for n in nodes.values() if not n.dummy]
    edges: list[Edge] = []
    for num, a, b, timing in trans:
        e = Edge(num, a, b, timing, label=f"{num}" + (f" · {timing}" if timing else ""))
        if a == b:
            _loop(e, nodes[a])
        elif (a, b) in back:
            _back(e, nodes, chains[(b, a)], row_box, placed)
        else:
            _forward(e, nodes, chains[(a, b)], row_box, placed)
        edges.append(e)
    real = [n for n in nodes.values() if not n.dummy]
    right = max([n.x + n.w + n.right for n in real] + [e.label_x + (_label_w(e.label) if e.anchor == "start" else
                                                                     _label_w(e.label) / 2) for e in edges])
    width = max(width, right + MARGIN)
    return Layout(width=round(width, 1), height=round(height, 1), nodes=real, edges=edges)


def _curve(points: Sequence[tuple[float, float]]) -> str:
    """A path through ``points`` (top to bottom, or bottom to top): vertical cubic curves between layers."""
    (x0, y0), rest = points[0], points[1:]
    d = [f"M{x0:.1f},{y0:.1f}"]
    for x1, y1 in rest:
        if abs(x1 - x0) < 0.05:
            d.append(f"L{x1:.1f},{y1:.1f}")
        else:
            my = (y0 + y1) / 2
            d.append(f"C{x0:.1f},{my:.1f} {x1:.1f},{my:.1f} {x1:.1f},{y1:.1f}")
        x0, y0 = x1, y1
    return " ".join(d)


def _bezier(p0, p1, t: float) -> tuple[float, float]:
    """Point at ``t`` of the vertical cubic from p0 to p1 (control points at mid-height)."""
    (x0, y0), (x1, y1) = p0, p1
    my = (y0 + y1) / 2
    bx = (1 - t) ** 3 * x0 + 3 * (1 - t) ** 2 * t * x0 + 3 * (1 - t) * t ** 2 * x1 + t ** 3 * x1
    by = (1 - t) ** 3 * y0 + 3 * (1 - t) ** 2 * t * my + 3 * (1 - t) * t ** 2 * my + t ** 3 * y1
    return bx, by


def _place(e: Edge, segment, placed: list[tuple[float, float, float, float]]) -> None:
    """Put the label on ``segment`` where it covers no other label and no box (the middle when nothing is free)."""
    w = _label_w(e.label)
    best = None
    for t in (0.5, 0.35, 0.65, 0.22, 0.78):
        x, y = _bezier(segment[0], segment[1], t)
        box = (x - w / 2, y - LABEL_H + 3, x + w / 2, y + 3)
        if best is None:
            best = (x, y, box)
        if not any(box[0] < p[2] and p[0] < box[2] and box[1] < p[3] and p[1] < box[3] for p in placed):
            best = (x, y, box)
            break
    x, y, box = best
    e.label_x, e.label_y = x, y
    placed.append(box)


def _forward(e: Edge, nodes, chain: list[str], row_box, placed) -> None:
    pts = [(nodes[chain[0]].cx, nodes[chain[0]].y + nodes[chain[0]].h)]
    for d in chain[1:-1]:
        top, bottom = row_box[nodes[d].layer]
        pts += [(nodes[d].cx, top), (nodes[d].cx, bottom)]
    last = nodes[chain[-1]]
    pts.append((last.cx, last.y - 2))
    e.path = _curve(pts)
    _place(e, (pts[0], pts[1]), placed)


def _back(e: Edge, nodes, chain: list[str], row_box, placed) -> None:
    """A transition going up (``chain`` runs down, from its target to its source)."""
    e.kind = "back"
    a, b = nodes[e.source], nodes[e.target]
    if len(chain) == 2:  # neighbouring layers: out of the right side of the source, into the right side of the target
        x0, y0 = a.x + a.w, a.cy
        x1, y1 = b.x + b.w + 2, b.cy
        xr = max(x0, x1) + 54
        e.path = f"M{x0:.1f},{y0:.1f} C{xr:.1f},{y0:.1f} {xr:.1f},{y1:.1f} {x1:.1f},{y1:.1f}"
        e.label_x, e.label_y, e.anchor = xr - 12, (y0 + y1) / 2 + 4, "start"
        w = _label_w(e.label)
        placed.append((e.label_x, e.label_y - LABEL_H + 3, e.label_x + w, e.label_y + 3))
        return
    pts = [(a.cx + 18, a.y)]
    for d in reversed(chain[1:-1]):
        top, bottom = row_box[nodes[d].layer]
        pts += [(nodes[d].cx, bottom), (nodes[d].cx, top)]
    pts.append((b.cx + 18, b.y + b.h + 2))
    e.path = _curve(pts)
    _place(e, (pts[0], pts[1]), placed)


def _loop(e: Edge, a: Node) -> None:
    e.kind = "loop"
    x0, y0, y1 = a.x + a.w, a.y + a.h * 0.3, a.y + a.h * 0.7
    e.path = f"M{x0:.1f},{y0:.1f} C{x0 + 40:.1f},{y0 - 14:.1f} {x0 + 40:.1f},{y1 + 14:.1f} {x0 + 2:.1f},{y1:.1f}"
    e.label_x, e.label_y, e.anchor = x0 + 38, a.cy + 4, "start"


__all__ = ["Edge", "Layout", "Node", "layout_graph", "wrap"]
