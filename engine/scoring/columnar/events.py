"""Events prepared for matching: the table's rows in (subject, at, id) order, as numpy arrays.

`prepare_events` sorts an events table by subject, then (at, id), once, and keeps what matching
(`columnar.match`) and reducing read: days, period keys, ages, each event type's rows, the ids'
bytes. `Events` also keeps what several rules or schemes read alike, worked out once: the rows
of a set of event types, an attribute over those rows (converted from the table for them
alone, as a `Column`), which subjects are of a kind, and which meet a subject condition's
roles, residence and hukou. Ages are `Subject.age_on`'s, on `year_day` keys.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.scheme import SubjectCondition

__all__ = ["EPOCH", "Column", "Events", "age_on", "prepare_events", "year_day"]

EPOCH = date(1970, 1, 1).toordinal()

I64 = npt.NDArray[np.int64]
B = npt.NDArray[np.bool_]
Types = tuple[str, ...]
"""A set of event types as a key: distinct names, sorted."""


@dataclass
class Column:
    """An attribute over some rows, ready for comparison: `kind` num (float64), date (days),
    str (codes into `values`), other, or none (no row has it); `valid` says where the
    event has the attribute."""

    kind: str
    data: npt.NDArray[Any]
    valid: B
    values: list[Any] = field(default_factory=list)


@dataclass
class Events:
    """An events table's rows in (subject, at, id) order, with what matching and reducing
    read; row numbers are of that order unless said otherwise."""

    table: pa.Table
    subjects: pa.Table
    subject: I64
    """Each row's subject, an index into `subjects` (sorted by id)."""
    day: I64
    periods: I64
    """Period keys [ever, year, month, week, day] x rows, nondecreasing per subject."""
    type_rows: dict[str, I64]
    """Each event type's rows, ascending."""
    perm: I64
    """Each sorted row's row in `table`."""
    position: I64
    id_offsets: I64
    id_data: npt.NDArray[np.uint8]
    """The event ids' UTF-8 bytes (rows of `table`): ids compare as their bytes."""
    kind: npt.NDArray[np.object_]
    born: I64
    born_known: B
    born_key: I64
    day_key: I64
    """Birth days and event days as `year_day` keys, for ages."""
    memo: dict[Any, Any] = field(default_factory=dict, repr=False)
    """What is worked out once and read by many rules or schemes (see the methods)."""

    @property
    def n(self) -> int:
        return int(self.table.num_rows)

    def values(self, name: str, rows: npt.NDArray[np.int64]) -> pa.Array:
        """The attribute `name` of (sorted) `rows` as the table holds it."""
        column = self.table.column(name)
        # `prepare_events` leaves one chunk; combining it again would copy the column.
        whole = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        return whole.take(pa.array(self.perm[rows]))

    def rows_of(self, types: Types) -> I64:
        """The rows of any of `types` (a `Types` key), each once: type by type."""
        key = ("rows", types)
        if key not in self.memo:
            parts = [self.type_rows[t] for t in types if t in self.type_rows]
            self.memo[key] = np.concatenate(parts) if len(parts) > 1 \
                else parts[0] if parts else np.zeros(0, np.int64)
        rows: I64 = self.memo[key]
        return rows

    def attribute(self, name: str, types: Types) -> Column | None:
        """The attribute `name` over `rows_of(types)`, converted once; None when the table
        has no such column."""
        key = ("attr", name, types)
        if key in self.memo:
            col: Column | None = self.memo[key]
            return col
        rows = self.rows_of(types)
        if name not in self.table.column_names:
            col = None
        elif self.table.column(name).null_count == self.n:
            col = Column("none", np.zeros(0), np.zeros(len(rows), np.bool_))
        else:
            col = _converted(self.values(name, rows))
        self.memo[key] = col
        return col

    def of_kind(self, kind: str) -> B:
        """Which subjects are of `kind`."""
        key = ("kind", kind)
        if key not in self.memo:
            self.memo[key] = self.kind == kind
        mask: B = self.memo[key]
        return mask

    def rows_of_kind(self, kind: str) -> B:
        """Which rows are of a subject of `kind`."""
        key = ("kind rows", kind)
        if key not in self.memo:
            self.memo[key] = self.of_kind(kind)[self.subject]
        mask: B = self.memo[key]
        return mask

    def ages(self) -> tuple[B, I64]:
        """Each row's subject: whether its birth day is known, and its age in whole years
        on the row's day (`Subject.age_on`; meaningless where not known)."""
        if "ages" not in self.memo:
            self.memo["ages"] = (self.born_known[self.subject],
                                 age_on(self.born_key[self.subject], self.day_key))
        ages: tuple[B, I64] = self.memo["ages"]
        return ages

    def admitted(self, cond: SubjectCondition) -> B:
        """Which subjects meet `cond`'s roles, residence and hukou (ages are per row)."""
        key = ("who", tuple(cond.roles_any), tuple(cond.roles_none), cond.residence,
               cond.hukou)
        if key not in self.memo:
            self.memo[key] = _admitted(self.subjects, cond)
        who: B = self.memo[key]
        return who


def _converted(raw: pa.Array) -> Column:
    """Attribute values as a `Column` in their order (numbers as doubles, dates as days,
    strings as codes)."""
    valid = raw.is_valid().to_numpy(zero_copy_only=False)
    kind = raw.type
    if pa.types.is_decimal(kind) or pa.types.is_integer(kind) or pa.types.is_boolean(kind) \
            or pa.types.is_floating(kind):
        if pa.types.is_boolean(kind):
            data = pc.fill_null(raw, False).to_numpy(zero_copy_only=False).astype(np.float64)
        else:
            encoded = raw.dictionary_encode()
            floats = np.asarray([float(v) for v in encoded.dictionary.to_pylist()] + [0.0])
            codes = pc.fill_null(encoded.indices, len(encoded.dictionary))
            data = floats[codes.to_numpy(zero_copy_only=False)]
        return Column("num", data, valid)
    if pa.types.is_date(kind):
        days = pc.fill_null(raw.cast(pa.date32()).cast(pa.int32()), 0)
        return Column("date", days.to_numpy(zero_copy_only=False).astype(np.int64), valid)
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        encoded = raw.dictionary_encode()
        codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
        return Column("str", codes.astype(np.int64), valid, encoded.dictionary.to_pylist())
    return Column("other", np.zeros(len(raw)), valid)


def prepare_events(events: pa.Table, subjects: pa.Table) -> Events:
    """`events` indexed for matching, rows sorted by (subject, at, id) (see `Events`).

    `position` is the (at, id) order, so the sort is by (subject, position), on integers;
    the table itself stays as given (`Events.perm` maps a sorted row to its own row).
    """
    subjects = subjects.sort_by([("id", "ascending")]).combine_chunks()
    events = events.combine_chunks()
    found = pc.index_in(events.column("subject"), value_set=subjects.column("id"))
    if found.null_count:
        missing = events.column("subject").filter(pc.is_null(found))[0].as_py()
        raise HistoryError(f"event of unknown subject {missing!r}", field="subject")
    subject = found.combine_chunks().to_numpy(zero_copy_only=False).astype(np.int64)
    position = events.column("position").combine_chunks().to_numpy(
        zero_copy_only=False).astype(np.int64)
    perm = _by_subject(subject, position)
    at = events.column("at").combine_chunks().to_numpy(zero_copy_only=False)
    day = at.astype("datetime64[D]").astype(np.int64)[perm]
    periods, day_key = _calendar(day)
    types = events.column("type").combine_chunks().dictionary_encode()
    codes = _narrow(types.indices.to_numpy(zero_copy_only=False), len(types.dictionary))[perm]
    order = np.argsort(codes, kind="stable")  # a radix sort: codes are 8 or 16 bits
    bounds = np.searchsorted(codes[order], np.arange(len(types.dictionary) + 1))
    type_rows = {t: order[bounds[i]:bounds[i + 1]]
                 for i, t in enumerate(types.dictionary.to_pylist())}
    id_offsets, id_data = _id_bytes(events.column("id").combine_chunks())
    born = subjects.column("born").combine_chunks().cast(pa.date32())
    born_days = pc.fill_null(born.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
    return Events(
        table=events, subjects=subjects, perm=perm, subject=subject[perm],
        position=position[perm], day=day, periods=periods, type_rows=type_rows,
        id_offsets=id_offsets, id_data=id_data,
        kind=np.asarray(subjects.column("kind").to_pylist(), dtype=object),
        born=born_days.astype(np.int64),
        born_known=born.is_valid().to_numpy(zero_copy_only=False),
        born_key=year_day(born_days.astype(np.int64)), day_key=day_key)


def _narrow(codes: npt.NDArray[Any], count: int) -> npt.NDArray[Any]:
    """`count` codes in the narrowest unsigned type (numpy's stable sort of 8- and 16-bit
    integers is a radix sort)."""
    if count <= 1 << 8:
        return codes.astype(np.uint8)
    if count <= 1 << 16:
        return codes.astype(np.uint16)
    return codes.astype(np.int64)


def _id_bytes(ids: pa.Array) -> tuple[I64, npt.NDArray[np.uint8]]:
    """The ids' offsets (int64) into their UTF-8 bytes, without copying the bytes when the
    column already holds them."""
    if not pa.types.is_string(ids.type):
        ids = ids.cast(pa.large_string())
    width = np.int32 if pa.types.is_string(ids.type) else np.int64
    offsets = np.frombuffer(ids.buffers()[1], width)[ids.offset:ids.offset + len(ids) + 1]
    data = np.frombuffer(ids.buffers()[2], np.uint8) if ids.buffers()[2] is not None \
        else np.zeros(0, np.uint8)
    wide = offsets.astype(np.int64)
    # Read-only, as arrays over Arrow's buffers are: the reducer is compiled for that type.
    wide.flags.writeable = False
    return wide, data


def _calendar(day: I64) -> tuple[I64, I64]:
    """Period keys [ever, year, month, week, day] x rows and `year_day` keys of `day`.

    Years, months and keys are worked out once per distinct day of the span the rows
    cover (a history spans far fewer days than it has events), then looked up."""
    n = len(day)
    periods = np.empty((5, n), np.int64)
    periods[0] = 0
    np.floor_divide(day + 3, 7, out=periods[3])
    periods[4] = day
    lowest = int(day.min()) if n else 0
    span = int(day.max()) - lowest + 1 if n else 0
    if span > max(n, 1 << 16):
        d = day.astype("datetime64[D]")
        periods[1] = d.astype("datetime64[Y]").astype(np.int64)
        periods[2] = d.astype("datetime64[M]").astype(np.int64)
        return periods, year_day(day)
    every = np.arange(lowest, lowest + span, dtype=np.int64)
    d = every.astype("datetime64[D]")
    offset = day - lowest
    np.take(d.astype("datetime64[Y]").astype(np.int64), offset, out=periods[1])
    np.take(d.astype("datetime64[M]").astype(np.int64), offset, out=periods[2])
    key: I64 = np.take(year_day(every), offset)
    return periods, key


def _by_subject(subject: I64, position: I64) -> I64:
    """The rows in (subject, position) order, ties in row order: a stable sort by subject
    when the rows are in position order (a radix sort when subjects fit 16 bits), else by
    one integer key when both fit in it and no two keys are equal (any sort is then the
    stable one)."""
    if not len(position):
        return np.zeros(0, np.int64)
    if bool(np.all(position[1:] >= position[:-1])):
        order: I64 = np.argsort(_narrow(subject, int(subject.max()) + 1), kind="stable")
        return order
    if int(position.min()) >= 0 and int(position.max()) < (1 << 32) \
            and int(subject.max()) < (1 << 30):
        key = (subject << 32) | position
        order = np.argsort(key)
        ordered = key[order]
        if not np.any(ordered[1:] == ordered[:-1]):
            return order
    stable: I64 = np.lexsort((position, subject))
    return stable


def _admitted(subjects: pa.Table, cond: SubjectCondition) -> B:
    """Which `subjects` meet `cond`'s roles, residence and hukou."""
    who = np.ones(subjects.num_rows, np.bool_)
    if cond.roles_any or cond.roles_none:
        roles = subjects.column("roles").combine_chunks()
        flat = pc.list_flatten(roles)
        parent = pc.list_parent_indices(roles).to_numpy(zero_copy_only=False)
        for names, present in ((cond.roles_any, True), (cond.roles_none, False)):
            if not names:
                continue
            hit = pc.is_in(flat, value_set=pa.array(names, pa.string()))
            hit_np = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
            has = np.bincount(parent[hit_np], minlength=subjects.num_rows) > 0
            who &= has if present else ~has
    for name, wanted in (("residence", cond.residence), ("hukou", cond.hukou)):
        if wanted is not None:
            equal = pc.fill_null(pc.equal(subjects.column(name), wanted), False)
            who &= equal.to_numpy(zero_copy_only=False)
    return who


def age_on(born: I64, day: I64) -> I64:
    """Whole years from `born` to `day` (both as `year_day` keys): `Subject.age_on`."""
    age: I64 = (day >> 10) - (born >> 10) - ((day & 1023) < (born & 1023))
    return age


def year_day(days: I64) -> I64:
    """Days since 1970 as year << 10 | month << 5 | day: ages are differences of years,
    less one before the birthday (the low bits compare like (month, day))."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    mday = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    key: I64 = (year << 10) | (month << 5) | mday
    return key
