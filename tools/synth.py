#!/usr/bin/env python3
"""Synthetic beneficiary records for a spec: realistic legal paths, each violation kind, missing data, bad lines.

    python tools/synth.py --spec specs/accompagnement-social-professionnel-intensif.yaml -n 10000 --seed 1 \
        [--start 2026-01-05] [--violations 0.3] [--missing 0.1] [--bad-lines 0.01] [-o records.jsonl]

The generator reads the spec: declared attributes (values drawn by type; ``department`` is "62" nine times out of
ten), phases and transitions (a random walk from an entry phase to an end phase that respects ``within``/``after``,
minimum and maximum durations, renewals and total duration), and declared event types (appointments two to three a
month with at least one in person, activity hours every week, monthly updates, the events transition guards usually
ask for -- diagnostic, final review, SLAI meeting -- shortly before leaving a phase, a collective action after
the contract starts). About 35 events per record for a six-month contract.

``--violations P``: that share of records gets one mutation aiming at one violation code (cycled through
``illegal_start``, ``unknown_phase``, ``transition_not_allowed``, ``dates_out_of_order``, ``min_duration_not_reached``,
``max_duration_exceeded``, ``renewals_exceeded``, ``after_end``, ``deadline_missed``, ``obligation_unmet``).
``--missing P``: that share of records lose one to three attributes (unknown eligibility). ``--bad-lines P``: that
share of lines are replaced by hostile input (invalid JSON, bad bytes, NaN, non-objects, no id, a wrong type, an
invalid date). Same seed, same file.
"""

from __future__ import annotations

import argparse
import os
import random
import sys
from datetime import date, timedelta

import orjson

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from engine.spec.compile import load_spec  # noqa: E402
from engine.beneficiary.conformance import plus  # noqa: E402
from engine.expr.runtime import Duration  # noqa: E402

MUTATIONS = ("illegal_start", "unknown_phase", "transition_not_allowed", "dates_out_of_order",
             "min_duration_not_reached", "max_duration_exceeded", "renewals_exceeded", "after_end",
             "deadline_missed", "obligation_unmet")
BAD_LINES = (b'{"id": "bad-json", "rsa": tru}', b'{"id": "bad-bytes-\xff\xfe"}', b'{"id": "nan", "income": NaN}',
             b'[1, 2, 3]', b'"just text"', b'{"rsa": true}', b'{"id": 42}', b'{"id": "bad-type", "rsa": "oui"}',
             b'{"id": "bad-date", "birth_date": "2026-02-30"}', b'{"id": "trunc", "history": [{"phase": ')

GUARD_EVENTS = ("diagnostic", "final_review", "slai_meeting")
DAY = timedelta(days=1)


class Synth:
    def __init__(self, spec, seed: int, start: date):
        self.spec = spec
        self.rng = random.Random(seed)
        self.start = start
        self.initial = [p for p, ph in spec.phases.items() if ph.initial]
        self.final = {p for p, ph in spec.phases.items() if ph.final}
        nxt = dict(spec.tables.next) if spec.tables and spec.tables.next else {}
        if not nxt:
            for t in spec.transitions:
                nxt.setdefault(t.from_phase, ())
                nxt[t.from_phase] += (t.to_phase,)
        self.next = nxt
        self.trans = {(t.from_phase, t.to_phase): t for t in spec.transitions}
        self.events = spec.events
        self.phase_deadlines = [dl for dl in spec.deadlines if dl.target.kind == "phase" and dl.anchor.kind == "phase"]

    # attributes ---------------------------------------------------------------------------------------------
    def value(self, name: str, decl: dict):
        r = self.rng
        t = decl.get("type")
        if name == "department":
            return "62" if r.random() < 0.9 else r.choice(["59", "80", "75"])
        if t == "boolean":
            return r.random() < (0.85 if name in ("rsa",) else 0.5)
        if t == "integer":
            return r.randint(0, 5)
        if t == "number":
            return round(r.uniform(0, 2000), 2)
        if t == "date":
            if "birth" in name:
                return (date(1960, 1, 1) + timedelta(days=r.randint(0, 48 * 365))).isoformat()
            return (self.start + timedelta(days=r.randint(0, 400))).isoformat()
        if t == "enum":
            return r.choice(list(decl.get("values") or ["x"]))
        if t == "list":
            item = decl.get("items") or {}
            return [self.value(name, item) for _ in range(r.randint(0, 3))]
        if t == "duration":
            return f"{r.randint(1, 12)} months"
        return f"{name}-{r.randint(1, 99)}"

    # path ---------------------------------------------------------------------------------------------------
    def walk(self, d0: date, at: date) -> list[tuple[str, date]]:
        """A legal history from ``d0``; it stops at an end phase or before the first entry after ``at`` (the
        beneficiary is then still in a phase, within its limits)."""
        r = self.rng
        spec = self.spec
        if not self.initial:
            return []
        p = r.choice(self.initial)
        hist = [(p, d0)]
        stay = d0
        renewals = 0
        for _ in range(12):
            if p in self.final:
                break
            opts = list(self.next.get(p, ()))
            ph = spec.phases[p]
            if p in opts and ph.max_renewals is not None and renewals >= ph.max_renewals:
                opts.remove(p)
            if not opts:
                break
            # prefer moving forward; renew now and then
            q = r.choice([o for o in opts if o != p] or opts) if r.random() < 0.75 else r.choice(opts)
            t = self.trans[(p, q)]
            lo, hi = stay + DAY * (2 if q not in self.final else 7), None
            for dur in (t.after, ph.min_duration):
                if dur is not None:
                    lo = max(lo, plus(stay, dur))
            for dur in (t.within, ph.max_duration):
                if dur is not None:
                    hi = plus(stay, dur) if hi is None else min(hi, plus(stay, dur))
            seen = {hp for hp, _ in hist}
            for dl in self.phase_deadlines:  # a pending deadline: reach its target (or leave) before it falls due
                anchor = next((hd for hp, hd in hist if hp == dl.anchor.name), None)
                if anchor is not None and dl.target.name not in seen:
                    hi = plus(anchor, dl.within) if hi is None else min(hi, plus(anchor, dl.within))
            if hi is None:
                hi = lo + timedelta(days=r.randint(20, 180))
            if hi < lo:
                break
            span = (hi - lo).days  # stays tend to use most of the time allowed (contracts run their course)
            d = lo + timedelta(days=round(span * max(r.random(), r.random())) if ph.max_duration else r.randint(0, span))
            if d > at:
                break
            renewals = renewals + 1 if q == p else 0
            hist.append((q, d))
            p, stay = q, d
        return hist

    # events -------------------------------------------------------------------------------------------------
    def ev(self, t: str, d: date, **fields) -> dict:
        e = {"type": t, "date": d.isoformat()}
        decl = self.events.get(t)
        if decl is not None:
            for f, a in decl.fields.items():
                if f not in fields and f not in ("type", "date"):
                    fields[f] = self.value(f, a.decl)
        e.update(fields)
        return e

    def events_for(self, hist: list, at: date) -> list[dict]:
        """Events of a legal, well-followed path: over the whole active period (from the first entry to the exit,
        or ``at``) 2-3 appointments a month (the first in person), a monthly SIA update, 15 hours of activity every
        ISO week once past the first phase; at the start of each long stay a collective action and three contract
        actions; the events guards usually ask for shortly before each move."""
        r = self.rng
        has = self.events.__contains__
        out: list = []
        if not hist:
            return out
        first = hist[0][1]
        end = next((d for p, d in hist if p in self.final), None) or min(at, hist[-1][1] + timedelta(days=200))
        if has("appointment"):
            out.append(self.ev("appointment", first + timedelta(days=r.randint(1, 12)), mode="in_person"))
        for i, (p, d) in enumerate(hist):
            if p in self.final:
                break
            nd = hist[i + 1][1] if i + 1 < len(hist) else end
            if i + 1 < len(hist):  # guard events shortly before leaving the phase
                for g in GUARD_EVENTS:
                    if has(g):
                        out.append(self.ev(g, max(d, nd - timedelta(days=r.randint(1, 5)))))
            if (nd - d).days > 25:
                if has("collective_action"):
                    out.append(self.ev("collective_action", d + timedelta(days=r.randint(3, 25))))
                if has("ce_action"):
                    for k in range(3):
                        out.append(self.ev("ce_action", d, professional=k < 2, simple=k == 2,
                                           months=6 if k == 0 else 2))
        start = hist[1][1] if len(hist) > 1 else first
        m = date(start.year, start.month, 1)
        while m < end:
            nm = plus(m, _MONTH)
            lo, hi = max(m, start), min(nm, end)
            span = (hi - lo).days
            if span > 0:
                for k in range(r.choice((2, 2, 3))):
                    if has("appointment"):
                        out.append(self.ev("appointment", lo + timedelta(days=r.randint(0, span - 1)),
                                           mode="in_person" if k == 0 else r.choice(["phone", "in_person", "video"])))
                if has("sia_update"):
                    out.append(self.ev("sia_update", lo + timedelta(days=r.randint(0, span - 1))))
            m = nm
        if has("activity"):  # one SIA entry of 15 hours per ISO week
            w = start - timedelta(days=start.weekday())
            while w < end:
                day = max(start, w) + timedelta(days=r.randint(0, 2))
                if start <= day < end and day < w + timedelta(days=7):
                    out.append(self.ev("activity", day, hours=15))
                w += timedelta(days=7)
        out.sort(key=lambda e: e["date"])
        return out

    # mutations ----------------------------------------------------------------------------------------------
    def mutate(self, kind: str, hist: list, events: list) -> None:
        r = self.rng
        if not hist:
            return
        if kind == "illegal_start" and len(hist) > 1:
            del hist[0]
        elif kind == "unknown_phase":
            i = r.randrange(len(hist))
            hist[i] = (hist[i][0] + "_x", hist[i][1])
        elif kind == "transition_not_allowed" and len(hist) > 2:
            del hist[1]
        elif kind == "dates_out_of_order" and len(hist) > 1:
            hist[0], hist[1] = (hist[0][0], hist[1][1]), (hist[1][0], hist[0][1] - DAY * 3)
        elif kind == "min_duration_not_reached" and len(hist) > 1:
            hist[-1] = (hist[-1][0], hist[-2][1] + DAY)
        elif kind in ("max_duration_exceeded", "deadline_missed") and len(hist) > 1:
            i = 1 if kind == "deadline_missed" else len(hist) - 1
            shift = timedelta(days=200 if kind == "max_duration_exceeded" else 40)
            for j in range(i, len(hist)):
                hist[j] = (hist[j][0], hist[j][1] + shift)
        elif kind == "renewals_exceeded":
            idx = [j for j, (p, _) in enumerate(hist) if self.spec.phases.get(p) is not None
                   and self.spec.phases[p].max_renewals is not None]
            if idx:
                j = idx[-1]
                p, d = hist[j]
                ph = self.spec.phases[p]
                extra = []
                for _ in range(ph.max_renewals + 1 - sum(1 for q, _ in hist if q == p) + 1):
                    d = plus(d, ph.min_duration) if ph.min_duration is not None else d + timedelta(days=20)
                    extra.append((p, d))
                shift = extra[-1][1] - hist[j][1] if extra else timedelta(0)
                hist[j + 1:] = extra + [(q, e + shift) for q, e in hist[j + 1:]]
        elif kind == "after_end":
            hist.append((hist[0][0], hist[-1][1] + timedelta(days=10)))
        elif kind == "obligation_unmet":
            keep = [e for e in events if e["type"] != "appointment"]
            events[:] = keep

    def record(self, i: int, at: date, p_violation: float, p_missing: float, spread: int | None = None) -> dict:
        """Record number ``i``; its path starts within ``spread`` days of the start date (default: any day that
        leaves two months before ``at``)."""
        r = self.rng
        rec: dict = {"id": f"S-{i:07d}"}
        for name, a in self.spec.attributes.items():
            if name in ("id", "history", "events"):
                continue
            rec[name] = self.value(name, a.decl)
        if "rsa" in rec and r.random() < 0.8:
            rec["rsa"] = True
        if r.random() < p_missing:
            for name in r.sample(sorted(self.spec.attributes), min(3, len(self.spec.attributes), r.randint(1, 3))):
                rec.pop(name, None)
        d0 = self.start + timedelta(days=r.randint(0, spread or max(1, (at - self.start).days - 60)))
        hist = self.walk(d0, at)
        events = self.events_for(hist, at)
        if r.random() < p_violation:
            self.mutate(MUTATIONS[i % len(MUTATIONS)], hist, events)
        rec["history"] = [{"phase": p, "date": d.isoformat()} for p, d in hist]
        rec["events"] = events
        return rec


_MONTH = Duration(1, 0)


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--spec", required=True)
    ap.add_argument("-n", type=int, default=1000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--start", type=date.fromisoformat, default=date(2026, 1, 5))
    ap.add_argument("--at", type=date.fromisoformat, default=date(2026, 12, 31),
                    help="the evaluation date the histories lead up to")
    ap.add_argument("--violations", type=float, default=0.3)
    ap.add_argument("--missing", type=float, default=0.1)
    ap.add_argument("--bad-lines", type=float, default=0.0, nargs="?", const=0.01)
    ap.add_argument("--spread", type=int, default=None,
                    help="paths start within this many days of --start (default: up to two months before --at)")
    ap.add_argument("-o", "--output")
    args = ap.parse_args(argv)
    spec = load_spec(args.spec)
    s = Synth(spec, args.seed, args.start)
    out = open(args.output, "wb") if args.output else sys.stdout.buffer  # noqa: SIM115
    try:
        for i in range(args.n):
            if args.bad_lines and s.rng.random() < args.bad_lines:
                out.write(s.rng.choice(BAD_LINES) + b"\n")
                continue
            out.write(orjson.dumps(s.record(i, args.at, args.violations, args.missing, args.spread)) + b"\n")
    finally:
        if args.output:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
