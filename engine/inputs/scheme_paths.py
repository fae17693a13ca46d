"""Dotted paths into a scheme's data: where a reform's change or a sweep's setting points.

A path names a rule by its id (`sn_p_red_light.points`), a keyed item of the scheme's
lists by its key (`bands.B.range.min`, `cap_groups.ID.cap.per`, `checks.ID.at_most`,
`repeats.ID.factor`, a tier by its `value`)
or a list item by index (`effects[1].points`), with two shorthands: a field of a rule's
only effect is the rule's, and a band's bounds are the band's.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from creditlab.engine.errors import SchemeError, did_you_mean
from creditlab.engine.inputs.located import format_path

__all__ = [
    "ITEM_KEYS",
    "KEYED",
    "at_place",
    "friendly_path",
    "get_at",
    "item_index",
    "keyed_path",
    "path_of_field",
    "place",
    "put_at",
    "resolve_target",
    "split_target",
    "step_path",
    "target_of_place",
]


KEYED = {"rules": "id", "bands": "label", "cap_groups": "id", "checks": "id", "repeats": "id",
         "interpretations": "ambiguity"}
"""The scheme's lists whose items a target names by key, and the key."""


ITEM_KEYS = ("id", "label", "value", "ambiguity")
"""Keys that name an item of any other list (a tier by its `value`)."""


_FIELD_PART = re.compile(r"([^.\[\]]+)|\[(\d+)\]")


def path_of_field(field: str | None) -> tuple[str | int, ...] | None:
    """`rules[3].effects[0].points` back to a path."""
    if not field:
        return None
    return tuple(int(m.group(2)) if m.group(2) else m.group(1)
                 for m in _FIELD_PART.finditer(field))


def friendly_path(data: dict[str, Any], path: Sequence[str | int]) -> str:
    """A path as a target: `rules[3].effects[0]` as `sn_p_red_light.effects[0]`."""
    return target_of_place(*place(data, path)) if path else ""


def place(data: dict[str, Any], path: Sequence[str | int]) -> tuple[str, str | None, str]:
    """Where a path lies: the scheme's field, the keyed item (if any), the path inside."""
    part = str(path[0])
    if part in KEYED and len(path) >= 2 and isinstance(path[1], int):
        items = data.get(part) or []
        item = items[path[1]] if 0 <= path[1] < len(items) else None
        key = item.get(KEYED[part]) if isinstance(item, dict) else None
        if key is not None:
            return part, str(key), format_path(path[2:])
    return part, None, format_path(path[1:])


def target_of_place(part: str, key: str | None, field: str) -> str:
    """A place as a target: `sn_p_red_light.effects[0].points`, `bands.B.range.min`."""
    head = part if key is None else key if part == "rules" else f"{part}.{key}"
    return head + ("" if not field else field if field.startswith("[") else "." + field)


def at_place(data: dict[str, Any], part: str, key: str | None, field: str) -> Any:
    """A copy of the value at a place (None when it is not there)."""
    try:
        node = data[part]
        if key is not None:
            node = next(item for item in node if str(item.get(KEYED[part])) == key)
        return copy.deepcopy(get_at(node, path_of_field(field) or ()))
    except (LookupError, TypeError, StopIteration, AttributeError):
        return None


def get_at(data: Any, path: Sequence[str | int]) -> Any:
    node = data
    for part in path:
        node = node[part]
    return node


def put_at(data: dict[str, Any], path: Sequence[str | int], value: Any) -> None:
    parent = get_at(data, path[:-1])
    parent[path[-1]] = value


def split_target(target: str) -> list[str | int]:
    """`a.b[2].c` as ["a", "b", 2, "c"]."""
    parts: list[str | int] = []
    for chunk in target.split("."):
        m = re.fullmatch(r"(.*?)((?:\[\d+\])+)", chunk)
        if m is None:
            parts.append(chunk)
            continue
        if m.group(1):
            parts.append(m.group(1))
        parts.extend(int(i) for i in re.findall(r"\[(\d+)\]", m.group(2)))
    return parts


def resolve_target(data: dict[str, Any], target: str, *, what: str) -> tuple[str | int, ...]:
    """The path into the scheme's data that `target` names; an unknown name is refused."""
    parts = split_target(target)
    if not parts or any(p == "" for p in parts):
        raise SchemeError(f"{target!r} is not a target (RULE.FIELD, scale.start, "
                          "bands.LABEL.min, ...)")
    head = parts[0]
    path: tuple[str | int, ...]
    if isinstance(head, str) and head in KEYED and len(parts) > 1:
        path, rest = keyed_path(data, head, parts[1:], target)
    elif isinstance(head, str) and head in data and head not in KEYED:
        path, rest = (head,), parts[1:]
    elif isinstance(head, str) and head in KEYED:
        path, rest = (head,), []
    else:
        path, rest = keyed_path(data, "rules", parts, target)
    node = get_at(data, path)
    for part in rest:
        path, node = step_path(data, path, node, part, target)
    if what == "remove" and len(path) == 1 and path[0] in KEYED:
        raise SchemeError(f"remove names one item of {path[0]} ({target}.NAME), not the list")
    return path


def keyed_path(data: dict[str, Any], name: str, parts: Sequence[str | int],
           target: str) -> tuple[tuple[str | int, ...], list[str | int]]:
    """An item of a keyed list, named by its key (the longest dotted prefix that matches)."""
    items = data.get(name) or []
    key = KEYED[name]
    names = [str(item.get(key)) for item in items if isinstance(item, dict)]
    if parts and isinstance(parts[0], int):
        if 0 <= parts[0] < len(items):
            return (name, parts[0]), list(parts[1:])
        raise SchemeError(f"{name} has no item [{parts[0]}] (it has {len(items)})")
    for n in range(len(parts), 0, -1):
        if not all(isinstance(p, str) for p in parts[:n]):
            continue
        wanted = ".".join(str(p) for p in parts[:n])
        if wanted in names:
            return (name, names.index(wanted)), list(parts[n:])
    wanted = str(parts[0]) if parts else ""
    what = {"rules": "rule", "bands": "band", "cap_groups": "cap group", "checks": "check",
            "repeats": "repeat", "interpretations": "interpretation"}[name]
    if name == "rules":
        fields = [k for k in data if k not in KEYED]
        raise SchemeError(f"no rule {wanted!r} in the scheme and no field of that name"
                          f"{did_you_mean(wanted, [*names, *fields])}")
    raise SchemeError(f"no {what} {wanted!r} in the scheme{did_you_mean(wanted, names)}")


def step_path(data: dict[str, Any], path: tuple[str | int, ...], node: Any, part: str | int,
          target: str) -> tuple[tuple[str | int, ...], Any]:
    """One step down from `node` (at `path`) by `part`, with the two shorthands."""
    here = friendly_path(data, path)
    if isinstance(node, list):
        if isinstance(part, int):
            if 0 <= part < len(node):
                return (*path, part), node[part]
            raise SchemeError(f"{here} has no item [{part}] (it has {len(node)})")
        index = item_index(node, part, here)
        return (*path, index), node[index]
    if isinstance(node, dict):
        if isinstance(part, str) and part in node:
            return (*path, part), node[part]
        effects = node.get("effects")
        if "match" in node and isinstance(effects, list):  # a rule: its only effect's field
            having = [i for i, e in enumerate(effects) if isinstance(e, dict) and part in e]
            if len(having) == 1 and len(effects) == 1:
                return (*path, "effects", 0, part), effects[0][part]
            if having:
                raise SchemeError(f"{here} has {len(effects)} effects; name one: "
                                  f"{here}.effects[{having[0]}].{part}")
        if "label" in node and "range" in node and part in _RANGE_FIELDS:
            if node["range"] is None:
                raise SchemeError(f"{here} has no range (no thresholds); set "
                                  f"{here}.range to {{min: ..., max: ...}}")
            return (*path, "range", part), node["range"][part]
        fields = list(node)
        if "match" in node and isinstance(effects, list) and len(effects) == 1:
            fields += list(effects[0])
        raise SchemeError(f"{here} has no field {part!r}{did_you_mean(str(part), fields)}")
    if node is None:
        raise SchemeError(f"{here} is not set; set it whole ({{set: {here}, to: {{...}}}})")
    raise SchemeError(f"{here} is a single value; it has no field {part!r}")


_RANGE_FIELDS = ("min", "max", "min_inclusive", "max_inclusive")


def item_index(items: list[Any], name: str | int, where: str) -> int:
    """The index of the item of `items` whose key (id, label, value, ambiguity) is `name`."""
    names: list[str] = []
    for i, item in enumerate(items):
        if isinstance(item, dict):
            for key in ITEM_KEYS:
                if key in item and item[key] is not None:
                    if str(item[key]) == str(name):
                        return i
                    names.append(str(item[key]))
                    break
    raise SchemeError(f"{where} has no item {str(name)!r}{did_you_mean(str(name), names)}")
