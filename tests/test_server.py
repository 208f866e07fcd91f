"""The HTTP API (engine serve, docs/server.md) through FastAPI's test client: every endpoint, every error as an
RFC 9457 problem with its stable code and a French detail, the limits, the bearer token, the posted diff texts'
imports, and the identity of the answers with the commands (engine evaluate byte for byte, report, diff, explain)."""

from __future__ import annotations

import json
import warnings
from datetime import date
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("httpx")

with warnings.catch_warnings():
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient

from engine import api
from engine.cli.main import main
from engine.render.schemas import output_errors, output_schema
from engine.server import Limits, create_app, load_specs

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SAMPLES = SPECS / "samples"
NDJSON = {"content-type": "application/x-ndjson"}
PARAMS = {"dynamisation-des-parcours": ["min_barriers=2"], "coach-jeunesse": ["min_meetings_per_month=1"],
          "logement-d-abord": ["min_difficulties=2"]}
AT = "2026-06-01"


@pytest.fixture(scope="module")
def served():
    return load_specs([str(SPECS)])


@pytest.fixture(scope="module")
def client(served):
    specs, folders = served
    return TestClient(create_app(specs, Limits(), folders=folders))


def _client(served, **kw):
    specs, folders = served
    token = kw.pop("token", None)
    return TestClient(create_app(specs, Limits(**kw), token=token, folders=folders))


def problem(r, status: int, code: str) -> dict:
    assert r.status_code == status, r.text
    assert r.headers["content-type"] == "application/problem+json"
    body = r.json()
    assert body["code"] == code and body["status"] == status
    assert body["type"].endswith("#" + code) and body["title"] and body["detail"]
    return body


def cli(tmp_path, *argv) -> bytes:
    out = tmp_path / "cli.out"
    assert main([*argv, "-o", str(out)]) == 0
    return out.read_bytes()


def _url(spec_id: str, what: str = "evaluate", at: str = AT) -> str:
    params = "".join(f"&param={p}" for p in PARAMS.get(spec_id, []))
    return f"/v1/specs/{spec_id}/{what}?at={at}{params}"


def _cli_params(spec_id: str) -> list[str]:
    return [x for p in PARAMS.get(spec_id, []) for x in ("--param", p)]


SAMPLE_RECORDS = sorted(SAMPLES.glob("*.records.jsonl"))


# ----------------------------------------------------------------------------------------------- specs

def test_healthz(client, served):
    r = client.get("/healthz")
    assert r.status_code == 200 and r.json() == {"status": "ok", "specs": len(served[0])}


def test_list_specs_gives_ids_versions_and_validity(client):
    r = client.get("/v1/specs")
    assert r.status_code == 200
    got = {(s["id"], s["version"]): s for s in r.json()["specs"]}
    for f in SPECS.glob("*.yaml"):
        spec = api.load_spec(str(f))
        if spec.kind != "spec":
            assert spec.id not in {k[0] for k in got}  # a vocabulary is not served
            continue
        s = got[(spec.id, spec.version)]
        assert s["title"] == spec.title
        assert s["valid_from"] == (spec.valid_from.isoformat() if spec.valid_from else None)
        assert s["valid_until"] == (spec.valid_until.isoformat() if spec.valid_until else None)
    assert ("dynamisation-des-parcours", "2026.1") in got and ("dynamisation-des-parcours", "2026.2") in got


def test_get_spec_lists_its_versions_and_inputs(client):
    body = client.get("/v1/specs/dynamisation-des-parcours").json()
    assert [v["version"] for v in body["versions"]] == ["2026.1", "2026.2"]
    one = client.get("/v1/specs/dynamisation-des-parcours?version=2026.2").json()
    assert [v["version"] for v in one["versions"]] == ["2026.2"]
    v = one["versions"][0]
    assert v["valid_from"] == "2026-07-01"
    assert "min_barriers" in {p["name"] for p in v["parameters"]}
    assert {"birth_date"} <= {a["name"] for a in v["attributes"]}
    assert any(ph["initial"] for ph in v["phases"])


def test_unknown_spec_and_version(client):
    b = problem(client.get("/v1/specs/mobilit"), 404, "server.unknown_spec")
    assert "mobilite" in b["hint"] and "« mobilit »" in b["detail"]
    problem(client.post("/v1/specs/nope/evaluate", json={"id": "x"}), 404, "server.unknown_spec")
    b = problem(client.get("/v1/specs/mobilite?version=9"), 404, "server.unknown_version")
    assert "2026.1" in b["hint"]


def test_several_versions_pick_by_date_or_ask(client):
    r = client.post("/v1/specs/dynamisation-des-parcours/evaluate?at=2026-03-01&param=min_barriers=2",
                    json={"id": "x"})
    assert r.status_code == 200 and r.json()["spec_version"] == "2026.1"  # the only one valid on 01/03/2026
    b = problem(client.post("/v1/specs/dynamisation-des-parcours/evaluate?at=2026-08-01", json={"id": "x"}), 409,
                "server.ambiguous_version")
    assert "2026.1" in b["hint"] and "2026.2" in b["hint"]
    r = client.post("/v1/specs/dynamisation-des-parcours/evaluate?at=2026-08-01&version=2026.2", json={"id": "x"})
    assert r.status_code == 200 and r.json()["spec_version"] == "2026.2"


# ----------------------------------------------------------------------------------------------- evaluate

@pytest.mark.parametrize("records", SAMPLE_RECORDS, ids=lambda p: p.name.split(".")[0])
def test_evaluate_ndjson_is_engine_evaluate_byte_for_byte(client, tmp_path, records):
    spec_id = records.name.split(".")[0]
    expected = cli(tmp_path, "evaluate", "--spec", str(SPECS / f"{spec_id}.yaml"), str(records), "--at", AT,
                   *_cli_params(spec_id))
    r = client.post(_url(spec_id), content=records.read_bytes(), headers=NDJSON)
    assert r.status_code == 200
    assert r.headers["content-type"] == "application/x-ndjson"
    assert r.content == expected


@pytest.mark.parametrize("records", SAMPLE_RECORDS[:4], ids=lambda p: p.name.split(".")[0])
def test_evaluate_json_array_is_engine_evaluate_format_json(client, tmp_path, records):
    spec_id = records.name.split(".")[0]
    array = tmp_path / "records.json"
    array.write_bytes(b"[\n" + b",\n".join(x for x in records.read_bytes().splitlines() if x.strip()) + b"\n]\n")
    expected = cli(tmp_path, "evaluate", "--spec", str(SPECS / f"{spec_id}.yaml"), str(array), "--at", AT,
                   "--format", "json", *_cli_params(spec_id))
    r = client.post(_url(spec_id), content=array.read_bytes(), headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.headers["content-type"] == "application/json"
    assert r.content == expected
    for item in r.json():
        assert output_errors("evaluate", item) == []


def test_evaluate_one_record_answers_one_object(client, tmp_path):
    line = (SAMPLES / "mobilite.records.jsonl").read_bytes().splitlines()[0]
    one = tmp_path / "one.jsonl"
    one.write_bytes(line + b"\n")
    expected = cli(tmp_path, "evaluate", "--spec", str(SPECS / "mobilite.yaml"), str(one), "--at", AT)
    r = client.post(_url("mobilite"), content=line, headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.content == expected
    assert isinstance(r.json(), dict)


def test_evaluate_order_and_bad_lines_kept_in_place(client):
    body = b'{"id": "A"}\n\nnot json\n[1]\n{"id": "B"}\n'
    r = client.post(_url("mobilite"), content=body, headers=NDJSON)
    out = [json.loads(x) for x in r.content.splitlines()]
    assert [o.get("id") for o in out] == ["A", None, None, "B"]
    assert [o.get("line") for o in out[1:3]] == [3, 4]
    assert [o["error"]["code"] for o in out[1:3]] == ["invalid_json", "not_an_object"]


def test_evaluate_empty_array(client):
    r = client.post(_url("mobilite"), content=b"[]", headers={"content-type": "application/json"})
    assert r.status_code == 200 and r.json() == []


# ----------------------------------------------------------------------------------------------- errors

@pytest.mark.parametrize("body", [b"{", b'[{"id": 1},', b"\xff\xfe", b"nan"])
def test_bad_json_is_a_problem(client, body):
    b = problem(client.post(_url("mobilite"), content=body, headers={"content-type": "application/json"}), 400,
                "server.invalid_json")
    assert "JSON" in b["detail"]


def test_json_that_is_not_records(client):
    problem(client.post(_url("mobilite"), content=b'"texte"', headers={"content-type": "application/json"}), 400,
            "server.bad_request")


def test_unsupported_media_type(client):
    problem(client.post(_url("mobilite"), content=b"id;x\n", headers={"content-type": "text/csv"}), 415,
            "server.media_type")


@pytest.mark.parametrize("at", ["2026-13-01", "01/06/2026", "20260601", "demain"])
def test_bad_date(client, at):
    b = problem(client.post(f"/v1/specs/mobilite/evaluate?at={at}", json={"id": "x"}), 400, "server.bad_date")
    assert "AAAA-MM-JJ" in b["hint"]


def test_bad_param(client):
    problem(client.post("/v1/specs/mobilite/evaluate?param=sans-egal", json={"id": "x"}), 400, "server.bad_param")
    r = client.post("/v1/specs/dynamisation-des-parcours/evaluate?at=2026-03-01&param=min_barriers=beaucoup",
                    json={"id": "x"})
    assert r.status_code == 400 and r.headers["content-type"] == "application/problem+json"
    assert r.json()["code"] != "internal_error"


def test_body_too_large(served):
    c = _client(served, max_body_bytes=100)
    b = problem(c.post(_url("mobilite"), content=b'{"id": "' + b"x" * 200 + b'"}',
                       headers={"content-type": "application/json"}), 413, "server.body_too_large")
    assert "--max-body-bytes" in b["hint"]
    assert c.post(_url("mobilite"), json={"id": "x"}).status_code == 200


def test_too_many_records(served):
    c = _client(served, max_records=2)
    problem(c.post(_url("mobilite"), json=[{"id": "a"}, {"id": "b"}, {"id": "c"}]), 413, "server.too_many_records")
    problem(c.post(_url("mobilite"), content=b'{"id": "a"}\n{"id": "b"}\n{"id": "c"}\n', headers=NDJSON), 413,
            "server.too_many_records")
    assert c.post(_url("mobilite"), content=b'{"id": "a"}\n\n{"id": "b"}\n', headers=NDJSON).status_code == 200
    op = json.loads((SAMPLES / "mobilite.operation.json").read_text())
    problem(c.post(_url("mobilite", "report"), json={"operation": op, "cohort": [{}, {}, {}]}), 413,
            "server.too_many_records")


def test_time_limit(served):
    c = _client(served, max_seconds=1e-9)
    b = problem(c.post(_url("mobilite"), json=[{"id": "a"}]), 503, "server.time_limit")
    assert "--max-seconds" in b["hint"]


def test_token_missing_wrong_and_right(served):
    c = _client(served, token="s3cret-jeton")
    b = problem(c.get("/v1/specs"), 401, "server.token_missing")
    assert "Bearer" in b["hint"]
    r = c.get("/v1/specs", headers={"authorization": "Bearer faux"})
    problem(r, 401, "server.token_invalid")
    assert r.headers["www-authenticate"].startswith("Bearer")
    problem(c.get("/v1/specs", headers={"authorization": "Basic s3cret-jeton"}), 401, "server.token_missing")
    problem(c.post(_url("mobilite"), json={"id": "x"}, headers={"authorization": "Bearer s3cret-jeton!"}), 401,
            "server.token_invalid")
    assert c.get("/v1/specs", headers={"authorization": "Bearer s3cret-jeton"}).status_code == 200
    assert c.get("/healthz").status_code == 200  # for the load balancer: says nothing but "ok"
    assert "bearer" in c.get("/openapi.json", headers={"authorization": "Bearer s3cret-jeton"}).json()[
        "components"]["securitySchemes"]


def test_unknown_path_and_method(client):
    problem(client.get("/v1/nope"), 404, "server.not_found")
    problem(client.get("/v1/specs/mobilite/evaluate"), 405, "server.method_not_allowed")


def test_answers_are_not_cached(client):
    r = client.post(_url("mobilite"), json={"id": "x"})
    assert r.headers["cache-control"] == "no-store" and r.headers["x-content-type-options"] == "nosniff"


# ----------------------------------------------------------------------------------------------- report

@pytest.mark.parametrize("spec_id", ["chantiers-insertion", "mobilite", "accompagnement-social-professionnel-intensif"])
def test_report_is_engine_report_json(client, tmp_path, spec_id):
    op_path, cohort_path = SAMPLES / f"{spec_id}.operation.json", SAMPLES / f"{spec_id}.cohort.jsonl"
    expected = json.loads(cli(tmp_path, "report", "--spec", str(SPECS / f"{spec_id}.yaml"), "--operation",
                              str(op_path), "--records", str(cohort_path), "--at", "2027-04-15", "--format", "json",
                              *_cli_params(spec_id)))
    cohort = [json.loads(x) for x in cohort_path.read_text().splitlines() if x.strip()]
    r = client.post(_url(spec_id, "report", "2027-04-15"),
                    json={"operation": json.loads(op_path.read_text()), "cohort": cohort})
    assert r.status_code == 200, r.text
    assert r.json() == expected
    assert output_errors("report", r.json()) == []


def test_report_errors(client):
    op = json.loads((SAMPLES / "mobilite.operation.json").read_text())
    problem(client.post(_url("mobilite", "report"), json={"cohort": []}), 400, "server.bad_request")
    problem(client.post(_url("mobilite", "report"), json={"operation": op, "cohort": {}}), 400, "server.bad_request")
    b = problem(client.post(_url("mobilite", "report"), json={"operation": {**op, "id": ""}, "cohort": []}), 422,
                "operation.id")
    assert b["errors"][0]["code"] == "operation.id"
    b = problem(client.post(_url("mobilite", "report"), json={"operation": {**op, "spec": "coach-jeunesse"}}), 422,
                "operation.spec")
    assert "coach-jeunesse" in b["detail"]


# ----------------------------------------------------------------------------------------------- explain

def test_explain_is_the_trace(client):
    line = (SAMPLES / "mobilite.records.jsonl").read_text().splitlines()[0]
    record = json.loads(line)
    r = client.post(_url("mobilite", "explain"), json={"record": record})
    assert r.status_code == 200
    spec = api.load_spec(str(SPECS / "mobilite.yaml"))
    expected = json.loads(json.dumps(api.explain_record(spec, record, date.fromisoformat(AT)), default=str))
    assert r.json() == expected
    assert r.json()["decision"] == json.loads(api.to_json(api.evaluate_record(spec, record, date.fromisoformat(AT))))


def test_explain_selection_and_errors(client):
    record = json.loads((SAMPLES / "mobilite.records.jsonl").read_text().splitlines()[0])
    spec = api.load_spec(str(SPECS / "mobilite.yaml"))
    rule = spec.eligibility_beneficiary.id if getattr(spec.eligibility_beneficiary, "id", None) else None
    if rule:
        r = client.post(_url("mobilite", "explain"), json={"record": record, "rules": [rule]})
        assert r.status_code == 200 and r.json()["selection"]["rules"] == [rule]
    b = problem(client.post(_url("mobilite", "explain"), json={"record": record, "rules": ["nope"]}), 400,
                "explain.unknown_rule")
    assert b["detail"].startswith("« rules » : nope") and "--rule" not in b["detail"]
    problem(client.post(_url("mobilite", "explain"), json={"rules": []}), 400, "server.bad_request")
    problem(client.post(_url("mobilite", "explain"), json={"record": record, "rules": [True]}), 400,
            "server.bad_request")


# ----------------------------------------------------------------------------------------------- diff

MOBILITE = (SPECS / "mobilite.yaml").read_text()


def _comparable(d: dict) -> dict:
    d = json.loads(json.dumps(d))
    for side in ("old", "new"):
        d[side].pop("ref")
    for c in d["changes"]:
        c.pop("where", None)
    return d


def test_diff_is_engine_diff_json(client, tmp_path):
    new_text = MOBILITE.replace('version: "2026.1"', 'version: "2026.2"', 1)
    assert new_text != MOBILITE
    new = SPECS / ".test-server-new.yaml"  # beside the old one: the same imports
    try:
        new.write_text(new_text)
        expected = json.loads(cli(tmp_path, "diff", str(SPECS / "mobilite.yaml"), str(new), "--format", "json"))
    finally:
        new.unlink()
    r = client.post("/v1/diff", json={"old": MOBILITE, "new": new_text})
    assert r.status_code == 200, r.text
    assert output_errors("diff", r.json()) == []
    assert _comparable(r.json()) == _comparable(expected)
    assert r.json()["old"]["ref"] == "old" and r.json()["new"]["ref"] == "new"
    assert any(c["path"] == "metadata.version" for c in r.json()["changes"])


@pytest.mark.parametrize("imp", ["../pyproject.toml", "/etc/passwd", "../../../../etc/hostname", "samples/../../README.md"])
def test_diff_imports_outside_the_served_folder_are_refused(client, imp):
    text = MOBILITE.replace("imports: [common.yaml]", f"imports: [{imp}]")
    assert text != MOBILITE
    r = client.post("/v1/diff", json={"old": text, "new": MOBILITE})
    b = problem(r, 422, "import.outside_root")
    assert b["errors"][0]["file"] == "old"
    assert str(ROOT) not in r.text and "/tmp" not in r.text  # no path of the server in the answer


def test_diff_imports_resolve_only_inside_the_served_folder(served):
    text = MOBILITE.replace("imports: [common.yaml]", "imports: [absent.yaml]")
    specs, _folders = served
    r = TestClient(create_app(specs)).post("/v1/diff", json={"old": MOBILITE, "new": MOBILITE})
    b = problem(r, 422, "import.missing")  # served without folders: nothing to import from
    assert str(ROOT) not in r.text and "/tmp" not in r.text
    c = _client(served)
    b = problem(c.post("/v1/diff", json={"old": MOBILITE, "new": text}), 422, "import.missing")
    assert b["errors"][0]["file"] == "new"


def test_diff_errors(client):
    problem(client.post("/v1/diff", json={"old": MOBILITE}), 400, "server.bad_request")
    problem(client.post("/v1/diff", json={"old": "specs/mobilite.yaml", "new": 3}), 400, "server.bad_request")
    problem(client.post("/v1/diff", content=b"{", headers={"content-type": "application/json"}), 400,
            "server.invalid_json")
    r = client.post("/v1/diff", json={"old": "kind: spec\nid: [\n", "new": MOBILITE})
    assert r.status_code == 422 and r.json()["errors"][0]["file"] == "old"


# ----------------------------------------------------------------------------------------------- OpenAPI

def test_openapi_uses_the_output_schemas(client, served):
    doc = client.get("/openapi.json").json()
    comps = doc["components"]["schemas"]
    for name, comp in (("evaluate", "EvaluateOutput"), ("report", "ReportOutput"), ("diff", "DiffOutput")):
        schema = output_schema(name)
        for k in ("$schema", "$id", "$defs"):
            schema.pop(k, None)
        assert comps[comp] == schema
    paths = doc["paths"]
    ok = paths["/v1/specs/{spec_id}/evaluate"]["post"]["responses"]["200"]["content"]
    assert ok["application/json"]["schema"]["oneOf"][0] == {"$ref": "#/components/schemas/EvaluateOutput"}
    assert "application/x-ndjson" in ok
    for path, method in (("/v1/specs/{spec_id}/report", "post"), ("/v1/diff", "post"),
                         ("/v1/specs/{spec_id}/explain", "post")):
        assert paths[path][method]["responses"]["default"]["content"]["application/problem+json"]
    ids = next(p for p in paths["/v1/specs/{spec_id}"]["get"]["parameters"] if p["name"] == "spec_id")
    assert ids["schema"]["enum"] == sorted({s.id for s in served[0]})
    assert json.dumps(doc).count('"#/$defs/') == 0  # every reference resolves inside the document
