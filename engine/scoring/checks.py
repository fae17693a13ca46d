"""Periodic checks, judged on the ledger a replay gives (`inputs.scheme_checks`).

A check reads a period's record and adds list states no rule touches, so it never changes
what a rule does: both backends replay the rules, then this module judges every check on
their results and ledger tables, one implementation for both. For each scheme with
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

In the ledger the entry stands where the replay would have made it: before the
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

from creditlab.engine.canonical import dumps
from creditlab.engine.inputs.history import StartingPoint
from creditlab.engine.inputs.scheme import Check, Scheme
from creditlab.engine.scoring.ledger import Checked, FlagAdded, LedgerEntry, record
from creditlab.engine.scoring.periods import add_duration
from creditlab.engine.scoring.tables import DECIMALS, NUMBER

__all__ = ["CheckedTables", "judge_checks"]

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
            on = _date(day)
            since = _period_start(check, on)
            value = _number(_decimal(score))
            out.append(LedgerEntry(
                kind="check", at=on, event=f"{since.isoformat()}/{on.isoformat()}",
                type="check", subject=self.subject_ids[s], scheme=self.scheme.id,
                rule=check.id, points=None, applied=Decimal(0), score_before=value,
                score_after=value, band_before=band, band_after=band,
                changes=_changes(check, on), notes=(Checked(check.count.of,
                                                             _number(_decimal(total)), since),),
                source=source, fidelity=check.fidelity))
        return out


AT_END = -1
"""A finding with no later entry of its subject in the scheme: among the end's entries."""


@dataclass(frozen=True)
class CheckedTables:
    """Results and ledger with the checks' findings.

    `ledger` is the merged ledger; its row i is row `rows[i]` of the ledger given, or, from
    `len(ledger given)` on, the `rows[i] - len(ledger given)`th of the findings' entries
    (`entries()`, in `found` order): so a backend that keeps the ledger as records puts its
    records in the same order. `flagged` are the results' rows whose flags changed.
    """

    results: pa.Table
    ledger: pa.Table
    rows: I64
    found: tuple[Findings, ...]
    flagged: I64

    def entries(self) -> list[LedgerEntry]:
        return [e for f in self.found for e in f.entries()]


def judge_checks(results: pa.Table, ledger: pa.Table, subjects: pa.Table,
                 schemes: Sequence[Scheme], *, starting: Sequence[StartingPoint] = (),
                 end: date | None, events: int) -> CheckedTables | None:
    """Judge the checks of `schemes` (sorted by id, as replayed) on a replay's `results`
    (sorted by subject, scheme) and `ledger` (replay order) of `subjects` (the replay's
    subjects table); `events` is the number of events (the position of entries made at the
    end). None when no check found anything: the tables stand as they are."""
    if end is None or not any(s.checks for s in schemes):
        return None
    found: list[Findings] = []
    ledger_scheme = _codes(ledger.column("scheme"))
    result_scheme = _codes(results.column("scheme"))
    flagged: list[tuple[I64, list[str]]] = []  # results rows, and the flag each gets
    for index, scheme in enumerate(schemes):
        if not scheme.checks:
            continue
        view = _SchemeView(scheme, index, results, ledger, subjects, ledger_scheme,
                           result_scheme, starting)
        for check in scheme.checks:
            judged = view.judge(check, end)
            if judged.subject.size:
                found.append(judged)
                flagged += view.in_force(judged, end)
    if not found:
        return None
    merged, order = _merged(ledger, found, events)
    new_results, rows = _with_flags(results, flagged)
    return CheckedTables(new_results, merged, order, tuple(found), rows)


class _SchemeView:
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
        who = pc.index_in(_plain(part.column("subject")),
                          value_set=pa.array(self.subject_ids, pa.string()))
        # (-1: a subject without a result here, which no finding can be about.)
        self.who = pc.fill_null(who, -1).to_numpy(zero_copy_only=False).astype(np.int64)
        self.rows = rows  # rows of the whole ledger, in its order
        self.at = _days(part.column("at"))
        self.kind_rule = _where(part.column("kind"), lambda k: k == "rule")
        self.rule_codes = _codes(part.column("rule"))
        self.applied = _scaled(part.column("applied"))
        self.score_after = _scaled(part.column("score_after"))
        self.band_codes = _codes(part.column("band_after"))
        self.blocked = _where(part.column("notes"), lambda n: n is not None and (
            '"kind":"same_act"' in n or '"kind":"frequency_limit"' in n))
        graded = np.flatnonzero(_where(part.column("changes"),
                                       lambda c: c is not None and '"kind":"grade_set"' in c))
        self.grade_until: dict[int, date | None] = {}
        changes = _plain(part.column("changes")).take(pa.array(graded)).to_pylist()
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
                          for s in np.flatnonzero(self._in_scope(check, _date(d))).tolist()]
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
                meets[on_day] &= self._in_scope(check, _date(d))[subject[on_day]]
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
        return given if given is not None else self.scheme.band_for(_decimal(self.start[s]))

    def _band_after_grades(self, s: int, at: int, day: int, band: str | None,
                           score: int) -> str | None:
        """The band on `day` when a grade set by an earlier entry has run out by then."""
        first = int(np.searchsorted(self.keys, s * _SPAN, side="left"))
        graded = [int(self.by_subject[k]) for k in range(first, at + 1)
                  if int(self.by_subject[k]) in self.grade_until]
        if not graded:
            return band
        until = self.grade_until[graded[-1]]
        if until is not None and _date(day) >= until:
            return self.scheme.band_for(_decimal(score))
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
            live_on = {d: duration is None or add_duration(_date(d), duration) > end
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


def _changes(check: Check, on: date) -> tuple[FlagAdded, ...]:
    return tuple(FlagAdded(e.flag, None if e.duration is None else add_duration(on, e.duration))
                 for e in check.effects)


def _merged(ledger: pa.Table, found: list[Findings], events: int) -> tuple[pa.Table, I64]:
    """The ledger with the findings' entries in their places, and where each row came from."""
    n = ledger.num_rows
    position = ledger.column("position").to_numpy().astype(np.int64)
    before = np.concatenate([f.before for f in found])
    ranks = np.concatenate([np.full(f.subject.size, f.scheme_index, np.int64) for f in found])
    names = np.array([sid for f in found for sid in (f.subject_ids[s] for s in
                                                     f.subject.tolist())], dtype=object)
    new_position = np.where(before == AT_END, events, position[np.maximum(before, 0)]
                            if n else events)
    # Existing row i sorts at 2i + 1; a finding before row r at 2r. The entries made at
    # the end are the ledger's last rows, scheme by scheme, subject by subject: a finding
    # with nothing after it goes after the end rows of its scheme and of subjects up to
    # its own.
    new_keys = 2 * before
    at_end = np.flatnonzero(before == AT_END)
    if at_end.size:
        end_rows = np.flatnonzero(position == events)
        end_subjects = _plain(ledger.column("subject")).take(pa.array(end_rows)).to_pylist() \
            if end_rows.size else []
        every = sorted({*end_subjects, *names[at_end].tolist()})
        rank = {name: i for i, name in enumerate(every)}
        width = len(every) + 1
        end_keys = (ledger.column("scheme_index").to_numpy().astype(np.int64)[end_rows] * width
                    + np.array([rank[x] for x in end_subjects], dtype=np.int64))
        wanted = ranks[at_end] * width + np.array([rank[x] for x in names[at_end].tolist()],
                                                  dtype=np.int64)
        k = np.searchsorted(end_keys, wanted, side="right")
        inside = k < end_rows.size
        new_keys[at_end] = np.where(
            inside, 2 * end_rows[np.minimum(k, max(end_rows.size - 1, 0))] if end_rows.size
            else 2 * n, 2 * n)
    order = np.argsort(np.concatenate([np.arange(n, dtype=np.int64) * 2 + 1, new_keys]),
                       kind="stable")
    added = _entries_table(found, new_position, ranks, names, ledger)
    return _renumbered(_interleaved(ledger, added, order)), order


def _renumbered(ledger: pa.Table) -> pa.Table:
    """`order` numbered again within each (position, scheme_index)."""
    if not ledger.num_rows:
        return ledger
    key = (ledger.column("position").to_numpy().astype(np.int64) * 1_000_003
           + ledger.column("scheme_index").to_numpy().astype(np.int64))
    n = key.size
    starts = np.r_[True, key[1:] != key[:-1]]
    first = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    order = (np.arange(n) - first).astype(np.int32)
    i = ledger.schema.get_field_index("order")
    return ledger.set_column(i, ledger.schema.field(i), pa.array(order, pa.int32()))


def _entries_table(found: list[Findings], position: I64, scheme_index: I64, names: Any,
                   like: pa.Table) -> pa.Table:
    """The findings as ledger rows (`like`'s columns, text columns plain)."""
    texts: dict[str, list[str | None]] = {"event": [], "changes": [], "notes": [],
                                          "rule": [], "scheme": [], "fidelity": []}
    said: dict[tuple[str, int, int], tuple[str, str, str]] = {}
    for f in found:
        for day, total in zip(f.day.tolist(), f.total.tolist(), strict=True):
            key = (f.check.id, day, total)
            if key not in said:
                on = _date(day)
                since = _period_start(f.check, on)
                said[key] = (f"{since.isoformat()}/{on.isoformat()}",
                             dumps([record(c) for c in _changes(f.check, on)]),
                             dumps([record(Checked(f.check.count.of, _number(_decimal(total)),
                                                   since))]))
            event, changes, notes = said[key]
            texts["event"].append(event)
            texts["changes"].append(changes)
            texts["notes"].append(notes)
        size = f.subject.size
        texts["rule"] += [f.check.id] * size
        texts["scheme"] += [f.scheme.id] * size
        texts["fidelity"] += [f.check.fidelity] * size
    n = len(names)
    score = np.concatenate([f.score for f in found])
    days = np.concatenate([f.day for f in found]).astype(np.int32)
    bands = [b for f in found for b in f.band]
    zero = np.zeros(n, dtype=np.int64)
    columns: dict[str, pa.Array] = {
        "position": pa.array(position, pa.int64()),
        "scheme_index": pa.array(scheme_index.astype(np.int32), pa.int32()),
        "order": pa.array(np.zeros(n, dtype=np.int32), pa.int32()),
        "kind": pa.array(["check"] * n, pa.string()),
        "at": pa.array(days, pa.int32()).cast(pa.date32()),
        "event": pa.array(texts["event"], pa.string()),
        "type": pa.array(["check"] * n, pa.string()),
        "subject": pa.array(names.tolist(), pa.string()),
        "scheme": pa.array(texts["scheme"], pa.string()),
        "rule": pa.array(texts["rule"], pa.string()),
        "points": pa.nulls(n, NUMBER),
        "applied": _numbers(zero),
        "score_before": _numbers(score),
        "score_after": _numbers(score),
        "band_before": pa.array(bands, pa.string()),
        "band_after": pa.array(bands, pa.string()),
        "changes": pa.array(texts["changes"], pa.string()),
        "notes": pa.array(texts["notes"], pa.string()),
        "fidelity": pa.array(texts["fidelity"], pa.string()),
    }
    return pa.table([columns[f.name] for f in like.schema], names=like.schema.names)


def _numbers(scaled: I64) -> pa.Array:
    """Integers of 10^-9 as a decimal128(38, 9) array (two little-endian int64 words)."""
    words = np.empty(2 * scaled.size, dtype=np.int64)
    words[0::2] = scaled
    words[1::2] = np.where(scaled < 0, -1, 0)
    return pa.Array.from_buffers(NUMBER, scaled.size, [None, pa.py_buffer(words.tobytes())])


def _interleaved(ledger: pa.Table, added: pa.Table, order: I64) -> pa.Table:
    """Row `order[i]` of the ledger's rows followed by `added`'s, column by column: fixed-width
    values gathered with numpy, text by Arrow's take. A dictionary column keeps the
    ledger's dictionary, the findings' new values appended (sorted) after it."""
    n = ledger.num_rows
    merged_at = np.flatnonzero(order >= n)  # where each finding lands, in merged order
    splice = _Splice(merged_at - np.arange(merged_at.size), order[merged_at] - n)
    columns = []
    for field in ledger.schema:
        old = _array(ledger.column(field.name), field.type)
        new = added.column(field.name).combine_chunks()
        kind = field.type
        if pa.types.is_dictionary(kind):
            known = old.dictionary.to_pylist()
            extra = sorted({v for v in new.to_pylist() if v is not None} - set(known))
            dictionary = pa.array(known + extra, kind.value_type)
            codes = splice(
                pc.fill_null(old.indices, 0).to_numpy(zero_copy_only=False).astype(np.int32),
                pc.fill_null(pc.index_in(new, value_set=dictionary), 0).to_numpy(
                    zero_copy_only=False).astype(np.int32))
            valid = _valid(old, new, splice)
            columns.append(pa.DictionaryArray.from_arrays(
                pa.array(codes.astype(np.int32), kind.index_type, mask=~valid), dictionary))
        elif pa.types.is_decimal(kind):
            words = splice(_words(old), _words(new.cast(kind)))
            valid = _valid(old, new, splice)
            columns.append(pa.Array.from_buffers(
                kind, len(order), [pa.array(valid).buffers()[1] if not valid.all() else None,
                                   pa.py_buffer(np.ascontiguousarray(words).tobytes())]))
        elif pa.types.is_integer(kind) or pa.types.is_date(kind):
            plain = pa.int32() if pa.types.is_date32(kind) else kind
            values = splice(old.cast(plain).to_numpy(zero_copy_only=False),
                            new.cast(kind).cast(plain).to_numpy(zero_copy_only=False))
            columns.append(pa.array(values, plain).cast(kind))
        else:
            columns.append(pa.concat_arrays([old, new.cast(kind)]).take(pa.array(order)))
    return pa.Table.from_arrays(columns, schema=ledger.schema)


def _array(column: pa.ChunkedArray, kind: pa.DataType) -> pa.Array:
    return column.combine_chunks() if column.num_chunks else pa.array([], kind)


@dataclass(frozen=True)
class _Splice:
    """The findings' rows put between the ledger's: `before[k]` is the ledger row the kth
    finding (in merged order) goes before, `rows[k]` its row among the findings. A copy
    with insertions, cheaper than gathering every row."""

    before: I64
    rows: I64

    def __call__(self, old: npt.NDArray[Any], new: npt.NDArray[Any]) -> npt.NDArray[Any]:
        spliced: npt.NDArray[Any] = np.insert(old, self.before, new[self.rows], axis=0)
        return spliced


def _valid(old: pa.Array, new: pa.Array, splice: _Splice) -> npt.NDArray[np.bool_]:
    valid: npt.NDArray[np.bool_] = splice(old.is_valid().to_numpy(zero_copy_only=False),
                                          new.is_valid().to_numpy(zero_copy_only=False))
    return valid


def _words(array: pa.Array) -> I64:
    """decimal128 values as (rows, 2) little-endian int64 words (nulls: whatever is there)."""
    n = len(array)
    if n == 0:
        return np.zeros((0, 2), dtype=np.int64)
    words: I64 = np.frombuffer(array.buffers()[1], dtype=np.int64,
                               count=2 * (n + array.offset))[2 * array.offset:].reshape(n, 2)
    return words


def _with_flags(results: pa.Table, flagged: list[tuple[I64, list[str]]]
               ) -> tuple[pa.Table, I64]:
    """The results with the checks' states in force at the end added to their flags, and
    the rows that changed."""
    adding: dict[int, set[str]] = {}
    for rows, flags in flagged:
        for r in rows.tolist():
            adding.setdefault(r, set()).update(flags)
    if not adding:
        return results, np.zeros(0, dtype=np.int64)
    rows = np.array(sorted(adding), dtype=np.int64)
    column = results.column("flags").combine_chunks()
    old = column.take(pa.array(rows)).to_pylist()
    new = pa.array([sorted(set(o or []) | adding[r]) for o, r in
                    zip(old, rows.tolist(), strict=True)], column.type)
    index = np.arange(len(column), dtype=np.int64)
    index[rows] = len(column) + np.arange(rows.size)
    flags = pa.concat_arrays([column, new]).take(pa.array(index))
    i = results.schema.get_field_index("flags")
    return results.set_column(i, results.schema.field(i), flags), rows


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


def _period_start(check: Check, checked_on: date) -> date:
    if check.every == "year":
        return date(checked_on.year, 1, 1)
    if check.every == "month":
        return date(checked_on.year, checked_on.month, 1)
    return checked_on - timedelta(days=6)


def _period_ends(check: Check, first: int, last: int) -> list[int]:
    """Every check day from `first` to `last` (days since 1970)."""
    out = []
    day = _period_end(check, _date(first))
    while day <= last:
        out.append(day)
        day = _period_end(check, _date(day + 1))
    return out


def _ordinal(day: date) -> int:
    return (day - EPOCH).days


def _date(days: int) -> date:
    return EPOCH + timedelta(days=int(days))


# --- columns ----------------------------------------------------------------------------


def _plain(column: pa.ChunkedArray | pa.Array) -> pa.Array:
    """A column as one plain (not dictionary) array."""
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        return array.cast(array.type.value_type)
    return array


def _codes(column: pa.ChunkedArray) -> tuple[I64, list[Any]]:
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
    codes, values = _codes(column)
    table = np.array([bool(holds(v)) for v in values], dtype=bool)
    rows: npt.NDArray[np.bool_] = table[codes]
    return rows


def _decimal(scaled: int) -> Decimal:
    return Decimal(int(scaled)).scaleb(-DECIMALS)


def _rows_of(codes: tuple[I64, list[Any]], value: str) -> I64:
    idx, values = codes
    if value not in values:
        return np.zeros(0, dtype=np.int64)
    rows: I64 = np.flatnonzero(idx == values.index(value))
    return rows


def _days(column: pa.ChunkedArray) -> I64:
    days: I64 = _plain(column).cast(pa.int32()).to_numpy(zero_copy_only=False).astype(np.int64)
    return days


def _scaled(column: pa.ChunkedArray) -> I64:
    """decimal128(38, 9) values as integers of 10^-9 (the engine's numbers fit in int64)."""
    array = _plain(column)
    if len(array) == 0:
        return np.zeros(0, dtype=np.int64)
    words = np.frombuffer(array.buffers()[1], dtype=np.int64,
                          count=2 * (len(array) + array.offset))[2 * array.offset:]
    return words[0::2].copy()


def _number(value: Decimal) -> Decimal:
    return value.to_integral_value() if value == value.to_integral_value() \
        else value.normalize()


def _subjects(subjects: pa.Table, ids: list[str]) -> pa.Table:
    """The subjects table's rows for `ids`, in that order."""
    where = pc.index_in(pa.array(ids, pa.string()), value_set=_plain(subjects.column("id")))
    return subjects.take(where)


def _ages(born: pa.ChunkedArray, day: date) -> I64:
    """Whole years on `day` (met on the birthday; 29 February counts from 1 March in
    other years, as `Subject.age_on` counts); -1 where the birth date is unknown."""
    array = _plain(born)
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

