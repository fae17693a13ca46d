"""A Parquet history's event columns checked and converted to the events table.

Each check runs on whole columns; a refused value is a HistoryError naming the file, the
row (1-based, within its file) and the field, with the message JSONL gives for it. What
is left is the events table (`parquet_checks.events_schema`): exact decimals, naive UTC
timestamps, one column per attribute.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.errors import HistoryError, did_you_mean
from creditlab.engine.inputs.located import short
from creditlab.engine.inputs.parquet_checks import (
    CONTROL,
    CONTROL_PY,
    DECIMAL,
    EVENT_FIELDS,
    POSITION_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    WANTED_TYPES,
    attribute_specs,
    day_in_range,
    first_true,
    is_text,
    number_text,
    outside_text,
    parse_date,
    parse_distinct,
    plain_array,
    row_error,
    shown,
    year_out_of_range,
)
from creditlab.engine.inputs.vocabulary import MAX_MAGNITUDE, AttrSpec, Vocabulary

__all__ = [
    "EventChecker",
    "number_problem",
    "parse_at",
]


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

    def table(self, raw: pa.Table, schema: pa.Schema, *, ordered: bool = True) -> pa.Table:
        """`raw`'s rows checked and typed as `schema`; in (at, id) order when `ordered`
        (a caller that joins several tables sorts once, after joining)."""
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
                 if c not in (*EVENT_FIELDS, ROW_COLUMN, SOURCE_COLUMN, POSITION_COLUMN)]
        for name in extra:
            column = plain_array(raw.column(name))
            self.check_allowed(raw, etype, name, column)
            if name in self.kinds:
                columns[name] = self.attribute(raw, etype, name, column)
        self.check_required(raw, etype)
        order = pc.sort_indices(pa.table({"at": at, "id": ids}),
                                sort_keys=[("at", "ascending"), ("id", "ascending")]) \
            if ordered else None
        arrays = [pa.array(np.arange(n, dtype=np.int64))]
        for f in schema:
            if f.name in columns:
                arrays.append(columns[f.name] if order is None else columns[f.name].take(order))
            elif f.name != "position":
                arrays.append(pa.nulls(n, f.type))
        return pa.Table.from_arrays(arrays, schema=schema)

    def check_text(self, raw: pa.Table, column: pa.Array, name: str) -> None:
        bad = first_true(pc.match_substring_regex(column, CONTROL))
        if bad is not None:
            found = CONTROL_PY.search(column[bad].as_py())
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
            raise self.fail(outside_text(at.slice(bad, 1)), raw, bad, "at")
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
        return parse_distinct(column, parse, to,
                              lambda reason, i: self.fail(reason, raw, i, name))

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
                out = self.parse_unique(raw, column, name, parse_date, pa.date32())
            else:
                raise self.wrong_type(raw, name, column, "date")
            bad = first_true(year_out_of_range(out))
            if bad is not None:
                raise self.fail(outside_text(out.slice(bad, 1)), raw, bad, name)
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
                                f"{shown(column[bad].as_py())}", raw, bad, name)

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
            value = self.cast(raw, column.cast(pa.string()), DECIMAL, name, number_problem)
        elif pa.types.is_decimal(t) or is_text(t):
            value = self.cast(raw, column, DECIMAL, name, number_problem)
        else:
            raise self.wrong_type(raw, name, column, kind)
        if kind == "int":
            bad = first_true(pc.not_equal(pc.round(value, 0), value))
            if bad is not None:
                raise self.fail(f"expected an integer, got {number_text(value[bad].as_py())}",
                                raw, bad, name)
        limit = pa.scalar(MAX_MAGNITUDE, DECIMAL)
        bad = first_true(pc.greater_equal(pc.abs(value), limit))
        if bad is not None:
            raise self.fail(f"number {number_text(value[bad].as_py())} is out of range "
                            "(magnitude below 10^15)", raw, bad, name)
        for code, attr in self.present_with(name):
            self.check_range(raw, etype, code, attr, name, value)
        bad = first_true(pc.not_equal(pc.round(value, 6), value))
        if bad is not None:
            raise self.fail(f"number {number_text(value[bad].as_py())} has more than 6 "
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
                                f"{number_text(value[bad].as_py())}", raw, bad, name)


def number_problem(value: Any) -> str:
    """Why a value does not convert to a decimal(38, 9), in JSONL's words."""
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            return f"expected a number, got {shown(value)}"
        if not number.is_finite():
            return f"not a finite number: {short(value)}"
        value = number
    if isinstance(value, Decimal):
        if abs(value) >= MAX_MAGNITUDE:
            return f"number {short(str(value))} is out of range (magnitude below 10^15)"
        return f"number {short(str(value))} has more than 6 decimal places"
    return f"expected a number, got {shown(value)}"


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
