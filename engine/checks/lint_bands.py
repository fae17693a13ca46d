"""Lint's checks of a scheme's scale and bands: what scores exist, and which band holds each.

The scale: the start and every set score inside it, no rule giving more points than its
whole span. The bands: listed best first, no two holding one score, no score the scale can
reach left without a band, no band that no score can reach. Where two printed bands share
an endpoint, `Scheme.band_for` gives the score to the band listed first; that tie-break
decides real grades, so an interpretation must name it (the score and the winning band).
"""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations

from creditlab.engine.checks.intervals import Region, merge, number, regions, span
from creditlab.engine.checks.lint_findings import Findings, quoted
from creditlab.engine.checks.lint_rules import point_values
from creditlab.engine.checks.lint_stated import stated
from creditlab.engine.inputs.scheme import Range, Scheme, SetScoreEffect

__all__ = ["check_bands", "check_scale"]


def check_scale(scheme: Scheme, found: Findings) -> None:
    """The start and every score a rule sets lie on the scale; no rule outweighs its span."""
    scale = scheme.scale
    lo, hi = scale.min, scale.max
    if lo is None or hi is None:
        return
    if not lo <= scale.start <= hi:
        found.add("points-outside-scale", "error",
                  f"the start {number(scale.start)} is outside the scale "
                  f"{number(lo)}-{number(hi)}",
                  ("scale", "start"))
    for i, rule in enumerate(scheme.rules):
        for j, effect in enumerate(rule.effects):
            if isinstance(effect, SetScoreEffect) and not lo <= effect.score <= hi:
                found.add("points-outside-scale", "error",
                          f"{rule.id} sets the score to {number(effect.score)}, outside the "
                          f"scale {number(lo)}-{number(hi)}", ("rules", i, "effects", j),
                          rule=rule.id)
        for path, value in point_values(rule):
            if abs(value) > hi - lo and path[-1] != "score":
                found.add("points-outside-scale", "warning",
                          f"{rule.id} gives {number(value)} points, more than the scale's "
                          f"whole span ({number(hi - lo)})", ("rules", i, *path), rule=rule.id)


def check_bands(scheme: Scheme, found: Findings) -> None:
    """Bands in order, without overlaps, gaps or bands no score reaches."""
    s = scheme
    ranged = [(i, b) for i, b in enumerate(s.bands) if b.range is not None]
    targets = {e.grade for r in s.rules for e in r.effects if e.kind == "reclassify"}
    for i, band in enumerate(s.bands):
        if band.range is None and band.label not in targets:
            found.add("band-without-range", "info",
                      f"band {band.label!r} has no range and no rule reclassifies to it: no "
                      "subject can be shown in it", ("bands", i, "range"),
                      caused_by_source=band.fidelity == "documented")
    if not ranged:
        return
    for (_, a), (j, b) in combinations(ranged, 2):
        assert a.range is not None and b.range is not None
        if _above(b.range, a.range):
            found.add("band-order", "error",
                      f"band {b.label!r} (listed after {a.label!r}) lies above it: bands are "
                      "listed best first", ("bands", j, "range"))
    bounds: list[Decimal | None] = [s.scale.min, s.scale.max]
    for _, band in ranged:
        assert band.range is not None
        bounds += [band.range.min, band.range.max]
    cut = regions(bounds)
    finite = [b for b in bounds if b is not None]
    lo, hi = min(finite), max(finite)
    whole = _integral_scores(s)
    overlaps: dict[tuple[int, int], list[Region]] = {}
    gaps: list[Region] = []
    won: dict[int, list[Region]] = {i: [] for i, _ in ranged}
    for region in cut:
        x = region.sample
        holders = [i for i, b in ranged if b.range is not None and b.range.contains(x)]
        if holders:
            won[holders[0]].append(region)
        for pair in combinations(holders, 2) if _reachable(s, region) else ():
            overlaps.setdefault(pair, []).append(region)
        if not holders and lo <= x <= hi and _reachable(s, region):
            gaps.append(region)
    for (i, j), where in overlaps.items():
        a, b = s.bands[i], s.bands[j]
        spans = [span([r]) for r in merge(where)]
        numbers = [r.lo for r in where] + [r.hi for r in where]
        merged = merge(where)
        # Shared endpoints whose tie-break an interpretation states are the scheme's own
        # reading, said out loud: information, not a defect.
        stated_ties = all(r.is_point and r.lo is not None and _tie_stated(s, r.lo, a.label)
                          for r in merged)
        found.add("band-overlap", "info" if stated_ties else "error",
                  f"bands {a.label!r} and {b.label!r} overlap {', '.join(spans)}; "
                  f"{a.label!r} (listed first) takes those scores"
                  + ("; an interpretation states this tie-break" if stated_ties else ""),
                  ("bands", j, "range"), caused_by_source=quoted(numbers, [a, b]))
        for point in (r.lo for r in merge(where) if r.is_point):
            # A shared endpoint only: a wider overlap is band-overlap's alone.
            assert point is not None
            if not _tie_stated(s, point, a.label):
                found.add("band-tie-unstated", "warning",
                          f"bands {a.label!r} and {b.label!r} both hold {number(point)}; "
                          f"{a.label!r} takes it only because it is listed first, and no "
                          "interpretation names this tie-break (the score and the band that "
                          "wins it)", ("bands", j, "range"))
    for gap in merge(gaps):
        fractional = not gap.has_integer()
        near = [b for _, b in ranged if b.range is not None and (
            b.range.min in (gap.lo, gap.hi) or b.range.max in (gap.lo, gap.hi))]
        index = next((i for i, b in ranged if b in near), ranged[0][0])
        extra = ("; only fractional scores fall there and every rule gives whole points, "
                 "so no score does" if fractional and whole else "")
        found.add("band-gap", "info" if fractional and whole else "warning",
                  f"no band holds scores {gap.describe()}{extra}", ("bands", index, "range"),
                  caused_by_source=quoted([gap.lo, gap.hi], near))
    for i, band in ranged:
        reach = [r for r in won[i] if _reachable(s, r) and (r.has_integer() or not whole)]
        if not reach:
            why = ("every score in it belongs to a band listed earlier" if won[i] == [] else
                   "no score the scheme can produce falls in it")
            assert band.range is not None
            found.add("band-unreachable", "warning", f"band {band.label!r}: {why}",
                      ("bands", i, "range"),
                      caused_by_source=quoted([band.range.min, band.range.max], [band]))


def _tie_stated(scheme: Scheme, point: Decimal, winner: str) -> bool:
    """Whether an interpretation's reading names the shared score and the band that wins it."""
    return any(point in stated(x.reading).numbers and winner.lower() in x.reading.lower()
               for x in scheme.interpretations)


def _integral_scores(scheme: Scheme) -> bool:
    """Whether every score the scheme can produce is a whole number."""
    values: list[Decimal] = [scheme.scale.start]
    for rule in scheme.rules:
        values += [v for _, v in point_values(rule)]
        if rule.cap is not None:
            values.append(rule.cap.points)
    values += [g.cap.points for g in scheme.cap_groups]
    if scheme.scale.clamp:
        values += [v for v in (scheme.scale.min, scheme.scale.max) if v is not None]
    return all(v == v.to_integral_value() for v in values)


def _reachable(scheme: Scheme, region: Region) -> bool:
    scale = scheme.scale
    if not scale.clamp:
        return True
    assert scale.min is not None and scale.max is not None
    return scale.min <= region.sample <= scale.max


def _above(later: Range, earlier: Range) -> bool:
    """Whether a band listed later lies entirely above one listed earlier."""
    if later.min is None or earlier.max is None:
        return False
    return later.min > earlier.max or (later.min == earlier.max and not (
        later.min_inclusive and earlier.max_inclusive))
