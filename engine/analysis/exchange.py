"""Exchange rates: how much of a good act offsets one offence, scheme by scheme.

"300 hours of volunteering cancel family abuse" (Meritown). For each scheme, creditlab
replays the offence, then good acts one at a time, until the score is back at or above
where it started, and reports how many acts that took, their total quantity (hours, ml,
RMB), and how long the scheme's limits make it take. Every act's points come from the
engine (the scheme's matcher and reducer, the same ones a replay uses); nothing is
computed here. The history found is then replayed in full (`replay`), and what is reported
is that replay's final state and digest.

The schedule. The offence happens on the reference day (`matrix.REFERENCE_DAY` unless
another is asked for); acts follow, at most one a day, starting the next day. An act that
would add nothing (a frequency limit or a periodic cap reached) is moved to the start of
the next week, month or year, whichever is the first where it adds points: acts are as
early as the scheme's limits allow.

When it cannot be offset (`status: "cannot be offset"`, with `reason`):

- the offence resets the score (`set_score`): a reset is not an amount acts make up;
- the offence reclassifies the grade with no end stated (`duration: null`): no good act
  lifts a grade;
- a list state the offence adds with no end stated (blacklisted) is still there once the
  points are made up;
- the good act earns nothing in the scheme (no rule, or a rule without documented points);
- the good act adds nothing more (a cap for all time reached) before the score is back;
- the score is not back after `MAX_ACTS` acts (1,000).

A grade or list state with an end date is lifted by time, not by acts: the row gives
`restored_on`, and the confirming replay is evaluated on that day.

Act sizes. For an act with a quantity (hours, ml, amount), each scheme is tried with the
representative size (`matrix.REPRESENTATIVE`: 10 hours, 400 ml, ...) and with every
threshold the scheme's own rules for that act name (a `where` condition `gte`/`eq`, the
inclusive lower bound of a quantity tier, a formula's threshold): Meritown's "300 hours or
more: +50" gives a one-act row of 300 hours. `--attr hours=300` tries that size alone.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

from creditlab.engine.analysis.matrix import (
    REFERENCE_DAY,
    Behaviour,
    Persona,
    behaviours,
    check_code,
    synthetic_history,
)
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.describe import entry_effects, entry_note
from creditlab.engine.errors import EngineError, InputError
from creditlab.engine.inputs.history import Event, History, Subject
from creditlab.engine.inputs.scheme import (
    FormulaEffect,
    QuantityTiersEffect,
    Scheme,
)
from creditlab.engine.inputs.vocabulary import Vocabulary, check_attr
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import creditlab_version, replay
from creditlab.engine.scoring.stepping import SubjectWalk

__all__ = ["MAX_ACTS", "Exchange", "ExchangeRate", "exchange"]

MAX_ACTS = 1000
"""The most good acts tried before saying the offence is not offset."""


@dataclass(frozen=True)
class ExchangeRate:
    """How one scheme trades one size of good act against the offence."""

    scheme: str
    act: Behaviour
    act_size: str
    status: str
    reason: str | None
    offence_points: Decimal | None
    offence_effects: tuple[str, ...]
    offence_rules: tuple[str, ...]
    act_points: Decimal | None
    act_rules: tuple[str, ...]
    acts: int | None
    quantity: dict[str, Decimal]
    first_act: date | None
    last_act: date | None
    days: int | None
    restored_on: date | None
    limits: tuple[str, ...]
    start: Decimal
    score_after: Decimal | None
    band_before: str | None
    band_after: str | None
    replay_digest: str | None
    acts_tried: bool = True
    history: History | None = field(default=None, repr=False, compare=False)

    def as_dict(self) -> dict[str, Any]:
        return {
            "scheme": self.scheme, "act_attrs": dict(self.act.attrs), "act_size": self.act_size,
            "status": self.status, "reason": self.reason,
            "offence": {"points": self.offence_points, "effects": list(self.offence_effects),
                        "rules": list(self.offence_rules)},
            "act": {"points": self.act_points, "rules": list(self.act_rules)},
            "acts": self.acts, "quantity": self.quantity, "first_act": self.first_act,
            "last_act": self.last_act, "days": self.days, "restored_on": self.restored_on,
            "limits": list(self.limits), "start": self.start, "score_after": self.score_after,
            "band_before": self.band_before, "band_after": self.band_after,
            "replay_digest": self.replay_digest,
        }


@dataclass(frozen=True)
class Exchange:
    """Exchange rates of one good act against one offence, per scheme and act size."""

    offence: Behaviour
    good: str
    rows: tuple[ExchangeRate, ...]
    manifest: dict[str, Any]
    digest: str

    def body(self) -> dict[str, Any]:
        return {"offence": {"behaviour": self.offence.code, "attrs": dict(self.offence.attrs)},
                "good": self.good, "rows": [r.as_dict() for r in self.rows]}

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, **self.body(), "digest": self.digest}


def exchange(offence: str, good: str, schemes: Sequence[Scheme], vocabulary: Vocabulary, *,
             offence_attrs: Mapping[str, str] | None = None,
             good_attrs: Mapping[str, str] | None = None, persona: Persona | None = None,
             on: date = REFERENCE_DAY) -> Exchange:
    """How many `good` acts offset one `offence`, in each scheme."""
    if not schemes:
        raise InputError("exchange needs at least one scheme", field="scheme")
    check_code(vocabulary, offence, "offence")
    check_code(vocabulary, good, "with")
    persona = persona or Persona()
    offence_rows = behaviours(vocabulary, [], [offence], offence_attrs)
    offence_row = offence_rows[0]
    rows: list[ExchangeRate] = []
    for scheme in sorted(schemes, key=lambda s: s.id):
        base = behaviours(vocabulary, [scheme], [good], good_attrs)[0]
        for act, size in _sizes(vocabulary, scheme, base, good_attrs or {}):
            rate = _rate(scheme, offence_row, act, size, persona, on, vocabulary)
            rows.append(rate)
            if not rate.acts_tried:
                break  # the offence alone decides: other act sizes change nothing
    manifest = {"creditlab": creditlab_version(), "schemes": {s.id: s.sha256 for s in
                                                 sorted(schemes, key=lambda s: s.id)},
                "analysis": "exchange",
                "parameters": {"offence": offence, "offence_attrs": dict(offence_attrs or {}),
                               "good": good, "good_attrs": dict(good_attrs or {}),
                               "persona": persona.as_dict(), "on": on, "max_acts": MAX_ACTS}}
    if vocabulary.sha256:
        manifest["vocabulary"] = vocabulary.sha256
    result = Exchange(offence_row, good, tuple(rows), manifest, "")
    return Exchange(offence_row, good, result.rows, manifest, digest_of(result.body()))


def _quantity_attr(vocabulary: Vocabulary, code: str) -> str | None:
    attrs = vocabulary.events[code].attrs
    return next((n for n, a in attrs.items() if a.kind in ("int", "number") and a.required),
                None)


def _sizes(vocabulary: Vocabulary, scheme: Scheme, base: Behaviour,
           given: Mapping[str, str]) -> list[tuple[Behaviour, str]]:
    """The act sizes to try: the representative one and the scheme's own thresholds."""
    q = _quantity_attr(vocabulary, base.code)
    if q is None or q in given:
        return [(base, "given" if q in given else "one act")]
    spec = vocabulary.events[base.code].attrs[q]
    found: set[Decimal] = set()
    for rule in scheme.rules:
        if base.code not in rule.match.types:
            continue
        for cond in rule.match.where:
            if cond.attr == q and cond.op in ("gte", "eq") and isinstance(cond.value, Decimal):
                found.add(cond.value)
        for effect in rule.effects:
            if isinstance(effect, QuantityTiersEffect) and effect.attr == q:
                found.update(t.range.min / effect.factor for t in effect.tiers
                             if t.range.min is not None and t.range.min_inclusive)
            if isinstance(effect, FormulaEffect) and effect.attr == q and effect.threshold:
                found.add(effect.threshold / effect.factor)
    out = [(base, "representative")]
    for value in sorted(v for v in found if v > 0):
        try:
            checked = check_attr(spec, value)
        except ValueError:
            continue
        act = Behaviour(base.code, {**base.attrs, q: checked})
        if act.attrs != base.attrs:
            out.append((act, "a threshold the scheme's rules name"))
    return out


def _event(act: Behaviour, eid: str, subject: str, day: date) -> Event:
    return Event(id=eid, subject=subject, at=datetime(day.year, day.month, day.day),
                 type=act.code, attrs=dict(act.attrs))


def _candidates(day: date) -> list[date]:
    """`day`, then the next Monday, 1st of a month and 1 January after it."""
    monday = day + timedelta(days=7 - day.weekday())
    month = date(day.year + (day.month == 12), day.month % 12 + 1, 1)
    return sorted({day, monday, month, date(day.year + 1, 1, 1)})


def _rate(scheme: Scheme, offence: Behaviour, act: Behaviour, size: str, persona: Persona,
          on: date, vocabulary: Vocabulary) -> ExchangeRate:
    fields = persona.subject("p", scheme.subject_kind)
    subject = Subject(**{**fields, "roles": tuple(sorted(set(fields.get("roles", ()))))})
    walk = SubjectWalk(scheme, subject)
    band_before = walk.band
    hit = walk.apply(_event(offence, "offence", "p", on))
    given = [e.points for e in hit if e.points is not None]
    effects = tuple(x for e in hit for x in entry_effects(e))
    lost = walk.score - scheme.scale.start
    row: dict[str, Any] = {
        "scheme": scheme.id, "act": act, "act_size": size,
        "offence_points": lost if given or lost else None, "offence_effects": effects,
        "offence_rules": tuple(e.rule for e in hit), "act_points": None, "act_rules": (),
        "acts": None, "quantity": {}, "first_act": None, "last_act": None, "days": None,
        "restored_on": None, "limits": (), "start": scheme.scale.start,
        "score_after": None, "band_before": band_before, "band_after": None,
        "replay_digest": None,
    }

    def cannot(reason: str, status: str = "cannot be offset",
               acts_tried: bool = False) -> ExchangeRate:
        return ExchangeRate(**{**row, "status": status, "reason": reason,
                               "score_after": walk.score,
                               "band_after": walk.band, "acts_tried": acts_tried})

    if not hit:
        return cannot(f"{scheme.id} has no rule for {offence.code}", "nothing to offset")
    resets = [e for e in hit if e.change("score_set") is not None]
    if resets:
        return cannot(f"the offence resets the score ({resets[0].rule}: "
                      f"{', '.join(entry_effects(resets[0]))}), not an amount good acts "
                      "make up")
    o = walk.grade
    if o is not None and o.until is None and walk.overridden:
        return cannot(f"the offence reclassifies the grade to {o.grade} with no end stated "
                      f"({o.rule}); no good act lifts a grade")
    if not given and lost == 0 and not effects:
        return cannot(f"the source penalises {offence.code} ({', '.join(row['offence_rules'])})"
                      " but gives no points", "no points documented")
    if lost >= 0 and not _still_marked(walk):
        return cannot("the offence costs nothing here", "nothing to offset")
    days: list[date] = []
    limits: list[str] = []
    day = on + timedelta(days=1)
    while walk.score < scheme.scale.start:
        if len(days) == MAX_ACTS:
            return cannot(f"not offset within {MAX_ACTS} acts", acts_tried=True)
        placed = None
        for candidate in _candidates(day):
            ev = _event(act, f"act{len(days) + 1:04d}", "p", candidate)
            trial, entries = walk.trial(ev)
            if trial.score > walk.score:
                placed = (candidate, trial, entries)
                break
            notes = [n for n in map(entry_note, entries) if n]
            limits.extend(n for n in notes if n not in limits)
        if placed is None:
            if not days:
                return cannot(_earns_nothing(scheme, act, entries), acts_tried=True)
            row["limits"] = tuple(limits)
            return cannot(f"the good act adds nothing more after {len(days)} acts"
                          + (f" ({'; '.join(limits)})" if limits else ""), acts_tried=True)
        candidate, walk, entries = placed
        if not days:
            row["act_points"] = sum((e.applied for e in entries), Decimal(0))
            row["act_rules"] = tuple(e.rule for e in entries)
        days.append(candidate)
        day = candidate + timedelta(days=1)
    end = days[-1] if days else on
    walk.advance(end)
    restored_on = None
    if _still_marked(walk):
        grade = walk.grade
        ends = [*walk.flags.values(), grade.until if grade else None]
        if any(u is None for u in ends):
            marks = sorted(walk.flags) + ([f"grade {grade.grade}"] if grade else [])
            return cannot(f"{', '.join(marks)} stays with no end stated once the points are "
                          "made up", acts_tried=bool(days))
        restored_on = max(u for u in ends if u is not None)
    history = _history(scheme, offence, act, persona, on, days, vocabulary, restored_on)
    confirmed = replay(history, [scheme])
    final = confirmed.results[0]
    if final.score < scheme.scale.start or final.flags or final.band != scheme.band_for(
            final.score):
        raise EngineError(f"exchange: replaying the history found for {scheme.id} does not "
                          f"offset the offence (score {final.score}, band {final.band})")
    q = _quantity_attr(vocabulary, act.code)
    quantity = {q: Decimal(act.attrs[q]) * len(days)} if q and days else {}  # type: ignore[arg-type]
    finish = max(d for d in (end, restored_on) if d is not None)
    reason, status = None, "offset"
    if restored_on is not None:
        reason = (f"the grade or list state the offence gave is lifted by time on {restored_on}"
                  ", not by acts")
        status = "offset" if days else "restored by time"
    return ExchangeRate(**{
        **row, "status": status, "reason": reason, "acts_tried": bool(days),
        "acts": len(days), "quantity": quantity,
        "first_act": days[0] if days else None, "last_act": days[-1] if days else None,
        "days": (finish - on).days, "restored_on": restored_on, "limits": tuple(limits),
        "score_after": final.score, "band_after": final.band,
        "replay_digest": confirmed.digest, "history": history})


def _still_marked(walk: SubjectWalk) -> bool:
    """A list state, or a reclassified grade, is still on the subject."""
    return bool(walk.flags) or walk.overridden


def _earns_nothing(scheme: Scheme, act: Behaviour, entries: Sequence[LedgerEntry]) -> str:
    if not entries:
        return f"{scheme.id} has no rule for {act.label()}: it earns nothing here"
    if all(e.points is None for e in entries):
        return (f"{act.label()} is rewarded ({', '.join(e.rule for e in entries)}) but the "
                "source gives no points")
    why = "; ".join(entry_note(e) or e.rule for e in entries)
    return f"{act.label()} earns no points here ({why})"


def _history(scheme: Scheme, offence: Behaviour, act: Behaviour, persona: Persona, on: date,
             days: list[date], vocabulary: Vocabulary, as_of: date | None) -> History:
    events = [offence.event("offence", "p", on)]
    events += [act.event(f"act{i:04d}", "p", d) for i, d in enumerate(days, start=1)]
    last = days[-1] if days else on
    return synthetic_history(f"exchange {scheme.id}", [persona.subject("p", scheme.subject_kind)],
                             events, vocabulary,
                             as_of=max(as_of, last) if as_of is not None else None)
