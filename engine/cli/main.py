"""The `engine` command line: a thin layer over the library API (tests call the library directly).

Exit codes (docs/safety.md): 0 the run completed, 1 a spec or an input is invalid as a whole (or an output cannot be
written: disk full, permission...), 2 usage error, 3 the run completed but some records (or examples) hit an
internal error of the engine (each has its ``internal_error`` line), 70 an engine bug that stopped the run,
128+N stopped by signal N (130 SIGINT, 143 SIGTERM, 129 SIGHUP, 141 the reader of the output went away).
Every command has --help with an example. This module holds the parser table; each command's handler is
``engine/cli/<command>.py``: its ``run(args)`` turns the arguments into calls of the library and writes the result.
No module outside engine/cli/ reads the command line (tests/test_layout.py holds it).
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from typing import Callable, Sequence

from engine import __version__
from engine.cli.args import (Parser, add_at, add_csv_dialect, add_format, add_jobs, add_output, add_param, port_arg,
                             positive_int_arg, seconds_arg, subcommand)
from engine.errors import EngineError
from engine.files.output import os_error_text


def build_parser() -> argparse.ArgumentParser:
    """The parser table: every command, its arguments and its example (the handlers are in engine/cli/<command>.py,
    imported only for the command that runs)."""
    p = Parser(prog="engine", description="dispositif engine: declarative rules for the Pas-de-Calais programmes.",
               epilog="example:\n  engine check specs/", formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--version", action="version", version=f"engine {__version__}")
    p.add_argument("--no-cache", action="store_true", help="do not read nor write the compiled-spec cache "
                   "(same as ENGINE_NO_CACHE=1)")
    p.add_argument("--debug", action="store_true",
                   help="print the Python traceback of every internal error on standard error (= ENGINE_DEBUG=1)")
    subs = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    def sub(name: str, help: str, example: str) -> argparse.ArgumentParser:
        s = subcommand(subs, name, help, example)
        s.set_defaults(handler=name)
        return s

    s = sub("check", "Validate spec files: YAML, schema, expressions, phase graph; report every error.",
            "engine check specs/")
    s.add_argument("paths", nargs="*", default=["specs"], help="spec files or folders (default: specs/)")
    s.add_argument("--json", action="store_true", help="print the diagnostics as JSON")
    s.add_argument("--seeds", metavar="DIR", help="folder of the source texts the source: citations are checked "
                   "against (default: $ENGINE_SEEDS, else ../shared/seeds)")

    s = sub("expr", "Evaluate one expression and print its value as JSON.",
            'engine expr "age(2000-05-01, today) >= 18 et 40% * 100 == 40" --at 2026-03-01')
    s.add_argument("expression")
    s.add_argument("--record", help="a JSON file with one record whose attributes are in scope")
    s.add_argument("--spec", help="declare the attributes of this spec (and its imports) for type checking")
    add_at(s, "the evaluation date (`today`); default: the current date")

    s = sub("schema", "Print the JSON Schema of the spec format, or of an output (--output).",
            "engine schema > spec.schema.json\n  engine schema --output evaluate > evaluate.output.schema.json")
    s.add_argument("--output", choices=["evaluate", "report", "diff", "explain"], default=None,
                   metavar="evaluate|report|diff|explain",
                   help="print the JSON Schema of this command's JSON output instead (docs/output-schemas.md; "
                        "explain: the trace of `engine explain --format json`)")

    s = sub("evaluate", "Evaluate beneficiary records against a spec: one output line per input record.",
            "engine evaluate --spec specs/coach-jeunesse.yaml specs/samples/coach-jeunesse.records.jsonl "
            "--at 2026-06-01 -o out.jsonl")
    s.add_argument("--spec", required=True)
    s.add_argument("records", nargs="+", help="JSONL, JSON array or CSV files ('-' for standard input), or folders "
                   "of them (their .jsonl, .ndjson, .json and .csv files, by name)")
    add_at(s, "evaluation date (default: today)")
    add_output(s, "output file, written atomically (default: standard output; format from --format or the suffix: "
                  ".jsonl, .json, .csv, .txt)")
    add_format(s, ["jsonl", "json", "csv", "text"], "jsonl (default when piped or with -o), json, csv, or text: a "
               "short French verdict per record (the default on a terminal)")
    add_csv_dialect(s)
    s.add_argument("--verbose", action="store_true", help="with --format text: every rule, deadline and obligation, "
                   "not only those that explain the answer")
    s.add_argument("--summary", action="store_true", help="print counts on standard error at the end")
    add_param(s, "value of a spec parameter (repeatable)")
    add_jobs(s, "processes evaluating the records (default 1; auto: one per available core); the output is the "
                "same, in the same order")
    s.add_argument("--dask", metavar="local|tcp://HOST:PORT", help="evaluate on a Dask cluster (extra [dask]): "
                   "'local' starts one on this machine (--jobs workers), else the scheduler's address")

    s = sub("report", "Operation report: operator eligibility, funding plan, capacity, indicators, money due.",
            "engine report --spec specs/chantiers-insertion.yaml --operation specs/samples/chantiers-insertion"
            ".operation.json --records specs/samples/chantiers-insertion.cohort.jsonl --at 2027-04-15")
    s.add_argument("--spec", required=True)
    s.add_argument("--operation", required=True)
    s.add_argument("--records", required=True)
    add_at(s)
    add_format(s, ["text", "json", "markdown", "csv"], json_flag=True)
    add_param(s)
    add_csv_dialect(s)
    add_jobs(s, "processes reading the cohort (default: automatic, several for a JSONL file of 64 MiB or more; "
                "auto: one per available core)")
    s.add_argument("--dask", metavar="local|tcp://HOST:PORT", help="read the cohort (a JSONL file) on a Dask cluster "
                   "(extra [dask]): 'local' starts one on this machine (--jobs workers), else the scheduler's address")
    add_output(s, "output file, written atomically (format from --format or the suffix: .json, .md, .csv, else text)")

    s = sub("diff", "Semantic diff between two spec versions (files or path@gitrev), with the impact on records.",
            "engine diff specs/mobilite.yaml@HEAD~3 specs/mobilite.yaml --records specs/samples/mobilite.records.jsonl")
    s.add_argument("old", help="the old version: a spec file or path@gitrev (e.g. specs/mobilite.yaml@HEAD~3)")
    s.add_argument("new", help="the new version: a spec file or path@gitrev")
    s.add_argument("--records", help="also evaluate these records (JSONL, JSON, CSV) under both versions")
    add_at(s, "evaluation date for --records (default: today)")
    add_format(s, ["text", "json", "markdown", "html"],
               "text (default), json, markdown, or html (one self-contained page)", json_flag=True)
    add_output(s, "output file, written atomically (format from --format or the suffix)")
    add_param(s, "value of a spec parameter for --records (repeatable)")
    s.add_argument("--changed", metavar="OUT.jsonl",
                   help="with --records: write every record that changes, with its changes (JSONL, atomically)")
    s.add_argument("--operation", metavar="OP.json", help="with --records (the operation's cohort): the money impact "
                   "on this operation, every amount before and after, to the cent")
    s.add_argument("--seeds", metavar="DIR", help="folder of the source texts: the HTML page quotes the line each "
                   "change cites (default: $ENGINE_SEEDS, else ../shared/seeds)")
    s.add_argument("--site", metavar="SITE", help="a site built by engine docs: the HTML page links each change to "
                   "its element on the new version's page")
    s.add_argument("--site-url", metavar="URL", help="with --site: the URL the site is published at (links start "
                   "with it instead of the folder)")

    s = sub("test", "Run the examples embedded in specs.", "engine test specs/")
    s.add_argument("paths", nargs="*", default=["specs"])
    s.add_argument("--json", action="store_true")
    s.add_argument("-k", dest="keyword", help="only examples whose name contains this text")

    s = sub("graph", "Draw the phase graph of a spec (Mermaid or Graphviz dot).",
            "engine graph --spec specs/travailleurs-independants.yaml --format mermaid")
    s.add_argument("--spec", required=True)
    add_format(s, ["mermaid", "dot"], "mermaid (default) or dot (default for an output ending in .dot or .gv)")
    add_output(s, "output file, written atomically (default: standard output)")

    s = sub("docs", "Build a static documentation site: one French page per programme, plus an index.",
            "engine docs specs/ -o site/")
    s.add_argument("paths", nargs="*", default=["specs"], help="spec files or folders (default: specs/)")
    add_output(s, "the site's folder: created, or replaced when it was built by engine docs", required=True,
               metavar="SITE")
    s.add_argument("--seeds", metavar="DIR", help="folder of the source texts NN-file.txt (default: $ENGINE_SEEDS, "
                   "else ../shared/seeds)")

    s = sub("explain", "Explain one record's decision: every rule, deadline, obligation window and path step "
            "with its intermediate values, its place in the spec and its source in the text.",
            "engine explain --spec specs/accompagnement-social-professionnel-intensif.yaml "
            "specs/samples/accompagnement-social-professionnel-intensif.records.jsonl --id B-0001 --at 2026-06-01")
    s.add_argument("--spec", required=True)
    s.add_argument("record", nargs="?", help="a JSON file with one record, or a JSONL/JSON/CSV file and --id")
    s.add_argument("--id", help="the id of the record to explain, in a file of several")
    s.add_argument("--example", metavar="NAME", help="explain the spec's embedded example NAME instead of a record "
                   "file (its record, date and parameters; --at and --param override them)")
    add_at(s, "evaluation date (default: today)")
    add_param(s, "value of a spec parameter (repeatable)")
    s.add_argument("--rule", action="append", metavar="ID", help="only this eligibility rule or definition "
                   "(repeatable)")
    s.add_argument("--deadline", action="append", metavar="ID", help="only this deadline (repeatable)")
    s.add_argument("--obligation", action="append", metavar="ID", help="only this obligation, with the working of "
                   "every window (repeatable)")
    s.add_argument("--transition", action="append", metavar="N", help="only the path steps taking this transition: "
                   "its number in `transitions` (1-based), its id or FROM->TO (repeatable)")
    add_format(s, ["text", "json"], "text (French) on a terminal, json when piped (default)")
    add_output(s, "output file, written atomically (format from the suffix)")

    from engine.server.limits import Limits

    lim = Limits()
    s = sub("serve", "Serve specs over HTTP: evaluate, report, explain, diff (extra [server], docs/server.md).",
            "engine serve specs/ --port 8000\n  curl -s -X POST 'http://127.0.0.1:8000/v1/specs/coach-jeunesse/"
            "evaluate?at=2026-06-01' -H 'content-type: application/json' -d '{\"id\": \"B-1\"}'")
    s.add_argument("paths", nargs="*", default=["specs"], help="spec files or folders (default: specs/)")
    s.add_argument("--host", default="127.0.0.1", help="address to listen on (default: 127.0.0.1, this machine "
                   "only; 0.0.0.0 for every interface, behind a reverse proxy)")
    s.add_argument("--port", type=port_arg, default=8000, help="port to listen on (default: 8000)")
    s.add_argument("--token-file", metavar="FILE", help="require 'Authorization: Bearer TOKEN' on every request "
                   "but /healthz, TOKEN being the first line of FILE")
    s.add_argument("--max-body-bytes", type=positive_int_arg, default=lim.max_body_bytes, metavar="N",
                   help=f"largest request body, in bytes (default: {lim.max_body_bytes}, 10 MiB)")
    s.add_argument("--max-records", type=positive_int_arg, default=lim.max_records, metavar="N",
                   help=f"most records in one request (evaluate, report cohort; default: {lim.max_records})")
    s.add_argument("--max-seconds", type=seconds_arg, default=lim.max_seconds, metavar="S",
                   help=f"longest time of one request, in seconds (default: {lim.max_seconds:g})")
    return p


def run_command(args: argparse.Namespace) -> int:
    """Run the handler of ``args.command``: ``engine.cli.<command>.run(args)``. The module is imported here, for the
    command that runs only, so that `engine --help` and a small command do not load every stage of the engine."""
    module = importlib.import_module(f"engine.cli.{args.handler}")
    return module.run(args)


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
        code = run_command(args)
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
