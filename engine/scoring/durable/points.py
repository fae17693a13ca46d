"""The points an effect gives as its rule states them, before limits, caps and the scale.

A fixed number, a tier for the event's value, a formula on its quantity, a tier for how
many times the rule counted in a window, or what a running total is worth: the reducer
(reduce.py) then cuts these points by the rule's cap, its group's cap and the scale's
clamp. Counts and running totals live on the subject's `Standing`, so this reads and (for
an entry its rule's limits let count) updates them; the rest depends on the event alone.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

from creditlab.engine.inputs.history import Event
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    CountTiersEffect,
    FormulaEffect,
    PointsEffect,
    QuantityTiersEffect,
    Rule,
    TiersEffect,
)
from creditlab.engine.inputs.scheme_effects import RollingWindow
from creditlab.engine.scoring.durable.standing import ZERO, RollingTotal, Standing
from creditlab.engine.scoring.ledger import (
    Accumulated,
    AtMost,
    BelowThreshold,
    CountTier,
    MissingAttribute,
    NoQuantityTier,
    Note,
    NoTierValue,
)
from creditlab.engine.scoring.periods import add_duration, period_key

__all__ = ["stated_points"]


def stated_points(effect: Any, event: Event, s: Standing, rule: Rule, counting: bool,
                  index: int = 0) -> tuple[Decimal | None, Note | None]:
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
