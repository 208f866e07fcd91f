"""The `engine` command line: a thin layer over the library API (tests call the library directly).

Exit codes (docs/safety.md): 0 the run completed, 1 a spec or an input is invalid as a whole (or an output cannot be
written: disk full, permission...), 2 usage error, 3 the run completed but some records (or examples) hit an
internal error of the engine (each has its ``internal_error`` line), 70 an engine bug that stopped the run,
128+N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 141 the reader of the output went away).
Every command has --help with an example. Each ``cmd_*`` function parses nothing itself: it calls the library and
renders the result.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import date
from typing import Callable, Sequence

from engine import __version__
from engine.errors import Diagnostic, EngineError, UsageError


def _date_arg(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a date such as 2026-03-01, got {text!r}") from None


def _jobs_arg(text: str) -> str:
    t = text.strip().lower()
    if t == "auto" or (t.isdigit() and int(t) >= 1):
        return t
    raise argparse.ArgumentTypeError(f"expected a number of processes (1, 2, ...) or auto, got {text!r}")


def _param_arg(text: str) -> tuple[str, str]:
    name, sep, value = text.partition("=")
    if not sep or not name:
        raise argparse.ArgumentTypeError(f"expected NAME=VALUE, got {text!r}")
    return name.strip(), value.strip()


class _Parser(argparse.ArgumentParser):
    """argparse that raises UsageError (exit 2, our message format) instead of printing and exiting."""

    def error(self, message: str):  # type: ignore[override]
        raise UsageError(Diagnostic(f"{self.prog}: {message}", file="<command line>",
                                    hint=f"see '{self.prog} --help'", code="usage"))


def _sub(subs, name: str, help: str, example: str) -> argparse.ArgumentParser:
    s = subs.add_parser(name, help=help, description=help, epilog="example:\n  " + example,
                        formatter_class=argparse.RawDescriptionHelpFormatter)
    s.add_argument("--debug", action="store_true", default=argparse.SUPPRESS,
                   help="print the traceback of every internal error on standard error (= ENGINE_DEBUG=1)")
    return s


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="engine", description="dispositif engine: declarative rules for the Pas-de-Calais programmes.",
                epilog="example:\n  engine check specs/", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"engine {__version__}")
    p.add_argument("--no-cache", action="store_true", help="do not read nor write the compiled-spec cache "
                   "(same as ENGINE_NO_CACHE=1)")
    p.add_argument("--debug", action="store_true",
                   help="print the Python traceback of every internal error on standard error (= ENGINE_DEBUG=1)")
    subs = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    s = _sub(subs, "check", "Validate spec files: YAML, schema, expressions, phase graph; report every error.",
             "engine check specs/")
    s.add_argument("paths", nargs="*", default=["specs"], help="spec files or folders (default: specs/)")
    s.add_argument("--json", action="store_true", help="print the diagnostics as JSON")
    s.add_argument("--seeds", metavar="DIR", help="folder of the source texts the source: citations are checked "
                   "against (default: $ENGINE_SEEDS, else ../shared/seeds)")
    s.set_defaults(func=cmd_check)

    s = _sub(subs, "expr", "Evaluate one expression and print its value as JSON.",
             'engine expr "age(2000-05-01, today) >= 18 et 40% * 100 == 40" --at 2026-03-01')
    s.add_argument("expression")
    s.add_argument("--record", help="a JSON file with one record whose attributes are in scope")
    s.add_argument("--spec", help="declare the attributes of this spec (and its imports) for type checking")
    s.add_argument("--at", type=_date_arg, help="the evaluation date (`today`); default: the current date")
    s.set_defaults(func=cmd_expr)

    s = _sub(subs, "schema", "Print the JSON Schema of the spec format, or of an output (--output).",
             "engine schema > spec.schema.json\n  engine schema --output evaluate > evaluate.output.schema.json")
    s.add_argument("--output", choices=["evaluate", "report", "diff", "explain"], default=None,
                   metavar="evaluate|report|diff|explain",
                   help="print the JSON Schema of this command's JSON output instead (docs/output-schemas.md; "
                        "explain: the trace of `engine explain --format json`)")
    s.set_defaults(func=cmd_schema)

    s = _sub(subs, "evaluate", "Evaluate beneficiary records against a spec: one output line per input record.",
             "engine evaluate --spec specs/coach-jeunesse.yaml specs/samples/coach-jeunesse.records.jsonl "
             "--at 2026-06-01 -o out.jsonl")
    s.add_argument("--spec", required=True)
    s.add_argument("records", nargs="+", help="JSONL, JSON array or CSV files ('-' for standard input)")
    s.add_argument("--at", type=_date_arg, help="evaluation date (default: today)")
    s.add_argument("-o", "--output", help="output file, written atomically (default: standard output)")
    s.add_argument("--format", choices=["jsonl", "json", "csv"], default="jsonl")
    s.add_argument("--summary", action="store_true", help="print counts on standard error at the end")
    s.add_argument("--param", action="append", type=_param_arg, default=[], metavar="NAME=VALUE",
                   help="value of a spec parameter (repeatable)")
    s.add_argument("--jobs", type=_jobs_arg, metavar="N|auto", help="processes evaluating the records (default 1; "
                   "auto: one per available core); the output is the same, in the same order")
    s.add_argument("--dask", metavar="local|tcp://HOST:PORT", help="evaluate on a Dask cluster (extra [dask]): "
                   "'local' starts one on this machine (--jobs workers), else the scheduler's address")
    s.set_defaults(func=cmd_evaluate)

    s = _sub(subs, "report", "Operation report: operator eligibility, funding plan, capacity, indicators, money due.",
             "engine report --spec specs/chantiers-insertion.yaml --operation specs/samples/chantiers-insertion"
             ".operation.json --records specs/samples/chantiers-insertion.cohort.jsonl --at 2027-04-15")
    s.add_argument("--spec", required=True)
    s.add_argument("--operation", required=True)
    s.add_argument("--records", required=True)
    s.add_argument("--at", type=_date_arg)
    s.add_argument("--format", choices=["text", "json", "markdown", "csv"], default=None)
    s.add_argument("--json", action="store_true", help="same as --format json")
    s.add_argument("--param", action="append", type=_param_arg, default=[], metavar="NAME=VALUE")
    s.add_argument("--jobs", type=_jobs_arg, metavar="N|auto", help="processes reading the cohort (default: "
                   "automatic, several for a JSONL file of 64 MiB or more; auto: one per available core)")
    s.add_argument("-o", "--output", help="output file, written atomically (format from --format or the suffix: "
                   ".json, .md, .csv, else text)")
    s.set_defaults(func=cmd_report)

    s = _sub(subs, "diff", "Semantic diff between two spec versions (files or path@gitrev), with the impact on records.",
             "engine diff specs/mobilite.yaml@HEAD~3 specs/mobilite.yaml --records specs/samples/mobilite.records.jsonl")
    s.add_argument("old", help="the old version: a spec file or path@gitrev (e.g. specs/mobilite.yaml@HEAD~3)")
    s.add_argument("new", help="the new version: a spec file or path@gitrev")
    s.add_argument("--records", help="also evaluate these records (JSONL, JSON, CSV) under both versions")
    s.add_argument("--at", type=_date_arg, help="evaluation date for --records (default: today)")
    s.add_argument("--format", choices=["text", "json", "markdown", "html"], default=None,
                   help="text (default), json, markdown, or html (one self-contained page)")
    s.add_argument("--json", action="store_true", help="same as --format json")
    s.add_argument("-o", "--output", help="output file, written atomically (format from --format or the suffix)")
    s.add_argument("--param", action="append", type=_param_arg, default=[], metavar="NAME=VALUE",
                   help="value of a spec parameter for --records (repeatable)")
    s.add_argument("--changed", metavar="OUT.jsonl",
                   help="with --records: write every record that changes, with its changes (JSONL, atomically)")
    s.set_defaults(func=cmd_diff)

    s = _sub(subs, "test", "Run the examples embedded in specs.", "engine test specs/")
    s.add_argument("paths", nargs="*", default=["specs"])
    s.add_argument("--json", action="store_true")
    s.add_argument("-k", dest="keyword", help="only examples whose name contains this text")
    s.set_defaults(func=cmd_test)

    s = _sub(subs, "graph", "Draw the phase graph of a spec (Mermaid or Graphviz dot).",
             "engine graph --spec specs/travailleurs-independants.yaml --format mermaid")
    s.add_argument("--spec", required=True)
    s.add_argument("--format", choices=["mermaid", "dot"], default=None,
                   help="mermaid (default) or dot (default for an output ending in .dot or .gv)")
    s.add_argument("-o", "--output", help="output file, written atomically (default: standard output)")
    s.set_defaults(func=cmd_graph)

    s = _sub(subs, "docs", "Build a static documentation site: one French page per programme, plus an index.",
             "engine docs specs/ -o site/")
    s.add_argument("paths", nargs="*", default=["specs"], help="spec files or folders (default: specs/)")
    s.add_argument("-o", "--output", required=True, metavar="SITE",
                   help="the site's folder: created, or replaced when it was built by engine docs")
    s.add_argument("--seeds", metavar="DIR", help="folder of the source texts NN-file.txt (default: $ENGINE_SEEDS, "
                   "else ../shared/seeds)")
    s.set_defaults(func=cmd_docs)

    from engine.cli.explain import add_parser as add_explain

    add_explain(subs, _sub)
    return p


# --------------------------------------------------------------------------------------------- commands
# Each command is implemented by the stage module that owns it; imports are local to keep `engine --help` fast.

def cmd_check(args) -> int:
    from engine.spec.check import run_check_command
    return run_check_command(args)


def cmd_expr(args) -> int:
    from engine.expr.compiler import run_expr_command
    return run_expr_command(args)


def cmd_schema(args) -> int:
    if getattr(args, "output", None) == "explain":
        from engine.spec.schema import explain_schema_text
        sys.stdout.write(explain_schema_text())
        return 0
    if getattr(args, "output", None):
        from engine.render.schemas import output_schema_text
        sys.stdout.write(output_schema_text(args.output))
        return 0
    from engine.spec.schema import schema_text
    sys.stdout.write(schema_text())
    return 0


def cmd_evaluate(args) -> int:
    from engine.beneficiary.evaluate import run_evaluate_command
    return run_evaluate_command(args)


def cmd_report(args) -> int:
    from engine.operation.report import run_report_command
    return run_report_command(args)


def cmd_diff(args) -> int:
    from engine.audit.diff import run_diff_command
    return run_diff_command(args)


def cmd_test(args) -> int:
    from engine.examples import run_test_command
    return run_test_command(args)


def cmd_graph(args) -> int:
    from engine.spec.graph import run_graph_command
    return run_graph_command(args)


def cmd_docs(args) -> int:
    from engine.render.site import run_docs_command
    return run_docs_command(args)


class Interrupted(BaseException):
    """SIGTERM or SIGHUP received: unwinds like KeyboardInterrupt (temporary files removed), exit 128 + signal."""

    def __init__(self, signum: int):
        super().__init__(signum)
        self.signum = signum


def _install_signals() -> Callable[[], None]:
    """SIGTERM and SIGHUP raise :class:`Interrupted` in this process (a forked worker dies of them as usual);
    returns the function that restores the previous handlers."""
    import signal

    pid = os.getpid()

    def handler(signum, frame):
        if os.getpid() != pid:  # a forked worker: die of the signal, as it would without us
            signal.signal(signum, signal.SIG_DFL)
            os.kill(os.getpid(), signum)
            return
        raise Interrupted(signum)

    old = {}
    for name in ("SIGTERM", "SIGHUP"):
        sig = getattr(signal, name, None)
        if sig is None:
            continue
        try:
            old[sig] = signal.signal(sig, handler)
        except (ValueError, OSError):  # not the main thread (a library call): leave the handlers alone
            pass

    def restore():
        for sig, h in old.items():
            try:
                signal.signal(sig, h)
            except (ValueError, OSError, TypeError):
                pass

    return restore


def _silence_stdout() -> None:
    """After a write to standard output failed (EPIPE, ENOSPC): point descriptor 1 at /dev/null so that the flush at
    exit cannot print a Python traceback."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    except (OSError, ValueError, AttributeError):
        pass


def main(argv: Sequence[str] | None = None) -> int:
    restore = _install_signals()
    debug_before = os.environ.get("ENGINE_DEBUG")
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
        if getattr(args, "debug", False):
            os.environ["ENGINE_DEBUG"] = "1"
        if not getattr(args, "command", None):
            parser.print_help(sys.stderr)
            return 2
        if getattr(args, "no_cache", False):
            os.environ["ENGINE_NO_CACHE"] = "1"
        func: Callable[[argparse.Namespace], int] = args.func
        code = func(args)
        sys.stdout.flush()  # a full disk behind standard output is reported here, not at exit
        return code
    except EngineError as e:
        sys.stderr.write(e.format() + "\n")
        return e.exit_code
    except KeyboardInterrupt:
        sys.stderr.write("engine : interrompu (SIGINT) ; aucun fichier de sortie n'a été remplacé\n")
        return 130
    except Interrupted as e:
        import signal

        name = signal.Signals(e.signum).name
        sys.stderr.write(f"engine : interrompu ({name}) ; aucun fichier de sortie n'a été remplacé\n")
        return 128 + e.signum
    except BrokenPipeError:  # the reader of the output went away (`engine evaluate ... | head -1`): quietly
        _silence_stdout()
        return 141
    except SystemExit as e:  # argparse --help / --version
        return int(e.code or 0) if isinstance(e.code, int) else 0
    except MemoryError:
        sys.stderr.write("engine : mémoire insuffisante : une entrée est trop grande pour la mémoire disponible ; "
                         "découpez-la (ou relancez sur une machine avec plus de mémoire) ; les limites de taille "
                         "sont décrites dans docs/safety.md\n")
        return 1
    except OSError as e:  # an ordinary condition of the system, not an engine bug
        from engine.files.output import os_error_text

        if os.environ.get("ENGINE_DEBUG", "") not in ("", "0"):
            import traceback

            traceback.print_exc()
        where = e.filename if isinstance(e.filename, str) else None
        if where is None and e.errno in (28, 122, 27, 5):  # ENOSPC, EDQUOT, EFBIG, EIO: standard output
            _silence_stdout()
            where = "la sortie standard"
        reason, hint = os_error_text(e, where)
        sys.stderr.write(f"engine : erreur du système{' sur ' + where if where else ''} : {reason} ; {hint}\n")
        return 1
    except Exception as e:  # an engine bug, never bad input: say so plainly
        if os.environ.get("ENGINE_DEBUG", "") not in ("", "0"):
            import traceback

            traceback.print_exc()
        sys.stderr.write(f"engine: internal error ({type(e).__name__}: {e}); this is a bug in the engine, "
                         "please report it with the command line (set ENGINE_DEBUG=1 or use --debug for the "
                         "traceback)\n")
        return 70
    finally:
        restore()
        if debug_before is None:
            os.environ.pop("ENGINE_DEBUG", None)
        else:
            os.environ["ENGINE_DEBUG"] = debug_before


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
