"""The systems the sources describe that creditlab does not replay, each with its reason.

So that "every system the seeds describe" is accounted for: a system is either a shipped
scheme or listed in `schemes/systems/not_replayable.yaml` with why it is not one (a
provincial regulation that scores no one, for example) and a quote that names it.
"""

from __future__ import annotations

from functools import cache
from typing import Literal

from pydantic import Field, ValidationError

from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.load import located_error
from creditlab.engine.inputs.located import load_yaml
from creditlab.engine.inputs.scheme import Source
from creditlab.engine.model import Model

__all__ = ["NotReplayable", "not_replayable"]


class NotReplayable(Model):
    """A described system that is not a replayable scheme, and why."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*$")
    name: str
    province: str | None = None
    reason: Literal["regulation", "no_scored_behaviour"]
    why: str = Field(min_length=20)
    source: Source


class _File(Model):
    systems: list[NotReplayable]


@cache
def not_replayable() -> tuple[NotReplayable, ...]:
    """The listed systems, in file order."""
    from creditlab.engine.inputs.catalog import schemes_dir

    located = load_yaml(schemes_dir() / "systems" / "not_replayable.yaml", SchemeError)
    try:
        return tuple(_File.model_validate(located.data).systems)
    except ValidationError as exc:
        raise located_error(exc, located) from None
