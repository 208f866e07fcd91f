"""Safe YAML loading that keeps file, line and column on every node (the core of :mod:`engine.spec.loader`).

Built on PyYAML's low-level event parser with our own node builder (never ``yaml.load``/``safe_load``):

- mappings become :class:`YMap` (a ``dict``) and sequences :class:`YList` (a ``list``), each knowing the
  position of every key and value; ``origin(key)`` maps offsets inside a string value to file positions, so that
  an error inside an expression points into the file (plain, quoted, literal ``|`` and folded ``>`` scalars);
- scalars are plain Python values, YAML 1.2 core schema: ``null``/``~``/empty -> ``None``; only ``true``/``false``
  (``True``, ``TRUE``...) are booleans (``yes``, ``no``, ``on``, ``off``, ``y``, ``n`` stay strings); ``[-+]?[0-9]+``
  is an ``int`` in base 10 (``010`` is 10, never octal 8); decimal numbers become exact ``Decimal``s read from
  their text; ``1:30`` (sexagesimal) stays a string; dates stay strings (the schema checks them);
- rejected with a positioned :class:`SpecError` (every problem of the file, not only the first): duplicate keys,
  anchors and aliases (reported at the first anchor/alias event: nothing is ever expanded, so an alias bomb costs
  nothing), every explicit tag (``!!python/object``, ``!include``, ``!!binary``, ``!!set``, ``!!str``...), several
  documents, an empty file, a top level that is not a mapping, non-string keys, ``.nan``/``.inf``, numbers with
  more than :data:`MAX_DIGITS` digits, hexadecimal/octal numbers (``0x1F``, ``0o17``: write them in decimal),
  nesting deeper than :data:`MAX_DEPTH`, invalid UTF-8 and control characters, YAML syntax errors.
  A UTF-8 BOM and CRLF line endings change nothing.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml
from yaml import events as ev

from engine.errors import Diagnostic, SpecError, repr_value  # noqa: F401 (re-exported: the loader's messages use it)
from engine.spec.origin import _SOURCES, origin_of as _origin  # noqa: F401 (_SOURCES is shared with the loader)

MAX_DEPTH = 40  # nesting of mappings and lists
MAX_DIGITS = 30  # digits of a number
MAX_FILE_BYTES = 1_000_000  # the largest spec is ~60 KB
MAX_NODES = 100_000  # values, mappings and lists in one file
MAX_DIAGNOSTICS = 100  # per file; the rest are summarised


@dataclass(frozen=True)
class Pos:
    """A position in a file; line and column are 1-based."""

    file: str
    line: int
    col: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.col}"


class _Source:
    """A loaded file: its name, normalised text (no BOM, ``\\n`` line ends) and lines."""

    __slots__ = ("file", "text", "lines")

    def __init__(self, file: str, text: str):
        self.file = file
        self.text = text
        self.lines = tuple(text.split("\n"))


class _Info:
    """Where a node sits: its position, caret width, and what is needed to build a TextOrigin lazily.

    (A plain slotted class, not a dataclass: one is made per node, so it must be cheap.)
    """

    __slots__ = ("pos", "width", "src", "start", "end", "style")

    def __init__(self, pos: Pos, width: int = 1, src: "_Source | None" = None, start: int = 0, end: int = 0,
                 style: str | None = None):
        self.pos = pos
        self.width = width
        self.src = src
        self.start = start  # index of the node in src.text
        self.end = end
        self.style = style  # None plain scalar, "'", '"', "|", ">", "{" for collections


_NOWHERE = Pos("<unknown>", 1, 1)


class YMap(dict):
    """A mapping loaded from YAML; a plain ``dict`` that also knows where each key and value is."""

    pos: Pos

    def __init__(self, *args, pos: Pos | None = None, **kw):
        super().__init__(*args, **kw)
        self.pos = pos or _NOWHERE
        self._keys: dict[Any, _Info] = {}
        self._vals: dict[Any, _Info] = {}

    def _set(self, key: str, value: Any, kinfo: _Info, vinfo: _Info) -> None:
        self[key] = value
        self._keys[key] = kinfo
        self._vals[key] = vinfo

    def key_info(self, key) -> _Info:
        return self._keys.get(key) or _Info(self.pos)

    def value_info(self, key) -> _Info:
        return self._vals.get(key) or self.key_info(key)

    def key_pos(self, key) -> Pos:
        """Position of ``key`` (the map's own position when the key is absent)."""
        return self.key_info(key).pos

    def value_pos(self, key) -> Pos:
        """Position of the value of ``key`` (the key's position when unknown)."""
        return self.value_info(key).pos

    def value_width(self, key) -> int:
        return self.value_info(key).width

    def origin(self, key) -> TextOrigin:
        """A TextOrigin mapping character offsets of the (string) value of ``key`` to file positions."""
        return _origin(self.value_info(key), self.get(key))

    def copy(self) -> "YMap":
        new = YMap(self, pos=self.pos)
        new._keys = dict(self._keys)
        new._vals = dict(self._vals)
        return new


class YList(list):
    """A list loaded from YAML; a plain ``list`` that also knows where each item is."""

    pos: Pos

    def __init__(self, *args, pos: Pos | None = None):
        super().__init__(*args)
        self.pos = pos or _NOWHERE
        self._items: list[_Info] = []

    def _append(self, value: Any, info: _Info) -> None:
        self.append(value)
        self._items.append(info)

    def item_info(self, i: int) -> _Info:
        if -len(self._items) <= i < len(self._items):
            return self._items[i]
        return _Info(self.pos)

    def item_pos(self, i: int) -> Pos:
        return self.item_info(i).pos

    def item_width(self, i: int) -> int:
        return self.item_info(i).width

    def origin(self, i: int) -> TextOrigin:
        return _origin(self.item_info(i), self[i] if -len(self) <= i < len(self) else None)


# ------------------------------------------------------------------------------------------------ scalars

_INT = re.compile(r"[-+]?[0-9]+")
_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_HEX_OCT = re.compile(r"[-+]?0[xXoO][0-9a-fA-F_]+")
_SPECIAL = re.compile(r"[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)")
_NULLS = {"", "~", "null", "Null", "NULL"}
_TRUE = {"true", "True", "TRUE"}
_FALSE = {"false", "False", "FALSE"}


class _ScalarProblem(Exception):
    def __init__(self, message: str, code: str, hint: str | None = None):
        super().__init__(message)
        self.message, self.code, self.hint = message, code, hint


def resolve_plain(text: str) -> Any:
    """The value of a plain (unquoted) scalar under the YAML 1.2 core schema, as this engine reads it."""
    first = text[:1]
    if first.isalpha() and first not in "tTfFnN":  # fast path: ordinary words
        return text
    if text in _NULLS:
        return None
    if text in _TRUE:
        return True
    if text in _FALSE:
        return False
    if _INT.fullmatch(text):
        digits = text.lstrip("+-").lstrip("0")
        if len(digits) > MAX_DIGITS:
            raise _ScalarProblem(f"nombre trop grand : plus de {MAX_DIGITS} chiffres", "yaml.number_too_large",
                                 "écrivez un nombre plus petit, ou mettez-le entre guillemets si c'est un identifiant")
        return int(text)
    if _FLOAT.fullmatch(text):
        try:
            d = Decimal(text)
        except InvalidOperation:  # pragma: no cover - the pattern only admits valid decimals
            return text
        digits = d.as_tuple().digits
        if len(digits) > MAX_DIGITS or (d != 0 and not -MAX_DIGITS <= d.adjusted() < MAX_DIGITS):
            raise _ScalarProblem(f"nombre trop grand : plus de {MAX_DIGITS} chiffres", "yaml.number_too_large",
                                 "écrivez un nombre plus petit, ou mettez-le entre guillemets si c'est un identifiant")
        return d
    if _SPECIAL.fullmatch(text):
        what = "la valeur « pas un nombre » (.nan)" if "n" in text.lower().replace("inf", "") else "l'infini (.inf)"
        raise _ScalarProblem(f"{what} n'est pas admis", "yaml.nan", "écrivez un nombre fini")
    if _HEX_OCT.fullmatch(text):
        raise _ScalarProblem(f"les nombres hexadécimaux et octaux comme {text} ne sont pas admis",
                             "yaml.number_base", "écrivez le nombre en chiffres décimaux, ou mettez-le entre guillemets si c'est un texte")
    return text


# ------------------------------------------------------------------------------------------------ reading

# YAML's printable set minus NEL/LS/PS, which YAML counts as line breaks (positions would drift): refused too
_CONTROL = re.compile("[^\x09\x0A\x20-\x7E\xA0-\u2027\u202A-\uD7FF\uE000-\uFFFD\U00010000-\U0010FFFF]")


def _pos_of_index(file: str, text: str, index: int) -> Pos:
    line = text.count("\n", 0, index) + 1
    col = index - (text.rfind("\n", 0, index) + 1) + 1
    return Pos(file, line, col)


_SURROGATE = re.compile("[\udc80-\udcff]")
# what an escape of a double-quoted scalar may produce but the file may not hold (see _CONTROL): lone surrogates and
# control characters other than tab and line feed
_ESCAPED_BAD = re.compile("[\x00-\x08\x0B-\x1F\x7F-\x9F\ud800-\udfff]")


def _decode(file: str, data: bytes, diags: list[Diagnostic]) -> str:
    if data.startswith(b"\xef\xbb\xbf"):
        data = data[3:]
    text = data.decode("utf-8", errors="surrogateescape")
    if _SURROGATE.search(text):
        norm = text.replace("\r\n", "\n").replace("\r", "\n")
        lines = norm.split("\n")
        seen_lines: set[int] = set()
        for m in re.finditer("[\udc80-\udcff]", norm):
            pos = _pos_of_index(file, norm, m.start())
            if pos.line in seen_lines:
                continue
            seen_lines.add(pos.line)
            if len(seen_lines) > 10:
                break
            byte = ord(m.group()) - 0xDC00
            shown = "".join("\ufffd" if "\udc80" <= ch <= "\udcff" else ch for ch in lines[pos.line - 1])
            diags.append(Diagnostic(f"octet 0x{byte:02X} invalide : le fichier n'est pas en UTF-8 valide", file=file,
                                    line=pos.line, col=pos.col, source_line=shown, code="yaml.encoding",
                                    hint="enregistrez le fichier avec l'encodage UTF-8"))
        text = re.sub("[\udc80-\udcff]", "\ufffd", text)
    return text


def _read(path: str, text: str | bytes | None) -> bytes | str:
    """The bytes of ``path``, at most :data:`MAX_FILE_BYTES`: read, never trusted to ``stat`` (a character device,
    a FIFO or standard input has no size), and never more than the limit plus one byte."""
    if text is not None:
        return text
    from engine.files.inputs import InputTooLarge, read_bounded, size_text

    try:
        return read_bounded(path, MAX_FILE_BYTES)
    except InputTooLarge:
        raise SpecError(Diagnostic(f"fichier trop volumineux : plus de {MAX_FILE_BYTES} octets "
                                   f"({size_text(MAX_FILE_BYTES)}), la limite d'un fichier de spec", file=path,
                                   code="yaml.too_large",
                                   hint="une spec fait quelques dizaines de Ko : vérifiez le chemin du fichier "
                                        "(un périphérique comme /dev/zero n'est pas une spec)")) from None
    except IsADirectoryError:
        raise SpecError(Diagnostic("impossible de lire ce fichier : c'est un dossier", file=path, code="file.unreadable")) \
            from None
    except FileNotFoundError:
        raise SpecError(Diagnostic("impossible de lire ce fichier : il n'existe pas", file=path, code="file.missing")) \
            from None
    except OSError as e:
        raise SpecError(Diagnostic(f"impossible de lire ce fichier : {e.strerror or e}", file=path,
                                   code="file.unreadable")) from None


# ------------------------------------------------------------------------------------------------ building

_SYNTAX_HINTS = {
    "mapping values are not allowed here":
        ("« : » inattendu (un texte contenant « : » doit être entre guillemets, ou l'indentation est fausse)",
         'mettez le texte entre guillemets, par exemple label: "Délai : 15 jours", ou corrigez l\'indentation'),
    "could not find expected ':'":
        ("« clé: valeur » attendu ici (un « : » manque, ou la ligne est mal indentée)", None),
    "did not find expected key":
        ("cette ligne n'est pas alignée sur les clés au-dessus d'elle", "vérifiez l'indentation (des espaces, pas de tabulations)"),
    "found character '\\t' that cannot start any token":
        ("une tabulation ne peut pas servir à indenter", "indentez avec des espaces"),
    "found unexpected end of stream":
        ("le fichier se termine à l'intérieur d'un texte entre guillemets ou d'un crochet", "ajoutez le guillemet ou le crochet fermant qui manque"),
    "did not find expected '-' indicator":
        ("un élément de liste (« - ... ») était attendu ici", "vérifiez l'indentation de la liste"),
    "expected <block end>, but found '-'":
        ("un élément de liste (« - ... ») n'est pas aligné sur les lignes au-dessus de lui", "vérifiez l'indentation"),
}


class _Frame:
    __slots__ = ("node", "is_map", "key", "kinfo", "info")

    def __init__(self, node, is_map: bool, info: "_Info"):
        self.node, self.is_map, self.info = node, is_map, info
        self.key: Any = _NOKEY
        self.kinfo: _Info | None = None


_NOKEY = object()
_BADKEY = object()
_TOKEN = re.compile(r"\S+")


class _Builder:
    def __init__(self, src: _Source):
        self.src = src
        self.diags: list[Diagnostic] = []
        self.stack: list[_Frame] = []
        self.root: Any = _NOKEY
        self.root_info: _Info | None = None
        self.seen_anchor = self.seen_alias = False

    # -- helpers
    def pos(self, mark) -> Pos:
        return Pos(self.src.file, mark.line + 1, mark.column + 1)

    def info(self, event, style: str | None) -> _Info:
        s, e = event.start_mark, event.end_mark
        if e.line == s.line:
            width = e.column - s.column or 1
        else:
            line = self.src.lines[s.line] if s.line < len(self.src.lines) else ""
            width = max(1, len(line.rstrip()) - s.column)
        return _Info(Pos(self.src.file, s.line + 1, s.column + 1), width, self.src, s.index, e.index, style)

    def error(self, where: Pos | Any, message: str, code: str, hint: str | None = None, width: int = 1) -> None:
        pos = where if isinstance(where, Pos) else self.pos(where)
        src = self.src.lines[pos.line - 1] if 1 <= pos.line <= len(self.src.lines) else None
        self.diags.append(Diagnostic(message, file=self.src.file, line=pos.line, col=pos.col, source_line=src,
                                     width=width, hint=hint, code=code))

    def escaped_char(self, event, info: "_Info", value: str) -> None:
        """A double-quoted text whose escapes give a character the file itself may not hold: a lone surrogate
        (``"\\udc80"``, not Unicode text) or a control character other than tab and line feed (``"\\e[31m"``, a
        terminal escape sequence)."""
        ch = _ESCAPED_BAD.search(value).group()
        if "\ud800" <= ch <= "\udfff":
            what = (f"caractère U+{ord(ch):04X} invalide (demi-paire de substitution isolée) : ce n'est pas du "
                    "texte Unicode valide")
        else:
            what = f"caractère de contrôle U+{ord(ch):04X} interdit (invisible, ou commande d'un terminal)"
        self.error(event.start_mark, f"{what}, produit par un échappement « \\ » de ce texte entre guillemets",
                   "yaml.escape", "retirez l'échappement (\\u..., \\x..., \\e...) : seuls \\n, \\t et les "
                   "caractères imprimables sont admis", width=info.width)

    def token_at(self, mark) -> str:
        m = _TOKEN.match(self.src.text, mark.index)
        return m.group() if m else ""

    # -- events
    def check_node(self, event) -> None:
        anchor = getattr(event, "anchor", None)
        if anchor is not None and not isinstance(event, ev.AliasEvent) and not self.seen_anchor:
            self.seen_anchor = True
            self.error(event.start_mark, f"les ancres (&{anchor}) et les alias ne sont pas admis", "yaml.anchor",
                       "répétez la valeur, ou définissez-la une fois comme bloc partagé d'un vocabulaire et écrivez "
                       "{use: nom}", width=len(anchor) + 1)
        tag = getattr(event, "tag", None)
        if tag is not None:
            shown = self.token_at(event.start_mark) if anchor is None else tag
            if not shown.startswith("!"):
                shown = tag
            self.error(event.start_mark, f"les étiquettes YAML ne sont pas admises ({shown})", "yaml.tag",
                       "retirez l'étiquette : les valeurs sont du texte, des nombres, true/false, des listes et des tables",
                       width=len(shown))

    def attach(self, value: Any, info: _Info) -> None:
        if not self.stack:
            self.root, self.root_info = value, info
            return
        f = self.stack[-1]
        if not f.is_map:
            f.node._append(value, info)
            return
        if f.key is _NOKEY:  # this node is a key
            if isinstance(value, str):
                f.key, f.kinfo = value, info
            else:
                what = ("une table" if isinstance(value, dict) else "une liste" if isinstance(value, list)
                        else "vide" if value is None else "true/false" if isinstance(value, bool)
                        else f"le nombre {value}")
                self.error(info.pos, f"une clé doit être un texte, pas {what}", "yaml.key_type",
                           'écrivez la clé comme un nom, ou mettez-la entre guillemets (par exemple "2026": ...)',
                           width=info.width)
                f.key, f.kinfo = _BADKEY, info
            return
        key, kinfo = f.key, f.kinfo
        f.key, f.kinfo = _NOKEY, None
        if key is _BADKEY:
            return
        node: YMap = f.node
        if key in node:
            first = node.key_pos(key)
            self.error(kinfo.pos, f"clé « {key} » en double", "yaml.duplicate_key",
                       f"elle est déjà définie ligne {first.line} : n'en gardez qu'une", width=len(key) or 1)
            return
        node._set(key, value, kinfo, info)

    def run(self, loader) -> None:
        documents = nodes = 0
        scalar, alias = ev.ScalarEvent, ev.AliasEvent
        ends = (ev.MappingEndEvent, ev.SequenceEndEvent)
        starts = (ev.MappingStartEvent, ev.SequenceStartEvent)
        while True:
            event = loader.get_event()
            t = type(event)
            nodes += 1
            if nodes > MAX_NODES:
                self.error(event.start_mark, f"trop de valeurs dans un seul fichier (plus de {MAX_NODES})", "yaml.too_large",
                           "découpez le fichier")
                return
            if t is scalar:  # the most frequent event first
                if event.anchor is not None or event.tag is not None:
                    self.check_node(event)
                style = event.style or None  # libyaml says '' for plain scalars, PyYAML None
                info = self.info(event, style)
                value: Any = event.value
                if style == '"' and _ESCAPED_BAD.search(value):  # "\udc80", "\e[31m": escapes make any character
                    self.escaped_char(event, info, value)
                    value = _ESCAPED_BAD.sub("\ufffd", value)
                if style is None and event.tag is None:
                    try:
                        value = resolve_plain(value)
                    except _ScalarProblem as p:
                        self.error(event.start_mark, p.message, p.code, p.hint, width=info.width)
                        value = None
                self.attach(value, info)
            elif t in ends:
                f = self.stack.pop()
                self.attach(f.node, f.info)
            elif t in starts:
                if event.anchor is not None or event.tag is not None:
                    self.check_node(event)
                mark = event.start_mark
                info = _Info(Pos(self.src.file, mark.line + 1, mark.column + 1), 1, self.src, mark.index,
                             mark.index, "{")
                if len(self.stack) + 1 > MAX_DEPTH:
                    self.error(mark, f"imbrication trop profonde : plus de {MAX_DEPTH} niveaux de tables et de listes",
                               "yaml.depth", "aplatissez la structure")
                    return  # nothing below is usable; stop at once
                is_map = t is ev.MappingStartEvent
                node = YMap(pos=info.pos) if is_map else YList(pos=info.pos)
                self.stack.append(_Frame(node, is_map, info))
            elif t is alias:
                if not self.seen_alias:
                    self.seen_alias = True
                    self.error(event.start_mark, f"les alias (*{event.anchor}) ne sont pas admis", "yaml.alias",
                               "répétez la valeur, ou définissez-la une fois comme bloc partagé d'un vocabulaire et "
                               "écrivez {use: nom}", width=len(event.anchor) + 1)
                self.attach(None, self.info(event, None))
            elif t is ev.StreamEndEvent:
                return
            elif t is ev.DocumentStartEvent:
                documents += 1
                if documents > 1:
                    self.error(event.start_mark, "un fichier doit contenir exactement un document ; un second commence ici",
                               "yaml.multi_document", "supprimez la ligne « --- » et tout ce qui suit, ou coupez "
                               "le fichier en deux", width=3)
                    return
            if len(self.diags) >= MAX_DIAGNOSTICS:
                return


# the other problems PyYAML names, worded in French: (its English, as a pattern) -> (message, hint)
_MORE_PROBLEMS = (
    (r"found unknown escape character (.+)", "échappement inconnu {0} dans un texte entre guillemets doubles",
     "doublez la barre oblique inverse (\\\\), ou mettez le texte entre guillemets simples"),
    (r"expected alphabetic or numeric character, but found (.+)",
     "un nom d'ancre ou d'alias (après & ou *) est attendu ici, trouvé : {0}",
     "mettez la valeur entre guillemets si elle commence par & ou *"),
    (r"expected a comment or a line break, but found (.+)",
     "une fin de ligne (ou un commentaire) est attendue ici, trouvé : {0}",
     "mettez la valeur entre guillemets, ou passez à la ligne"),
    (r"found undefined alias (.+)", "alias {0} non défini", "les alias ne sont pas admis : répétez la valeur"),
    (r"expected (?:the node content|a node content), but found (.+)", "une valeur est attendue ici, trouvé : {0}",
     "vérifiez l'indentation et les crochets autour de cet endroit"),
    (r"found unexpected ':'", "« : » inattendu", "mettez le texte qui contient « : » entre guillemets"),
    (r"found a tab character (?:that violates|where an indentation space is expected).*",
     "une tabulation ne peut pas servir à indenter", "indentez avec des espaces"),
)


def _french_problem(problem: str) -> tuple[str, str | None]:
    """PyYAML's English description of a syntax problem, in French; one it does not know is quoted as the parser
    says it, marked as such (never shown as if it were ours)."""
    for pattern, message, hint in _MORE_PROBLEMS:
        m = re.fullmatch(pattern, problem)
        if m:
            return message.format(*m.groups()), hint
    return f"le fichier ne se lit pas à cet endroit (l'analyseur YAML dit : « {problem} »)", None


def _syntax_diag(src: _Source, e: yaml.MarkedYAMLError) -> Diagnostic:
    mark = e.problem_mark or e.context_mark
    problem = (e.problem or "YAML invalide").strip()
    friendly, hint = _SYNTAX_HINTS.get(problem, (None, None))
    if friendly is None:
        if problem.startswith("expected ',' or ']'"):
            friendly = "une liste entre [ ] n'est pas fermée, ou l'un de ses éléments contient « : »"
            hint = "fermez la liste par « ] », ou mettez l'élément entre guillemets"
        elif problem.startswith("expected ',' or '}'"):
            friendly = "une table entre { } n'est pas fermée, ou l'une de ses valeurs contient « : »"
            hint = "fermez la table par « } », ou mettez la valeur entre guillemets"
        elif problem.startswith("expected <block end>"):
            friendly = "cette ligne n'est pas alignée sur les lignes au-dessus d'elle (indentation fausse)"
            hint = "indentez-la comme les autres clés du même niveau (des espaces, pas de tabulations)"
        elif problem.startswith("found character") and "cannot start any token" in problem:
            m = re.match(r"found character (.+?) that cannot start any token", problem)
            friendly = (f"le caractère {m.group(1)} ne peut pas commencer une valeur ici" if m else problem)
            hint = "mettez la valeur entre guillemets"
        else:
            friendly, hint = _french_problem(problem)
    message = f"erreur de syntaxe YAML : {friendly}"
    if e.context and e.context_mark is not None and mark is not None and e.context_mark.line != mark.line:
        what = "la liste concernée commence" if "sequence" in e.context or "collection" in e.context else \
            "la table concernée commence" if "mapping" in e.context else \
            "le texte concerné commence" if "scalar" in e.context else "le bloc concerné commence"
        message += f" ; {what} ligne {e.context_mark.line + 1}"
    if mark is None:
        return Diagnostic(message, file=src.file, code="yaml.syntax", hint=hint)
    line, col = mark.line + 1, mark.column + 1
    srcline = src.lines[line - 1] if 1 <= line <= len(src.lines) else None
    if srcline is not None and col > len(srcline) + 1:
        col = len(srcline) + 1
    return Diagnostic(message, file=src.file, line=line, col=col, source_line=srcline, code="yaml.syntax",
                      hint=hint or "vérifiez l'indentation, les guillemets et les crochets autour de cet endroit")


def _flow_too_deep(text: str) -> int | None:
    """Index of the first '[' or '{' nested more than MAX_DEPTH deep (a cheap guard run before the parser)."""
    depth = 0
    for m in re.finditer(r"[\[\]{}]", text):
        if m.group() in "[{":
            depth += 1
            if depth > MAX_DEPTH:
                return m.start()
        elif depth:
            depth -= 1
    return None


def _line_of(src, line: int) -> str | None:
    """The text of ``line`` (1-based), or None past the end (a document ``---`` whose empty value is on no line)."""
    return src.lines[line - 1] if 1 <= line <= len(src.lines) else None


def load_yaml(path: str | Path, text: str | bytes | None = None) -> YMap:
    """Load one YAML file safely; raise :class:`SpecError` with every problem found (positioned)."""
    return _load_yaml(str(path), text)[0]


def _load_yaml(file: str, text: str | bytes | None = None) -> tuple[YMap, _Source]:
    raw = _read(file, text)
    diags: list[Diagnostic] = []
    if isinstance(raw, bytes):
        raw = _decode(file, raw, diags)
    if raw.startswith("\ufeff"):
        raw = raw[1:]
    norm = raw.replace("\r\n", "\n").replace("\r", "\n")
    src = _Source(file, norm)
    _SOURCES[file] = src.lines
    bad = list(_CONTROL.finditer(norm))
    for m in bad[:10]:
        pos = _pos_of_index(file, norm, m.start())
        ch = m.group()
        what = "séparateur de ligne" if ch in "\x85\u2028\u2029" else "caractère de contrôle"
        diags.append(Diagnostic(f"{what} invisible U+{ord(ch):04X} interdit", file=file, line=pos.line,
                                col=pos.col, source_line=src.lines[pos.line - 1].replace(ch, " "),
                                code="yaml.control_char", hint="supprimez-le (retapez le texte autour)"))
    if bad:
        norm = _CONTROL.sub(" ", norm)
    if not norm.strip() or all(not ln.strip() or ln.lstrip().startswith("#") for ln in src.lines):
        diags.append(Diagnostic("le fichier est vide : une spec est une table de clés comme « id: ... »", file=file,
                                line=1, col=1, code="yaml.empty"))
        raise SpecError(diags)
    deep = _flow_too_deep(norm)
    if deep is not None:  # PyYAML's scanner is quadratic in the flow nesting: refuse before parsing
        pos = _pos_of_index(file, norm, deep)
        diags.append(Diagnostic(f"imbrication trop profonde : plus de {MAX_DEPTH} niveaux de tables et de listes", file=file,
                                line=pos.line, col=pos.col, source_line=src.lines[pos.line - 1], code="yaml.depth",
                                hint="aplatissez la structure"))
        raise SpecError(diags)
    # libyaml's parser (20x faster, same marks) when available; on a syntax error, parse again with PyYAML's own
    # parser, whose messages are more precise (they name the offending character).
    fast = getattr(yaml, "CSafeLoader", None)
    for loader_cls in ([fast] if fast is not None else []) + [yaml.SafeLoader]:
        builder = _Builder(src)
        loader = loader_cls(norm)
        failed = True
        try:
            builder.run(loader)
            failed = False
        except yaml.MarkedYAMLError as e:
            builder.diags.append(_syntax_diag(src, e))
        except yaml.YAMLError as e:  # reader errors (already prevented above), anything else
            builder.diags.append(Diagnostic(f"erreur YAML : {e}", file=file, code="yaml.syntax"))
        finally:
            loader.dispose()
        if not failed:
            break
    diags.extend(builder.diags)
    root = builder.root
    if root is not _NOKEY and not isinstance(root, YMap) and not any(d.code == "yaml.syntax" for d in diags):
        info = builder.root_info
        got = "rien" if root is None else "une liste" if isinstance(root, list) else f"la valeur {repr_value(root)}"
        diags.append(Diagnostic(f"le niveau supérieur doit être une table de clés comme « id: ... », trouvé : {got}",
                                file=file, line=info.pos.line, col=info.pos.col,
                                source_line=_line_of(src, info.pos.line), code="yaml.top_level"))
    if root is _NOKEY and not diags:  # no document at all (e.g. only a stray BOM)
        diags.append(Diagnostic("le fichier est vide : une spec est une table de clés comme « id: ... »", file=file,
                                line=1, col=1, code="yaml.empty"))
    if len(diags) > MAX_DIAGNOSTICS:
        more = len(diags) - MAX_DIAGNOSTICS
        diags = diags[:MAX_DIAGNOSTICS] + [Diagnostic(f"{more} autres problèmes non affichés", file=file,
                                                      code="yaml.too_many")]
    if diags:
        raise SpecError(diags)
    return root, src
