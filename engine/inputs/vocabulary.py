"""The behaviour vocabulary: event types, their attributes, subject fields and roles.

One behaviour has one code whichever scheme scores it; that is what lets one history be
replayed through every scheme. `schemes/vocabulary.yaml` contains all of the contract's
`vocabulary-core.yaml` and may add to it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date, datetime
from decimal import Decimal
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from creditlab.engine.errors import VocabularyError
from creditlab.engine.inputs.located import format_path, load_yaml
from creditlab.engine.model import Exact, Model

__all__ = [
    "AttrSpec",
    "AttrValue",
    "EventSpec",
    "Vocabulary",
    "check_attr",
    "domain_of",
    "load_vocabulary",
    "shipped_vocabulary",
]

AttrValue = int | Decimal | bool | str | date
"""The value of an event attribute once checked against its type."""

_ENUM = re.compile(r"^enum\[(?P<values>[^\]]*)\]$")
_SIMPLE = ("int", "number", "bool", "date", "str", "list[role]")

# durable_rules compares numbers as C doubles and int64s: keep them well inside both.
MAX_MAGNITUDE = Decimal(10) ** 15


class AttrSpec(Model):
    """An attribute of an event type (or a subject field): its type and whether it is required.

    A number (`int`, `number`) is a quantity: `min` defaults to 0 (hours, ml, yuan, years
    are never negative) and `max` to none; a vocabulary entry may set either. Every number
    stays below 10^15 in magnitude whatever `max` says.
    """

    type: str
    required: bool = False
    doc: str | None = None
    min: Exact | None = None
    max: Exact | None = None

    @model_validator(mode="after")
    def _range_on_numbers(self) -> AttrSpec:
        if (self.min is not None or self.max is not None) and self.kind not in ("int", "number"):
            raise ValueError(f"min and max apply to int and number attributes, not {self.type}")
        low, high = self.low, self.high
        if low is not None and high is not None and low > high:
            raise ValueError(f"min {low} is above max {high}")
        return self

    @field_validator("type")
    @classmethod
    def _known_type(cls, value: str) -> str:
        if value in _SIMPLE or _ENUM.match(value):
            return value
        raise ValueError(
            f"unknown attribute type {value!r}; use one of int, number, bool, date, str, "
            "enum[a, b, ...]"
        )

    @property
    def kind(self) -> Literal["int", "number", "bool", "date", "str", "enum", "list[role]"]:
        return "enum" if self.type.startswith("enum[") else self.type  # type: ignore[return-value]

    @property
    def low(self) -> Decimal | None:
        """The smallest value allowed (0 for a number attribute that states no `min`)."""
        if self.kind not in ("int", "number"):
            return None
        return Decimal(0) if self.min is None else self.min

    @property
    def high(self) -> Decimal | None:
        """The largest value allowed, when the vocabulary states one."""
        return self.max

    def in_range(self, value: Decimal | int) -> bool:
        """Whether a number lies within this attribute's declared range."""
        low, high = self.low, self.high
        return (low is None or value >= low) and (high is None or value <= high)

    @property
    def values(self) -> tuple[str, ...]:
        """The allowed values of an enum attribute (empty for other types)."""
        m = _ENUM.match(self.type)
        if not m:
            return ()
        return tuple(v.strip() for v in m.group("values").split(",") if v.strip())


class EventSpec(Model):
    """One event type of the vocabulary."""

    doc: str
    attrs: dict[str, AttrSpec] = Field(default_factory=dict)


class Vocabulary(Model):
    """Roles, subject fields and event types that histories and schemes must use."""

    roles: list[str]
    subject: dict[str, AttrSpec]
    events: dict[str, EventSpec]
    file: str = "<vocabulary>"
    sha256: str = ""
    """`sha256:<hex>` of the file's bytes, like `Scheme.sha256` and `History.sha256`."""

    def event(self, code: str) -> EventSpec | None:
        return self.events.get(code)


def domain_of(event_type: str) -> str:
    """The domain of an event type: `traffic` for `traffic.red_light`, `gambling` for `gambling`."""
    return event_type.split(".", 1)[0]


def check_attr(spec: AttrSpec, value: Any, *, in_range: bool = True) -> AttrValue:
    """`value` checked (and normalised) against `spec`; raises ValueError with the reason.

    `in_range=False` skips the attribute's declared range (a scheme's condition may name a
    value outside it: lint warns, the load does not fail).
    """
    kind = spec.kind
    if kind == "bool":
        if isinstance(value, bool):
            return value
        raise ValueError(f"expected true or false, got {_show(value)}")
    if kind in ("int", "number"):
        if isinstance(value, bool) or not isinstance(value, (int, Decimal)):
            raise ValueError(f"expected {'an integer' if kind == 'int' else 'a number'}, "
                             f"got {_show(value)}")
        if kind == "int" and isinstance(value, Decimal):
            if value != value.to_integral_value():
                raise ValueError(f"expected an integer, got {_short(str(value))}")
            value = int(value)
        if abs(value) >= MAX_MAGNITUDE:
            raise ValueError(f"number {_short(str(value))} is out of range (magnitude below 10^15)")
        if in_range and not spec.in_range(value):
            raise ValueError(_range_message(spec, value))
        if isinstance(value, int):
            return value
        exact: Decimal = value
        if exact == exact.to_integral_value():
            return int(exact)
        exponent = exact.normalize().as_tuple().exponent
        if isinstance(exponent, int) and exponent < -6:
            raise ValueError(f"number {_short(str(exact))} has more than 6 decimal places")
        return exact
    if kind == "date":
        if isinstance(value, datetime):
            return value.date()
        if isinstance(value, date):
            return value
        if isinstance(value, str):
            try:
                return date.fromisoformat(value)
            except ValueError:
                pass
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {_show(value)}")
    if kind == "str":
        if isinstance(value, str):
            return value
        raise ValueError(f"expected a string, got {_show(value)}")
    if kind == "enum":
        if isinstance(value, str) and value in spec.values:
            return value
        raise ValueError(f"expected one of {', '.join(spec.values)}; got {_show(value)}")
    raise ValueError(f"attributes of type {spec.type} are not supported on events")


def _range_message(spec: AttrSpec, value: Decimal | int) -> str:
    low, high = spec.low, spec.high
    if low is not None and value < low:
        return f"must be \u2265 {low}, got {_short(str(value))}"
    return f"must be \u2264 {high}, got {_short(str(value))}"


_SHOWN = 40
"""At most this many characters of a bad value are quoted in a message."""


def _short(text: str) -> str:
    return text if len(text) <= _SHOWN else text[:_SHOWN] + "\u2026"


def _show(value: Any) -> str:
    """A bad value as a message quotes it: its type, and at most ~40 characters of it."""
    if isinstance(value, str):
        return _short(repr(value))
    if value is None:
        return "null"
    return f"{_short(repr(value))} ({type(value).__name__})"


def load_vocabulary(path: Path) -> Vocabulary:
    """Read and validate a vocabulary file."""
    located = load_yaml(path, VocabularyError)
    sha256 = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    if not isinstance(located.data, dict):
        raise VocabularyError("a vocabulary is a mapping with roles, subject and events",
                              file=path, line=1)
    try:
        return Vocabulary.model_validate({**located.data, "file": str(path), "sha256": sha256})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = err["loc"]
        raise VocabularyError(err["msg"], file=path, line=located.line_of(loc),
                              field=format_path(loc)) from None


@cache
def shipped_vocabulary() -> Vocabulary:
    """The vocabulary shipped with creditlab (`schemes/vocabulary.yaml`)."""
    ref = resources.files("creditlab.schemes").joinpath("vocabulary.yaml")
    with resources.as_file(ref) as path:
        return load_vocabulary(Path(path).resolve())
