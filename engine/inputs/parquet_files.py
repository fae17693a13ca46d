"""The files of a Parquet history: opened within bounds, their columns' types, what their
metadata and statistics say (the last day, the number of events), their hash, and the
subjects file read and checked.

Nothing here trusts a file's metadata for memory: a file is read one row group at a time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from creditlab.engine.errors import did_you_mean
from creditlab.engine.inputs.located import short
from creditlab.engine.inputs.parquet_checks import (
    SUBJECT_FIELDS,
    WANTED_TYPES,
    SubjectChecker,
    attribute_specs,
    day_in_range,
    first_true,
    is_text,
    plain_array,
    row_error,
    year_out_of_range,
)
from creditlab.engine.inputs.parquet_events import parse_at
from creditlab.engine.inputs.vocabulary import Vocabulary

__all__ = [
    "MAX_COLUMNS",
    "MAX_ROW_GROUP_BYTES",
    "ParquetFile",
    "as_of_date",
    "check_event_columns",
    "check_type",
    "count_events",
    "event_rows",
    "hash_files",
    "last_day",
    "open_file",
    "read_subjects",
]


MAX_COLUMNS = 1_000
"""Columns of one file: the vocabulary has fewer than 100 attributes."""


MAX_ROW_GROUP_BYTES = 2**30
"""A row group's uncompressed size as its metadata states it: each is read whole."""


@dataclass(frozen=True)
class ParquetFile:
    """One Parquet file of the history, opened (metadata only)."""

    path: Path
    name: str  # as errors name it
    parquet: pq.ParquetFile

    @property
    def columns(self) -> list[str]:
        return list(self.parquet.schema_arrow.names)

    def type_of(self, column: str) -> pa.DataType:
        t = self.parquet.schema_arrow.field(column).type
        return t.value_type if pa.types.is_dictionary(t) else t

    def metadata(self, key: bytes) -> str | None:
        meta = self.parquet.schema_arrow.metadata or {}
        value: bytes | None = meta.get(key)
        return value.decode("utf-8", "replace") if value is not None else None

    def row_groups(self, columns: Sequence[str]) -> Iterator[tuple[int, pa.Table]]:
        """(first row, table) for each row group, reading only `columns` that exist."""
        present = [c for c in columns if c in self.columns]
        start = 0
        for i in range(self.parquet.num_row_groups):
            table = self.parquet.read_row_group(i, columns=present)
            yield start, table
            start += table.num_rows


def open_file(path: Path, name: str, max_rows: int) -> ParquetFile:
    try:
        parquet = pq.ParquetFile(path)
    except OSError as exc:
        raise row_error(f"cannot read file: {exc.strerror or exc}", str(path)) from None
    except (pa.ArrowInvalid, pa.ArrowException) as exc:
        raise row_error(f"not a Parquet file: {short(str(exc))}", str(path)) from None
    meta = parquet.metadata
    if meta.num_rows > max_rows:
        raise row_error(f"the file's metadata says {meta.num_rows} rows; creditlab reads at most "
                        f"{max_rows}", str(path))
    if meta.num_columns > MAX_COLUMNS:
        raise row_error(f"the file has {meta.num_columns} columns; creditlab reads at most "
                        f"{MAX_COLUMNS}", str(path))
    for i in range(meta.num_row_groups):
        if meta.row_group(i).total_byte_size > MAX_ROW_GROUP_BYTES:
            raise row_error(f"row group {i} is larger than {MAX_ROW_GROUP_BYTES // 2**20} MiB "
                            "uncompressed; write smaller row groups", str(path))
    return ParquetFile(path, str(path), parquet)


def check_type(file: ParquetFile, column: str, wanted: str) -> None:
    """Refuse a column whose Arrow type cannot hold what `wanted` (a kind) needs."""
    if column not in file.columns:
        return
    t = file.type_of(column)
    ok: bool
    if wanted in ("int", "number"):
        ok = bool(pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
                  or is_text(t))
    elif wanted == "bool":
        ok = pa.types.is_boolean(t)
    elif wanted in ("str", "enum"):
        ok = is_text(t)
    elif wanted == "date" or wanted == "at":
        ok = bool(pa.types.is_date(t) or pa.types.is_timestamp(t) or is_text(t))
    elif wanted == "id":
        ok = bool(is_text(t) or pa.types.is_integer(t))
    elif wanted == "list[role]":
        ok = bool((pa.types.is_list(t) or pa.types.is_large_list(t))
                  and is_text(t.value_type))
    else:  # an unknown column: any flat type, reported on its first value
        ok = not pa.types.is_nested(t)
        if not ok:
            raise row_error(f"column {column!r} has the nested Arrow type {t}; creditlab reads "
                            "flat columns only", file.name, field=column)
        return
    if not ok:
        raise row_error(f"column {column!r} has Arrow type {t}; it should be "
                        f"{WANTED_TYPES[wanted]}", file.name, field=column)


def hash_files(files: Sequence[tuple[str, Path]]) -> str:
    digest = hashlib.sha256()
    for name, path in files:
        digest.update(name.encode("utf-8") + b"\0" + str(path.stat().st_size).encode() + b"\0")
        with path.open("rb") as f:
            while chunk := f.read(2**20):
                digest.update(chunk)
    return "sha256:" + digest.hexdigest()


def event_rows(table: pa.Table, single: bool) -> pa.Array | None:
    """In the single-file layout, which rows are events (record not "subject")."""
    if not single:
        return None
    record = plain_array(table.column("record"))
    return pc.invert(pc.equal(record, "subject").fill_null(False))


def as_of_date(text: str | None, file: str) -> date | None:
    if text is None:
        return None
    try:
        day = date.fromisoformat(text)
    except ValueError:
        raise row_error(f"expected an ISO date, got {short(text)}", file, field="as_of") from None
    problem = day_in_range(day)
    if problem:
        raise row_error(problem, file, field="as_of")
    return day


def check_event_columns(sources: Sequence[ParquetFile], vocabulary: Vocabulary,
                         single: bool) -> None:
    kinds = attribute_specs(vocabulary)
    for source in sources:
        for column in source.columns:
            if column in ("subject", "type", "record"):
                if not is_text(source.type_of(column)) and not (
                        column == "subject" and pa.types.is_integer(source.type_of(column))):
                    raise row_error(f"column {column!r} has Arrow type {source.type_of(column)}; "
                                    f"it should be {WANTED_TYPES['str']}", source.name,
                                    field=column)
            elif column in ("id", "at"):
                check_type(source, column, column)
            elif column in kinds:
                if not (single and column in SUBJECT_FIELDS):
                    check_type(source, column, kinds[column])
            elif not (single and column in SUBJECT_FIELDS):
                check_type(source, column, "unknown")


def last_day(sources: Sequence[ParquetFile], single: bool) -> date | None:
    """The latest event day: from the `at` statistics when the files have them."""
    latest: date | None = None
    for source in sources:
        if "at" not in source.columns:
            continue
        t = source.type_of("at")
        index = source.parquet.schema_arrow.get_field_index("at")
        days: list[date] = []
        meta = source.parquet.metadata
        stats_ok = pa.types.is_timestamp(t) or pa.types.is_date(t)
        for g in range(meta.num_row_groups):
            stats = meta.row_group(g).column(index).statistics
            if not stats_ok or stats is None or not stats.has_min_max:
                stats_ok = False
                break
            try:
                value = stats.max
            except (OverflowError, ValueError):  # beyond Python's dates: refused later
                continue
            day = value.date() if isinstance(value, datetime) else value
            if isinstance(day, date) and day_in_range(day) is None:
                days.append(day)
        if not stats_ok:
            days = []
            for _start, table in source.row_groups(["at"]):
                column = plain_array(table.column("at"))
                if is_text(column.type):
                    with_values = [parse_at(v) for v in pc.unique(column.drop_null()).to_pylist()
                                   if _safe_at(v)]
                    days.extend(v.date() for v in with_values)
                    continue
                column = column.cast(pa.date32())
                column = column.filter(pc.invert(year_out_of_range(column)).fill_null(False))
                if len(column):
                    days.append(pc.max(column).as_py())
        for day in days:
            if day is not None and (latest is None or day > latest):
                latest = day
    return latest


def _safe_at(text: str) -> bool:
    try:
        parse_at(text)
    except ValueError:
        return False
    return True


def count_events(sources: Sequence[ParquetFile], single: bool) -> int:
    if not single:
        return sum(s.parquet.metadata.num_rows for s in sources)
    count = 0
    for _start, table in sources[0].row_groups(["record"]):
        events = event_rows(table, True)
        assert events is not None
        count += int(pc.sum(events.cast(pa.int64())).as_py() or 0)
    return count


def read_subjects(file: ParquetFile, vocabulary: Vocabulary, *,
                   single: bool) -> tuple[pa.Table, np.ndarray]:
    """The subjects table (id, kind, born date32, residence, hukou, roles), checked, and
    the file row of each subject."""
    if single:
        allowed = set(file.columns)
    else:
        for column in file.columns:
            if column not in SUBJECT_FIELDS:
                raise row_error(f"unknown subject field {short(column)}; a subject has "
                                f"{', '.join(SUBJECT_FIELDS)}"
                                f"{did_you_mean(column, SUBJECT_FIELDS)}", file.name,
                                field=column)
        allowed = set(SUBJECT_FIELDS)
    for column, wanted in (("id", "id"), ("kind", "enum"), ("born", "date"),
                           ("residence", "enum"), ("hukou", "enum"), ("roles", "list[role]")):
        if column in allowed:
            check_type(file, column, wanted)
    parts: list[pa.Table] = []
    rows: list[np.ndarray] = []
    for start, table in file.row_groups(list(file.columns)):
        if single:
            record = plain_array(table.column("record"))
            bad = first_true(pc.invert(pc.is_in(record.fill_null("event"),
                                            value_set=pa.array(["subject", "event"]))))
            if bad is not None:
                raise row_error(f"unknown record kind {short(record[bad].as_py())}; use 'subject' "
                                "or 'event'", file.name, start + bad + 1, "record")
            is_subject = pc.equal(record, "subject").fill_null(False)
            table = table.filter(is_subject)
            rows.append(np.flatnonzero(is_subject.to_numpy(zero_copy_only=False)) + start + 1)
            for column in table.column_names:
                if column in (*SUBJECT_FIELDS, "record"):
                    continue
                bad = first_true(pc.is_valid(table.column(column)))
                if bad is not None:
                    raise row_error(f"unknown subject field {short(column)}; a subject has "
                                    f"{', '.join(SUBJECT_FIELDS)}", file.name,
                                    int(rows[-1][bad]), column)
        else:
            rows.append(np.arange(start + 1, start + table.num_rows + 1))
        parts.append(table.select([c for c in SUBJECT_FIELDS if c in table.column_names]))
    n = sum(p.num_rows for p in parts)
    row = np.concatenate(rows) if rows else np.zeros(0, np.int64)
    raw = pa.concat_tables(parts) if parts else pa.table({})
    return SubjectChecker(file.name, vocabulary, row).table(raw, n), row
