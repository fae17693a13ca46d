"""Educators' report command (issue 6): one self-contained HTML page of charts and the ledger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import click

from creditlab.engine import load_history, replay, resolve_schemes, shipped_vocabulary
from creditlab.engine.analysis.asymmetry import asymmetry as asymmetry_of
from creditlab.engine.scoring.replay import Backend
from creditlab.engine.views.heat_map import history_matrix
from creditlab.engine.views.report import POPULATION_FROM, build_report

from .completion import complete_scheme
from .output import (
    ProgressBar,
    backend_option,
    check_output,
    force_option,
    output_file,
    reform_option,
)

__all__ = ["COMMANDS", "report"]

LONG_REPLAY = 200_000
"""events x schemes above which a progress bar shows on stderr (as for `replay`)."""


@click.command("report")
@click.argument("history", type=click.Path())
@click.option("--scheme", "schemes", multiple=True, metavar="ID",
              shell_complete=complete_scheme,
              help="A scheme id or a scheme file; repeat for several. Default: all shipped.")
@reform_option
@click.option("--subject", "subjects", multiple=True, metavar="ID",
              help="A subject to chart; repeat for several. Default: the first 12 by id.")
@click.option("--heat-map/--no-heat-map", default=True, show_default=True,
              help="Add the behaviour x scheme heat map of the history's behaviours.")
@click.option("--asymmetry/--no-asymmetry", default=True, show_default=True,
              help="Add the asymmetry bars: what each group can earn and lose per scheme.")
@click.option("--population/--no-population", default=None,
              help="Add the Population section (band shares and score spreads by group). "
                   f"Default: for a history of more than {POPULATION_FROM} people.")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, allow_dash=True),
              metavar="FILE",
              help="The HTML file to write ('-' for stdout). An existing FILE is replaced "
                   "only with --force.")
@force_option
@backend_option
def report(history: str, schemes: Sequence[str], reforms: Sequence[str],
           subjects: Sequence[str], heat_map: bool,
           asymmetry: bool, population: bool | None, output: str, force: bool,
           backend: Backend) -> None:
    """Write one self-contained HTML report of a history: charts, captions, the ledger.

    A contents list; per scheme, the people side by side on the scheme's own scale with
    their bands; per person, every scheme on shared axes; the heat map of the history's own
    behaviours; the asymmetry bars; for a large history, the Population section; and the
    ledger with every rule's source quote. It prints one part per page. The file needs no
    network: open it in any browser, offline.

    Example:

        creditlab report fixtures/example.yaml -o report.html

        creditlab report fixtures/personas/rural_farmer.yaml --scheme fuzhou_yuming -o lu.html
    """
    vocabulary = shipped_vocabulary()
    chosen = resolve_schemes(tuple(schemes), reforms)
    inputs = [history, *(s.file for s in chosen)]
    check_output(output, force=force, inputs=inputs)  # before the work, not after
    loaded = load_history(history, vocabulary)
    bar: Any = ProgressBar() if len(loaded.events) * len(chosen) > LONG_REPLAY else None
    try:
        result = replay(loaded, chosen, backend=backend,
                        progress=bar.update if bar else None)
        matrix = history_matrix(result, vocabulary, backend=backend) if heat_map else None
        groups = None
        if asymmetry and any(s.subject_kind == "person" for s in result.schemes):
            groups = asymmetry_of(result.schemes, vocabulary=vocabulary)
        page = build_report(result, subjects=subjects, matrix=matrix, asymmetry=groups,
                            population=population, progress=bar.update if bar else None)
    finally:
        if bar:
            bar.close()
    with output_file(output, force=force, inputs=inputs) as out:
        out.write(page)
    if output == "-":
        return
    click.echo(f"Wrote {output} ({len(page.encode('utf-8')) // 1024} KB): open it in a "
               "browser; it works offline.", err=True)


COMMANDS: list[click.Command] = [report]
