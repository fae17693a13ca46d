"""`creditlab replay ... --format parquet -o DIR`: when a replay goes to a folder, and the
line that says what was written (the work: `engine/views/folder_replay.py`)."""

from __future__ import annotations

from pathlib import Path

import click

from creditlab.engine.scoring.partitioned import PartitionedReplay
from creditlab.engine.scoring.replay import Backend

__all__ = ["check_options", "is_folder_target", "is_parquet_history", "summary_line"]


def is_parquet_history(path: str) -> bool:
    return Path(path).is_dir() or path.lower().endswith(".parquet")


def is_folder_target(output: str | None) -> bool:
    """`-o DIR` (anything but a `.parquet` file name) asks for a folder of parts."""
    return output is not None and output != "-" and not output.lower().endswith(".parquet")


def summary_line(done: PartitionedReplay, path: str) -> str:
    return (f"replayed {done.subjects} subjects and {done.events} events in "
            f"{done.partitions} part{'s' if done.partitions != 1 else ''} to {path} "
            f"(digest {done.digest})")


def check_options(fmt: str, output: str | None, backend: Backend, local_dask: bool,
                  scheduler: str | None, history: str) -> bool:
    """Whether this replay goes to a folder; usage errors for options that need one."""
    folder = fmt == "parquet" and is_folder_target(output)
    if (local_dask or scheduler) and not (folder and backend == "columnar"
                                          and is_parquet_history(history)):
        raise click.UsageError("--dask and --scheduler replay a Parquet history with "
                               "--backend columnar --format parquet -o DIR")
    return folder
