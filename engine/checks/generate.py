"""Hypothesis strategies for histories: any vocabulary event, or events aimed at one scheme.

Plain generation rarely reaches a scheme's rare rules (a role, a threshold, a date range).
`histories(scheme=...)` therefore draws most events from the rules themselves: the types a
rule matches, attribute values at and around each condition's and tier's boundaries, each
role a rule conditions on, subjects who reach an age limit within the generated years and
dates around effective dates; one event in ten is of any vocabulary type, so that
unmatched events are replayed too. Which values meet a rule's conditions is decided by
the matcher's own semantics (`scoring.conditions`).

Histories are plain data in the shape of a YAML history file (`subjects`, `events`), so a
failing example can be written out and replayed as it is. Public through
`creditlab.testing`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import ROUND_FLOOR, Decimal
from typing import Any

from hypothesis import strategies as st

from creditlab.engine.inputs.scheme import (
    EARLIEST,
    LATEST,
    AccumulatedEffect,
    FormulaEffect,
    QuantityTiersEffect,
    Rule,
    Scheme,
    TiersEffect,
)
from creditlab.engine.inputs.vocabulary import AttrSpec, Vocabulary, shipped_vocabulary
from creditlab.engine.scoring.conditions import condition_holds

__all__ = [
    "END",
    "START",
    "Targets",
    "attr_values",
    "boundary_values",
    "events",
    "histories",
    "subjects",
    "targets_for",
]

START = date(2016, 1, 1)
END = date(2023, 12, 31)
_PLACES = Decimal("0.000001")


def _number(value: Decimal) -> int | Decimal:
    """An exact number as a history holds it: an int when integral, at most 6 places."""
    value = value.quantize(_PLACES) if value != value.to_integral_value() else value
    return int(value) if value == value.to_integral_value() else value.normalize()


def attr_values(spec: AttrSpec) -> st.SearchStrategy[Any]:
    """Any value of an attribute type (small numbers within the vocabulary's range, dates
    within the generated years)."""
    kind = spec.kind
    if kind in ("int", "number"):
        low = math.ceil(spec.low) if spec.low is not None else 0
        high = low + (24 if kind == "int" else 1200)
        if spec.high is not None:
            high = min(high, math.floor(spec.high))
        if kind == "int":
            return st.integers(low, high)
        return st.one_of(st.integers(low, high),
                         st.decimals(low, high, places=1, allow_nan=False,
                                     allow_infinity=False).map(_number))
    if kind == "bool":
        return st.booleans()
    if kind == "date":
        return st.dates(START, END)
    if kind == "enum":
        return st.sampled_from(spec.values)
    return st.text("abcdefgh ", min_size=1, max_size=8)


@st.composite
def subjects(draw: st.DrawFn, sid: str, kind: str | None = None,
             roles: tuple[str, ...] = (), vocabulary: Vocabulary | None = None,
             ages: tuple[int, ...] = ()) -> dict[str, Any]:
    """A subject record; `roles` are drawn more often than the vocabulary's other roles,
    and half of those born on a known date reach one of `ages` between START and END."""
    voc = vocabulary or shipped_vocabulary()
    subject: dict[str, Any] = {
        "id": sid,
        "kind": kind or draw(st.sampled_from(["person", "person", "enterprise", "city"]))}
    if draw(st.integers(0, 3)):
        if len(ages) > 0 and draw(st.booleans()):
            # Events before that birthday are below the age limit, events after it reach it.
            # Nobody is born after the generated years start (a history refuses that).
            age = draw(st.sampled_from(ages))
            latest = min(END, _years_before(START, -age))
            birthday = draw(st.dates(START, latest))
            subject["born"] = _years_before(birthday, age)
        else:
            subject["born"] = draw(st.dates(date(1940, 1, 1), date(2010, 12, 31)))
    if draw(st.integers(0, 3)):
        subject["residence"] = draw(st.sampled_from(["urban", "rural"]))
    if draw(st.booleans()):
        subject["hukou"] = draw(st.sampled_from(["local", "non_local"]))
    aimed = len(roles) > 0 and draw(st.integers(0, 3)) > 0
    pool = list(roles) if aimed else list(voc.roles)
    subject["roles"] = sorted(draw(st.lists(st.sampled_from(pool), max_size=3, unique=True)))
    return subject


def _years_before(day: date, years: int) -> date:
    """The day `years` years before `day` (28 February for a 29 February)."""
    try:
        before = day.replace(year=day.year - years)
    except ValueError:
        before = day.replace(year=day.year - years, day=28)
    return max(before, EARLIEST)  # histories hold dates from 1900 on


@st.composite
def events(draw: st.DrawFn, eid: str, subject_ids: list[str],
           types: list[str] | None = None, vocabulary: Vocabulary | None = None
           ) -> dict[str, Any]:
    """An event of any (or one of `types`) vocabulary type, with valid attributes."""
    voc = vocabulary or shipped_vocabulary()
    etype = draw(st.sampled_from(types or sorted(voc.events)))
    spec = voc.events[etype]
    event: dict[str, Any] = {
        "id": eid,
        "subject": draw(st.sampled_from(subject_ids)),
        "at": START + timedelta(days=draw(st.integers(0, (END - START).days))),
        "type": etype,
    }
    for name, attr in spec.attrs.items():
        if attr.required or draw(st.booleans()):
            event[name] = draw(attr_values(attr))
    return event


# --- aimed at a scheme -------------------------------------------------------------------


@dataclass(frozen=True)
class Targets:
    """What a scheme's rules look at: types, boundary values, roles, dates."""

    scheme: Scheme
    rules: tuple[Rule, ...]
    values: dict[tuple[str, str], tuple[Any, ...]]
    """(event type, attribute) -> values at and around the scheme's boundaries."""
    meets: dict[tuple[int, str, str], tuple[Any, ...]]
    """(rule index, event type, attribute) -> those of the values that meet the rule."""
    roles: tuple[str, ...]
    days: tuple[date, ...]
    start: date
    end: date
    ages: tuple[int, ...] = ()
    """The ages at which a rule's age limit changes its answer (min_age, max_age + 1)."""


def boundary_values(spec: AttrSpec, constants: list[Any]) -> tuple[Any, ...]:
    """Values of an attribute at and on both sides of each constant a scheme compares with."""
    kind = spec.kind
    if kind == "enum":
        return spec.values
    if kind == "bool":
        return (True, False)
    out: list[Any] = []
    if kind in ("int", "number"):
        steps = [Decimal(1)] if kind == "int" else [Decimal(1), Decimal("0.5")]
        for c in constants:
            if not isinstance(c, Decimal) or isinstance(c, bool):
                continue
            base = c if kind == "number" else c.to_integral_value()
            out.append(base)
            for step in steps:
                out.extend((base - step, base + step))
        out.append(Decimal(0))
        return tuple(sorted({_number(v) for v in out
                             if spec.in_range(v) and abs(v) < 10 ** 14}))
    if kind == "date":
        for c in constants:
            if isinstance(c, date):
                out.extend((c - timedelta(days=1), c, c + timedelta(days=1)))
        return tuple(sorted(set(out)))
    return tuple(sorted({c for c in constants if isinstance(c, str)} | {"other"}))


def _constants(rule: Rule, attr: str) -> list[Any]:
    """The constants `rule` compares `attr` with (conditions, tier bounds, formula steps)."""
    out: list[Any] = []
    for cond in rule.match.where:
        if cond.attr == attr:
            out.extend(cond.value if isinstance(cond.value, list) else [cond.value])
    for effect in rule.effects:
        if isinstance(effect, TiersEffect) and effect.attr == attr:
            out.extend(t.value for t in effect.tiers)
        elif isinstance(effect, QuantityTiersEffect) and effect.attr == attr:
            for tier in effect.tiers:
                for bound in (tier.range.min, tier.range.max):
                    if bound is not None:
                        out.append(bound / effect.factor)
        elif isinstance(effect, FormulaEffect) and effect.attr == attr:
            marks = [effect.threshold, effect.base_quantity]
            if effect.per is not None:
                marks += [effect.base_quantity + k * effect.per for k in range(1, 5)]
            out.extend(m / effect.factor for m in marks)
        elif isinstance(effect, AccumulatedEffect) and effect.attr == attr:
            # A total crosses a step by one event's amount or by several: the steps
            # themselves, their halves and thirds (two or three events), and just past.
            steps: list[Decimal] = []
            for t in effect.tiers or ():
                steps.append(t.bound)
            for b in effect.brackets or ():
                steps += [b.above, b.above + b.per, b.above + 2 * b.per]
            six = Decimal("0.000001")  # event values have at most 6 places
            for step in steps:
                out.extend((m / effect.factor).quantize(six, ROUND_FLOOR)
                           for m in (step, step / 2, step / 3, step + 1) if m > 0)
    return out


def _condition_attrs(rule: Rule) -> set[str]:
    names = {c.attr for c in rule.match.where}
    for effect in rule.effects:
        attr = effect.attr if isinstance(effect, (
            TiersEffect, QuantityTiersEffect, FormulaEffect, AccumulatedEffect)) else None
        if attr is not None:
            names.add(attr)
    return names


_TARGETS: dict[tuple[int, int], Targets] = {}


def targets_for(scheme: Scheme, vocabulary: Vocabulary | None = None) -> Targets:
    """The types, values, roles and dates that reach `scheme`'s rules."""
    voc = vocabulary or shipped_vocabulary()
    key = (id(scheme), id(voc))
    known = _TARGETS.get(key)
    if known is not None and known.scheme is scheme:
        return known
    targets = _targets(scheme, voc)
    _TARGETS[key] = targets
    return targets


def _targets(scheme: Scheme, voc: Vocabulary) -> Targets:
    constants: dict[tuple[str, str], list[Any]] = {}
    roles: set[str] = set()
    days: set[date] = set()
    ages: set[int] = set()
    if scheme.eligibility is not None:  # subjects who come of age within the history
        ages.add(scheme.eligibility.min_age)
    for rule in scheme.rules:
        for etype in rule.match.types:
            for attr in _condition_attrs(rule):
                constants.setdefault((etype, attr), []).extend(_constants(rule, attr))
        subj = rule.match.subject
        if subj is not None:
            roles.update(subj.roles_any)
            roles.update(subj.roles_none)
            if subj.min_age is not None:
                ages.add(subj.min_age)
            if subj.max_age is not None:
                ages.add(subj.max_age + 1)
        for day in (rule.effective_from, rule.effective_to):
            if day is not None:
                days.update((day - timedelta(days=1), day, day + timedelta(days=1)))
    values: dict[tuple[str, str], tuple[Any, ...]] = {}
    for (etype, attr), consts in constants.items():
        spec = voc.events[etype].attrs.get(attr)
        if spec is not None:
            values[(etype, attr)] = boundary_values(spec, consts)
    meets: dict[tuple[int, str, str], tuple[Any, ...]] = {}
    for index, rule in enumerate(scheme.rules):
        for etype in rule.match.types:
            for attr in {c.attr for c in rule.match.where}:
                conds = [c for c in rule.match.where if c.attr == attr]
                candidates = values.get((etype, attr), ())
                meets[(index, etype, attr)] = tuple(
                    v for v in candidates if all(condition_holds(c, v) for c in conds))
    # Effective dates lie in 1900-2200 (the scheme loader's bound); the dates aimed at them
    # stay in that range too, so every generated history loads.
    days = {d for d in days if EARLIEST <= d <= LATEST}
    start = max(EARLIEST, min([START, *(d - timedelta(days=60) for d in days)]))
    end = min(LATEST, max([END, *(d + timedelta(days=60) for d in days)]))
    return Targets(scheme, tuple(scheme.rules), values, meets, tuple(sorted(roles)),
                   tuple(sorted(days)), start, end, tuple(sorted(ages)))


_spread = st.integers(0, 2 ** 16 - 1)
"""Taken modulo the number of rules: closer to uniform than a small range's draws, which
hypothesis skews towards 0."""


@st.composite
def _aimed_event(draw: st.DrawFn, targets: Targets, index: int, eid: str,
                 subject_ids: list[str], voc: Vocabulary, near: date | None = None
                 ) -> dict[str, Any]:
    rule = targets.rules[index]
    etype = draw(st.sampled_from(rule.match.types))
    spec = voc.events[etype]
    if near is not None:
        at = min(near + timedelta(days=draw(st.integers(0, 3))), LATEST)
    elif len(targets.days) > 0 and draw(st.booleans()):
        at = draw(st.sampled_from(targets.days))
    else:
        at = targets.start + timedelta(days=draw(st.integers(0, (targets.end
                                                                  - targets.start).days)))
    event: dict[str, Any] = {"id": eid, "subject": draw(st.sampled_from(subject_ids)),
                             "at": at, "type": etype}
    aimed = _condition_attrs(rule)
    for name, attr in spec.attrs.items():
        boundary = targets.values.get((etype, name))
        meets = targets.meets.get((index, etype, name))
        if meets and draw(st.integers(0, 5)):
            event[name] = draw(st.sampled_from(meets))
        elif name in aimed and boundary and draw(st.integers(0, 5)):
            event[name] = draw(st.sampled_from(boundary))
        elif attr.required or draw(st.booleans()):
            event[name] = draw(attr_values(attr))
    return event


@st.composite
def histories(draw: st.DrawFn, max_subjects: int = 4, max_events: int = 25,
              types: list[str] | None = None, scheme: Scheme | str | None = None,
              vocabulary: Vocabulary | None = None, focus: tuple[str, ...] = ()
              ) -> dict[str, Any]:
    """A history as plain data (the YAML shape): subjects, then events with unique ids.

    With `scheme` (a Scheme or a shipped scheme id), nine events in ten are aimed at its
    rules; subjects are mostly of its subject kind and carry the roles its rules name.
    `focus` (rule ids) aims two aimed events in three at those rules.
    """
    voc = vocabulary or shipped_vocabulary()
    if isinstance(scheme, str):
        from creditlab.engine.inputs.catalog import shipped_scheme

        scheme = shipped_scheme(scheme)
    targets = targets_for(scheme, voc) if scheme is not None and scheme.rules else None
    n = draw(st.integers(1, max_subjects))
    subs = []
    for i in range(n):
        kind = None
        if scheme is not None:
            other = "enterprise" if scheme.subject_kind == "person" else "person"
            kind = scheme.subject_kind if draw(st.integers(0, 5)) else other
        subs.append(draw(subjects(f"s{i}", kind, targets.roles if targets else (), voc,
                                  targets.ages if targets else ())))
    if targets is not None and focus and draw(st.integers(0, 3)):
        # One subject meets the subject condition of a focused rule (its roles, residence,
        # hukou), so that a rule for party members is reached in a handful of histories.
        rule = draw(st.sampled_from([r for r in targets.rules if r.id in focus]
                                    or list(targets.rules)))
        _meet(subs[0], rule, scheme.subject_kind if scheme is not None else None, draw)
    ids = [s["id"] for s in subs]
    # The offset (drawn once per history) spreads histories over all the rules, so rules
    # late in the file are reached as often as early ones.
    offset = draw(_spread) if targets is not None else 0
    focused = [i for i, r in enumerate(targets.rules) if r.id in focus] if targets else []
    m = draw(st.integers(0, max_events))
    evs: list[dict[str, Any]] = []
    last: tuple[int, str, date] | None = None
    while len(evs) < m:
        eid = f"e{len(evs)}"
        if targets is not None and draw(st.integers(0, 9)):
            if last is not None and draw(st.integers(0, 2)) == 0:
                # A burst: the same rule again for the same subject, one to three times
                # within days, so that caps, limits and counting windows are reached.
                for k in range(min(draw(st.integers(1, 3)), m - len(evs))):
                    evs.append(draw(_aimed_event(targets, last[0], f"{eid}.{k}", [last[1]],
                                                 voc, last[2])))
                    last = (last[0], last[1], evs[-1]["at"])
                continue
            if len(focused) > 0 and draw(st.integers(0, 2)) > 0:
                index = focused[draw(_spread) % len(focused)]
            else:
                index = (offset + draw(_spread)) % len(targets.rules)
            evs.append(draw(_aimed_event(targets, index, eid, ids, voc)))
            last = (index, evs[-1]["subject"], evs[-1]["at"])
        else:
            evs.append(draw(events(eid, ids, types, voc)))
    # A history refuses a subject born after its first event: events aimed at a rule's
    # effective dates may fall before the generated years, so births move back to them.
    for sub in subs:
        days = [_as_day(e["at"]) for e in evs if e["subject"] == sub["id"]]
        if "born" in sub and days and sub["born"] > min(days):
            sub["born"] = min(days)
    return {"subjects": subs, "events": evs}


def _meet(subject: dict[str, Any], rule: Rule, kind: str | None, draw: st.DrawFn) -> None:
    """Make `subject` meet `rule`'s subject condition where a field can (not its ages)."""
    if kind is not None:
        subject["kind"] = kind
    who = rule.match.subject
    if who is None:
        return
    roles = set(subject.get("roles", ())) - set(who.roles_none)
    if who.roles_any:
        roles.add(draw(st.sampled_from(who.roles_any)))
    subject["roles"] = sorted(roles)
    if who.residence is not None:
        subject["residence"] = who.residence
    if who.hukou is not None:
        subject["hukou"] = who.hukou


def _as_day(at: date | datetime) -> date:
    return at.date() if isinstance(at, datetime) else at
