"""The scheme format: what a city's scoring scheme states, and where each thing comes from.

A scheme file is data (YAML) validated by these frozen, strict models. Effects are a
discriminated union on `kind`; sources on `kind` (`seed` or `external`). Every rule, band
and scale carries `source` and `fidelity`:

- `documented`: the number or behaviour is in the source, quoted;
- `interpreted`: the source is ambiguous; `note` says which reading is taken and why;
- `assumed`: the source is silent; `note` says what was assumed.

References (event types, attributes, roles, band labels, cap groups, the rules of a
repeat) are resolved when the scheme is loaded (`creditlab.engine.inputs.load`), not here.

This module holds the scheme and its rules, bands and coverage; the values and citations
they are made of are in `scheme_values`, the effects in `scheme_effects`, repeat offences
in `scheme_repeats`. Every name is
importable from here, as before.
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from creditlab.engine.inputs.scheme_checks import Check, CheckCount
from creditlab.engine.inputs.scheme_effects import (
    AccumulatedEffect,
    AccumulatedTier,
    Bracket,
    CountTier,
    CountTiersEffect,
    Effect,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTier,
    QuantityTiersEffect,
    ReclassifyEffect,
    RollingWindow,
    SetScoreEffect,
    Tier,
    TiersEffect,
    UnquantifiedEffect,
    Window,
)
from creditlab.engine.inputs.scheme_repeats import Repeat
from creditlab.engine.inputs.scheme_values import (
    EARLIEST,
    LATEST,
    MAX_DURATION_YEARS,
    MAX_NUMBER,
    Cited,
    Duration,
    Exact,
    ExternalSource,
    Fidelity,
    Name,
    Period,
    Quantity,
    Range,
    SeedSource,
    Source,
    SubjectCondition,
    dates_ordered,
    in_date_range,
)
from creditlab.engine.model import Model

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
    "Check",
    "CheckCount",
    "Cited",
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
    "Repeat",
    "RollingWindow",
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
    "Window",
]


# --- where things come from -------------------------------------------------------------


# --- identity, scale, bands -------------------------------------------------------------


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


class Match(Model):
    """Which events a rule fires on: event type(s), attribute and subject conditions."""

    type: str | list[str]
    where: list[Condition] = Field(default_factory=list)
    subject: SubjectCondition | None = None

    @property
    def types(self) -> list[str]:
        return [self.type] if isinstance(self.type, str) else list(self.type)


class Cap(Model):
    """At most `points` (absolute) in total per calendar `per`."""

    points: Exact
    per: Period = "ever"


class Frequency(Model):
    """At most `times` scored events per calendar `per` ("two trips a month"), or in any
    rolling window (`per: {rolling: {days: 30}}`: an earlier counted event on day e is in
    the window of an event on day d while d < e + the window's length, as for accumulated
    effects); the limit blocks the event that would be the `times + 1`th."""

    times: int = Field(ge=1, le=10**6)
    per: Period | RollingWindow

    @property
    def window_name(self) -> str:
        """The period (`month`), or the rolling window as the ledger names it (`P30D`)."""
        return self.per if isinstance(self.per, str) else self.per.name


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
        return in_date_range(value)

    @model_validator(mode="after")
    def _dates_ordered(self) -> Rule:
        dates_ordered(self.effective_from, self.effective_to)
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
    repeats: list[Repeat] = Field(default_factory=list)
    """Repeat offences: rules whose points grow when broken again (`scheme_repeats`)."""
    checks: list[Check] = Field(default_factory=list)
    """Periodic checks on each period's ledger (`scheme_checks`)."""
    interpretations: list[Interpretation] = Field(default_factory=list)
    coverage: Coverage | None = None
    variant: Variant | None = None
    file: str = "<scheme>"
    sha256: str = ""

    def rule(self, rule_id: str) -> Rule | None:
        return next((r for r in self.rules if r.id == rule_id), None)

    def repeat_of(self, rule_id: str) -> Repeat | None:
        """The repeat a rule is in, if any (a rule is in at most one: checked at load)."""
        return next((r for r in self.repeats if rule_id in r.rules), None)

    def check(self, check_id: str) -> Check | None:
        return next((c for c in self.checks if c.id == check_id), None)

    def cited(self, entry_rule: str) -> Rule | Check | None:
        """What a ledger entry's `rule` names: a rule, or a periodic check."""
        return self.rule(entry_rule) or self.check(entry_rule)

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
