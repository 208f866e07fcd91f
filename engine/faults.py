"""Internal errors: an engine bug met while evaluating one record (or one example) never stops the run.

The record gets an error line like any bad record, with the code ``internal_error`` (never used for bad data)::

    {"id": "B-1", "status": "error", "line": 3,
     "error": {"code": "internal_error", "message": "erreur interne du moteur (NameError: ...) pendant ...",
               "section": "eligibility", "rule": "age_ok", "at": "specs/x.yaml:40:18", "exception": "NameError",
               "debug": "ENGINE_DEBUG=1"}}

and the run goes on; at the end the command says on standard error how many records hit one and exits with
:data:`EXIT_INTERNAL` (3). ``section`` is the part of the evaluation that was running (``binding``,
``eligibility``, ``path``, ``deadlines``, ``obligations``, ``definitions``, ``cohort``...), ``rule`` the id of the rule,
deadline, obligation, transition or definition whose compiled expression was running (when one was), ``at`` where
that expression is written. With ``ENGINE_DEBUG=1`` in the environment (or ``engine --debug``), the Python traceback
of each internal error is printed on standard error.

Locating costs nothing while nothing fails: it reads the traceback once an exception is caught (the compiled
expressions' functions each have their own globals, which identify them; the engine's own frames name the stage).
"""

from __future__ import annotations

import os
import sys
from dataclasses import fields, is_dataclass
from pathlib import Path
from typing import Any, Mapping

CODE = "internal_error"
EXIT_INTERNAL = 3
DEBUG_HINT = "ENGINE_DEBUG=1"

# spec fields holding compiled expressions -> the section named in the error
_SPEC_SECTIONS = {"eligibility_beneficiary": "eligibility", "eligibility_operator": "operator_eligibility",
                  "phases": "path", "transitions": "path", "deadlines": "deadlines", "obligations": "obligations",
                  "definitions": "definitions"}
# the engine's functions and modules -> the stage they run (innermost first wins)
_FUNCTION_SECTIONS = {"eligibility": "eligibility", "check_path": "path", "next_steps": "path",
                      "check_deadlines": "deadlines", "check_obligations": "obligations",
                      "check_obligation": "obligations", "bind_typed": "binding", "bind_with_dates": "binding",
                      "bind_plain": "binding", "bind": "binding", "_accumulate": "cohort"}
_MODULE_SECTIONS = {"beneficiary/bind.py": "binding", "beneficiary/bind_typed.py": "binding",
                    "beneficiary/obligations.py": "obligations", "beneficiary/conformance.py": "path",
                    "spec/path.py": "path", "operation/indicators.py": "cohort", "operation/report.py": "cohort"}
_SKIP_FIELDS = {"pos", "field_pos", "source", "origin", "interpretation", "label", "explanation"}
_FIELD_NAMES = {"expr": "condition"}  # model field -> the spec key it is written under
_TABLES: dict[int, tuple[Any, dict]] = {}


def debug_enabled() -> bool:
    return os.environ.get("ENGINE_DEBUG", "") not in ("", "0")


def _expr_table(spec) -> dict:
    """id(globals of a compiled function) -> (section, rule, field, position) for every expression of ``spec``."""
    hit = _TABLES.get(id(spec))
    if hit is not None and hit[0] is spec:
        return hit[1]
    table: dict = {}
    seen: set = set()

    def visit(obj, section, rule, fname, depth):
        if obj is None or depth > 12 or isinstance(obj, (str, bytes, int, float)) or id(obj) in seen:
            return
        seen.add(id(obj))
        compiled = getattr(obj, "compiled", None)
        fn = getattr(compiled, "fn", None)
        if fn is not None and hasattr(obj, "text"):
            g = getattr(fn, "__globals__", None)
            if g is not None:
                pos = getattr(obj, "pos", None)
                where = None
                if pos is not None and getattr(pos, "file", None):
                    where = f"{pos.file}:{pos.line}:{pos.col}" if getattr(pos, "line", None) else str(pos.file)
                table.setdefault(id(g), (section, rule, _FIELD_NAMES.get(fname, fname), where))
            return
        if is_dataclass(obj) and not isinstance(obj, type):
            rid = getattr(obj, "id", None)
            rid = rid if isinstance(rid, str) else rule
            for f in fields(obj):
                if f.name not in _SKIP_FIELDS:
                    visit(getattr(obj, f.name, None), section, rid, f.name, depth + 1)
        elif isinstance(obj, Mapping):
            for k, v in obj.items():
                visit(v, section, str(k) if rule is None else rule, fname, depth + 1)
        elif isinstance(obj, (list, tuple)):
            for v in obj:
                visit(v, section, rule, fname, depth + 1)

    for name, section in _SPEC_SECTIONS.items():
        try:
            visit(getattr(spec, name, None), section, None, None, 0)
        except Exception:  # noqa: BLE001 - locating is best effort: it must never hide the error itself
            pass
    if len(_TABLES) > 32:
        _TABLES.clear()
    _TABLES[id(spec)] = (spec, table)
    return table


def locate(exc: BaseException, spec=None) -> dict:
    """``{"section", "rule", "field", "at"}`` of the code that raised ``exc`` (keys absent when unknown)."""
    frames = []
    tb = exc.__traceback__
    while tb is not None:
        frames.append(tb.tb_frame)
        tb = tb.tb_next
    table = _expr_table(spec) if spec is not None else {}
    found: dict = {}
    for fr in reversed(frames):  # innermost first
        if "rule" not in found and id(fr.f_globals) in table:
            section, rule, fname, where = table[id(fr.f_globals)]
            found.update(section=section, rule=rule, field=fname, at=where)
        if "stage" not in found and "/engine/" in fr.f_code.co_filename.replace(os.sep, "/"):
            stage = fr.f_locals.get("_stage") if "_stage" in fr.f_code.co_varnames else None
            if not isinstance(stage, str):
                stage = (_FUNCTION_SECTIONS.get(fr.f_code.co_name)
                         or _MODULE_SECTIONS.get("/".join(Path(fr.f_code.co_filename).parts[-2:])))
            if stage:
                found["stage"] = stage
    out = {}
    section = found.get("section") or found.get("stage")
    if section:
        out["section"] = section
    for k in ("rule", "field", "at"):
        if found.get(k):
            out[k] = found[k]
    return out


def describe(exc: BaseException, spec=None, *, doing: str = "l'évaluation", what: str | None = None,
             record: str | None = None) -> dict:
    """The ``error`` object of an internal error (see the module docstring); prints the traceback when
    ``ENGINE_DEBUG`` is set. Never raises."""
    try:
        where = locate(exc, spec)
    except Exception:  # noqa: BLE001
        where = {}
    part = what
    if part is None:
        rule, section = where.get("rule"), where.get("section")
        if rule and section:
            part = f"« {rule} » (section {section}{', ' + where['field'] if where.get('field') else ''})"
        elif section:
            part = f"la section {section}"
    text = str(exc).replace("\n", " ")
    text = text if len(text) <= 200 else text[:200] + "..."
    message = (f"erreur interne du moteur ({type(exc).__name__}: {text}) pendant {doing}"
               + (f" de {part}" if part else "")
               + (f" [{where['at']}]" if where.get("at") else "")
               + " ; ce n'est pas une erreur des données : signalez-la avec la commande lancée ; "
               "relancez avec ENGINE_DEBUG=1 (ou engine --debug) pour afficher la trace sur la sortie d'erreur")
    err = {"code": CODE, "message": message}
    err.update(where)
    err["exception"] = type(exc).__name__
    err["debug"] = DEBUG_HINT
    if debug_enabled():
        try:
            import traceback

            head = f"engine : erreur interne{' sur ' + record if record else ''} :\n"
            sys.stderr.write(head + "".join(traceback.format_exception(type(exc), exc, exc.__traceback__)))
            sys.stderr.flush()
        except Exception:  # noqa: BLE001
            pass
    return err


def is_internal(result: dict) -> bool:
    """Whether an output line is an internal error."""
    if result.get("status") != "error":
        return False
    err = result.get("error")
    return isinstance(err, dict) and err.get("code") == CODE


class Counter:
    """Counts the output lines that are internal errors while they stream past (whoever produced them)."""

    def __init__(self) -> None:
        self.total = 0
        self.internal = 0

    def watch(self, results):
        for r in results:
            self.total += 1
            if r.get("status") == "error" and is_internal(r):
                self.internal += 1
            yield r


def summary(command: str, internal: int, total: int | None = None, noun: str = "enregistrement",
            detail: str = "une ligne d'erreur chacun ; les autres résultats sont complets") -> str:
    """The French line printed on standard error at the end of a run with internal errors."""
    of = f" sur {total}" if total is not None else ""
    s = "s" if internal > 1 else ""
    return (f"engine {command} : {internal} {noun}{s}{of} {'ont' if internal > 1 else 'a'} rencontré une erreur "
            f"interne du moteur (code {CODE} : {detail}) ; c'est un défaut du moteur : signalez-le ; "
            f"ENGINE_DEBUG=1 (ou engine --debug) affiche les traces ; code de sortie {EXIT_INTERNAL}\n")


__all__ = ["CODE", "EXIT_INTERNAL", "Counter", "describe", "locate", "is_internal", "summary", "debug_enabled"]
