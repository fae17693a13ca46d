"""Short plain-language descriptions of effects, limits and sources, for tables and stories."""

from __future__ import annotations

from decimal import Decimal

from .scheme import (
    CountTiersEffect,
    Duration,
    Effect,
    ExternalSource,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    Range,
    ReclassifyEffect,
    Rule,
    SeedSource,
    SetScoreEffect,
    TiersEffect,
    UnquantifiedEffect,
)

__all__ = ["describe_effect", "describe_limits", "describe_match", "describe_range",
           "describe_source", "number", "signed"]

_OPS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "in"}


def number(value: Decimal | int) -> str:
    """A number in plain notation without trailing zeros: 15, 0.5, 1000 (never 1E+3)."""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text


def signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + number(value)


def _duration(d: Duration | None) -> str:
    if d is None:
        return "no end stated"
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in
             ((d.years, "year"), (d.months, "month"), (d.days, "day")) if n]
    return " ".join(parts)


def describe_range(r: Range | None) -> str:
    if r is None:
        return "thresholds not documented"
    lo = "" if r.min is None else ("≥ " if r.min_inclusive else "> ") + number(r.min)
    hi = "" if r.max is None else ("≤ " if r.max_inclusive else "< ") + number(r.max)
    return ", ".join(p for p in (lo, hi) if p) or "any score"


def describe_effect(effect: Effect) -> str:
    if isinstance(effect, PointsEffect):
        return signed(effect.points)
    if isinstance(effect, TiersEffect):
        return f"by {effect.attr}: " + ", ".join(f"{t.value} {signed(t.points)}"
                                                 for t in effect.tiers)
    if isinstance(effect, QuantityTiersEffect):
        unit = f" (x{number(effect.factor)})" if effect.factor != 1 else ""
        return f"by {effect.attr}{unit}: " + ", ".join(
            f"{describe_range(t.range)} {signed(t.points)}" for t in effect.tiers)
    if isinstance(effect, FormulaEffect):
        parts = []
        if effect.factor != 1:
            parts.append(f"{effect.attr} x{number(effect.factor)}")
        if effect.threshold:
            parts.append(f"from {number(effect.threshold)}")
        if effect.base_points:
            parts.append(f"{signed(effect.base_points)} for the first "
                         f"{number(effect.base_quantity)}")
        if effect.per is not None:
            parts.append(f"{signed(effect.per_points)} per {number(effect.per)} {effect.attr}")
        if effect.max_points is not None:
            parts.append(f"at most {number(abs(effect.max_points))}")
        return ", ".join(parts)
    if isinstance(effect, CountTiersEffect):
        window = "in all" if effect.window == "ever" else f"per {effect.window}"
        return f"count {window} ({effect.mode}): " + ", ".join(
            f"> {t.more_than} {signed(t.points)}" for t in effect.tiers)
    if isinstance(effect, SetScoreEffect):
        return f"score set to {number(effect.score)}"
    if isinstance(effect, ReclassifyEffect):
        return f"grade → {effect.grade} ({effect.policy.replace('_', ' ')}, " \
               f"{_duration(effect.duration)})"
    if isinstance(effect, ListEffect):
        sign = "+" if effect.action == "add" else "-"
        return f"{sign}{effect.flag} ({_duration(effect.duration)})" if effect.action == "add" \
            else f"{sign}{effect.flag}"
    assert isinstance(effect, UnquantifiedEffect)
    return "no points documented"


def describe_match(rule: Rule) -> str:
    """`type [attr op value, ...] (who)`: what a rule fires on, in one line."""
    text = ", ".join(rule.match.types)
    conds = []
    for c in rule.match.where:
        value = c.value
        shown = "/".join(map(str, value)) if isinstance(value, list) else (
            number(value) if isinstance(value, Decimal) else str(value).lower()
            if isinstance(value, bool) else str(value))
        conds.append(f"{c.attr} {_OPS[c.op]} {shown}")
    if conds:
        text += " [" + ", ".join(conds) + "]"
    sub = rule.match.subject
    if sub is not None:
        who = [*(f"role {x}" for x in sub.roles_any), *(f"not {x}" for x in sub.roles_none)]
        if sub.residence:
            who.append(sub.residence)
        if sub.hukou:
            who.append(f"hukou {sub.hukou}")
        if sub.min_age is not None:
            who.append(f"age ≥ {sub.min_age}")
        if sub.max_age is not None:
            who.append(f"age ≤ {sub.max_age}")
        if who:
            text += " (" + ", ".join(who) + ")"
    return text


def describe_limits(rule: Rule) -> str:
    parts = []
    if rule.cap is not None:
        parts.append(f"max {number(rule.cap.points)}"
                     + ("" if rule.cap.per == "ever" else f"/{rule.cap.per}"))
    if rule.cap_group is not None:
        parts.append(f"shared cap {rule.cap_group}")
    if rule.frequency is not None:
        parts.append(f"≤ {rule.frequency.times}/{rule.frequency.per}")
    if rule.same_act_as is not None:
        parts.append(f"same act as {rule.same_act_as}")
    if rule.effective_from or rule.effective_to:
        parts.append(f"in force {rule.effective_from or '…'} – {rule.effective_to or '…'}")
    return "; ".join(parts)


def describe_source(source: SeedSource | ExternalSource) -> str:
    if isinstance(source, SeedSource):
        where = source.file + (f":{source.line}" if source.line else "")
        return f"{where} “{source.quote}”"
    return f"{source.publisher}, {source.title} ({source.confidence}) “{source.quote}”"
