"""The heat map: what one occurrence of each behaviour does in each scheme.

`history_matrix` builds the behaviour x scheme matrix of a history's own behaviours: one
row per event type with the attribute values that occur in the history (300 hours and 40
hours of volunteering are two rows; the tiers no event reaches are none), replayed once
each for an adult with no particular role (`matrix.Persona`). `heat_map_chart` draws a
matrix, coloured by the points as a share of the scale's span where the scale is
documented, and by raw points, in a panel of its own, where it is not
(`chart_base.axis_for`). A cell whose rule gives no number carries its sign
(`chart_base.SIGNS`): `?` when the source gives none, `∅` when the event lacks the
attribute the points depend on. Every cell is read from the matrix's ledger; nothing
re-scores.
"""

from __future__ import annotations

from collections import Counter

import plotly.graph_objects as go
from plotly.subplots import make_subplots

from creditlab.engine.analysis.matrix import (
    REFERENCE_DAY,
    Behaviour,
    Cell,
    Matrix,
    Persona,
    cell_from,
    synthetic_history,
)
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.describe import describe_source, number, signed
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Backend, Replay, replay
from creditlab.engine.views.chart_base import (
    MISSING_ATTRIBUTE,
    NO_NUMBER,
    Chart,
    axis_for,
    entry_sign,
    escaped,
    scheme_label,
    wrapped,
)

__all__ = ["HEAT_MAP_ROWS", "heat_map_chart", "history_behaviours", "history_matrix"]

HEAT_MAP_ROWS = 40
"""Behaviours drawn at most: the history's most frequent ones (a taller map is not read)."""


def _event_id(row: int, kind: str) -> str:
    """The id of row `row`'s event for subjects of `kind`, as `matrix.behaviour_matrix`
    and `history_matrix` both name it."""
    return f"m{row:04d}-{kind}"


def history_behaviours(result: Replay, limit: int = HEAT_MAP_ROWS) -> tuple[list[Behaviour], int]:
    """The history's own behaviours: each event type with the attribute values an event of
    the history has, the most frequent first (ties by label), at most `limit`; and how many
    more there were."""
    counts = Counter(Behaviour(e.type, dict(sorted(e.attrs.items()))).label()
                     for e in result.history.events)
    rows: dict[str, Behaviour] = {}
    for event in result.history.events:
        row = Behaviour(event.type, dict(sorted(event.attrs.items())))
        rows.setdefault(row.label(), row)
    chosen = sorted(rows, key=lambda k: (-counts[k], k))[:limit]
    return sorted((rows[k] for k in chosen), key=lambda b: b.label()), \
        max(len(rows) - limit, 0)


def history_matrix(result: Replay, vocabulary: Vocabulary, *, limit: int = HEAT_MAP_ROWS,
                   backend: Backend = "durable") -> Matrix | None:
    """What one occurrence of each of the history's own behaviours does in each replayed
    scheme, for an adult with no particular role on the reference day; None for a history
    without events. The manifest's parameters say how many behaviours were left out."""
    rows, left_out = history_behaviours(result, limit)
    if not rows:
        return None
    persona = Persona()
    kinds = sorted({s.subject_kind for s in result.schemes})
    subjects, events = [], []
    for i, row in enumerate(rows, start=1):
        for kind in kinds:
            sid = f"r{i:04d}-{kind}"
            subjects.append(persona.subject(sid, kind))
            events.append(row.event(_event_id(i, kind), sid, REFERENCE_DAY))
    history = synthetic_history("matrix", subjects, events, vocabulary)
    replayed = replay(history, list(result.schemes), backend=backend)
    by_key: dict[tuple[str, str], list[LedgerEntry]] = {}
    for entry in replayed.ledger:
        by_key.setdefault((entry.event, entry.scheme), []).append(entry)
    outcomes = {(r.subject, r.scheme): r for r in replayed.results}
    table = []
    for i, row in enumerate(rows, start=1):
        cells = {s.id: cell_from(s, by_key.get((_event_id(i, s.subject_kind), s.id), []),
                                 outcomes[(f"r{i:04d}-{s.subject_kind}", s.id)].flags)
                 for s in replayed.schemes}
        table.append((row, cells))
    manifest = {**replayed.manifest, "analysis": "matrix", "parameters": {
        "behaviours": "the history's own", "history": result.history.sha256,
        "left_out": left_out, "persona": persona.as_dict(), "on": REFERENCE_DAY},
        "replay_digest": replayed.digest}
    body = Matrix(tuple(table), tuple(s.id for s in replayed.schemes), manifest, "", replayed)
    return Matrix(body.rows, body.schemes, manifest, digest_of(body.body()), replayed)


def _signs(matrix: Matrix) -> dict[tuple[int, str], str]:
    """The sign of each (row, scheme) cell whose rules give no number, from its ledger."""
    kinds = {s.id: s.subject_kind for s in matrix.replay.schemes}
    wanted = {(_event_id(i, kinds[sid]), sid): i for i in range(1, len(matrix.rows) + 1)
              for sid in matrix.schemes}
    out: dict[tuple[int, str], str] = {}
    for entry in matrix.replay.ledger:
        row = wanted.get((entry.event, entry.scheme))
        sign = entry_sign(entry)
        if row is not None and sign is not None and out.get((row, entry.scheme)) != \
                MISSING_ATTRIBUTE:
            out[(row, entry.scheme)] = sign
    return out


_FLAT_LABELS = 8
"""Schemes up to which the columns' names are written flat, on two lines; beyond, slanted."""


def _column(scheme: Scheme, columns: int) -> str:
    """A column's name: the scheme's name and city, escaped."""
    if columns <= _FLAT_LABELS:
        name, city = scheme_label(scheme).split(" · ", 1)
        return f"{escaped(name)}<br>{escaped(city)}"
    return escaped(scheme_label(scheme))


def _cell_text(cell: Cell, sign: str | None) -> str:
    if cell.status == "not scored":
        return "·"
    parts = [] if cell.points is None else [signed(cell.points)]
    if cell.effect:
        parts.append(cell.effect.split(";")[0].split(" until")[0])
    if sign is not None and cell.points is None:
        parts.append(sign)
    return " ".join(parts) or NO_NUMBER


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
    signs = _signs(matrix)
    for col, kind in enumerate(kinds, start=1):
        ids = groups[kind]
        z: list[list[float | None]] = []
        text: list[list[str]] = []
        hover: list[list[str]] = []
        for row, (behaviour, cells) in enumerate(matrix.rows, start=1):
            values = [cells[sid].pct_of_scale if kind == "share_of_scale"
                      else cells[sid].points for sid in ids]
            z.append([None if v is None else float(v) for v in values])
            text.append([escaped(_cell_text(cells[sid], signs.get((row, sid)))) for sid in ids])
            hover.append([_cell_hover(behaviour, schemes[sid], cells[sid]) for sid in ids])
        fig.add_trace(go.Heatmap(
            z=z, x=[_column(schemes[sid], len(matrix.schemes)) for sid in ids], y=labels,
            text=text,
            texttemplate="%{text}", textfont={"size": 11}, hovertext=hover, hoverinfo="text",
            hoverlabel={"align": "left"}, xgap=2, ygap=2,
            coloraxis=f"coloraxis{col if col > 1 else ''}",
        ), row=1, col=col)
    labels_below = 70 if len(matrix.schemes) <= _FLAT_LABELS else 270
    bottom = labels_below + 80
    height = 50 + bottom + 26 * len(matrix.rows) + 20
    plot_height = height - 50 - bottom
    for col, kind in enumerate(kinds, start=1):
        domain = fig.layout[f"xaxis{col if col > 1 else ''}"].domain
        fig.layout[f"coloraxis{col if col > 1 else ''}"] = {
            "colorscale": "RdBu", "cmid": 0,
            "colorbar": {"orientation": "h", "x": (domain[0] + domain[1]) / 2,
                         "xanchor": "center", "y": -labels_below / plot_height,
                         "yanchor": "top",
                         "len": max(domain[1] - domain[0], 0.2), "thickness": 12,
                         "title": {"text": "% of the scale's span" if kind == "share_of_scale"
                                   else "points", "side": "top"}}}
    fig.update_yaxes(autorange="reversed")
    fig.update_xaxes(tickangle=0 if len(matrix.schemes) <= _FLAT_LABELS else -45)
    fig.update_layout(height=height, margin={"t": 50, "l": 10, "r": 10, "b": bottom},
                      plot_bgcolor="#f0f0f0")
    caption = (
        "What one occurrence of each behaviour does in each scheme, on its own, for an "
        "adult with no particular role, on the same day: every cell is read from the "
        "ledger of a replay of that one event. Blue gains, red loses, darker is more; "
        "'·' on grey: the scheme has no rule for it; '?': a rule fires but its source "
        "gives no points; '∅': a rule fires but the event, as the history records it, "
        "lacks the attribute its points depend on. Where a scheme's sources document "
        "its scale, the colour is the points as a share of the scale's span (max − min), "
        "so 10 points weigh more on a 200-point scale than on a 1,000-point one; where "
        "they do not, it is raw points, in a panel of its own with its own colour bar. "
        "A cell's text is the points applied and any grade or list effect; point at it "
        "for the rules and their source's words.")
    parameters = matrix.manifest.get("parameters", {})
    if parameters.get("behaviours") == "the history's own":
        caption += (" The rows are the behaviours of the history, with the quantities and "
                    "kinds its events give (written on each row); a behaviour with several "
                    "quantities has a row for each.")
    else:
        caption += (" Quantities are typical ones (10 hours of volunteering, 400 ml of "
                    "blood, 1,000 RMB), given on each row.")
    left_out = parameters.get("left_out")
    if left_out:
        caption += (f" The {left_out} rarest behaviours of the history are left out: "
                    "`creditlab matrix` draws any behaviour.")
    return Chart("heat-map", "The history's behaviours × scheme: one occurrence each", fig,
                 caption)
