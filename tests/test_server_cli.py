"""`engine serve` on the command line: its options, its token file, the specs compiled before it listens, and one
real uvicorn server on a free loopback port (started, called with its token, stopped by SIGTERM)."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from engine.cli.main import main  # noqa: E402

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.parametrize("argv", [["--max-records", "0"], ["--max-seconds", "0"], ["--max-seconds", "inf"],
                                  ["--port", "70000"], ["--max-body-bytes", "beaucoup"]])
def test_bad_limits_are_usage_errors(argv, capsys):
    assert main(["serve", "specs", *argv]) == 2
    assert "engine serve" in capsys.readouterr().err


def test_an_invalid_spec_stops_the_server_before_it_listens(tmp_path, capsys):
    (tmp_path / "bad.yaml").write_text("kind: spec\nid: bad\nversion: '1'\neligibility:\n  beneficiary: [\n")
    assert main(["serve", str(tmp_path), "--port", "1"]) == 1
    assert "bad.yaml" in capsys.readouterr().err


def test_only_vocabularies_is_an_error(tmp_path, capsys):
    (tmp_path / "v.yaml").write_text("kind: vocabulary\nid: v\nversion: '1'\n")
    assert main(["serve", str(tmp_path)]) == 1
    assert "aucune spec à servir" in capsys.readouterr().err
    from engine.errors import SpecError
    from engine.server import load_specs

    with pytest.raises(SpecError) as e:
        load_specs([str(tmp_path)])
    assert e.value.code == "server.no_spec"


def test_the_same_version_twice_is_refused(tmp_path):
    from engine.errors import SpecError
    from engine.server import load_specs

    text = (ROOT / "specs" / "mobilite.yaml").read_text()
    (tmp_path / "common.yaml").write_text((ROOT / "specs" / "common.yaml").read_text())
    (tmp_path / "a.yaml").write_text(text)
    (tmp_path / "b.yaml").write_text(text)
    with pytest.raises(SpecError) as e:
        load_specs([str(tmp_path)])
    assert e.value.code == "server.duplicate_spec"


@pytest.mark.parametrize("content", [b"", b"  \n\n", b"x" * 5000])
def test_bad_token_files(tmp_path, content, capsys):
    f = tmp_path / "token"
    f.write_bytes(content)
    assert main(["serve", "specs", "--token-file", str(f)]) == 1
    assert "jeton" in capsys.readouterr().err
    assert main(["serve", "specs", "--token-file", str(tmp_path / "absent")]) == 1


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_real_server_on_the_loopback(tmp_path):
    token = tmp_path / "token"
    token.write_text("jeton-de-test\n")
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "serve", "specs/mobilite.yaml", "--port",
                             str(port), "--token-file", str(token)], cwd=ROOT, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env={**os.environ, "ENGINE_SERVE_LOG": "warning"})
    try:
        for _ in range(600):  # up to a minute for the start, polling
            if proc.poll() is not None:
                pytest.fail(proc.stderr.read().decode())
            try:
                c = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
                c.request("GET", "/healthz")
                if c.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.1)
        c = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        c.request("POST", "/v1/specs/mobilite/evaluate?at=2026-06-01", body=b'{"id": "A"}\n{"id": "B"}\n',
                  headers={"content-type": "application/x-ndjson", "authorization": "Bearer jeton-de-test"})
        r = c.getresponse()
        assert r.status == 200
        assert [json.loads(x)["id"] for x in r.read().splitlines()] == ["A", "B"]
        c.request("GET", "/v1/specs")
        r = c.getresponse()
        assert r.status == 401 and json.loads(r.read())["code"] == "server.token_missing"
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            rc = proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            raise
    err = proc.stderr.read().decode()
    assert rc == 0, err
    assert "Traceback" not in err and "arrêté" in err
