"""The properties `creditlab audit` checks: statements about the ledger and final states of
any history replayed through a scheme.

Each reads what a scheme *declares* (directions, caps, limits, effective dates, bands,
reclassification durations) and checks it against what the engine *did* (the ledger of a
`Run`), raising `Violation` with what went wrong. The runner that feeds them generated
histories is `checks/audit.py`; auditors add their own with `creditlab.testing`.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from creditlab.engine.canonical import dumps
from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import Event, History
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.scheme import AccumulatedEffect, ReclassifyEffect, Rule, Scheme
from creditlab.engine.inputs.scheme_effects import RollingWindow
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.engine.scoring.conditions import in_force, scored_on
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.periods import add_duration, period_key
from creditlab.engine.scoring.replay import Backend, Replay, replay

__all__ = [
    "PROPERTIES",
    "Property",
    "Run",
    "Violation",
    "history_from_data",
]


class Violation(AssertionError):
    """A property does not hold for one history."""


@dataclass(frozen=True)
class Run:
    """One generated history, replayed: what every property looks at."""

    declared: Scheme
    replayed: Scheme
    data: dict[str, Any]
    history: History
    result: Replay
    vocabulary: Vocabulary
    backend: Backend = "durable"

    def entries(self) -> list[tuple[LedgerEntry, Event]]:
        """The entries of rules firing, with their events, in replay order.

        Entries that reverse a rule's earlier points when they lapse (`expires_after`) are
        left out: they are the engine undoing a rule, not the rule firing; so are periodic
        checks' findings, which fire on no event. Final states include them.
        """
        events = {e.id: e for e in self.history.events}
        return [(entry, events[entry.event]) for entry in self.result.ledger
                if entry.kind == "rule"]

    def rule(self, rule_id: str) -> Rule | None:
        return self.declared.rule(rule_id)


@dataclass(frozen=True)
class Property:
    """A statement every history must satisfy, for the schemes it applies to."""

    name: str
    title: str
    check: Callable[[Run], None]
    applies: Callable[[Scheme], bool] = lambda scheme: True
    aims_at: Callable[[Rule], bool] | None = None
    """The rules the property is about: generated events are aimed at them more often."""


def _within_scale(run: Run) -> None:
    scale = run.declared.scale
    assert scale.min is not None and scale.max is not None
    for entry, _ in run.entries():
        if not scale.min <= entry.score_after <= scale.max:
            raise Violation(f"{entry.subject}: {entry.rule} on {entry.event} took the score to "
                            f"{entry.score_after}, outside the clamped scale "
                            f"{scale.min}-{scale.max}")


def _reclassification(run: Run, entry: LedgerEntry) -> ReclassifyEffect | None:
    """The declared reclassification this entry applied, if it applied one."""
    rule = run.rule(entry.rule)
    if rule is None or not entry.changes:
        return None
    found = [e for e in rule.effects if isinstance(e, ReclassifyEffect)]
    return found[-1] if found else None


def _states(run: Run) -> list[tuple[str, date, Decimal, str | None, str]]:
    """(subject, day, score, band, what) after every ledger entry, then at the end."""
    out = [(entry.subject, entry.at, entry.score_after, entry.band_after,
            f"after {entry.rule} on {entry.event}") for entry, event in run.entries()]
    end = run.history.end
    if end is not None:
        for outcome in run.result.results:
            if outcome.scheme == run.replayed.id:
                out.append((outcome.subject, end, outcome.score, outcome.band,
                            f"at the end ({end})"))
    return out


def _first_reclassified(run: Run) -> dict[str, date]:
    first: dict[str, date] = {}
    for entry, _event in run.entries():
        if _reclassification(run, entry) is not None:
            first.setdefault(entry.subject, entry.at)
    return first


def _band_agrees(run: Run) -> None:
    scheme = run.declared
    ranged = [b for b in scheme.bands if b.range is not None]
    bounds = [v for b in ranged if b.range is not None for v in (b.range.min, b.range.max)
              if v is not None]
    first = _first_reclassified(run)
    seen: list[tuple[Decimal, int, str]] = []
    for subject, day, score, band, what in _states(run):
        if subject in first and day >= first[subject]:
            continue  # from here on, the reclassification property speaks
        declared = scheme.band(band) if band is not None else None
        if band is not None and (declared is None or declared.range is None
                                 or not declared.range.contains(score)):
            raise Violation(f"{subject} {what}: score {score} shown in band {band!r}, whose "
                            "range does not hold it, and no reclassification is in force")
        holders = [b.label for b in ranged if b.range is not None and b.range.contains(score)]
        if band is None and holders:
            raise Violation(f"{subject} {what}: score {score} is in band {holders[0]!r} but "
                            "no band is shown")
        if (band is None and bounds and min(bounds) <= score <= max(bounds)
                and score == score.to_integral_value()):
            raise Violation(f"{subject} {what}: the whole score {score} lies within the bands' "
                            f"span ({min(bounds)}-{max(bounds)}) but no band holds it")
        if band is not None:
            seen.append((score, scheme.rank(band), f"{subject} {what}"))
    seen.sort()
    for (s1, r1, w1), (s2, r2, w2) in pairwise(seen):
        if (s2 > s1 and r2 > r1) or (s2 == s1 and r2 != r1):
            raise Violation(f"a higher score has a worse band: {s2} is "
                            f"{scheme.bands[r2].label!r} ({w2}) but {s1} is "
                            f"{scheme.bands[r1].label!r} ({w1})")


def _reclassification_holds(run: Run) -> None:
    scheme = run.declared
    active: dict[str, tuple[ReclassifyEffect, date | None, str]] = {}
    states = _states(run)
    entries = run.entries()
    position = 0
    for subject, day, score, band, what in states:
        if position < len(entries):
            entry, _event = entries[position]
            position += 1
            effect = _reclassification(run, entry)
            if effect is not None:
                until = add_duration(entry.at, effect.duration) if effect.duration else None
                active[subject] = (effect, until, entry.rule)
        if subject not in active:
            continue
        effect, until, rule = active[subject]
        by_score = scheme.band_for(score)
        if until is None or day < until:
            if effect.policy == "replace" or by_score is None:
                expected = effect.grade
            else:
                expected = max(by_score, effect.grade, key=scheme.rank)
            if band != expected:
                raise Violation(f"{subject} {what}: {rule} reclassified to {effect.grade!r} "
                                f"({effect.policy}) until {until or 'the end'}, but the band "
                                f"shown is {band!r}, not {expected!r}")
        elif band != by_score:
            raise Violation(f"{subject} {what}: the reclassification by {rule} ended on "
                            f"{until}, but the band shown is {band!r}, not the score's "
                            f"{by_score!r}")


def _deterministic(run: Run) -> None:
    again = replay(run.history, [run.replayed], backend=run.backend)
    if dumps(again.as_dict(explain=True)) != dumps(run.result.as_dict(explain=True)):
        raise Violation("replaying the same history twice gave different results")


def _order_independent(run: Run) -> None:
    events = list(run.data["events"])
    shuffled = list(reversed(events))
    random.Random(len(events)).shuffle(shuffled)
    for order in (list(reversed(events)), shuffled):
        other = history_from_data({**run.data, "events": order}, run.vocabulary)
        digest = replay(other, [run.replayed], backend=run.backend).digest
        if digest != run.result.digest:
            raise Violation("the same events in another input order gave another digest")


def _duplicate_refused(run: Run) -> None:
    events = run.data["events"]
    if not events:
        return
    copy = dict(events[0])
    try:
        history_from_data({**run.data, "events": [*events, copy]}, run.vocabulary)
    except HistoryError as exc:
        if "duplicate event id" in exc.reason:
            return
        raise Violation(f"a repeated event id was refused for another reason: {exc}") from None
    raise Violation(f"event id {copy['id']!r} given twice was accepted")


def _direction(run: Run) -> None:
    for entry, _ in run.entries():
        rule = run.rule(entry.rule)
        if rule is None:
            continue
        if (rule.direction == "reward" and entry.applied < 0) or (
                rule.direction == "penalty" and entry.applied > 0):
            raise Violation(f"{entry.rule} is a {rule.direction} but changed {entry.subject}'s "
                            f"score by {entry.applied} on {entry.event}")


def _caps_hold(run: Run) -> None:
    scheme = run.declared
    groups = {g.id: g for g in scheme.cap_groups}
    totals: dict[tuple[str, str], Decimal] = {}
    for entry, _event in run.entries():
        rule = run.rule(entry.rule)
        if rule is None:
            continue
        checks = []
        if rule.cap is not None:
            checks.append((f"rule {rule.id}", rule.cap))
        if rule.cap_group is not None and rule.cap_group in groups:
            checks.append((f"cap group {rule.cap_group}", groups[rule.cap_group].cap))
        for name, cap in checks:
            key = (f"{entry.subject} {name}", period_key(cap.per, entry.at))
            totals[key] = totals.get(key, Decimal(0)) + entry.applied
            if abs(totals[key]) > cap.points:
                period = f" in {key[1]}" if key[1] else ""
                raise Violation(f"{entry.subject}: {name} contributed {totals[key]}{period}, "
                                f"beyond its cap of {cap.points} per {cap.per}")


def _limits_hold(run: Run) -> None:
    counts: dict[tuple[str, str, str], int] = {}
    counted: dict[tuple[str, str], list[date]] = {}
    for entry, _event in run.entries():
        rule = run.rule(entry.rule)
        if rule is None or rule.frequency is None or not (entry.applied or entry.changes):
            continue
        per = rule.frequency.per
        if isinstance(per, RollingWindow):
            # Any window of that length: the entries still in it on this entry's day.
            days = counted.setdefault((entry.subject, rule.id), [])
            days.append(entry.at)
            inside = sum(1 for d in days if entry.at < add_duration(d, per.rolling))
            if inside > rule.frequency.times:
                raise Violation(f"{entry.subject}: {rule.id} scored {inside} times in the "
                                f"{per.name} up to {entry.at}, beyond its limit of "
                                f"{rule.frequency.times}")
            continue
        key = (entry.subject, rule.id, period_key(per, entry.at))
        counts[key] = counts.get(key, 0) + 1
        if counts[key] > rule.frequency.times:
            raise Violation(f"{entry.subject}: {rule.id} scored {counts[key]} times in "
                            f"{key[2]}, beyond its limit of {rule.frequency.times} per "
                            f"{rule.frequency.per}")


def _in_force(run: Run) -> None:
    for entry, event in run.entries():
        rule = run.rule(entry.rule)
        if rule is None:
            continue
        if not in_force(rule, entry.at):
            raise Violation(f"{rule.id} fired on {event.id} ({entry.at}), outside its "
                            f"effective dates {rule.effective_from or '…'} to "
                            f"{rule.effective_to or '…'}")


def _eligible_only(run: Run) -> None:
    scheme = run.declared
    for entry, event in run.entries():
        subject = run.history.subjects[entry.subject]
        if not scored_on(scheme, subject, event.day):
            raise Violation(f"{entry.subject}: {entry.rule} moved the score on {event.id} "
                            f"({event.day}), a day the scheme does not score them "
                            f"(under {scheme.eligibility.min_age if scheme.eligibility else '?'})")
    end = run.history.end
    if end is None:
        return
    for result in run.result.results:
        if result.scheme == run.replayed.id and not scored_on(
                scheme, run.history.subjects[result.subject], end):
            raise Violation(f"{result.subject} has a score in {scheme.id} though the scheme "
                            f"does not score them on the history's last day ({end})")


def _total_most(effect: AccumulatedEffect) -> Decimal | None:
    """The most a running total can be worth in one window (None: unbounded)."""
    cap = abs(effect.max_points) if effect.max_points is not None else None
    if effect.tiers is None:
        return cap
    steps = [abs(t.points) for t in effect.tiers]
    most = sum(steps, Decimal(0)) if effect.mode == "add" else max(steps)
    return most if cap is None else min(most, cap)


def _totals_bounded(run: Run) -> None:
    """Calendar windows: the points of one period add up to f(its total), at most the most
    f gives. Rolling windows forget: once an earlier amount leaves, a later event may earn
    a tier again (by design), so the bound holds over each stretch of a subject's events
    in which none leaves, where the points add up to f(total) less f(total carried in)."""
    applied: dict[tuple[str, str, str], Decimal] = {}
    rolling: dict[tuple[str, str], tuple[list[date], Decimal]] = {}
    for entry, event in run.entries():
        rule = run.rule(entry.rule)
        if rule is None:
            continue
        scoring = [e for e in rule.effects if e.kind not in ("list", "reclassify",
                                                             "unquantified", "set_score")]
        if len(scoring) != 1 or not isinstance(scoring[0], AccumulatedEffect):
            continue
        effect = scoring[0]
        most = _total_most(effect)
        if most is None:
            continue
        if isinstance(effect.window, RollingWindow):
            steps = [t.points for t in effect.tiers or effect.brackets or ()]
            if min(steps) < 0 < max(steps):
                most *= 2  # f(total) - f(carried in) with f of either sign
            leaves, given = rolling.get((entry.subject, rule.id), ([], Decimal(0)))
            if any(day <= event.day for day in leaves):  # an amount left: a new stretch
                leaves, given = [day for day in leaves if day > event.day], Decimal(0)
            given += entry.applied
            if any(n.kind == "accumulated" for n in entry.notes) and not any(
                    n.kind in ("frequency_limit", "same_act") for n in entry.notes):
                leaves = [*leaves, add_duration(event.day, effect.window.rolling)]
            rolling[(entry.subject, rule.id)] = (leaves, given)
            if abs(given) > most:
                raise Violation(f"{entry.subject}: {rule.id} applied {given} by {event.day} "
                                f"while no amount left its window of {effect.window_name}, "
                                f"more than its schedule is worth ({most})")
            continue
        key = (entry.subject, rule.id, period_key(effect.window, event.day))
        applied[key] = applied.get(key, Decimal(0)) + entry.applied
        if abs(applied[key]) > most:
            raise Violation(f"{entry.subject}: {rule.id} applied {applied[key]} in "
                            f"{key[2]}, more than its schedule is worth in a window ({most})")


def _has(kind: str) -> Callable[[Scheme], bool]:
    return lambda s: any(e.kind == kind for r in s.rules for e in r.effects)


PROPERTIES: tuple[Property, ...] = (
    Property("within-scale", "the score stays within the scale when the scheme clamps",
             _within_scale, lambda s: s.scale.clamp),
    Property("band-agrees", "the band agrees with the score unless a reclassification is in "
             "force", _band_agrees, lambda s: any(b.range is not None for b in s.bands)),
    Property("deterministic", "replaying the same history twice gives the same result",
             _deterministic),
    Property("order-independent", "the input order of events does not change the result",
             _order_independent),
    Property("duplicate-id-refused", "a repeated event id is refused, never counted twice",
             _duplicate_refused),
    Property("direction", "a reward never lowers the score and a penalty never raises it",
             _direction, aims_at=lambda r: r.direction in ("reward", "penalty")),
    Property("caps-hold", "no capped rule or cap group contributes more than its cap",
             _caps_hold, lambda s: bool(s.cap_groups) or any(r.cap for r in s.rules),
             lambda r: bool(r.cap or r.cap_group)),
    Property("limits-hold", "no rule scores more often than its limit per period",
             _limits_hold, lambda s: any(r.frequency for r in s.rules),
             lambda r: r.frequency is not None),
    Property("effective-dates", "rules outside their effective dates never fire", _in_force,
             lambda s: any(r.effective_from or r.effective_to for r in s.rules),
             lambda r: bool(r.effective_from or r.effective_to)),
    Property("reclassification-holds", "a reclassification holds for its documented "
             "duration, and only that long", _reclassification_holds, _has("reclassify"),
             lambda r: any(e.kind == "reclassify" for e in r.effects)),
    Property("totals-bounded", "a rule on a running total never gives more in one window "
             "(a rolling one: while no amount leaves it) than its schedule is worth (its top "
             "tier, its tiers added, or max_points)",
             _totals_bounded, _has("accumulated"),
             lambda r: any(e.kind == "accumulated" for e in r.effects)),
    Property("eligible-only", "the scheme never scores a subject it is not for (under its "
             "minimum age): such a subject's score never moves", _eligible_only,
             lambda s: s.eligibility is not None),
)


def history_from_data(data: dict[str, Any], vocabulary: Vocabulary | None = None) -> History:
    """A validated History from plain data (the shape of a YAML history file)."""
    voc = vocabulary or shipped_vocabulary()
    return parse_history(Located(data, "<generated>", {}), "sha256:" + "0" * 64, voc)
