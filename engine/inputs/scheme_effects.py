"""What a rule does: the effects of the scheme format, a discriminated union on `kind`.

Points (fixed, by an enum's tier, by a quantity's tier, by formula), points by the count of
a rule's events or by the running total of an attribute in a window (`accumulated`), a
score set, a grade set (reclassification), a list state added or removed, and
`unquantified` where the source gives no number. How each applies is the reducers'
(`scoring/durable/points.py` and `reduce.py`, `scoring/columnar`); what each states is here.
"""

from __future__ import annotations

import re
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, field_validator, model_validator

from creditlab.engine.inputs.scheme_values import (
    Duration,
    Exact,
    Period,
    Range,
    Source,
)
from creditlab.engine.model import Model

__all__ = [
    "AccumulatedEffect",
    "AccumulatedTier",
    "Bracket",
    "CountTier",
    "CountTiersEffect",
    "Effect",
    "FormulaEffect",
    "ListEffect",
    "PointsEffect",
    "QuantityTier",
    "QuantityTiersEffect",
    "ReclassifyEffect",
    "RollingWindow",
    "SetScoreEffect",
    "Tier",
    "TiersEffect",
    "UnquantifiedEffect",
    "Window",
]


class PointsEffect(Model):
    """A fixed number of points (negative for a deduction)."""

    kind: Literal["points"]
    points: Exact


class Tier(Model):
    value: str
    points: Exact
    source: Source | None = None


class TiersEffect(Model):
    """Points by the value of a category attribute (level: national / provincial / ...)."""

    kind: Literal["tiers"]
    attr: str
    tiers: list[Tier] = Field(min_length=1)


class QuantityTier(Model):
    range: Range
    points: Exact
    source: Source | None = None


class QuantityTiersEffect(Model):
    """Points by the band a quantity falls in (hours <= 50, 50-100, > 100)."""

    kind: Literal["quantity_tiers"]
    attr: str
    factor: Exact = Decimal(1)
    tiers: list[QuantityTier] = Field(min_length=1)


class FormulaEffect(Model):
    """Base plus increment, with a cap and a unit conversion.

    q = attr x factor. Below `threshold`, no points. Otherwise `base_points`, plus
    `per_points` for every whole `per` of q above `base_quantity`, at most `max_points`
    in absolute value. (Blood: threshold 400, base 10 for the first 400 ml, +5 per 200 ml,
    max 30. "2 points per 10 hours": per 10, per_points 2.)
    """

    kind: Literal["formula"]
    attr: str
    factor: Exact = Decimal(1)
    threshold: Exact = Decimal(0)
    base_points: Exact = Decimal(0)
    base_quantity: Exact = Decimal(0)
    per: Exact | None = None
    per_points: Exact = Decimal(0)
    max_points: Exact | None = None

    @field_validator("per")
    @classmethod
    def _per_positive(cls, value: Exact | None) -> Exact | None:
        if value is not None and value <= 0:
            raise ValueError("'per' must be positive")
        return value


class CountTier(Model):
    more_than: int = Field(ge=0, le=10**6)
    points: Exact
    source: Source | None = None


class CountTiersEffect(Model):
    """Points when the count of this rule's events in a window passes a threshold.

    `mode: replace`: a higher tier replaces the lower one (only the difference is applied);
    `mode: add`: each tier reached adds its points.
    """

    kind: Literal["count_tiers"]
    window: Period
    mode: Literal["replace", "add"]
    tiers: list[CountTier] = Field(min_length=1)


class AccumulatedTier(Model):
    """A step of a running total: reached when the total is `at_least` X (or `above` X)."""

    at_least: Exact | None = None
    above: Exact | None = None
    points: Exact
    source: Source | None = None

    @model_validator(mode="after")
    def _one_bound(self) -> AccumulatedTier:
        if (self.at_least is None) == (self.above is None):
            raise ValueError("a tier of a total gives one of 'at_least' or 'above'")
        # An empty total is worth nothing: a tier it reached would never be earned.
        if (self.at_least is not None and self.at_least <= 0) or (
                self.above is not None and self.above < 0):
            raise ValueError("a tier of a total is reached by a positive total: 'at_least' "
                             "above 0, or 'above' 0 or more")
        return self

    @property
    def bound(self) -> Decimal:
        """The tier's threshold, whichever of `at_least` and `above` gives it."""
        if self.at_least is not None:
            return self.at_least
        assert self.above is not None
        return self.above

    def reached(self, total: Decimal) -> bool:
        return total >= self.bound if self.at_least is not None else total > self.bound


class Bracket(Model):
    """A marginal rate: every whole `per` of the total above `above` (up to the next
    bracket's `above`) earns `points` ("21—80个小时,每两小时加1分": above 20, per 2, 1)."""

    above: Exact
    per: Exact
    points: Exact
    source: Source | None = None

    @field_validator("per")
    @classmethod
    def _per_positive(cls, value: Decimal) -> Decimal:
        if value <= 0:
            raise ValueError("'per' must be positive")
        return value

    @field_validator("above")
    @classmethod
    def _from_zero(cls, value: Decimal) -> Decimal:
        if value < 0:
            raise ValueError("a bracket starts at 0 or above (an empty total is worth nothing)")
        return value


class RollingWindow(Model):
    """A window that moves with each event: the `rolling` duration up to the event's day.

    Written `window: {rolling: {days: 365}}` or `window: {rolling: {years: 3}}` ("12
    points within three years"): an earlier event on day e is in the window of an event on
    day d while d < e + `rolling` (calendar arithmetic, `periods.add_duration`: the 31st
    plus a month is the month's last day, 29 February plus a year is 28 February).
    """

    rolling: Duration

    @property
    def name(self) -> str:
        """The window as the ledger names it: an ISO 8601 duration (`P365D`, `P3Y`, `P1Y6M`)."""
        d = self.rolling
        return "P" + "".join(f"{n}{unit}" for n, unit in ((d.years, "Y"), (d.months, "M"),
                                                          (d.days, "D")) if n)

    @classmethod
    def named(cls, name: str) -> RollingWindow | None:
        """The rolling window a ledger names (`P3Y`), or None for a calendar period."""
        found = _ISO_DURATION.fullmatch(name)
        if found is None or not any(found.groups()):
            return None
        years, months, days = (int(g) if g else 0 for g in found.groups())
        return cls(rolling=Duration(years=years, months=months, days=days))


_ISO_DURATION = re.compile(r"P(?:(\d+)Y)?(?:(\d+)M)?(?:(\d+)D)?")


def _window_kind(value: Any) -> str:
    # A name is a calendar period, a mapping a rolling window: each error then speaks of
    # the one the file meant, not of both. The tags are bracketed as pydantic names union
    # members, so that an error's path is the file's (`load._strip_tags` drops them).
    return "window[period]" if isinstance(value, str) else "window[rolling]"


Window = Annotated[Annotated[Period, Tag("window[period]")]
                   | Annotated[RollingWindow, Tag("window[rolling]")],
                   Discriminator(_window_kind)]
"""An accumulated effect's window: a calendar `Period` or a `RollingWindow`."""


class AccumulatedEffect(Model):
    """Points by a running total over a period: "over the course of one year", "累计".

    The total is of the attribute `of` times `factor` (or, with `of: count`, of the events
    themselves) over the subject's earlier events of this rule in its `window`, plus this
    event; an event the rule's limits block (frequency, same act) adds nothing. The window
    is a calendar period (`ever`, `year`, `month`, `week`, `day`: the earlier events in the
    same one) or a `RollingWindow` (`{rolling: {days: 365}}`: the earlier events on a day e
    with d < e + 365 days, for an event on day d). A rolling total forgets old events as
    they leave the window, so a later event can earn a tier again; what was earned is never
    taken back. f(total) is given by exactly one of:

    - `tiers`: the points of the highest tier reached (`mode: replace`), or the sum of the
      points of every tier reached (`mode: add`);
    - `brackets` (marginal rates): for each bracket, the whole `per`s of the part of the
      total above its `above` and up to the next bracket's `above`, times its `points`.

    at most `max_points` in absolute value. The event gets f(total after) - f(total before):
    points as the total crosses tiers or whole steps, never twice for the same hours.
    """

    kind: Literal["accumulated"]
    of: str
    factor: Exact = Decimal(1)
    window: Window
    mode: Literal["replace", "add"] = "replace"
    tiers: list[AccumulatedTier] | None = None
    brackets: list[Bracket] | None = None
    max_points: Exact | None = None

    @model_validator(mode="after")
    def _one_schedule(self) -> AccumulatedEffect:
        if (self.tiers is None) == (self.brackets is None):
            raise ValueError("an accumulated effect gives one of 'tiers' or 'brackets'")
        if self.factor <= 0:
            raise ValueError("'factor' must be positive (a total only grows)")
        if self.of == "count" and self.factor != 1:
            raise ValueError("'factor' applies to an attribute's total, not to a count")
        if self.tiers is not None:
            if not self.tiers:
                raise ValueError("'tiers' lists at least one tier")
            keys = [(t.bound, t.above is not None) for t in self.tiers]
            if any(a >= b for a, b in pairwise(keys)):
                raise ValueError("tiers of a total must be in increasing order of their bounds")
        if self.brackets is not None:
            if not self.brackets:
                raise ValueError("'brackets' lists at least one bracket")
            if self.mode != "replace":
                raise ValueError("'mode' applies to tiers; brackets are marginal")
            bounds = [b.above for b in self.brackets]
            if any(a >= b for a, b in pairwise(bounds)):
                raise ValueError("brackets must be in increasing order of 'above'")
        return self

    @property
    def attr(self) -> str | None:
        """The attribute totalled, or None when events are counted."""
        return None if self.of == "count" else self.of

    @property
    def rolling(self) -> Duration | None:
        """The length of a rolling window, or None for a calendar period."""
        return self.window.rolling if isinstance(self.window, RollingWindow) else None

    @property
    def window_name(self) -> str:
        """The window as the ledger names it: the period (`year`), or `P365D` for a rolling
        window of 365 days (see `RollingWindow.name`)."""
        return self.window.name if isinstance(self.window, RollingWindow) else self.window

    def value(self, total: Decimal) -> Decimal:
        """f(total): the points a total is worth (see the class doc), exactly."""
        points = Decimal(0)
        if self.tiers is not None:
            for tier in self.tiers:
                if tier.reached(total):
                    points = points + tier.points if self.mode == "add" else tier.points
        else:
            assert self.brackets is not None
            for k, bracket in enumerate(self.brackets):
                if total <= bracket.above:
                    break
                top = self.brackets[k + 1].above if k + 1 < len(self.brackets) else None
                part = (total if top is None else min(total, top)) - bracket.above
                # part >= 0 and per > 0: Decimal's // truncates, which is the floor, exactly.
                points += (part // bracket.per) * bracket.points
        if self.max_points is not None and abs(points) > abs(self.max_points):
            return abs(self.max_points).copy_sign(points)
        return points


class SetScoreEffect(Model):
    """The score is set to a value (Fuzhou: "Points reduced to 0")."""

    kind: Literal["set_score"]
    score: Exact


class ReclassifyEffect(Model):
    """The grade is set to `grade`, whatever the score says.

    `policy: worse_of`: the grade shown is the worse of the score's band and `grade`;
    `policy: replace`: the grade shown is `grade`. The score itself is not changed.
    `duration: null` means the source gives none: it lasts to the end of the replay.
    """

    kind: Literal["reclassify"]
    grade: str
    policy: Literal["worse_of", "replace"]
    duration: Duration | None = None


class ListEffect(Model):
    """A list state (blacklisted, redlisted, ...) added or removed, with a duration."""

    kind: Literal["list"]
    action: Literal["add", "remove"]
    flag: str
    duration: Duration | None = None


class UnquantifiedEffect(Model):
    """The source says the behaviour is rewarded or penalised but gives no number."""

    kind: Literal["unquantified"]


Effect = Annotated[
    PointsEffect | TiersEffect | QuantityTiersEffect | FormulaEffect | CountTiersEffect
    | AccumulatedEffect | SetScoreEffect | ReclassifyEffect | ListEffect | UnquantifiedEffect,
    Field(discriminator="kind"),
]
