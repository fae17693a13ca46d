"""One subject over time: the score trajectory in each scheme and the band timeline.

- `trajectory_chart`: one subject's score in every scheme that scores that kind of subject,
  as a step line (a score holds until the next event a rule scores), on each scheme's axis
  (`chart_base.axis_for`): 0 to 100 % of a documented scale, or points from the start on
  a range every person shown shares (`change_range`), so that two people's charts read
  alike. The hover text of each point gives, for each rule that fired,
  `explain.narrate_step` (points given and applied, the score after, the rule's fidelity
  and the words of its source) and the number of its ledger entry;
- `band_timeline_chart`: the band (grade) one subject holds in each scheme over time,
  coloured from the scheme's best band (green) to its worst (red), grey where no band
  applies, with the band's label written on it;
- `subject_charts`: both, for each subject in turn.

Everything is read from a `Replay` through `explain`'s stories (`ReplayIndex`); nothing
re-scores. Positions are floats (plotly draws floats); every number printed in a hover text
is the exact decimal of the ledger.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from creditlab.engine.analysis.explain import (
    Step,
    Story,
    explain_all,
    narrate_ending,
    narrate_start,
    narrate_step,
)
from creditlab.engine.describe import number, signed
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.chart_base import (
    Axis,
    BandStretch,
    Chart,
    ChartProgress,
    axis_for,
    band_strip,
    escaped,
    scheme_label,
    wrapped,
    x_of,
)

__all__ = ["ReplayIndex", "band_timeline_chart", "change_range", "subject_charts",
           "trajectory_chart"]

_PALETTE = qualitative.D3 + qualitative.Set2
_MIN_SPAN = {"share_of_scale": 10.0, "change_from_start": 20.0}
"""The least height of a trajectory panel, in its unit."""
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


class ReplayIndex:
    """A replay looked up by scheme and event, its ledger entries numbered 1.. in order."""

    def __init__(self, result: Replay) -> None:
        self.result = result
        self.schemes = {s.id: s for s in result.schemes}
        self.events = {e.id: e for e in result.history.events}
        self.number: dict[tuple[str, str, str, str], int] = {
            (e.event, e.scheme, e.rule, e.kind): n for n, e in enumerate(result.ledger, start=1)}
        self.colour = {s.id: _PALETTE[i % len(_PALETTE)] for i, s in enumerate(result.schemes)}
        self.dash = {s.id: _DASHES[i % len(_DASHES)] for i, s in enumerate(result.schemes)}
        events = result.history.events
        end = result.history.end
        self.first = events[0].at if events else None
        self.last = None if end is None or not events else max(
            datetime(end.year, end.month, end.day), events[-1].at)

    def entry_number(self, scheme: str, step: Step) -> int:
        """The number of a step's ledger entry (1-based, replay order)."""
        assert step.rule is not None
        return self.number[(step.event, scheme, step.rule, step.kind)]

    def stories(self, subject: str) -> list[Story]:
        return explain_all(self.result, subject)


def _by_event(story: Story) -> list[list[Step]]:
    """The steps of rules that fired, grouped by event (a lapse apart, on its own day), in
    replay order."""
    grouped: list[list[Step]] = []
    for step in story.steps:
        if step.rule is None:
            continue
        last = grouped[-1][-1] if grouped else None
        if last is not None and (last.event, last.kind, last.at) == \
                (step.event, step.kind, step.at):
            grouped[-1].append(step)
        else:
            grouped.append([step])
    return grouped


def _point_hover(index: ReplayIndex, story: Story, steps: list[Step], axis: Axis) -> str:
    scheme = index.schemes[story.scheme]
    last = steps[-1]
    lines = [f"<b>{escaped(scheme_label(scheme))}</b> · event {escaped(last.event)} · "
             f"{escaped(last.type)}",
             f"score {number(steps[0].score_before)} → {number(last.score)} "
             f"({escaped(axis.show(scheme, last.score, story.start))})"]
    for step in steps:
        n = index.entry_number(story.scheme, step)
        lines.append(f"<b>ledger #{n}</b>: " + wrapped(narrate_step(step)))
    return "<br>".join(lines)


def change_range(index: ReplayIndex, subjects: Sequence[str]) -> tuple[float, float]:
    """The points-from-the-start axis that holds every subject given, in every scheme
    without a documented scale: one axis for all of them, so that two people's charts read
    alike."""
    chosen = set(subjects)
    starts = {(o.subject, o.scheme): o.start for o in index.result.results
              if o.subject in chosen}
    moved = [0.0] + [float(o.score - o.start) for o in index.result.results
                     if o.subject in chosen
                     and axis_for(index.schemes[o.scheme]).kind == "change_from_start"]
    moved += [float(e.score_after - starts[(e.subject, e.scheme)]) for e in index.result.ledger
              if (e.subject, e.scheme) in starts
              and axis_for(index.schemes[e.scheme]).kind == "change_from_start"]
    lo, hi = min(moved), max(moved)
    room = max((_MIN_SPAN["change_from_start"] - (hi - lo)) / 2, 0) + (hi - lo) * 0.08
    return lo - room, hi + room


def trajectory_chart(index: ReplayIndex, subject: str,
                     points_range: tuple[float, float] | None = None) -> Chart | None:
    """One subject's score in every scheme that scores them, on the documented axis.

    The share of the scale is drawn from 0 to 100 % for everyone; the points from the
    start on `points_range` (`change_range` of the people shown), or on this subject's own
    range when none is given.
    """
    stories = index.stories(subject)
    if not stories or index.first is None or index.last is None:
        return None
    panels: dict[str, list[Story]] = {}
    for story in stories:
        panels.setdefault(axis_for(index.schemes[story.scheme]).kind, []).append(story)
    kinds = [k for k in ("share_of_scale", "change_from_start") if k in panels]
    titles = {"share_of_scale": "Schemes with a documented scale: share of the scale (%)",
              "change_from_start": "Schemes without documented bounds: points from the start"}
    fig = make_subplots(rows=len(kinds), cols=1, shared_xaxes=True, vertical_spacing=0.12,
                        subplot_titles=[titles[k] for k in kinds])
    for row, kind in enumerate(kinds, start=1):
        placed: list[float] = []
        for story in panels[kind]:
            scheme = index.schemes[story.scheme]
            axis = axis_for(scheme)
            start = story.start
            xs = [x_of(index.first)]
            ys = [axis.position(scheme, start, start)]
            texts = [f"<b>{escaped(scheme.id)}</b>: " + wrapped(narrate_start(story))]
            for steps in _by_event(story):
                xs.append(x_of(steps[-1].at))
                ys.append(axis.position(scheme, steps[-1].score, start))
                texts.append(_point_hover(index, story, steps, axis))
            end = story.ending
            xs.append(x_of(index.last))
            ys.append(axis.position(scheme, end.score, start))
            texts.append(f"<b>{escaped(scheme.id)}</b> "
                         f"({escaped(axis.show(scheme, end.score, start))}): "
                         + wrapped(narrate_ending(end)))
            placed += ys
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines+markers", line_shape="hv",
                name=escaped(f"{scheme_label(scheme)} ({signed(end.score - start)})"),
                legendgroup=scheme.id,
                line={"color": index.colour[scheme.id], "dash": index.dash[scheme.id],
                      "width": 2.5},
                hovertext=texts, hoverinfo="text", hoverlabel={"align": "left"},
            ), row=row, col=1)
        # A flat line would get a range of ±1 from plotly, which reads as precision.
        lo, hi = min(placed), max(placed)
        room = max((_MIN_SPAN[kind] - (hi - lo)) / 2, 0) + (hi - lo) * 0.08
        shown = [lo - room, hi + room]
        if kind == "share_of_scale":
            shown = [-3.0, 103.0]
        elif points_range is not None:
            shown = [min(points_range[0], lo), max(points_range[1], hi)]
        fig.update_yaxes(title_text="% of scale" if kind == "share_of_scale" else "points",
                         range=shown, zeroline=True, row=row, col=1)
    fig.update_layout(height=200 + 220 * len(kinds), margin={"t": 60, "b": 40},
                      hovermode="closest",
                      legend={"title": {"text": "scheme (points moved)"},
                              # Many schemes: a smaller legend, so that it fits beside the
                              # chart, on screen and on a printed half page.
                              "font": {"size": 10 if len(stories) > 12 else 12},
                              "tracegroupgap": 2 if len(stories) > 12 else 10})
    still = [s.scheme for s in stories if not s.fired]
    absent = sorted(set(index.schemes) - {s.scheme for s in stories})
    caption = (
        f"How {subject}'s score moves in each scheme, event by event. The schemes' scales "
        "are not comparable, so each line is placed by an explicit rule: where the "
        "scheme's sources document the lowest and highest score, the line shows the score "
        "as a share of that scale (0 % = the lowest, 100 % = the highest); where they do "
        "not, the line shows how many points the subject has gained or lost since the "
        "start, in a panel of its own. Every person's chart uses the same axes (0 to 100 % "
        "of the scale; the same span of points), so two charts can be set side by side. "
        "A step is an event that a rule of the scheme "
        "scored; the score holds until the next one. Lines that lie on top of each other "
        "are dashed differently; the legend gives each scheme's total change in points. "
        "Point at a step to read the rules that fired, the points they give and apply, and "
        "the words of the source they cite; the ledger at the end of the page lists the "
        "same entries by number.")
    if still:
        caption += (f" No rule of {', '.join(scheme_label(index.schemes[s]) for s in still)} "
                    f"scored any of {subject}'s events.")
    if absent:
        caption += (f" Not shown: {', '.join(scheme_label(index.schemes[s]) for s in absent)}, "
                    f"which score another kind of subject than {subject}.")
    return Chart("trajectory", f"{subject}: score trajectories", fig, caption, subject=subject)




def _stretches(index: ReplayIndex, story: Story) -> list[BandStretch]:
    """Stretches of time with one band; a band that ran out shows as 'X → Y by date'."""
    assert index.first is not None and index.last is not None
    band, since = story.start_band, index.first
    why = narrate_start(story)
    out: list[BandStretch] = []

    def close(until: datetime, later: str | None) -> None:
        label = band or "no band"
        if later != band:
            label += f" → {later or 'no band'} by {until.date().isoformat()}"
        out.append(BandStretch(since, until, band, label, why))

    for step in story.steps:
        if step.rule is None or (step.band_before == band and step.band == band):
            continue
        close(step.at, step.band_before)
        band, since = step.band, step.at
        why = f"ledger #{index.entry_number(story.scheme, step)}: " + narrate_step(step)
    close(index.last, story.ending.band)
    if out:
        last = out[-1]
        out[-1] = BandStretch(last.start, last.end, last.band, last.label,
                           f"{last.why} {narrate_ending(story.ending)}")
    return [s for s in out if s.end > s.start]


def band_timeline_chart(index: ReplayIndex, subject: str) -> Chart | None:
    """The band one subject holds in each scheme over time."""
    stories = index.stories(subject)
    if not stories or index.first is None or index.last is None:
        return None
    fig = go.Figure()
    for story in reversed(stories):
        scheme = index.schemes[story.scheme]
        segs = _stretches(index, story)
        fig.add_trace(band_strip(
            scheme, scheme.id, segs, why=wrapped,
            dates=lambda s: f"{escaped(x_of(s.start))} – {escaped(x_of(s.end))}"))
    fig.update_xaxes(type="date")
    fig.update_layout(barmode="overlay", height=140 + 48 * len(stories),
                      margin={"t": 30, "b": 40}, hovermode="closest")
    without = [s.scheme for s in stories
               if all(b.range is None for b in index.schemes[s.scheme].bands)]
    caption = (
        f"The band (grade) {subject} holds in each scheme over time, with its label "
        "written on it. Colour runs from green, the scheme's best band, to red, its worst; "
        "grey means no band applies, because the source gives no score threshold that "
        "holds this score. A band changes when the score crosses a documented threshold "
        "or when a rule reclassifies the subject; 'X → Y by date' means a reclassification "
        "or a list state ran out during that stretch. Point at a stretch for the rule and "
        "source that started it, and, on the last one, what the band means.")
    if without:
        caption += (f" The sources of {', '.join(without)} give no score thresholds for "
                    "their grades: only a reclassification or a starting grade shows one.")
    return Chart("bands", f"{subject}: band timeline", fig, caption, subject=subject)


def subject_charts(result: Replay, subjects: Sequence[str], *,
                   progress: ChartProgress | None = None,
                   index: ReplayIndex | None = None) -> list[Chart]:
    """The trajectory and band timeline of each subject, in the order given."""
    index = index or ReplayIndex(result)
    charts: list[Chart] = []
    for i, sid in enumerate(subjects):
        if progress is not None:
            progress("charts", i, len(subjects))
        charts.extend(c for c in (trajectory_chart(index, sid), band_timeline_chart(index, sid))
                      if c is not None)
    if progress is not None:
        progress("charts", len(subjects), len(subjects))
    return charts
