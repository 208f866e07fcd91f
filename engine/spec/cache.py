"""The compiled-spec cache: a spec compiled once is loaded from the user's cache folder by the next runs.

Where: ``$ENGINE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/dispositif-engine``, else
``~/.cache/dispositif-engine``; ``ENGINE_NO_CACHE=1`` (or ``load_spec_cached(..., use_cache=False)``, the CLI's
``--no-cache``) turns it off. The folder is created private (mode 0700); a folder or entry that is not the user's
own, or that others can write to, is never read (an entry is a pickle: loading it runs code).

An entry is found by the content of the spec file, the path it is loaded by (positions in messages name it) and the
*engine fingerprint* (the engine's version, the Python ``cache_tag`` and the size and modification time of every
file of the installed package: a changed engine never reads an older entry). It records the files the spec imports
with the SHA-256 of their content: an import that changed (or disappeared) makes the entry stale, and the spec is
compiled again and the entry replaced. The payload carries its own SHA-256: a truncated or corrupted entry is
ignored and rebuilt. Entries are written to a unique temporary file renamed into place (``os.replace``), so two
runs compiling the same spec at the same time each write a whole entry and the last one wins; a reader never sees
half an entry. Nothing here ever makes a run fail: any cache problem means "compile it".

Entry layout: ``MAGIC`` line, one JSON line (``deps``: ``[[path, sha256], ...]``, ``payload``: sha256 of the rest),
then the payload (:func:`engine.spec.snapshot.dumps` of the spec).
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

from engine.files.inputs import InputTooLarge, read_bounded
from engine.spec.yaml_safe import MAX_FILE_BYTES

MAGIC = b"dispositif-engine compiled spec 1\n"
_FINGERPRINT: str | None = None


def cache_dir() -> Path:
    """The cache folder (not created)."""
    env = os.environ.get("ENGINE_CACHE_DIR")
    if env:
        return Path(env)
    xdg = os.environ.get("XDG_CACHE_HOME")
    base = Path(xdg) if xdg and os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "dispositif-engine"


def cache_enabled() -> bool:
    return os.environ.get("ENGINE_NO_CACHE", "").strip().lower() in ("", "0", "false", "no", "non")


def engine_fingerprint() -> str:
    """The engine's version, the interpreter's ``cache_tag`` and (size, mtime) of each file of the package."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        from engine import __version__

        root = Path(__file__).resolve().parents[1]
        h = hashlib.sha256(f"{__version__}\0{sys.implementation.cache_tag}\0{sys.version}".encode())
        folders = [root.parent / "grammar"] + sorted(
            Path(d) for d, _subs, _files in os.walk(root) if not Path(d).name.startswith((".", "__")))
        for folder in folders:
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for e in entries:
                if e.name.endswith((".py", ".lark", ".json")) and e.is_file():
                    st = e.stat()
                    h.update(f"{folder.relative_to(root.parent)}/{e.name}\0{st.st_size}\0{st.st_mtime_ns}\0".encode())
        _FINGERPRINT = h.hexdigest()
    return _FINGERPRINT


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _read(path: str) -> bytes | None:
    """The bytes of a spec or import for its key; None (no caching) for anything but a regular file within the
    spec size bound: a device, a FIFO or standard input must be read once, by the loader, with its bound."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        return read_bounded(path, MAX_FILE_BYTES)
    except (OSError, InputTooLarge):
        return None


def _private(st: os.stat_result) -> bool:
    """Owned by this user and not writable by group or others (POSIX; always true where there are no uids)."""
    getuid = getattr(os, "getuid", None)
    if getuid is None:
        return True
    return st.st_uid == getuid() and not st.st_mode & (stat.S_IWGRP | stat.S_IWOTH)


def _folder(create: bool, kind: str = "specs") -> Path | None:
    d = cache_dir() / kind
    try:
        if create:
            d.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
            d.mkdir(exist_ok=True, mode=0o700)
        st = d.stat()
    except OSError:
        return None
    return d if stat.S_ISDIR(st.st_mode) and _private(st) else None


def entry_key(path: str, content: bytes) -> str:
    real = os.path.realpath(path)
    return _sha(b"\0".join([engine_fingerprint().encode(), os.fsencode(str(path)), os.fsencode(real), content]))


def read_entry(kind: str, key: str) -> tuple[dict, bytes] | None:
    """``(meta, payload)`` of the entry ``key`` of the cache section ``kind`` when it is whole and the user's own;
    None otherwise."""
    folder = _folder(create=False, kind=kind)
    if folder is None:
        return None
    try:
        fd = os.open(folder / f"{key}.entry", os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        with os.fdopen(fd, "rb") as f:
            if not _private(os.fstat(f.fileno())):
                return None
            data = f.read()
    except OSError:
        return None
    if not data.startswith(MAGIC):
        return None
    nl = data.find(b"\n", len(MAGIC))
    if nl < 0:
        return None
    try:
        meta = json.loads(data[len(MAGIC):nl])
    except ValueError:
        return None
    payload = data[nl + 1:]
    if not isinstance(meta, dict) or meta.get("payload") != _sha(payload):
        return None
    return meta, payload


def write_entry(kind: str, key: str, meta: dict, payload: bytes) -> None:
    """Write an entry atomically (a unique temporary file renamed into place); errors are ignored."""
    folder = _folder(create=True, kind=kind)
    if folder is None:
        return
    head = json.dumps({**meta, "payload": _sha(payload)}).encode()
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(prefix=f".{key[:16]}.", suffix=".tmp", dir=folder)
        with os.fdopen(fd, "wb") as f:
            f.write(MAGIC + head + b"\n" + payload)
        os.replace(tmp, folder / f"{key}.entry")
        tmp = None
    except OSError:
        pass
    finally:
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass


def cached_spec(path: str, content: bytes | None = None):
    """The cached compiled spec of ``path`` when its entry is current (same engine, same content of the file and of
    every file it imports); None otherwise."""
    if content is None:
        content = _read(path)
        if content is None:
            return None
    entry = read_entry("specs", entry_key(path, content))
    if entry is None:
        return None
    meta, payload = entry
    try:
        for dep, digest in meta["deps"]:
            data = _read(dep)
            if data is None or _sha(data) != digest:
                return None
        from engine.spec.snapshot import loads

        spec = loads(payload)
    except Exception:  # noqa: BLE001 - a bad entry is a cache miss, never an error
        return None
    from engine.spec.model import Spec

    return spec if isinstance(spec, Spec) else None


def store_spec(path: str, spec, content: bytes | None = None) -> None:
    """Cache ``spec``, compiled from ``path`` (whose content was ``content`` when it was read, if known)."""
    from engine.spec.snapshot import dumps

    doc = getattr(spec, "document", None)
    if doc is None:
        return
    deps = []
    for d in doc.all_documents():
        data = _read(d.path)
        if data is None:
            return
        deps.append((d.path, _sha(data)))
    if content is None:
        content = _read(path)
    if content is None or not deps or deps[0][1] != _sha(content):  # the file changed while it was compiled
        return
    try:
        payload = dumps(spec)
    except Exception:  # noqa: BLE001 - an unpicklable spec is simply not cached
        return
    write_entry("specs", entry_key(path, content), {"deps": deps, "spec": spec.id}, payload)


def load_spec_cached(path: str | os.PathLike, *, use_cache: bool | None = None):
    """:func:`engine.spec.compile.load_spec` through the cache (see the module docstring): the same spec, or the same
    :class:`~engine.errors.SpecError` (a spec with errors is never cached)."""
    path = str(path)
    if use_cache is None:
        use_cache = cache_enabled()
    content = _read(path) if use_cache else None
    if content is not None:
        spec = cached_spec(path, content)
        if spec is not None:
            return spec
    from engine.spec.compile import load_spec

    spec = load_spec(path)
    if content is not None:
        store_spec(path, spec, content)
    return spec


__all__ = ["cache_dir", "cache_enabled", "cached_spec", "engine_fingerprint", "entry_key", "load_spec_cached",
           "read_entry", "store_spec", "write_entry"]
