"""Groups of people and years of chosen good acts: the suppositions the asymmetry view replays;
and the age bands population views group people by (`AGE_BANDS`).

A `Group` is represented by one adult subject carrying only the attribute that defines the
group (rural: residence rural; civil servants: roles [civil_servant]). A `Plan` is a year of
good acts chosen from those the sources name as the only ways to raise points "at will and
by choice" (volunteering, giving blood, charitable donations, good deeds). Quantities are
creditlab's supposition about a committed but ordinary citizen, never a source's number.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

from creditlab.engine.inputs.history import Subject

__all__ = ["AGE_BANDS", "GOOD_YEAR_PLANS", "GROUPS", "REPRESENTATIVE_BORN", "YEAR", "Act",
           "Group", "Plan"]

AGE_BANDS: tuple[tuple[int, str], ...] = (
    (0, "under 18"), (18, "18–29"), (30, "30–44"), (45, "45–59"), (60, "60 and over"))
"""Age bands by their lowest age in whole years, on the day a history is evaluated: the
report's Population section and `sweep` group people by them."""

REPRESENTATIVE_BORN = date(1980, 1, 1)
YEAR = 2021
"""The calendar year the good-year plans are replayed in (climbs start on its 1 January)."""


@dataclass(frozen=True)
class Group:
    """A group of people, represented by one adult subject with the group's attribute."""

    id: str
    label: str
    residence: str | None = None
    roles: tuple[str, ...] = ()
    description: str = ""

    def subject(self, subject_id: str = "rep") -> Subject:
        return Subject(id=subject_id, kind="person", born=REPRESENTATIVE_BORN,
                       residence=self.residence,  # type: ignore[arg-type]
                       roles=self.roles)


GROUPS: tuple[Group, ...] = (
    Group("everyone", "everyone", description="an adult with no stated residence and no "
          "roles: only the rules for all people apply"),
    Group("rural", "rural residents", residence="rural", description="residence: rural"),
    Group("urban", "urban residents", residence="urban", description="residence: urban"),
    Group("civil_servants", "civil servants", roles=("civil_servant",),
          description="roles: [civil_servant] (government staff)"),
    Group("teachers", "teachers", roles=("teacher",),
          description="roles: [teacher] (public school teachers)"),
    Group("business_owners", "business owners", roles=("business_owner",
                                                        "legal_representative"),
          description="roles: [business_owner, legal_representative] (an owner who heads "
                      "the firm)"),
)


@dataclass(frozen=True)
class Act:
    """One good act of a plan: an event type and attributes, on a month and day of the year."""

    month: int
    day: int
    type: str
    attrs: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    """A year of chosen good acts: a supposition about a person, not a source's number."""

    id: str
    description: str
    acts: tuple[Act, ...]


_HELP_KINDS = ("sweep_snow", "visit_sick", "prune_tree", "lend_tools", "read_water_meter",
               "clear_vegetation", "car_out_of_ditch", "lend_tools", "read_water_meter",
               "clear_vegetation", "visit_sick", "sweep_snow")
_COMMON_ACTS: tuple[Act, ...] = (
    Act(3, 15, "donation.blood", {"ml": 400}),
    Act(9, 15, "donation.blood", {"ml": 400}),
    Act(6, 1, "donation.charity", {"amount_rmb": 1000, "via": "red_cross"}),
    Act(5, 20, "good_deed.return_lost_property", {"amount_rmb": 500}),
    Act(10, 20, "good_deed.other"),
    Act(11, 30, "neighbour.eldercare_longterm"),
    *(Act(m, d, "neighbour.eldercare_trip") for m in range(1, 13) for d in (5, 15, 25)),
    *(Act(m, 10, "neighbour.help", {"kind": k}) for m, k in enumerate(_HELP_KINDS, start=1)),
)
_COMMON = ("400 ml of blood twice (March, September), RMB 1,000 to the Red Cross, one "
           "returned wallet (RMB 500), one other good deed, a year of long-term care for an "
           "elderly neighbour, three trips a month taking an older neighbour to hospital or "
           "market, and one small neighbourly help a month")
GOOD_YEAR_PLANS: tuple[Plan, ...] = (
    Plan("monthly", "300 hours of volunteering reported as twelve monthly blocks of 25 "
         "hours; " + _COMMON,
         (*(Act(m, 28, "volunteer.service", {"hours": 25}) for m in range(1, 13)),
          *_COMMON_ACTS)),
    Plan("one_block", "300 hours of volunteering reported as one block (in December); "
         + _COMMON, (Act(12, 28, "volunteer.service", {"hours": 300}), *_COMMON_ACTS)),
)
"""The year of good acts replayed for `earnable`: quantities are creditlab's supposition
(a committed but ordinary citizen), chosen from the acts the sources name; bone marrow
donation is left out as not a yearly act."""
