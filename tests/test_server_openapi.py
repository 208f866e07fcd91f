"""Property tests of the HTTP API against its own /openapi.json (schemathesis, a bounded number of examples per
operation): whatever a request conforming to the document holds, the server answers without a server error, with
a status and a content type the document lists and a body its schema (the engine's output schemas) accepts."""

from __future__ import annotations

from pathlib import Path

import json

import orjson
import pytest

pytest.importorskip("fastapi")
schemathesis = pytest.importorskip("schemathesis")

from hypothesis import HealthCheck, settings  # noqa: E402
from schemathesis.checks import (content_type_conformance, not_a_server_error,  # noqa: E402
                                 response_schema_conformance, status_code_conformance)

from engine.server import Limits, create_app, load_specs  # noqa: E402

SPECS = Path(__file__).resolve().parent.parent / "specs"
_specs, _folders = load_specs([str(SPECS)])
APP = create_app(_specs, Limits(max_records=50, max_body_bytes=256 * 1024), folders=_folders)
schema = schemathesis.openapi.from_asgi("/openapi.json", APP)



@schemathesis.serializer("application/x-ndjson")
def _ndjson_body(ctx, value):  # the document describes a JSON-lines body as the array of its lines
    if value is None:
        return b""
    return b"".join(json.dumps(v).encode() + b"\n" for v in (value if isinstance(value, list) else [value]))


@schemathesis.deserializer("application/x-ndjson")
def _ndjson_answer(ctx, response):
    return [orjson.loads(line) for line in response.content.splitlines()]


CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance)


@schema.parametrize()
@settings(max_examples=15, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much, HealthCheck.data_too_large])
def test_api_conforms_to_its_openapi_document(case):
    case.call_and_validate(checks=CHECKS)
