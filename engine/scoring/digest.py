"""The replay digest: one sha256 for a replay's results and ledger, computed by subject.

A replay's digest must be the same on any machine, from either backend, and whether the
history was replayed in one process, in partitions of subjects or on a Dask cluster. So it
is computed per subject, and the subjects' digests are combined in subject order:

1. Each row of the results table (`scoring/tables.py`, sorted by subject then scheme) and
   of the ledger table (in replay order) becomes a record of bytes:
   - a text field (scheme, kind, type, rule, band, changes, notes, fidelity; a result's
     flags joined by commas) is the BLAKE2b hash (8-byte digest size) of its UTF-8 text,
     or 8 zero bytes for null;
   - a number (start, score, points, applied, score_before, score_after) is a null flag
     byte and its exact value as a 16-byte little-endian integer of billionths
     (`decimal128(38, 9)`'s own form; 0 for null);
   - a date (`at`) is its day number as 4 bytes; a count is 8 bytes, little-endian;
   - a ledger record ends with the length of its event id (4 bytes); the ids' UTF-8 bytes
     follow all of the subject's records (step 2).
   A result record starts with `R`, a ledger record with `L`.
2. A subject's digest is the sha256 of its result records (its schemes in id order), then
   its ledger records' fixed parts (in replay order: the same however the history is
   partitioned), then the event ids of those ledger records, in the same order.
3. The replay's digest is the sha256 of `creditlab digest 2`, a newline and, for each
   subject in code-point order, the length and UTF-8 bytes of its id and its 32-byte digest.

Every step but the last loop over subjects works on whole columns (pyarrow and numpy),
and text fields are hashed once per distinct value, so the digest of a city's ledger costs
seconds, not minutes. The ledger's `source` is not part of the digest: a rule's source is
fixed by the scheme, whose sha256 the manifest records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from functools import cache
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.scoring.tables import NUMBER

__all__ = ["VERSION", "Combiner", "combine", "replay_digest", "subject_digests"]

VERSION = b"creditlab digest 2\n"

_RESULT_FIELDS = (("scheme", "text"), ("start", "number"), ("score", "number"),
                  ("band", "text"), ("flags", "text"), ("events_scored", "count"),
                  ("events_unscored", "count"))
_LEDGER_FIELDS = (("scheme", "text"), ("kind", "text"), ("at", "day"), ("type", "text"),
                  ("rule", "text"), ("points", "number"), ("applied", "number"),
                  ("score_before", "number"), ("score_after", "number"),
                  ("band_before", "text"), ("band_after", "text"), ("changes", "text"),
                  ("notes", "text"), ("fidelity", "text"))


def _array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    return column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column


def _text(column: pa.Array) -> np.ndarray:
    """8 bytes per row: BLAKE2b of the text, hashed once per distinct value; 0 for null."""
    if pa.types.is_list(column.type) or pa.types.is_large_list(column.type):
        column = pc.binary_join(column, ",")
    if pa.types.is_dictionary(column.type):
        encoded = column
    else:
        encoded = pc.dictionary_encode(column.cast(pa.string()))
    words = np.array([0 if w is None else int.from_bytes(
        hashlib.blake2b(w.encode("utf-8"), digest_size=8).digest(), "little")
        for w in encoded.dictionary.to_pylist()] + [0], dtype="<u8")
    codes: np.ndarray = encoded.indices.fill_null(len(words) - 1).to_numpy(
        zero_copy_only=False)
    return np.asarray(words[codes].view(np.uint8).reshape(-1, 8))


def _number(column: pa.Array, out: np.ndarray) -> None:
    """Into `out` (17 bytes a row): a null flag and the value as 16 bytes of billionths."""
    if column.type != NUMBER:
        column = column.cast(NUMBER)
    n = len(column)
    raw = np.frombuffer(column.buffers()[1], dtype=np.uint8)[
        column.offset * 16:(column.offset + n) * 16].reshape(n, 16)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    out[:, 0] = valid
    out[:, 1:] = raw
    if not valid.all():
        out[~valid, 1:] = 0


_WIDTH = {"text": 8, "number": 17, "day": 4, "count": 8}
_SUBJECTS_AT_ONCE = 4096
"""Subjects whose bytes are laid out together before hashing (a buffer of a few MB)."""


def _fixed(column: pa.Array, kind: str, out: np.ndarray) -> None:
    """Into `out`: the field's bytes, `_WIDTH[kind]` a row."""
    if kind == "text":
        out[:] = _text(column)
    elif kind == "number":
        _number(column, out)
    elif kind == "day":
        days: np.ndarray = column.cast(pa.int32()).to_numpy(zero_copy_only=False)
        out[:] = days.astype("<i4").view(np.uint8).reshape(-1, 4)
    else:
        counts: np.ndarray = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
        out[:] = counts.astype("<i8").view(np.uint8).reshape(-1, 8)


def _block(table: pa.Table, tag: bytes, fields: tuple[tuple[str, str], ...],
           tail: str | None) -> np.ndarray:
    """The fixed-width part of each row's record, one row of bytes per table row, each
    field written straight into its columns."""
    width = 1 + sum(_WIDTH[kind] for _, kind in fields) + (4 if tail is not None else 0)
    block = np.empty((table.num_rows, width), dtype=np.uint8)
    block[:, 0] = tag[0]
    at = 1
    for name, kind in fields:
        _fixed(_array(table.column(name)), kind, block[:, at:at + _WIDTH[kind]])
        at += _WIDTH[kind]
    if tail is not None:
        text = _array(table.column(tail)).cast(pa.string())
        lengths = pc.binary_length(text).to_numpy(zero_copy_only=False).astype("<u4")
        block[:, at:] = lengths.view(np.uint8).reshape(-1, 4)
    return block


def _grouping(codes: np.ndarray, subjects: int) -> tuple[np.ndarray, np.ndarray]:
    """The order that groups rows by subject code (stable: each subject's rows keep their
    order) and where each subject's rows start in it (`subjects` + 1 offsets)."""
    if len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        order = np.arange(len(codes), dtype=np.int64)
        return order, np.searchsorted(codes, np.arange(subjects + 1))
    order = np.argsort(codes, kind="stable").astype(np.int64)
    return order, np.searchsorted(codes[order], np.arange(subjects + 1))


def subject_digests(results: pa.Table, ledger: pa.Table) -> pa.Table:
    """Each subject's digest (`subject`, `digest`: 32 bytes) over its results and ledger.

    `results` is sorted by (subject, scheme) and `ledger` is in replay order, as both
    backends give them; a subject's rows must all be in these two tables. A subject's
    digest is the sha256 of its result records, its ledger records' fixed parts and then
    its ledger's event ids (each record gives its event id's length, so the bytes read
    back one way only).

    A few thousand subjects at a time, their rows are taken in subject order, made into
    records and laid side by side in one buffer (a compiled loop), so that each subject
    costs one call to sha256 and a city partition's records are never all in memory.
    """
    subjects = pa.concat_arrays([_array(results.column("subject")).cast(pa.string()),
                                 _array(ledger.column("subject")).cast(pa.string())])
    encoded = pc.dictionary_encode(subjects)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    count = len(encoded.dictionary)
    r_order, r_starts = _grouping(codes[:results.num_rows], count)
    l_order, l_starts = _grouping(codes[results.num_rows:], count)
    results = results.select([name for name, _ in _RESULT_FIELDS]).combine_chunks()
    ledger = ledger.select([*(name for name, _ in _LEDGER_FIELDS), "event"]).combine_chunks()
    lay_out, sha256 = _lay_out(), hashlib.sha256
    digests: list[bytes] = []
    for first in range(0, count, _SUBJECTS_AT_ONCE):
        last = min(first + _SUBJECTS_AT_ONCE, count)
        r_rows = r_order[r_starts[first]:r_starts[last]]
        l_rows = l_order[l_starts[first]:l_starts[last]]
        r_block = _block(_taken(results, r_rows), b"R", _RESULT_FIELDS, None)
        l_part = _taken(ledger, l_rows)
        l_block = _block(l_part, b"L", _LEDGER_FIELDS, "event")
        events = _array(l_part.column("event")).cast(pa.large_string())
        e_offsets = np.frombuffer(events.buffers()[1], dtype=np.int64)[
            events.offset:events.offset + len(events) + 1]
        e_data = np.frombuffer(events.buffers()[2] or b"", dtype=np.uint8)
        r_at = r_starts[first:last + 1] - r_starts[first]
        l_at = l_starts[first:last + 1] - l_starts[first]
        bounds = (r_at * r_block.shape[1] + l_at * l_block.shape[1]
                  + e_offsets[l_at] - e_offsets[0])  # each subject's start in `laid`
        laid = np.empty(int(bounds[-1]), dtype=np.uint8)
        lay_out(r_block, r_at, l_block, l_at, e_data, e_offsets, laid)
        view = memoryview(laid.data)
        digests += [sha256(view[bounds[k]:bounds[k + 1]]).digest()
                    for k in range(last - first)]
    return pa.table({"subject": encoded.dictionary, "digest": pa.array(digests,
                                                                       pa.binary(32))})


def _taken(table: pa.Table, rows: np.ndarray) -> pa.Table:
    """`table`'s `rows`, in that order (nothing copied when they are all, in order)."""
    if len(rows) == table.num_rows and (len(rows) == 0 or (
            rows[0] == 0 and bool(np.all(np.diff(rows) == 1)))):
        return table
    return table.take(pa.array(rows))


@cache
def _lay_out() -> Any:
    """The compiled loop that lays each subject's bytes side by side, its rows already in
    subject order (numba, compiled on first use and cached on disk: importing the digest
    needs no compiler)."""
    from numba import njit

    @njit(cache=True)
    def lay_out(r: Any, r_at: Any, led: Any, l_at: Any, ids: Any, id_offsets: Any,
                out: Any) -> None:
        at = 0
        for k in range(len(r_at) - 1):
            n = (r_at[k + 1] - r_at[k]) * r.shape[1]
            out[at:at + n] = r[r_at[k]:r_at[k + 1]].ravel()
            at += n
            n = (l_at[k + 1] - l_at[k]) * led.shape[1]
            out[at:at + n] = led[l_at[k]:l_at[k + 1]].ravel()
            at += n
            n = id_offsets[l_at[k + 1]] - id_offsets[l_at[k]]
            out[at:at + n] = ids[id_offsets[l_at[k]]:id_offsets[l_at[k + 1]]]
            at += n

    return lay_out


class Combiner:
    """The replay's digest, from the subject digests of its partitions as they come.

    With `in_order`, each partition's subjects all follow the previous partition's (a
    simulated city's partitions do): each is hashed as it comes and nothing is held, so
    a sweep of many replays of a city holds no digests. Otherwise partitions are held and
    sorted at the end. Either way the value is `combine`'s.
    """

    def __init__(self, *, in_order: bool = False) -> None:
        self._hash = hashlib.sha256(VERSION) if in_order else None
        self._held: list[pa.Table] = []
        self._last: str | None = None

    def add(self, digests: pa.Table) -> None:
        if self._hash is None:
            self._held.append(digests)
            return
        if not digests.num_rows:
            return
        ordered = digests.sort_by("subject")
        subjects = ordered.column("subject").to_pylist()
        if self._last is not None and subjects[0] <= self._last:
            raise ValueError("partitions given in_order overlap or come out of subject order")
        self._last = subjects[-1]
        _hash_subjects(self._hash, subjects, ordered.column("digest").to_pylist())

    def value(self) -> str:
        if self._hash is None:
            return combine(self._held)
        return "sha256:" + self._hash.hexdigest()


def _hash_subjects(total: Any, subjects: list[str], digests: list[bytes]) -> None:
    for subject, value in zip(subjects, digests, strict=True):
        name = subject.encode("utf-8")
        total.update(b"%d:%s" % (len(name), name))
        total.update(value)


def combine(parts: Iterable[pa.Table]) -> str:
    """The replay's digest from the subject digests of all its partitions (in any order)."""
    tables = [t for t in parts if t.num_rows]
    subjects: list[str] = []
    digests: list[bytes] = []
    for table in tables:
        subjects += table.column("subject").to_pylist()
        digests += table.column("digest").to_pylist()
    if len(set(subjects)) != len(subjects):
        raise ValueError("a subject's rows were split across partitions")
    total = hashlib.sha256(VERSION)
    pairs = sorted(zip(subjects, digests, strict=True))
    _hash_subjects(total, [p[0] for p in pairs], [p[1] for p in pairs])
    return "sha256:" + total.hexdigest()


def replay_digest(results: pa.Table, ledger: pa.Table) -> str:
    """The digest of a whole replay, from its results and ledger tables."""
    return combine([subject_digests(results, ledger)])
