"""Compilation of the ``reporting`` section of an operation: the reviews and reports due, their timing (a date, a
delay after an event, a rhythm), and what each commitment settles: a part of
:class:`engine.operation.compile._Compiler`, which it is mixed into."""

from __future__ import annotations

from datetime import date
from typing import Mapping

from engine.expr.parser import parse
from engine.operation.model import ReportingRule, ReviewOpening


class ReportingSections:
    """The ``reporting`` section (see the module docstring)."""

    def reporting(self) -> tuple[ReportingRule, ...]:
        from engine.expr import types as T

        out = []
        for i, node in enumerate(self.ctx.data.get("reporting") or ()):
            if not isinstance(node, Mapping):
                continue
            path = f"reporting[{i}]"
            rid = str(node.get("id") or f"report_{i + 1}")
            after = node.get("after")
            if after is not None and str(after) not in self.op_names:
                self.ctx.error(self.ctx.pos(node, "after"), f"{path}.after: unknown operation date {after!r}",
                               "spec.operation", "use an operation date attribute such as convention_end",
                               path + ".after")
            if node.get("due") is not None and (node.get("within") is not None or after is not None):
                # "dans les 3 mois qui suivent la date de fin effective ... soit le 31/03/2028": the fixed date
                # assumes the longest convention; the review is due from the operation's actual end
                self.ctx.error(self.ctx.pos(node, "due"), f"{path}: `due` and `within`/`after` together (the fixed "
                               "date would win over the one computed from the operation)", "spec.reporting_due",
                               "keep `within` + `after: convention_end` for a delay from the actual end, or `due` "
                               "for a date the text fixes, not both", path + ".due")
            event = node.get("event")
            where = every = None
            if event is not None:
                event = str(event)
                et = (self.ctx.fields.get("events") or {}).get(event)
                if et is None:
                    from engine.errors import did_you_mean

                    self.ctx.error(self.ctx.pos(node, "event"), f'{path}.event: unknown event type "{event}"',
                                   "spec.operation", did_you_mean(event, self.ctx.fields.get("events") or {}) or
                                   "declare it in the vocabulary `events:` or in `inputs.events`", path + ".event")
                elif node.get("where") is not None:
                    names = {f: a.type for f, a in et.fields.items()}
                    names.update({"type": T.STRING, "date": T.DATE, "today": T.DATE})
                    where = self.ctx.expr(node, "where", T.Scope(names=names, definitions={}), T.BOOLEAN,
                                          path + ".where")
                ev = node.get("every")
                if ev in ("week", "month", "quarter", "year"):
                    every = ev
                elif ev is not None:
                    every = self.ctx.duration(node, "every", path)
                else:
                    every = None  # over the whole convention
            mn, mx = node.get("min"), node.get("max")
            for k, v in (("min", mn), ("max", mx)):
                if v is not None and (isinstance(v, bool) or not isinstance(v, int) or v < 0):
                    self.ctx.error(self.ctx.pos(node, k), f"{path}.{k}: expected a whole number, got {v!r}",
                                   "spec.operation", f"write e.g. `{k}: 2`", f"{path}.{k}")
            over = node.get("over")
            if over is not None and over != "convention":
                self.ctx.error(self.ctx.pos(node, "over"), f"{path}.over : seule la valeur `convention` est prise en "
                               f"charge, pas {over!r}", "spec.reporting_over",
                               "écrivez `over: convention` pour un engagement sur toute la durée de l'opération",
                               path + ".over")
            if over is not None and node.get("condition") is None:
                self.ctx.error(self.ctx.pos(node, "over"), f"{path}.over : un engagement sur la durée de la "
                               "convention a besoin d'une `condition` (les événements comptés avec `event:` sans "
                               "`every:` le sont déjà sur toute la convention)", "spec.reporting_over",
                               "ajoutez `condition: comites_tenus >= 3`, ou retirez `over:`", path + ".over")
            sev = node.get("max_severity")
            if sev is not None and sev not in ("error", "warning"):
                self.ctx.error(self.ctx.pos(node, "max_severity"), f"{path}.max_severity : `error` ou `warning` "
                               f"attendu, pas {sev!r}", "spec.severity",
                               "`warning` : un dépassement du maximum est signalé sans être bloquant", path + ".max_severity")
            if sev is not None and mx is None:
                self.ctx.error(self.ctx.pos(node, "max_severity"), f"{path}.max_severity : sans `max:`, il n'y a pas "
                               "de maximum à signaler", "spec.severity", "ajoutez `max: 4` ou retirez `max_severity:`",
                               path + ".max_severity")
            if node.get("reachable") is not None and over is None:
                self.ctx.error(self.ctx.pos(node, "reachable"), f"{path}.reachable : seul un engagement sur la durée "
                               "de la convention (`over: convention`) peut être jugé impossible avant la fin",
                               "spec.reporting_over", "ajoutez `over: convention`, ou retirez `reachable:`",
                               path + ".reachable")
            condition = self.cohort_expr(node, "condition", T.BOOLEAN, path + ".condition")
            settles = reachable = None
            if over == "convention" and condition is not None:
                from engine.operation.commitments import settles as settles_of

                settles = settles_of(parse(condition.text), self._count_names(),
                                     tuple(self.ctx.fields.get("parameters") or ()))
                reachable = self.cohort_expr(node, "reachable", T.BOOLEAN, path + ".reachable")
            timing = self._recurring_timing(node, path, event)
            opening = self._opening(node, path)
            starts = self._starts(node, path, event)
            counted_on = self._counted_on(node, path, event)
            out.append(ReportingRule(rid, node.get("label"), self.ctx.date(node, "due", path),
                                     self.ctx.duration(node, "within", path), None if after is None else str(after),
                                     str(node.get("submitted") or f"{rid}_date"),
                                     condition,
                                     self.src(node, path), node.get("interpretation"), event,
                                     where, every, mn if isinstance(mn, int) else None,
                                     mx if isinstance(mx, int) else None,
                                     "convention" if over == "convention" else None,
                                     "warning" if sev == "warning" else "error", settles, reachable, *timing,
                                     opening, starts, counted_on))
        return tuple(out)

    def _counted_on(self, node: Mapping, path: str, event: str | None) -> str | None:
        """``counted_on:`` of a rhythm counted per window: the event's date field that places it in a window (the
        quarter a table covers, « un tableau d'indicateurs au trimestre », 10:114), instead of its sending date."""
        value = node.get("counted_on")
        if value is None:
            return None
        et = (self.ctx.fields.get("events") or {}).get(event or "")
        field = et.fields.get(str(value)) if et is not None else None
        if event is None or node.get("every") is None or field is None or (field.decl or {}).get("type") != "date":
            self.ctx.error(self.ctx.pos(node, "counted_on"), f"{path}.counted_on : un champ date de l'événement "
                           f"« {event} » est attendu, avec `every:`", "spec.reporting_counted_on",
                           "déclarez le champ (`covers: {type: date, label: Trimestre couvert}`) et comptez par "
                           "période (`every: quarter`)", path + ".counted_on")
            return None
        return str(value)

    def _starts(self, node: Mapping, path: str, event: str | None) -> str | None:
        """``starts:`` of a rhythm of operation events: the operation date it runs from (« les comités auxquels le
        coach participe » run from the signature, not from a convention start that is retroactive, 04:35-39)."""
        from engine.expr import types as T

        value = node.get("starts")
        if value is None:
            return None
        if event is None:
            self.ctx.error(self.ctx.pos(node, "starts"), f"{path}.starts : seul un rythme d'événements (`event:`) "
                           "part d'une date de l'opération", "spec.reporting_starts",
                           "ajoutez `event: follow_up_committee`, ou retirez `starts:`", path + ".starts")
            return None
        if self.op_names.get(str(value)) != T.DATE:
            self.ctx.error(self.ctx.pos(node, "starts"), f"{path}.starts : date d'opération inconnue {str(value)!r}",
                           "spec.reporting_starts", "nommez une date de l'opération, comme `signature_date` (déclarée "
                           "dans `inputs.operation` avec `type: date`)", path + ".starts")
            return None
        return str(value)

    def _opening(self, node: Mapping, path: str) -> ReviewOpening | None:
        """``not_before`` of a review: the first day a submission counts (« à l'issue de la première année de
        l'opération », 01:143): a date, or ``{after: convention_start, plus: 12 months}`` from the operation's own
        date. Only a review has one; an opening after the due date leaves no day to submit on (an error)."""
        from engine.expr import types as T

        value = node.get("not_before")
        if value is None:
            return None
        where = self.ctx.pos(node, "not_before")
        npath = path + ".not_before"
        for other in ("condition", "event"):
            if node.get(other) is not None:
                self.ctx.error(where, f"{npath} : seul un bilan (`due`, ou `within` + `after`) a une date au plus tôt, "
                               f"pas un élément avec `{other}:`", "spec.reporting_window",
                               "retirez `not_before:`, ou faites de cet élément un bilan daté", npath)
                return None
        if isinstance(value, Mapping):
            extra = sorted(set(map(str, value)) - {"after", "plus"})
            if extra:
                self.ctx.error(where, f"{npath} : clé inconnue {extra[0]!r} (attendu : `after`, `plus`)",
                               "spec.reporting_window", "écrivez `not_before: {after: convention_start, plus: 12 "
                               "months}`", npath)
                return None
            after = value.get("after")
            if after is None or self.op_names.get(str(after)) != T.DATE:
                what = "il manque la date de départ" if after is None else f"date d'opération inconnue {str(after)!r}"
                self.ctx.error(where, f"{npath}.after : {what}", "spec.reporting_window", "nommez une date de l'opération, comme `convention_start` ou "
                               "`convention_end`", npath + ".after")
                return None
            plus = self.ctx.duration(value, "plus", npath)
            opening = ReviewOpening(None, str(after), plus)
            self._window_not_empty(node, opening, where, npath)
            return opening
        day = self.ctx.date(node, "not_before", path)
        if day is None:
            return None
        opening = ReviewOpening(day)
        self._window_not_empty(node, opening, where, npath)
        return opening

    def _window_not_empty(self, node: Mapping, opening: ReviewOpening, where, npath: str) -> None:
        """An opening known to fall after the due date (two fixed dates, or two delays from the same operation date)
        leaves no day on which the review counts."""
        from engine.expr.durations import parse_duration
        from engine.spec.graph import always_longer, french_duration

        due = node.get("due")
        if opening.date is not None and due is not None:
            try:
                due_day = due if isinstance(due, date) else date.fromisoformat(str(due))
            except ValueError:
                return
            if opening.date > due_day:
                self.ctx.error(where, f"{npath} : la date au plus tôt ({opening.date:%d/%m/%Y}) est après "
                               f"l'échéance ({due_day:%d/%m/%Y}) : aucun jour de remise ne compte",
                               "spec.reporting_window", "avancez `not_before` ou reculez `due`", npath)
        within = parse_duration(node.get("within")) if node.get("within") is not None else None
        if opening.after is not None and str(node.get("after")) == opening.after and within is not None and \
                opening.plus is not None and always_longer(opening.plus, within):
            self.ctx.error(where, f"{npath} : {french_duration(opening.plus)} après {opening.after}, c'est après "
                           f"l'échéance ({french_duration(within)} après) : aucun jour de remise ne compte",
                           "spec.reporting_window", "raccourcissez `plus` ou allongez `within`", npath)

    def _count_names(self) -> set[str]:
        """The operation's integer names (attributes counting what was held or done, ``full_time_posts``...)."""
        from engine.expr import types as T

        return {n for n, t in self.op_scope.names.items() if t == T.INTEGER}

    def _recurring_timing(self, node: Mapping, path: str, event: str | None) -> tuple:
        """``(partial_windows, max_gap, before_each)`` of a reporting item that counts operation events: how a window
        cut by the convention's start or end is judged, the longest gap allowed between consecutive events (07:38,
        04:39 read as a rhythm), and the event type each of which needs its own ``event`` dated before it (07:80)."""
        pw = node.get("partial_windows", "skip")
        if pw not in ("skip", "check"):
            self.ctx.error(self.ctx.pos(node, "partial_windows"), f"{path}.partial_windows : `skip` ou `check` "
                           f"attendu, pas {pw!r}", "spec.operation",
                           "`skip` (défaut) : une période coupée par le début ou la fin de la convention n'exige pas "
                           "le minimum ; `check` : elle l'exige", path + ".partial_windows")
            pw = "skip"
        gap = self.ctx.duration(node, "max_gap", path)
        before = node.get("before_each")
        for key, value in (("max_gap", node.get("max_gap")), ("before_each", before)):
            if value is None:
                continue
            if event is None:
                self.ctx.error(self.ctx.pos(node, key), f"{path}.{key} : il faut `event:` (le type d'événement "
                               "contrôlé)", "spec.operation", "ajoutez `event: follow_up_committee`", f"{path}.{key}")
            for other in ("every", "min", "max", "condition", "due", "within"):
                if node.get(other) is not None:
                    self.ctx.error(self.ctx.pos(node, key), f"{path}.{key} et `{other}:` ensemble : deux lectures "
                                   "du même engagement", "spec.operation",
                                   f"gardez `{key}:` seul (avec `event:`), ou retirez-le", f"{path}.{key}")
        if gap is not None and before is not None:
            self.ctx.error(self.ctx.pos(node, "before_each"), f"{path} : `max_gap` et `before_each` ensemble",
                           "spec.operation", "un élément de bilan par règle", path + ".before_each")
        if before is not None:
            before = str(before)
            if before not in (self.ctx.fields.get("events") or {}):
                from engine.errors import did_you_mean

                self.ctx.error(self.ctx.pos(node, "before_each"), f'{path}.before_each : type d\'événement inconnu '
                               f'"{before}"', "spec.operation",
                               did_you_mean(before, self.ctx.fields.get("events") or {}) or
                               "déclarez-le dans `events:` du vocabulaire ou dans `inputs.events`",
                               path + ".before_each")
        return pw, gap, before
