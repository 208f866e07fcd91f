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
    p = Parser(prog="engine", description="dispositif engine : règles déclaratives des dispositifs du Pas-de-Calais.",
               epilog="exemple :\n  engine check specs/")
    p.add_argument("--version", action="version", version=f"engine {__version__}", help="affiche la version et quitte")
    p.add_argument("--no-cache", action="store_true", help="ne lit ni n'écrit le cache des specs compilées "
                   "(= ENGINE_NO_CACHE=1)")
    p.add_argument("--debug", action="store_true",
                   help="affiche sur la sortie d'erreur la trace Python de chaque erreur interne (= ENGINE_DEBUG=1)")
    subs = p.add_subparsers(dest="command", metavar="COMMANDE", parser_class=Parser, title="commandes")

    def sub(name: str, help: str, example: str) -> argparse.ArgumentParser:
        s = subcommand(subs, name, help, example)
        s.set_defaults(handler=name)
        return s

    s = sub("check", "Vérifie des fichiers de spec : YAML, schéma, expressions, graphe des phases ; signale toutes les erreurs.",
            "engine check specs/")
    s.add_argument("paths", nargs="*", default=["specs"], metavar="CHEMINS",
                   help="fichiers ou dossiers de specs (par défaut : specs/)")
    s.add_argument("--json", action="store_true", help="écrit les diagnostics en JSON")
    s.add_argument("--seeds", metavar="DOSSIER", help="dossier des textes sources où les citations source: sont "
                   "vérifiées (par défaut : $ENGINE_SEEDS, sinon ../shared/seeds)")

    s = sub("expr", "Évalue une expression et écrit sa valeur en JSON.",
            'engine expr "age(2000-05-01, today) >= 18 et 40% * 100 == 40" --at 2026-03-01')
    s.add_argument("expression", help="l'expression, entre guillemets")
    s.add_argument("--record", metavar="FICHIER", help="un fichier JSON d'un enregistrement, dont les attributs sont "
                   "connus de l'expression")
    s.add_argument("--spec", help="déclare les attributs de cette spec (et de ses imports) pour vérifier les types")
    add_at(s, "la date d'évaluation (`today`) ; par défaut : la date du jour")

    s = sub("schema", "Écrit le schéma JSON du format des specs, ou d'une sortie (--output).",
            "engine schema > spec.schema.json\n  engine schema --output evaluate > evaluate.output.schema.json")
    s.add_argument("--output", choices=["evaluate", "report", "diff", "explain"], default=None,
                   metavar="evaluate|report|diff|explain",
                   help="écrit à la place le schéma JSON de la sortie JSON de cette commande (docs/output-schemas.md ; "
                        "explain : la trace d'`engine explain --format json`)")

    s = sub("evaluate", "Évalue des enregistrements de bénéficiaires selon une spec : une ligne de sortie par enregistrement.",
            "engine evaluate --spec specs/coach-jeunesse.yaml specs/samples/coach-jeunesse.records.jsonl "
            "--at 2026-06-01 -o out.jsonl")
    s.add_argument("--spec", required=True, help="le fichier de spec du dispositif")
    s.add_argument("records", nargs="+", metavar="ENREGISTREMENTS",
                   help="fichiers JSONL, tableau JSON ou CSV (« - » pour l'entrée standard), ou dossiers qui en "
                        "contiennent (leurs fichiers .jsonl, .ndjson, .json et .csv, par nom)")
    add_at(s, "date d'évaluation (par défaut : aujourd'hui)")
    add_output(s, "fichier de sortie, écrit de façon atomique (par défaut : la sortie standard ; format selon "
                  "--format ou le suffixe : .jsonl, .json, .csv, .txt)")
    add_format(s, ["jsonl", "json", "csv", "text"], "jsonl (par défaut dans un tube ou avec -o), json, csv, ou text : "
               "un court verdict en français par enregistrement (par défaut dans un terminal)")
    add_csv_dialect(s)
    s.add_argument("--verbose", action="store_true", help="avec --format text : chaque règle, échéance et obligation, "
                   "pas seulement celles qui expliquent la réponse")
    s.add_argument("--summary", action="store_true", help="écrit les comptes sur la sortie d'erreur à la fin")
    add_param(s, "valeur d'un paramètre de la spec (répétable)")
    add_jobs(s, "processus qui évaluent les enregistrements (par défaut 1 ; auto : un par cœur disponible) ; la "
                "sortie est la même, dans le même ordre")
    s.add_argument("--dask", metavar="local|tcp://HÔTE:PORT", help="évalue sur une grappe Dask (extra [dask]) : "
                   "« local » en démarre une sur cette machine (--jobs workers), sinon l'adresse du planificateur")

    s = sub("report", "Rapport d'une opération : éligibilité de l'opérateur, plan de financement, capacité, indicateurs, sommes dues.",
            "engine report --spec specs/chantiers-insertion.yaml --operation specs/samples/chantiers-insertion"
            ".operation.json --records specs/samples/chantiers-insertion.cohort.jsonl --at 2027-04-15")
    s.add_argument("--spec", required=True, help="le fichier de spec du dispositif")
    s.add_argument("--operation", required=True, metavar="OPERATION.json", help="l'opération (un objet JSON)")
    s.add_argument("--records", required=True, metavar="COHORTE", help="les participants (JSONL, JSON ou CSV)")
    add_at(s, "date du rapport (par défaut : aujourd'hui)")
    add_format(s, ["text", "json", "markdown", "csv"], json_flag=True)
    add_param(s)
    add_csv_dialect(s)
    add_jobs(s, "processus qui lisent la cohorte (par défaut : automatique, plusieurs pour un fichier JSONL de "
                "64 Mio ou plus ; auto : un par cœur disponible)")
    s.add_argument("--dask", metavar="local|tcp://HÔTE:PORT", help="lit la cohorte (un fichier JSONL) sur une grappe "
                   "Dask (extra [dask]) : « local » en démarre une sur cette machine (--jobs workers), sinon "
                   "l'adresse du planificateur")
    add_output(s, "fichier de sortie, écrit de façon atomique (format selon --format ou le suffixe : .json, .md, "
                  ".csv, sinon texte)")

    s = sub("diff", "Différences de sens entre deux versions d'une spec (fichiers ou chemin@révision), et leur effet sur des "
            "enregistrements.",
            "engine diff specs/mobilite.yaml@HEAD~3 specs/mobilite.yaml --records specs/samples/mobilite.records.jsonl")
    s.add_argument("old", metavar="ANCIENNE", help="l'ancienne version : un fichier de spec ou chemin@révision "
                   "(par exemple specs/mobilite.yaml@HEAD~3)")
    s.add_argument("new", metavar="NOUVELLE", help="la nouvelle version : un fichier de spec ou chemin@révision")
    s.add_argument("--records", help="évalue aussi ces enregistrements (JSONL, JSON, CSV) selon les deux versions")
    add_at(s, "date d'évaluation pour --records (par défaut : aujourd'hui)")
    add_format(s, ["text", "json", "markdown", "html"],
               "text (par défaut), json, markdown, ou html (une page autonome)", json_flag=True)
    add_output(s, "fichier de sortie, écrit de façon atomique (format selon --format ou le suffixe)")
    add_param(s, "valeur d'un paramètre de la spec pour --records (répétable)")
    s.add_argument("--changed", metavar="SORTIE.jsonl",
                   help="avec --records : écrit chaque enregistrement qui change, avec ses changements (JSONL, de "
                        "façon atomique)")
    s.add_argument("--operation", metavar="OP.json", help="avec --records (la cohorte de l'opération) : l'effet sur "
                   "les sommes de cette opération, chaque montant avant et après, au centime")
    s.add_argument("--seeds", metavar="DOSSIER", help="dossier des textes sources : la page HTML cite la ligne de "
                   "chaque changement (par défaut : $ENGINE_SEEDS, sinon ../shared/seeds)")
    s.add_argument("--site", metavar="SITE", help="un site produit par engine docs : la page HTML relie chaque "
                   "changement à son élément sur la page de la nouvelle version")
    s.add_argument("--site-url", metavar="URL", help="avec --site : l'adresse où le site est publié (les liens "
                   "commencent par elle au lieu du dossier)")

    s = sub("test", "Exécute les exemples intégrés aux specs.", "engine test specs/")
    s.add_argument("paths", nargs="*", default=["specs"], metavar="CHEMINS",
                   help="fichiers ou dossiers de specs (par défaut : specs/)")
    s.add_argument("--json", action="store_true", help="écrit les résultats en JSON")
    s.add_argument("-k", dest="keyword", metavar="TEXTE", help="seulement les exemples dont le nom contient ce texte")

    s = sub("graph", "Dessine le graphe des phases d'une spec (Mermaid ou dot de Graphviz).",
            "engine graph --spec specs/travailleurs-independants.yaml --format mermaid")
    s.add_argument("--spec", required=True, help="le fichier de spec du dispositif")
    add_format(s, ["mermaid", "dot"], "mermaid (par défaut) ou dot (par défaut pour une sortie en .dot ou .gv)")
    add_output(s, "fichier de sortie, écrit de façon atomique (par défaut : la sortie standard)")

    s = sub("docs", "Produit un site de documentation statique : une page en français par dispositif, et un index.",
            "engine docs specs/ -o site/")
    s.add_argument("paths", nargs="*", default=["specs"], metavar="CHEMINS",
                   help="fichiers ou dossiers de specs (par défaut : specs/)")
    add_output(s, "le dossier du site : créé, ou remplacé s'il a été produit par engine docs", required=True,
               metavar="SITE")
    s.add_argument("--seeds", metavar="DOSSIER", help="dossier des textes sources NN-fichier.txt (par défaut : "
                   "$ENGINE_SEEDS, sinon ../shared/seeds)")

    s = sub("explain", "Explique la décision d'un enregistrement : chaque règle, échéance, période d'obligation et étape du "
            "parcours, avec ses valeurs intermédiaires, sa place dans la spec et sa source dans le texte.",
            "engine explain --spec specs/accompagnement-social-professionnel-intensif.yaml "
            "specs/samples/accompagnement-social-professionnel-intensif.records.jsonl --id B-0001 --at 2026-06-01")
    s.add_argument("--spec", required=True, help="le fichier de spec du dispositif")
    s.add_argument("record", nargs="?", metavar="ENREGISTREMENT", help="un fichier JSON d'un enregistrement, ou un "
                   "fichier JSONL/JSON/CSV et --id")
    s.add_argument("--id", help="l'identifiant de l'enregistrement à expliquer, dans un fichier qui en a plusieurs")
    s.add_argument("--example", metavar="NOM", help="explique l'exemple NOM de la spec au lieu d'un fichier "
                   "(son enregistrement, sa date et ses paramètres ; --at et --param les remplacent)")
    add_at(s, "date d'évaluation (par défaut : aujourd'hui)")
    add_param(s, "valeur d'un paramètre de la spec (répétable)")
    s.add_argument("--rule", action="append", metavar="ID", help="seulement cette règle d'éligibilité ou cette "
                   "définition (répétable)")
    s.add_argument("--deadline", action="append", metavar="ID", help="seulement cette échéance (répétable)")
    s.add_argument("--obligation", action="append", metavar="ID", help="seulement cette obligation, avec le calcul "
                   "de chaque période (répétable)")
    s.add_argument("--transition", action="append", metavar="N", help="seulement les étapes du parcours qui prennent "
                   "cette transition : son numéro dans `transitions` (à partir de 1), son id ou DE->VERS (répétable)")
    add_format(s, ["text", "json"], "text (en français) dans un terminal, json dans un tube (par défaut)")
    add_output(s, "fichier de sortie, écrit de façon atomique (format selon le suffixe)")

    from engine.server.limits import Limits

    lim = Limits()
    s = sub("serve", "Sert des specs en HTTP : evaluate, report, explain, diff (extra [server], docs/server.md).",
            "engine serve specs/ --port 8000\n  curl -s -X POST 'http://127.0.0.1:8000/v1/specs/coach-jeunesse/"
            "evaluate?at=2026-06-01' -H 'content-type: application/json' -d '{\"id\": \"B-1\"}'")
    s.add_argument("paths", nargs="*", default=["specs"], metavar="CHEMINS",
                   help="fichiers ou dossiers de specs (par défaut : specs/)")
    s.add_argument("--host", default="127.0.0.1", help="adresse d'écoute (par défaut : 127.0.0.1, cette machine "
                   "seulement ; 0.0.0.0 pour toutes les interfaces, derrière un proxy inverse)")
    s.add_argument("--port", type=port_arg, default=8000, help="port d'écoute (par défaut : 8000)")
    s.add_argument("--token-file", metavar="FICHIER", help="exige « Authorization: Bearer JETON » sur chaque requête "
                   "sauf /healthz, JETON étant la première ligne de FICHIER")
    s.add_argument("--max-body-bytes", type=positive_int_arg, default=lim.max_body_bytes, metavar="N",
                   help=f"plus grand corps de requête, en octets (par défaut : {lim.max_body_bytes}, 10 Mio)")
    s.add_argument("--max-records", type=positive_int_arg, default=lim.max_records, metavar="N",
                   help=f"nombre maximal d'enregistrements par requête (evaluate, cohorte de report ; par défaut : "
                        f"{lim.max_records})")
    s.add_argument("--max-seconds", type=seconds_arg, default=lim.max_seconds, metavar="S",
                   help=f"durée maximale d'une requête, en secondes (par défaut : {lim.max_seconds:g})")
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
        sys.stderr.write(f"engine : erreur interne ({type(e).__name__} : {e}) ; c'est un défaut du moteur, "
                         "merci de le signaler avec la ligne de commande (ENGINE_DEBUG=1 ou --debug montre la "
                         "trace)\n")
        return 70
    finally:
        restore()
        if debug_before is None:
            os.environ.pop("ENGINE_DEBUG", None)
        else:
            os.environ["ENGINE_DEBUG"] = debug_before


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
