"""Explain: the story of one person's score in one scheme, event by event, with citations.

Everything here reads a `Replay` (its ledger and final states); nothing re-scores. A story
is data, so that the terminal (`creditlab explain`) and the HTML report render the same
thing:

- where the subject starts (the scheme's start, or the history's `starting` supposition);
- one `Step` per (event, rule fired), in replay order, with the points the rule gives, the
  points applied after limits, the score and band after, the rule's fidelity and the
  source's own words; an event of the subject that no rule of the scheme matches is a step
  with `rule: None` (the scheme has no rule for it), so every event is accounted for;
- how it ends: score, band, list states, and what the band means where the scheme says so
  (`bands[].meaning` and the band's source quote), e.g. perks for Meritown's AAA, mortgage
  refusal for Rongcheng's B, police monitoring for Meritown's D.

`narrate_step` and `narrate_ending` give each part as one plain-language sentence.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from creditlab.engine.describe import entry_effects, entry_note, number, signed
from creditlab.engine.errors import InputError, did_you_mean
from creditlab.engine.inputs.history import Event, History
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Replay

__all__ = ["Ending", "Step", "Story", "explain", "explain_all", "narrate_ending",
           "narrate_start", "narrate_step"]


@dataclass(frozen=True)
class Step:
    """One rule that fired on one event (or an event no rule of the scheme matched)."""

    event: str
    at: datetime
    type: str
    attrs: Mapping[str, Any]
    kind: str
    """`rule` (a rule fired), `lapse` (points a rule gave lapse on `at`), `check` (a periodic
    check found its condition met; `event` is the period judged) or `unmatched`."""
    rule: str | None
    title: str | None
    direction: str | None
    points: Decimal | None
    applied: Decimal
    score_before: Decimal
    score: Decimal
    band_before: str | None
    band: str | None
    effects: tuple[str, ...]
    note: str | None
    fidelity: str | None
    fidelity_note: str | None
    source: Mapping[str, Any] | None
    totals: bool = False
    """The rule's points depend on a running total (an `accumulated` effect): the story
    says the total even when the points are applied whole."""

    @property
    def quote(self) -> str | None:
        """The source's own words for the rule (None for an event no rule matched)."""
        return None if self.source is None else str(self.source.get("quote"))

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event, "at": self.at, "type": self.type, "attrs": dict(self.attrs),
            "kind": self.kind, "rule": self.rule, "title": self.title, "direction": self.direction,
            "points": self.points, "applied": self.applied,
            "score_before": self.score_before, "score": self.score,
            "band_before": self.band_before, "band": self.band,
            "effects": list(self.effects), "note": self.note, "fidelity": self.fidelity,
            "fidelity_note": self.fidelity_note,
            "source": dict(self.source) if self.source is not None else None,
            "text": narrate_step(self),
        }


@dataclass(frozen=True)
class Ending:
    """Where the story ends: score, band, list states, and what the band means."""

    score: Decimal
    band: str | None
    flags: tuple[str, ...]
    meaning: str | None
    band_source: Mapping[str, Any] | None
    band_fidelity: str | None
    as_of: date | None

    def as_dict(self) -> dict[str, Any]:
        return {"score": self.score, "band": self.band, "flags": list(self.flags),
                "meaning": self.meaning,
                "band_source": dict(self.band_source) if self.band_source else None,
                "band_fidelity": self.band_fidelity, "as_of": self.as_of,
                "text": narrate_ending(self)}


@dataclass(frozen=True)
class Story:
    """One subject's score in one scheme, told event by event."""

    subject: str
    scheme: str
    scheme_name: str
    start: Decimal
    start_band: str | None
    start_given: bool
    steps: tuple[Step, ...]
    ending: Ending

    @property
    def fired(self) -> bool:
        """True when at least one rule of the scheme fired on the subject's events."""
        return any(s.rule is not None for s in self.steps)

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "scheme": self.scheme,
                "scheme_name": self.scheme_name, "start": self.start,
                "start_band": self.start_band, "start_given": self.start_given,
                "start_text": narrate_start(self),
                "steps": [s.as_dict() for s in self.steps], "ending": self.ending.as_dict()}


def explain(result: Replay, subject: str, scheme: str) -> Story:
    """The story of `subject` in `scheme` (an id of a scheme in `result`).

    Raises `InputError` for a subject not in the history, a scheme not replayed, or a
    scheme that scores another kind of subject (persons, enterprises).
    """
    history = result.history
    _check_subject(history, subject)
    chosen = next((s for s in result.schemes if s.id == scheme), None)
    if chosen is None:
        raise InputError(f"scheme {scheme!r} was not replayed"
                         f"{did_you_mean(scheme, [s.id for s in result.schemes])}",
                         field="scheme")
    outcome = result.outcome(subject, scheme)
    if outcome is None:
        kind = history.subjects[subject].kind
        raise InputError(f"{scheme} scores {chosen.subject_kind}s; {subject!r} is "
                         f"{'an' if kind == 'enterprise' else 'a'} {kind}", field="scheme")
    queue = [e for e in result.ledger if e.subject == subject and e.scheme == scheme]
    given = next((p for p in history.starting if p.subject == subject and p.scheme == scheme),
                 None)
    # A grade given as a starting point shows at the start (the reducer keeps it while the
    # score stays in the band it started in).
    start_band = given.grade if given is not None and given.grade is not None \
        else chosen.band_for(outcome.start)
    steps: list[Step] = []
    score, band = outcome.start, start_band
    events = {e.id: e for e in history.events_of(subject)}
    at = 0
    # The ledger is in replay order: an event's own entries, preceded by the entries of
    # points that lapsed by its day (a rule's validity), each dated on its own day; lapses
    # due by the end come last.
    for event in events.values():
        while at < len(queue) and _comes_before(queue[at], event):
            steps.append(_step(events.get(queue[at].event), queue[at], chosen))
            score, band = queue[at].score_after, queue[at].band_after
            at += 1
        if at >= len(queue) or queue[at].event != event.id:
            steps.append(_unmatched(event, score, band))
            continue
        while at < len(queue) and queue[at].event == event.id and not queue[at].is_lapse:
            steps.append(_step(event, queue[at], chosen))
            score, band = queue[at].score_after, queue[at].band_after
            at += 1
    for entry in queue[at:]:
        steps.append(_step(events.get(entry.event), entry, chosen))
    return Story(subject=subject, scheme=scheme, scheme_name=chosen.name.en,
                 start=outcome.start, start_band=start_band, start_given=given is not None,
                 steps=tuple(steps), ending=_ending(chosen, outcome.score, outcome.band,
                                                    outcome.flags, history.end))


def explain_all(result: Replay, subject: str) -> list[Story]:
    """The subject's story in every replayed scheme that scores its kind, by scheme id."""
    _check_subject(history := result.history, subject)
    kind = history.subjects[subject].kind
    return [explain(result, subject, s.id) for s in result.schemes if s.subject_kind == kind]


def _check_subject(history: History, subject: str) -> None:
    if subject not in history.subjects:
        raise InputError(f"no subject {subject!r} in the history"
                         f"{did_you_mean(subject, history.subjects)}; its subjects: "
                         f"{', '.join(sorted(history.subjects))}", file=history.file,
                         field="subject")


def _comes_before(entry: LedgerEntry, event: Event) -> bool:
    """Whether `entry`, not one of an event's own, comes before `event`: a lapse due by
    its day, a check of a period that ended before it."""
    if entry.kind == "lapse":
        return entry.at <= event.day
    return entry.kind == "check" and entry.at < event.day


def _step(event: Event | None, entry: LedgerEntry, scheme: Scheme) -> Step:
    """A step for a ledger entry, dated as the ledger dates it (a lapse on its own day);
    a check has no event: its step names the period it judged."""
    if entry.kind == "check":
        check = scheme.check(entry.rule)
        assert check is not None
        return Step(event=entry.event, at=datetime(entry.at.year, entry.at.month, entry.at.day),
                    type="check", attrs={}, kind="check", rule=check.id, title=check.title,
                    direction=None, points=None, applied=entry.applied,
                    score_before=entry.score_before, score=entry.score_after,
                    band_before=entry.band_before, band=entry.band_after,
                    effects=entry_effects(entry), note=entry_note(entry),
                    fidelity=entry.fidelity,
                    fidelity_note=check.note if check.fidelity != "documented" else None,
                    source=entry.source)
    assert event is not None
    rule = scheme.rule(entry.rule)
    assert rule is not None
    at = datetime(entry.at.year, entry.at.month, entry.at.day) if entry.is_lapse else event.at
    return Step(event=event.id, at=at, type=event.type, attrs=event.attrs, kind=entry.kind,
                rule=rule.id, title=rule.title, direction=rule.direction,
                points=entry.points, applied=entry.applied, score_before=entry.score_before,
                score=entry.score_after, band_before=entry.band_before, band=entry.band_after,
                effects=entry_effects(entry), note=entry_note(entry), fidelity=entry.fidelity,
                fidelity_note=rule.note if rule.fidelity != "documented" else None,
                source=entry.source, totals=entry.noted("accumulated"))


def _unmatched(event: Event, score: Decimal, band: str | None) -> Step:
    return Step(event=event.id, at=event.at, type=event.type, attrs=event.attrs,
                kind="unmatched", rule=None,
                title=None, direction=None, points=None, applied=Decimal(0),
                score_before=score, score=score, band_before=band, band=band, effects=(),
                note=None, fidelity=None, fidelity_note=None, source=None)


def _ending(scheme: Scheme, score: Decimal, band: str | None, flags: tuple[str, ...],
            as_of: date | None) -> Ending:
    declared = scheme.band(band) if band is not None else None
    return Ending(score=score, band=band, flags=flags,
                  meaning=declared.meaning if declared else None,
                  band_source=declared.source.model_dump(exclude_none=True) if declared
                  else None,
                  band_fidelity=declared.fidelity if declared else None, as_of=as_of)


# --- plain language ----------------------------------------------------------------------


def _cite(source: Mapping[str, Any]) -> str:
    if source.get("kind") == "seed":
        where = str(source.get("file")) + (f", line {source['line']}" if source.get("line")
                                           else "")
    else:
        where = f"{source.get('publisher')}, {source.get('title')}"
    return f"{where}: “{source.get('quote')}”"


def _what(step: Step) -> str:
    attrs = ", ".join(f"{k} {number(v) if isinstance(v, Decimal) else v}"
                      for k, v in sorted(step.attrs.items()))
    return f"{step.type}" + (f" ({attrs})" if attrs else "")


def _band(label: str | None) -> str:
    return "no band" if label is None else f"band {label}"


def narrate_start(story: Story) -> str:
    """Where the story starts, in one sentence."""
    if story.start_given:
        return (f"{story.subject} starts at {number(story.start)} in {story.scheme}, "
                f"{_band(story.start_band)}, as the history supposes (a supposition, not a "
                "source).")
    return (f"{story.subject} starts at the scheme's start, {number(story.start)}, "
            f"{_band(story.start_band)}.")


def narrate_step(step: Step) -> str:
    """One step as a sentence: the event, the rule, what it did, and the source's words."""
    day = step.at.date().isoformat()
    if step.rule is None:
        return (f"{day} {_what(step)}: no rule of this scheme scores it; score stays "
                f"{number(step.score)}.")
    if step.kind == "check":
        assert step.source is not None
        reading = "" if step.fidelity == "documented" else f" ({step.fidelity} reading)"
        return (f"{day} check {step.rule} “{step.title}” [{step.note}]: "
                f"{'; '.join(step.effects)}; score stays {number(step.score)}. "
                f"Source{reading}: {_cite(step.source)}")
    if step.kind == "lapse":
        assert step.source is not None
        return (f"{day} the {signed(-step.applied)} points rule {step.rule} gave for "
                f"{step.event} ({step.type}) lapse [{step.note}] → score "
                f"{number(step.score)}. Source: {_cite(step.source)}")
    if step.points is None:
        given = ""
    elif step.points == step.applied:
        given = f" gives {signed(step.points)}"
    else:
        given = f" gives {signed(step.points)}, {signed(step.applied)} applied"
    did = list(step.effects)
    if step.points is None and not did and step.applied == 0:
        did.append("no points (the source gives no number)")
    changes = f" ({'; '.join(did)})" if did else ""
    band = "" if step.band == step.band_before else \
        f", {_band(step.band_before)} → {_band(step.band)}"
    note = f" [{step.note}]" if step.note and step.points is not None \
        and (step.points != step.applied or step.totals) else ""
    assert step.source is not None
    reading = "" if step.fidelity == "documented" else f" ({step.fidelity} reading)"
    return (f"{day} {_what(step)}: rule {step.rule} “{step.title}”{given}{changes}{note} → "
            f"score {number(step.score)}{band}. Source{reading}: {_cite(step.source)}")


def narrate_ending(ending: Ending) -> str:
    """How the story ends: score, band, list states and what the band means."""
    when = f" on {ending.as_of.isoformat()}" if ending.as_of else ""
    text = f"Ends{when} at {number(ending.score)}, {_band(ending.band)}"
    if ending.flags:
        text += f", listed: {', '.join(ending.flags)}"
    text += "."
    if ending.band is None:
        return text + (" The scheme documents no band that holds this score, and creditlab "
                       "does not invent one.")
    if ending.meaning:
        text += f" What {ending.band} means: {ending.meaning}"
        if ending.band_source:
            text += f" (source: {_cite(ending.band_source)})"
    else:
        text += f" The source gives the band {ending.band} no stated meaning."
    return text
