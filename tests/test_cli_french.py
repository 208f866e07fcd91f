"""The command line and the expression language speak French: argparse's own usage errors and --help headings,
every option's help, and every message (and hint) of an expression error; the codes stay English."""

from __future__ import annotations

import argparse
import re

import pytest

from engine.cli.args import ARGPARSE_FR
from engine.cli.main import build_parser, main
from engine.errors import EngineError

# words that only an English sentence has (names in expressions never use them in the cases below)
ENGLISH = re.compile(r"\b(the|cannot|expected|expects|got|unknown|write|must|should|missing|usage|default|show|"
                     r"with|without|between|too|than|only|found|file|folder|required|invalid|choose|of|this|print|"
                     r"from|every|instead|when|which)\b", re.I)
# and in the help of an option, where no expression is quoted
ENGLISH_HELP = re.compile(ENGLISH.pattern[:-3] + r"|is|and|for|as|or|in|on|its|one|same)\b", re.I)


def run(capsys, *argv):
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize("argv, fragment", [
    (["evaluate"], "engine evaluate : arguments obligatoires manquants : --spec, ENREGISTREMENTS"),
    (["report", "--spec", "s.yaml"], "arguments obligatoires manquants : --operation, --records"),
    (["check", "--bogus"], "engine : arguments inconnus : --bogus"),
    (["evaluate", "--spec", "s", "--format", "pdf", "r"],
     "argument --format : choix invalide : 'pdf' (choisissez parmi 'jsonl', 'json', 'csv', 'text')"),
    (["evalute"], "argument COMMANDE : choix invalide : 'evalute'"),
    (["expr", "1", "--at", "12/01/2026"], "argument --at : une date comme 2026-03-01 est attendue, pas « 12/01/2026 »"),
    (["evaluate", "--spec", "s", "--jobs", "0", "r"], "un nombre de processus (1, 2, ...) ou auto est attendu"),
    (["evaluate", "--spec", "s", "--param", "x", "r"], "argument --param : NOM=VALEUR est attendu, pas « x »"),
    (["serve", "--port", "99999"], "un numéro de port (0-65535) est attendu, pas « 99999 »"),
    (["expr", "1", "--at"], "argument --at : une valeur est attendue"),
])
def test_usage_errors_are_french_with_the_usage_code(capsys, argv, fragment):
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "" and "Traceback" not in err
    assert fragment in err, err
    assert "conseil : voir « engine" in err and "--help »" in err
    with pytest.raises(EngineError) as info:
        build_parser().parse_args(argv)
    assert info.value.code == "usage"


def test_argparse_messages_are_french_only_inside_our_parser(capsys):
    run(capsys, "evaluate")
    # the French table is put in place while our parser works, then argparse is as it was for any other program
    assert argparse._("usage: ") == "usage: "
    plain = argparse.ArgumentParser(prog="other")
    assert plain.format_help().startswith("usage: other")
    with pytest.raises(SystemExit):
        plain.parse_args(["--nope"])
    assert "unrecognized arguments" in capsys.readouterr().err


def test_the_help_of_engine_has_french_headings(capsys):
    code, out, _ = run(capsys, "--help")
    assert code == 0
    assert out.startswith("utilisation : engine [-h]")
    for heading in ("options :", "commandes :", "exemple :", "-h, --help  affiche cette aide et quitte",
                    "--version   affiche la version et quitte"):
        assert heading in out, heading
    assert "usage:" not in out and "positional arguments" not in out and "show this help" not in out


def _subcommands():
    p = build_parser()
    subs = next(a for a in p._actions if isinstance(a, argparse._SubParsersAction))
    return subs.choices


@pytest.mark.parametrize("name", sorted(_subcommands()))
def test_every_command_help_is_french(capsys, name):
    code, out, _ = run(capsys, name, "--help")
    assert code == 0
    assert out.startswith(f"utilisation : engine {name}")
    assert "options :" in out and "exemple :" in out and "affiche cette aide et quitte" in out
    for heading in ("usage:", "positional arguments", "optional arguments", "show this help", "example:"):
        assert heading not in out, heading
    for action in _subcommands()[name]._actions:
        text = action.help or ""
        if text is argparse.SUPPRESS:
            continue
        # the help of an option is a French sentence (metavars and values such as `jsonl` aside)
        english = ENGLISH_HELP.findall(re.sub(r"`[^`]*`|\$\w+|--[\w-]+|\[[\w-]+\]|\.\w+|\w+://\S+", "", text))
        assert not english, f"{name} {action.option_strings or action.dest}: {text!r}"


def test_the_table_translates_every_message_argparse_shows_a_user():
    shown = ["usage: ", "positional arguments", "options", "show this help message and exit",
             "the following arguments are required: %s", "unrecognized arguments: %s",
             "argument %(argument_name)s: %(message)s", "expected one argument", "expected at most one argument",
             "expected at least one argument", "invalid choice: %(value)r (choose from %(choices)s)",
             "invalid %(type)s value: %(value)r", "not allowed with argument %s", "one of the arguments %s is required",
             "ambiguous option: %(option)s could match %(matches)s", "ignored explicit argument %r"]
    for msgid in shown:
        assert msgid in ARGPARSE_FR and ARGPARSE_FR[msgid] != msgid or msgid == "options", msgid
        # the French keeps argparse's placeholders, so that formatting cannot fail
        assert re.findall(r"%\(\w+\)[sr]|%[sr]", ARGPARSE_FR[msgid]) == re.findall(r"%\(\w+\)[sr]|%[sr]", msgid)


def _error_cases():
    from test_expr_cases import CASES

    return [c for c in CASES if "error" in c]


@pytest.mark.parametrize("case", _error_cases(), ids=lambda c: str(c.get("expr"))[:40])
def test_expression_errors_are_french(case):
    from test_expr_cases import run_case

    with pytest.raises(EngineError) as info:
        run_case(case)
    for d in info.value.diagnostics:
        assert d.code == case["error"] or d is not info.value.diagnostics[0]
        for text in (d.message, d.hint or ""):
            words = ENGLISH.findall(text.replace(str(case.get("expr", "")), ""))
            # "did you mean" comes from engine.errors.did_you_mean, shared with the spec checks
            assert not words or text.startswith("did you mean"), f"{case['expr']!r}: {text!r}"
