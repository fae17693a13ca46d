"""The command line: exit codes, output formats, golden outputs, help and README."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import shipped_schemes

from conftest import masked

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "fixtures" / "example.yaml")
SPINE = ["--scheme", "meritown_2019", "--scheme", "rongcheng_dongdao_lujia",
         "--scheme", "suining_county"]


def invoke(runner: CliRunner, *args: str):
    return runner.invoke(cli, list(args), catch_exceptions=False)


def test_replay_json_golden(runner, golden):
    result = invoke(runner, "replay", EXAMPLE, *SPINE, "--format", "json", "--explain")
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert set(data) >= {"manifest", "results", "digest", "ledger"}
    golden("example.replay.json", masked(result.output))


def test_replay_table_golden(runner, golden):
    result = invoke(runner, "replay", EXAMPLE, *SPINE)
    assert result.exit_code == 0
    golden("example.replay.txt", result.output)


def test_replay_json_follows_the_contract(runner):
    data = json.loads(invoke(runner, "replay", EXAMPLE, "--format", "json", "--explain").output)
    assert set(data["manifest"]) >= {"creditlab", "history", "schemes"}
    assert data["digest"].startswith("sha256:")
    keys = [(r["subject"], r["scheme"]) for r in data["results"]]
    assert keys == sorted(keys)
    for r in data["results"]:
        assert set(r) >= {"subject", "scheme", "start", "score", "band", "flags",
                          "events_scored", "events_unscored"}
        assert r["flags"] == sorted(r["flags"])
    for e in data["ledger"]:
        assert set(e) >= {"event", "subject", "scheme", "rule", "points", "applied",
                          "score_before", "score_after", "band_after", "source"}
    shipped = {s.id for s in shipped_schemes() if s.variant is None}
    assert set(data["manifest"]["schemes"]) == shipped


def test_suining_documented_example(runner, tmp_path):
    history = tmp_path / "suining.yaml"
    history.write_text(
        "subjects: [{id: li, kind: person}]\n"
        "events:\n"
        "  - {id: e1, subject: li, at: 2019-03-01, type: good_deed.return_lost_property,"
        " amount_rmb: 100}\n"
        "  - {id: e2, subject: li, at: 2019-04-01, type: traffic.red_light}\n")
    data = json.loads(invoke(runner, "replay", str(history), "--scheme", "suining_county",
                             "--format", "json").output)
    assert data["results"][0]["score"] == 965


def test_same_digest_whatever_the_input_order(runner, tmp_path):
    lines = (ROOT / "fixtures" / "example.yaml").read_text(encoding="utf-8").splitlines()
    start = lines.index("events:") + 1
    events = [line for line in lines[start:] if line.strip().startswith("- {")]
    assert len(events) >= 10
    shuffled = tmp_path / "shuffled.yaml"
    shuffled.write_text("\n".join(lines[:start] + events[::-1]) + "\n", encoding="utf-8")
    a = json.loads(invoke(runner, "replay", EXAMPLE, "--format", "json").output)
    b = json.loads(invoke(runner, "replay", str(shuffled), "--format", "json").output)
    assert a["digest"] == b["digest"]


def test_replay_jsonl_and_csv(runner):
    out = invoke(runner, "replay", EXAMPLE, *SPINE, "--format", "jsonl").output
    records = [json.loads(line) for line in out.splitlines()]
    assert records[0]["record"] == "manifest" and records[-1]["record"] == "digest"
    results = [r for r in records if r["record"] == "result"]
    rows = list(csv.DictReader(io.StringIO(
        invoke(runner, "replay", EXAMPLE, *SPINE, "--format", "csv").output)))
    assert len(rows) == len(results)
    assert [r["score"] for r in rows] == [str(r["score"]) for r in results]


def test_bad_input_exits_1_with_file_line_and_field(runner, tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("subjects: [{id: a, kind: person}]\nevents:\n"
                   "  - {id: e1, subject: a, at: 2019-01-01, type: trafic.red_light}\n")
    result = runner.invoke(cli, ["replay", str(bad)])
    assert result.exit_code == 1
    assert f"{bad}:3: [events[0].type] unknown event type 'trafic.red_light'" in result.output
    assert "did you mean 'traffic.red_light'" in result.output


def test_unknown_scheme_exits_1(runner):
    result = runner.invoke(cli, ["replay", EXAMPLE, "--scheme", "suining"])
    assert result.exit_code == 1 and "suining_county" in result.output


def test_wrong_usage_exits_2(runner):
    assert runner.invoke(cli, ["replay"]).exit_code == 2
    assert runner.invoke(cli, ["replay", EXAMPLE, "--format", "xml"]).exit_code == 2
    assert runner.invoke(cli, ["frobnicate"]).exit_code == 2


def test_schemes_json(runner):
    data = json.loads(invoke(runner, "schemes", "--format", "json").output)
    ids = [s["id"] for s in data]
    assert {"meritown_2019", "rongcheng_dongdao_lujia", "suining_county"} <= set(ids)
    for s in data:
        assert set(s) >= {"id", "name", "city", "subject_kind", "scale", "start", "rules",
                          "fidelity"}
        assert sum(s["fidelity"].values()) == s["rules"]


def test_show_json_lists_rules_with_fidelity_and_source(runner):
    data = json.loads(invoke(runner, "show", "suining_county", "--format", "json").output)
    assert data["id"] == "suining_county"
    for r in data["rules"]:
        assert {"id", "fidelity", "source"} <= set(r)
        assert r["source"]["quote"]
    table = invoke(runner, "show", "suining_county").output
    assert "sn_p_red_light" in table and "running a red light" in table


def _commands():
    return sorted(cli.commands)


@pytest.mark.parametrize("command", _commands())
def test_every_command_has_help_with_an_example_and_is_in_the_readme(runner, command):
    result = invoke(runner, command, "--help")
    assert result.exit_code == 0
    assert "Example:" in result.output, f"creditlab {command} --help shows no example"
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"creditlab {command}" in readme, f"README.md does not mention creditlab {command}"
