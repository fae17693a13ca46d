"""The report's charts: plotly figures of a replay, each with a caption a student can read.

Each function returns a `Chart` (a figure, a title, a caption); `report` puts them on a page.
Everything is read from a `Replay` (through `explain`'s stories) or a `Matrix`; nothing
re-scores.

- `trajectory_chart`: one subject's score in every scheme that scores that kind of subject,
  as a step line (a score holds until the next event a rule scores). Scales do not convert
  into one another, so the axis is an explicit choice per scheme (`axis_for`), never a
  silent conversion: a scheme whose sources document both ends of its scale is drawn as a
  share of that scale (`normalise.share_of_scale`, in percent: 0 % at the minimum, 100 %
  at the maximum); a scheme whose sources give no bounds is drawn, in a panel of its own,
  as the change in points from where the subject started. The hover text of each point
  gives, for each rule that fired, `explain.narrate_step` (points given and applied, the
  score after, the rule's fidelity and the words of its source) and the number of its
  ledger entry;
- `band_timeline_chart`: the band (grade) one subject holds in each scheme over time,
  coloured from the scheme's best band (green) to its worst (red), grey where no band
  applies, with the band's label written on it;
- `asymmetry_chart`: per person scheme, for each group of people (`asymmetry.GROUPS`), what
  a year of chosen good acts earns (replayed) against the most one occurrence of each
  applicable penalty takes, in the scheme's own points (one panel per scheme: no
  conversion between schemes);
- `heat_map_chart`: the behaviour x scheme matrix (`matrix.behaviour_matrix`), coloured by
  the points as a share of the scale's span where the scale is documented, and by raw
  points, in a panel of its own, where it is not.

All text from schemes and histories is escaped (`html.escape`) before it enters a figure.
Positions are floats (plotly draws floats); every number printed in a hover text is the
exact decimal of the ledger.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import plotly.graph_objects as go
from plotly.colors import qualitative, sample_colorscale
from plotly.subplots import make_subplots

from creditlab.engine.analysis.asymmetry import Asymmetry, GroupView
from creditlab.engine.analysis.explain import (
    Step,
    Story,
    explain_all,
    narrate_ending,
    narrate_start,
    narrate_step,
)
from creditlab.engine.analysis.matrix import Behaviour, Cell, Matrix
from creditlab.engine.analysis.normalise import share_of_scale
from creditlab.engine.describe import describe_source, number, signed
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.replay import Replay

__all__ = [
    "Axis",
    "Chart",
    "ChartProgress",
    "ReplayIndex",
    "asymmetry_chart",
    "axis_for",
    "band_timeline_chart",
    "heat_map_chart",
    "subject_charts",
    "trajectory_chart",
]

ChartProgress = Callable[[str, int, int], None]
"""Called as progress(step, done, total) while charts are built."""

_NO_BAND = "#c8c8c8"
_PALETTE = qualitative.D3 + qualitative.Set2
_MIN_SPAN = {"share_of_scale": 10.0, "change_from_start": 20.0}
"""The least height of a trajectory panel, in its unit."""
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash")


# --- the axis -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Axis:
    """Where one scheme's scores are drawn on the trajectory chart: an explicit choice."""

    kind: Literal["share_of_scale", "change_from_start"]
    title: str
    reason: str

    def position(self, scheme: Scheme, score: Decimal, start: Decimal) -> float:
        if self.kind == "share_of_scale":
            share = share_of_scale(scheme, score).value
            assert share is not None
            return float(share * 100)
        return float(score - start)

    def show(self, scheme: Scheme, score: Decimal, start: Decimal) -> str:
        """The position in words, from the exact numbers."""
        if self.kind == "share_of_scale":
            share = share_of_scale(scheme, score).value
            assert share is not None
            return f"{number(share * 100)} % of the scale {self.reason}"
        return f"{signed(score - start)} points from the start ({number(start)})"


def axis_for(scheme: Scheme) -> Axis:
    """Share of the scale when the sources give its minimum and maximum, else points moved."""
    share = share_of_scale(scheme, scheme.scale.start)
    if share.value is not None:
        lo, hi = scheme.scale.min, scheme.scale.max
        assert lo is not None and hi is not None
        return Axis("share_of_scale", "share of the scheme's scale (%)",
                    f"{number(lo)}–{number(hi)}")
    return Axis("change_from_start", "change from the start (points)", share.reason or "")


# --- charts ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class Chart:
    """One figure of the page and the caption printed under it."""

    key: str
    title: str
    figure: go.Figure
    caption: str


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _x(moment: datetime | date) -> str:
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.isoformat()


def _wrap(text: str, width: int = 90) -> str:
    """Escaped text with <br> every `width` characters or so, for hover boxes."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(_esc(x) for x in lines)


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
    lines = [f"<b>{_esc(story.scheme)}</b> · event {_esc(last.event)} · {_esc(last.type)}",
             f"score {number(steps[0].score_before)} → {number(last.score)} "
             f"({_esc(axis.show(scheme, last.score, story.start))})"]
    for step in steps:
        n = index.entry_number(story.scheme, step)
        lines.append(f"<b>ledger #{n}</b>: " + _wrap(narrate_step(step)))
    return "<br>".join(lines)


def trajectory_chart(index: ReplayIndex, subject: str) -> Chart | None:
    """One subject's score in every scheme that scores them, on the documented axis."""
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
            xs = [_x(index.first)]
            ys = [axis.position(scheme, start, start)]
            texts = [f"<b>{_esc(scheme.id)}</b>: " + _wrap(narrate_start(story))]
            for steps in _by_event(story):
                xs.append(_x(steps[-1].at))
                ys.append(axis.position(scheme, steps[-1].score, start))
                texts.append(_point_hover(index, story, steps, axis))
            end = story.ending
            xs.append(_x(index.last))
            ys.append(axis.position(scheme, end.score, start))
            texts.append(f"<b>{_esc(scheme.id)}</b> "
                         f"({_esc(axis.show(scheme, end.score, start))}): "
                         + _wrap(narrate_ending(end)))
            placed += ys
            fig.add_trace(go.Scatter(
                x=xs, y=ys, mode="lines+markers", line_shape="hv",
                name=_esc(f"{scheme.id} ({signed(end.score - start)})"),
                legendgroup=scheme.id,
                line={"color": index.colour[scheme.id], "dash": index.dash[scheme.id],
                      "width": 2.5},
                hovertext=texts, hoverinfo="text", hoverlabel={"align": "left"},
            ), row=row, col=1)
        # A flat line would get a range of ±1 from plotly, which reads as precision.
        lo, hi = min(placed), max(placed)
        room = max((_MIN_SPAN[kind] - (hi - lo)) / 2, 0) + (hi - lo) * 0.08
        fig.update_yaxes(title_text="% of scale" if kind == "share_of_scale" else "points",
                         range=[lo - room, hi + room], zeroline=True, row=row, col=1)
    fig.update_layout(height=280 + 240 * len(kinds), margin={"t": 60, "b": 40},
                      hovermode="closest",
                      legend={"title": {"text": "scheme (points moved)"}})
    still = [s.scheme for s in stories if not s.fired]
    absent = sorted(set(index.schemes) - {s.scheme for s in stories})
    caption = (
        f"How {subject}'s score moves in each scheme, event by event. The schemes' scales "
        "are not comparable, so each line is placed by an explicit rule: where the "
        "scheme's sources document the lowest and highest score, the line shows the score "
        "as a share of that scale (0 % = the lowest, 100 % = the highest); where they do "
        "not, the line shows how many points the subject has gained or lost since the "
        "start, in a panel of its own. A step is an event that a rule of the scheme "
        "scored; the score holds until the next one. Lines that lie on top of each other "
        "are dashed differently; the legend gives each scheme's total change in points. "
        "Point at a step to read the rules that fired, the points they give and apply, and "
        "the words of the source they cite; the ledger at the end of the page lists the "
        "same entries by number.")
    if still:
        caption += f" No rule of {', '.join(still)} scored any of {subject}'s events."
    if absent:
        caption += (f" Not shown: {', '.join(absent)}, which score another kind of subject "
                    f"than {subject}.")
    return Chart(f"trajectory-{subject}", f"{subject}: score trajectories", fig, caption)


def _band_colour(scheme: Scheme, band: str | None) -> str:
    if band is None or scheme.band(band) is None:
        return _NO_BAND
    worst = max(len(scheme.bands) - 1, 1)
    return str(sample_colorscale("RdYlGn", [1 - scheme.rank(band) / worst])[0])


@dataclass(frozen=True)
class _Stretch:
    start: datetime
    end: datetime
    band: str | None
    label: str
    why: str


def _stretches(index: ReplayIndex, story: Story) -> list[_Stretch]:
    """Stretches of time with one band; a band that ran out shows as 'X → Y by date'."""
    assert index.first is not None and index.last is not None
    band, since = story.start_band, index.first
    why = narrate_start(story)
    out: list[_Stretch] = []

    def close(until: datetime, later: str | None) -> None:
        label = band or "no band"
        if later != band:
            label += f" → {later or 'no band'} by {until.date().isoformat()}"
        out.append(_Stretch(since, until, band, label, why))

    for step in story.steps:
        if step.rule is None or (step.band_before == band and step.band == band):
            continue
        close(step.at, step.band_before)
        band, since = step.band, step.at
        why = f"ledger #{index.entry_number(story.scheme, step)}: " + narrate_step(step)
    close(index.last, story.ending.band)
    if out:
        last = out[-1]
        out[-1] = _Stretch(last.start, last.end, last.band, last.label,
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
        fig.add_trace(go.Bar(
            orientation="h", y=[_esc(scheme.id)] * len(segs), base=[_x(s.start) for s in segs],
            x=[(s.end - s.start).total_seconds() * 1000 for s in segs],
            marker={"color": [_band_colour(scheme, s.band) for s in segs],
                    "line": {"color": "#ffffff", "width": 1}},
            text=[_esc(s.label) for s in segs], textposition="inside",
            insidetextanchor="middle", showlegend=False,
            hovertext=[f"<b>{_esc(scheme.id)}</b>: {_esc(s.label)}<br>"
                       f"{_esc(_x(s.start))} – {_esc(_x(s.end))}<br>{_wrap(s.why)}"
                       for s in segs],
            hoverinfo="text", hoverlabel={"align": "left"},
        ))
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
    return Chart(f"bands-{subject}", f"{subject}: band timeline", fig, caption)


def _cell_text(cell: Cell) -> str:
    if cell.status == "not scored":
        return "·"
    parts = [] if cell.points is None else [signed(cell.points)]
    if cell.effect:
        parts.append(cell.effect.split(";")[0].split(" until")[0])
    return " ".join(parts) or "no number"


def _cell_hover(behaviour: Behaviour, scheme: Scheme, cell: Cell) -> str:
    lines = [f"<b>{_esc(behaviour.label())}</b> in <b>{_esc(scheme.id)}</b>: "
             f"{_esc(cell.status)}"]
    if cell.points is not None:
        pct = f"{number(cell.pct_of_scale)} % of the scale's span" \
            if cell.pct_of_scale is not None else _esc(cell.pct_reason or "")
        given = "" if cell.given is None or cell.given == cell.points \
            else f" (the rules give {signed(cell.given)})"
        lines.append(f"points {signed(cell.points)}{given}; {pct}")
    if cell.band_before != cell.band_after:
        lines.append(_esc(f"band {cell.band_before or 'none'} → {cell.band_after or 'none'}"))
    if cell.effect:
        lines.append(_wrap(cell.effect))
    for rule_id in cell.rules:
        rule = scheme.rule(rule_id)
        if rule is not None:
            lines.append(f"rule <b>{_esc(rule_id)}</b> ({_esc(rule.fidelity)}): "
                         + _wrap(describe_source(rule.source)))
    lines += [_wrap(n) for n in (*cell.notes, *behaviour.notes)]
    return "<br>".join(lines)


def heat_map_chart(matrix: Matrix) -> Chart:
    """The behaviour x scheme matrix: what one occurrence of each behaviour does."""
    schemes = {s.id: s for s in matrix.replay.schemes}
    groups: dict[str, list[str]] = {}
    for sid in matrix.schemes:
        groups.setdefault(axis_for(schemes[sid]).kind, []).append(sid)
    kinds = [k for k in ("share_of_scale", "change_from_start") if k in groups]
    fig = make_subplots(rows=1, cols=len(kinds), shared_yaxes=True, horizontal_spacing=0.02,
                        column_widths=[len(groups[k]) for k in kinds],
                        subplot_titles=["% of the scale's span" if k == "share_of_scale"
                                        else "points (no documented scale)" for k in kinds])
    labels = [_esc(b.label()) for b, _ in matrix.rows]
    for col, kind in enumerate(kinds, start=1):
        ids = groups[kind]
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        hover: list[list[str]] = []
        for behaviour, cells in matrix.rows:
            values = [cells[sid].pct_of_scale if kind == "share_of_scale"
                      else cells[sid].points for sid in ids]
            z.append([None if v is None else float(v) for v in values])
            text.append([_esc(_cell_text(cells[sid])) for sid in ids])
            hover.append([_cell_hover(behaviour, schemes[sid], cells[sid]) for sid in ids])
        fig.add_trace(go.Heatmap(
            z=z, x=[_esc(sid) for sid in ids], y=labels, text=text,
            texttemplate="%{text}", hovertext=hover, hoverinfo="text",
            hoverlabel={"align": "left"}, xgap=2, ygap=2,
            coloraxis=f"coloraxis{col if col > 1 else ''}",
        ), row=1, col=col)
    height = 260 + 26 * len(matrix.rows)
    for col, kind in enumerate(kinds, start=1):
        domain = fig.layout[f"xaxis{col if col > 1 else ''}"].domain
        fig.layout[f"coloraxis{col if col > 1 else ''}"] = {
            "colorscale": "RdBu", "cmid": 0,
            "colorbar": {"orientation": "h", "x": (domain[0] + domain[1]) / 2,
                         "xanchor": "center", "y": -110 / height, "yanchor": "top",
                         "len": max(domain[1] - domain[0], 0.2), "thickness": 12,
                         "title": {"text": "% of the scale's span" if kind == "share_of_scale"
                                   else "points", "side": "top"}}}
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=-30)
    fig.update_layout(height=height, margin={"t": 50, "l": 10, "r": 10, "b": 180},
                      plot_bgcolor="#f0f0f0")
    caption = (
        "What one occurrence of each behaviour does in each scheme, on its own, for an "
        "adult with no particular role, on the same day: every cell is read from the "
        "ledger of a replay of that one event. Blue gains, red loses, darker is more; "
        "'·' on grey: the scheme has no rule for it; 'no number': a rule fires but its "
        "source gives no points. Where a scheme's sources document its scale, the colour "
        "is the points as a share of the scale's span (max − min), so 10 points weigh "
        "more on a 200-point scale than on a 1,000-point one; where they do not, it is "
        "raw points, in a panel of its own with its own colour bar. A cell's text is "
        "the points applied and any grade or list effect; point at it for the rules "
        "and their source's words. Quantities are typical ones (10 hours of volunteering, "
        "400 ml of blood, 1,000 RMB), given on each row.")
    return Chart("heat-map", "Behaviour × scheme: one occurrence each", fig, caption)


def _group_hover(view: GroupView, label: str, description: str) -> str:
    by_type = ", ".join(f"{k} {signed(v)}" for k, v in sorted(view.earnable_by_type.items()))
    other = ", ".join(f"{n} {k}" for k, n in view.exposure_other.items() if n)
    lines = [f"<b>{_esc(label)}</b> ({_wrap(description)})",
             f"earnable in a year by choice: {signed(view.earnable)} "
             f"(plan {_esc(view.earnable_plan)})" + (f": {_wrap(by_type)}" if by_type else ""),
             f"exposure: -{number(view.exposure)}, the most one occurrence of each of "
             f"{view.penalty_rules} penalty rules takes"
             + (f"; {view.unbounded} without a maximum" if view.unbounded else ""),
             f"rules that apply: {view.reward_rules} reward ({view.reward_only_group} only for "
             f"this group), {view.penalty_rules} penalty ({view.penalty_only_group} only for "
             "this group)"]
    if other:
        lines.append(f"penalties without points: {_esc(other)}")
    lines.append(f"after a typical penalty: {_esc(view.climb.status)}: "
                 + _wrap(view.climb.reason))
    return "<br>".join(lines)


def asymmetry_chart(data: Asymmetry, schemes: Sequence[Scheme]) -> Chart | None:
    """Earnable against exposure, per group of people, one panel per person scheme."""
    by_id = {s.id: s for s in schemes}
    mine = [v for v in data.schemes if v.scheme in by_id]
    views = [v for v in mine if any(g.earnable or g.exposure for g in v.groups)]
    idle = [v.scheme for v in mine if v not in views]
    if not views:
        return None
    cols = min(3, len(views))
    rows = -(-len(views) // cols)
    titles = []
    for v in views:
        lo, hi = by_id[v.scheme].scale.min, by_id[v.scheme].scale.max
        unit = "no documented scale" if lo is None or hi is None \
            else f"scale {number(lo)}–{number(hi)}"
        titles.append(_esc(f"{v.scheme} (points; {unit})"))
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.5 / rows,
                        horizontal_spacing=0.06)
    labels = {g.id: g.label for g in data.groups}
    descriptions = {g.id: g.description for g in data.groups}
    for i, view in enumerate(views):
        row, col = i // cols + 1, i % cols + 1
        names = [_esc(labels[g.group]) for g in view.groups]
        hover = [_group_hover(g, labels[g.group], descriptions[g.group]) for g in view.groups]
        fig.add_trace(go.Bar(
            x=names, y=[float(g.earnable) for g in view.groups], name="earnable in a year",
            marker={"color": "#2b8cbe"}, legendgroup="earn", showlegend=i == 0,
            text=[signed(g.earnable) for g in view.groups], textposition="outside",
            cliponaxis=False,
            hovertext=hover, hoverinfo="text", hoverlabel={"align": "left"},
        ), row=row, col=col)
        fig.add_trace(go.Bar(
            x=names, y=[-float(g.exposure) for g in view.groups],
            name="exposure (most each penalty takes)", marker={"color": "#d7301f"},
            legendgroup="lose", showlegend=i == 0,
            text=[signed(-g.exposure) for g in view.groups], textposition="outside",
            cliponaxis=False,
            hovertext=hover, hoverinfo="text", hoverlabel={"align": "left"},
        ), row=row, col=col)
    fig.update_layout(barmode="relative", height=120 + 330 * rows,
                      margin={"t": 60, "b": 40}, hovermode="closest",
                      legend={"orientation": "h", "y": 1.02 + 0.1 / rows, "x": 0})
    fig.update_xaxes(tickangle=-30, tickfont={"size": 10})
    fig.update_annotations(font={"size": 12})
    fig.update_yaxes(zeroline=True, zerolinecolor="#555555")
    plans = "; ".join(f"{p.id}: {p.description}" for p in data.plans)
    caption = (
        "Who can earn and who only loses, scheme by scheme. For each group of people (an "
        "adult with only the group's residence or role), the blue bar is what a year of "
        "good acts chosen by the person earns, found by replaying the year through the "
        "scheme so that caps and limits apply; the red bar is the most that one "
        "occurrence of each penalty rule applying to the group can take, added up. Each "
        "panel is in its scheme's own points: compare groups within a panel, not panels "
        "with each other. Point at a bar for the rule counts, what the year earned by "
        "behaviour, and how long the same year, repeated, takes to win back the band lost "
        "to a typical penalty. Only the rules creditlab encodes are counted, not the full "
        f"schemes. The good year is a supposition, not a source's number ({plans}).")
    stats = [st for st in data.statistics if st.scheme in {v.scheme for v in views}]
    if stats:
        caption += " The sources' own figures, about the full schemes: " + " ".join(
            f"{st.statement} ({st.file}:{st.line}: “{st.quote}”)" for st in stats)
    if idle:
        caption += (f" Not shown: {', '.join(idle)}, where no encoded rule gives or takes "
                    "points from these groups.")
    skipped = [f"{k} ({r})" for k, r in data.skipped.items() if k in by_id]
    if skipped:
        caption += f" Not shown: {', '.join(skipped)}."
    return Chart("asymmetry", "Asymmetry: what each group can earn and lose", fig, caption)


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
