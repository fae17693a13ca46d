"""Shared output options and writers: JSON for scripts, rich tables for people.

Every file a command writes goes through `output_file` (`creditlab.engine.views.files`):
a temporary file renamed into place, never a link, a device or an input of the command,
an existing file replaced only with `--force`. `-o -` (or no `-o`) is stdout.
"""

from __future__ import annotations

import csv
import io
import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from decimal import Decimal
from typing import IO, Any, TypeVar

import click
from rich.console import Console

from creditlab.engine.canonical import dumps, plain
from creditlab.engine.describe import entry_record
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.files import PathLike, check_target, replacing
from creditlab.engine.views.frames import escape_formula

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["ProgressBar", "check_output", "console", "force_option", "format_option",
           "json_text", "output_file", "replay_document", "write_csv", "write_json", "write_jsonl"]


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """The `--format` option every command shares (table for people, json for scripts)."""
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default,
        show_default=True, help="Output format: a table for people, "
                                "json (or jsonl/csv) for scripts.",
    )


def force_option(func: F) -> F:
    """`--force`: replace an existing output file (never an input, a link or a device)."""
    return click.option("--force", is_flag=True,
                        help="Replace FILE if it exists (never a link, a device or an "
                             "input of the command).")(func)


def console(file: IO[str] | None = None) -> Console:
    """A console on stdout (or `file`); wide enough for side-by-side tables when not a
    terminal.

    Markup is off: scheme and history text such as "[Negative] tax inspection data" is
    printed as written, never read as rich style tags. Styles come from Text objects.
    """
    if file is not None:
        return Console(file=file, width=160, highlight=False, markup=False)
    return Console(width=None if sys.stdout.isatty() else 160, highlight=False, markup=False)


def is_stdout(output: str | None) -> bool:
    return output is None or output == "-"


def check_output(output: str | None, *, force: bool, inputs: Iterable[PathLike] = ()) -> None:
    """Fail before the work when `output` cannot be written (see `output_file`)."""
    if not is_stdout(output):
        assert output is not None
        check_target(output, overwrite=force, inputs=tuple(inputs))


@contextmanager
def output_file(output: str | None, *, force: bool = False, inputs: Iterable[PathLike] = (),
                binary: bool = False) -> Iterator[IO[Any]]:
    """stdout for None or '-', else the file `output`, written safely: its contents replace
    the target only once complete, never through a link or a device, never an input of
    the command, an existing file only with `force`."""
    if is_stdout(output):
        stream: IO[Any] = sys.stdout.buffer if binary else sys.stdout
        yield stream
        stream.flush()
        return
    assert output is not None
    with replacing(output, overwrite=force, inputs=tuple(inputs), binary=binary,
                   newline="" if not binary else None) as handle:
        yield handle


def json_text(value: Any, out: IO[str] | None = None, *, indent: int | None = None) -> str:
    """Canonical JSON of `value`; with JSON's own `\\uXXXX` escapes when the stream's
    encoding (PYTHONIOENCODING=ascii) cannot hold the text, so that it stays valid JSON."""
    text = dumps(value, indent=indent)
    encoding = getattr(out if out is not None else sys.stdout, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except (UnicodeEncodeError, LookupError):
        separators = (",", ":") if indent is None else (",", ": ")
        text = json.dumps(json.loads(text), ensure_ascii=True, indent=indent,
                          separators=separators)
    return text


def write_json(value: Any, out: IO[str] | None = None) -> None:
    click.echo(json_text(value, out, indent=2), file=out)


def write_jsonl(records: Iterable[Any], out: IO[str] | None = None) -> None:
    for record in records:
        click.echo(json_text(record, out), file=out)


def _csv_cell(value: Any) -> Any:
    """A CSV cell: numbers as numbers, text protected against formula injection."""
    if value is None:
        return ""
    if isinstance(value, (bool, int, float, Decimal)):
        return plain(value)
    if isinstance(value, (list, tuple)):
        value = ";".join(map(str, plain(list(value))))
    return escape_formula(str(plain(value)))


def write_csv(header: Sequence[str], rows: Iterable[Sequence[Any]],
              out: IO[str] | None = None) -> None:
    """CSV with a header; a text cell beginning with =, +, -, @, tab or CR gets a leading
    `'` (see `creditlab.engine.views.frames.escape_formula`)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([_csv_cell(h) for h in header])
    for row in rows:
        writer.writerow([_csv_cell(v) for v in row])
    click.echo(buffer.getvalue(), nl=False, file=out)


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
