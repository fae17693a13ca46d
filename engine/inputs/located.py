"""YAML read into plain data that remembers where each value came from.

This is the reading layer for files that may come from anyone. It bounds what it reads
before building anything, with the limits of `bounds`: file size (`MAX_YAML_BYTES`),
nesting depth (`MAX_DEPTH`), YAML aliases (`MAX_ALIASES` uses, `MAX_ALIAS_NODES` nodes
added by expanding them, none recursive), control characters, and the size of numbers
(`check_number`). Every refusal is `error(...)` (an `InputError` subclass) naming file,
line and, where known, field. JSONL lines are read by `json_lines` within the same
bounds; both modules' names are importable from here too, as the readers import them.

Pydantic reports a bad field as a path (``("events", 3, "hours")``); `Located.line_of`
turns that path back into the line of the file, so every error names file, line and
field. Floats are read as `Decimal` (points and quantities are exact), duplicate keys are
an error rather than a silent overwrite, YAML's non-finite floats are refused, merge keys
(`<<: *base`) are supported, and tags other than YAML's plain-data ones are refused.
`Located.raw` keeps the text written for plain scalars YAML 1.1 reads as something other
than a string (`010` is the int 8, `1:30` the int 90), so ids can be kept as written.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import yaml

from creditlab.engine.errors import InputError
from creditlab.engine.inputs.bounds import (
    MAX_ALIAS_NODES,
    MAX_ALIASES,
    MAX_DEPTH,
    MAX_EXPONENT,
    MAX_INT_DIGITS,
    MAX_JSONL_BYTES,
    MAX_JSONL_LINE_BYTES,
    MAX_YAML_BYTES,
    NON_PRINTABLE,
    NumberError,
    check_number,
    clip,
    decode,
    read_bounded,
    short,
    size_text,
)
from creditlab.engine.inputs.json_lines import parse_json_line

__all__ = [
    "MAX_ALIASES",
    "MAX_ALIAS_NODES",
    "MAX_DEPTH",
    "MAX_EXPONENT",
    "MAX_INT_DIGITS",
    "MAX_JSONL_BYTES",
    "MAX_JSONL_LINE_BYTES",
    "MAX_YAML_BYTES",
    "Located",
    "NumberError",
    "Path_",
    "check_number",
    "clip",
    "decode",
    "format_path",
    "load_yaml",
    "parse_json_line",
    "parse_yaml",
    "read_bounded",
    "short",
    "size_text",
]

Path_ = tuple[str | int, ...]

_FLOAT_TAG = "tag:yaml.org,2002:float"
_INT_TAG = "tag:yaml.org,2002:int"
_STR_TAG = "tag:yaml.org,2002:str"
_MAP_TAG = "tag:yaml.org,2002:map"
_SEQ_TAG = "tag:yaml.org,2002:seq"
_SCALAR_TAGS = {_STR_TAG, _INT_TAG, _FLOAT_TAG, "tag:yaml.org,2002:bool",
                "tag:yaml.org,2002:null", "tag:yaml.org,2002:timestamp",
                "tag:yaml.org,2002:merge", "tag:yaml.org,2002:value"}


@dataclass(frozen=True)
class Located:
    """Plain data (dicts, lists, scalars) with the line of every node, by path.

    `raw` has the text written for each plain scalar that YAML read as something other
    than a string (`010` → 8, `1:30` → 90, `yes` → True, `2019-03-01` → a date).
    """

    data: Any
    file: str
    lines: dict[Path_, int] = field(default_factory=dict)
    raw: dict[Path_, str] = field(default_factory=dict)

    def line_of(self, path: Sequence[str | int]) -> int | None:
        """The line of the node at `path`, or of its nearest ancestor that has one."""
        p = tuple(path)
        while True:
            if p in self.lines:
                return self.lines[p]
            if not p:
                return None
            p = p[:-1]

    def raw_of(self, path: Sequence[str | int]) -> str | None:
        """The text written for the plain scalar at `path`, when YAML did not read a string."""
        return self.raw.get(tuple(path))


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
    """Read a YAML file (at most `MAX_YAML_BYTES`); every problem raises `error(...)`."""
    return parse_yaml(read_bounded(path, MAX_YAML_BYTES, error), path, error)


def parse_yaml(raw: bytes, file: Path, error: Callable[..., InputError]) -> Located:
    """YAML bytes as located plain data, bounded before anything is composed."""
    text = decode(raw, file, error)
    bad = NON_PRINTABLE.search(text)
    if bad is not None:
        row = text.count("\n", 0, bad.start()) + 1
        column = bad.start() - (text.rfind("\n", 0, bad.start()) + 1) + 1
        raise error(f"control character U+{ord(bad.group()):04X} at column {column}; "
                    "YAML text may not contain it (write it escaped in a double-quoted "
                    "string if it is meant)", file=file, line=row)
    try:
        _prescan(text, file, error)
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise error(f"malformed YAML: {exc.problem or exc}", file=file, line=line) from None
    except yaml.YAMLError as exc:  # e.g. the reader's own errors
        raise error(f"malformed YAML: {short(str(exc))}", file=file) from None
    lines: dict[Path_, int] = {}
    raw_text: dict[Path_, str] = {}
    if node is None:
        return Located(None, str(file), lines, raw_text)
    constructor = yaml.SafeLoader("")
    data = _Builder(constructor, file, error, lines, raw_text).build(node, ())
    return Located(data, str(file), lines, raw_text)


def _prescan(text: str, file: Path, error: Callable[..., InputError]) -> None:
    """Bound depth and aliases on the parser's events, before composing (iterative).

    For each anchor, the nodes and depth of what it names (aliases in it expanded), so an
    alias is charged what expanding it costs; an alias to an anchor still open is
    recursive and refused.
    """
    sizes: dict[str, tuple[int, int]] = {}  # anchor -> (nodes, depth)
    # One frame per open collection: [anchor, nodes so far, deepest level below it].
    stack: list[list[Any]] = []
    aliases = 0
    added = 0

    def fail(reason: str, event: Any) -> InputError:
        return error(reason, file=file, line=event.start_mark.line + 1)

    def close(anchor: str | None, nodes: int, depth: int) -> None:
        if anchor is not None:
            sizes[anchor] = (nodes, depth)
        if stack:
            stack[-1][1] += nodes
            stack[-1][2] = max(stack[-1][2], depth + 1)

    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        if isinstance(event, yaml.CollectionStartEvent):
            if len(stack) >= MAX_DEPTH:
                raise fail(f"nested more than {MAX_DEPTH} levels deep", event)
            stack.append([event.anchor, 1, 0])
        elif isinstance(event, yaml.CollectionEndEvent):
            anchor, nodes, depth = stack.pop()
            close(anchor, nodes, depth)
        elif isinstance(event, yaml.ScalarEvent):
            close(event.anchor, 1, 0)
        elif isinstance(event, yaml.AliasEvent):
            aliases += 1
            if aliases > MAX_ALIASES:
                raise fail(f"more than {MAX_ALIASES} aliases", event)
            if any(frame[0] == event.anchor for frame in stack):
                raise fail(f"recursive alias *{event.anchor}: it names a "
                           "node that contains it", event)
            if event.anchor not in sizes:
                continue  # undefined: the composer says so, with the line
            nodes, depth = sizes[event.anchor]
            added += nodes
            if added > MAX_ALIAS_NODES:
                raise fail(f"aliases expand to more than {MAX_ALIAS_NODES} nodes", event)
            if len(stack) + depth > MAX_DEPTH:
                raise fail(f"nested more than {MAX_DEPTH} levels deep (aliases expanded)",
                           event)
            close(None, nodes, depth)


class _Builder:
    """Plain data from a composed (and bounded) node graph, recording lines and raw text."""

    def __init__(self, constructor: yaml.SafeLoader, file: Path,
                 error: Callable[..., InputError], lines: dict[Path_, int],
                 raw: dict[Path_, str]) -> None:
        self.constructor = constructor
        self.file = file
        self.error = error
        self.lines = lines
        self.raw = raw

    def fail(self, reason: str, node: yaml.Node, path: Path_) -> InputError:
        return self.error(reason, file=self.file, line=node.start_mark.line + 1,
                          field=clip(format_path(path) or None))

    def build(self, node: yaml.Node, path: Path_) -> Any:
        self.lines[path] = node.start_mark.line + 1
        if isinstance(node, yaml.MappingNode):
            if node.tag != _MAP_TAG:
                raise self.fail(_unsupported_tag(node.tag), node, path)
            return self.mapping(node, path)
        if isinstance(node, yaml.SequenceNode):
            if node.tag != _SEQ_TAG:
                raise self.fail(_unsupported_tag(node.tag), node, path)
            return [self.build(child, (*path, i)) for i, child in enumerate(node.value)]
        return self.scalar(node, path)

    def mapping(self, node: yaml.MappingNode, path: Path_) -> dict[str, Any]:
        own = sum(1 for key, _ in node.value if key.tag != "tag:yaml.org,2002:merge")
        try:
            self.constructor.flatten_mapping(node)  # merge keys: `<<: *base`
        except yaml.MarkedYAMLError as exc:
            raise self.fail(f"malformed YAML: {exc.problem or exc}", node, path) from None
        merged = len(node.value) - own
        out: dict[str, Any] = {}
        explicit: set[str] = set()
        for index, (key_node, value_node) in enumerate(node.value):
            if not isinstance(key_node, yaml.ScalarNode):
                raise self.fail("a mapping key must be a plain value, not a mapping or list",
                                key_node, path)
            if key_node.tag not in _SCALAR_TAGS:
                raise self.fail(_unsupported_tag(key_node.tag), key_node, path)
            key = key_node.value  # as written: `010:` is the key "010", not "8"
            if index >= merged:  # keys written here override merged ones; not each other
                if key in explicit:
                    raise self.error(f"duplicate key {short(key)}", file=self.file,
                                     line=key_node.start_mark.line + 1,
                                     field=clip(format_path((*path, key))))
                explicit.add(key)
            out[key] = self.build(value_node, (*path, key))
            self.lines[(*path, key)] = key_node.start_mark.line + 1
        return out

    def scalar(self, node: yaml.Node, path: Path_) -> Any:
        tag = node.tag
        if tag not in _SCALAR_TAGS:
            raise self.fail(_unsupported_tag(tag), node, path)
        text = node.value
        plain = isinstance(node, yaml.ScalarNode) and node.style is None
        if tag == _STR_TAG:
            bad = NON_PRINTABLE.search(text)
            if bad is not None:
                raise self.fail(f"control character U+{ord(bad.group()):04X} in a string",
                                node, path)
            return text
        if plain:
            self.raw[path] = text
        if tag == _FLOAT_TAG:
            if ":" in text:  # YAML 1.1 base 60 (`1:30.5`): kept as written, like YAML 1.2
                return text
            return self.number(text.replace("_", ""), node, path)
        if tag == _INT_TAG:
            digits = text.lstrip("+-").replace("_", "")
            if len(digits) > MAX_INT_DIGITS:
                raise self.fail(f"number {short(text)} has more than {MAX_INT_DIGITS} digits",
                                node, path)
        try:
            return self.constructor.construct_object(node, deep=True)
        except yaml.MarkedYAMLError as exc:
            raise self.fail(f"malformed YAML: {exc.problem or exc}", node, path) from None
        except (ValueError, OverflowError) as exc:  # e.g. a timestamp with month 13
            raise self.fail(f"invalid value {short(text)}: {exc}", node, path) from None

    def number(self, text: str, node: yaml.Node, path: Path_) -> Decimal:
        try:
            return check_number(text)
        except ValueError as exc:
            raise self.fail(str(exc), node, path) from None


def _unsupported_tag(tag: str) -> str:
    return (f"unsupported YAML tag {short(tag)}: could not determine a constructor for the "
            "tag (creditlab reads plain data: mappings, lists, strings, numbers, booleans, "
            "dates)")


