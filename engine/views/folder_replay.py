"""A replay written as a folder of Parquet parts, partition by partition, on Dask or not.

For a Parquet history with the columnar backend, `replay_history_to_folder` replays the
history one partition of subjects at a time (on a Dask cluster when given one), each part
written as it is done by whoever replayed it (`replay_files.ReplayFolder`), so memory holds
one partition, not the city. `replay_to_folder` writes a whole replay (either backend) as a
folder of one part: the folder looks the same either way, and so does its digest.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from creditlab.engine.inputs.history_parquet import (
    DEFAULT_SUBJECTS_PER_PARTITION,
    open_parquet_history,
)
from creditlab.engine.inputs.reform import reforms_manifest
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.scoring.partitioned import (
    ParquetPartitions,
    Part,
    PartitionedReplay,
    replay_partitioned,
)
from creditlab.engine.scoring.replay import Backend, Replay, creditlab_version
from creditlab.engine.scoring.tables import ledger_table, results_table
from creditlab.engine.views.replay_files import ReplayFolder

__all__ = ["dask_client", "replay_history_to_folder", "replay_to_folder"]


@contextmanager
def dask_client(local: bool, scheduler: str | None) -> Iterator[Any]:
    """A Dask client: a local cluster of worker processes, an existing one, or none."""
    if not local and scheduler is None:
        yield None
        return
    from distributed import Client, LocalCluster

    if scheduler is not None:
        with Client(scheduler) as client:  # type: ignore[no-untyped-call]
            yield client
        return
    workers = max(1, min(os.cpu_count() or 1, 8))
    with LocalCluster(n_workers=workers, threads_per_worker=1,  # type: ignore[no-untyped-call]
                      processes=True, dashboard_address=":0") as cluster, \
            Client(cluster) as client:  # type: ignore[no-untyped-call]
        yield client


def _manifest(backend: Backend, history_sha: str, schemes: Sequence[Scheme],
              vocabulary: str, as_of: Any, partitions: int) -> dict[str, Any]:
    manifest: dict[str, Any] = {
        "creditlab": creditlab_version(), "backend": backend, "history": history_sha,
        "schemes": {s.id: s.sha256 for s in sorted(schemes, key=lambda s: s.id)},
        "vocabulary": vocabulary, "partitions": partitions,
    }
    reforms = reforms_manifest(schemes)  # the baseline and the reforms of a reformed scheme
    if reforms:
        manifest["reforms"] = reforms
    if as_of is not None:
        manifest["as_of"] = as_of
    return manifest


def replay_history_to_folder(history: str, schemes: Sequence[Scheme], vocabulary: Vocabulary,
                             folder: ReplayFolder, *, local_dask: bool = False,
                             scheduler: str | None = None, jobs: int = 1,
                             subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION,
                             progress: Callable[[int, int], None] | None = None
                             ) -> tuple[PartitionedReplay, dict[str, Any]]:
    """Replay a Parquet history partition by partition with the columnar backend into
    `folder` (prepared), on Dask when asked, else in `jobs` processes; `progress(done,
    total)` as partitions finish."""
    opened = open_parquet_history(history, vocabulary)
    source = ParquetPartitions(str(Path(history).resolve()), vocabulary, subjects_per_partition)
    end = opened.as_of or opened.last_day
    with dask_client(local_dask, scheduler) as client:
        done = replay_partitioned(source, schemes, folder, end=end, client=client,
                                  jobs=jobs, progress=progress)
    manifest = _manifest("columnar", opened.sha256, schemes, vocabulary.sha256, end,
                         done.partitions)
    folder.finish(done, manifest)
    return done, manifest


def replay_to_folder(result: Replay, folder: ReplayFolder) -> PartitionedReplay:
    """A whole replay (either backend) written as a folder of one part."""
    from creditlab.engine.scoring.digest import subject_digests

    ids = [s.id for s in result.schemes]
    positions = _positions(result)
    results = results_table(result.results)
    ledger = ledger_table(result.ledger, ids, positions)
    part = Part(0, results, ledger, subject_digests(results, ledger), result.accounting,
                len(result.history.events), len(result.history.subjects))
    folder(part)
    done = PartitionedReplay(result.accounting, result.digest, 1, len(result.history.events),
                             len(result.history.subjects), ledger.num_rows, {})
    folder.finish(done, {**result.manifest, "partitions": 1})
    return done


def _positions(result: Replay) -> list[int]:
    """Each entry's event position; lapses are placed last (only the order within a part
    matters, and the written files keep the ledger's order)."""
    index = {e.id: i for i, e in enumerate(result.history.events)}
    total = len(result.history.events)
    return [index[e.event] if e.kind == "rule" else total for e in result.ledger]


