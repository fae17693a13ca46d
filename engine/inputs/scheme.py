"""The scheme format: what a city's scoring scheme states, and where each thing comes from.

A scheme file is data (YAML) validated by these frozen, strict models. Effects are a
discriminated union on `kind`; sources on `kind` (`seed` or `external`). Every rule, band
and scale carries `source` and `fidelity`:

- `documented`: the number or behaviour is in the source, quoted;
- `interpreted`: the source is ambiguous; `note` says which reading is taken and why;
- `assumed`: the source is silent; `note` says what was assumed.

References (event types, attributes, roles, band labels, cap groups) are resolved when
the scheme is loaded (`creditlab.engine.inputs.load`), not here.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, field_validator, model_validator

from creditlab.engine.model import Model, to_exact

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_DURATION_YEARS",
    "MAX_NUMBER",
    "AccumulatedEffect",
    "AccumulatedTier",
    "Band",
    "Bracket",
    "Cap",
    "CapGroup",
    "Condition",
    "CountTier",
    "CountTiersEffect",
    "Coverage",
    "Duration",
    "Effect",
    "Eligibility",
    "ExternalSource",
    "Fidelity",
    "FormulaEffect",
    "Frequency",
    "Interpretation",
    "ListEffect",
    "Match",
    "Mechanic",
    "MechanicStatus",
    "Name",
    "Period",
    "PointsEffect",
    "QuantityTier",
    "QuantityTiersEffect",
    "Range",
    "ReclassifyEffect",
    "Rule",
    "Scale",
    "Scheme",
    "SeedSource",
    "SetScoreEffect",
    "Source",
    "SubjectCondition",
    "Tier",
    "TiersEffect",
    "UnquantifiedEffect",
    "Variant",
]

MAX_NUMBER = Decimal(10) ** 9
"""Every number of a scheme (points, caps, scores, scale, bounds) is below this in magnitude."""
MAX_PLACES = 6
"""... and has at most this many decimal places."""
MAX_DURATION_YEARS = 100
"""The longest duration (expiry, list, reclassification) a scheme may state."""
EARLIEST = date(1900, 1, 1)
LATEST = date(2200, 12, 31)
"""Effective dates lie in these years, like event dates, so date + duration stays valid."""
MAX_AGE = 300
"""Ages in a rule: subjects are born from 1900 and events end in 2200."""


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= 40 else text[:40] + "\u2026"


def _bounded(value: Decimal) -> Decimal:
    if not value.is_finite() or value.adjusted() >= 9:
        raise ValueError(f"number {_short(value)} is out of range (a scheme's numbers are "
                         "below 10^9 in magnitude)")
    exponent = value.as_tuple().exponent
    if isinstance(exponent, int) and exponent < -MAX_PLACES and value != value.quantize(
            Decimal(1).scaleb(-MAX_PLACES)):
        raise ValueError(f"number {_short(value)} has more than {MAX_PLACES} decimal places")
    return value


Exact = Annotated[Decimal, BeforeValidator(to_exact), AfterValidator(_bounded)]
"""An exact number of a scheme: an int or a decimal, below 10^9, at most 6 places."""
Quantity = Annotated[Decimal, BeforeValidator(to_exact)]
"""A number compared with event values: bounded by the vocabulary when the scheme loads."""

Fidelity = Literal["documented", "interpreted", "assumed"]
Period = Literal["ever", "year", "month", "week", "day"]
"""A calendar period: limits and windows reset on 1 January, the 1st of the month, Monday."""


# --- where things come from -------------------------------------------------------------


class SeedSource(Model):
    """A quote from one of the seed documents (`../shared/seeds/<file>`)."""

    kind: Literal["seed"]
    file: str
    line: int | None = None
    quote: str = Field(min_length=3)


class ExternalSource(Model):
    """A quote from a public source outside the seeds (see `external-facts.yaml`)."""

    kind: Literal["external"]
    title: str
    publisher: str
    url: str | None = None
    date: str | None = None
    confidence: Literal["high", "medium", "low"]
    quote: str = Field(min_length=3)


Source = Annotated[SeedSource | ExternalSource, Field(discriminator="kind")]


class Cited(Model):
    """Something a source states: its quote, and how faithfully it is encoded."""

    source: Source
    also: list[Source] = Field(default_factory=list)
    fidelity: Fidelity
    note: str | None = None

    @model_validator(mode="after")
    def _note_when_not_documented(self) -> Cited:
        if self.fidelity != "documented" and not (self.note and self.note.strip()):
            raise ValueError(f"fidelity {self.fidelity!r} needs a 'note' saying which reading "
                             "was taken and why (interpreted) or what was assumed (assumed)")
        return self

    @property
    def sources(self) -> list[SeedSource | ExternalSource]:
        return [self.source, *self.also]

    @property
    def provenance(self) -> Literal["seed", "external"]:
        """`seed` when the main source is a seed document, else `external`."""
        return self.source.kind


# --- identity, scale, bands -------------------------------------------------------------


class Name(Model):
    en: str
    zh: str | None = None


class Duration(Model):
    """A length of time in calendar units."""

    years: int = 0
    months: int = 0
    days: int = 0

    @model_validator(mode="after")
    def _positive(self) -> Duration:
        if min(self.years, self.months, self.days) < 0 or not (self.years or self.months
                                                               or self.days):
            raise ValueError("a duration needs a positive number of years, months or days")
        if self.years * 365 + self.months * 30 + self.days > MAX_DURATION_YEARS * 366:
            raise ValueError(f"a duration is at most {MAX_DURATION_YEARS} years")
        return self


class Scale(Cited):
    """The score's range and starting point; `null` bounds are not documented."""

    min: Exact | None = None
    max: Exact | None = None
    start: Exact
    clamp: bool = False

    @model_validator(mode="after")
    def _ordered(self) -> Scale:
        if self.min is not None and self.max is not None and self.min > self.max:
            raise ValueError(f"scale min {self.min} is above max {self.max}")
        if self.clamp and (self.min is None or self.max is None):
            raise ValueError("clamp: true needs both min and max")
        return self


class Eligibility(Cited):
    """Whom the scheme scores, where a source says ("every adult").

    A subject of the scheme's kind is scored from the day it is `min_age` (its birthday,
    as `min_age` conditions count it); its events before that day are not applicable to
    the scheme, and a subject that has not reached the age by the history's end has no
    result in it. `age_unknown` says what happens to a subject whose birth date the
    history does not give: the sources never say, so a scheme file must.
    """

    min_age: int = Field(ge=1, le=150)
    age_unknown: Literal["scored", "not_scored"]


class Range(Model):
    """Score bounds of a band; a missing bound is open-ended."""

    min: Exact | None = None
    min_inclusive: bool = True
    max: Exact | None = None
    max_inclusive: bool = True

    def contains(self, score: Exact) -> bool:
        if self.min is not None and (score < self.min or (score == self.min
                                                          and not self.min_inclusive)):
            return False
        return not (self.max is not None and (score > self.max or (
            score == self.max and not self.max_inclusive)))


class Band(Cited):
    """A grade or band label. `range: null` means the source gives no thresholds for it."""

    label: str
    range: Range | None
    meaning: str | None = None


# --- rules ------------------------------------------------------------------------------


class Condition(Model):
    """A condition on an event attribute.

    A number here is compared with event values, so the vocabulary bounds it (below 10^15,
    at most 6 places: `check_attr` at load), not the scheme's 10^9.
    """

    attr: str
    op: Literal["eq", "ne", "gt", "gte", "lt", "lte", "in"]
    value: Quantity | str | bool | date | list[str]

    @model_validator(mode="after")
    def _value_fits_op(self) -> Condition:
        if (self.op == "in") != isinstance(self.value, list):
            raise ValueError("op 'in' takes a list of values; other ops take one value")
        if self.op in ("gt", "gte", "lt", "lte") and isinstance(self.value, (str, bool, list)):
            raise ValueError(f"op {self.op!r} compares numbers or dates")
        return self


class SubjectCondition(Model):
    """Who the rule applies to. Unknown subject fields never satisfy a condition."""

    roles_any: list[str] = Field(default_factory=list)
    roles_none: list[str] = Field(default_factory=list)
    residence: Literal["urban", "rural"] | None = None
    hukou: Literal["local", "non_local"] | None = None
    min_age: int | None = Field(default=None, ge=0, le=MAX_AGE)
    max_age: int | None = Field(default=None, ge=0, le=MAX_AGE)


class Match(Model):
    """Which events a rule fires on: event type(s), attribute and subject conditions."""

    type: str | list[str]
    where: list[Condition] = Field(default_factory=list)
    subject: SubjectCondition | None = None

    @property
    def types(self) -> list[str]:
        return [self.type] if isinstance(self.type, str) else list(self.type)


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


class AccumulatedEffect(Model):
    """Points by a running total over a period: "over the course of one year", "累计".

    The total is of the attribute `of` times `factor` (or, with `of: count`, of the events
    themselves) over the subject's earlier events of this rule in the same calendar
    `window`, plus this event; an event the rule's limits block (frequency, same act) adds
    nothing. f(total) is given by exactly one of:

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
    window: Period
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


class Cap(Model):
    """At most `points` (absolute) in total per calendar `per`."""

    points: Exact
    per: Period = "ever"


class Frequency(Model):
    """At most `times` scored events per calendar `per` ("two trips a month")."""

    times: int = Field(ge=1, le=10**6)
    per: Period


class Rule(Cited):
    """One behaviour the scheme scores, and what it does to the score.

    `expires_after`: the points this rule applied lapse after that long (records kept for a
    validity period): the reducer reverses them then, in a ledger entry of its own.
    """

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    direction: Literal["reward", "penalty"]
    applies_to: str | None = None
    match: Match
    effects: list[Effect] = Field(min_length=1)
    cap: Cap | None = None
    cap_group: str | None = None
    frequency: Frequency | None = None
    same_act_as: str | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    expires_after: Duration | None = None
    fine_rmb: Exact | None = None
    department: str | None = None

    @field_validator("effective_from", "effective_to")
    @classmethod
    def _date_in_range(cls, value: date | None) -> date | None:
        if value is not None and not EARLIEST <= value <= LATEST:
            raise ValueError(f"dates lie between {EARLIEST} and {LATEST}")
        return value

    @model_validator(mode="after")
    def _dates_ordered(self) -> Rule:
        if (self.effective_from and self.effective_to
                and self.effective_from > self.effective_to):
            raise ValueError("effective_from is after effective_to")
        return self


class CapGroup(Cited):
    """A cap shared by several rules ("counted together ... will not double")."""

    id: str
    cap: Cap


class Interpretation(Model):
    """How the scheme resolves an ambiguity of its sources (ids as in the seed catalog)."""

    ambiguity: str
    reading: str
    why: str
    rules: list[str] = Field(default_factory=list)
    variants: list[str] = Field(default_factory=list)


MechanicStatus = Literal["encoded", "partly", "not_expressible", "not_encoded"]
"""How far the file encodes a mechanic: wholly, in part, not at all because the engine
cannot express it yet, or not at all although it could (or because it is not scoring)."""


class Mechanic(Model):
    """One mechanic the sources give the scheme (in the seed catalog's words), and whether and
    how this file encodes it, so that coverage says what is missing as well as what is there."""

    mechanic: str = Field(min_length=3)
    status: MechanicStatus
    how: str = Field(min_length=3)
    """The rules or effect that encode it; or, when it is not encoded, why not (for
    `not_expressible`, which feature of the engine is missing)."""
    source: Source


class Coverage(Model):
    """What the sources say the full scheme has, against what this file encodes."""

    rules_total: int | None = None
    reward_rules: int | None = None
    penalty_rules: int | None = None
    note: str | None = None
    source: Source | None = None
    mechanics: list[Mechanic] = Field(default_factory=list)


class Variant(Model):
    """This file is an alternative reading of another scheme's ambiguous source."""

    of: str
    reading: str


class Scheme(Model):
    """A city's scoring scheme, as its sources state it."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*(@[a-z0-9_]+)?$")
    name: Name
    city: str
    province: str | None = None
    subject_kind: Literal["person", "enterprise", "city"]
    status: Literal["draft", "in_force", "reformed", "historical", "unknown"]
    status_note: str | None = None
    summary: str | None = None
    sources: list[Source] = Field(min_length=1)
    scale: Scale
    eligibility: Eligibility | None = None
    bands: list[Band] = Field(default_factory=list)
    cap_groups: list[CapGroup] = Field(default_factory=list)
    rules: list[Rule] = Field(default_factory=list)
    interpretations: list[Interpretation] = Field(default_factory=list)
    coverage: Coverage | None = None
    variant: Variant | None = None
    file: str = "<scheme>"
    sha256: str = ""

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def band(self, label: str) -> Band | None:
        return next((b for b in self.bands if b.label == label), None)

    def band_for(self, score: Exact) -> str | None:
        """The first band, in declared order (best first), whose range holds `score`."""
        for band in self.bands:
            if band.range is not None and band.range.contains(score):
                return band.label
        return None

    def rank(self, label: str) -> int:
        """0 for the best band; larger is worse."""
        return next(i for i, b in enumerate(self.bands) if b.label == label)

    def fidelity_counts(self) -> dict[str, int]:
        counts = {"documented": 0, "interpreted": 0, "assumed": 0}
        for rule in self.rules:
            counts[rule.fidelity] += 1
        return counts
