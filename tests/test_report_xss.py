"""The report runs no script from a history or a scheme, and shows their text as text.

A history and user scheme files (copies of shipped schemes) carry the payloads below in
every string they can hold: the history's name and description, subject ids, event ids, a
string attribute (the shipped vocabulary has none: a copy adds one), the schemes' names,
cities, band labels (so the grades reclassifications give), rule titles, source files and
quotes. Scheme and rule ids and list flags cannot carry them: the loader takes only
lower-case words. The page is then read two ways: parsed (no element, attribute or script
made from a payload; every figure's JSON safe inside its `<script>`), and opened in
headless Chromium, which hovers over points of every chart (plotly writes hover texts as
HTML only then) and reports `window.__xss`: it must be undefined, and every subject's
charts drawn. Like tests/test_report_browser.py, the browser part fails in CI (CI=true)
without Chromium and is skipped elsewhere; its screenshot is kept in
tests/artifacts/report-xss.png.
"""

from __future__ import annotations

import hashlib
import html
import json
import re
import subprocess
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
import yaml
from test_report_browser import FLAGS, _png_pixels, chromium  # noqa: F401

from creditlab.engine import replay
from creditlab.engine.analysis.asymmetry import asymmetry
from creditlab.engine.inputs.history_files import parse_history
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.located import Located
from creditlab.engine.inputs.vocabulary import load_vocabulary
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.heat_map import history_matrix
from creditlab.engine.views.report import build_report

from conftest import ROOT, replace_file

PAYLOADS = ['"><img src=x onerror="window.__xss=1">',
            "</script><script>window.__xss=2</script>",
            "<svg onload=window.__xss=3>",
            "javascript:window.__xss=4",
            '"', "'", "\u2028"]
ALL = "".join(PAYLOADS)
"""Every payload in one string: what each text field of the history and schemes carries."""
SUBJECTS = [f"s{i}{p}" for i, p in enumerate(PAYLOADS)] + [f"all{ALL}"]
QUOTED = SUBJECTS[PAYLOADS.index('"')]
SCHEMES = ["meritown_2019", "fuzhou_yuming"]
PARTS = {"contents", "schemes", "side-by-side", "people", "behaviours", "asymmetry",
         "population", "standings", "ledger"}
"""The page's parts: anchors that are fixed words, never made from the input."""


def _vocabulary(tmp: Path) -> Any:
    """The shipped vocabulary plus a string attribute (`note`) on volunteer.service."""
    text = (ROOT / "schemes" / "vocabulary.yaml").read_text(encoding="utf-8")
    anchor = "  volunteer.service:\n    doc: Volunteer service performed; one event per " \
             "reported block of service.\n    attrs: {hours: {type: number, required: true}"
    assert anchor in text
    path = tmp / "vocabulary.yaml"
    path.write_text(text.replace(anchor, anchor + ", note: {type: str}", 1), encoding="utf-8")
    return load_vocabulary(path)


def _poison(node: Any, labels: dict[str, str]) -> None:
    """Payloads into every quote, rule title and seed file; grades renamed with the bands.

    List flags cannot carry them: the loader takes only a lower-case word.
    """
    if isinstance(node, list):
        for item in node:
            _poison(item, labels)
        return
    if not isinstance(node, dict):
        return
    if isinstance(node.get("quote"), str):
        node["quote"] += " " + ALL
    if node.get("kind") == "seed":
        node["file"] = ALL + node["file"]
    if node.get("kind") == "reclassify":
        node["grade"] = labels[node["grade"]]
    if "match" in node and isinstance(node.get("title"), str):
        node["title"] += ALL
    for value in node.values():
        _poison(value, labels)


def _scheme(name: str, tmp: Path, vocabulary: Any) -> Any:
    """A user's copy of a shipped scheme with the payloads in its text, loaded as one."""
    data = yaml.safe_load((ROOT / "schemes" / f"{name}.yaml").read_text(encoding="utf-8"))
    data["name"] = {"en": data["name"]["en"] + ALL, "zh": ALL}
    data["city"] += ALL
    labels = {b["label"]: b["label"] + ALL for b in data["bands"]}
    for band in data["bands"]:
        band["label"] = labels[band["label"]]
    _poison(data, labels)
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    return load_scheme(path, vocabulary)


def _history(vocabulary: Any) -> Any:
    events = []
    for i, sid in enumerate(SUBJECTS):
        for k, (kind, attrs) in enumerate([
                ("volunteer.service", {"hours": 300, "note": ALL}),
                ("traffic.drunk_driving", {"severity": "drinking"}),
                ("court.judgment_default", {}),
                ("petition.local_government", {})]):
            events.append({"id": f"e{i}.{k}{ALL}", "subject": sid, "type": kind,
                           "at": f"2020-0{k + 2}-1{i}", **attrs})
    data = {"name": f"History {ALL}", "description": f"About {ALL}",
            "subjects": [{"id": sid, "kind": "person", "residence": "urban"}
                         for sid in SUBJECTS],
            "events": events}
    digest = "sha256:" + hashlib.sha256(json.dumps(data).encode()).hexdigest()
    return parse_history(Located(data, "<xss>", {}), digest, vocabulary)


@pytest.fixture(scope="module")
def poisoned(tmp_path_factory: pytest.TempPathFactory) -> tuple[Replay, str]:
    tmp = tmp_path_factory.mktemp("xss")
    vocabulary = _vocabulary(tmp)
    schemes = [_scheme(name, tmp, vocabulary) for name in SCHEMES]
    result = replay(_history(vocabulary), schemes)
    # The heat map of the history's own behaviours carries its string attribute's payloads;
    # the Population section, asked for, its band labels and scheme names.
    page = build_report(result, matrix=history_matrix(result, vocabulary),
                        asymmetry=asymmetry(schemes, vocabulary=vocabulary), population=True)
    return result, page


class Page(HTMLParser):
    """Every element's tag and attributes, the text outside scripts, each script's body."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, dict[str, str]]] = []
        self.scripts: list[tuple[dict[str, str], str]] = []
        self.text: list[str] = []
        self._script: dict[str, str] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        self.tags.append((tag, found))
        if tag == "script":
            self._script = found
            self.scripts.append((found, ""))

    def handle_endtag(self, tag: str) -> None:
        if tag == "script":
            self._script = None

    def handle_data(self, data: str) -> None:
        if self._script is not None:
            attrs, body = self.scripts[-1]
            self.scripts[-1] = (attrs, body + data)
        else:
            self.text.append(data)


def _strings(node: Any) -> list[str]:
    """Every string in a figure's JSON."""
    if isinstance(node, str):
        return [node]
    if isinstance(node, dict):
        node = list(node.values())
    return [s for item in node for s in _strings(item)] if isinstance(node, list) else []


def _parse(page: str) -> Page:
    parser = Page()
    parser.feed(page)
    parser.close()
    return parser


def test_the_history_carries_every_payload(poisoned: tuple[Replay, str]) -> None:
    result, _ = poisoned
    assert set(result.history.subjects) == set(SUBJECTS)
    assert all(any(e.subject == sid for e in result.ledger) for sid in SUBJECTS)
    fired = {(e.scheme, e.type) for e in result.ledger}
    assert {("meritown_2019", "volunteer.service"), ("meritown_2019", "traffic.drunk_driving"),
            ("fuzhou_yuming", "court.judgment_default")} <= fired
    assert any(ALL in o.band for o in result.results if o.band)
    assert any(o.flags for o in result.results)


def test_no_element_attribute_or_script_from_a_payload(poisoned: tuple[Replay, str]) -> None:
    _, page = poisoned
    parsed = _parse(page)
    tags = [tag for tag, _ in parsed.tags]
    assert "img" not in tags and "svg" not in tags
    for tag, attrs in parsed.tags:
        assert not [k for k in attrs if k.startswith("on")], (tag, attrs)
        for key, value in attrs.items():
            assert "xss" not in value and "javascript:" not in value, (tag, key, value)
        if "id" in attrs:
            assert re.fullmatch(r"(subject|scheme|figure|chart|ledger)-\d+(-figure)?",
                                attrs["id"]) or attrs["id"] in PARTS, attrs["id"]
    figures = [a for t, a in parsed.tags if t == "figure"]
    data = [(a, body) for a, body in parsed.scripts if a.get("type") == "application/json"]
    code = [body for a, body in parsed.scripts if "type" not in a or
            a["type"] == "text/javascript"]
    # The page's own scripts only: plotly.js, one JSON block per figure, the drawing script.
    assert len(data) == len(figures) and len(code) == 2
    assert all("xss" not in body for body in code)
    # No `</script` (any case) but the closing tags: none hides in a script's body.
    assert page.lower().count("</script") == len(parsed.scripts)
    strings: list[str] = []
    for attrs, body in data:
        assert not set(body) & {"<", ">", "&", "\u2028", "\u2029"}, attrs["id"]
        strings += _strings(json.loads(body))
    shown = html.escape(ALL, quote=False)
    assert any(shown in s for s in strings), "no figure shows the payloads, escaped"
    assert not any(ALL in s for s in strings), "a figure holds a payload unescaped"
    # Each subject has its section, the one with a `"` in its id too.
    sections = [a["id"] for t, a in parsed.tags if t == "section" and a["class"] == "subject"]
    assert sections == [f"subject-{i}" for i in range(1, len(SUBJECTS) + 1)]
    text = "".join(parsed.text)
    for payload in (*PAYLOADS, ALL, f"History {ALL}", f"About {ALL}", QUOTED):
        assert payload in text, payload
    assert f"e0.0{ALL}" in text


# Injected into the test copy only, after the page's own scripts: hovers over the first
# points of every trace of every chart (plotly draws hover texts as HTML only then), one
# at a time (plotly throttles hovers), then writes what it saw into the page.
PROBE = """<script>(function(){var errs=[];
window.addEventListener("error",function(e){errs.push("error: "+e.message);});
var orig=console.error;console.error=function(){
errs.push("console.error: "+Array.prototype.join.call(arguments," "));
return orig.apply(console,arguments);};
window.addEventListener("load",function(){
var jobs=[],seen=[];
document.querySelectorAll("div.plotly-graph-div").forEach(function(div){
(div._fullData||[]).forEach(function(trace,c){var sub=trace.xaxis+trace.yaxis;
var n=trace.type==="heatmap"?Math.min(trace.z.length,3):Math.min(trace._length||0,3);
for(var p=0;p<n;p++){jobs.push([div,c,trace.type==="heatmap"?[p,0]:p,sub]);}});});
function next(i){
if(i>0){var prev=jobs[i-1][0].querySelector(".hoverlayer");
if(prev){seen.push(prev.textContent);}}
if(i<jobs.length){try{Plotly.Fx.hover(jobs[i][0],[{curveNumber:jobs[i][1],
pointNumber:jobs[i][2]}],jobs[i][3]);}catch(e){errs.push("hover: "+e);}
setTimeout(function(){next(i+1);},80);return;}
var m=document.createElement("meta");m.id="xss-probe";
m.setAttribute("content",String(window.__xss));
m.setAttribute("data-hovers",String(jobs.length));document.head.appendChild(m);
var pre=document.createElement("pre");pre.id="hover-texts";
pre.textContent=seen.join("\\n");document.body.appendChild(pre);
var e=document.createElement("pre");e.id="console-errors";
e.textContent=errs.join("\\n");document.body.appendChild(e);}
setTimeout(function(){next(0);},300);});})();</script>"""


ARTIFACTS = ROOT / "tests" / "artifacts"


def _browse(browser: str, page: Path, tmp: Path, *args: str) -> str:
    """Chromium run on `page`, with virtual time for every hover the probe makes."""
    flags = [f for f in FLAGS if not f.startswith("--virtual-time-budget")]
    done = subprocess.run([browser, *flags, "--virtual-time-budget=60000",
                           f"--user-data-dir={tmp / 'profile'}", *args, page.as_uri()],
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


class Dom(HTMLParser):
    """The dumped DOM: the probe's findings, and each subject section's drawn charts."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.probe: dict[str, str] = {}
        self.pre: dict[str, str] = {}
        self.drawn: dict[str, int] = {}
        self.svg_text: list[str] = []
        self._section: str | None = None
        self._pre: str | None = None
        self._svg_text = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        if tag == "meta" and found.get("id") == "xss-probe":
            self.probe = found
        elif tag == "pre" and "id" in found:
            self._pre = found["id"]
            self.pre[self._pre] = ""
        elif tag == "section":
            self._section = found.get("id")
        elif tag in ("text", "tspan"):
            self._svg_text = True
        if self._section is not None and "plot-container" in found.get("class", "").split():
            self.drawn[self._section] = self.drawn.get(self._section, 0) + 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "section":
            self._section = None
        elif tag == "pre":
            self._pre = None
        elif tag in ("text", "tspan"):
            self._svg_text = False

    def handle_data(self, data: str) -> None:
        if self._pre is not None:
            self.pre[self._pre] += data
        if self._svg_text:
            self.svg_text.append(data)


def test_no_script_runs_in_chromium(chromium: str, poisoned: tuple[Replay, str],  # noqa: F811
                                    tmp_path: Path) -> None:
    _, page = poisoned
    html_file = tmp_path / "xss.html"
    html_file.write_text(page, encoding="utf-8")
    probe = tmp_path / "probe-xss.html"
    assert page.endswith("</body></html>")
    probe.write_text(page.removesuffix("</body></html>") + PROBE + "</body></html>",
                     encoding="utf-8")
    dom_text = _browse(chromium, probe, tmp_path, "--dump-dom")
    dom = Dom()
    dom.feed(dom_text)
    dom.close()
    assert dom.probe, "the probe never ran: the page did not finish loading"
    assert dom.probe["content"] == "undefined", f"a payload ran: window.__xss={dom.probe}"
    assert dom.pre.get("console-errors", "").strip() == "", dom.pre["console-errors"]
    assert int(dom.probe["data-hovers"]) > 50
    hovers = dom.pre["hover-texts"]
    # Hover texts, band labels and tick labels show the payloads as text, `"` included
    # (plotly would show an escaped `&quot;` as written).
    assert ALL.replace("\u2028", " ") in hovers.replace("\u2028", " ")
    assert f"e0.0{ALL}".replace("\u2028", " ") in hovers.replace("\u2028", " ")
    assert "&quot;" not in hovers and "&lt;" not in hovers and "&amp;" not in hovers
    assert "&quot;" not in "".join(dom.svg_text)
    # Every subject's chart is drawn, the one with a `"` in its id too, and every scheme's
    # chart of the people side by side (their bands with them).
    assert {k: v for k, v in dom.drawn.items() if k.startswith("subject-")} == \
        {f"subject-{i}": 1 for i in range(1, len(SUBJECTS) + 1)}, dom.drawn
    assert dom.drawn[f"subject-{sorted(SUBJECTS).index(QUOTED) + 1}"] == 1
    assert dom.drawn["side-by-side"] == len(SCHEMES), dom.drawn
    shot = tmp_path / "report-xss.png"
    _browse(chromium, html_file, tmp_path, f"--screenshot={shot}", "--window-size=1400,2400")
    ARTIFACTS.mkdir(exist_ok=True)
    replace_file(ARTIFACTS / "report-xss.png", shot.read_bytes())
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1400, 2400)
    assert len(set(pixels[:len(pixels) // 2])) > 16, "the screenshot is blank"
