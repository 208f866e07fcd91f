"""Writing a command's output without ever destroying anything: the one module every command that writes uses.

Library API::

    out = prepare(path, option="-o")           # checks the name at once (usage errors, exit 2)
    refuse_inputs([out, ...], inputs)          # an output that is one of the inputs: usage error naming both
    with open_output(out) as f: f.write(...)   # a binary stream; the file appears (atomically) when the block ends
    write_bytes(out, data)                     # the same, for an output rendered in one piece

Rules (docs/safety.md):

- ``None`` or ``-`` is standard output. An empty name, a folder, a name whose parent folder does not exist (or is
  not a folder), a loop of symbolic links or a name too long are usage errors (:class:`~engine.errors.UsageError`,
  exit 2), raised by :func:`prepare` before any work is done.
- An output that is the same file as an input (same device and inode after following symbolic links, so another
  spelling, a symbolic link and a hard link are all caught) is refused by :func:`refuse_inputs`, naming both paths.
  Only regular files can be destroyed, so only they are compared; a name that does not exist yet is no input.
- A regular file (or a new name) is written atomically: a temporary file in the folder of the file replaced, flushed
  and ``fsync``-ed, given the mode (and, when allowed, the owner) of the file it replaces, renamed over it, and the
  folder ``fsync``-ed. On any error or interruption the temporary file is removed and the previous file is left as it
  was; after SIGKILL (which nothing can catch) the previous file is intact too, and at worst a hidden
  ``.NAME.XXXX.tmp`` stays in that folder.
- A symbolic link is written through: its target is replaced (atomically, in the target's folder); the link stays.
- A character device (``/dev/null``, a terminal, ``/dev/full``), a FIFO, a socket, ``/dev/stdout``, ``/dev/stderr``
  and ``/dev/fd/N`` are streams: opened and written in place, never replaced (``/dev/fd/N`` writes to descriptor N
  without reopening it, so ``>> file`` keeps appending).
- Operating-system errors while writing become :class:`OutputError` (exit 1) with a French message naming the path
  and saying what to do (:func:`os_error_text` for the wording, shared with the command line's last-resort handler).
"""

from __future__ import annotations

import errno
import os
import re
import stat
import sys
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from typing import IO, Iterable, Iterator, Sequence

from engine.errors import COMMAND_LINE, Diagnostic, EngineError, UsageError

STDOUT_NAME = "la sortie standard"


class OutputError(EngineError):
    """An output could not be written (disk full, permission, read-only file system...): exit 1."""


@dataclass(frozen=True)
class Output:
    """Where one output goes. ``kind``: ``stdout``; ``fd`` (``/dev/stdout``, ``/dev/fd/N``: descriptor ``fd``);
    ``stream`` (a device, FIFO or socket, opened in place); ``file`` (replaced atomically). ``target`` is the file
    actually written (symbolic links resolved); ``st`` its status when it exists (identity, mode, owner)."""

    given: str | None
    option: str
    kind: str
    target: str | None = None
    fd: int | None = None
    st: os.stat_result | None = None

    @property
    def shown(self) -> str:
        return STDOUT_NAME if self.kind == "stdout" else str(self.given)

    @property
    def label(self) -> str:
        """How a message names it: « la sortie (-o) out.jsonl », « la sortie standard »."""
        return STDOUT_NAME if self.kind == "stdout" else f"la sortie ({self.option}) {self.given}"


# ----------------------------------------------------------------------------------------------- messages

# errno -> (what happened, what to do); {path} and {folder} are filled in
_REASONS = {
    errno.ENOSPC: ("plus de place sur le disque", "libérez de la place sur le disque de {folder} (ou écrivez "
                   "ailleurs), puis relancez"),
    errno.EDQUOT: ("quota de disque dépassé", "libérez de la place dans votre quota (ou écrivez ailleurs), puis "
                   "relancez"),
    errno.EFBIG: ("fichier trop gros pour ce système de fichiers", "écrivez sur un autre disque, ou découpez "
                  "l'entrée"),
    errno.EACCES: ("permission refusée", "vérifiez les droits sur {folder}, ou choisissez un autre emplacement"),
    errno.EPERM: ("opération non permise (fichier ou dossier protégé, par exemple immuable)",
                  "vérifiez les droits et attributs de {path} et de {folder}, ou choisissez un autre emplacement"),
    errno.EROFS: ("système de fichiers en lecture seule", "choisissez un emplacement sur un disque accessible en "
                  "écriture"),
    errno.EISDIR: ("c'est un dossier", "donnez un nom de fichier, par exemple {path}/resultats.jsonl"),
    errno.ENOTDIR: ("un élément du chemin n'est pas un dossier", "vérifiez le chemin"),
    errno.ENOENT: ("fichier ou dossier introuvable", "vérifiez le chemin"),
    errno.ELOOP: ("boucle de liens symboliques", "vérifiez les liens symboliques du chemin"),
    errno.ENAMETOOLONG: ("nom de fichier trop long", "choisissez un nom plus court"),
    errno.EIO: ("erreur d'entrée-sortie du périphérique", "vérifiez le disque (ou le partage réseau), puis "
                "relancez"),
    errno.ENXIO: ("périphérique absent ou FIFO sans lecteur", "vérifiez que le lecteur est lancé"),
    errno.ETXTBSY: ("fichier en cours d'utilisation", "fermez le programme qui l'utilise, puis relancez"),
    errno.EMFILE: ("trop de fichiers ouverts", "relancez avec moins de fichiers, ou augmentez la limite (ulimit -n)"),
    errno.ENOMEM: ("mémoire insuffisante", "relancez sur une machine avec plus de mémoire, ou découpez l'entrée"),
}
_USAGE_ERRNOS = {errno.EISDIR, errno.ENOTDIR, errno.ENOENT, errno.ELOOP, errno.ENAMETOOLONG}
_WRITE_ERRNOS = {errno.ENOSPC, errno.EDQUOT, errno.EFBIG, errno.EIO, errno.EROFS, errno.EACCES, errno.EPERM}


def os_error_text(e: OSError, path: str | None = None, folder: str | None = None) -> tuple[str, str]:
    """(the French reason, what to do) for an operating-system error about ``path`` (in ``folder``)."""
    path = path or (e.filename if isinstance(e.filename, str) else None) or "?"
    if folder is None:
        folder = os.path.dirname(os.path.abspath(path)) if path not in ("?", STDOUT_NAME) else "la destination"
    reason, hint = _REASONS.get(e.errno or 0, (e.strerror or type(e).__name__, "vérifiez le chemin et relancez"))
    return reason, hint.format(path=path, folder=folder)


def _write_error(e: OSError, out: Output, doing: str = "écrire") -> EngineError:
    folder = os.path.dirname(out.target) if out.kind == "file" and out.target else "la destination"
    reason, hint = os_error_text(e, out.target or out.shown, folder)
    kept = " ; le fichier précédent est intact" if out.kind == "file" and out.st is not None else ""
    if e.errno in _USAGE_ERRNOS:
        return UsageError(Diagnostic(f"impossible d'{doing} {out.label} : {reason}", file=COMMAND_LINE,
                                     hint=hint, code="output.usage"))
    what = "la sortie standard" if out.kind == "stdout" else f"la sortie ({out.option})"
    return OutputError(Diagnostic(f"impossible d'{doing} {what} : {reason}{kept}", file=out.shown, hint=hint,
                                  code="output.os_error"))


def _usage(message: str, hint: str, code: str = "output.usage") -> UsageError:
    return UsageError(Diagnostic(message, file=COMMAND_LINE, hint=hint, code=code))


# ----------------------------------------------------------------------------------------------- preparing

_FD_PATH = re.compile(r"^/(?:proc/(?:self|thread-self|\d+)/fd|dev/fd)/(\d+)$")
_STD_NAMES = {"/dev/stdout": 1, "/dev/stderr": 2}


def _descriptor(path: str) -> int | None:
    """The descriptor number when ``path`` names one (``/dev/stdout``, ``/dev/fd/3``, ``/proc/self/fd/1``,
    directly or through symbolic links), else None."""
    p = os.path.abspath(path)
    for _ in range(40):
        if p in _STD_NAMES:
            return _STD_NAMES[p]
        m = _FD_PATH.match(p)
        if m and (not p.startswith("/proc/") or p.split("/")[2] in ("self", "thread-self", str(os.getpid()))):
            return int(m.group(1))
        try:
            link = os.readlink(p)
        except OSError:
            return None
        p = os.path.normpath(os.path.join(os.path.dirname(p), link))
    return None


def prepare(path: str | None, option: str = "-o") -> Output:
    """Check an output name before any work is done; raises :class:`UsageError` (exit 2) for an empty name, a
    folder, a missing or non-folder parent, a loop of links or a name too long."""
    if path is None or path == "-":
        try:
            st = os.fstat(1)
        except OSError:
            st = None
        return Output(path, option, "stdout", st=st)
    if not isinstance(path, str) or not path.strip():
        raise _usage(f"le nom du fichier de sortie ({option}) est vide",
                     f"donnez un nom de fichier après {option}, ou « - » pour la sortie standard")
    fd = _descriptor(path)
    if fd is not None:
        try:
            st = os.fstat(fd)
        except OSError:
            raise _usage(f"la sortie ({option}) {path} désigne le descripteur {fd}, qui n'est pas ouvert",
                         "ouvrez-le dans le shell (par exemple 3> fichier), ou donnez un nom de fichier") from None
        return Output(path, option, "fd", target=path, fd=fd, st=st)
    try:
        st = os.stat(path)  # follows symbolic links
    except FileNotFoundError:
        st = None
    except OSError as e:
        raise _write_error(e, Output(path, option, "file", target=path), "utiliser") from None
    if st is not None:
        if stat.S_ISDIR(st.st_mode):
            raise _usage(f"la sortie ({option}) {path} est un dossier",
                         f"donnez un nom de fichier, par exemple {os.path.join(path, 'resultats.jsonl')}")
        if not stat.S_ISREG(st.st_mode):  # a device, a FIFO, a socket: written in place, never replaced
            return Output(path, option, "stream", target=path, st=st)
        return Output(path, option, "file", target=os.path.realpath(path), st=st)
    if path.endswith(("/", os.sep)):
        raise _usage(f"la sortie ({option}) {path} désigne un dossier, qui n'existe pas",
                     "donnez un nom de fichier, par exemple resultats.jsonl")
    target = os.path.realpath(path)  # a dangling symbolic link: its target is created
    folder = os.path.dirname(target)
    try:
        fst = os.stat(folder)
    except FileNotFoundError:
        fst = None
    except OSError as e:
        raise _write_error(e, Output(path, option, "file", target=target), "utiliser") from None
    if fst is None or not stat.S_ISDIR(fst.st_mode):
        what = "n'existe pas" if fst is None else "n'est pas un dossier"
        raise _usage(f"impossible d'écrire la sortie ({option}) {path} : le dossier {folder} {what}",
                     f"créez-le d'abord (mkdir -p {folder}), ou choisissez un autre emplacement")
    if len(os.path.basename(target).encode("utf-8", "surrogateescape")) > 255:
        raise _usage(f"la sortie ({option}) {path} : nom de fichier trop long (plus de 255 octets)",
                     "choisissez un nom plus court")
    return Output(path, option, "file", target=target)


def _identity(path: str) -> tuple[str, os.stat_result] | None:
    if path == "-":
        try:
            return "l'entrée standard", os.fstat(0)
        except OSError:
            return None
    try:
        return path, os.stat(path)
    except (OSError, ValueError):
        return None


def refuse_inputs(outputs: Sequence[Output], inputs: Iterable[tuple[str, str]]) -> None:
    """Raise :class:`UsageError` when an output is the same regular file as one of ``inputs`` (``(what it is,
    path)``, e.g. ``("la spec", "specs/x.yaml")``; ``-`` is standard input) or as another output."""
    seen: list[tuple[str, str, os.stat_result]] = []
    for label, p in inputs:
        ident = _identity(p)
        if ident is not None and stat.S_ISREG(ident[1].st_mode):
            seen.append((label, ident[0], ident[1]))
    names: dict[str, Output] = {}
    for out in outputs:  # two outputs to the same new name: the second rename would replace the first
        if out.kind == "file" and out.target:
            other = names.setdefault(os.path.normcase(out.target), out)
            if other is not out:
                raise _usage(f"{out.label} et {other.label} désignent le même fichier",
                             "donnez deux noms différents", "output.is_input")
    for out in outputs:
        st = out.st
        if st is None or not stat.S_ISREG(st.st_mode):
            continue
        for label, shown, ist in seen:
            if (ist.st_dev, ist.st_ino) == (st.st_dev, st.st_ino):
                which = f"{label} ({shown})" if shown == "l'entrée standard" else f"{label} {shown}"
                que = "qu'" if which[:1] in "aeiouéèêàâîôûyAEIOU" else "que "
                raise _usage(f"{out.label} est le même fichier {que}{which} : l'écrire détruirait l'entrée",
                             "choisissez un autre nom de sortie (rien n'a été écrit)", "output.is_input")
        seen.append((f"la sortie {out.option}", out.shown, st))


# ----------------------------------------------------------------------------------------------- writing

def _umask() -> int:
    m = os.umask(0)
    os.umask(m)
    return m


def _close_quietly(f) -> None:
    try:
        f.close()
    except OSError:
        pass


@contextmanager
def open_output(out: Output, *, buffering: int = 1 << 20) -> Iterator[IO[bytes]]:
    """A binary stream for ``out`` (see the module docstring); errors are :class:`OutputError`/UsageError."""
    if out.kind == "stdout":
        stream = sys.stdout.buffer
        try:
            sys.stdout.flush()
            yield stream
            stream.flush()
        except BrokenPipeError:
            raise
        except OSError as e:
            if e.filename is None and e.errno in _WRITE_ERRNOS:
                raise _write_error(e, out) from None
            raise
        return
    try:
        if out.kind == "fd":
            f = os.fdopen(os.dup(out.fd), "wb", buffering)  # type: ignore[arg-type]
        elif out.kind == "stream":
            f = open(out.target, "wb", buffering)  # type: ignore[arg-type]  # noqa: SIM115
        else:
            f = None
    except OSError as e:
        raise _write_error(e, out) from None
    if f is not None:  # a stream: written in place
        try:
            yield f
            f.flush()
        except BrokenPipeError:
            _close_quietly(f)
            raise
        except OSError as e:
            _close_quietly(f)
            if e.filename is None and e.errno in _WRITE_ERRNOS:
                raise _write_error(e, out) from None
            raise
        except BaseException:
            _close_quietly(f)
            raise
        try:
            f.close()
        except OSError as e:
            raise _write_error(e, out) from None
        return
    yield from _atomic(out, buffering)


def _atomic(out: Output, buffering: int) -> Iterator[IO[bytes]]:
    target = out.target or ""
    folder = os.path.dirname(target) or "."
    try:
        fd, tmp = tempfile.mkstemp(prefix="." + os.path.basename(target)[:120] + ".", suffix=".tmp", dir=folder)
    except OSError as e:
        raise _write_error(e, out) from None
    done = False
    f = os.fdopen(fd, "wb", buffering)
    try:
        try:
            yield f
        except OSError as e:
            if e.filename is None and e.errno in _WRITE_ERRNOS:
                raise _write_error(e, out) from None
            raise
        try:
            f.flush()
            os.fsync(f.fileno())
            old = out.st
            if old is not None and stat.S_ISREG(old.st_mode):
                os.chmod(tmp, stat.S_IMODE(old.st_mode))
                if (old.st_uid, old.st_gid) != (os.getuid(), os.getgid()):
                    try:
                        os.chown(tmp, old.st_uid, old.st_gid)
                    except OSError:  # not allowed (not root): the file is ours, as with any rewrite
                        pass
            else:
                os.chmod(tmp, 0o666 & ~_umask())  # mkstemp makes 0600 files; an output is as readable as any
            f.close()
            os.replace(tmp, target)
        except OSError as e:
            raise _write_error(e, out) from None
        done = True
        try:
            dfd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
            try:
                os.fsync(dfd)
            finally:
                os.close(dfd)
        except OSError:  # some file systems cannot sync a folder; the rename is done
            pass
    finally:
        if not done:
            _close_quietly(f)
            try:
                os.unlink(tmp)
            except OSError:
                pass


def write_bytes(out: Output, data: bytes) -> None:
    """Write ``data`` to ``out`` (atomically for a file)."""
    with open_output(out) as f:
        f.write(data)


def spec_inputs(spec, label: str = "la spec") -> list[tuple[str, str]]:
    """``(label, path)`` of a compiled spec's file and of every file it imports."""
    doc = getattr(spec, "document", None)
    docs = doc.all_documents() if doc is not None and hasattr(doc, "all_documents") else []
    paths = [d.path for d in docs] or ([spec.path] if getattr(spec, "path", None) else [])
    return [(label if i == 0 else f"un fichier importé par {label}", str(p)) for i, p in enumerate(paths)]


__all__ = ["Output", "OutputError", "prepare", "refuse_inputs", "open_output", "write_bytes", "spec_inputs",
           "os_error_text", "STDOUT_NAME"]
