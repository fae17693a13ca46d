"""The report's charts: plotly figures of a replay, each with a caption a student can read.

Each function returns a `Chart` (a figure, a title, a caption); `report` puts them on a page.
Everything is read from a `Replay` (its ledger and outcomes, or `explain`'s stories), a
`Matrix` or frames of outcomes; nothing re-scores. This module is where the report and its
readers take them from; each kind of chart lives in a module of its own:

- `chart_base`: the `Chart` record and what every chart shares: the axis each scheme is
  drawn on (`axis_for`: its documented scale where the sources give both its ends, else
  the change in points from the start; never a silent conversion between scales), scheme
  names with their city (`scheme_title`, `scheme_label`), band colours, the signs of
  entries that give no number (`SIGNS`: `?` the source gives none, `∅` the event lacks
  the attribute the points depend on) and escaped hover text;
- `scheme_charts`: `scheme_chart`, one scheme with the people side by side on one axis
  (the scheme's scale, the same for everyone) and their bands below, dated from the ledger;
- `timelines`: one person over time: `trajectory_chart` (the score in every scheme that
  scores them, on axes every person shares: `change_range`) and `band_timeline_chart`;
  `subject_charts` makes both for each person;
- `heat_map`: `history_matrix`, the behaviour x scheme matrix of a history's own
  behaviours and quantities, and `heat_map_chart`, which draws a matrix;
- `asymmetry_bars`: `asymmetry_chart`, per person scheme and group of people
  (`asymmetry.GROUPS`), what a year of chosen good acts earns against the most one
  occurrence of each applicable penalty takes, in the scheme's own points;
- `population`: `population_charts`, band shares and score spreads by group, from frames
  of outcomes and subjects (never ledger entries), for populations of any size.

All text from schemes and histories is escaped (`html.escape`) before it enters a figure.
Positions are floats (plotly draws floats); every number printed in a hover text is the
exact decimal of the ledger.
"""

from __future__ import annotations

from creditlab.engine.views.asymmetry_bars import asymmetry_chart
from creditlab.engine.views.chart_base import (
    SIGNS,
    Axis,
    Chart,
    ChartProgress,
    axis_for,
    scheme_label,
    scheme_title,
)
from creditlab.engine.views.heat_map import heat_map_chart, history_matrix
from creditlab.engine.views.population import population_charts
from creditlab.engine.views.scheme_charts import scheme_chart
from creditlab.engine.views.timelines import (
    ReplayIndex,
    band_timeline_chart,
    change_range,
    subject_charts,
    trajectory_chart,
)

__all__ = [
    "SIGNS",
    "Axis",
    "Chart",
    "ChartProgress",
    "ReplayIndex",
    "asymmetry_chart",
    "axis_for",
    "band_timeline_chart",
    "change_range",
    "heat_map_chart",
    "history_matrix",
    "population_charts",
    "scheme_chart",
    "scheme_label",
    "scheme_title",
    "subject_charts",
    "trajectory_chart",
]
