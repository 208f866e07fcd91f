"""The compiled-spec cache (engine.spec.cache) and the picklable spec (engine.spec.snapshot): same outputs from a
pickled or cached spec as from a freshly compiled one; invalidation when the spec, an import or the engine change;
corrupted, foreign or shared entries never trusted; concurrent writers."""

from __future__ import annotations

import multiprocessing
import os
import pickle
import shutil
from datetime import date
from pathlib import Path

import pytest

from engine.files import cache as FC
from engine.spec import cache as SC
from engine.spec.compile import load_spec
from engine.errors import SpecError
from engine.beneficiary.evaluate import evaluate_stream
from engine.beneficiary.records import read_records
from engine.render.evaluation import dumps

ROOT = Path(__file__).resolve().parent.parent
SPECS = ROOT / "specs"
SAMPLES = SPECS / "samples"
WITH_RECORDS = sorted(p for p in SPECS.glob("*.yaml") if (SAMPLES / f"{p.stem}.records.jsonl").exists())
AT = date(2026, 6, 1)


def outputs(spec, records: Path) -> list[bytes]:
    return [dumps(r) for r in evaluate_stream(spec, read_records(str(records), spec=spec), AT)]


@pytest.fixture
def cache(tmp_path, monkeypatch):
    d = tmp_path / "cache"
    monkeypatch.setenv("ENGINE_CACHE_DIR", str(d))
    monkeypatch.delenv("ENGINE_NO_CACHE", raising=False)
    return d


@pytest.fixture
def copied(tmp_path):
    """A copy of mobilite.yaml and the vocabulary it imports, to edit."""
    folder = tmp_path / "specs"
    folder.mkdir()
    shutil.copy(SPECS / "mobilite.yaml", folder / "mobilite.yaml")
    shutil.copy(SPECS / "common.yaml", folder / "common.yaml")
    return folder / "mobilite.yaml"


def no_compile(monkeypatch):
    """Make any compilation fail loudly: what is loaded afterwards must come from the cache."""
    def boom(path):
        raise AssertionError(f"compiled {path} again")
    monkeypatch.setattr("engine.spec.compile.load_spec", boom)


@pytest.mark.parametrize("path", WITH_RECORDS, ids=lambda p: p.stem)
def test_a_pickled_spec_evaluates_every_sample_as_the_compiled_one(path):
    spec = load_spec(path)
    again = pickle.loads(pickle.dumps(spec))
    assert again is not spec and again.id == spec.id
    records = SAMPLES / f"{path.stem}.records.jsonl"
    assert outputs(again, records) == outputs(spec, records)


def test_the_second_load_comes_from_the_cache(cache, monkeypatch):
    path = str(SPECS / "coach-jeunesse.yaml")
    first = SC.load_spec_cached(path)
    assert len(list((cache / "specs").glob("*.entry"))) == 1
    no_compile(monkeypatch)
    second = SC.load_spec_cached(path)
    assert second is not first
    records = SAMPLES / "coach-jeunesse.records.jsonl"
    assert outputs(second, records) == outputs(first, records)


def test_a_changed_spec_is_compiled_again(cache, copied, monkeypatch):
    before = SC.load_spec_cached(str(copied))
    text = copied.read_text(encoding="utf-8")
    copied.write_text(text.replace(f"version: {before.version}", "version: 2099.9")
                      if f"version: {before.version}" in text else text + "\n# edited\n", encoding="utf-8")
    after = SC.load_spec_cached(str(copied))
    assert after is not before
    if f"version: {before.version}" in text:
        assert after.version == "2099.9"
    assert len(list((cache / "specs").glob("*.entry"))) == 2  # one per content


def test_a_changed_import_makes_the_entry_stale(cache, copied, monkeypatch):
    SC.load_spec_cached(str(copied))
    common = copied.parent / "common.yaml"
    calls = []
    real = load_spec

    def counting(path):
        calls.append(path)
        return real(path)

    monkeypatch.setattr("engine.spec.compile.load_spec", counting)
    SC.load_spec_cached(str(copied))
    assert calls == []  # unchanged: from the cache
    common.write_text(common.read_text(encoding="utf-8") + "\n# a comment changes the content\n", encoding="utf-8")
    SC.load_spec_cached(str(copied))
    assert calls == [str(copied)]
    SC.load_spec_cached(str(copied))  # the entry was replaced by the new compilation
    assert calls == [str(copied)]
    common.unlink()
    with pytest.raises(SpecError) as e:  # a vanished import: compiled again, and its error reported
        SC.load_spec_cached(str(copied))
    assert any(d.code == "import.missing" for d in e.value.diagnostics)


def test_another_engine_never_reads_the_entry(cache, monkeypatch):
    path = str(SPECS / "coach-jeunesse.yaml")
    SC.load_spec_cached(path)
    monkeypatch.setattr(FC, "_FINGERPRINT", "another engine version")
    calls = []
    real = load_spec
    monkeypatch.setattr("engine.spec.compile.load_spec", lambda p: calls.append(p) or real(p))
    SC.load_spec_cached(path)
    assert calls == [path]


@pytest.mark.parametrize("damage", ["truncate", "flip", "empty", "garbage", "bad-pickle"])
def test_a_corrupted_entry_is_ignored_and_rebuilt(cache, monkeypatch, damage):
    path = str(SPECS / "coach-jeunesse.yaml")
    SC.load_spec_cached(path)
    (entry,) = (cache / "specs").glob("*.entry")
    data = entry.read_bytes()
    if damage == "truncate":
        data = data[: len(data) // 2]
    elif damage == "flip":
        data = data[:-100] + bytes([data[-100] ^ 0xFF]) + data[-99:]
    elif damage == "empty":
        data = b""
    elif damage == "garbage":
        data = os.urandom(500)
    else:  # a well-framed entry whose payload is not a spec
        SC.write_entry("specs", entry.stem, {"deps": []}, pickle.dumps({"not": "a spec"}))
        data = entry.read_bytes()
    entry.write_bytes(data)
    calls = []
    real = load_spec
    monkeypatch.setattr("engine.spec.compile.load_spec", lambda p: calls.append(p) or real(p))
    spec = SC.load_spec_cached(path)
    assert spec.id == "coach-jeunesse" and calls == [path]
    assert SC.cached_spec(path) is not None  # rebuilt


def test_an_entry_others_can_write_is_not_trusted(cache, monkeypatch):
    path = str(SPECS / "coach-jeunesse.yaml")
    SC.load_spec_cached(path)
    (entry,) = (cache / "specs").glob("*.entry")
    entry.chmod(0o666)
    assert SC.cached_spec(path) is None
    entry.chmod(0o600)
    assert SC.cached_spec(path) is not None
    (cache / "specs").chmod(0o777)
    assert SC.cached_spec(path) is None


def test_no_cache_writes_nothing(cache, monkeypatch):
    monkeypatch.setenv("ENGINE_NO_CACHE", "1")
    SC.load_spec_cached(str(SPECS / "coach-jeunesse.yaml"))
    assert not cache.exists()
    monkeypatch.delenv("ENGINE_NO_CACHE")
    SC.load_spec_cached(str(SPECS / "coach-jeunesse.yaml"), use_cache=False)
    assert not cache.exists()


def test_a_spec_with_errors_is_never_cached(cache, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text((SPECS / "mobilite.yaml").read_text(encoding="utf-8").replace("imports:", "imports_typo:", 1),
                   encoding="utf-8")
    with pytest.raises(SpecError) as first:
        SC.load_spec_cached(str(bad))
    with pytest.raises(SpecError) as second:
        SC.load_spec_cached(str(bad))
    assert [d.message for d in first.value.diagnostics] == [d.message for d in second.value.diagnostics]
    assert not list((cache / "specs").glob("*.entry")) if (cache / "specs").exists() else True


def test_the_cache_folder_default(monkeypatch, tmp_path):
    monkeypatch.delenv("ENGINE_CACHE_DIR", raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert SC.cache_dir() == tmp_path / "xdg" / "dispositif-engine"
    monkeypatch.delenv("XDG_CACHE_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert SC.cache_dir() == tmp_path / "home" / ".cache" / "dispositif-engine"


def _load_in_child(path: str, out) -> None:
    spec = SC.load_spec_cached(path)
    out.put(spec.id)


@pytest.mark.skipif("fork" not in multiprocessing.get_all_start_methods(), reason="needs fork")
def test_concurrent_runs_share_one_whole_entry(cache):
    path = str(SPECS / "coach-jeunesse.yaml")
    ctx = multiprocessing.get_context("fork")
    q = ctx.Queue()
    procs = [ctx.Process(target=_load_in_child, args=(path, q)) for _ in range(4)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(120)
    assert [p.exitcode for p in procs] == [0] * 4
    assert sorted(q.get(timeout=5) for _ in procs) == ["coach-jeunesse"] * 4
    files = list((cache / "specs").iterdir())
    assert [f.suffix for f in files] == [".entry"]  # no temporary file left behind
    assert SC.cached_spec(path) is not None


def test_check_uses_and_fills_the_cache(cache, monkeypatch):
    from engine.spec.check import check_paths

    path = str(SPECS / "coach-jeunesse.yaml")
    first = check_paths([path])
    assert first.ok and SC.cached_spec(path) is not None  # check warmed the cache for evaluate
    monkeypatch.setattr("engine.spec.compile.compile_spec", lambda doc: (_ for _ in ()).throw(AssertionError("compiled")))
    second = check_paths([path])
    assert second.ok and second.specs[path].id == "coach-jeunesse"
