"""Errors of the HTTP API as ``application/problem+json`` (RFC 9457): ``type``, ``title``, ``status``, ``detail`` (a
French sentence), the engine's stable ``code``, and when known a ``hint`` and the positioned ``errors`` (the
diagnostics of a spec text, an operation, a parameter).

An :class:`engine.errors.EngineError` raised by the library keeps its own code (``explain.unknown_rule``,
``operation.id``, ``import.outside_root``...); the server's own codes start with ``server.``."""

from __future__ import annotations

from typing import Any

PROBLEM_TYPE = "https://pas-de-calais.fr/dispositif-engine/errors#"
MEDIA_TYPE = "application/problem+json"

TITLES = {400: "Requête invalide", 401: "Authentification requise", 404: "Ressource introuvable",
          405: "Méthode non admise", 409: "Requête ambiguë", 413: "Requête trop grande",
          415: "Type de contenu non pris en charge", 422: "Contenu invalide", 500: "Erreur interne du moteur",
          503: "Temps de traitement dépassé"}

# every code the server itself answers with (docs/server.md lists them with their status)
CODES = {
    "server.bad_date": 400, "server.bad_param": 400, "server.bad_request": 400, "server.invalid_json": 400,
    "server.token_missing": 401, "server.token_invalid": 401,
    "server.unknown_spec": 404, "server.unknown_version": 404, "server.not_found": 404,
    "server.method_not_allowed": 405, "server.ambiguous_version": 409,
    "server.body_too_large": 413, "server.too_many_records": 413, "server.media_type": 415,
    "server.time_limit": 503, "internal_error": 500,
}


class Problem(Exception):
    """An error answered as a problem document (raised by a handler, rendered by the app)."""

    def __init__(self, status: int, code: str, detail: str, *, hint: str | None = None,
                 errors: list[dict] | None = None, headers: dict[str, str] | None = None):
        super().__init__(detail)
        self.status, self.code, self.detail = status, code, detail
        self.hint, self.errors, self.headers = hint, errors, headers or {}

    def body(self, instance: str | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {"type": PROBLEM_TYPE + self.code, "title": TITLES.get(self.status, "Erreur"),
                               "status": self.status, "detail": self.detail, "code": self.code}
        if self.hint:
            out["hint"] = self.hint
        if self.errors:
            out["errors"] = self.errors
        if instance:
            out["instance"] = instance
        return out


def from_engine_error(e) -> Problem:
    """The problem of a library error: 400 for a usage error (a parameter, a name the spec does not have), 422 for
    a content that is invalid (a spec text, an operation, records)."""
    from engine.errors import UsageError

    first = e.diagnostic
    status = 400 if isinstance(e, UsageError) else 422
    errors = [d.to_json() for d in e.diagnostics[:100]]
    return Problem(status, first.code, first.message, hint=first.hint, errors=errors)


PROBLEM_SCHEMA = {
    "type": "object",
    "description": "RFC 9457 problem details; `code` is stable (docs/server.md), `detail` is French.",
    "required": ["type", "title", "status", "detail", "code"],
    "properties": {
        "type": {"type": "string"}, "title": {"type": "string"}, "status": {"type": "integer"},
        "detail": {"type": "string"}, "code": {"type": "string"}, "hint": {"type": "string"},
        "instance": {"type": "string"},
        "errors": {"type": "array", "items": {
            "type": "object", "required": ["code", "message"],
            "properties": {"code": {"type": "string"}, "severity": {"type": "string"},
                           "message": {"type": "string"}, "file": {"type": ["string", "null"]},
                           "line": {"type": ["integer", "null"]}, "column": {"type": ["integer", "null"]},
                           "path": {"type": "string"}, "hint": {"type": "string"}}}},
    },
}
