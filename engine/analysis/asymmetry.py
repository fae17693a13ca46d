"""Asymmetry: who can earn points and who only loses them, scheme by scheme, group by group.

For each person scheme and each group of people (`GROUPS`: everyone, rural, urban, civil
servants, teachers, business owners), `asymmetry` reports:

- **rules**: how many reward and penalty rules apply to the group. A rule applies when its
  subject condition (roles, residence, hukou, age) holds for the group's representative
  subject, an adult (born `REPRESENTATIVE_BORN`) with only the attribute that defines the
  group (rural: residence rural; civil servants: roles [civil_servant]; everyone: no
  residence and no roles, so only rules for all people apply); `applies` is the matcher's
  own semantics (`scoring.conditions.subject_holds`). `only_group` counts those that
  apply to the group but not to everyone.
- **on offer**: the points the applicable reward rules state, summed over rules: for each
  rule, the most one occurrence can give (its largest tier; a formula's maximum). Awards
  are on offer only to those who receive them; see `earnable` for what one can choose.
- **earnable**: the points a person of the group earns by choice in one year, found by
  REPLAYING `GOOD_YEAR_PLANS` (volunteering, giving blood, a charitable donation, good
  deeds and neighbourly help: the acts the Fuzhou source calls the only ways to raise
  points "at will and by choice") through the engine, so that caps, shared caps and
  frequency limits apply. Volunteering is replayed both as twelve monthly blocks and as one
  300-hour block; the better plan for the scheme counts, and is named.
- **exposure**: summed over the applicable penalty rules, the most points one occurrence
  of each can take (its largest deduction; a formula's maximum; a formula without one is
  counted in `unbounded`). Penalties without points are counted by kind: grade lowered
  (reclassify), listed (blacklists), score reset (set score), no number (unquantified).
- **climb**: the typical penalty (the median deduction, lower median, among the
  applicable penalty rules that take points when triggered once from the scheme's start;
  each is triggered by replay) and how long the best good-year plan, repeated, takes to
  bring the subject back to the band held before it, dated by the first good act after
  which the band shows (a lapse of the penalty's points, where a scheme has one, shows at
  the next act): `climbed` with the days, `no band
  lost`, `not within N years`, or `cannot` when the scheme documents no thresholds, gives
  nothing by choice or has no penalty with points.

`SOURCE_STATISTICS` are the sources' own figures (Meritown: rural residents face 28% of
penalties against 12% for urban residents, and get 6% of reward opportunities against 48%;
81% of reward and 67% of penalty indicators apply to all), quoted with file and line, to
set beside the encoded subset, which is NOT the full scheme (Meritown has 389 rules; the
sources name about a dozen).

The replays behind **earnable** and **climb** live in `analysis/climb.py`; this module
counts and sums the rules and assembles the view.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from creditlab.engine.analysis.climb import Climb, climb_back, earn
from creditlab.engine.analysis.groups import (
    GOOD_YEAR_PLANS,
    GROUPS,
    REPRESENTATIVE_BORN,
    YEAR,
    Act,
    Group,
    Plan,
)
from creditlab.engine.analysis.source_statistics import SOURCE_STATISTICS, SourceStatistic
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    CountTiersEffect,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    ReclassifyEffect,
    Rule,
    Scheme,
    SetScoreEffect,
    TiersEffect,
)
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.engine.scoring.conditions import subject_holds as applies

__all__ = [
    "GOOD_YEAR_PLANS",
    "GROUPS",
    "REPRESENTATIVE_BORN",
    "Act",
    "Asymmetry",
    "Climb",
    "Group",
    "GroupView",
    "Plan",
    "SchemeView",
    "applies",
    "asymmetry",
]

ZERO = Decimal(0)


@dataclass(frozen=True)
class GroupView:
    """One scheme seen from one group."""

    group: str
    reward_rules: int
    penalty_rules: int
    reward_only_group: int
    penalty_only_group: int
    on_offer: Decimal
    earnable: Decimal
    earnable_plan: str
    earnable_by_type: dict[str, Decimal]
    exposure: Decimal
    exposure_other: dict[str, int]
    unbounded: int
    climb: Climb

    def as_dict(self) -> dict[str, Any]:
        return {"group": self.group,
                "rules": {"reward": self.reward_rules, "penalty": self.penalty_rules,
                          "reward_only_group": self.reward_only_group,
                          "penalty_only_group": self.penalty_only_group},
                "on_offer": self.on_offer, "earnable": self.earnable,
                "earnable_plan": self.earnable_plan,
                "earnable_by_type": dict(sorted(self.earnable_by_type.items())),
                "exposure": self.exposure, "exposure_other": dict(self.exposure_other),
                "unbounded": self.unbounded, "climb": self.climb.as_dict()}


@dataclass(frozen=True)
class SchemeView:
    """One scheme, every group, the sources' statistics about it and its coverage."""

    scheme: str
    name: str
    rules_encoded: int
    rules_documented: int | None
    coverage_note: str | None
    groups: tuple[GroupView, ...]
    statistics: tuple[SourceStatistic, ...]

    def group(self, group_id: str) -> GroupView:
        return next(g for g in self.groups if g.group == group_id)

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "name": self.name, "rules_encoded": self.rules_encoded,
                "rules_documented": self.rules_documented,
                "coverage_note": self.coverage_note,
                "groups": [g.as_dict() for g in self.groups],
                "statistics": [s.as_dict() for s in self.statistics]}


@dataclass(frozen=True)
class Asymmetry:
    """The asymmetry view over several schemes, with what was summed and supposed."""

    schemes: tuple[SchemeView, ...]
    skipped: dict[str, str]
    groups: tuple[Group, ...]
    plans: tuple[Plan, ...]
    statistics: tuple[SourceStatistic, ...]
    notes: tuple[str, ...]

    def scheme(self, scheme_id: str) -> SchemeView:
        return next(s for s in self.schemes if s.scheme == scheme_id)

    def as_dict(self) -> dict[str, Any]:
        return {
            "schemes": [s.as_dict() for s in self.schemes],
            "skipped": dict(self.skipped),
            "groups": [{"id": g.id, "label": g.label, "representative": g.description}
                       for g in self.groups],
            "plans": [{"id": p.id, "description": p.description, "year": YEAR}
                      for p in self.plans],
            "statistics": [s.as_dict() for s in self.statistics],
            "notes": list(self.notes),
        }


NOTES = (
    "Rule counts and exposure cover only the rules encoded from the sources, not the full "
    "schemes: Meritown's regulation has 389 rules (124 reward, 265 penalty) and the sources "
    "name about a dozen; the source statistics describe the full scheme.",
    "A rule applies to a group when its subject condition holds for the group's "
    "representative adult; rules whose behaviour only some people can commit (farming, "
    "taxis) but that state no subject condition count as applying to everyone.",
    "exposure: summed over the applicable penalty rules, the most points one occurrence of "
    "each can take; rows recording one act twice are each counted. on offer: the same for "
    "reward rules. earnable: replayed, so caps and limits apply.",
    "The good-year plans are a supposition about a person (see plans), not a source's "
    "numbers; the climb repeats the better plan every year after one typical penalty.",
)


def asymmetry(schemes: Sequence[Scheme], groups: Sequence[Group] = GROUPS, *,
              plans: Sequence[Plan] = GOOD_YEAR_PLANS,
              vocabulary: Vocabulary | None = None) -> Asymmetry:
    """The asymmetry view of `schemes` (person schemes; others are listed in `skipped`)."""
    voc = vocabulary or shipped_vocabulary()
    views: list[SchemeView] = []
    skipped: dict[str, str] = {}
    for scheme in sorted(schemes, key=lambda s: s.id):
        if scheme.subject_kind != "person":
            skipped[scheme.id] = f"scores {scheme.subject_kind}s, not people"
            continue
        coverage = scheme.coverage
        views.append(SchemeView(
            scheme=scheme.id, name=scheme.name.en, rules_encoded=len(scheme.rules),
            rules_documented=coverage.rules_total if coverage else None,
            coverage_note=coverage.note if coverage else None,
            groups=tuple(_view(scheme, g, plans, voc) for g in groups),
            statistics=tuple(s for s in SOURCE_STATISTICS if s.scheme == scheme.id)))
    return Asymmetry(tuple(views), skipped, tuple(groups), tuple(plans), SOURCE_STATISTICS,
                     NOTES)


def _view(scheme: Scheme, group: Group, plans: Sequence[Plan],
          voc: Vocabulary) -> GroupView:
    day = date(YEAR, 1, 1)
    rep = group.subject()
    nobody = GROUPS[0].subject()
    mine = [r for r in scheme.rules if applies(r.match.subject, rep, day)]
    everyone = {r.id for r in scheme.rules if applies(r.match.subject, nobody, day)}
    rewards = [r for r in mine if r.direction == "reward"]
    penalties = [r for r in mine if r.direction == "penalty"]
    exposure, unbounded = ZERO, 0
    other = {"grade lowered": 0, "listed": 0, "score reset": 0, "no number": 0}
    for rule in penalties:
        most = _most(rule)
        if most is None:
            unbounded += 1
        else:
            exposure += most
        for effect in rule.effects:
            kind = ("grade lowered" if isinstance(effect, ReclassifyEffect) else
                    "listed" if isinstance(effect, ListEffect) and effect.action == "add" else
                    "score reset" if isinstance(effect, SetScoreEffect) else
                    "no number" if effect.kind == "unquantified" else None)
            if kind is not None:
                other[kind] += 1
    on_offer = sum((_most(r) or ZERO for r in rewards), ZERO)
    best: tuple[Decimal, Plan, dict[str, Decimal]] | None = None
    for plan in plans:
        earned, by_type = earn(scheme, rep, plan, voc)
        if best is None or earned > best[0]:
            best = (earned, plan, by_type)
    assert best is not None
    earned, plan, by_type = best
    return GroupView(
        group=group.id, reward_rules=len(rewards), penalty_rules=len(penalties),
        reward_only_group=sum(1 for r in rewards if r.id not in everyone),
        penalty_only_group=sum(1 for r in penalties if r.id not in everyone),
        on_offer=on_offer, earnable=earned, earnable_plan=plan.id, earnable_by_type=by_type,
        exposure=exposure, exposure_other=other, unbounded=unbounded,
        climb=climb_back(scheme, rep, penalties, plan, earned, voc))


def _most(rule: Rule) -> Decimal | None:
    """The most points (absolute) one occurrence of a rule can move; None when unbounded."""
    total = ZERO
    for effect in rule.effects:
        if isinstance(effect, PointsEffect):
            total += abs(effect.points)
        elif isinstance(effect, (TiersEffect, QuantityTiersEffect, CountTiersEffect)):
            total += max(abs(t.points) for t in effect.tiers)
        elif isinstance(effect, FormulaEffect):
            if effect.max_points is None:
                return None
            total += abs(effect.max_points)
        elif isinstance(effect, AccumulatedEffect):
            # What the running total can be worth at most (one event may cross it all).
            if effect.brackets is not None and effect.max_points is None:
                return None
            steps = [abs(t.points) for t in effect.tiers or ()]
            most = sum(steps, ZERO) if effect.mode == "add" else max(steps, default=ZERO)
            cap = abs(effect.max_points) if effect.max_points is not None else None
            total += cap if cap is not None and (effect.tiers is None or most > cap) else most
    return total
