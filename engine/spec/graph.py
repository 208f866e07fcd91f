"""The phase graph of a programme: checks, lookup tables for the per-record path, and `engine graph`.

The graph (networkx ``DiGraph``: one node per phase, one edge per transition) is built once per spec, when it is
compiled. ``check_graph`` reports, with positions in the spec file:

=================================  ==========================================================================
code                               problem
=================================  ==========================================================================
``graph.unknown_phase``            a transition (or an obligation's ``during``) names a phase that does not exist
``graph.duplicate_transition``     two transitions for the same (from, to) pair
``graph.transition_from_final``    a transition leaves a final phase (a path ends there: it could never be taken)
``graph.no_initial``               no phase has ``initial: true``
``graph.no_final``                 no phase has ``final: true``
``graph.unreachable``              a phase cannot be reached from an initial phase
``graph.no_path_to_end``           no path leads from a phase to a final phase
``graph.unknown_anchor``           a deadline's ``from``/``to`` names an unknown phase, event type or date attribute
``graph.target_unreachable``       a deadline's target phase cannot be reached from its anchor phase
``graph.deadline_too_short``       the minimum stays on every path from a deadline's anchor phase to its target phase
                                   already exceed the deadline
``graph.min_above_max``            a phase's ``min_duration`` is longer than its ``max_duration``
``graph.after_above_within``       a transition's ``after`` is longer than its ``within``
``graph.after_above_max``          a transition's ``after`` is longer than the stay in its phase can last
``graph.within_above_max``         a transition's ``within`` is longer than the stay in its phase can last
``graph.total_below_max``          a phase's ``total_max_duration`` is shorter than its ``max_duration``
``graph.renewals_without_loop``    ``max_renewals`` on a phase that has no self-transition (no renewal possible)
=================================  ==========================================================================

The reachability checks read the graph as the author meant it (:func:`intended_transitions`: an unknown phase
name close to exactly one declared phase reads as that phase), so a typo in one ``to:`` is one error, not three;
a name close to none could be any phase, so the conclusions it could change are not drawn (its own error is the one to
fix first); the conclusions come after the local errors of their file (``Diagnostic.tier``).

Durations in months are compared as the calendar does: "A is longer than B" means longer for every start date
(1 month vs 30 days is not an error: February). The per-record path never queries networkx: ``compile_tables``
turns the graph into plain dicts (:class:`engine.spec.model.PhaseTables`).
"""

from __future__ import annotations

from dataclasses import replace
from datetime import date, timedelta
from functools import lru_cache
from typing import Callable, Iterable, Mapping, Sequence

import networkx as nx

from engine.errors import Diagnostic, did_you_mean
from engine.expr.calendar import add
from engine.spec.context import token_width
from engine.spec.rootcause import closest
from engine.spec.model import Anchor, Attribute, Deadline, EventType, Obligation, Phase, PhaseTables, Position, Spec, Transition

LineOf = Callable[[str | None, int], str | None]


# --------------------------------------------------------------------------------------------- durations

_STARTS = tuple(date(2024, 1, 1) + timedelta(days=i) for i in range(366 + 365 * 3))  # a whole leap cycle


@lru_cache(maxsize=256)
def _lengths(months: int, days: int) -> tuple[int, ...]:
    return tuple((add(s, months, days) - s).days for s in _STARTS)


def _md(d) -> tuple[int, int]:
    return int(getattr(d, "months", 0) or 0), int(getattr(d, "days", 0) or 0)


def always_longer(a, b) -> bool:
    """True when duration ``a`` is longer than ``b`` whatever the start date (so ``a <= b`` can never hold)."""
    la, lb = _lengths(*_md(a)), _lengths(*_md(b))
    return all(x > y for x, y in zip(la, lb))


def french_duration(d) -> str:
    """``Duration(0, 15)`` -> "15 jours", ``Duration(6, 0)`` -> "6 mois", ``Duration(24, 0)`` -> "2 ans",
    ``Duration(6, -15)`` (a milestone minus its tolerance) -> "6 mois moins 15 jours"."""
    months, days = _md(d)
    if months > 0 and days < 0:
        return f"{french_duration(type(d)(months, 0))} moins {french_duration(type(d)(0, -days))}"
    parts = []
    if months:
        if months % 12 == 0:
            n = months // 12
            parts.append(f"{n} an" + ("s" if n > 1 else ""))
        else:
            parts.append(f"{months} mois")
    if days or not months:
        if days and days % 7 == 0:
            n = days // 7
            parts.append(f"{n} semaine" + ("s" if n > 1 else ""))
        else:
            parts.append(f"{days} jour" + ("s" if days > 1 else ""))
    return " et ".join(parts)


# --------------------------------------------------------------------------------------------- diagnostics

def _diag(line_of: LineOf, pos: Position | None, message: str, code: str, hint: str | None = None,
          path: str | None = None) -> Diagnostic:
    pos = pos or Position()
    src = line_of(pos.file, pos.line) if pos.line else None
    return Diagnostic(message, file=pos.file, line=pos.line, col=pos.col, source_line=src,
                      width=token_width(src, pos.col), hint=hint, code=code, path=path)


def _tpath(t: Transition) -> str:
    return f"transitions[{t.id}]" if t.id else f"transitions[{t.index + 1}]"


def _no_lines(file, line):
    return None


# --------------------------------------------------------------------------------------------- graph and checks

def build_graph(phases: Mapping[str, Phase], transitions: Sequence[Transition]) -> nx.DiGraph:
    """One node per declared phase (attribute ``phase``), one edge per transition between declared phases
    (attribute ``transition``)."""
    g = nx.DiGraph()
    for pid, ph in phases.items():
        g.add_node(pid, phase=ph)
    for t in transitions:
        if t.from_phase in phases and t.to_phase in phases and not g.has_edge(t.from_phase, t.to_phase):
            g.add_edge(t.from_phase, t.to_phase, transition=t)
    return g


def check_graph(phases: Mapping[str, Phase], transitions: Sequence[Transition], deadlines: Sequence[Deadline] = (),
                obligations: Sequence[Obligation] = (), events: Mapping[str, EventType] | None = None,
                attributes: Mapping[str, Attribute] | None = None, phases_pos: Position | None = None,
                line_of: LineOf = _no_lines) -> list[Diagnostic]:
    """Every problem of the phase graph, deadlines' anchors and timing, as positioned diagnostics (see the table in
    the module docstring). ``phases_pos`` is where the ``phases`` section is (for "no initial phase")."""
    out: list[Diagnostic] = []
    names = list(phases)

    def unknown_phase(name: str, pos: Position | None, what: str, path: str) -> None:
        hint = did_you_mean(name, names) or ("phases déclarées : " + ", ".join(names) if names else
                                            "déclarez la phase sous `phases:`")
        out.append(_diag(line_of, pos, f"{what} nomme une phase inconnue « {name} »", "graph.unknown_phase", hint, path))

    seen: dict[tuple[str, str], Transition] = {}
    intended, unresolved = intended_transitions(phases, transitions)
    for t in transitions:
        path = _tpath(t)
        for key, name in (("from", t.from_phase), ("to", t.to_phase)):
            if name not in phases:
                unknown_phase(name, t.field_pos.get(key, t.pos), f"la transition (`{key}`)", f"{path}.{key}")
        src = phases.get(t.from_phase)
        if src is not None and src.final:
            out.append(_diag(line_of, t.field_pos.get("from", t.pos), f"la transition {t.from_phase} -> {t.to_phase} "
                             f"part de « {t.from_phase} », une phase finale : un parcours s'y arrête, elle ne pourrait "
                             "donc jamais être prise", "graph.transition_from_final",
                             f"supprimez la transition, ou retirez `final: true` de « {t.from_phase} »", f"{path}.from"))
        pair = (t.from_phase, t.to_phase)
        if pair in seen:
            first = seen[pair]
            out.append(_diag(line_of, t.pos, f"seconde transition de « {t.from_phase} » vers « {t.to_phase} » "
                             f"(la première est ligne {first.pos.line})", "graph.duplicate_transition",
                             "fusionnez les deux transitions en une seule (une condition et un délai par couple de "
                             "phases)", path))
        else:
            seen[pair] = t

    for o in obligations:
        for i, name in enumerate(o.during):
            if name not in phases:
                unknown_phase(name, o.field_pos.get(f"during[{i}]", o.field_pos.get("during", o.pos)),
                              f"l'obligation « {o.id} » (`during`)", f"obligations.{o.id}.during")

    if phases:
        initial = [p for p, ph in phases.items() if ph.initial]
        final = [p for p, ph in phases.items() if ph.final]
        if not initial:
            out.append(_diag(line_of, phases_pos, "aucune phase initiale : un parcours doit bien commencer quelque part",
                             "graph.no_initial", "ajoutez `initial: true` à la phase où commence un parcours "
                             f"(par exemple « {names[0]} »)", "phases"))
        if not final:
            out.append(_diag(line_of, phases_pos, "aucune phase finale : un parcours ne peut jamais se terminer",
                             "graph.no_final", "ajoutez `final: true` à la phase où se termine un parcours (par "
                             "exemple la sortie)", "phases"))
        g = build_graph(phases, intended)
        # a transition naming a phase close to none could be any phase: the graph conclusions it may change are
        # drawn as if it linked what it can (its error, reported above, is the one to fix first)
        hopeful = g.copy()
        for t in unresolved:
            if t.to_phase in phases and t.from_phase not in phases:
                hopeful.add_edges_from((p, t.to_phase) for p in initial)
            elif t.from_phase in phases and t.to_phase not in phases:
                hopeful.add_edges_from((t.from_phase, p) for p in final)
        if initial:
            reached: set[str] = set()
            for p in initial:
                reached |= nx.descendants(hopeful, p) | {p}
            for p, ph in phases.items():
                if p not in reached:
                    out.append(_diag(line_of, ph.pos, f"la phase « {p} » ne peut être atteinte depuis aucune phase "
                                     f"initiale ({', '.join(initial)})", "graph.unreachable",
                                     f"ajoutez une transition vers « {p} », marquez-la `initial: true`, ou supprimez-la",
                                     f"phases.{p}"))
        if final:
            ending: set[str] = set()
            for p in final:
                ending |= nx.ancestors(hopeful, p) | {p}
            for p, ph in phases.items():
                if p not in ending:
                    out.append(_diag(line_of, ph.pos, f"aucun chemin ne mène de la phase « {p} » à une phase finale "
                                     f"({', '.join(final)})", "graph.no_path_to_end",
                                     f"ajoutez une transition de « {p} » vers une phase finale, ou marquez-la "
                                     "`final: true`", f"phases.{p}"))
        out.extend(_check_timing(phases, transitions, line_of))
        for d in deadlines:
            a, t = d.anchor, d.target
            if a.kind == t.kind == "phase" and a.name in phases and t.name in phases and a.name != t.name \
                    and t.name not in nx.descendants(hopeful, a.name):
                out.append(_diag(line_of, t.pos, f"délai « {d.id} » : la phase « {t.name} » ne peut pas être atteinte "
                                 f"depuis la phase « {a.name} », le délai ne peut donc jamais être tenu",
                                 "graph.target_unreachable",
                                 "vérifiez les phases de `from` et de `to`, ou ajoutez les transitions qui manquent",
                                 f"deadlines.{d.id}.to.phase"))
            elif a.kind == t.kind == "phase" and a.name in phases and t.name in phases and a.name != t.name:
                fastest = _min_days_between(g, phases, a.name, t.name)
                if fastest is not None and fastest > max(_lengths(*_md(d.within))):
                    out.append(_diag(line_of, d.field_pos.get("within", d.pos),
                                     f"délai « {d.id} » : atteindre « {t.name} » depuis « {a.name} » prend au moins "
                                     f"{fastest} jour{'s' if fastest > 1 else ''} (durées minimales et `after` en chemin), plus que "
                                     f"{french_duration(d.within)} : le délai ne peut jamais être tenu",
                                     "graph.deadline_too_short", "allongez `within`, ou raccourcissez les durées "
                                     "minimales en chemin", f"deadlines.{d.id}.within"))
    out.extend(_check_anchors(deadlines, phases, events or {}, attributes or {}, line_of))
    return [replace(d, tier=2) if d.code in GRAPH_CONCLUSIONS else d for d in out]


# conclusions drawn from the whole graph: they come after the local errors of their file (Diagnostic.tier 2)
GRAPH_CONCLUSIONS = ("graph.unreachable", "graph.no_path_to_end", "graph.target_unreachable",
                     "graph.deadline_too_short")


def intended_transitions(phases: Mapping[str, Phase], transitions: Sequence[Transition]
                         ) -> tuple[list[Transition], list[Transition]]:
    """The transitions as the author meant them, and those that cannot be read: a phase name that is not declared
    but close to exactly one declared phase (``sortei``: ``sortie``) reads as that phase, so that one typo is one
    error (``graph.unknown_phase``, reported at the name) and not also unreachable phases and phases without a path
    to the end; a name close to none or to several leaves its transition out (in the second list)."""
    def meant(name: str) -> str | None:
        return name if name in phases else closest(name, phases)

    intended, unresolved = [], []
    for t in transitions:
        a, b = meant(t.from_phase), meant(t.to_phase)
        if a is None or b is None:
            unresolved.append(t)
        elif (a, b) == (t.from_phase, t.to_phase):
            intended.append(t)
        else:
            intended.append(replace(t, from_phase=a, to_phase=b))
    return intended, unresolved


def _min_days_between(g: nx.DiGraph, phases: Mapping[str, Phase], a: str, b: str) -> int | None:
    """The fewest days a path from entering ``a`` to entering ``b`` can take: each step waits at least the phase's
    ``min_duration`` and the transition's ``after`` (their shortest calendar length). None when ``b`` is unreachable."""
    def weight(u, v, data):
        t, ph = data["transition"], phases[u]
        least = [min(_lengths(*_md(x))) for x in (ph.min_duration, t.after) if x is not None]
        return max(least, default=0)

    try:
        return int(nx.shortest_path_length(g, a, b, weight=weight))
    except (nx.NetworkXNoPath, nx.NodeNotFound):
        return None


def _check_timing(phases: Mapping[str, Phase], transitions: Sequence[Transition], line_of: LineOf) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    loops = {t.from_phase for t in intended_transitions(phases, transitions)[0] if t.is_renewal}  # typos read
    for p, ph in phases.items():
        fp, path = ph.field_pos, f"phases.{p}"
        if ph.min_duration is not None and ph.max_duration is not None and always_longer(ph.min_duration,
                                                                                         ph.max_duration):
            out.append(_diag(line_of, fp.get("min_duration", ph.pos),
                             f"phase « {p} » : min_duration ({french_duration(ph.min_duration)}) est plus longue que "
                             f"max_duration ({french_duration(ph.max_duration)}) : aucun séjour ne peut respecter les "
                             "deux", "graph.min_above_max", "baissez min_duration ou augmentez max_duration",
                             path + ".min_duration"))
        if ph.total_max_duration is not None and ph.max_duration is not None and always_longer(
                ph.max_duration, ph.total_max_duration):
            out.append(_diag(line_of, fp.get("total_max_duration", ph.pos),
                             f"phase « {p} » : total_max_duration ({french_duration(ph.total_max_duration)}) est plus "
                             f"courte que la max_duration d'un seul séjour ({french_duration(ph.max_duration)})",
                             "graph.total_below_max", "total_max_duration compte tous les séjours, renouvellements "
                             "compris : elle doit valoir au moins max_duration", path + ".total_max_duration"))
        if ph.max_renewals is not None and p not in loops:
            out.append(_diag(line_of, fp.get("max_renewals", ph.pos),
                             f"la phase « {p} » a max_renewals mais aucune transition de « {p} » vers elle-même : "
                             "elle ne peut donc jamais être renouvelée", "graph.renewals_without_loop",
                             f"ajoutez une transition `{{from: {p}, to: {p}}}` (le renouvellement), ou retirez "
                             "max_renewals",
                             path + ".max_renewals"))
    for t in transitions:
        fp, path = t.field_pos, _tpath(t)
        src = phases.get(t.from_phase)
        if t.after is not None and t.within is not None and always_longer(t.after, t.within):
            out.append(_diag(line_of, fp.get("after", t.pos),
                             f"transition {t.from_phase} -> {t.to_phase} : after ({french_duration(t.after)}) est plus "
                             f"long que within ({french_duration(t.within)}) : elle ne peut jamais avoir lieu à temps",
                             "graph.after_above_within", "baissez `after` ou augmentez `within`", path + ".after"))
        if src is None or src.max_duration is None:
            continue
        if t.after is not None and always_longer(t.after, src.max_duration):
            out.append(_diag(line_of, fp.get("after", t.pos),
                             f"transition {t.from_phase} -> {t.to_phase} : after ({french_duration(t.after)}) est plus "
                             f"long que ce que peut durer la phase « {t.from_phase} » (max_duration "
                             f"{french_duration(src.max_duration)})",
                             "graph.after_above_max", "baissez `after` ou augmentez la max_duration de la phase",
                             path + ".after"))
        if t.within is not None and always_longer(t.within, src.max_duration):
            out.append(_diag(line_of, fp.get("within", t.pos),
                             f"transition {t.from_phase} -> {t.to_phase} : within ({french_duration(t.within)}) est "
                             f"plus long que ce que peut durer la phase « {t.from_phase} » (max_duration "
                             f"{french_duration(src.max_duration)})", "graph.within_above_max",
                             "la limite ne peut jamais être atteinte : `within` doit valoir au plus la max_duration "
                             "de la phase",
                             path + ".within"))
    return out


def _check_anchors(deadlines: Sequence[Deadline], phases: Mapping[str, Phase], events: Mapping[str, EventType],
                   attributes: Mapping[str, Attribute], line_of: LineOf) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for d in deadlines:
        for role, a in (("from", d.anchor), ("to", d.target)):
            path = f"deadlines.{d.id}.{role}.{a.kind}"
            if a.kind == "phase":
                known: Iterable[str] = phases
            elif a.kind == "event":
                known = events
            else:
                known = [n for n, at in attributes.items() if _is_date(at)]
            if a.name in known:
                continue
            if a.kind == "attribute" and a.name in attributes:
                msg = f"délai « {d.id} » : l'attribut « {a.name} » n'est pas une date"
                hint = "un attribut servant de point de départ doit être déclaré avec `type: date`"
            else:
                kind = {"phase": "une phase inconnue", "event": "un type d'événement inconnu",
                        "attribute": "un attribut date inconnu"}[a.kind]
                msg = f"délai « {d.id} » : `{role}` nomme {kind} « {a.name} »"
                hint = did_you_mean(a.name, known) or (f"connus : {', '.join(sorted(known))}" if known else
                                                       "déclarez-le d'abord")
            out.append(_diag(line_of, a.pos, msg, "graph.unknown_anchor", hint, path))
    return out


def _is_date(attr: Attribute) -> bool:
    return str(attr.decl.get("type", "")) == "date" or repr(attr.type).lower().startswith("date")


# --------------------------------------------------------------------------------------------- tables

def compile_tables(phases: Mapping[str, Phase], transitions: Sequence[Transition]) -> PhaseTables:
    """Plain dicts for the per-record path check: allowed next phases (in spec order), the transition per
    (from, to) pair (the first one when duplicated), every phase, and the phases from which an end is reachable."""
    nxt: dict[str, list[str]] = {p: [] for p in phases}
    by_pair: dict[tuple[str, str], Transition] = {}
    for t in transitions:
        if t.from_phase in phases and t.to_phase in phases and (t.from_phase, t.to_phase) not in by_pair:
            by_pair[(t.from_phase, t.to_phase)] = t
            nxt[t.from_phase].append(t.to_phase)
    final = frozenset(p for p, ph in phases.items() if ph.final)
    g = build_graph(phases, transitions)
    ending: set[str] = set(final)
    for p in final:
        ending |= nx.ancestors(g, p)
    return PhaseTables(initial=frozenset(p for p, ph in phases.items() if ph.initial), final=final,
                       next={p: tuple(v) for p, v in nxt.items()}, transition=by_pair, phase=dict(phases),
                       reachable_final=frozenset(ending))


# --------------------------------------------------------------------------------------------- rendering

def phase_caption(ph: Phase) -> list[str]:
    """The French lines shown in a phase's box: label, then its timing."""
    lines = [ph.label or ph.id]
    timing = []
    if ph.min_duration is not None:
        timing.append(f"au moins {french_duration(ph.min_duration)}")
    if ph.max_duration is not None:
        timing.append(f"au plus {french_duration(ph.max_duration)}")
    if ph.max_renewals is not None:
        timing.append(f"{ph.max_renewals} renouvellement" + ("s" if ph.max_renewals > 1 else "") + " max.")
    if ph.total_max_duration is not None:
        timing.append(f"{french_duration(ph.total_max_duration)} au total")
    if timing:
        lines.append(", ".join(timing))
    if ph.initial:
        lines.append("(phase d'entrée)")
    if ph.final:
        lines.append("(phase de fin)")
    return lines


GUARD_SHOWN = 60  # longer guards are referred to by their line in the spec, to keep the drawing readable


def transition_caption(t: Transition) -> list[str]:
    """The French lines on a transition's arrow: label, timing, guard."""
    lines = []
    if t.label:
        lines.append(t.label)
    timing = []
    if t.after is not None and (t.after.months or t.after.days):
        timing.append(f"après {french_duration(t.after)}")
    if t.within is not None:
        timing.append(f"dans les {french_duration(t.within)}")
    if timing:
        lines.append(" et ".join(timing))
    if t.guard is not None:
        text = " ".join(t.guard.text.split())
        if len(text) <= GUARD_SHOWN:
            lines.append(f"si {text}")
        else:
            where = f" ligne {t.guard.pos.line}" if t.guard.pos.line else ""
            lines.append(f"sous condition (voir la spec{where})")
    return lines


def _anchor_text(spec: Spec | None, a: Anchor, role: str) -> str:
    def name(table, key):
        item = (getattr(spec, table, None) or {}).get(key) if spec is not None else None
        return f"« {getattr(item, 'label', None) or key} »"
    if a.kind == "phase":
        return ("l'entrée en " if role == "from" else "entrée en ") + name("phases", a.name)
    if a.kind == "event":
        return ("le premier " if role == "from" else "") + name("events", a.name)
    return "la date " + name("attributes", a.name)


def deadline_caption(d: Deadline, spec: Spec | None = None) -> list[str]:
    """The French lines of a deadline: "Délai : <label>", then what must happen by when."""
    target = _anchor_text(spec, d.target, "to")
    if d.milestone is not None:
        when = (f"à {french_duration(d.milestone)} (entre {french_duration(d.not_before)} et "
                f"{french_duration(d.within)}) après")
    elif d.not_before is not None:
        when = f"entre {french_duration(d.not_before)} et {french_duration(d.within)} après"
    else:
        when = f"au plus tard {french_duration(d.within)} après"
    lines = [f"Délai : {d.label or d.id}",
             f"{target[0].upper() + target[1:]} {when} {_anchor_text(spec, d.anchor, 'from')}"
             + (", et avant la fin de cette phase" if getattr(d, "during_phase", False) else "")]
    if d.applies_if is not None:
        text = " ".join(d.applies_if.text.split())
        lines.append(f"si {text}" if len(text) <= GUARD_SHOWN else "sous condition")
    return lines


def _drawn_deadlines(spec: Spec) -> list[tuple[Deadline, str | None, str | None]]:
    """(deadline, phase it starts from, phase it ends in) for the deadlines that touch a phase."""
    out = []
    for d in spec.deadlines:
        a = d.anchor.name if d.anchor.kind == "phase" and d.anchor.name in spec.phases else None
        b = d.target.name if d.target.kind == "phase" and d.target.name in spec.phases else None
        if a or b:
            out.append((d, a, b))
    return out


def _mermaid_text(s: str) -> str:
    return (s.replace("&", "#amp;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
            .replace("|", "#124;").replace("\n", " "))


def _node_id(pid: str, used: dict[str, str]) -> str:
    base = "ph_" + "".join(c if c.isascii() and (c.isalnum() or c == "_") else "_" for c in pid)
    nid, n = base, 1
    while nid in used.values():
        n += 1
        nid = f"{base}_{n}"
    used[pid] = nid
    return nid


def render_mermaid(spec: Spec) -> str:
    """A Mermaid flowchart of the phases: entry phases as stadiums, end phases as double boxes, transitions labelled
    with their label, timing and guard (French); deadlines dotted (between two phases, or as a note on their
    phase when they wait for an event or count from a date attribute)."""
    ids: dict[str, str] = {}
    out = ["flowchart LR", f"    %% {spec.id} {spec.version or ''}: phases et transitions".rstrip()]
    for pid, ph in spec.phases.items():
        nid = _node_id(pid, ids)
        text = "<br/>".join(_mermaid_text(x) for x in phase_caption(ph))
        shape = ('(["', '"])') if ph.initial else (('[["', '"]]') if ph.final else ('["', '"]'))
        cls = ":::initial" if ph.initial else (":::final" if ph.final else "")
        out.append(f"    {nid}{shape[0]}{text}{shape[1]}{cls}")
    for t in spec.transitions:
        if t.from_phase not in ids or t.to_phase not in ids:
            continue
        cap = transition_caption(t)
        text = "<br/>".join(_mermaid_text(x) for x in cap)
        label = f'|"{text}"|' if cap else ""
        out.append(f"    {ids[t.from_phase]} -->{label} {ids[t.to_phase]}")
    for i, (d, a, b) in enumerate(_drawn_deadlines(spec), 1):
        text = "<br/>".join(_mermaid_text(x) for x in deadline_caption(d, spec))
        if a and b:
            out.append(f'    {ids[a]} -.->|"{text}"| {ids[b]}')
        else:
            node = f"dl_{i}"
            out.append(f'    {node}>"{text}"]:::deadline')
            out.append(f"    {ids[a]} -.- {node}" if a else f"    {node} -.-> {ids[b]}")
    out.append("    classDef initial fill:#e3f2fd,stroke:#1565c0,stroke-width:2px")
    out.append("    classDef final fill:#e8f5e9,stroke:#2e7d32,stroke-width:2px")
    out.append("    classDef deadline fill:#fff8e1,stroke:#f9a825")
    return "\n".join(out) + "\n"


def _dot_text(s: str) -> str:
    return s.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def render_dot(spec: Spec) -> str:
    """A Graphviz dot digraph of the phases (entry phases bold, end phases double-bordered)."""
    out = [f'digraph "{_dot_text(spec.id)}" {{', "    rankdir=LR;",
           '    node [shape=box, style=rounded, fontname="Helvetica"];',
           '    edge [fontname="Helvetica", fontsize=10];']
    for pid, ph in spec.phases.items():
        attrs = ['label="' + "\\n".join(_dot_text(x) for x in phase_caption(ph)) + '"']
        if ph.initial:
            attrs.append('style="rounded,bold"')
        if ph.final:
            attrs.append("peripheries=2")
        out.append(f'    "{_dot_text(pid)}" [{", ".join(attrs)}];')
    for t in spec.transitions:
        if t.from_phase not in spec.phases or t.to_phase not in spec.phases:
            continue
        cap = transition_caption(t)
        text = "\\n".join(_dot_text(x) for x in cap)
        label = f' [label="{text}"]' if cap else ""
        out.append(f'    "{_dot_text(t.from_phase)}" -> "{_dot_text(t.to_phase)}"{label};')
    for i, (d, a, b) in enumerate(_drawn_deadlines(spec), 1):
        text = "\\n".join(_dot_text(x) for x in deadline_caption(d, spec))
        if a and b:
            out.append(f'    "{_dot_text(a)}" -> "{_dot_text(b)}" [label="{text}", style=dashed, constraint=false];')
        else:
            node = f"deadline_{i}"
            out.append(f'    "{node}" [label="{text}", shape=note, style=dashed];')
            out.append(f'    "{_dot_text(a)}" -> "{node}" [style=dashed, arrowhead=none];' if a else
                       f'    "{node}" -> "{_dot_text(b)}" [style=dashed];')
    out.append("}")
    return "\n".join(out) + "\n"


def render_graph(spec: Spec, fmt: str = "mermaid") -> str:
    return render_dot(spec) if fmt == "dot" else render_mermaid(spec)


