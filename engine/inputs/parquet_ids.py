"""Event ids and subject ids of a Parquet history, by column.

An event without an id gets `#N` from its position, as in JSONL; duplicate ids are found
across the whole history from an 8-byte hash per event (the only cost that grows with the
history, not the partition); events find their subject by a vectorised lookup.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.inputs.parquet_checks import (
    first_true,
    plain_array,
    row_error,
)

__all__ = [
    "SubjectLookup",
    "event_ids",
    "id_hashes",
    "rows_of",
    "sample_ids",
    "subject_column",
]


def rows_of(start: int, events: pa.Array | None, n: int) -> np.ndarray:
    """1-based file rows of the rows kept."""
    if events is None:
        return np.arange(start + 1, start + n + 1, dtype=np.int64)
    return np.flatnonzero(events.to_numpy(zero_copy_only=False)).astype(np.int64) + start + 1


def subject_column(table: pa.Table, file: str, rows: np.ndarray) -> pa.Array:
    subject = plain_array(table.column("subject"))
    if pa.types.is_integer(subject.type):
        subject = subject.cast(pa.string())
    bad = first_true(pc.is_null(subject))
    if bad is not None:
        raise row_error("missing required field 'subject'", file, int(rows[bad]), "subject")
    return subject


def event_ids(table: pa.Table, first_position: int) -> pa.Array:
    """Event ids as given, `#N` where absent (N the 1-based position among all events)."""
    n = table.num_rows
    derived = pc.binary_join_element_wise(
        "#", pc.cast(pa.array(np.arange(first_position + 1, first_position + n + 1)),
                     pa.string()), "")
    if "id" not in table.column_names:
        return derived
    given = plain_array(table.column("id"))
    if pa.types.is_integer(given.type):
        given = given.cast(pa.string())
    return pc.coalesce(given, derived)


def id_hashes(table: pa.Table, first_position: int) -> np.ndarray:
    """A 64-bit FNV-1a hash of each event id, computed a byte position at a time over the
    whole column. Equal hashes are only suspects: `_duplicate` compares the ids."""
    ids = event_ids(table, first_position)
    n = len(ids)
    buffers = ids.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int32)[ids.offset: ids.offset + n + 1]
    data = np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None \
        else np.zeros(0, np.uint8)
    lengths = np.diff(offsets)
    if n and int(lengths.max()) > _HASHED_BYTES:  # long ids: hash them one by one
        import pandas as pd

        values = ids.to_numpy(zero_copy_only=False).astype(object)
        return np.asarray(pd.util.hash_array(values, categorize=False), dtype=np.uint64)
    hashes = np.full(n, 0xCBF29CE484222325, dtype=np.uint64)
    starts = offsets[:-1]
    prime = np.uint64(0x100000001B3)
    for p in range(int(lengths.max()) if n else 0):
        live = lengths > p
        byte = np.zeros(n, dtype=np.uint64)
        byte[live] = data[starts[live] + p]
        hashes = np.where(live, (hashes ^ byte) * prime, hashes)
    return hashes ^ lengths.astype(np.uint64)


_HASHED_BYTES = 64
"""Ids up to this long are hashed vectorised; longer ones (rare) through pandas."""


class SubjectLookup:
    """Subject ids to their index in the subjects table, the hash table built once (Arrow's
    index_in would build it again for every row group)."""

    def __init__(self, ids: pa.ChunkedArray | pa.Array) -> None:
        import pandas as pd

        self.index = pd.Index(plain_array(ids).to_numpy(zero_copy_only=False))

    def __call__(self, subject: pa.Array) -> pa.Array:
        """The index of each subject (int64), null where the id is unknown."""
        encoded = pc.dictionary_encode(subject)
        where = self.index.get_indexer(encoded.dictionary.to_numpy(zero_copy_only=False))
        out = np.asarray(where, dtype=np.int64)[
            encoded.indices.to_numpy(zero_copy_only=False)]
        return pa.array(out, mask=out < 0)


def sample_ids(ids: pa.ChunkedArray | pa.Array, value: Any) -> list[str]:
    """Known ids to suggest from: all of them when few, else those sharing a prefix."""
    if len(ids) <= 10_000:
        return [str(i) for i in ids.to_pylist()]
    prefix = str(value)[:2]
    return [str(i) for i in pc.filter(ids, pc.starts_with(ids, prefix)).to_pylist()[:10_000]]
