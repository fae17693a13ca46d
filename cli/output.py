"""Shared output options and writers: JSON for scripts, rich tables for people, CSV and
Parquet for notebooks (`write_frame`: plain CSV, its provenance in `FILE.manifest.json`).

Every file a command writes goes through `output_file` (`creditlab.engine.views.files`):
a temporary file renamed into place, never a link, a device or an input of the command,
an existing file replaced only with `--force`. `-o -` (or no `-o`) is stdout.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from typing import IO, Any, TypeVar

import click
from rich.console import Console

from creditlab.engine.canonical import dumps
from creditlab.engine.describe import entry_record
from creditlab.engine.scoring.replay import BACKENDS, Replay
from creditlab.engine.views.files import PathLike, check_target, replacing
from creditlab.engine.views.frames import sidecar

F = TypeVar("F", bound=Callable[..., Any])

__all__ = ["ProgressBar", "backend_option", "check_frame_output", "check_output", "console",
           "force_option", "format_option", "json_text", "output_file", "reform_option",
           "replay_document",
           "write_frame", "write_json", "write_jsonl"]


def backend_option(func: F) -> F:
    """The `--backend` option of every command that replays."""
    return click.option(
        "--backend", type=click.Choice(BACKENDS), default="durable", show_default=True,
        envvar="CREDITLAB_BACKEND", show_envvar=True,
        help="The engine that replays: durable (durable_rules, the reference) or columnar "
             "(compiled, for cities); both give the same results, ledger and digest.",
    )(func)


def format_option(*choices: str, default: str = "table") -> Callable[[F], F]:
    """The `--format` option every command shares (table for people, json for scripts);
    its help names exactly the `choices` the command offers."""
    people = [c for c in choices if c in ("table", "text")]
    scripts = [c for c in choices if c not in people]
    parts = [f"{c} for people" for c in people]
    if scripts:
        parts.append(f"{_or_list(scripts)} for scripts")
    return click.option(
        "--format", "fmt", type=click.Choice(list(choices)), default=default,
        show_default=True, help=f"Output format: {', '.join(parts)}.",
    )


def _or_list(words: Sequence[str]) -> str:
    """`json`, `json or csv`, `json, jsonl or csv`."""
    return words[0] if len(words) == 1 else f"{', '.join(words[:-1])} or {words[-1]}"


def force_option(func: F) -> F:
    """`--force`: replace an existing output file (never an input, a link or a device)."""
    return click.option("--force", is_flag=True,
                        help="Replace FILE if it exists (never a link, a device or an "
                             "input of the command).")(func)


def reform_option(func: F) -> F:
    """`--reform FILE` (repeatable): reforms applied in order to the schemes they are of."""
    return click.option("--reform", "reforms", multiple=True, metavar="FILE",
                        type=click.Path(exists=True, dir_okay=False),
                        help="A reform file applied to the scheme it is of (its 'of'); "
                             "repeat to stack, in order. A base not among the schemes is "
                             "added, reformed.")(func)


def console(file: IO[str] | None = None) -> Console:
    """A console on stdout (or `file`); wide enough for side-by-side tables when not a
    terminal.

    Markup is off: scheme and history text such as "[Negative] tax inspection data" is
    printed as written, never read as rich style tags. Styles come from Text objects.
    """
    from .width import console_for  # --width N, else COLUMNS, else the terminal: cli/width.py
    return console_for(file)


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


def check_frame_output(fmt: str, output: str | None, *, force: bool,
                       inputs: Iterable[PathLike] = ()) -> None:
    """Fail before the work when `write_frame` could not write `output`: Parquet needs a
    file, and a CSV file's sidecar (`FILE.manifest.json`) must be writable too."""
    if fmt == "parquet" and is_stdout(output):
        raise click.UsageError("--format parquet writes a binary file: give -o/--output FILE")
    check_output(output, force=force, inputs=inputs)
    if fmt == "csv" and not is_stdout(output):
        assert output is not None
        check_target(sidecar(output), overwrite=force, inputs=tuple(inputs))


def write_frame(frame: Any, fmt: str, output: str | None, *, force: bool = False,
                inputs: Iterable[PathLike] = ()) -> None:
    """A result's frame as `csv` or `parquet`, written safely (see `output_file`).

    CSV is plain (a header, then the rows); written to a file, its provenance (manifest,
    digest, column types) goes beside it in `FILE.manifest.json`. Parquet keeps it in
    the file's key-value metadata. On stdout a CSV is just the CSV.
    """
    from creditlab.engine.views import frames

    inputs = tuple(inputs)
    if fmt == "parquet":
        if is_stdout(output):
            raise click.UsageError("--format parquet writes a binary file: give -o/--output FILE")
        assert output is not None
        frames.to_parquet(frame, output, overwrite=force, inputs=inputs)
    elif is_stdout(output):
        frames.to_csv(frame, sys.stdout)
        sys.stdout.flush()
    else:
        assert output is not None
        frames.to_csv(frame, output, overwrite=force, inputs=inputs)


def replay_document(result: Replay, *, explain: bool) -> dict[str, Any]:
    """`creditlab replay --format json`: the replay's data, each ledger entry with its words."""
    data = result.as_dict(explain=explain)
    if explain:
        data["ledger"] = [entry_record(e) for e in result.ledger]
    return data


class ProgressBar:
    """A progress bar on stderr, one task per scheme, for long replays."""

    def __init__(self, verb: str = "replaying") -> None:
        from rich.progress import Progress

        self.verb = verb
        self._progress = Progress(console=Console(stderr=True), transient=True)
        self._progress.start()
        self._tasks: dict[str, Any] = {}

    def update(self, scheme: str, done: int, total: int) -> None:
        if scheme not in self._tasks:
            self._tasks[scheme] = self._progress.add_task(f"{self.verb} {scheme}", total=total)
        self._progress.update(self._tasks[scheme], completed=done)

    def close(self) -> None:
        self._progress.stop()
