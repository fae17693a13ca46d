"""Comparing schemes on a replay: the N-way diff of one history and the population view.

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

`compare_population` answers "how do these schemes sort a population":

- band distribution per scheme (every declared band, plus `None` for no band);
- rank agreement between each pair of schemes: Kendall's tau-b (scipy.stats.kendalltau)
  over the final scores of the subjects both schemes apply to (tau to 6 decimal places,
  its p-value to 6 significant digits), `None` with the reason
  when it is undefined (fewer than two subjects, or one scheme gives everyone the same
  score);
- the band flip matrix for each pair: how many subjects hold band X in one scheme and
  band Y in the other, with who they are;
- extreme flips: subjects in the top fifth of one scheme's population (mid-rank
  percentile >= 80) and the bottom fifth (<= 20) of another's.

Results carry the replay's manifest (plus the analysis and its parameters, and the
replay's digest as `replay_digest`) and a `digest` of their own rows.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from itertools import combinations
from typing import Any, Literal

from creditlab.engine.analysis.normalise import Normalised, band_rank, percentiles, share_of_scale
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.describe import describe_source, entry_effects, entry_note
from creditlab.engine.errors import InputError
from creditlab.engine.inputs.history import Event
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Replay

__all__ = [
    "TOP_PERCENTILE",
    "Agreement",
    "BandCount",
    "Diff",
    "EventDiff",
    "ExtremeFlip",
    "Flip",
    "Population",
    "SchemeOnEvent",
    "SchemeStanding",
    "SubjectDiff",
    "compare_population",
    "diff",
]

Status = Literal["scored", "not scored", "not applicable"]
TOP_PERCENTILE = Decimal(80)
BOTTOM_PERCENTILE = Decimal(20)


def _manifest(result: Replay, analysis: str, parameters: dict[str, Any]) -> dict[str, Any]:
    return {**result.manifest, "analysis": analysis, "parameters": parameters,
            "replay_digest": result.digest}


def _schemes_checked(result: Replay) -> tuple[Scheme, ...]:
    if len(result.schemes) < 2:
        raise InputError("comparing schemes needs at least two (name them with --scheme)",
                         field="scheme")
    return result.schemes


# --- the diff of one history ------------------------------------------------------------


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
    schemes = _schemes_checked(result)
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
    manifest = _manifest(result, "diff", {"schemes": [s.id for s in schemes],
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


# --- a population --------------------------------------------------------------------------


@dataclass(frozen=True)
class BandCount:
    scheme: str
    band: str | None
    rank: int | None
    count: int
    share: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"scheme": self.scheme, "band": self.band, "rank": self.rank,
                "count": self.count, "share": self.share}


@dataclass(frozen=True)
class Agreement:
    scheme_a: str
    scheme_b: str
    subjects: int
    tau: Decimal | None
    p_value: Decimal | None
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {"scheme_a": self.scheme_a, "scheme_b": self.scheme_b,
                "subjects": self.subjects, "tau": self.tau, "p_value": self.p_value,
                "reason": self.reason}


@dataclass(frozen=True)
class Flip:
    scheme_a: str
    scheme_b: str
    band_a: str | None
    band_b: str | None
    count: int
    subjects: tuple[str, ...]

    def as_dict(self) -> dict[str, Any]:
        return {"scheme_a": self.scheme_a, "scheme_b": self.scheme_b, "band_a": self.band_a,
                "band_b": self.band_b, "count": self.count, "subjects": list(self.subjects)}


@dataclass(frozen=True)
class ExtremeFlip:
    """A subject in the top fifth of `top_in` and the bottom fifth of `bottom_in`."""

    subject: str
    top_in: str
    bottom_in: str
    percentile_top: Decimal
    percentile_bottom: Decimal

    def as_dict(self) -> dict[str, Any]:
        return {"subject": self.subject, "top_in": self.top_in, "bottom_in": self.bottom_in,
                "percentile_top": self.percentile_top,
                "percentile_bottom": self.percentile_bottom}


@dataclass(frozen=True)
class Population:
    """How N schemes sort one population: bands, rank agreement, flips."""

    replay: Replay
    subjects: int
    bands: tuple[BandCount, ...]
    agreement: tuple[Agreement, ...]
    flips: tuple[Flip, ...]
    extremes: tuple[ExtremeFlip, ...]
    manifest: dict[str, Any]
    digest: str

    def body(self) -> dict[str, Any]:
        return {"schemes": [s.id for s in self.replay.schemes], "subjects": self.subjects,
                "bands": [b.as_dict() for b in self.bands],
                "agreement": [a.as_dict() for a in self.agreement],
                "flips": [f.as_dict() for f in self.flips],
                "extremes": [x.as_dict() for x in self.extremes]}

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, **self.body(), "digest": self.digest}


def compare_population(result: Replay) -> Population:
    """Band distribution, Kendall's tau and band flips of a replayed population."""
    from scipy.stats import kendalltau

    schemes = _schemes_checked(result)
    scores: dict[str, dict[str, Decimal]] = {s.id: {} for s in schemes}
    bands: dict[str, dict[str, str | None]] = {s.id: {} for s in schemes}
    for r in result.results:
        scores[r.scheme][r.subject] = r.score
        bands[r.scheme][r.subject] = r.band
    counts: list[BandCount] = []
    for s in schemes:
        n = len(bands[s.id])
        labels: list[str | None] = [b.label for b in s.bands]
        labels.append(None)
        for label in labels:
            c = sum(1 for b in bands[s.id].values() if b == label)
            if label is None and c == 0:
                continue
            counts.append(BandCount(s.id, label, None if label is None else s.rank(label), c,
                                    _ratio(c, n)))
    agreement: list[Agreement] = []
    flips: list[Flip] = []
    extremes: list[ExtremeFlip] = []
    pct = {s.id: percentiles(scores[s.id]) for s in schemes}
    for a, b in combinations(schemes, 2):
        common = sorted(set(scores[a.id]) & set(scores[b.id]))
        xs = [scores[a.id][k] for k in common]
        ys = [scores[b.id][k] for k in common]
        if len(common) < 2:
            agreement.append(Agreement(a.id, b.id, len(common), None, None,
                                       "fewer than two subjects in both schemes"))
        elif len(set(xs)) == 1 or len(set(ys)) == 1:
            same = a.id if len(set(xs)) == 1 else b.id
            agreement.append(Agreement(a.id, b.id, len(common), None, None,
                                       f"{same} gives every subject the same score"))
        else:
            tau, p = kendalltau([float(x) for x in xs], [float(y) for y in ys])
            agreement.append(Agreement(a.id, b.id, len(common), _decimal(tau),
                                       _significant(p), None))
        cells: dict[tuple[str | None, str | None], list[str]] = {}
        for k in common:
            cells.setdefault((bands[a.id][k], bands[b.id][k]), []).append(k)
        for (band_a, band_b), who in sorted(cells.items(), key=lambda kv: (
                _band_key(a, kv[0][0]), _band_key(b, kv[0][1]))):
            flips.append(Flip(a.id, b.id, band_a, band_b, len(who), tuple(who)))
        for top, bottom in ((a, b), (b, a)):
            for k in common:
                pt, pb = pct[top.id][k], pct[bottom.id][k]
                if pt >= TOP_PERCENTILE and pb <= BOTTOM_PERCENTILE:
                    extremes.append(ExtremeFlip(k, top.id, bottom.id, pt, pb))
    manifest = _manifest(result, "compare", {"schemes": [s.id for s in schemes],
                                             "top_percentile": TOP_PERCENTILE,
                                             "bottom_percentile": BOTTOM_PERCENTILE})
    population = Population(result, len(result.history.subjects), tuple(counts),
                            tuple(agreement), tuple(flips), tuple(extremes), manifest, "")
    return Population(result, population.subjects, population.bands, population.agreement,
                      population.flips, population.extremes, manifest,
                      digest_of(population.body()))


def _band_key(scheme: Scheme, band: str | None) -> int:
    return len(scheme.bands) if band is None else scheme.rank(band)


def _ratio(count: int, total: int) -> Decimal:
    if total == 0:
        return Decimal(0)
    return (Decimal(count) / total).quantize(Decimal("0.000001")).normalize() + 0


def _decimal(value: float) -> Decimal | None:
    if value != value:  # NaN
        return None
    return Decimal(repr(float(value))).quantize(Decimal("0.000001")).normalize() + 0


def _significant(value: float) -> Decimal | None:
    """A p-value to 6 significant digits (a tiny one stays tiny, never 0)."""
    if value != value:  # NaN
        return None
    return Decimal(f"{float(value):.6g}")
