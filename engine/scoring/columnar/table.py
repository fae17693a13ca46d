"""A history as Arrow tables: the columnar backend's input, and the city files' shape.

The events table has one row per event: `position` (the row's index in canonical
(at, id) order), `id`, `subject`, `at`, `type`, then one column per attribute name of
the vocabulary's event types. An attribute's kind fixes the column's type: numbers are
`decimal128(38, 9)` (exact: a vocabulary number has at most six decimals), booleans
`bool`, strings and enums `string`, dates `date32`, role lists `list<string>`. An
event that lacks an attribute holds null there. A reader may leave out the columns of
attributes its events never use: the backend reads an absent column as all null.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pyarrow as pa

from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

__all__ = ["ATTR_TYPES", "EVENT_COLUMNS", "NUMBER", "SUBJECTS_SCHEMA", "attribute_types",
           "events_table", "subjects_table"]

NUMBER = pa.decimal128(38, 9)
"""The Arrow type of an event's number attribute."""

ATTR_TYPES: dict[str, pa.DataType] = {
    "int": NUMBER, "number": NUMBER, "bool": pa.bool_(), "str": pa.string(),
    "enum": pa.string(), "date": pa.date32(), "list[role]": pa.list_(pa.string()),
}
"""The column type of each vocabulary attribute kind."""

EVENT_COLUMNS = pa.schema([
    ("position", pa.int64()), ("id", pa.string()), ("subject", pa.string()),
    ("at", pa.timestamp("us")), ("type", pa.string()),
])
"""The columns every events table has, before its attribute columns."""

SUBJECTS_SCHEMA = pa.schema([
    ("id", pa.string()), ("kind", pa.string()), ("born", pa.date32()),
    ("residence", pa.string()), ("hukou", pa.string()), ("roles", pa.list_(pa.string())),
])


def attribute_types(vocabulary: Vocabulary | None = None) -> dict[str, pa.DataType]:
    """Each event attribute name of the vocabulary and its column type, sorted by name.

    Every attribute name has one kind across event types (only enum values differ).
    """
    voc = vocabulary or shipped_vocabulary()
    kinds: dict[str, pa.DataType] = {}
    for spec in voc.events.values():
        for name, attr in spec.attrs.items():
            kinds.setdefault(name, ATTR_TYPES[attr.kind])
    return dict(sorted(kinds.items()))


def events_table(history: History) -> pa.Table:
    """The history's events, in its (at, id) order: `position` 0..n-1."""
    events = history.events
    columns: dict[str, Any] = {
        "position": pa.array(range(len(events)), pa.int64()),
        "id": pa.array([e.id for e in events], pa.string()),
        "subject": pa.array([e.subject for e in events], pa.string()),
        "at": pa.array([e.at.replace(tzinfo=None) for e in events], pa.timestamp("us")),
        "type": pa.array([e.type for e in events], pa.string()),
    }
    for name, kind in attribute_types().items():
        values = [e.attrs.get(name) for e in events]
        if kind == NUMBER:
            values = [None if v is None else Decimal(v) for v in values]  # type: ignore[arg-type]
        columns[name] = pa.array(values, kind)
    return pa.table(columns)


def subjects_table(history: History) -> pa.Table:
    """The history's subjects, in their order: id, kind, born, residence, hukou, roles."""
    subjects = list(history.subjects.values())
    return pa.table({
        "id": [s.id for s in subjects], "kind": [s.kind for s in subjects],
        "born": [s.born for s in subjects], "residence": [s.residence for s in subjects],
        "hukou": [s.hukou for s in subjects], "roles": [list(s.roles) for s in subjects],
    }, schema=SUBJECTS_SCHEMA)
