"""Which rules fire for which events: `scoring.conditions`, as masks over columns.

The events are prepared once (`columnar.events`: sorted by subject, then (at, id); days,
period keys and ages as numpy arrays) and every scheme's rules are matched against them rule
by rule, each over the rows of its event types only. What several rules or schemes read
alike is worked out once per `Events` and kept there: the rows of a set of event types,
an attribute over those rows, the subjects a subject condition admits, the rows a scheme
scores (here, with the subjects it gives a result). The semantics are those of
`creditlab.engine.scoring.conditions`: a missing attribute meets no condition, numbers
compare as binary64 doubles (a boolean is a number), dates as days, strings by equality;
a subject field that is not known meets no condition on it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt

from creditlab.engine.inputs.scheme import Condition, Rule, Scheme, SubjectCondition
from creditlab.engine.scoring.columnar.events import (
    EPOCH,
    I64,
    B,
    Events,
    Types,
    age_on,
    prepare_events,
    year_day,
)

# `EPOCH`, `Events` and `prepare_events` are also read from here, by the replay and its readers.
__all__ = ["EPOCH", "Events", "fired_pairs", "match_scheme", "prepare_events", "scheme_rows"]

I32 = npt.NDArray[np.int32]


def _days(value: date) -> int:
    return value.toordinal() - EPOCH


def scheme_rows(ev: Events, scheme: Scheme, end: date | None) -> tuple[B, B]:
    """(`eligible_at`, `scored_rows`) of `scheme`, shared by the schemes that score the
    same subjects alike (the arrays are shared: read them only)."""
    rule = scheme.eligibility
    key = ("scheme rows", scheme.subject_kind, end,
           None if rule is None else (rule.min_age, rule.age_unknown))
    if key not in ev.memo:
        applicable = eligible_at(ev, scheme, end)
        ev.memo[key] = (applicable, scored_rows(ev, scheme, applicable))
    rows: tuple[B, B] = ev.memo[key]
    return rows


def match_scheme(ev: Events, scheme: Scheme, scored: B) -> tuple[I64, I32, I64]:
    """(row, rule) of every rule of `scheme` that fires on a `scored` row, sorted by row
    then rule index, and where each row's pairs start (`ev.n` + 1 offsets)."""
    every = bool(scored.all())
    fired: list[tuple[int, I64]] = []
    for index, rule in enumerate(scheme.rules):
        types = _types(rule.match.types)
        rows = ev.rows_of(types)
        if not len(rows):
            continue
        mask = _fires(ev, rule, types, rows)
        if not every:
            mask = scored[rows] if mask is None else mask & scored[rows]
        if mask is not None:
            rows = rows[mask]
        if len(rows):
            fired.append((index, rows))
    return _row_order(ev.n, fired)


def fired_pairs(ev: Events, scheme: Scheme, applicable: B) -> tuple[I64, I32]:
    """(row, rule) of every rule of `scheme` that fires, sorted by row then rule index.

    `applicable` marks the subjects (indexes into `ev.subjects`) the scheme scores.
    """
    rows, rules, _ = match_scheme(ev, scheme, applicable[ev.subject])
    return rows, rules


def _types(types: Sequence[str]) -> Types:
    return tuple(sorted(set(types)))


def _row_order(n: int, fired: list[tuple[int, I64]]) -> tuple[I64, I32, I64]:
    """The pairs of `fired` ((rule, its rows) by rule index, a row at most once per rule)
    in (row, rule) order, placed by counting rather than sorted: a row's pairs start where
    the counts of the rows before it sum to, and rules fill them in index order."""
    start = np.zeros(n + 1, np.int64)
    if not fired:
        return np.zeros(0, np.int64), np.zeros(0, np.int32), start
    every = np.concatenate([rows for _, rows in fired]) if len(fired) > 1 else fired[0][1]
    counts = np.bincount(every, minlength=n)
    np.cumsum(counts, out=start[1:])
    rows_out = np.empty(len(every), np.int64)
    rules_out = np.empty(len(every), np.int32)
    once = np.count_nonzero(counts) == len(every)  # no row fires two rules
    free = start[:-1] if once else start[:-1].copy()
    for index, rows in fired:
        at = free[rows]
        if not once:
            free[rows] = at + 1
        rows_out[at] = rows
        rules_out[at] = index
    return rows_out, rules_out, start


def _fires(ev: Events, rule: Rule, types: Types, rows: I64) -> B | None:
    """Which of `rows` (`ev.rows_of(types)`) `rule` fires on; None: all of them."""
    mask: B | None = None
    if rule.effective_from is not None or rule.effective_to is not None:
        day = ev.day[rows]
        mask = np.ones(len(rows), np.bool_)
        if rule.effective_from is not None:
            mask &= day >= _days(rule.effective_from)
        if rule.effective_to is not None:
            mask &= day <= _days(rule.effective_to)
    for cond in rule.match.where:
        holds = _holds(ev, cond, types, len(rows))
        mask = holds if mask is None else mask & holds
    if rule.match.subject is not None and (mask is None or mask.any()):
        holds = _subject_holds(ev, rule.match.subject, types, rows)
        mask = holds if mask is None else mask & holds
    return mask


def _constant(value: Any) -> tuple[str, Any]:
    """A condition's constant as the kind it compares as (`conditions._comparable`)."""
    if isinstance(value, bool):
        return "num", float(value)
    if isinstance(value, (int, Decimal)):
        return "num", float(value)
    if isinstance(value, date):
        return "date", _days(value)
    return ("str" if isinstance(value, str) else "other"), value


def _holds(ev: Events, cond: Condition, types: Types, n: int) -> B:
    """Which of the `n` rows of `types` meet `cond`."""
    col = ev.attribute(cond.attr, types)
    if col is None or col.kind == "none":
        return np.zeros(n, np.bool_)
    valid = col.valid
    data = col.data
    if cond.op == "in":
        assert isinstance(cond.value, list)
        if col.kind != "str":
            return np.zeros(n, np.bool_)
        wanted = [i for i, v in enumerate(col.values) if v in cond.value]
        within: B = valid & np.isin(data, wanted)
        return within
    kind, target = _constant(cond.value)
    if col.kind == "str" and kind == "str":
        code = col.values.index(target) if target in col.values else -2
        equal = data == code
    elif col.kind == kind and kind in ("num", "date"):
        equal = data == target
    else:
        equal = np.zeros(n, np.bool_)
    if cond.op in ("eq", "ne"):
        same: B = valid & (equal if cond.op == "eq" else ~equal)
        return same
    if col.kind != kind or kind not in ("num", "date"):
        return np.zeros(n, np.bool_)
    compare = {"gt": np.greater, "gte": np.greater_equal, "lt": np.less,
               "lte": np.less_equal}[cond.op]
    holds: B = valid & compare(data, target)
    return holds


def _subject_holds(ev: Events, cond: SubjectCondition, types: Types, rows: I64) -> B:
    """Which of `rows` (`ev.rows_of(types)`) meet `cond`: worked out once per set of types
    and condition, as many rules of a scheme share both."""
    key = ("subject", types, tuple(cond.roles_any), tuple(cond.roles_none), cond.residence,
           cond.hukou, cond.min_age, cond.max_age)
    if key in ev.memo:
        held: B = ev.memo[key]
        return held
    mask: B = ev.admitted(cond)[ev.subject[rows]]
    if cond.min_age is not None or cond.max_age is not None:
        known, ages = ev.ages()
        mask &= known[rows]
        age = ages[rows]
        if cond.min_age is not None:
            mask &= age >= cond.min_age
        if cond.max_age is not None:
            mask &= age <= cond.max_age
    ev.memo[key] = mask
    return mask


def scored_rows(ev: Events, scheme: Scheme, applicable: B) -> B:
    """Which (sorted) rows `scheme` scores: its subjects' (`applicable`), on days they are
    eligible (`conditions.scored_on`)."""
    rows = applicable[ev.subject]
    rule = scheme.eligibility
    if rule is None:
        return rows
    known, ages = ev.ages()
    old_enough = ages >= rule.min_age
    unknown: B = np.full(ev.n, rule.age_unknown == "scored")
    return rows & np.where(known, old_enough, unknown)


def eligible_at(ev: Events, scheme: Scheme, end: date | None) -> B:
    """Which subjects `scheme` gives a result: of its kind and, by `end`, eligible."""
    kind: B = ev.of_kind(scheme.subject_kind).copy()
    rule = scheme.eligibility
    if rule is None or end is None:
        return kind
    end_key = year_day(np.array([end.toordinal() - EPOCH], np.int64))
    old_enough = age_on(ev.born_key, np.repeat(end_key, len(ev.born_key))) >= rule.min_age
    return kind & np.where(ev.born_known, old_enough, rule.age_unknown == "scored")
