"""Helpers to build example records and emit them as YAML examples / JSONL samples (D1, not shipped)."""
import datetime as dt, json

D = dt.date.fromisoformat

def iso(x):
    return x.isoformat() if isinstance(x, dt.date) else x

def add_months(d, n):
    y, m = divmod(d.month - 1 + n, 12)
    y += d.year; m += 1
    import calendar
    return dt.date(y, m, min(d.day, calendar.monthrange(y, m)[1]))

CONVENTION_START = dt.date(2026, 1, 1)


def into_convention(name, rec, at):
    """A scenario whose path starts before the convention (01/01/2026: a long path reaching its renewals by mid-2026)
    moved one year later, history, events and evaluation date alike (2025 and 2026 have no 29 February, so every
    date moves by 365 days and day-of-month rules are unchanged): a step or an event before the start of the
    convention is a violation (outside_convention), which these scenarios are not about. Dates in the name move too."""
    hist = rec.get("history") or []
    if not hist or min(d for _p, d in hist) >= CONVENTION_START:
        return name, rec, at
    rec = dict(rec)
    rec["history"] = [(p, add_months(d, 12)) for p, d in hist]
    rec["events"] = [{**e, "date": add_months(e["date"], 12)} for e in rec.get("events") or []]
    name = name.replace("/2026", "/2027").replace("/2025", "/2026")
    return name, rec, iso(add_months(D(at), 12))


def months_touching(start, end):
    """first days of calendar months overlapping [start, end)"""
    cur = dt.date(start.year, start.month, 1)
    while cur < end:
        yield cur
        cur = add_months(cur, 1)

def weeks_touching(start, end):
    cur = start - dt.timedelta(days=start.weekday())
    while cur < end:
        yield cur
        cur += dt.timedelta(days=7)

def inside(d, start, end):
    return start <= d < end

def monthly_appointments(start, end, days=((5, "in_person"), (19, "phone"))):
    out = []
    for m in months_touching(start, end):
        for day, mode in days:
            d = m.replace(day=day)
            if inside(d, start, end):
                out.append({"type": "appointment", "date": d, "mode": mode})
    return out

def monthly_event(start, end, typ, day=27, **fields):
    out = []
    for m in months_touching(start, end):
        d = m.replace(day=day)
        if inside(d, start, end):
            out.append({"type": typ, "date": d, **fields})
    return out

def weekly_activity(start, end, hours=15, weekday=2, override=None):
    out = []
    for w in weeks_touching(start, end):
        d = w + dt.timedelta(days=weekday)
        if inside(d, start, end):
            h = (override or {}).get(w, hours)
            out.append({"type": "activity", "date": d, "hours": h})
    return out

def clean(rec):
    r = {}
    for k, v in rec.items():
        if k == "history":
            r[k] = [{"phase": p, "date": iso(d)} for p, d in v]
        elif k == "events":
            evs = sorted(v, key=lambda e: (e["date"], e["type"]))
            r[k] = [{kk: iso(vv) for kk, vv in e.items()} for e in evs]
        else:
            r[k] = iso(v)
    return r

def yscalar(v):
    if isinstance(v, bool):
        return "true" if v else "false"
    if v is None:
        return "null"
    if isinstance(v, (int, float)):
        return str(v)
    if isinstance(v, list):
        return "[" + ", ".join(yscalar(x) for x in v) + "]"
    s = str(v)
    import re
    if re.fullmatch(r"\d{4}-\d\d-\d\d", s):
        return s
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_\-]*", s) and s not in ("true", "false", "null", "yes", "no", "on", "off", "y", "n"):
        return s
    return json.dumps(s, ensure_ascii=False)

def flow(d):
    return "{" + ", ".join(f"{k}: {yscalar(v)}" for k, v in d.items()) + "}"

def example_yaml(name, at, record, expect, params=None, indent="  "):
    r = clean(record)
    L = [f"{indent}- name: {json.dumps(name, ensure_ascii=False)}", f"{indent}  at: {at}"]
    if params:
        L.append(f"{indent}  params: {flow(params)}")
    L.append(f"{indent}  record:")
    for k, v in r.items():
        if k in ("history", "events"):
            if not v:
                L.append(f"{indent}    {k}: []")
            else:
                L.append(f"{indent}    {k}:")
                for e in v:
                    L.append(f"{indent}      - {flow(e)}")
        else:
            L.append(f"{indent}    {k}: {yscalar(v) if k != 'department' else json.dumps(v)}")
    L.append(f"{indent}  expect:")
    for k, v in expect.items():
        if k == "path.first_violation" and v is not None:
            k = "path.first_violation.code"
        L.append(f"{indent}    {k}: {yscalar(v)}")
    return "\n".join(L)

def jsonl(records):
    return "".join(json.dumps(clean(r), ensure_ascii=False) + "\n" for r in records)

def yflow(v):
    if isinstance(v, dict):
        return "{" + ", ".join(f"{k}: {yflow(x) if k != 'department' else json.dumps(x)}" for k, x in v.items()) + "}"
    if isinstance(v, (list, tuple)):
        return "[" + ", ".join(yflow(x) for x in v) + "]"
    if isinstance(v, dt.date):
        return v.isoformat()
    return yscalar(v)

def op_example_yaml(name, at, op, cohort, expect, params=None, indent="  "):
    L = [f"{indent}- name: {json.dumps(name, ensure_ascii=False)}", f"{indent}  at: {at}"]
    if params:
        L.append(f"{indent}  params: {flow(params)}")
    L.append(f"{indent}  operation:")
    for k, v in op.items():
        if k == "events" and v:
            L.append(f"{indent}    events:")
            for e in v:
                L.append(f"{indent}      - {yflow(e)}")
        else:
            L.append(f"{indent}    {k}: {yflow(v)}")
    if cohort is not None and not cohort:
        L.append(f"{indent}  cohort: []")
    elif cohort is not None:
        L.append(f"{indent}  cohort:")
        for r in cohort:
            r = dict(r)
            if "history" in r:
                r["history"] = [{"phase": p, "date": d} for p, d in r["history"]]
            L.append(f"{indent}    - {yflow(r)}")
    L.append(f"{indent}  expect:")
    for k, v in expect.items():
        L.append(f"{indent}    {k}: {yscalar(v)}")
    return "\n".join(L)

def op_json(op):
    def c(o):
        if isinstance(o, dict): return {k: c(v) for k, v in o.items()}
        if isinstance(o, list): return [c(x) for x in o]
        return iso(o)
    return json.dumps(c(op), ensure_ascii=False, indent=1) + "\n"


def contract_events(start, end, weekly_hours, hours_override=None, appt=True, sia=True):
    """The events of a CE period: 2 appointments a month (1 in person), a monthly SIA update, weekly activity hours."""
    ev = []
    if appt:
        ev += monthly_appointments(start, end)
    if sia:
        ev += monthly_event(start, end, "sia_update", 27)
    ev += weekly_activity(start, end, weekly_hours, override=hours_override)
    return ev


def accueil_events(d):
    """The reception day: an in-person appointment, the initial diagnostic, the Monjob62 access offer."""
    return [{"type": "appointment", "date": d, "mode": "in_person"}, {"type": "diagnostic", "date": d, "kind": "initial"},
            {"type": "monjob62_access", "date": d}]
