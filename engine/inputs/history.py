"""Histories: subjects and the events that happened to them, as validated models.

A `History` holds its subjects by id and its events in canonical order, by (at, id),
whatever the order of the input lines. Files become histories in `history_files`.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from datetime import date, datetime
from typing import Literal

from creditlab.engine.inputs.vocabulary import AttrValue
from creditlab.engine.model import Exact, Model

__all__ = ["FIRST_YEAR", "LAST_YEAR", "Event", "History", "StartingPoint", "Subject"]

FIRST_YEAR = 1900
LAST_YEAR = 2200
"""Dates (event times, as_of, born, date attributes) lie in these years, both included."""


class Subject(Model):
    """A person, an enterprise or a city whose events are replayed (cities: the schemes that
    assess them, with indicator events)."""

    id: str
    kind: Literal["person", "enterprise", "city"]
    born: date | None = None
    residence: Literal["urban", "rural"] | None = None
    hukou: Literal["local", "non_local"] | None = None
    roles: tuple[str, ...] = ()

    def age_on(self, day: date) -> int | None:
        """Age in whole years on `day`, or None when `born` is not known."""
        if self.born is None:
            return None
        years = day.year - self.born.year
        if (day.month, day.day) < (self.born.month, self.born.day):
            years -= 1
        return years


class Event(Model):
    """One thing that happened to one subject, on one date, of one vocabulary type."""

    id: str
    subject: str
    at: datetime
    type: str
    attrs: Mapping[str, AttrValue]
    line: int | None = None

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def order_key(self) -> tuple[datetime, str]:
        return (self.at, self.id)


class StartingPoint(Model):
    """Where a subject stands in one scheme before the history's first event.

    Given by the history, not by a source: "suppose this person is AAA". `score` replaces
    the scheme's start; `grade` is shown while the score gives no band (the scheme documents
    no thresholds) and until a reclassification replaces it. Checked against the scheme
    when it is replayed.
    """

    subject: str
    scheme: str
    score: Exact | None = None
    grade: str | None = None
    line: int | None = None


class History(Model):
    """A validated history: subjects by id and events in canonical (at, id) order."""

    name: str | None
    description: str | None
    as_of: date | None
    subjects: Mapping[str, Subject]
    starting: tuple[StartingPoint, ...] = ()
    events: tuple[Event, ...]
    file: str
    sha256: str
    vocabulary: str = ""
    """`sha256:<hex>` of the vocabulary the history was validated against."""

    @property
    def end(self) -> date | None:
        """The date final states are evaluated at: `as_of`, else the last event's day."""
        if self.as_of is not None:
            return self.as_of
        return self.events[-1].day if self.events else None

    def events_of(self, subject: str) -> Iterator[Event]:
        return (e for e in self.events if e.subject == subject)
