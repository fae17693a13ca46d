"""The city model file: who lives in a synthetic city and how often they do what.

A city model gives a start date, groups of people (each a share of the population, with
a residence, a hukou, an age band and roles) and behaviours (an event type of the
vocabulary, its yearly rate per person as a Poisson mean, by default and per group, and
how each attribute is drawn). Every number is a `Figure`: its value, its `fidelity` and
either a `note` (`assumed`: nobody measured it, and the note says so) or a `source` citing
a seed document's exact words. A model is as honest as its figures: a synthetic city
shows how schemes treat a plausible population, not how any real city behaves.

Errors are `InputError`s naming the file, the line and the field; an unknown event type,
role, attribute, enum value or group gets "did you mean".
"""

from __future__ import annotations

import hashlib
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, model_validator

from creditlab.engine.errors import InputError, did_you_mean
from creditlab.engine.inputs.located import Located, format_path, load_yaml
from creditlab.engine.inputs.vocabulary import AttrSpec, Vocabulary, check_attr
from creditlab.engine.model import Exact, Model

__all__ = [
    "AgeBand",
    "Behaviour",
    "Choice",
    "CityModel",
    "Constant",
    "Distribution",
    "Figure",
    "Group",
    "Source",
    "Uniform",
    "load_city_model",
]

MAX_AGE = 120
"""Age bands lie within 0 to this many years."""
MAX_RATE = 10_000
"""Events of one behaviour per person-year, at most (a rate above is a typo)."""
MAX_UNIFORM = Decimal(10) ** 12
"""Bounds of a uniform range, in magnitude: drawn values are exact scaled integers."""


class Source(Model):
    """Where a number comes from: a seed document and its exact words."""

    file: str = Field(min_length=1)
    line: int | None = None
    quote: str = Field(min_length=1)


class Figure(Model):
    """A number of the model with its fidelity: `assumed` with a note saying why, or
    `documented` / `interpreted` with the source it is read from."""

    value: Exact
    fidelity: Literal["assumed", "documented", "interpreted"]
    note: str | None = None
    source: Source | None = None

    @model_validator(mode="after")
    def _honest(self) -> Figure:
        if self.fidelity == "assumed" and not (self.note and self.note.strip()):
            raise ValueError("an assumed number needs a 'note' saying what it rests on")
        if self.fidelity != "assumed" and self.source is None:
            raise ValueError(f"a {self.fidelity} number needs a 'source' (file and quote)")
        return self


class AgeBand(Model):
    """Ages in whole years on the start date, both ends included."""

    min: Figure
    max: Figure


class Group(Model):
    """A group of people: its share of the population and what they have in common."""

    id: str = Field(min_length=1)
    share: Figure
    residence: Literal["urban", "rural"] | None = None
    hukou: Literal["local", "non_local"] | None = None
    age: AgeBand
    roles: list[str] = Field(default_factory=list)
    note: str | None = None


class Uniform(Model):
    """A number drawn uniformly from min, min + step, ..., max."""

    kind: Literal["uniform"]
    min: Figure
    max: Figure
    step: Figure


class Choice(Model):
    """One of the values, drawn with the weights given (they need not add up to 1)."""

    kind: Literal["choice"]
    weights: dict[str, Figure]


class Constant(Model):
    """The same value on every event: a word, a bool, or a number (a Figure)."""

    kind: Literal["constant"]
    value: str | bool | Figure


Distribution = Annotated[Uniform | Choice | Constant, Field(discriminator="kind")]


class Behaviour(Model):
    """An event type and how often a person of each group has one in a year."""

    type: str
    rate: Figure
    """Poisson mean of events per person-year, for every group not in `by_group`."""
    by_group: dict[str, Figure] = Field(default_factory=dict)
    attrs: dict[str, Distribution] = Field(default_factory=dict)
    note: str | None = None

    def rate_of(self, group: str) -> Decimal:
        figure = self.by_group.get(group)
        return (figure or self.rate).value


class CityModel(Model):
    """A whole city model, checked against the vocabulary."""

    name: str
    description: str | None = None
    start: date
    notes: dict[str, dict[str, str]] = Field(default_factory=dict)
    """Named fidelity notes, merged into figures with YAML aliases (`<<: *assumed_rate`)."""
    groups: list[Group] = Field(min_length=1)
    behaviours: list[Behaviour] = Field(min_length=1)
    file: str = "<city model>"
    sha256: str = ""

    def figures(self) -> list[tuple[str, Figure]]:
        """Every number of the model with its field path (for listings and audits)."""
        out: list[tuple[str, Figure]] = []

        def walk(value: Any, path: str) -> None:
            if isinstance(value, Figure):
                out.append((path, value))
            elif isinstance(value, Model):
                for name in type(value).model_fields:
                    walk(getattr(value, name), f"{path}.{name}" if path else name)
            elif isinstance(value, dict):
                for key, item in value.items():
                    walk(item, f"{path}.{key}")
            elif isinstance(value, list):
                for i, item in enumerate(value):
                    walk(item, f"{path}[{i}]")

        walk(self, "")
        return out


def load_city_model(path: str | Path, vocabulary: Vocabulary) -> CityModel:
    """Read and check a city model file against the vocabulary."""
    path = Path(path)
    located = load_yaml(path, InputError)
    if not isinstance(located.data, dict):
        raise InputError("a city model is a mapping with name, start, groups and behaviours",
                         file=path, line=1)
    sha256 = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    try:
        model = CityModel.model_validate({**located.data, "file": str(path), "sha256": sha256})
    except ValidationError as exc:
        err = exc.errors()[0]
        loc = tuple(p for p in err["loc"] if p not in ("uniform", "choice", "constant",
                                                       "str", "bool", "Figure"))
        raise InputError(err["msg"].removeprefix("Value error, "), file=path,
                         line=located.line_of(loc), field=format_path(loc) or None) from None
    _Checker(located, vocabulary).check(model)
    return model


class _Checker:
    """What pydantic cannot see: the vocabulary, group references and sums."""

    def __init__(self, located: Located, vocabulary: Vocabulary) -> None:
        self.located = located
        self.vocabulary = vocabulary

    def fail(self, reason: str, *path: str | int) -> InputError:
        return InputError(reason, file=self.located.file, line=self.located.line_of(path),
                          field=format_path(path) or None)

    def check(self, model: CityModel) -> None:
        self.check_groups(model)
        groups = [g.id for g in model.groups]
        for b, behaviour in enumerate(model.behaviours):
            self.check_behaviour(behaviour, groups, b)

    def check_groups(self, model: CityModel) -> None:
        seen: set[str] = set()
        total = Decimal(0)
        for i, group in enumerate(model.groups):
            if group.id in seen:
                raise self.fail(f"duplicate group id {group.id!r}", "groups", i, "id")
            seen.add(group.id)
            self.non_negative(group.share, "groups", i, "share")
            total += group.share.value
            low, high = group.age.min.value, group.age.max.value
            for bound, name in ((low, "min"), (high, "max")):
                if bound != bound.to_integral_value() or not 0 <= bound <= MAX_AGE:
                    raise self.fail(f"an age is a whole number of years from 0 to {MAX_AGE}, "
                                    f"got {bound}", "groups", i, "age", name, "value")
            if low > high:
                raise self.fail(f"age min {low} is above max {high}", "groups", i, "age")
            for r, role in enumerate(group.roles):
                if role not in self.vocabulary.roles:
                    raise self.fail(f"unknown role {role!r}"
                                    f"{did_you_mean(role, self.vocabulary.roles)}",
                                    "groups", i, "roles", r)
        if total != 1:
            raise self.fail(f"the group shares add up to {total}, not 1", "groups")

    def check_behaviour(self, behaviour: Behaviour, groups: list[str], b: int) -> None:
        spec = self.vocabulary.event(behaviour.type)
        if spec is None:
            raise self.fail(f"unknown event type {behaviour.type!r}"
                            f"{did_you_mean(behaviour.type, self.vocabulary.events)}",
                            "behaviours", b, "type")
        self.rate(behaviour.rate, "behaviours", b, "rate")
        for group, figure in behaviour.by_group.items():
            if group not in groups:
                raise self.fail(f"unknown group {group!r}{did_you_mean(group, groups)}",
                                "behaviours", b, "by_group", group)
            self.rate(figure, "behaviours", b, "by_group", group)
        for name, distribution in behaviour.attrs.items():
            attr = spec.attrs.get(name)
            if attr is None:
                raise self.fail(f"unknown attribute {name!r} for {behaviour.type}"
                                f"{did_you_mean(name, spec.attrs)}; its attributes: "
                                f"{', '.join(spec.attrs) or 'none'}", "behaviours", b, "attrs",
                                name)
            self.distribution(distribution, attr, "behaviours", b, "attrs", name)
        for name, attr in spec.attrs.items():
            if attr.required and name not in behaviour.attrs:
                raise self.fail(f"{behaviour.type} requires the attribute {name!r}: give it a "
                                "distribution", "behaviours", b, "attrs")

    def rate(self, figure: Figure, *path: str | int) -> None:
        self.non_negative(figure, *path)
        if figure.value > MAX_RATE:
            raise self.fail(f"a rate above {MAX_RATE} events per person-year", *path, "value")

    def non_negative(self, figure: Figure, *path: str | int) -> None:
        if figure.value < 0:
            raise self.fail(f"must be \u2265 0, got {figure.value}", *path, "value")

    def distribution(self, distribution: Uniform | Choice | Constant, attr: AttrSpec,
                     *path: str | int) -> None:
        kind = attr.kind
        if isinstance(distribution, Uniform):
            if kind not in ("int", "number"):
                raise self.fail(f"a uniform range needs a number attribute, not {attr.type}",
                                *path, "kind")
            low, high, step = (distribution.min.value, distribution.max.value,
                               distribution.step.value)
            if step <= 0:
                raise self.fail(f"step must be > 0, got {step}", *path, "step", "value")
            if low > high:
                raise self.fail(f"min {low} is above max {high}", *path, "min", "value")
            if (high - low) % step != 0:
                raise self.fail(f"max {high} is not min {low} plus a whole number of steps "
                                f"of {step}", *path, "max", "value")
            for value, name in ((low, "min"), (high, "max"), (step, "step")):
                self.value(attr, value, *path, name, "value")
                if abs(value) >= MAX_UNIFORM:
                    raise self.fail(f"magnitude must be below {MAX_UNIFORM:.0e}", *path, name,
                                    "value")
        elif isinstance(distribution, Choice):
            if kind not in ("enum", "str", "bool"):
                raise self.fail(f"a choice needs an enum, str or bool attribute, not "
                                f"{attr.type} (use uniform or constant)", *path, "kind")
            if not distribution.weights:
                raise self.fail("a choice needs at least one value", *path, "weights")
            total = Decimal(0)
            for key, figure in distribution.weights.items():
                self.non_negative(figure, *path, "weights", key)
                total += figure.value
                if kind == "bool":
                    if key not in ("true", "false"):
                        raise self.fail(f"a bool attribute takes true or false, got {key!r}",
                                        *path, "weights", key)
                elif kind == "enum" and key not in attr.values:
                    raise self.fail(f"{key!r} is not a value of {attr.type}"
                                    f"{did_you_mean(key, attr.values)}", *path, "weights", key)
            if total <= 0:
                raise self.fail("the weights add up to 0", *path, "weights")
        else:
            given = distribution.value
            self.value(attr, given.value if isinstance(given, Figure) else given, *path,
                       "value")

    def value(self, attr: AttrSpec, value: Any, *path: str | int) -> None:
        try:
            check_attr(attr, value)
        except ValueError as exc:
            raise self.fail(str(exc), *path) from None
