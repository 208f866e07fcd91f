"""Reading the two versions compared by `engine diff`: a spec file, or ``path@gitrev``.

``path@rev`` is read with ``git show rev:path`` in the repository that contains ``path`` (the work tree is never
touched, the path need not exist in it any more). The spec's imports are read at the same revision: the spec and its
imports are written, with their relative layout, into a private temporary folder that the normal loader then reads;
diagnostics point back at ``path@rev``. A ref that names an existing file is always that file (even with an ``@``).

Imports at a revision obey the import roots (:func:`engine.spec.loader.import_roots`) as they stood at that revision: the
spec's folder (and the folders of ``$ENGINE_IMPORT_ROOT`` inside the repository), mapped into the private copy, are
the copy's only roots; only the files inside them are written there (a symbolic link committed in git is copied as
a link, so the loader resolves it like a link in the work tree); an import that leaves them, or an absolute one, is
refused by the loader without being read. Nothing is ever read from the live file system for a git version.
"""

from __future__ import annotations

import os
import subprocess
import tempfile
from dataclasses import dataclass, field, replace
from typing import Any

from engine.errors import COMMAND_LINE, Diagnostic, EngineError, SpecError, UsageError


@dataclass
class SpecVersion:
    """One side of a diff: where it comes from, its document and imported vocabularies as plain data."""

    ref: str                 # as given on the command line
    display: str             # "specs/x.yaml" or "specs/x.yaml@HEAD~1"
    path: str                # the file the loader reads (the work-tree file, or a private copy for a git ref)
    rev: str | None = None
    doc: dict = field(default_factory=dict)
    vocabularies: list = field(default_factory=list)
    _tmp: Any = None
    _compiled: Any = None
    _remap: dict = field(default_factory=dict)   # private path -> displayed name

    def compiled(self):
        """The compiled spec (:func:`engine.spec.compile.load_spec`), for the impact analysis."""
        if self._compiled is None:
            try:
                from engine.spec.compile import load_spec
            except ImportError as e:  # pragma: no cover - the compiler is part of the package
                raise SpecError(f"cannot compile {self.display}: the spec compiler is not available ({e})",
                                file=self.display, code="diff.no_compiler") from None
            with self._mapped_errors():
                self._compiled = load_spec(self.path)
        return self._compiled

    def _mapped_errors(self):
        version = self

        class _Ctx:
            def __enter__(self):
                return self

            def __exit__(self, et, ev, tb):
                if isinstance(ev, EngineError) and version._remap:
                    ev.diagnostics = [version._map(d) for d in ev.diagnostics]
                    ev.args = (ev.format(),)
                return False

        return _Ctx()

    def shown_file(self, file: str) -> str:
        """The name shown for a file read for this version (``path@rev`` for a private copy)."""
        return self._remap.get(os.path.abspath(file), file) if self._remap else file

    def _map(self, d: Diagnostic) -> Diagnostic:
        if d.file:
            for private, shown in self._remap.items():
                if str(d.file) == private or os.path.abspath(str(d.file)) == private:
                    return replace(d, file=shown)
        return d

    def close(self) -> None:
        if self._tmp is not None:
            from engine.spec.loader import set_import_roots

            set_import_roots(self.path, None)
            self._tmp.cleanup()
            self._tmp = None

    def __enter__(self) -> "SpecVersion":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


# ------------------------------------------------------------------------------------------------ loading

def _load_document(path: str):
    """The loader's document for ``path``: safe YAML with positions, imports resolved, ``use:`` blocks expanded."""
    from engine.spec.loader import load_document

    return load_document(path)


def _import_list(data) -> list[str]:
    imps = data.get("imports") if isinstance(data, dict) else None
    if isinstance(imps, str):
        imps = [imps]
    return [str(i) for i in imps or () if isinstance(i, str)]


def _vocabularies(document) -> list[dict]:
    out, stack, seen = [], list(getattr(document, "imports", None) or ()), set()
    while stack:
        imp = stack.pop(0)
        if id(imp) in seen:
            continue
        seen.add(id(imp))
        data = getattr(imp, "data", imp)
        if isinstance(data, dict):
            out.append(data)
        stack.extend(getattr(imp, "imports", None) or ())
    return out


def _fill(version: SpecVersion) -> SpecVersion:
    try:
        with version._mapped_errors():
            document = _load_document(version.path)
    except BaseException:
        version.close()  # the private copy of a git version is removed at once
        raise
    version.doc = getattr(document, "data", document)  # the loaded YAML: positions locate the changes
    version.vocabularies = _vocabularies(document)
    return version


def load_version(ref: str) -> SpecVersion:
    """Read one side of a diff: a spec file, or ``path@rev`` from git. Use as a context manager (temporary files)."""
    if os.path.isfile(ref) or (os.path.exists(ref) and not os.path.isdir(ref)):  # a FIFO, a device: read bounded
        return _fill(SpecVersion(ref, ref, ref))
    if "@" in ref:
        path, rev = ref.rsplit("@", 1)
        if path and rev:
            return _fill(_from_git(ref, path, rev))
    if os.path.isdir(ref):
        raise UsageError(f"{ref} is a folder: engine diff compares two spec files", file=COMMAND_LINE,
                         hint="name a spec file, e.g. specs/mobilite.yaml or specs/mobilite.yaml@HEAD~1",
                         code="usage")
    raise SpecError(f"no such spec file: {ref}", file=ref, code="diff.not_found",
                    hint="give a spec file, or path@gitrev to read it from git (e.g. specs/mobilite.yaml@HEAD~1)")


def _git(cwd: str, *args: str) -> subprocess.CompletedProcess:
    try:
        return subprocess.run(["git", "-C", cwd, *args], capture_output=True, timeout=60)
    except FileNotFoundError:
        raise UsageError("git is not installed: cannot read path@rev", file=COMMAND_LINE,
                         code="diff.git") from None


def _repo_path(path: str) -> tuple[str, str]:
    """(repository top, path relative to it) for a path that may not exist in the work tree any more."""
    absolute = os.path.abspath(path)
    existing, rest = absolute, []
    while not os.path.isdir(existing):
        existing, tail = os.path.split(existing)
        rest.insert(0, tail)
        if not tail:
            break
    r = _git(existing, "rev-parse", "--show-toplevel")
    if r.returncode != 0:
        raise SpecError(f"{path} is not inside a git repository, so {path}@rev cannot be read", file=path,
                        code="diff.git", hint="run the command inside the repository, or compare two files")
    top = os.path.realpath(r.stdout.decode().strip())
    full = os.path.join(os.path.realpath(existing), *rest)
    rel = os.path.relpath(full, top)
    if rel.startswith(".."):
        raise SpecError(f"{path} is outside the git repository {top}", file=path, code="diff.git")
    return top, rel.replace(os.sep, "/")


def _from_git(ref: str, path: str, rev: str) -> SpecVersion:
    top, rel = _repo_path(path)
    r = _git(top, "rev-parse", "--verify", "--quiet", f"{rev}^{{commit}}")
    if r.returncode != 0:
        raise SpecError(f"unknown git revision {rev!r} in {ref}", file=COMMAND_LINE, code="diff.git_rev",
                        hint="use a commit, a branch, a tag or HEAD~N (see `git log --oneline`)")
    commit = r.stdout.decode().strip()
    display = f"{path}@{rev}"
    tmp = tempfile.TemporaryDirectory(prefix="engine-diff-")
    version = SpecVersion(ref, display, "", rev, _tmp=tmp)
    try:
        roots = _roots_at_revision(path, top, rel)
        version.path = _materialise(top, commit, rel, tmp.name, version, rev, display=display, roots=roots)
        from engine.spec.loader import set_import_roots

        set_import_roots(version.path, tuple(os.path.join(tmp.name, *r.split("/")) if r else tmp.name
                                             for r in roots),
                         tuple(f"{r or '.'}/ à la révision {rev}" for r in roots))
    except BaseException:
        tmp.cleanup()
        raise
    return version


def _roots_at_revision(path: str, top: str, rel: str) -> tuple[str, ...]:
    """The import roots of ``path`` (engine.spec.loader.import_roots) as folders relative to the repository top ("" is the
    top): the spec's folder at the revision, and the extra roots that lie inside the repository."""
    from engine.spec.loader import import_roots

    spec_dir = os.path.dirname(rel)
    out = [spec_dir]
    for r in import_roots(os.path.join(top, *rel.split("/")))[1:]:
        rr = os.path.relpath(r, top)
        if rr == ".":
            rr = ""
        if not rr.startswith(".."):
            out.append(rr.replace(os.sep, "/"))
    return tuple(dict.fromkeys(out))


def _in_roots(rel: str, roots: tuple[str, ...]) -> bool:
    return any(not r or rel == r or rel.startswith(r + "/") for r in roots)


def _materialise(top: str, commit: str, rel: str, root: str, version: SpecVersion, rev: str, display: str,
                 depth: int = 0, roots: tuple[str, ...] = ("",)) -> str:
    """Write ``rel`` at ``commit`` (and, recursively, its imports inside ``roots``) under ``root``; return the
    private path."""
    target = os.path.join(root, *rel.split("/"))
    if os.path.lexists(target) or depth > 20:
        return target
    r = _git(top, "ls-tree", "-z", commit, "--", rel)
    mode = r.stdout.split(b" ", 1)[0] if r.returncode == 0 and r.stdout else b""
    r = _git(top, "show", f"{commit}:{rel}") if mode else r
    if not mode or r.returncode != 0:
        if depth == 0:
            raise SpecError(f"{rel} does not exist at revision {rev}", file=display, code="diff.git_path",
                            hint="check the path and the revision with `git log --stat -- " + rel + "`")
        return target  # a missing import: the loader reports it (positioned) when it reads the spec
    os.makedirs(os.path.dirname(target), exist_ok=True)
    if mode == b"120000":  # a symbolic link at that revision: a link here too, and its target if inside the roots
        link = r.stdout.decode("utf-8", errors="surrogateescape")
        os.symlink(link, target)
        version._remap[os.path.abspath(target)] = display if depth == 0 else f"{rel}@{rev}"
        if not os.path.isabs(link):
            dest = os.path.normpath(os.path.join(os.path.dirname(rel), link)).replace(os.sep, "/")
            if not dest.startswith("..") and _in_roots(dest, roots):
                _materialise(top, commit, dest, root, version, rev, display, depth + 1, roots)
        return target
    with open(target, "wb") as f:
        f.write(r.stdout)
    version._remap[os.path.abspath(target)] = display if depth == 0 else f"{rel}@{rev}"
    for imp in _discover_imports(r.stdout):
        if os.path.isabs(imp):
            continue  # refused by the loader, never read
        sub = os.path.normpath(os.path.join(os.path.dirname(rel), imp)).replace(os.sep, "/")
        if not sub.startswith("..") and _in_roots(sub, roots):
            _materialise(top, commit, sub, root, version, rev, display, depth + 1, roots)
    return target


def _discover_imports(data: bytes) -> list[str]:
    """The ``imports:`` of a file, read with the engine's safe loader (never PyYAML's full loader: a hostile file
    at some revision must not cost more than it does to `engine check`); unreadable: none, the loader reports it."""
    from engine.errors import EngineError
    from engine.spec.loader import load_yaml

    try:
        doc = load_yaml("<git>", text=data)
    except EngineError:
        return []
    return _import_list(doc)


# ------------------------------------------------------------------------------------------------ posted texts

POSTED_NAME = ".texte-envoye.yaml"  # the name of a posted text in its private folder (never a served file's name)


def text_version(text: str | bytes, display: str, import_folders: tuple[str, ...] = ()) -> SpecVersion:
    """One side of a diff given as a spec's text (an HTTP request's body), never as a path. The text is written
    into a private temporary folder; its ``imports:`` are resolved only inside ``import_folders`` (the served
    folders, each entry of which the private folder links to): an absolute import, one that leaves them
    (``../``, a symbolic link pointing elsewhere) or names a file they do not hold is the loader's positioned
    error (``import.outside_root``, ``import.missing``), and the file it names is never opened. Without
    ``import_folders`` every import is missing. Diagnostics name the text ``display`` (and an imported file by its
    name inside the served folder), never a path of the server. Use as a context manager."""
    from engine.spec.loader import set_import_roots

    tmp = tempfile.TemporaryDirectory(prefix="engine-diff-text-")
    try:
        path = os.path.join(tmp.name, POSTED_NAME)
        with open(path, "wb") as f:
            f.write(text.encode("utf-8", errors="surrogateescape") if isinstance(text, str) else text)
        version = SpecVersion(display, display, path, _tmp=tmp)
        version._remap[os.path.abspath(path)] = display
        for folder in import_folders:
            for name in sorted(os.listdir(folder)):
                link = os.path.join(tmp.name, name)
                if name == POSTED_NAME or os.path.lexists(link):
                    continue
                os.symlink(os.path.join(os.path.realpath(folder), name), link)
                version._remap[os.path.abspath(link)] = name
        set_import_roots(path, (tmp.name, *import_folders), ("le texte envoyé",
                                                             *("le dossier des specs servies",) * len(import_folders)))
    except BaseException:
        tmp.cleanup()
        raise
    private = tmp.name
    try:
        return _fill(version)
    except EngineError as e:  # a message may quote a path of the private folder: never show it
        def clean(t):
            return t.replace(private + os.sep, "").replace(private, ".") if isinstance(t, str) else t

        def hint(d):
            if d.code == "import.outside_root":
                return ("un texte envoyé n'importe que les fichiers du dossier des specs servies, par un chemin "
                        "relatif (par exemple common.yaml)")
            return clean(d.hint)

        e.diagnostics = [replace(d, message=clean(d.message), hint=hint(d)) for d in e.diagnostics]
        e.args = (e.format(),)
        raise
    finally:
        if version._tmp is None:  # closed by _fill on an error
            from engine.spec.loader import forget_loaded

            forget_loaded(private)


def forget_text_version(version: SpecVersion) -> None:
    """Close a :func:`text_version` and drop what the loader kept of its private files (a server diffs many)."""
    from engine.spec.loader import forget_loaded

    private = version._tmp.name if version._tmp is not None else None
    version.close()
    if private:
        forget_loaded(private)
