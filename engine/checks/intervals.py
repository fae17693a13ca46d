"""Intervals of the number line and conditions over attribute values.

Bands, quantity tiers and a rule's numeric conditions each cover part of the number line;
lint asks whether they overlap, leave gaps or can be met at all. Whether a value meets a
condition is the matcher's own semantics, `scoring.conditions.condition_holds`
(re-exported here for the callers that import it from this module).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from itertools import pairwise
from typing import Any

from creditlab.engine.describe import number as _plain
from creditlab.engine.inputs.scheme import Condition, Range
from creditlab.engine.inputs.vocabulary import AttrSpec
from creditlab.engine.scoring.conditions import condition_holds

__all__ = ["Region", "condition_holds", "merge", "range_of", "regions", "satisfiable", "span"]


def number(value: Decimal | None) -> str:
    """A bound in plain notation; None (no bound) is infinity."""
    return "infinity" if value is None else _plain(value)


@dataclass(frozen=True)
class Region:
    """A point (lo == hi) or an open interval between two breakpoints (None: infinite)."""

    lo: Decimal | None
    hi: Decimal | None

    @property
    def sample(self) -> Decimal:
        if self.lo is None:
            assert self.hi is not None
            return self.hi - 1
        if self.hi is None:
            return self.lo + 1
        return (self.lo + self.hi) / 2

    @property
    def is_point(self) -> bool:
        return self.lo is not None and self.lo == self.hi

    def has_integer(self) -> bool:
        if self.lo is None or self.hi is None:
            return True
        if self.is_point:
            return self.lo == self.lo.to_integral_value()
        first = self.lo.to_integral_value(rounding="ROUND_FLOOR") + 1
        return first < self.hi

    def describe(self) -> str:
        if self.is_point:
            return f"at {number(self.lo)}"
        if self.lo is None:
            return f"below {number(self.hi)}"
        if self.hi is None:
            return f"above {number(self.lo)}"
        return f"between {number(self.lo)} and {number(self.hi)} (exclusive)"


def regions(bounds: Iterable[Decimal | None]) -> list[Region]:
    """The points and open intervals that `bounds` cut the number line into, in order."""
    points = sorted({b for b in bounds if b is not None})
    if not points:
        return [Region(None, None)]
    out = [Region(None, points[0])]
    for a, b in pairwise(points):
        out += [Region(a, a), Region(a, b)]
    out += [Region(points[-1], points[-1]), Region(points[-1], None)]
    return out


def merge(regions: list[Region]) -> list[Region]:
    """Adjacent regions joined (a run of points and intervals becomes one span)."""
    out: list[Region] = []
    for r in regions:
        if out and out[-1].hi == r.lo and out[-1].hi is not None:
            out[-1] = Region(out[-1].lo, r.hi)
        else:
            out.append(r)
    return out


def span(regions: list[Region]) -> str:
    first, last = regions[0], regions[-1]
    if first is last:
        return first.describe()
    return f"from {number(first.lo)} to {number(last.hi)}"


def range_of(conds: list[Condition]) -> Range:
    """The numeric range that a rule's comparisons on one attribute leave open."""
    lo: Decimal | None = None
    hi: Decimal | None = None
    lo_in = hi_in = True
    for c in conds:
        assert isinstance(c.value, Decimal)
        v = c.value
        if c.op in ("gt", "gte", "eq") and (lo is None or v > lo or (v == lo and c.op == "gt")):
            lo, lo_in = v, c.op != "gt"
        if c.op in ("lt", "lte", "eq") and (hi is None or v < hi or (v == hi and c.op == "lt")):
            hi, hi_in = v, c.op != "lt"
    return Range(min=lo, min_inclusive=lo_in, max=hi, max_inclusive=hi_in)


def satisfiable(conds: list[Condition], spec: AttrSpec) -> bool:
    """Whether some value of the attribute meets every condition (checked at the
    constants, between them and beyond them: the conditions only change there)."""
    kind = spec.kind
    consts: list[Any] = []
    for c in conds:
        consts.extend(c.value if isinstance(c.value, list) else [c.value])
    if kind == "enum":
        candidates: list[Any] = list(spec.values)
    elif kind == "bool":
        candidates = [True, False]
    elif kind in ("int", "number"):
        nums = sorted({v for v in consts if isinstance(v, Decimal)})
        candidates = [Decimal(0)]
        for a in nums:
            candidates += [a - 1, a, a + 1]
        for a, b in pairwise(nums):
            candidates.append((a + b) / 2)
        if kind == "int":
            candidates = [c.to_integral_value(rounding="ROUND_FLOOR") for c in candidates]
    elif kind == "date":
        days = sorted({v for v in consts if isinstance(v, date)})
        candidates = [date(2000, 1, 1)]
        for d in days:
            candidates += [date.fromordinal(d.toordinal() + k) for k in (-1, 0, 1)]
        for first, second in pairwise(days):
            candidates.append(date.fromordinal((first.toordinal() + second.toordinal()) // 2))
    else:
        candidates = [v for v in consts if isinstance(v, str)] + ["\x00other"]
    return any(all(condition_holds(c, v) for c in conds) for v in candidates)
