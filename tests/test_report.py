"""The HTML report: self-contained, every chart captioned, every ledger entry cited, escaped."""

from __future__ import annotations

import html
import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest

from creditlab.cli.main import cli
from creditlab.engine import replay, replay_file, shipped_vocabulary
from creditlab.engine.analysis.asymmetry import asymmetry
from creditlab.engine.analysis.matrix import Behaviour, behaviour_matrix
from creditlab.engine.describe import describe_source
from creditlab.engine.views.chart_base import MISSING_ATTRIBUTE, NO_NUMBER, entry_sign
from creditlab.engine.views.charts import ReplayIndex, axis_for, subject_charts
from creditlab.engine.views.heat_map import heat_map_chart, history_matrix
from creditlab.engine.views.report import build_report
from creditlab.engine.views.scheme_charts import scheme_chart
from creditlab.engine.views.timelines import change_range, trajectory_chart

from conftest import ROOT, points, rule
from history_builder import history, person

EXAMPLE = ROOT / "fixtures" / "example.yaml"
SCHEMES = ["meritown_2019", "rongcheng_dongdao_lujia", "suining_county", "fuzhou_yuming"]



CLI = cli


class Page(HTMLParser):
    """Collects what the tests look at: attributes, figures and their parts (their kind, the
    heading they carry, the subject section they sit in), ledger rows."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.attrs: list[tuple[str, str, str]] = []
        self.figures: list[dict[str, Any]] = []
        self.rows: dict[str, str] = {}
        self._figure: dict[str, Any] | None = None
        self._caption = False
        self._row: str | None = None
        self._text: list[str] = []
        self._section: str | None = None
        self._heading = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.attrs += [(tag, k, v) for k, v in found.items()]
        if tag == "section" and "subject" in found.get("class", "").split():
            self._section = found.get("id")
        elif tag == "figure" and "chart" in found.get("class", "").split():
            self._figure = {"id": found.get("id"), "kind": found.get("data-chart"),
                            "section": self._section, "title": "", "charts": 0,
                            "caption": ""}
        elif tag == "h3" and self._figure is not None:
            self._heading = True
        elif tag == "div" and "plotly-graph-div" in found.get("class", "") \
                and self._figure is not None:
            self._figure["charts"] += 1
        elif tag == "figcaption":
            self._caption = True
        elif tag == "tr" and found.get("id", "").startswith("ledger-"):
            self._row, self._text = found["id"], []

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None
        elif tag == "h3":
            self._heading = False
        elif tag == "figure" and self._figure is not None:
            self.figures.append(self._figure)
            self._figure = None
        elif tag == "figcaption":
            self._caption = False
        elif tag == "tr" and self._row is not None:
            self.rows[self._row] = " ".join(self._text)
            self._row = None

    def handle_data(self, data: str) -> None:
        if self._caption and self._figure is not None:
            self._figure["caption"] += data
        if self._heading and self._figure is not None:
            self._figure["title"] += data
        if self._row is not None:
            self._text.append(data)


def parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def charts_of(page: str) -> set[str]:
    """The page's charts as `kind` or `kind-subject` (`Chart.key`), the subject read from
    the figure's heading: the page's element ids are numbers, not subjects' ids."""
    return {f["kind"] if f["section"] is None else f"{f['kind']}-{f['title'].split(':')[0]}"
            for f in parse(page).figures}


@pytest.fixture(scope="module")
def example() -> Any:
    return replay_file(EXAMPLE, SCHEMES)


@pytest.fixture(scope="module")
def full_page(example: Any) -> str:
    codes = sorted({e.type for e in example.history.events})
    matrix = behaviour_matrix(example.schemes, shipped_vocabulary(), codes=codes)
    return build_report(example, matrix=matrix, asymmetry=asymmetry(example.schemes))


def test_self_contained_no_network_reference(full_page: str) -> None:
    page = parse(full_page)
    linked = [(tag, k, v) for tag, k, v in page.attrs
              if k in ("src", "href", "action", "data", "poster", "srcset", "xlink:href")]
    assert not [x for x in linked if re.match(r"\s*(https?:)?//", x[2])]
    assert not [tag for tag, k, _ in page.attrs if tag in ("script", "link") and k in
                ("src", "href")], "the page loads nothing: scripts and styles are inline"
    assert full_page.count("plotly.js v") >= 1  # the bundle is embedded ...
    assert full_page.count("<script type=\"text/javascript\">/**") == 1  # ... once


def test_every_chart_has_a_caption(full_page: str, example: Any) -> None:
    page = parse(full_page)
    charts = charts_of(full_page)
    subjects = sorted(example.history.subjects)
    assert {f"trajectory-{s}" for s in subjects} <= charts
    assert {"scheme", "heat-map", "asymmetry"} <= charts
    assert [f["kind"] for f in page.figures].count("scheme") == len(SCHEMES)
    assert [f["id"] for f in page.figures] == [f"figure-{n}"
                                                for n in range(1, len(page.figures) + 1)]
    assert [f["section"] for f in page.figures if f["kind"] == "trajectory"] == \
        [f"subject-{i}" for i in range(1, len(subjects) + 1)]
    for figure in page.figures:
        assert figure["charts"] == 1, figure["id"]
        assert len(figure["caption"].split()) >= 20, figure["id"]
    assert full_page.count('class="plotly-graph-div"') == len(page.figures)


def test_every_ledger_entry_in_the_table_with_its_quote(full_page: str, example: Any) -> None:
    rows = parse(full_page).rows
    assert len(rows) == len(example.ledger)
    schemes = {s.id: s for s in example.schemes}
    for n, entry in enumerate(example.ledger, start=1):
        row = rows[f"ledger-{n}"]
        quote = schemes[entry.scheme].rule(entry.rule).source.quote
        for text in (entry.event, entry.scheme, entry.rule, quote):
            assert text in row, (n, text)


def test_hover_of_each_step_lists_the_rules_and_their_quotes(example: Any) -> None:
    charts = subject_charts(example, sorted(example.history.subjects))
    index = ReplayIndex(example)
    hovers = {c.key: " ".join(html.unescape(" ".join(t.replace("<br>", " ").split()))
                              for trace in c.figure.data for t in trace.hovertext)
              for c in charts}
    schemes = {s.id: s for s in example.schemes}
    for n, entry in enumerate(example.ledger, start=1):
        hover = hovers[f"trajectory-{entry.subject}"]
        assert f"ledger #{n}</b>" in hover
        assert index.number[(entry.event, entry.scheme, entry.rule, entry.kind)] == n
        quote = schemes[entry.scheme].rule(entry.rule).source.quote
        assert " ".join(quote.split()) in hover


def test_axis_is_an_explicit_choice(make_scheme: Any) -> None:
    scaled = make_scheme(scale={"min": 0, "max": 200, "start": 100})
    bare = make_scheme()
    assert axis_for(scaled).kind == "share_of_scale"
    assert axis_for(scaled).position(scaled, Decimal(150), Decimal(100)) == 75.0
    assert axis_for(bare).kind == "change_from_start"
    assert "no minimum" in axis_for(bare).reason
    assert axis_for(bare).position(bare, Decimal(990), Decimal(1000)) == -10.0
    assert axis_for(bare).show(bare, Decimal(990), Decimal(1000)).startswith("-10 points")


def test_trajectory_positions_follow_the_ledger(example: Any) -> None:
    chart = next(c for c in subject_charts(example, ["lu"]) if c.key == "trajectory-lu")
    trace = next(t for t in chart.figure.data if t.legendgroup == "rongcheng_dongdao_lujia")
    entries = [e for e in example.ledger
               if e.subject == "lu" and e.scheme == "rongcheng_dongdao_lujia"]
    outcome = example.outcome("lu", "rongcheng_dongdao_lujia")
    assert trace.y[0] == 0
    assert trace.y[-1] == float(outcome.score - outcome.start)
    assert min(trace.y) == float(min(e.score_after for e in entries) - outcome.start)


def test_scheme_text_is_escaped(make_scheme: Any) -> None:
    evil = "<script>alert('x')</script> & “quoted”"
    source = {"kind": "seed", "file": "<b>file</b>.txt", "quote": evil}
    scheme = make_scheme(
        rule("r1", "traffic.red_light", points(-5), source=source, title="<i>red</i>",
             direction="penalty"), id="evil_scheme",
        bands=[{"label": "<A>", "range": {"min": 900}, "source": source,
                "fidelity": "documented"}])
    hist = history([person("p<1>")], [{"id": "e<1>", "subject": "p<1>", "at": "2020-01-01",
                                       "type": "traffic.red_light", "as": "driver"}],
                   name="<em>name</em>", description="<script>bad()</script>")
    result = replay(hist, [scheme])
    page = build_report(result)
    assert "<script>alert" not in page and "<script>bad" not in page
    assert "<b>file</b>" not in page and "<em>name</em>" not in page
    assert "&lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt;" in page
    assert "&lt;em&gt;name&lt;/em&gt;" in page
    row = parse(page).rows["ledger-1"]
    assert evil in row and "e<1>" in row  # escaped in the HTML, the same text when read


def test_deterministic_and_progress(example: Any) -> None:
    calls: list[tuple[str, int, int]] = []
    first = build_report(example, progress=lambda *a: calls.append(a))
    assert first == build_report(example)
    # a chart per scheme, then one per person: 4 + 4
    assert calls[0] == ("charts", 0, 8) and calls[-1] == ("charts", 8, 8)


def test_subjects_chosen_and_ledger_limited(example: Any, monkeypatch: Any) -> None:
    import creditlab.engine.views.report as report_module

    monkeypatch.setattr(report_module, "LEDGER_ROWS", 3)
    page = build_report(example, subjects=["lu"])
    assert charts_of(page) == {"trajectory-lu", "scheme"}
    lu = [e for e in example.ledger if e.subject == "lu"]
    assert f"The first 3 of {len(lu)} entries." in page
    assert len(parse(page).rows) == 3


def test_unknown_subject_is_bad_input(runner: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(CLI, ["report", str(EXAMPLE), "--subject", "wnag", "-o", str(out)])
    assert res.exit_code == 1
    assert "no subject 'wnag'" in res.output and "did you mean 'wang'" in res.output
    assert not out.exists()


def test_cli_writes_the_report(runner: Any, tmp_path: Path) -> None:
    out = tmp_path / "r.html"
    res = runner.invoke(CLI, ["report", str(EXAMPLE), "--scheme", "suining_county",
                              "--scheme", "meritown_2019", "-o", str(out)])
    assert res.exit_code == 0, res.output
    assert f"Wrote {out}" in res.output
    page = out.read_text(encoding="utf-8")
    assert {"heat-map", "asymmetry", "trajectory-wang"} <= charts_of(page)
    scheme = next(s for s in replay_file(EXAMPLE, ["suining_county"]).schemes)
    assert describe_source(scheme.rules[0].source).split("“")[0].strip() in page


def test_cli_stdout_and_switches(runner: Any) -> None:
    res = runner.invoke(CLI, ["report", str(EXAMPLE), "--scheme", "suining_county",
                              "--no-heat-map", "--no-asymmetry", "-o", "-"])
    assert res.exit_code == 0
    charts = charts_of(res.output)
    assert "heat-map" not in charts and "asymmetry" not in charts
    assert res.output.startswith("<!DOCTYPE html>")


@pytest.mark.parametrize("args, code, phrase", [
    (["report", str(EXAMPLE)], 2, "Missing option '-o'"),
    (["report", "missing.yaml", "-o", "x.html"], 1, "missing.yaml"),
    (["report", str(EXAMPLE), "--scheme", "nope", "-o", "x.html"], 1, "unknown scheme 'nope'"),
    (["report", str(EXAMPLE), "-o", "/nonexistent-dir/x.html"], 1, "cannot write"),
])
def test_cli_errors(runner: Any, args: list[str], code: int, phrase: str) -> None:
    res = runner.invoke(CLI, args)
    assert res.exit_code == code
    assert phrase in res.output


def test_help_has_an_example(runner: Any) -> None:
    res = runner.invoke(CLI, ["report", "--help"])
    assert res.exit_code == 0
    assert "Example:" in res.output and "creditlab report" in res.output


# --- a page people can use: contents, one scale per scheme, names, signs, print ------------

SECTIONS = ["contents", "schemes", "side-by-side", "people", "behaviours", "asymmetry",
            "standings", "ledger"]


def test_contents_links_resolve_to_sections(full_page: str, example: Any) -> None:
    page = parse(full_page)
    ids = {v for _, k, v in page.attrs if k == "id"}
    links = [v[1:] for tag, k, v in page.attrs if tag == "a" and k == "href"
             and v.startswith("#")]
    assert set(SECTIONS) <= ids
    assert set(links) <= ids, set(links) - ids
    assert set(SECTIONS) - {"contents"} <= set(links)
    assert {f"scheme-{i}" for i in range(1, len(SCHEMES) + 1)} <= set(links)
    assert {f"subject-{i}" for i in range(1, len(example.history.subjects) + 1)} <= set(links)


def test_each_scheme_puts_the_people_on_its_own_scale(example: Any) -> None:
    index = ReplayIndex(example)
    people = sorted(example.history.subjects)
    for scheme in example.schemes:
        chart = scheme_chart(index, scheme, people)
        assert chart is not None
        assert {t.name.split(" (")[0] for t in chart.figure.data
                if t.type == "scatter" and t.legendgroup} == set(people)
        axis = chart.figure.layout.yaxis
        if scheme.scale.min is not None and scheme.scale.max is not None:
            assert axis.range[0] <= float(scheme.scale.min)
            assert axis.range[1] >= float(scheme.scale.max)
            assert "documented scale" in axis.title.text
            lines = [t for t in chart.figure.data if t.type == "scatter" and t.legendgroup]
            assert all(y >= float(scheme.scale.min) for t in lines for y in t.y)
        else:
            assert "no documented scale" in axis.title.text
            assert axis.range[0] < 0 < axis.range[1] or axis.range[0] <= 0
        assert scheme.city in chart.title and scheme.name.en in chart.title


def test_every_person_shares_the_axes(example: Any) -> None:
    index = ReplayIndex(example)
    people = sorted(example.history.subjects)
    span = change_range(index, people)
    ranges = set()
    for sid in people:
        chart = trajectory_chart(index, sid, span)
        assert chart is not None
        layout = chart.figure.layout
        assert list(layout.yaxis.range) == [-3.0, 103.0]  # share of the scale: 0-100 %
        ranges.add(tuple(layout.yaxis2.range))
    assert len(ranges) == 1, "one points-from-the-start axis for everyone"


def test_band_strips_are_dated_from_the_ledger_lapse_included() -> None:
    result = replay_file(EXAMPLE, ["weihai_wendeng"])
    chart = scheme_chart(ReplayIndex(result), result.schemes[0], ["wang"])
    assert chart is not None
    bar = next(t for t in chart.figure.data if t.type == "bar")
    starts = [b[:10] for b in bar.base]
    aaa = list(bar.text).index("AAA")
    assert starts[aaa] == "2019-03-02"
    assert starts[aaa + 1] == "2020-03-02"  # the lapse's own day, not wang's next event


def test_heat_map_rows_are_the_history_behaviours(example: Any) -> None:
    matrix = history_matrix(example, shipped_vocabulary())
    assert matrix is not None
    labels = [b.label() for b, _ in matrix.rows]
    expected = {Behaviour(e.type, dict(sorted(e.attrs.items()))).label()
                for e in example.history.events}
    assert set(labels) == expected and len(labels) == len(expected)
    assert [x for x in labels if x.startswith("volunteer.service")] == \
        ["volunteer.service hours=300", "volunteer.service hours=40"]
    chart = heat_map_chart(matrix)
    assert len(chart.figure.data[0].y) == len(labels)
    assert "Yuming Points" in " ".join(chart.figure.data[0].x)


def test_two_fuzhous_are_told_apart_by_name_and_city() -> None:
    result = replay_file(EXAMPLE, ["fuzhou_yuming", "fuzhou_jasmine"])
    page = build_report(result, subjects=["lu"])
    titles = [f["title"] for f in parse(page).figures if f["kind"] == "scheme"]
    assert any("Yuming Points" in t and "Fuzhou (抚州)" in t for t in titles)
    assert any("Jasmine Points" in t and "Fuzhou (福州)" in t for t in titles)


def _signs_replay(make_scheme: Any) -> Any:
    formula = {"kind": "formula", "attr": "amount_rmb", "per": 100, "per_points": 1}
    scheme = make_scheme(
        rule("r_found", "good_deed.return_lost_property", formula),
        rule("r_petition", "petition.local_government", {"kind": "unquantified"},
             direction="penalty"),
        id="signs_scheme", scale={"min": 0, "max": 2000, "start": 1000})
    hist = history([person("p1")], [
        {"id": "e1", "subject": "p1", "at": "2020-01-01", "type": "good_deed.return_lost_property"},
        {"id": "e2", "subject": "p1", "at": "2020-02-01", "type": "petition.local_government"},
        {"id": "e3", "subject": "p1", "at": "2020-03-01", "type": "good_deed.return_lost_property",
         "amount_rmb": 500}])
    return replay(hist, [scheme])


def test_missing_attribute_has_its_own_sign(make_scheme: Any) -> None:
    result = _signs_replay(make_scheme)
    missing, silent = (e for e in result.ledger if e.points is None)
    assert entry_sign(missing) == MISSING_ATTRIBUTE and entry_sign(silent) == NO_NUMBER
    assert MISSING_ATTRIBUTE != NO_NUMBER
    chart = scheme_chart(ReplayIndex(result), result.schemes[0], ["p1"])
    assert chart is not None
    legend = {t.name: list(t.text) for t in chart.figure.data
              if t.type == "scatter" and t.mode == "markers+text"}
    assert legend == {f"{MISSING_ATTRIBUTE} a rule fired but the event lacks the attribute "
                      "its points depend on (the ledger names it)": [MISSING_ATTRIBUTE],
                      f"{NO_NUMBER} a rule fired but its source gives no number": [NO_NUMBER]}
    page = build_report(result)
    rows = parse(page).rows
    assert f" {MISSING_ATTRIBUTE} " in f" {rows['ledger-1']} "
    assert f" {NO_NUMBER} " in f" {rows['ledger-2']} "
    key = page[page.index('<dl class="signs">'):]
    assert f"<dt>{MISSING_ATTRIBUTE}</dt>" in key and f"<dt>{NO_NUMBER}</dt>" in key
    matrix = history_matrix(result, shipped_vocabulary())
    assert matrix is not None
    texts = [t for row in heat_map_chart(matrix).figure.data[0].text for t in row]
    assert MISSING_ATTRIBUTE in texts and NO_NUMBER in texts and "+5" in texts


def test_ledger_wraps_and_the_page_prints(full_page: str) -> None:
    style = full_page[full_page.index("<style>"):full_page.index("</style>")]
    assert "overflow-x" not in style and 'class="wide"' not in full_page
    assert "td.source{overflow-wrap:anywhere}" in style
    assert "table.ledger{table-layout:fixed}" in style  # the columns share the page's width
    printed = style[style.index("@media print"):]
    assert "break-before:page" in printed and ".modebar-container{display:none" in printed
    assert "@page" in style


def test_population_only_when_asked_or_many(example: Any) -> None:
    assert 'id="population"' not in build_report(example)
    page = build_report(example, population=True)
    assert 'id="population"' in page and 'href="#population"' in page
    assert [f["kind"] for f in parse(page).figures].count("population") == len(SCHEMES)


def test_cli_population_switch(runner: Any) -> None:
    args = ["report", str(EXAMPLE), "--scheme", "suining_county", "--no-heat-map",
            "--no-asymmetry", "-o", "-"]
    assert 'id="population"' not in runner.invoke(CLI, args).output
    res = runner.invoke(CLI, [*args, "--population"])
    assert res.exit_code == 0 and 'id="population"' in res.output


def test_a_history_without_events_gives_a_page(make_scheme: Any) -> None:
    result = replay(history([person("p1")], []), [make_scheme()])
    page = build_report(result, population=True)
    assert page.endswith("</body></html>") and 'id="contents"' in page
    assert not parse(page).figures or all(f["kind"] == "population"
                                          for f in parse(page).figures)
