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
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import ROUND_FLOOR, Decimal
from typing import Any

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
from creditlab.engine.scoring.ledger import (
    Accumulated,
    AtMost,
    BelowThreshold,
    CapReached,
    Change,
    Clamped,
    CountTier,
    FlagAdded,
    FlagRemoved,
    FrequencyLimit,
    GradeSet,
    Lapsed,
    LapsesOn,
    LedgerEntry,
    MissingAttribute,
    NoQuantityTier,
    Note,
    NoTierValue,
    Repeat,
    SameAct,
    ScoreSet,
    Unquantified,
)
from creditlab.engine.scoring.periods import add_duration, period_key

__all__ = ["Lapse", "Override", "Reducer", "RollingTotal", "Standing"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class Override:
    """A grade set by reclassification (or given as a starting point), until a date."""

    grade: str
    policy: str
    until: date | None
    rule: str
    since_band: str | None = None
    """For a grade given as a starting point: the band the starting score had by itself."""


@dataclass(frozen=True)
class Lapse:
    """Points a rule applied that lapse on `due` (the rule's `expires_after`)."""

    due: date
    rule: str
    event: str
    type: str
    given_on: date
    points: Decimal


@dataclass
class RollingTotal:
    """A total over a rolling window: the amounts still in it, each with the day it leaves.

    A subject's events come in day order and `add_duration` never goes back as its day
    goes forward, so the amounts leave in the order they came: the oldest are dropped
    from the front.
    """

    amounts: deque[tuple[date, Decimal]] = field(default_factory=deque)
    total: Decimal = ZERO

    def on(self, day: date) -> Decimal:
        """The total on `day`, once the amounts that left the window by then are dropped."""
        while self.amounts and self.amounts[0][0] <= day:
            self.total -= self.amounts.popleft()[1]
        return self.total

    def add(self, amount: Decimal, leaves: date) -> None:
        self.amounts.append((leaves, amount))
        self.total += amount


@dataclass
class Standing:
    """One subject's standing in one scheme, updated event by event."""

    score: Decimal
    override: Override | None = None
    flags: dict[str, date | None] = field(default_factory=dict)
    rule_totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    group_totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    rule_times: dict[tuple[str, str], int] = field(default_factory=dict)
    rule_leaving: dict[str, deque[date]] = field(default_factory=dict)
    """For a frequency limit over a rolling window: the day each counted entry still in the
    window leaves it, oldest first (a subject's days only go forward)."""
    rule_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    rule_sums: dict[tuple[str, int, str], Decimal] = field(default_factory=dict)
    """Running totals of `accumulated` effects, by (rule, effect index, window key)."""
    rolling: dict[tuple[str, int], RollingTotal] = field(default_factory=dict)
    """Running totals of `accumulated` effects over rolling windows, by (rule, effect index)."""
    lapsing: list[Lapse] = field(default_factory=list)
    counted_on: dict[str, date] = field(default_factory=dict)
    """The day of each repeat rule's latest entry its limits did not block (`repeats`)."""
    scored: int = 0
    unscored: int = 0

    def expire(self, day: date) -> None:
        """Drop list states and grade overrides whose time has run out by `day`."""
        if self.override is not None and self.override.until is not None \
                and day >= self.override.until:
            self.override = None
        for flag, until in list(self.flags.items()):
            if until is not None and day >= until:
                del self.flags[flag]


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
                points, why = self._points(effect, event, s, rule, counting=not blocked,
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

    def _points(self, effect: Any, event: Event, s: Standing, rule: Rule,
                counting: bool, index: int = 0) -> tuple[Decimal | None, Note | None]:
        """The points an effect gives as the rule states them (before caps and limits).

        `counting`: the rule is not blocked, so the event adds to counts and totals.
        `index`: the effect's place in the rule (each accumulated effect has its total).
        """
        if isinstance(effect, PointsEffect):
            return effect.points, None
        if isinstance(effect, AccumulatedEffect):
            return _accumulate(effect, event, s, (rule.id, index), counting)
        if isinstance(effect, CountTiersEffect):
            key = (rule.id, period_key(effect.window, event.day))
            count = s.rule_counts.get(key, 0) + (1 if counting else 0)
            if counting:
                s.rule_counts[key] = count
            now = _count_tier(effect, count)
            before = _count_tier(effect, count - 1) if counting else now
            window = effect.window
            if now is None or now is before:
                return ZERO, CountTier(count, window, None)
            if effect.mode == "replace" and before is not None:
                return now.points - before.points, CountTier(count, window, now.more_than)
            return now.points, CountTier(count, window, now.more_than)
        value = event.attrs.get(effect.attr)
        if value is None:
            return None, MissingAttribute(effect.attr)
        if isinstance(effect, TiersEffect):
            for tier in effect.tiers:
                if tier.value == value:
                    return tier.points, None
            return None, NoTierValue(effect.attr, value)
        quantity = Decimal(value) * effect.factor  # type: ignore[arg-type]
        if isinstance(effect, QuantityTiersEffect):
            for qtier in effect.tiers:
                if qtier.range.contains(quantity):
                    return qtier.points, None
            return None, NoQuantityTier(effect.attr, Decimal(value))  # type: ignore[arg-type]
        assert isinstance(effect, FormulaEffect)
        if quantity < effect.threshold:
            return ZERO, BelowThreshold(effect.attr, effect.threshold)
        points = effect.base_points
        if effect.per is not None and quantity > effect.base_quantity:
            steps = ((quantity - effect.base_quantity) / effect.per).to_integral_value(ROUND_FLOOR)
            points += steps * effect.per_points
        if effect.max_points is not None and abs(points) > abs(effect.max_points):
            return effect.max_points.copy_sign(points), AtMost(effect.max_points)
        return points, None

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


def _accumulate(effect: AccumulatedEffect, event: Event, s: Standing, where: tuple[str, int],
                counting: bool) -> tuple[Decimal | None, Note | None]:
    """An accumulated effect: what the running total is worth after this event, less what
    it was worth before. The total grows only when the rule is `counting` (not blocked);
    over a rolling window, "before" is the total of the earlier events still in it."""
    if effect.attr is None:
        amount = Decimal(1)
    else:
        value = event.attrs.get(effect.attr)
        if value is None:
            return None, MissingAttribute(effect.attr)
        amount = Decimal(value) * effect.factor  # type: ignore[arg-type]
    window = effect.window
    if isinstance(window, RollingWindow):
        rolling = s.rolling.setdefault(where, RollingTotal())
        before = rolling.on(event.day)
        if counting:
            rolling.add(amount, add_duration(event.day, window.rolling))
        after = rolling.total
    else:
        key = (*where, period_key(window, event.day))
        before = s.rule_sums.get(key, ZERO)
        after = before + amount if counting else before
        if counting:
            s.rule_sums[key] = after
    return effect.value(after) - effect.value(before), Accumulated(effect.of, after,
                                                                   effect.window_name)


def _count_tier(effect: CountTiersEffect, count: int) -> Any:
    reached = None
    for tier in effect.tiers:
        if count > tier.more_than:
            reached = tier
    return reached
