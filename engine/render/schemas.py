"""JSON Schemas (2020-12) of the engine's machine outputs: ``evaluate`` (one decision per record), ``report`` (an
operation and its cohort) and ``diff`` (two spec versions and their impact).

``engine schema --output NAME`` prints one; the HTTP API's OpenAPI document uses them; the tests validate every
real output of the bundled samples (and of synthetic records) against them, so a schema cannot drift from what the
engine writes. What each schema promises:

- **evaluate**: closed (no key the schema does not name). A record is either ``status: ok`` with every key of the
  decision, or ``status: error`` with ``error: {code, message}`` and the input ``line``; both carry ``id``,
  ``spec``, ``spec_version``. Dates are ``YYYY-MM-DD`` texts; ``eligible`` and a reason's ``value`` are true,
  false or null (unknown, with ``missing``). ``--format json`` writes an array of these; CSV has no schema.
- **report**: every section the report always has is required and typed, and so are the keys of their items; the
  items of a section may carry more keys than listed (details that depend on the spec, e.g. ``cap_applied``):
  a client must ignore keys it does not know. Money is a JSON number with two decimals, rates are decimals
  (``0.4``), dates ``YYYY-MM-DD``.
- **diff**: closed, except ``old``/``new`` of a change (any JSON value: a threshold, a rule, an example) and the
  items of ``impact`` (its counts are required).

Names (``NAMES``) are stable; the schemas' ``$id`` is ``https://pas-de-calais.fr/dispositif-engine/NAME.output.schema.json``.
"""

from __future__ import annotations

import json
from functools import lru_cache
from typing import Any

NAMES = ("evaluate", "report", "diff")
DRAFT = "https://json-schema.org/draft/2020-12/schema"

STR = {"type": "string"}
INT = {"type": "integer", "minimum": 0}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
DATE = {"type": "string", "format": "date", "pattern": r"^\d{4}-\d{2}-\d{2}$"}
NULL = {"type": "null"}
ANY: dict = {}


def _n(schema: dict) -> dict:
    """``schema`` or null."""
    return {"anyOf": [schema, NULL]}


def _arr(items: dict) -> dict:
    return {"type": "array", "items": items}


def _obj(props: dict, required: tuple | list | None = None, closed: bool = True, **extra) -> dict:
    """An object with ``props``; every key required unless ``required`` lists the required ones."""
    d = {"type": "object", "properties": props, "required": list(props if required is None else required)}
    if closed:
        d["additionalProperties"] = False
    d.update(extra)
    return d


def _enum(*values, doc: str | None = None) -> dict:
    d = {"enum": list(values)}
    if doc:
        d["description"] = doc
    return d


# --------------------------------------------------------------------------------------------- evaluate

MISSING = _arr(STR)
WINDOW = _obj({"start": DATE, "end": DATE})
VIOLATION = _obj({
    "code": _enum("dates_out_of_order", "unknown_phase", "after_end", "illegal_start", "transition_not_allowed",
                  "deadline_missed", "min_duration_not_reached", "max_duration_exceeded", "guard_failed",
                  "renewals_exceeded", "total_duration_exceeded", "obligation_unmet", "outside_convention",
                  "event_after_exit",
                  doc="what is wrong (stable English code; the French sentence is `message`)"),
    "at": _n(INT), "date": _n(DATE), "rule": _n(STR), "source": _n(STR), "message": STR,
    "limit": DATE, "earliest": _n(DATE), "early": _n(DATE), "window": WINDOW, "event": INT,
}, required=("code", "at", "date", "rule", "source", "message"),
    description="A step of the history that breaks a rule: `at` is its 0-based index in `history` (or the index of "
                "the step it is measured from), `date` when it happened, `rule` and `source` the rule and its text "
                "line, `limit` the last date allowed, `window` the obligation window that failed.")
NEXT = _obj({"phase": STR, "label": _n(STR), "earliest": _n(DATE), "latest": _n(DATE), "condition": STR},
            required=("phase", "label", "earliest", "latest"),
            description="A phase the beneficiary may legally move to next, from `earliest` to `latest` (inclusive); "
                        "`condition` when a guard must also hold.")
REASON = _obj({"rule": STR, "value": _n(BOOL), "text": _n(STR), "source": _n(STR), "missing": MISSING,
               "assessed_at": _enum("entry", "evaluation"), "assessed_on": DATE, "assessed": STR},
              required=("rule", "value", "text", "source"),
              description="One eligibility rule and its value for this record: true, false, or null (unknown: "
                          "`missing` names the attributes that would decide it). A rule written `assessed_at: "
                          "entry` says the date its condition was assessed on (`assessed_on`: the entry into the "
                          "programme, or the evaluation date before any entry) and, in French, `assessed`.")
DEADLINE = _obj({"id": STR,
                 "status": _enum("met", "missed", "pending", "early", "not_applicable"),
                 "due": _n(DATE), "date": _n(DATE), "earliest": _n(DATE), "early": _n(DATE), "phase_end": DATE,
                 "missing": MISSING},
                required=("id", "status", "due", "date"))
OBLIGATION = _obj({"id": STR, "status": _enum("met", "unmet", "pending", "not_applicable"),
                   "windows_checked": INT, "windows_skipped": INT, "windows_pending": INT, "failed": _arr(WINDOW),
                   "missing": MISSING},
                  required=("id", "status", "windows_checked", "windows_skipped", "windows_pending", "failed"))
PATH = _obj({"legal": BOOL, "current_phase": _n(STR), "first_violation": _n(VIOLATION),
             "violations": _arr(VIOLATION), "next": _arr(NEXT), "missing": MISSING},
            required=("legal", "current_phase", "first_violation", "violations", "next"))
HEADER = {"id": _n(STR), "spec": STR, "spec_version": _n(STR),
          "file": {"type": "string", "description": "the input file of the record, when several were given"}}
DECISION = _obj({**HEADER, "as_of": DATE, "status": {"const": "ok"}, "eligible": _n(BOOL),
                 "reasons": _arr(REASON), "missing": MISSING, "path": PATH, "deadlines": _arr(DEADLINE),
                 "obligations": _arr(OBLIGATION)},
                required=("id", "spec", "spec_version", "as_of", "status", "eligible", "reasons", "missing", "path",
                          "deadlines", "obligations"),
                description="The decision for one record.")
RECORD_ERROR = _obj({**HEADER, "status": {"const": "error"},
                     "error": _obj({"code": STR, "message": STR}),
                     "line": _n({"type": "integer", "minimum": 1})},
                    required=("id", "spec", "spec_version", "status", "error", "line"),
                    description="A record that could not be read or evaluated: `error.code` is stable "
                                "(invalid_json, wrong_type, missing_id, evaluation_error...), `error.message` is "
                                "French; `line` is its line in the input (1-based).")


def _evaluate() -> dict:
    return {"$schema": DRAFT, "$id": "https://pas-de-calais.fr/dispositif-engine/evaluate.output.schema.json",
            "title": "engine evaluate: one output per input record",
            "description": "One JSON object per input record, in input order (JSONL), or an array of them "
                           "(--format json).",
            "oneOf": [DECISION, RECORD_ERROR],
            "$defs": {"decision": DECISION, "record_error": RECORD_ERROR, "reason": REASON, "path": PATH,
                      "violation": VIOLATION, "deadline": DEADLINE, "obligation": OBLIGATION}}


# --------------------------------------------------------------------------------------------- report

CHECK_STATUS = _enum("passed", "failed", "unknown", doc="true, false or not decidable (missing data)")
PERIOD = _obj({"from": _n(DATE), "to": _n(DATE)})
SOURCE = _n(STR)
MONEY = {"type": "number", "description": "euros, to the cent"}
RATE = {"type": "number", "description": "a decimal rate (0.4 = 40 %)"}


def _item(props: dict, required: tuple) -> dict:
    return _obj(props, required=required, closed=False)


CHECK_ROW = _item({"id": STR, "label": _n(STR), "status": {"type": "string"}, "condition": _n(STR),
                   "source": SOURCE, "interpretation": _n(STR), "missing": MISSING},
                  ("id", "label", "status", "source"))
OPERATOR = _obj({"eligible": _n(BOOL),
                 "reasons": _arr(_item({"rule": STR, "value": _n(BOOL), "text": _n(STR), "source": SOURCE,
                                        "missing": MISSING, "error": STR}, ("rule", "value", "text", "source"))),
                 "missing": MISSING, "note": STR}, required=("eligible", "reasons", "missing"))
FUNDING_PLAN = _obj({
    "conforming": _n(BOOL),
    "staff": _arr(_item({"id": STR, "role": _n(STR), "cost": _n(MONEY), "allocation": _n(NUM),
                         "work_time": _n(NUM), "status": _enum("passed", "failed", "excluded", "unknown"),
                         "reason": _n(STR)}, ("id", "status"))),
    "min_staff_allocation": _item({"rate": RATE, "label": _n(STR), "source": SOURCE,
                                   "status": _enum("passed", "failed", "unknown", "not_applicable"),
                                   "funds": _arr(STR), "note": STR},
                                  ("rate", "status")),
    "eligible_cost_categories": _arr(_item({"id": STR, "label": _n(STR), "excluded": BOOL, "source": SOURCE,
                                            "declared": _n(MONEY), "maximum": _n(MONEY), "amount": MONEY,
                                            "status": _enum("counted", "capped", "excluded", "not_declared"),
                                            "reason": STR}, ("id", "label", "excluded"))),
    "direct_staff_costs": _n(MONEY), "other_costs": _n(MONEY), "eligible_costs": _n(MONEY),
    "other_costs_declared": MONEY, "other_costs_excluded": STR,
    "flat_rates": _arr(_item({"id": STR, "label": _n(STR), "rate": RATE, "amount": _n(MONEY), "covers": _arr(STR),
                              "source": SOURCE}, ("id", "rate", "amount"))),
    "department_share": _item({"rate": _n(RATE), "label": _n(STR), "source": SOURCE, "total_funding": _n(MONEY),
                               "expected": _n(MONEY), "declared": _n(MONEY), "status": CHECK_STATUS,
                               "amount_on_eligible_costs": _n(MONEY)}, ("rate", "status")),
    "caps": _arr(_item({"id": STR, "label": _n(STR), "on": _enum("grant", "earned"), "amount": _n(MONEY),
                        "expression": _n(STR), "source": SOURCE, "binding": BOOL}, ("id", "on", "amount"))),
    "rules": _arr(CHECK_ROW),
    "grant": _n(MONEY), "grant_awarded": _n(MONEY), "max_grant": _n(MONEY), "max_grant_binding": _n(STR),
    "grant_within_max": STR,
    "expenses": _item({
        "label": _n(STR), "source": SOURCE, "paid_by": _n(STR), "payments_judged_at": _n(DATE),
        "lines": _arr(_item({"id": STR, "label": _n(STR), "planned": _n(MONEY), "spent": MONEY, "retained": MONEY,
                             "beyond_planned": MONEY, "note": STR, "staff": STR},
                            ("id", "planned", "spent", "retained"))),
        "planned": MONEY, "spent": MONEY, "retained": MONEY, "excluded_count": INT,
        "excluded": _arr(_item({"line": STR, "ref": _n(STR), "amount": MONEY, "date": DATE, "paid_on": _n(DATE),
                                "reason": STR}, ("line", "amount", "date", "reason"))),
        "note": STR, "department_share_of_retained": MONEY, "warning": STR, "so_far": STR, "interpretation": STR,
        "retained_direct_staff_costs": MONEY, "retained_other_costs_covered": MONEY, "retained_eligible_costs": MONEY,
        "retained_flat_rates": _arr(_item({"id": STR, "label": _n(STR), "rate": RATE, "amount": MONEY},
                                          ("id", "rate", "amount")))},
        ("lines", "planned", "spent", "retained", "excluded_count", "excluded")),
}, required=("conforming",), closed=False)
CAPACITY = _item({"id": STR, "label": _n(STR), "per_fte": _n(NUM), "fte": _n(NUM), "capacity": _n(NUM),
                  "actual": _n(NUM), "limit": _enum("target", "maximum"), "position": _n(STR),
                  "status": CHECK_STATUS, "source": SOURCE, "activity": STR, "note": STR},
                 ("id", "label", "capacity", "actual", "status"))
BREAKDOWN_ROW = _item({"key": _n({"type": ["string", "number", "boolean"]}), "label": STR, "value": _n(NUM),
                       "numerator": _n(NUM), "denominator": _n(NUM), "unknown": INT}, ("key", "label", "value"))
BREAKDOWN = _item({"id": STR, "label": _n(STR), "by": STR, "rows": _arr(BREAKDOWN_ROW)}, ("id", "by", "rows"))
INDICATOR = _item({"id": STR, "label": _n(STR), "unit": _n(STR), "period": PERIOD, "source": SOURCE,
                   "breakdowns": _arr(BREAKDOWN),
                   "value": _n(NUM), "numerator": _n(NUM), "denominator": _n(NUM), "unknown": INT,
                   "numerator_label": _n(STR), "denominator_label": _n(STR),
                   "target": _n(NUM), "target_kind": _n(STR), "status": STR, "interpretation": _n(STR)},
                  ("id", "label", "period", "value"))
FUNDING = _obj({"base": _n(MONEY), "total": _n(MONEY), "note": STR, "cap_applied": _n(STR),
                "uncapped_total": _n(MONEY),
                "parts": _arr(_item({"id": STR, "label": _n(STR), "weight": RATE,
                                     "mode": _enum("proportional", "threshold", "all_or_nothing"),
                                     "threshold": _n(RATE), "objective": _n(NUM), "achieved": _n(NUM),
                                     "ratio": _n(NUM), "maximum": _n(MONEY), "amount": _n(MONEY), "rule": _n(STR),
                                     "source": SOURCE, "interpretation": _n(STR)},
                                    ("id", "weight", "objective", "achieved", "amount")))},
               required=("base", "parts", "total"), closed=False)
TRANCHE = _item({"id": STR, "label": _n(STR), "share": _n(RATE), "at_most": BOOL, "planned": _n(MONEY),
                 "amount": _n(MONEY), "due_date": _n(DATE), "review_due": _n(DATE),
                 "status": _enum("scheduled", "due", "awaiting_review", "review_late", "recovery", "not_due",
                                 "unknown"),
                 "note": _n(STR), "source": SOURCE, "missing": MISSING},
                ("id", "label", "share", "planned", "amount", "due_date", "status"))
PAYMENTS = _obj({"grant": _n(MONEY), "earned": _n(MONEY), "tranches": _arr(TRANCHE), "planned_total": _n(MONEY),
                 "total": _n(MONEY), "due_at": _n(MONEY)}, required=("tranches", "total", "due_at"), closed=False)
REPORTING = _item({"id": STR, "label": _n(STR), "status": STR, "source": SOURCE, "due": _n(DATE),
                   "submitted": _n(DATE), "opens": _n(DATE), "note": _n(STR), "condition": _n(STR), "event": STR,
                   "min": _n(INT), "max": _n(INT), "over": _enum("convention"),
                   "settles": _enum("at_least", "at_most", "at_end"),
                   "severity": _enum("warning"), "warnings": _arr(STR),
                   "windows": _arr(_item({"from": DATE, "to": DATE, "count": INT,
                                          "status": _enum("met", "unmet", "pending", "skipped", "unknown"),
                                          "partial": BOOL, "undecided": INT, "severity": _enum("warning")},
                                         ("from", "to", "count", "status"))),
                   "max_gap": STR, "count": INT,
                   "gaps": _arr(_item({"from": DATE, "to": DATE, "days": INT, "limit": DATE,
                                       "status": _enum("met", "unmet", "pending")},
                                      ("from", "to", "days", "limit", "status"))),
                   "before_each": STR, "from": DATE, "missing": _arr(STR), "undated": INT,
                   "anchors": _arr(_item({"date": DATE, "preceded_by": _n(DATE), "status": _enum("met", "unmet")},
                                         ("date", "preceded_by", "status")))},
                  ("id", "label", "status", "source"))


CONVENTION = _obj({"start": _n(DATE), "end": _n(DATE), "months": _n(INT), "months_used": _n(INT),
                   "max_months": _n(INT), "status": CHECK_STATUS,
                   "checks": _arr(_obj({"id": _enum("start", "order", "end", "min_duration", "max_duration"), "status": CHECK_STATUS,
                                        "message": STR, "source": SOURCE}))},
                  required=("start", "end", "months", "months_used", "status", "checks"),
                  description="The operation's convention against the text: its start, end and length; "
                              "`months_used` is the length the amounts use (at most the maximum).")


def _report() -> dict:
    return {"$schema": DRAFT, "$id": "https://pas-de-calais.fr/dispositif-engine/report.output.schema.json",
            "title": "engine report --format json: an operation, its cohort, the money due",
            **_obj({"spec": STR, "spec_version": _n(STR), "operation": _n(STR), "as_of": DATE, "period": PERIOD,
                    "convention": CONVENTION,
                    "parameters": {"type": "object", "description": "the spec's parameters (null: not given)"},
                    "missing_parameters": _arr(STR), "operator": OPERATOR, "funding_plan": FUNDING_PLAN,
                    "capacity": _arr(CAPACITY),
                    "cohort": _obj({"read": INT, "participants": INT, "entered_by": DATE,
                                    "left_out": _obj({"not_entered": INT, "errors": INT}),
                                    "entry_unknown": INT, "errors": INT,
                                    "error_samples": _arr({"type": "object"}),
                                    "not_entered_samples": _arr(_obj({"line": INT, "id": _n(STR), "entry": DATE})),
                                    "rule": STR}, required=("participants", "errors", "error_samples")),
                    "constraints": _arr(CHECK_ROW), "indicators": _arr(INDICATOR), "funding": FUNDING,
                    "payments": PAYMENTS, "reporting": _arr(REPORTING)})}


# --------------------------------------------------------------------------------------------- diff

VERSION = _obj({"ref": STR, "id": _n(STR), "version": _n(STR), "title": _n(STR), "valid_from": _n(DATE),
                "valid_until": _n(DATE)})
CHANGE = _obj({"section": STR, "path": STR, "kind": _enum("added", "removed", "changed"), "old": ANY, "new": ANY,
               "sentence": STR, "semantic": BOOL, "constants": _arr(_obj({"old": STR, "new": STR})),
               "where": STR, "used_by": _arr(STR), "source": STR},
              required=("section", "path", "kind", "old", "new", "sentence", "semantic"),
              description="One difference: `path` is section.id.field, `sentence` the French wording, `semantic` "
                          "whether it can change a decision, `constants` the thresholds of an expression that "
                          "differs only by them, `where` file:line of the change, `source` the text line the "
                          "changed element cites.")
IMPACT_KIND = _item({"kind": _enum("status", "eligibility", "path", "deadline", "obligation"), "item": _n(STR),
                     "old": ANY, "new": ANY, "count": INT, "examples": _arr(STR), "key": STR, "sentence": STR},
                    ("kind", "item", "old", "new", "count", "examples", "sentence"))
AMOUNT = _obj({"section": _enum("funding_plan", "funding", "payment"), "id": STR, "label": _n(STR),
               "old": _n(MONEY), "new": _n(MONEY), "delta": _n(MONEY), "old_status": _n(STR), "new_status": _n(STR)},
              required=("section", "id", "label", "old", "new", "delta"),
              description="One amount of the operation under both versions (null on the side that lacks it).")
MONEY_IMPACT = _obj({"operation": STR, "at": DATE, "changed": INT, "amounts": _arr(AMOUNT)},
                    description="engine diff --operation: the operation's amounts under both versions.")
IMPACT = _obj({"at": DATE, "records": INT, "changed": INT, "unchanged": INT, "unreadable": INT,
               "kinds": _arr(IMPACT_KIND)}, required=("at", "records", "changed", "unchanged", "unreadable", "kinds"),
              closed=False)


def _diff() -> dict:
    return {"$schema": DRAFT, "$id": "https://pas-de-calais.fr/dispositif-engine/diff.output.schema.json",
            "title": "engine diff --format json: the semantic diff of two spec versions and its impact",
            **_obj({"old": VERSION, "new": VERSION, "warnings": _arr(STR),
                    "summary": _obj({"changes": INT, "semantic": INT}), "changes": _arr(CHANGE),
                    "impact": _n(IMPACT), "money": _n(MONEY_IMPACT)}, required=("old", "new", "warnings", "summary",
                                                                                  "changes", "impact"))}


# --------------------------------------------------------------------------------------------- access

_BUILDERS = {"evaluate": _evaluate, "report": _report, "diff": _diff}


@lru_cache(maxsize=None)
def _cached(name: str) -> str:
    return json.dumps(_BUILDERS[name](), ensure_ascii=False, indent=2)


def output_schema(name: str) -> dict:
    """The JSON Schema of the output ``name`` (one of :data:`NAMES`), a fresh dict."""
    if name not in _BUILDERS:
        raise KeyError(name)
    return json.loads(_cached(name))


def output_schema_text(name: str) -> str:
    return _cached(name) + "\n"


@lru_cache(maxsize=None)
def _validator(name: str):
    import jsonschema

    schema = output_schema(name)
    cls = jsonschema.validators.validator_for(schema)
    return cls(schema, format_checker=cls.FORMAT_CHECKER)


@lru_cache(maxsize=None)
def _branch(defname: str):
    import jsonschema

    schema = output_schema("evaluate")
    sub = dict(schema["$defs"][defname], **{"$defs": schema["$defs"], "$schema": DRAFT})
    cls = jsonschema.validators.validator_for(sub)
    return cls(sub, format_checker=cls.FORMAT_CHECKER)


def output_errors(name: str, value: Any) -> list[str]:
    """Every way ``value`` breaks the schema of output ``name``, as ``path: message`` lines (empty: it conforms).

    For ``evaluate``, a record is checked against the branch its ``status`` names (``ok``: a decision, ``error``: a
    record error), so that the message says which key is wrong rather than "not valid under any of the schemas"."""
    validator = _validator(name)
    if name == "evaluate" and isinstance(value, dict) and value.get("status") in ("ok", "error"):
        validator = _branch("decision" if value["status"] == "ok" else "record_error")
    out = []
    for e in sorted(validator.iter_errors(value), key=lambda e: list(map(str, e.absolute_path))):
        where = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in e.absolute_path) or "(root)"
        out.append(f"{where}: {e.message}")
    return out


__all__ = ["NAMES", "output_errors", "output_schema", "output_schema_text"]
