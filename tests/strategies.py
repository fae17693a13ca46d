"""Hypothesis strategies: the project's own tests use the public ones of creditlab.testing."""

from __future__ import annotations

from decimal import Decimal

from creditlab.testing import attr_values, events, histories, schemes, subjects

__all__ = ["attr_values", "decimal_or_int", "events", "histories", "schemes", "subjects"]


def decimal_or_int(value: Decimal) -> Decimal | int:
    return int(value) if value == value.to_integral_value() else value
