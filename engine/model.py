"""The base of every creditlab model: frozen, strict, no unknown keys."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from pydantic import BaseModel, BeforeValidator, ConfigDict

__all__ = ["Exact", "Model", "to_exact"]


class Model(BaseModel):
    """Frozen and strict: a typo'd key or a value of the wrong type is an error, never guessed."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True)


def to_exact(value: Any) -> Any:
    """Ints and Decimals become Decimal; floats, bools and strings are left to fail strictly."""
    if isinstance(value, bool):
        return value
    if isinstance(value, int):
        return Decimal(value)
    return value


Exact = Annotated[Decimal, BeforeValidator(to_exact)]
"""An exact number (points, quantities, bounds): written as an int or a decimal, never a float."""
