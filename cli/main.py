"""The `creditlab` command: thin wrappers that parse, call the engine and render.

Exit codes (the contract): 0 success, 1 bad input or a failed check, 2 wrong usage,
130 interrupted (Ctrl-C). Results go to stdout, errors to stderr, one line each: a file
that cannot be written, a full disk or a missing folder is `Error: ...` and exit 1; a
closed stdout (`creditlab replay ... | head -1`) ends the command quietly with exit 1;
text stdout cannot encode is written with backslash escapes (`\u4e2d`), never a crash.
"""

from __future__ import annotations

import io
import itertools
import os
import sys
from collections.abc import Sequence
from typing import Any

import click
from pydantic_core import to_jsonable_python

from creditlab.engine import (
    CreditlabError,
    load_history,
    replay,
    resolve_schemes,
    shipped_schemes,
    shipped_vocabulary,
    version,
)
from creditlab.engine.checks.coverage import coverage_of
from creditlab.engine.inputs.history_parquet import (
    DEFAULT_SUBJECTS_PER_PARTITION as PARQUET_PARTITION,
)
from creditlab.engine.inputs.reform import ReformedScheme
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.systems import not_replayable
from creditlab.engine.scoring.replay import Backend
from creditlab.engine.views.folder_replay import replay_history_to_folder, replay_to_folder
from creditlab.engine.views.replay_files import ReplayFolder

from . import analyst, auditor, city, educator, educator_report, reference, simulate, sweep, tester
from .completion import complete_scheme
from .output import (
    ProgressBar,
    backend_option,
    check_frame_output,
    console,
    force_option,
    format_option,
    is_stdout,
    output_file,
    reform_option,
    replay_document,
    write_frame,
    write_json,
    write_jsonl,
)
from .render import (
    changes_by_item,
    coverage_table,
    not_replayable_table,
    print_all,
    scheme_detail,
    scheme_list,
)
from .replay_view import replay_tables
from .width import width_option

__all__ = ["cli", "main"]


class _Group(click.Group):
    """Turns every CreditlabError into a clean message on stderr and exit code 1."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except CreditlabError as exc:
            raise click.ClickException(str(exc)) from None
        except KeyboardInterrupt:
            click.echo("interrupted", err=True)
            raise click.exceptions.Exit(INTERRUPTED) from None
        except BrokenPipeError:
            _silence_stdout()
            raise click.exceptions.Exit(1) from None
        except OSError as exc:
            _flush_or_silence_stdout()
            raise click.ClickException(_os_message(exc)) from None


INTERRUPTED = 130
"""Exit code after Ctrl-C: 128 + SIGINT, as shells report a process killed by it."""


def _os_message(exc: OSError) -> str:
    """One line for an OSError no layer below turned into a CreditlabError: with no file
    name, it came from writing stdout (a full disk, a closed terminal)."""
    what = str(exc.filename) if exc.filename else "cannot write the output"
    return f"{what}: {exc.strerror or exc}"


def _flush_or_silence_stdout() -> None:
    """Flush what stdout holds; if that fails too (a full disk), drop it quietly."""
    try:
        sys.stdout.flush()
    except OSError:
        _silence_stdout()


def _buffered_stdout() -> None:
    """With PYTHONUNBUFFERED=1 stdout writes straight to the file, and a partial write (a
    disk filling up) is dropped without an error: put a buffer between, flushed at each
    line, which retries partial writes and raises when the disk is full."""
    buffer = getattr(sys.stdout, "buffer", None)
    if isinstance(buffer, io.RawIOBase) and isinstance(sys.stdout, io.TextIOWrapper):
        sys.stdout = io.TextIOWrapper(io.BufferedWriter(buffer), encoding=sys.stdout.encoding,
                                      errors=sys.stdout.errors, line_buffering=True)


def _silence_stdout() -> None:
    """Point stdout at /dev/null once the reader is gone, so that Python's last flush at
    exit does not print a BrokenPipeError of its own."""
    try:
        fd = sys.stdout.fileno()
    except (AttributeError, OSError, ValueError):
        return  # not a real file (a test runner's buffer)
    devnull = os.open(os.devnull, os.O_WRONLY)
    try:
        os.dup2(devnull, fd)
    finally:
        os.close(devnull)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(version(), "-V", "--version", prog_name="creditlab")
def cli() -> None:
    """Replay one history of behaviour through documented social-credit schemes.

    Example:

        creditlab replay fixtures/example.yaml
    """


@cli.command("schemes")
@format_option("table", "json")
@click.option("--seed-only", is_flag=True,
              help="Count only rules encoded from the seed documents.")
@click.option("--variants/--no-variants", default=True, show_default=True,
              help="Include variant readings (ids with '@').")
@click.option("--coverage", is_flag=True,
              help="Rules the sources say each scheme has, against rules encoded.")
@width_option
def schemes_command(fmt: str, seed_only: bool, variants: bool, coverage: bool) -> None:
    """List the shipped schemes with their scale, start and rule counts by fidelity.

    Example:

        creditlab schemes --format json
        creditlab schemes --coverage
    """
    chosen = [s for s in shipped_schemes() if variants or s.variant is None]
    if seed_only:
        chosen = [s.model_copy(update={"rules": [r for r in s.rules if r.provenance == "seed"]})
                  for s in chosen]
    if coverage:
        rows = [coverage_of(s) for s in chosen]
        if fmt == "json":
            write_json([{**c.as_dict(), "replayable": True} for c in rows]
                       + [{"scheme": n.id, "replayable": False, "name": n.name,
                           "reason": n.reason, "why": n.why,
                           "source": n.source.model_dump(mode="json")}
                          for n in not_replayable()])
        else:
            console().print(coverage_table(rows))
            console().print(not_replayable_table(not_replayable()))
        return
    if fmt == "json":
        write_json([_scheme_summary(s) for s in chosen])
    else:
        console().print(scheme_list(chosen))


def _scheme_summary(s: Scheme) -> dict[str, Any]:
    provenance = {"seed": 0, "external": 0}
    for rule in s.rules:
        provenance[rule.provenance] += 1
    return {
        "id": s.id,
        "name": s.name.en,
        "name_zh": s.name.zh,
        "city": s.city,
        "subject_kind": s.subject_kind,
        "status": s.status,
        "scale": {"min": s.scale.min, "max": s.scale.max, "clamp": s.scale.clamp},
        "start": s.scale.start,
        "bands": [b.label for b in s.bands],
        "rules": len(s.rules),
        "fidelity": s.fidelity_counts(),
        "provenance": provenance,
        "variant_of": s.variant.of if s.variant else None,
        "coverage": s.coverage.model_dump(mode="json", exclude_none=True) if s.coverage
        else None,
    }


@cli.command("show")
@click.argument("scheme_id", shell_complete=complete_scheme)
@reform_option
@format_option("table", "json")
@click.option("--seed-only", is_flag=True, help="Show only rules encoded from the seeds.")
@width_option
def show_command(scheme_id: str, reforms: Sequence[str], fmt: str, seed_only: bool) -> None:
    """Show one scheme: scale, bands, every rule with its citation and fidelity.

    A reformed scheme (`ID+reform.yaml`, or `--reform FILE`) marks each changed item with
    the baseline's value ("was -50") and lists every change.

    Example:

        creditlab show suining_county
        creditlab show suining_county+fixtures/reforms/suining-red-light-10.yaml
    """
    chosen = resolve_schemes((scheme_id,), reforms)
    if len(chosen) != 1:
        raise click.UsageError(f"each --reform of show must be of {scheme_id}; "
                               f"{chosen[-1].id} is another scheme")
    scheme = chosen[0]
    if fmt == "json":
        data = scheme.model_dump(mode="json", exclude={"file", "changed"})
        marks = changes_by_item(scheme)
        for rule, dumped in zip(scheme.rules, data["rules"], strict=True):
            dumped["provenance"] = rule.provenance
            if ("rules", rule.id) in marks:
                dumped["was"] = {c.field: to_jsonable_python(c.was)
                                 for c in marks[("rules", rule.id)]}
        for band, dumped in zip(scheme.bands, data["bands"], strict=True):
            if ("bands", band.label) in marks:
                dumped["was"] = {c.field: to_jsonable_python(c.was)
                                 for c in marks[("bands", band.label)]}
        if isinstance(scheme, ReformedScheme):
            data["changed"] = [{**c.model_dump(include={"target", "part", "key", "field",
                                                        "reform", "note"}),
                                "was": to_jsonable_python(c.was),
                                "now": to_jsonable_python(c.now)}
                               for c in scheme.changed]
        if seed_only:
            data["rules"] = [r for r in data["rules"] if r["provenance"] == "seed"]
        write_json(data)
    else:
        console().print(scheme_detail(scheme, seed_only=seed_only))


@cli.command("replay")
@click.argument("history", type=click.Path())
@click.option("--scheme", "schemes", multiple=True, metavar="ID",
              shell_complete=complete_scheme,
              help="A scheme id or a scheme file; repeat for several. Default: all shipped.")
@reform_option
@format_option("table", "json", "jsonl", "csv", "parquet")
@click.option("--explain", is_flag=True,
              help="Include the ledger: every rule that fired, with its source (csv and "
                   "parquet: the ledger's rows instead of the results).")
@click.option("-o", "--output", type=click.Path(allow_dash=True), default=None,
              metavar="FILE|DIR", help="Write to FILE instead of stdout ('-': stdout; required "
                                       "for parquet). A CSV FILE gets its manifest and digest "
                                       "in FILE.manifest.json beside it. With parquet, a name "
                                       "not ending in .parquet is a new folder: results/ (and "
                                       "ledger/ with --explain) as parts, and manifest.json.")
@force_option
@backend_option
@click.option("--dask", "local_dask", is_flag=True,
              help="Replay the partitions of a Parquet history on a local Dask cluster (one "
                   "worker process per core); needs --backend columnar --format parquet -o DIR.")
@click.option("--scheduler", metavar="tcp://HOST:PORT", default=None,
              help="Replay on an existing Dask cluster instead (its workers must reach the "
                   "history and DIR at the same paths).")
@click.option("--partition-size", type=click.IntRange(1, 10_000_000),
              default=PARQUET_PARTITION,
              show_default=True, help="Subjects per partition of a Parquet history.")
@click.option("--jobs", type=click.IntRange(1, 256), default=None, metavar="N",
              help="Processes replaying the partitions of a Parquet history at once, without "
                   "Dask. Default: one per core; 1: all in this process.")
@click.option("--subject", "subjects", multiple=True, metavar="ID",
              help="Table: show only this subject; repeat for several. Default: all.")
@width_option
def replay_command(history: str, schemes: Sequence[str], reforms: Sequence[str], fmt: str,
                   explain: bool, output: str | None, force: bool, backend: Backend,
                   local_dask: bool,
                   scheduler: str | None, partition_size: int, jobs: int | None,
                   subjects: Sequence[str]) -> None:
    """Replay a history (YAML, JSONL or Parquet) through schemes, side by side.

    Example:

        creditlab replay fixtures/example.yaml --scheme suining_county --format json
        creditlab replay fixtures/example.yaml --explain --format parquet -o ledger.parquet
        creditlab simulate --people 100000 -o city
        creditlab replay city --backend columnar --format parquet -o results
        creditlab replay city --backend columnar --format parquet -o results --jobs 1
    """
    to_folder = city.check_options(fmt, output, backend, local_dask, scheduler, history)
    vocabulary = shipped_vocabulary()
    chosen = resolve_schemes(tuple(schemes), reforms)
    inputs = [history, *(s.file for s in chosen)]
    if to_folder:
        assert output is not None
        folder = ReplayFolder(output, ledger=explain)
        made = folder.prepare(inputs)  # before the work, not after
        try:
            if backend == "columnar" and city.is_parquet_history(history):
                bar = ProgressBar("replaying")
                try:
                    done, _ = replay_history_to_folder(
                        history, chosen, vocabulary, folder, local_dask=local_dask,
                        scheduler=scheduler, subjects_per_partition=partition_size,
                        jobs=jobs or os.cpu_count() or 1,
                        progress=lambda n, total: bar.update("partitions", n, total))
                finally:
                    bar.close()
            else:
                done = replay_to_folder(replay(load_history(history, vocabulary), chosen,
                                               backend=backend), folder)
        except BaseException:
            folder.abandon(made)
            raise
        console().print(city.summary_line(done, output), soft_wrap=True, markup=False,
                        highlight=False)
        return
    if (fmt in ("json", "jsonl") and not explain and backend == "durable"
            and os.path.splitext(history)[1].lower() == ".jsonl"
            and not os.path.isdir(history)):
        # A JSONL history is replayed a partition of subjects at a time, never held whole
        # (CREDITLAB_SUBJECTS_PER_PARTITION sets the partition's size); the same output.
        from creditlab.engine.inputs.history_stream import (
            DEFAULT_SUBJECTS_PER_PARTITION,
            index_jsonl,
        )
        from creditlab.engine.scoring.streamed import replay_streamed

        from .output import json_text

        size = os.environ.get("CREDITLAB_SUBJECTS_PER_PARTITION", "").strip()
        if size and not (size.isdigit() and int(size) > 0):
            raise click.UsageError("CREDITLAB_SUBJECTS_PER_PARTITION must be a positive "
                                   f"whole number, not {size!r}")
        index = index_jsonl(history, vocabulary)
        check_frame_output(fmt, output, force=force, inputs=inputs)
        shown = ProgressBar() if index.events * len(chosen) > 200_000 else None
        try:
            streamed = replay_streamed(
                index, chosen, progress=shown.update if shown else None,
                subjects_per_partition=int(size) if size else DEFAULT_SUBJECTS_PER_PARTITION)
        finally:
            if shown:
                shown.close()
        with output_file(output, force=force, inputs=inputs) as out:
            outcomes = (o.as_dict() for o in streamed.outcomes())
            if fmt == "jsonl":
                write_jsonl(itertools.chain(
                    [{"record": "manifest", **streamed.manifest}],
                    ({"record": "result", **o} for o in outcomes),
                    [{"record": "digest", "digest": streamed.digest}]), out)
                return
            # write_json's text, written a result at a time: each at its depth in the
            # document, which ends with "results" (keys are sorted).
            head = json_text(streamed.as_dict(results=False), out,
                             indent=2).removesuffix("[]\n}")
            click.echo(head + "[", file=out, nl=False)
            for n, outcome in enumerate(outcomes):
                text = json_text(outcome, out, indent=2).replace("\n", "\n    ")
                click.echo(("," if n else "") + "\n    " + text, file=out, nl=False)
            click.echo("\n  ]\n}" if streamed.rows else "]\n}", file=out)
        return
    loaded = load_history(history, vocabulary)
    check_frame_output(fmt, output, force=force, inputs=inputs)
    progress = ProgressBar() if len(loaded.events) * len(chosen) > 200_000 else None
    try:
        result = replay(loaded, chosen, backend=backend,
                        progress=progress.update if progress else None)
    finally:
        if progress:
            progress.close()
    if fmt in ("csv", "parquet"):
        from creditlab.engine.views import frames

        frame = frames.ledger_frame(result) if explain else frames.results_frame(result)
        write_frame(frame, fmt, output, force=force, inputs=inputs)
        return
    with output_file(output, force=force, inputs=inputs) as out:
        if fmt == "json":
            write_json(replay_document(result, explain=explain), out)
        elif fmt == "jsonl":
            data = replay_document(result, explain=explain)
            write_jsonl([{"record": "manifest", **data["manifest"]},
                         *({"record": "result", **r} for r in data["results"]),
                         *({"record": "ledger", **e} for e in data.get("ledger", [])),
                         {"record": "digest", "digest": data["digest"]}], out)
        else:
            target = console() if is_stdout(output) else console(out)
            print_all(target, replay_tables(result, explain=explain, width=target.width,
                                            subjects=subjects))


for _command in (*analyst.COMMANDS, *auditor.COMMANDS, *educator.COMMANDS,
                 *educator_report.COMMANDS, *reference.COMMANDS, *simulate.COMMANDS,
                 *sweep.COMMANDS, *tester.COMMANDS):
    cli.add_command(_command)


def main(argv: Sequence[str] | None = None) -> None:
    """Entry point of the console script."""
    for stream in (sys.stdout, sys.stderr):
        if hasattr(stream, "reconfigure"):  # PYTHONIOENCODING=ascii: escape, never crash
            stream.reconfigure(errors="backslashreplace")
    _buffered_stdout()
    try:
        code = cli.main(args=list(argv) if argv is not None else None, prog_name="creditlab",
                        standalone_mode=False)
        sys.stdout.flush()
    except BrokenPipeError:
        _silence_stdout()
        code = 1
    except OSError as exc:  # the last flush of stdout failed (a full disk)
        _silence_stdout()
        click.echo(f"Error: {_os_message(exc)}", err=True)
        code = 1
    except click.ClickException as exc:
        exc.show()
        code = exc.exit_code
    except (click.Abort, KeyboardInterrupt):  # Ctrl-C while parsing arguments
        click.echo("interrupted", err=True)
        code = INTERRUPTED
    sys.exit(code if isinstance(code, int) else 0)


if __name__ == "__main__":  # pragma: no cover
    main(sys.argv[1:])
