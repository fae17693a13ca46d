"""A city's replay as a folder of Parquet files, written partition by partition.

    DIR/manifest.json               the manifest, the digest, accounting, counts
    DIR/results/part-00000.parquet  one row per (subject, scheme), as `replay --format
                                    parquet` writes results
    DIR/ledger/part-00000.parquet   with the ledger: one row per entry, in replay order
                                    within the part

Each part is written by whoever replayed it (this process or a Dask worker), so the
folder must be reachable by every worker. The folder is made new: an existing folder is
used only when empty, and no file in it is ever replaced (`files.replacing`). Numbers are
Float64, as in every creditlab frame (exact for the engine's scores, which have at most
a few decimals); `changes` and `notes` are the canonical JSON of the entry's records; the
columnar backend's ledger parts keep its few-valued text columns as dictionaries (pandas
reads them as categoricals, polars as categoricals or strings);
`manifest.json` is written last, so a folder without it is an unfinished replay.
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from creditlab.engine.canonical import dumps
from creditlab.engine.errors import InputError, OutputError
from creditlab.engine.scoring.partitioned import Part, PartitionedReplay
from creditlab.engine.views.files import replacing

__all__ = ["ReplayFolder", "new_folder", "read_results"]

MANIFEST = "manifest.json"

_LEDGER_COLUMNS = ("kind", "at", "event", "type", "subject", "scheme", "rule", "points",
                   "applied", "score_before", "score_after", "band_before", "band_after",
                   "changes", "notes", "fidelity")


def new_folder(path: str | os.PathLike[str], *, inputs: Iterable[str | os.PathLike[str]] = ()
               ) -> bool:
    """Make `path` a new folder, or take it if it is an empty one; `OutputError` when it
    holds anything, is a link or a file, or holds one of `inputs`. True when it was made."""
    folder = Path(path)
    for given in inputs:
        try:
            if os.path.samefile(folder, given) or Path(given).resolve().is_relative_to(
                    folder.resolve()):
                raise OutputError(folder, "it holds the command's input")
        except OSError:
            continue
    if folder.is_symlink():
        raise OutputError(folder, "it is a symbolic link (creditlab does not write through "
                                  "links)")
    if folder.exists():
        if not folder.is_dir():
            raise OutputError(folder, "it exists and is not a folder")
        if any(folder.iterdir()):
            raise OutputError(folder, "the folder is not empty (creditlab writes a new folder "
                                      "and never replaces files in it)")
        return False
    try:
        folder.mkdir(parents=True)
    except OSError as exc:
        raise OutputError(folder, exc.strerror or str(exc)) from None
    return True


def _floats(table: pa.Table) -> pa.Table:
    """Decimal columns as float64 (what every creditlab frame and Parquet file holds)."""
    for i, f in enumerate(table.schema):
        if pa.types.is_decimal(f.type):
            table = table.set_column(i, pa.field(f.name, pa.float64()),
                                     pc.cast(table.column(i), pa.float64()))
    return table


def _write(table: pa.Table, target: Path) -> None:
    with replacing(target, binary=True) as handle:
        pq.write_table(table, handle, compression="zstd", write_statistics=True)


@dataclass(frozen=True)
class ReplayFolder:
    """Writes the parts of a partitioned replay into `path` (a sink; picklable for Dask)."""

    path: str
    ledger: bool = False

    def prepare(self, inputs: Iterable[str | os.PathLike[str]] = ()) -> bool:
        """Make the folder and its subfolders; True when the folder itself was made."""
        made = new_folder(self.path, inputs=inputs)
        folder = Path(self.path)
        (folder / "results").mkdir()
        if self.ledger:
            (folder / "ledger").mkdir()
        return made

    def abandon(self, made: bool) -> None:
        """After a failure before any part was written: remove what `prepare` made (empty
        folders only; a part already written stays, and so does the folder then)."""
        folder = Path(self.path)
        for sub in ("results", "ledger"):
            with contextlib.suppress(OSError):
                (folder / sub).rmdir()  # only if empty
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()

    def __call__(self, part: Part) -> float:
        clock = time.perf_counter()
        name = f"part-{part.index:05d}.parquet"
        _write(_floats(part.results), Path(self.path) / "results" / name)
        if self.ledger:
            _write(_floats(part.ledger.select(list(_LEDGER_COLUMNS))),
                   Path(self.path) / "ledger" / name)
        return time.perf_counter() - clock

    def finish(self, done: PartitionedReplay, manifest: Mapping[str, Any]) -> Path:
        """Write `manifest.json`: the replay's manifest, digest, accounting and counts."""
        target = Path(self.path) / MANIFEST
        document = {
            "manifest": dict(manifest),
            "digest": done.digest,
            "accounting": {a.scheme: a.as_dict() for a in done.accounting},
            "partitions": done.partitions,
            "events": done.events,
            "subjects": done.subjects,
            "ledger_rows": done.ledger_rows,
            "seconds": {k: round(v, 3) for k, v in sorted(done.seconds.items())},
            "files": {"results": "results/*.parquet",
                      **({"ledger": "ledger/*.parquet"} if self.ledger else {})},
        }
        with replacing(target) as handle:
            handle.write(dumps(document, indent=2) + "\n")
        return target


def read_results(path: str | os.PathLike[str]) -> pa.Table:
    """The results of a replay folder, as one table (for analysis)."""
    folder = Path(path)
    if not (folder / MANIFEST).is_file():
        raise InputError(f"no {MANIFEST}: not a finished creditlab replay folder", file=folder)
    return pq.read_table(folder / "results")
