"""The replays behind the asymmetry view: what a year of good acts earns, the typical penalty,
and how long the climb back to the band held before it takes.

Nothing here is summed from the rules' stated points: every figure is found by replaying a
made-up history through the engine, so that caps, shared caps, frequency limits and lapses
apply exactly as they would to anyone. `earn` replays one year of a `Plan`; `climb_back`
triggers each applicable penalty once from the scheme's start, takes the median deduction
(lower median) as the typical penalty, then repeats the plan for up to `CLIMB_YEARS` years
and dates the first good act after which the lost band shows again. The penalties' events
are built from the rules' own conditions; a rule that does not fire on its event is left
out of the typical penalty, never guessed. Kept apart from `asymmetry`, which counts and
sums the rules and assembles the view from these replays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from creditlab.engine.analysis.groups import YEAR, Plan
from creditlab.engine.describe import describe_range, number
from creditlab.engine.inputs.history import History, Subject
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.scheme import (
    FormulaEffect,
    QuantityTiersEffect,
    Rule,
    Scheme,
    TiersEffect,
)
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.scoring.replay import replay

__all__ = [
    "CLIMB_YEARS",
    "Climb",
    "climb_back",
    "earn",
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


def earn(scheme: Scheme, rep: Subject, plan: Plan,
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


def climb_back(scheme: Scheme, rep: Subject, penalties: list[Rule], plan: Plan,
               earned: Decimal, voc: Vocabulary) -> Climb:
    """How long `plan`, repeated, takes to win back the band a typical penalty costs `rep`."""
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
