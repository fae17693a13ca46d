"""Where a replay leaves each subject in each scheme, and what each scheme did with the events.

Both backends give these records: `Outcome` per (subject, scheme), `Accounting` per scheme.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

__all__ = ["Accounting", "Outcome"]


@dataclass(frozen=True)
class Outcome:
    """Where one subject ends up in one scheme."""

    subject: str
    scheme: str
    start: Decimal
    score: Decimal
    band: str | None
    flags: tuple[str, ...]
    events_scored: int
    events_unscored: int

    def as_dict(self) -> dict[str, Any]:
        return {
            "subject": self.subject,
            "scheme": self.scheme,
            "start": self.start,
            "score": self.score,
            "band": self.band,
            "flags": list(self.flags),
            "events_scored": self.events_scored,
            "events_unscored": self.events_unscored,
        }


@dataclass(frozen=True)
class Accounting:
    """What one scheme did with every event of the history; the counts add up
    (`events` = `scored` + `unscored` + `not_applicable`).

    `ineligible` counts the not-applicable events of subjects of the scheme's kind that it
    does not score by its `eligibility` (too young on the day); the other not-applicable
    events are those of subjects of another kind.
    """

    scheme: str
    events: int
    scored: int
    unscored: int
    not_applicable: int
    ineligible: int = 0

    @classmethod
    def none(cls, scheme: str) -> Accounting:
        """No events yet: what partitions' accountings are added to."""
        return cls(scheme, 0, 0, 0, 0, 0)

    def __add__(self, other: Accounting) -> Accounting:
        """The accounting of two disjoint parts of a history (partitions of subjects)."""
        if other.scheme != self.scheme:
            raise ValueError(f"adding {other.scheme}'s accounting to {self.scheme}'s")
        return Accounting(self.scheme, self.events + other.events, self.scored + other.scored,
                          self.unscored + other.unscored,
                          self.not_applicable + other.not_applicable,
                          self.ineligible + other.ineligible)

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "scored": self.scored, "unscored": self.unscored,
                "not_applicable": self.not_applicable, "ineligible": self.ineligible}
