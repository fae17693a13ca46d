"""The columnar backend's replay: the durable replay's outcomes, accounting and ledger,
computed over Arrow tables with numpy (matching) and numba (reducing).

`replay_columnar` takes any part of a history that holds whole subjects (a subject's
rows all in `events`, the subject in `subjects`): every result of a subject depends on
its own rows and on `end` only, so a city can be replayed partition by partition.

The results table has `tables.RESULTS_SCHEMA`; the ledger table has
`ledger_table.LEDGER_TYPES`: `tables.LEDGER_SCHEMA` with its few-valued text columns as
dictionaries of the same values, so that a million entries' texts are made and stored
once per distinct value (the digest, Parquet and `entries` read them as the strings).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from creditlab.engine.canonical import number
from creditlab.engine.errors import HistoryError, did_you_mean
from creditlab.engine.inputs.history import StartingPoint
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.check_ledger import judge_checks
from creditlab.engine.scoring.columnar import reduce as R
from creditlab.engine.scoring.columnar.compile import (
    CompiledScheme,
    Packed,
    compile_scheme,
    pack,
    scaled,
)
from creditlab.engine.scoring.columnar.entries import decimals, records
from creditlab.engine.scoring.columnar.ledger_table import (
    SchemeEntries,
    ledger_table,
    scheme_entries,
)
from creditlab.engine.scoring.columnar.match import (
    EPOCH,
    Events,
    match_scheme,
    prepare_events,
    scheme_rows,
)
from creditlab.engine.scoring.columnar.values import effect_points
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.outcome import Accounting, Outcome
from creditlab.engine.scoring.tables import RESULTS_SCHEMA

__all__ = ["ColumnarReplay", "replay_columnar"]

ENTRIES = 1 << 16
"""Ledger entries per output buffer of the reducer (it grows for a subject with more)."""


@dataclass(frozen=True)
class ColumnarReplay:
    """Results, ledger and accounting of a columnar replay, as tables (see module doc)."""

    results: pa.Table
    ledger: pa.Table
    accounting: tuple[Accounting, ...]
    schemes: tuple[Scheme, ...] = field(default=(), repr=False)
    seconds: dict[str, float] = field(default_factory=dict, compare=False, repr=False)
    """Where the time went: `match` (indexing events, matching rules, their values),
    `reduce` (the compiled reducer), `tables` (results and ledger as Arrow tables) and
    `checks` (periodic checks judged on them)."""

    def outcomes(self) -> list[Outcome]:
        """The results as records, in the durable replay's order (subject, scheme)."""
        return [Outcome(subject=r["subject"], scheme=r["scheme"], start=_number(r["start"]),
                        score=_number(r["score"]), band=r["band"], flags=tuple(r["flags"]),
                        events_scored=r["events_scored"],
                        events_unscored=r["events_unscored"])
                for r in self.results.to_pylist()]

    def entries(self) -> list[LedgerEntry]:
        """The ledger as records, equal to the durable replay's, in its order."""
        sources = {(s.id, r.id): (r.source.model_dump(exclude_none=True), r.fidelity)
                   for s in self.schemes for r in s.rules}
        sources.update({(s.id, c.id): (c.source.model_dump(exclude_none=True), c.fidelity)
                        for s in self.schemes for c in s.checks})
        out = []
        for row in self.ledger.to_pylist():
            source, _ = sources[(row["scheme"], row["rule"])]
            out.append(LedgerEntry(
                kind=row["kind"], at=row["at"], event=row["event"], type=row["type"],
                subject=row["subject"], scheme=row["scheme"], rule=row["rule"],
                points=None if row["points"] is None else _number(row["points"]),
                applied=_number(row["applied"]), score_before=_number(row["score_before"]),
                score_after=_number(row["score_after"]), band_before=row["band_before"],
                band_after=row["band_after"], changes=records(row["changes"]),
                notes=records(row["notes"]), source=source, fidelity=row["fidelity"]))
        return out


def _number(value: Decimal) -> Decimal:
    return value.to_integral_value() if value == value.to_integral_value() \
        else value.normalize()


def replay_columnar(events: pa.Table, subjects: pa.Table, schemes: Sequence[Scheme], *,
                    starting: Sequence[StartingPoint] = (), end: date | None) -> ColumnarReplay:
    """Replay `events` of `subjects` through `schemes` (sorted by id), as the durable
    backend would; `end` is the day final states are evaluated at (None: no events)."""
    clock = _Clock()
    ev = prepare_events(events, subjects)
    clock.lap("match")
    subj_start = np.searchsorted(ev.subject, np.arange(ev.subjects.num_rows + 1))
    results: list[pa.Table] = []
    entries: list[SchemeEntries] = []
    accounting: list[Accounting] = []
    # Results by (subject, scheme): subjects are numbered in id order, so the key is two
    # integers, the subject's number and the scheme's rank by id.
    ranks = {sid: r for r, sid in enumerate(sorted(s.id for s in schemes))}
    keys: list[npt.NDArray[np.int64]] = []
    for index, scheme in enumerate(schemes):
        part = _replay_scheme(ev, subj_start, index, scheme, starting, end, clock)
        results.append(part[0])
        keys.append(part[1] * len(schemes) + ranks[scheme.id])
        entries.append(part[2])
        accounting.append(part[3])
    result = pa.concat_tables(results) if results else RESULTS_SCHEMA.empty_table()
    result = result.combine_chunks()
    if keys:
        result = result.take(pa.array(np.argsort(np.concatenate(keys), kind="stable")))
    ledger = ledger_table(ev, entries)
    clock.lap("tables")
    checked = judge_checks(result, ledger, subjects, schemes, starting=starting, end=end,
                           events=events.num_rows)
    if checked is not None:  # periodic checks, judged on the ledger (scoring/checks.py)
        result, ledger = checked.results, checked.ledger
    clock.lap("checks")
    return ColumnarReplay(result, ledger, tuple(accounting), tuple(schemes), clock.seconds)


class _Clock:
    """Seconds summed by stage, each lap charged to the stage that just ended."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {"match": 0.0, "reduce": 0.0, "tables": 0.0,
                                          "checks": 0.0}
        self._last = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        self.seconds[stage] += now - self._last
        self._last = now


def _starts(ev: Events, compiled: CompiledScheme, applicable: npt.NDArray[np.bool_],
            starting: Sequence[StartingPoint]) -> tuple[npt.NDArray[np.int64],
                                                        npt.NDArray[np.int64]]:
    """Each subject's starting score and given grade (-1: none): `Reducer.start`."""
    scheme = compiled.scheme
    n = ev.subjects.num_rows
    score = np.full(n, compiled.arrays["scale"][3], np.int64)
    grade = np.full(n, -1, np.int64)
    given_here = [p for p in starting if p.scheme == scheme.id]
    if not given_here:
        return score, grade
    ids = {sid: i for i, sid in enumerate(ev.subjects.column("id").to_pylist())}
    ranks = {b.label: int(compiled.arrays["band_rank"][i]) for i, b in enumerate(scheme.bands)}
    for given in given_here:
        s = ids.get(given.subject)
        if s is None or not applicable[s]:
            continue
        if given.grade is not None and given.grade not in ranks:
            labels = [b.label for b in scheme.bands]
            raise HistoryError(f"{scheme.id} has no grade {given.grade!r}"
                               f"{did_you_mean(given.grade, labels)}; its grades: "
                               f"{', '.join(labels) or 'none'}", line=given.line, field="grade")
        value = scheme.scale.start if given.score is None else given.score
        scale = scheme.scale
        if scale.clamp and scale.min is not None and scale.max is not None and not (
                scale.min <= value <= scale.max):
            raise HistoryError(f"starting score {number(value)} is outside {scheme.id}'s "
                               f"scale, {number(scale.min)} to {number(scale.max)}",
                               line=given.line, field="score")
        score[s] = scaled(value, "starting score", "score")
        if given.grade is not None:
            grade[s] = ranks[given.grade]
    return score, grade


_COMPILED: dict[int, tuple[Scheme, CompiledScheme, Packed]] = {}
"""Schemes compiled in this process, by the scheme object's identity (a scheme is a
frozen model): a city is replayed partition by partition through the same schemes."""


def _compiled(scheme: Scheme) -> tuple[CompiledScheme, Packed]:
    """`scheme` compiled and packed, once per process while the object lives here."""
    known = _COMPILED.get(id(scheme))
    if known is None or known[0] is not scheme:
        if len(_COMPILED) >= 256:
            _COMPILED.clear()
        compiled = compile_scheme(scheme)
        known = _COMPILED[id(scheme)] = (scheme, compiled, pack(compiled.arrays))
    return known[1], known[2]


def _replay_scheme(ev: Events, subj_start: npt.NDArray[np.int64], index: int, scheme: Scheme,
                   starting: Sequence[StartingPoint], end: date | None, clock: _Clock
                   ) -> tuple[pa.Table, npt.NDArray[np.int64], SchemeEntries, Accounting]:
    clock.lap("tables")  # the previous scheme's results
    compiled, packed = _compiled(scheme)
    applicable, scored_row = scheme_rows(ev, scheme, end)
    start_score, start_grade = _starts(ev, compiled, applicable, starting)
    # Only scored rows are matched: a row of a subject not yet eligible fires nothing.
    rows, rules, pair_start = match_scheme(ev, scheme, scored_row)
    slot_start, slot_status, slot_points = effect_points(ev, compiled, rows, rules)
    n_subjects = ev.subjects.num_rows
    outcome = np.zeros((n_subjects, 4), np.int64)
    flags = np.zeros((n_subjects, len(compiled.flags)), np.bool_)
    end_day = 0 if end is None else end.toordinal() - EPOCH
    widest = int(np.max(np.diff(compiled.arrays["eff_start"]), initial=1))
    capacity = ENTRIES
    pair_rule = rules.astype(np.int64)
    status = slot_status.astype(np.int64)
    parts: list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]] = []
    first = 0
    clock.lap("match")
    while first < n_subjects:
        # Not zeroed: the reducer writes every field of what it counts as written.
        out = (np.empty((capacity, 9), np.int64), np.empty((capacity, 4), np.int64),
               np.empty((capacity * (3 * widest + 3), 5), np.int64))
        done, n_entries, n_items, error, where = R.reduce_scheme(
            packed.rules, packed.effects, packed.tiers, packed.groups, packed.bands,
            packed.scale, len(compiled.flags), ev.day, ev.periods, ev.perm, ev.id_offsets,
            ev.id_data, pair_start,
            pair_rule, slot_start, status, slot_points,
            subj_start, applicable, scored_row, start_score, start_grade, end is not None,
            end_day, first,
            *out, outcome, flags)
        if error:
            subject = ev.subjects.column("id")[where].as_py()
            raise HistoryError(f"the score of {subject!r} in {scheme.id} leaves the range the "
                               "columnar backend holds exactly (magnitude below 10^12)",
                               field="events")
        if done == first and n_entries == 0:
            capacity *= 4  # one subject needs more room than a buffer has
            continue
        parts.append((out[0][:n_entries], out[1][:n_entries], out[2][:n_items]))
        first = done
    clock.lap("reduce")
    ledger = scheme_entries(ev, compiled, index, parts)
    chosen = np.flatnonzero(applicable)
    results = _results(ev, compiled, chosen, start_score, outcome, flags)
    scored = int(outcome[chosen, 2].sum())
    unscored = int(outcome[chosen, 3].sum())
    # Scored rows are rows of the scheme's kind: the others of that kind are ineligible.
    ineligible = int(np.count_nonzero(ev.rows_of_kind(scheme.subject_kind))) \
        - int(np.count_nonzero(scored_row))
    return results, chosen, ledger, Accounting(scheme.id, ev.n, scored, unscored,
                                       ev.n - scored - unscored, ineligible)


def _results(ev: Events, compiled: CompiledScheme, chosen: npt.NDArray[np.int64],
             start: npt.NDArray[np.int64], outcome: npt.NDArray[np.int64],
             flags: npt.NDArray[np.bool_]) -> pa.Table:
    labels = pa.array([b.label for b in compiled.scheme.bands] + [None], pa.string())
    band = outcome[chosen, 1]
    set_rows, set_cols = np.nonzero(flags[chosen])
    offsets = np.zeros(len(chosen) + 1, np.int32)
    np.cumsum(np.bincount(set_rows, minlength=len(chosen)), out=offsets[1:])
    names = pa.array(list(compiled.flags), pa.string()).take(pa.array(set_cols, pa.int64()))
    return pa.table({
        "subject": ev.subjects.column("id").take(pa.array(chosen)),
        "scheme": pa.repeat(pa.scalar(compiled.scheme.id, pa.string()), len(chosen)),
        "start": decimals(start[chosen]), "score": decimals(outcome[chosen, 0]),
        "band": labels.take(pa.array(np.where(band < 0, len(labels) - 1, band))),
        "flags": pa.ListArray.from_arrays(pa.array(offsets), names),
        "events_scored": outcome[chosen, 2], "events_unscored": outcome[chosen, 3],
    }, schema=RESULTS_SCHEMA)
