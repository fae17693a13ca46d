"""A subject's standing in one scheme, as the reducer (reduce.py) keeps it event by event.

The score, the grade a reclassification set (`Override`), list states, the totals each
limit counts against (per rule, per cap group, per period or rolling window), the running
totals of accumulated effects, and the points waiting to lapse (`Lapse`). These are plain
mutable records with no rule of the scheme in them: what changes them is the reducer's.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

__all__ = ["ZERO", "Lapse", "Override", "RollingTotal", "Standing"]

ZERO = Decimal(0)


@dataclass(frozen=True)
class Override:
    """A grade set by reclassification (or given as a starting point), until a date."""

    grade: str
    policy: str
    until: date | None
    rule: str
    since_band: str | None = None
    """For a grade given as a starting point: the band the starting score had by itself."""


@dataclass(frozen=True)
class Lapse:
    """Points a rule applied that lapse on `due` (the rule's `expires_after`)."""

    due: date
    rule: str
    event: str
    type: str
    given_on: date
    points: Decimal


@dataclass
class RollingTotal:
    """A total over a rolling window: the amounts still in it, each with the day it leaves.

    A subject's events come in day order and `add_duration` never goes back as its day
    goes forward, so the amounts leave in the order they came: the oldest are dropped
    from the front.
    """

    amounts: deque[tuple[date, Decimal]] = field(default_factory=deque)
    total: Decimal = ZERO

    def on(self, day: date) -> Decimal:
        """The total on `day`, once the amounts that left the window by then are dropped."""
        while self.amounts and self.amounts[0][0] <= day:
            self.total -= self.amounts.popleft()[1]
        return self.total

    def add(self, amount: Decimal, leaves: date) -> None:
        self.amounts.append((leaves, amount))
        self.total += amount


@dataclass
class Standing:
    """One subject's standing in one scheme, updated event by event."""

    score: Decimal
    override: Override | None = None
    flags: dict[str, date | None] = field(default_factory=dict)
    rule_totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    group_totals: dict[tuple[str, str], Decimal] = field(default_factory=dict)
    rule_times: dict[tuple[str, str], int] = field(default_factory=dict)
    rule_leaving: dict[str, deque[date]] = field(default_factory=dict)
    """For a frequency limit over a rolling window: the day each counted entry still in the
    window leaves it, oldest first (a subject's days only go forward)."""
    rule_counts: dict[tuple[str, str], int] = field(default_factory=dict)
    rule_sums: dict[tuple[str, int, str], Decimal] = field(default_factory=dict)
    """Running totals of `accumulated` effects, by (rule, effect index, window key)."""
    rolling: dict[tuple[str, int], RollingTotal] = field(default_factory=dict)
    """Running totals of `accumulated` effects over rolling windows, by (rule, effect index)."""
    lapsing: list[Lapse] = field(default_factory=list)
    counted_on: dict[str, date] = field(default_factory=dict)
    """The day of each repeat rule's latest entry its limits did not block (`repeats`)."""
    scored: int = 0
    unscored: int = 0

    def expire(self, day: date) -> None:
        """Drop list states and grade overrides whose time has run out by `day`."""
        if self.override is not None and self.override.until is not None \
                and day >= self.override.until:
            self.override = None
        for flag, until in list(self.flags.items()):
            if until is not None and day >= until:
                del self.flags[flag]

