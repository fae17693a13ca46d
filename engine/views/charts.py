"""The report's charts: plotly figures of a replay, each with a caption a student can read.

Each function returns a `Chart` (a figure, a title, a caption); `report` puts them on a page.
Everything is read from a `Replay` (through `explain`'s stories) or a `Matrix`; nothing
re-scores. This module is where the report and its readers take them from; each kind of
chart lives in a module of its own:

- `chart_base`: the `Chart` record and what every chart shares: the axis each scheme is
  drawn on (`axis_for`: a share of the scale where the sources document both its ends,
  else the change in points from the start, in a panel of its own; never a silent
  conversion between scales) and escaped hover text;
- `timelines`: one subject over time: `trajectory_chart` (the score in every scheme that
  scores that kind of subject, a step per scored event, each step's hover text giving the
  rules that fired, their sources and ledger numbers) and `band_timeline_chart` (the band
  held in each scheme, green for the best, red for the worst, grey for none);
  `subject_charts` makes both for each subject;
- `heat_map`: `heat_map_chart`, the behaviour x scheme matrix (`matrix.behaviour_matrix`),
  coloured by the share of the scale's span where the scale is documented, by raw points,
  in a panel of its own, where it is not;
- `asymmetry_bars`: `asymmetry_chart`, per person scheme and group of people
  (`asymmetry.GROUPS`), what a year of chosen good acts earns against the most one
  occurrence of each applicable penalty takes, in the scheme's own points.

All text from schemes and histories is escaped (`html.escape`) before it enters a figure.
Positions are floats (plotly draws floats); every number printed in a hover text is the
exact decimal of the ledger.
"""

from __future__ import annotations

from creditlab.engine.views.asymmetry_bars import asymmetry_chart
from creditlab.engine.views.chart_base import Axis, Chart, ChartProgress, axis_for
from creditlab.engine.views.heat_map import heat_map_chart
from creditlab.engine.views.timelines import (
    ReplayIndex,
    band_timeline_chart,
    subject_charts,
    trajectory_chart,
)

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
