"""Lint's checks of a scheme's rules: each rule alone, then the rules against each other.

Alone: points that go against the rule's direction, conditions no event can meet, tiers
that overlap or leave a hole. Together: two rules that score one act twice, rules that
split one behaviour by a quantity and leave a hole between them, a cap group no rule uses.
"""

from __future__ import annotations

from decimal import Decimal
from itertools import combinations
from typing import Any

from creditlab.engine.checks.intervals import (
    Region,
    merge,
    number,
    range_of,
    regions,
    satisfiable,
)
from creditlab.engine.checks.lint_findings import Findings, quoted
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Condition,
    CountTiersEffect,
    FormulaEffect,
    PointsEffect,
    QuantityTiersEffect,
    Range,
    Rule,
    Scheme,
    SetScoreEffect,
    TiersEffect,
)
from creditlab.engine.inputs.vocabulary import AttrSpec, Vocabulary

__all__ = ["check_rules", "point_values"]

_SCORING = (PointsEffect, TiersEffect, QuantityTiersEffect, FormulaEffect, CountTiersEffect,
            AccumulatedEffect, SetScoreEffect)


def check_rules(scheme: Scheme, vocabulary: Vocabulary, found: Findings) -> None:
    """Every rule alone, then in pairs, then split tiers and cap groups no rule uses."""
    checks = _RuleChecks(scheme, vocabulary, found)
    for i, rule in enumerate(scheme.rules):
        checks.check_rule(i, rule)
    checks.check_pairs()
    checks.check_split_tiers()
    used = {r.cap_group for r in scheme.rules}
    for i, group in enumerate(scheme.cap_groups):
        if group.id not in used:
            found.add("unused-cap-group", "warning",
                      f"cap group {group.id!r} is used by no rule", ("cap_groups", i, "id"))


def point_values(rule: Rule) -> list[tuple[tuple[str | int, ...], Decimal]]:
    """Every number of points a rule's effects state, with its path inside the rule."""
    out: list[tuple[tuple[str | int, ...], Decimal]] = []
    for j, effect in enumerate(rule.effects):
        here: tuple[str | int, ...] = ("effects", j)
        if isinstance(effect, PointsEffect):
            out.append(((*here, "points"), effect.points))
        elif isinstance(effect, SetScoreEffect):
            out.append(((*here, "score"), effect.score))
        elif isinstance(effect, (TiersEffect, QuantityTiersEffect, CountTiersEffect)):
            tiers: list[Any] = list(effect.tiers)
            out += [((*here, "tiers", k, "points"), t.points) for k, t in enumerate(tiers)]
        elif isinstance(effect, AccumulatedEffect):
            steps: list[Any] = list(effect.tiers or effect.brackets or ())
            key = "tiers" if effect.tiers is not None else "brackets"
            out += [((*here, key, k, "points"), t.points) for k, t in enumerate(steps)]
            if effect.max_points is not None:
                out.append(((*here, "max_points"), effect.max_points))
        elif isinstance(effect, FormulaEffect):
            for name in ("base_points", "per_points", "max_points"):
                value = getattr(effect, name)
                if value:
                    out.append(((*here, name), value))
    return out


def _range(spec: AttrSpec) -> str:
    low, high = spec.low, spec.high
    if high is None:
        return f"\u2265 {number(low)}" if low is not None else "any"
    return f"{number(low)} to {number(high)}" if low is not None else f"\u2264 {number(high)}"


def _scores(rule: Rule) -> bool:
    return any(isinstance(e, _SCORING) for e in rule.effects)


class _RuleChecks:
    def __init__(self, scheme: Scheme, vocabulary: Vocabulary, found: Findings) -> None:
        self.scheme = scheme
        self.vocabulary = vocabulary
        self.add = found.add

    def check_rule(self, i: int, rule: Rule) -> None:
        here: tuple[str | int, ...] = ("rules", i)
        sign = 1 if rule.direction == "reward" else -1
        for path, value in point_values(rule):
            if path[-1] != "score" and value * sign < 0:
                self.add("direction-mismatch", "error",
                         f"{rule.id} is a {rule.direction} but gives {number(value)} points",
                         (*here, *path), rule=rule.id)
        reason = self.unsatisfiable(rule)
        if reason:
            self.add("unsatisfiable-rule", "error", f"{rule.id} can never fire: {reason}",
                     (*here, "match"), rule=rule.id)
        self.check_attr_ranges(i, rule)
        for j, effect in enumerate(rule.effects):
            if isinstance(effect, QuantityTiersEffect):
                self.check_quantity_tiers(rule, effect, (*here, "effects", j))
            elif isinstance(effect, TiersEffect):
                seen: set[str] = set()
                for k, tier in enumerate(effect.tiers):
                    if tier.value in seen:
                        self.add("tier-overlap", "error",
                                 f"{rule.id}: {effect.attr}={tier.value} is listed twice",
                                 (*here, "effects", j, "tiers", k), rule=rule.id)
                    seen.add(tier.value)

    def check_attr_ranges(self, i: int, rule: Rule) -> None:
        """Conditions and tier bounds on values the vocabulary's range rules out."""
        here: tuple[str | int, ...] = ("rules", i)
        for j, cond in enumerate(rule.match.where):
            spec = self.attr_spec(rule, cond.attr)
            if (spec is not None and isinstance(cond.value, Decimal)
                    and not spec.in_range(cond.value)):
                self.add("outside-attr-range", "warning",
                         f"{rule.id}: {cond.attr} {cond.op} {number(cond.value)} compares with "
                         f"a value outside {cond.attr}'s range ({_range(spec)})",
                         (*here, "match", "where", j, "value"), rule=rule.id)
        for j, effect in enumerate(rule.effects):
            if not isinstance(effect, QuantityTiersEffect) or effect.factor <= 0:
                continue
            spec = self.attr_spec(rule, effect.attr)
            if spec is None:
                continue
            for k, tier in enumerate(effect.tiers):
                for key in ("min", "max"):
                    bound = getattr(tier.range, key)
                    if bound is not None and not spec.in_range(bound / effect.factor):
                        self.add("outside-attr-range", "warning",
                                 f"{rule.id}: tier {k + 1} bound {number(bound)} lies outside "
                                 f"{effect.attr}'s range ({_range(spec)})",
                                 (*here, "effects", j, "tiers", k, "range", key), rule=rule.id)

    def attr_spec(self, rule: Rule, attr: str) -> AttrSpec | None:
        for etype in rule.match.types:
            spec = self.vocabulary.events.get(etype)
            if spec is not None and attr in spec.attrs:
                return spec.attrs[attr]
        return None

    def unsatisfiable(self, rule: Rule, other: Rule | None = None) -> str | None:
        """Why `rule` (and `other`, on the same event) can never fire, or None."""
        rules = [rule] if other is None else [rule, other]
        if other is not None and not set(rule.match.types) & set(other.match.types):
            return "no event type in common"
        conds: dict[str, list[Condition]] = {}
        for r in rules:
            for cond in r.match.where:
                conds.setdefault(cond.attr, []).append(cond)
        for attr, group in conds.items():
            spec = self.attr_spec(rule, attr)
            if spec is None and other is not None:
                spec = self.attr_spec(other, attr)
            if spec is not None and not satisfiable(group, spec):
                return f"the conditions on {attr} exclude every value"
        subjects = [r.match.subject for r in rules if r.match.subject is not None]
        lows = [s.min_age for s in subjects if s.min_age is not None]
        highs = [s.max_age for s in subjects if s.max_age is not None]
        if lows and highs and max(lows) > min(highs):
            return "the age limits exclude every age"
        for key in ("residence", "hukou"):
            values = {getattr(s, key) for s in subjects} - {None}
            if len(values) > 1:
                return f"{key} must be both {' and '.join(sorted(values))}"
        excluded = {role for s in subjects for role in s.roles_none}
        for s in subjects:
            if s.roles_any and set(s.roles_any) <= excluded:
                return "every role it needs is also excluded"
        starts = [r.effective_from for r in rules if r.effective_from is not None]
        ends = [r.effective_to for r in rules if r.effective_to is not None]
        if starts and ends and max(starts) > min(ends):
            return "their effective dates do not meet"
        return None

    def check_quantity_tiers(self, rule: Rule, effect: QuantityTiersEffect,
                             path: tuple[str | int, ...]) -> None:
        ranges = [t.range for t in effect.tiers]
        spec = self.attr_spec(rule, effect.attr)
        integer = spec is not None and spec.kind == "int" and effect.factor == 1
        bounds = [b for r in ranges for b in (r.min, r.max)]
        finite = [b for b in bounds if b is not None]
        if not finite:
            return
        lo, hi = min(finite), max(finite)
        gaps: list[Region] = []
        for region in regions(bounds):
            x = region.sample
            holders = [k for k, r in enumerate(ranges) if r.contains(x)]
            for a, b in combinations(holders, 2):
                self.add("tier-overlap", "error",
                         f"{rule.id}: tiers {a + 1} and {b + 1} both hold {effect.attr} "
                         f"{region.describe()}", (*path, "tiers", b), rule=rule.id,
                         caused_by_source=quoted([region.lo, region.hi],
                                                 [effect.tiers[a], effect.tiers[b], rule]))
            if not holders and lo <= x <= hi and x >= 0 and (region.has_integer()
                                                             or not integer):
                gaps.append(region)
        for gap in merge(gaps):
            self.add("tier-gap", "warning",
                     f"{rule.id}: no tier holds {effect.attr} {gap.describe()}",
                     (*path, "tiers"), rule=rule.id,
                     caused_by_source=quoted([gap.lo, gap.hi], [*effect.tiers, rule]))

    def check_split_tiers(self) -> None:
        """Rules that split one behaviour by a quantity (years <= 3, years > 3): no hole."""
        groups: dict[tuple[Any, ...], list[tuple[int, Rule, Range]]] = {}
        for i, rule in enumerate(self.scheme.rules):
            numeric = [c for c in rule.match.where if c.op in ("gt", "gte", "lt", "lte", "eq")
                       and isinstance(c.value, Decimal)]
            attrs = {c.attr for c in numeric}
            if len(attrs) != 1:
                continue
            attr = attrs.pop()
            rest = sorted(repr(c) for c in rule.match.where if c.attr != attr)
            key = (tuple(sorted(rule.match.types)), attr, tuple(rest),
                   repr(rule.match.subject))
            groups.setdefault(key, []).append((i, rule, range_of(numeric)))
        for (_, attr, _, _), members in groups.items():
            if len(members) < 2:
                continue
            spec = self.attr_spec(members[0][1], attr)
            integer = spec is not None and spec.kind == "int"
            bounds = [b for _, _, r in members for b in (r.min, r.max)]
            finite = [b for b in bounds if b is not None]
            lo, hi = min(finite), max(finite)
            gaps = [g for g in regions(bounds) if lo <= g.sample <= hi
                    and not any(r.contains(g.sample) for _, _, r in members)
                    and (g.has_integer() or not integer)]
            for gap in merge(gaps):
                near = [rule for _, rule, _ in members]
                self.add("tier-gap", "warning",
                         f"rules {', '.join(r.id for r in near)} split {attr} but none holds "
                         f"{attr} {gap.describe()}", ("rules", members[0][0], "match", "where"),
                         rule=near[0].id, caused_by_source=quoted([gap.lo, gap.hi], near))

    def check_pairs(self) -> None:
        rules = self.scheme.rules
        by_type: dict[str, list[int]] = {}
        for i, rule in enumerate(rules):
            for etype in rule.match.types:
                by_type.setdefault(etype, []).append(i)
        seen: set[tuple[int, int]] = set()
        discussed = [set(x.rules) for x in self.scheme.interpretations]
        for indexes in by_type.values():
            for i, j in combinations(indexes, 2):
                if (i, j) in seen:
                    continue
                seen.add((i, j))
                a, b = rules[i], rules[j]
                if not (_scores(a) and _scores(b)) or self.unsatisfiable(a, b):
                    continue
                if b.same_act_as == a.id or a.same_act_as == b.id:
                    self.add("duplicated-row", "info",
                             f"{b.id} is the same act as {a.id}: scored once",
                             ("rules", j, "same_act_as"), rule=b.id, caused_by_source=True)
                    continue
                if a.cap_group is not None and a.cap_group == b.cap_group:
                    continue
                source = any({a.id, b.id} <= d for d in discussed)
                self.add("double-counting", "warning",
                         f"{a.id} and {b.id} can both fire on one event and their points "
                         "stack (no shared cap group, no same_act_as)", ("rules", j, "match"),
                         rule=b.id, caused_by_source=source)
