"""Types of the expression language and the type checker.

Types: BOOLEAN, NUMBER (exact decimal), INTEGER (a whole NUMBER), STRING, DATE, DURATION, ANY (static type not
known: checked at run time), ``EnumType(values)``, ``ListType(item)``, ``RecordType(fields)``. All are hashable.

The checker walks the AST once, collects **all** the errors of an expression (an erroneous sub-expression gets the
type ANY so that it does not cause a cascade), and returns :class:`Annotations`: the type of every node and what
every name refers to (an attribute/parameter read from ``env``, ``today``, a field of the current item of a
``where`` filter, or a named definition, checked and inlined in the scope where it is used, so that
``participants where jeune`` evaluates ``jeune`` on each participant).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from types import MappingProxyType

from engine.expr import nodes as N
from engine.errors import Diagnostic, ExpressionError, TextOrigin, did_you_mean


class Type:
    __slots__ = ()

    def describe(self) -> str:
        raise NotImplementedError


@dataclass(frozen=True)
class SimpleType(Type):
    name: str

    def describe(self) -> str:
        return _SIMPLE_WORDS[self.name]

    def __repr__(self):
        return self.name.upper()


_SIMPLE_WORDS = {"boolean": "une valeur oui/non", "number": "un nombre", "integer": "un nombre entier",
                 "string": "un texte", "date": "une date", "duration": "une durée", "any": "une valeur"}
_PLURAL = {"boolean": "valeurs oui/non", "number": "nombres", "integer": "nombres entiers", "string": "textes",
           "date": "dates", "duration": "durées", "any": "valeurs"}

BOOLEAN = SimpleType("boolean")
NUMBER = SimpleType("number")
INTEGER = SimpleType("integer")
STRING = SimpleType("string")
DATE = SimpleType("date")
DURATION = SimpleType("duration")
ANY = SimpleType("any")


@dataclass(frozen=True, eq=False)
class EnumType(Type):
    values: tuple[str, ...]

    def __eq__(self, other):
        return isinstance(other, EnumType) and other.values == self.values

    def __hash__(self):  # cached: scopes are hashed to cache compilations
        h = self.__dict__.get("_hash")
        if h is None:
            h = hash(("enum", self.values))
            object.__setattr__(self, "_hash", h)
        return h

    def describe(self) -> str:
        shown = ", ".join(f'"{v}"' for v in self.values[:6]) + (", ..." if len(self.values) > 6 else "")
        return f"un texte (parmi {shown})"


@dataclass(frozen=True)
class ListType(Type):
    item: Type

    def describe(self) -> str:
        it = self.item
        if isinstance(it, SimpleType):
            return "une liste de " + _PLURAL[it.name]
        if isinstance(it, RecordType):
            return "une liste d'objets"
        return "une liste"


class RecordType(Type):
    """A record (an event, a history entry, a participant...): ``fields`` maps names to types."""

    __slots__ = ("_items", "_fields", "_hash")

    def __init__(self, fields):
        items = tuple(sorted(dict(fields).items()))
        object.__setattr__(self, "_items", items)
        object.__setattr__(self, "_fields", MappingProxyType(dict(items)))
        object.__setattr__(self, "_hash", hash(("record", items)))

    @property
    def fields(self):
        return self._fields

    def __eq__(self, other):
        return isinstance(other, RecordType) and other._items == self._items

    def __hash__(self):
        return self._hash

    def __setattr__(self, k, v):
        raise AttributeError("RecordType is immutable")

    def __repr__(self):
        return f"RecordType({dict(self._items)!r})"

    def describe(self) -> str:
        return "un objet"


def is_numeric(t: Type) -> bool:
    return t is NUMBER or t is INTEGER or t == NUMBER or t == INTEGER


def is_text(t: Type) -> bool:
    return t == STRING or isinstance(t, EnumType)


def type_from_decl(decl: dict) -> Type:
    """``{"type": "enum", "values": [...]}``, ``{"type": "list", "items": {...}}``, ``{"type": "record",
    "fields": {...}}`` or a simple type name -> Type."""
    t = decl.get("type") if isinstance(decl, dict) else decl
    simple = {"boolean": BOOLEAN, "number": NUMBER, "integer": INTEGER, "string": STRING, "date": DATE,
              "duration": DURATION, "any": ANY}
    if t in simple:
        return simple[t]
    if t == "enum":
        return EnumType(tuple(str(v) for v in decl.get("values") or ()))
    if t == "list":
        return ListType(type_from_decl(decl.get("items") or {"type": "any"}))
    if t in ("record", "object"):
        return RecordType({k: type_from_decl(v) for k, v in (decl.get("fields") or {}).items()})
    raise ValueError(f"type inconnu « {t} »")


def unify(a: Type, b: Type) -> Type | None:
    """The common type of two values that may be compared or be the branches of an if; None if none."""
    if a == ANY or b == ANY:
        return b if a == ANY else a
    if a == b:
        return a
    if is_numeric(a) and is_numeric(b):
        return NUMBER
    if is_text(a) and is_text(b):
        if isinstance(a, EnumType) and isinstance(b, EnumType):
            return EnumType(tuple(dict.fromkeys(a.values + b.values)))
        return STRING
    if isinstance(a, ListType) and isinstance(b, ListType):
        it = unify(a.item, b.item)
        return ListType(it) if it is not None else None
    return None


@dataclass(frozen=True)
class Definition:
    """A named expression of a spec (``definitions:``)."""

    text: str
    origin: TextOrigin | None = None


@dataclass
class Scope:
    """What names an expression may use: attributes, parameters, locals (``names``) and named expressions."""

    names: dict[str, Type] = field(default_factory=dict)
    definitions: dict[str, Definition] = field(default_factory=dict)

    def child(self, **extra_names) -> "Scope":
        return Scope({**self.names, **extra_names}, self.definitions)


# --------------------------------------------------------------------------------------------- checker

FUNCTIONS = {  # canonical name -> (min args, max args); French aliases below
    "days_between": (2, 2), "months_between": (2, 2), "age": (2, 2), "round": (1, 2), "count": (1, 1),
    "sum": (1, 1), "avg": (1, 1), "min": (1, 64), "max": (1, 64), "any": (1, 1), "all": (1, 1),
    "known": (1, 1),
}
ALIASES = {"jours_entre": "days_between", "mois_entre": "months_between", "âge": "age", "arrondi": "round",
           "nombre": "count", "somme": "sum", "moyenne": "avg", "au_moins_un": "any", "tous": "all",
           "connu": "known"}
MAX_INLINED_NODES = 20_000  # nodes of all the definitions an expression uses, once inlined
MAX_TOTAL_DEPTH = 64  # nesting depth of an expression with its definitions inlined


@dataclass
class Annotations:
    """Result of checking one AST (definitions get their own, per use)."""

    types: dict[int, Type] = field(default_factory=dict)
    refs: dict[int, tuple] = field(default_factory=dict)  # id(Name) -> ("env", n) | ("today",) |
    #                           ("item", frame, field) | ("def", name, node, Annotations, text, origin)


class Checker:
    def __init__(self, scope: Scope, text: str, origin: TextOrigin | None, path: str | None = None):
        self.scope = scope
        self.text = text
        self.origin = origin or TextOrigin()
        self.main_origin = self.origin
        self.path = path
        self.diagnostics: list[Diagnostic] = []
        self.names_read: set[str] = set()
        self.frames: list[dict[str, Type] | None] = []  # item fields of enclosing filters (None: unknown fields)
        self.def_stack: list[str] = []
        self.inlined = 0
        self.depth = 0
        self._seen: set[tuple] = set()
        self._def_cache: dict[str, object] = {}

    # -- errors
    def error(self, node_or_span, message: str, hint: str | None = None, code: str = "expr.type",
              text: str | None = None, origin: TextOrigin | None = None) -> Type:
        span = node_or_span.span if isinstance(node_or_span, N.Node) else node_or_span
        text = self.text if text is None else text
        origin = origin or self.origin
        key = (origin, text, span, message)
        if key not in self._seen:
            self._seen.add(key)
            path = self.path if origin is self.main_origin else None  # an error inside a definition
            self.diagnostics.append(origin.diagnostic(text, span[0], message, width=max(1, span[1] - span[0]),
                                                      hint=hint, code=code, path=path))
        return ANY

    def check(self, node: N.Node, ann: Annotations) -> Type:
        self.depth += 1
        try:
            if self.depth > MAX_TOTAL_DEPTH:
                t = self.error(node, f"expression trop imbriquée une fois ses définitions remplacées (plus de "
                               f"{MAX_TOTAL_DEPTH} niveaux)", hint="simplifiez les définitions qu'elle utilise",
                               code="expr.limit.depth")
            else:
                t = self._check(node, ann)
        finally:
            self.depth -= 1
        ann.types[id(node)] = t
        return t

    def _want_bool(self, node, ann, what="une valeur oui/non"):
        t = self.check(node, ann)
        if t != BOOLEAN and t != ANY:
            hint = None
            if isinstance(node, N.String) and node.value.lower() in ("true", "false", "vrai", "faux"):
                hint = "les valeurs oui/non s'écrivent true/false (vrai/faux), sans guillemets"
            elif is_numeric(t):
                hint = "comparez-la à quelque chose, par exemple ... >= 2"
            self.error(node, f"il faut {what}, pas {t.describe()}", hint=hint, code="expr.type.boolean")
        return t

    def _check(self, node: N.Node, ann: Annotations) -> Type:  # noqa: C901 - one case per node kind
        if isinstance(node, N.Number):
            return INTEGER if isinstance(node.value, int) else NUMBER
        if isinstance(node, N.String):
            return STRING
        if isinstance(node, N.Boolean):
            return BOOLEAN
        if isinstance(node, N.DateLit):
            return DATE
        if isinstance(node, N.DurationLit):
            return DURATION
        if isinstance(node, N.Name):
            return self._name(node, ann)
        if isinstance(node, N.ListLit):
            t: Type = ANY
            for item in node.items:
                it = self.check(item, ann)
                u = unify(t, it)
                if u is None:
                    self.error(item, f"une liste contient des valeurs d'un seul type : {it.describe()} après "
                               f"{t.describe()}", code="expr.type.list")
                else:
                    t = u
            return ListType(t)
        if isinstance(node, N.Not):
            self._want_bool(node.operand, ann)
            return BOOLEAN
        if isinstance(node, N.BoolOp):
            for op in node.operands:
                self._want_bool(op, ann)
            return BOOLEAN
        if isinstance(node, N.Neg):
            t = self.check(node.operand, ann)
            if not (is_numeric(t) or t == DURATION or t == ANY):
                return self.error(node, f"impossible de prendre l'opposé {_de(t.describe())}")
            return t
        if isinstance(node, N.Arith):
            return self._arith(node, ann)
        if isinstance(node, N.Compare):
            return self._compare(node, ann)
        if isinstance(node, N.If):
            self._want_bool(node.cond, ann, "une condition oui/non après if/si")
            a, b = self.check(node.then, ann), self.check(node.else_, ann)
            u = unify(a, b)
            if u is None:
                return self.error(node, f"les deux branches de if donnent des valeurs de types différents : {a.describe()} "
                                  f"et {b.describe()}", code="expr.type.if")
            return ANY if a == ANY or b == ANY else u  # an untyped branch may give anything: checked at run time
        if isinstance(node, N.Call):
            return self._call(node, ann)
        if isinstance(node, N.Filter):
            src = self.check(node.source, ann)
            if src == ANY or src == ListType(ANY):
                frame = None
            elif isinstance(src, ListType) and isinstance(src.item, RecordType):
                frame = dict(src.item.fields)
            else:
                self.error(node.source, f"« where » filtre une liste d'objets (events, history, participants...), "
                           f"pas {src.describe()}", code="expr.type.filter")
                frame = None
            self.frames.append(frame)
            try:
                self._want_bool(node.predicate, ann, "une condition oui/non après where")
            finally:
                self.frames.pop()
            return src if isinstance(src, ListType) else ListType(ANY)
        if isinstance(node, N.Field):
            t = self.check(node.target, ann)
            if t == ANY:
                return ANY
            rec, wrap = (t.item, True) if isinstance(t, ListType) else (t, False)
            if rec == ANY:
                return ListType(ANY) if wrap else ANY
            if not isinstance(rec, RecordType):
                return self.error(node.name_span, f"impossible de prendre le champ « {node.name} » {_de(t.describe())}",
                                  code="expr.type.field")
            ft = rec.fields.get(node.name)
            if ft is None:
                return self.error(node.name_span, f"champ inconnu « {node.name} »",
                                  hint=did_you_mean(node.name, rec.fields) or
                                  ("champs : " + ", ".join(sorted(rec.fields)) if rec.fields else None),
                                  code="expr.unknown_field")
            return ListType(ft) if wrap else ft
        raise AssertionError(type(node))

    # -- names and definitions
    def _name(self, node: N.Name, ann: Annotations) -> Type:
        name = node.name
        for i in range(len(self.frames) - 1, -1, -1):
            frame = self.frames[i]
            if frame is not None and name in frame:
                ann.refs[id(node)] = ("item", i, name)
                return frame[name]
        if name == "today" and name not in self.scope.definitions:
            ann.refs[id(node)] = ("today",)
            self.names_read.add("today")
            return DATE
        if name in self.scope.names:
            ann.refs[id(node)] = ("env", name)
            self.names_read.add(name)
            return self.scope.names[name]
        if name in self.scope.definitions:
            return self._definition(node, ann)
        for i in range(len(self.frames) - 1, -1, -1):
            if self.frames[i] is None:  # item of unknown shape: assume it is one of its fields
                ann.refs[id(node)] = ("item", i, name)
                return ANY
        candidates = set(self.scope.names) | set(self.scope.definitions) | {"today"}
        for frame in self.frames:
            candidates |= set(frame or ())
        hint = suggest(name, candidates)
        if name.lower() in ALIASES or name in FUNCTIONS:
            hint = f"{name} est une fonction : écrivez {name}(...)"
        return self.error(node, f"nom inconnu « {name} »", hint=hint, code="expr.unknown_name")

    def _definition(self, node: N.Name, ann: Annotations) -> Type:
        from engine.expr.parser import parse

        name = node.name
        d = self.scope.definitions[name]
        if name in self.def_stack:
            cycle = " -> ".join(self.def_stack[self.def_stack.index(name):] + [name])
            return self.error(node, f"la définition « {name} » se cite elle-même ({cycle})", code="expr.cycle")
        origin = d.origin or TextOrigin(file=f"<definition {name}>")
        try:
            tree = parse(d.text, origin)
        except ExpressionError as e:
            for diag in e.diagnostics:
                key = ("def", name, diag.message, diag.line, diag.col)
                if key not in self._seen:
                    self._seen.add(key)
                    self.diagnostics.append(diag)
            return ANY
        self.inlined += sum(1 for _ in N.walk(tree))
        if self.inlined > MAX_INLINED_NODES:
            return self.error(node, "les définitions remplacées donnent une expression trop grande", code="expr.limit.nodes")
        sub = Annotations()
        saved = (self.text, self.origin)
        self.text, self.origin = d.text, origin
        self.def_stack.append(name)
        try:
            t = self.check(tree, sub)
        finally:
            self.def_stack.pop()
            self.text, self.origin = saved
        ann.refs[id(node)] = ("def", name, tree, sub, d.text, origin)
        return t

    # -- operators
    def _arith(self, node: N.Arith, ann: Annotations) -> Type:
        types = [self.check(op, ann) for op in node.operands]
        t = types[0]
        for op, span, rt, rnode in zip(node.ops, node.op_spans, types[1:], node.operands[1:]):
            res = arith_type(op, t, rt)
            if res is None:
                hint = None
                if op in "+-" and (t == DATE and is_numeric(rt) or is_numeric(t) and rt == DATE):
                    hint = "écrivez une durée avec son unité, par exemple « 15 jours » ou « 6 mois »"
                elif op == "-" and t == DURATION and rt == DATE:
                    hint = "écrivez la date d'abord : date - durée"
                elif op in "+-" and (t == DURATION and is_numeric(rt) or is_numeric(t) and rt == DURATION):
                    hint = "donnez son unité au nombre, par exemple « 15 jours »"
                elif t == BOOLEAN or rt == BOOLEAN:
                    hint = "combinez des valeurs oui/non avec and/or"
                t = self.error(span, "impossible " + _arith_words(op, t.describe(), rt.describe()), hint=hint,
                               code="expr.type.arith")
            else:
                t = res
        return t

    def _compare(self, node: N.Compare, ann: Annotations) -> Type:
        lt, rt = self.check(node.left, ann), self.check(node.right, ann)
        op = node.op
        if op in ("in", "not_in"):
            if rt == ANY:
                return BOOLEAN
            if not isinstance(rt, ListType):
                self.error(node.right, f"« in » attend une liste à sa droite, pas {rt.describe()}",
                           hint='par exemple territoire in ["arrageois", "artois"]', code="expr.type.in")
                return BOOLEAN
            if unify(lt, rt.item) is None:
                self.error(node.op_span, f"impossible de chercher {lt.describe()} dans {rt.describe()}", code="expr.type.in")
                return BOOLEAN
            if isinstance(lt, EnumType) and isinstance(node.right, N.ListLit):
                for item in node.right.items:
                    self._enum_literal(lt, item)
            return BOOLEAN
        if unify(lt, rt) is None:
            hint = None
            if {lt, rt} <= {DURATION, NUMBER, INTEGER} and DURATION in (lt, rt):
                hint = "écrivez l'unité (« 15 jours »), ou utilisez days_between(a, b) / months_between(a, b) pour un nombre"
            elif BOOLEAN in (lt, rt) and (is_text(lt) or is_text(rt)):
                hint = "les valeurs oui/non s'écrivent true/false (vrai/faux), sans guillemets"
            elif DATE in (lt, rt) and (is_text(lt) or is_text(rt)):
                hint = "les dates s'écrivent sans guillemets : 2026-01-12"
            return self.error(node.op_span, f"impossible de comparer {lt.describe()} et {rt.describe()}", hint=hint,
                              code="expr.type.compare")
        if lt == DURATION and rt == DURATION:
            ul, ur = _duration_unit(node.left, ann), _duration_unit(node.right, ann)
            if ul and ur and ul != ur:
                return self.error(node.op_span, f"impossible de comparer une durée en {_UNIT_WORDS[ul]} et une durée en "
                                  f"{_UNIT_WORDS[ur]} : un mois n'a pas de nombre de jours fixe",
                                  hint="comparez des dates (par exemple today <= debut + 6 mois), ou des nombres avec "
                                  "days_between(a, b) ou months_between(a, b)",
                                  code="expr.type.duration_units")
        if op not in ("==", "!="):
            u = unify(lt, rt)
            if not (is_numeric(u) or u in (DATE, DURATION, ANY)):
                return self.error(node.op_span, f"impossible de classer {lt.describe()} et {rt.describe()} avec {op}",
                                  hint="seuls les nombres, les dates et les durées se classent ; utilisez == ou != ici",
                                  code="expr.type.compare")
        if isinstance(lt, EnumType):
            self._enum_literal(lt, node.right)
        if isinstance(rt, EnumType):
            self._enum_literal(rt, node.left)
        return BOOLEAN

    def _enum_literal(self, et: EnumType, node: N.Node) -> None:
        if isinstance(node, N.String) and node.value not in et.values:
            hint = suggest(node.value, et.values) or "valeurs admises : " + ", ".join(et.values[:20])
            self.error(node, f"« {node.value} » n'est pas une des valeurs admises", hint=hint, code="expr.enum")

    # -- functions
    def _call(self, node: N.Call, ann: Annotations) -> Type:
        fname = ALIASES.get(node.func, node.func)
        arg_types = [self.check(a, ann) for a in node.args]
        if fname not in FUNCTIONS:
            hint = did_you_mean(node.func, list(FUNCTIONS) + list(ALIASES))
            return self.error(node.func_span, f"fonction inconnue « {node.func} »", hint=hint or
                              "fonctions : " + ", ".join(FUNCTIONS), code="expr.unknown_function")
        lo, hi = FUNCTIONS[fname]
        n = len(arg_types)
        if not lo <= n <= hi:
            want = str(lo) if lo == hi else f"{lo} ou {hi}" if hi - lo == 1 else f"au moins {lo}"
            plural = "" if want in ("1", "au moins 1") else "s"
            return self.error(node, f"{node.func} attend {want} argument{plural}, pas {n}",
                              hint=_USAGE.get(fname), code="expr.arity")
        if fname == "known":  # known(x): whether x has a value; never unknown itself
            return BOOLEAN
        if fname in ("days_between", "months_between", "age"):
            for a, t in zip(node.args, arg_types):
                if t != DATE and t != ANY:
                    self.error(a, f"{node.func} attend des dates, pas {t.describe()}", hint=_USAGE[fname],
                               code="expr.type.argument")
            return INTEGER
        if fname == "round":
            if not is_numeric(arg_types[0]) and arg_types[0] != ANY:
                self.error(node.args[0], f"round attend un nombre, pas {arg_types[0].describe()}",
                           code="expr.type.argument")
            if n == 2 and not is_numeric(arg_types[1]) and arg_types[1] != ANY:
                self.error(node.args[1], "le nombre de décimales doit être un nombre entier", code="expr.type.argument")
            return NUMBER
        if fname in ("min", "max") and n > 1:
            t: Type = ANY
            for a, at in zip(node.args, arg_types):
                u = unify(t, at)
                if u is None or not (is_numeric(u) or u in (DATE, DURATION, ANY)):
                    self.error(a, f"{fname} attend des nombres, des dates ou des durées d'un même type, pas {at.describe()}",
                               code="expr.type.argument")
                else:
                    t = u
            return t
        lt = arg_types[0]
        if lt == ANY:
            return INTEGER if fname == "count" else BOOLEAN if fname in ("any", "all") else ANY
        if not isinstance(lt, ListType):
            hint = f"par exemple {fname}(events where type == \"rdv\")" if fname == "count" else None
            return self.error(node.args[0], f"{node.func} attend une liste, pas {lt.describe()}", hint=hint,
                              code="expr.type.argument")
        it = lt.item
        if fname == "count":
            return INTEGER
        if fname in ("any", "all"):
            if it not in (BOOLEAN, ANY):
                self.error(node.args[0], f"{node.func} attend une liste de valeurs oui/non, pas {lt.describe()}",
                           hint="pour savoir si une liste filtrée est vide, écrivez count(...) > 0",
                           code="expr.type.argument")
            return BOOLEAN
        ok = is_numeric(it) or it == ANY or (it in (DATE, DURATION) and fname in ("min", "max")) or \
            (it == DURATION and fname == "sum")
        if not ok:
            want = "nombres" if fname in ("avg",) else "nombres ou de durées" if fname == "sum" else \
                "nombres, de dates ou de durées"
            return self.error(node.args[0], f"{node.func} attend une liste de {want}, pas {lt.describe()}",
                              code="expr.type.argument")
        if fname == "avg":
            return NUMBER
        if fname == "sum":
            return it if it in (INTEGER, DURATION) else NUMBER if it != ANY else ANY
        return it


_USAGE = {"days_between": "days_between(date_debut, date_fin) donne un nombre de jours",
          "months_between": "months_between(date_debut, date_fin) donne un nombre de mois entiers",
          "age": "age(date_naissance, today) donne des années entières",
          "round": "round(x, 2) arrondit au plus proche (demi vers le haut) à 2 décimales",
          "count": "count(events where type == \"rdv\")",
          "known": "known(exit_date) est vrai quand la date est renseignée, faux sinon (jamais indéterminé)"}
_UNIT_WORDS = {"days": "jours", "months": "mois"}


def _de(words: str) -> str:
    """« de » before a described type: "d'un nombre", "d'une date"."""
    return ("d'" + words) if words[:1] in "aeiouyéèêàh" else "de " + words


def _arith_words(op: str, a: str, b: str) -> str:
    """The calculation that cannot be made, in words: "d'additionner un texte et un nombre"."""
    if op == "+":
        return f"d'additionner {a} et {b}"
    if op == "-":
        return f"de soustraire {b} {_de(a)}"
    return f"de {'multiplier' if op == '*' else 'diviser'} {a} par {b}"


def _duration_unit(node: N.Node, ann: Annotations) -> str | None:
    """"days" or "months" when a duration expression's unit is known statically (literals, date - date)."""
    if isinstance(node, N.DurationLit):
        d = node.value
        return "months" if d.months and not d.days else "days" if d.days and not d.months else None
    if isinstance(node, N.Neg):
        return _duration_unit(node.operand, ann)
    if isinstance(node, N.Arith) and node.ops and node.ops[0] == "-" and len(node.operands) == 2 and \
            ann.types.get(id(node.operands[0])) == DATE and ann.types.get(id(node.operands[1])) == DATE:
        return "days"
    return None


def suggest(word: str, candidates) -> str | None:
    """did_you_mean, plus the candidates that start with or contain ``word`` ("lens" -> "lens-lievin")."""
    hint = did_you_mean(word, candidates)
    if hint or len(word) < 2:
        return hint
    low = word.lower()
    close = [c for c in candidates if c.lower().startswith(low)] or [c for c in candidates if low in c.lower()]
    if close and len(close) <= 3:
        return "vouliez-vous dire " + " ou ".join(f"« {c} »" for c in sorted(close)) + " ?"
    return None


def arith_type(op: str, a: Type, b: Type) -> Type | None:
    if a == ANY or b == ANY:
        if op == "/":
            return NUMBER
        other = b if a == ANY else a
        if op in "+-" and other == DATE:
            return ANY
        return ANY
    if is_numeric(a) and is_numeric(b):
        if op == "/":
            return NUMBER
        return INTEGER if a == INTEGER and b == INTEGER else NUMBER
    if op == "+":
        if (a, b) in ((DATE, DURATION), (DURATION, DATE)):
            return DATE
        if a == b == DURATION:
            return DURATION
    if op == "-":
        if (a, b) == (DATE, DURATION):
            return DATE
        if a == b == DATE or a == b == DURATION:
            return DURATION
    if op == "*" and ((a == DURATION and is_numeric(b)) or (is_numeric(a) and b == DURATION)):
        return DURATION
    return None


def describe(t: Type) -> str:
    return t.describe()
