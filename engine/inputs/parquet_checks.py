"""Checking a Parquet history's columns: what they are checked against, and the subjects.

`history_parquet` reads the files and partitions; this module holds what every column is
checked against (the vocabulary's attribute kinds, the events table's schema, the bounds of
`history_files`), the small helpers that name a refused value's file, row (1-based, within
its file) and field, and the checker of subject columns. Event columns are checked in
`parquet_events`. Nothing here builds a Python object per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.errors import HistoryError, did_you_mean
from creditlab.engine.inputs.history import FIRST_YEAR, LAST_YEAR
from creditlab.engine.inputs.located import short
from creditlab.engine.inputs.vocabulary import Vocabulary

__all__ = [
    "CONTROL",
    "CONTROL_PY",
    "DECIMAL",
    "EVENT_FIELDS",
    "POSITION_COLUMN",
    "ROW_COLUMN",
    "SOURCE_COLUMN",
    "SUBJECT_FIELDS",
    "WANTED_TYPES",
    "SubjectChecker",
    "attribute_specs",
    "day_in_range",
    "events_schema",
    "first_true",
    "is_text",
    "number_text",
    "outside_text",
    "parse_date",
    "parse_distinct",
    "plain_array",
    "row_error",
    "shown",
    "year_out_of_range",
]

DECIMAL = pa.decimal128(38, 9)
"""Arrow type of int and number attributes in the events table."""

ARROW_OF_KIND: dict[str, pa.DataType] = {
    "int": DECIMAL, "number": DECIMAL, "bool": pa.bool_(), "str": pa.string(),
    "enum": pa.string(), "date": pa.date32(), "list[role]": pa.list_(pa.string()),
}
WANTED_TYPES: dict[str, str] = {
    "int": "an integer, float, decimal or string column",
    "number": "an integer, float, decimal or string column",
    "bool": "a bool column",
    "str": "a string column",
    "enum": "a string column",
    "date": "a date32, timestamp or string column",
    "list[role]": "a list<string> column",
    "id": "a string or integer column",
    "at": "a timestamp, date32 or string column",
}
SUBJECT_FIELDS = ("id", "kind", "born", "residence", "hukou", "roles")
EVENT_FIELDS = ("id", "subject", "at", "type")
ROW_COLUMN = "__row"
SOURCE_COLUMN = "__source"
POSITION_COLUMN = "__position"

# What history_files refuses in strings (C0 but tab, LF and CR; DEL; C1 but NEL;
# U+FFFE, U+FFFF), in RE2 syntax.
CONTROL = r"[\x{0}-\x{8}\x{b}\x{c}\x{e}-\x{1f}\x{7f}-\x{84}\x{86}-\x{9f}\x{fffe}\x{ffff}]"
CONTROL_PY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


def attribute_specs(vocabulary: Vocabulary) -> dict[str, str]:
    """The kind of every event attribute name (one kind per name across event types)."""
    kinds: dict[str, str] = {}
    for spec in vocabulary.events.values():
        for name, attr in spec.attrs.items():
            kinds.setdefault(name, attr.kind)
    return dict(sorted(kinds.items()))


def events_schema(vocabulary: Vocabulary) -> pa.Schema:
    """The events table: position, id, subject, at, type, then every attribute by name."""
    return pa.schema(
        [("position", pa.int64()), ("id", pa.string()), ("subject", pa.string()),
         ("at", pa.timestamp("us")), ("type", pa.string())]
        + [(name, ARROW_OF_KIND[kind]) for name, kind in attribute_specs(vocabulary).items()])


# --- errors and small helpers ----------------------------------------------------------


def row_error(reason: str, file: str, row: int | None = None,
              field: str | None = None) -> HistoryError:
    """A HistoryError naming the file, the row ("row N", 1-based data row) and the field."""
    return HistoryError(reason, file=file, row=row, field=field)


def is_text(t: pa.DataType) -> bool:
    return bool(pa.types.is_string(t) or pa.types.is_large_string(t)
                or pa.types.is_string_view(t))


def plain_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """One array; dictionaries decoded, large and view strings as plain strings."""
    if isinstance(column, pa.ChunkedArray):
        column = column.combine_chunks() if column.num_chunks != 1 else column.chunk(0)
    if pa.types.is_dictionary(column.type):
        column = column.dictionary_decode()
    if is_text(column.type) and column.type != pa.string():
        column = column.cast(pa.string())
    return column


def first_true(mask: pa.Array | np.ndarray) -> int | None:
    """Index of the first true (null counts as false), or None."""
    values = mask if isinstance(mask, np.ndarray) else \
        mask.fill_null(False).to_numpy(zero_copy_only=False)
    hits = np.flatnonzero(values)
    return int(hits[0]) if hits.size else None


def shown(value: Any) -> str:
    """A bad value quoted as vocabulary.check_attr quotes it."""
    if isinstance(value, str):
        return short(value)
    if value is None:
        return "null"
    return f"{short(value)} ({type(value).__name__})"


def number_text(value: Decimal) -> str:
    """A decimal as a person writes it: 1.5, not 1.500000000."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def day_in_range(day: date) -> str | None:
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return (f"date {day.isoformat()} is outside the years {FIRST_YEAR} to {LAST_YEAR} that "
            "creditlab replays")


def outside_text(value: pa.Array) -> str:
    """The message for a date out of range, from Arrow (Python's dates stop at year 1)."""
    y, m, d = (pc.year(value)[0].as_py(), pc.month(value)[0].as_py(), pc.day(value)[0].as_py())
    return (f"date {y:04d}-{m:02d}-{d:02d} is outside the years {FIRST_YEAR} to {LAST_YEAR} "
            "that creditlab replays")


def year_out_of_range(values: pa.Array) -> pa.Array:
    years = pc.year(values)
    return pc.or_(pc.less(years, FIRST_YEAR), pc.greater(years, LAST_YEAR))


# --- checking and converting events -------------------------------------------------------


def parse_distinct(column: pa.Array, parse: Callable[[str], Any], to: pa.DataType,
                   refuse: Callable[[str, int], Exception]) -> pa.Array:
    """Strings parsed once per distinct value (dates repeat), then spread to the rows; the
    first row of a value `parse` refuses is raised as `refuse(reason, row index)`."""
    distinct = pc.unique(column.drop_null())
    parsed = []
    for value in distinct.to_pylist():
        try:
            parsed.append(parse(value))
        except ValueError as exc:
            bad = first_true(pc.equal(column, value))
            assert bad is not None
            raise refuse(str(exc), bad) from None
    return pa.array(parsed, to).take(pc.index_in(column, value_set=distinct))


def parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {shown(text)}") from None


@dataclass
class SubjectChecker:
    file: str
    vocabulary: Vocabulary
    rows: np.ndarray

    def fail(self, reason: str, i: int, field: str | None) -> HistoryError:
        return row_error(reason, self.file, int(self.rows[i]) if len(self.rows) else None, field)

    def table(self, raw: pa.Table, n: int) -> pa.Table:
        if "id" not in raw.column_names:
            if n:
                raise self.fail("a subject needs an 'id' (a string)", 0, "id")
            ids = pa.array([], pa.string())
        else:
            ids = plain_array(raw.column("id"))
            if pa.types.is_integer(ids.type):
                ids = ids.cast(pa.string())
        bad = first_true(pc.or_(pc.is_null(ids), pc.equal(pc.utf8_length(ids), 0)))
        if bad is not None:
            raise self.fail("a subject needs an 'id' (a string)", bad, "id")
        if len(pc.unique(ids)) != len(ids):
            seen: set[str] = set()
            for i, sid in enumerate(ids.to_pylist()):
                if sid in seen:
                    raise self.fail(f"duplicate subject id {short(sid)}", i, "id")
                seen.add(sid)
        out: dict[str, pa.Array] = {"id": ids}
        for name in ("id", "kind", "residence", "hukou"):
            if name in raw.column_names:
                column = plain_array(raw.column(name))
                bad = first_true(pc.match_substring_regex(column, CONTROL))
                if bad is not None:
                    found = CONTROL_PY.search(column[bad].as_py())
                    assert found is not None
                    raise self.fail(f"control character U+{ord(found.group()):04X} in a "
                                    "string", bad, name)
        for name in ("kind", "residence", "hukou"):
            spec = self.vocabulary.subject[name]
            column = plain_array(raw.column(name)) if name in raw.column_names \
                else pa.nulls(n, pa.string())
            if spec.required:
                bad = first_true(pc.is_null(column))
                if bad is not None:
                    raise self.fail(f"missing required subject field {name!r}", bad, name)
            bad = first_true(pc.and_(pc.is_valid(column),
                                 pc.invert(pc.is_in(column, value_set=pa.array(spec.values)))))
            if bad is not None:
                raise self.fail(f"expected one of {', '.join(spec.values)}; got "
                                f"{shown(column[bad].as_py())}", bad, name)
            out[name] = column
        out["born"] = self.born(raw, n)
        out["roles"] = self.roles(raw, n)
        return pa.table({k: out[k] for k in SUBJECT_FIELDS})

    def born(self, raw: pa.Table, n: int) -> pa.Array:
        if "born" not in raw.column_names:
            return pa.nulls(n, pa.date32())
        column = plain_array(raw.column("born"))
        if pa.types.is_date(column.type):
            born = column.cast(pa.date32())
        elif pa.types.is_timestamp(column.type):
            born = column.cast(pa.timestamp("us", tz=column.type.tz)).cast(
                pa.timestamp("us")).cast(pa.date32())
        else:
            born = parse_distinct(column, parse_date, pa.date32(),
                                  lambda reason, i: self.fail(reason, i, "born"))
        bad = first_true(year_out_of_range(born))
        if bad is not None:
            raise self.fail(outside_text(born.slice(bad, 1)), bad, "born")
        return born

    def roles(self, raw: pa.Table, n: int) -> pa.Array:
        if "roles" not in raw.column_names:
            return pa.nulls(n, pa.list_(pa.string()))
        roles = plain_array(raw.column("roles")).cast(pa.list_(pa.string()))
        flat = roles.flatten()
        bad = first_true(pc.invert(pc.is_in(flat, value_set=pa.array(self.vocabulary.roles))))
        if bad is not None:
            role = flat[bad].as_py()
            parents = pc.list_parent_indices(roles).to_numpy(zero_copy_only=False)
            raise self.fail(f"unknown role {short(role)}"
                            f"{did_you_mean(str(role), self.vocabulary.roles)}",
                            int(parents[bad]), "roles")
        return roles


