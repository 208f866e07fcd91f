"""Small hand-built specs for the evaluation tests (owner: C2).

The expressions here are plain Python functions wrapped as compiled expressions, so these tests exercise the
evaluation logic (records, path, deadlines, obligations) independently of the expression compiler. The tests that
go through real YAML specs and the compiler are in ``test_evaluate_cli.py``.
"""

from __future__ import annotations

from datetime import date
from types import SimpleNamespace

from engine.spec.model import (Anchor, Attribute, Convention, Deadline, EventType, Expr, Obligation, Phase, RuleGroup,
                          RuleLeaf, Source, Spec, Transition)
from engine.expr.runtime import Duration, Unknown


def D(s: str) -> date:
    return date.fromisoformat(s)


def dur(months: int = 0, days: int = 0) -> Duration:
    return Duration(months, days)


def expr(fn, text: str = "<python>") -> Expr:
    return Expr(text, SimpleNamespace(fn=fn, names=None))  # names unknown: the evaluation assumes it reads all


def kleene_and(*vals):
    if any(v is False for v in vals):
        return False
    unk = [v for v in vals if v.__class__ is Unknown]
    if unk:
        names = frozenset().union(*(u.names for u in unk))
        return Unknown(names)
    return True


def is_(name, value):
    """``name == value`` with unknown propagation."""
    def fn(env, today):
        v = env[name]
        return v if v.__class__ is Unknown else v == value
    return fn


def leaf(id: str, fn, label: str | None = None, source: str = "01-dynamisation-des-parcours.txt:16") -> RuleLeaf:
    return RuleLeaf(id=id, label=label or id, expr=expr(fn, id), source=Source(source))


def group(op: str, *children, id: str | None = None) -> RuleGroup:
    return RuleGroup(op=op, children=tuple(children), id=id)


def attr(name: str, type_: str, **decl) -> Attribute:
    return Attribute(name=name, type=None, decl={"type": type_, **decl})


ATTRS = {a.name: a for a in [
    attr("birth_date", "date"), attr("department", "string"), attr("rsa", "boolean"),
    attr("disability", "boolean"), attr("peripheral_barriers", "integer"), attr("income", "number"),
    attr("sex", "enum", values=["F", "M"]), attr("tags", "list", items={"type": "string"}),
]}

EVENTS = {
    "appointment": EventType("appointment", "Rendez-vous", {"mode": attr("mode", "enum", values=["in_person", "phone"])}),
    "activity": EventType("activity", "Activité", {"hours": attr("hours", "number")}),
    "collective_action": EventType("collective_action", "Action collective", {}),
}


def make_spec(**kw) -> Spec:
    base = dict(id="test-spec", version="2026.1", title="Test", path=None, attributes=ATTRS, events=EVENTS)
    base.update(kw)
    return Spec(**base)


# ------------------------------------------------------------------------------------------------ a path spec

SRC = "01-dynamisation-des-parcours.txt:54"

PHASES = {
    "orientation": Phase("orientation", "Orientation", initial=True, source=Source(SRC)),
    "accueil": Phase("accueil", "Accueil", source=Source(SRC)),
    "contrat": Phase("contrat", "Contrat d'engagement", min_duration=dur(1), max_duration=dur(6), max_renewals=2,
                     total_max_duration=dur(15), source=Source("01-dynamisation-des-parcours.txt:79")),
    "sortie": Phase("sortie", "Sortie", final=True, source=Source(SRC)),
}


def _rsa_guard(env, today):
    return env["rsa"]


TRANSITIONS = (
    Transition(0, "orientation", "accueil", "Accueil dans les 15 jours", within=dur(days=15), source=Source(SRC)),
    Transition(1, "accueil", "contrat", "Signature du CE", guard=expr(_rsa_guard, "rsa"), source=Source(SRC)),
    Transition(2, "accueil", "sortie", "Sortie après accueil", source=Source(SRC)),
    Transition(3, "contrat", "contrat", "Renouvellement", source=Source(SRC)),
    Transition(4, "contrat", "sortie", "Sortie", after=dur(days=7), source=Source(SRC)),
)


def appointments_ok(env, today):
    evs = [e for e in env["events"] if e["type"] == "appointment"]
    return len(evs) >= 2 and any(e.get("mode") == "in_person" for e in evs)


def path_spec(**kw) -> Spec:
    base = dict(
        phases=PHASES, transitions=TRANSITIONS,
        convention=Convention(D("2026-01-01"), D("2027-12-31"), dur(24), source=Source("01-dynamisation-des-parcours.txt:120")),
        deadlines=(
            Deadline("first_appointment", "Premier rendez-vous physique dans les 15 jours",
                     Anchor("phase", "orientation"), Anchor("event", "appointment"), dur(days=15),
                     where=expr(lambda env, t: env.get("mode") == "in_person", 'mode == "in_person"'),
                     source=Source("01-dynamisation-des-parcours.txt:31")),
            Deadline("contract_signed", "CE signé dans les 4 semaines", Anchor("phase", "orientation"),
                     Anchor("phase", "contrat"), dur(days=28), source=Source(SRC)),
        ),
        obligations=(
            Obligation("monthly_appointments", "Au moins 2 rendez-vous par mois, dont 1 physique", ("contrat",),
                       "month", expr(appointments_ok), source=Source("01-dynamisation-des-parcours.txt:70")),
        ),
    )
    base.update(kw)
    return make_spec(**base)


def rec(history=(), events=(), **attrs) -> dict:
    r = {"id": attrs.pop("id", "B-1"), "rsa": True, "department": "62"}
    r.update(attrs)
    r["history"] = [{"phase": p, "date": d} for p, d in history]
    r["events"] = [dict(e) for e in events]
    return r


def appt(d: str, mode: str = "in_person") -> dict:
    return {"type": "appointment", "date": d, "mode": mode}


def obligation_on_every_path(spec, record: dict, at: date):
    """Evaluate ``record`` and return ``(output, its only obligation, that obligation's trace)``, after checking that
    the plain path (the reference of the fast one) gives the same output and the trace the same status."""
    import dataclasses

    from engine.beneficiary import evaluate as E
    from engine.beneficiary.explain import explain_record

    out = E.evaluate_record(spec, record, at)
    (ob,) = out["obligations"]
    plain = dataclasses.replace(E.plan_for(spec), fast=False)
    assert E._evaluate(plain, E._copy(record), at, plain.binder.params({}), None) == out
    (traced,) = explain_record(spec, record, at)["obligations"]
    assert traced["status"] == ob["status"]
    return out, ob, traced
