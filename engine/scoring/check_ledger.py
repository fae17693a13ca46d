"""The checks' findings put into a replay's tables: entries in the ledger where the replay
would have made them, list states in the results.

Both backends call `judge_checks` on the results and ledger tables they give; it judges
every scheme's checks (`scoring.checks`: what a check finds) and, when something is found,
puts the findings' rows between the ledger's (column by column, by numpy splices: no row is
gathered that need not move) and adds the states still in force at the end to the
results' flags.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.canonical import dumps
from creditlab.engine.inputs.history import StartingPoint
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.checks import (
    AT_END,
    Findings,
    SchemeView,
    changes_of,
    day_of,
    decimal_of,
    normal_number,
    period_start,
    plain_array,
    text_codes,
)
from creditlab.engine.scoring.ledger import Checked, LedgerEntry, record
from creditlab.engine.scoring.tables import NUMBER

__all__ = [
    "CheckedTables",
    "judge_checks",
]

I64 = npt.NDArray[np.int64]


@dataclass(frozen=True)
class CheckedTables:
    """Results and ledger with the checks' findings.

    `ledger` is the merged ledger; its row i is row `rows[i]` of the ledger given, or, from
    `len(ledger given)` on, the `rows[i] - len(ledger given)`th of the findings' entries
    (`entries()`, in `found` order): so a backend that keeps the ledger as records puts its
    records in the same order. `flagged` are the results' rows whose flags changed.
    """

    results: pa.Table
    ledger: pa.Table
    rows: I64
    found: tuple[Findings, ...]
    flagged: I64

    def entries(self) -> list[LedgerEntry]:
        return [e for f in self.found for e in f.entries()]


def judge_checks(results: pa.Table, ledger: pa.Table, subjects: pa.Table,
                 schemes: Sequence[Scheme], *, starting: Sequence[StartingPoint] = (),
                 end: date | None, events: int) -> CheckedTables | None:
    """Judge the checks of `schemes` (sorted by id, as replayed) on a replay's `results`
    (sorted by subject, scheme) and `ledger` (replay order) of `subjects` (the replay's
    subjects table); `events` is the number of events (the position of entries made at the
    end). None when no check found anything: the tables stand as they are."""
    if end is None or not any(s.checks for s in schemes):
        return None
    found: list[Findings] = []
    ledger_scheme = text_codes(ledger.column("scheme"))
    result_scheme = text_codes(results.column("scheme"))
    flagged: list[tuple[I64, list[str]]] = []  # results rows, and the flag each gets
    for index, scheme in enumerate(schemes):
        if not scheme.checks:
            continue
        view = SchemeView(scheme, index, results, ledger, subjects, ledger_scheme,
                           result_scheme, starting)
        for check in scheme.checks:
            judged = view.judge(check, end)
            if judged.subject.size:
                found.append(judged)
                flagged += view.in_force(judged, end)
    if not found:
        return None
    merged, order = _merged(ledger, found, events)
    new_results, rows = _with_flags(results, flagged)
    return CheckedTables(new_results, merged, order, tuple(found), rows)


def _merged(ledger: pa.Table, found: list[Findings], events: int) -> tuple[pa.Table, I64]:
    """The ledger with the findings' entries in their places, and where each row came from."""
    n = ledger.num_rows
    position = ledger.column("position").to_numpy().astype(np.int64)
    before = np.concatenate([f.before for f in found])
    ranks = np.concatenate([np.full(f.subject.size, f.scheme_index, np.int64) for f in found])
    names = np.array([sid for f in found for sid in (f.subject_ids[s] for s in
                                                     f.subject.tolist())], dtype=object)
    new_position = np.where(before == AT_END, events, position[np.maximum(before, 0)]
                            if n else events)
    # Existing row i sorts at 2i + 1; a finding before row r at 2r. The entries made at
    # the end are the ledger's last rows, scheme by scheme, subject by subject: a finding
    # with nothing after it goes after the end rows of its scheme and of subjects up to
    # its own.
    new_keys = 2 * before
    at_end = np.flatnonzero(before == AT_END)
    if at_end.size:
        end_rows = np.flatnonzero(position == events)
        end_subjects = plain_array(ledger.column("subject")).take(pa.array(end_rows)).to_pylist() \
            if end_rows.size else []
        every = sorted({*end_subjects, *names[at_end].tolist()})
        rank = {name: i for i, name in enumerate(every)}
        width = len(every) + 1
        end_keys = (ledger.column("scheme_index").to_numpy().astype(np.int64)[end_rows] * width
                    + np.array([rank[x] for x in end_subjects], dtype=np.int64))
        wanted = ranks[at_end] * width + np.array([rank[x] for x in names[at_end].tolist()],
                                                  dtype=np.int64)
        k = np.searchsorted(end_keys, wanted, side="right")
        inside = k < end_rows.size
        new_keys[at_end] = np.where(
            inside, 2 * end_rows[np.minimum(k, max(end_rows.size - 1, 0))] if end_rows.size
            else 2 * n, 2 * n)
    order = np.argsort(np.concatenate([np.arange(n, dtype=np.int64) * 2 + 1, new_keys]),
                       kind="stable")
    added = _entries_table(found, new_position, ranks, names, ledger)
    return _renumbered(_interleaved(ledger, added, order)), order


def _renumbered(ledger: pa.Table) -> pa.Table:
    """`order` numbered again within each (position, scheme_index)."""
    if not ledger.num_rows:
        return ledger
    key = (ledger.column("position").to_numpy().astype(np.int64) * 1_000_003
           + ledger.column("scheme_index").to_numpy().astype(np.int64))
    n = key.size
    starts = np.r_[True, key[1:] != key[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    order = (np.arange(n) - first).astype(np.int32)
    i = ledger.schema.get_field_index("order")
    return ledger.set_column(i, ledger.schema.field(i), pa.array(order, pa.int32()))


def _entries_table(found: list[Findings], position: I64, scheme_index: I64, names: Any,
                   like: pa.Table) -> pa.Table:
    """The findings as ledger rows (`like`'s columns, text columns plain)."""
    texts: dict[str, list[str | None]] = {"event": [], "changes": [], "notes": [],
                                          "rule": [], "scheme": [], "fidelity": []}
    said: dict[tuple[str, int, int], tuple[str, str, str]] = {}
    for f in found:
        for day, total in zip(f.day.tolist(), f.total.tolist(), strict=True):
            key = (f.check.id, day, total)
            if key not in said:
                on = day_of(day)
                since = period_start(f.check, on)
                counted = Checked(f.check.count.of, normal_number(decimal_of(total)), since)
                said[key] = (f"{since.isoformat()}/{on.isoformat()}",
                             dumps([record(c) for c in changes_of(f.check, on)]),
                             dumps([record(counted)]))
            event, changes, notes = said[key]
            texts["event"].append(event)
            texts["changes"].append(changes)
            texts["notes"].append(notes)
        size = f.subject.size
        texts["rule"] += [f.check.id] * size
        texts["scheme"] += [f.scheme.id] * size
        texts["fidelity"] += [f.check.fidelity] * size
    n = len(names)
    score = np.concatenate([f.score for f in found])
    days = np.concatenate([f.day for f in found]).astype(np.int32)
    bands = [b for f in found for b in f.band]
    zero = np.zeros(n, dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "position": pa.array(position, pa.int64()),
        "scheme_index": pa.array(scheme_index.astype(np.int32), pa.int32()),
        "order": pa.array(np.zeros(n, dtype=np.int32), pa.int32()),
        "kind": pa.array(["check"] * n, pa.string()),
        "at": pa.array(days, pa.int32()).cast(pa.date32()),
        "event": pa.array(texts["event"], pa.string()),
        "type": pa.array(["check"] * n, pa.string()),
        "subject": pa.array(names.tolist(), pa.string()),
        "scheme": pa.array(texts["scheme"], pa.string()),
        "rule": pa.array(texts["rule"], pa.string()),
        "points": pa.nulls(n, NUMBER),
        "applied": _numbers(zero),
        "score_before": _numbers(score),
        "score_after": _numbers(score),
        "band_before": pa.array(bands, pa.string()),
        "band_after": pa.array(bands, pa.string()),
        "changes": pa.array(texts["changes"], pa.string()),
        "notes": pa.array(texts["notes"], pa.string()),
        "fidelity": pa.array(texts["fidelity"], pa.string()),
    }
    return pa.table([columns[f.name] for f in like.schema], names=like.schema.names)


def _numbers(scaled: I64) -> pa.Array:
    """Integers of 10^-9 as a decimal128(38, 9) array (two little-endian int64 words)."""
    words = np.empty(2 * scaled.size, dtype=np.int64)
    words[0::2] = scaled
    words[1::2] = np.where(scaled < 0, -1, 0)
    return pa.Array.from_buffers(NUMBER, scaled.size, [None, pa.py_buffer(words.tobytes())])


def _interleaved(ledger: pa.Table, added: pa.Table, order: I64) -> pa.Table:
    """Row `order[i]` of the ledger's rows followed by `added`'s, column by column: fixed-width
    values gathered with numpy, text by Arrow's take. A dictionary column keeps the
    ledger's dictionary, the findings' new values appended (sorted) after it."""
    n = ledger.num_rows
    merged_at = np.flatnonzero(order >= n)  # where each finding lands, in merged order
    splice = _Splice(merged_at - np.arange(merged_at.size), order[merged_at] - n)
    columns = []
    for field in ledger.schema:
        old = _array(ledger.column(field.name), field.type)
        new = added.column(field.name).combine_chunks()
        kind = field.type
        if pa.types.is_dictionary(kind):
            known = old.dictionary.to_pylist()
            extra = sorted({v for v in new.to_pylist() if v is not None} - set(known))
            dictionary = pa.array(known + extra, kind.value_type)
            codes = splice(
                pc.fill_null(old.indices, 0).to_numpy(zero_copy_only=False).astype(np.int32),
                pc.fill_null(pc.index_in(new, value_set=dictionary), 0).to_numpy(
                    zero_copy_only=False).astype(np.int32))
            valid = _valid(old, new, splice)
            columns.append(pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32), kind.index_type, mask=~valid), dictionary))
        elif pa.types.is_decimal(kind):
            words = splice(_words(old), _words(new.cast(kind)))
            valid = _valid(old, new, splice)
            columns.append(pa.Array.from_buffers(
                kind, len(order), [pa.array(valid).buffers()[1] if not valid.all() else None,
                                   pa.py_buffer(np.ascontiguousarray(words).tobytes())]))
        elif pa.types.is_integer(kind) or pa.types.is_date(kind):
            plain = pa.int32() if pa.types.is_date32(kind) else kind
            values = splice(old.cast(plain).to_numpy(zero_copy_only=False),
                            new.cast(kind).cast(plain).to_numpy(zero_copy_only=False))
            columns.append(pa.array(values, plain).cast(kind))
        else:
            columns.append(pa.concat_arrays([old, new.cast(kind)]).take(pa.array(order)))
    return pa.Table.from_arrays(columns, schema=ledger.schema)


def _array(column: pa.ChunkedArray, kind: pa.DataType) -> pa.Array:
    return column.combine_chunks() if column.num_chunks else pa.array([], kind)


@dataclass(frozen=True)
class _Splice:
    """The findings' rows put between the ledger's: `before[k]` is the ledger row the kth
    finding (in merged order) goes before, `rows[k]` its row among the findings. A copy
    with insertions, cheaper than gathering every row."""

    before: I64
    rows: I64

    def __call__(self, old: npt.NDArray[Any], new: npt.NDArray[Any]) -> npt.NDArray[Any]:
        spliced: npt.NDArray[Any] = np.insert(old, self.before, new[self.rows], axis=0)
        return spliced


def _valid(old: pa.Array, new: pa.Array, splice: _Splice) -> npt.NDArray[np.bool_]:
    valid: npt.NDArray[np.bool_] = splice(old.is_valid().to_numpy(zero_copy_only=False),
                                          new.is_valid().to_numpy(zero_copy_only=False))
    return valid


def _words(array: pa.Array) -> I64:
    """decimal128 values as (rows, 2) little-endian int64 words (nulls: whatever is there)."""
    n = len(array)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    words: I64 = np.frombuffer(array.buffers()[1], dtype=np.int64,
                               count=2 * (n + array.offset))[2 * array.offset:].reshape(n, 2)
    return words


def _with_flags(results: pa.Table, flagged: list[tuple[I64, list[str]]]
               ) -> tuple[pa.Table, I64]:
    """The results with the checks' states in force at the end added to their flags, and
    the rows that changed."""
    adding: dict[int, set[str]] = {}
    for rows, flags in flagged:
        for r in rows.tolist():
            adding.setdefault(r, set()).update(flags)
    if not adding:
        return results, np.zeros(0, dtype=np.int64)
    rows = np.array(sorted(adding), dtype=np.int64)
    column = results.column("flags").combine_chunks()
    old = column.take(pa.array(rows)).to_pylist()
    new = pa.array([sorted(set(o or []) | adding[r]) for o, r in
                    zip(old, rows.tolist(), strict=True)], column.type)
    index = np.arange(len(column), dtype=np.int64)
    index[rows] = len(column) + np.arange(rows.size)
    flags = pa.concat_arrays([column, new]).take(pa.array(index))
    i = results.schema.get_field_index("flags")
    return results.set_column(i, results.schema.field(i), flags), rows
