"""One scheme, the people side by side: their scores on the scheme's own scale, their bands.

`scheme_chart` draws, for one scheme, every person shown as a line of their score over
time, on one axis for all of them: the scheme's documented scale from its minimum to its
maximum, in its own points; where the sources document no lowest and highest score, the
points gained or lost since the start (the axis title says so). Below, each person's band
as a strip of time, dated from the ledger: an entry's `at` is the day it takes effect (a
lapse of points is an entry of its own, on its own day). An entry that gives no number is
marked with its sign (`chart_base.SIGNS`): `?` when the source gives none, `∅` when the
event lacks the attribute the points depend on.

Everything is read from a `Replay`'s ledger and outcomes; nothing re-scores. Positions are
floats (plotly draws floats); every number printed in a hover text is the ledger's exact
decimal.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal

import plotly.graph_objects as go
from plotly.colors import qualitative
from plotly.subplots import make_subplots

from creditlab.engine.describe import entry_note, number, signed
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.views.chart_base import (
    SIGNS,
    BandStretch,
    Chart,
    axis_for,
    band_strip,
    entry_sign,
    escaped,
    scheme_title,
    wrapped,
    x_of,
)
from creditlab.engine.views.timelines import ReplayIndex

__all__ = ["scheme_chart"]

_PEOPLE = qualitative.Dark24
_DASHES = ("solid", "dash", "dot", "dashdot", "longdash", "longdashdot")
_MIN_SPAN = 20.0
"""The least height of a points-from-the-start axis: a flat line is not drawn as ±1."""




def _day(at: date) -> datetime:
    return datetime(at.year, at.month, at.day)


def _entry_hover(index: ReplayIndex, scheme: Scheme, entry: LedgerEntry, n: int) -> str:
    rule = scheme.cited(entry.rule)
    given = "no number" if entry.points is None else signed(entry.points)
    what = (f"check of {entry.event}" if entry.kind == "check" else
            ("lapse of the points of " if entry.is_lapse else "") + f"event {entry.event}")
    lines = [f"<b>{escaped(entry.subject)}</b> · {escaped(entry.at.isoformat())} · "
             f"{escaped(what)} ({escaped(entry.type)})",
             f"<b>ledger #{n}</b>: rule {escaped(entry.rule)} gives {escaped(given)}, "
             f"applied {signed(entry.applied)}: score {number(entry.score_before)} → "
             f"{number(entry.score_after)}"]
    note = entry_note(entry)
    if note:
        lines.append(wrapped(note))
    if rule is not None:
        lines.append(f"“{wrapped(rule.source.quote)}”")
    return "<br>".join(lines)


def _stretches(scheme: Scheme, entries: Sequence[LedgerEntry], first_band: str | None,
               final_band: str | None, first: datetime, last: datetime,
               numbers: Sequence[int]) -> list[BandStretch]:
    """Stretches of time with one band, each starting on the day of the ledger entry that
    set it; a band that ran out by the end (a reclassification's term) is said so."""
    band, since, why = first_band, first, "the band at the start"
    out: list[BandStretch] = []
    for entry, n in zip(entries, numbers, strict=True):
        if entry.band_after == band:
            continue
        at = _day(entry.at)
        out.append(BandStretch(since, at, band, band or "no band", why))
        band, since = entry.band_after, at
        why = f"ledger #{n}, {entry.at.isoformat()}: rule {entry.rule}"
    label = band or "no band"
    if final_band != band:
        label += f" → {final_band or 'no band'} by {last.date().isoformat()}"
    out.append(BandStretch(since, last, band, label, why))
    return [s for s in out if s.end > s.start]


def scheme_chart(index: ReplayIndex, scheme: Scheme, subjects: Sequence[str]) -> Chart | None:
    """The people given, side by side in `scheme`: scores on one axis, then bands.

    None when the scheme scores none of them (it scores another kind of subject).
    """
    if index.first is None or index.last is None:
        return None
    first, last = index.first, index.last
    outcomes = {o.subject: o for o in index.result.results
                if o.scheme == scheme.id and o.subject in set(subjects)}
    people = [s for s in subjects if s in outcomes]
    if not people:
        return None
    axis = axis_for(scheme)
    documented = axis.kind == "share_of_scale"
    mine: dict[str, list[tuple[int, LedgerEntry]]] = {s: [] for s in people}
    for n, entry in enumerate(index.result.ledger, start=1):
        if entry.scheme == scheme.id and entry.subject in mine:
            mine[entry.subject].append((n, entry))
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True, vertical_spacing=0.08,
                        row_heights=[0.7, 0.3])
    placed: list[float] = [0.0]
    signed_points: dict[str, tuple[list[str], list[float], list[str]]] = {
        sign: ([], [], []) for sign, _ in SIGNS}
    for i, sid in enumerate(people):
        outcome = outcomes[sid]

        def y(score: Decimal, start: Decimal = outcome.start) -> float:
            return float(score) if documented else float(score - start)

        xs, ys = [x_of(first)], [y(outcome.start)]
        texts = [f"<b>{escaped(sid)}</b> starts at {number(outcome.start)}"]
        for n, entry in mine[sid]:
            xs.append(x_of(entry.at))
            ys.append(y(entry.score_after))
            texts.append(_entry_hover(index, scheme, entry, n))
            sign = entry_sign(entry)
            if sign is not None:
                signed_points[sign][0].append(x_of(entry.at))
                signed_points[sign][1].append(y(entry.score_after))
                signed_points[sign][2].append(texts[-1])
        xs.append(x_of(last))
        ys.append(y(outcome.score))
        texts.append(f"<b>{escaped(sid)}</b> ends at {number(outcome.score)} "
                     f"({signed(outcome.score - outcome.start)}), band "
                     f"{escaped(outcome.band or 'none')}")
        placed += ys
        fig.add_trace(go.Scatter(
            x=xs, y=ys, mode="lines+markers", line_shape="hv", legendgroup=f"person-{i}",
            name=escaped(f"{sid} ({signed(outcome.score - outcome.start)})"),
            line={"color": _PEOPLE[i % len(_PEOPLE)], "dash": _DASHES[i % len(_DASHES)],
                  "width": 2.5},
            marker={"size": 6}, hovertext=texts, hoverinfo="text",
            hoverlabel={"align": "left"}), row=1, col=1)
    for sign, meaning in SIGNS:
        sx, sy, st = signed_points[sign]
        if sx:
            fig.add_trace(go.Scatter(
                x=sx, y=sy, mode="markers+text", text=[sign] * len(sx),
                textposition="top center", textfont={"size": 16, "color": "#1f2328"},
                marker={"size": 13, "symbol": "circle-open", "color": "#1f2328"},
                name=escaped(f"{sign} {meaning.split(':')[0]}"), hovertext=st,
                hoverinfo="text", hoverlabel={"align": "left"}), row=1, col=1)
    if documented:
        assert scheme.scale.min is not None and scheme.scale.max is not None
        lo, hi = float(scheme.scale.min), float(scheme.scale.max)
        pad = (hi - lo) * 0.03
        y_range = [lo - pad, hi + 2 * pad]
        y_title = f"score<br>(documented scale {number(scheme.scale.min)}–" \
                  f"{number(scheme.scale.max)})"
        for band in scheme.bands:
            if band.range is not None and band.range.min is not None \
                    and lo < float(band.range.min) < hi:
                fig.add_hline(y=float(band.range.min), line={"dash": "dot", "width": 1,
                                                             "color": "#8c959f"},
                              annotation_text=escaped(band.label),
                              annotation_position="top left",
                              annotation_font={"size": 10, "color": "#59636e"},
                              row=1, col=1)
    else:
        low, high = min(placed), max(placed)
        room = max((_MIN_SPAN - (high - low)) / 2, 0) + (high - low) * 0.08
        # Room above for the signs written over their markers.
        y_range = [low - room, high + room + (high - low + 2 * room) * 0.08]
        y_title = "points from the start<br>(no documented scale)"
    fig.update_yaxes(title_text=y_title, range=y_range, zeroline=not documented,
                     row=1, col=1)
    final_bands = {sid: outcomes[sid].band for sid in people}
    for sid in reversed(people):
        entries = [e for _, e in mine[sid]]
        start_band = entries[0].band_before if entries else final_bands[sid]
        segs = _stretches(scheme, entries, start_band, final_bands[sid], first, last,
                          [n for n, _ in mine[sid]])
        fig.add_trace(band_strip(
            scheme, sid, segs, why=escaped,
            dates=lambda s: f"{escaped(x_of(s.start)[:10])} – {escaped(x_of(s.end)[:10])}"),
            row=2, col=1)
    fig.update_yaxes(title_text="band", row=2, col=1)
    fig.update_xaxes(type="date")
    fig.update_layout(barmode="overlay", height=380 + 26 * len(people),
                      margin={"t": 40, "b": 30, "l": 80, "r": 20}, hovermode="closest",
                      legend={"orientation": "h", "x": 0, "y": 1.0, "yanchor": "bottom",
                              "title": {"text": "person (points moved)"}})
    return Chart("scheme", scheme_title(scheme), fig, _caption(scheme, documented, people),
                 scheme=scheme.id)


def _caption(scheme: Scheme, documented: bool, people: Sequence[str]) -> str:
    who = ", ".join(people)
    if documented:
        assert scheme.scale.min is not None and scheme.scale.max is not None
        axis = (f"on the scheme's documented scale, {number(scheme.scale.min)} to "
                f"{number(scheme.scale.max)} points")
        if any(b.range is not None and b.range.min is not None for b in scheme.bands):
            axis += " (dotted lines: the bands' documented lower bounds)"
    else:
        axis = ("as points gained or lost since the start: the sources give no lowest and "
                "highest score")
    return (f"The score of {who} over time, one step per ledger entry, {axis}; the same "
            "axis for everyone. Below, the band each holds, from the day of the ledger "
            "entry that set it. Point at a step for the rule, its ledger number and the "
            "source's words.")
