"""The replay digest: one sha256 for a replay's results and ledger, computed by subject.

A replay's digest must be the same on any machine, from either backend, and whether the
history was replayed in one process, in partitions of subjects or on a Dask cluster. So it
is computed per subject, and the subjects' digests are combined in subject order:

1. For each subject, its lines: one `R` line per result (its schemes in id order), then
   one `L` line per ledger entry, in replay order (the order of that subject's entries is
   the same however the history is partitioned).
2. A line is the row's fields, each written as `<bytes>:<text>` (null as `~`), then a
   newline: no text can be mistaken for a field boundary. Numbers are written plainly
   without trailing zeros (`965`, `0.5`), dates as ISO dates, `changes` and `notes` as
   their canonical JSON, `flags` joined by commas.
3. The subject's digest is the sha256 of its lines; the replay's digest is the sha256 of
   `creditlab digest 2` and then, for each subject in code-point order, the subject's id
   written as a field followed by its 32-byte digest.

Every step is a column operation (pyarrow) except the last loop over subjects. The
ledger's `source` is not part of the digest: a rule's source is fixed by the scheme,
whose sha256 the manifest records.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.canonical import number

__all__ = ["VERSION", "combine", "replay_digest", "subject_digests"]

VERSION = b"creditlab digest 2\n"

_RESULT_FIELDS = ("scheme", "start", "score", "band", "flags", "events_scored",
                  "events_unscored")
_LEDGER_FIELDS = ("scheme", "kind", "at", "event", "type", "rule", "points", "applied",
                  "score_before", "score_after", "band_before", "band_after", "changes",
                  "notes", "fidelity")


def _text(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as canonical text (nulls stay null)."""
    column = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    kind = column.type
    if pa.types.is_decimal(kind):
        # 965.000000000 -> 965; 0.500000000 -> 0.5 (there is always a point to strip to).
        text = pc.replace_substring_regex(pc.cast(column, pa.string()), pattern=r"\.?0+$",
                                          replacement="")
        tiny = pc.fill_null(pc.match_substring(text, "E"), False)
        if pc.any(tiny).as_py():
            # Arrow writes 0, and magnitudes below 10^-6, in exponent notation (0E-9, 1E-9).
            where = pa.array(np.flatnonzero(tiny.to_numpy(zero_copy_only=False)))
            plain = pa.array([number(v) for v in column.take(where).to_pylist()], pa.string())
            text = pc.replace_with_mask(text, tiny, plain)
        return text
    if pa.types.is_list(kind) or pa.types.is_large_list(kind):
        return pc.binary_join(column, ",")
    if pa.types.is_string(kind) or pa.types.is_large_string(kind):
        return column
    if pa.types.is_dictionary(kind):
        return _text(pc.cast(column, kind.value_type))
    return pc.cast(column, pa.string())


def _field(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    text = _text(column)
    length = pc.cast(pc.binary_length(text), pa.string())
    encoded = pc.binary_join_element_wise(length, text, ":")
    return pc.fill_null(encoded, "~")


def _lines(table: pa.Table, tag: str, fields: tuple[str, ...]) -> pa.Array:
    columns = [_field(table.column(name)) for name in fields]
    joined = pc.binary_join_element_wise(pa.scalar(tag), *columns, pa.scalar("\n"), "")
    return pc.cast(joined, pa.large_string())


def subject_digests(results: pa.Table, ledger: pa.Table) -> pa.Table:
    """Each subject's digest (`subject`, `digest`: 32 bytes) over its results and ledger.

    `results` is sorted by (subject, scheme) and `ledger` is in replay order, as both
    backends give them; a subject's rows must all be in these two tables.
    """
    lines = pa.concat_arrays([_lines(results, "R", _RESULT_FIELDS),
                              _lines(ledger, "L", _LEDGER_FIELDS)])
    subjects = pa.concat_arrays([results.column("subject").combine_chunks().cast(pa.string()),
                                 ledger.column("subject").combine_chunks().cast(pa.string())])
    if len(lines) == 0:
        return pa.table({"subject": pa.array([], pa.string()),
                         "digest": pa.array([], pa.binary(32))})
    encoded = pc.dictionary_encode(subjects)
    codes = encoded.indices.to_numpy(zero_copy_only=False)
    # Grouped by subject; R lines stay before L lines, each in its own order (stable sort).
    order = np.argsort(codes, kind="stable")
    lines = lines.take(pa.array(order))
    codes = codes[order]
    bounds = np.flatnonzero(np.diff(codes)) + 1
    starts = np.concatenate(([0], bounds))
    ends = np.concatenate((bounds, [len(codes)]))
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int64)[
        lines.offset:lines.offset + len(lines) + 1]
    data = memoryview(lines.buffers()[2]) if lines.buffers()[2] is not None else memoryview(b"")
    digests = [hashlib.sha256(data[offsets[a]:offsets[b]]).digest()
               for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    names = encoded.dictionary.take(pa.array(codes[starts]))
    return pa.table({"subject": names, "digest": pa.array(digests, pa.binary(32))})


def combine(parts: Iterable[pa.Table]) -> str:
    """The replay's digest from the subject digests of all its partitions (in any order)."""
    tables = [t for t in parts if t.num_rows]
    whole = pa.concat_tables(tables) if tables else pa.table(
        {"subject": pa.array([], pa.string()), "digest": pa.array([], pa.binary(32))})
    subjects = whole.column("subject").to_pylist()
    digests = whole.column("digest").to_pylist()
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
