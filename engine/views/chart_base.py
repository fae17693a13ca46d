"""What every chart of the report shares: the `Chart` record, each scheme's axis, hover text.

Scales do not convert into one another, so the axis a scheme's scores are drawn on is an
explicit choice per scheme (`axis_for`), never a silent conversion: a scheme whose sources
document both ends of its scale is drawn as a share of that scale
(`normalise.share_of_scale`, in percent: 0 % at the minimum, 100 % at the maximum); a
scheme whose sources give no bounds is drawn, in a panel of its own, as the change in
points from where the subject started.

All text from schemes and histories is escaped (`escaped`, `wrapped`) before it enters a
figure: plotly draws titles, tick labels, bar texts and hover texts as a small subset of
HTML (`<b>`, `<br>`, `<a href>`), so a `<` from a history would otherwise become a tag.
"""

from __future__ import annotations

import html
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import plotly.graph_objects as go

from creditlab.engine.analysis.normalise import share_of_scale
from creditlab.engine.describe import number, signed
from creditlab.engine.inputs.scheme import Scheme

__all__ = ["Axis", "Chart", "ChartProgress", "axis_for", "escaped", "wrapped", "x_of"]

ChartProgress = Callable[[str, int, int], None]
"""Called as progress(step, done, total) while charts are built."""


@dataclass(frozen=True)
class Chart:
    """One figure of the page and the caption printed under it.

    `kind` names the chart (`trajectory`, `bands`, `heat-map`, `asymmetry`) and `subject`
    the subject it draws, if any; `key` joins them, to find a chart in Python. The page
    numbers its figures instead: no id from a history or a scheme becomes an element id.
    """

    kind: str
    title: str
    figure: go.Figure
    caption: str
    subject: str | None = None

    @property
    def key(self) -> str:
        return self.kind if self.subject is None else f"{self.kind}-{self.subject}"


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


# --- text -----------------------------------------------------------------------------------


def escaped(text: object) -> str:
    """Text from a scheme or history, safe to put in a figure.

    Only `&`, `<` and `>`: plotly decodes `&amp;`, `&lt;`, `&gt;` and numeric references
    but not `&quot;`, which it would show as written; a `"` is harmless where no tag can
    open.
    """
    return html.escape(str(text), quote=False)


def x_of(moment: datetime | date) -> str:
    """A moment as plotly places it on a date axis."""
    if isinstance(moment, datetime):
        return moment.strftime("%Y-%m-%d %H:%M:%S")
    return moment.isoformat()


def wrapped(text: str, width: int = 90) -> str:
    """Escaped text with <br> every `width` characters or so, for hover boxes."""
    words, lines, line = text.split(), [], ""
    for word in words:
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "<br>".join(escaped(x) for x in lines)
