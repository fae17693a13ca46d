"""Static checks of a scheme file: findings with severity, rule, file, line and why.

A scheme can load (valid, every reference resolved) and still be inconsistent: bands that
overlap or leave gaps, a band no score can reach, two rules that score one act twice, a
tier table with a hole at exactly 400 ml. `lint_file` reports each as a `Finding`.

Some of these come from the sources themselves (Wuhu prints 700-850 and 350-700; Fuzhou
prints 500-599 and 600-750). A finding whose numbers are all in the quotes of the things
involved, or whose rules an `interpretations` entry discusses, is marked
`caused_by_source` and reported one step milder (error -> warning -> info), never hidden.

A file that fails to load is one error finding at the location `load_scheme` gives.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from decimal import Decimal
from itertools import combinations
from pathlib import Path
from typing import Any, Literal

from creditlab.engine.checks.intervals import (
    Region,
    merge,
    number,
    range_of,
    regions,
    satisfiable,
    span,
)
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.located import Located, format_path, load_yaml
from creditlab.engine.inputs.scheme import (
    Cited,
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
from creditlab.engine.inputs.vocabulary import AttrSpec, Vocabulary, shipped_vocabulary
from creditlab.engine.model import Model

__all__ = ["WHY", "Finding", "Severity", "has_errors", "lint_file", "lint_scheme"]

Severity = Literal["error", "warning", "info"]

WHY: dict[str, str] = {
    "invalid-scheme": "The file does not load, so no replay can use it.",
    "rule-without-source": "Every rule must cite its source, so that a reader can check the "
                           "number against the words it comes from.",
    "rule-without-fidelity": "Without fidelity a reader cannot tell a documented number from "
                             "an assumption.",
    "fidelity-without-note": "An interpreted or assumed rule must say which reading was taken, "
                             "or what was assumed.",
    "unknown-event-type": "A rule on an event type the vocabulary lacks never fires.",
    "unknown-attribute": "A condition or tier on an attribute the event type lacks never holds.",
    "unknown-role": "A rule for a role the vocabulary lacks never fires.",
    "unknown-cap-group": "A cap that does not exist limits nothing.",
    "unknown-band": "A reclassification to a grade the scheme lacks cannot be shown.",
    "never-in-force": "A rule whose effective dates exclude every day never fires.",
    "band-overlap": "A score in two bands gets whichever is listed first: the grade depends on "
                    "the file's order, not on the source.",
    "band-gap": "A score in no band gets no grade at all.",
    "band-order": "Bands are listed best first; worse_of reclassification and the grade of a "
                  "score rely on that order.",
    "band-unreachable": "A band no score can reach is dead text, or a sign of a wrong bound.",
    "band-without-range": "The source gives no thresholds for this band: only a "
                          "reclassification could show it.",
    "points-outside-scale": "Points or scores outside the scale's span cannot be applied as "
                            "the source states them.",
    "direction-mismatch": "A reward that lowers the score (or a penalty that raises it) "
                          "contradicts the rule's declared direction.",
    "unsatisfiable-rule": "A rule whose conditions contradict each other never fires.",
    "double-counting": "Two rules that fire on the same event and stack count one act twice "
                       "unless a shared cap or same_act_as says otherwise.",
    "duplicated-row": "The source lists the act twice; same_act_as makes it score once.",
    "tier-overlap": "A quantity in two tiers gets whichever is listed first.",
    "tier-gap": "A quantity in no tier earns nothing although the source scores the behaviour.",
    "unused-cap-group": "A cap group no rule refers to limits nothing.",
}

_LOAD_CODES = [
    (re.compile(r"unknown event type"), "unknown-event-type"),
    (re.compile(r"has no attribute|is not a value of|value does not fit"), "unknown-attribute"),
    (re.compile(r"unknown role"), "unknown-role"),
    (re.compile(r"unknown cap group"), "unknown-cap-group"),
    (re.compile(r"unknown grade"), "unknown-band"),
    (re.compile(r"missing required key 'source'"), "rule-without-source"),
    (re.compile(r"missing required key 'fidelity'"), "rule-without-fidelity"),
    (re.compile(r"needs a 'note'"), "fidelity-without-note"),
    (re.compile(r"effective_from is after effective_to"), "never-in-force"),
]

_SCORING = (PointsEffect, TiersEffect, QuantityTiersEffect, FormulaEffect, CountTiersEffect,
            SetScoreEffect)


class Finding(Model):
    """One thing lint found: where it is, what it is, and why it matters."""

    severity: Severity
    code: str
    scheme: str | None
    rule: str | None
    file: str
    line: int | None
    field: str | None
    message: str
    why: str
    caused_by_source: bool

    @property
    def location(self) -> str:
        return self.file + (f":{self.line}" if self.line is not None else "")


def has_errors(findings: Iterable[Finding]) -> bool:
    return any(f.severity == "error" for f in findings)


def lint_file(path: str | Path, vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding for one scheme file; a file that fails to load is one error."""
    voc = vocabulary or shipped_vocabulary()
    path = Path(path)
    try:
        scheme = load_scheme(path, voc)
    except SchemeError as exc:
        return [_load_finding(exc, path)]
    return lint_scheme(scheme, load_yaml(path, SchemeError), voc)


def _load_finding(exc: SchemeError, path: Path) -> Finding:
    code = next((c for pattern, c in _LOAD_CODES if pattern.search(exc.reason)),
                "invalid-scheme")
    rule = None
    match = re.match(r"rules\[(\d+)\]", exc.field or "")
    if match:
        try:
            raw = load_yaml(path, SchemeError).data["rules"][int(match.group(1))]
            rule = str(raw.get("id")) if isinstance(raw, dict) and raw.get("id") else None
        except (SchemeError, LookupError, TypeError):
            rule = None
    return Finding(severity="error", code=code, scheme=None, rule=rule,
                   file=exc.file or str(path), line=exc.line, field=exc.field,
                   message=exc.reason, why=WHY[code], caused_by_source=False)


def lint_scheme(scheme: Scheme, located: Located | None = None,
                vocabulary: Vocabulary | None = None) -> list[Finding]:
    """Every finding for a loaded scheme; `located` (the file re-read) gives line numbers."""
    checker = _Checker(scheme, located or Located(None, scheme.file, {}),
                       vocabulary or shipped_vocabulary())
    checker.run()
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(checker.findings, key=lambda f: (order[f.severity], f.line or 0, f.code))


def _quoted(numbers: Iterable[Decimal | None], items: Iterable[Any]) -> bool:
    """Whether every number appears in the quotes of `items` (the source printed them)."""
    text = ""
    for item in items:
        sources = item.sources if isinstance(item, Cited) else [getattr(item, "source", None)]
        text += " ".join(s.quote for s in sources if s is not None) + " "
    text = re.sub(r"(?<=\d)[,，](?=\d{3})", "", text)
    wanted = [n for n in numbers if n is not None]
    return bool(wanted) and all(
        re.search(r"(?<![\d.])" + re.escape(number(n)) + r"(?![\d])", text) for n in wanted)


# --- the checks --------------------------------------------------------------------------


class _Checker:
    def __init__(self, scheme: Scheme, located: Located, vocabulary: Vocabulary) -> None:
        self.scheme = scheme
        self.located = located
        self.vocabulary = vocabulary
        self.findings: list[Finding] = []

    def add(self, code: str, severity: Severity, message: str, path: Sequence[str | int],
            *, rule: str | None = None, caused_by_source: bool = False) -> None:
        if caused_by_source:
            severity = "warning" if severity == "error" else "info"
        self.findings.append(Finding(
            severity=severity, code=code, scheme=self.scheme.id, rule=rule,
            file=self.located.file, line=self.located.line_of(path),
            field=format_path(path) or None, message=message, why=WHY[code],
            caused_by_source=caused_by_source))

    def run(self) -> None:
        self.check_scale()
        self.check_bands()
        for i, rule in enumerate(self.scheme.rules):
            self.check_rule(i, rule)
        self.check_pairs()
        self.check_split_tiers()
        used = {r.cap_group for r in self.scheme.rules}
        for i, group in enumerate(self.scheme.cap_groups):
            if group.id not in used:
                self.add("unused-cap-group", "warning",
                         f"cap group {group.id!r} is used by no rule", ("cap_groups", i, "id"))

    # -- scale and bands

    def integral_scores(self) -> bool:
        """Whether every score the scheme can produce is a whole number."""
        values: list[Decimal] = [self.scheme.scale.start]
        for rule in self.scheme.rules:
            values += [v for _, v in _point_values(rule)]
            if rule.cap is not None:
                values.append(rule.cap.points)
        values += [g.cap.points for g in self.scheme.cap_groups]
        if self.scheme.scale.clamp:
            values += [v for v in (self.scheme.scale.min, self.scheme.scale.max) if v is not None]
        return all(v == v.to_integral_value() for v in values)

    def reachable(self, region: Region) -> bool:
        scale = self.scheme.scale
        if not scale.clamp:
            return True
        assert scale.min is not None and scale.max is not None
        return scale.min <= region.sample <= scale.max

    def check_scale(self) -> None:
        scale = self.scheme.scale
        lo, hi = scale.min, scale.max
        if lo is None or hi is None:
            return
        if not lo <= scale.start <= hi:
            self.add("points-outside-scale", "error",
                     f"the start {number(scale.start)} is outside the scale "
                     f"{number(lo)}-{number(hi)}",
                     ("scale", "start"))
        for i, rule in enumerate(self.scheme.rules):
            for j, effect in enumerate(rule.effects):
                if isinstance(effect, SetScoreEffect) and not lo <= effect.score <= hi:
                    self.add("points-outside-scale", "error",
                             f"{rule.id} sets the score to {number(effect.score)}, outside the "
                             f"scale {number(lo)}-{number(hi)}", ("rules", i, "effects", j),
                             rule=rule.id)
            for path, value in _point_values(rule):
                if abs(value) > hi - lo and path[-1] != "score":
                    self.add("points-outside-scale", "warning",
                             f"{rule.id} gives {number(value)} points, more than the scale's "
                             f"whole span ({number(hi - lo)})", ("rules", i, *path), rule=rule.id)

    def check_bands(self) -> None:
        s = self.scheme
        ranged = [(i, b) for i, b in enumerate(s.bands) if b.range is not None]
        targets = {e.grade for r in s.rules for e in r.effects if e.kind == "reclassify"}
        for i, band in enumerate(s.bands):
            if band.range is None and band.label not in targets:
                self.add("band-without-range", "info",
                         f"band {band.label!r} has no range and no rule reclassifies to it: no "
                         "subject can be shown in it", ("bands", i, "range"),
                         caused_by_source=band.fidelity == "documented")
        if not ranged:
            return
        for (_, a), (j, b) in combinations(ranged, 2):
            assert a.range is not None and b.range is not None
            if _above(b.range, a.range):
                self.add("band-order", "error",
                         f"band {b.label!r} (listed after {a.label!r}) lies above it: bands are "
                         "listed best first", ("bands", j, "range"))
        bounds: list[Decimal | None] = [s.scale.min, s.scale.max]
        for _, band in ranged:
            assert band.range is not None
            bounds += [band.range.min, band.range.max]
        cut = regions(bounds)
        finite = [b for b in bounds if b is not None]
        lo, hi = min(finite), max(finite)
        whole = self.integral_scores()
        overlaps: dict[tuple[int, int], list[Region]] = {}
        gaps: list[Region] = []
        won: dict[int, list[Region]] = {i: [] for i, _ in ranged}
        for region in cut:
            x = region.sample
            holders = [i for i, b in ranged if b.range is not None and b.range.contains(x)]
            if holders:
                won[holders[0]].append(region)
            for pair in combinations(holders, 2) if self.reachable(region) else ():
                overlaps.setdefault(pair, []).append(region)
            if not holders and lo <= x <= hi and self.reachable(region):
                gaps.append(region)
        for (i, j), where in overlaps.items():
            a, b = s.bands[i], s.bands[j]
            spans = [span([r]) for r in merge(where)]
            numbers = [r.lo for r in where] + [r.hi for r in where]
            self.add("band-overlap", "error",
                     f"bands {a.label!r} and {b.label!r} overlap {', '.join(spans)}; "
                     f"{a.label!r} (listed first) takes those scores", ("bands", j, "range"),
                     caused_by_source=_quoted(numbers, [a, b]))
        for gap in merge(gaps):
            fractional = not gap.has_integer()
            near = [b for _, b in ranged if b.range is not None and (
                b.range.min in (gap.lo, gap.hi) or b.range.max in (gap.lo, gap.hi))]
            index = next((i for i, b in ranged if b in near), ranged[0][0])
            extra = ("; only fractional scores fall there and every rule gives whole points, "
                     "so no score does" if fractional and whole else "")
            self.add("band-gap", "info" if fractional and whole else "warning",
                     f"no band holds scores {gap.describe()}{extra}", ("bands", index, "range"),
                     caused_by_source=_quoted([gap.lo, gap.hi], near))
        for i, band in ranged:
            reach = [r for r in won[i] if self.reachable(r) and (r.has_integer() or not whole)]
            if not reach:
                why = ("every score in it belongs to a band listed earlier" if won[i] == [] else
                       "no score the scheme can produce falls in it")
                assert band.range is not None
                self.add("band-unreachable", "warning", f"band {band.label!r}: {why}",
                         ("bands", i, "range"),
                         caused_by_source=_quoted([band.range.min, band.range.max], [band]))

    # -- rules

    def check_rule(self, i: int, rule: Rule) -> None:
        here: tuple[str | int, ...] = ("rules", i)
        sign = 1 if rule.direction == "reward" else -1
        for path, value in _point_values(rule):
            if path[-1] != "score" and value * sign < 0:
                self.add("direction-mismatch", "error",
                         f"{rule.id} is a {rule.direction} but gives {number(value)} points",
                         (*here, *path), rule=rule.id)
        reason = self.unsatisfiable(rule)
        if reason:
            self.add("unsatisfiable-rule", "error", f"{rule.id} can never fire: {reason}",
                     (*here, "match"), rule=rule.id)
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
                         caused_by_source=_quoted([region.lo, region.hi],
                                                  [effect.tiers[a], effect.tiers[b], rule]))
            if not holders and lo <= x <= hi and x >= 0 and (region.has_integer()
                                                             or not integer):
                gaps.append(region)
        for gap in merge(gaps):
            self.add("tier-gap", "warning",
                     f"{rule.id}: no tier holds {effect.attr} {gap.describe()}",
                     (*path, "tiers"), rule=rule.id,
                     caused_by_source=_quoted([gap.lo, gap.hi], [*effect.tiers, rule]))

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
                         rule=near[0].id, caused_by_source=_quoted([gap.lo, gap.hi], near))

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


# --- helpers -----------------------------------------------------------------------------


def _above(later: Range, earlier: Range) -> bool:
    """Whether a band listed later lies entirely above one listed earlier."""
    if later.min is None or earlier.max is None:
        return False
    return later.min > earlier.max or (later.min == earlier.max and not (
        later.min_inclusive and earlier.max_inclusive))


def _scores(rule: Rule) -> bool:
    return any(isinstance(e, _SCORING) for e in rule.effects)


def _point_values(rule: Rule) -> list[tuple[tuple[str | int, ...], Decimal]]:
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
        elif isinstance(effect, FormulaEffect):
            for name in ("base_points", "per_points", "max_points"):
                value = getattr(effect, name)
                if value:
                    out.append(((*here, name), value))
    return out
