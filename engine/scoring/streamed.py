"""Replaying a JSONL history too large to hold: partition by partition of subjects.

`load_history` and `replay` hold every event and every ledger entry of a history; a city's
million events take gigabytes that way. `replay_streamed` replays an indexed JSONL history
(`inputs/history_stream.py`) one partition of subjects at a time with the durable_rules
backend: a subject's standing depends only on its own events, so each partition is
replayed on its own, its ledger dropped once its subjects' digests are computed
(`scoring/digest.py`), and only the outcomes are kept, compactly. The results, the
accounting, the manifest and the digest are those of `replay` on the whole history.

Memory is bounded by the largest partition and the outcomes, not by the events.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, fields
from decimal import Decimal
from typing import Any

import pyarrow as pa

from creditlab.engine.inputs.catalog import refuse_duplicate_ids
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_stream import DEFAULT_SUBJECTS_PER_PARTITION, JsonlIndex
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.digest import combine
from creditlab.engine.scoring.outcome import Accounting, Outcome
from creditlab.engine.scoring.replay import (
    Progress,
    check_starting,
    replay_durable,
    replay_manifest,
)

__all__ = ["StreamedReplay", "replay_streamed"]

"""Accounting's counts: each is summed over the partitions."""

_OUTCOME_FIELDS = tuple(f.name for f in fields(Outcome))
_Row = tuple[Any, ...]
"""An outcome's fields, in `Outcome`'s order: a tuple is a third of an `Outcome`'s size."""


@dataclass(frozen=True)
class StreamedReplay:
    """A replay without its ledger: outcomes, accounting, manifest and digest, equal to
    those of `replay` on the whole history."""

    schemes: tuple[Scheme, ...]
    accounting: tuple[Accounting, ...]
    manifest: dict[str, Any]
    digest: str
    partitions: int
    events: int
    rows: tuple[_Row, ...]
    """The outcomes' fields, sorted by (subject, scheme): `outcomes()` gives them as
    records one at a time."""

    @property
    def results(self) -> tuple[Outcome, ...]:
        """Every outcome, sorted as `Replay.results` (made anew at each call: for a city,
        iterate `outcomes()` instead)."""
        return tuple(self.outcomes())

    def outcomes(self) -> Iterator[Outcome]:
        """The outcomes, sorted by (subject, scheme), one at a time."""
        return (Outcome(*row) for row in self.rows)

    def as_dict(self, *, results: bool = True) -> dict[str, Any]:
        """The replay as data, as `Replay.as_dict()` gives it (no ledger); without
        `results`, an empty list of them (to be written one at a time)."""
        return {
            "manifest": self.manifest,
            "results": [r.as_dict() for r in self.outcomes()] if results else [],
            "accounting": {a.scheme: a.as_dict() for a in self.accounting},
            "digest": self.digest,
        }


class _Interned:
    """One object per distinct value: a city's million outcomes share few scores."""

    def __init__(self) -> None:
        self.numbers: dict[str, Decimal] = {}
        self.flags: dict[tuple[str, ...], tuple[str, ...]] = {}

    def row(self, outcome: Outcome) -> _Row:
        return tuple(self.value(getattr(outcome, name)) for name in _OUTCOME_FIELDS)

    def value(self, value: Any) -> Any:
        if isinstance(value, Decimal):
            # Keyed by the text: 5 and 5.0 are equal but written differently.
            return self.numbers.setdefault(str(value), value)
        if isinstance(value, tuple):
            return self.flags.setdefault(value, value)
        return value


def replay_streamed(index: JsonlIndex, schemes: Sequence[Scheme], *,
                    progress: Progress | None = None,
                    subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION
                    ) -> StreamedReplay:
    """Replay an indexed JSONL history through `schemes` with durable_rules, one partition
    of `subjects_per_partition` subjects at a time.

    `progress(scheme_id, events_done, events_total)` counts over the whole history: each
    scheme's count rises partition by partition. The results do not depend on the
    partition size.
    """
    refuse_duplicate_ids(list(schemes))
    ordered = sorted(schemes, key=lambda s: s.id)
    whole = index.header.model_copy(update={"as_of": index.end})
    check_starting(whole, {s.id for s in ordered})
    _check_starts(whole, ordered)
    totals = {s.id: Accounting.none(s.id) for s in ordered}
    digests: list[pa.Table] = []
    rows: list[_Row] = []
    interned = _Interned()
    done = 0
    partitions = index.partition_count(subjects_per_partition)
    for k in range(partitions):
        part = index.partition(k, subjects_per_partition)
        replayed = replay_durable(part, ordered, _offset(progress, done, index.events))
        done += len(part.events)
        del part
        rows += (interned.row(o) for o in replayed.results)
        digests.append(replayed.digests)
        for a in replayed.accounting:
            totals[a.scheme] += a
        del replayed
    accounting = tuple(totals.values())
    return StreamedReplay(tuple(ordered), accounting, replay_manifest(whole, ordered, "durable"),
                          combine(digests), partitions, index.events, tuple(rows))


def _offset(progress: Progress | None, before: int, total: int) -> Progress | None:
    """A partition's progress as progress over the whole history."""
    if progress is None:
        return None
    report: Callable[[str, int, int], None] = progress

    def partition_progress(scheme: str, position: int, events: int) -> None:
        report(scheme, before + position, total)

    return partition_progress


def _check_starts(whole: History, ordered: Sequence[Scheme]) -> None:
    """Every starting point checked against its scheme before any partition, as `replay`
    checks them (the subjects that have one, replayed without events), so that the same
    point is refused first."""
    given = {p.subject for p in whole.starting}
    if given:
        replay_durable(whole.model_copy(update={
            "subjects": {sid: s for sid, s in whole.subjects.items() if sid in given}}),
            ordered)
