"""What every command shares on its command line: the parser that reports usage errors in our format and in
French, the subcommand constructor, and the arguments several commands take (``--at``, ``--param``, ``--jobs``,
``-o``, ``--format``/``--json``), defined once so that they read and behave the same everywhere."""

from __future__ import annotations

import argparse
import contextlib
import os
from datetime import date

from engine.errors import COMMAND_LINE, Diagnostic, UsageError


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"une date comme 2026-03-01 est attendue, pas « {text} »") from None


def jobs_arg(text: str) -> str:
    t = text.strip().lower()
    if t == "auto" or (t.isdigit() and int(t) >= 1):
        return t
    raise argparse.ArgumentTypeError(f"un nombre de processus (1, 2, ...) ou auto est attendu, pas « {text} »")


def param_arg(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"NOM=VALEUR est attendu, pas « {text} »")
    return name.strip(), value.strip()


# argparse's own messages (its gettext msgids) in French; a msgid not listed here (a newer Python) stays English
ARGPARSE_FR = {
    "usage: ": "utilisation : ",
    "positional arguments": "arguments",
    "options": "options",
    "optional arguments": "options",
    "show this help message and exit": "affiche cette aide et quitte",
    "show program's version number and exit": "affiche la version et quitte",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments inconnus : %s",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "expected one argument": "une valeur est attendue",
    "expected at most one argument": "au plus une valeur est attendue",
    "expected at least one argument": "au moins une valeur est attendue",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (choisissez parmi %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide (%(type)s) : %(value)r",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "ignored explicit argument %r": "valeur ignorée : %r (cette option n'en prend pas)",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue : %(parser_name)r (commandes : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unexpected option string: %s": "option inattendue : %s",
    "subcommands": "commandes",
}
_PLURALS_FR = {"expected %s argument": ("%s valeur est attendue", "%s valeurs sont attendues")}


def _fr(msgid: str) -> str:
    return ARGPARSE_FR.get(msgid, msgid)


def _nfr(singular: str, plural: str, n: int) -> str:
    fr = _PLURALS_FR.get(singular)
    if fr is None:
        return singular if n == 1 else plural
    return fr[0] if n == 1 else fr[1]


@contextlib.contextmanager
def _french():
    """argparse looks its messages up through its module's ``_`` and ``ngettext`` when it builds them: point
    those at the French table while our parser works (the command line is read in one thread, once)."""
    old = argparse._, argparse.ngettext
    argparse._, argparse.ngettext = _fr, _nfr
    try:
        yield
    finally:
        argparse._, argparse.ngettext = old


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """The help of a command, with French headings (``utilisation :``, ``arguments``, ``options``)."""

    def add_usage(self, usage, actions, groups, prefix=None):
        super().add_usage(usage, actions, groups, prefix=_fr("usage: ") if prefix is None else prefix)

    def start_section(self, heading):
        super().start_section(f"{heading} " if heading else heading)  # argparse adds the ":" (« options : »)


class Parser(argparse.ArgumentParser):
    """argparse in French that raises UsageError (exit 2, our message format) instead of printing and exiting."""

    def __init__(self, *a, **kw):
        kw.setdefault("formatter_class", HelpFormatter)
        with _french():
            super().__init__(*a, **kw)

    def add_subparsers(self, **kw):
        with _french():
            return super().add_subparsers(**kw)

    def parse_known_args(self, args=None, namespace=None):
        with _french():
            return super().parse_known_args(args, namespace)

    def parse_args(self, args=None, namespace=None):
        with _french():
            return super().parse_args(args, namespace)

    def format_usage(self):
        with _french():
            return super().format_usage()

    def format_help(self):
        with _french():
            return super().format_help()

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(Diagnostic(f"{self.prog} : {message}", file=COMMAND_LINE,
                                    hint=f"voir « {self.prog} --help »", code="usage"))


def subcommand(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A subcommand with its description, its example and ``--debug``."""
    s = subs.add_parser(name, help=help, description=help, epilog="exemple :\n  " + example,
                        formatter_class=HelpFormatter)
    s.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="affiche sur la sortie d'erreur la trace de chaque erreur interne (= ENGINE_DEBUG=1)")
    return s


def positive_int_arg(text: str) -> int:
    if text.strip().isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"un nombre entier d'au moins 1 est attendu, pas « {text} »")


def seconds_arg(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if 0 < v < float("inf"):
        return v
    raise argparse.ArgumentTypeError(f"un nombre de secondes supérieur à 0 est attendu, pas « {text} »")


def port_arg(text: str) -> int:
    if text.strip().isdigit() and 0 <= int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"un numéro de port (0-65535) est attendu, pas « {text} »")


# ------------------------------------------------------------------------------------- shared arguments

def add_at(s, help: str | None = None) -> None:
    """``--at DATE``: the evaluation date (its default is decided by :func:`engine.clock.evaluation_date`)."""
    s.add_argument("--at", type=date_arg, help=help)


def add_param(s, help: str | None = None) -> None:
    """``--param NAME=VALUE``, repeatable: the values of the spec's parameters."""
    s.add_argument("--param", action="append", type=param_arg, default=[], metavar="NOM=VALEUR", help=help)


def add_jobs(s, help: str) -> None:
    s.add_argument("--jobs", type=jobs_arg, metavar="N|auto", help=help)


def add_output(s, help: str, **kw) -> None:
    """``-o/--output FILE``: written atomically (engine.files.output); absent = standard output."""
    s.add_argument("-o", "--output", help=help, **kw)


def add_format(s, choices: list[str], help: str | None = None, default=None, json_flag: bool = False) -> None:
    """``--format F`` (and ``--json``, the same as ``--format json``, when ``json_flag``)."""
    s.add_argument("--format", choices=choices, default=default, help=help)
    if json_flag:
        s.add_argument("--json", action="store_true", help="comme --format json")


def add_csv_dialect(s) -> None:
    """``--csv-dialect standard|excel-fr`` (engine.render.spreadsheet): the CSV a French Excel opens by double-click."""
    s.add_argument("--csv-dialect", choices=["standard", "excel-fr"], default=None, metavar="standard|excel-fr",
                   help="en CSV : standard (RFC 4180, par défaut) ou excel-fr (« ; », virgule décimale, "
                        "BOM UTF-8, dates JJ/MM/AAAA)")


def params(args) -> dict:
    """The ``--param`` values as a dict (the last one given for a name wins)."""
    return dict(getattr(args, "param", None) or ())


def output_format(args, suffixes: dict[str, str], default: str) -> str:
    """The output format: ``--json``, else ``--format``, else the suffix of ``-o`` (``suffixes``), else ``default``."""
    fmt = "json" if getattr(args, "json", False) else getattr(args, "format", None)
    out = getattr(args, "output", None)
    if fmt is None and out:
        fmt = suffixes.get(os.path.splitext(out)[1].lower())
    return fmt or default


__all__ = ["ARGPARSE_FR", "HelpFormatter", "Parser", "add_at", "add_csv_dialect", "add_format", "add_jobs", "add_output", "add_param", "date_arg",
           "jobs_arg", "port_arg", "positive_int_arg", "seconds_arg",
           "output_format", "param_arg", "params", "subcommand"]
