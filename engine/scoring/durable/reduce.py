"""The reducer: what the rules that fired do to one subject's standing in one scheme.

durable_rules says which rules fire; this module applies their effects with exact
arithmetic (`Decimal`), in the scheme's declared rule order and each rule's declared
effect order, never in firing order. It reads no clock and does no I/O: the same
state, event and fired rules always give the same entries.

Order of checks for one rule on one event: `same_act_as` (a duplicated row scores
once), `frequency` (at most N per calendar period or rolling window), whether it repeats
an earlier offence of the rule (`repeats`: its points times the repeat's factor), then for
each effect: the points it gives, the rule's `cap`, the shared `cap_group`, and the
scale's clamp.

The standing it changes is in standing.py, the points each effect states in points.py;
this module holds the order of the steps and the limits, caps and clamp that cut them.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from datetime import date
from decimal import Decimal

from creditlab.engine.canonical import number
from creditlab.engine.errors import HistoryError, did_you_mean
from creditlab.engine.inputs.history import Event, StartingPoint
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Cap,
    CountTiersEffect,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    ReclassifyEffect,
    Rule,
    Scheme,
    SetScoreEffect,
    TiersEffect,
    UnquantifiedEffect,
)
from creditlab.engine.inputs.scheme_effects import RollingWindow
from creditlab.engine.scoring.durable.points import stated_points
from creditlab.engine.scoring.durable.standing import ZERO, Lapse, Override, Standing
from creditlab.engine.scoring.ledger import (
    CapReached,
    Change,
    Clamped,
    FlagAdded,
    FlagRemoved,
    FrequencyLimit,
    GradeSet,
    Lapsed,
    LapsesOn,
    LedgerEntry,
    Note,
    Repeat,
    SameAct,
    ScoreSet,
    Unquantified,
)
from creditlab.engine.scoring.periods import add_duration, period_key

__all__ = ["Reducer"]


class Reducer:
    """Applies one scheme's rules to standings; one Reducer per scheme per replay."""

    def __init__(self, scheme: Scheme) -> None:
        self.scheme = scheme
        self.groups = {g.id: g for g in scheme.cap_groups}
        self._sources = {r.id: r.source.model_dump(exclude_none=True) for r in scheme.rules}
        self._repeats = {rid: repeat for repeat in scheme.repeats for rid in repeat.rules}

    def start(self, given: StartingPoint | None = None) -> Standing:
        """A standing at the scheme's start, or where the history says the subject starts."""
        if given is None:
            return Standing(score=self.scheme.scale.start)
        if given.grade is not None and self.scheme.band(given.grade) is None:
            labels = [b.label for b in self.scheme.bands]
            raise HistoryError(f"{self.scheme.id} has no grade {given.grade!r}"
                               f"{did_you_mean(given.grade, labels)}; its grades: "
                               f"{', '.join(labels) or 'none'}", line=given.line, field="grade")
        score = self.scheme.scale.start if given.score is None else given.score
        scale = self.scheme.scale
        if scale.clamp and scale.min is not None and scale.max is not None and not (
                scale.min <= score <= scale.max):
            raise HistoryError(f"starting score {number(score)} is outside {self.scheme.id}'s "
                               f"scale, {number(scale.min)} to {number(scale.max)}",
                               line=given.line, field="score")
        override = None if given.grade is None else Override(
            given.grade, "given", None, "starting", self.scheme.band_for(score))
        return Standing(score=score, override=override)

    def band(self, standing: Standing) -> str | None:
        """The grade shown: the score's band, unless a reclassification overrides it.

        A grade given as a starting point shows while the score stays in the band it
        started in (or, as before any threshold, in none): a history that says a person is
        AAA at 1,050 is believed until the score itself says otherwise.
        """
        by_score = self.scheme.band_for(standing.score)
        o = standing.override
        if o is None:
            return by_score
        if o.policy == "given":
            return o.grade if by_score == o.since_band else by_score
        if o.policy == "replace" or by_score is None:
            return o.grade
        return max(by_score, o.grade, key=self.scheme.rank)

    def apply(self, standing: Standing, event: Event, fired: Sequence[int]) -> list[LedgerEntry]:
        """Apply the fired rules (indexes into scheme.rules) of one event to `standing`.

        Points that lapse on or before the event's day lapse first, in entries of their own.
        """
        day = event.day
        entries = self.lapse(standing, event.subject, day)
        standing.expire(day)
        if not fired:
            standing.unscored += 1
            return entries
        standing.scored += 1
        scored_here: set[str] = set()
        for index in fired:
            rule = self.scheme.rules[index]
            entries.append(self._apply_rule(standing, event, rule, scored_here))
        return entries

    def finish(self, standing: Standing, subject: str, end: date) -> list[LedgerEntry]:
        """Bring a standing to the end of the replay: lapse points and states due by `end`."""
        entries = self.lapse(standing, subject, end)
        standing.expire(end)
        return entries

    def lapse(self, s: Standing, subject: str, day: date) -> list[LedgerEntry]:
        """Reverse the points whose validity has run out by `day`, oldest first."""
        due = sorted((x for x in s.lapsing if x.due <= day), key=lambda x: (x.due, x.event,
                                                                           x.rule))
        if not due:
            return []
        s.lapsing = [x for x in s.lapsing if x.due > day]
        entries = []
        for item in due:
            before, band_before = s.score, self.band(s)
            notes: list[Note] = []
            reversal = self._within_scale(s.score, -item.points, notes)
            s.score += reversal
            rule = self.scheme.rule(item.rule)
            assert rule is not None
            entries.append(LedgerEntry(
                kind="lapse", at=item.due, event=item.event, type=item.type, subject=subject,
                scheme=self.scheme.id, rule=item.rule, points=None, applied=reversal,
                score_before=before, score_after=s.score, band_before=band_before,
                band_after=self.band(s), changes=(Lapsed(given_on=item.given_on),),
                notes=tuple(notes), source=self._sources[item.rule], fidelity=rule.fidelity))
        return entries

    def _apply_rule(self, s: Standing, event: Event, rule: Rule,
                    scored_here: set[str]) -> LedgerEntry:
        day = event.day
        before, band_before = s.score, self.band(s)
        given: Decimal | None = None
        changes: list[Change] = []
        notes: list[Note] = []
        blocked = False
        if rule.same_act_as is not None and rule.same_act_as in scored_here:
            blocked = True
            notes.append(SameAct(rule.same_act_as))
        elif rule.frequency is not None:
            blocked = not self._within_frequency(s, rule, day)
            if blocked:
                notes.append(FrequencyLimit(rule.frequency.times, rule.frequency.window_name))
        factor = None if blocked else self._repeat(s, rule, day, notes)
        for index, effect in enumerate(rule.effects):
            if isinstance(effect, (PointsEffect, TiersEffect, QuantityTiersEffect, FormulaEffect,
                                   CountTiersEffect, AccumulatedEffect)):
                points, why = stated_points(effect, event, s, rule, counting=not blocked,
                                             index=index)
                if why:
                    notes.append(why)
                if points is None:
                    continue
                if factor is not None:
                    points *= factor
                given = points if given is None else given + points
                if not blocked:
                    self._add_points(s, rule, points, day, notes)
            elif blocked:
                continue
            elif isinstance(effect, SetScoreEffect):
                s.score = effect.score
                changes.append(ScoreSet(effect.score))
            elif isinstance(effect, ReclassifyEffect):
                until = add_duration(day, effect.duration) if effect.duration else None
                s.override = Override(effect.grade, effect.policy, until, rule.id)
                changes.append(GradeSet(effect.grade, effect.policy, until))
            elif isinstance(effect, ListEffect):
                if effect.action == "add":
                    until = add_duration(day, effect.duration) if effect.duration else None
                    s.flags[effect.flag] = until
                    changes.append(FlagAdded(effect.flag, until))
                else:
                    s.flags.pop(effect.flag, None)
                    changes.append(FlagRemoved(effect.flag))
            elif isinstance(effect, UnquantifiedEffect):
                notes.append(Unquantified(rule.direction))
        if not blocked:
            scored_here.add(rule.id)
        if rule.expires_after is not None and s.score != before and not blocked:
            due = add_duration(day, rule.expires_after)
            s.lapsing.append(Lapse(due, rule.id, event.id, event.type, day, s.score - before))
            changes.append(LapsesOn(due))
        return LedgerEntry(
            kind="rule", at=day, event=event.id, type=event.type, subject=event.subject,
            scheme=self.scheme.id, rule=rule.id, points=given, applied=s.score - before,
            score_before=before, score_after=s.score, band_before=band_before,
            band_after=self.band(s), changes=tuple(changes), notes=tuple(notes),
            source=self._sources[rule.id], fidelity=rule.fidelity,
        )

    def _within_frequency(self, s: Standing, rule: Rule, day: date) -> bool:
        """Whether `rule`'s frequency limit lets this entry count (and if so, count it)."""
        frequency = rule.frequency
        assert frequency is not None
        if isinstance(frequency.per, RollingWindow):
            leaving = s.rule_leaving.setdefault(rule.id, deque())
            while leaving and leaving[0] <= day:
                leaving.popleft()
            if len(leaving) >= frequency.times:
                return False
            leaving.append(add_duration(day, frequency.per.rolling))
            return True
        key = (rule.id, period_key(frequency.per, day))
        times = s.rule_times.get(key, 0)
        if times >= frequency.times:
            return False
        s.rule_times[key] = times + 1
        return True

    def _repeat(self, s: Standing, rule: Rule, day: date, notes: list[Note]
                ) -> Decimal | None:
        """The factor of a repeat offence, when this counted entry of `rule` is one (and a
        `Repeat` note), else None; either way, it is now the rule's latest counted entry."""
        repeat = self._repeats.get(rule.id)
        if repeat is None:
            return None
        earlier = s.counted_on.get(rule.id)
        s.counted_on[rule.id] = day
        if earlier is None:
            return None
        within = rule.expires_after if isinstance(repeat.within, str) else repeat.within
        assert within is not None  # load refuses `validity` on a rule without one
        if day >= add_duration(earlier, within):
            return None
        notes.append(Repeat(repeat.factor, earlier, repeat.window_name))
        return repeat.factor

    def _within_scale(self, score: Decimal, delta: Decimal, notes: list[Note]) -> Decimal:
        """`delta` cut so that the score stays on a clamped scale."""
        scale = self.scheme.scale
        if not scale.clamp:
            return delta
        assert scale.min is not None and scale.max is not None
        target = min(max(score + delta, scale.min), scale.max)
        if target != score + delta:
            notes.append(Clamped(scale.min, scale.max))
        return target - score

    def _add_points(self, s: Standing, rule: Rule, points: Decimal, day: date,
                    notes: list[Note]) -> None:
        applied = points
        if rule.cap is not None:
            key = (rule.id, period_key(rule.cap.per, day))
            applied = _within(rule.cap, s.rule_totals.get(key, ZERO), applied, None, notes)
        if rule.cap_group is not None:
            group = self.groups[rule.cap_group]
            gkey = (group.id, period_key(group.cap.per, day))
            applied = _within(group.cap, s.group_totals.get(gkey, ZERO), applied, group.id,
                              notes)
        applied = self._within_scale(s.score, applied, notes)
        if rule.cap is not None:
            key = (rule.id, period_key(rule.cap.per, day))
            s.rule_totals[key] = s.rule_totals.get(key, ZERO) + applied
        if rule.cap_group is not None:
            gkey = (rule.cap_group, period_key(self.groups[rule.cap_group].cap.per, day))
            s.group_totals[gkey] = s.group_totals.get(gkey, ZERO) + applied
        s.score += applied


def _within(cap: Cap, total: Decimal, points: Decimal, group: str | None,
            notes: list[Note]) -> Decimal:
    """`points` cut so that |total + points| stays within the cap (a rule's, or a group's)."""
    room = max(cap.points - abs(total), ZERO)
    if abs(points) <= room:
        return points
    notes.append(CapReached(cap.points, cap.per, group))
    return room.copy_sign(points) if room else ZERO

