"""What every section compiler of a spec shares: the compilation context :class:`Ctx` (positions, diagnostics,
scopes, what is compiled so far), the plain-value helpers (``text_of``, ``quoted``, ``item_path``, ``plain``), the
caret width of a YAML value; the spec's duration literal is :mod:`engine.expr.durations`'s."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any, Mapping

from engine.errors import Diagnostic, DiagnosticBag, EngineError, TextOrigin
from engine.expr.durations import parse_duration  # noqa: F401 (the spec's duration literal: re-exported)
from engine.spec.model import Expr, Position, Source

# ---------------------------------------------------------------------------------------------- durations

MAX_DURATION_MONTHS = 1200  # 100 years: longer durations are typos (and would overflow date arithmetic)

def text_of(node: Any, key: str) -> str | None:
    """``node[key]`` as a text (labels, interpretations...), None when absent."""
    v = node.get(key) if isinstance(node, Mapping) else None
    return None if v is None else str(v)


def quoted(value: Any) -> str:
    """A value as shown in a message: texts in double quotes."""
    return f'"{value}"' if isinstance(value, str) else str(value)


def item_path(base: str, item: Any, i: int) -> str:
    """The path of a list item as the schema messages write it: by id when it has one, else 1-based
    (``deadlines[first_appointment]``, ``transitions[3]``)."""
    ident = item.get("id") if isinstance(item, Mapping) else None
    return f"{base}[{ident}]" if isinstance(ident, str) and ident else f"{base}[{i + 1}]"


def plain(value: Any) -> Any:
    """A loaded YAML value as plain Python (dict/list/str/Decimal/date/bool/None), without position wrappers."""
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    return value


# ---------------------------------------------------------------------------------------------- context

class Ctx:
    """The compilation context of one spec document: positions, diagnostics, scopes, and what is compiled so far
    (``fields``: the keyword arguments of :class:`Spec` being built)."""

    def __init__(self, doc):
        self.doc = doc
        self.data = doc.data
        self.file = str(getattr(doc, "path", None) or getattr(doc, "file", None) or "<spec>")
        self.bag = DiagnosticBag()
        self._lines: dict[str, list[str]] = {}
        lines = getattr(doc, "lines", None)
        if lines is not None:
            self._lines[self.file] = list(lines)
        self.fields: dict[str, Any] = {}
        self.scope = None

    # -- positions and diagnostics
    def line_of(self, file: str | None, line: int) -> str | None:
        if not file or not line:
            return None
        if file not in self._lines:
            lines_of = getattr(self.doc, "lines_of", None)
            known = lines_of(file) if lines_of else None
            if known is not None:
                self._lines[file] = list(known)
                return self.line_of(file, line)
            try:
                self._lines[file] = Path(file).read_text(encoding="utf-8-sig").splitlines()
            except (OSError, UnicodeDecodeError):
                self._lines[file] = []
        lines = self._lines[file]
        return lines[line - 1] if 1 <= line <= len(lines) else None

    def _file_of(self, node) -> str:
        f = getattr(getattr(node, "pos", None), "file", None)
        return str(f) if f else self.file

    def pos(self, node, key=None, *, of_key: bool = False) -> Position:
        """Position of ``node[key]`` (its value, or its key with ``of_key``), or of the node itself."""
        p = None
        try:
            if key is None:
                p = getattr(node, "pos", None) or getattr(node, "start", None)
            elif isinstance(key, int):
                p = node.item_pos(key)
            elif of_key:
                p = node.key_pos(key)
            else:
                p = node.value_pos(key)
        except (AttributeError, KeyError, IndexError, TypeError):
            p = None
        return self._to_pos(p, node)

    def _to_pos(self, p, node=None) -> Position:
        if p is None:
            return Position(self._file_of(node) if node is not None else self.file)
        if isinstance(p, Position):
            return p
        if isinstance(p, tuple):
            if len(p) == 2:
                return Position(self._file_of(node) if node is not None else self.file, p[0], p[1])
            if len(p) >= 3:
                return Position(str(p[0]), p[1], p[2])
        return Position(str(getattr(p, "file", None) or self._file_of(node)), getattr(p, "line", None),
                        getattr(p, "col", getattr(p, "column", None)))

    def error(self, pos: Position, message: str, code: str, hint: str | None = None, path: str | None = None,
              width: int | None = None) -> None:
        src = self.line_of(pos.file, pos.line) if pos.line else None
        self.bag.add(Diagnostic(message, file=pos.file, line=pos.line, col=pos.col, source_line=src,
                                width=width or token_width(src, pos.col), hint=hint, code=code, path=path))

    # -- shapes (the schema checks them first; these keep the compiler safe when it is called alone)
    def list_at(self, node, key: str, path: str) -> list:
        """``node[key]`` when it is a list; [] when absent (or wrong, with a diagnostic)."""
        v = node.get(key) if isinstance(node, Mapping) else None
        if v is None or isinstance(v, list):
            return v or []
        self.error(self.pos(node, key), f"{path} : il faut une liste, trouvé : {quoted(v)}", "spec.shape",
                   "écrivez une liste, un élément par ligne commençant par `- `", path)
        return []

    def map_at(self, node, key: str, path: str) -> Mapping:
        """``node[key]`` when it is a mapping; {} when absent (or wrong, with a diagnostic)."""
        v = node.get(key) if isinstance(node, Mapping) else None
        if v is None or isinstance(v, Mapping):
            return v or {}
        self.error(self.pos(node, key), f"{path} : il faut une table de clés, trouvé : {quoted(v)}", "spec.shape",
                   "écrivez des entrées `clé: valeur`, indentées sous cette clé", path)
        return {}

    # -- values
    def source(self, node, path: str) -> Source:
        text = node.get("source") if isinstance(node, Mapping) else None
        return Source(str(text) if text is not None else None, self.pos(node, "source" if text is not None else None))

    def duration(self, node, key: str, path: str):
        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        value = node.get(key)
        d = parse_duration(value)
        if d is not None and (d.months > MAX_DURATION_MONTHS or d.days > MAX_DURATION_MONTHS * 31):
            self.error(self.pos(node, key), f"{path}.{key} : {quoted(value)} est trop long (au plus "
                       f"{MAX_DURATION_MONTHS // 12} ans)", "spec.duration", "vérifiez le nombre", f"{path}.{key}")
            return None
        if d is None:
            self.error(self.pos(node, key), f"{path}.{key} : il faut une durée comme \"15 jours\", \"4 semaines\" ou "
                       f"\"6 mois\", trouvé : {quoted(value)}", "spec.duration",
                       "écrivez un nombre et une unité : jours, semaines, mois, ans (ou days, weeks, months, years)", f"{path}.{key}")
        return d

    def date(self, node, key: str, path: str) -> date | None:
        if not isinstance(node, Mapping) or node.get(key) is None:
            return None
        value = node.get(key)
        if isinstance(value, date):
            return value
        try:
            return date.fromisoformat(str(value))
        except ValueError:
            self.error(self.pos(node, key), f"{path}.{key} : il faut une date comme 2026-01-12, trouvé : {quoted(value)}",
                       "spec.date", "écrivez la date sous la forme AAAA-MM-JJ", f"{path}.{key}")
            return None

    def origin(self, node, key) -> TextOrigin:
        try:
            o = node.origin(key)
            if o is not None:
                return o
        except (AttributeError, KeyError, IndexError, TypeError):
            pass
        p = self.pos(node, key)
        return TextOrigin(file=p.file, line=p.line or 1, col=p.col or 1,
                          lines=tuple(self._lines.get(p.file or "", ())) or None)

    def expr(self, node, key, scope, expect, path: str) -> Expr | None:
        """Compile ``node[key]`` (a string, or a boolean/number literal) in ``scope``; None (and diagnostics) on
        error."""
        from engine.expr.compiler import compile_expression

        value = node[key]
        if isinstance(value, bool):
            text = "true" if value else "false"
        elif isinstance(value, (int, Decimal)):
            text = str(value)
        elif isinstance(value, str):
            text = value
        else:
            self.error(self.pos(node, key), f"{path} : il faut une expression (un texte), trouvé : {quoted(value)}",
                       "spec.expr", "écrivez la condition comme un texte, par exemple `rsa and department == \"62\"`", path)
            return None
        origin = self.origin(node, key)
        try:
            compiled = compile_expression(text, scope if scope is not None else self.scope, origin=origin,
                                          expect=expect, path=path)
        except EngineError as e:
            self.bag.extend(e.diagnostics)
            return None
        return Expr(text, compiled, origin, self.pos(node, key))


# ---------------------------------------------------------------------------------------------- diagnostics

def token_width(line: str | None, col: int | None) -> int:
    """How many columns the caret under a YAML value spans: a quoted text, a flow mapping, or a plain scalar."""
    if not line or not col:
        return 1
    rest = line[col - 1:]
    if rest[:1] in ("'", '"'):
        end = rest.find(rest[0], 1)
        return end + 1 if end > 0 else len(rest)
    if rest[:1] == "{":  # a flow mapping: up to its closing brace
        depth = 0
        for i, ch in enumerate(rest):
            depth += (ch == "{") - (ch == "}")
            if depth == 0:
                return i + 1
        return len(rest.rstrip())
    n = 0
    for ch in rest:
        if ch in ",}]#" or (ch == " " and rest[n + 1: n + 2] == "#") or (ch == ":" and rest[n + 1: n + 2] in (" ", "")):
            break
        n += 1
    return max(1, len(rest[:n].rstrip()))
