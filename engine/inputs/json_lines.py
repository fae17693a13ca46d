"""One JSONL line read as plain data, with exact and bounded numbers.

A history may be written as JSON Lines, one record per line. `parse_json_line` reads a
line as `json` does, but within the reading layer's bounds (`bounds`): floats are read as
`Decimal` and checked by `check_number`, integers have at most `MAX_INT_DIGITS` digits,
`NaN` and `Infinity` are refused, a duplicate key is an error rather than a silent
overwrite, and depth and control characters are checked after parsing without recursion.
Every refusal is `error(...)` naming the file, the line and, where known, the field."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from creditlab.engine.errors import InputError
from creditlab.engine.inputs.bounds import (
    MAX_DEPTH,
    MAX_INT_DIGITS,
    NON_PRINTABLE,
    SHORT,
    NumberError,
    check_number,
    short,
)

__all__ = [
    "parse_json_line",
]


def parse_json_line(
    text: str, file: Path, line: int, error: Callable[..., InputError]
) -> Any:
    """One JSONL line as plain data with exact, bounded numbers; every problem is located."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number creditlab accepts")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise error(f"duplicate key {short(key)}", file=file, line=line,
                            field=_json_field(key))
            out[key] = value
        return out

    def integer(literal: str) -> int:
        if len(literal.lstrip("-")) > MAX_INT_DIGITS:
            raise NumberError(f"number {short(literal)} has more than {MAX_INT_DIGITS} digits")
        return int(literal)

    try:
        data = json.loads(text, parse_float=check_number, parse_int=integer,
                          parse_constant=no_constants, object_pairs_hook=pairs)
    except json.JSONDecodeError as exc:  # its own "line 1" is the JSONL line's first
        raise error(f"malformed JSON: {exc.msg} (column {exc.colno})", file=file,
                    line=line) from None
    except NumberError as exc:
        raise error(str(exc), file=file, line=line) from None
    except RecursionError:
        raise error(f"nested more than {MAX_DEPTH} levels deep", file=file,
                    line=line) from None
    except ValueError as exc:  # NaN, Infinity, absurd numbers
        raise error(f"malformed JSON: {exc}", file=file, line=line) from None
    _check_json(data, file, line, error)
    return data


def _json_field(key: str) -> str:
    return key if len(key) <= 2 * SHORT else key[: 2 * SHORT] + "…"


def _check_json(data: Any, file: Path, line: int, error: Callable[..., InputError]) -> None:
    """Depth and control characters of one parsed line, checked without recursion."""
    todo: list[tuple[Any, int, str | None]] = [(data, 1, None)]
    while todo:
        value, depth, key = todo.pop()
        if isinstance(value, str):
            bad = NON_PRINTABLE.search(value)
            if bad is not None:
                raise error(f"control character U+{ord(bad.group()):04X} in a string",
                            file=file, line=line,
                            field=_json_field(key) if key is not None else None)
            continue
        if isinstance(value, (dict, list)):
            if depth > MAX_DEPTH:
                raise error(f"nested more than {MAX_DEPTH} levels deep", file=file,
                            line=line)
            if isinstance(value, dict):
                for k, v in value.items():
                    todo.append((k, depth, k))
                    todo.append((v, depth + 1, k if key is None else key))
            else:
                todo.extend((v, depth + 1, key) for v in value)
