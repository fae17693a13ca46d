"""Educators' commands (issue 6): explain one person's score, show who earns and who loses."""

from __future__ import annotations

from collections.abc import Sequence

import click
from rich import box
from rich.console import Group
from rich.table import Table
from rich.text import Text

from creditlab.engine import (
    CreditlabError,
    load_history,
    replay,
    resolve_schemes,
    shipped_vocabulary,
)
from creditlab.engine.analysis.asymmetry import Asymmetry, GroupView, SchemeView, asymmetry
from creditlab.engine.analysis.explain import (
    Story,
    explain_all,
    narrate_ending,
    narrate_start,
    narrate_step,
)
from creditlab.engine.describe import number, signed
from creditlab.engine.scoring.replay import Backend

from .completion import complete_scheme
from .output import backend_option, console, format_option, reform_option, write_json
from .width import fits, indented, joined, width_option

__all__ = ["COMMANDS", "asymmetry_command", "explain_command"]


@click.command("explain")
@click.argument("history", type=click.Path())
@click.option("--subject", "subject_id", metavar="ID",
              help="Whose story to tell (needed when the history has several subjects).")
@click.option("--scheme", "schemes", multiple=True, metavar="ID",
              shell_complete=complete_scheme,
              help="A scheme id or file; repeat for several. Default: all shipped schemes, "
                   "told in full where a rule fired.")
@reform_option
@format_option("text", "json", default="text")
@backend_option
@width_option
def explain_command(history: str, subject_id: str | None, schemes: Sequence[str],
                    reforms: Sequence[str], fmt: str, backend: Backend) -> None:
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
        result = replay(loaded, resolve_schemes(tuple(schemes), reforms), backend=backend)
        stories = explain_all(result, subject_id)
    except CreditlabError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        write_json({"subject": subject_id, "history": loaded.name,
                    "manifest": result.manifest,
                    "stories": [s.as_dict() for s in stories]})
        return
    told = [s for s in stories if schemes or s.fired]
    out = console()
    for story in told:
        out.print(_story(story))
    quiet = [s.scheme for s in stories if s not in told]
    if quiet:
        out.print(joined(quiet, out.width, lead=f"No rule fired for {subject_id} in: ")
                  + Text(" (the score stays at each scheme's start)."))


def _story(story: Story) -> Group:
    """One scheme's story: its steps numbered, each wrapped at words under its number."""
    steps = Table.grid(padding=(0, 1, 0, 0))
    steps.add_column(no_wrap=True)
    steps.add_column(overflow="fold")
    steps.add_row(" ", Text(narrate_start(story)))
    for number_, step in enumerate(story.steps, start=1):
        steps.add_row(f" {number_}.", Text(narrate_step(step)))
    steps.add_row(" ", Text(narrate_ending(story.ending)))
    return Group(Text(f"{story.scheme} — {story.scheme_name}"), steps, Text(""))


@click.command("asymmetry")
@click.option("--scheme", "schemes", multiple=True, metavar="ID",
              shell_complete=complete_scheme,
              help="A scheme id or file; repeat for several. Default: all shipped schemes "
                   "(variants excluded).")
@reform_option
@format_option("table", "json")
@width_option
def asymmetry_command(schemes: Sequence[str], reforms: Sequence[str], fmt: str) -> None:
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
        view = asymmetry(resolve_schemes(tuple(schemes), reforms))
    except CreditlabError as exc:
        raise click.ClickException(str(exc)) from None
    if fmt == "json":
        write_json(view.as_dict())
        return
    out = console()
    for scheme in view.schemes:
        table = _scheme_table(scheme, view)
        out.print(table if fits(table, out.width) else _narrow_table(scheme, view))
        for stat in scheme.statistics:
            out.print(indented(f"source: {stat.statement} ({stat.file}, line {stat.line}: "
                               f"“{stat.quote}”)"))
        out.print(Text(""))
    for scheme_id, why in view.skipped.items():
        out.print(indented(f"{scheme_id} ({why}).", "Not shown: "))
    out.print(indented(" | ".join(f"{p.id}: {p.description}" for p in view.plans),
                       "What was replayed: "))
    for note in view.notes:
        out.print(indented(note, "Note: "))


def _scheme_table(scheme: SchemeView, view: Asymmetry) -> Table:
    table = Table(title=_scheme_title(scheme), box=box.SIMPLE_HEAD, title_justify="left")
    for col, right in (("group", False), ("reward rules", True), ("penalty rules", True),
                       ("on offer", True), ("earnable by choice / year", True),
                       ("exposure", True), ("penalties without points", False),
                       ("typical penalty", False), ("climb back", False)):
        table.add_column(col, justify="right" if right else "left")
    for g in scheme.groups:
        v = _group_values(g, view)
        table.add_row(v["group"], v["reward"], v["penalty"], v["offer"], v["earnable"],
                      v["exposure"], v["other"], v["typical"], v["back"])
    return table


def _narrow_table(scheme: SchemeView, view: Asymmetry) -> Table:
    """The rows of `_scheme_table` in five columns, for a narrow terminal: each cell a
    few short lines, wrapped at words."""
    table = Table(title=_scheme_title(scheme), box=box.SIMPLE_HEAD, title_justify="left",
                  pad_edge=False)
    for col in ("group", "rules", "can earn", "can lose", "after a typical penalty"):
        table.add_column(col, overflow="fold")
    for g in scheme.groups:
        v = _group_values(g, view)
        table.add_row(v["group"], f"{v['reward']} reward\n{v['penalty']} penalty",
                      f"{v['offer']} on offer\n{v['earnable']} by choice a year",
                      f"{v['exposure']} exposure\nwithout points: {v['other']}",
                      f"{v['typical']}\nclimb back: {v['back']}")
    return table


def _scheme_title(scheme: SchemeView) -> str:
    documented = f" of {scheme.rules_documented} in the source" \
        if scheme.rules_documented else ""
    return f"{scheme.scheme}: {scheme.rules_encoded} rules encoded{documented}"


def _group_values(g: GroupView, view: Asymmetry) -> dict[str, str]:
    """One group's figures in a scheme, as the asymmetry tables write them."""
    labels = {group.id: group.label for group in view.groups}
    climb = g.climb
    return {
        "group": labels.get(g.group, g.group),
        "reward": f"{g.reward_rules}" + (f" (+{g.reward_only_group} own)"
                                         if g.reward_only_group else ""),
        "penalty": f"{g.penalty_rules}" + (f" (+{g.penalty_only_group} own)"
                                           if g.penalty_only_group else ""),
        "offer": signed(g.on_offer),
        "earnable": f"{signed(g.earnable)} ({g.earnable_plan})",
        "exposure": f"-{number(g.exposure)}" + (f" (+{g.unbounded} unbounded)"
                                                if g.unbounded else ""),
        "other": ", ".join(f"{n} {k}" for k, n in g.exposure_other.items() if n) or "–",
        "typical": f"{climb.penalty_rule} (-{number(climb.penalty_points)})"
        if climb.penalty_rule and climb.penalty_points is not None else "–",
        "back": f"{climb.days} days" if climb.status == "climbed" else climb.status,
    }


COMMANDS: list[click.Command] = [explain_command, asymmetry_command]
