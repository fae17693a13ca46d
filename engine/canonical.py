"""Canonical JSON: one byte string for one result, whatever the machine or the run.

Numbers are exact `Decimal`s inside the engine. In JSON an integral value is an integer;
any other value is written as a JSON number only when that number reads back as exactly
the same decimal (1000.5 does); otherwise it is written as a string, never rounded.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

__all__ = ["digest", "dumps", "number", "plain"]


def plain(value: Any) -> Any:
    """`value` with Decimals, dates and tuples turned into JSON's own types."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        as_float = float(value)
        return as_float if Decimal(repr(as_float)) == value else format(value, "f")
    if isinstance(value, Mapping):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, (date, datetime)):
        return value.isoformat()
    return value


def dumps(value: Any, *, indent: int | None = None) -> str:
    """JSON text of `value`; keys sorted, so equal values give equal text."""
    separators = (",", ":") if indent is None else (",", ": ")
    return json.dumps(plain(value), sort_keys=True, ensure_ascii=False, indent=indent,
                      separators=separators)


def digest(value: Any) -> str:
    """`sha256:<hex>` of the canonical (compact, sorted) JSON of `value`."""
    return "sha256:" + hashlib.sha256(dumps(value).encode("utf-8")).hexdigest()


def number(value: Decimal | int) -> str:
    """A number in plain notation without trailing zeros: 15, 0.5, 1000 (never 1E+3)."""
    if isinstance(value, int):
        return str(value)
    text = format(value, "f")
    return text.rstrip("0").rstrip(".") if "." in text else text
