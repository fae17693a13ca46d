"""Replaying a city: partition by partition of subjects, in one process or on Dask.

A city's history does not fit in memory as records. It is read as partitions, each
holding every event of a disjoint set of subjects (and those subjects), and each
partition is replayed on its own by the columnar backend: a subject's standing depends
only on its own events, so partitions never need each other. What a partition gives (its
results and ledger tables) goes to a `sink` that writes it, on the machine that computed
it; what comes back is small: the partition's accounting and its subjects' digests
(`scoring/digest.py`), which combine into the same digest as one replay of the whole
history, however it was partitioned and wherever it ran.

Memory is bounded by the largest partition, not by the history.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date
from typing import Any, Protocol

import pyarrow as pa

from creditlab.engine.inputs.history import StartingPoint
from creditlab.engine.inputs.history_parquet import (
    DEFAULT_SUBJECTS_PER_PARTITION,
    ParquetHistory,
    open_parquet_history,
)
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.scoring.digest import combine, subject_digests
from creditlab.engine.scoring.outcome import Accounting

__all__ = [
    "ParquetPartitions",
    "Part",
    "PartitionSource",
    "PartitionedReplay",
    "Sink",
    "replay_part",
    "replay_partitioned",
]


class PartitionSource(Protocol):
    """Where partitions come from; picklable, so that Dask workers read their own."""

    @property
    def partitions(self) -> int: ...

    def load(self, index: int) -> tuple[pa.Table, pa.Table]:
        """Partition `index`: (its events table, its subjects table)."""
        ...


@dataclass(frozen=True)
class ParquetPartitions:
    """The partitions of a Parquet history, by path: each process (a Dask worker) opens the
    history once and reads only the partitions it is given."""

    path: str
    vocabulary: Vocabulary
    subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION

    @property
    def partitions(self) -> int:
        return self.history.partition_count(self.subjects_per_partition)

    @property
    def history(self) -> ParquetHistory:
        return _opened(self.path, self.vocabulary)

    def load(self, index: int) -> tuple[pa.Table, pa.Table]:
        return self.history.partition(index, self.subjects_per_partition)


_OPEN: dict[tuple[str, str], ParquetHistory] = {}


def _opened(path: str, vocabulary: Vocabulary) -> ParquetHistory:
    """One opened history per (path, vocabulary) per process."""
    key = (path, vocabulary.sha256)
    if key not in _OPEN:
        _OPEN.clear()  # a process replays one history at a time
        _OPEN[key] = open_parquet_history(path, vocabulary)
    return _OPEN[key]


@dataclass(frozen=True)
class Part:
    """One partition, replayed."""

    index: int
    results: pa.Table
    ledger: pa.Table
    digests: pa.Table
    accounting: tuple[Accounting, ...]
    events: int
    subjects: int
    seconds: dict[str, float] = field(default_factory=dict)


Sink = Callable[[Part], float]
"""Writes a part's tables; returns the seconds it took."""


@dataclass(frozen=True)
class Summary:
    """What travels back from a partition: counts, digests, timings (never the tables)."""

    index: int
    digests: pa.Table
    accounting: tuple[Accounting, ...]
    events: int
    subjects: int
    ledger_rows: int
    seconds: dict[str, float]


@dataclass(frozen=True)
class PartitionedReplay:
    """A whole partitioned replay: accounting per scheme, the digest, counts, timings."""

    accounting: tuple[Accounting, ...]
    digest: str
    partitions: int
    events: int
    subjects: int
    ledger_rows: int
    seconds: dict[str, float]
    """Summed over partitions (load, match, reduce, tables, checks, digest, write): the
    time each stage took where it ran, not wall time."""


def replay_part(index: int, events: pa.Table, subjects: pa.Table, schemes: Sequence[Scheme], *,
                end: date | None, starting: Sequence[StartingPoint] = ()) -> Part:
    """Replay one partition through `schemes` (sorted by id) with the columnar backend."""
    from creditlab.engine.scoring.columnar.replay import replay_columnar

    done = replay_columnar(events, subjects, schemes, starting=starting, end=end)
    replayed = time.perf_counter()
    digests = subject_digests(done.results, done.ledger)
    seconds = {**done.seconds, "digest": time.perf_counter() - replayed}
    return Part(index, done.results, done.ledger, digests, done.accounting, events.num_rows,
                subjects.num_rows, seconds)


def _run(source: PartitionSource, index: int, schemes: Sequence[Scheme], end: date | None,
         starting: Sequence[StartingPoint], sink: Sink) -> Summary:
    clock = time.perf_counter()
    events, subjects = source.load(index)
    loaded = time.perf_counter() - clock
    part = replay_part(index, events, subjects, schemes, end=end, starting=starting)
    written = sink(part)
    summary = Summary(index, part.digests, part.accounting, part.events, part.subjects,
                   part.ledger.num_rows, {"load": loaded, **part.seconds, "write": written})
    del events, subjects, part
    # Give the partition's memory back before the next one: Arrow's allocator otherwise
    # keeps it for a while, and more so on a busy machine.
    pa.default_memory_pool().release_unused()
    return summary


def _summaries(source: PartitionSource, schemes: Sequence[Scheme], end: date | None,
               starting: Sequence[StartingPoint], sink: Sink,
               client: Any | None, jobs: int) -> Iterator[Summary]:
    workers = min(jobs, source.partitions)
    if client is None and workers <= 1:
        for index in range(source.partitions):
            yield _run(source, index, schemes, end, starting, sink)
        return
    if client is None:
        yield from _in_processes(source, schemes, end, starting, sink, workers)
        return
    from distributed import as_completed

    futures = [client.submit(_run, source, index, schemes, end, starting, sink, pure=False,
                             key=f"creditlab-part-{index:05d}")
               for index in range(source.partitions)]
    for future in as_completed(futures):  # type: ignore[no-untyped-call]
        yield future.result()


def _in_processes(source: PartitionSource, schemes: Sequence[Scheme], end: date | None,
                  starting: Sequence[StartingPoint], sink: Sink,
                  workers: int) -> Iterator[Summary]:
    """The partitions replayed by `workers` processes of this machine, as they finish.

    Workers are started fresh ("spawn"), not forked: Arrow's and numba's threads in this
    process make a fork unsafe. Each holds one partition at a time.
    """
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor, as_completed

    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        futures = [pool.submit(_run, source, index, schemes, end, starting, sink)
                   for index in range(source.partitions)]
        try:
            for future in as_completed(futures):
                yield future.result()
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def replay_partitioned(source: PartitionSource, schemes: Sequence[Scheme], sink: Sink, *,
                       end: date | None, starting: Sequence[StartingPoint] = (),
                       client: Any | None = None, jobs: int = 1,
                       progress: Callable[[int, int], None] | None = None) -> PartitionedReplay:
    """Replay every partition of `source`: on `client`'s Dask cluster when given, else in
    `jobs` processes of this machine (1: in this process).

    `progress(done, total)` is called as partitions finish. The result does not depend on
    the number of partitions, their order, the processes or the cluster.
    """
    ordered = sorted(schemes, key=lambda s: s.id)
    totals = {s.id: Accounting.none(s.id) for s in ordered}
    digests = []
    events = subjects = rows = 0
    seconds: dict[str, float] = {}
    if progress is not None:
        progress(0, source.partitions)
    summaries = _summaries(source, ordered, end, starting, sink, client, jobs)
    for done, summary in enumerate(summaries, start=1):
        digests.append(summary.digests)
        for a in summary.accounting:
            totals[a.scheme] += a
        events += summary.events
        subjects += summary.subjects
        rows += summary.ledger_rows
        for name, value in summary.seconds.items():
            seconds[name] = seconds.get(name, 0.0) + value
        if progress is not None:
            progress(done, source.partitions)
    accounting = tuple(totals.values())
    return PartitionedReplay(accounting, combine(digests), source.partitions, events, subjects,
                             rows, seconds)
