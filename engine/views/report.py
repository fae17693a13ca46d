"""The educator's report: one self-contained HTML page of charts, captions and the ledger.

`build_report` turns a `Replay` (and, when given, the behaviour x scheme matrix and further
charts such as the asymmetry bars) into one HTML page, as a string. The library writes no
file: the CLI does. The page works offline: plotly.js is embedded once, in the head, and
nothing in the page refers to the network.

The page: the history and its replay digest; the schemes, with how each is drawn (see
`charts.axis_for`); per subject, the score trajectories and the band timeline
(`charts.subject_charts`); the heat map and any further charts; where each subject ends;
and the ledger of every subject shown, each entry numbered as in the charts' hover texts,
with its rule's source quote. Every chart sits in a `<figure class="chart">` with a
`<figcaption>`.

Nothing from a history or a scheme (which a reader may have been sent) runs or shapes the
page: text is escaped for where it goes (`_esc` for HTML, `chart_base.escaped` inside
figures); element ids are numbered (`subject-3`, `figure-7`, `chart-7`, `ledger-12`), never
made from a subject's, event's or scheme's id; figures are JSON data in
`<script type="application/json">` with `<`, `>`, `&` and U+2028/U+2029 escaped
(`_script_json`), drawn by one fixed script (`_DRAW`).
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from plotly.io.json import to_json_plotly
from plotly.offline import get_plotlyjs

from creditlab.engine.analysis.asymmetry import Asymmetry
from creditlab.engine.analysis.matrix import Matrix
from creditlab.engine.describe import (
    describe_source,
    entry_effects,
    entry_note,
    number,
    signed,
)
from creditlab.engine.errors import InputError, did_you_mean
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.charts import (
    Chart,
    ChartProgress,
    ReplayIndex,
    asymmetry_chart,
    axis_for,
    heat_map_chart,
    subject_charts,
)

__all__ = ["LEDGER_ROWS", "MAX_SUBJECTS", "build_report"]

MAX_SUBJECTS = 12
"""Subjects charted when none are named: the first ones by id (a page per city is unreadable)."""
LEDGER_ROWS = 20_000
"""Ledger entries listed at most; beyond that the page says how to get the full ledger."""

_CONFIG = {"displaylogo": False, "responsive": True}


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1280px;padding:1.5rem;color:#1f2328;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de}
figure.chart{margin:1.2rem 0 2rem;border:1px solid #d0d7de;border-radius:6px;padding:.6rem}
figure.chart h3{margin:.2rem .4rem}
figcaption{font-size:.95rem;color:#3d444d;margin:.4rem .4rem 0}
table{border-collapse:collapse;font-size:.85rem;width:100%}
th,td{border:1px solid #d0d7de;padding:.25rem .4rem;vertical-align:top;text-align:left}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
.quote{font-style:italic}.muted{color:#59636e;overflow-wrap:anywhere}
.wide{overflow-x:auto}td.source{min-width:22rem}
"""


def _table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int],
           row_ids: Sequence[str] | None = None, wide_last: bool = False) -> str:
    """An HTML table; cells are already escaped."""
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        rid = f' id="{_esc(row_ids[i])}"' if row_ids is not None else ""
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else
                        f'<td class="source">{c}</td>' if j == len(row) - 1 and wide_last
                        else f"<td>{c}</td>" for j, c in enumerate(row))
        body.append(f"<tr{rid}>{cells}</tr>")
    return (f'<div class="wide"><table><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(body)}</tbody></table></div>")


def _script_json(value: object) -> str:
    """JSON that can sit inside a `<script>` element: no `<`, `>` or `&` (so no `</script>`
    or `<!--` can close or hide it) and no U+2028/U+2029 (line ends to older JavaScript)."""
    text: str = to_json_plotly(value)
    for char, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def _figure_html(chart: Chart, n: int) -> str:
    """Figure `n` of the page: its element ids are numbered (`figure-n`, `chart-n`); the
    figure travels as JSON data in a `<script type="application/json">` that `_DRAW` reads,
    so nothing from a history or a scheme is ever JavaScript source."""
    figure = chart.figure.to_plotly_json()
    data = _script_json({"data": figure.get("data", []), "layout": figure.get("layout", {}),
                         "config": _CONFIG})
    height = int(chart.figure.layout.height or 450)
    return (f'<figure class="chart" id="figure-{n}" data-chart="{_esc(chart.kind)}">'
            f"<h3>{_esc(chart.title)}</h3>"
            f'<div style="height:{height}px;width:100%">'
            f'<div id="chart-{n}" class="plotly-graph-div" style="height:100%;width:100%">'
            f'</div></div><script type="application/json" id="chart-{n}-figure">{data}'
            f"</script><figcaption>{_esc(chart.caption)}</figcaption></figure>")


_DRAW = """<script>(function () {
  // Draws every chart from its JSON; a chart that fails is reported, the others drawn.
  var divs = document.querySelectorAll("div.plotly-graph-div");
  for (var i = 0; i < divs.length; i++) {
    try {
      var figure = JSON.parse(document.getElementById(divs[i].id + "-figure").textContent);
      Plotly.newPlot(divs[i], figure.data, figure.layout, figure.config);
    } catch (err) {
      console.error("chart " + divs[i].id + ": " + err);
    }
  }
})();</script>"""


def _subject_sections(charts: Sequence[Chart], shown: Sequence[str]) -> list[str]:
    """Each subject's charts in a `<section id="subject-i">` (i: its place among those
    shown), figures numbered from 1."""
    parts, n = [], 0
    for i, sid in enumerate(shown, start=1):
        mine = [c for c in charts if c.subject == sid]
        if not mine:
            continue
        parts.append(f'<section class="subject" id="subject-{i}">')
        for chart in mine:
            n += 1
            parts.append(_figure_html(chart, n))
        parts.append("</section>")
    return parts


def _schemes_table(result: Replay) -> str:
    rows = []
    for s in result.schemes:
        axis = axis_for(s)
        lo, hi = s.scale.min, s.scale.max
        scale = "bounds not documented" if lo is None or hi is None \
            else f"{number(lo)}–{number(hi)}"
        rows.append([_esc(s.id), _esc(s.name.en + (f" ({s.name.zh})" if s.name.zh else "")),
                     _esc(s.city), _esc(s.subject_kind), _esc(scale), number(s.scale.start),
                     _esc(", ".join(b.label for b in s.bands) or "none"),
                     _esc(axis.title)])
    return _table(["scheme", "name", "city", "scores", "scale", "start", "bands (best first)",
                   "drawn as"], rows, {5})


def _standings_table(index: ReplayIndex, subjects: Sequence[str]) -> str:
    outcomes = {(o.subject, o.scheme): o for o in index.result.results}
    rows = []
    for sid in subjects:
        for s in index.result.schemes:
            o = outcomes.get((sid, s.id))
            if o is None:
                continue
            axis = axis_for(s)
            rows.append([_esc(sid), _esc(s.id), number(o.start), number(o.score),
                         signed(o.score - o.start), _esc(axis.show(s, o.score, o.start)),
                         _esc(o.band or "–"), _esc(", ".join(o.flags) or "–"),
                         str(o.events_scored)])
    return _table(["subject", "scheme", "start", "final", "change", "on the chart", "band",
                   "list states", "events scored"], rows, {2, 3, 4, 8})


def _ledger_table(index: ReplayIndex, subjects: set[str]) -> str:
    chosen = [(n, e) for n, e in enumerate(index.result.ledger, start=1) if e.subject in subjects]
    shown = chosen[:LEDGER_ROWS]
    rows, ids = [], []
    for n, e in shown:
        scheme = index.schemes[e.scheme]
        rule = scheme.rule(e.rule)
        given = "–" if e.points is None else signed(e.points)
        quote = rule.source.quote if rule is not None else ""
        where = describe_source(rule.source).removesuffix(f"“{quote}”").strip() \
            if rule is not None else ""
        rows.append([str(n), _esc(e.event), _esc(e.at.isoformat()), _esc(e.subject),
                     _esc(e.scheme), _esc(e.rule), given, signed(e.applied),
                     f"{number(e.score_before)} → {number(e.score_after)}",
                     _esc(e.band_after or "–" if e.band_before == e.band_after
                          else f"{e.band_before or '–'} → {e.band_after or '–'}"),
                     _esc("; ".join(x for x in (*entry_effects(e), entry_note(e)) if x) or "–"),
                     _esc(e.fidelity),
                     f'<span class="quote">“{_esc(quote)}”</span><br>'
                     f'<span class="muted">{_esc(where)}</span>'])
        ids.append(f"ledger-{n}")
    note = ""
    if len(chosen) > len(shown):
        note = (f"<p><b>The first {len(shown)} of {len(chosen)} entries.</b> The full ledger: "
                "<code>creditlab replay HISTORY --explain --format csv</code>.</p>")
    return note + _table(["#", "event", "date", "subject", "scheme", "rule", "gives",
                          "applied", "score", "band", "effects and notes", "fidelity",
                          "source"], rows, {0, 6, 7, 8}, ids, wide_last=True)


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'' if n == 1 else 's'}"


def _subjects_shown(result: Replay, subjects: Sequence[str] | None) -> list[str]:
    known = sorted(result.history.subjects)
    if not subjects:
        return known[:MAX_SUBJECTS]
    for sid in subjects:
        if sid not in result.history.subjects:
            raise InputError(f"no subject {sid!r} in the history{did_you_mean(sid, known)}",
                             file=result.history.file, field="subject")
    return list(dict.fromkeys(subjects))


def build_report(result: Replay, *, subjects: Sequence[str] | None = None,
                 matrix: Matrix | None = None, asymmetry: Asymmetry | None = None,
                 extra: Sequence[Chart] = (), title: str | None = None,
                 progress: ChartProgress | None = None) -> str:
    """The report of `result` as one self-contained HTML page (a string).

    `subjects`: the subjects to chart (default: the first `MAX_SUBJECTS` by id); `matrix`:
    the behaviour x scheme matrix, drawn as a heat map; `asymmetry`: drawn as bars for the
    replayed schemes; `extra`: further charts, placed last.
    """
    history = result.history
    shown = _subjects_shown(result, subjects)
    index = ReplayIndex(result)
    charts = subject_charts(result, shown, progress=progress, index=index)
    name = title or history.name or history.file
    parts = [
        "<!DOCTYPE html>", '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{_esc(name)} · creditlab report</title>",
        f"<style>{_CSS}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{_esc(name)}</h1>",
    ]
    if history.description:
        parts.append(f"<p>{_esc(history.description)}</p>")
    as_of = history.end.isoformat() if history.end else "–"
    parts.append(
        f'<p class="muted">{_count(len(history.subjects), "subject")}, '
        f'{_count(len(history.events), "event")}, {_count(len(result.schemes), "scheme")}, '
        f"evaluated on {_esc(as_of)}. creditlab "
        f"{_esc(result.manifest.get('creditlab', ''))}, replay digest "
        f"<code>{_esc(result.digest)}</code>: the same history and schemes give the same "
        "digest on any machine.</p>")
    if len(shown) < len(history.subjects):
        parts.append(f"<p><b>Charts for {len(shown)} of {len(history.subjects)} subjects</b> "
                     f"({_esc(', '.join(shown))}); name others with <code>--subject</code>."
                     "</p>")
    parts += ["<h2>The schemes</h2>",
              "<p>Each scheme as its sources give it. <i>Drawn as</i> says how the "
              "trajectory charts place its scores: as a share of the documented scale, or, "
              "when the sources give no lowest and highest score, as points gained or lost "
              "since the start. creditlab never converts one scheme's points into "
              "another's.</p>", _schemes_table(result)]
    if charts:
        parts.append("<h2>Each subject, scheme by scheme</h2>")
        parts += _subject_sections(charts, shown)
    later = [c for c in (
        heat_map_chart(matrix) if matrix is not None and matrix.rows else None,
        asymmetry_chart(asymmetry, result.schemes) if asymmetry is not None else None,
        *extra) if c is not None]
    if later:
        parts.append("<h2>Behaviours and asymmetries</h2>")
        parts += [_figure_html(c, n) for n, c in enumerate(later, start=len(charts) + 1)]
    parts += ["<h2>Where each subject ends</h2>", _standings_table(index, shown),
              "<h2>The ledger</h2>",
              "<p>Every rule that fired for the subjects shown, in replay order, with the "
              "words of the source it encodes. <i>Gives</i> is what the rule states; "
              "<i>applied</i> is what counted after limits, caps and the scale's bounds. "
              "Numbers are exact.</p>",
              _ledger_table(index, set(shown)), _DRAW, "</body></html>"]
    return "\n".join(parts)
