"""The analysts' commands: diff, matrix, exchange, compare (exit codes, goldens, exports)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from creditlab.cli.main import cli
from creditlab.engine import replay_file, resolve_schemes, shipped_vocabulary
from creditlab.engine.analysis.compare import diff
from creditlab.engine.analysis.matrix import behaviour_matrix
from creditlab.engine.views import frames as F

from conftest import masked

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "fixtures" / "example.yaml")
POPULATION = str(ROOT / "fixtures" / "population.jsonl")
DIFF_SCHEMES = ["--scheme", "meritown_2019", "--scheme", "fuzhou_yuming",
                "--scheme", "suining_county"]
MATRIX_ARGS = ["--behaviour", "volunteer.service", "--behaviour", "family.abuse",
               "--behaviour", "traffic.drunk_driving", "--behaviour", "court.judgment_default",
               "--behaviour", "neighbour.help", "--behaviour", "traffic.red_light",
               "--scheme", "meritown_2019", "--scheme", "fuzhou_yuming",
               "--scheme", "rongcheng_dongdao_lujia", "--scheme", "suining_county"]
EXCHANGE_ARGS = ["family.abuse", "--with", "volunteer.service", "--scheme", "meritown_2019",
                 "--scheme", "fuzhou_yuming", "--scheme", "suining_county"]
COMPARE_SCHEMES = ["--scheme", "meritown_2019", "--scheme", "fuzhou_yuming",
                   "--scheme", "rongcheng_dongdao_lujia"]


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


GOLDENS = {
    "analyst.diff.json": ["diff", EXAMPLE, *DIFF_SCHEMES, "--format", "json"],
    "analyst.diff.txt": ["diff", EXAMPLE, *DIFF_SCHEMES],
    "analyst.matrix.json": ["matrix", *MATRIX_ARGS, "--format", "json"],
    "analyst.matrix.txt": ["matrix", *MATRIX_ARGS],
    "analyst.exchange.json": ["exchange", *EXCHANGE_ARGS, "--format", "json"],
    "analyst.exchange.txt": ["exchange", *EXCHANGE_ARGS],
    "analyst.compare.json": ["compare", POPULATION, *COMPARE_SCHEMES, "--format", "json"],
    "analyst.compare.txt": ["compare", POPULATION, *COMPARE_SCHEMES],
}


@pytest.mark.parametrize("name", sorted(GOLDENS))
def test_golden_outputs(runner, golden, name):
    result = invoke(runner, *GOLDENS[name])
    assert result.exit_code == 0, result.output
    if name.endswith(".json"):
        data = json.loads(result.output)
        assert set(data) >= {"manifest", "digest"}
        assert data["digest"].startswith("sha256:")
        assert data["manifest"]["analysis"] == name.split(".")[1]
    golden(name, masked(result.output))


def test_diff_json_answers_where_and_why_rule_by_rule(runner):
    data = json.loads(invoke(runner, "diff", EXAMPLE, "--scheme", "meritown_2019",
                             "--scheme", "fuzhou_yuming", "--format", "json").output)
    first = data["events"][0]
    assert first["type"] == "traffic.drunk_driving"
    meritown = first["schemes"]["meritown_2019"]
    assert meritown["rules"] == ["mt_c_drunk_driving"]
    assert "reclassifies" in meritown["citations"][0]
    assert first["schemes"]["fuzhou_yuming"]["points"] == -30
    assert {s["subject"] for s in data["subjects"]} == {"lu", "sun", "wang", "zhao"}


def test_matrix_json_has_the_documented_shape(runner):
    data = json.loads(invoke(runner, "matrix", "--behaviour", "family.abuse", "--scheme",
                             "meritown_2019", "--scheme", "fuzhou_yuming", "--format",
                             "json").output)
    [row] = data["rows"]
    assert row["behaviour"] == "family.abuse" and row["attrs"] == {}
    cell = row["cells"]["meritown_2019"]
    assert set(cell) >= {"points", "effect", "pct_of_scale", "rules"}
    assert (cell["points"], cell["rules"]) == (-50, ["mt_p_family_abuse"])
    assert row["cells"]["fuzhou_yuming"]["status"] == "not scored"


def test_exchange_gives_300_hours_for_family_abuse_in_meritown(runner):
    data = json.loads(invoke(runner, "exchange", "family.abuse", "--with",
                             "volunteer.service", "--attr", "hours=300", "--scheme",
                             "meritown_2019", "--format", "json").output)
    [row] = data["rows"]
    assert (row["status"], row["acts"], row["quantity"]) == ("offset", 1, {"hours": 300})


def test_csv_export_round_trips_to_the_engine_s_frame(runner, tmp_path):
    path = tmp_path / "diff.csv"
    result = invoke(runner, "diff", EXAMPLE, *DIFF_SCHEMES, "--format", "csv", "-o", str(path))
    assert (result.exit_code, result.output) == (0, "")
    back = F.read_csv(path)
    expected = F.diff_events_frame(diff(replay_file(EXAMPLE, DIFF_SCHEMES[1::2])))
    back.attrs["manifest"].pop("creditlab")
    expected.attrs["manifest"].pop("creditlab")
    assert_frame_equal(back, expected)
    assert back.attrs == expected.attrs
    stdout = invoke(runner, "diff", EXAMPLE, *DIFF_SCHEMES, "--format", "csv", "--table",
                    "subjects").output
    subjects = pd.read_csv(io.StringIO(stdout))  # on stdout: just the CSV
    assert len(subjects) == 4 * 3
    assert list(subjects.columns) == list(F.diff_subjects_frame(
        diff(replay_file(EXAMPLE, DIFF_SCHEMES[1::2]))).columns)


def test_parquet_export_round_trips_and_matches_the_json(runner, tmp_path):
    out = tmp_path / "matrix.parquet"
    args = ["matrix", "--behaviour", "family.abuse", "--behaviour", "volunteer.service",
            "--scheme", "meritown_2019", "--scheme", "fuzhou_yuming"]
    assert invoke(runner, *args, "--format", "parquet", "-o", str(out)).exit_code == 0
    frame = F.read_parquet(out)
    data = json.loads(invoke(runner, *args, "--format", "json").output)
    assert frame.attrs["digest"] == data["digest"]
    assert frame.attrs["manifest"] == data["manifest"]
    expected = F.matrix_frame(behaviour_matrix(
        resolve_schemes(["meritown_2019", "fuzhou_yuming"]), shipped_vocabulary(),
        codes=["family.abuse", "volunteer.service"]))
    assert expected.attrs == frame.attrs
    assert_frame_equal(frame, expected)
    cells = [c for r in data["rows"] for c in r["cells"].values()]
    assert [None if pd.isna(p) else p for p in frame["points"]] == [c["points"] for c in cells]


@pytest.mark.parametrize("command", [
    ["compare", POPULATION, *COMPARE_SCHEMES, "--table", "agreement"],
    ["exchange", *EXCHANGE_ARGS],
])
def test_csv_and_parquet_on_every_command(runner, tmp_path, command):
    csv_path = tmp_path / "out.csv"
    csv_out = invoke(runner, *command, "--format", "csv", "-o", str(csv_path))
    assert csv_out.exit_code == 0
    frame = F.read_csv(csv_path)
    stdout = invoke(runner, *command, "--format", "csv").output
    assert stdout == csv_path.read_text(encoding="utf-8")
    path = tmp_path / "out.parquet"
    assert invoke(runner, *command, "--format", "parquet", "-o", str(path)).exit_code == 0
    assert_frame_equal(F.read_parquet(path), frame)


def test_parquet_needs_an_output_file(runner):
    result = runner.invoke(cli, ["exchange", *EXCHANGE_ARGS, "--format", "parquet"])
    assert result.exit_code == 2
    assert "-o/--output" in result.output


@pytest.mark.parametrize(("args", "message"), [
    (["matrix", "--behaviour", "family.abus"], "did you mean 'family.abuse'"),
    (["exchange", "family.abuse", "--with", "volunter.service"], "unknown behaviour"),
    (["exchange", "family.abuse", "--with", "volunteer.service", "--attr", "hours"],
     "expected NAME=VALUE"),
    (["diff", EXAMPLE, "--scheme", "meritown_2019"], "at least two"),
    (["compare", EXAMPLE, "--scheme", "meritown_2019", "--scheme", "nowhere"],
     "unknown scheme"),
])
def test_bad_input_exits_1_with_a_message(runner, args, message):
    result = runner.invoke(cli, args)
    assert result.exit_code == 1
    assert message in result.output


@pytest.mark.parametrize("command", ["diff", "matrix", "exchange", "compare"])
def test_help_has_an_example(runner, command):
    result = invoke(runner, command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output
    assert f"creditlab {command}" in result.output
