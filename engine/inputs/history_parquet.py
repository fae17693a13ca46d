"""Histories read from Parquet, checked against the vocabulary column by column.

Two layouts, the contract's field names as column names:

- a folder holding `subjects.parquet` and either `events.parquet` or `events/`, a folder
  of `*.parquet` parts read in sorted name order (what `creditlab simulate` writes);
- one file with a `record` column, the JSONL layout as a table: rows whose record is
  "subject" are subjects, every other row (record "event" or null) is an event.

Subjects have `id, kind, born, residence, hukou, roles` (born a date32 or an ISO string,
roles a list of strings). Events have `subject`, `at` (a timestamp, a date32 or an ISO
string; an aware time is converted to naive UTC), `type`, an optional `id` (when the
column is absent or the value null, the id is `#N`, N the event's 1-based position among
the history's events in file order, as JSONL derives it), and each attribute flat in its
own column, null where the event lacks it. The key-value metadata of the subjects file
(or of the single file) may give `creditlab.as_of` (an ISO date), `creditlab.name` and
`creditlab.description`.

Checks are those of JSONL, with the same messages, run on whole columns (pyarrow.compute,
numpy) rather than row by row (`parquet_checks`: the checkers of subjects and events);
a Python loop runs only to find the value an error names.
An error names the file, the row (1-based data row within that file, "row N") and the
field. Bounds: see the `MAX_*` constants; a column of an unexpected Arrow type is refused
naming the type it should have; files are read one row group at a time, whatever their
metadata claims. `ParquetHistory.sha256` hashes, in this order, the subjects file then the
event files in sorted name order (or the single file): for each, its name within the
history, a NUL, its size in decimal, a NUL and its bytes.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.errors import did_you_mean
from creditlab.engine.inputs.history import Event, History, Subject
from creditlab.engine.inputs.located import short
from creditlab.engine.inputs.parquet_checks import (
    DECIMAL,
    POSITION_COLUMN,
    ROW_COLUMN,
    SOURCE_COLUMN,
    attribute_specs,
    events_schema,
    first_true,
    row_error,
)
from creditlab.engine.inputs.parquet_events import EventChecker
from creditlab.engine.inputs.parquet_files import (
    MAX_COLUMNS,
    MAX_ROW_GROUP_BYTES,
    ParquetFile,
    as_of_date,
    check_event_columns,
    count_events,
    event_rows,
    hash_files,
    last_day,
    open_file,
    read_subjects,
)
from creditlab.engine.inputs.parquet_ids import (
    SubjectLookup,
    event_ids,
    id_hashes,
    rows_of,
    sample_ids,
    subject_column,
)
from creditlab.engine.inputs.vocabulary import AttrValue, Vocabulary

__all__ = [
    "AS_OF_KEY",
    "DECIMAL",
    "DEFAULT_SUBJECTS_PER_PARTITION",
    "MAX_COLUMNS",
    "MAX_EVENT_ROWS",
    "MAX_PARTS",
    "MAX_ROW_GROUP_BYTES",
    "MAX_SUBJECT_ROWS",
    "ParquetHistory",
    "attribute_specs",
    "events_schema",
    "load_parquet_history",
    "open_parquet_history",
]

MAX_EVENT_ROWS = 2_000_000_000
"""Events in one history, as the files' metadata counts them (100 a person-year for 20M)."""
MAX_SUBJECT_ROWS = 100_000_000
"""Subjects in one history."""
MAX_PARTS = 100_000
"""Files in an `events/` folder."""
DEFAULT_SUBJECTS_PER_PARTITION = 25_000
"""Subjects per table `ParquetHistory.partitions` gives (about half a million events of a
simulated city: two processes replaying one each stay under 4 GB together)."""

AS_OF_KEY = b"creditlab.as_of"
"""Key-value metadata giving the history's `as_of` date, ISO."""
_NAME_KEY = b"creditlab.name"
_DESCRIPTION_KEY = b"creditlab.description"

# --- files ------------------------------------------------------------------------------


# --- the history -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Group:
    """One row group of an events file: where its events are and which subjects they have."""

    source: int
    index: int
    first_row: int  # file row (0-based) of its first row
    first_position: int  # events of the history before it (for derived ids)
    low: int  # smallest and largest subject index among its events (-1, -1: none)
    high: int


@dataclass(frozen=True)
class ParquetHistory:
    """A Parquet history, opened: subjects read and checked, events read on demand.

    `partitions()` gives the events a few subjects at a time, checked and converted to
    the events table (`events_schema`); nothing here builds an `Event` per row.
    """

    file: str
    sha256: str
    subjects: pa.Table
    as_of: date | None
    last_day: date | None
    events: int
    vocabulary: Vocabulary = field(repr=False)
    name: str | None = None
    description: str | None = None
    _sources: tuple[ParquetFile, ...] = field(default=(), repr=False)
    _single: bool = field(default=False, repr=False)
    _subjects_file: str = field(default="", repr=False)
    _subject_rows: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64),
                                      repr=False, compare=False)

    def partitions(self, subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION
                   ) -> Iterator[pa.Table]:
        """Events tables, each with ALL the events of a disjoint run of subjects, checked
        against the vocabulary, in `events_schema`: the k-th table (maybe empty) holds the
        events of `subjects.slice(k * subjects_per_partition, subjects_per_partition)`.

        A first pass reads the subject and id columns one row group at a time: unknown
        subjects and duplicate ids (kept as 8-byte hashes, the one cost that grows with the
        history) are found there. Each partition then reads only the row groups holding its
        subjects; when files are grouped by subject, as `creditlab simulate` writes them,
        every row group is read once. Each row group is checked on its own (files may type
        a column differently); each event's `position` is its place in the partition's
        (at, id) order (the rows themselves stay in the order read).
        """
        for index in range(self.partition_count(subjects_per_partition)):
            yield self.partition(index, subjects_per_partition)[0]

    def partition_count(self, subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION
                        ) -> int:
        """How many tables `partitions` gives."""
        if subjects_per_partition < 1:
            raise ValueError("subjects_per_partition must be at least 1")
        return -(-int(self.subjects.num_rows) // subjects_per_partition)

    def partition(self, index: int,
                  subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION
                  ) -> tuple[pa.Table, pa.Table]:
        """Partition `index` alone: (its events table, its rows of the subjects table).

        For workers that each take a few partitions: the first pass runs once per
        ParquetHistory, on the first call.
        """
        if not 0 <= index < self.partition_count(subjects_per_partition):
            raise IndexError(f"no partition {index}")
        low = index * subjects_per_partition
        high = low + subjects_per_partition
        schema = events_schema(self.vocabulary)
        checker = EventChecker(self.vocabulary, [s.name for s in self._sources])
        parts = [self._read_group(g, low, high, self._lookup) for g in self._groups
                 if g.low < high and g.high >= low]
        parts = [p for p in parts if p.num_rows]
        checked = [checker.table(p, schema, ordered=len(parts) == 1) for p in parts]
        subjects = self.subjects.slice(low, subjects_per_partition)
        if len(checked) == 1:
            return checked[0], subjects
        table = pa.concat_tables(checked) if checked else schema.empty_table()
        # Each event's place in (at, id) order, without moving the rows: the replay sorts
        # by (subject, position) itself, and moving every column costs more than the sort.
        order = pc.sort_indices(table, sort_keys=[("at", "ascending"), ("id", "ascending")])
        position = np.empty(table.num_rows, dtype=np.int64)
        position[order.to_numpy(zero_copy_only=False)] = np.arange(table.num_rows)
        return table.set_column(0, "position", pa.array(position)), subjects

    @cached_property
    def _lookup(self) -> SubjectLookup:
        return SubjectLookup(self.subjects.column("id"))

    @cached_property
    def _groups(self) -> list[_Group]:
        return self._index(self._lookup)

    # The first pass: subject indexes, derived positions, duplicate ids.
    def _index(self, lookup: SubjectLookup) -> list[_Group]:
        ids = self.subjects.column("id")
        groups: list[_Group] = []
        hashes: list[np.ndarray] = []
        position = 0
        for s, source in enumerate(self._sources):
            for g, (start, table) in enumerate(source.row_groups(["record", "subject", "id"])):
                events = event_rows(table, self._single)
                table = table.filter(events) if events is not None else table
                rows = rows_of(start, events, table.num_rows)
                if "subject" not in table.column_names:
                    if table.num_rows:
                        raise row_error("missing required field 'subject'", source.name,
                                        int(rows[0]), "subject")
                    continue
                subject = subject_column(table, source.name, rows)
                index = lookup(subject)
                bad = first_true(pc.is_null(index))
                if bad is not None:
                    value = subject[bad].as_py()
                    raise row_error(f"unknown subject {short(value)}"
                                    f"{did_you_mean(str(value), sample_ids(ids, value))}; declare "
                                    "it in the subjects", source.name, int(rows[bad]), "subject")
                idx = index.to_numpy(zero_copy_only=False)
                hashes.append(id_hashes(table, position))
                groups.append(_Group(s, g, start, position,
                                     int(idx.min()) if idx.size else -1,
                                     int(idx.max()) if idx.size else -1))
                position += table.num_rows
        if hashes:
            every = np.concatenate(hashes)
            ordered = np.sort(every)
            repeated = ordered[1:][ordered[1:] == ordered[:-1]]
            if repeated.size:
                self._duplicate(set(repeated.tolist()))
        return groups

    def _duplicate(self, suspects: set[int]) -> None:
        """Find and report the first repeated id among those whose hashes collide."""
        seen: dict[str, tuple[str, int]] = {}
        position = 0
        for source in self._sources:
            for start, table in source.row_groups(["record", "id"]):
                events = event_rows(table, self._single)
                table = table.filter(events) if events is not None else table
                rows = rows_of(start, events, table.num_rows)
                hashes = id_hashes(table, position)
                ids = event_ids(table, position).to_pylist()
                for i in np.flatnonzero(np.isin(hashes, list(suspects))):
                    eid = ids[i]
                    if eid in seen:
                        first_file, first_row = seen[eid]
                        where = f"row {first_row}" + \
                            ("" if first_file == source.name else f" of {first_file}")
                        raise row_error(f"duplicate event id {short(eid)} (first at {where})",
                                        source.name, int(rows[i]), "id")
                    seen[eid] = (source.name, int(rows[i]))
                position += table.num_rows

    def _read_group(self, group: _Group, low: int, high: int,
                    lookup: SubjectLookup) -> pa.Table:
        source = self._sources[group.source]
        table = source.parquet.read_row_group(group.index)
        events = event_rows(table, self._single)
        if events is not None:
            table = table.filter(events)
        rows = rows_of(group.first_row, events, table.num_rows)
        subject = subject_column(table, source.name, rows)
        index = lookup(subject)
        keep = pc.and_(pc.greater_equal(index, low), pc.less(index, high))
        n = table.num_rows
        table = table.append_column(ROW_COLUMN, pa.array(rows, pa.int64())) \
            .append_column(SOURCE_COLUMN, pa.array(np.full(n, group.source, np.int32))) \
            .append_column(POSITION_COLUMN, pa.array(np.arange(group.first_position + 1,
                                                         group.first_position + n + 1)))
        table = table.set_column(table.column_names.index("subject"), "subject", subject)
        if "id" in table.column_names:
            table = table.set_column(table.column_names.index("id"), "id",
                                     event_ids(table, group.first_position))
        if self._single:
            table = table.drop_columns([c for c in ("record",) if c in table.column_names])
        return table.filter(keep)


# --- opening --------------------------------------------------------------------------------


def open_parquet_history(path: str | Path, vocabulary: Vocabulary) -> ParquetHistory:
    """A Parquet history (a folder or one file with a `record` column), subjects checked."""
    path = Path(path)
    if path.is_dir():
        subjects_path = path / "subjects.parquet"
        if not subjects_path.is_file():
            raise row_error("a Parquet history folder needs subjects.parquet", str(path))
        one, parts = path / "events.parquet", path / "events"
        if one.exists() and parts.exists():
            raise row_error("give events.parquet or an events/ folder, not both", str(path))
        if parts.is_dir():
            event_paths = sorted(parts.glob("*.parquet"))
            if len(event_paths) > MAX_PARTS:
                raise row_error(f"more than {MAX_PARTS} files in events/", str(parts))
        elif one.is_file():
            event_paths = [one]
        else:
            raise row_error("a Parquet history folder needs events.parquet or an events/ folder",
                            str(path))
        subjects_file = open_file(subjects_path, "subjects.parquet", MAX_SUBJECT_ROWS)
        sources = tuple(open_file(p, str(p), MAX_EVENT_ROWS) for p in event_paths)
        if sum(s.parquet.metadata.num_rows for s in sources) > MAX_EVENT_ROWS:
            raise row_error(f"the history has more than {MAX_EVENT_ROWS} events", str(path))
        digest = hash_files([("subjects.parquet", subjects_path)]
                             + [(str(p.relative_to(path)), p) for p in event_paths])
        subjects, subject_rows = read_subjects(subjects_file, vocabulary, single=False)
        meta_file, single = subjects_file, False
    else:
        meta_file = open_file(path, str(path), MAX_EVENT_ROWS + MAX_SUBJECT_ROWS)
        if "record" not in meta_file.columns:
            raise row_error("a single-file Parquet history needs a 'record' column (\"subject\" "
                            "rows, the rest events); or give a folder with subjects.parquet",
                            str(path), field="record")
        sources, single = (meta_file,), True
        digest = hash_files([(path.name, path)])
        subjects, subject_rows = read_subjects(meta_file, vocabulary, single=True)
    check_event_columns(sources, vocabulary, single)
    as_of = meta_file.metadata(AS_OF_KEY)
    return ParquetHistory(
        file=str(path), sha256=digest, subjects=subjects,
        as_of=as_of_date(as_of, meta_file.name), last_day=last_day(sources, single),
        events=count_events(sources, single), vocabulary=vocabulary,
        name=meta_file.metadata(_NAME_KEY), description=meta_file.metadata(_DESCRIPTION_KEY),
        _sources=sources, _single=single, _subjects_file=meta_file.name,
        _subject_rows=subject_rows)


# --- subjects ------------------------------------------------------------------------------


# --- the whole history as models -------------------------------------------------------------


def load_parquet_history(path: str | Path, vocabulary: Vocabulary) -> History:
    """The whole history as a `History`, checked as JSONL is; errors name file, row, field."""
    opened = open_parquet_history(path, vocabulary)
    kinds = attribute_specs(vocabulary)
    subjects: dict[str, Subject] = {}
    row_of: dict[str, int] = {}
    for i, record in enumerate(opened.subjects.to_pylist()):
        row_of[record["id"]] = int(opened._subject_rows[i])
        fields = {k: v for k, v in record.items() if v is not None and k != "roles"}
        fields["roles"] = tuple(sorted(set(record["roles"] or ())))
        subjects[record["id"]] = Subject(**fields)
    events: list[Event] = []
    for table in opened.partitions():
        names = [c for c in table.column_names if c in kinds]
        columns = {c: table.column(c).to_pylist() for c in ("id", "subject", "at", "type")}
        values = {c: table.column(c).to_pylist() for c in names}
        for i in range(table.num_rows):
            attrs = {c: _attr_value(kinds[c], values[c][i]) for c in names
                     if values[c][i] is not None}
            events.append(Event(id=columns["id"][i], subject=columns["subject"][i],
                                at=columns["at"][i], type=columns["type"][i], attrs=attrs))
    events.sort(key=lambda e: e.order_key)
    if events and opened.as_of is not None and opened.as_of < events[0].day:
        raise row_error(f"as_of {opened.as_of} is before every event (the first is "
                        f"{short(events[0].id)} on {events[0].day})", opened._subjects_file,
                        field="as_of")
    seen: set[str] = set()
    for event in events:
        if event.subject in seen:
            continue
        seen.add(event.subject)
        born = subjects[event.subject].born
        if born is not None and born > event.day:
            raise row_error(f"born {born} is after the subject's first event "
                            f"({short(event.id)} on {event.day})", opened._subjects_file,
                            row_of[event.subject], "born")
    if not subjects and not events:
        raise row_error("the history is empty: it has no subjects and no events", opened.file)
    return History(name=opened.name, description=opened.description, as_of=opened.as_of,
                   subjects=subjects, events=tuple(events), file=opened.file,
                   sha256=opened.sha256, vocabulary=vocabulary.sha256)


def _attr_value(kind: str, value: Any) -> AttrValue:
    """A value from the events table as check_attr returns it (1.5, not 1.500000000)."""
    if isinstance(value, Decimal):
        if value == value.to_integral_value():
            return int(value)
        return value.normalize()
    if isinstance(value, list):
        raise ValueError("list attributes are not supported on events")
    assert isinstance(value, (int, bool, str, date))
    return value
