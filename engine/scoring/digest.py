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

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.scoring.tables import NUMBER

__all__ = ["VERSION", "combine", "replay_digest", "subject_digests"]

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


def _number(column: pa.Array) -> np.ndarray:
    """17 bytes per row: a null flag and the value as 16 bytes of billionths."""
    if column.type != NUMBER:
        column = column.cast(NUMBER)
    n = len(column)
    raw = np.frombuffer(column.buffers()[1], dtype=np.uint8)[
        column.offset * 16:(column.offset + n) * 16].reshape(n, 16)
    valid = column.is_valid().to_numpy(zero_copy_only=False)
    out = np.zeros((n, 17), dtype=np.uint8)
    out[:, 0] = valid
    out[valid, 1:] = raw[valid]
    return out


def _fixed(column: pa.Array, kind: str) -> np.ndarray:
    if kind == "text":
        return _text(column)
    if kind == "number":
        return _number(column)
    if kind == "day":
        days: np.ndarray = column.cast(pa.int32()).to_numpy(zero_copy_only=False)
        return np.asarray(days.astype("<i4").view(np.uint8).reshape(-1, 4))
    counts: np.ndarray = column.cast(pa.int64()).to_numpy(zero_copy_only=False)
    return np.asarray(counts.astype("<i8").view(np.uint8).reshape(-1, 8))


def _block(table: pa.Table, tag: bytes, fields: tuple[tuple[str, str], ...],
           tail: str | None) -> np.ndarray:
    """The fixed-width part of each row's record, one row of bytes per table row."""
    parts = [np.full((table.num_rows, 1), tag[0], dtype=np.uint8)]
    parts += [_fixed(_array(table.column(name)), kind) for name, kind in fields]
    if tail is not None:
        text = _array(table.column(tail)).cast(pa.string())
        lengths = pc.binary_length(text).to_numpy(zero_copy_only=False).astype("<u4")
        parts.append(lengths.view(np.uint8).reshape(-1, 4))
    block = np.empty((table.num_rows, sum(p.shape[1] for p in parts)), dtype=np.uint8)
    at = 0
    for part in parts:  # into one array: faster than np.concatenate on narrow columns
        block[:, at:at + part.shape[1]] = part
        at += part.shape[1]
    return block


def _grouped(block: np.ndarray, codes: np.ndarray, subjects: int
             ) -> tuple[np.ndarray, np.ndarray | None, np.ndarray]:
    """`block`'s rows grouped by subject code (stable: each subject's rows keep their
    order), the order that does it (None when the rows were grouped already), and where
    each subject's rows start (`subjects` + 1 offsets)."""
    if len(codes) < 2 or bool(np.all(codes[1:] >= codes[:-1])):
        return block, None, np.searchsorted(codes, np.arange(subjects + 1))
    order = np.argsort(codes, kind="stable")
    starts = np.searchsorted(codes[order], np.arange(subjects + 1))
    rows = np.ascontiguousarray(block).view(np.dtype((np.void, block.shape[1]))).ravel()
    return rows[order].view(np.uint8).reshape(block.shape), order, starts  # rows: one memcpy each


def subject_digests(results: pa.Table, ledger: pa.Table) -> pa.Table:
    """Each subject's digest (`subject`, `digest`: 32 bytes) over its results and ledger.

    `results` is sorted by (subject, scheme) and `ledger` is in replay order, as both
    backends give them; a subject's rows must all be in these two tables. A subject's
    digest is the sha256 of its result records, its ledger records' fixed parts and then
    its ledger's event ids (each record gives its event id's length, so the bytes read
    back one way only). The three are laid side by side, subject after subject, in one
    buffer, so that each subject costs one call to sha256.
    """
    subjects = pa.concat_arrays([_array(results.column("subject")).cast(pa.string()),
                                 _array(ledger.column("subject")).cast(pa.string())])
    encoded = pc.dictionary_encode(subjects)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    count = len(encoded.dictionary)
    r_codes, l_codes = codes[:results.num_rows], codes[results.num_rows:]
    r_block, _, r_starts = _grouped(_block(results, b"R", _RESULT_FIELDS, None), r_codes,
                                    count)
    l_block, order, l_starts = _grouped(_block(ledger, b"L", _LEDGER_FIELDS, "event"),
                                        l_codes, count)
    events = _array(ledger.column("event")).cast(pa.large_string())
    if order is not None:
        events = events.take(pa.array(order))
    e_offsets = np.frombuffer(events.buffers()[1], dtype=np.int64)[
        events.offset:events.offset + len(events) + 1]
    e_data = np.frombuffer(events.buffers()[2] or b"", dtype=np.uint8)
    r_bytes = r_starts * r_block.shape[1]
    l_bytes = l_starts * l_block.shape[1]
    e_bytes = e_offsets[l_starts] - e_offsets[0]
    bounds = r_bytes + l_bytes + e_bytes  # where each subject's bytes start in `laid`
    laid = np.empty(int(bounds[-1]), dtype=np.uint8)
    _lay_out(r_block.reshape(-1), r_bytes, l_block.reshape(-1), l_bytes,
             e_data[e_offsets[0]:], e_bytes, laid)
    view = memoryview(laid.data)
    sha256 = hashlib.sha256
    digests = [sha256(view[bounds[k]:bounds[k + 1]]).digest() for k in range(count)]
    return pa.table({"subject": encoded.dictionary, "digest": pa.array(digests,
                                                                       pa.binary(32))})


def _lay_out(r: np.ndarray, r_at: np.ndarray, ledger: np.ndarray, l_at: np.ndarray,
             ids: np.ndarray, e_at: np.ndarray, out: np.ndarray) -> None:
    """Subject by subject: its result bytes, its ledger bytes, its event ids' bytes."""
    n = len(r_at) - 1
    if n < 1:
        return
    # Each of the three is a run of whole slices; numpy copies them with one
    # concatenate of 3n views, far cheaper than a Python loop of byte copies.
    pieces = []
    for k in range(n):
        pieces += (r[r_at[k]:r_at[k + 1]], ledger[l_at[k]:l_at[k + 1]],
                   ids[e_at[k]:e_at[k + 1]])
    np.concatenate(pieces, out=out)


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
    for subject, value in sorted(zip(subjects, digests, strict=True)):
        name = subject.encode("utf-8")
        total.update(b"%d:%s" % (len(name), name))
        total.update(value)
    return "sha256:" + total.hexdigest()


def replay_digest(results: pa.Table, ledger: pa.Table) -> str:
    """The digest of a whole replay, from its results and ledger tables."""
    return combine([subject_digests(results, ledger)])
