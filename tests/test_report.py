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
from creditlab.engine.analysis.matrix import behaviour_matrix
from creditlab.engine.describe import describe_source
from creditlab.engine.views.charts import ReplayIndex, axis_for, subject_charts
from creditlab.engine.views.report import build_report

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
    assert {f"bands-{s}" for s in subjects} <= charts
    assert {"heat-map", "asymmetry"} <= charts
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
    trace = next(t for t in chart.figure.data if t.name.startswith("rongcheng_dongdao_lujia"))
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
    assert calls[0] == ("charts", 0, 4) and calls[-1] == ("charts", 4, 4)


def test_subjects_chosen_and_ledger_limited(example: Any, monkeypatch: Any) -> None:
    import creditlab.engine.views.report as report_module

    monkeypatch.setattr(report_module, "LEDGER_ROWS", 3)
    page = build_report(example, subjects=["lu"])
    assert charts_of(page) == {"trajectory-lu", "bands-lu"}
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
