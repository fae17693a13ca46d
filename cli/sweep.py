"""`creditlab sweep`: one parameter of a scheme moved through values, and how outcomes move.

Thin: parse the setting, call the engine (`creditlab.engine.analysis.sweep`), render
(`creditlab.engine.views.sweep_chart` for the frame and the HTML page; rich tables here).
"""

from __future__ import annotations

from collections.abc import Sequence
from fractions import Fraction

import click
from rich import box
from rich.table import Table
from rich.text import Text

from creditlab.engine import InputError, load_history, resolve_schemes, shipped_vocabulary
from creditlab.engine.analysis.sweep import (
    MAX_VALUES,
    Sweep,
    parse_setting,
    sweep_city,
    sweep_history,
)
from creditlab.engine.canonical import number
from creditlab.engine.inputs.history_parquet import (
    DEFAULT_SUBJECTS_PER_PARTITION as PARQUET_PARTITION,
)
from creditlab.engine.scoring.replay import Backend

from .city import is_parquet_history
from .completion import complete_scheme
from .output import (
    ProgressBar,
    backend_option,
    check_frame_output,
    check_output,
    console,
    force_option,
    is_stdout,
    output_file,
    write_frame,
    write_json,
)
from .width import width_option

__all__ = ["COMMANDS", "sweep_tables"]

_FORMATS = ("table", "json", "csv", "parquet")


def _percent(value: Fraction | None) -> str:
    from creditlab.engine.views.sweep_chart import rounded

    exact = rounded(value * 100 if value is not None else None, 1)
    return "–" if exact is None else f"{number(exact)}%"


def _share(value: Fraction | None) -> str:
    """A share in percent, without the sign (the table's title gives it)."""
    return _percent(value).removesuffix("%")


def _mean(value: Fraction | None) -> str:
    from creditlab.engine.views.sweep_chart import rounded

    exact = rounded(value, 2)
    return "–" if exact is None else number(exact)


def _signed(value: Fraction | None) -> str:
    text = _mean(value)
    return text if text in ("–", "0") or text.startswith("-") else "+" + text


def _band(band: str | None) -> str:
    return "no band" if band is None else band


def sweep_tables(sweep: Sweep) -> list[Table]:
    """Each value's outcome for everyone; then each group at the first and last value."""
    base = sweep.baseline.everyone
    values = Table(title=f"{sweep.scheme.id}: {sweep.setting.target} "
                         f"({sweep.people:,} people)", box=box.SIMPLE_HEAD,
                   show_edge=False, pad_edge=False)
    values.add_column("value", justify="right")
    values.add_column("mean", justify="right")
    values.add_column("change", justify="right")
    values.add_column("band changed", justify="right")
    for band in sweep.bands:
        values.add_column(_band(band), justify="right")
    for row in (sweep.baseline, *sweep.rows):
        here = row.everyone
        change = (None if here.mean_score is None or base.mean_score is None
                  else here.mean_score - base.mean_score)
        values.add_row(
            Text(row.label, style="dim") if row.value is None else row.label,
            _mean(here.mean_score), "" if row.value is None else _signed(change),
            "" if row.value is None else _percent(here.changed_share),
            *(_percent(here.share(b)) for b in sweep.bands))
    first, last = sweep.rows[0], sweep.rows[-1]
    held = [band for band in sweep.bands
            if any(g.share(band) for row in (first, last) for g in row.groups)]
    groups = Table(title=f"Band shares by group (%): at {first.label} → at {last.label}",
                   caption="Bands no group holds at either value are left out.",
                   box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False)
    groups.add_column("group", no_wrap=True)
    groups.add_column("people", justify="right")
    for band in held:
        groups.add_column(_band(band), justify="right")
    for a, b in zip(first.groups[1:], last.groups[1:], strict=True):
        groups.add_row(a.label, f"{a.people:,}",
                       *(f"{_share(a.share(band))}→{_share(b.share(band))}" for band in held))
    return [values, groups] if first.groups[1:] else [values]


@click.command("sweep")
@click.argument("history", type=click.Path())
@click.option("--scheme", "scheme_id", required=True, metavar="ID",
              shell_complete=complete_scheme,
              help="The scheme whose parameter moves: an id or a scheme file.")
@click.option("--set", "setting", required=True, metavar="RULE.FIELD=START:STOP:STEP",
              help="What moves and through which values: START:STOP:STEP (STOP included "
                   "when a step lands on it) or a list v1,v2,v3. RULE.FIELD is a rule's "
                   "field (sn_p_red_light.points) or the scheme's (scale.start, "
                   f"bands.B.min). At most {MAX_VALUES} values.")
@click.option("--format", "fmt", type=click.Choice(_FORMATS), default="table",
              show_default=True,
              help="table for people, json for scripts, csv or parquet for notebooks (one "
                   "row per value and group; the manifest and digest in FILE.manifest.json "
                   "beside a CSV FILE, in a Parquet file's metadata).")
@click.option("-o", "--output", type=click.Path(dir_okay=False, allow_dash=True),
              default=None, metavar="FILE",
              help="Write to FILE instead of stdout ('-': stdout; required for parquet).")
@click.option("--report", type=click.Path(dir_okay=False), default=None, metavar="FILE.html",
              help="Also write the sweep as a self-contained HTML page with its chart.")
@force_option
@backend_option
@click.option("--partition-size", type=click.IntRange(1, 10_000_000),
              default=PARQUET_PARTITION,
              show_default=True,
              help="Subjects per partition of a Parquet history (replayed by the columnar "
                   "backend, one partition at a time).")
@width_option
def sweep_command(history: str, scheme_id: str, setting: str, fmt: str, output: str | None,
                  report: str | None, force: bool, backend: Backend,
                  partition_size: int) -> None:
    """Replay a history for each value of one parameter, and see how outcomes move.

    For each value (and once with the scheme as written): the mean score, the share of
    people in each band, overall and by group (residence, hukou, age band, role), and the
    share whose band is not the one they hold under the scheme as written. A Parquet
    history (a city) is replayed by the columnar backend, one partition at a time.
    Progress goes to stderr.

    Example:

        creditlab simulate --people 2000 --seed 1 -o city
        creditlab sweep city --scheme suining_county --set sn_p_red_light.points=-50:-10:10
        creditlab sweep city --scheme fuzhou_yuming --set scale.start=400:600:50 --report sweep.html
    """
    from creditlab.engine.views.sweep_chart import sweep_frame, sweep_page

    try:
        parsed = parse_setting(setting)
    except InputError as exc:
        raise click.BadParameter(f"[{exc.field}] {exc.reason}", param_hint="'--set'") from None
    chosen = resolve_schemes((scheme_id,))
    scheme = chosen[0]
    inputs: Sequence[str] = [history, scheme.file]
    if fmt in ("csv", "parquet"):
        check_frame_output(fmt, output, force=force, inputs=inputs)
    else:
        check_output(output, force=force, inputs=inputs)
    if report is not None:
        if report == "-":
            raise click.UsageError("--report writes a file: give its name (FILE.html)")
        check_output(report, force=force, inputs=[*inputs, *([output] if output else [])])
    vocabulary = shipped_vocabulary()
    bar = ProgressBar("sweeping")
    try:
        if is_parquet_history(history):
            result = sweep_city(history, scheme, parsed, vocabulary=vocabulary,
                                subjects_per_partition=partition_size, progress=bar.update)
        else:
            result = sweep_history(load_history(history, vocabulary), scheme, parsed,
                                   vocabulary=vocabulary, backend=backend,
                                   progress=bar.update)
    finally:
        bar.close()
    if report is not None:
        with output_file(report, force=force, inputs=inputs) as page:
            page.write(sweep_page(result))
    if fmt in ("csv", "parquet"):
        write_frame(sweep_frame(result), fmt, output, force=force, inputs=inputs)
        return
    with output_file(output, force=force, inputs=inputs) as out:
        if fmt == "json":
            write_json(result.as_dict(), out)
        else:
            target = console() if is_stdout(output) else console(out)
            for item in sweep_tables(result):
                target.print(item)


COMMANDS: list[click.Command] = [sweep_command]
