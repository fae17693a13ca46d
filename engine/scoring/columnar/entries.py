"""Ledger rows from the columnar reducer's arrays, and ledger records back from rows.

The reducer writes each change and note as an item `(entry, code, a, b, c)` of indexes
into the scheme. Here each distinct item becomes its record (`ledger.CapReached`, ...)
once, its canonical JSON text once, and each entry's `changes` and `notes` columns are
joined from those texts with Arrow list operations, never entry by entry in Python.
`records` reads the texts back into records for `ColumnarReplay.entries`.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.canonical import dumps
from creditlab.engine.scoring import ledger as L
from creditlab.engine.scoring.columnar import reduce as R
from creditlab.engine.scoring.columnar.compile import CompiledScheme
from creditlab.engine.scoring.columnar.match import Events
from creditlab.engine.scoring.columnar.values import event_value

__all__ = ["decimals", "item_texts", "records", "to_date"]

EPOCH = date(1970, 1, 1)
_DECIMAL_FIELDS = {"points", "min", "max", "threshold", "score"}
_DATE_FIELDS = {"until", "on", "given_on"}
_KINDS: dict[str, Any] = {cls.kind: cls for cls in (
    L.ScoreSet, L.GradeSet, L.FlagAdded, L.FlagRemoved, L.LapsesOn, L.Lapsed, L.SameAct,
    L.FrequencyLimit, L.CapReached, L.Clamped, L.MissingAttribute, L.NoTierValue,
    L.NoQuantityTier, L.BelowThreshold, L.AtMost, L.CountTier, L.Unquantified)}


def to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def decimals(millionths: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_] | None = None
             ) -> pa.Array:
    """int64 millionths as `decimal128(38, 9)`, exactly (built from the unscaled words)."""
    words = np.empty((len(millionths), 2), np.int64)
    words[:, 0] = millionths
    words[:, 1] = np.where(millionths < 0, -1, 0)
    mask = None if valid is None else pa.array(valid).buffers()[1]
    six = pa.Array.from_buffers(pa.decimal128(38, 6), len(millionths),
                                [mask, pa.py_buffer(words.tobytes())],
                                null_count=-1 if valid is not None else 0)
    return six.cast(pa.decimal128(38, 9))


def _record(compiled: CompiledScheme, events: Events, code: int, a: int, b: int,
            c: int) -> Any:
    scheme = compiled.scheme
    if code in (R.SAME_ACT, R.FREQUENCY, R.CAP_RULE, R.UNQUANTIFIED):
        rule = scheme.rules[a]
        if code == R.SAME_ACT:
            return L.SameAct(rule.same_act_as or "")
        if code == R.FREQUENCY:
            assert rule.frequency is not None
            return L.FrequencyLimit(rule.frequency.times, rule.frequency.per)
        if code == R.CAP_RULE:
            assert rule.cap is not None
            return L.CapReached(rule.cap.points, rule.cap.per, None)
        return L.Unquantified(rule.direction)
    if code == R.CAP_GROUP:
        group = scheme.cap_groups[a]
        return L.CapReached(group.cap.points, group.cap.per, group.id)
    if code == R.CLAMPED:
        assert scheme.scale.min is not None and scheme.scale.max is not None
        return L.Clamped(scheme.scale.min, scheme.scale.max)
    if code == R.LAPSES_ON:
        return L.LapsesOn(to_date(b))
    if code == R.LAPSED:
        return L.Lapsed(to_date(b))
    effect = compiled.effects[a]
    if code in (R.NO_TIER, R.NO_QUANTITY_TIER):
        value = event_value(events.values(effect.attr, np.array([b]))[0].as_py())
        if code == R.NO_TIER:
            return L.NoTierValue(effect.attr, value)
        return L.NoQuantityTier(effect.attr, Decimal(value))
    until = None if b == R.NONE_DAY else to_date(b)
    if code == R.MISSING:
        return L.MissingAttribute(effect.attr)
    if code == R.BELOW:
        return L.BelowThreshold(effect.attr, effect.threshold)
    if code == R.AT_MOST:
        return L.AtMost(effect.max_points)
    if code == R.COUNT_TIER:
        return L.CountTier(int(b), effect.window, None if c < 0 else int(c))
    if code == R.SCORE_SET:
        return L.ScoreSet(effect.score)
    if code == R.GRADE_SET:
        return L.GradeSet(effect.grade, effect.policy, until)
    if code == R.FLAG_ADDED:
        return L.FlagAdded(effect.flag, until)
    assert code == R.FLAG_REMOVED, code
    return L.FlagRemoved(effect.flag)


def _factorize(keys: npt.NDArray[np.int64]) -> tuple[npt.NDArray[np.int64], int]:
    codes, uniques = pd.factorize(keys)
    return codes.astype(np.int64), len(uniques)


def item_texts(compiled: CompiledScheme, events: Events, items: npt.NDArray[np.int64],
               n_entries: int) -> tuple[pa.Array, pa.Array]:
    """(changes, notes): each entry's canonical JSON text of its records."""
    keyed = items[:, 1:].copy()
    # Notes that name an event row depend on it only through the attribute's value (a
    # value with no tier) or not at all.
    keyed[np.isin(keyed[:, 0], (R.MISSING, R.BELOW, R.AT_MOST)), 2] = 0
    valued = np.flatnonzero(np.isin(keyed[:, 0], (R.NO_TIER, R.NO_QUANTITY_TIER)))
    for effect in np.unique(keyed[valued, 1]):
        chosen = valued[keyed[valued, 1] == effect]
        taken = events.values(compiled.effects[effect].attr, keyed[chosen, 2])
        codes = taken.dictionary_encode().indices
        keyed[chosen, 2] = pc.fill_null(codes, -1).to_numpy(zero_copy_only=False)
    # Distinct items by hashing (pandas) two int64 keys, not by sorting rows: (code, a)
    # and (b, c), with b a day, a row or a count (never-ending `until` as -1) and c a
    # count tier's threshold (at most 10^6).
    b = np.where(keyed[:, 2] == R.NONE_DAY, -1, keyed[:, 2])
    first, _ = _factorize((keyed[:, 0] << 40) | keyed[:, 1])
    second, n_second = _factorize(((b + (1 << 20)) << 21) | (keyed[:, 3] + 1))
    inverse, n_distinct = _factorize(first * n_second + second)
    where = np.zeros(n_distinct, np.int64)
    where[inverse[::-1]] = np.arange(len(inverse))[::-1]
    unique = items[where, 1:]  # a representative of each: its own row, when it names one
    texts = [dumps(L.record(_record(compiled, events, *map(int, row)))) for row in unique]
    text_of = pa.array(texts, pa.string())
    columns = []
    for codes in (R.CHANGES, R.NOTES):
        chosen = np.isin(items[:, 1], list(codes))
        entry = items[chosen, 0]
        values = text_of.take(pa.array(inverse.reshape(-1)[chosen]))
        offsets = np.zeros(n_entries + 1, np.int32)
        np.cumsum(np.bincount(entry, minlength=n_entries), out=offsets[1:])
        lists = pa.ListArray.from_arrays(pa.array(offsets), values)
        joined = pc.binary_join(lists, ",")
        columns.append(pc.binary_join_element_wise("[", joined, "]", ""))
    return columns[0], columns[1]


def records(text: str) -> tuple[Any, ...]:
    """The records of a `changes` or `notes` text, as the ledger holds them."""
    out = []
    for item in json.loads(text):
        cls = _KINDS[item.pop("kind")]
        for name, value in item.items():
            if name in _DECIMAL_FIELDS and value is not None:
                item[name] = Decimal(repr(value)) if isinstance(value, float) else Decimal(value)
            elif name in _DATE_FIELDS and value is not None:
                item[name] = date.fromisoformat(value)
            elif name == "value" and isinstance(value, float):
                item[name] = Decimal(repr(value))
        if cls is L.NoQuantityTier:
            item["value"] = Decimal(item["value"])
        out.append(cls(**item))
    return tuple(out)
