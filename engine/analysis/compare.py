"""Comparing schemes on a replay: how N schemes sort one population.

Everything here reads a `Replay` (ledger and final states); nothing re-scores. The N-way
diff of one history ("where do these schemes part ways, and why, rule by rule") is
`diff.py`; its names are re-exported here, so that both comparisons are imported from one
place.

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

from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any

from creditlab.engine.analysis.diff import (
    Diff,
    EventDiff,
    SchemeOnEvent,
    SchemeStanding,
    SubjectDiff,
    comparison_manifest,
    diff,
    schemes_compared,
)
from creditlab.engine.analysis.normalise import percentiles
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.inputs.scheme import Scheme
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

TOP_PERCENTILE = Decimal(80)
BOTTOM_PERCENTILE = Decimal(20)


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

    schemes = schemes_compared(result)
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
    manifest = comparison_manifest(result, "compare", {"schemes": [s.id for s in schemes],
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
