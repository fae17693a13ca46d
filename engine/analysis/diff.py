"""The N-way diff of one history: where the schemes of a replay part ways, and why, rule by rule.

Everything here reads a `Replay` (ledger and final states); nothing re-scores.

`diff` answers "where do these schemes part ways on this history, and why, rule by rule":

- per subject, each scheme's start, final score, band and flags side by side, with the
  score as a share of the scheme's scale and the band's rank (see `normalise`); the
  subject's schemes *agree* when score, band and flags are all equal;
- per event, what each scheme did with it: `scored` (the rules that fired, the points they
  give, the points applied after limits, non-point effects, each rule's citation),
  `not scored` (no rule for it) or `not applicable` (the scheme scores another kind of
  subject). Schemes *agree* on an event when status, applied points, given points and
  non-point effects are equal (rule ids are not compared: they are each scheme's own).
  Only the events where they disagree are listed unless `all_events` is asked for.
  Divergent events come first, most divergent first: those where the non-point effects
  differ (a reclassification or a list state in one scheme and not another), then by the
  spread of applied points (max - min over the applicable schemes, raw points, an event a
  scheme does not score counting as 0), then those scored by some schemes and not others,
  then in replay order. Raw points are used for the order only; the scales differ, which
  the per-subject shares show.

What every comparison of schemes shares lives here too, as the lower of the two modules:
`schemes_compared` (at least two schemes, or an `InputError`) and `comparison_manifest`
(the replay's manifest plus the analysis, its parameters and the replay's digest as
`replay_digest`). The population view is `compare.py`, which also re-exports this module's
names.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any, Literal

from creditlab.engine.analysis.normalise import Normalised, band_rank, share_of_scale
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.describe import describe_source, entry_effects, entry_note
from creditlab.engine.errors import InputError
from creditlab.engine.inputs.history import Event
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Replay

__all__ = [
    "Diff",
    "EventDiff",
    "SchemeOnEvent",
    "SchemeStanding",
    "Status",
    "SubjectDiff",
    "comparison_manifest",
    "diff",
    "schemes_compared",
]


Status = Literal["scored", "not scored", "not applicable"]
"""What one scheme did with one event."""


def comparison_manifest(result: Replay, analysis: str,
                        parameters: dict[str, Any]) -> dict[str, Any]:
    """The replay's manifest, plus the analysis made of it, its parameters and the replay's
    digest (`replay_digest`): what a comparison's result carries."""
    return {**result.manifest, "analysis": analysis, "parameters": parameters,
            "replay_digest": result.digest}


def schemes_compared(result: Replay) -> tuple[Scheme, ...]:
    """The replay's schemes, at least two (else an `InputError` naming the scheme option)."""
    if len(result.schemes) < 2:
        raise InputError("comparing schemes needs at least two (name them with --scheme)",
                         field="scheme")
    return result.schemes


@dataclass(frozen=True)
class SchemeStanding:
    """Where one subject ends up in one scheme, with its normalised positions."""

    scheme: str
    status: Literal["applies", "not applicable"]
    start: Decimal | None
    score: Decimal | None
    band: str | None
    flags: tuple[str, ...]
    share_of_scale: Normalised
    band_rank: Normalised

    def signature(self) -> tuple[Any, ...]:
        return (self.status, self.score, self.band, self.flags)

    def as_dict(self) -> dict[str, Any]:
        return {
            "status": self.status, "start": self.start, "score": self.score,
            "change": None if self.score is None or self.start is None
            else self.score - self.start,
            "band": self.band, "flags": list(self.flags),
            "share_of_scale": self.share_of_scale.value,
            "share_of_scale_reason": self.share_of_scale.reason,
            "band_rank": self.band_rank.value, "band_rank_reason": self.band_rank.reason,
        }


@dataclass(frozen=True)
class SubjectDiff:
    subject: str
    agree: bool
    schemes: dict[str, SchemeStanding]

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "agree": self.agree,
                "schemes": {k: v.as_dict() for k, v in self.schemes.items()}}


@dataclass(frozen=True)
class SchemeOnEvent:
    """What one scheme did with one event."""

    scheme: str
    status: Status
    points: Decimal | None
    given: Decimal | None
    rules: tuple[str, ...]
    effects: tuple[str, ...]
    notes: tuple[str, ...]
    citations: tuple[str, ...]
    fidelity: tuple[str, ...]
    score_after: Decimal | None
    band_after: str | None
    entries: tuple[LedgerEntry, ...] = field(default=(), repr=False, compare=False)

    def signature(self) -> tuple[Any, ...]:
        return (self.status, self.points, self.given, self.effects)

    def as_dict(self) -> dict[str, Any]:
        return {"status": self.status, "points": self.points, "given": self.given,
                "rules": list(self.rules), "effects": list(self.effects),
                "notes": list(self.notes), "citations": list(self.citations),
                "fidelity": list(self.fidelity), "score_after": self.score_after,
                "band_after": self.band_after}


@dataclass(frozen=True)
class EventDiff:
    event: Event
    agree: bool
    effects_differ: bool
    points_spread: Decimal
    scored_by: int
    applicable: int
    schemes: dict[str, SchemeOnEvent]

    def as_dict(self) -> dict[str, Any]:
        return {
            "event": self.event.id, "subject": self.event.subject, "at": self.event.at,
            "type": self.event.type, "attrs": dict(self.event.attrs), "agree": self.agree,
            "divergence": {"effects_differ": self.effects_differ,
                           "points_spread": self.points_spread,
                           "scored_by": self.scored_by, "applicable": self.applicable},
            "schemes": {k: v.as_dict() for k, v in self.schemes.items()},
        }


@dataclass(frozen=True)
class Diff:
    """The N-way diff of one history: subjects side by side, divergent events first."""

    replay: Replay
    subjects: tuple[SubjectDiff, ...]
    events: tuple[EventDiff, ...]
    manifest: dict[str, Any]
    digest: str

    @property
    def is_empty(self) -> bool:
        """True when the schemes agree on every subject and every event."""
        return all(s.agree for s in self.subjects) and all(e.agree for e in self.events)

    @property
    def schemes(self) -> list[str]:
        return [s.id for s in self.replay.schemes]

    def body(self) -> dict[str, Any]:
        return {"schemes": self.schemes,
                "subjects": [s.as_dict() for s in self.subjects],
                "events": [e.as_dict() for e in self.events]}

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, **self.body(), "digest": self.digest}


def diff(result: Replay, *, all_events: bool = False) -> Diff:
    """Where the schemes of `result` part ways, per subject and per event."""
    schemes = schemes_compared(result)
    history = result.history
    subjects = []
    outcomes = {(r.subject, r.scheme): r for r in result.results}
    for sid in sorted(history.subjects):
        standings: dict[str, SchemeStanding] = {}
        for s in schemes:
            o = outcomes.get((sid, s.id))
            if o is None:
                why = Normalised(None, f"{s.id} scores {s.subject_kind}s")
                standings[s.id] = SchemeStanding(s.id, "not applicable", None, None, None, (),
                                                 why, why)
            else:
                standings[s.id] = SchemeStanding(s.id, "applies", o.start, o.score, o.band,
                                                 o.flags, share_of_scale(s, o.score),
                                                 band_rank(s, o.band))
        signatures = {st.signature() for st in standings.values() if st.status == "applies"}
        subjects.append(SubjectDiff(sid, len(signatures) <= 1, standings))
    by_key: dict[tuple[str, str], list[LedgerEntry]] = {}
    for entry in result.ledger:
        by_key.setdefault((entry.event, entry.scheme), []).append(entry)
    rules = {(s.id, r.id): r for s in schemes for r in s.rules}
    kinds = {s.id: s.subject_kind for s in schemes}
    rows: list[tuple[tuple[Any, ...], EventDiff]] = []
    for position, event in enumerate(history.events):
        subject_kind = history.subjects[event.subject].kind
        per: dict[str, SchemeOnEvent] = {}
        for s in schemes:
            entries = by_key.get((event.id, s.id), [])
            if kinds[s.id] != subject_kind:
                per[s.id] = _nothing(s.id, "not applicable")
            elif not entries:
                per[s.id] = _nothing(s.id, "not scored")
            else:
                per[s.id] = _scored(s.id, entries, [rules[(s.id, e.rule)] for e in entries])
        applicable = [p for p in per.values() if p.status != "not applicable"]
        agree = len({p.signature() for p in applicable}) <= 1
        if agree and not all_events:
            continue
        applied = [p.points if p.points is not None else Decimal(0) for p in applicable]
        spread = max(applied) - min(applied) if applied else Decimal(0)
        effects_differ = len({p.effects for p in applicable}) > 1
        scored_by = sum(1 for p in applicable if p.status == "scored")
        row = EventDiff(event, agree, effects_differ, spread, scored_by, len(applicable), per)
        partial = 0 < scored_by < len(applicable)
        rows.append(((not agree, effects_differ, spread, partial, -position), row))
    rows.sort(key=lambda pair: pair[0], reverse=True)
    subjects_t, events_t = tuple(subjects), tuple(row for _, row in rows)
    manifest = comparison_manifest(result, "diff", {"schemes": [s.id for s in schemes],
                                          "all_events": all_events})
    body = {"schemes": [s.id for s in schemes], "subjects": [s.as_dict() for s in subjects_t],
            "events": [e.as_dict() for e in events_t]}
    return Diff(result, subjects_t, events_t, manifest, digest_of(body))


def _nothing(scheme: str, status: Status) -> SchemeOnEvent:
    return SchemeOnEvent(scheme, status, None, None, (), (), (), (), (), None, None)


def _scored(scheme: str, entries: list[LedgerEntry], rules: list[Any]) -> SchemeOnEvent:
    given_values = [e.points for e in entries if e.points is not None]
    return SchemeOnEvent(
        scheme=scheme, status="scored",
        points=sum((e.applied for e in entries), Decimal(0)),
        given=sum(given_values, Decimal(0)) if given_values else None,
        rules=tuple(e.rule for e in entries),
        effects=tuple(x for e in entries for x in entry_effects(e)),
        notes=tuple(n for n in map(entry_note, entries) if n),
        citations=tuple(describe_source(r.source) for r in rules),
        fidelity=tuple(e.fidelity for e in entries),
        score_after=entries[-1].score_after, band_after=entries[-1].band_after,
        entries=tuple(entries),
    )
