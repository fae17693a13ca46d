"""Normalisation: putting scores from incompatible scales side by side, by explicit choice.

Schemes score on scales that do not convert into one another: 0–1000 (Fuzhou), 350–1200
(Wuhu), 0–200 (Suzhou), 0–12 (Jiangsu, enterprises), a start of 1,000 with no documented
bounds (Rongcheng, Meritown), or letter grades only (taxi stars). creditlab never converts
silently. Each way of comparing is a named choice, and when a choice cannot be computed for
a scheme the answer is `None` with the reason, never a guess:

- `share_of_scale`: (score - min) / (max - min), a fraction of the documented scale. Not
  computable when the source gives no minimum or maximum.
- `band_rank`: the position of the band among the scheme's declared bands, 0 for the best
  (best first, as the scheme file lists them). Not computable when no band applies (the
  source gives no thresholds for this score and no reclassification set one).
- `percentile`: where a subject stands among the population replayed through the same
  scheme: 100 x (number scoring lower + half the number scoring the same) / n, the
  mid-rank percentile, so ties share one value. Needs a population, not a scheme.

Scores stay exact. A normalised value is a ratio derived from them, rounded (half to even)
to 6 decimal places (`PLACES`) so that it prints as a plain number.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal
from typing import Literal

from creditlab.engine.inputs.scheme import Scheme

__all__ = [
    "NORMALISATIONS",
    "PLACES",
    "Normalisation",
    "Normalised",
    "band_rank",
    "percentiles",
    "points_share_of_span",
    "share_of_scale",
]

Normalisation = Literal["share_of_scale", "band_rank", "percentile"]
NORMALISATIONS: tuple[Normalisation, ...] = ("share_of_scale", "band_rank", "percentile")
PLACES = Decimal("0.000001")


def _rounded(value: Decimal) -> Decimal:
    return value.quantize(PLACES).normalize() + 0  # + 0 turns -0 into 0


@dataclass(frozen=True)
class Normalised:
    """A normalised value, or None with the reason it cannot be computed."""

    value: Decimal | None
    reason: str | None = None


def _span(scheme: Scheme) -> tuple[Decimal | None, str | None]:
    lo, hi = scheme.scale.min, scheme.scale.max
    if lo is None or hi is None:
        missing = " or ".join(n for n, v in (("minimum", lo), ("maximum", hi)) if v is None)
        return None, f"{scheme.id}: the source gives no {missing} of the scale"
    if hi == lo:
        return None, f"{scheme.id}: the scale has no width ({lo}–{hi})"
    return hi - lo, None


def share_of_scale(scheme: Scheme, score: Decimal) -> Normalised:
    """`score` as a fraction of the scheme's documented scale (0 at min, 1 at max)."""
    span, reason = _span(scheme)
    if span is None:
        return Normalised(None, reason)
    assert scheme.scale.min is not None
    return Normalised(_rounded((score - scheme.scale.min) / span))


def points_share_of_span(scheme: Scheme, points: Decimal) -> Normalised:
    """A change of `points` as a percentage of the scheme's scale span (max - min)."""
    span, reason = _span(scheme)
    if span is None:
        return Normalised(None, reason)
    return Normalised(_rounded(points * 100 / span))


def band_rank(scheme: Scheme, band: str | None) -> Normalised:
    """The band's position among the scheme's declared bands: 0 is the best."""
    if not scheme.bands:
        return Normalised(None, f"{scheme.id}: the sources name no bands")
    if band is None:
        return Normalised(None, f"{scheme.id}: no band applies (the source gives no "
                                "thresholds for this score)")
    return Normalised(Decimal(scheme.rank(band)))


def percentiles(scores: Mapping[str, Decimal]) -> dict[str, Decimal]:
    """Mid-rank percentile (0–100) of each subject's score within `scores`."""
    n = len(scores)
    if n == 0:
        return {}
    counts = Counter(scores.values())
    below: dict[Decimal, int] = {}
    running = 0
    for value in sorted(counts):
        below[value] = running
        running += counts[value]
    return {subject: _rounded((Decimal(below[v]) + Decimal(counts[v]) / 2) * 100 / n)
            for subject, v in scores.items()}
