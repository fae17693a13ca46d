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
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

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
from creditlab.engine.describe import describe_range, number
from creditlab.engine.inputs.history import History, Subject
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.located import Located
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
from creditlab.engine.scoring.replay import replay

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
CLIMB_YEARS = 10


@dataclass(frozen=True)
class Climb:
    """How long the good-year plan takes to win back the band lost to a typical penalty."""

    status: str
    """`climbed`, `no band lost`, `not within N years`, or `cannot`."""
    reason: str
    penalty_rule: str | None = None
    penalty_points: Decimal | None = None
    band_before: str | None = None
    band_after: str | None = None
    days: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "reason": self.reason,
                "penalty_rule": self.penalty_rule, "penalty_points": self.penalty_points,
                "band_before": self.band_before, "band_after": self.band_after,
                "days": self.days}


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
        earned, by_type = _earn(scheme, rep, plan, voc)
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
        climb=_climb(scheme, rep, penalties, plan, earned, voc))


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


# --- replays -----------------------------------------------------------------------------


def _history(subjects: list[Subject], events: list[dict[str, Any]], voc: Vocabulary) -> History:
    data = {"subjects": [_subject_data(s) for s in subjects], "events": events}
    raw = json.dumps(data, default=str, sort_keys=True).encode()
    return parse_history(Located(data, "<asymmetry>", {}), "sha256:"
                         + hashlib.sha256(raw).hexdigest(), voc)


def _subject_data(subject: Subject) -> dict[str, Any]:
    data: dict[str, Any] = {"id": subject.id, "kind": subject.kind, "roles": list(subject.roles)}
    for name in ("born", "residence", "hukou"):
        if getattr(subject, name) is not None:
            data[name] = getattr(subject, name)
    return data


def _plan_events(subject: str, plan: Plan, years: int = 1,
                 prefix: str = "g") -> list[dict[str, Any]]:
    events = []
    for y in range(years):
        for i, act in enumerate(plan.acts):
            events.append({"id": f"{prefix}{y:02d}-{i:03d}", "subject": subject,
                           "at": date(YEAR + y, act.month, act.day), "type": act.type,
                           **act.attrs})
    return events


def _earn(scheme: Scheme, rep: Subject, plan: Plan,
          voc: Vocabulary) -> tuple[Decimal, dict[str, Decimal]]:
    """Points the plan earns in one year, replayed (caps and limits apply), and by type."""
    result = replay(_history([rep], _plan_events(rep.id, plan), voc), [scheme])
    by_id = {e.id: e.type for e in result.history.events}
    by_type: dict[str, Decimal] = {}
    for entry in result.ledger:
        if entry.kind == "check":  # a finding on a period: no event, no points
            continue
        by_type[by_id[entry.event]] = by_type.get(by_id[entry.event], ZERO) + entry.applied
    outcome = result.results[0]
    return outcome.score - outcome.start, {k: v for k, v in by_type.items() if v}


def _typical_penalty(scheme: Scheme, rep: Subject, penalties: list[Rule],
                     voc: Vocabulary) -> tuple[Rule, dict[str, Any], Decimal] | None:
    """The median deduction among penalty rules, each triggered once from the start."""
    subjects, events, wanted = [], [], {}
    for i, rule in enumerate(penalties):
        event = _event_for(rule, voc)
        if event is None:
            continue
        sid = f"p{i:04d}"
        subjects.append(rep.model_copy(update={"id": sid}))
        events.append({"id": f"e{i:04d}", "subject": sid, "at": date(YEAR, 1, 1), **event})
        wanted[sid] = (rule, event)
    if not events:
        return None
    result = replay(_history(subjects, events, voc), [scheme])
    taken = []
    for entry in result.ledger:
        rule, event = wanted[entry.subject]
        if entry.rule == rule.id and entry.applied < 0:
            taken.append((-entry.applied, scheme.rules.index(rule), rule, event))
    if not taken:
        return None
    taken.sort(key=lambda t: (t[0], t[1]))
    points, _, rule, event = taken[(len(taken) - 1) // 2]
    return rule, event, points


def _climb(scheme: Scheme, rep: Subject, penalties: list[Rule], plan: Plan, earned: Decimal,
           voc: Vocabulary) -> Climb:
    if not any(b.range is not None for b in scheme.bands):
        return Climb("cannot", "the scheme documents no score thresholds")
    typical = _typical_penalty(scheme, rep, penalties, voc)
    if typical is None:
        return Climb("cannot", "no applicable penalty takes points")
    rule, event, points = typical
    if earned <= 0:
        return Climb("cannot", "nothing can be earned by choice in this scheme",
                     rule.id, points)
    penalty = {"id": "penalty", "subject": rep.id, "at": date(YEAR, 1, 1), **event}
    history = _history([rep], [penalty, *_plan_events(rep.id, plan, CLIMB_YEARS)], voc)
    result = replay(history, [scheme])
    # Points may lapse (a rule's validity): lapse entries carry the lapsed act's event id.
    entries = [e for e in result.ledger if e.event == "penalty" and not e.is_lapse]
    before, after = entries[0].band_before, entries[-1].band_after
    if before is None or after == before:
        return Climb("no band lost", f"{rule.id} (-{points}) leaves the band at "
                     f"{after or 'none'}", rule.id, points, before, after)
    days = {e.id: e.day for e in result.history.events}
    for entry in result.ledger:
        if entry.event != "penalty" and entry.kind == "rule" \
                and entry.band_after is not None \
                and scheme.rank(entry.band_after) <= scheme.rank(before):
            return Climb("climbed", f"back to {before} after "
                         f"{(days[entry.event] - date(YEAR, 1, 1)).days} days", rule.id,
                         points, before, after, (days[entry.event] - date(YEAR, 1, 1)).days)
    band = scheme.band(before)
    return Climb(f"not within {CLIMB_YEARS} years", f"the plan does not bring {before} back "
                 f"within {CLIMB_YEARS} years: the score reaches "
                 f"{number(result.results[0].score)}, and {before}'s documented range is "
                 f"{describe_range(band.range if band else None)}", rule.id, points, before,
                 after)


def _event_for(rule: Rule, voc: Vocabulary) -> dict[str, Any] | None:
    """An event (type and attributes) that satisfies a rule's conditions; None if none found.

    The engine checks it: a rule that does not fire on it is left out of the typical
    penalty, never guessed.
    """
    etype = rule.match.types[0]
    spec = voc.event(etype)
    if spec is None:
        return None
    attrs: dict[str, Any] = {}
    for cond in rule.match.where:
        value = cond.value
        if cond.op in ("eq", "gte", "lte"):
            attrs[cond.attr] = value
        elif cond.op == "in" and isinstance(value, list):
            attrs[cond.attr] = value[0]
        elif cond.op in ("gt", "lt") and isinstance(value, Decimal):
            attrs[cond.attr] = value + (1 if cond.op == "gt" else -1)
        elif cond.op == "ne":
            choices = [v for v in spec.attrs[cond.attr].values if v != value]
            if not choices:
                return None
            attrs[cond.attr] = choices[0]
        else:
            return None
    for effect in rule.effects:
        if isinstance(effect, TiersEffect):
            attrs.setdefault(effect.attr, effect.tiers[0].value)
        elif isinstance(effect, QuantityTiersEffect):
            r = effect.tiers[0].range
            low = r.min if r.min is not None else (r.max if r.max is not None else ZERO)
            attrs.setdefault(effect.attr, (low if r.min is None or r.min_inclusive else low + 1)
                             / effect.factor)
        elif isinstance(effect, FormulaEffect):
            attrs.setdefault(effect.attr, max(effect.threshold, effect.base_quantity,
                                              effect.per or ZERO, Decimal(1)) / effect.factor)
    for name, attr in spec.attrs.items():
        if name in attrs or not attr.required:
            continue
        kind = attr.kind
        attrs[name] = (attr.values[0] if kind == "enum" else False if kind == "bool"
                       else date(YEAR, 1, 1) if kind == "date" else 1 if kind in
                       ("int", "number") else "other")
    return {"type": etype, **{k: _plain(v) for k, v in attrs.items()}}


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else value
    return value
