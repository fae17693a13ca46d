"""Ledger rows from the columnar reducer's arrays, and ledger records back from rows.

The reducer writes each change and note as an item `(entry, code, a, b, c)` of indexes
into the scheme. Here each distinct item becomes its record (`ledger.CapReached`, ...)
once, its canonical JSON text once, and each entry's `changes` and `notes` columns are
joined from those texts with Arrow list operations, never entry by entry in Python.
`records` reads the texts back into records for `ColumnarReplay.entries`.
"""

from __future__ import annotations

import functools
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
from creditlab.engine.scoring.columnar import codes as R
from creditlab.engine.scoring.columnar.compile import CompiledScheme, unscaled
from creditlab.engine.scoring.columnar.match import Events
from creditlab.engine.scoring.columnar.values import event_value

__all__ = ["decimals", "item_texts", "records", "to_date"]

EPOCH = date(1970, 1, 1)
_SMALL = (1 << 63) // 1000
"""Millionths below this in magnitude are billionths in int64."""
_DECIMAL_FIELDS = {"points", "min", "max", "threshold", "score", "total", "factor"}
_DATE_FIELDS = {"until", "on", "given_on", "since", "earlier_on"}
_KINDS: dict[str, Any] = {cls.kind: cls for cls in (
    L.ScoreSet, L.GradeSet, L.FlagAdded, L.FlagRemoved, L.LapsesOn, L.Lapsed, L.SameAct,
    L.FrequencyLimit, L.CapReached, L.Clamped, L.MissingAttribute, L.NoTierValue,
    L.NoQuantityTier, L.BelowThreshold, L.AtMost, L.CountTier, L.Accumulated, L.Repeat,
    L.Unquantified, L.Checked)}


def to_date(day: int) -> date:
    return EPOCH + timedelta(days=int(day))


def decimals(millionths: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_] | None = None
             ) -> pa.Array:
    """int64 millionths as `decimal128(38, 9)`, exactly: the 128-bit words of the value
    in billionths (x 1000) are made with numpy, never through Python numbers."""
    x = np.ascontiguousarray(millionths, np.int64)
    words = np.empty((len(x), 2), np.int64)
    if not len(x) or max(int(x.max()), -int(x.min())) < _SMALL:
        np.multiply(x, 1000, out=words[:, 0])  # fits in 64 bits: the high word is the sign
        np.right_shift(x, 63, out=words[:, 1])
        return _decimal_array(words, valid)
    # x * 1000 = (hi * 1000) * 2^32 + lo * 1000, with hi = x >> 32 (signed) and lo the low
    # 32 bits: both products fit in 64 bits, and the sum is carried into the high word.
    high = (x >> 32) * 1000
    low = (x & 0xFFFFFFFF).astype(np.uint64) * np.uint64(1000)
    shifted = (high & 0xFFFFFFFF).astype(np.uint64) << np.uint64(32)
    words[:, 0] = (shifted + low).view(np.int64)
    words[:, 1] = (high >> 32) + (words[:, 0].view(np.uint64) < shifted)
    return _decimal_array(words, valid)


def _decimal_array(words: npt.NDArray[np.int64], valid: npt.NDArray[np.bool_] | None
                   ) -> pa.Array:
    mask = None if valid is None else pa.array(valid, pa.bool_()).buffers()[1]
    return pa.Array.from_buffers(pa.decimal128(38, 9), len(words),
                                 [mask, pa.py_buffer(words)],
                                 null_count=-1 if valid is not None else 0)


def _record(compiled: CompiledScheme, events: Events, code: int, a: int, b: int,
            c: int) -> Any:
    scheme = compiled.scheme
    if code in (R.SAME_ACT, R.FREQUENCY, R.CAP_RULE, R.UNQUANTIFIED):
        rule = scheme.rules[a]
        if code == R.SAME_ACT:
            return L.SameAct(rule.same_act_as or "")
        if code == R.FREQUENCY:
            assert rule.frequency is not None
            return L.FrequencyLimit(rule.frequency.times, rule.frequency.window_name)
        if code == R.CAP_RULE:
            assert rule.cap is not None
            return L.CapReached(rule.cap.points, rule.cap.per, None)
        return L.Unquantified(rule.direction)
    if code == R.REPEAT:
        repeat = scheme.repeat_of(scheme.rules[a].id)
        assert repeat is not None
        return L.Repeat(repeat.factor, to_date(b), repeat.window_name)
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
    if code == R.ACCUMULATED:
        return L.Accumulated(effect.of, unscaled(int(b)), effect.window_name)
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


def _distinct_items(compiled: CompiledScheme, events: Events, items: npt.NDArray[np.int64]
                    ) -> tuple[npt.NDArray[np.int64], list[str]]:
    """Each item's index among the distinct items, and each distinct item's text."""
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
    # count tier's threshold (at most 10^6). A running total (any int64) is first
    # replaced by its code among the totals: b is only ever compared under one (code, a).
    b = np.where(keyed[:, 2] == R.NONE_DAY, -1, keyed[:, 2])
    totals = keyed[:, 0] == R.ACCUMULATED
    if totals.any():
        b[totals] = _factorize(b[totals])[0]
    first, _ = _factorize((keyed[:, 0] << 40) | keyed[:, 1])
    second, n_second = _factorize(((b + (1 << 20)) << 21) | (keyed[:, 3] + 1))
    inverse, n_distinct = _factorize(first * n_second + second)
    where = np.zeros(n_distinct, np.int64)
    where[inverse[::-1]] = np.arange(len(inverse))[::-1]
    unique = items[where, 1:]  # a representative of each: its own row, when it names one
    return inverse, [_text(compiled, events, *map(int, row)) for row in unique]


def _text(compiled: CompiledScheme, events: Events, code: int, a: int, b: int, c: int
          ) -> str:
    """The canonical JSON text of one item's record."""
    if code in (R.LAPSES_ON, R.LAPSED):
        return _day_text(code, b)  # the same in every scheme: made once per day
    return dumps(L.record(_record(compiled, events, code, a, b, c)))


@functools.lru_cache(maxsize=1 << 14)
def _day_text(code: int, day: int) -> str:
    return dumps(L.record(L.LapsesOn(to_date(day)) if code == R.LAPSES_ON
                          else L.Lapsed(to_date(day))))


def _lists(entry: npt.NDArray[np.int64], item: npt.NDArray[np.int64], n_entries: int,
           n_items: int) -> tuple[npt.NDArray[np.int64], list[list[int]]]:
    """Each entry's index among the distinct lists of items, and each distinct list.

    `entry` (nondecreasing) and `item` give each item's entry and its distinct item. The
    lists grow one place at a time, as a tree of prefixes: a node is (parent, item), named
    by hashing, so no list is ever built in Python but for each distinct one.
    """
    node = np.zeros(n_entries, np.int64)  # 0: the empty list
    parents = [np.zeros(1, np.int64)]
    last = [np.full(1, -1, np.int64)]
    count = 1
    if len(entry):
        starts = np.flatnonzero(np.r_[True, entry[1:] != entry[:-1]])
        run = np.zeros(len(entry), np.int64)
        run[starts] = starts
        place = np.arange(len(entry)) - np.maximum.accumulate(run)
        for k in range(int(place.max()) + 1):
            chosen = place == k
            rows = entry[chosen]
            key = node[rows] * (n_items + 1) + item[chosen]
            codes, uniques = pd.factorize(key)
            node[rows] = count + codes
            parents.append(uniques // (n_items + 1))
            last.append(uniques % (n_items + 1))
            count += len(uniques)
    parent = np.concatenate(parents)
    tail = np.concatenate(last)
    inverse, used = pd.factorize(node)
    lists = []
    for leaf in used.tolist():
        chain: list[int] = []
        while leaf != 0:
            chain.append(int(tail[leaf]))
            leaf = int(parent[leaf])
        lists.append(chain[::-1])
    return inverse.astype(np.int64), lists


def item_texts(compiled: CompiledScheme, events: Events, items: npt.NDArray[np.int64],
               n_entries: int) -> tuple[tuple[npt.NDArray[np.int64], list[str]],
                                        tuple[npt.NDArray[np.int64], list[str]]]:
    """(changes, notes), each as (every entry's code, the text of each code): the
    canonical JSON text of the entry's records, made once per distinct list of them."""
    inverse, found = _distinct_items(compiled, events, items)
    out = []
    for codes in (R.CHANGES, R.NOTES):
        chosen = np.isin(items[:, 1], list(codes))
        code, lists = _lists(items[chosen, 0], inverse[chosen], n_entries, len(found))
        # `dumps` of a list is its items' texts joined: each item's text is made once.
        out.append((code, ["[" + ",".join([found[i] for i in chain]) + "]"
                           for chain in lists]))
    return out[0], out[1]


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
