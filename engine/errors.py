"""The engine's own error types and the positioned diagnostics they carry.

Every error a user can cause (bad YAML, a schema violation, a wrong expression, a bad record, a bad command line)
is reported as an :class:`EngineError` holding one or more :class:`Diagnostic`. A diagnostic names the file, the
line and the column, shows the offending text with a caret under the fault, says what was expected and how to fix
it. No raw Lark, YAML, jsonschema or Python exception ever reaches the user.

Formatting (``Diagnostic.format``)::

    specs/mobilite.yaml:12:16: erreur : nom inconnu « rsaa »
       12 |     condition: rsaa and department == "62"
          |                ^^^^
      conseil : vouliez-vous dire « rsa » ?

The words of the format are French like the messages (``erreur``, ``avertissement``, ``conseil``, ``remarque``);
the JSON form keeps the stable English ``severity`` (``error``, ``warning``) and ``code``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any, Iterable, Sequence

from engine.escape import text_safe


#: the file name shown for a diagnostic about a command-line argument
COMMAND_LINE = "<ligne de commande>"
#: the file name shown for a diagnostic about standard input (or about no file)
STDIN = "<entrée>"

#: the word a diagnostic's severity is printed with (its JSON ``severity`` stays the English key)
SEVERITY_LABELS = {"error": "erreur", "warning": "avertissement"}


@dataclass(frozen=True)
class Diagnostic:
    """One positioned problem. Lines and columns are 1-based; ``width`` is the caret length."""

    message: str
    file: str | None = None
    line: int | None = None
    col: int | None = None
    source_line: str | None = None
    width: int = 1
    hint: str | None = None
    code: str = "error"
    path: str | None = None  # dotted path inside the spec, e.g. "phases.accueil.max_duration"
    severity: str = "error"  # "error" or "warning"
    # where it comes in its file (engine.spec.rootcause): 0 a root cause found among the others, 1 an ordinary
    # diagnostic, 2 a conclusion drawn from the whole phase graph, 3 a consequence of another diagnostic
    tier: int = 1
    consequence_of: str | None = None  # "file:line:col" of the diagnostic this one may follow from

    def location(self) -> str:
        parts = [self.file or STDIN]
        if self.line is not None:
            parts.append(str(self.line))
            if self.col is not None:
                parts.append(str(self.col))
        return ":".join(parts)

    def format(self) -> str:
        out = [f"{self.location()}: {SEVERITY_LABELS.get(self.severity, self.severity)} : {self.message}"]
        if self.source_line is not None and self.line is not None:
            text = self.source_line.rstrip("\r\n")
            if len(text) > 200:  # keep huge lines readable: show a window around the column
                start = max(0, (self.col or 1) - 80)
                text = ("..." if start else "") + text[start : start + 160] + "..."
                col = (self.col or 1) - start + (3 if start else 0)
            else:
                col = self.col or 1
            gutter = f"{self.line:>5} | "
            out.append(gutter + text.replace("\t", " "))
            if self.col is not None:
                width = max(1, min(self.width, max(1, len(text) - col + 1)))
                out.append(" " * (len(gutter) - 2) + "| " + " " * (col - 1) + "^" * width)
        if self.hint:
            out.append(f"  conseil : {self.hint}")
        if self.consequence_of:
            out.append(f"  remarque : sans doute une conséquence de l'erreur {self.consequence_of} ci-dessus")
        return text_safe("\n".join(out))

    def with_origin(self, file: str | None, line: int | None, col: int | None, source_line: str | None) -> "Diagnostic":
        return replace(self, file=file, line=line, col=col, source_line=source_line)

    def sort_key(self) -> tuple:
        """File, then tier (a root cause before the errors it explains, conclusions and consequences last), then
        line and column."""
        return (self.file or "", self.tier, self.line or 0, self.col or 0, self.message)

    def to_json(self) -> dict:
        d = {"code": self.code, "severity": self.severity, "message": self.message, "file": self.file,
             "line": self.line, "column": self.col}
        if self.path:
            d["path"] = self.path
        if self.hint:
            d["hint"] = self.hint
        if self.consequence_of:
            d["consequence_of"] = self.consequence_of
        return d


class EngineError(Exception):
    """Base of every error the engine reports to a user. Holds one or more diagnostics."""

    exit_code = 1

    def __init__(self, diagnostics: Diagnostic | str | Sequence[Diagnostic], **kw):
        if isinstance(diagnostics, str):
            diagnostics = [Diagnostic(diagnostics, **kw)]
        elif isinstance(diagnostics, Diagnostic):
            diagnostics = [diagnostics]
        self.diagnostics: list[Diagnostic] = list(diagnostics)
        super().__init__(self.format())

    @property
    def diagnostic(self) -> Diagnostic:
        return self.diagnostics[0]

    @property
    def code(self) -> str:
        return self.diagnostics[0].code if self.diagnostics else "error"

    def format(self) -> str:
        return "\n".join(d.format() for d in sorted(self.diagnostics, key=Diagnostic.sort_key))


class SpecError(EngineError):
    """A spec file is invalid: YAML, schema, imports, expressions, phase graph."""


class ExpressionError(EngineError):
    """An expression cannot be parsed or type-checked, or exceeds a limit."""


class EvaluationError(EngineError):
    """An expression failed while being evaluated (division by zero, cost limit...)."""


class RecordError(EngineError):
    """An input record (or a whole input file) cannot be read."""


class UsageError(EngineError):
    """The command line is wrong (exit code 2)."""

    exit_code = 2


def source_line_of(text: str, line: int) -> str | None:
    """Return line ``line`` (1-based) of ``text``, or None."""
    lines = text.splitlines()
    if 1 <= line <= len(lines):
        return lines[line - 1]
    return None


def did_you_mean(name: str, candidates: Iterable[str]) -> str | None:
    """A "vouliez-vous dire « x » ?" hint for an unknown name, or None when nothing is close."""
    import difflib

    match = difflib.get_close_matches(name, sorted(set(candidates)), n=3, cutoff=0.6)
    if not match:
        return None
    return "vouliez-vous dire " + " ou ".join(f"« {m} »" for m in match) + " ?"


def repr_value(value: Any, limit: int = 60) -> str:
    """A short, plain description of a loaded value (YAML or JSON) for messages: ``true``, ``"text"``, ``a list``."""
    if value is None:
        return "rien (null)"
    if value is True:
        return "true"
    if value is False:
        return "false"
    if isinstance(value, dict):
        return "une table"
    if isinstance(value, list):
        return "une liste"
    if isinstance(value, str):
        s = value if len(value) <= limit else value[: limit - 3] + "..."
        return '"' + s.replace("\n", "\\n").replace('"', '\\"') + '"'
    return str(value)


@dataclass
class DiagnosticBag:
    """Collects diagnostics so that `engine check` reports every error, not the first."""

    items: list[Diagnostic] = field(default_factory=list)

    def add(self, d: Diagnostic) -> None:
        self.items.append(d)

    def extend(self, ds: Iterable[Diagnostic]) -> None:
        self.items.extend(ds)

    def errors(self) -> list[Diagnostic]:
        return [d for d in self.items if d.severity == "error"]

    def __bool__(self) -> bool:
        return bool(self.errors())

    def raise_if_errors(self, cls: type[EngineError] = SpecError) -> None:
        if self.errors():
            raise cls(sorted(self.items, key=Diagnostic.sort_key))


@dataclass(frozen=True)
class TextOrigin:
    """Where a piece of text (an expression) sits in its file, to turn offsets into file positions.

    The default maps offset ``i`` of a one-line text to ``(line, col + i)``. The YAML loader builds origins for
    string scalars (quoted, plain, block) so that an error in an expression points into the spec file.
    ``segments`` lists, for multi-line scalars, ``(offset_in_text, line, col)`` for the start of each source line.
    """

    file: str | None = None
    line: int = 1
    col: int = 1
    lines: tuple[str, ...] | None = None  # the file's lines, for the snippet; None: use the text itself
    segments: tuple[tuple[int, int, int], ...] = ()

    def locate(self, text: str, offset: int) -> tuple[int, int, str | None]:
        """Return ``(line, col, source_line)`` of character ``offset`` of ``text``."""
        offset = max(0, min(offset, len(text)))
        if self.segments:
            seg = self.segments[0]
            for s in self.segments:
                if s[0] <= offset:
                    seg = s
                else:
                    break
            line, col = seg[1], seg[2] + (offset - seg[0])
        elif self.lines is None:
            # the text itself is the source: count newlines
            before = text[:offset]
            nl = before.count("\n")
            line = self.line + nl
            col = (offset - before.rfind("\n")) if nl else self.col + offset
        else:
            line, col = self.line, self.col + offset
        if self.lines is not None:
            src = self.lines[line - 1] if 1 <= line <= len(self.lines) else None
        else:
            text_lines = text.split("\n")
            idx = line - self.line
            src = text_lines[idx] if 0 <= idx < len(text_lines) else None
            if src is not None and idx == 0 and self.col > 1:
                src = " " * (self.col - 1) + src
        return line, col, src

    def diagnostic(self, text: str, offset: int, message: str, *, width: int = 1, hint: str | None = None,
                   code: str = "expr.error", path: str | None = None) -> Diagnostic:
        line, col, src = self.locate(text, offset)
        return Diagnostic(message, file=self.file, line=line, col=col, source_line=src, width=width, hint=hint,
                          code=code, path=path)
