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
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

import plotly.graph_objects as go
from plotly.colors import sample_colorscale

from creditlab.engine.analysis.normalise import share_of_scale
from creditlab.engine.describe import number, signed
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.ledger import LedgerEntry

__all__ = [
    "MISSING_ATTRIBUTE",
    "NO_NUMBER",
    "SIGNS",
    "Axis",
    "BandStretch",
    "Chart",
    "ChartProgress",
    "axis_for",
    "band_colour",
    "band_strip",
    "entry_sign",
    "escaped",
    "scheme_label",
    "scheme_title",
    "wrapped",
    "x_of",
]

@dataclass(frozen=True)
class BandStretch:
    """A stretch of time a person holds one band (or none) in a band timeline: `label` as
    drawn, `why` the ledger entries that began it."""

    start: datetime
    end: datetime
    band: str | None
    label: str
    why: str


ChartProgress = Callable[[str, int, int], None]
"""Called as progress(step, done, total) while charts are built."""


@dataclass(frozen=True)
class Chart:
    """One figure of the page and the caption printed under it.

    `kind` names the chart (`trajectory`, `bands`, `scheme`, `heat-map`, `asymmetry`,
    `population`), `subject` the subject it draws and `scheme` the scheme, if any; `key`
    joins them, to find a chart in Python. The page numbers its figures instead: no id
    from a history or a scheme becomes an element id.
    """

    kind: str
    title: str
    figure: go.Figure
    caption: str
    subject: str | None = None
    scheme: str | None = None

    @property
    def key(self) -> str:
        return "-".join(x for x in (self.kind, self.subject, self.scheme) if x is not None)


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


# --- names, bands and signs -----------------------------------------------------------------


def scheme_title(scheme: Scheme) -> str:
    """A scheme as people name it: its name and city (two cities romanise as Fuzhou), and
    its id, which the ledger and the command line use."""
    name = scheme.name.en + (f" ({scheme.name.zh})" if scheme.name.zh else "")
    return f"{name}, {scheme.city} [{scheme.id}]"


def _cut(text: str, width: int) -> str:
    if len(text) > width and " (" in text:
        text = text.split(" (")[0]
    return text if len(text) <= width else text[:width - 1].rstrip() + "…"


def scheme_label(scheme: Scheme) -> str:
    """A scheme's short name for a legend or an axis: its name and its city, cut to fit
    (`Yuming Points · Fuzhou (抚州)`, `Jasmine Points · Fuzhou (福州)`)."""
    return f"{_cut(scheme.name.en, 30)} · {_cut(scheme.city, 26)}"


NO_BAND = "#c8c8c8"
"""Grey: no band applies (the source gives no threshold that holds the score)."""


def band_colour(scheme: Scheme, band: str | None) -> str:
    """Green for the scheme's best band through red for its worst; grey for none."""
    if band is None or scheme.band(band) is None:
        return NO_BAND
    worst = max(len(scheme.bands) - 1, 1)
    return str(sample_colorscale("RdYlGn", [1 - scheme.rank(band) / worst])[0])


NO_NUMBER = "?"
"""A rule fired but its source gives no number (ledger note `unquantified`)."""
MISSING_ATTRIBUTE = "∅"
"""A rule fired but the event lacks the attribute its points depend on (`missing_attribute`)."""
SIGNS: tuple[tuple[str, str], ...] = (
    (NO_NUMBER, "a rule fired but its source gives no number"),
    (MISSING_ATTRIBUTE, "a rule fired but the event lacks the attribute its points depend on "
                        "(the ledger names it): the history, not the source, is silent"),
)
"""The signs the charts and the ledger table use, with what each means (the page's key)."""


def entry_sign(entry: LedgerEntry) -> str | None:
    """The sign of an entry that gives no points, told apart by why; None otherwise."""
    if entry.noted("missing_attribute"):
        return MISSING_ATTRIBUTE
    if entry.noted("unquantified"):
        return NO_NUMBER
    return None


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


def band_strip(scheme: Scheme, row: str, stretches: Sequence[BandStretch], *,
               dates: Callable[[BandStretch], str], why: Callable[[str], str]) -> go.Bar:
    """One row of a band timeline: a bar per stretch, coloured by its band, labelled inside,
    with `row` (escaped here), the stretch's `dates` and `why` (both already escaped) on
    hover."""
    return go.Bar(
        orientation="h", y=[escaped(row)] * len(stretches),
        base=[x_of(s.start) for s in stretches],
        x=[(s.end - s.start).total_seconds() * 1000 for s in stretches],
        marker={"color": [band_colour(scheme, s.band) for s in stretches],
                "line": {"color": "#ffffff", "width": 1}},
        text=[escaped(s.label) for s in stretches], textposition="inside",
        insidetextanchor="middle", showlegend=False,
        hovertext=[f"<b>{escaped(row)}</b>: {escaped(s.label)}<br>{dates(s)}<br>{why(s.why)}"
                   for s in stretches],
        hoverinfo="text", hoverlabel={"align": "left"})
