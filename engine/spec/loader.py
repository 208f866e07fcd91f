"""Loading spec and vocabulary files: safe YAML with positions, imports and ``use:`` blocks.

The YAML layer (:class:`YMap`, :class:`YList`, :class:`Pos`, :func:`load_yaml`, the safety rules) lives in
:mod:`engine.spec.yaml_safe` and is re-exported here; this module adds documents:

- ``imports: [common.yaml]`` (paths relative to the importing file): a missing file, a cycle, or importing a file
  that is not ``kind: vocabulary`` are positioned errors; the errors of an imported file are reported too; a name
  defined differently by two imports, or by a vocabulary and one of its imports, is an ``import.conflict``;
- imports stay inside the *import roots* (:func:`import_roots`: the folder of the top-level file loaded, plus the
  folders listed in ``$ENGINE_IMPORT_ROOT``): an absolute path, or one that leaves them (``../``, or a symbolic
  link pointing elsewhere), is an ``import.outside_root`` error, and the file it names is never opened (so its
  content is never quoted);
- ``Document.vocabulary``: the merged sections of the imported vocabularies (and, for a vocabulary, its own);
- ``use:`` blocks: a mapping ``{use: name, ...}`` anywhere in the data is replaced by the block ``name`` of the
  ``shared:`` section of the imported vocabularies; the local keys next to ``use:`` override the block's keys.
  An unknown name gets "did you mean".
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from engine.errors import Diagnostic, SpecError, did_you_mean
from engine.spec.yaml_safe import (MAX_DEPTH, MAX_DIAGNOSTICS, MAX_DIGITS, MAX_FILE_BYTES, MAX_NODES, _SOURCES, Pos, YList, YMap,  # noqa: F401
                        _load_yaml, load_yaml, repr_value, resolve_plain)

VOCABULARY_SECTIONS = ("attributes", "events", "operation_attributes", "territories", "territory_groups",
                       "definitions", "parameters", "shared")


# ------------------------------------------------------------------------------------------------ documents

@dataclass
class Document:
    """A spec or vocabulary file with its imports resolved and its ``use:`` blocks expanded."""

    path: str
    kind: str  # "spec" or "vocabulary"
    data: YMap
    lines: tuple[str, ...]
    imports: list["Document"] = field(default_factory=list)
    vocabulary: YMap = field(default_factory=YMap)  # merged sections of the imported vocabularies (+ own)

    def all_documents(self) -> list["Document"]:
        """This document and every document it imports, transitively, each once."""
        out: list[Document] = []
        seen: set[str] = set()
        todo = [self]
        while todo:
            d = todo.pop(0)
            if d.path in seen:
                continue
            seen.add(d.path)
            out.append(d)
            todo.extend(d.imports)
        return out

    def lines_of(self, file: str) -> tuple[str, ...] | None:
        for d in self.all_documents():
            if d.path == file:
                return d.lines
        return _SOURCES.get(file)


def diag_at(doc_or_file: "Document | str | None", pos: Pos, message: str, *, hint: str | None = None,
            code: str = "spec.error", path: str | None = None, width: int = 1,
            severity: str = "error") -> Diagnostic:
    """A diagnostic at ``pos`` with the source line shown (from the document, or the loaded file)."""
    lines = doc_or_file.lines_of(pos.file) if isinstance(doc_or_file, Document) else _SOURCES.get(pos.file)
    if lines is None and pos.file and os.path.isfile(pos.file):
        try:
            lines = tuple(Path(pos.file).read_text(encoding="utf-8", errors="replace").lstrip("\ufeff")
                          .replace("\r\n", "\n").split("\n"))
        except OSError:
            lines = None
    src = lines[pos.line - 1] if lines and 1 <= pos.line <= len(lines) else None
    return Diagnostic(message, file=pos.file, line=pos.line, col=pos.col, source_line=src, width=width,
                      hint=hint, code=code, path=path, severity=severity)


IMPORT_ROOT_ENV = "ENGINE_IMPORT_ROOT"
_ROOTS: dict[str, tuple[str, ...]] = {}  # file (realpath) -> its import roots, for private copies (engine diff)


def import_roots(path: str | Path) -> tuple[str, ...]:
    """The folders that the imports of the top-level file ``path`` (and of what it imports) must stay inside: the
    folder of ``path``, and the folders listed in ``$ENGINE_IMPORT_ROOT`` (separated by ``:``); symbolic links
    resolved."""
    registered = _ROOTS.get(os.path.realpath(path))
    if registered is not None:
        return registered
    roots = [os.path.realpath(os.path.dirname(os.path.abspath(path)))]
    for extra in (os.environ.get(IMPORT_ROOT_ENV) or "").split(os.pathsep):
        if extra.strip():
            roots.append(os.path.realpath(extra))
    return tuple(dict.fromkeys(roots))


_ROOT_NAMES: dict[str, str] = {}  # a registered root -> the name shown in messages ("specs/ (HEAD~1)")


def set_import_roots(path: str, roots: tuple[str, ...] | None, shown: tuple[str, ...] = ()) -> None:
    """Give the file ``path`` its own import roots (None: forget them), shown in messages as ``shown``. `engine
    diff path@rev` gives its private copy of a git version the roots at that revision, so that nothing is ever read
    from the live file system."""
    key = os.path.realpath(path)
    if roots is None:
        for r in _ROOTS.pop(key, ()):
            _ROOT_NAMES.pop(r, None)
    else:
        _ROOTS[key] = tuple(os.path.realpath(r) for r in roots)
        _ROOT_NAMES.update(zip(_ROOTS[key], shown))


def inside_roots(target: str, roots: tuple[str, ...]) -> bool:
    """Whether ``target``, symbolic links resolved, is one of ``roots`` or below one."""
    real = os.path.realpath(target)
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def load_document(path: str | Path, *, cache: dict | None = None) -> Document:
    """Load a spec or vocabulary file, its imports (relative to it, inside :func:`import_roots`) and expand ``use:``
    blocks.

    Raises :class:`SpecError` with all the problems of the file and of the files it imports. ``cache`` (a dict)
    lets a caller share loaded files between several calls (``engine check`` does).
    """
    return _load_doc(str(path), {} if cache is None else cache, (), import_roots(path))


def _load_doc(path: str, cache: dict, chain: tuple[str, ...], root: tuple[str, ...]) -> Document:
    key = os.path.realpath(path)
    hit = cache.get(key)
    # a file's imports are checked against the root: loaded under another root, it is loaded again
    if getattr(hit, "_import_root", None) == root:
        if isinstance(hit, Document):
            return hit
        if isinstance(hit, SpecError):
            raise hit
    try:
        doc = _load_doc_uncached(path, cache, chain + (key,), root)
    except SpecError as e:
        e._import_root = root
        cache[key] = e
        raise
    doc._import_root = root
    cache[key] = doc
    return doc


def _outside_root(doc: "Document", ipos: Pos, i: int, name: str, roots: tuple[str, ...]) -> Diagnostic:
    """The error of an import outside the root. It names the import as written and the root, never anything read
    from the file it points at (which is never opened)."""
    root = " ou ".join(_ROOT_NAMES.get(r, r) for r in roots)
    if os.path.isabs(name):
        msg = (f"import « {name} » refusé : un chemin absolu n'est pas admis, seuls les chemins relatifs qui restent "
               f"dans le dossier racine des imports ({root}) le sont")
    else:
        msg = (f"import « {name} » refusé : il sort du dossier racine des imports ({root}), directement ou par un "
               "lien symbolique")
    return diag_at(doc, ipos, msg, code="import.outside_root", path=f"imports[{i + 1}]", width=len(name) or 1,
                   hint=f"copiez le vocabulaire dans ce dossier (ou un sous-dossier), ou ajoutez son dossier aux racines "
                        f"admises avec la variable d'environnement {IMPORT_ROOT_ENV} (voir docs/inputs.md)")


def _load_doc_uncached(path: str, cache: dict, chain: tuple[str, ...], root: tuple[str, ...]) -> Document:
    data, src = _load_yaml(path)
    kind = data.get("kind") if data.get("kind") in ("spec", "vocabulary") else "spec"
    diags: list[Diagnostic] = []
    doc = Document(path=path, kind=kind, data=data, lines=src.lines)
    imports = data.get("imports")
    broken_import = False
    if imports is not None and not (isinstance(imports, list) and all(isinstance(i, str) for i in imports)):
        diags.append(diag_at(doc, data.value_pos("imports"), "imports doit être une liste de noms de fichiers",
                             hint="écrivez par exemple imports: [common.yaml]", code="import.invalid", path="imports"))
        imports = None
        broken_import = True
    for i, name in enumerate(imports or []):
        ipos = imports.item_pos(i)
        target = os.path.normpath(os.path.join(os.path.dirname(path), name))
        if os.path.isabs(name) or not inside_roots(target, root):
            diags.append(_outside_root(doc, ipos, i, name, root))
            broken_import = True
            continue
        tkey = os.path.realpath(target)
        if tkey in chain:
            cyc = " -> ".join(os.path.basename(c) for c in chain[chain.index(tkey):]) + " -> " + name
            diags.append(diag_at(doc, ipos, f"cycle d'imports : {cyc}", code="import.cycle", path=f"imports[{i + 1}]",
                                 hint="un vocabulaire ne doit pas importer, directement ou non, le fichier qui l'importe",
                                 width=len(name)))
            broken_import = True
            continue
        if os.path.exists(target) and not os.path.isfile(target):
            what = "un dossier" if os.path.isdir(target) else "ni un fichier ni un dossier (un périphérique, un tube...)"
            diags.append(diag_at(doc, ipos, f"le fichier importé « {name} » n'est pas un fichier ordinaire : c'est "
                                 f"{what}", code="import.not_file", path=f"imports[{i + 1}]", width=len(name),
                                 hint="un import nomme un fichier YAML de vocabulaire"))
            broken_import = True
            continue
        if not os.path.isfile(target):
            here = os.path.dirname(target) or "."
            names = [n for n in os.listdir(here) if n.endswith((".yaml", ".yml"))] if os.path.isdir(here) else []
            hint = did_you_mean(os.path.basename(name), names) or "les chemins sont relatifs au fichier qui importe"
            diags.append(diag_at(doc, ipos, f"fichier importé « {name} » introuvable ({target})", code="import.missing",
                                 path=f"imports[{i + 1}]", hint=hint, width=len(name)))
            broken_import = True
            continue
        try:
            sub = _load_doc(target, cache, chain, root)
        except SpecError as e:
            diags.extend(e.diagnostics)
            broken_import = True
            continue
        if sub.kind != "vocabulary":
            diags.append(diag_at(doc, ipos, f"« {name} » n'est pas un fichier de vocabulaire : seuls les fichiers "
                                 "« kind: vocabulary » peuvent être importés", code="import.kind",
                                 path=f"imports[{i + 1}]", width=len(name)))
            broken_import = True
            continue
        doc.imports.append(sub)
    doc.vocabulary = _merge_vocabularies(doc, diags)
    shared = doc.vocabulary.get("shared")
    # a failed import (missing, outside the root, a cycle, not a vocabulary, or with errors of its own) may be the
    # one that defines the shared blocks: their use: would all be reported unknown, burying the real error
    if not broken_import:
        _expand_uses(doc, data, shared if isinstance(shared, YMap) else YMap(), diags, ())
    if diags:
        raise SpecError(diags)
    return doc


def _merge_vocabularies(doc: Document, diags: list[Diagnostic]) -> YMap:
    """The sections of the imported vocabularies (then, for a vocabulary, its own), name by name.

    A name defined twice in a section with different content is an ``import.conflict`` at the second definition
    (two imports, or a vocabulary redefining a name it imports); the same definition reached twice (a diamond of
    imports) or an identical copy is not a conflict.
    """
    merged = YMap(pos=doc.data.pos)
    sources = [(d.vocabulary, d) for d in doc.imports]
    if doc.kind == "vocabulary":
        sources.append((doc.data, doc))
    for voc, src in sources:
        for section in VOCABULARY_SECTIONS:
            part = voc.get(section)
            if not isinstance(part, dict):
                continue
            if section not in merged:
                merged._set(section, YMap(pos=part.pos), voc.key_info(section), voc.value_info(section))
            target: YMap = merged[section]
            for name, value in part.items():
                if name in target and not _same_definition(target, part, name):
                    diags.append(_conflict(doc, src, section, name, target.key_pos(name), part.key_info(name)))
                target._set(name, value, part.key_info(name), part.value_info(name))
    return merged


def _same_definition(old: YMap, new: YMap, name: str) -> bool:
    """The same node (or position) reached twice through a diamond of imports, or an identical copy of it."""
    return old[name] is new[name] or old.key_pos(name) == new.key_pos(name) or _same_content(old[name], new[name])


def _same_content(a: Any, b: Any) -> bool:
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_same_content(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_same_content(x, y) for x, y in zip(a, b))
    return type(a) is type(b) and a == b  # type: True is not 1


def _conflict(doc: Document, src: Document, section: str, name: str, first: Pos, info: Any) -> Diagnostic:
    second = info.pos
    same_base = os.path.basename(first.file) == os.path.basename(second.file)
    f1, f2 = (first.file, second.file) if same_base else (os.path.basename(first.file), os.path.basename(second.file))
    if src is doc:  # a vocabulary redefining a name it imports
        msg = f"{section} : « {name} » est importé de {f1} (ligne {first.line}) et défini à nouveau, autrement, " \
              f"dans {f2} (ligne {second.line})"
        hint = f"renommez celui-ci, ou supprimez-le et utilisez la définition de {f1}"
    else:
        msg = f"{section} : « {name} » est défini différemment dans deux vocabulaires importés, {f1} (ligne " \
              f"{first.line}) et {f2} (ligne {second.line})"
        hint = (f"renommez l'un des deux, ou définissez « {name} » dans un seul vocabulaire (l'autre peut l'importer "
                f"de là) ; les deux sont importés par {os.path.basename(doc.path)}")
    return diag_at(doc, second, msg, hint=hint, code="import.conflict", path=f"{section}.{name}",
                   width=max(1, info.width))


def _expand_uses(doc: Document, node: Any, shared: YMap, diags: list[Diagnostic], active: tuple[str, ...]) -> Any:
    """Replace every mapping ``{use: name, ...}`` below ``node`` by the shared block (local keys override)."""
    if isinstance(node, YMap):
        for key in list(node):
            if doc.kind == "vocabulary" and node is doc.data and key == "shared":
                continue
            value = node[key]
            new = _expand_uses(doc, value, shared, diags, active)
            if new is not value:
                info = node.value_info(key)
                if not isinstance(new, (dict, list)) and isinstance(value, YMap) and "use" in value:
                    info = shared.value_info(value["use"])
                node._set(key, new, node.key_info(key), info)
        if "use" in node:
            return _use_block(doc, node, shared, diags, active)
    elif isinstance(node, YList):
        for i, value in enumerate(node):
            new = _expand_uses(doc, value, shared, diags, active)
            if new is not value:
                node[i] = new
    return node


def _clone(node: Any) -> Any:
    """A copy of a YMap/YList tree with its positions (so that expanding a block never changes the vocabulary)."""
    if isinstance(node, YMap):
        new = node.copy()
        for k, v in new.items():
            if isinstance(v, (YMap, YList)):
                dict.__setitem__(new, k, _clone(v))
        return new
    if isinstance(node, YList):
        new_list = YList([_clone(v) for v in node], pos=node.pos)
        new_list._items = list(node._items)
        return new_list
    return node


def _use_block(doc: Document, node: YMap, shared: YMap, diags: list[Diagnostic], active: tuple[str, ...]) -> Any:
    name = node["use"]
    pos = node.value_pos("use")
    if not isinstance(name, str):
        diags.append(diag_at(doc, pos, f"use: attend le nom d'un bloc partagé, trouvé : {repr_value(name)}",
                             code="use.invalid"))
        return node
    if name in active:
        diags.append(diag_at(doc, pos, f"le bloc partagé « {name} » s'utilise lui-même", code="use.cycle",
                             width=len(name)))
        return node
    if name not in shared:
        hint = did_you_mean(name, shared.keys())
        if not shared:
            hint = "les blocs partagés se définissent sous « shared: » dans un vocabulaire importé par « imports: »"
        diags.append(diag_at(doc, pos, f"bloc partagé « {name} » inconnu", code="use.unknown", hint=hint,
                             width=len(name)))
        return node
    block = _expand_uses(doc, _clone(shared[name]), shared, diags, active + (name,))
    local = [k for k in node if k != "use"]
    if not isinstance(block, YMap):
        if local:
            diags.append(diag_at(doc, node.key_pos(local[0]), f"le bloc partagé « {name} » n'est pas une table : il "
                                 "ne peut pas être combiné avec d'autres clés", code="use.not_mapping"))
        return block
    out = block.copy()
    out.pos = node.pos
    for k in local:
        out._set(k, node[k], node.key_info(k), node.value_info(k))
    # what the spec wrote here (the name and the keys beside `use:`): the schema's requirements at a use site apply
    # to these keys, as an editor validating the file alone sees them (engine.spec.schema.validate)
    out.use_site = (node, tuple(local))
    return out


def iter_strings(node: Any, path: str = "") -> Iterator[tuple[YMap | YList, Any, str, str]]:
    """Yield ``(container, key_or_index, dotted_path, value)`` for every string value below ``node``."""
    todo: list[tuple[Any, str]] = [(node, path)]
    while todo:
        cur, p = todo.pop()
        if isinstance(cur, YMap):
            for k, v in cur.items():
                sub = f"{p}.{k}" if p else str(k)
                if isinstance(v, str):
                    yield cur, k, sub, v
                elif isinstance(v, (YMap, YList)):
                    todo.append((v, sub))
        elif isinstance(cur, YList):
            for i, v in enumerate(cur):
                sub = f"{p}[{i + 1}]"
                if isinstance(v, str):
                    yield cur, i, sub, v
                elif isinstance(v, (YMap, YList)):
                    todo.append((v, sub))


def forget_loaded(folder: str) -> None:
    """Drop the lines kept for diagnostics (and the import roots) of every file loaded from under ``folder``: a
    private folder about to be removed (a long-running server loads many posted texts)."""
    prefix = os.path.abspath(folder).rstrip(os.sep) + os.sep
    for f in [f for f in _SOURCES if isinstance(f, str) and os.path.abspath(f).startswith(prefix)]:
        _SOURCES.pop(f, None)
    for f in [f for f in _ROOTS if f.startswith(os.path.realpath(folder).rstrip(os.sep) + os.sep)]:
        set_import_roots(f, None)
