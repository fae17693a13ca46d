"""The columnar reducer: `durable.reduce.Reducer`, compiled with numba over arrays.

One pass per scheme over the events sorted by (subject, at, id): for each subject the
scheme scores, its standing is kept in small arrays (score, grade override, list states,
per-rule and per-group period totals, frequency and counting windows, the running total
of each accumulated effect (over a rolling window: the amounts still in it, windows.py),
points waiting to lapse) and every fired rule is applied in declared rule order, each
effect in declared order, with the same checks in the same order as the durable reducer
(same act, frequency (over a rolling window: windows.py), a repeat offence's factor, the
effect's points, the rule's cap, the group's cap, the scale's clamp). For a rule in a
repeat, the day of its latest counted entry is kept with the subject it belongs to: only
the latest matters (`scheme_repeats.Repeat`).
Numbers are int64 millionths (`compile.SCALE`), so the arithmetic is exact.

Calendar periods are monotonic along a subject's events, so one (key, total) pair per
rule and period stands for the durable reducer's dict of every period seen.

The reducer writes ledger entries as rows of arrays, and their changes and notes as
items `(entry, code, a, b, c)` that `replay` turns into records. It stops at a subject
boundary when the output arrays are full; the caller continues with fresh ones.

Numba counts references to arrays atomically, on every call that passes one: the rule's
application and the expiry of states, which run for every fired rule and every event,
are written out in the loop rather than called, and the small helpers that remain take
as few arrays as they can (`band` takes the standing's fields as numbers).

The codes and rows it writes are in codes.py, the standing's layout and the steps it
takes besides a rule's application (grade, caps, tiers, lapses) in standing.py.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numba import njit

from creditlab.engine.scoring.columnar.codes import (
    ABSENT,
    ACCUMULATED,
    CAP_GROUP,
    CAP_RULE,
    CLAMPED,
    COUNT_TIER,
    FINISH,
    FLAG_ADDED,
    FLAG_REMOVED,
    FREQUENCY,
    GRADE_SET,
    LAPSE,
    LAPSES_ON,
    LIMIT,
    MISSING,
    NONE_DAY,
    REPEAT,
    RULE,
    SAME_ACT,
    SCORE_SET,
    STATUS_NOTE,
    UNQUANTIFIED,
    UNSET,
    add_item,
    open_entry,
)
from creditlab.engine.scoring.columnar.compile import (
    E_ACTION,
    E_BRACKETS,
    E_DUR_D,
    E_DUR_HAS,
    E_DUR_M,
    E_DUR_Y,
    E_FLAG,
    E_GRADE,
    E_KIND,
    E_MAX,
    E_MAX_HAS,
    E_MODE,
    E_POLICY,
    E_TIER_END,
    E_TIER_START,
    E_VALUE,
    E_WINDOW,
    R_CAP_HAS,
    R_CAP_PER,
    R_CAP_POINTS,
    R_EFF_END,
    R_EFF_START,
    R_EXP_D,
    R_EXP_HAS,
    R_EXP_M,
    R_EXP_Y,
    R_FREQ_D,
    R_FREQ_M,
    R_FREQ_PER,
    R_FREQ_TIMES,
    R_FREQ_Y,
    R_GROUP,
    R_REP_D,
    R_REP_FACTOR,
    R_REP_M,
    R_REP_Y,
    R_SAME_ACT,
    ROLLING,
    SCALE,
)
from creditlab.engine.scoring.columnar.dates import add_duration
from creditlab.engine.scoring.columnar.standing import (
    L_ACTIVE,
    L_DUE,
    L_GIVEN,
    L_ID,
    L_POINTS,
    L_ROW,
    L_RULE,
    S_GRADE,
    S_NEXT_DUE,
    S_OVERFLOW,
    S_OVERRIDE,
    S_POLICY,
    S_SCORE,
    S_UNTIL,
    band,
    count_tier,
    expire,
    lapse,
    start,
    within,
    within_scale,
    worth,
)
from creditlab.engine.scoring.columnar.windows import (
    rolling_add,
    rolling_total,
    rolling_windows,
)

__all__ = ["reduce_scheme"]


@njit(cache=True)
def reduce_scheme(rules: Any, effects: Any, tiers: Any, groups: Any, bands: Any, scale: Any,
                  n_flags: int, day: Any, periods: Any, perm: Any, id_offsets: Any,
                  id_data: Any, pair_start: Any,
                  pair_rule: Any, slots: Any, status: Any, values: Any, subj_start: Any,
                  applicable: Any, scored_row: Any, start_score: Any, start_grade: Any,
                  has_end: bool, end: int, first: int, ints: Any, nums: Any, items: Any,
                  results: Any, flags: Any) -> tuple[int, int, int, int, int]:
    """Reduce subjects from `first` on; returns (next subject, entries, items, error,
    subject in error). Stops before a subject whose entries might not fit in the output.
    A row that is not `scored_row` (its subject not yet eligible) is not applicable: it
    is skipped as the durable replay skips it, before any lapse falls due."""
    n_rules = rules.shape[0]
    cap = ints.shape[0]
    icap = items.shape[0]
    widest = 1
    for r in range(n_rules):
        widest = max(widest, rules[r, R_EFF_END] - rules[r, R_EFF_START])
    n = np.zeros(4, np.int64)
    n_subjects = len(subj_start) - 1
    most = 0
    for s in range(first, n_subjects):
        most = max(most, pair_start[subj_start[s + 1]] - pair_start[subj_start[s]])
    st = np.zeros(7, np.int64)
    flag_until = np.full(n_flags, ABSENT, np.int64)
    rs = np.full((n_rules, 4), UNSET, np.int64)
    cs = np.full((n_rules * 5, 2), UNSET, np.int64)
    acc = np.full((effects.shape[0], 2), UNSET, np.int64)  # (window key, total) per effect
    # Rolling windows: a row per such effect, as many amounts as a subject's fired rules.
    roll, leaves, amounts, position = rolling_windows(effects[:, E_KIND], effects[:, E_WINDOW],
                                                      9, ROLLING, most)
    # Frequency limits over rolling windows: a row per such rule, each counted entry one
    # amount (1) that leaves the window when its length has run.
    froll, fleaves, famounts, fposition = rolling_windows(
        np.ones(n_rules, np.int64), rules[:, R_FREQ_PER].copy(), 1, ROLLING, most)
    gs = np.full((groups.shape[0], 2), UNSET, np.int64)
    lp = np.zeros((most, 7), np.int64)
    scratch = np.zeros(most, np.int64)
    scored_here = np.full(n_rules, -1, np.int64)
    counted_on = np.full((n_rules, 2), UNSET, np.int64)  # (subject, day) per repeat rule
    for s in range(first, n_subjects):
        if not applicable[s]:
            continue
        lo, hi = subj_start[s], subj_start[s + 1]
        pairs = pair_start[hi] - pair_start[lo]
        if n[0] + 2 * pairs + 1 > cap or n[1] + pairs * (6 * widest + 6) + 1 > icap:
            return s, n[0], n[1], 0, 0
        # Period keys carry the subject, so no total of another subject is ever read.
        base = ((s + 1) << 21) + (1 << 20)
        start(st, flag_until, start_score[s], start_grade[s], bands)
        n[3] = 0
        scored = 0
        unscored = 0
        for i in range(lo, hi):
            if not scored_row[i]:
                continue
            today = day[i]
            if today >= st[S_NEXT_DUE]:
                lapse(today, i, LAPSE, s, st, lp, rules, bands, scale, id_offsets, id_data,
                      ints, nums, items, n, scratch)
            # `expire`, written out: this runs for every event (see below).
            if st[S_OVERRIDE] != 0 and st[S_UNTIL] != NONE_DAY and today >= st[S_UNTIL]:
                st[S_OVERRIDE] = 0
            for f in range(n_flags):
                if flag_until[f] != ABSENT and flag_until[f] != NONE_DAY \
                        and today >= flag_until[f]:
                    flag_until[f] = ABSENT
            p0, p1 = pair_start[i], pair_start[i + 1]
            if p0 == p1:
                unscored += 1
                continue
            scored += 1
            for p in range(p0, p1):
                # `Reducer._apply_rule`: one fired rule r (pair p) on event row i, written
                # out here rather than called: arrays passed to a helper are reference
                # counted on every call, which costs more than the rule itself.
                r = pair_rule[p]
                before = st[S_SCORE]
                e = open_entry(ints, nums, n, RULE, i, s, r, i, today, before,
                               band(before, bands, st[S_OVERRIDE], st[S_GRADE],
                                     st[S_POLICY]))
                given = 0
                has_given = False
                blocked = False
                same = rules[r, R_SAME_ACT]
                if same >= 0 and scored_here[same] == i:
                    blocked = True
                    add_item(items, n, e, SAME_ACT, r, 0, 0)
                elif rules[r, R_FREQ_TIMES] > 0 and rules[r, R_FREQ_PER] == ROLLING:
                    k = froll[r]
                    if rolling_total(fleaves, famounts, fposition, k, s, today) \
                            >= rules[r, R_FREQ_TIMES]:
                        blocked = True
                        add_item(items, n, e, FREQUENCY, r, 0, 0)
                    else:
                        rolling_add(fleaves, famounts, fposition, k, 1, add_duration(
                            today, rules[r, R_FREQ_Y], rules[r, R_FREQ_M], rules[r, R_FREQ_D]))
                elif rules[r, R_FREQ_TIMES] > 0:
                    key = periods[rules[r, R_FREQ_PER], i] + base
                    times = rs[r, 3] if rs[r, 2] == key else 0
                    if times >= rules[r, R_FREQ_TIMES]:
                        blocked = True
                        add_item(items, n, e, FREQUENCY, r, 0, 0)
                    else:
                        rs[r, 2] = key
                        rs[r, 3] = times + 1
                factor = 0
                if not blocked and rules[r, R_REP_FACTOR] != 0:
                    # `Reducer._repeat`: a repeat while within the window of the latest
                    # counted entry of this rule for this subject.
                    if counted_on[r, 0] == s and today < add_duration(
                            counted_on[r, 1], rules[r, R_REP_Y], rules[r, R_REP_M],
                            rules[r, R_REP_D]):
                        factor = rules[r, R_REP_FACTOR]
                        add_item(items, n, e, REPEAT, r, counted_on[r, 1], 0)
                    counted_on[r, 0] = s
                    counted_on[r, 1] = today
                e_first = rules[r, R_EFF_START]
                for j in range(e_first, rules[r, R_EFF_END]):
                    kind = effects[j, E_KIND]
                    if kind <= 4 or kind == 9:
                        pts = 0
                        if kind == 0:
                            pts = effects[j, E_VALUE]
                        elif kind == 9:
                            # An accumulated effect: the slot holds the amount this event
                            # adds to the rule's total in the window (values.py).
                            slot = slots[p] + j - e_first
                            if status[slot] != 0:
                                add_item(items, n, e, MISSING, j, i, 0)
                                continue
                            w = effects[j, E_WINDOW]
                            if w == ROLLING:  # windows.py: the earlier amounts still in it
                                k = roll[j]
                                was = rolling_total(leaves, amounts, position, k, s, today)
                                total = was
                                if not blocked:
                                    total = rolling_add(leaves, amounts, position, k,
                                                        values[slot], add_duration(
                                                            today, effects[j, E_DUR_Y],
                                                            effects[j, E_DUR_M],
                                                            effects[j, E_DUR_D]))
                            else:
                                key = periods[w, i] + base
                                was = acc[j, 1] if acc[j, 0] == key else 0
                                total = was
                                if not blocked:
                                    total = was + values[slot]
                                    acc[j, 0] = key
                                    acc[j, 1] = total
                            if abs(total) >= LIMIT:
                                st[S_OVERFLOW] = 1
                                total = 0
                                was = 0
                            t_lo, t_hi = effects[j, E_TIER_START], effects[j, E_TIER_END]
                            now, over = worth(tiers, t_lo, t_hi, effects[j, E_BRACKETS],
                                              1 - effects[j, E_MODE], effects[j, E_MAX_HAS],
                                              effects[j, E_MAX], total)
                            then, over_then = worth(tiers, t_lo, t_hi, effects[j, E_BRACKETS],
                                                    1 - effects[j, E_MODE],
                                                    effects[j, E_MAX_HAS], effects[j, E_MAX],
                                                    was)
                            if over or over_then:
                                st[S_OVERFLOW] = 1
                            add_item(items, n, e, ACCUMULATED, j, total, 0)
                            pts = now - then
                        elif kind <= 3:
                            slot = slots[p] + j - e_first
                            code = status[slot]
                            if code >= 1:
                                add_item(items, n, e, STATUS_NOTE[code], j, i, 0)
                                if code <= 3:
                                    continue
                            pts = values[slot]
                        else:
                            counting = not blocked
                            w = effects[j, E_WINDOW]
                            key = periods[w, i] + base
                            c = r * 5 + w
                            count = (cs[c, 1] if cs[c, 0] == key else 0) + (
                                1 if counting else 0)
                            if counting:
                                cs[c, 0] = key
                                cs[c, 1] = count
                            t_lo, t_hi = effects[j, E_TIER_START], effects[j, E_TIER_END]
                            now = count_tier(tiers, t_lo, t_hi, count)
                            earlier = count_tier(tiers, t_lo, t_hi, count - 1) if counting \
                                else now
                            if now < 0 or now == earlier:
                                add_item(items, n, e, COUNT_TIER, j, count, -1)
                            else:
                                add_item(items, n, e, COUNT_TIER, j, count, tiers[now, 0])
                                pts = tiers[now, 1]
                                if effects[j, E_MODE] == 1 and earlier >= 0:
                                    pts -= tiers[earlier, 1]
                        if factor != 0:
                            # The rule's points times the factor, both in millionths: exact,
                            # or the subject is refused as out of range (never rounded).
                            frac = factor % SCALE
                            if abs(pts) > LIMIT // factor * SCALE or (
                                    frac != 0 and abs(pts) >= LIMIT // SCALE) or (
                                    abs(pts) * frac) % SCALE != 0:
                                st[S_OVERFLOW] = 1
                                pts = 0
                            else:
                                pts = pts * (factor // SCALE) + pts * frac // SCALE
                        given += pts
                        has_given = True
                        if not blocked:
                            # `_add_points`: cut by the rule's cap, the group's cap, the scale.
                            applied = pts
                            rkey = 0
                            rtotal = 0
                            capped = rules[r, R_CAP_HAS] != 0
                            if capped:
                                rkey = periods[rules[r, R_CAP_PER], i] + base
                                rtotal = rs[r, 1] if rs[r, 0] == rkey else 0
                                applied, cut = within(rules[r, R_CAP_POINTS], rtotal, applied)
                                if cut:
                                    add_item(items, n, e, CAP_RULE, r, 0, 0)
                            g = rules[r, R_GROUP]
                            gkey = 0
                            gtotal = 0
                            if g >= 0:
                                gkey = periods[groups[g, 1], i] + base
                                gtotal = gs[g, 1] if gs[g, 0] == gkey else 0
                                applied, cut = within(groups[g, 0], gtotal, applied)
                                if cut:
                                    add_item(items, n, e, CAP_GROUP, g, 0, 0)
                            applied, clamped = within_scale(st[S_SCORE], applied, scale)
                            if clamped:
                                add_item(items, n, e, CLAMPED, 0, 0, 0)
                            if capped:
                                rs[r, 0] = rkey
                                rs[r, 1] = rtotal + applied
                            if g >= 0:
                                gs[g, 0] = gkey
                                gs[g, 1] = gtotal + applied
                            st[S_SCORE] += applied
                    elif blocked:
                        continue
                    elif kind == 5:
                        st[S_SCORE] = effects[j, E_VALUE]
                        add_item(items, n, e, SCORE_SET, j, 0, 0)
                    elif kind == 6:
                        until = NONE_DAY
                        if effects[j, E_DUR_HAS]:
                            until = add_duration(today, effects[j, E_DUR_Y], effects[j, E_DUR_M],
                                                 effects[j, E_DUR_D])
                        st[S_OVERRIDE] = 1
                        st[S_GRADE] = effects[j, E_GRADE]
                        st[S_POLICY] = effects[j, E_POLICY]
                        st[S_UNTIL] = until
                        add_item(items, n, e, GRADE_SET, j, until, 0)
                    elif kind == 7:
                        if effects[j, E_ACTION] == 1:
                            until = NONE_DAY
                            if effects[j, E_DUR_HAS]:
                                until = add_duration(today, effects[j, E_DUR_Y],
                                                     effects[j, E_DUR_M], effects[j, E_DUR_D])
                            flag_until[effects[j, E_FLAG]] = until
                            add_item(items, n, e, FLAG_ADDED, j, until, 0)
                        else:
                            flag_until[effects[j, E_FLAG]] = ABSENT
                            add_item(items, n, e, FLAG_REMOVED, j, 0, 0)
                    else:
                        add_item(items, n, e, UNQUANTIFIED, r, 0, 0)
                if not blocked:
                    scored_here[r] = i
                score = st[S_SCORE]
                if rules[r, R_EXP_HAS] and score != before and not blocked:
                    due = add_duration(today, rules[r, R_EXP_Y], rules[r, R_EXP_M],
                                       rules[r, R_EXP_D])
                    k = n[3]
                    lp[k, L_DUE] = due
                    lp[k, L_RULE] = r
                    lp[k, L_ROW] = i
                    lp[k, L_GIVEN] = today
                    lp[k, L_POINTS] = score - before
                    lp[k, L_ACTIVE] = 1
                    lp[k, L_ID] = perm[i]
                    n[3] = k + 1
                    st[S_NEXT_DUE] = min(st[S_NEXT_DUE], due)
                    add_item(items, n, e, LAPSES_ON, 0, due, 0)
                if abs(score) >= LIMIT or abs(given) >= LIMIT:
                    st[S_OVERFLOW] = 1
                ints[e, 6] = 1 if has_given else 0
                ints[e, 8] = band(score, bands, st[S_OVERRIDE], st[S_GRADE],
                                  st[S_POLICY])
                nums[e, 0] = given
                nums[e, 1] = score - before
                nums[e, 3] = score
            if st[S_OVERFLOW] != 0:
                return s, n[0], n[1], 1, s
        if has_end:
            if n[3] > 0:
                lapse(end, -1, FINISH, s, st, lp, rules, bands, scale, id_offsets, id_data,
                      ints, nums, items, n, scratch)
            expire(end, st, flag_until)
        results[s, 0] = st[S_SCORE]
        results[s, 1] = band(st[S_SCORE], bands, st[S_OVERRIDE], st[S_GRADE],
                             st[S_POLICY])
        results[s, 2] = scored
        results[s, 3] = unscored
        for f in range(n_flags):
            flags[s, f] = flag_until[f] != ABSENT
    return n_subjects, n[0], n[1], 0, 0
