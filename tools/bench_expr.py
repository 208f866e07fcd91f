"""Benchmark of compiled expressions against hand-written Python (issue 3 target: at most 2x, ~0.6 us/record).

    .venv/bin/python tools/bench_expr.py

Also times the limits (1 MB of text, 10,000 nested parentheses, 600 chained + / not / and) and compilation.
"""

from __future__ import annotations

import time
from datetime import date

from engine.expr.compiler import compile_expression
from engine.errors import EngineError
from engine.expr.runtime import Unknown, age, unknown
from engine.expr.types import BOOLEAN, DATE, STRING, EnumType, ListType, RecordType, Scope

TODAY = date(2026, 3, 1)
TERR = EnumType(("arrageois", "artois", "lens-lievin", "henin-carvin", "boulonnais"))
SCOPE = Scope({"department": STRING, "rsa": BOOLEAN, "birth_date": DATE, "territory": TERR,
               "events": ListType(RecordType({"type": STRING, "date": DATE, "mode": STRING}))})
RULE = 'department == "62" and (rsa or age(birth_date, today) <= 25) and territory in ["artois", "lens-lievin"]'


def hand_written(env, today):
    """What a careful programmer writes for RULE, with the same Kleene semantics."""
    missing = set()
    d = env["department"]
    if d.__class__ is Unknown:
        missing |= d.names
    elif d != "62":
        return False
    r = env["rsa"]
    if r is True:
        second = True
    else:
        b = env["birth_date"]
        if b.__class__ is Unknown:
            second = b
        else:
            second = age(b, today) <= 25
        if r.__class__ is Unknown and second is not True:
            second = Unknown(r.names | (second.names if second.__class__ is Unknown else frozenset()))
    if second is False:
        return False
    if second.__class__ is Unknown:
        missing |= second.names
    t = env["territory"]
    if t.__class__ is Unknown:
        missing |= t.names
    elif t not in ("artois", "lens-lievin"):
        return False
    return Unknown(frozenset(missing)) if missing else True


def records(n):
    out = []
    for i in range(n):
        out.append({"department": "62" if i % 5 else "59", "rsa": (i % 3 == 0) if i % 7 else unknown("rsa"),
                    "birth_date": date(1980 + i % 30, 1 + i % 12, 1 + i % 28),
                    "territory": ("artois", "lens-lievin", "boulonnais")[i % 3],
                    "events": [{"type": "appointment", "date": date(2026, 2, 1 + j), "mode": "in_person"}
                               for j in range(i % 4)]})
    return out


def per_record(fn, recs, repeat=5):
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        for r in recs:
            fn(r, TODAY)
        best = min(best, time.perf_counter() - t0)
    return best / len(recs) * 1e6


def timed(label, f):
    t0 = time.perf_counter()
    try:
        f()
        outcome = "value"
    except EngineError as e:
        outcome = e.code
    print(f"  {label:<40} {1000 * (time.perf_counter() - t0):8.2f} ms  ({outcome})")


def main():
    recs = records(20_000)
    compiled = compile_expression(RULE, SCOPE)
    for r in recs:
        assert compiled.fn(r, TODAY) == hand_written(r, TODAY)
    c_us, h_us = per_record(compiled.fn, recs), per_record(hand_written, recs)
    print(f"eligibility rule: compiled {c_us:.3f} us/record, hand-written {h_us:.3f} us/record, "
          f"ratio {c_us / h_us:.2f}")
    obligation = compile_expression('count(events where type == "appointment") >= 2 and '
                                    'count(events where type == "appointment" and mode == "in_person") >= 1', SCOPE)
    print(f"obligation (two filters): {per_record(obligation.fn, recs):.3f} us/record")
    t0 = time.perf_counter()
    for i in range(200):
        compile_expression(RULE + f" or {i} == 0", SCOPE)
    print(f"compile: {(time.perf_counter() - t0) / 200 * 1000:.2f} ms per expression")
    print("limits:")
    timed("1 MB of text", lambda: compile_expression("1 + " * 262_144, SCOPE))
    timed("10,000 nested parentheses", lambda: compile_expression("(" * 10_000 + "1" + ")" * 10_000, SCOPE))
    timed("4,000 nested parentheses (in length)", lambda: compile_expression("(" * 4_000 + "1" + ")" * 4_000, SCOPE))
    timed("600 chained +", lambda: compile_expression(" + ".join(["1"] * 601), SCOPE).fn({}, TODAY))
    timed("600 chained and", lambda: compile_expression(" and ".join(["rsa"] * 600), SCOPE).fn({"rsa": True}, TODAY))
    timed("600 chained not", lambda: compile_expression("not " * 600 + "rsa", SCOPE))
    timed("2,400 chained + (10,000 chars)", lambda: compile_expression(" + ".join(["1"] * 2_400), SCOPE).fn({}, TODAY))


if __name__ == "__main__":
    main()
