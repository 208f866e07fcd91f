"""`engine check [PATHS]`: validate spec and vocabulary files and report every error of every file.

For each file (folders are searched for ``*.yaml``/``*.yml``, skipping ``samples/`` and hidden folders):

1. load it safely with positions, resolve its imports and ``use:`` blocks (:mod:`engine.spec.loader`);
2. validate it, and the vocabularies it imports, against the JSON Schema (:mod:`engine.spec.schema`);
3. if the schema passed and it is a spec, compile it (``engine.spec.compile.compile_spec``: every expression parsed
   and type-checked, the phase graph checked); skipped when that module is not installed;
4. check that every ``source: NN-file.txt:LINE[-LINE]`` names an existing line of a source text, in the folder of
   source texts (``--seeds``, else ``$ENGINE_SEEDS``, else ``../shared/seeds`` next to the repository or the current
   folder); when it is not found, one warning (``source.unchecked``) says so and how to point at it.

All diagnostics of all files are reported, sorted by file, then root cause first (:mod:`engine.spec.rootcause`:
a misspelt declaration before the references it breaks, which are not repeated one by one; conclusions drawn from
the whole phase graph after the local errors; probable consequences last, marked so), then line and column, each as
``file:line:col: erreur : ...`` with the source line and a caret, on standard error; exit 1 on any error. Otherwise a one-line summary
(``12 fichiers vérifiés : 0 erreur``) on standard output and exit 0. ``--json`` prints the result as JSON instead.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

from engine.errors import COMMAND_LINE, Diagnostic, SpecError, did_you_mean
from engine.fr import fr_plural

SOURCE_RE = re.compile(r"^(\d{2}-[a-z0-9-]+\.txt):(\d+)(?:-(\d+))?$")


@dataclass(frozen=True)
class CheckResult:
    """What `engine check` found: the files checked, every diagnostic (sorted), the compiled specs by path."""

    files: list[str]
    diagnostics: list[Diagnostic]
    specs: dict[str, object] = field(default_factory=dict)
    compiled: bool = True  # False when engine.spec.compile was not available (expressions not checked)

    @property
    def errors(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity == "error"]

    @property
    def warnings(self) -> list[Diagnostic]:
        return [d for d in self.diagnostics if d.severity != "error"]

    @property
    def ok(self) -> bool:
        return not self.errors

    def summary(self) -> str:
        n, e, w = len(self.files), len(self.errors), len(self.warnings)
        text = f"{fr_plural(n, 'fichier vérifié', 'fichiers vérifiés')} : {fr_plural(e, 'erreur', 'erreurs')}"
        followers = sum(1 for d in self.errors if d.consequence_of)
        if followers:
            text += f" (dont {followers} sans doute {'conséquences' if followers > 1 else 'conséquence'} d'une autre)"
        if w:
            text += f", {fr_plural(w, 'avertissement', 'avertissements')}"
        if not self.compiled and not self.errors:
            text += " (expressions et graphes de phases non vérifiés : engine.spec.compile n'est pas disponible)"
        return text

    def to_json(self) -> dict:
        return {"files": self.files, "errors": len(self.errors), "warnings": len(self.warnings),
                "diagnostics": [d.to_json() for d in self.diagnostics]}


# --------------------------------------------------------------------------------------------- files

def find_files(paths: list[str]) -> tuple[list[str], list[Diagnostic]]:
    """The YAML files named by ``paths`` (folders searched recursively, ``samples/`` skipped)."""
    files: list[str] = []
    diags: list[Diagnostic] = []
    for p in paths:
        path = Path(p)
        if path.is_dir():
            found = []
            for f in path.rglob("*"):
                rel = f.relative_to(path).parts
                if f.suffix in (".yaml", ".yml") and f.is_file() and "samples" not in rel[:-1] \
                        and not any(part.startswith(".") for part in rel):
                    found.append(str(f))
            if not found:
                diags.append(Diagnostic("aucun fichier .yaml ou .yml dans ce dossier", file=p, code="file.none",
                                        severity="warning"))
            files.extend(sorted(found))
        elif path.is_file():
            files.append(str(path))
        elif path.exists():
            diags.append(Diagnostic("impossible de lire ce chemin : ce n'est ni un fichier ni un dossier", file=p,
                                    code="file.unreadable"))
        else:
            diags.append(Diagnostic("impossible de lire ce chemin : aucun fichier ni dossier de ce nom", file=p,
                                    code="file.missing",
                                    hint="donnez un fichier de spec ou un dossier de specs, par exemple engine check specs/"))
    seen: set[str] = set()
    unique = []
    for f in files:
        key = os.path.realpath(f)
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, diags


SEEDS_HINT = ("indiquer le dossier des textes NN-fichier.txt avec la variable ENGINE_SEEDS=DOSSIER ou l'option "
              "--seeds DOSSIER (par défaut : ../shared/seeds à côté du dépôt ou du dossier courant)")


def _default_seed_folders() -> list[Path]:
    """Where the source texts are looked for when neither ``--seeds`` nor ``$ENGINE_SEEDS`` names them."""
    repo = Path(__file__).resolve().parents[2]
    return [base.parent / "shared" / "seeds" for base in (repo, Path.cwd())]


def locate_seeds(explicit: str | Path | None = None) -> tuple[Path | None, Diagnostic | None]:
    """The folder of source texts and, when it is not found, the warning that says so and how to point at it.

    ``explicit`` (``--seeds``) first: a path that is not a folder is a usage error. Then ``$ENGINE_SEEDS`` (a value
    that is not a folder gives a warning naming it), then :func:`_default_seed_folders`."""
    from engine.errors import UsageError

    if explicit is not None:
        if not Path(explicit).is_dir():
            raise UsageError(Diagnostic(f"--seeds {explicit} : ce n'est pas un dossier", file=COMMAND_LINE,
                                        code="usage", hint="le dossier des textes sources NN-fichier.txt"))
        return Path(explicit), None
    env = os.environ.get("ENGINE_SEEDS")
    if env:
        if Path(env).is_dir():
            return Path(env), None
        return None, Diagnostic(f"ENGINE_SEEDS={env} n'est pas un dossier : les citations « source: » ne sont "
                                "pas vérifiées", file="<environment>", code="source.unchecked",
                                severity="warning", hint=SEEDS_HINT)
    for cand in _default_seed_folders():
        if cand.is_dir():
            return cand, None
    return None, Diagnostic("textes sources introuvables : les citations « source: » ne sont pas vérifiées "
                            "(une ligne citée qui n'existe pas passerait inaperçue)", file="<environment>",
                            code="source.unchecked", severity="warning", hint=SEEDS_HINT)


def seeds_dir() -> Path | None:
    """The folder of source texts: ``$ENGINE_SEEDS``, else ``../shared/seeds`` next to the repository or cwd."""
    return locate_seeds()[0]


class _Seeds:
    """Line counts of the source texts, read once."""

    def __init__(self, folder: Path | None):
        self.folder = folder
        self.counts: dict[str, int | None] = {}
        self.names = sorted(p.name for p in folder.glob("*.txt")) if folder else []

    def lines(self, name: str) -> int | None:
        if name not in self.counts:
            f = self.folder / name if self.folder else None
            try:
                self.counts[name] = len(f.read_text(encoding="utf-8", errors="replace").splitlines()) if f else None
            except OSError:
                self.counts[name] = None
        return self.counts[name]


def check_sources(doc, seeds: _Seeds, seen: set | None = None) -> list[Diagnostic]:
    """Every ``source:`` (and ``source_document:``) of ``doc`` must name an existing line of a source text.

    ``seen`` (positions already checked) avoids reporting a shared block's source once per spec that uses it.
    """
    from engine.spec.loader import YMap, diag_at, iter_strings

    out: list[Diagnostic] = []
    if seeds.folder is None:
        return out
    for container, key, path, value in iter_strings(doc.data):
        if not isinstance(container, YMap) or key not in ("source", "source_document"):
            continue
        pos = container.value_pos(key)
        width = container.value_width(key)
        if seen is not None:
            if pos in seen:
                continue
            seen.add(pos)
        if key == "source_document":
            if re.fullmatch(r"\d{2}-[a-z0-9-]+\.txt", value) and seeds.lines(value) is None:
                out.append(diag_at(doc, pos, f"source_document : aucun texte source nommé « {value} »", width=width,
                                   hint=did_you_mean(value, seeds.names), code="source.file", path=path))
            continue
        m = SOURCE_RE.match(value)
        if not m:
            continue  # the schema reports the form
        name, first, last = m.group(1), int(m.group(2)), int(m.group(3) or m.group(2))
        total = seeds.lines(name)
        if total is None:
            hint = did_you_mean(name, seeds.names) or f"les textes sources sont dans {seeds.folder}"
            out.append(diag_at(doc, pos, f"{path} : aucun texte source nommé « {name} »", width=width, hint=hint,
                               code="source.file", path=path))
            continue
        line_pos = container.origin(key).locate(value, len(name) + 1)
        at = type(pos)(pos.file, line_pos[0], line_pos[1]) if line_pos[0] == pos.line else pos
        num_width = len(value) - len(name) - 1
        if first < 1:
            out.append(diag_at(doc, at, f"{path} : les lignes sont numérotées à partir de 1, trouvé : {first}", width=num_width,
                               code="source.line", path=path))
        elif last < first:
            out.append(diag_at(doc, at, f"{path} : l'intervalle de lignes {first}-{last} est à l'envers", width=num_width,
                               hint=f"écrivez {name}:{last}-{first}", code="source.line", path=path))
        elif last > total:
            out.append(diag_at(doc, at, f"{path} : la ligne {last} est au-delà de la fin de {name} ({fr_plural(total, 'ligne', 'lignes')})",
                               width=num_width, code="source.line", path=path))
    return out


# --------------------------------------------------------------------------------------------- checking

def _compiler() -> Callable[[Any], Any] | None:
    try:
        from engine.spec.compile import compile_spec
    except ModuleNotFoundError as e:  # a stage not written yet: skip expression checks, say so in the summary
        if (e.name or "").startswith("engine"):
            return None
        raise
    return compile_spec


def _internal(file: str, stage: str, e: Exception) -> Diagnostic:
    if os.environ.get("ENGINE_DEBUG"):
        raise e
    return Diagnostic(f"erreur interne du moteur pendant {stage} ce fichier ({type(e).__name__}: {e}) ; ce n'est "
                      "pas une erreur de la spec : signalez-la (ENGINE_DEBUG=1 affiche la trace)", file=file,
                      code="internal")


def check_paths(paths: list[str], seeds: "Path | str | None" = "auto") -> CheckResult:
    """Check the spec files named by ``paths`` (files or folders); collect every diagnostic of every file.

    ``seeds``: the folder of source texts the ``source:`` citations are checked against (default: :func:`seeds_dir`;
    None: not checked)."""
    from engine.spec.loader import load_document
    from engine.spec.schema import validate

    files, diags = find_files(paths)
    cache: dict = {}
    docs: dict[str, Any] = {}  # realpath -> Document, every document loaded (imports included)
    checked: list[str] = []
    loaded = []
    for f in files:
        try:
            doc = load_document(f, cache=cache)
        except SpecError as e:
            diags.extend(e.diagnostics)
            checked.append(f)
            continue
        except Exception as e:  # an engine bug: report it against the file, check the others
            diags.append(_internal(f, "le chargement de", e))
            checked.append(f)
            continue
        loaded.append(doc)
        for d in doc.all_documents():
            docs.setdefault(os.path.realpath(d.path), d)
    for key, e in cache.items():  # imported files that failed to load count as checked
        if isinstance(e, SpecError) and key not in {os.path.realpath(c) for c in checked}:
            checked.append(next((d.file for d in e.diagnostics if d.file), key))
    schema_errors: dict[str, bool] = {}
    if seeds == "auto":
        folder, unchecked = locate_seeds()
        if unchecked is not None and files:
            diags.append(unchecked)  # once for the whole run, not once per file
        seeds = _Seeds(folder)
    else:
        seeds = _Seeds(Path(seeds) if seeds is not None else None)
    seen_sources: set = set()
    for key, doc in sorted(docs.items(), key=lambda kv: kv[1].kind != "vocabulary"):  # vocabularies first
        try:
            found = validate(doc)
        except Exception as e:  # an engine bug
            found = [_internal(doc.path, "la validation de", e)]
        schema_errors[key] = any(d.severity == "error" for d in found)
        diags.extend(found)
        diags.extend(check_sources(doc, seeds, seen_sources))
        checked.append(doc.path)
    compile_spec = _compiler()
    compiled = compile_spec is not None
    from engine.spec.cache import cache_enabled, cached_spec, store_spec

    use_cache = cache_enabled()
    specs: dict[str, object] = {}
    for doc in loaded:
        if doc.kind != "spec" or compile_spec is None:
            continue
        if any(schema_errors.get(os.path.realpath(d.path)) for d in doc.all_documents()):
            continue
        try:
            hit = cached_spec(doc.path) if use_cache else None  # compiled before, unchanged: no error to find
            specs[doc.path] = hit if hit is not None else compile_spec(doc)
            if hit is None and use_cache:
                store_spec(doc.path, specs[doc.path])
        except SpecError as e:
            diags.extend(e.diagnostics)
        except ImportError as e:  # a later stage (expression compiler...) is not there yet: say so, not a crash
            if not ((e.name or "").startswith("engine") or "engine." in str(e)):
                raise
            compiled = False
        except Exception as e:  # an engine bug: report it against the file rather than stop the whole check
            diags.append(_internal(doc.path, "la compilation de", e))
    unique: dict[tuple, Diagnostic] = {}
    for d in diags:
        unique.setdefault((d.file, d.line, d.col, d.message, d.severity), d)
    ordered = sorted(unique.values(), key=Diagnostic.sort_key)
    names = sorted(set(checked), key=lambda s: (s not in files, s))
    return CheckResult(files=names, diagnostics=ordered, specs=specs, compiled=compiled)


__all__ = ["CheckResult", "check_paths", "check_sources", "find_files", "locate_seeds", "seeds_dir"]
