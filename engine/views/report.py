"""The educator's report: one self-contained HTML page of charts, captions and the ledger.

`build_report` turns a `Replay` (and, when given, the behaviour x scheme matrix and the
asymmetry of the schemes) into one HTML page, as a string. The library writes no file: the
CLI does. The page works offline: plotly.js is embedded once, in the head, and nothing in
the page refers to the network.

The page, in parts a contents list links to (`id`s that are fixed words, or numbered):

- `schemes`: each scheme's name, city, scale and bands, how its charts place its scores
  (`chart_base.axis_for`), and the key to the signs the charts use;
- `side-by-side`: for each scheme (`scheme-1`, ...), the people shown side by side on the
  scheme's own scale, with their bands below (`scheme_charts.scheme_chart`);
- `people`: for each person (`subject-1`, ...), their score in every scheme, on axes that
  are the same for every person (`timelines.trajectory_chart`);
- `behaviours` and `asymmetry`: the heat map of the history's own behaviours and the
  asymmetry bars, when given;
- `population`: band shares and score spreads by group (`population`), for a history of
  more than `population.POPULATION_FROM` people or when asked;
- `standings` and `ledger`: where each person ends, and every ledger entry, numbered as
  in the charts' hover texts, with its rule's source quote (the quote wraps: no scroll).

A print stylesheet puts each part on a new page, hides the interactive chrome and fits the
charts to the page. Nothing from a history or a scheme runs or shapes the page (see
`page`).
"""

from __future__ import annotations

from collections.abc import Sequence

from plotly.offline import get_plotlyjs

from creditlab.engine.analysis.asymmetry import Asymmetry
from creditlab.engine.analysis.matrix import Matrix
from creditlab.engine.describe import describe_source, entry_effects, entry_note, number, signed
from creditlab.engine.errors import InputError, did_you_mean
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.asymmetry_bars import asymmetry_chart
from creditlab.engine.views.chart_base import (
    SIGNS,
    Chart,
    ChartProgress,
    axis_for,
    entry_sign,
    scheme_label,
)
from creditlab.engine.views.heat_map import heat_map_chart
from creditlab.engine.views.page import CSS, DRAW, esc, figure_html, section, table
from creditlab.engine.views.population import (
    POPULATION_FROM,
    outcomes_frame,
    population_section,
    subjects_frame,
)
from creditlab.engine.views.scheme_charts import scheme_chart
from creditlab.engine.views.timelines import ReplayIndex, change_range, trajectory_chart

__all__ = ["LEDGER_ROWS", "MAX_SUBJECTS", "POPULATION_FROM", "build_report"]

MAX_SUBJECTS = 12
"""Subjects charted when none are named: the first ones by id (a page per city is unreadable)."""
LEDGER_ROWS = 20_000
"""Ledger entries listed at most; beyond that the page says how to get the full ledger."""


def _schemes_table(result: Replay) -> str:
    rows = []
    for s in result.schemes:
        axis = axis_for(s)
        lo, hi = s.scale.min, s.scale.max
        scale = "bounds not documented" if lo is None or hi is None \
            else f"{number(lo)}–{number(hi)}"
        name = s.name.en + (f" ({s.name.zh})" if s.name.zh else "")
        drawn = ("its documented scale; in each person's chart, as a share of it (%)"
                 if axis.kind == "share_of_scale" else "points from the start")
        rows.append([f"<b>{esc(name)}</b><br><span class=\"muted\">{esc(s.id)}</span>",
                     esc(s.city), esc(s.subject_kind), esc(scale), number(s.scale.start),
                     esc(", ".join(b.label for b in s.bands) or "none"), esc(drawn)])
    return table(["scheme", "city", "scores", "scale", "start", "bands (best first)",
                  "drawn as"], rows, {4})


def _signs() -> str:
    items = [("·", "the scheme has no rule for this event (heat map)"), *SIGNS,
             ("–", "no band applies: the source gives grade labels without score thresholds, "
                   "and creditlab does not invent them")]
    return ('<dl class="signs">' + "".join(f"<dt>{esc(s)}</dt><dd>{esc(m)}</dd>"
                                           for s, m in items) + "</dl>")


def _standings_table(index: ReplayIndex, subjects: Sequence[str]) -> str:
    """Where each person ends: a row per scheme, a column per person (as the terminal's
    `replay` table), each cell the final score, its change from the start, where the
    charts place it and the band."""
    outcomes = {(o.subject, o.scheme): o for o in index.result.results}
    rows = []
    for s in index.result.schemes:
        axis = axis_for(s)
        cells = [f"{esc(scheme_label(s))}"]
        for sid in subjects:
            o = outcomes.get((sid, s.id))
            if o is None:
                cells.append('<span class="muted">n/a</span>')
                continue
            flags = f"<br>list: {esc(', '.join(o.flags))}" if o.flags else ""
            share = ""
            if axis.kind == "share_of_scale":
                share = (f'<br><span class="muted">'
                         f"{esc(axis.show(s, o.score, o.start).split(' of the scale')[0])} "
                         "of the scale</span>")
            cells.append(f"<b>{number(o.score)}</b> ({signed(o.score - o.start)}) "
                         f"{esc(o.band or '–')}{flags}{share}")
        rows.append(cells)
    return table(["scheme", *subjects], rows, set())


def _ledger_table(index: ReplayIndex, subjects: set[str]) -> str:
    chosen = [(n, e) for n, e in enumerate(index.result.ledger, start=1) if e.subject in subjects]
    shown = chosen[:LEDGER_ROWS]
    rows, ids = [], []
    for n, e in shown:
        scheme = index.schemes[e.scheme]
        rule = scheme.cited(e.rule)
        given = (entry_sign(e) or "–") if e.points is None else signed(e.points)
        quote = rule.source.quote if rule is not None else ""
        where = describe_source(rule.source).removesuffix(f"“{quote}”").strip() \
            if rule is not None else ""
        what = {"lapse": "lapse of ", "check": "check of "}.get(e.kind, "")
        rows.append([str(n), esc(e.at.isoformat()),
                     f"{esc(e.subject)}<br>{what}{esc(e.event)}<br>"
                     f'<span class="muted">{esc(e.type)}</span>',
                     f"{esc(scheme_label(scheme))}<br>"
                     f'<span class="muted">{esc(e.scheme)}<br>{esc(e.rule)}</span>',
                     esc(given), signed(e.applied),
                     f"{number(e.score_before)} → {number(e.score_after)}",
                     esc(e.band_after or "–" if e.band_before == e.band_after
                         else f"{e.band_before or '–'} → {e.band_after or '–'}"),
                     esc("; ".join(x for x in (*entry_effects(e), entry_note(e)) if x) or "–"),
                     f'<span class="quote">“{esc(quote)}”</span><br>'
                     f'<span class="muted">{esc(e.fidelity)}; {esc(where)}</span>'])
        ids.append(f"ledger-{n}")
    note = ""
    if len(chosen) > len(shown):
        note = (f"<p><b>The first {len(shown)} of {len(chosen)} entries.</b> The full ledger: "
                "<code>creditlab replay HISTORY --explain --format csv</code>.</p>")
    return note + table(["#", "date", "subject, event", "scheme, rule", "gives", "applied",
                         "score", "band", "effects and notes", "source"], rows,
                        {0, 1, 4, 5, 6}, ids, source_last=True, kind="ledger")


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}{'' if n == 1 else 's'}"


def _subjects_shown(result: Replay, subjects: Sequence[str] | None) -> list[str]:
    known = sorted(result.history.subjects)
    if not subjects:
        return known[:MAX_SUBJECTS]
    for sid in subjects:
        if sid not in result.history.subjects:
            raise InputError(f"no subject {sid!r} in the history{did_you_mean(sid, known)}",
                             file=result.history.file, field="subject")
    return list(dict.fromkeys(subjects))


def _contents(entries: Sequence[tuple[str, str, Sequence[tuple[str, str]]]]) -> str:
    """The contents list: (anchor, title, [(anchor, title), ...] of its parts)."""
    items = []
    for anchor, title, parts in entries:
        sub = "".join(f'<li><a href="#{esc(a)}">{esc(t)}</a></li>' for a, t in parts)
        items.append(f'<li><a href="#{esc(anchor)}">{esc(title)}</a>'
                     + (f"<ol>{sub}</ol>" if sub else "") + "</li>")
    return (f'<nav class="contents" id="contents"><h2>Contents</h2><ol>{"".join(items)}'
            "</ol></nav>")


def build_report(result: Replay, *, subjects: Sequence[str] | None = None,
                 matrix: Matrix | None = None, asymmetry: Asymmetry | None = None,
                 extra: Sequence[Chart] = (), title: str | None = None,
                 population: bool | None = None,
                 progress: ChartProgress | None = None) -> str:
    """The report of `result` as one self-contained HTML page (a string).

    `subjects`: the people to chart (default: the first `MAX_SUBJECTS` by id); `matrix`:
    the behaviour x scheme matrix, drawn as a heat map (`heat_map.history_matrix` gives
    the history's own behaviours); `asymmetry`: drawn as bars for the replayed schemes;
    `extra`: further charts, after those; `population`: the Population section, shown by
    default for a history of more than `POPULATION_FROM` people (True or False to choose).
    """
    history = result.history
    shown = _subjects_shown(result, subjects)
    index = ReplayIndex(result)
    name = title or history.name or history.file
    n = 0

    def numbered(chart: Chart) -> str:
        nonlocal n
        n += 1
        return figure_html(chart, n)

    # Scheme by scheme, the people side by side.
    by_scheme: list[tuple[str, str, str]] = []
    unscored: list[str] = []
    for i, scheme in enumerate(result.schemes, start=1):
        if progress is not None:
            progress("charts", i - 1, len(result.schemes) + len(shown))
        chart = scheme_chart(index, scheme, shown)
        if chart is None:
            if index.first is not None:  # with events, the scheme scores none of them
                unscored.append(scheme_label(scheme))
            continue
        by_scheme.append((f"scheme-{i}", f"{scheme.name.en}, {scheme.city}",
                          f'<div class="scheme" id="scheme-{i}">{numbered(chart)}</div>'))
    side = ["<p>Each chart is one scheme, with the people shown side by side on one axis: "
            "the scheme's documented scale from its lowest to its highest score, or, where "
            "the sources give neither, the points gained or lost since the start (the "
            "axis title says which). Below each, the band each person holds over time, "
            "dated from the ledger (green the best band, red the worst, grey none; a lapse "
            "of points is a ledger entry of its own, on its own day).</p>",
            '<div class="schemes">', *(html for _, _, html in by_scheme), "</div>"]
    if unscored:
        side.append(f"<p>Not drawn: {esc(', '.join(unscored))}, which score another kind "
                    "of subject than the people shown.</p>")

    # Person by person, every scheme.
    points_range = change_range(index, shown)
    people: list[tuple[str, str, str]] = []
    for i, sid in enumerate(shown, start=1):
        if progress is not None:
            progress("charts", len(result.schemes) + i - 1, len(result.schemes) + len(shown))
        chart = trajectory_chart(index, sid, points_range)
        if chart is not None:
            people.append((f"subject-{i}", sid, f'<section class="subject" id="subject-{i}">'
                           f"{numbered(chart)}</section>"))
    if progress is not None:
        progress("charts", len(result.schemes) + len(shown), len(result.schemes) + len(shown))

    later = [c for c in (
        heat_map_chart(matrix) if matrix is not None and matrix.rows else None,
        asymmetry_chart(asymmetry, result.schemes) if asymmetry is not None else None)
        if c is not None]
    behaviours = [numbered(c) for c in later if c.kind == "heat-map"]
    asymmetry_html = [numbered(c) for c in later if c.kind == "asymmetry"]
    extra_html = [numbered(c) for c in extra]

    show_population = len(history.subjects) > POPULATION_FROM if population is None \
        else population
    population_html = ""
    if show_population and history.end is not None:
        population_html = population_section(
            outcomes_frame(result), subjects_frame(history), result.schemes, on=history.end,
            first_figure=n + 1)
        n += population_html.count('<figure class="chart"')

    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(name)} · creditlab report</title>",
        f"<style>{CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{esc(name)}</h1>",
    ]
    if history.description:
        parts.append(f"<p>{esc(history.description)}</p>")
    as_of = history.end.isoformat() if history.end else "–"
    parts.append(
        f'<p class="muted">{_count(len(history.subjects), "subject")}, '
        f'{_count(len(history.events), "event")}, {_count(len(result.schemes), "scheme")}, '
        f"evaluated on {esc(as_of)}. creditlab "
        f"{esc(result.manifest.get('creditlab', ''))}, replay digest "
        f"<code>{esc(result.digest)}</code>: the same history and schemes give the same "
        "digest on any machine.</p>")
    if len(shown) < len(history.subjects):
        parts.append(f"<p><b>Charts for {len(shown)} of {len(history.subjects):,} subjects"
                     f"</b> ({esc(', '.join(shown))}); name others with "
                     "<code>--subject</code>.</p>")
    contents: list[tuple[str, str, Sequence[tuple[str, str]]]] = [
        ("schemes", "The schemes and how to read the charts", [])]
    if by_scheme:
        contents.append(("side-by-side", "People side by side, scheme by scheme",
                         [(a, t) for a, t, _ in by_scheme]))
    if people:
        contents.append(("people", "Each person across the schemes",
                         [(a, t) for a, t, _ in people]))
    if behaviours:
        contents.append(("behaviours", "The history's behaviours in each scheme", []))
    if asymmetry_html or extra_html:
        contents.append(("asymmetry", "What each group can earn and lose", []))
    if population_html:
        contents.append(("population", "Population", []))
    contents += [("standings", "Where each person ends", []), ("ledger", "The ledger", [])]
    parts.append(_contents(contents))

    parts.append(section("schemes", "The schemes and how to read the charts", [
        "<p>Each scheme as its sources give it. <i>Drawn as</i> says how the charts place "
        "its scores: on its documented scale, or, when the sources give no lowest and "
        "highest score, as points gained or lost since the start. creditlab never "
        "converts one scheme's points into another's.</p>", _schemes_table(result),
        "<p>Signs used in the charts and tables:</p>", _signs()]))
    if by_scheme:
        parts.append(section("side-by-side", "People side by side, scheme by scheme", side))
    if people:
        parts.append(section("people", "Each person across the schemes", [
            "<p>Each chart is one person in every scheme that scores them. Scales are not "
            "comparable, so schemes with a documented scale are drawn as a share of it "
            "(0 to 100 %), the others as points from the start in a panel of their own; "
            "every person's chart uses the same axes.</p>",
            *(html for _, _, html in people)]))
    if behaviours:
        parts.append(section("behaviours", "The history's behaviours in each scheme",
                             behaviours))
    if asymmetry_html or extra_html:
        parts.append(section("asymmetry", "What each group can earn and lose",
                             [*asymmetry_html, *extra_html]))
    if population_html:
        parts.append(section("population", "Population", [population_html]))
    parts.append(section("standings", "Where each person ends", [
        "<p>Each person's final score in each scheme, its change from the start in "
        "brackets, and the band (– where none applies); where the scale is documented, "
        "its share of the scale. <i>n/a</i>: the scheme scores another kind of subject."
        "</p>", _standings_table(index, shown)]))
    parts.append(section("ledger", "The ledger", [
        "<p>Every rule that fired for the people shown, in replay order, with the words of "
        "the source it encodes. <i>Gives</i> is what the rule states (a sign when it "
        "states no number: see the key above); <i>applied</i> is what counted after "
        "limits, caps and the scale's bounds. A lapse of points is an entry of its own, "
        "on its own day; so is a periodic check's finding (a <i>check of</i> the period it "
        "judged, applying no points). Numbers are exact.</p>",
        _ledger_table(index, set(shown))]))
    parts += [DRAW, "</body></html>"]
    return "\n".join(parts)
