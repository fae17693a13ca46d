"""Reforms applied: a scheme edited by a reform's changes, validated again, and what changed.

A reform (its file and changes: `reform_file`, whose names are importable from here too)
is applied in order to the base's data; the result is validated again, exactly as a
scheme file is (the `Scheme` model, then every reference against the vocabulary). An
error names the change at fault: the reform file's line of it and its target as field.

Applied, a reform gives a `ReformedScheme`: its id is `BASE+REFORM` (or `BASE@REFORM`
when the reform declares itself a `variant` reading of its base, as the shipped variants
do), its sha256 covers the base's sha256 and the reform file's, and `changed` records each
touched value beside the baseline's. Reforms stack: each applies to the result of the one
before, so when two change the same value the later wins.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Sequence
from typing import Any

from pydantic import Field

from creditlab.engine.canonical import digest, plain
from creditlab.engine.errors import SchemeError, did_you_mean
from creditlab.engine.inputs.load import parse_scheme
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.reform_file import (
    REFORM_ID,
    AddItem,
    Change,
    Reform,
    ReformHeader,
    RemoveItem,
    SetValue,
    VariantReading,
    is_reform_file,
    load_reform,
    parse_reform,
)
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.scheme_paths import (
    at_place,
    friendly_path,
    get_at,
    item_index,
    path_of_field,
    place,
    put_at,
    resolve_target,
    target_of_place,
)
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.model import Model

__all__ = [
    "REFORM_ID",
    "AddItem",
    "AppliedReform",
    "Change",
    "ChangedValue",
    "Reform",
    "ReformHeader",
    "ReformedScheme",
    "RemoveItem",
    "SetValue",
    "VariantReading",
    "apply_changes",
    "apply_reform",
    "is_reform_file",
    "load_reform",
    "parse_reform",
    "reform_bases",
    "reforms_manifest",
    "set_value",
]


# --- the result -------------------------------------------------------------------------


class AppliedReform(Model):
    """A reform as the reformed scheme records it (and the manifest shows it)."""

    id: str
    title: str
    file: str
    sha256: str


class ChangedValue(Model):
    """One value a reform touched: where, the baseline's value and the reformed one.

    `part` is the scheme's field (`rules`, `bands`, `scale`, ...), `key` the item of a
    keyed list (a rule's id, a band's label) and `field` the path inside it (`""` for the
    whole item). `was` is None for an item added; `now` is None for one removed. Values are
    plain data (numbers as Decimal), as the scheme's dump has them.
    """

    target: str
    part: str
    key: str | None = None
    field: str = ""
    was: Any
    now: Any
    reform: str
    note: str | None = None


class ReformedScheme(Scheme):
    """A scheme with reforms applied: a scheme in every way, which remembers its baseline."""

    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_]*(@[a-z0-9_]+)?(\+[a-z0-9][a-z0-9_-]*)*$")
    baseline: str
    baseline_sha256: str
    reforms: tuple[AppliedReform, ...] = ()
    changed: tuple[ChangedValue, ...] = ()


def reforms_manifest(schemes: Sequence[Scheme]) -> dict[str, dict[str, Any]]:
    """What a replay's manifest records of its reformed schemes, by scheme id: the
    baseline's id and sha256 and each reform's id and sha256, in the order applied."""
    return {s.id: {"baseline": s.baseline, "baseline_sha256": s.baseline_sha256,
                   "reforms": [{"id": r.id, "sha256": r.sha256} for r in s.reforms]}
            for s in sorted(schemes, key=lambda s: s.id) if isinstance(s, ReformedScheme)}


# --- applying ---------------------------------------------------------------------------


def apply_reform(scheme: Scheme, reform: Reform, *, vocabulary: Vocabulary,
                 located: Located | None = None) -> ReformedScheme:
    """`scheme` with `reform` applied: checked against `reform.of`, validated again.

    `located` (the reform file as read) gives errors the line of the change at fault.
    """
    header = reform.reform
    accepted = reform_bases(scheme)
    if header.of not in accepted:
        raise SchemeError(f"this reform is of {header.of!r}, not of {scheme.id!r}"
                          f"{did_you_mean(header.of, accepted)}", file=reform.file,
                          line=located.line_of(("reform", "of")) if located else None,
                          field="reform.of")
    if header.variant is not None:
        if scheme.id != header.of:
            raise SchemeError(f"a variant reading applies to its base {header.of!r} only, not "
                              f"to {scheme.id!r}", file=reform.file,
                              line=located.line_of(("reform", "variant")) if located else None,
                              field="reform.variant")
        new_id = f"{_root(scheme)}@{header.id}"
    else:
        new_id = f"{scheme.id}+{header.id}"
    stamp = AppliedReform(id=header.id, title=header.title, file=reform.file,
                          sha256=reform.sha256)
    return _apply(scheme, reform.changes, new_id=new_id, stamp=stamp, vocabulary=vocabulary,
                  located=located, variant=header.variant)


def apply_changes(scheme: Scheme, changes: Sequence[Change], *, reform_id: str,
                  vocabulary: Vocabulary) -> ReformedScheme:
    """`scheme` with `changes` applied in order, validated again; its id is `BASE+reform_id`.

    The changes' own hash stands for a reform file's: equal changes give equal sha256.
    """
    if re.match(REFORM_ID, reform_id) is None:
        raise SchemeError(f"reform id {reform_id!r} is not lower-case letters, digits, '_' "
                          "and '-'", field="reform.id")
    listed = [c.model_dump(exclude_none=True) for c in changes]
    stamp = AppliedReform(id=reform_id, title=reform_id, file="<changes>",
                          sha256=digest(listed))
    return _apply(scheme, list(changes), new_id=f"{scheme.id}+{reform_id}", stamp=stamp,
                  vocabulary=vocabulary, located=None, variant=None)


def set_value(scheme: Scheme, target: str, value: object, *,
              vocabulary: Vocabulary) -> Scheme:
    """`scheme` with the value at `target` replaced, validated again; the id is unchanged.

    The sha256 changes (it covers the base's and the change), so a manifest never claims
    the base's hash for changed contents.
    """
    change = SetValue(set=target, to=value)
    data = _data(scheme)
    try:
        path = resolve_target(data, target, what="set")
    except SchemeError as exc:
        raise SchemeError(exc.reason, field=target) from None
    put_at(data, path, copy.deepcopy(value))
    sha = digest({"base": scheme.sha256, "set": target, "to": plain(value)})
    return _validated(data, scheme.id, scheme.file, sha, vocabulary,
                      [(change, path)], None, None)


def _apply(scheme: Scheme, changes: Sequence[Change], *, new_id: str, stamp: AppliedReform,
           vocabulary: Vocabulary, located: Located | None,
           variant: VariantReading | None) -> ReformedScheme:
    baseline = _data(scheme)
    data = copy.deepcopy(baseline)
    done: list[tuple[Change, tuple[str | int, ...]]] = []
    places: list[tuple[str, str | None, str]] = []
    for i, change in enumerate(changes):
        try:
            if isinstance(change, RemoveItem):  # named before it goes
                places.append(place(data, resolve_target(data, change.remove, what="remove")))
            done.append((change, _change(data, change)))
            if not isinstance(change, RemoveItem):
                places.append(place(data, done[-1][1]))
        except SchemeError as exc:
            raise _at_change(exc.reason, change, i, stamp, located) from None
    if variant is not None:
        data["variant"] = {"of": _root(scheme), "reading": variant.reading}
    sha = digest({"base": scheme.sha256, "reform": stamp.sha256})
    file = stamp.file if stamp.file != "<changes>" else scheme.file
    checked = _validated(data, _root(scheme) if variant is None else new_id, file, sha,
                         vocabulary, done, stamp, located)
    prior = scheme if isinstance(scheme, ReformedScheme) else None
    changed = _changes_against(baseline, _data(checked), done, places, stamp.id,
                               prior.changed if prior else ())
    return ReformedScheme.model_validate({
        **dict(checked), "id": new_id,
        "baseline": prior.baseline if prior else scheme.id,
        "baseline_sha256": prior.baseline_sha256 if prior else scheme.sha256,
        "reforms": (*(prior.reforms if prior else ()), stamp),
        "changed": tuple(changed),
    })


def _change(data: dict[str, Any], change: Change) -> tuple[str | int, ...]:
    """Apply one change to the scheme's data; the path it touched."""
    if isinstance(change, SetValue):
        path = resolve_target(data, change.set, what="set")
        put_at(data, path, copy.deepcopy(change.to))
        return path
    if isinstance(change, RemoveItem):
        path = resolve_target(data, change.remove, what="remove")
        parent = get_at(data, path[:-1])
        if isinstance(parent, list):
            assert isinstance(path[-1], int)
            del parent[path[-1]]
        else:
            parent[path[-1]] = None
        return path
    path = resolve_target(data, change.add, what="add")
    items = get_at(data, path)
    if items is None:
        put_at(data, path, [])
        items = get_at(data, path)
    if not isinstance(items, list):
        raise SchemeError(f"{change.add} is not a list; 'add' puts an item into a list "
                          "(rules, bands, cap_groups, checks, repeats, interpretations, "
                          "RULE.also, ...)")
    if change.after is not None and change.before is not None:
        raise SchemeError("give 'after' or 'before', not both")
    place = len(items)
    beside = change.after if change.after is not None else change.before
    if beside is not None:
        index = item_index(items, beside, change.add)
        place = index + 1 if change.after is not None else index
    items.insert(place, copy.deepcopy(change.item))
    return (*path, place)


def _validated(data: dict[str, Any], scheme_id: str, file: str, sha: str,
               vocabulary: Vocabulary, done: Sequence[tuple[Change, tuple[str | int, ...]]],
               stamp: AppliedReform | None, located: Located | None) -> Scheme:
    """The edited data as a scheme, checked like a scheme file; a failure blames a change."""
    data = {**data, "id": scheme_id}
    try:
        return parse_scheme(Located(data, file), vocabulary, sha)
    except SchemeError as exc:
        where = path_of_field(exc.field)
        index = _blamed(done, where)
        friendly = friendly_path(data, where) if where else None
        key = _target_of(done[index][0]) if index is not None else None
        reason = exc.reason + (f" (the result, at {friendly})" if friendly and friendly != key
                               else "")
        if index is None:
            raise SchemeError(reason, file=stamp.file if stamp else file,
                              field=friendly) from None
        change = done[index][0]
        raise _at_change(reason, change, index, stamp, located) from None


def _at_change(reason: str, change: Change, index: int, stamp: AppliedReform | None,
               located: Located | None) -> SchemeError:
    """An error located at one change: the reform file's line of it, its target as field."""
    key = _target_of(change)
    line = located.line_of(("changes", index)) if located else None
    file = stamp.file if stamp and stamp.file != "<changes>" else None
    return SchemeError(reason, file=file, line=line, field=key)


def _target_of(change: Change) -> str:
    """What a change names: its `set`, `remove` or `add`."""
    if isinstance(change, SetValue):
        return change.set
    return change.remove if isinstance(change, RemoveItem) else change.add


def _blamed(done: Sequence[tuple[Change, tuple[str | int, ...]]],
            where: tuple[str | int, ...] | None) -> int | None:
    """The last change whose path holds, or lies inside, the failing path."""
    if not done:
        return None
    if where is None:
        return len(done) - 1
    for i in range(len(done) - 1, -1, -1):
        path = done[i][1]
        n = min(len(path), len(where))
        if path[:n] == where[:n]:
            return i
    return len(done) - 1


# --- targets ----------------------------------------------------------------------------


def _data(scheme: Scheme) -> dict[str, Any]:
    """The scheme's data as a scheme file would hold it (no file, hash or reform record)."""
    return scheme.model_dump(exclude={"file", "sha256", "baseline", "baseline_sha256",
                                      "reforms", "changed"})


def _changes_against(base: dict[str, Any], now: dict[str, Any],
                     done: Sequence[tuple[Change, tuple[str | int, ...]]],
                     places: Sequence[tuple[str, str | None, str]], reform_id: str,
                     earlier: Sequence[ChangedValue]) -> list[ChangedValue]:
    """Each touched target with the baseline's value and the value now.

    `base` is the data before this reform; a target an earlier reform of the stack touched
    keeps that record's `was` (the first baseline's value). A later change to the same
    target replaces the record of an earlier one; a value back at the baseline's has none.
    """
    out: dict[str, ChangedValue] = {c.target: c for c in earlier}
    for (change, _path), (part, key, field) in zip(done, places, strict=True):
        target = target_of_place(part, key, field)
        # Looked up by key, not by index: earlier changes may have moved the item.
        if isinstance(change, AddItem):
            was = out[target].was if target in out else None
        else:
            was = out[target].was if target in out else at_place(base, part, key, field)
        value = None if isinstance(change, RemoveItem) else at_place(now, part, key, field)
        out.pop(target, None)
        out[target] = ChangedValue(target=target, part=part, key=key, field=field, was=was,
                                   now=value, reform=reform_id, note=change.note)
    # A value set back to the baseline's is no change.
    return [c for c in out.values() if c.was != c.now]


def reform_bases(scheme: Scheme) -> list[str]:
    """The ids a reform of this scheme may name as `of`: its own and each base below it."""
    out = [scheme.id]
    text = scheme.id
    while "+" in text:
        text = text.rsplit("+", 1)[0]
        out.append(text)
    if "@" in text:
        out.append(text.split("@", 1)[0])
    return out


def _root(scheme: Scheme) -> str:
    """The id before any `+REFORM`: the scheme the stack started from."""
    return scheme.id.split("+", 1)[0]
