"""A scheme as numeric arrays: what the columnar reducer reads instead of the models.

Nothing here is particular to one scheme: every rule, effect, cap, cap group, band and
the scale become rows of plain arrays, numbers as integers scaled by `SCALE` (a scheme's
numbers have at most six decimals, so this is exact). Names stay with the scheme: the
arrays hold indexes into `scheme.rules`, the flattened effects, `scheme.cap_groups`,
`scheme.bands` and `flags`.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Bracket,
    CountTiersEffect,
    Duration,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    ReclassifyEffect,
    Scheme,
    SetScoreEffect,
    TiersEffect,
)

__all__ = ["EFFECT_KINDS", "PERIODS", "ROLLING", "SCALE", "CompiledScheme", "Packed",
           "compile_scheme", "pack", "scaled", "unscaled"]

SCALE = 10**6
"""Numbers are integers in millionths inside the columnar backend."""
LIMIT = 10**18
"""A scaled number must stay below this in magnitude (int64 holds 9.2 x 10^18)."""

PERIODS = {"ever": 0, "year": 1, "month": 2, "week": 3, "day": 4}
ROLLING = len(PERIODS)
"""The window of an accumulated effect over a rolling window (`RollingWindow`): its length
is in the effect's duration columns (E_DUR_*), which only list states and grades use
otherwise. A rule's frequency limit over a rolling window has it too (R_FREQ_PER), its
length in R_FREQ_Y/M/D."""
EFFECT_KINDS = {"points": 0, "tiers": 1, "quantity_tiers": 2, "formula": 3, "count_tiers": 4,
                "set_score": 5, "reclassify": 6, "list": 7, "unquantified": 8,
                "accumulated": 9}
VALUED = (1, 2, 3)
"""Effect kinds whose points depend on an event's attribute value."""

# Columns of the packed tables (`pack`): one int64 matrix per kind of thing, so that the
# compiled code passes a few arrays around rather than dozens.
(R_EFF_START, R_EFF_END, R_CAP_HAS, R_CAP_POINTS, R_CAP_PER, R_GROUP, R_FREQ_TIMES, R_FREQ_PER,
 R_SAME_ACT, R_EXP_HAS, R_EXP_Y, R_EXP_M, R_EXP_D, R_RANK, R_REP_FACTOR, R_REP_Y, R_REP_M,
 R_REP_D, R_FREQ_Y, R_FREQ_M, R_FREQ_D) = range(21)
# A rule in a repeat: its factor in millionths (0: in none) and the window in which an
# earlier counted entry makes the next a repeat (the rule's validity for `validity`). A
# frequency limit over a rolling window has R_FREQ_PER = ROLLING and its length in R_FREQ_*.
(E_KIND, E_VALUE, E_GRADE, E_POLICY, E_DUR_HAS, E_DUR_Y, E_DUR_M, E_DUR_D, E_ACTION, E_FLAG,
 E_WINDOW, E_MODE, E_TIER_START, E_TIER_END, E_BRACKETS, E_MAX_HAS, E_MAX) = range(17)
# Tiers: count tiers use (T_BOUND: more_than, T_POINTS); an accumulated effect's tiers
# (T_ABOVE: 1 for `above`, 0 for `at_least`) and brackets (T_PER) use all four, in
# millionths but for T_ABOVE.
T_BOUND, T_POINTS, T_PER, T_ABOVE = range(4)
B_RANK, B_HAS, B_HAS_MIN, B_MIN, B_MIN_INCL, B_HAS_MAX, B_MAX, B_MAX_INCL = range(8)

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
I8 = npt.NDArray[np.int8]
B = npt.NDArray[np.bool_]


def scaled(value: Decimal, what: str, field: str) -> int:
    """`value` in millionths; refused (never rounded) when it has more decimals or is too big."""
    exact = value * SCALE
    if exact != exact.to_integral_value() or abs(exact) >= LIMIT:
        raise HistoryError(f"{what} {value} cannot be scored exactly by the columnar backend "
                           f"(at most 6 decimals, magnitude below 10^12)", field=field)
    return int(exact)


def unscaled(value: int) -> Decimal:
    """A number in millionths back as a Decimal (no trailing zeros)."""
    number = Decimal(value).scaleb(-6)
    return number.to_integral_value() if number == number.to_integral_value() \
        else number.normalize()


@dataclass(frozen=True)
class CompiledScheme:
    """One scheme's rules, effects, caps, bands and scale as arrays (see module doc)."""

    scheme: Scheme
    effects: tuple[Any, ...]
    flags: tuple[str, ...]
    rule_ids: tuple[str, ...]
    arrays: dict[str, npt.NDArray[Any]]
    """Numeric arrays by name, as the reducer takes them (`reduce.reduce_scheme`)."""

    @property
    def effect_rule(self) -> I32:
        return self.arrays["eff_rule"]


def _duration(d: Duration | None) -> tuple[int, int, int, int]:
    return (0, 0, 0, 0) if d is None else (1, d.years, d.months, d.days)


def compile_scheme(scheme: Scheme) -> CompiledScheme:
    """The arrays of `scheme`; raises nothing a loaded scheme can fail."""
    rules = scheme.rules
    index = {r.id: i for i, r in enumerate(rules)}
    groups = {g.id: i for i, g in enumerate(scheme.cap_groups)}
    ranks = {label: i for i, label in reversed(list(enumerate(b.label for b in scheme.bands)))}
    flags = sorted({e.flag for r in rules for e in r.effects if isinstance(e, ListEffect)})
    flag_index = {f: i for i, f in enumerate(flags)}
    a: dict[str, list[Any]] = {k: [] for k in (
        "eff_start", "cap_has", "cap_points", "cap_per", "group", "freq_times", "freq_per",
        "same_act", "exp_has", "exp_y", "exp_m", "exp_d", "rule_rank", "eff_kind", "eff_rule",
        "eff_value", "eff_grade", "eff_policy", "dur_has", "dur_y", "dur_m", "dur_d",
        "eff_action", "eff_flag", "eff_window", "eff_mode", "tier_start", "tier_end",
        "eff_brackets", "eff_max_has", "eff_max", "tier_more", "tier_points", "tier_per",
        "tier_above", "rep_factor", "rep_y", "rep_m", "rep_d", "freq_y", "freq_m", "freq_d")}
    effects: list[Any] = []
    by_id = sorted(range(len(rules)), key=lambda i: rules[i].id)
    rank_of = {i: r for r, i in enumerate(by_id)}
    for i, rule in enumerate(rules):
        a["eff_start"].append(len(effects))
        a["cap_has"].append(rule.cap is not None)
        a["cap_points"].append(_s(rule.cap.points) if rule.cap else 0)
        a["cap_per"].append(PERIODS[rule.cap.per] if rule.cap else 0)
        a["group"].append(groups[rule.cap_group] if rule.cap_group is not None else -1)
        a["freq_times"].append(rule.frequency.times if rule.frequency else 0)
        per = rule.frequency.per if rule.frequency else "ever"
        a["freq_per"].append(PERIODS[per] if isinstance(per, str) else ROLLING)
        _, y, m, d = _duration(None if isinstance(per, str) else per.rolling)
        a["freq_y"].append(y)
        a["freq_m"].append(m)
        a["freq_d"].append(d)
        a["same_act"].append(index.get(rule.same_act_as, -1) if rule.same_act_as else -1)
        has, y, m, d = _duration(rule.expires_after)
        a["exp_has"].append(has)
        a["exp_y"].append(y)
        a["exp_m"].append(m)
        a["exp_d"].append(d)
        a["rule_rank"].append(rank_of[i])
        repeat = scheme.repeat_of(rule.id)
        a["rep_factor"].append(_s(repeat.factor) if repeat is not None else 0)
        within = None if repeat is None else rule.expires_after \
            if isinstance(repeat.within, str) else repeat.within
        _, y, m, d = _duration(within)
        a["rep_y"].append(y)
        a["rep_m"].append(m)
        a["rep_d"].append(d)
        stated: list[Any] = list(rule.effects)  # one loop over every kind of effect
        for effect in stated:
            effects.append(effect)
            a["eff_kind"].append(EFFECT_KINDS[effect.kind])
            a["eff_rule"].append(i)
            value = 0
            if isinstance(effect, PointsEffect):
                value = _s(effect.points)
            elif isinstance(effect, SetScoreEffect):
                value = _s(effect.score)
            a["eff_value"].append(value)
            a["eff_grade"].append(ranks.get(effect.grade, -1)
                                  if isinstance(effect, ReclassifyEffect) else -1)
            a["eff_policy"].append(1 if isinstance(effect, ReclassifyEffect)
                                   and effect.policy == "replace" else 0)
            duration = effect.duration if isinstance(effect, (ReclassifyEffect, ListEffect)) \
                else effect.rolling if isinstance(effect, AccumulatedEffect) else None
            has, y, m, d = _duration(duration)
            a["dur_has"].append(has)
            a["dur_y"].append(y)
            a["dur_m"].append(m)
            a["dur_d"].append(d)
            is_list = isinstance(effect, ListEffect)
            a["eff_action"].append(1 if is_list and effect.action == "add" else 0)
            a["eff_flag"].append(flag_index[effect.flag] if is_list else -1)
            counting = isinstance(effect, CountTiersEffect)
            summing = isinstance(effect, AccumulatedEffect)
            a["eff_window"].append(ROLLING if summing and effect.rolling is not None
                                   else PERIODS[effect.window] if counting or summing else 0)
            a["eff_mode"].append(1 if (counting or summing) and effect.mode == "replace"
                                 else 0)
            a["tier_start"].append(len(a["tier_more"]))
            if counting:
                for tier in effect.tiers:
                    a["tier_more"].append(tier.more_than)
                    a["tier_points"].append(_s(tier.points))
                    a["tier_per"].append(0)
                    a["tier_above"].append(0)
            a["eff_brackets"].append(1 if summing and effect.brackets is not None else 0)
            a["eff_max_has"].append(1 if summing and effect.max_points is not None else 0)
            a["eff_max"].append(_s(abs(effect.max_points)) if summing
                                and effect.max_points is not None else 0)
            if summing:
                for step in effect.tiers or effect.brackets or ():
                    above = isinstance(step, Bracket) or step.above is not None
                    a["tier_more"].append(_s(step.above if above else step.at_least))
                    a["tier_points"].append(_s(step.points))
                    a["tier_per"].append(_s(step.per) if isinstance(step, Bracket) else 0)
                    a["tier_above"].append(1 if above else 0)
            a["tier_end"].append(len(a["tier_more"]))
    a["eff_start"].append(len(effects))
    scale = scheme.scale
    arrays: dict[str, npt.NDArray[Any]] = {}
    for name, values in a.items():
        dtype = np.int64 if name in ("cap_points", "eff_value", "eff_max", "tier_more",
                                     "tier_points", "tier_per", "tier_above", "rep_factor") \
            else np.bool_ if name in ("cap_has", "exp_has", "dur_has") else np.int32
        arrays[name] = np.asarray(values, dtype=dtype)
    arrays["group_points"] = np.asarray([_s(g.cap.points) for g in scheme.cap_groups], np.int64)
    arrays["group_per"] = np.asarray([PERIODS[g.cap.per] for g in scheme.cap_groups], np.int32)
    arrays["scale"] = np.asarray([1 if scale.clamp else 0,
                                  _s(scale.min) if scale.min is not None else 0,
                                  _s(scale.max) if scale.max is not None else 0,
                                  _s(scale.start)], np.int64)
    arrays["band_rank"] = np.asarray([ranks[b.label] for b in scheme.bands], np.int32)
    band: dict[str, list[Any]] = {k: [] for k in ("has", "has_min", "min", "min_incl",
                                                  "has_max", "max", "max_incl")}
    for b in scheme.bands:
        r = b.range
        band["has"].append(r is not None)
        band["has_min"].append(r is not None and r.min is not None)
        band["min"].append(_s(r.min) if r is not None and r.min is not None else 0)
        band["min_incl"].append(r is None or r.min_inclusive)
        band["has_max"].append(r is not None and r.max is not None)
        band["max"].append(_s(r.max) if r is not None and r.max is not None else 0)
        band["max_incl"].append(r is None or r.max_inclusive)
    for name, values in band.items():
        arrays["band_" + name] = np.asarray(values, np.int64 if name in ("min", "max")
                                            else np.bool_)
    return CompiledScheme(scheme, tuple(effects), tuple(flags), tuple(r.id for r in rules),
                          arrays)


def _s(value: Decimal) -> int:
    # A scheme's numbers are below 10^9 with at most 6 decimals (scheme.py): always exact.
    return int(value * SCALE)


def valued(effect: Any) -> bool:
    """Whether the points of `effect` depend on an event's attribute value (an
    accumulated effect: its slot holds the amount the event adds to the total)."""
    return isinstance(effect, (TiersEffect, QuantityTiersEffect, FormulaEffect,
                               AccumulatedEffect))


@dataclass(frozen=True)
class Packed:
    """A compiled scheme's arrays as the few matrices the reducer takes."""

    rules: npt.NDArray[np.int64]
    effects: npt.NDArray[np.int64]
    tiers: npt.NDArray[np.int64]
    groups: npt.NDArray[np.int64]
    bands: npt.NDArray[np.int64]
    scale: npt.NDArray[np.int64]


def pack(a: dict[str, npt.NDArray[Any]]) -> Packed:
    """The reducer's matrices from `CompiledScheme.arrays`."""
    start = a["eff_start"]

    def table(*columns: npt.NDArray[Any]) -> npt.NDArray[np.int64]:
        rows = len(columns[0])
        out = np.zeros((rows, len(columns)), np.int64)
        for k, column in enumerate(columns):
            out[:, k] = column
        return out

    return Packed(
        rules=table(start[:-1], start[1:], a["cap_has"], a["cap_points"], a["cap_per"],
                    a["group"], a["freq_times"], a["freq_per"], a["same_act"], a["exp_has"],
                    a["exp_y"], a["exp_m"], a["exp_d"], a["rule_rank"], a["rep_factor"],
                    a["rep_y"], a["rep_m"], a["rep_d"], a["freq_y"], a["freq_m"], a["freq_d"]),
        effects=table(a["eff_kind"], a["eff_value"], a["eff_grade"], a["eff_policy"],
                      a["dur_has"], a["dur_y"], a["dur_m"], a["dur_d"], a["eff_action"],
                      a["eff_flag"], a["eff_window"], a["eff_mode"], a["tier_start"],
                      a["tier_end"], a["eff_brackets"], a["eff_max_has"], a["eff_max"]),
        tiers=table(a["tier_more"], a["tier_points"], a["tier_per"], a["tier_above"])
        if len(a["tier_more"]) else np.zeros((0, 4), np.int64),
        groups=table(a["group_points"], a["group_per"]) if len(a["group_points"])
        else np.zeros((0, 2), np.int64),
        bands=table(a["band_rank"], a["band_has"], a["band_has_min"], a["band_min"],
                    a["band_min_incl"], a["band_has_max"], a["band_max"], a["band_max_incl"])
        if len(a["band_rank"]) else np.zeros((0, 8), np.int64),
        scale=a["scale"].astype(np.int64))
