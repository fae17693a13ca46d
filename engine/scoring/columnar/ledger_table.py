"""The ledger of a columnar replay as one Arrow table, built once from integer codes.

The reducer gives each scheme's entries as integer arrays (`SchemeEntries`): rows, rules,
bands, days, millionths, and a code for the distinct list of changes and of notes. The
ledger table is made from them in one go: the entries of all schemes are put in replay
order by sorting integer keys, and every column is built from integers. Text columns
with few distinct values (kind, type, scheme, rule, bands, changes, notes, fidelity)
are `dictionary<int32, string>` columns: their values are those of `LEDGER_SCHEMA`'s
string columns, each distinct text made once (dictionaries sorted, so that the table
does not depend on the order of the history's rows). `event` and `subject` are strings,
each one `take`. Numbers are `decimal128(38, 9)`, built from the millionths with numpy.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.scoring.columnar import codes as R
from creditlab.engine.scoring.columnar.compile import CompiledScheme
from creditlab.engine.scoring.columnar.entries import decimals, item_texts
from creditlab.engine.scoring.columnar.match import Events
from creditlab.engine.scoring.tables import LEDGER_SCHEMA

__all__ = ["LEDGER_TYPES", "SchemeEntries", "ledger_table", "scheme_entries"]

I64 = npt.NDArray[np.int64]
I32 = npt.NDArray[np.int32]
TEXT = pa.dictionary(pa.int32(), pa.string())
_CODED = ("kind", "type", "scheme", "rule", "band_before", "band_after", "changes", "notes",
          "fidelity")
LEDGER_TYPES = pa.schema([pa.field(f.name, TEXT) if f.name in _CODED else f
                          for f in LEDGER_SCHEMA])
"""`LEDGER_SCHEMA` with its few-valued text columns as dictionaries (same values)."""


@dataclass(frozen=True)
class SchemeEntries:
    """One scheme's ledger entries as arrays, in the reducer's order (by subject)."""

    compiled: CompiledScheme
    index: int
    """The scheme's index among the replayed schemes (sorted by id)."""
    position: I64
    order: I32
    kind: npt.NDArray[np.int8]
    """0 a rule, 1 a lapse."""
    at: I32
    event_row: I32
    subject: I32
    rule: I32
    has_points: npt.NDArray[np.bool_]
    band_before: I32
    band_after: I32
    """Band indexes; -1: none."""
    numbers: I64
    """points, applied, score_before, score_after: millionths, one row per entry."""
    changes: tuple[I32, list[str]]
    notes: tuple[I32, list[str]]
    """Each entry's code, and the text of each code."""


def scheme_entries(ev: Events, compiled: CompiledScheme, index: int,
                   parts: list[tuple[I64, I64, I64]]) -> SchemeEntries:
    """The entries the reducer wrote in `parts` (ints, numbers, items per buffer)."""
    base = np.cumsum([0] + [len(p[0]) for p in parts])
    ints = np.concatenate([p[0] for p in parts]) if parts else np.zeros((0, 9), np.int64)
    nums = np.concatenate([p[1] for p in parts]) if parts else np.zeros((0, 4), np.int64)
    items = np.concatenate([p[2] + np.array([[b, 0, 0, 0, 0]])
                            for p, b in zip(parts, base[:-1], strict=True)]) if parts \
        else np.zeros((0, 5), np.int64)
    n = len(ints)
    kind, row, subject, rule, event_row, at, has_points, band_before, band_after = ints.T
    finish = kind == R.FINISH
    position = np.where(finish, ev.n, ev.position[np.maximum(row, 0)])
    # An entry's order within (position, scheme): its index within its run of entries of
    # one event; finish lapses run on through all subjects, as the durable replay counts.
    starts = np.flatnonzero(np.r_[True, row[1:] != row[:-1]]) if n else np.zeros(0, int)
    run = np.zeros(n, np.int64)
    run[starts] = starts
    order = np.arange(n) - np.maximum.accumulate(run) if n else np.zeros(0, np.int64)
    order[finish] = np.arange(int(finish.sum()))
    changes, notes = item_texts(compiled, ev, items, n)
    # Kept until every scheme is replayed: in the narrowest types that hold them.
    i32 = np.int32
    return SchemeEntries(compiled, index, position, order.astype(i32),
                         np.minimum(kind, 1).astype(np.int8), at.astype(i32),
                         event_row.astype(i32), subject.astype(i32), rule.astype(i32),
                         has_points == 1, band_before.astype(i32), band_after.astype(i32),
                         nums, (changes[0].astype(i32), changes[1]),
                         (notes[0].astype(i32), notes[1]))


def _coded(codes: npt.NDArray[np.int64], texts: Sequence[str | None]) -> pa.DictionaryArray:
    """`codes` (-1: null) into `texts`, as a dictionary column over the distinct texts,
    sorted."""
    known = sorted({t for t in texts if t is not None})
    where = {t: i for i, t in enumerate(known)}
    remap = np.asarray([-1 if t is None else where[t] for t in texts] + [-1], np.int32)
    mapped = remap[codes]
    nulls = mapped < 0
    indices = pa.array(mapped, pa.int32(), mask=nulls) if nulls.any() else pa.array(mapped)
    return pa.DictionaryArray.from_arrays(indices, pa.array(known, pa.string()))


def _joined(parts: Sequence[SchemeEntries], pick: str) -> tuple[I64, list[str | None]]:
    """The per-scheme codes of text column `pick`, renumbered into one list of texts."""
    codes = []
    texts: list[str | None] = []
    for p in parts:
        scheme = p.compiled.scheme
        if pick in ("changes", "notes"):
            code, local = getattr(p, pick)
            codes.append(code + len(texts))
            texts += local
        elif pick == "rule":
            codes.append(p.rule + len(texts))
            texts += list(p.compiled.rule_ids)
        elif pick == "fidelity":
            codes.append(p.rule + len(texts))
            texts += [r.fidelity for r in scheme.rules]
        else:
            band = getattr(p, pick)
            codes.append(np.where(band < 0, -1, band + len(texts)))
            texts += [b.label for b in scheme.bands]
    return np.concatenate(codes), texts


def _replay_order(position: I64, scheme: I64, order: I64) -> I64:
    """The permutation that puts entries in replay order: (position, scheme, order)."""
    if not len(position):
        return np.zeros(0, np.int64)
    lowest, highest = int(position.min()), int(position.max())
    schemes = int(scheme.max()) + 1
    bits = max(int(order.max()), 1).bit_length()
    if lowest >= 0 and (highest + 1) * schemes < (1 << (62 - bits)):
        key = ((position * schemes + scheme) << bits) | order
        return np.argsort(key)  # keys are distinct: any sort is the stable one
    return np.lexsort((order, scheme, position))


def ledger_table(ev: Events, parts: Sequence[SchemeEntries]) -> pa.Table:
    """The entries of every scheme as one ledger table, in replay order (see module doc)."""
    total = sum(len(p.position) for p in parts)
    if not total:
        return LEDGER_TYPES.empty_table()
    scheme = np.concatenate([np.full(len(p.position), p.index, np.int64) for p in parts])
    position = np.concatenate([p.position for p in parts])
    order = np.concatenate([p.order for p in parts])
    by = _replay_order(position, scheme, order)

    def joined(name: str) -> I64:
        return np.take(np.concatenate([getattr(p, name) for p in parts]), by)

    event_row = joined("event_row")
    taken = pa.array(ev.perm[event_row])
    # `np.take` rather than indexing with an array: several times faster (rows above all).
    numbers = np.take(np.concatenate([p.numbers for p in parts]), by, axis=0)
    types = ev.table.column("type").combine_chunks().cast(pa.string())
    type_names = pc.unique(types).to_pylist()
    type_codes = pc.index_in(types, pa.array(type_names, types.type)).to_numpy(
        zero_copy_only=False).astype(np.int64)
    ids = [p.compiled.scheme.id for p in parts]
    columns = {
        "position": np.take(position, by),
        "scheme_index": np.take(scheme, by).astype(np.int32),
        "order": np.take(order, by).astype(np.int32),
        "kind": _coded(joined("kind"), ["rule", "lapse"]),
        "at": pa.array(joined("at").astype(np.int32)).cast(pa.date32()),
        "event": ev.table.column("id").combine_chunks().take(taken),
        "type": _coded(type_codes[ev.perm[event_row]], type_names),
        "subject": ev.subjects.column("id").combine_chunks().take(pa.array(joined("subject"))),
        "scheme": _coded(np.take(np.concatenate([np.full(len(p.position), k, np.int64)
                                                 for k, p in enumerate(parts)]), by), ids),
    }
    codes, texts = _joined(parts, "rule")
    columns["rule"] = _coded(np.take(codes, by), texts)
    has_points = np.take(np.concatenate([p.has_points for p in parts]), by)
    columns["points"] = decimals(numbers[:, 0], has_points)
    columns["applied"] = decimals(numbers[:, 1])
    columns["score_before"] = decimals(numbers[:, 2])
    columns["score_after"] = decimals(numbers[:, 3])
    for name in ("band_before", "band_after", "changes", "notes", "fidelity"):
        codes, texts = _joined(parts, name)
        columns[name] = _coded(np.take(codes, by), texts)
    return pa.table(columns, schema=LEDGER_TYPES)
