"""When a rule fires for an event of a subject: the matcher's semantics, in plain Python.

This is the statement of the semantics that the readers of a scheme use: lint's
satisfiability checks and the history generator's targeting (`checks/intervals.py`,
`checks/generate.py`) and asymmetry's "applies" (`analysis/asymmetry.py`). durable_rules
(`scoring/durable`) is the reference backend that replays use; a property test
(`tests/test_conditions.py`) holds `fired` equal to it for every shipped scheme and for
generated schemes that use every operator.

A rule fires for an event when all of these hold:

- the event's type is one of the rule's types;
- every attribute condition holds (`condition_holds`): an attribute the event lacks meets
  no condition, not even `ne` (durable_rules matches no test on a missing field);
  numbers compare as durable_rules compares them, as binary64 doubles: exact for every
  value with at most 15 significant digits, so `1` equals `1.0`, but two values that
  differ beyond the 15th digit (100000000000 and 100000000000.000001) are equal there;
  dates compare as days; strings and booleans by equality (a boolean is a number to
  durable_rules and to Python: `true` equals `1`);
- the subject condition holds on the event's day (`subject_holds`): a subject field that
  is not known (no residence, no hukou, no birth date) meets no condition on it, so an
  unknown birth date meets neither `min_age` nor `max_age`;
- the event's day is within the rule's `effective_from` and `effective_to`, both
  inclusive (`in_force`).

Before any rule, a scheme scores only the subjects it applies to (`scored_on`): those of
its subject kind and, where it states an `eligibility`, of its minimum age on the day
(met on the birthday, as `min_age` is; a subject with no birth date is scored or not as
the scheme's `age_unknown` says). Other subjects' events are not applicable to it.

Values of a kind the attribute does not have (a string compared with a number) cannot
reach the matcher: the loader checks a condition's constant against the attribute's type
and the history reader checks the event's value. For them, ordering comparisons do not
hold; durable_rules' answers for them are not part of the semantics.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from decimal import Decimal
from typing import Any

from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.inputs.scheme import Condition, Rule, Scheme, SubjectCondition

__all__ = ["condition_holds", "fired", "in_force", "rule_fires", "scored_on", "subject_holds"]

_ORDER: dict[str, Callable[[Any, Any], bool]] = {
    "gt": lambda a, b: a > b,
    "gte": lambda a, b: a >= b,
    "lt": lambda a, b: a < b,
    "lte": lambda a, b: a <= b,
}


def condition_holds(cond: Condition, value: Any) -> bool:
    """Whether an event's attribute value meets a rule's condition; `None`: the event
    lacks the attribute, which meets no condition."""
    if value is None:
        return False
    if cond.op == "in":
        assert isinstance(cond.value, list)
        return _comparable(value) in cond.value
    actual, target = _comparable(value), _comparable(cond.value)
    if cond.op == "eq":
        return bool(actual == target)
    if cond.op == "ne":
        return bool(actual != target)
    if _kind(actual) != _kind(target) or _kind(actual) == "other":
        return False
    return _ORDER[cond.op](actual, target)


def subject_holds(condition: SubjectCondition | None, subject: Subject, day: date) -> bool:
    """Whether a rule's subject condition holds for `subject` on `day` (no condition: yes).

    An unknown subject field (no residence, no hukou, no birth date) never satisfies a
    condition on it; age is in whole years on `day` (`min_age` is met on the birthday).
    """
    if condition is None:
        return True
    if condition.roles_any and not set(condition.roles_any) & set(subject.roles):
        return False
    if set(condition.roles_none) & set(subject.roles):
        return False
    if condition.residence is not None and subject.residence != condition.residence:
        return False
    if condition.hukou is not None and subject.hukou != condition.hukou:
        return False
    if condition.min_age is None and condition.max_age is None:
        return True
    age = subject.age_on(day)
    if age is None:
        return False
    if condition.min_age is not None and age < condition.min_age:
        return False
    return condition.max_age is None or age <= condition.max_age


def scored_on(scheme: Scheme, subject: Subject, day: date) -> bool:
    """Whether `scheme` scores `subject` on `day`: its subject kind, and its eligibility."""
    if subject.kind != scheme.subject_kind:
        return False
    rule = scheme.eligibility
    if rule is None:
        return True
    age = subject.age_on(day)
    if age is None:
        return rule.age_unknown == "scored"
    return age >= rule.min_age


def in_force(rule: Rule, day: date) -> bool:
    """Whether `rule` is in force on `day`: its effective dates are both inclusive."""
    if rule.effective_from is not None and day < rule.effective_from:
        return False
    return rule.effective_to is None or day <= rule.effective_to


def rule_fires(rule: Rule, event: Event, subject: Subject) -> bool:
    """Whether `rule` fires for `event`, which happened to `subject`."""
    day = event.day
    return (event.type in rule.match.types
            and all(condition_holds(c, event.attrs.get(c.attr)) for c in rule.match.where)
            and subject_holds(rule.match.subject, subject, day)
            and in_force(rule, day))


def fired(scheme: Scheme, event: Event, subject: Subject) -> list[int]:
    """Indexes (declared order) of the rules of `scheme` that fire for `event`, sorted:
    what `Matcher.fired` answers."""
    return [i for i, rule in enumerate(scheme.rules) if rule_fires(rule, event, subject)]


def _comparable(value: Any) -> Any:
    """A value as durable_rules compares it: a number as an int when integral, else as a
    double (dates and strings are left as they are; dates compare as days)."""
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _kind(value: Any) -> str:
    if isinstance(value, (int, float)):  # bool included: durable_rules reads true as 1
        return "number"
    if isinstance(value, date):
        return "date"
    return "other"
