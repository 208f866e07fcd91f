"""The API's OpenAPI 3.1 document (``/openapi.json``): FastAPI's paths and parameters, with the request bodies and
the answers described by the engine's own schemas: the output schemas of ``evaluate``, ``report`` and ``diff``
(:mod:`engine.render.schemas`, ``engine schema --output NAME``) and the trace of ``explain``
(``engine schema --output explain``), so that a client generated from it, or a property test, sees exactly what the
engine writes. Every error is a problem document (RFC 9457). ``spec_id`` is an enumeration of the served ids."""

from __future__ import annotations

import copy
from typing import Any

from engine.server.problems import MEDIA_TYPE, PROBLEM_SCHEMA

_REF = "#/components/schemas/"


def _lift(name: str, schema: dict, components: dict) -> dict:
    """``schema`` as a component ``name``: its ``$defs`` become components ``name_def`` and its references follow."""
    schema = copy.deepcopy(schema)
    schema.pop("$schema", None)
    schema.pop("$id", None)
    defs = schema.pop("$defs", {}) or {}

    def fix(node):
        if isinstance(node, dict):
            ref = node.get("$ref")
            if isinstance(ref, str) and ref.startswith("#/$defs/"):
                node["$ref"] = _REF + f"{name}_{ref[len('#/$defs/'):]}"
            for v in node.values():
                fix(v)
        elif isinstance(node, list):
            for v in node:
                fix(v)

    fix(schema)
    for k, v in defs.items():
        fix(v)
        components[f"{name}_{k}"] = v
    components[name] = schema
    return {"$ref": _REF + name}


def _json(schema: dict, media: str = "application/json") -> dict:
    return {media: {"schema": schema}}


def _problems(*statuses: int) -> dict:
    out: dict[str, Any] = {str(s): {"description": _STATUS[s], "content": _json({"$ref": _REF + "Problem"},
                                                                                 MEDIA_TYPE)} for s in statuses}
    out["default"] = {"description": "toute autre erreur (problem+json)",
                      "content": _json({"$ref": _REF + "Problem"}, MEDIA_TYPE)}
    return out


_STATUS = {400: "requête invalide (JSON, date, paramètre)", 401: "jeton absent ou refusé",
           404: "spec ou version inconnue", 409: "plusieurs versions possibles : préciser ?version=",
           413: "corps ou nombre d'enregistrements au-delà des limites", 415: "type de contenu non pris en charge",
           422: "contenu invalide (opération, texte de spec)", 503: "temps de traitement dépassé"}

_RECORD = {"type": "object", "description": "un enregistrement (comme une ligne de engine evaluate)"}


def build_openapi(app, served) -> dict:
    if getattr(app, "openapi_schema", None):
        return app.openapi_schema
    from fastapi.openapi.utils import get_openapi

    from engine.render.schemas import output_schema
    from engine.spec.schema import explain_schema

    doc = get_openapi(title=app.title, version=app.version, description=app.description, routes=app.routes)
    comps = doc.setdefault("components", {}).setdefault("schemas", {})
    comps.pop("HTTPValidationError", None)
    comps.pop("ValidationError", None)
    evaluate = _lift("EvaluateOutput", output_schema("evaluate"), comps)
    report = _lift("ReportOutput", output_schema("report"), comps)
    diff = _lift("DiffOutput", output_schema("diff"), comps)
    explain = _lift("ExplainOutput", explain_schema(), comps)
    comps["Problem"] = copy.deepcopy(PROBLEM_SCHEMA)
    summary = {"type": "object", "required": ["id", "version", "title", "valid_from", "valid_until"],
               "properties": {"id": {"type": "string"}, "version": {"type": ["string", "null"]},
                              "title": {"type": ["string", "null"]},
                              "valid_from": {"type": ["string", "null"], "format": "date"},
                              "valid_until": {"type": ["string", "null"], "format": "date"}}}
    comps["SpecSummary"] = summary
    detail = copy.deepcopy(summary)
    named = {"type": "array", "items": {"type": "object"}}
    detail["properties"].update({"source_document": {"type": ["string", "null"]}, "attributes": named,
                                 "parameters": named, "phases": named, "deadlines": named, "obligations": named,
                                 "examples": {"type": "array", "items": {"type": "string"}},
                                 "operation": {"type": "boolean"}})
    detail["required"] += ["attributes", "parameters", "phases", "deadlines", "obligations", "examples"]
    comps["SpecDetail"] = detail

    ids = sorted(served.by_id)
    paths = doc["paths"]
    for ops in paths.values():
        for op in ops.values():
            for p in op.get("parameters", []):
                if p.get("name") == "spec_id":
                    p["schema"] = {"type": "string", "enum": ids, "title": "Spec Id"}
                if p.get("name") == "at":
                    p["schema"] = {"type": "string", "format": "date", "description": "date d'évaluation "
                                   "AAAA-MM-JJ (défaut : aujourd'hui)"}
                if p.get("name") == "param":
                    p["schema"] = {"type": "array", "items": {"type": "string", "pattern": "^[^=]+=.*$"},
                                   "description": "NOM=VALEUR d'un paramètre de la spec (répétable)"}
            if "security" not in op and _secured(app):
                op["security"] = [{"bearer": []}]

    def ok(content: dict, description: str) -> dict:
        return {"200": {"description": description, "content": content}}

    paths["/healthz"]["get"]["responses"] = ok(_json({"type": "object", "required": ["status"],
                                                      "properties": {"status": {"const": "ok"},
                                                                     "specs": {"type": "integer"}}}), "en service")
    paths["/healthz"]["get"].pop("security", None)
    paths["/v1/specs"]["get"]["responses"] = {
        **ok(_json({"type": "object", "required": ["specs"], "properties": {
            "specs": {"type": "array", "items": {"$ref": _REF + "SpecSummary"}}}}), "les specs servies"),
        **_problems(401)}
    paths["/v1/specs/{spec_id}"]["get"]["responses"] = {
        **ok(_json({"type": "object", "required": ["id", "versions"], "properties": {
            "id": {"type": "string"}, "versions": {"type": "array", "items": {"$ref": _REF + "SpecDetail"}}}}),
            "la spec (toutes ses versions servies, ou celle demandée)"),
        **_problems(401, 404)}
    ev = paths["/v1/specs/{spec_id}/evaluate"]["post"]
    ev["requestBody"] = {"required": True, "content": {
        "application/json": {"schema": {"oneOf": [_RECORD, {"type": "array", "items": _RECORD}]}},
        "application/x-ndjson": {"schema": {"type": "array", "items": _RECORD, "description": "un enregistrement "
                                            "JSON par ligne (chaque élément du tableau est une ligne)"}}}}
    ev["responses"] = {**ok({"application/json": {"schema": {"oneOf": [
        evaluate, {"type": "array", "items": evaluate}]}},
        "application/x-ndjson": {"schema": {"type": "array", "items": evaluate, "description": "une décision "
                                            "par ligne, dans l'ordre (chaque élément du tableau est une ligne)"}}},
        "une décision par enregistrement, dans l'ordre et la forme du corps (= engine evaluate)"),
        **_problems(400, 401, 404, 409, 413, 415, 503)}
    rp = paths["/v1/specs/{spec_id}/report"]["post"]
    rp["requestBody"] = {"required": True, "content": _json({
        "type": "object", "required": ["operation"], "properties": {
            "operation": {"type": "object", "description": "l'opération (le fichier de engine report --operation)"},
            "cohort": {"type": "array", "items": _RECORD, "description": "les participants"}}})}
    rp["responses"] = {**ok(_json(report), "le rapport (= engine report --format json)"),
                       **_problems(400, 401, 404, 409, 413, 422, 503)}
    xp = paths["/v1/specs/{spec_id}/explain"]["post"]
    names = {"type": "array", "items": {"type": "string"}}
    xp["requestBody"] = {"required": True, "content": _json({
        "type": "object", "required": ["record"], "properties": {
            "record": _RECORD, "rules": names, "deadlines": names, "obligations": names, "transitions": names}})}
    xp["responses"] = {**ok(_json(explain), "la trace de la décision (= engine explain --format json)"),
                       **_problems(400, 401, 404, 409, 413, 503)}
    df = paths["/v1/diff"]["post"]
    df["requestBody"] = {"required": True, "content": _json({
        "type": "object", "required": ["old", "new"], "properties": {
            "old": {"type": "string", "description": "le texte YAML de l'ancienne version"},
            "new": {"type": "string", "description": "le texte YAML de la nouvelle version"}}})}
    df["responses"] = {**ok(_json(diff), "le diff sémantique (= engine diff --format json)"),
                       **_problems(400, 401, 413, 422, 503)}
    if _secured(app):
        doc["components"]["securitySchemes"] = {"bearer": {"type": "http", "scheme": "bearer"}}
    app.openapi_schema = doc
    return doc


def _secured(app) -> bool:
    return bool(getattr(app.state, "secured", False))
