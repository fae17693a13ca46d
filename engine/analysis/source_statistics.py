"""The sources' own figures about who a scheme rewards and who it penalises, quoted.

These describe the FULL schemes the sources studied (Meritown's 389 rules), not the subset
creditlab encodes; they are shown beside the encoded subset so that nobody mistakes one for
the other. Each carries the seed file, line and exact words; ids are the seed catalog's
(`../shared/catalog/seed-catalog.yaml`, `statistics`) where it has the figure, and
`tests/test_asymmetry.py` checks every quote against `../shared/seeds` when present.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

__all__ = ["SOURCE_STATISTICS", "SourceStatistic"]


@dataclass(frozen=True)
class SourceStatistic:
    """A figure a source states, with where it says it."""

    id: str
    scheme: str
    statement: str
    value: dict[str, Any] | list[str] | int | None
    file: str
    line: int
    quote: str
    in_catalog: bool = True
    """True when the seed catalog lists this figure under the same id."""
    about: tuple[str, ...] = field(default=())
    """The groups (asymmetry group ids) the figure speaks of."""

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "scheme": self.scheme, "statement": self.statement,
                "value": self.value, "about": list(self.about),
                "source": {"kind": "seed", "file": self.file, "line": self.line,
                           "quote": self.quote}}


_MT = "000_74864d8415915e16.txt"
_FZ = "003_d0933348fda7dee4.txt"

SOURCE_STATISTICS: tuple[SourceStatistic, ...] = (
    SourceStatistic(
        "mt_rule_counts", "meritown_2019",
        "The full Meritown scheme has 389 rules: 124 reward, 265 penalty.",
        {"total": 389, "reward": 124, "penalty": 265}, _MT, 12,
        "The system scores people using 389 rules — 124 reward good behavior, 265 punish bad",
        about=("everyone",)),
    SourceStatistic(
        "mt_rural_urban", "meritown_2019",
        "Rural residents face 28% of penalties against 12% for urban residents, and get 6% "
        "of reward opportunities against 48%.",
        {"rural_penalties_pct": 28, "urban_penalties_pct": 12, "rural_rewards_pct": 6,
         "urban_rewards_pct": 48}, _MT, 18,
        "Rural residents face 28% of penalties (vs. 12% for urban residents), but get only 6% "
        "of reward opportunities (vs. 48% for urban residents).", about=("rural", "urban")),
    SourceStatistic(
        "mt_all_people_share", "meritown_2019",
        "81% of reward indicators and 67% of penalty indicators apply to all people.",
        {"reward_pct": 81, "penalty_pct": 67}, _MT, 17,
        "with 81% of reward and 67% of penalty indicators applying to all people",
        about=("everyone",)),
    SourceStatistic(
        "mt_staff_scrutiny", "meritown_2019",
        "Government and military personnel face more detailed scrutiny and more reward "
        "opportunities, followed by business owners and professionals.", None, _MT, 17,
        "government and military personnel face significantly more detailed and moralized "
        "scrutiny, along with more opportunities for rewards, followed by business owners "
        "and professionals", in_catalog=False,
        about=("civil_servants", "business_owners", "teachers")),
    SourceStatistic(
        "mt_volunteer_rate", "meritown_2019",
        "Ordinary citizens mostly depend on low-value rewards: 2 points per 10 hours of "
        "volunteering.", {"points": 2, "hours": 10}, _MT, 18,
        "ordinary citizens mostly depend on low-value rewards like 2 points per 10 hours of "
        "volunteering", about=("everyone",)),
    SourceStatistic(
        "mt_group_access", "meritown_2019",
        "Urban residents and government staff have greater access to rewards; rural "
        "residents face more penalties and fewer reward opportunities.", None, _MT, 8,
        "The system’s scoring gives urban residents and government staff greater access to "
        "rewards, while rural residents face more penalties and fewer reward opportunities.",
        in_catalog=False, about=("urban", "civil_servants", "rural")),
    SourceStatistic(
        "fuzhou_at_will_rewards", "fuzhou_yuming",
        "The only ways to raise points at will and by choice: volunteer work, donating blood "
        "or bone marrow, charitable donations, good deeds.",
        ["volunteer work", "blood or bone marrow donation", "charitable donations",
         "good deeds"], _FZ, 435,
        "the only ways that anyone, at any stratum of society, can raise their points at "
        "will and by choice are by", about=("everyone",)),
    SourceStatistic(
        "fuzhou_lose_vs_gain", "fuzhou_yuming",
        "Many ways to lose points, few to gain them.", None, _FZ, 431,
        "There are a lot of ways for anyone to lose points, but not as many ways for anyone "
        "to gain them.", in_catalog=False, about=("everyone",)),
)
