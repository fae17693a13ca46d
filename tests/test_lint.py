"""creditlab lint: one invalid scheme file per check in fixtures/lint/, each marked on the
line the finding must name (`# lint: <code>`), a clean file with no finding, and the shipped
schemes, whose findings are the sources' own."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine.checks.lint import WHY, lint_file
from creditlab.engine.inputs.catalog import shipped_scheme_files
from creditlab.engine.views.findings import relative

ROOT = Path(__file__).resolve().parents[1]
FIXTURES = ROOT / "fixtures" / "lint"
MARK = re.compile(r"#\s*lint:\s*(?P<code>[a-z-]+)")
CASES = sorted(p for p in FIXTURES.glob("*.yaml") if p.stem != "clean")
LOAD_ERRORS = {"invalid-scheme", "rule-without-source", "rule-without-fidelity",
               "fidelity-without-note", "unknown-event-type", "unknown-attribute",
               "unknown-role", "unknown-cap-group", "never-in-force", "engine-limit"}


def marker(path: Path) -> tuple[str, int]:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        found = MARK.search(line)
        if found:
            return found.group("code"), number
    raise AssertionError(f"{path.name} has no '# lint: <code>' marker")


def lint_json(runner: CliRunner, *args: str) -> tuple[int, dict]:
    result = runner.invoke(cli, ["lint", *args, "--format", "json"], catch_exceptions=False)
    return result.exit_code, json.loads(result.output)


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_each_check_is_triggered_by_its_fixture_at_the_marked_line(runner, path):
    code, line = marker(path)
    exit_code, data = lint_json(runner, str(path))
    hits = [f for f in data["findings"] if f["code"] == code]
    assert hits, f"{path.name}: no {code} finding in {data['findings']}"
    assert any(f["line"] == line for f in hits), (code, line, hits)
    hit = next(f for f in hits if f["line"] == line)
    assert hit["file"] == relative(str(path))  # relative to the working folder
    assert hit["why"] == WHY[code] and hit["message"]
    assert exit_code == (1 if any(f["severity"] == "error" for f in data["findings"]) else 0)
    if code in LOAD_ERRORS:
        assert exit_code == 1 and len(data["findings"]) == 1 and hit["severity"] == "error"


def test_every_check_has_a_fixture():
    assert {marker(p)[0] for p in CASES} == set(WHY)


def test_clean_scheme_has_no_finding(runner):
    exit_code, data = lint_json(runner, str(FIXTURES / "clean.yaml"))
    assert exit_code == 0
    assert data["findings"] == [] and data["summary"] == {"error": 0, "warning": 0, "info": 0}


def test_rule_findings_name_the_rule():
    findings = lint_file(FIXTURES / "double-counting.yaml")
    assert [(f.code, f.rule) for f in findings] == [("double-counting", "p_red_light_police")]
    load = lint_file(FIXTURES / "rule-without-source.yaml")
    assert load[0].rule == "p_red_light" and load[0].field == "rules[1].source"


def test_an_overlap_the_source_prints_is_reported_as_the_sources():
    overlap = lint_file(FIXTURES / "band-overlap-documented.yaml")
    # The source prints both bands' bounds and the scheme states which band wins the shared
    # score: information, not a defect.
    assert [(f.code, f.severity, f.caused_by_source) for f in overlap] == [
        ("band-overlap", "info", True)]
    assert "an interpretation states this tie-break" in overlap[0].message
    invented = lint_file(FIXTURES / "band-overlap.yaml")
    assert [(f.code, f.severity, f.caused_by_source) for f in invented] == [
        ("band-overlap", "error", False)]


def test_table_output_names_file_line_and_why(runner):
    path = FIXTURES / "band-order.yaml"
    result = runner.invoke(cli, ["lint", str(path)])
    assert result.exit_code == 1
    flat = " ".join(result.output.split())
    assert "band-order" in flat and "lies above it" in flat
    assert "1 file(s): 1 error(s), 0 warning(s), 0 info" in result.output


def test_unknown_scheme_exits_1_and_wrong_usage_2(runner):
    result = runner.invoke(cli, ["lint", "fuzhou_yumin"])
    assert result.exit_code == 1 and "fuzhou_yuming" in result.output
    assert runner.invoke(cli, ["lint", "--format", "xml"]).exit_code == 2


NAMED = ["meritown_2019", "rongcheng_dongdao_lujia", "suining_county", "fuzhou_yuming",
         "rongcheng_city", "rongcheng_gangwan", "rongcheng_taxi"]


@pytest.mark.parametrize("scheme", NAMED)
def test_shipped_schemes_have_no_error(runner, scheme):
    exit_code, data = lint_json(runner, scheme)
    assert exit_code == 0, [f for f in data["findings"] if f["severity"] == "error"]
    for f in data["findings"]:
        assert f["line"] is not None and f["file"].endswith(f"{scheme}.yaml")


def test_fuzhou_findings_are_the_sources_own():
    findings = lint_file(ROOT / "schemes" / "fuzhou_yuming.yaml")
    by_code = {}
    for f in findings:
        by_code.setdefault(f.code, []).append(f)
    # The tax rows printed under two departments, scored once through same_act_as.
    rows = {f.rule for f in by_code["duplicated-row"]}
    assert {"fz_p_tax_local_tax_arrears", "fz_p_tax_inspection_negative"} <= rows
    assert all(f.severity == "info" and f.caused_by_source for f in by_code["duplicated-row"])
    # The printed gaps between 599 and 600 (and others) hold only fractional scores.
    gaps = by_code["band-gap"]
    assert any("599 and 600" in f.message for f in gaps)
    assert all(f.caused_by_source and f.severity == "info" for f in gaps)


def test_without_arguments_every_shipped_file_is_linted(runner):
    result = runner.invoke(cli, ["lint", "--format", "json"])
    data = json.loads(result.output)
    shipped = {p.name for p in shipped_scheme_files()}
    assert {Path(f).name for f in data["files"]} == shipped
    # The shipped schemes have no errors: what the sources cause is a warning or info.
    assert data["summary"]["error"] == 0, [f for f in data["findings"]
                                          if f["severity"] == "error"]
    assert result.exit_code == 0
