"""The asymmetry bars: what each group of people can earn in a year against what it can lose.

`asymmetry_chart`: per person scheme, for each group of people (`asymmetry.GROUPS`), what
a year of chosen good acts earns (replayed) against the most one occurrence of each
applicable penalty takes, in the scheme's own points (one panel per scheme: no conversion
between schemes).
"""

from __future__ import annotations

from collections.abc import Sequence

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from creditlab.engine.analysis.asymmetry import Asymmetry, GroupView
from creditlab.engine.describe import number, signed
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.views.chart_base import Chart, escaped, scheme_label, wrapped

__all__ = ["asymmetry_chart"]


def _group_hover(view: GroupView, label: str, description: str) -> str:
    by_type = ", ".join(f"{k} {signed(v)}" for k, v in sorted(view.earnable_by_type.items()))
    other = ", ".join(f"{n} {k}" for k, n in view.exposure_other.items() if n)
    lines = [f"<b>{escaped(label)}</b> ({wrapped(description)})",
             f"earnable in a year by choice: {signed(view.earnable)} "
             f"(plan {escaped(view.earnable_plan)})" + (f": {wrapped(by_type)}" if by_type else ""),
             f"exposure: -{number(view.exposure)}, the most one occurrence of each of "
             f"{view.penalty_rules} penalty rules takes"
             + (f"; {view.unbounded} without a maximum" if view.unbounded else ""),
             f"rules that apply: {view.reward_rules} reward ({view.reward_only_group} only for "
             f"this group), {view.penalty_rules} penalty ({view.penalty_only_group} only for "
             "this group)"]
    if other:
        lines.append(f"penalties without points: {escaped(other)}")
    lines.append(f"after a typical penalty: {escaped(view.climb.status)}: "
                 + wrapped(view.climb.reason))
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
        titles.append(f"{escaped(scheme_label(by_id[v.scheme]))}<br>"
                      f"{escaped(f'(points; {unit})')}")
    fig = make_subplots(rows=rows, cols=cols, subplot_titles=titles, vertical_spacing=0.5 / rows,
                        horizontal_spacing=0.06)
    labels = {g.id: g.label for g in data.groups}
    descriptions = {g.id: g.description for g in data.groups}
    for i, view in enumerate(views):
        row, col = i // cols + 1, i % cols + 1
        names = [escaped(labels[g.group]) for g in view.groups]
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
