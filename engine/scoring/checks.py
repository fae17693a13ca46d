"""What periodic checks find on the ledger a replay gives (`inputs.scheme_checks`).

A check reads a period's record and adds list states no rule touches, so it never changes
what a rule does: both backends replay the rules, then every check is judged on their
results and ledger tables, one implementation for both (`scoring.check_ledger` puts the
findings into the tables). For each scheme with
checks, each subject it applies to and each check day up to the history's end:

- the period is the `every` week (the seven days up to its `ends_on`), month or year that
  ends on the check day;
- the count is of the subject's `rule` entries in the period of the counted rules, those
  the rule's own limits blocked (same act, frequency limit) left out: their number, or the
  sum of the points they applied;
- when the count meets the condition, an entry of kind `check` is added, dated the check
  day, and its list states start that day (`FlagAdded`, until the day plus the effect's
  duration). The entry shows the score and band the subject had at the end of that day;
  it applies nothing. A list state still in force at the history's end is in the
  subject's result.

A check with a condition an empty period meets (fewer than one bonus point in the year)
judges every period from its `effective_from`; one that needs something counted judges
only the periods that have something.

In the ledger (`check_ledger`) the entry stands where the replay would have made it: before the
subject's first later entry in that scheme, or, with nothing later, among the entries
made at the end (subject by subject), after the subject's own.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.inputs.history import StartingPoint
from creditlab.engine.inputs.scheme import Check, Scheme
from creditlab.engine.scoring.ledger import Checked, FlagAdded, LedgerEntry
from creditlab.engine.scoring.periods import add_duration
from creditlab.engine.scoring.tables import DECIMALS

__all__ = ["AT_END", "EPOCH", "SCALE", "Findings", "SchemeView", "changes_of", "day_of",
           "decimal_of", "normal_number", "period_start", "plain_array", "text_codes"]

I64 = npt.NDArray[np.int64]
EPOCH = date(1970, 1, 1)
SCALE = 10 ** DECIMALS


@dataclass(frozen=True)
class Findings:
    """One check's findings in one scheme, as arrays: the subject (an index into the
    scheme's results), the check day (days since 1970), the total counted, the score (in
    10^-9) and band of that day, and the ledger row each stands before (`AT_END`: among
    the entries made at the end)."""

    check: Check
    scheme: Scheme
    scheme_index: int
    subject_ids: list[str]
    subject: I64
    day: I64
    total: I64
    score: I64
    band: list[str | None]
    before: I64

    def entries(self) -> list[LedgerEntry]:
        """The findings as ledger entries (what a backend that keeps records shows)."""
        check = self.check
        source = check.source.model_dump(exclude_none=True)
        out = []
        for s, day, total, score, band in zip(self.subject.tolist(), self.day.tolist(),
                                              self.total.tolist(), self.score.tolist(),
                                              self.band, strict=True):
            on = day_of(day)
            since = period_start(check, on)
            value = normal_number(decimal_of(score))
            out.append(LedgerEntry(
                kind="check", at=on, event=f"{since.isoformat()}/{on.isoformat()}",
                type="check", subject=self.subject_ids[s], scheme=self.scheme.id,
                rule=check.id, points=None, applied=Decimal(0), score_before=value,
                score_after=value, band_before=band, band_after=band,
                changes=changes_of(check, on),
                notes=(Checked(check.count.of, normal_number(decimal_of(total)), since),),
                source=source, fidelity=check.fidelity))
        return out


AT_END = -1
"""A finding with no later entry of its subject in the scheme: among the end's entries."""


class SchemeView:
    """One scheme's rows of the results and ledger, as arrays by the scheme's subjects."""

    def __init__(self, scheme: Scheme, index: int, results: pa.Table, ledger: pa.Table,
                 subjects: pa.Table, ledger_scheme: tuple[I64, list[Any]],
                 result_scheme: tuple[I64, list[Any]],
                 starting: Sequence[StartingPoint]) -> None:
        self.scheme, self.index = scheme, index
        self.result_rows = _rows_of(result_scheme, scheme.id)
        self.subject_ids: list[str] = results.column("subject").take(
            pa.array(self.result_rows)).to_pylist()
        self.start = _scaled(results.column("start").take(pa.array(self.result_rows)))
        self.given = {p.subject: p.grade for p in starting
                      if p.scheme == scheme.id and p.grade is not None}
        rows = _rows_of(ledger_scheme, scheme.id)
        part = ledger.select(["subject", "at", "kind", "rule", "applied", "score_after",
                              "band_after", "notes", "changes"]).take(pa.array(rows))
        # Each ledger row's subject, as an index into this scheme's results.
        who = pc.index_in(plain_array(part.column("subject")),
                          value_set=pa.array(self.subject_ids, pa.string()))
        # (-1: a subject without a result here, which no finding can be about.)
        self.who = pc.fill_null(who, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        self.rows = rows  # rows of the whole ledger, in its order
        self.at = _days(part.column("at"))
        self.kind_rule = _where(part.column("kind"), lambda k: k == "rule")
        self.rule_codes = text_codes(part.column("rule"))
        self.applied = _scaled(part.column("applied"))
        self.score_after = _scaled(part.column("score_after"))
        self.band_codes = text_codes(part.column("band_after"))
        self.blocked = _where(part.column("notes"), lambda n: n is not None and (
            '"kind":"same_act"' in n or '"kind":"frequency_limit"' in n))
        graded = np.flatnonzero(_where(part.column("changes"),
                                       lambda c: c is not None and '"kind":"grade_set"' in c))
        self.grade_until: dict[int, date | None] = {}
        changes = plain_array(part.column("changes")).take(pa.array(graded)).to_pylist()
        for i, text in zip(graded.tolist(), changes, strict=True):
            change = next(c for c in json.loads(text) if c["kind"] == "grade_set")
            self.grade_until[i] = (None if change["until"] is None
                                   else date.fromisoformat(change["until"]))
        self.graded_subjects = set(self.who[graded].tolist())
        # This scheme's rows by subject, each subject's in ledger (date) order: a key that
        # grows along them, to find a subject's last row on or before a day.
        self.by_subject = np.argsort(self.who, kind="stable")
        self.keys = self.who[self.by_subject] * _SPAN + self.at[self.by_subject]
        self.subject_table = _subjects(subjects, self.subject_ids)

    def judge(self, check: Check, end: date) -> Findings:
        """What `check` finds: the subjects and days whose count meets its condition."""
        counted = self._counted(check)
        days = _check_days(check, self.at[counted])
        values = (np.full(counted.size, SCALE, dtype=np.int64) if check.count.of == "entries"
                  else self.applied[counted])
        first = _ordinal(check.effective_from) if check.effective_from else None
        last = min(_ordinal(end), _ordinal(check.effective_to) if check.effective_to
                   else _ordinal(end))
        key = self.who[counted] * _SPAN + days
        keep = (days <= last) & (days >= first if first is not None else True)
        pair, inverse = np.unique(key[keep], return_inverse=True)
        totals = np.zeros(pair.size, dtype=np.int64)
        np.add.at(totals, inverse, values[keep])
        if check.holds_on_empty:
            assert first is not None
            candidates = [s * _SPAN + d for d in _period_ends(check, first, last)
                          for s in np.flatnonzero(self._in_scope(check, day_of(d))).tolist()]
            cand = np.array(sorted(candidates), dtype=np.int64)
            at = np.searchsorted(pair, cand)
            hit = (at < pair.size) & (pair[np.minimum(at, max(pair.size - 1, 0))] == cand) \
                if pair.size else np.zeros(cand.size, dtype=bool)
            cand_totals = np.where(hit, totals[np.minimum(at, max(pair.size - 1, 0))]
                                   if pair.size else 0, 0)
            pair, totals = cand, cand_totals.astype(np.int64)
        subject, day = pair // _SPAN, pair % _SPAN
        meets = _meets(check, totals)
        if not check.holds_on_empty:  # the scope of the days with something counted
            for d in np.unique(day[meets]).tolist():
                on_day = meets & (day == d)
                meets[on_day] &= self._in_scope(check, day_of(d))[subject[on_day]]
        subject, day, totals = subject[meets], day[meets], totals[meets]
        score, band, before = self._standing(subject, day)
        return Findings(check, self.scheme, self.index, self.subject_ids, subject, day, totals,
                        score, band, before)

    def _counted(self, check: Check) -> I64:
        """This scheme's ledger rows (indexes into its part) that `check` counts."""
        codes, values = self.rule_codes
        wanted = {r.id for r in self.scheme.rules
                  if (check.count.direction is None or r.direction == check.count.direction)
                  and (not check.count.rules or r.id in check.count.rules)}
        chosen = np.array([v in wanted for v in values] + [False], dtype=bool)
        mask = chosen[codes] & self.kind_rule & ~self.blocked
        return np.flatnonzero(mask)

    def _standing(self, subject: I64, day: I64) -> tuple[I64, list[str | None], I64]:
        """Score, band and the next row of each (subject, day): the score and band after the
        subject's last entry on or before the day (before any: the start), and the row of
        its first entry after it."""
        at = np.searchsorted(self.keys, subject * _SPAN + day, side="right") - 1
        safe = np.maximum(at, 0)
        has = (at >= 0) & (self.who[self.by_subject[safe]] == subject) if self.keys.size \
            else np.zeros(subject.size, dtype=bool)
        last = self.by_subject[safe] if self.keys.size else safe
        score = np.where(has, self.score_after[last] if self.keys.size else 0,
                         self.start[subject])
        codes, labels = self.band_codes
        band = [labels[codes[r]] if h else self._start_band(s)
                for r, h, s in zip(last.tolist(), has.tolist(), subject.tolist(), strict=True)]
        for k in np.flatnonzero(has).tolist():  # a grade that ran out since the last entry
            s = int(subject[k])
            if s in self.graded_subjects:
                band[k] = self._band_after_grades(s, int(at[k]), int(day[k]), band[k],
                                                  int(score[k]))
        nxt = np.minimum(at + 1, max(self.keys.size - 1, 0))
        later = (at + 1 < self.keys.size) & (self.who[self.by_subject[nxt]] == subject) \
            if self.keys.size else np.zeros(subject.size, dtype=bool)
        before = np.where(later, self.rows[self.by_subject[nxt]] if self.keys.size else 0,
                          AT_END)
        return score.astype(np.int64), band, before.astype(np.int64)

    def _start_band(self, s: int) -> str | None:
        """The band before any entry: a grade the history gives, else the start's band."""
        given = self.given.get(self.subject_ids[s])
        return given if given is not None else self.scheme.band_for(decimal_of(self.start[s]))

    def _band_after_grades(self, s: int, at: int, day: int, band: str | None,
                           score: int) -> str | None:
        """The band on `day` when a grade set by an earlier entry has run out by then."""
        first = int(np.searchsorted(self.keys, s * _SPAN, side="left"))
        graded = [int(self.by_subject[k]) for k in range(first, at + 1)
                  if int(self.by_subject[k]) in self.grade_until]
        if not graded:
            return band
        until = self.grade_until[graded[-1]]
        if until is not None and day_of(day) >= until:
            return self.scheme.band_for(decimal_of(score))
        return band

    def _in_scope(self, check: Check, day: date) -> npt.NDArray[np.bool_]:
        """Which of the scheme's subjects the check judges on `day`."""
        t = self.subject_table
        ok = np.ones(len(self.subject_ids), dtype=bool)
        age = _ages(t.column("born"), day)
        rule = self.scheme.eligibility
        if rule is not None:
            ok &= np.where(age >= 0, age >= rule.min_age, rule.age_unknown == "scored")
        cond = check.subject
        if cond is None:
            return ok
        roles = t.column("roles")
        if cond.roles_any:
            ok &= _has_role(roles, cond.roles_any)
        if cond.roles_none:
            ok &= ~_has_role(roles, cond.roles_none)
        for name in ("residence", "hukou"):
            wanted = getattr(cond, name)
            if wanted is not None:
                ok &= pc.fill_null(pc.equal(t.column(name), wanted), False).to_numpy(
                    zero_copy_only=False)
        if cond.min_age is not None:
            ok &= (age >= 0) & (age >= cond.min_age)
        if cond.max_age is not None:
            ok &= (age >= 0) & (age <= cond.max_age)
        return ok

    def in_force(self, found: Findings, end: date) -> list[tuple[I64, list[str]]]:
        """For each flag of the check: the results rows whose state is still in force at
        `end` (the latest finding gives a state's end)."""
        out = []
        for effect in found.check.effects:
            duration = effect.duration
            live_on = {d: duration is None or add_duration(day_of(d), duration) > end
                       for d in np.unique(found.day).tolist()}
            live = np.array([live_on[d] for d in found.day.tolist()], dtype=np.bool_)
            out.append((self.result_rows[np.unique(found.subject[live])], [effect.flag]))
        return out


_SPAN = 1 << 20
"""Days since 1970 are below this (the year 4840): a (subject, day) pair is one integer."""


def _meets(check: Check, totals: I64) -> npt.NDArray[np.bool_]:
    """Whether each total (in 10^-9) meets the check's condition; the bound is exact in
    10^-9, a scheme's numbers having at most 6 decimals."""
    if check.at_least is not None:
        meets: npt.NDArray[np.bool_] = totals >= int(check.at_least.scaleb(DECIMALS))
        return meets
    assert check.at_most is not None
    meets = totals <= int(check.at_most.scaleb(DECIMALS))
    return meets


def changes_of(check: Check, on: date) -> tuple[FlagAdded, ...]:
    return tuple(FlagAdded(e.flag, None if e.duration is None else add_duration(on, e.duration))
                 for e in check.effects)


# --- calendar ---------------------------------------------------------------------------


def _check_days(check: Check, days: I64) -> I64:
    """The check day of the period each day (days since 1970) falls in."""
    if check.every == "week":
        weekday = (days + 3) % 7  # 1970-01-01 was a Thursday (weekday 3)
        ends: I64 = days + (check.weekday - weekday) % 7
        return ends
    unit = "Y" if check.every == "year" else "M"
    period = days.astype("datetime64[D]").astype(f"datetime64[{unit}]")
    following = (period + 1).astype("datetime64[D]").astype(np.int64)
    return following - 1


def _period_end(check: Check, day: date) -> int:
    if check.every == "year":
        return _ordinal(date(day.year, 12, 31))
    if check.every == "month":
        following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
        return _ordinal(following - timedelta(days=1))
    return _ordinal(day) + (check.weekday - day.weekday()) % 7


def period_start(check: Check, checked_on: date) -> date:
    if check.every == "year":
        return date(checked_on.year, 1, 1)
    if check.every == "month":
        return date(checked_on.year, checked_on.month, 1)
    return checked_on - timedelta(days=6)


def _period_ends(check: Check, first: int, last: int) -> list[int]:
    """Every check day from `first` to `last` (days since 1970)."""
    out = []
    day = _period_end(check, day_of(first))
    while day <= last:
        out.append(day)
        day = _period_end(check, day_of(day + 1))
    return out


def _ordinal(day: date) -> int:
    return (day - EPOCH).days


def day_of(days: int) -> date:
    return EPOCH + timedelta(days=int(days))


# --- columns ----------------------------------------------------------------------------


def plain_array(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as one plain (not dictionary) array."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        return array.cast(array.type.value_type)
    return array


def text_codes(column: pa.ChunkedArray) -> tuple[I64, list[Any]]:
    """A text column as codes into its distinct values; a null's code is the last value's,
    None."""
    array = column.combine_chunks()
    if not pa.types.is_dictionary(array.type):
        array = pc.dictionary_encode(array)
    values = array.dictionary.to_pylist()
    codes = pc.fill_null(array.indices, len(values)).to_numpy(zero_copy_only=False)
    return codes.astype(np.int64), [*values, None]


def _where(column: pa.ChunkedArray, holds: Any) -> npt.NDArray[np.bool_]:
    """Rows of a text column whose value `holds` (judged once per distinct value)."""
    codes, values = text_codes(column)
    table = np.array([bool(holds(v)) for v in values], dtype=bool)
    rows: npt.NDArray[np.bool_] = table[codes]
    return rows


def decimal_of(scaled: int) -> Decimal:
    return Decimal(int(scaled)).scaleb(-DECIMALS)


def _rows_of(codes: tuple[I64, list[Any]], value: str) -> I64:
    idx, values = codes
    if value not in values:
        return np.zeros(0, dtype=np.int64)
    rows: I64 = np.flatnonzero(idx == values.index(value))
    return rows


def _days(column: pa.ChunkedArray) -> I64:
    days: I64 = plain_array(column).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    return days


def _scaled(column: pa.ChunkedArray) -> I64:
    """decimal128(38, 9) values as integers of 10^-9 (the engine's numbers fit in int64)."""
    array = plain_array(column)
    if len(array) == 0:
        return np.zeros(0, dtype=np.int64)
    words = np.frombuffer(array.buffers()[1], dtype=np.int64,
                          count=2 * (len(array) + array.offset))[2 * array.offset:]
    return words[0::2].copy()


def normal_number(value: Decimal) -> Decimal:
    return value.to_integral_value() if value == value.to_integral_value() \
        else value.normalize()


def _subjects(subjects: pa.Table, ids: list[str]) -> pa.Table:
    """The subjects table's rows for `ids`, in that order."""
    where = pc.index_in(pa.array(ids, pa.string()), value_set=plain_array(subjects.column("id")))
    return subjects.take(where)


def _ages(born: pa.ChunkedArray, day: date) -> I64:
    """Whole years on `day` (met on the birthday; 29 February counts from 1 March in
    other years, as `Subject.age_on` counts); -1 where the birth date is unknown."""
    array = plain_array(born)
    valid = array.is_valid().to_numpy(zero_copy_only=False)
    filled = pc.fill_null(array, date(2000, 1, 1))
    y = pc.year(filled).to_numpy(zero_copy_only=False).astype(np.int64)
    m = pc.month(filled).to_numpy(zero_copy_only=False).astype(np.int64)
    d = pc.day(filled).to_numpy(zero_copy_only=False).astype(np.int64)
    age = day.year - y - ((day.month * 100 + day.day) < (m * 100 + d)).astype(np.int64)
    return np.where(valid, age, -1)


def _has_role(roles: pa.ChunkedArray, wanted: list[str]) -> npt.NDArray[np.bool_]:
    array = roles.combine_chunks()
    out = np.zeros(len(array), dtype=bool)
    flat = pc.list_flatten(array)
    if len(flat):
        parents = pc.list_parent_indices(array).to_numpy(zero_copy_only=False)
        hit = pc.is_in(flat, value_set=pa.array(wanted, pa.string())).to_numpy(
            zero_copy_only=False)
        out[parents[hit]] = True
    return out

