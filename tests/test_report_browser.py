"""The report in a real browser: headless Chromium renders it, with charts and no errors.

Chromium is Debian's `chromium` package (`.ci/run` installs it). Without it the test fails
in CI (CI=true) and is skipped elsewhere, saying why. Screenshots are kept in
tests/artifacts/ for a person to look at.
"""

from __future__ import annotations

import os
import re
import shutil
import struct
import subprocess
import zlib
from pathlib import Path
from typing import Any

import pytest

from creditlab.cli.main import cli
from creditlab.engine import replay_file, shipped_vocabulary
from creditlab.engine.analysis.asymmetry import asymmetry
from creditlab.engine.views.heat_map import history_matrix
from creditlab.engine.views.report import build_report

from conftest import ROOT, replace_file

ARTIFACTS = ROOT / "tests" / "artifacts"
EXAMPLE = ROOT / "fixtures" / "example.yaml"
PERSONAS = ROOT / "fixtures" / "personas"
EXAMPLE_SCHEMES = ["meritown_2019", "rongcheng_dongdao_lujia", "suining_county",
                   "fuzhou_yuming"]



CLI = cli

# Injected into the test copy only: records uncaught errors, rejected promises and
# console.error calls, and writes them into <pre id="console-errors"> once the page has
# loaded, so that --dump-dom shows them.
PROBE = """<script>(function(){var errs=[];function rec(m){errs.push(String(m));}
window.addEventListener("error",function(e){rec("error: "+e.message);});
window.addEventListener("unhandledrejection",function(e){rec("unhandled rejection: "+e.reason);});
var orig=console.error;console.error=function(){
rec("console.error: "+Array.prototype.join.call(arguments," "));
return orig.apply(console,arguments);};
window.addEventListener("load",function(){setTimeout(function(){
var p=document.createElement("pre");p.id="console-errors";p.setAttribute("data-done","yes");
p.textContent=errs.join("\\n");document.body.appendChild(p);},500);});})();</script>"""

FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
         "--disable-background-networking", "--disable-component-update", "--disable-sync",
         "--virtual-time-budget=10000"]


@pytest.fixture(scope="module")
def chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        message = ("headless Chromium is needed to test the HTML report in a browser: "
                   "install Debian's package (apt-get install -y chromium)")
        if os.environ.get("CI") == "true":
            pytest.fail(message + "; .ci/run installs it in CI")
        pytest.skip(message)
    return path


def _browse(chromium: str, page: Path, tmp: Path, *args: str) -> str:
    done = subprocess.run([chromium, *FLAGS, f"--user-data-dir={tmp / 'profile'}", *args,
                           page.as_uri()], capture_output=True, text=True, timeout=180,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    return done.stdout


def _png_pixels(path: Path) -> tuple[int, int, bytes]:
    """Width, height and the inflated image data of a PNG (filter bytes included)."""
    data = path.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, width, height, idat = 8, 0, 0, b""
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height = struct.unpack(">II", body[:8])
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    return width, height, zlib.decompress(idat)


FIGURE = re.compile(r'<figure class="chart" id="figure-(\d+)" data-chart="([^"]+)">'
                    r'<h3>([^<:]*)')


def _charts_in(dom: str) -> dict[str, str]:
    """Each chart of the rendered DOM and its markup, up to the next chart, by its kind and
    number (`trajectory-1`): the page numbers its figures rather than naming them by a
    subject's id."""
    starts = [(m.start(), f"{m.group(2)}-{m.group(1)}") for m in FIGURE.finditer(dom)]
    return {key: dom[start:(starts[i + 1][0] if i + 1 < len(starts) else len(dom))]
            for i, (start, key) in enumerate(starts)}


def _subjects_in(dom: str) -> set[str]:
    """The subjects whose trajectory is on the page, read from the figures' headings."""
    return {m.group(3) for m in FIGURE.finditer(dom) if m.group(2) == "trajectory"}


def _check(chromium: str, html_file: Path, tmp: Path, screenshot: Path) -> dict[str, str]:
    source = html_file.read_text(encoding="utf-8")
    probe = tmp / f"probe-{html_file.name}"
    probe.write_text(source.replace("<head>", "<head>" + PROBE, 1), encoding="utf-8")
    dom = _browse(chromium, probe, tmp, "--dump-dom")
    errors = re.search(r'<pre id="console-errors" data-done="yes">(.*?)</pre>', dom, re.S)
    assert errors is not None, "the page never finished loading"
    assert errors.group(1).strip() == "", f"errors in the browser console:\n{errors.group(1)}"
    charts = _charts_in(dom)
    expected = [f"{kind}-{n}" for n, kind, _ in FIGURE.findall(source)]
    assert sorted(charts) == sorted(expected) and expected
    for key, markup in charts.items():
        assert 'class="main-svg"' in markup, f"{key}: plotly drew nothing"
        drawn = re.findall(r'class="trace (?:scatter|bars|boxes)|<g class="hm"><image', markup)
        assert drawn, f"{key}: the chart has no traces"
        if key.startswith(("trajectory-", "scheme-")):
            assert re.search(r'class="js-line" d="M[^"]+"', markup), f"{key}: no line drawn"
        if key.startswith(("bands-", "asymmetry", "scheme-", "population-")):
            assert re.search(r'class="point"><path d="M[^"]+"', markup), f"{key}: no bar"
        if key.startswith("heat-map"):
            assert 'href="data:image/png;base64,' in markup, "heat map: no image"
    # Drawn in the test's own folder, then kept in tests/artifacts/ in one rename, so that
    # runs side by side (xdist workers, two runs in one working tree) never read half a
    # screenshot. Kept before it is checked: a bad one is there to look at.
    shot = tmp / screenshot.name
    _browse(chromium, html_file, tmp, f"--screenshot={shot}", "--window-size=1400,2400")
    ARTIFACTS.mkdir(exist_ok=True)
    replace_file(screenshot, shot.read_bytes())
    width, height, pixels = _png_pixels(shot)
    assert (width, height) == (1400, 2400)
    assert len(set(pixels[:len(pixels) // 2])) > 16, "the screenshot is blank"
    return charts


def test_example_report_renders_in_chromium(chromium: str, runner: Any,
                                            tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    args = ["report", str(EXAMPLE), *(x for s in EXAMPLE_SCHEMES for x in ("--scheme", s)),
            "-o", str(out)]
    res = runner.invoke(CLI, args)
    assert res.exit_code == 0, res.output
    charts = _check(chromium, out, tmp_path, ARTIFACTS / "report.png")
    assert {"trajectory", "scheme", "heat-map", "asymmetry"} <= \
        {key.rsplit("-", 1)[0] for key in charts}
    assert "wang" in _subjects_in(out.read_text(encoding="utf-8"))


def test_persona_report_renders_in_chromium(chromium: str, runner: Any,
                                            tmp_path: Path) -> None:
    personas = sorted(PERSONAS.glob("*.yaml"))
    if not personas:
        pytest.skip("no persona in fixtures/personas/ yet")
    persona = next((p for p in personas if p.stem == "rural_farmer"), personas[0])
    out = tmp_path / "persona.html"
    res = runner.invoke(CLI, ["report", str(persona), "-o", str(out)])
    assert res.exit_code == 0, res.output
    _check(chromium, out, tmp_path, ARTIFACTS / "report-persona.png")


SECTIONS = ["contents", "schemes", "side-by-side", "scheme-1", "people", "subject-1",
            "behaviours", "asymmetry", "population", "standings", "ledger"]
"""The parts of the page a person looks at, by their anchors."""

# Injected into a copy: once the charts are drawn, moves the part named by its anchor to the
# top of the page, so that a screenshot of the window's size shows it as a reader scrolled
# there sees it.
TO_TOP = """<script>window.addEventListener("load",function(){setTimeout(function(){
var e=document.getElementById("ANCHOR");
if(e){document.body.insertBefore(e,document.body.firstChild);}},800);});</script>"""


# Injected into a copy: once the charts are drawn, writes the page's width and the
# window's, so that --dump-dom shows whether anything (a table, a chart) scrolls sideways.
WIDTH = """<script>window.addEventListener("load",function(){setTimeout(function(){
var p=document.createElement("pre");p.id="page-width";
p.textContent=document.documentElement.scrollWidth+" "+window.innerWidth;
document.body.appendChild(p);},800);});</script>"""


@pytest.mark.slow
def test_every_section_resolves_and_reads_at_1280x720(chromium: str, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    # The page `creditlab report` writes, with the Population section, which it shows for a
    # history of more than POPULATION_FROM people: asked for here.
    result = replay_file(EXAMPLE, EXAMPLE_SCHEMES)
    out.write_text(build_report(result, matrix=history_matrix(result, shipped_vocabulary()),
                                asymmetry=asymmetry(result.schemes), population=True),
                   encoding="utf-8")
    source = out.read_text(encoding="utf-8")
    measured = tmp_path / "measured.html"
    measured.write_text(source.replace("<head>", "<head>" + WIDTH, 1), encoding="utf-8")
    dom = _browse(chromium, measured, tmp_path, "--dump-dom", "--window-size=1280,720")
    width = re.search(r'<pre id="page-width">(\d+) (\d+)</pre>', dom)
    assert width is not None, "the page never finished loading"
    assert int(width.group(1)) <= int(width.group(2)), "the page scrolls sideways at 1280 px"
    ids = set(re.findall(r' id="([^"]+)"', dom))
    links = set(re.findall(r'<a href="#([^"]+)"', dom))
    assert set(SECTIONS) <= ids, set(SECTIONS) - ids
    assert links <= ids, f"contents links that lead nowhere: {links - ids}"
    assert set(SECTIONS) - {"contents"} <= links
    ARTIFACTS.mkdir(exist_ok=True)
    for anchor in SECTIONS:
        copy = tmp_path / f"at-{anchor}.html"
        copy.write_text(source.replace("<head>", "<head>" + TO_TOP.replace("ANCHOR", anchor), 1),
                        encoding="utf-8")
        shot = tmp_path / f"report-{anchor}.png"
        _browse(chromium, copy, tmp_path, f"--screenshot={shot}", "--window-size=1280,720",
                "--hide-scrollbars")
        replace_file(ARTIFACTS / f"report-{anchor}.png", shot.read_bytes())
        width, height, pixels = _png_pixels(shot)
        assert (width, height) == (1280, 720)
        assert len(set(pixels)) > 16, f"{anchor}: the screenshot is blank"


PRINTED_PAGES = 26
"""A4 landscape pages of the example's report through all 31 schemes when printed (24 with
21 schemes; 30 before scheme charts were fitted four to a page in print): a regression
guard."""


@pytest.mark.slow
def test_the_example_prints_in_a_bounded_number_of_pages(chromium: str, runner: Any,
                                                          tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = runner.invoke(cli, ["report", str(ROOT / "fixtures" / "example.yaml"),
                                 "-o", str(page)])
    assert result.exit_code == 0, result.output
    pdf = tmp_path / "report.pdf"
    _browse(chromium, page, tmp_path, "--no-pdf-header-footer", f"--print-to-pdf={pdf}")
    counts = [int(n) for n in re.findall(rb"/Count (\d+)", pdf.read_bytes())]
    assert counts and max(counts) <= PRINTED_PAGES, max(counts, default=0)
