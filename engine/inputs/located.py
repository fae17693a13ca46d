"""YAML and JSON read into plain data that remembers where each value came from.

Pydantic reports a bad field as a path (``("events", 3, "hours")``); `Located.line_of`
turns that path back into the line of the file, so every error names file, line and
field. Floats are read as `Decimal` (points and quantities are exact), duplicate keys are
an error rather than a silent overwrite, and YAML's non-finite floats are refused.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

import yaml

from creditlab.engine.errors import InputError

__all__ = ["Located", "Path_", "format_path", "load_yaml", "parse_json_line"]

Path_ = tuple[str | int, ...]

_FLOAT_TAG = "tag:yaml.org,2002:float"


@dataclass(frozen=True)
class Located:
    """Plain data (dicts, lists, scalars) with the line of every node, by path."""

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the node at `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = p[:-1]


def format_path(path: Sequence[str | int]) -> str:
    """`("events", 3, "hours")` as `events[3].hours`."""
    out = ""
    for part in path:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if out else "") + str(part)
    return out


def load_yaml(path: Path, error: Callable[..., InputError]) -> Located:
    """Read a YAML file; malformed YAML or duplicate keys raise `error(...)` with the line."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise error(f"cannot read file: {exc.strerror or exc}", file=path) from None
    except UnicodeDecodeError as exc:
        raise error(f"not UTF-8 text ({exc.reason} at byte {exc.start})", file=path) from None
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error(f"malformed YAML: {exc.problem or exc}", file=path, line=line) from None
    lines: dict[Path_, int] = {}
    if node is None:
        return Located(None, str(path), lines)
    constructor = yaml.SafeLoader("")
    data = _build(node, (), lines, constructor, path, error)
    return Located(data, str(path), lines)


def _build(
    node: yaml.Node,
    path: Path_,
    lines: dict[Path_, int],
    constructor: yaml.SafeLoader,
    file: Path,
    error: Callable[..., InputError],
) -> Any:
    lines[path] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        out: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _build(key_node, path, {}, constructor, file, error)
            if not isinstance(key, str):
                key = str(key)
            if key in out:
                raise error(
                    f"duplicate key {key!r}",
                    file=file,
                    line=key_node.start_mark.line + 1,
                    field=format_path((*path, key)),
                )
            out[key] = _build(value_node, (*path, key), lines, constructor, file, error)
            lines[(*path, key)] = key_node.start_mark.line + 1
        return out
    if isinstance(node, yaml.SequenceNode):
        return [
            _build(child, (*path, i), lines, constructor, file, error)
            for i, child in enumerate(node.value)
        ]
    if node.tag == _FLOAT_TAG:
        return _decimal(node.value.replace("_", ""), file, node.start_mark.line + 1, path, error)
    try:
        return constructor.construct_object(node, deep=True)
    except yaml.MarkedYAMLError as exc:  # e.g. a tag the safe loader does not construct
        raise error(f"malformed YAML: {exc.problem or exc}", file=file,
                    line=node.start_mark.line + 1, field=format_path(path) or None) from None
    except ValueError as exc:  # e.g. a timestamp with month 13
        raise error(f"invalid value {node.value!r}: {exc}", file=file,
                    line=node.start_mark.line + 1, field=format_path(path) or None) from None


def _decimal(
    text: str, file: Path, line: int, path: Path_, error: Callable[..., InputError]
) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise error(f"not a finite number: {text!r}", file=file, line=line,
                    field=format_path(path)) from None
    if not value.is_finite():
        raise error(f"not a finite number: {text!r}", file=file, line=line,
                    field=format_path(path))
    return value


def parse_json_line(
    text: str, file: Path, line: int, error: Callable[..., InputError]
) -> Any:
    """One JSONL line as plain data with exact numbers; malformed JSON is located."""

    def no_constants(name: str) -> Any:
        raise ValueError(f"{name} is not a number creditlab accepts")

    def pairs(items: list[tuple[str, Any]]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for key, value in items:
            if key in out:
                raise error(f"duplicate key {key!r}", file=file, line=line, field=key)
            out[key] = value
        return out

    try:
        return json.loads(
            text, parse_float=Decimal, parse_constant=no_constants, object_pairs_hook=pairs
        )
    except json.JSONDecodeError as exc:  # its own "line 1" is the JSONL line's first
        raise error(f"malformed JSON: {exc.msg} (column {exc.colno})", file=file,
                    line=line) from None
    except ValueError as exc:  # NaN or Infinity
        raise error(f"malformed JSON: {exc}", file=file, line=line) from None
