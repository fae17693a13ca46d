"""A reform file: what-if edits of a scheme, kept as data that says what changed and why.

A reform file names a base scheme (`reform: {id, of, title, why}`) and lists `changes`,
applied in order to the base's data (by `reform`). A change is one of three operations,
each named by its one key:

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

This module holds the file's models and reads them (a malformed file is a `SchemeError`
with file, line and field); applying a reform, and what it gives, is `reform`."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from pathlib import Path
from typing import Annotated, Any

from pydantic import Discriminator, Field, Tag, ValidationError

from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.load import located_error
from creditlab.engine.inputs.located import Located, load_yaml
from creditlab.engine.inputs.scheme import Source
from creditlab.engine.model import Model

__all__ = [
    "REFORM_ID",
    "AddItem",
    "Change",
    "Reform",
    "ReformHeader",
    "RemoveItem",
    "SetValue",
    "VariantReading",
    "is_reform_file",
    "load_reform",
    "parse_reform",
]


REFORM_ID = r"^[a-z0-9][a-z0-9_-]*$"
"""A reform's id: lower-case letters, digits, `_` and `-` (`cap-per-donation`)."""


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
