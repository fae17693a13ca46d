"""Periodic checks: at the end of each week, month or year, a condition on what that period's
ledger holds for a subject gives it a list state.

"the names of those who got negative points were broadcast by loudspeaker every Friday"
(Teng Jia) and "Public servants are also required to earn bonus points annually ... to
maintain promotion eligibility" (Meritown) are not rules on an event: they are judged on a
period's record, on a calendar, whether or not anything happened in it. A check says

- `every`: the period (`week`, `month`, `year`); a week ends on `ends_on` (Sunday unless
  said: a Friday broadcast judges the seven days up to and including the Friday);
- `count`: what of the period's rule entries it counts (`entries` or their applied
  `points`), of which rules (a `direction`, a list of `rules`, or every rule). An entry the
  rule's own limits blocked (same act, frequency limit) is not counted: it gave nothing;
- `at_least` or `at_most`: the condition on that count;
- `subject`: whom it judges (as a rule's subject condition, on the check's day);
- `effective_from` / `effective_to`: the check days it runs on;
- `effects`: the list states it adds (`kind: list, action: add`), each for a `duration`
  from the check's day (none: until the history's end).

A list state a check adds is one no rule adds or removes, so a check never changes what a
rule does: it reads the record. Checks run after the rules, on the ledger both backends
give (`creditlab.engine.scoring.checks`).
"""

from __future__ import annotations

from datetime import date
from typing import Literal

from pydantic import Field, field_validator, model_validator

from creditlab.engine.inputs.scheme_effects import ListEffect
from creditlab.engine.inputs.scheme_values import (
    Cited,
    Exact,
    SubjectCondition,
    dates_ordered,
    in_date_range,
)
from creditlab.engine.model import Model

__all__ = ["WEEKDAYS", "Check", "CheckCount"]

WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
"""`date.weekday()` order."""

Weekday = Literal["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]


class CheckCount(Model):
    """What a check counts in its period: rule `entries`, or the `points` they applied, of
    the rules of `direction` (reward, penalty) and, if given, only of `rules`."""

    of: Literal["entries", "points"]
    direction: Literal["reward", "penalty"] | None = None
    rules: list[str] = Field(default_factory=list)


class Check(Cited):
    """A condition judged at the end of each period on the period's ledger (module doc)."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]*$")
    title: str
    every: Literal["week", "month", "year"]
    ends_on: Weekday | None = None
    subject: SubjectCondition | None = None
    count: CheckCount
    at_least: Exact | None = None
    at_most: Exact | None = None
    effective_from: date | None = None
    effective_to: date | None = None
    effects: list[ListEffect] = Field(min_length=1)

    @field_validator("effective_from", "effective_to")
    @classmethod
    def _date_in_range(cls, value: date | None) -> date | None:
        return in_date_range(value)

    @model_validator(mode="after")
    def _well_formed(self) -> Check:
        if (self.at_least is None) == (self.at_most is None):
            raise ValueError("a check gives one of 'at_least' or 'at_most'")
        if self.ends_on is not None and self.every != "week":
            raise ValueError("'ends_on' is the weekday a week ends on; months and years end "
                             "on their last day")
        dates_ordered(self.effective_from, self.effective_to)
        if any(e.action != "add" for e in self.effects):
            raise ValueError("a check adds list states ('action: add'); it does not remove "
                             "what rules give")
        if self.holds_on_empty and self.effective_from is None:
            raise ValueError(
                "this check holds for a period with nothing in it, so it judges every "
                "period of every subject it applies to: give 'effective_from', the first "
                "day it runs on")
        return self

    @property
    def weekday(self) -> int:
        """The weekday a week ends on (`date.weekday()`: Monday 0, Sunday 6)."""
        return WEEKDAYS.index(self.ends_on or "sunday")

    @property
    def holds_on_empty(self) -> bool:
        """Whether a period with nothing counted meets the condition."""
        if self.at_least is not None:
            return self.at_least <= 0
        assert self.at_most is not None
        return self.at_most >= 0

    def holds(self, total: Exact) -> bool:
        if self.at_least is not None:
            return total >= self.at_least
        assert self.at_most is not None
        return total <= self.at_most

    @property
    def flags(self) -> list[str]:
        return [e.flag for e in self.effects]
