"""The report page's building blocks: escaped text, tables, figures as data, and the style.

Nothing from a history or a scheme (which a reader may have been sent) runs or shapes the
page: text is escaped for where it goes (`esc` for HTML, `chart_base.escaped` inside
figures); element ids are numbered or fixed words, never made from a subject's, event's or
scheme's id; a figure is JSON data in `<script type="application/json">` with `<`, `>`,
`&` and U+2028/U+2029 escaped (`script_json`), drawn by one fixed script (`DRAW`).
`report` and `population` both build their sections from these parts.
"""

from __future__ import annotations

import html
from collections.abc import Iterable, Sequence

from plotly.io.json import to_json_plotly

from creditlab.engine.views.chart_base import Chart

__all__ = ["CSS", "DRAW", "esc", "figure_html", "script_json", "section", "table"]

_CONFIG = {"displaylogo": False, "responsive": True}


def esc(text: object) -> str:
    """Text escaped for HTML content and attribute values."""
    return html.escape(str(text), quote=True)


CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;
max-width:1280px;padding:1rem 1.5rem;color:#1f2328;line-height:1.45;font-size:17px}
h1{font-size:1.7rem;margin-bottom:.2rem}
h2{margin-top:2.2rem;border-bottom:1px solid #d0d7de;font-size:1.45rem}
h2 a.top{font-size:.8rem;font-weight:normal;margin-left:.8rem;color:#59636e}
nav.contents{border:1px solid #d0d7de;border-radius:6px;padding:.4rem 1rem;background:#f6f8fa}
nav.contents ol{margin:.3rem 0;columns:2;column-gap:2rem}nav.contents li{margin:.1rem 0}
nav.contents ol ol{columns:1;font-size:.9rem}nav.contents>ol>li{break-inside:avoid}
figure.chart{margin:1rem 0 1.6rem;border:1px solid #d0d7de;border-radius:6px;padding:.5rem;
break-inside:avoid}
figure.chart h3{margin:.2rem .4rem;font-size:1.1rem}
figcaption{font-size:.92rem;color:#3d444d;margin:.4rem .4rem 0}
table{border-collapse:collapse;font-size:.85rem;width:100%;table-layout:auto}
th,td{border:1px solid #d0d7de;padding:.25rem .4rem;vertical-align:top;text-align:left;
overflow-wrap:break-word}td.source{overflow-wrap:anywhere}th{white-space:nowrap}
th{background:#f6f8fa}td.num{text-align:right;white-space:nowrap}
.quote{font-style:italic}.muted{color:#59636e}
table.ledger{table-layout:fixed}table.ledger td{overflow-wrap:anywhere}
table.ledger th{white-space:normal}
table.ledger th:nth-child(1){width:3%}table.ledger th:nth-child(2){width:8%}
table.ledger th:nth-child(3){width:11%}table.ledger th:nth-child(4){width:16%}
table.ledger th:nth-child(5){width:5%}table.ledger th:nth-child(6){width:6%}
table.ledger th:nth-child(7){width:9%}table.ledger th:nth-child(8){width:8%}
table.ledger th:nth-child(9){width:12%}table.ledger th:nth-child(10){width:22%}
dl.signs{display:grid;grid-template-columns:max-content 1fr;gap:.2rem 1rem;font-size:.95rem}
dl.signs dt{font-weight:bold;text-align:center;min-width:1.5rem}dl.signs dd{margin:0}
@media print{
 body{max-width:none;padding:0;font-size:10.5pt}
 nav.contents{break-after:page}
 section.part{break-before:page}
 h2 a.top,.modebar-container{display:none !important}
 figure.chart{border:none;padding:0;margin:.3rem 0 .8rem}
 figure.chart .plot{width:100% !important;max-height:88vh}
 div.schemes{display:grid;grid-template-columns:1fr 1fr;column-gap:1rem}
 figure[data-chart=scheme] .plot{height:33vh !important}
 table.ledger{font-size:7pt}
 nav.contents{font-size:9pt;border:none;padding:0}
 figure[data-chart=trajectory] .plot{height:80vh !important}
 figure[data-chart=population] .plot{height:58vh !important}
 figcaption{font-size:8.5pt;margin-top:.1rem}figure.chart h3{font-size:11pt;margin:0}
 p{margin:.3rem 0}
 table{font-size:8pt}thead{display:table-header-group}tr{break-inside:avoid}
 a{color:inherit;text-decoration:none}
}
@page{size:A4 landscape;margin:12mm}
"""
"""The page's style: readable at 1280 x 720; in print, the contents on a page of its own,
each section from a new page, charts within the page's width, no interactive chrome."""


def table(header: Sequence[str], rows: Iterable[Sequence[str]], numeric: set[int],
          row_ids: Sequence[str] | None = None, source_last: bool = False,
          kind: str = "") -> str:
    """An HTML table (of class `kind`, a fixed word); cells are already escaped. Long text
    wraps: there is no scroll bar."""
    head = "".join(f"<th>{esc(h)}</th>" for h in header)
    body = []
    for i, row in enumerate(rows):
        rid = f' id="{esc(row_ids[i])}"' if row_ids is not None else ""
        cells = "".join(f'<td class="num">{c}</td>' if j in numeric else
                        f'<td class="source">{c}</td>' if j == len(row) - 1 and source_last
                        else f"<td>{c}</td>" for j, c in enumerate(row))
        body.append(f"<tr{rid}>{cells}</tr>")
    css = f' class="{esc(kind)}"' if kind else ""
    return (f"<table{css}><thead><tr>{head}</tr></thead>"
            f"<tbody>{''.join(body)}</tbody></table>")


def script_json(value: object) -> str:
    """JSON that can sit inside a `<script>` element: no `<`, `>` or `&` (so no `</script>`
    or `<!--` can close or hide it) and no U+2028/U+2029 (line ends to older JavaScript)."""
    text: str = to_json_plotly(value)
    for char, code in (("&", "\\u0026"), ("<", "\\u003c"), (">", "\\u003e"),
                       ("\u2028", "\\u2028"), ("\u2029", "\\u2029")):
        text = text.replace(char, code)
    return text


def figure_html(chart: Chart, n: int) -> str:
    """Figure `n` of the page: its element ids are numbered (`figure-n`, `chart-n`); the
    figure travels as JSON data in a `<script type="application/json">` that `DRAW` reads,
    so nothing from a history or a scheme is ever JavaScript source."""
    figure = chart.figure.to_plotly_json()
    data = script_json({"data": figure.get("data", []), "layout": figure.get("layout", {}),
                        "config": _CONFIG})
    height = int(chart.figure.layout.height or 450)
    return (f'<figure class="chart" id="figure-{n}" data-chart="{esc(chart.kind)}">'
            f"<h3>{esc(chart.title)}</h3>"
            f'<div class="plot" style="height:{height}px;width:100%">'
            f'<div id="chart-{n}" class="plotly-graph-div" style="height:100%;width:100%">'
            f'</div></div><script type="application/json" id="chart-{n}-figure">{data}'
            f"</script><figcaption>{esc(chart.caption)}</figcaption></figure>")


def section(anchor: str, title: str, body: Sequence[str]) -> str:
    """A part of the page under its heading, `anchor` a fixed word (never from the input),
    with a link back to the contents."""
    return "\n".join([f'<section class="part" id="{esc(anchor)}">',
                      f'<h2>{esc(title)}<a class="top" href="#contents">contents ↑</a></h2>',
                      *body, "</section>"])


DRAW = """<script>(function () {
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
  // Printed, a chart takes the height the print style gives its box (so that two to four
  // fit on a page) and the page's width; after printing, its own height again.
  function fit() {
    var printing = window.matchMedia && window.matchMedia("print").matches;
    for (var j = 0; j < divs.length; j++) {
      var div = divs[j];
      if (!div.layout) { continue; }
      if (div.dataset.height === undefined) { div.dataset.height = div.layout.height || ""; }
      var height = printing ? div.parentNode.getBoundingClientRect().height
                            : (Number(div.dataset.height) || null);
      Plotly.relayout(div, {height: height});
      Plotly.Plots.resize(div);
    }
  }
  if (window.matchMedia) {
    window.matchMedia("print").addListener(function () { fit(); });
  }
  window.addEventListener("beforeprint", fit);
  window.addEventListener("afterprint", fit);
})();</script>"""
"""The one script that draws the page's charts from their JSON data."""
