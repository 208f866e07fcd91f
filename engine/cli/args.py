"""What every command shares on its command line: the parser that reports usage errors in our format, the
subcommand constructor, and the arguments several commands take (``--at``, ``--param``, ``--jobs``, ``-o``,
``--format``/``--json``), defined once so that they read and behave the same everywhere."""

from __future__ import annotations

import argparse
import os
from datetime import date

from engine.errors import Diagnostic, UsageError


def date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-03-01, got {text!r}") from None


def jobs_arg(text: str) -> str:
    t = text.strip().lower()
    if t == "auto" or (t.isdigit() and int(t) >= 1):
        return t
    raise argparse.ArgumentTypeError(f"expected a number of processes (1, 2, ...) or auto, got {text!r}")


def param_arg(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


class Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 2, our message format) instead of printing and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(Diagnostic(f"{self.prog}: {message}", file="<command line>",
                                    hint=f"see '{self.prog} --help'", code="usage"))


def subcommand(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    """A subcommand with its description, its example and ``--debug``."""
    s = subs.add_parser(name, help=help, description=help, epilog="example:\n  " + example,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="print the traceback of every internal error on standard error (= ENGINE_DEBUG=1)")
    return s


def positive_int_arg(text: str) -> int:
    if text.strip().isdigit() and int(text) >= 1:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}")


def seconds_arg(text: str) -> float:
    try:
        v = float(text)
    except ValueError:
        v = -1.0
    if 0 < v < float("inf"):
        return v
    raise argparse.ArgumentTypeError(f"expected a number of seconds above 0, got {text!r}")


def port_arg(text: str) -> int:
    if text.strip().isdigit() and 0 <= int(text) <= 65535:
        return int(text)
    raise argparse.ArgumentTypeError(f"expected a port number (0-65535), got {text!r}")


# ------------------------------------------------------------------------------------- shared arguments

def add_at(s, help: str | None = None) -> None:
    """``--at DATE``: the evaluation date (its default is decided by :func:`engine.clock.evaluation_date`)."""
    s.add_argument("--at", type=date_arg, help=help)


def add_param(s, help: str | None = None) -> None:
    """``--param NAME=VALUE``, repeatable: the values of the spec's parameters."""
    s.add_argument("--param", action="append", type=param_arg, default=[], metavar="NAME=VALUE", help=help)


def add_jobs(s, help: str) -> None:
    s.add_argument("--jobs", type=jobs_arg, metavar="N|auto", help=help)


def add_output(s, help: str, **kw) -> None:
    """``-o/--output FILE``: written atomically (engine.files.output); absent = standard output."""
    s.add_argument("-o", "--output", help=help, **kw)


def add_format(s, choices: list[str], help: str | None = None, default=None, json_flag: bool = False) -> None:
    """``--format F`` (and ``--json``, the same as ``--format json``, when ``json_flag``)."""
    s.add_argument("--format", choices=choices, default=default, help=help)
    if json_flag:
        s.add_argument("--json", action="store_true", help="same as --format json")


def add_csv_dialect(s) -> None:
    """``--csv-dialect standard|excel-fr`` (engine.render.spreadsheet): the CSV a French Excel opens by double-click."""
    s.add_argument("--csv-dialect", choices=["standard", "excel-fr"], default=None, metavar="standard|excel-fr",
                   help="with CSV: standard (RFC 4180, the default) or excel-fr (';', decimal comma, UTF-8 BOM, "
                        "dates DD/MM/YYYY)")


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


__all__ = ["Parser", "add_at", "add_csv_dialect", "add_format", "add_jobs", "add_output", "add_param", "date_arg",
           "jobs_arg", "port_arg", "positive_int_arg", "seconds_arg",
           "output_format", "param_arg", "params", "subcommand"]
