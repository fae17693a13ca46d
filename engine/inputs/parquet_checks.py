"""Checking a Parquet history's columns: types, values and bounds, row by row but vectorised.

`history_parquet` reads the files and partitions; this module holds what it checks each
column against (the vocabulary's attribute kinds, the events table's schema, the bounds of
`history_files`) and the checkers of subjects and events, which refuse a bad value with the
file, the row (1-based, within its file) and the field, and convert the rest to the events
table. Nothing here builds a Python object per row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.errors import HistoryError, did_you_mean
from creditlab.engine.inputs.history import FIRST_YEAR, LAST_YEAR
from creditlab.engine.inputs.located import short
from creditlab.engine.inputs.vocabulary import MAX_MAGNITUDE, AttrSpec, Vocabulary

__all__ = [
    "DECIMAL",
    "POSITION_COLUMN",
    "ROW_COLUMN",
    "SOURCE_COLUMN",
    "SUBJECT_FIELDS",
    "WANTED_TYPES",
    "EventChecker",
    "SubjectChecker",
    "attribute_specs",
    "day_in_range",
    "events_schema",
    "first_true",
    "is_text",
    "parse_at",
    "plain_array",
    "row_error",
    "year_out_of_range",
]

DECIMAL = pa.decimal128(38, 9)
"""Arrow type of int and number attributes in the events table."""

_ARROW_OF_KIND: dict[str, pa.DataType] = {
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
_EVENT_FIELDS = ("id", "subject", "at", "type")
ROW_COLUMN = "__row"
SOURCE_COLUMN = "__source"
POSITION_COLUMN = "__position"

# What history_files refuses in strings (C0 but tab, LF and CR; DEL; C1 but NEL;
# U+FFFE, U+FFFF), in RE2 syntax.
_CONTROL = r"[\x{0}-\x{8}\x{b}\x{c}\x{e}-\x{1f}\x{7f}-\x{84}\x{86}-\x{9f}\x{fffe}\x{ffff}]"
_CONTROL_PY = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\ufffe\uffff]")


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
        + [(name, _ARROW_OF_KIND[kind]) for name, kind in attribute_specs(vocabulary).items()])


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


def _show(value: Any) -> str:
    """A bad value quoted as vocabulary.check_attr quotes it."""
    if isinstance(value, str):
        return short(value)
    if value is None:
        return "null"
    return f"{short(value)} ({type(value).__name__})"


def _number_text(value: Decimal) -> str:
    """A decimal as a person writes it: 1.5, not 1.500000000."""
    if value == value.to_integral_value():
        return str(int(value))
    return format(value.normalize(), "f")


def day_in_range(day: date) -> str | None:
    if FIRST_YEAR <= day.year <= LAST_YEAR:
        return None
    return (f"date {day.isoformat()} is outside the years {FIRST_YEAR} to {LAST_YEAR} that "
            "creditlab replays")


def _outside(value: pa.Array) -> str:
    """The message for a date out of range, from Arrow (Python's dates stop at year 1)."""
    y, m, d = (pc.year(value)[0].as_py(), pc.month(value)[0].as_py(), pc.day(value)[0].as_py())
    return (f"date {y:04d}-{m:02d}-{d:02d} is outside the years {FIRST_YEAR} to {LAST_YEAR} "
            "that creditlab replays")


def year_out_of_range(values: pa.Array) -> pa.Array:
    years = pc.year(values)
    return pc.or_(pc.less(years, FIRST_YEAR), pc.greater(years, LAST_YEAR))


# --- checking and converting events -------------------------------------------------------


class EventChecker:
    """Checks a table of raw event rows and converts it to the events table."""

    def __init__(self, vocabulary: Vocabulary, files: list[str]) -> None:
        self.vocabulary = vocabulary
        self.files = files
        self.kinds = attribute_specs(vocabulary)
        self.names = sorted(vocabulary.events)
        self.types = pa.array(self.names)
        self.codes = np.zeros(0, np.int32)  # the type of each row, as an index in names
        self.present: list[str] = []

    def of_type(self, code: str) -> np.ndarray:
        """Which rows have event type `code` (a mask)."""
        mask: np.ndarray = self.codes == self.names.index(code)
        return mask

    def present_with(self, name: str) -> list[tuple[str, AttrSpec]]:
        """The event types of this table that have attribute `name`, with its spec."""
        out = []
        for code in self.present:
            attr = self.vocabulary.events[code].attrs.get(name)
            if attr is not None:
                out.append((code, attr))
        return out

    def fail(self, reason: str, table: pa.Table, i: int, field: str | None) -> HistoryError:
        source = int(table.column(SOURCE_COLUMN)[i].as_py())
        row = int(table.column(ROW_COLUMN)[i].as_py())
        return row_error(reason, self.files[source], row, field)

    def table(self, raw: pa.Table, schema: pa.Schema) -> pa.Table:
        n = raw.num_rows
        for name in ("at", "type"):
            if name not in raw.column_names:
                raise self.fail(f"missing required field {name!r}", raw, 0, name)
            bad = first_true(pc.is_null(raw.column(name)))
            if bad is not None:
                raise self.fail(f"missing required field {name!r}", raw, bad, name)
        ids = plain_array(raw.column("id")) if "id" in raw.column_names else None
        if ids is not None:
            bad = first_true(pc.equal(pc.utf8_length(ids), 0))
            if bad is not None:
                raise self.fail("an event 'id' must be a non-empty string", raw, bad, "id")
        else:
            ids = pc.binary_join_element_wise(
                "#", pc.cast(raw.column(POSITION_COLUMN), pa.string()), "")
        subject = plain_array(raw.column("subject"))
        etype = plain_array(raw.column("type"))
        # Subjects were checked against the subjects table, types are checked against the
        # vocabulary: only ids can hold a control character.
        self.check_text(raw, ids, "id")
        codes = pc.index_in(etype, value_set=self.types)
        bad = first_true(pc.is_null(codes))
        if bad is not None:
            value = etype[bad].as_py()
            raise self.fail(f"unknown event type {short(value)}"
                            f"{did_you_mean(str(value), self.vocabulary.events)}", raw, bad,
                            "type")
        self.codes = codes.to_numpy(zero_copy_only=False)
        self.present = [self.names[i] for i in np.unique(self.codes)]
        at = self.at(raw, plain_array(raw.column("at")))
        columns: dict[str, pa.Array] = {"id": ids, "subject": subject, "at": at, "type": etype}
        extra = [c for c in raw.column_names
                 if c not in (*_EVENT_FIELDS, ROW_COLUMN, SOURCE_COLUMN, POSITION_COLUMN)]
        for name in extra:
            column = plain_array(raw.column(name))
            self.check_allowed(raw, etype, name, column)
            if name in self.kinds:
                columns[name] = self.attribute(raw, etype, name, column)
        self.check_required(raw, etype)
        order = pc.sort_indices(pa.table({"at": at, "id": ids}),
                                sort_keys=[("at", "ascending"), ("id", "ascending")])
        arrays = [pa.array(np.arange(n, dtype=np.int64))]
        for f in schema:
            if f.name in columns:
                arrays.append(columns[f.name].take(order))
            elif f.name != "position":
                arrays.append(pa.nulls(n, f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def check_text(self, raw: pa.Table, column: pa.Array, name: str) -> None:
        bad = first_true(pc.match_substring_regex(column, _CONTROL))
        if bad is not None:
            found = _CONTROL_PY.search(column[bad].as_py())
            assert found is not None
            raise self.fail(f"control character U+{ord(found.group()):04X} in a string", raw,
                            bad, name)

    def check_allowed(self, raw: pa.Table, etype: pa.Array, name: str,
                      column: pa.Array) -> None:
        """A value in a column the event's type has no attribute for is refused."""
        allowed = [i for i, t in enumerate(self.names) if name in self.vocabulary.events[t].attrs]
        valid = pc.is_valid(column).to_numpy(zero_copy_only=False)
        bad = first_true(valid & ~np.isin(self.codes, allowed))
        if bad is not None:
            value = etype[bad].as_py()
            attrs = self.vocabulary.events[value].attrs
            raise self.fail(f"unknown attribute {short(name)} for {value}"
                            f"{did_you_mean(name, attrs)}; its attributes: "
                            f"{', '.join(attrs) or 'none'}", raw, bad, name)

    def check_required(self, raw: pa.Table, etype: pa.Array) -> None:
        for code in self.present:
            for name, attr in self.vocabulary.events[code].attrs.items():
                if not attr.required:
                    continue
                missing = self.of_type(code)
                if name in raw.column_names:
                    missing = missing & pc.is_null(raw.column(name)).to_numpy(
                        zero_copy_only=False)
                bad = first_true(missing)
                if bad is not None:
                    raise self.fail(f"missing required attribute {name!r} for {code}", raw,
                                    bad, name)

    def at(self, raw: pa.Table, column: pa.Array) -> pa.Array:
        t = column.type
        if pa.types.is_timestamp(t):
            at = self.cast(raw, column, pa.timestamp("us", tz=t.tz), "at",
                           lambda v: "the time is out of range")
            at = at.cast(pa.timestamp("us"))  # the UTC instant, naive
        elif pa.types.is_date(t):
            at = column.cast(pa.date32()).cast(pa.timestamp("us"))
        else:
            at = self.parse_unique(raw, column, "at", parse_at, pa.timestamp("us"))
        bad = first_true(year_out_of_range(at))
        if bad is not None:
            raise self.fail(_outside(at.slice(bad, 1)), raw, bad, "at")
        return at

    def cast(self, raw: pa.Table, column: pa.Array, to: pa.DataType, name: str,
             why: Callable[[Any], str]) -> pa.Array:
        """`column` cast safely; a failure names the first value that does not convert."""
        try:
            return column.cast(to)
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            for i in range(len(column)):
                try:
                    column.slice(i, 1).cast(to)
                except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
                    raise self.fail(why(column[i].as_py()), raw, i, name) from None
            raise

    def parse_unique(self, raw: pa.Table, column: pa.Array, name: str,
                     parse: Callable[[str], Any], to: pa.DataType) -> pa.Array:
        """Strings parsed once per distinct value (dates repeat), then spread to the rows."""
        distinct = pc.unique(column.drop_null())
        parsed = []
        for value in distinct.to_pylist():
            try:
                parsed.append(parse(value))
            except ValueError as exc:
                bad = first_true(pc.equal(column, value))
                assert bad is not None
                raise self.fail(str(exc), raw, bad, name) from None
        return pa.array(parsed, to).take(pc.index_in(column, value_set=distinct))

    def attribute(self, raw: pa.Table, etype: pa.Array, name: str,
                  column: pa.Array) -> pa.Array:
        kind = self.kinds[name]
        t = column.type
        if kind in ("int", "number"):
            return self.number(raw, etype, name, column, kind)
        if kind == "bool":
            if not pa.types.is_boolean(t):
                raise self.wrong_type(raw, name, column, "bool")
            return column
        if kind in ("str", "enum"):
            if not is_text(t):
                raise self.wrong_type(raw, name, column, kind)
            if kind == "enum":
                self.check_enum(raw, etype, name, column)
            else:
                self.check_text(raw, column, name)
            return column
        if kind == "date":
            if pa.types.is_date(t):
                out = column.cast(pa.date32())
            elif pa.types.is_timestamp(t):
                out = column.cast(pa.timestamp("us", tz=t.tz)).cast(pa.timestamp("us")) \
                    .cast(pa.date32())
            elif is_text(t):
                out = self.parse_unique(raw, column, name, _parse_date, pa.date32())
            else:
                raise self.wrong_type(raw, name, column, "date")
            bad = first_true(year_out_of_range(out))
            if bad is not None:
                raise self.fail(_outside(out.slice(bad, 1)), raw, bad, name)
            return out
        if kind == "list[role]":
            if not (pa.types.is_list(t) or pa.types.is_large_list(t)):
                raise self.wrong_type(raw, name, column, kind)
            return column.cast(pa.list_(pa.string()))
        raise self.fail(f"attributes of type {kind} are not supported on events", raw, 0, name)

    def wrong_type(self, raw: pa.Table, name: str, column: pa.Array, kind: str) -> HistoryError:
        bad = first_true(pc.is_valid(column)) or 0
        return self.fail(f"column {name!r} has Arrow type {column.type}; it should be "
                         f"{WANTED_TYPES[kind]}", raw, bad, name)

    def check_enum(self, raw: pa.Table, etype: pa.Array, name: str, column: pa.Array) -> None:
        for code, attr in self.present_with(name):
            outside = pc.invert(pc.is_in(column, value_set=pa.array(attr.values)))
            outside = pc.and_(outside, pc.is_valid(column)).to_numpy(zero_copy_only=False)
            bad = first_true(self.of_type(code) & outside)
            if bad is not None:
                raise self.fail(f"expected one of {', '.join(attr.values)}; got "
                                f"{_show(column[bad].as_py())}", raw, bad, name)

    def number(self, raw: pa.Table, etype: pa.Array, name: str, column: pa.Array,
               kind: str) -> pa.Array:
        t = column.type
        if pa.types.is_integer(t):
            value = column.cast(DECIMAL)
        elif pa.types.is_floating(t):
            bad = first_true(pc.invert(pc.is_finite(column)))
            if bad is not None:
                raise self.fail(f"not a finite number: {column[bad].as_py()}", raw, bad, name)
            # A float converts through its shortest repr, as JSON reads "0.1".
            value = self.cast(raw, column.cast(pa.string()), DECIMAL, name, _number_problem)
        elif pa.types.is_decimal(t) or is_text(t):
            value = self.cast(raw, column, DECIMAL, name, _number_problem)
        else:
            raise self.wrong_type(raw, name, column, kind)
        if kind == "int":
            bad = first_true(pc.not_equal(pc.round(value, 0), value))
            if bad is not None:
                raise self.fail(f"expected an integer, got {_number_text(value[bad].as_py())}",
                                raw, bad, name)
        limit = pa.scalar(MAX_MAGNITUDE, DECIMAL)
        bad = first_true(pc.greater_equal(pc.abs(value), limit))
        if bad is not None:
            raise self.fail(f"number {_number_text(value[bad].as_py())} is out of range "
                            "(magnitude below 10^15)", raw, bad, name)
        for code, attr in self.present_with(name):
            self.check_range(raw, etype, code, attr, name, value)
        bad = first_true(pc.not_equal(pc.round(value, 6), value))
        if bad is not None:
            raise self.fail(f"number {_number_text(value[bad].as_py())} has more than 6 "
                            "decimal places", raw, bad, name)
        return value

    def check_range(self, raw: pa.Table, etype: pa.Array, code: str, attr: AttrSpec,
                    name: str, value: pa.Array) -> None:
        of_type = self.of_type(code)
        for bound, test, sign in ((attr.low, pc.less, "\u2265"), (attr.high, pc.greater,
                                                                   "\u2264")):
            if bound is None:
                continue
            beyond = test(value, pa.scalar(Decimal(bound), DECIMAL))
            bad = first_true(of_type & beyond.fill_null(False).to_numpy(zero_copy_only=False))
            if bad is not None:
                raise self.fail(f"must be {sign} {bound}, got "
                                f"{_number_text(value[bad].as_py())}", raw, bad, name)


def _number_problem(value: Any) -> str:
    """Why a value does not convert to a decimal(38, 9), in JSONL's words."""
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return f"expected a number, got {_show(value)}"
        if not number.is_finite():
            return f"not a finite number: {short(value)}"
        value = number
    if isinstance(value, Decimal):
        if abs(value) >= MAX_MAGNITUDE:
            return f"number {short(str(value))} is out of range (magnitude below 10^15)"
        return f"number {short(str(value))} has more than 6 decimal places"
    return f"expected a number, got {_show(value)}"


def parse_at(text: str) -> datetime:
    """An event time as naive UTC, as JSONL reads it; ValueError names the problem."""
    try:
        moment: date = datetime.fromisoformat(text) if "T" in text or " " in text \
            else date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO date or date-time, got {short(text)}") from None
    problem = day_in_range(moment)
    if problem:
        raise ValueError(problem)
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    return datetime(moment.year, moment.month, moment.day)


def _parse_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise ValueError(f"expected an ISO date (YYYY-MM-DD), got {_show(text)}") from None


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
                bad = first_true(pc.match_substring_regex(column, _CONTROL))
                if bad is not None:
                    found = _CONTROL_PY.search(column[bad].as_py())
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
                                f"{_show(column[bad].as_py())}", bad, name)
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
            parsed = []
            distinct = pc.unique(column.drop_null())
            for value in distinct.to_pylist():
                try:
                    parsed.append(_parse_date(value))
                except ValueError as exc:
                    bad = first_true(pc.equal(column, value))
                    assert bad is not None
                    raise self.fail(str(exc), bad, "born") from None
            born = pa.array(parsed, pa.date32()).take(pc.index_in(column, value_set=distinct))
        bad = first_true(year_out_of_range(born))
        if bad is not None:
            raise self.fail(_outside(born.slice(bad, 1)), bad, "born")
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


