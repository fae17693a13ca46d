"""How much of a scheme is encoded, against what its sources say the full scheme has.

So that nobody mistakes a partial scheme for a complete one: Meritown's sources speak of
389 rules (124 reward, 265 penalty) and name about a dozen of them; creditlab encodes
what they name and says so. Beside the counts, the mechanics the sources give a scheme
(escalations, appeals, perks, ...), each encoded, partly, not expressible by the engine yet, or
not encoded: coverage says what is missing, not only what is there.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, get_args

from creditlab.engine.inputs.scheme import Mechanic, MechanicStatus, Scheme, UnquantifiedEffect

__all__ = ["MECHANIC_STATUSES", "Coverage", "coverage_of"]

MECHANIC_STATUSES: tuple[str, ...] = get_args(MechanicStatus)
"""The statuses of a mechanic, from most to least encoded."""


@dataclass(frozen=True)
class Coverage:
    """Counts the sources give and counts encoded, for one scheme."""

    scheme: str
    documented_total: int | None
    documented_reward: int | None
    documented_penalty: int | None
    encoded_total: int
    encoded_reward: int
    encoded_penalty: int
    without_points: int
    from_seeds: int
    from_external: int
    note: str | None
    mechanics: tuple[Mechanic, ...] = ()

    @property
    def share(self) -> float | None:
        """Encoded rules as a share of the documented total (None when no total is given).

        Can exceed 1 where one documented row needs several rules (see the scheme's note).
        """
        total = self.documented_total
        if total is None and self.documented_reward is not None \
                and self.documented_penalty is not None:
            total = self.documented_reward + self.documented_penalty
        return None if not total else self.encoded_total / total

    def mechanics_by_status(self) -> dict[str, int]:
        """How many of the sources' mechanics have each status (every status, zeros too)."""
        counts = dict.fromkeys(MECHANIC_STATUSES, 0)
        for m in self.mechanics:
            counts[m.status] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme,
            "documented": {"rules": self.documented_total, "reward": self.documented_reward,
                           "penalty": self.documented_penalty},
            "encoded": {"rules": self.encoded_total, "reward": self.encoded_reward,
                        "penalty": self.encoded_penalty, "without_points": self.without_points,
                        "from_seeds": self.from_seeds, "from_external": self.from_external},
            "share": None if self.share is None else round(self.share, 4),
            "note": self.note,
            "mechanics": [m.model_dump(mode="json", exclude_none=True) for m in self.mechanics],
            "mechanics_by_status": self.mechanics_by_status(),
        }


def coverage_of(scheme: Scheme) -> Coverage:
    """The scheme's coverage: its documented counts, its encoded counts and its mechanics."""
    c = scheme.coverage
    rules = scheme.rules
    return Coverage(
        scheme=scheme.id,
        documented_total=c.rules_total if c else None,
        documented_reward=c.reward_rules if c else None,
        documented_penalty=c.penalty_rules if c else None,
        encoded_total=len(rules),
        encoded_reward=sum(r.direction == "reward" for r in rules),
        encoded_penalty=sum(r.direction == "penalty" for r in rules),
        without_points=sum(all(isinstance(e, UnquantifiedEffect) for e in r.effects)
                           for r in rules),
        from_seeds=sum(r.provenance == "seed" for r in rules),
        from_external=sum(r.provenance == "external" for r in rules),
        note=c.note if c else None,
        mechanics=tuple(c.mechanics) if c else (),
    )
