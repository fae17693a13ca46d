"""A subject's standing on arrays, and the small steps that change it (numba).

The standing of the subject being reduced is a few int64 numbers (`S_*`: score, grade
override, its policy and end, the first day points are due to lapse) and a table of the
points waiting to lapse (`L_*`). Here are the steps the reducer (reduce.py) takes on them
besides a rule's application: the standing a subject starts with (`start`), the grade
shown (`band`), a cap's and the scale's cut (`within`, `within_scale`), what count tiers
and running totals are worth (`count_tier`, `worth`), the lapse of points and the expiry
of states (`lapse`, `expire`). Each is a step of the durable reducer (its docstring names
which), on int64 millionths (`compile.SCALE`).

The ones marked inline are compiled into the reducer's loop; `start` and `lapse` run
once per subject or when points fall due, rarely enough to stay calls.
"""

from __future__ import annotations

from typing import Any

from numba import njit

from creditlab.engine.scoring.columnar.codes import (
    ABSENT,
    CLAMPED,
    LAPSED,
    LIMIT,
    NONE_DAY,
    add_item,
    open_entry,
)
from creditlab.engine.scoring.columnar.compile import (
    B_HAS,
    B_HAS_MAX,
    B_HAS_MIN,
    B_MAX,
    B_MAX_INCL,
    B_MIN,
    B_MIN_INCL,
    B_RANK,
    R_RANK,
    T_ABOVE,
    T_BOUND,
    T_PER,
    T_POINTS,
)

__all__ = [
    "L_ACTIVE", "L_DUE", "L_GIVEN", "L_ID", "L_POINTS", "L_ROW", "L_RULE", "S_GRADE",
    "S_NEXT_DUE", "S_OVERFLOW", "S_OVERRIDE", "S_POLICY", "S_SCORE", "S_UNTIL", "band",
    "count_tier", "expire", "lapse", "start", "within", "within_scale", "worth",
]

# Standing: score, override present, its grade, policy (0 worse_of, 1 replace, 2 + 4 x (b + 1)
# given at the start, b the band its starting score had by itself),
# until, an overflow flag, the first day any points waiting to lapse are due.
S_SCORE, S_OVERRIDE, S_GRADE, S_POLICY, S_UNTIL, S_OVERFLOW, S_NEXT_DUE = range(7)
# Points waiting to lapse: due, rule, event row, given on, points, active, and the event's
# row in the table as given (for its id).
L_DUE, L_RULE, L_ROW, L_GIVEN, L_POINTS, L_ACTIVE, L_ID = range(7)


@njit(cache=True, inline="always")
def band(score: int, bands: Any, override: int, grade: int, policy: int) -> int:
    """The grade shown, as a band index (-1: none): `Reducer.band`."""
    by = -1
    for b in range(bands.shape[0]):
        if bands[b, B_HAS] == 0:
            continue
        low = bands[b, B_MIN]
        if bands[b, B_HAS_MIN] and (score < low or (score == low and not bands[b, B_MIN_INCL])):
            continue
        high = bands[b, B_MAX]
        if bands[b, B_HAS_MAX] and (score > high or (score == high
                                                     and not bands[b, B_MAX_INCL])):
            continue
        by = bands[b, B_RANK]
        break
    if override == 0:
        return int(by)
    if policy >= 2:  # given at the start: 2 + 4 x (the starting score's own band + 1)
        return int(grade if by == (policy - 2) // 4 - 1 else by)
    if policy == 1 or by < 0:
        return int(grade)
    return int(max(by, grade))


@njit(cache=True)
def start(st: Any, flag_until: Any, score: int, grade: int, bands: Any) -> None:
    """Set `st` and `flag_until` to a subject's standing at the start (`Reducer.start`):
    `score`, and the grade the history gives it (-1: none), which shows while the score
    stays in the band it started in; no list state, nothing waiting to lapse."""
    for k in range(7):
        st[k] = 0
    st[S_NEXT_DUE] = NONE_DAY
    st[S_SCORE] = score
    if grade >= 0:
        st[S_OVERRIDE] = 1
        st[S_GRADE] = grade
        st[S_POLICY] = 2 + 4 * (band(score, bands, 0, -1, 0) + 1)
        st[S_UNTIL] = NONE_DAY
    for f in range(len(flag_until)):
        flag_until[f] = ABSENT


@njit(cache=True, inline="always")
def within(cap: int, total: int, points: int) -> tuple[int, bool]:
    """`points` cut so that |total + points| stays within `cap`: `durable.reduce._within`."""
    room = max(cap - abs(total), 0)
    if abs(points) <= room:
        return points, False
    if room == 0:
        return 0, True
    return (room if points > 0 else -room), True


@njit(cache=True, inline="always")
def within_scale(score: int, delta: int, scale: Any) -> tuple[int, bool]:
    """`delta` cut so that the score stays on a clamped scale, and whether it was cut:
    `Reducer._within_scale`."""
    if scale[0] == 0:
        return delta, False
    target = min(max(score + delta, scale[1]), scale[2])
    return target - score, target != score + delta


@njit(cache=True, inline="always")
def _later(lp: Any, rules: Any, id_offsets: Any, id_data: Any, k1: int, k2: int) -> bool:
    """Whether waiting points `k1` lapse after `k2`: by (due, event id, rule rank)."""
    if lp[k1, L_DUE] != lp[k2, L_DUE]:
        return bool(lp[k1, L_DUE] > lp[k2, L_DUE])
    # Event ids compare as Python compares strings: by code point, which is by UTF-8 byte.
    a0, a1 = id_offsets[lp[k1, L_ID]], id_offsets[lp[k1, L_ID] + 1]
    b0, b1 = id_offsets[lp[k2, L_ID]], id_offsets[lp[k2, L_ID] + 1]
    for x in range(min(a1 - a0, b1 - b0)):
        if id_data[a0 + x] != id_data[b0 + x]:
            return bool(id_data[a0 + x] > id_data[b0 + x])
    if a1 - a0 != b1 - b0:
        return bool(a1 - a0 > b1 - b0)
    return bool(rules[lp[k1, L_RULE], R_RANK] > rules[lp[k2, L_RULE], R_RANK])


@njit(cache=True)
def lapse(day: int, row: int, kind: int, s: int, st: Any, lp: Any, rules: Any, bands: Any,
          scale: Any, id_offsets: Any, id_data: Any, ints: Any, nums: Any, items: Any,
          n: Any, due: Any) -> None:
    """Reverse the points due by `day`, oldest first (`Reducer.lapse`)."""
    count = 0
    later = NONE_DAY
    for k in range(n[3]):
        if lp[k, L_ACTIVE]:
            if lp[k, L_DUE] <= day:
                due[count] = k
                count += 1
            else:
                later = min(later, lp[k, L_DUE])
    st[S_NEXT_DUE] = later
    if count == 0:
        return
    # By (due, event id, rule id), as the durable reducer sorts: few items at a time.
    for x in range(1, count):
        item = due[x]
        y = x - 1
        while y >= 0 and _later(lp, rules, id_offsets, id_data, due[y], item):
            due[y + 1] = due[y]
            y -= 1
        due[y + 1] = item
    for x in range(count):
        k = due[x]
        lp[k, L_ACTIVE] = 0
        before = st[S_SCORE]
        e = open_entry(ints, nums, n, kind, row, s, lp[k, L_RULE], lp[k, L_ROW], lp[k, L_DUE],
                       before, band(before, bands, st[S_OVERRIDE], st[S_GRADE],
                                     st[S_POLICY]))
        reversal, clamped = within_scale(before, -lp[k, L_POINTS], scale)
        st[S_SCORE] = before + reversal
        nums[e, 1] = reversal
        nums[e, 3] = st[S_SCORE]
        ints[e, 8] = band(st[S_SCORE], bands, st[S_OVERRIDE], st[S_GRADE],
                          st[S_POLICY])
        add_item(items, n, e, LAPSED, 0, lp[k, L_GIVEN], 0)
        if clamped:
            add_item(items, n, e, CLAMPED, 0, 0, 0)


@njit(cache=True, inline="always")
def expire(day: int, st: Any, flag_until: Any) -> None:
    """Drop list states and grade overrides whose time has run out (`Standing.expire`)."""
    if st[S_OVERRIDE] != 0 and st[S_UNTIL] != NONE_DAY and day >= st[S_UNTIL]:
        st[S_OVERRIDE] = 0
    for f in range(len(flag_until)):
        if flag_until[f] != ABSENT and flag_until[f] != NONE_DAY and day >= flag_until[f]:
            flag_until[f] = ABSENT


@njit(cache=True, inline="always")
def count_tier(tiers: Any, first: int, last: int, count: int) -> int:
    """The last of tiers `first` to `last` that `count` is more than (-1: none)."""
    reached = -1
    for t in range(first, last):
        if count > tiers[t, 0]:
            reached = t
    return reached


@njit(cache=True, inline="always")
def worth(tiers: Any, first: int, last: int, brackets: int, add: int, has_max: int,
          most: int, total: int) -> tuple[int, bool]:
    """What a running total is worth, and whether int64 millionths cannot hold it:
    `AccumulatedEffect.value`, on integers (whole steps by floor division)."""
    points = 0
    if brackets == 0:
        for t in range(first, last):
            bound = tiers[t, T_BOUND]
            if total > bound or (total == bound and tiers[t, T_ABOVE] == 0):
                points = points + tiers[t, T_POINTS] if add else tiers[t, T_POINTS]
    else:
        for t in range(first, last):
            above = tiers[t, T_BOUND]
            if total <= above:
                break
            top = total if t + 1 == last else min(total, tiers[t + 1, T_BOUND])
            steps = (top - above) // tiers[t, T_PER]
            rate = tiers[t, T_POINTS]
            # steps * rate is millionths (the rate is), and must stay within bounds.
            if steps != 0 and abs(rate) > LIMIT // steps:
                return 0, True
            points += steps * rate
            if abs(points) >= LIMIT:
                return 0, True
    if has_max and abs(points) > most:
        points = most if points > 0 else -most
    return points, False
