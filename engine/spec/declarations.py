"""Compile the declarations of a spec: attributes, event types, operation attributes and parameters (the imported
vocabulary plus the spec's ``inputs``/``parameters``), then the definitions (each checked once; a cycle is an error)
and the expression scope of the spec. Called by :func:`engine.spec.compile.compile_spec`."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping

from engine.spec.context import Ctx, plain, text_of
from engine.errors import EngineError
from engine.spec.model import Attribute, Definition, EventType, Parameter, spec_scope


def _vocabularies(ctx: Ctx) -> list[tuple[str, Any]]:
    """(vocabulary name, merged vocabulary sections): the loader merges every imported vocabulary (transitively)."""
    voc = getattr(ctx.doc, "vocabulary", None)
    if not isinstance(voc, Mapping) or not voc:
        return []
    names = [str(getattr(i, "data", {}).get("id") or Path(getattr(i, "path", "vocabulary")).stem)
             for i in getattr(ctx.doc, "imports", None) or ()]
    return [(", ".join(names) or "le vocabulaire", voc)]


def _declare(ctx: Ctx, table: dict[str, Attribute], node, path: str, origin: str) -> None:
    from engine.expr.types import type_from_decl

    if not isinstance(node, Mapping):
        return
    for name, decl in node.items():
        name = str(name)
        p = f"{path}.{name}"
        try:
            typ = type_from_decl(decl)  # the mapping as loaded: tests/test_spec_format.py sees what is read
        except (ValueError, TypeError, EngineError) as e:
            msg = e.diagnostic.message if isinstance(e, EngineError) else str(e)
            ctx.error(ctx.pos(decl, "type") if isinstance(decl, Mapping) and "type" in decl else ctx.pos(node, name),
                      f"{p} : {msg}", "spec.type", "types : boolean, number, integer, string, date, duration, enum "
                      "(avec values), list (avec items)", p)
            continue
        label = text_of(decl, "label") if isinstance(decl, Mapping) else None
        vl = decl.get("value_labels") if isinstance(decl, Mapping) and not path.endswith("parameters") else None
        if isinstance(vl, Mapping):
            values = [str(v) for v in (decl.get("values") or ())]
            for k in vl:
                if str(k) not in values:
                    ctx.error(ctx.pos(vl, k, of_key=True), f"{p}.value_labels : « {k} » n'est pas une valeur de "
                              f"« {name} »", "spec.type", "les clés de value_labels sont des valeurs de `values:`",
                              f"{p}.value_labels.{k}")
        attr = Attribute(name, typ, plain(decl) if isinstance(decl, Mapping) else {"type": decl}, label,
                         ctx.source(decl, p) if isinstance(decl, Mapping) else None, origin)
        old = table.get(name)
        if old is not None and old.origin == origin:
            ctx.error(ctx.pos(node, name, of_key=True), f"« {name} » est déclaré deux fois", "spec.duplicate_id",
                      "gardez une seule déclaration", p)
        elif old is not None and old.decl.get("type") != attr.decl.get("type"):
            ctx.error(ctx.pos(node, name, of_key=True), f"« {name} » est déjà déclaré par {old.origin} avec le type "
                      f"{old.decl.get('type')}", "spec.redeclared", "utilisez la déclaration du vocabulaire (supprimez "
                      "celle-ci) ou choisissez un autre nom", p)
        table[name] = attr


def _event_types(ctx: Ctx, table: dict[str, EventType], node, path: str, origin: str) -> None:
    if not isinstance(node, Mapping):
        return
    for name, decl in node.items():
        name = str(name)
        fields: dict[str, Attribute] = {}
        if isinstance(decl, Mapping):
            _declare(ctx, fields, ctx.map_at(decl, "fields", f"{path}.{name}.fields"), f"{path}.{name}.fields", origin)
            for reserved in ("type", "date"):
                if reserved in fields:
                    ctx.error(ctx.pos(decl.get("fields"), reserved, of_key=True), f"le champ d'événement « {reserved} » est "
                              "réservé (tout événement a un type et une date)", "spec.reserved", "renommez le champ",
                              f"{path}.{name}.fields.{reserved}")
        table[name] = EventType(name, text_of(decl, "label") if isinstance(decl, Mapping) else None, fields,
                                ctx.source(decl, f"{path}.{name}") if isinstance(decl, Mapping) else None)


def _declarations(ctx: Ctx) -> None:
    attrs: dict[str, Attribute] = {}
    events: dict[str, EventType] = {}
    ops: dict[str, Attribute] = {}
    params: dict[str, Parameter] = {}
    for vid, voc in _vocabularies(ctx):
        _declare(ctx, attrs, voc.get("attributes"), "attributes", vid)
        _event_types(ctx, events, voc.get("events"), "events", vid)
        _declare(ctx, ops, voc.get("operation_attributes"), "operation_attributes", vid)
    inputs = ctx.map_at(ctx.data, "inputs", "inputs")
    if isinstance(inputs, Mapping):
        _declare(ctx, attrs, inputs.get("attributes"), "inputs.attributes", "spec")
        _event_types(ctx, events, inputs.get("events"), "inputs.events", "spec")
        _declare(ctx, ops, inputs.get("operation"), "inputs.operation", "spec")
    for reserved in ("id", "history", "events", "today"):
        if reserved in attrs and attrs[reserved].origin == "spec":
            ctx.error(ctx.pos(inputs.get("attributes"), reserved, of_key=True), f"le nom d'attribut « {reserved} » est "
                      "réservé", "spec.reserved", "renommez l'attribut", f"inputs.attributes.{reserved}")
    tmp: dict[str, Attribute] = {}
    pnodes = [ctx.map_at(voc, "parameters", "parameters") for _, voc in _vocabularies(ctx)] + \
        [ctx.map_at(ctx.data, "parameters", "parameters")]
    for vid, voc in _vocabularies(ctx):
        _declare(ctx, tmp, voc.get("parameters"), "parameters", vid)
    _declare(ctx, tmp, ctx.data.get("parameters"), "parameters", "spec")
    for name, a in tmp.items():
        pnode = next(n for n in reversed(pnodes) if name in n)
        decl = pnode.get(name)
        params[name] = Parameter(name, a.type, a.decl, a.label,
                                 text_of(decl, "interpretation") if isinstance(decl, Mapping) else None, a.source)
        if name in attrs:
            ctx.error(ctx.pos(pnode, name, of_key=True), f"le paramètre « {name} » porte le nom d'un attribut",
                      "spec.duplicate_id", "renommez le paramètre", f"parameters.{name}")
    ctx.fields.update(attributes=attrs, events=events, operation_attributes=ops, parameters=params)


_DEFINITION_TYPES = ("boolean", "number", "integer", "string", "date", "duration")  # a definition's `type:`
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_STRING = re.compile(r'"(?:[^"\\]|\\.)*"|\'(?:[^\'\\]|\\.)*\'')


def _definitions(ctx: Ctx) -> None:
    """Compile the definitions (vocabulary first, then the spec's), each after the definitions it uses; a cycle is an
    error."""
    from engine.expr import types as T

    nodes: dict[str, tuple[Any, str, str]] = {}  # name -> (mapping holding it, path, origin)
    for vid, voc in _vocabularies(ctx):
        for name, d in ctx.map_at(voc, "definitions", "definitions").items():
            nodes[str(name)] = (voc.get("definitions"), f"definitions.{name}", vid)
    spec_defs = ctx.map_at(ctx.data, "definitions", "definitions")
    for name, d in spec_defs.items():
        if str(name) in ctx.fields["attributes"] or str(name) in ctx.fields["parameters"]:
            ctx.error(ctx.pos(spec_defs, name, of_key=True), f"la définition « {name} » porte le nom d'un attribut ou "
                      "d'un paramètre", "spec.duplicate_id", "renommez la définition", f"definitions.{name}")
        nodes[str(name)] = (spec_defs, f"definitions.{name}", "spec")

    def expr_text(name: str) -> str:
        holder, _, _ = nodes[name]
        d = holder[name]
        t = d.get("expr") if isinstance(d, Mapping) else d
        return t if isinstance(t, str) else ""

    deps = {n: sorted({m for m in _IDENT.findall(_STRING.sub("", expr_text(n))) if m in nodes and m != n})
            for n in nodes}
    order: list[str] = []
    state: dict[str, int] = {}
    for root in nodes:
        stack = [(root, iter(deps[root]))]
        if state.get(root):
            continue
        state[root] = 1
        while stack:
            n, it = stack[-1]
            nxt = next(it, None)
            if nxt is None:
                stack.pop()
                state[n] = 2
                order.append(n)
            elif state.get(nxt) == 1:
                holder, path, _ = nodes[n]
                cycle = [m for m, _ in stack][[m for m, _ in stack].index(nxt):] + [nxt]
                ctx.error(ctx.pos(holder, n, of_key=True), "des définitions se citent en cycle : "
                          + " -> ".join(cycle), "spec.definition_cycle", "rompez le cycle : une définition ne peut pas "
                          "s'utiliser elle-même, directement ou par d'autres", path)
                deps[n] = [m for m in deps[n] if m != nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                stack.append((nxt, iter(deps[nxt])))

    cyclic = {n for n, st in state.items() if st == 1}  # left open by a reported cycle
    f = ctx.fields
    scope_defs: dict[str, Any] = {}
    for name, (holder, path, origin) in nodes.items():
        d = holder[name]
        node, key = (d, "expr") if isinstance(d, Mapping) else (holder, name)
        if isinstance(node, Mapping) and isinstance(node.get(key), str):
            scope_defs[name] = T.Definition(node[key], ctx.origin(node, key))
    ctx.scope = spec_scope(f["attributes"], f["events"], f["parameters"], scope_defs, _phase_fields(ctx))
    model_defs: dict[str, Definition] = {}
    for name in order:
        holder, path, origin = nodes[name]
        d = holder[name]
        node, key = (d, "expr") if isinstance(d, Mapping) else (holder, name)
        if name in cyclic or not isinstance(node, Mapping) or node.get(key) is None:
            continue
        m = d if isinstance(d, Mapping) else {}
        declared = m.get("type") if m else None
        expect = T.type_from_decl({"type": declared}) if declared in _DEFINITION_TYPES else None
        e = ctx.expr(node, key, ctx.scope, expect, path + (".expr" if node is d else ""))
        if e is None:
            continue
        model_defs[name] = Definition(name, e, text_of(m, "label"), text_of(m, "interpretation"), ctx.source(m, path)
                                      if m else None, origin)
    f["definitions"] = {n: model_defs[n] for n in nodes if n in model_defs}
    ctx.fields["scope"] = ctx.scope


def _phase_fields(ctx: Ctx) -> dict[str, dict[str, Attribute]]:
    """Each phase id with the fields its history entries may carry (``phases.<id>.fields``: a renewal's signed
    length in months), declared like event fields; kept in ``ctx.phase_fields`` for the phases' compilation."""
    p = ctx.data.get("phases")
    out: dict[str, dict[str, Attribute]] = {}
    if not isinstance(p, Mapping):
        ctx.phase_fields = out
        return out
    for k, decl in p.items():
        fields: dict[str, Attribute] = {}
        if isinstance(decl, Mapping) and decl.get("fields") is not None:
            path = f"phases.{k}.fields"
            _declare(ctx, fields, ctx.map_at(decl, "fields", path), path, "spec")
            for reserved in ("phase", "date"):
                if reserved in fields:
                    ctx.error(ctx.pos(decl.get("fields"), reserved, of_key=True), f"le champ d'étape « {reserved} » est "
                              "réservé (toute étape a une phase et une date)", "spec.reserved", "renommez le champ",
                              f"{path}.{reserved}")
                    del fields[reserved]
        out[str(k)] = fields
    ctx.phase_fields = out
    return out
