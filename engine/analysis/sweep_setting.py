"""A sweep's setting: one thing a scheme states and the run of values to try.

`RULE.FIELD=START:STOP:STEP` (STOP included when a step lands on it; a negative step counts
down) or `RULE.FIELD=v1,v2,v3`. Values are exact (Decimal; never floats), words are kept as
given, and there are at most `MAX_VALUES`, so that a typo in a step cannot start ten
thousand replays. A malformed setting is an `InputError` naming the target.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

from creditlab.engine.errors import InputError

__all__ = [
    "MAX_VALUES",
    "Setting",
    "Value",
    "given_value",
    "parse_setting",
    "value_text",
]


MAX_VALUES = 200
"""The most values one sweep tries: each is a full replay of the history."""


Value = Decimal | bool | str
"""A value a setting tries: a number (exact), true/false, or a word (a band label)."""


@dataclass(frozen=True)
class Setting:
    """What a sweep moves (`target`, as `set_value` reads it) and the values it tries."""

    target: str
    values: tuple[Value, ...]
    text: str
    """The setting as given (`sn_p_red_light.points=-50:-10:10`)."""


def _refuse(reason: str, target: str | None) -> InputError:
    return InputError(reason, field=target or "--set")


def _number(text: str, target: str) -> Decimal:
    try:
        value = Decimal(text.strip())
    except InvalidOperation:
        raise _refuse(f"{text.strip()!r} is not a number", target) from None
    if not value.is_finite():
        raise _refuse(f"{text.strip()!r} is not a finite number", target)
    return value


def _range(text: str, target: str, limit: int) -> tuple[Decimal, ...]:
    parts = text.split(":")
    if len(parts) != 3 or not all(p.strip() for p in parts):
        raise _refuse(f"a range is START:STOP:STEP, not {text!r}", target)
    start, stop, step = (_number(p, target) for p in parts)
    if step == 0:
        raise _refuse(f"the step of {text!r} is 0", target)
    if (stop - start) * step < 0:
        raise _refuse(f"a step of {step} never goes from {start} to {stop} "
                      f"(use {-step} as the step)", target)
    try:
        count: int | None = int((stop - start) // step) + 1
    except InvalidOperation:  # more steps than a Decimal holds digits
        count = None
    if count is None or count > limit:
        many = f"{count}" if count is not None else "too many"
        raise _refuse(f"{text!r} gives {many} values; a sweep tries at most {limit} "
                      "(take a larger step)", target)
    return tuple(start + i * step for i in range(count))


def _word(text: str, target: str) -> Value:
    word = text.strip()
    if not word:
        raise _refuse("an empty value in the list", target)
    if word in ("true", "false"):
        return word == "true"
    try:
        return _number(word, target)
    except InputError:
        return word


def parse_setting(text: str, *, limit: int = MAX_VALUES) -> Setting:
    """`TARGET=START:STOP:STEP` or `TARGET=v1,v2,...` as a `Setting`.

    A range includes STOP when a step lands on it (`-50:-10:10`: -50, -40, -30, -20, -10);
    it counts down with a negative step. Bad text, a step that never reaches STOP, a value
    given twice or more than `limit` values: `InputError` with `field` the target.
    """
    target, equals, values = text.partition("=")
    target = target.strip()
    if not equals or not target:
        raise _refuse(f"a setting is RULE.FIELD=START:STOP:STEP or RULE.FIELD=v1,v2,..., "
                      f"not {text!r}", None)
    if not values.strip():
        raise _refuse("no values after '='", target)
    if ":" in values:
        chosen: tuple[Value, ...] = _range(values, target, limit)
    else:
        chosen = tuple(_word(v, target) for v in values.split(","))
        if len(chosen) > limit:
            raise _refuse(f"{len(chosen)} values; a sweep tries at most {limit}", target)
    seen: set[tuple[type, Value]] = set()
    for value in chosen:
        key = (type(value), value)
        if key in seen:
            raise _refuse(f"the value {value_text(value)} is given twice", target)
        seen.add(key)
    return Setting(target, chosen, f"{target}={values.strip()}")


def value_text(value: Value | None) -> str:
    if value is None:
        return "as written"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


def given_value(value: Value) -> object:
    """The value as `set_value` takes it: integral numbers as int (an int field is strict)."""
    if isinstance(value, Decimal) and value == value.to_integral_value():
        return int(value)
    return value
