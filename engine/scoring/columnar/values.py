"""The points a rule states for an event's value (tiers, quantity tiers, formulas).

These points depend on the event alone, never on the standing, so they are worked out
before the reducer runs: once per distinct value of the attribute among the events the
rule fired on, with the same exact `Decimal` arithmetic as the durable reducer, then
spread to every (event, effect) slot as millionths. A result that millionths in int64
cannot hold is refused, never rounded. An accumulated effect's slot holds instead the
amount the event adds to its running total (the attribute times the factor, or 1 for a
count): the reducer keeps the total.
"""

from __future__ import annotations

from decimal import ROUND_FLOOR, Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow.compute as pc

from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    FormulaEffect,
    QuantityTiersEffect,
    TiersEffect,
)
from creditlab.engine.scoring.columnar.compile import CompiledScheme, scaled, valued
from creditlab.engine.scoring.columnar.match import Events

__all__ = [
    "AT_MOST",
    "BELOW",
    "GIVEN",
    "MISSING",
    "NO_QUANTITY_TIER",
    "NO_TIER",
    "effect_points",
    "event_value",
]

GIVEN, MISSING, NO_TIER, NO_QUANTITY_TIER, BELOW, AT_MOST = range(6)
"""What an effect gave: points (GIVEN, BELOW: zero, AT_MOST: capped), or none (a note)."""


def event_value(value: Any) -> Any:
    """An attribute value read from a table as the history holds it (numbers: int when
    integral, else the Decimal without trailing zeros)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value.normalize()
    return value


def _points(effect: Any, value: Any) -> tuple[int, Decimal | None]:
    """(status, points) of a valued effect for one attribute value, as
    `durable.points.stated_points` gives them."""
    if value is None:
        return MISSING, None
    if isinstance(effect, TiersEffect):
        for tier in effect.tiers:
            if tier.value == value:
                return GIVEN, tier.points
        return NO_TIER, None
    quantity = Decimal(value) * effect.factor
    if isinstance(effect, AccumulatedEffect):
        return GIVEN, quantity
    if isinstance(effect, QuantityTiersEffect):
        for qtier in effect.tiers:
            if qtier.range.contains(quantity):
                return GIVEN, qtier.points
        return NO_QUANTITY_TIER, None
    assert isinstance(effect, FormulaEffect)
    if quantity < effect.threshold:
        return BELOW, Decimal(0)
    points = effect.base_points
    if effect.per is not None and quantity > effect.base_quantity:
        steps = ((quantity - effect.base_quantity) / effect.per).to_integral_value(ROUND_FLOOR)
        points += steps * effect.per_points
    if effect.max_points is not None and abs(points) > abs(effect.max_points):
        return AT_MOST, effect.max_points.copy_sign(points)
    return GIVEN, points


def effect_points(ev: Events, compiled: CompiledScheme, rows: npt.NDArray[np.int64],
                  rules: npt.NDArray[np.int32]
                  ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int8], npt.NDArray[np.int64]]:
    """(slot_start per pair + 1, status per slot, points per slot) for the fired pairs.

    A pair's slots are its rule's effects in declared order; only valued effects are
    filled here (the reducer reads the others from the scheme's arrays).
    """
    eff_start = compiled.arrays["eff_start"]
    counts = (eff_start[1:] - eff_start[:-1])[rules]
    slot_start = np.zeros(len(rules) + 1, np.int64)
    np.cumsum(counts, out=slot_start[1:])
    status = np.zeros(int(slot_start[-1]), np.int8)
    points = np.zeros(int(slot_start[-1]), np.int64)
    # A stable sort of small integers is a radix sort in numpy.
    narrow = rules.astype(np.int16) if len(eff_start) < (1 << 15) else rules
    by_rule = np.argsort(narrow, kind="stable")
    bounds = np.searchsorted(rules[by_rule], np.arange(len(eff_start)))
    for e, effect in enumerate(compiled.effects):
        if not valued(effect):
            continue
        rule = int(compiled.arrays["eff_rule"][e])
        pairs = by_rule[bounds[rule]:bounds[rule + 1]]
        if not len(pairs):
            continue
        slots = slot_start[pairs] + (e - int(eff_start[rule]))
        if effect.attr is None:  # an accumulated count: each event adds one
            points[slots] = scaled(Decimal(1), "count", "count")
            continue
        if effect.attr not in ev.table.column_names:
            status[slots] = MISSING
            continue
        what = "amount" if isinstance(effect, AccumulatedEffect) else "points"
        taken = ev.values(effect.attr, rows[pairs])
        encoded = taken.dictionary_encode()
        table_status = []
        table_points = []
        for value in encoded.dictionary.to_pylist():
            st, pts = _points(effect, event_value(value))
            table_status.append(st)
            table_points.append(0 if pts is None else scaled(pts, what, effect.attr))
        table_status.append(MISSING)
        table_points.append(0)
        codes = pc.fill_null(encoded.indices, len(encoded.dictionary)).to_numpy(
            zero_copy_only=False)
        status[slots] = np.asarray(table_status, np.int8)[codes]
        points[slots] = np.asarray(table_points, np.int64)[codes]
    return slot_start, status, points
