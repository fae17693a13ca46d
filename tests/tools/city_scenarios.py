"""Write one scenario test per city-scoring scheme: every rule, fully attained, once.

    .venv/bin/python tests/tools/city_scenarios.py

For each rule of the NDRC model-city editions and the CEIN index, one city (its own
subject, so no cap group mixes two rules' events) reports one indicator event that meets
the rule's conditions and attains it fully: a share of 1, or a measured value that reaches
the rule's printed maximum, or its top tier. The expected `points` of every rule the event
fires (found with `conditions.fired`, the statement of the matching semantics) are worked
out here from the rule's own numbers (the quoted maximum, tier or points), independently of
either backend's reducer. The files are data: rerun this only when a city scheme changes,
and review the diff.
"""

from __future__ import annotations

import math
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from creditlab.engine import shipped_scheme, shipped_vocabulary
from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.inputs.scheme import (
    FormulaEffect,
    PointsEffect,
    QuantityTiersEffect,
    Rule,
    Scheme,
    TiersEffect,
    UnquantifiedEffect,
)
from creditlab.engine.scoring.conditions import fired

ROOT = Path(__file__).resolve().parents[2]
SCHEMES = ("ndrc_model_city_2016", "ndrc_model_city_2017", "ndrc_model_city_2019",
           "ndrc_model_city_2021", "cein_city_credit_index_2019")
DAY = date(2021, 6, 30)


def _plain(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _formula_points(effect: FormulaEffect, value: Decimal) -> Decimal:
    """The scheme format's formula, written out again: q = value x factor; below the
    threshold nothing; else base points plus per_points for each whole `per` of q above
    base_quantity, at most max_points in absolute value."""
    q = value * effect.factor
    if q < effect.threshold:
        return Decimal(0)
    points = effect.base_points
    if effect.per is not None and q > effect.base_quantity:
        points += math.floor((q - effect.base_quantity) / effect.per) * effect.per_points
    if effect.max_points is not None and abs(points) > abs(effect.max_points):
        points = effect.max_points.copy_sign(points)
    return points


def _attaining(rule: Rule, attrs: dict[str, Any], top: Decimal | None) -> dict[str, Any]:
    """The attribute values that attain the rule fully (within the attribute's range)."""
    effect = rule.effects[0]
    out = dict(attrs)
    if isinstance(effect, FormulaEffect):
        target = abs(effect.max_points) if effect.max_points is not None else None
        if target is None or effect.per is None or effect.per_points == 0:
            value = effect.threshold / effect.factor if effect.factor else Decimal(1)
            value = max(value, Decimal(1))
        else:
            steps = math.ceil((target - abs(effect.base_points)) / abs(effect.per_points))
            value = (effect.base_quantity + steps * effect.per) / effect.factor
        if top is not None:
            value = min(value, top)
        out[effect.attr] = value
    elif isinstance(effect, QuantityTiersEffect):
        best = max(effect.tiers, key=lambda t: t.points)
        low = best.range.min if best.range.min is not None else Decimal(0)
        out[effect.attr] = (low if best.range.min_inclusive else low + 1) / effect.factor
    elif isinstance(effect, TiersEffect):
        out[effect.attr] = effect.tiers[0].value
    return out


def _expected(rule: Rule, attrs: dict[str, Any]) -> int | float | None:
    total: Decimal | None = None
    for effect in rule.effects:
        if isinstance(effect, UnquantifiedEffect):
            continue
        if getattr(effect, "attr", None) is not None and effect.attr not in attrs:  # type: ignore[union-attr]
            continue  # the event lacks the attribute: no points (∅)
        if isinstance(effect, PointsEffect):
            points = effect.points
        elif isinstance(effect, FormulaEffect):
            points = _formula_points(effect, Decimal(str(attrs[effect.attr])))
        elif isinstance(effect, QuantityTiersEffect):
            q = Decimal(str(attrs[effect.attr])) * effect.factor
            points = next(t.points for t in effect.tiers if t.range.contains(q))
        elif isinstance(effect, TiersEffect):
            points = next(t.points for t in effect.tiers if t.value == attrs[effect.attr])
        else:
            raise ValueError(f"{rule.id}: effect {effect.kind} not handled")
        total = points if total is None else total + points
    return None if total is None else _plain(total)


def _conditions(rule: Rule) -> dict[str, Any]:
    attrs: dict[str, Any] = {}
    for cond in rule.match.where:
        if cond.op in ("eq", "gte", "lte"):
            attrs[cond.attr] = cond.value
        elif cond.op == "in":
            attrs[cond.attr] = cond.value[0]  # type: ignore[index]
        elif cond.op == "gt":
            attrs[cond.attr] = cond.value + 1  # type: ignore[operator]
        elif cond.op == "lt":
            attrs[cond.attr] = cond.value - 1  # type: ignore[operator]
        else:
            raise ValueError(f"{rule.id}: condition {cond.op} not handled")
    return attrs


def scenario(scheme: Scheme) -> dict[str, Any]:
    vocabulary = shipped_vocabulary()
    subjects, events, ledger = [], [], []
    for n, rule in enumerate(scheme.rules, start=1):
        (etype,) = rule.match.types
        spec = vocabulary.events[etype]
        roles = sorted(rule.match.subject.roles_any) if rule.match.subject else []
        attrs = _conditions(rule)
        effect = rule.effects[0]
        attr = getattr(effect, "attr", None)
        top = spec.attrs[attr].max if attr in spec.attrs else None
        attrs = _attaining(rule, attrs, top)
        for name, attr_spec in spec.attrs.items():  # a required attribute no rule reads
            if attr_spec.required and name not in attrs:
                attrs[name] = attr_spec.values[0] if attr_spec.kind == "enum" else Decimal(1)
        for name, value in list(attrs.items()):
            if isinstance(value, Decimal):
                attrs[name] = _plain(value)
        sid, eid = f"city{n:03d}", f"e{n:03d}"
        subjects.append({"id": sid, "kind": "city", **({"roles": roles} if roles else {})})
        events.append({"id": eid, "subject": sid, "at": DAY, "type": etype, **attrs})
        event = Event(id=eid, subject=sid, at=datetime(DAY.year, DAY.month, DAY.day),
                      type=etype,
                      attrs={k: (Decimal(str(v)) if isinstance(v, (int, float)) else v)
                             for k, v in attrs.items()})
        subject = Subject(id=sid, kind="city", roles=tuple(roles))
        hits = fired(scheme, event, subject)
        assert rule.id in [scheme.rules[i].id for i in hits], f"{rule.id} does not fire"
        for i in hits:
            other = scheme.rules[i]
            ledger.append({"event": eid, "rule": other.id,
                           "points": _expected(other, attrs)})
    return {
        "name": f"Every {scheme.id} criterion, fully attained by a city of its own",
        "scheme": scheme.id,
        "covers": [r.id for r in scheme.rules],
        "quote": scheme.sources[0].quote,
        "note": ("Written by tests/tools/city_scenarios.py: each city reports one indicator "
                 "that attains one criterion fully; the expected points are the rule's own "
                 "printed maximum, tier or points, worked out without the engine."),
        "subjects": subjects,
        "events": events,
        "expect": {"ledger": ledger},
    }


def main() -> None:
    for sid in SCHEMES:
        scheme = shipped_scheme(sid)
        folder = ROOT / "tests" / "scenarios" / sid
        folder.mkdir(parents=True, exist_ok=True)
        text = yaml.safe_dump(scenario(scheme), sort_keys=False, allow_unicode=True,
                              width=100)
        (folder / "every_criterion_attained.yaml").write_text(text, encoding="utf-8")
        print(f"{sid}: {len(scheme.rules)} rules")


if __name__ == "__main__":
    main()
