"""Lint's list of the numbers a scheme encodes, each with its path and how it may be printed.

For a rule: its points, caps, tier bounds and points, formula numbers, count thresholds,
numeric conditions, frequency limits, durations (expiry, list states, grades, the length of a
rolling window, of an accumulated effect or of a frequency limit), set scores, fines and ages.
For the scheme: the scale, each band, each cap group, each periodic check (its bound, ages
and durations) and each repeat (its factor, and a window given as a duration). A bound or
threshold is marked as one (`Encoded.bound`): a source may print it as the whole number on
either side. `lint_numbers` checks each against the quotes (`lint_stated` reads them).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from creditlab.engine.checks.intervals import number
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Check,
    Cited,
    CountTiersEffect,
    Duration,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    ReclassifyEffect,
    Rule,
    Scheme,
    SetScoreEffect,
    TiersEffect,
)

__all__ = ["Encoded", "FieldPath", "check_numbers_of", "encoded_numbers", "scheme_numbers"]

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Encoded:
    """One number a scheme encodes: where it is, what it is, and how it may be printed.

    `value` is a number, or a `Duration`; `bound` marks a threshold, which a source may
    print as the whole number either side of it ("more than 5" is `more_than: 5`, "from
    the 6th" the same).
    """

    path: FieldPath
    what: str
    value: Decimal | Duration
    bound: bool = False

    def shown(self) -> str:
        if isinstance(self.value, Duration):
            d = self.value
            parts = [(d.years, "year"), (d.months, "month"), (d.days, "day")]
            return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
        return number(self.value)


def encoded_numbers(rule: Rule) -> list[Encoded]:
    """Every number `rule` encodes, with its path inside the rule."""
    out: list[Encoded] = []
    for k, cond in enumerate(rule.match.where):
        if isinstance(cond.value, Decimal):
            out.append(Encoded(("match", "where", k, "value"), f"{cond.attr} {cond.op}",
                               cond.value, bound=True))
    subject = rule.match.subject
    for key in ("min_age", "max_age"):
        age = getattr(subject, key, None) if subject is not None else None
        if age is not None:
            out.append(Encoded(("match", "subject", key), key.replace("_", " "), Decimal(age),
                               bound=True))
    for j, effect in enumerate(rule.effects):
        out += _effect_numbers(effect, ("effects", j))
    if rule.cap is not None:
        out.append(Encoded(("cap", "points"), "cap", rule.cap.points))
    if rule.frequency is not None:
        out.append(Encoded(("frequency", "times"), "times", Decimal(rule.frequency.times)))
        if not isinstance(rule.frequency.per, str):  # "any 30 days": a length it encodes
            out.append(Encoded(("frequency", "per", "rolling"), "frequency window",
                               rule.frequency.per.rolling))
    if rule.expires_after is not None:
        out.append(Encoded(("expires_after",), "expiry", rule.expires_after))
    if rule.fine_rmb is not None:
        out.append(Encoded(("fine_rmb",), "fine (RMB)", rule.fine_rmb))
    return out


def _effect_numbers(effect: Any, here: FieldPath) -> list[Encoded]:
    out: list[Encoded] = []
    if isinstance(effect, PointsEffect):
        out.append(Encoded((*here, "points"), "points", effect.points))
    elif isinstance(effect, SetScoreEffect):
        out.append(Encoded((*here, "score"), "score set", effect.score))
    elif isinstance(effect, TiersEffect):
        out += [Encoded((*here, "tiers", k, "points"), f"points for {effect.attr}={t.value}",
                        t.points) for k, t in enumerate(effect.tiers)]
    elif isinstance(effect, QuantityTiersEffect):
        for k, tier in enumerate(effect.tiers):
            out.append(Encoded((*here, "tiers", k, "points"), f"tier {k + 1} points",
                               tier.points))
            for key in ("min", "max"):
                bound = getattr(tier.range, key)
                if bound is not None:
                    out.append(Encoded((*here, "tiers", k, "range", key),
                                       f"tier {k + 1} {effect.attr} {key}", bound, bound=True))
    elif isinstance(effect, CountTiersEffect):
        for k, count in enumerate(effect.tiers):
            out.append(Encoded((*here, "tiers", k, "more_than"), f"tier {k + 1} count",
                               Decimal(count.more_than), bound=True))
            out.append(Encoded((*here, "tiers", k, "points"), f"tier {k + 1} points",
                               count.points))
    elif isinstance(effect, AccumulatedEffect):
        if effect.factor != 1:
            out.append(Encoded((*here, "factor"), "factor", effect.factor))
        if effect.rolling is not None:  # "within three years": a length the rule encodes
            out.append(Encoded((*here, "window", "rolling"), "rolling window",
                               effect.rolling))
        for k, step in enumerate(effect.tiers or ()):
            key = "at_least" if step.at_least is not None else "above"
            if step.bound:  # above 0: "any service", "up to 50 hours"
                out.append(Encoded((*here, "tiers", k, key),
                                   f"tier {k + 1} total {effect.of}", step.bound, bound=True))
            out.append(Encoded((*here, "tiers", k, "points"), f"tier {k + 1} points",
                               step.points))
        for k, bracket in enumerate(effect.brackets or ()):
            if bracket.above:  # 0: "from the first hour"
                out.append(Encoded((*here, "brackets", k, "above"),
                                   f"bracket {k + 1} total {effect.of} above", bracket.above,
                                   bound=True))
            out.append(Encoded((*here, "brackets", k, "per"), f"bracket {k + 1} per",
                               bracket.per))
            out.append(Encoded((*here, "brackets", k, "points"), f"bracket {k + 1} points",
                               bracket.points))
        if effect.max_points is not None:
            out.append(Encoded((*here, "max_points"), "max points", effect.max_points))
    elif isinstance(effect, FormulaEffect):
        for name in ("threshold", "base_points", "base_quantity", "per", "per_points",
                     "max_points"):
            value = getattr(effect, name)
            if value:  # 0 and None are the defaults: "no threshold", "no cap"
                out.append(Encoded((*here, name), name.replace("_", " "), value,
                                   bound=name in ("threshold", "base_quantity")))
    elif isinstance(effect, (ReclassifyEffect, ListEffect)) and effect.duration is not None:
        out.append(Encoded((*here, "duration"), "duration", effect.duration))
    return out


def scheme_numbers(scheme: Scheme) -> Iterator[tuple[str, Cited, list[Encoded]]]:
    """The scale, each band, each cap group, each check and each repeat: its name, itself
    and the numbers it encodes."""
    scale = scheme.scale
    yield "scale", scale, [Encoded(("scale", key), key, getattr(scale, key))
                           for key in ("start", "min", "max") if getattr(scale, key) is not None]
    for i, band in enumerate(scheme.bands):
        if band.range is not None:
            yield f"band {band.label!r}", band, [
                Encoded(("bands", i, "range", key), key, getattr(band.range, key), bound=True)
                for key in ("min", "max") if getattr(band.range, key) is not None]
    for i, group in enumerate(scheme.cap_groups):
        yield f"cap group {group.id!r}", group, [
            Encoded(("cap_groups", i, "cap", "points"), "cap", group.cap.points)]
    for i, check in enumerate(scheme.checks):
        yield f"check {check.id!r}", check, check_numbers_of(check, ("checks", i))
    for i, repeat in enumerate(scheme.repeats):
        numbers = [Encoded(("repeats", i, "factor"), "factor", repeat.factor)]
        if not isinstance(repeat.within, str):
            numbers.append(Encoded(("repeats", i, "within"), "window", repeat.within))
        yield f"repeat {repeat.id!r}", repeat, numbers


def check_numbers_of(check: Check, here: FieldPath) -> list[Encoded]:
    """A periodic check's numbers: its condition's bound (a threshold), the ages of whom it
    judges, and the durations of the states it gives."""
    out: list[Encoded] = []
    for key in ("at_least", "at_most"):
        value = getattr(check, key)
        if value is not None:
            out.append(Encoded((*here, key), f"{check.count.of} {key.replace('_', ' ')}",
                               value, bound=True))
    for key in ("min_age", "max_age"):
        age = getattr(check.subject, key, None) if check.subject is not None else None
        if age is not None:
            out.append(Encoded((*here, "subject", key), key.replace("_", " "), Decimal(age),
                               bound=True))
    for j, effect in enumerate(check.effects):
        out += _effect_numbers(effect, (*here, "effects", j))
    return out
