"""Reforms: what-if edits of a scheme, kept as data that says what changed and why.

A reform file names a base scheme (`reform: {id, of, title, why}`) and lists `changes`,
applied in order to the base's data; the result is validated again, exactly as a scheme
file is (the `Scheme` model, then every reference against the vocabulary). A change is one
of three operations, each named by its one key:

- `{set: TARGET, to: VALUE}`: the value at TARGET becomes VALUE (`null` unsets an optional
  field; a whole rule, band or cap group may be set at once);
- `{remove: TARGET}`: a rule, band, cap group, check, repeat, interpretation or list item is
  removed (an optional field is unset);
- `{add: LIST, item: {...}, after|before: KEY}`: an item is added to a list (`rules`,
  `bands`, `cap_groups`, `checks`, `repeats`, `interpretations`, or a list inside one,
  `RULE.also`), at the end unless placed beside KEY.

A TARGET is a dotted path: `RULE_ID.FIELD[.SUBFIELD...]` (`sn_p_red_light.points`,
`fz_r_donation.cap.points`), `scale.start`, `bands.LABEL.min`, `cap_groups.ID.cap.per`,
`checks.ID.at_most`, `repeats.ID.factor`,
`interpretations.AMBIGUITY.reading`, or any top-level field (`summary`). Items of a list
are named by their key (a rule's `id`, a band's `label`, a tier's `value`) or by index
(`effects[1].points`). Two shorthands: a field of a rule's only effect is the rule's
(`RULE.points` is `RULE.effects[0].points`), and a band's bounds are the band's
(`bands.B.min` is `bands.B.range.min`).

Applied, a reform gives a `ReformedScheme`: its id is `BASE+REFORM` (or `BASE@REFORM`
when the reform declares itself a `variant` reading of its base, as the shipped variants
do), its sha256 covers the base's sha256 and the reform file's, and `changed` records each
touched value beside the baseline's. Reforms stack: each applies to the result of the one
before, so when two change the same value the later wins.
"""

from __future__ import annotations

import copy
import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, ValidationError

from creditlab.engine.canonical import digest, plain
from creditlab.engine.errors import SchemeError, did_you_mean
from creditlab.engine.inputs.load import located_error, parse_scheme
from creditlab.engine.inputs.located import Located, load_yaml
from creditlab.engine.inputs.scheme import Scheme, Source
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

REFORM_ID = r"^[a-z0-9][a-z0-9_-]*$"
"""A reform's id: lower-case letters, digits, `_` and `-` (`cap-per-donation`)."""


# --- the file ---------------------------------------------------------------------------


class SetValue(Model):
    """`{set: TARGET, to: VALUE}`: the value at TARGET becomes VALUE."""

    set: str = Field(min_length=1)
    to: Any
    note: str | None = None


class RemoveItem(Model):
    """`{remove: TARGET}`: an item of a list is removed, or an optional field unset."""

    remove: str = Field(min_length=1)
    note: str | None = None


class AddItem(Model):
    """`{add: LIST, item: {...}}`: an item added at the end of LIST, or beside a named one."""

    add: str = Field(min_length=1)
    item: Any
    after: str | None = None
    before: str | None = None
    note: str | None = None


_OPERATIONS = ("set", "remove", "add")


def _operation(value: Any) -> str | None:
    """The one operation key a change has (the tag of the union), or None."""
    keys = value.keys() if isinstance(value, dict) else vars(value) if isinstance(
        value, Model) else ()
    found = [k for k in _OPERATIONS if k in keys]
    return found[0] if len(found) == 1 else None


Change = Annotated[
    Annotated[SetValue, Tag("set")] | Annotated[RemoveItem, Tag("remove")]
    | Annotated[AddItem, Tag("add")],
    Discriminator(_operation, custom_error_type="change_operation",
                  custom_error_message="a change has exactly one of 'set', 'remove', 'add'"),
]
"""One change of a reform, named by its operation key (exactly one of them)."""


class VariantReading(Model):
    """The reform is an alternative reading of its base's ambiguous source (a shipped variant):
    the result's id is `BASE@ID` and its `variant` says so."""

    reading: str = Field(min_length=3)


class ReformHeader(Model):
    """What a reform is and why: `of` names the scheme it changes."""

    id: str = Field(pattern=REFORM_ID)
    of: str
    title: str
    why: str
    source: Source | None = None
    variant: VariantReading | None = None


class Reform(Model):
    """A reform file: its header, and the changes in the order they apply."""

    reform: ReformHeader
    changes: list[Change] = Field(default_factory=list)
    file: str = "<reform>"
    sha256: str = ""


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


# --- reading ----------------------------------------------------------------------------


def is_reform_file(path: str | Path) -> bool:
    """Whether a YAML file is a reform (its first key is `reform:`), not a scheme."""
    try:
        with Path(path).open("rb") as f:
            head = f.read(1 << 16).decode("utf-8", "replace")
    except OSError:
        return False
    return re.search(r"^reform:", head, re.MULTILINE) is not None


def load_reform(path: str | Path) -> tuple[Reform, Located]:
    """Read and validate a reform file; the located data gives each change's line."""
    path = Path(path)
    located = load_yaml(path, SchemeError)
    sha256 = "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
    return parse_reform(located, sha256), located


def parse_reform(located: Located, sha256: str) -> Reform:
    """A reform from YAML data; a malformed one raises SchemeError with file, line, field."""
    if not isinstance(located.data, dict):
        raise SchemeError("a reform file is a mapping (reform: {id, of, title, why}, changes)",
                          file=located.file, line=1)
    try:
        return Reform.model_validate({**located.data, "file": located.file, "sha256": sha256})
    except ValidationError as exc:
        raise located_error(exc, located, _strip_union_tags(exc.errors()[0]["loc"])) from None


def _strip_union_tags(loc: Sequence[Any]) -> tuple[Any, ...]:
    """Pydantic's error path without the union tag it adds after `changes[i]`."""
    out = list(loc)
    if len(out) >= 3 and out[0] == "changes" and out[2] in _OPERATIONS:
        del out[2]
    return tuple(out)


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
