"""Compile the path sections of a spec: phases, transitions, deadlines, obligations; then check the phase graph and
compile its lookup tables (:mod:`engine.spec.graph`). Called by :func:`engine.spec.compile.compile_spec`."""

from __future__ import annotations

from typing import Any, Mapping

from engine.spec.context import item_path, quoted, text_of
from engine.errors import did_you_mean
from engine.spec.model import (ANCHOR_KINDS, CALENDAR_PERIODS, Anchor, Deadline, Obligation, Phase, Position, Transition,
                    child_scope, guard_scope, obligation_scope)


def _field_pos(ctx, node, keys) -> dict[str, Position]:
    return {k: ctx.pos(node, k) for k in keys if isinstance(node, Mapping) and k in node}


def _int(ctx, node, key: str, path: str) -> int | None:
    v = node.get(key) if isinstance(node, Mapping) else None
    if v is None:
        return None
    try:
        if isinstance(v, bool) or int(v) != v or int(v) < 0:
            raise ValueError
        return int(v)
    except (TypeError, ValueError):
        ctx.error(ctx.pos(node, key), f"{path}.{key} : il faut un nombre entier comme 2, trouvé : {quoted(v)}",
                  "spec.integer", f"écrivez un nombre de 0 ou plus en chiffres, par exemple `{key}: 2`", f"{path}.{key}")
        return None


def _phases(ctx) -> dict[str, Phase]:
    out: dict[str, Phase] = {}
    node = ctx.map_at(ctx.data, "phases", "phases")
    for pid, p in node.items():
        pid = str(pid)
        path = f"phases.{pid}"
        if not isinstance(p, Mapping):
            p = {}
        fp = _field_pos(ctx, p, ("min_duration", "max_duration", "max_renewals", "total_max_duration", "initial",
                                 "final", "events_after"))
        out[pid] = Phase(id=pid, label=text_of(p, "label"), initial=p.get("initial") is True,
                         final=p.get("final") is True,
                         min_duration=ctx.duration(p, "min_duration", path),
                         max_duration=ctx.duration(p, "max_duration", path),
                         max_renewals=_int(ctx, p, "max_renewals", path),
                         total_max_duration=ctx.duration(p, "total_max_duration", path),
                         source=ctx.source(p, path), interpretation=text_of(p, "interpretation"),
                         explanation=text_of(p, "explanation"), pos=ctx.pos(node, pid, of_key=True), field_pos=fp,
                         events_after=_events_after(ctx, p, path),
                         fields=dict((getattr(ctx, "phase_fields", None) or {}).get(pid, {})))
    return out


def _events_after(ctx, p: Mapping, path: str) -> tuple[str, ...] | None:
    """``events_after:`` of a final phase: ``none`` (no event may follow the exit, whatever the evaluation date), or
    the list of event types the text still expects after it (a follow-up at 6 months); absent: not checked."""
    value = p.get("events_after")
    if value is None:
        return None
    if p.get("final") is not True:
        ctx.error(ctx.pos(p, "events_after"), f"{path}.events_after : seule une phase finale (`final: true`) dit quels "
                  "événements peuvent suivre la sortie", "spec.events_after",
                  "ajoutez `final: true` à la phase, ou retirez `events_after:`", path + ".events_after")
        return None
    if value == "none":
        return ()
    if not isinstance(value, list) or not all(isinstance(x, str) for x in value):
        ctx.error(ctx.pos(p, "events_after"), f"{path}.events_after : `none` ou une liste de types d'événements "
                  "attendu", "spec.events_after", "écrivez `events_after: none` ou `events_after: [follow_up]`",
                  path + ".events_after")
        return None
    known = ctx.fields.get("events") or {}
    for t in value:
        if t not in known:
            from engine.errors import did_you_mean

            ctx.error(ctx.pos(p, "events_after"), f"{path}.events_after : type d'événement inconnu « {t} »",
                      "spec.events_after", did_you_mean(t, known) or "déclarez-le dans `events:` ou `inputs.events`",
                      path + ".events_after")
    return tuple(value)


def _transitions(ctx) -> tuple[Transition, ...]:
    from engine.expr.types import BOOLEAN

    out = []
    ids: set[str] = set()
    scope = guard_scope(ctx.scope)
    for i, t in enumerate(ctx.list_at(ctx.data, "transitions", "transitions")):
        path = item_path("transitions", t, i)
        if not isinstance(t, Mapping):
            continue
        if t.get("id") is not None:
            if str(t["id"]) in ids:
                ctx.error(ctx.pos(t, "id"), f"identifiant de transition « {t['id']} » en double", "spec.duplicate_id",
                          "donnez à chaque transition son propre identifiant", path + ".id")
            ids.add(str(t["id"]))
        guard = ctx.expr(t, "guard", scope, BOOLEAN, path + ".guard") if t.get("guard") is not None else None
        out.append(Transition(index=i, from_phase=str(t.get("from")), to_phase=str(t.get("to")),
                              label=text_of(t, "label"),
                              within=ctx.duration(t, "within", path), after=ctx.duration(t, "after", path),
                              guard=guard, source=ctx.source(t, path), interpretation=text_of(t, "interpretation"),
                              id=None if t.get("id") is None else str(t.get("id")),
                              explanation=text_of(t, "explanation"),
                              pos=ctx.pos(ctx.data.get("transitions"), i),
                              field_pos=_field_pos(ctx, t, ("from", "to", "within", "after", "guard"))))
    return tuple(out)


def _anchor(ctx, node, role: str, path: str, allowed: tuple[str, ...]) -> Anchor | None:
    a = node.get(role) if isinstance(node, Mapping) else None
    if not isinstance(a, Mapping) or len(a) != 1 or next(iter(a)) not in allowed:
        kinds = " ou ".join(f"{{{k}: ...}}" for k in allowed)
        ctx.error(ctx.pos(node, role) if isinstance(node, Mapping) and role in node else ctx.pos(node),
                  f"{path}.{role} : il faut exactement un de {kinds}", "spec.anchor",
                  f"par exemple `{role}: {{phase: orientation}}`", f"{path}.{role}")
        return None
    kind = str(next(iter(a)))
    return Anchor(kind, str(a[kind]), ctx.pos(a, kind))


def _where_scope(ctx, target: Anchor | None):
    """The scope of a deadline's ``where``: the target event's fields (type, date and its declared fields)."""
    from engine.spec.model import event_record_type

    events = ctx.fields["events"]
    if target is not None and target.kind == "event" and target.name in events:
        rec = event_record_type({target.name: events[target.name]})
    else:
        rec = event_record_type(events)
    fields = getattr(rec, "fields", None)
    return child_scope(ctx.scope, dict(fields) if isinstance(fields, Mapping) else {})


def _deadlines(ctx) -> tuple[Deadline, ...]:
    from engine.expr.types import BOOLEAN

    out = []
    ids: dict[str, str] = {}
    node = ctx.list_at(ctx.data, "deadlines", "deadlines")
    for i, d in enumerate(node):
        path = item_path("deadlines", d, i)
        if not isinstance(d, Mapping):
            continue
        did = str(d.get("id") or f"deadline_{i + 1}")
        if did in ids:
            ctx.error(ctx.pos(d, "id"), f"identifiant de délai « {did} » en double", "spec.duplicate_id",
                      "donnez à chaque délai son propre identifiant", path + ".id")
        ids[did] = path
        anchor = _anchor(ctx, d, "from", path, ANCHOR_KINDS)
        target = _anchor(ctx, d, "to", path, ("phase", "event"))
        within, not_before, milestone = _deadline_window(ctx, d, did, path)
        where = None
        if d.get("where") is not None:
            if target is not None and target.kind != "event":
                ctx.error(ctx.pos(d, "where"), f"délai « {did} » : `where` filtre les événements visés, mais la cible est "
                          "une phase", "spec.deadline",
                          "retirez `where` ou visez un événement", path + ".where")
            else:
                where = ctx.expr(d, "where", _where_scope(ctx, target), BOOLEAN, path + ".where")
        applies = ctx.expr(d, "applies_if", ctx.scope, BOOLEAN, path + ".applies_if") \
            if d.get("applies_if") is not None else None
        during_phase = d.get("during_phase") is True
        if during_phase and anchor is not None and anchor.kind != "phase":
            ctx.error(ctx.pos(d, "during_phase"), f"échéance « {did} » : `during_phase` demande un point de départ qui est une "
                      f"phase (`from: {{phase: ...}}`), pas {'un événement' if anchor.kind == 'event' else 'un attribut'}",
                      "spec.deadline", "partez de la phase pendant laquelle la cible doit avoir lieu, ou retirez "
                      "during_phase",
                      path + ".during_phase")
            during_phase = False
        if anchor is None or target is None or within is None:
            continue
        out.append(Deadline(id=did, label=text_of(d, "label"), anchor=anchor, target=target, within=within, where=where,
                            not_before=not_before, milestone=milestone, during_phase=during_phase,
                            applies_if=applies, source=ctx.source(d, path), interpretation=text_of(d, "interpretation"),
                            pos=ctx.pos(node, i), field_pos=_field_pos(ctx, d, ("from", "to", "within", "where",
                                                                                  "applies_if", "not_before",
                                                                                  "milestone", "tolerance"))))
    return tuple(out)


def _deadline_window(ctx, d, did: str, path: str):
    """``(within, not_before, milestone)`` of a deadline: ``within`` (latest) with an optional ``not_before``
    (earliest), or ``milestone`` +/- ``tolerance`` (a duration, or ``{before: D, after: D}``; default
    ``MILESTONE_TOLERANCE_MONTHS`` on each side). Reports a deadline with neither or both, a tolerance without a
    milestone, and a window that can be empty or that opens before the anchor."""
    from engine.spec.graph import always_longer, french_duration
    from engine.spec.model import MILESTONE_TOLERANCE_MONTHS
    from engine.expr.runtime import Duration

    has_within, has_milestone = d.get("within") is not None, d.get("milestone") is not None
    if not has_within and not has_milestone:
        ctx.error(ctx.pos(d), f"le délai « {did} » n'a ni `within` ni `milestone`", "spec.deadline",
                  "ajoutez par exemple `within: 15 jours`, ou `milestone: 6 mois` pour un point « à 6 mois »", path)
        return None, None, None
    if has_within and has_milestone:
        ctx.error(ctx.pos(d, "milestone"), f"délai « {did} » : `milestone` et `within` ensemble", "spec.deadline",
                  "gardez `milestone` (une fenêtre autour, voir `tolerance`) ou `within` (+ `not_before`), pas les "
                  "deux",
                  path + ".milestone")
        return None, None, None
    if has_within:
        if d.get("tolerance") is not None:
            ctx.error(ctx.pos(d, "tolerance"), f"délai « {did} » : `tolerance` ne s'applique qu'à un `milestone`",
                      "spec.deadline", "écrivez `milestone: 6 mois` au lieu de `within`, ou retirez `tolerance`",
                      path + ".tolerance")
        within = ctx.duration(d, "within", path)
        not_before = ctx.duration(d, "not_before", path)
        if within is not None and not_before is not None and always_longer(not_before, within):
            ctx.error(ctx.pos(d, "not_before"), f"délai « {did} » : not_before ({french_duration(not_before)}) est "
                      f"plus long que within ({french_duration(within)}) : la fenêtre est vide", "spec.deadline",
                      "rendez `not_before` plus court que `within`", path + ".not_before")
            return None, None, None
        return within, not_before, None
    if d.get("not_before") is not None:
        ctx.error(ctx.pos(d, "not_before"), f"délai « {did} » : `not_before` avec un `milestone`", "spec.deadline",
                  "la fenêtre d'un milestone se règle par `tolerance: {before: ..., after: ...}`", path + ".not_before")
    milestone = ctx.duration(d, "milestone", path)
    tol = d.get("tolerance")
    default = Duration(MILESTONE_TOLERANCE_MONTHS, 0)
    if isinstance(tol, Mapping):
        unknown = [k for k in tol if k not in ("before", "after")]
        if unknown:
            ctx.error(ctx.pos(tol, unknown[0], of_key=True), f"délai « {did} » : tolerance n'a pas de clé "
                      f"« {unknown[0]} »", "spec.deadline", "écrivez `tolerance: {before: 1 mois, after: 15 jours}`",
                      path + ".tolerance")
        before = ctx.duration(tol, "before", path + ".tolerance") if "before" in tol else default
        after = ctx.duration(tol, "after", path + ".tolerance") if "after" in tol else default
    elif tol is not None:
        before = after = ctx.duration(d, "tolerance", path)
    else:
        before = after = default
    if milestone is None or before is None or after is None:
        return None, None, None
    if always_longer(before, milestone):
        ctx.error(ctx.pos(d, "tolerance") if tol is not None else ctx.pos(d, "milestone"),
                  f"délai « {did} » : la tolérance avant le milestone ({french_duration(before)}) est plus longue que "
                  f"le milestone ({french_duration(milestone)}) : la fenêtre s'ouvrirait avant son point de départ",
                  "spec.deadline", "donnez une tolérance plus courte, par exemple `tolerance: {before: 15 jours, "
                  "after: 1 mois}`",
                  path + ".tolerance")
        return None, None, None
    return milestone + after, milestone - before, milestone


def _obligations(ctx) -> tuple[Obligation, ...]:
    from engine.expr.types import BOOLEAN

    out = []
    ids: dict[str, str] = {}
    node = ctx.list_at(ctx.data, "obligations", "obligations")
    scope = obligation_scope(ctx.scope)
    for i, o in enumerate(node):
        path = item_path("obligations", o, i)
        if not isinstance(o, Mapping):
            continue
        oid = str(o.get("id") or f"obligation_{i + 1}")
        if oid in ids:
            ctx.error(ctx.pos(o, "id"), f"identifiant d'obligation « {oid} » en double", "spec.duplicate_id",
                      "donnez à chaque obligation son propre identifiant", path + ".id")
        ids[oid] = path
        during_node = o.get("during")
        if not isinstance(during_node, str):
            during_node = ctx.list_at(o, "during", path + ".during")
        during = (during_node,) if isinstance(during_node, str) else tuple(str(x) for x in during_node)
        fp = _field_pos(ctx, o, ("during", "every", "condition", "partial_windows"))
        if not isinstance(during_node, str):
            fp.update({f"during[{j}]": ctx.pos(during_node, j) for j in range(len(during))})
        every_raw = o.get("every")
        every: Any = str(every_raw) if every_raw in CALENDAR_PERIODS else ctx.duration(o, "every", path)
        if every is not None and not isinstance(every, str) and every.months <= 0 and every.days <= 0:
            ctx.error(ctx.pos(o, "every"), f"obligation « {oid} » : une fenêtre ne peut pas durer {quoted(every_raw)}",
                      "spec.obligation",
                      "donnez une durée positive comme 8 semaines, ou week, month, quarter, year", path + ".every")
            every = None
        if every_raw is None:
            ctx.error(ctx.pos(o), f"l'obligation « {oid} » n'a pas de `every`", "spec.obligation",
                      "ajoutez `every: month` (week, month, quarter, year ou une durée comme 8 semaines)", path)
        partial = str(o.get("partial_windows") or "skip")
        if partial not in ("skip", "check"):
            ctx.error(ctx.pos(o, "partial_windows"), f"partial_windows vaut « skip » ou « check », trouvé : « {partial} »",
                      "spec.obligation", "skip : les fenêtres qui ne sont pas entièrement dans un séjour ne sont pas "
                      "vérifiées", path)
        cond = ctx.expr(o, "condition", scope, BOOLEAN, path + ".condition") if o.get("condition") is not None \
            else None
        applies = ctx.expr(o, "applies_if", ctx.scope, BOOLEAN, path + ".applies_if") \
            if o.get("applies_if") is not None else None
        if cond is None or every is None:
            continue
        out.append(Obligation(id=oid, label=text_of(o, "label"), during=during, every=every, condition=cond,
                              partial_windows=partial, applies_if=applies, source=ctx.source(o, path),
                              interpretation=text_of(o, "interpretation"), pos=ctx.pos(node, i), field_pos=fp))
    return tuple(out)


def compile_path(ctx) -> None:
    """Fill ``phases``, ``transitions``, ``deadlines``, ``obligations`` and ``tables`` of ``ctx.fields``, and report
    the phase-graph problems and those of the convention (``events_after_end``, ``min_duration`` over
    ``max_duration``: ``convention.min_above_max``)."""
    from engine.spec.graph import always_longer, check_graph, compile_tables, french_duration

    f = ctx.fields
    phases = _phases(ctx)
    transitions = _transitions(ctx)
    deadlines = _deadlines(ctx)
    obligations = _obligations(ctx)
    if (transitions or deadlines or obligations) and not phases and "phases" not in ctx.data:
        pos = f["section_pos"].get("transitions") or f["section_pos"].get("deadlines") or ctx.pos(ctx.data)
        ctx.error(pos, "des transitions, délais ou obligations sans section `phases`", "graph.no_phases",
                  "déclarez les phases (voir specs/README.md)", "phases")
    ctx.bag.extend(check_graph(phases, transitions, deadlines, obligations, f["events"], f["attributes"],
                               f["section_pos"].get("phases"), ctx.line_of))
    conv, conv_node = f.get("convention"), ctx.data.get("convention")
    if conv is not None and isinstance(conv_node, Mapping) and isinstance(conv_node.get("events_after_end"), list):
        for j, name in enumerate(conv.events_after_end):
            if name not in f["events"]:
                ctx.error(ctx.pos(conv_node["events_after_end"], j), "convention.events_after_end : type "
                          f"d'événement inconnu « {name} »", "spec.unknown_event",
                          did_you_mean(name, f["events"]) or "nommez un type d'événement déclaré dans `inputs.events` "
                          "ou dans le vocabulaire", f"convention.events_after_end[{j}]")
    if conv is not None and isinstance(conv_node, Mapping) and conv.min_duration is not None \
            and conv.max_duration is not None and always_longer(conv.min_duration, conv.max_duration):
        ctx.error(ctx.pos(conv_node, "min_duration"), f"convention : min_duration ({french_duration(conv.min_duration)}) "
                  f"est plus longue que max_duration ({french_duration(conv.max_duration)}) : aucune convention ne peut "
                  "respecter les deux", "convention.min_above_max", "baissez min_duration ou augmentez max_duration",
                  "convention.min_duration")
    f.update(phases=phases, transitions=transitions, deadlines=deadlines, obligations=obligations,
             tables=compile_tables(phases, transitions))


__all__ = ["compile_path", "did_you_mean"]
