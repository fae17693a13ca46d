"""Rolling windows of accumulated effects, for the columnar reducer (numba).

`durable.standing.RollingTotal` on arrays: for each accumulated effect over a rolling window
(row k), the amounts the current subject's events added, each with the day it leaves the
window, in the order they came, and a head before which they have left. A subject's
events come in day order and a day plus a duration never goes back as the day goes
forward, so the amounts leave in the order they came and the head only moves forward.

`position[k]` holds (head, end, subject, total): the rows of `leaves` and `amounts` in
use are head to end, and they belong to `subject`; a window that last held another
subject's amounts starts empty. A subject adds at most one amount per fired rule, so
rows as many as the subject's fired rules always suffice.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

__all__ = ["P_END", "P_HEAD", "P_SUBJECT", "P_TOTAL", "rolling_add", "rolling_total",
           "rolling_windows"]

P_HEAD, P_END, P_SUBJECT, P_TOTAL = range(4)


@njit(cache=True)
def rolling_windows(kinds: Any, windows: Any, accumulated: int, rolling: int,
                    rows: int) -> tuple[Any, Any, Any, Any]:
    """(row per effect, or -1; leaves; amounts; position) for the effects of kind
    `accumulated` over the window `rolling`, with `rows` rows each."""
    row = np.full(len(kinds), -1, np.int64)
    count = 0
    for j in range(len(kinds)):
        if kinds[j] == accumulated and windows[j] == rolling:
            row[j] = count
            count += 1
    position = np.full((count, 4), -1, np.int64)
    return (row, np.zeros((count, rows), np.int64), np.zeros((count, rows), np.int64),
            position)


@njit(cache=True, inline="always")
def rolling_total(leaves: Any, amounts: Any, position: Any, k: int, subject: int,
                  day: int) -> int:
    """Window k's total for `subject` on `day`, once the amounts that left by then are
    dropped (`RollingTotal.on`)."""
    if position[k, P_SUBJECT] != subject:
        position[k, P_HEAD] = 0
        position[k, P_END] = 0
        position[k, P_SUBJECT] = subject
        position[k, P_TOTAL] = 0
    head = position[k, P_HEAD]
    total = position[k, P_TOTAL]
    while head < position[k, P_END] and leaves[k, head] <= day:
        total -= amounts[k, head]
        head += 1
    position[k, P_HEAD] = head
    position[k, P_TOTAL] = total
    return int(total)


@njit(cache=True, inline="always")
def rolling_add(leaves: Any, amounts: Any, position: Any, k: int, amount: int,
                leaves_on: int) -> int:
    """Add `amount`, which leaves window k on `leaves_on`; returns the new total
    (`RollingTotal.add`). `rolling_total` for the same day comes first."""
    end = position[k, P_END]
    leaves[k, end] = leaves_on
    amounts[k, end] = amount
    position[k, P_END] = end + 1
    position[k, P_TOTAL] += amount
    return int(position[k, P_TOTAL])
