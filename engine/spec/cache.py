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

The folder, its entries and the engine fingerprint are :mod:`engine.files.cache` (shared with the grammar's parser
tables); an entry's meta here is ``deps``: ``[[path, sha256], ...]``, its payload :func:`engine.spec.snapshot.dumps`
of the spec.
"""

from __future__ import annotations

import os
import stat

from engine.files.cache import cache_dir, cache_enabled, engine_fingerprint, read_entry, sha, write_entry  # noqa: F401
from engine.files.inputs import InputTooLarge, read_bounded
from engine.spec.yaml_safe import MAX_FILE_BYTES


def _read(path: str) -> bytes | None:
    """The bytes of a spec or import for its key; None (no caching) for anything but a regular file within the
    spec size bound: a device, a FIFO or standard input must be read once, by the loader, with its bound."""
    try:
        if not stat.S_ISREG(os.stat(path).st_mode):
            return None
        return read_bounded(path, MAX_FILE_BYTES)
    except (OSError, InputTooLarge):
        return None


def entry_key(path: str, content: bytes) -> str:
    """The key of a spec's entry: the engine fingerprint, the path it is loaded by (and where it leads), its content."""
    real = os.path.realpath(path)
    return sha(b"\0".join([engine_fingerprint().encode(), os.fsencode(str(path)), os.fsencode(real), content]))


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
            if data is None or sha(data) != digest:
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
        deps.append((d.path, sha(data)))
    if content is None:
        content = _read(path)
    if content is None or not deps or deps[0][1] != sha(content):  # the file changed while it was compiled
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
