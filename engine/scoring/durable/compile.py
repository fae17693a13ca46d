"""A loaded scheme compiled into a durable_rules ruleset definition, built from its data.

Conditions are nested domain → type → the rest (durable_rules hangs on more than 512
sibling conditions on one node); no ruleset is written by hand.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

from creditlab.engine.inputs.scheme import Condition, Scheme
from creditlab.engine.inputs.vocabulary import domain_of

__all__ = ["CompiledScheme", "compile_scheme", "day_number", "fact_value"]


@dataclass(frozen=True)
class CompiledScheme:
    """A scheme with its durable_rules ruleset definition and the fact fields it reads."""

    scheme: Scheme
    definition: dict[str, Any]
    attrs: tuple[str, ...]
    roles: tuple[str, ...]
    reads_residence: bool
    reads_hukou: bool
    reads_age: bool

    @property
    def ruleset_name(self) -> str:
        """The scheme's id and a hash of the ruleset itself: two schemes share a ruleset
        only when their rules compile to the same one (a scheme built in memory has no
        file hash to go by)."""
        text = json.dumps(self.definition, sort_keys=True, default=str)
        return f"{self.scheme.id}-{hashlib.sha256(text.encode()).hexdigest()[:16]}"


def compile_scheme(scheme: Scheme) -> CompiledScheme:
    """The durable_rules ruleset of a (loaded, resolved) scheme: one rule per scheme rule.

    The action of each rule is filled in by the matcher; here it is the rule's index.
    """
    definition: dict[str, Any] = {}
    attrs: set[str] = set()
    roles: set[str] = set()
    flags = {"residence": False, "hukou": False, "age": False}
    for index, rule in enumerate(scheme.rules):
        paths = [{"$and": [{"domain": domain_of(t)}, {"type": t}]} for t in rule.match.types]
        conds: list[Any] = [paths[0]["$and"][0], paths[0]["$and"][1]] if len(paths) == 1 \
            else [{"$or": paths}]
        for cond in rule.match.where:
            attrs.add(cond.attr)
            conds.append(_condition(cond))
        subj = rule.match.subject
        if subj is not None:
            if subj.roles_any:
                roles.update(subj.roles_any)
                conds.append({"$or": [{f"role_{r}": True} for r in subj.roles_any]}
                             if len(subj.roles_any) > 1 else {f"role_{subj.roles_any[0]}": True})
            for role in subj.roles_none:
                roles.add(role)
                conds.append({f"role_{role}": False})
            if subj.residence is not None:
                flags["residence"] = True
                conds.append({"s_residence": subj.residence})
            if subj.hukou is not None:
                flags["hukou"] = True
                conds.append({"s_hukou": subj.hukou})
            if subj.min_age is not None:
                flags["age"] = True
                conds.append({"$gte": {"s_age": subj.min_age}})
            if subj.max_age is not None:
                flags["age"] = True
                conds.append({"$lte": {"s_age": subj.max_age}})
        if rule.effective_from is not None:
            conds.append({"$gte": {"day": day_number(rule.effective_from)}})
        if rule.effective_to is not None:
            conds.append({"$lte": {"day": day_number(rule.effective_to)}})
        definition[rule.id] = {"all": [{"m": {"$and": conds}}], "run": index}
    return CompiledScheme(scheme, definition, tuple(sorted(attrs)), tuple(sorted(roles)),
                          flags["residence"], flags["hukou"], flags["age"])


def day_number(day: date) -> int:
    """A date as the integer YYYYMMDD: durable_rules compares numbers, not dates."""
    return day.year * 10000 + day.month * 100 + day.day


def fact_value(value: Any) -> Any:
    """An attribute value as durable_rules compares it (dates as YYYYMMDD numbers)."""
    if isinstance(value, date):
        return day_number(value)
    if isinstance(value, Decimal):
        # durable_rules compares numbers as doubles on both sides; values are bounded
        # (at most 6 decimal places, below 10^15) so the conversion keeps their order.
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _condition(cond: Condition) -> dict[str, Any]:
    field = f"a_{cond.attr}"
    if cond.op == "in":
        assert isinstance(cond.value, list)
        return {"$or": [{field: v} for v in cond.value]}
    value = fact_value(cond.value)
    if cond.op == "eq":
        return {field: value}
    operator = "$neq" if cond.op == "ne" else f"${cond.op}"
    return {operator: {field: value}}
