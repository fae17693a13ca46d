"""Educators' commands (issue 6): explain one person's score, show who earns and who loses."""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich import box
from rich.table import Table
from rich.text import Text

from creditlab.engine import (
    CreditlabError,
    load_history,
    replay,
    resolve_schemes,
    shipped_vocabulary,
)
from creditlab.engine.analysis.asymmetry import Asymmetry, SchemeView, asymmetry
from creditlab.engine.analysis.explain import (
    Story,
    explain_all,
    narrate_ending,
    narrate_start,
    narrate_step,
)
from creditlab.engine.describe import number, signed
from creditlab.engine.scoring.replay import Backend

from .output import backend_option, console, format_option, write_json

__all__ = ["COMMANDS", "asymmetry_command", "explain_command"]


@click.command("explain")
@click.argument("history", type=click.Path(dir_okay=False))
@click.option("--subject", "subject_id", metavar="ID",
              help="Whose story to tell (needed when the history has several subjects).")
@click.option("--scheme", "schemes", multiple=True, metavar="ID",
              help="A scheme id or file; repeat for several. Default: all shipped schemes, "
                   "told in full where a rule fired.")
@format_option("text", "json", default="text")
@backend_option
def explain_command(history: str, subject_id: str | None, schemes: Sequence[str],
                    fmt: str, backend: Backend) -> None:
    """Tell one person's score event by event, citing each rule's source.

    Each step names the event, the rule that fired, the points it gives and applies, the
    score and band after, and the source's own words; the story ends with the band and
    what it means where the source says so.

    Example:

        creditlab explain fixtures/scenarios/meritown_covid_rules.yaml --scheme meritown_2019
    """
    try:
        loaded = load_history(history, shipped_vocabulary())
        if subject_id is None:
            if len(loaded.subjects) != 1:
                raise click.UsageError(f"--subject is needed: the history has "
                                       f"{len(loaded.subjects)} subjects: "
                                       f"{', '.join(sorted(loaded.subjects))}")
            subject_id = next(iter(loaded.subjects))
        result = replay(loaded, resolve_schemes(tuple(schemes)), backend=backend)
        stories = explain_all(result, subject_id)
    except CreditlabError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        write_json({"subject": subject_id, "history": loaded.name,
                    "manifest": result.manifest,
                    "stories": [s.as_dict() for s in stories]})
        return
    told = [s for s in stories if schemes or s.fired]
    for story in told:
        _tell(story)
    quiet = [s.scheme for s in stories if s not in told]
    if quiet:
        click.echo(f"No rule fired for {subject_id} in: {', '.join(quiet)} "
                   "(the score stays at each scheme's start).")


def _tell(story: Story) -> None:
    click.echo(f"{story.scheme} — {story.scheme_name}")
    click.echo(f"  {narrate_start(story)}")
    for number_, step in enumerate(story.steps, start=1):
        click.echo(f"  {number_}. {narrate_step(step)}")
    click.echo(f"  {narrate_ending(story.ending)}")
    click.echo("")


@click.command("asymmetry")
@click.option("--scheme", "schemes", multiple=True, metavar="ID",
              help="A scheme id or file; repeat for several. Default: all shipped schemes "
                   "(variants excluded).")
@format_option("table", "json")
def asymmetry_command(schemes: Sequence[str], fmt: str) -> None:
    """Show, per scheme and group, who can earn points and who only loses them.

    For everyone, rural and urban residents, civil servants, teachers and business owners:
    the reward and penalty rules that apply, the points on offer, the points a year of
    chosen good acts earns (replayed), the points the penalties can take, and how long it
    takes to win back the band lost to a typical penalty; beside them, the sources' own
    statistics, quoted. The encoded rules are a subset of each scheme, never the whole.

    Example:

        creditlab asymmetry --scheme meritown_2019 --scheme fuzhou_yuming
    """
    try:
        view = asymmetry(resolve_schemes(tuple(schemes)))
    except CreditlabError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        write_json(view.as_dict())
        return
    out = console()
    for scheme in view.schemes:
        out.print(_scheme_table(scheme, view))
        for stat in scheme.statistics:
            out.print(Text(f"  source: {stat.statement} ({stat.file}, line {stat.line}: "
                           f"“{stat.quote}”)"))
        out.print(Text(""))
    for scheme_id, why in view.skipped.items():
        out.print(Text(f"Not shown: {scheme_id} ({why})."))
    out.print(Text("What was replayed: " + " | ".join(f"{p.id}: {p.description}"
                                                      for p in view.plans)))
    for note in view.notes:
        out.print(Text(f"Note: {note}"))


def _scheme_table(scheme: SchemeView, view: Asymmetry) -> Table:
    documented = f" of {scheme.rules_documented} in the source" \
        if scheme.rules_documented else ""
    table = Table(title=f"{scheme.scheme}: {scheme.rules_encoded} rules encoded{documented}",
                  box=box.SIMPLE_HEAD, title_justify="left")
    for col, right in (("group", False), ("reward rules", True), ("penalty rules", True),
                       ("on offer", True), ("earnable by choice / year", True),
                       ("exposure", True), ("penalties without points", False),
                       ("typical penalty", False), ("climb back", False)):
        table.add_column(col, justify="right" if right else "left")
    labels = {g.id: g.label for g in view.groups}
    for g in scheme.groups:
        other = ", ".join(f"{n} {k}" for k, n in g.exposure_other.items() if n) or "–"
        climb = g.climb
        typical = f"{climb.penalty_rule} (-{number(climb.penalty_points)})" \
            if climb.penalty_rule and climb.penalty_points is not None else "–"
        back = f"{climb.days} days" if climb.status == "climbed" else climb.status
        exposure = f"-{number(g.exposure)}" + (f" (+{g.unbounded} unbounded)"
                                               if g.unbounded else "")
        table.add_row(
            labels.get(g.group, g.group),
            f"{g.reward_rules}" + (f" (+{g.reward_only_group} own)" if g.reward_only_group
                                   else ""),
            f"{g.penalty_rules}" + (f" (+{g.penalty_only_group} own)" if g.penalty_only_group
                                    else ""),
            signed(g.on_offer), f"{signed(g.earnable)} ({g.earnable_plan})", exposure, other,
            typical, back)
    return table


COMMANDS: list[click.Command] = [explain_command, asymmetry_command]
