"""Shared output options and writers: JSON for scripts, rich tables for people."""

from __future__ import annotations

import csv
import io
import sys
from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

import click
from rich.console import Console

from creditlab.engine.canonical import dumps, plain
from creditlab.engine.describe import entry_record
from creditlab.engine.scoring.replay import Replay

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["ProgressBar", "console", "format_option", "replay_document", "write_csv", "write_json",
           "write_jsonl"]


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """The `--format` option every command shares (table for people, json for scripts)."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default,
        show_default=True, help="Output format: a table for people, "
                                "json (or jsonl/csv) for scripts.",
    )


def console() -> Console:
    """A console on stdout; wide enough for side-by-side tables when not a terminal.

    Markup is off: scheme and history text such as "[Negative] tax inspection data" is
    printed as written, never read as rich style tags. Styles come from Text objects.
    """
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False, markup=False)


def write_json(value: Any) -> None:
    click.echo(dumps(value, indent=2))


def write_jsonl(records: Iterable[Any]) -> None:
    for record in records:
        click.echo(dumps(record))


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if v is None else (";".join(map(str, v)) if isinstance(v, list)
                                               else v) for v in plain(list(row))])
    click.echo(buffer.getvalue(), nl=False)


def replay_document(result: Replay, *, explain: bool) -> dict[str, Any]:
    """`creditlab replay --format json`: the replay's data, each ledger entry with its words."""
    data = result.as_dict(explain=explain)
    if explain:
        data["ledger"] = [entry_record(e) for e in result.ledger]
    return data


class ProgressBar:
    """A progress bar on stderr, one task per scheme, for long replays."""

    def __init__(self) -> None:
        from rich.progress import Progress

        self._progress = Progress(console=Console(stderr=True), transient=True)
        self._progress.start()
        self._tasks: dict[str, Any] = {}

    def update(self, scheme: str, done: int, total: int) -> None:
        if scheme not in self._tasks:
            self._tasks[scheme] = self._progress.add_task(f"replaying {scheme}", total=total)
        self._progress.update(self._tasks[scheme], completed=done)

    def close(self) -> None:
        self._progress.stop()
