"""What the columnar reducer writes: entry kinds, item codes, and the rows that hold them.

The reducer (reduce.py) writes each ledger entry as a row of two arrays, `ints` (kind,
event row, subject, rule, event row of the points, day, whether points were given, band
before, band after) and `nums` (points given, points applied, score before, score after,
in millionths), and each change or note as an item `(entry, code, a, b, c)`. The codes
and the sentinel days are shared with the modules that turn these rows back into records
(entries.py, ledger_table.py), so they live here, apart from the loop that writes them.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = [
    "ABSENT", "ACCUMULATED", "AT_MOST", "BELOW", "CAP_GROUP", "CAP_RULE", "CHANGES",
    "CLAMPED", "COUNT_TIER", "FINISH", "FLAG_ADDED", "FLAG_REMOVED", "FREQUENCY", "GRADE_SET",
    "LAPSE", "LAPSED", "LAPSES_ON", "LIMIT", "MISSING", "NONE_DAY", "NOTES", "NO_QUANTITY_TIER",
    "NO_TIER", "REPEAT", "RULE", "SAME_ACT", "SCORE_SET", "STATUS_NOTE", "UNQUANTIFIED",
    "UNSET", "add_item", "open_entry",
]

# Item codes: notes (why the applied points differ) and changes (what else happened).
SAME_ACT, FREQUENCY, CAP_RULE, CAP_GROUP, CLAMPED, MISSING, NO_TIER, NO_QUANTITY_TIER, \
    BELOW, AT_MOST, COUNT_TIER, UNQUANTIFIED, ACCUMULATED, REPEAT = range(1, 15)
SCORE_SET, GRADE_SET, FLAG_ADDED, FLAG_REMOVED, LAPSES_ON, LAPSED = range(21, 27)
NOTES = range(1, 15)
CHANGES = range(21, 27)

RULE, LAPSE, FINISH = 0, 1, 2
"""Entry kinds: a rule that fired, a lapse before an event, a lapse at the end."""
NONE_DAY = 1 << 62
"""An `until` that never comes (a duration the source does not give)."""
ABSENT = -(1 << 62)
UNSET = -(1 << 62)
LIMIT = 10**18
# A status of effect_points (values.py): none, with the note of this code.
STATUS_NOTE = np.array([0, MISSING, NO_TIER, NO_QUANTITY_TIER, BELOW, AT_MOST], np.int64)


@njit(cache=True, inline="always")
def open_entry(ints: Any, nums: Any, n: Any, kind: int, row: int, s: int, rule: int,
               event_row: int, at: int, before: int, band_before: int) -> int:
    """Start ledger entry `n[0]` with nothing applied yet, and return its row: the caller
    fills in the points, the score and the band after."""
    e = n[0]
    ints[e, 0] = kind
    ints[e, 1] = row
    ints[e, 2] = s
    ints[e, 3] = rule
    ints[e, 4] = event_row
    ints[e, 5] = at
    ints[e, 6] = 0
    ints[e, 7] = band_before
    ints[e, 8] = band_before
    nums[e, 0] = 0
    nums[e, 1] = 0
    nums[e, 2] = before
    nums[e, 3] = before
    n[0] = e + 1
    return int(e)


@njit(cache=True, inline="always")
def add_item(items: Any, n: Any, entry: int, code: int, x: int, y: int, z: int) -> None:
    """Add item `n[1]`, a change or note `code` of ledger entry `entry`."""
    i = n[1]
    items[i, 0] = entry
    items[i, 1] = code
    items[i, 2] = x
    items[i, 3] = y
    items[i, 4] = z
    n[1] = i + 1
