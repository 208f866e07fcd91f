"""No output path can destroy anything (engine/files/output.py, docs/safety.md), tried with real files in tmp_path:

- an output that is one of the command's inputs -- the same path, another spelling, a symbolic link, a hard link --
  is refused with exit 2 and a message naming both, for every command that writes and every input it reads;
- a folder, an empty name, a missing parent folder are usage errors (exit 2), never a traceback;
- regular files are replaced atomically (mode kept, no temporary file left); a symbolic link is written through;
  /dev/null, /dev/stdout and a FIFO are streams; /dev/full, a full disk, a read-only folder are French messages
  (exit 1) that leave the previous output in place;
- SIGTERM, SIGHUP and SIGINT sent to a real child in the middle of a run remove the temporary file and exit 128+N;
  after SIGKILL the previous output is intact;
- `engine evaluate ... | head -1` exits quietly.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import stat
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from engine.cli.main import main

ROOT = Path(__file__).parent.parent
SPECS = ROOT / "specs"
SAMPLES = SPECS / "samples"
AT = "2026-12-31"
OLD = b"previous output, must survive\n"
PARAM = ["--param", "min_meetings_per_month=2"]


@pytest.fixture
def work(tmp_path):
    """A spec that imports a vocabulary, its records, operation and cohort, all copied into tmp_path."""
    for name in ("coach-jeunesse.yaml", "common.yaml"):
        shutil.copy(SPECS / name, tmp_path / name)
    shutil.copy(SAMPLES / "coach-jeunesse.records.jsonl", tmp_path / "in.jsonl")
    shutil.copy(SAMPLES / "coach-jeunesse.operation.json", tmp_path / "op.json")
    shutil.copy(SAMPLES / "coach-jeunesse.cohort.jsonl", tmp_path / "cohort.jsonl")
    return tmp_path


def _commands(w: Path) -> dict[str, tuple[list[str], dict[str, Path]]]:
    """command -> (argv without the output option, {input name: path})."""
    spec, common = w / "coach-jeunesse.yaml", w / "common.yaml"
    return {
        "evaluate": (["evaluate", "--spec", str(spec), str(w / "in.jsonl"), "--at", AT, *PARAM],
                     {"spec": spec, "import": common, "records": w / "in.jsonl"}),
        "report": (["report", "--spec", str(spec), "--operation", str(w / "op.json"), "--records",
                    str(w / "cohort.jsonl"), "--at", AT],
                   {"spec": spec, "import": common, "operation": w / "op.json", "records": w / "cohort.jsonl"}),
        "diff": (["diff", str(spec), str(spec), "--records", str(w / "in.jsonl"), "--at", AT],
                 {"spec": spec, "import": common, "records": w / "in.jsonl"}),
        "graph": (["graph", "--spec", str(spec)], {"spec": spec, "import": common}),
    }


CASES = [(cmd, opt, inp) for cmd, inputs in
         (("evaluate", ("spec", "import", "records")), ("report", ("spec", "import", "operation", "records")),
          ("diff", ("spec", "import", "records")), ("graph", ("spec", "import")))
         for opt in (("-o", "--changed") if cmd == "diff" else ("-o",)) for inp in inputs]


def _spell(path: Path, how: str) -> str:
    """Another name for ``path``: itself, another spelling, a symbolic link, a hard link."""
    if how == "same":
        return str(path)
    if how == "spelling":
        sub = path.parent / "sub"
        sub.mkdir(exist_ok=True)
        return os.path.relpath(str(sub / ".." / path.name))
    if how == "symlink":
        link = path.parent / ("link-" + path.name)
        link.symlink_to(path.name)
        return str(link)
    link = path.parent / ("hard-" + path.name)
    os.link(path, link)
    return str(link)


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and not p.is_symlink()}


def _leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


@pytest.mark.parametrize("how", ["same", "spelling", "symlink", "hardlink"])
@pytest.mark.parametrize("cmd,opt,inp", CASES, ids=[f"{c}{o}={i}" for c, o, i in CASES])
def test_an_output_that_is_an_input_is_refused(work, capsys, monkeypatch, cmd, opt, inp, how):
    monkeypatch.chdir(work)
    argv, inputs = _commands(work)[cmd]
    target = _spell(inputs[inp], how)
    before = _snapshot(work)
    code = main(argv + [opt, target])
    err = capsys.readouterr().err
    assert code == 2, err
    assert "même fichier" in err and target in err and str(inputs[inp]) in err  # both paths named
    assert "Traceback" not in err
    assert _snapshot(work) == before  # nothing written, nothing replaced
    assert not _leftovers(work)


def test_two_outputs_to_the_same_new_file_are_refused(work, capsys):
    argv, _ = _commands(work)["diff"]
    code = main(argv + ["-o", str(work / "x.json"), "--changed", str(work / "x.json")])
    err = capsys.readouterr().err
    assert code == 2 and "désignent le même fichier" in err
    assert not (work / "x.json").exists()


def test_standard_input_appended_to_is_refused(work):
    """`engine evaluate - < in.jsonl >> in.jsonl` would read its own output forever: refused (a real child)."""
    spec = work / "coach-jeunesse.yaml"
    before = (work / "in.jsonl").read_bytes()
    with open(work / "in.jsonl", "rb") as src, open(work / "in.jsonl", "ab") as dst:
        r = subprocess.run([sys.executable, "-m", "engine.cli.main", "evaluate", "--spec", str(spec), "-", "--at", AT],
                           stdin=src, stdout=dst, stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 2, r.stderr
    assert "la sortie standard est le même fichier" in r.stderr.decode()
    assert (work / "in.jsonl").read_bytes() == before


def test_a_new_output_is_not_an_input(work, capsys):
    argv, _ = _commands(work)["evaluate"]
    assert main(argv + ["-o", str(work / "new.jsonl")]) == 0
    assert len((work / "new.jsonl").read_text().splitlines()) == 15


# ------------------------------------------------------------------------------------------------ bad names

BAD_NAMES = [
    ("folder", lambda w: str(w), "est un dossier"),
    ("folder with slash", lambda w: str(w) + "/", "est un dossier"),
    ("new folder name", lambda w: str(w / "newdir") + "/", "désigne un dossier"),
    ("empty", lambda w: "", "est vide"),
    ("missing parent", lambda w: str(w / "no" / "such" / "out.jsonl"), "n'existe pas"),
    ("parent is a file", lambda w: str(w / "in.jsonl" / "out.jsonl"), "n'est pas un dossier"),
    ("name too long", lambda w: str(w / ("x" * 300)), "trop long"),
]


@pytest.mark.parametrize("cmd", ["evaluate", "report", "diff", "graph"])
@pytest.mark.parametrize("label,name,message", BAD_NAMES, ids=[b[0] for b in BAD_NAMES])
def test_a_bad_output_name_is_a_usage_error(work, capsys, cmd, label, name, message):
    argv, _ = _commands(work)[cmd]
    before = _snapshot(work)
    code = main(argv + ["-o", name(work)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert message in err and "Traceback" not in err and "internal error" not in err
    assert _snapshot(work) == before and not _leftovers(work)


def test_changed_without_records_is_a_usage_error(work, capsys):
    spec = str(work / "coach-jeunesse.yaml")
    assert main(["diff", spec, spec, "--changed", str(work / "c.jsonl")]) == 2
    assert "--changed demande --records" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ writing

@pytest.mark.parametrize("cmd", ["evaluate", "report", "diff", "graph"])
def test_a_rewritten_output_keeps_its_mode_and_leaves_no_temporary_file(work, capsys, cmd):
    argv, _ = _commands(work)[cmd]
    out = work / "out.txt"
    out.write_bytes(OLD)
    out.chmod(0o640)
    assert main(argv + ["-o", str(out)]) == 0, capsys.readouterr().err
    assert out.read_bytes() != OLD and out.stat().st_size > 0
    assert stat.S_IMODE(out.stat().st_mode) == 0o640
    assert not _leftovers(work)


def test_a_new_output_gets_the_usual_mode(work, capsys):
    argv, _ = _commands(work)["evaluate"]
    old = os.umask(0o022)
    try:
        assert main(argv + ["-o", str(work / "out.jsonl")]) == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((work / "out.jsonl").stat().st_mode) == 0o644  # not mkstemp's 0600


def test_a_symbolic_link_is_written_through(work, capsys):
    real = work / "elsewhere"
    real.mkdir()
    (real / "target.jsonl").write_bytes(OLD)
    link = work / "out.jsonl"
    link.symlink_to(real / "target.jsonl")
    argv, _ = _commands(work)["evaluate"]
    assert main(argv + ["-o", str(link)]) == 0
    assert link.is_symlink() and os.readlink(link) == str(real / "target.jsonl")
    assert len((real / "target.jsonl").read_text().splitlines()) == 15
    assert not _leftovers(work) and not _leftovers(real)


def test_a_dangling_symbolic_link_creates_its_target(work, capsys):
    link = work / "out.jsonl"
    link.symlink_to("made.jsonl")
    argv, _ = _commands(work)["evaluate"]
    assert main(argv + ["-o", str(link)]) == 0
    assert link.is_symlink() and len((work / "made.jsonl").read_text().splitlines()) == 15


def test_dev_null_is_a_stream(work, capsys):
    argv, _ = _commands(work)["evaluate"]
    assert main(argv + ["-o", "/dev/null"]) == 0
    assert os.path.exists("/dev/null") and stat.S_ISCHR(os.stat("/dev/null").st_mode)  # not replaced by a file


def test_dev_stdout_appends_to_what_the_shell_opened(work):
    """`-o /dev/stdout` with `>> file`: written on descriptor 1 (appended), never reopened or replaced."""
    out = work / "out.jsonl"
    out.write_bytes(OLD)
    argv, _ = _commands(work)["evaluate"]
    with open(out, "ab") as dst:
        r = subprocess.run([sys.executable, "-m", "engine.cli.main", *argv, "-o", "/dev/stdout"], stdout=dst,
                           stderr=subprocess.PIPE, timeout=120)
    assert r.returncode == 0, r.stderr
    data = out.read_bytes()
    assert data.startswith(OLD) and len(data.splitlines()) == 16


def test_a_fifo_is_written_as_a_stream(work, capsys):
    fifo = work / "out.fifo"
    os.mkfifo(fifo)
    got: list[bytes] = []
    reader = threading.Thread(target=lambda: got.append(fifo.read_bytes()))
    reader.start()
    argv, _ = _commands(work)["evaluate"]
    code = main(argv + ["-o", str(fifo)])
    reader.join(60)
    assert code == 0
    assert stat.S_ISFIFO(os.lstat(fifo).st_mode)  # still the FIFO, not a file renamed over it
    assert len(got[0].splitlines()) == 15 and not _leftovers(work)


@pytest.mark.parametrize("cmd", ["evaluate", "report", "diff", "graph"])
def test_dev_full_is_a_message(work, capsys, cmd):
    argv, _ = _commands(work)[cmd]
    code = main(argv + ["-o", "/dev/full"])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "plus de place sur le disque" in err and "/dev/full" in err and "Traceback" not in err


def test_standard_output_on_dev_full_is_a_message(work):
    argv, _ = _commands(work)["evaluate"]
    with open("/dev/full", "wb") as full:
        r = subprocess.run([sys.executable, "-m", "engine.cli.main", *argv], stdout=full, stderr=subprocess.PIPE,
                           timeout=120)
    err = r.stderr.decode()
    assert r.returncode == 1, err
    assert "plus de place sur le disque" in err and "Traceback" not in err and "Exception ignored" not in err


def test_a_closed_pipe_exits_quietly(work):
    """`engine evaluate ... | head -1`: the reader goes away; no message, no traceback, exit 141 (128+SIGPIPE)."""
    big = work / "big.jsonl"
    line = (work / "in.jsonl").read_bytes().splitlines()[0] + b"\n"
    big.write_bytes(line * 3000)  # far more output than a pipe holds
    r = subprocess.run(f"{sys.executable} -m engine.cli.main evaluate --spec {work / 'coach-jeunesse.yaml'} {big} "
                       f"--at {AT} {' '.join(PARAM)} | head -1; echo \"rc=${{PIPESTATUS[0]}}\" >&2", shell=True, executable="/bin/bash",
                       capture_output=True, timeout=300)
    assert len(r.stdout.splitlines()) == 1
    assert r.stderr.decode().strip() == "rc=141"


# ------------------------------------------------------------------------------------------------ full disk, read-only

@pytest.fixture
def mounted(tmp_path):
    """Mount a small tmpfs (root only); yields (folder, remount) or skips when mounting is not allowed."""
    folder = tmp_path / "mnt"
    folder.mkdir()
    r = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=64k", "tmpfs", str(folder)], capture_output=True)
    if r.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here (needs root and CAP_SYS_ADMIN): {r.stderr.decode().strip()}")

    def remount(opts: str) -> None:
        subprocess.run(["mount", "-o", f"remount,{opts}", str(folder)], check=True, capture_output=True)

    try:
        yield folder, remount
    finally:
        subprocess.run(["umount", "-l", str(folder)], capture_output=True)


def test_a_full_disk_leaves_the_previous_output_and_no_temporary_file(work, capsys, mounted):
    folder, _ = mounted
    out = folder / "out.jsonl"
    out.write_bytes(OLD)
    big = work / "big.jsonl"
    big.write_bytes(((work / "in.jsonl").read_bytes()) * 40)  # ~600 records: far more than 64 KiB of output
    code = main(["evaluate", "--spec", str(work / "coach-jeunesse.yaml"), str(big), "--at", AT, *PARAM, "-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "plus de place sur le disque" in err and str(out) in err and "intact" in err
    assert out.read_bytes() == OLD
    assert sorted(p.name for p in folder.iterdir()) == ["out.jsonl"]


@pytest.mark.parametrize("cmd", ["evaluate", "report", "diff", "graph"])
def test_a_read_only_folder_is_a_message(work, capsys, mounted, cmd):
    folder, remount = mounted
    out = folder / "out.txt"
    out.write_bytes(OLD)
    remount("ro")
    argv, _ = _commands(work)[cmd]
    code = main(argv + ["-o", str(out)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "lecture seule" in err and str(out) in err and "Traceback" not in err
    assert out.read_bytes() == OLD and sorted(p.name for p in folder.iterdir()) == ["out.txt"]


def test_an_immutable_folder_is_a_message(work, capsys):
    folder = work / "locked"
    folder.mkdir()
    (folder / "out.jsonl").write_bytes(OLD)
    if subprocess.run(["chattr", "+i", str(folder)], capture_output=True).returncode != 0:
        pytest.skip("chattr +i is not supported on this file system")
    try:
        argv, _ = _commands(work)["evaluate"]
        code = main(argv + ["-o", str(folder / "out.jsonl")])
        err = capsys.readouterr().err
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True)
    assert code == 1, err
    assert "non permise" in err and "Traceback" not in err
    assert (folder / "out.jsonl").read_bytes() == OLD and sorted(os.listdir(folder)) == ["out.jsonl"]


def test_os_errors_in_the_command_line_are_messages(work, capsys, monkeypatch):
    """Whatever raises an OSError or a MemoryError, the user reads a French message and exit 1, never exit 70."""
    import engine.cli.evaluate as render  # the command's writer of the output lines

    def boom(*a, **k):
        raise OSError(5, "Input/output error", str(work / "in.jsonl"))

    monkeypatch.setattr(render, "write_jsonl", boom)
    argv, _ = _commands(work)["evaluate"]
    assert main(argv) == 1
    err = capsys.readouterr().err
    assert "erreur d'entrée-sortie" in err and str(work / "in.jsonl") in err

    def oom(*a, **k):
        raise MemoryError()

    monkeypatch.setattr(render, "write_jsonl", oom)
    assert main(argv) == 1
    assert "mémoire insuffisante" in capsys.readouterr().err


# ------------------------------------------------------------------------------------------------ signals

def _interruptible():
    """In the child, before exec: SIGINT as a terminal delivers it. A shell script's background job starts with
    SIGINT ignored, and Python then installs no KeyboardInterrupt handler: the SIGINT test would wait forever."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _slow_child(work: Path, out: Path):
    """A child evaluating records read from a FIFO that is fed one record, then kept open (the run waits)."""
    fifo = work / "slow.fifo"
    os.mkfifo(fifo)
    child = subprocess.Popen([sys.executable, "-m", "engine.cli.main", "evaluate", "--spec",
                              str(work / "coach-jeunesse.yaml"), str(fifo), "--at", AT, *PARAM, "-o", str(out)],
                             stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, preexec_fn=_interruptible)
    feed = open(fifo, "wb")  # blocks until the child opens the FIFO
    feed.write((work / "in.jsonl").read_bytes().splitlines()[0] + b"\n")
    feed.flush()
    deadline = time.monotonic() + 120  # readiness, not a timed assertion: the child writes its temporary file
    while not _leftovers(out.parent) and child.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _leftovers(out.parent), "the child never started writing"
    return child, feed


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGHUP, signal.SIGINT], ids=lambda s: s.name)
def test_a_signal_removes_the_temporary_file_and_keeps_the_previous_output(work, sig):
    out = work / "out" / "res.jsonl"
    out.parent.mkdir()
    out.write_bytes(OLD)
    child, feed = _slow_child(work, out)
    try:
        child.send_signal(sig)
        _, err = child.communicate(timeout=120)
    finally:
        feed.close()
    assert child.returncode == 128 + sig, err
    assert "interrompu" in err.decode() and "Traceback" not in err.decode()
    assert out.read_bytes() == OLD
    assert os.listdir(out.parent) == ["res.jsonl"]


def test_after_sigkill_the_previous_output_is_intact(work):
    out = work / "out" / "res.jsonl"
    out.parent.mkdir()
    out.write_bytes(OLD)
    child, feed = _slow_child(work, out)
    try:
        child.kill()
        child.communicate(timeout=120)
    finally:
        feed.close()
    assert child.returncode == -signal.SIGKILL
    assert out.read_bytes() == OLD  # the temporary file was never renamed; at worst it stays beside
    assert all(n == "res.jsonl" or (n.startswith(".res.jsonl.") and n.endswith(".tmp"))
               for n in os.listdir(out.parent))


def test_the_complete_run_replaces_the_output_once(work):
    """The same slow child, fed to the end: the output appears whole (the reference for the signal tests)."""
    out = work / "out" / "res.jsonl"
    out.parent.mkdir()
    out.write_bytes(OLD)
    child, feed = _slow_child(work, out)
    rest = (work / "in.jsonl").read_bytes().splitlines()[1:]
    feed.write(b"\n".join(rest) + b"\n")
    feed.close()
    _, err = child.communicate(timeout=120)
    assert child.returncode == 0, err
    assert [json.loads(x)["id"] for x in out.read_text().splitlines()] == \
        [json.loads(x)["id"] for x in (work / "in.jsonl").read_text().splitlines()]
    assert os.listdir(out.parent) == ["res.jsonl"]


def test_a_site_on_a_full_disk_is_a_message_and_the_previous_site_stays(work, capsys, mounted):
    """`engine docs -o SITE` (a folder written next to the old one, then swapped): a full disk is exit 1, the
    previous site is left as it was and no temporary folder stays."""
    pytest.importorskip("jinja2")
    folder, _ = mounted
    site = folder / "site"
    site.mkdir()
    (site / ".engine-docs").write_text("built by engine docs\n")
    (site / "index.html").write_bytes(OLD)
    code = main(["docs", str(work / "coach-jeunesse.yaml"), "-o", str(site)])
    err = capsys.readouterr().err
    assert code == 1, err
    assert "plus de place sur le disque" in err and "intact" in err and "Traceback" not in err
    assert (site / "index.html").read_bytes() == OLD
    assert sorted(p.name for p in folder.iterdir()) == ["site"]


@pytest.mark.parametrize("inp", ["spec", "import", "records"])
def test_several_processes_refuse_an_input_as_output_too(work, capsys, inp):
    argv, inputs = _commands(work)["evaluate"]
    before = _snapshot(work)
    assert main(argv + ["--jobs", "2", "-o", str(inputs[inp])]) == 2
    assert "même fichier" in capsys.readouterr().err
    assert _snapshot(work) == before and not _leftovers(work)
