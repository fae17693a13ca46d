"""Which rules fire for which events: `scoring.conditions`, as masks over columns.

The events are prepared once (`Events`: sorted by subject, then (at, id); days, period
keys, ages and attribute columns as numpy arrays) and every scheme's rules are matched
against them rule by rule, each over the rows of its event types only. The semantics are
those of `creditlab.engine.scoring.conditions`: a missing attribute meets no condition,
numbers compare as binary64 doubles (a boolean is a number), dates as days, strings by
equality; a subject field that is not known meets no condition on it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.scheme import Condition, Rule, Scheme, SubjectCondition

__all__ = ["Events", "fired_pairs", "prepare_events"]

EPOCH = date(1970, 1, 1).toordinal()


def _days(value: date) -> int:
    return value.toordinal() - EPOCH


@dataclass
class Column:
    """An attribute column ready for comparison: `kind` num (float64), date (days) or str
    (codes into `values`); `valid` says where the event has the attribute."""

    kind: str
    data: npt.NDArray[Any]
    valid: npt.NDArray[np.bool_]
    values: list[Any] = field(default_factory=list)


@dataclass
class Events:
    """An events table's rows in (subject, at, id) order, with what matching and reducing
    read; row numbers are of that order unless said otherwise."""

    table: pa.Table
    subjects: pa.Table
    subject: npt.NDArray[np.int64]
    """Each row's subject, an index into `subjects` (sorted by id)."""
    day: npt.NDArray[np.int64]
    periods: npt.NDArray[np.int64]
    """Period keys [ever, year, month, week, day] x rows, nondecreasing per subject."""
    type_rows: dict[str, npt.NDArray[np.int64]]
    perm: npt.NDArray[np.int64]
    """Each sorted row's row in `table`."""
    position: npt.NDArray[np.int64]
    id_offsets: npt.NDArray[np.int64]
    id_data: npt.NDArray[np.uint8]
    """The event ids' UTF-8 bytes (rows of `table`): ids compare as their bytes."""
    kind: npt.NDArray[np.object_]
    born: npt.NDArray[np.int64]
    born_known: npt.NDArray[np.bool_]
    born_key: npt.NDArray[np.int64]
    day_key: npt.NDArray[np.int64]
    """Birth days and event days as `_year_day` keys, for ages."""
    columns: dict[str, Column] = field(default_factory=dict)

    @property
    def n(self) -> int:
        return int(self.table.num_rows)

    def values(self, name: str, rows: npt.NDArray[np.int64]) -> pa.Array:
        """The attribute `name` of (sorted) `rows` as the table holds it."""
        column = self.table.column(name)
        # `prepare_events` leaves one chunk; combining it again would copy the column.
        whole = column.chunk(0) if column.num_chunks == 1 else column.combine_chunks()
        return whole.take(pa.array(self.perm[rows]))

    def column(self, name: str) -> Column | None:
        """The attribute column `name`, converted once; None when the table has none."""
        if name in self.columns:
            return self.columns[name]
        if name not in self.table.column_names:
            return None
        raw = self.table.column(name).combine_chunks().take(pa.array(self.perm))
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
            col = Column("num", data, valid)
        elif pa.types.is_date(kind):
            days = pc.fill_null(raw.cast(pa.date32()).cast(pa.int32()), 0)
            col = Column("date", days.to_numpy(zero_copy_only=False).astype(np.int64), valid)
        elif pa.types.is_string(kind) or pa.types.is_large_string(kind):
            encoded = raw.dictionary_encode()
            codes = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False)
            col = Column("str", codes.astype(np.int64), valid, encoded.dictionary.to_pylist())
        else:
            col = Column("other", np.zeros(self.n), valid)
        self.columns[name] = col
        return col


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
    at = events.column("at").combine_chunks().to_numpy(zero_copy_only=False)[perm]
    day = at.astype("datetime64[D]").astype(np.int64)
    periods = np.stack([
        np.zeros_like(day), at.astype("datetime64[Y]").astype(np.int64),
        at.astype("datetime64[M]").astype(np.int64), (day + 3) // 7, day])
    types = events.column("type").combine_chunks().dictionary_encode()
    codes = types.indices.to_numpy(zero_copy_only=False)[perm]
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(types.dictionary) + 1))
    type_rows = {t: order[bounds[i]:bounds[i + 1]]
                 for i, t in enumerate(types.dictionary.to_pylist())}
    ids = events.column("id").combine_chunks().cast(pa.large_string())
    id_offsets = np.frombuffer(ids.buffers()[1], np.int64)[ids.offset:ids.offset + len(ids) + 1]
    id_data = np.frombuffer(ids.buffers()[2], np.uint8) if ids.buffers()[2] is not None \
        else np.zeros(0, np.uint8)
    born = subjects.column("born").combine_chunks().cast(pa.date32())
    born_days = pc.fill_null(born.cast(pa.int32()), 0).to_numpy(zero_copy_only=False)
    return Events(
        table=events, subjects=subjects, perm=perm, subject=subject[perm],
        position=position[perm], day=day, periods=periods, type_rows=type_rows,
        id_offsets=id_offsets, id_data=id_data,
        kind=np.asarray(subjects.column("kind").to_pylist(), dtype=object),
        born=born_days.astype(np.int64),
        born_known=born.is_valid().to_numpy(zero_copy_only=False),
        born_key=_year_day(born_days.astype(np.int64)), day_key=_year_day(day))


def _by_subject(subject: npt.NDArray[np.int64], position: npt.NDArray[np.int64]
                ) -> npt.NDArray[np.int64]:
    """The rows in (subject, position) order, ties in row order: by one integer key when
    both fit in it and no two keys are equal (any sort is then the stable one)."""
    if len(position) and int(position.min()) >= 0 and int(position.max()) < (1 << 32) \
            and int(subject.max()) < (1 << 30):
        key = (subject << 32) | position
        order: npt.NDArray[np.int64] = np.argsort(key)
        ordered = key[order]
        if not np.any(ordered[1:] == ordered[:-1]):
            return order
    stable: npt.NDArray[np.int64] = np.lexsort((position, subject))
    return stable


def fired_pairs(ev: Events, scheme: Scheme, applicable: npt.NDArray[np.bool_]
                ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int32]]:
    """(row, rule) of every rule of `scheme` that fires, sorted by row then rule index.

    `applicable` marks the subjects (indexes into `ev.subjects`) the scheme scores.
    """
    rows_out: list[npt.NDArray[np.int64]] = []
    rules_out: list[npt.NDArray[np.int32]] = []
    for index, rule in enumerate(scheme.rules):
        parts = [ev.type_rows[t] for t in rule.match.types if t in ev.type_rows]
        if not parts:
            continue
        rows = np.concatenate(parts) if len(parts) > 1 else parts[0]
        rows = rows[applicable[ev.subject[rows]]]
        if len(rows):
            rows = rows[_fires(ev, rule, rows)]
        rows_out.append(rows)
        rules_out.append(np.full(len(rows), index, np.int32))
    if not rows_out:
        return np.zeros(0, np.int64), np.zeros(0, np.int32)
    rows_all = np.concatenate(rows_out)
    rules_all = np.concatenate(rules_out)
    # A row meets a rule at most once: (row, rule) keys are distinct, any sort will do.
    order = np.argsort(rows_all * len(scheme.rules) + rules_all)
    return rows_all[order], rules_all[order]


def _fires(ev: Events, rule: Rule, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    day = ev.day[rows]
    mask = np.ones(len(rows), np.bool_)
    if rule.effective_from is not None:
        mask &= day >= _days(rule.effective_from)
    if rule.effective_to is not None:
        mask &= day <= _days(rule.effective_to)
    for cond in rule.match.where:
        mask &= _holds(ev, cond, rows)
    if rule.match.subject is not None:
        mask &= _subject_holds(ev, rule.match.subject, rows)
    return mask


def _constant(value: Any) -> tuple[str, Any]:
    """A condition's constant as the kind it compares as (`conditions._comparable`)."""
    if isinstance(value, bool):
        return "num", float(value)
    if isinstance(value, (int, Decimal)):
        return "num", float(value)
    if isinstance(value, date):
        return "date", _days(value)
    return ("str" if isinstance(value, str) else "other"), value


def _holds(ev: Events, cond: Condition, rows: npt.NDArray[np.int64]) -> npt.NDArray[np.bool_]:
    col = ev.column(cond.attr)
    if col is None:
        return np.zeros(len(rows), np.bool_)
    valid = col.valid[rows]
    data = col.data[rows]
    if cond.op == "in":
        assert isinstance(cond.value, list)
        if col.kind != "str":
            return np.zeros(len(rows), np.bool_)
        wanted = [i for i, v in enumerate(col.values) if v in cond.value]
        within: npt.NDArray[np.bool_] = valid & np.isin(data, wanted)
        return within
    kind, target = _constant(cond.value)
    if col.kind == "str" and kind == "str":
        code = col.values.index(target) if target in col.values else -2
        equal = data == code
    elif col.kind == kind and kind in ("num", "date"):
        equal = data == target
    else:
        equal = np.zeros(len(rows), np.bool_)
    if cond.op in ("eq", "ne"):
        same: npt.NDArray[np.bool_] = valid & (equal if cond.op == "eq" else ~equal)
        return same
    if col.kind != kind or kind not in ("num", "date"):
        return np.zeros(len(rows), np.bool_)
    compare = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less,
               "lte": np.less_equal}[cond.op]
    holds: npt.NDArray[np.bool_] = valid & compare(data, target)
    return holds


def _subject_holds(ev: Events, cond: SubjectCondition, rows: npt.NDArray[np.int64]
                   ) -> npt.NDArray[np.bool_]:
    subjects = ev.subjects
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
    mask = who[ev.subject[rows]]
    if cond.min_age is None and cond.max_age is None:
        return mask
    sub = ev.subject[rows]
    mask &= ev.born_known[sub]
    age = _age(ev.born_key[sub], ev.day_key[rows])
    if cond.min_age is not None:
        mask &= age >= cond.min_age
    if cond.max_age is not None:
        mask &= age <= cond.max_age
    return mask


def scored_rows(ev: Events, scheme: Scheme, applicable: npt.NDArray[np.bool_]
                ) -> npt.NDArray[np.bool_]:
    """Which (sorted) rows `scheme` scores: its subjects' (`applicable`), on days they are
    eligible (`conditions.scored_on`)."""
    rows = applicable[ev.subject]
    rule = scheme.eligibility
    if rule is None:
        return rows
    known = ev.born_known[ev.subject]
    old_enough = _age(ev.born_key[ev.subject], ev.day_key) >= rule.min_age
    unknown: npt.NDArray[np.bool_] = np.full(ev.n, rule.age_unknown == "scored")
    return rows & np.where(known, old_enough, unknown)


def eligible_at(ev: Events, scheme: Scheme, end: date | None) -> npt.NDArray[np.bool_]:
    """Which subjects `scheme` gives a result: of its kind and, by `end`, eligible."""
    kind: npt.NDArray[np.bool_] = ev.kind == scheme.subject_kind
    rule = scheme.eligibility
    if rule is None or end is None:
        return kind
    end_key = _year_day(np.array([end.toordinal() - EPOCH], np.int64))
    old_enough = _age(ev.born_key, np.repeat(end_key, len(ev.born_key))) >= rule.min_age
    return kind & np.where(ev.born_known, old_enough, rule.age_unknown == "scored")


def _age(born: npt.NDArray[np.int64], day: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Whole years from `born` to `day` (both as `_year_day` keys): `Subject.age_on`."""
    age: npt.NDArray[np.int64] = (day >> 10) - (born >> 10) - ((day & 1023) < (born & 1023))
    return age


def _year_day(days: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
    """Days since 1970 as year << 10 | month << 5 | day: ages are differences of years,
    less one before the birthday (the low bits compare like (month, day))."""
    d = days.astype("datetime64[D]")
    y = d.astype("datetime64[Y]")
    m = d.astype("datetime64[M]")
    year = y.astype(np.int64) + 1970
    month = (m - y.astype("datetime64[M]")).astype(np.int64) + 1
    mday = (d - m.astype("datetime64[D]")).astype(np.int64) + 1
    key: npt.NDArray[np.int64] = (year << 10) | (month << 5) | mday
    return key
