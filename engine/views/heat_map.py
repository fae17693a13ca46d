"""The heat map: what one occurrence of each behaviour does in each scheme.

`heat_map_chart` draws the behaviour x scheme matrix (`matrix.behaviour_matrix`), coloured
by the points as a share of the scale's span where the scale is documented, and by raw
points, in a panel of its own, where it is not (`chart_base.axis_for`). Every cell is read
from the matrix; nothing re-scores.
"""

from __future__ import annotations

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from creditlab.engine.analysis.matrix import Behaviour, Cell, Matrix
from creditlab.engine.describe import describe_source, number, signed
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.views.chart_base import Chart, axis_for, escaped, wrapped

__all__ = ["heat_map_chart"]


def _cell_text(cell: Cell) -> str:
    if cell.status == "not scored":
        return "·"
    parts = [] if cell.points is None else [signed(cell.points)]
    if cell.effect:
        parts.append(cell.effect.split(";")[0].split(" until")[0])
    return " ".join(parts) or "no number"


def _cell_hover(behaviour: Behaviour, scheme: Scheme, cell: Cell) -> str:
    lines = [f"<b>{escaped(behaviour.label())}</b> in <b>{escaped(scheme.id)}</b>: "
             f"{escaped(cell.status)}"]
    if cell.points is not None:
        pct = f"{number(cell.pct_of_scale)} % of the scale's span" \
            if cell.pct_of_scale is not None else escaped(cell.pct_reason or "")
        given = "" if cell.given is None or cell.given == cell.points \
            else f" (the rules give {signed(cell.given)})"
        lines.append(f"points {signed(cell.points)}{given}; {pct}")
    if cell.band_before != cell.band_after:
        lines.append(escaped(f"band {cell.band_before or 'none'} → {cell.band_after or 'none'}"))
    if cell.effect:
        lines.append(wrapped(cell.effect))
    for rule_id in cell.rules:
        rule = scheme.rule(rule_id)
        if rule is not None:
            lines.append(f"rule <b>{escaped(rule_id)}</b> ({escaped(rule.fidelity)}): "
                         + wrapped(describe_source(rule.source)))
    lines += [wrapped(n) for n in (*cell.notes, *behaviour.notes)]
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
    labels = [escaped(b.label()) for b, _ in matrix.rows]
    for col, kind in enumerate(kinds, start=1):
        ids = groups[kind]
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        hover: list[list[str]] = []
        for behaviour, cells in matrix.rows:
            values = [cells[sid].pct_of_scale if kind == "share_of_scale"
                      else cells[sid].points for sid in ids]
            z.append([None if v is None else float(v) for v in values])
            text.append([escaped(_cell_text(cells[sid])) for sid in ids])
            hover.append([_cell_hover(behaviour, schemes[sid], cells[sid]) for sid in ids])
        fig.add_trace(go.Heatmap(
            z=z, x=[escaped(sid) for sid in ids], y=labels, text=text,
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
