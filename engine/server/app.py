"""The HTTP API's application: :func:`create_app` (usable without uvicorn, e.g. with FastAPI's test client).

The specs are compiled before the app is built (:func:`load_specs`, through :mod:`engine.api`); a request never
names a path of the server: a spec is chosen by its ``id`` (and ``version``), records, operations and spec texts
come in the body. Each answer of ``evaluate``, ``report``, ``diff`` and ``explain`` is the JSON the matching
command writes (``engine evaluate``: byte for byte). Limits (:class:`Limits`) bound the body, the records of one
request and its time; a bearer token, when given, is required on every path but ``/healthz``.
"""

# no ``from __future__ import annotations`` here: FastAPI reads the handlers' annotations (Request) at run time

import hmac
import os
import re
import time
from dataclasses import replace
from datetime import date
from typing import Any, Callable, Iterable, Iterator, Sequence

import orjson

from engine import api
from engine.clock import evaluation_date
from engine.errors import Diagnostic, EngineError, SpecError, UsageError, did_you_mean
from engine.server.limits import Limits
from engine.server.problems import MEDIA_TYPE, Problem, from_engine_error

NDJSON = ("application/x-ndjson", "application/jsonl", "application/ndjson")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")


class _TimeLimit(Exception):
    pass


class Deadline:
    """The end of a request's time; :meth:`watch` stops an iteration of records once it is past."""

    def __init__(self, seconds: float):
        self.end = time.monotonic() + seconds

    def check(self) -> None:
        if time.monotonic() >= self.end:
            raise _TimeLimit()

    def watch(self, items: Iterable) -> Iterator:
        for x in items:
            self.check()
            yield x


# ----------------------------------------------------------------------------------------------- served specs

def load_specs(paths: Sequence[str]) -> tuple[list, tuple[str, ...]]:
    """The compiled specs under ``paths`` (files or folders; vocabularies are not served) and the folders they
    are served from (where a posted diff text's imports are resolved). Raises :class:`SpecError` with every
    problem of every spec that does not compile, or for two files serving the same id and version."""
    from engine.examples import spec_files

    specs, errors, seen = [], [], {}
    folders: list[str] = []
    for p in paths:
        folder = p if os.path.isdir(p) else os.path.dirname(os.path.abspath(p))
        folders.append(os.path.realpath(folder))
    for f in spec_files(paths):
        try:
            s = api.load_spec(str(f))
        except SpecError as e:
            errors.extend(e.diagnostics)
            continue
        if s.kind != "spec":
            continue
        key = (s.id, s.version)
        if key in seen:
            errors.append(Diagnostic(f"la spec « {s.id} » version « {s.version} » est servie deux fois : par "
                                     f"{seen[key]} et par {f}", file=str(f), code="server.duplicate_spec",
                                     hint="servez une seule copie de chaque version (donnez à l'autre sa propre "
                                          "version)"))
            continue
        seen[key] = str(f)
        specs.append(s)
    if errors:
        raise SpecError(errors)
    if not specs:
        raise SpecError(Diagnostic("aucune spec à servir : ces chemins ne contiennent que des vocabulaires ou "
                                   "aucun fichier YAML", file=", ".join(paths), code="server.no_spec",
                                   hint="donnez un dossier de specs, par exemple `engine serve specs/`"))
    return specs, tuple(dict.fromkeys(folders))


def _iso(d) -> str | None:
    return d.isoformat() if d is not None else None


def spec_summary(s) -> dict:
    return {"id": s.id, "version": s.version, "title": s.title, "valid_from": _iso(s.valid_from),
            "valid_until": _iso(s.valid_until)}


def _type_name(decl) -> str:
    t = decl.get("type") if isinstance(decl, dict) else decl
    return str(t) if t is not None else "any"


def spec_detail(s) -> dict:
    out = spec_summary(s)
    out.update({
        "source_document": s.source_document,
        "attributes": [{"name": a.name, "type": _type_name(a.decl), "label": a.label, "origin": a.origin}
                       for a in s.attributes.values()],
        "parameters": [{"name": p.name, "type": _type_name(p.decl), "label": p.label}
                       for p in s.parameters.values()],
        "phases": [{"id": ph.id, "label": ph.label, "initial": ph.initial, "final": ph.final}
                   for ph in s.phases.values()],
        "deadlines": [{"id": d.id, "label": d.label} for d in s.deadlines],
        "obligations": [{"id": o.id, "label": o.label} for o in s.obligations],
        "examples": [e.name for e in s.examples],
        "operation": bool(s.operation_attributes) or any(k in s.sections for k in ("funding", "capacity")),
    })
    return out


class Served:
    """The specs a server answers for, by id (each id with its versions, in the order given)."""

    def __init__(self, specs: Iterable, folders: Sequence[str] = ()):
        self.specs = [s for s in specs if getattr(s, "kind", "spec") == "spec"]
        self.folders = tuple(folders)
        self.by_id: dict[str, list] = {}
        for s in self.specs:
            self.by_id.setdefault(s.id, []).append(s)
        for versions in self.by_id.values():
            versions.sort(key=lambda s: str(s.version or ""))

    def versions(self, spec_id: str) -> list:
        found = self.by_id.get(spec_id)
        if not found:
            hint = did_you_mean(spec_id, self.by_id) or ("specs servies : " + ", ".join(sorted(self.by_id)))
            raise Problem(404, "server.unknown_spec", f"aucune spec servie n'a l'identifiant « {spec_id} »",
                          hint=hint)
        return found

    def pick(self, spec_id: str, version: str | None, at: date):
        """The version asked for; else the only one served; else the only one valid at ``at``."""
        found = self.versions(spec_id)
        known = ", ".join(str(s.version) for s in found)
        if version is not None:
            for s in found:
                if str(s.version) == version:
                    return s
            raise Problem(404, "server.unknown_version", f"la spec « {spec_id} » n'est pas servie en version "
                          f"« {version} »", hint=f"versions servies : {known}")
        if len(found) == 1:
            return found[0]
        valid = [s for s in found if (s.valid_from is None or s.valid_from <= at)
                 and (s.valid_until is None or at <= s.valid_until)]
        if len(valid) == 1:
            return valid[0]
        why = (f"{len(valid)} versions sont valides au {at.strftime('%d/%m/%Y')}" if valid
               else f"aucune version n'est valide au {at.strftime('%d/%m/%Y')}")
        raise Problem(409, "server.ambiguous_version", f"la spec « {spec_id} » est servie en plusieurs versions "
                      f"et {why} : laquelle appliquer ?", hint=f"précisez ?version= parmi : {known}")


# ----------------------------------------------------------------------------------------------- request parts

def parse_at(text: str | None) -> date:
    """``?at=``: a date ``AAAA-MM-JJ``; absent, the date every command takes (:func:`engine.clock.evaluation_date`)."""
    if text is None or text == "":
        return evaluation_date()
    try:
        if not _DATE.match(text):
            raise ValueError
        return date.fromisoformat(text)
    except ValueError:
        raise Problem(400, "server.bad_date", f"date d'évaluation invalide : « {text[:40]} »",
                      hint="une date AAAA-MM-JJ, par exemple ?at=2026-06-01") from None


def parse_params(items: Sequence[str]) -> dict[str, str]:
    out = {}
    for text in items:
        name, sep, value = text.partition("=")
        if not sep or not name.strip():
            raise Problem(400, "server.bad_param", f"paramètre invalide : « {text[:60]} »",
                          hint="?param=NOM=VALEUR (répétable), comme --param de la ligne de commande")
        out[name.strip()] = value.strip()
    return out


def _json_error(e: orjson.JSONDecodeError, what: str) -> Problem:
    pos = getattr(e, "pos", None)
    where = f" (caractère {pos + 1})" if isinstance(pos, int) else ""
    return Problem(400, "server.invalid_json", f"{what} n'est pas un JSON valide{where}",
                   hint="envoyez un JSON UTF-8 valide")


def _loads(body: bytes, what: str = "le corps de la requête") -> Any:
    """The JSON value of a body; a 400 problem if it is not JSON (an integer beyond 64 bits is JSON: the records
    reader reads it too)."""
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as e:
        try:
            import json

            return json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError, RecursionError):
            raise _json_error(e, what) from None


def parse_json_object(body: bytes, what: str = "le corps de la requête") -> dict:
    value = _loads(body, what)
    if not isinstance(value, dict):
        raise Problem(400, "server.bad_request", f"{what} doit être un objet JSON {{...}}")
    return value


def _media(content_type: str | None) -> str:
    return (content_type or "").split(";", 1)[0].strip().lower()


def _too_many(n: int, limits: Limits) -> Problem:
    return Problem(413, "server.too_many_records", f"trop d'enregistrements dans une requête : {n}, au plus "
                   f"{limits.max_records}", hint="découpez l'envoi en plusieurs requêtes (ou relancez le serveur "
                   "avec --max-records)")


# ----------------------------------------------------------------------------------------------- work

def evaluate_body(spec, body: bytes, media: str, at: date, params: dict, limits: Limits,
                  deadline: Deadline) -> tuple[bytes, str]:
    """The answer to POST evaluate: (bytes, media type), one decision per record in order, in the body's form."""
    from engine.render.evaluation import dumps

    if media in NDJSON:
        count = sum(1 for line in body.split(b"\n") if line.strip())
        if count > limits.max_records:
            raise _too_many(count, limits)
        results = deadline.watch(api.evaluate_bytes(spec, body, at, params, fmt="jsonl"))
        return b"".join(api.to_json(r) for r in results), "application/x-ndjson"
    if media not in ("application/json", ""):
        raise Problem(415, "server.media_type", f"type de contenu non pris en charge : « {media[:60]} »",
                      hint="application/json (un enregistrement ou un tableau) ou application/x-ndjson "
                           "(un enregistrement par ligne)")
    value = _loads(body)
    if isinstance(value, list):
        if len(value) > limits.max_records:
            raise _too_many(len(value), limits)
        parts = [dumps(r) for r in deadline.watch(api.evaluate_bytes(spec, body, at, params, fmt="json"))]
        text = b"[\n" + b",\n".join(parts) + b"\n]\n" if parts else b"[]\n"  # = engine evaluate --format json
        return text, "application/json"
    if isinstance(value, dict):
        results = list(api.evaluate_bytes(spec, body, at, params, fmt="json"))
        return dumps(results[0]) + b"\n", "application/json"
    raise Problem(400, "server.bad_request", "le corps doit être un enregistrement {...} ou un tableau "
                  "d'enregistrements [{...}, ...]", hint="ou un enregistrement JSON par ligne, en "
                  "application/x-ndjson")


def report_body(spec, body: bytes, at: date, params: dict, limits: Limits, deadline: Deadline) -> bytes:
    """The answer to POST report: ``{"operation": {...}, "cohort": [{...}, ...]}`` -> the JSON of engine report."""
    from engine.beneficiary.records import BadRecord

    req = parse_json_object(body)
    op, cohort = req.get("operation"), req.get("cohort", [])
    if not isinstance(op, dict):
        raise Problem(400, "server.bad_request", "« operation » doit être un objet JSON : l'opération (comme le "
                      "fichier de --operation)", hint='{"operation": {"id": ...}, "cohort": [...]}')
    if not isinstance(cohort, list):
        raise Problem(400, "server.bad_request", "« cohort » doit être un tableau d'enregistrements",
                      hint='{"operation": {...}, "cohort": [{"id": ...}, ...]}')
    if len(cohort) > limits.max_records:
        raise _too_many(len(cohort), limits)
    items = ((i, r if isinstance(r, dict) else BadRecord("not_an_object", "l'enregistrement n'est pas un objet "
                                                          "JSON {...}", None))
             for i, r in enumerate(cohort, 1))
    report = api.build_report(spec, op, deadline.watch(items), at, params)
    return api.render_report(report, "json").encode("utf-8")


def _names(req: dict, key: str) -> list[str]:
    v = req.get(key) or []
    if isinstance(v, str):
        v = [v]
    if not isinstance(v, list) or not all(isinstance(x, (str, int)) and not isinstance(x, bool) for x in v):
        raise Problem(400, "server.bad_request", f"« {key} » doit être une liste de noms")
    return [str(x) for x in v]


_SELECTION_KEYS = (("--rule ", "rules"), ("--deadline ", "deadlines"), ("--obligation ", "obligations"),
                   ("--transition ", "transitions"))


def explain_body(spec, body: bytes, at: date, params: dict) -> bytes:
    req = parse_json_object(body)
    record = req.get("record")
    if not isinstance(record, dict):
        raise Problem(400, "server.bad_request", "« record » doit être un objet JSON : l'enregistrement à "
                      "expliquer", hint='{"record": {"id": ...}, "rules": ["..."]} (rules, deadlines, '
                      "obligations, transitions : facultatifs)")
    sel = {k: _names(req, k) for k in ("rules", "deadlines", "obligations", "transitions")}
    try:
        trace = api.explain_record(spec, record, at, params, **sel)
    except UsageError as e:  # the library names the command's options: name the body's keys instead
        def key(text):
            for flag, name in _SELECTION_KEYS:
                if isinstance(text, str) and text.startswith(flag):
                    return f"« {name} » : " + text[len(flag):]
            return text

        e.diagnostics = [replace(d, message=key(d.message), file=None) for d in e.diagnostics]
        raise
    return orjson.dumps(trace, default=_plain) + b"\n"


def _plain(v):
    from engine.render.evaluation import dumps

    return orjson.Fragment(dumps(v))


def diff_body(body: bytes, folders: Sequence[str]) -> bytes:
    req = parse_json_object(body)
    old, new = req.get("old"), req.get("new")
    if not isinstance(old, str) or not isinstance(new, str):
        raise Problem(400, "server.bad_request", "« old » et « new » doivent être les textes YAML des deux "
                      "versions (jamais des chemins)", hint='{"old": "kind: spec\\nid: ...", "new": "..."}')
    return orjson.dumps(api.diff_texts(old, new, import_folders=folders)) + b"\n"


# ----------------------------------------------------------------------------------------------- the app

def create_app(specs: Iterable, limits: Limits | None = None, *, token: str | None = None,
               folders: Sequence[str] = ()):
    """The FastAPI application serving ``specs`` (compiled, e.g. :func:`load_specs`) within ``limits``.
    ``token``: the bearer token every request but ``/healthz`` must carry (compared in constant time).
    ``folders``: where a posted diff text's ``imports:`` are resolved (none: its imports are missing)."""
    import anyio
    from fastapi import FastAPI, Query, Request
    from fastapi.exceptions import RequestValidationError
    from fastapi.responses import JSONResponse, Response
    from starlette.exceptions import HTTPException

    from engine import __version__
    from engine.server.openapi import build_openapi

    limits = limits or Limits()
    served = Served(specs, folders)
    secret = token.encode("utf-8") if token else None
    app = FastAPI(title="dispositif engine", version=__version__, docs_url=None, redoc_url=None,
                  description="API HTTP du moteur de règles des dispositifs du Pas-de-Calais (docs/server.md).")
    app.state.served, app.state.limits, app.state.secured = served, limits, secret is not None

    def problem_response(p: Problem, request) -> Response:
        body = orjson.dumps(p.body(request.url.path if request is not None else None))
        return Response(body, status_code=p.status, media_type=MEDIA_TYPE, headers=p.headers)

    @app.exception_handler(Problem)
    async def _problem(request, exc: Problem):
        return problem_response(exc, request)

    @app.exception_handler(HTTPException)
    async def _http(request, exc):
        if exc.status_code == 404:
            p = Problem(404, "server.not_found", f"aucune ressource à l'adresse {request.url.path[:200]}",
                        hint="les chemins de l'API sont décrits par /openapi.json")
        elif exc.status_code == 405:
            p = Problem(405, "server.method_not_allowed", f"la méthode {request.method} n'est pas admise sur "
                        f"{request.url.path[:200]}", headers=dict(exc.headers or {}))
        else:
            p = Problem(exc.status_code, "server.bad_request", str(exc.detail)[:300])
        return problem_response(p, request)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request, exc):
        errs = exc.errors()
        where = ".".join(str(x) for x in errs[0].get("loc", ())) if errs else "requête"
        return problem_response(Problem(400, "server.bad_request", f"requête invalide : {where}"), request)

    @app.exception_handler(Exception)
    async def _bug(request, exc):
        return problem_response(Problem(500, "internal_error", f"erreur interne du moteur ({type(exc).__name__}) : "
                                        "c'est un défaut du moteur, pas de la requête ; signalez-le"), request)

    @app.middleware("http")
    async def _guard(request: Request, call_next):
        if secret is not None and request.url.path != "/healthz":
            scheme, _, given = request.headers.get("authorization", "").partition(" ")
            challenge = {"WWW-Authenticate": 'Bearer realm="dispositif-engine"'}
            if scheme.lower() != "bearer" or not given.strip():
                return problem_response(Problem(401, "server.token_missing", "jeton d'accès manquant",
                                                hint="envoyez l'en-tête Authorization: Bearer JETON",
                                                headers=challenge), request)
            if not hmac.compare_digest(given.strip().encode("utf-8"), secret):
                return problem_response(Problem(401, "server.token_invalid", "jeton d'accès refusé",
                                                headers={**challenge, "WWW-Authenticate":
                                                         'Bearer realm="dispositif-engine", error="invalid_token"'}),
                                        request)
        response = await call_next(request)
        response.headers.setdefault("Cache-Control", "no-store")  # decisions are personal data
        response.headers.setdefault("X-Content-Type-Options", "nosniff")
        return response

    async def read_body(request: Request) -> bytes:
        size = request.headers.get("content-length")
        too_large = Problem(413, "server.body_too_large", f"corps de la requête trop grand : plus de "
                            f"{limits.max_body_bytes} octets", hint="découpez l'envoi (ou relancez le serveur "
                            "avec --max-body-bytes)")
        if size is not None and size.strip().isdigit() and int(size) > limits.max_body_bytes:
            raise too_large
        chunks, n = [], 0
        async for chunk in request.stream():
            n += len(chunk)
            if n > limits.max_body_bytes:
                raise too_large
            chunks.append(chunk)
        return b"".join(chunks)

    async def run(work: Callable[[Deadline], Any]):
        deadline = Deadline(limits.max_seconds)
        late = Problem(503, "server.time_limit", f"la requête dépasse le temps de traitement admis "
                       f"({limits.max_seconds:g} s)", hint="envoyez moins d'enregistrements par requête (ou "
                       "relancez le serveur avec --max-seconds)", headers={"Retry-After": "1"})

        def call():
            try:
                return work(deadline)
            except _TimeLimit:
                return late
            except EngineError as e:
                return from_engine_error(e)

        try:
            with anyio.fail_after(max(limits.max_seconds, 0.0) + 0.05):
                out = await anyio.to_thread.run_sync(call, abandon_on_cancel=True)
        except TimeoutError:
            raise late from None
        if isinstance(out, Problem):
            raise out
        return out

    def json_response(data: bytes, media: str = "application/json") -> Response:
        return Response(data, media_type=media)

    @app.get("/healthz")
    async def healthz():
        return {"status": "ok", "specs": len(served.specs)}

    @app.get("/v1/specs")
    async def list_specs():
        return {"specs": [spec_summary(s) for s in served.specs]}

    @app.get("/v1/specs/{spec_id}")
    async def get_spec(spec_id: str, version: str | None = None):
        found = served.versions(spec_id)
        if version is not None:
            found = [served.pick(spec_id, version, evaluation_date())]
        return {"id": spec_id, "versions": [spec_detail(s) for s in found]}

    @app.post("/v1/specs/{spec_id}/evaluate")
    async def evaluate(spec_id: str, request: Request, at: str | None = None, version: str | None = None,
                       param: list[str] = Query(default=[])):
        day, params = parse_at(at), parse_params(param)
        spec = served.pick(spec_id, version, day)
        body = await read_body(request)
        media = _media(request.headers.get("content-type"))
        data, kind = await run(lambda d: evaluate_body(spec, body, media, day, params, limits, d))
        return json_response(data, kind)

    @app.post("/v1/specs/{spec_id}/report")
    async def report(spec_id: str, request: Request, at: str | None = None, version: str | None = None,
                     param: list[str] = Query(default=[])):
        day, params = parse_at(at), parse_params(param)
        spec = served.pick(spec_id, version, day)
        body = await read_body(request)
        return json_response(await run(lambda d: report_body(spec, body, day, params, limits, d)))

    @app.post("/v1/specs/{spec_id}/explain")
    async def explain(spec_id: str, request: Request, at: str | None = None, version: str | None = None,
                      param: list[str] = Query(default=[])):
        day, params = parse_at(at), parse_params(param)
        spec = served.pick(spec_id, version, day)
        body = await read_body(request)
        return json_response(await run(lambda d: explain_body(spec, body, day, params)))

    @app.post("/v1/diff")
    async def diff(request: Request):
        body = await read_body(request)
        return json_response(await run(lambda d: diff_body(body, served.folders)))

    app.openapi = lambda: build_openapi(app, served)  # type: ignore[method-assign]
    return app


__all__ = ["Deadline", "Limits", "Served", "create_app", "load_specs", "spec_detail", "spec_summary"]
