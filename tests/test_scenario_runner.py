"""`creditlab test`: scenario test files run from the command line (issue 12), with the
semantics of tests/test_scenarios.py (both use creditlab.engine.checks.scenario_tests)."""

from __future__ import annotations

import json
import shutil
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli

ROOT = Path(__file__).resolve().parents[1]
SCENARIOS = ROOT / "tests" / "scenarios"
EXAMPLE = SCENARIOS / "suining_county" / "documented_example.yaml"


def run(runner: CliRunner, *args: str | Path):
    return runner.invoke(cli, ["test", *map(str, args)], catch_exceptions=False)


def copy(tmp_path: Path, name: str, text: str | None = None) -> Path:
    """The Suining example under `name`, with `text` (old, new) replacements applied."""
    path = tmp_path / name
    path.write_text(text if text is not None else EXAMPLE.read_text(encoding="utf-8"),
                    encoding="utf-8")
    return path


def edited(old: str, new: str) -> str:
    text = EXAMPLE.read_text(encoding="utf-8")
    assert old in text
    return text.replace(old, new, 1)


@pytest.fixture
def mixed(tmp_path: Path) -> Path:
    """A folder with one passing, one failing and one invalid test (in a subfolder)."""
    copy(tmp_path, "a_pass.yaml")
    copy(tmp_path, "b_fail.yaml", edited("score: 965", "score: 970"))
    (tmp_path / "sub").mkdir()
    copy(tmp_path / "sub", "c_error.yaml", edited("scheme: suining_county", "scheme: suining"))
    return tmp_path


@pytest.mark.parametrize("backend", ["durable", "columnar"])
def test_the_shipped_scenarios_all_pass(runner, backend):
    count = len(list(SCENARIOS.rglob("*.yaml")))
    assert count > 400
    result = run(runner, SCENARIOS, "--backend", backend)
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[-1] == f"{count} passed, 0 failed"
    assert len(lines) == count + 1 and all(line.startswith("PASS ") for line in lines[:-1])


def test_a_wrong_expected_score_fails_with_the_first_mismatch(runner, tmp_path):
    path = copy(tmp_path, "wrong.yaml", edited("score: 965", "score: 970"))
    result = run(runner, path)
    assert result.exit_code == 1
    assert result.stdout.splitlines() == [
        f"FAIL {path}: results[li].score is 965, expected 970", "0 passed, 1 failed"]


def test_a_wrong_ledger_entry_names_its_index_and_key(runner, tmp_path):
    path = copy(tmp_path, "ledger.yaml", edited("applied: -50", "applied: -40"))
    result = run(runner, path)
    assert result.exit_code == 1
    assert f"FAIL {path}: ledger[1].applied is -50, expected -40" in result.stdout


def test_a_missing_ledger_entry_lists_the_entries_found(runner, tmp_path):
    text = edited("    - {event: e2, rule: sn_p_red_light, points: -50, applied: -50, "
                  "score_after: 965}\n", "")
    path = copy(tmp_path, "short.yaml", text)
    out = run(runner, path).stdout
    assert (f"FAIL {path}: ledger: 2 entries, expected 1: e1/sn_r_return_found_money, "
            "e2/sn_p_red_light") in out


@pytest.mark.parametrize(("old", "new", "where", "phrase"), [
    ("subjects:\n", "subjects: [\n", ":6:", "malformed yaml"),
    ("scheme: suining_county", "scheme: suining", ":2: [scheme]", "unknown scheme 'suining'"),
    ("quote:", "qoute:", ":4: [qoute]", "did you mean 'quote'"),
    ("score: 965", "scor: 965", ":12: [expect.results[0].scor]", "did you mean 'score'"),
    ("as: driver", "as: pilot", ":9: [events[1].as]", "pilot"),
    ("covers: [sn_r_return_found_money", "covers: [sn_r_nothing", ":3: [covers[0]]",
     "covers unknown rule"),
], ids=["bad-yaml", "unknown-scheme", "unknown-key", "unknown-result-key", "bad-history",
        "unknown-rule"])
def test_an_invalid_file_is_an_error_with_file_and_line_and_the_others_run(
        runner, tmp_path, old, new, where, phrase):
    copy(tmp_path, "a_good.yaml")
    bad = copy(tmp_path, "b_bad.yaml", edited(old, new))
    copy(tmp_path, "c_good.yaml")
    result = run(runner, tmp_path)
    assert result.exit_code == 1
    lines = result.stdout.splitlines()
    assert lines[0].startswith("PASS ") and lines[2].startswith("PASS ")
    assert lines[1].startswith(f"ERROR {bad}{where}"), lines[1]
    assert phrase in lines[1].lower()
    assert lines[-1] == "2 passed, 0 failed, 1 error"


def test_junit_has_one_testcase_per_file_and_the_counts(runner, mixed):
    result = run(runner, mixed, "--format", "junit")
    assert result.exit_code == 1
    root = ET.fromstring(result.stdout)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    for element in (root, suite):
        assert (element.get("tests"), element.get("failures"), element.get("errors")) == (
            "3", "1", "1")
    cases = {Path(c.get("name", "")).name: c for c in suite.iter("testcase")}
    assert set(cases) == {"a_pass.yaml", "b_fail.yaml", "c_error.yaml"}
    assert not list(cases["a_pass.yaml"])
    failure = cases["b_fail.yaml"].find("failure")
    assert failure is not None
    assert failure.get("message") == "results[li].score is 965, expected 970"
    error = cases["c_error.yaml"].find("error")
    assert error is not None and "unknown scheme 'suining'" in error.get("message", "")


def test_junit_escapes_what_xml_cannot_hold(runner, tmp_path):
    path = copy(tmp_path, "esc\x01ape.yaml", edited("score: 965", "score: '<&>\"'"))
    result = run(runner, path, "--format", "junit")
    case = ET.fromstring(result.stdout).find("testsuite/testcase")
    assert case is not None and case.get("name", "").endswith("esc\\u0001ape.yaml")
    failure = case.find("failure")
    assert failure is not None
    assert failure.get("message") == "results[li].score is 965, expected '<&>\"'"


def test_junit_to_a_file_goes_through_the_safe_writer(runner, mixed, tmp_path):
    target = tmp_path / "report.xml"
    assert run(runner, mixed / "a_pass.yaml", "--format", "junit", "-o", target).exit_code == 0
    assert ET.parse(target).getroot().get("tests") == "1"
    again = run(runner, mixed / "a_pass.yaml", "--format", "junit", "-o", target)
    assert again.exit_code == 1 and "exists" in again.output
    assert run(runner, mixed / "a_pass.yaml", "--format", "junit", "-o", target,
               "--force").exit_code == 0
    refused = run(runner, mixed / "a_pass.yaml", "-o", mixed / "a_pass.yaml", "--force")
    assert refused.exit_code == 1


def test_json_is_a_list_of_records(runner, mixed):
    result = run(runner, mixed, "--format", "json")
    assert result.exit_code == 1
    records = json.loads(result.stdout)
    assert [(Path(r["file"]).name, r["status"]) for r in records] == [
        ("a_pass.yaml", "pass"), ("b_fail.yaml", "fail"), ("c_error.yaml", "error")]
    fail = records[1]["mismatches"][0]
    assert (fail["path"], fail["expected"], fail["got"], fail["line"]) == (
        "results[li].score", 970, 965, 12)
    assert records[2]["line"] == 2 and records[2]["field"] == "scheme"


def test_several_schemes_and_a_scheme_file_beside_the_test(runner, tmp_path):
    text = EXAMPLE.read_text(encoding="utf-8").split("expect:")[0]
    several = text.replace("scheme: suining_county", "schemes: [suining_county, my.yaml]")
    shutil.copy(ROOT / "schemes" / "fuzhou_yuming.yaml", tmp_path / "my.yaml")
    (tmp_path / "several.yaml").write_text(several + (
        "expect:\n  results:\n"
        "    - {subject: li, scheme: suining_county, score: 965}\n"
        "    - {subject: li, scheme: fuzhou_yuming, start: 500}\n"), encoding="utf-8")
    result = run(runner, tmp_path / "several.yaml")
    assert result.exit_code == 0, result.output
    (tmp_path / "unnamed.yaml").write_text(several + (
        "expect:\n  results:\n    - {subject: li, score: 965}\n"), encoding="utf-8")
    result = run(runner, tmp_path / "unnamed.yaml")
    assert result.exit_code == 1 and "names its 'scheme'" in result.stdout
    (tmp_path / "wrong.yaml").write_text(several + (
        "expect:\n  results:\n    - {subject: li, scheme: fuzhou_yuming, start: 400}\n"),
        encoding="utf-8")
    assert "results[li/fuzhou_yuming].start is 500, expected 400" in run(
        runner, tmp_path / "wrong.yaml").stdout


@pytest.mark.parametrize("args", [[], ["no/such/folder"], ["--format", "xml", "tests"]])
def test_usage_errors_exit_2(runner, args):
    assert runner.invoke(cli, ["test", *args]).exit_code == 2


def test_a_folder_without_test_files_is_exit_1(runner, tmp_path):
    result = run(runner, tmp_path)
    assert result.exit_code == 1 and "no test files" in result.output
