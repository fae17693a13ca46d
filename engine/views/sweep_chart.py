"""A sweep for people and notebooks: its rows as a frame, its chart, its HTML page.

`sweep_frame` gives one row per (value, group), the scheme as written first: the people,
the mean score, the share whose band changed and the share in each band, rounded to
`PLACES` decimal places here and only here (the sweep itself is exact). `sweep_chart`
draws the band shares against the value (stacked areas, best band on top), the mean
score and the share whose band changed, in three panels on one x axis. `sweep_page` puts
the chart and the tables on a self-contained page (plotly.js embedded, nothing loaded
from the network), escaped and drawn as the report's are (`page`).
"""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal
from fractions import Fraction
from typing import Any

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

from creditlab.engine.analysis.sweep import GroupOutcome, Sweep, SweepRow
from creditlab.engine.canonical import number, plain
from creditlab.engine.views.chart_base import NO_BAND, Chart, band_colour, escaped, scheme_title
from creditlab.engine.views.page import CSS, DRAW, esc, figure_html, section, table

__all__ = ["NO_BAND_LABEL", "PLACES", "band_name", "rounded", "sweep_chart", "sweep_frame",
           "sweep_page"]

PLACES = 6
"""Decimal places of a mean or a share in the frame, as `normalise` rounds its shares."""
NO_BAND_LABEL = "no band"


def rounded(value: Fraction | None, places: int = PLACES) -> Decimal | None:
    """An exact fraction rounded half-even to `places` decimal places (None stays None)."""
    if value is None:
        return None
    exact = Decimal(value.numerator) / Decimal(value.denominator)
    return exact.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)


def band_name(band: str | None) -> str:
    return NO_BAND_LABEL if band is None else band


def _numeric(sweep: Sweep) -> bool:
    return all(isinstance(r.value, Decimal) for r in sweep.rows)


def _float(value: Fraction | None) -> float | None:
    exact = rounded(value)
    return None if exact is None else float(exact)


# --- the frame ------------------------------------------------------------------------------


def _record(sweep: Sweep, row: SweepRow, group: GroupOutcome) -> dict[str, Any]:
    out: dict[str, Any] = {
        "scheme": sweep.scheme.id, "target": sweep.setting.target,
        "value": None if row.value is None else (
            float(row.value) if isinstance(row.value, Decimal) else row.label),
        "as_written": row.value is None, "dimension": group.dimension, "group": group.group,
        "people": group.people, "mean_score": _float(group.mean_score),
        "changed_share": _float(group.changed_share)}
    for band in sweep.bands:
        out[f"share {band_name(band)}"] = _float(group.share(band))
    return out


def sweep_frame(sweep: Sweep) -> pd.DataFrame:
    """One row per (value, group): the scheme as written first (`as_written`, no value),
    then each value in the order tried; within a value, everyone first."""
    records = [_record(sweep, row, group) for row in (sweep.baseline, *sweep.rows)
               for group in row.groups]
    types = {"scheme": "string", "target": "string",
             "value": "Float64" if _numeric(sweep) else "string", "as_written": "boolean",
             "dimension": "string", "group": "string", "people": "Int64",
             "mean_score": "Float64", "changed_share": "Float64",
             **{f"share {band_name(b)}": "Float64" for b in sweep.bands}}
    frame = pd.DataFrame({name: pd.array([r[name] for r in records], dtype=dtype)
                          for name, dtype in types.items()}, columns=list(types))
    frame.attrs = {"manifest": plain(sweep.manifest), "digest": sweep.digest}
    return frame


# --- the chart ------------------------------------------------------------------------------


def _x(sweep: Sweep) -> list[Any]:
    return [float(r.value) if isinstance(r.value, Decimal) else escaped(r.label)
            for r in sweep.rows]


def _colour(sweep: Sweep, band: str | None) -> str:
    return NO_BAND if band is None else band_colour(sweep.scheme, band)


def sweep_chart(sweep: Sweep) -> Chart:
    """Band shares, mean score and the share whose band changed, against the value."""
    x = _x(sweep)
    target = escaped(sweep.setting.target)
    fig = make_subplots(rows=3, cols=1, shared_xaxes=True, vertical_spacing=0.07,
                        row_heights=[0.56, 0.24, 0.20],
                        subplot_titles=["share of people in each band (%)",
                                        "mean score", "share whose band changed (%)"])
    for band in reversed(sweep.bands):  # stacked from the bottom: the best band on top
        shares = [float(r.everyone.share(band) or 0) * 100 for r in sweep.rows]
        name = escaped(band_name(band))
        fig.add_trace(go.Scatter(
            x=x, y=shares, name=name, mode="lines", stackgroup="bands",
            line={"color": _colour(sweep, band), "width": 0.5},
            fillcolor=_colour(sweep, band), legendgroup="bands",
            hovertemplate=f"{target} = %{{x}}<br>{name}: %{{y:.1f}} %<extra></extra>"),
            row=1, col=1)
    means = [_float(r.everyone.mean_score) for r in sweep.rows]
    fig.add_trace(go.Scatter(
        x=x, y=means, name="mean score", mode="lines+markers", showlegend=False,
        line={"color": "#2b6f99"},
        hovertemplate=f"{target} = %{{x}}<br>mean score %{{y}}<extra></extra>"),
        row=2, col=1)
    base = _float(sweep.baseline.everyone.mean_score)
    if base is not None:
        fig.add_hline(y=base, line={"color": "#59636e", "dash": "dot", "width": 1},
                      annotation_text=f"as written: {_mean(sweep.baseline.everyone.mean_score)}",
                      annotation_position="top left", annotation_font_size=11,
                      row=2, col=1)
    changed = [float(r.everyone.changed_share or 0) * 100 for r in sweep.rows]
    fig.add_trace(go.Scatter(
        x=x, y=changed, name="band changed", mode="lines+markers", showlegend=False,
        line={"color": "#b35806"},
        hovertemplate=f"{target} = %{{x}}<br>band changed: %{{y:.1f}} %<extra></extra>"),
        row=3, col=1)
    fig.update_yaxes(range=[0, 100], row=1, col=1, title_text="%")
    fig.update_yaxes(rangemode="normal", row=2, col=1, title_text="points")
    fig.update_yaxes(range=[0, 100], row=3, col=1, title_text="%")
    fig.update_xaxes(title_text=target, row=3, col=1)
    if not _numeric(sweep):
        fig.update_xaxes(type="category")
    fig.update_layout(height=640, margin={"t": 40, "b": 50, "l": 60, "r": 20},
                      hovermode="x unified",
                      legend={"title": {"text": "band"}, "traceorder": "reversed"})
    caption = (
        f"{sweep.people:,} people scored by {sweep.scheme.id}, replayed once for each value "
        f"of {sweep.setting.target} and once as written. Top: where they end, the share "
        "in each band (best band on top; grey where no band applies). Middle: the mean "
        "final score (the dotted line: the scheme as written). Bottom: the share of people "
        "who end in another band than under the scheme as written. Values are rounded for "
        "drawing; the CSV, Parquet and JSON give them to six places, and the sweep keeps "
        "them exact.")
    return Chart("sweep", scheme_title(sweep.scheme), fig, caption, scheme=sweep.scheme.id)


# --- the page -------------------------------------------------------------------------------


def _percent(value: Fraction | None) -> str:
    exact = rounded(value * 100 if value is not None else None, 1)
    return "–" if exact is None else f"{number(exact)} %"


def _mean(value: Fraction | None) -> str:
    exact = rounded(value, 2)
    return "–" if exact is None else number(exact)


def _rows_table(sweep: Sweep) -> str:
    header = ["value", "people", "mean score", "band changed",
              *(band_name(b) for b in sweep.bands)]
    rows = [[esc(r.label), f"{r.everyone.people:,}", _mean(r.everyone.mean_score),
             _percent(r.everyone.changed_share) if r.value is not None else "–",
             *(_percent(r.everyone.share(b)) for b in sweep.bands)]
            for r in (sweep.baseline, *sweep.rows)]
    return table(header, rows, numeric=set(range(1, len(header))))


def _groups_table(sweep: Sweep) -> str:
    first, last = sweep.rows[0], sweep.rows[-1]
    header = ["group", "people", *(band_name(b) for b in sweep.bands),
              f"band changed at {last.label}"]
    rows = []
    for a, b in zip(first.groups, last.groups, strict=True):
        rows.append([esc(a.label), f"{a.people:,}",
                     *(f"{_percent(a.share(band))} → {_percent(b.share(band))}"
                       for band in sweep.bands),
                     _percent(b.changed_share)])
    return table(header, rows, numeric=set(range(1, len(header))))


def sweep_page(sweep: Sweep) -> str:
    """The sweep as one self-contained HTML page: the chart, the rows, the groups."""
    chart = sweep_chart(sweep)
    title = f"Sweep of {sweep.setting.target} in {sweep.scheme.id}"
    values = ", ".join(r.label for r in sweep.rows)
    on = sweep.evaluated_on.isoformat() if sweep.evaluated_on else "–"
    intro = (f"<p>{esc(scheme_title(sweep.scheme))}. The history "
             f"({sweep.people:,} people the scheme scores, evaluated on {esc(on)}) is "
             f"replayed with <code>{esc(sweep.setting.target)}</code> set to each of "
             f"{esc(values)}, and once with the scheme as written. Nothing else in the "
             "scheme changes. creditlab "
             f"{esc(sweep.manifest.get('creditlab', ''))}, backend "
             f"{esc(sweep.manifest.get('backend', ''))}, sweep digest "
             f"<code>{esc(sweep.digest)}</code>.</p>")
    groups = ("<p>Each group's share in each band at the first value "
              f"({esc(sweep.rows[0].label)}) and at the last ({esc(sweep.rows[-1].label)}); "
              "a person with several roles counts in each, one with none under "
              "<i>no role</i>; ages on the day evaluated. Every value, every group: "
              "<code>--format csv</code>.</p>")
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)} · creditlab sweep</title>", f"<style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>', "</head><body>",
        f"<h1>{esc(title)}</h1>", intro,
        '<nav class="contents" id="contents"><ol><li><a href="#figure-1">The chart</a></li>'
        '<li><a href="#values">Each value</a></li><li><a href="#groups">By group</a></li>'
        "</ol></nav>", figure_html(chart, 1),
        section("values", "Each value", [_rows_table(sweep)]),
        section("groups", "By group", [groups, _groups_table(sweep)]),
        DRAW, "</body></html>"]
    return "\n".join(parts)
