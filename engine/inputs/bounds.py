"""What the reading layer refuses before it builds anything, shared by YAML and JSONL.

Files may come from anyone, so every reader bounds its input first: file size
(`MAX_YAML_BYTES`; JSONL files `MAX_JSONL_BYTES`, lines `MAX_JSONL_LINE_BYTES`), nesting
depth (`MAX_DEPTH`), YAML aliases (`MAX_ALIASES` uses, `MAX_ALIAS_NODES` nodes added by
expanding them), control characters (`NON_PRINTABLE`) and the size of numbers
(`check_number`). Kept apart from the readers so that the YAML reader (`located`) and the
JSONL one (`json_lines`) share one set of limits and one way of quoting a bad value
(`short`, `clip`)."""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from creditlab.engine.errors import InputError

__all__ = [
    "MAX_ALIASES",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_DIGITS",
    "MAX_EXPONENT",
    "MAX_INT_DIGITS",
    "MAX_JSONL_BYTES",
    "MAX_JSONL_LINE_BYTES",
    "MAX_YAML_BYTES",
    "NON_PRINTABLE",
    "SHORT",
    "NumberError",
    "check_number",
    "clip",
    "decode",
    "read_bounded",
    "short",
    "size_text",
]


MAX_YAML_BYTES = 64 * 2**20
"""YAML is written by hand; 64 MiB is far beyond any such file."""
MAX_JSONL_BYTES = 1024 * 2**20
"""JSONL is generated; the whole history is held in memory, so 1 GiB at most."""
MAX_JSONL_LINE_BYTES = 2**20
"""One record per line: 1 MiB is far beyond any record."""
MAX_DEPTH = 64
"""Nesting of mappings and lists, aliases expanded; a history needs 3."""
MAX_ALIASES = 1000
"""Alias uses (`*name`) in one YAML file."""
MAX_ALIAS_NODES = 100_000
"""Nodes added by expanding aliases: a 400-byte "billion laughs" file adds 10^9."""
MAX_EXPONENT = 30
"""A number's adjusted exponent must lie in [-30, 30] (1e-30 to 9.99e30)."""
MAX_DIGITS = 40
"""Significant digits of a decimal number as written."""
MAX_INT_DIGITS = 30
"""Digits of an integer as written."""
SHORT = 40
"""Characters of a bad value quoted in a message."""

# What PyYAML's reader refuses (C0 but tab, LF and CR; DEL; C1 but NEL; U+FFFE, U+FFFF;
# lone surrogates), found first so that the error names line and column.
NON_PRINTABLE = re.compile("[^\x09\x0a\x0d\x20-\x7e\x85\xa0-\ud7ff\ue000-\ufffd"
                           "\U00010000-\U0010ffff]")


def short(value: Any) -> str:
    """`value` quoted for a message: its repr, cut to a short prefix."""
    text = value if isinstance(value, str) else repr(value)
    if len(text) > SHORT:
        text = text[:SHORT] + "…"
    return repr(text) if isinstance(value, str) else text


def clip(field: str | None) -> str | None:
    """A field path for a message, cut when a hostile key makes it long."""
    if field is None or len(field) <= 2 * SHORT:
        return field
    return field[: 2 * SHORT] + "…"


def read_bounded(path: Path, limit: int, error: Callable[..., InputError]) -> bytes:
    """The bytes of `path`, refused when there are more than `limit` (reads limit + 1)."""
    try:
        with path.open("rb") as f:
            raw = f.read(limit + 1)
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=path) from None
    if len(raw) > limit:
        raise error(f"file is larger than {size_text(limit)}; creditlab reads at most that much",
                    file=path)
    return raw


def size_text(n: int) -> str:
    return f"{n // 2**30} GiB" if n >= 2**30 else f"{n // 2**20} MiB"


def decode(raw: bytes, file: Path | str, error: Callable[..., InputError],
           line: int | None = None) -> str:
    """UTF-8 bytes as text; anything else is refused with the byte offset."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=file,
                    line=line) from None


class NumberError(ValueError):
    """A number written too large, too small or with too many digits."""


def check_number(text: str) -> Decimal:
    """A number as written, as an exact Decimal; absurd sizes raise ValueError.

    Checked on the text's own digits and exponent, before any arithmetic: `1e-999999999`
    would otherwise pass as a tiny number and exhaust memory when rounded.
    """
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise NumberError(f"not a finite number: {short(text)}") from None
    if not value.is_finite():
        raise NumberError(f"not a finite number: {short(text)}")
    _sign, digits, exponent = value.as_tuple()
    assert isinstance(exponent, int)
    if len(digits) > MAX_DIGITS:
        raise NumberError(f"number {short(text)} has more than {MAX_DIGITS} digits")
    if value == 0:
        if not -MAX_DIGITS <= exponent <= MAX_EXPONENT:
            raise NumberError(f"number {short(text)} has an absurd exponent")
        return Decimal(0) if exponent > 0 else value
    if not -MAX_EXPONENT <= value.adjusted() <= MAX_EXPONENT:
        raise NumberError(f"number {short(text)} is out of range: its exponent must lie "
                         f"between -{MAX_EXPONENT} and {MAX_EXPONENT}")
    return value
