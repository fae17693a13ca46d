"""Analysts' commands: diff, matrix, exchange, compare.

Thin: parse, call the engine (`creditlab.engine.analysis.compare`, `.matrix`, `.exchange`,
`.frames`), render. Every command prints a table for people, `--format json` for
scripts, and `--format csv|parquet` for notebooks (Parquet needs `-o FILE`). CSV is
plain; with `-o FILE` the run's manifest and digest go to `FILE.manifest.json` beside it,
and Parquet keeps them in its metadata (see `creditlab.engine.views.frames`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date
from typing import Any

import click

from creditlab.engine import load_history, replay, resolve_schemes, shipped_vocabulary
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.replay import Backend, Replay

from .completion import complete_event_type, complete_scheme
from .output import (
    backend_option,
    check_frame_output,
    console,
    force_option,
    json_text,
    output_file,
    reform_option,
    write_frame,
)
from .width import width_option

__all__ = ["COMMANDS"]

_FORMATS = ("table", "json", "csv", "parquet")


def _output_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = width_option(force_option(func))
    func = click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
                        default=None, metavar="FILE",
                        help="Write to FILE instead of stdout ('-': stdout; required for "
                             "parquet). An existing FILE is replaced only with --force.")(func)
    return click.option("--format", "fmt", type=click.Choice(_FORMATS), default="table",
                        show_default=True,
                        help="table for people, json for scripts, csv or parquet for "
                             "notebooks (the manifest and digest in FILE.manifest.json "
                             "beside a CSV FILE, in a Parquet file's metadata).")(func)


def _schemes_option(func: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--scheme", "schemes", multiple=True, metavar="ID",
              shell_complete=complete_scheme,
                        help="A scheme id or scheme file; repeat for several. "
                             "Default: all shipped (variants excluded).")(reform_option(func))


def _persona_options(func: Callable[..., Any]) -> Callable[..., Any]:
    func = click.option("--on", "on", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
                        help="The day the behaviour happens (default 2020-06-01).")(func)
    func = click.option("--residence", type=click.Choice(["urban", "rural"]), default=None,
                        help="The person's residence (default: not given).")(func)
    return click.option("--as", "roles", multiple=True, metavar="ROLE",
                        help="A role of the person (teacher, civil_servant, ...); repeat.")(func)


def _replayed(history: str, chosen: Sequence[Scheme], backend: Backend) -> Replay:
    return replay(load_history(history, shipped_vocabulary()), list(chosen), backend=backend)


def _inputs(history: str | None, chosen: Sequence[Scheme]) -> list[str]:
    """The files a command reads, which its output may never replace."""
    return [*([history] if history else []), *(s.file for s in chosen)]


def _emit(fmt: str, output: str | None, force: bool, inputs: Sequence[str],
          data: Callable[[], dict[str, Any]], frame: Callable[[], Any],
          tables: Callable[[], list[Any]]) -> None:
    """Write the result in the chosen format, to stdout or `output` (written safely: see
    `output_file`)."""
    if fmt in ("csv", "parquet"):
        write_frame(frame(), fmt, output, force=force, inputs=inputs)
        return
    with output_file(output, force=force, inputs=inputs) as out:
        if fmt == "json":
            out.write(json_text(data(), out, indent=2) + "\n")
        else:
            target = console() if output is None or output == "-" else console(out)
            for item in tables():
                target.print(item)


def _check(fmt: str, output: str | None, force: bool, inputs: Sequence[str]) -> None:
    """Fail before the work when the output cannot be written."""
    check_frame_output(fmt, output, force=force, inputs=inputs)


def _day(value: Any) -> date | None:
    return value.date() if value is not None else None


@click.command("diff")
@click.argument("history", type=click.Path())
@_schemes_option
@click.option("--all-events", is_flag=True, help="List every event, not only where the "
                                                 "schemes disagree.")
@click.option("--table", "table", type=click.Choice(["events", "subjects"]), default="events",
              show_default=True, help="Which rows csv and parquet export.")
@_output_options
@backend_option
def diff_command(history: str, schemes: Sequence[str], reforms: Sequence[str], all_events: bool,
                 table: str, fmt: str, output: str | None, force: bool,
                 backend: Backend) -> None:
    """Where schemes part ways on one history: per subject, per event, rule by rule.

    Per subject: start, final score, band, and the score as a share of each scheme's
    scale, side by side. Per event: what each scheme did with it (points, rules,
    citations, or not scored), most divergent first. N schemes, not only two.

    Example:

        creditlab diff fixtures/example.yaml --scheme meritown_2019 --scheme fuzhou_yuming
    """
    from creditlab.engine.analysis.compare import diff
    from creditlab.engine.views import frames

    from .analyst_render import diff_tables

    chosen = resolve_schemes(tuple(schemes), reforms)
    inputs = _inputs(history, chosen)
    _check(fmt, output, force, inputs)
    result = diff(_replayed(history, chosen, backend), all_events=all_events)
    _emit(fmt, output, force, inputs, result.as_dict,
          lambda: (frames.diff_events_frame(result) if table == "events"
                   else frames.diff_subjects_frame(result)),
          lambda: diff_tables(result))


@click.command("matrix")
@click.option("--behaviour", "codes", multiple=True, metavar="CODE",
              shell_complete=complete_event_type,
              help="A behaviour code; repeat. Default: every code a chosen scheme scores.")
@_schemes_option
@_persona_options
@click.option("--attr", "attrs", multiple=True, metavar="NAME=VALUE",
              help="Set an attribute on every behaviour that has it (hours=300); repeat.")
@_output_options
@backend_option
def matrix_command(codes: Sequence[str], schemes: Sequence[str], reforms: Sequence[str],
                   roles: Sequence[str],
                   residence: str | None, on: Any, attrs: Sequence[str], fmt: str,
                   output: str | None, force: bool, backend: Backend) -> None:
    """The same behaviour scored differently: one row per behaviour, one column per scheme.

    Each cell is what one occurrence does for that kind of person, read from a replay:
    points, points as a percentage of the scheme's scale, band steps from the start, or
    the non-point effect (reset, reclassified, blacklisted), or not scored.

    Example:

        creditlab matrix --behaviour family.abuse --scheme meritown_2019 --scheme fuzhou_yuming
    """
    from creditlab.engine.analysis.matrix import (
        REFERENCE_DAY,
        Persona,
        behaviour_matrix,
        parse_attrs,
    )
    from creditlab.engine.views import frames

    from .analyst_render import matrix_tables

    chosen = resolve_schemes(tuple(schemes), reforms)
    inputs = _inputs(None, chosen)
    _check(fmt, output, force, inputs)
    result = behaviour_matrix(
        chosen, shipped_vocabulary(), codes=tuple(codes),
        attrs=parse_attrs(attrs), persona=Persona(tuple(roles), residence),
        on=_day(on) or REFERENCE_DAY, backend=backend)
    _emit(fmt, output, force, inputs, result.as_dict, lambda: frames.matrix_frame(result),
          lambda: matrix_tables(result))


@click.command("exchange")
@click.argument("offence", shell_complete=complete_event_type)
@click.option("--with", "good", required=True, metavar="GOOD",
              shell_complete=complete_event_type,
              help="The good act's behaviour code (volunteer.service, donation.blood, ...).")
@click.option("--attr", "attrs", multiple=True, metavar="NAME=VALUE",
              help="Fix an attribute of the good act (hours=300); repeat.")
@click.option("--offence-attr", "offence_attrs", multiple=True, metavar="NAME=VALUE",
              help="Fix an attribute of the offence (severity=severe); repeat.")
@_schemes_option
@_persona_options
@_output_options
def exchange_command(offence: str, good: str, attrs: Sequence[str],
                     offence_attrs: Sequence[str], schemes: Sequence[str],
                     reforms: Sequence[str],
                     roles: Sequence[str], residence: str | None, on: Any, fmt: str,
                     output: str | None, force: bool) -> None:
    """How much of a good act offsets one offence, scheme by scheme.

    Replays the offence and then good acts, as early as each scheme's limits allow, until
    the score is back where it started: acts needed, total quantity, days, or why it
    cannot be offset (a reset, a reclassification with no end, a cap).

    Example:

        creditlab exchange family.abuse --with volunteer.service --scheme meritown_2019
    """
    from creditlab.engine.analysis.exchange import exchange
    from creditlab.engine.analysis.matrix import REFERENCE_DAY, Persona, parse_attrs
    from creditlab.engine.views import frames

    from .analyst_render import exchange_tables

    chosen = resolve_schemes(tuple(schemes), reforms)
    inputs = _inputs(None, chosen)
    _check(fmt, output, force, inputs)
    result = exchange(offence, good, chosen, shipped_vocabulary(),
                      offence_attrs=parse_attrs(offence_attrs), good_attrs=parse_attrs(attrs),
                      persona=Persona(tuple(roles), residence), on=_day(on) or REFERENCE_DAY)
    _emit(fmt, output, force, inputs, result.as_dict, lambda: frames.exchange_frame(result),
          lambda: exchange_tables(result))


@click.command("compare")
@click.argument("history", type=click.Path())
@_schemes_option
@click.option("--table", "table", type=click.Choice(["bands", "agreement", "flips", "extremes"]),
              default="bands", show_default=True, help="Which rows csv and parquet export.")
@_output_options
@backend_option
def compare_command(history: str, schemes: Sequence[str], reforms: Sequence[str], table: str,
                    fmt: str, output: str | None, force: bool, backend: Backend) -> None:
    """How schemes sort a population: bands, rank agreement (Kendall's tau), band flips.

    Example:

        creditlab compare fixtures/population.jsonl --scheme meritown_2019 --scheme suining_county
    """
    from creditlab.engine.analysis.compare import compare_population
    from creditlab.engine.views import frames

    from .analyst_render import compare_tables

    chosen = resolve_schemes(tuple(schemes), reforms)
    inputs = _inputs(history, chosen)
    _check(fmt, output, force, inputs)
    result = compare_population(_replayed(history, chosen, backend))
    _emit(fmt, output, force, inputs, result.as_dict, lambda: frames.compare_frames(result)[table],
          lambda: compare_tables(result))


COMMANDS: list[click.Command] = [diff_command, matrix_command, exchange_command,
                                 compare_command]
