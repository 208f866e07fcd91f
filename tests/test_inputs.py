"""Inputs that are files only when they are files (docs/inputs.md): a size bound that holds for character devices,
FIFOs and endless streams; `engine expr --record` bound like `engine evaluate`; invalid UTF-8 and lone surrogates
in every input kind are positioned errors; imports stay inside their root, at a git revision too."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import threading
from pathlib import Path

import pytest

from engine.cli.main import main
from engine.errors import RecordError, SpecError

ROOT = Path(__file__).resolve().parent.parent
SPEC = str(ROOT / "specs" / "coach-jeunesse.yaml")
OP_SPEC = str(ROOT / "specs" / "chantiers-insertion.yaml")
SAMPLES = ROOT / "specs" / "samples"
OPERATION = SAMPLES / "chantiers-insertion.operation.json"
COHORT = str(SAMPLES / "chantiers-insertion.cohort.jsonl")


def run(capsys, *argv) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    assert "Traceback" not in err and "internal error" not in err, err
    assert code != 70
    return code, out, err


def record_file(tmp_path: Path, obj) -> str:
    p = tmp_path / "r.json"
    p.write_text(json.dumps(obj), encoding="utf-8")
    return str(p)


# ------------------------------------------------------------------------------------------------ FIFOs, devices

class _Feeder:
    """A writer thread feeding a FIFO: ``data`` once, or ``chunk`` forever (until the reader closes its end)."""

    def __init__(self, path: Path, data: bytes = b"", chunk: bytes = b""):
        self.path, self.data, self.chunk = path, data, chunk
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        try:
            with open(self.path, "wb") as f:
                if self.data:
                    f.write(self.data)
                while self.chunk:
                    f.write(self.chunk)
        except (BrokenPipeError, OSError):
            pass  # the reader stopped reading: what it must do for an endless stream

    def join(self):
        self.thread.join(timeout=30)
        assert not self.thread.is_alive()


@pytest.fixture
def fifo(tmp_path) -> Path:
    p = tmp_path / "fifo"
    os.mkfifo(p)
    return p


def test_read_bounded_never_reads_more_than_the_limit_plus_one():
    from engine.files.inputs import InputTooLarge, read_stream_bounded

    class Endless:
        given = 0

        def read(self, n):
            self.given += n
            return b"x" * n

    s = Endless()
    with pytest.raises(InputTooLarge):
        read_stream_bounded(s, 1000)
    assert s.given == 1001
    assert read_stream_bounded(__import__("io").BytesIO(b"a" * 1000), 1000) == b"a" * 1000


@pytest.mark.parametrize("device", ["/dev/zero", "/dev/urandom"])
def test_a_device_as_spec(capsys, device, tmp_path):
    rec = tmp_path / "r.jsonl"
    rec.write_text('{"id": "a"}\n', encoding="utf-8")
    for argv in (["evaluate", "--spec", device, str(rec)], ["expr", "1", "--spec", device],
                 ["report", "--spec", device, "--operation", str(OPERATION), "--records", COHORT],
                 ["diff", device, SPEC]):
        code, out, err = run(capsys, *argv)
        assert code == 1 and out == ""
        assert err.startswith(f"{device}: erreur : fichier trop volumineux : plus de 1000000 octets"), err


def test_an_endless_fifo_as_spec(capsys, fifo, tmp_path):
    rec = tmp_path / "r.jsonl"
    rec.write_text('{"id": "a"}\n', encoding="utf-8")
    feeder = _Feeder(fifo, chunk=b"# comment\n" * 1000)
    code, _, err = run(capsys, "evaluate", "--spec", str(fifo), str(rec))
    feeder.join()
    assert code == 1 and "fichier trop volumineux" in err


def test_a_fifo_holding_a_spec_is_read_as_a_stream(fifo):
    from engine.spec.loader import load_document

    feeder = _Feeder(fifo, data=VOCAB.encode())
    doc = load_document(str(fifo))
    feeder.join()
    assert doc.kind == "vocabulary" and list(doc.vocabulary["attributes"]) == ["rsa"]


@pytest.mark.parametrize("source", ["/dev/zero", "fifo"])
def test_a_device_or_endless_fifo_as_operation(capsys, fifo, source):
    path = str(fifo) if source == "fifo" else source
    feeder = _Feeder(fifo, chunk=b" " * 65536) if source == "fifo" else None
    code, out, err = run(capsys, "report", "--spec", OP_SPEC, "--operation", path, "--records", COHORT)
    if feeder:
        feeder.join()
    assert code == 1 and out == ""
    assert err.startswith(f"{path}: erreur : le fichier de l'opération est trop volumineux : plus de 16 Mio"), err


def test_an_operation_read_from_a_fifo(fifo):
    from engine.operation.record import load_operation

    feeder = _Feeder(fifo, data=OPERATION.read_bytes())
    assert load_operation(str(fifo)) == json.loads(OPERATION.read_text(encoding="utf-8"))
    feeder.join()


@pytest.mark.parametrize("source", ["/dev/zero", "/dev/urandom", "fifo"])
def test_a_device_or_endless_fifo_as_record(capsys, fifo, source):
    path = str(fifo) if source == "fifo" else source
    feeder = _Feeder(fifo, data=b'{"a": "', chunk=b"x" * 65536) if source == "fifo" else None
    code, out, err = run(capsys, "expr", "1", "--record", path)
    if feeder:
        feeder.join()
    assert code == 1 and out == ""
    assert err.startswith(f"{path}: erreur : enregistrement trop long (plus de 16 Mio"), err


def test_a_record_read_from_a_fifo(capsys, fifo):
    feeder = _Feeder(fifo, data=b'{"id": "a", "n": 41}')
    code, out, _ = run(capsys, "expr", "n + 1", "--record", str(fifo))
    feeder.join()
    assert (code, out) == (0, "42\n")


def test_records_after_a_json_array_are_read_in_chunks(tmp_path, capsys):
    """What follows the end of a JSON array is checked chunk by chunk, never loaded at once."""
    p = tmp_path / "r.json"
    p.write_bytes(b'[{"id": "a"}]' + b" " * (3 << 20) + b"x")
    code, out, _ = run(capsys, "evaluate", "--spec", SPEC, str(p), "--at", "2026-06-01")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0 and [x.get("error", {}).get("code") for x in lines] == [None, "invalid_json"]


# ------------------------------------------------------------------------------------------------ expr --record

def _huge_record(n: int) -> dict:
    return {"id": "B-1", "birth_date": "2000-01-01",
            "events": [{"type": "appointment" if i % 3 else "workshop", "date": f"2026-{1 + i % 12:02d}-{1 + i % 28:02d}"}
                       for i in range(n)]}


def test_a_huge_record_in_expr_takes_the_evaluate_binding(tmp_path, capsys, monkeypatch):
    """350,000 events: bound once by engine.beneficiary.bind.Binder (as evaluate binds), never converted value by value."""
    import engine.beneficiary.bind as B
    import engine.expr.runtime_json as RJ

    calls = {"bind": 0, "value_from_json": 0}
    bind, vfj = B.Binder.bind, RJ.value_from_json

    def spy_bind(self, *a, **k):
        calls["bind"] += 1
        return bind(self, *a, **k)

    def spy_vfj(*a, **k):
        calls["value_from_json"] += 1
        return vfj(*a, **k)

    monkeypatch.setattr(B.Binder, "bind", spy_bind)
    monkeypatch.setattr(RJ, "value_from_json", spy_vfj)
    import engine.expr.runtime as R
    monkeypatch.setattr(R, "value_from_json", spy_vfj, raising=False)
    path = record_file(tmp_path, _huge_record(350_000))
    assert os.path.getsize(path) < 16 * 1024 * 1024
    code, out, err = run(capsys, "expr", 'count(events where type == "workshop")', "--record", path)
    assert (code, out) == (0, f"{len(range(0, 350_000, 3))}\n"), err
    assert calls["bind"] == 1 and calls["value_from_json"] <= 2
    # with --spec, the spec's own Binder
    code, out, err = run(capsys, "expr", "count(events where date >= 2026-12-01)", "--record", path, "--spec", SPEC)
    assert (code, out) == (0, f"{sum(1 for i in range(350_000) if i % 12 == 11)}\n"), err


def test_expr_record_over_the_evaluate_limit(tmp_path, capsys, monkeypatch):
    import engine.beneficiary.records as REC

    monkeypatch.setattr(REC, "MAX_RECORD_BYTES", 1000)
    small = record_file(tmp_path, _huge_record(5))
    assert run(capsys, "expr", "count(events)", "--record", small)[1] == "5\n"
    big = record_file(tmp_path, _huge_record(50))
    code, _, err = run(capsys, "expr", "count(events)", "--record", big)
    assert code == 1 and "enregistrement trop long" in err


def test_expr_binds_like_evaluate(tmp_path, capsys):
    """Events sorted by date, a null field unknown, an event without a date refused as evaluate refuses it."""
    path = record_file(tmp_path, {"id": "x", "events": [
        {"type": "a", "date": "2026-03-01", "n": 2}, {"type": "a", "date": "2026-01-01", "n": None},
        {"type": "b", "date": "2026-02-01", "due": "2026-04-01"}]})
    assert run(capsys, "expr", "events.date", "--record", path)[1] == '["2026-01-01","2026-02-01","2026-03-01"]\n'
    assert run(capsys, "expr", "count(events where n > 1)", "--record", path)[1] == "null\n"
    assert run(capsys, "expr", "max((events where type == \"b\").due) + 1 day", "--record", path)[1] == \
        '"2026-04-02"\n'
    bad = record_file(tmp_path, {"id": "x", "events": [{"type": "a"}]})
    code, _, err = run(capsys, "expr", "1", "--record", bad)
    assert code == 1 and err.startswith(f"{bad}: erreur : events[0].date : une date") and "record.wrong_type" not in err


# ------------------------------------------------------------------------------------------------ bad text

BAD_UTF8 = b"\xff"


def test_invalid_utf8_in_a_spec(tmp_path, capsys):
    p = tmp_path / "s.yaml"
    p.write_bytes(b"id: s\nlabel: caf" + BAD_UTF8 + b"\n")
    code, _, err = run(capsys, "check", str(p))
    assert code == 1 and f"{p}:2:11: erreur : octet 0xFF invalide" in err


@pytest.mark.parametrize("escape,what", [("\\udc80", "U+DC80"), ("\\ud800", "U+D800"), ("\\e[31m", "U+001B"),
                                         ("\\x07", "U+0007"), ("\\x9b", "U+009B")])
def test_escapes_that_make_bad_characters_in_a_spec(tmp_path, capsys, escape, what):
    p = tmp_path / "s.yaml"
    p.write_text(f'id: s\nlabel: "ab{escape}cd"\n', encoding="utf-8")
    code, _, err = run(capsys, "check", str(p))
    assert code == 1
    assert err.splitlines()[:3] == [
        f"{p}:2:8: erreur : caractère {'de contrôle ' if what < 'U+D' else ''}{what} "
        + err.splitlines()[0].split(what + " ", 1)[1],
        f'    2 | label: "ab{escape}cd"',
        "      |        " + "^" * (len(escape) + 6)]
    assert "yaml.escape" in json.dumps([d.to_json() for d in _diags(p)])


def _diags(p):
    from engine.spec.loader import load_yaml

    with pytest.raises(SpecError) as ei:
        load_yaml(p)
    return ei.value.diagnostics


def test_tab_and_newline_escapes_stay_allowed(tmp_path):
    from engine.spec.loader import load_yaml

    p = tmp_path / "s.yaml"
    p.write_text('id: s\nlabel: "a\\tb\\nc \\u00e9 \\U0001F600"\n', encoding="utf-8")
    assert load_yaml(p)["label"] == "a\tb\nc é \U0001F600"


@pytest.mark.parametrize("data,line,col,code", [
    (b'{"id": "x",\n "a": "caf\xff"}', 2, 11, "operation.encoding"),
    (b'{"id": "x",\n "a": "\\udc80"}', 2, 8, "operation.encoding"),
    (b'{"id": "x",\n "a": 1,}', 2, 8, "operation.json"),
])
def test_bad_text_in_an_operation(tmp_path, capsys, data, line, col, code):
    from engine.operation.record import load_operation

    p = tmp_path / "op.json"
    p.write_bytes(data)
    with pytest.raises(RecordError) as ei:
        load_operation(str(p))
    d = ei.value.diagnostic
    assert (d.code, d.line, d.col) == (code, line, col), d.format()
    assert ("\ufffd" in d.source_line) == (b"\xff" in data)
    rc, _, err = run(capsys, "report", "--spec", OP_SPEC, "--operation", str(p), "--records", COHORT)
    assert rc == 1 and f"{p}:{line}:{col}: erreur : le fichier de l'opération" in err


@pytest.mark.parametrize("data,line,col", [(b'{"id": "x",\n "a": "caf\xff"}', 2, 11),
                                           (b'{"id": "x",\n "a": "\\udc80"}', 2, 8)])
def test_bad_text_in_an_expr_record(tmp_path, capsys, data, line, col):
    p = tmp_path / "r.json"
    p.write_bytes(data)
    code, _, err = run(capsys, "expr", "a", "--record", str(p))
    assert code == 1 and err.startswith(f"{p}:{line}:{col}: erreur : le fichier de l'enregistrement n'est pas du texte "
                                        "UTF-8 valide")


@pytest.mark.parametrize("ext,data", [
    ("jsonl", b'{"id": "a"}\n{"id": "b\\udc80"}\n{"id": "c", "x": "\xff"}\n'),
    ("json", b'[{"id": "a"},\n {"id": "b\\udc80"},\n {"id": "c", "x": "\xff"}]'),
    ("csv", b'id,department\nb\xff,62\nc,6\xfe2\na,62\n'),
])
def test_bad_text_in_records_is_one_error_line_each(tmp_path, capsys, ext, data):
    p = tmp_path / f"r.{ext}"
    p.write_bytes(data)
    code, out, _ = run(capsys, "evaluate", "--spec", SPEC, str(p), "--at", "2026-06-01")
    lines = [json.loads(x) for x in out.splitlines()]
    assert code == 0
    assert len(lines) == 3
    assert [(x.get("error", {}).get("code"), x.get("line")) for x in lines if x["status"] == "error"] == \
        [("invalid_utf8", 2), ("invalid_utf8", 3)]


def test_bad_bytes_in_a_csv_header(tmp_path, capsys):
    p = tmp_path / "r.csv"
    p.write_bytes(b"id,depart\xe9ment\na,62\n")
    code, out, err = run(capsys, "evaluate", "--spec", SPEC, str(p))
    assert code == 1 and out == ""
    err = err[err.index(str(p)):]
    assert err.splitlines()[:3] == [f"{p}:1:10: erreur : l'en-tête du fichier CSV n'est pas du texte UTF-8 valide",
                                    "    1 | id,depart\ufffdment", "      |          ^"]


def test_bad_bytes_in_a_command_line_expression(capsys):
    expr = b'"caf\xe9" == x'.decode("utf-8", errors="surrogateescape")  # what Python makes of such an argv
    code, out, err = run(capsys, "expr", expr)
    assert code == 1 and out == ""
    assert err.splitlines()[:3] == ["<expr>:1:5: erreur : l'expression n'est pas du texte valide : octet 0xE9 "
                                    "invalide (ce n'est pas de l'UTF-8)", '    1 | "caf\ufffd" == x',
                                    "      |     ^"]
    code, _, err = run(capsys, "expr", '"a\udc80"')
    assert code == 1 and err.startswith("<expr>:1:3: erreur :")


def test_bad_bytes_in_argv_of_a_real_process(tmp_path):
    """The real command with undecodable bytes in its arguments: a message, exit 1, no traceback."""
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    r = subprocess.run([shutil.which("engine") or "engine", "expr", b'"\xff"'], capture_output=True, env=env,
                       timeout=60)
    assert r.returncode == 1 and b"Traceback" not in r.stderr and b"0xFF" in r.stderr


# ------------------------------------------------------------------------------------------------ import root

VOCAB = "kind: vocabulary\nid: v\nattributes:\n  rsa: {type: boolean, label: RSA}\n"
SECRET = "SECRET-CONTENT: [unterminated\n"


@pytest.fixture
def project(tmp_path, monkeypatch):
    """tmp/project/specs/ (the root) and tmp/outside/secret.yaml (a file that must never be read)."""
    monkeypatch.delenv("ENGINE_IMPORT_ROOT", raising=False)
    specs = tmp_path / "project" / "specs"
    (specs / "lib").mkdir(parents=True)
    (specs / "lib" / "v.yaml").write_text(VOCAB, encoding="utf-8")
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "secret.yaml").write_text(SECRET, encoding="utf-8")
    (outside / "v.yaml").write_text(VOCAB, encoding="utf-8")
    return specs


def _spec(specs: Path, imp: str) -> Path:
    p = specs / "s.yaml"
    p.write_text(f"id: s\nimports: [{imp}]\n", encoding="utf-8")
    return p


@pytest.mark.parametrize("imp", ["ABS", "../../outside/secret.yaml", "lib/../../../outside/secret.yaml",
                                 "link.yaml", "linkdir/secret.yaml"])
def test_an_import_outside_the_root_is_refused_unread(project, capsys, imp):
    secret = project.parent.parent / "outside" / "secret.yaml"
    os.symlink(secret, project / "link.yaml")
    os.symlink(secret.parent, project / "linkdir")
    name = str(secret) if imp == "ABS" else imp
    spec = _spec(project, name)
    code, out, err = run(capsys, "check", str(spec))
    assert code == 1
    assert "SECRET" not in err + out
    first = err.splitlines()[:3]
    assert first[0].startswith(f"{spec}:2:11: erreur : import « {name} » refusé : ")
    assert (f"dossier racine des imports ({project.resolve()})" in first[0])
    assert first[1:] == [f"    2 | imports: [{name}]", "      |           " + "^" * len(name)]
    from engine.spec.loader import load_document

    with pytest.raises(SpecError) as ei:
        load_document(spec)
    assert [d.code for d in ei.value.diagnostics] == ["import.outside_root"]


def test_imports_inside_the_root_through_a_link_and_a_subfolder(project, capsys):
    os.symlink(project / "lib" / "v.yaml", project / "alias.yaml")  # a link that stays inside
    from engine.spec.loader import load_document

    for imp in ("lib/v.yaml", "alias.yaml", "./lib/../lib/v.yaml"):
        doc = load_document(_spec(project, imp))
        assert list(doc.vocabulary["attributes"]) == ["rsa"]


def test_the_environment_adds_a_root(project, monkeypatch):
    from engine.spec.loader import load_document

    spec = _spec(project, "../../outside/v.yaml")
    with pytest.raises(SpecError):
        load_document(spec)
    monkeypatch.setenv("ENGINE_IMPORT_ROOT", str(project.parent.parent / "outside"))
    assert list(load_document(spec).vocabulary["attributes"]) == ["rsa"]
    # an absolute path stays refused, even inside an added root
    with pytest.raises(SpecError) as ei:
        load_document(_spec(project, str(project.parent.parent / "outside" / "v.yaml")))
    assert ei.value.diagnostics[0].code == "import.outside_root"


def test_an_imported_vocabulary_is_held_to_the_root_of_the_top_level_spec(project):
    """A vocabulary inside the root cannot reach outside it either."""
    from engine.spec.loader import load_document

    (project / "lib" / "v2.yaml").write_text(VOCAB.replace("id: v", "id: v2") + "imports: [../../../outside/v.yaml]\n",
                                             encoding="utf-8")
    with pytest.raises(SpecError) as ei:
        load_document(_spec(project, "lib/v2.yaml"))
    d = ei.value.diagnostics[0]
    assert (d.code, Path(d.file).name, d.line) == ("import.outside_root", "v2.yaml", 5)


def test_a_fifo_or_folder_as_import(project, capsys):
    os.mkfifo(project / "pipe.yaml")
    (project / "dir.yaml").mkdir()
    from engine.spec.loader import load_document

    for name in ("pipe.yaml", "dir.yaml"):
        with pytest.raises(SpecError) as ei:
            load_document(_spec(project, name))
        assert ei.value.diagnostics[0].code == "import.not_file"


# ------------------------------------------------------------------------------------------------ diff path@rev

def git(repo: Path, *args: str) -> str:
    r = subprocess.run(["git", "-C", str(repo), "-c", "user.name=Test", "-c", "user.email=test@example.org",
                        "-c", "commit.gpgsign=false", *args], capture_output=True, text=True, check=True)
    return r.stdout


@pytest.fixture
def repo(tmp_path, monkeypatch):
    monkeypatch.delenv("ENGINE_IMPORT_ROOT", raising=False)
    here = ROOT / "tests" / "diff"
    root = tmp_path / "repo"
    (root / "specs").mkdir(parents=True)
    git(root, "init", "-q", "-b", "main")
    shutil.copy(here / "vocab.yaml", root / "specs" / "vocab.yaml")
    shutil.copy(here / "base.yaml", root / "specs" / "prog.yaml")
    git(root, "add", ".")
    git(root, "commit", "-qm", "v1")
    vocab = (root / "specs" / "vocab.yaml").read_text(encoding="utf-8")
    (root / "specs" / "vocab.yaml").write_text(vocab.replace("video]", "video, visit]"), encoding="utf-8")
    git(root, "commit", "-qam", "v2: the vocabulary gains a mode")
    monkeypatch.chdir(root)
    return root


def _diff_json(capsys, old, new):
    code, out, err = run(capsys, "diff", old, new, "--format", "json")
    assert code == 0, err
    return json.loads(out)


def test_diff_reads_imports_at_the_revision_never_the_live_file(repo, capsys):
    # the live vocabulary is changed again, then removed: neither may show in a comparison of two revisions
    vocab = repo / "specs" / "vocab.yaml"
    vocab.write_text(vocab.read_text(encoding="utf-8").replace("visit]", "visit, mail]"), encoding="utf-8")
    data = _diff_json(capsys, "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD")
    assert [(c["path"], c["new"]) for c in data["changes"]] == [
        ("inputs.event:appointment.fields.mode.values", ["in_person", "phone", "video", "visit"])]
    vocab.unlink()
    assert _diff_json(capsys, "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD")["changes"] == data["changes"]


def test_diff_at_a_revision_refuses_an_import_outside_the_root(repo, capsys, tmp_path):
    secret = tmp_path / "secret.yaml"
    secret.write_text(SECRET, encoding="utf-8")
    (repo / "other").mkdir()
    (repo / "other" / "v.yaml").write_text(SECRET, encoding="utf-8")
    git(repo, "tag", "base")
    prog = repo / "specs" / "prog.yaml"
    text = prog.read_text(encoding="utf-8")
    for imp in (str(secret), "../other/v.yaml", "../../secret.yaml"):
        prog.write_text(text.replace("imports: [vocab.yaml]", f"imports: [vocab.yaml, {imp}]"), encoding="utf-8")
        git(repo, "add", ".")
        git(repo, "commit", "-qm", f"import {imp}")
        code, out, err = run(capsys, "diff", "specs/prog.yaml@base", "specs/prog.yaml@HEAD")
        assert code == 1 and "SECRET" not in err + out
        assert err.startswith("specs/prog.yaml@HEAD:9:"), err
        assert f"import « {imp} » refusé" in err and "engine-diff-" not in err
        assert "specs/ à la révision HEAD" in err


def test_diff_at_a_revision_follows_a_committed_link_inside_the_root(repo, capsys, tmp_path):
    specs = repo / "specs"
    os.rename(specs / "vocab.yaml", specs / "vocab-2026.yaml")
    os.symlink("vocab-2026.yaml", specs / "vocab.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "the vocabulary behind a link")
    data = _diff_json(capsys, "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD")
    assert data["changes"] == []
    # a committed link that points outside the root is refused, and what it points at is never read
    secret = tmp_path / "secret.yaml"
    secret.write_text(SECRET, encoding="utf-8")
    (specs / "vocab.yaml").unlink()
    os.symlink(str(secret), specs / "vocab.yaml")
    git(repo, "add", "-A")
    git(repo, "commit", "-qm", "a link outside")
    code, out, err = run(capsys, "diff", "specs/prog.yaml@HEAD~1", "specs/prog.yaml@HEAD")
    assert code == 1 and "SECRET" not in err + out and "import « vocab.yaml » refusé" in err
