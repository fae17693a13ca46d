"""Lint findings as GitHub annotations and SARIF: relative paths, escaping, severities."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from creditlab.engine import shipped_vocabulary
from creditlab.engine.checks.lint import lint_file
from creditlab.engine.checks.lint_findings import Finding
from creditlab.engine.views.findings import at_least, github_annotations, relative, sarif

from conftest import ROOT


def _finding(**changes: object) -> Finding:
    data = dict(severity="error", code="band-gap", scheme="x", rule="r1",
                file=str(ROOT / "schemes" / "x.yaml"), line=12, field="bands[0]",
                message="a gap between 10 and 20", why="why", caused_by_source=False)
    data.update(changes)
    return Finding(**data)  # type: ignore[arg-type]


def test_paths_are_relative_to_the_root_and_absolute_outside_it(tmp_path: Path) -> None:
    assert relative(str(ROOT / "schemes" / "x.yaml"), ROOT) == "schemes/x.yaml"
    outside = str(tmp_path / "y.yaml")
    assert relative(outside, ROOT) == outside


def test_github_annotation_line() -> None:
    [line] = github_annotations([_finding()], ROOT)
    assert line == ("::error file=schemes/x.yaml,line=12,title=band-gap (r1)::"
                    "a gap between 10 and 20")


def test_github_annotation_cannot_be_broken_out_of() -> None:
    hostile = _finding(message="bad\n::error file=evil::owned 100%", rule="a,b:c")
    [line] = github_annotations([hostile], ROOT)
    # A workflow command starts a line: with the newline escaped, the second is plain text.
    assert "\n" not in line and line.startswith("::error file=schemes/x.yaml,")
    assert "%0A" in line and "%25" in line and "title=band-gap (a%2Cb%3Ac)" in line


@pytest.mark.parametrize(("severity", "kept"), [("info", 3), ("warning", 2), ("error", 1)])
def test_severity_floor(severity: str, kept: int) -> None:
    findings = [_finding(severity=s) for s in ("info", "warning", "error")]
    assert len(at_least(findings, severity)) == kept


def test_sarif_of_the_shipped_findings_is_well_formed() -> None:
    findings = lint_file(ROOT / "schemes" / "fuzhou_yuming.yaml", shipped_vocabulary())
    assert findings, "the shipped Fuzhou scheme has findings to report"
    log = json.loads(json.dumps(sarif(findings, version="1.0", root=ROOT)))
    assert log["version"] == "2.1.0"
    run = log["runs"][0]
    rules = [r["id"] for r in run["tool"]["driver"]["rules"]]
    assert rules == sorted(set(rules))
    assert len(run["results"]) == len(findings)
    for result, finding in zip(run["results"], findings, strict=True):
        assert rules[result["ruleIndex"]] == result["ruleId"] == finding.code
        assert result["level"] in ("error", "warning", "note")
        location = result["locations"][0]["physicalLocation"]
        assert location["artifactLocation"]["uri"] == "schemes/fuzhou_yuming.yaml"
        if finding.line is not None:
            assert location["region"]["startLine"] == finding.line
