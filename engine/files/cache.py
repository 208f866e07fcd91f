"""The user's cache folder: entries written whole and atomically, read only when whole and the user's own.

Two kinds of entries live there, each in its own section (a sub-folder): the compiled specs (``specs``,
:mod:`engine.spec.cache`) and the parser tables of the expression grammar (``grammar``, :mod:`engine.expr.parser`).
This module knows nothing of either: it stores ``(meta, payload)`` under a key.

Where: ``$ENGINE_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/dispositif-engine``, else
``~/.cache/dispositif-engine``; ``ENGINE_NO_CACHE=1`` turns it off. The folder is created private (mode 0700); a
folder or entry that is not the user's own, or that others can write to, is never read (an entry may be a pickle:
loading it runs code). The *engine fingerprint* (the engine's version, the Python ``cache_tag`` and the size and
modification time of every file of the installed package) goes into the keys, so that a changed engine never reads
an older entry.

Entry layout: ``MAGIC`` line, one JSON line (the caller's ``meta`` and ``payload``: the SHA-256 of the rest), then
the payload. A truncated or corrupted entry is ignored. Entries are written to a unique temporary file renamed into
place (``os.replace``): two runs writing the same entry at the same time each write a whole entry and the last one
wins; a reader never sees half an entry. Nothing here ever raises: any cache problem means "not cached".
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import sys
import tempfile
from pathlib import Path

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
    """Whether the cache is on (``ENGINE_NO_CACHE`` unset, empty or false)."""
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


def sha(data: bytes) -> str:
    """The SHA-256 of ``data``, in hexadecimal."""
    return hashlib.sha256(data).hexdigest()


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
    if not isinstance(meta, dict) or meta.get("payload") != sha(payload):
        return None
    return meta, payload


def write_entry(kind: str, key: str, meta: dict, payload: bytes) -> None:
    """Write an entry atomically (a unique temporary file renamed into place); errors are ignored."""
    folder = _folder(create=True, kind=kind)
    if folder is None:
        return
    head = json.dumps({**meta, "payload": sha(payload)}).encode()
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


__all__ = ["MAGIC", "cache_dir", "cache_enabled", "engine_fingerprint", "read_entry", "sha", "write_entry"]
