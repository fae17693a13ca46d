"""The scheme format's values and citations: exact numbers and their bounds, periods,
durations and score ranges, and the sources every stated thing cites (seed or external)
with its fidelity (`Cited`). The effects (`scheme_effects`) and the scheme itself
(`scheme`) are built from these.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from creditlab.engine.model import Model, to_exact

__all__ = [
    "EARLIEST",
    "LATEST",
    "MAX_AGE",
    "MAX_DURATION_YEARS",
    "MAX_NUMBER",
    "MAX_PLACES",
    "Cited",
    "Duration",
    "Exact",
    "ExternalSource",
    "Fidelity",
    "Name",
    "Period",
    "Quantity",
    "Range",
    "SeedSource",
    "Source",
    "SubjectCondition",
    "dates_ordered",
    "in_date_range",
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


class SubjectCondition(Model):
    """Who the rule applies to. Unknown subject fields never satisfy a condition."""

    roles_any: list[str] = Field(default_factory=list)
    roles_none: list[str] = Field(default_factory=list)
    residence: Literal["urban", "rural"] | None = None
    hukou: Literal["local", "non_local"] | None = None
    min_age: int | None = Field(default=None, ge=0, le=MAX_AGE)
    max_age: int | None = Field(default=None, ge=0, le=MAX_AGE)


def in_date_range(value: date | None) -> date | None:
    """An effective date, refused outside the dates the engine handles."""
    if value is not None and not EARLIEST <= value <= LATEST:
        raise ValueError(f"dates lie between {EARLIEST} and {LATEST}")
    return value


def dates_ordered(start: date | None, end: date | None) -> None:
    """`effective_from` on or before `effective_to`, when both are given."""
    if start and end and start > end:
        raise ValueError("effective_from is after effective_to")
