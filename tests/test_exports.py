"""Exports that load anywhere: plain CSV with a sidecar, typed Parquet (issue 12, item 4)."""

from __future__ import annotations

import datetime
import io
import json
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner
from pandas.testing import assert_frame_equal

from creditlab.cli.main import cli
from creditlab.engine.views import frames as F

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "fixtures" / "example.yaml")
POPULATION = str(ROOT / "fixtures" / "population.jsonl")
TWO = ["--scheme", "meritown_2019", "--scheme", "fuzhou_yuming"]

# Each command that writes CSV, with the columns its file has.
COMMANDS = {
    "replay": (["replay", EXAMPLE, *TWO],
               ["subject", "scheme", "start", "score", "band", "flags", "events_scored",
                "events_unscored"]),
    "replay_explain": (["replay", EXAMPLE, *TWO, "--explain"],
                       ["kind", "at", "event", "type", "subject", "scheme", "rule", "points",
                        "applied", "score_before", "score_after", "band_before", "band_after",
                        "effects", "note", "fidelity", "source_file", "source_line", "quote"]),
    "diff": (["diff", EXAMPLE, *TWO],
             ["order", "event", "subject", "at", "type", "attrs", "agree", "effects_differ",
              "points_spread", "scored_by", "applicable", "scheme", "status", "points",
              "given", "rules", "effects", "notes", "citations", "fidelity", "score_after",
              "band_after"]),
    "compare": (["compare", POPULATION, *TWO, "--table", "flips"],
                ["scheme_a", "scheme_b", "band_a", "band_b", "count", "subjects"]),
    "matrix": (["matrix", "--behaviour", "family.abuse", "--behaviour", "volunteer.service",
                *TWO],
               ["behaviour", "attrs", "scheme", "status", "points", "given", "pct_of_scale",
                "pct_reason", "band_before", "band_after", "band_steps", "band_reason",
                "effect", "flags", "rules", "notes", "row_notes"]),
    "exchange": (["exchange", "family.abuse", "--with", "volunteer.service", *TWO],
                 ["scheme", "act_attrs", "act_size", "status", "reason", "offence_points",
                  "offence_effects", "offence_rules", "act_points", "act_rules", "acts",
                  "quantity", "first_act", "last_act", "days", "restored_on", "limits",
                  "start", "score_after", "band_before", "band_after", "replay_digest"]),
}


@pytest.fixture(scope="module")
def runner() -> CliRunner:
    return CliRunner()


def invoke(runner: CliRunner, *args: str):
    result = runner.invoke(cli, list(args))
    assert result.exit_code == 0, result.output
    return result


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_csv_starts_with_its_header_and_loads_in_pandas(runner, tmp_path, name):
    args, columns = COMMANDS[name]
    path = tmp_path / f"{name}.csv"
    assert invoke(runner, *args, "--format", "csv", "-o", str(path)).output == ""
    text = path.read_text(encoding="utf-8")
    assert text.splitlines()[0] == ",".join(columns)
    loaded = pd.read_csv(path)  # default options: no skiprows, no comment character
    assert list(loaded.columns) == columns
    assert len(loaded) > 0
    assert not loaded.iloc[0].astype(str).str.startswith("#").any()
    # on stdout, the same CSV and nothing else
    assert invoke(runner, *args, "--format", "csv").output == text


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_the_sidecar_holds_the_json_s_manifest_and_digest(runner, tmp_path, name):
    args, columns = COMMANDS[name]
    path = tmp_path / f"{name}.csv"
    invoke(runner, *args, "--format", "csv", "-o", str(path))
    sidecar = Path(str(path) + ".manifest.json")
    assert F.sidecar(path) == sidecar
    meta = json.loads(sidecar.read_text(encoding="utf-8"))
    data = json.loads(invoke(runner, *args, "--format", "json").output)
    assert (meta["manifest"], meta["digest"]) == (data["manifest"], data["digest"])
    assert sorted(meta["columns"]) == sorted(columns)
    back = F.read_csv(path)
    assert back.attrs == {"manifest": data["manifest"], "digest": data["digest"]}
    assert list(back.columns) == columns


def test_csv_on_stdout_writes_no_sidecar(runner, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    out = invoke(runner, "replay", EXAMPLE, *TWO, "--format", "csv").output
    assert out.startswith("subject,scheme,")
    assert list(tmp_path.iterdir()) == []


def test_a_sidecar_is_replaced_only_with_force(runner, tmp_path):
    path = tmp_path / "r.csv"
    F.sidecar(path).write_text("{}", encoding="utf-8")
    result = runner.invoke(cli, ["replay", EXAMPLE, *TWO, "--format", "csv", "-o", str(path)])
    assert result.exit_code == 1
    assert "manifest.json" in result.output and "--force" in result.output
    assert not path.exists()  # refused before anything was written
    invoke(runner, "replay", EXAMPLE, *TWO, "--format", "csv", "-o", str(path), "--force")
    assert json.loads(F.sidecar(path).read_text(encoding="utf-8"))["digest"].startswith("sha")


def _parquet_schema(path: Path):
    import pyarrow.parquet as pq

    return pq.read_schema(path)


@pytest.mark.parametrize(("args", "dates", "lists"), [
    (["replay", EXAMPLE, *TWO], [], ["flags"]),
    (["replay", EXAMPLE, *TWO, "--explain"], ["at"], ["effects"]),
    # diff's `at` is the event's date-time as written (ISO text): a date would lose the time.
    (["diff", EXAMPLE, *TWO], [], ["rules", "effects", "notes", "citations"]),
    (["diff", EXAMPLE, *TWO, "--table", "subjects"], [], ["flags"]),
    (["exchange", "family.abuse", "--with", "volunteer.service", *TWO],
     ["first_act", "last_act", "restored_on"], ["offence_effects", "offence_rules",
                                                 "act_rules"]),
])
def test_parquet_has_dates_and_list_columns(runner, tmp_path, args, dates, lists):
    import pyarrow as pa

    path = tmp_path / "out.parquet"
    invoke(runner, *args, "--format", "parquet", "-o", str(path))
    schema = _parquet_schema(path)
    for name in dates:
        assert schema.field(name).type == pa.date32(), name
    for name in lists:
        assert schema.field(name).type == pa.list_(pa.string()), name
    meta = json.loads(schema.metadata[b"creditlab"])
    data = json.loads(invoke(runner, *args, "--format", "json").output)
    assert (meta["manifest"], meta["digest"]) == (data["manifest"], data["digest"])
    plain = pd.read_parquet(path)  # pandas' own reader gives dates and lists, not text
    for name in dates:
        assert all(isinstance(v, datetime.date) for v in plain[name].dropna()), name
    for name in lists:
        assert plain[name].map(lambda v: not isinstance(v, str)).all(), name


def test_replay_ledger_carries_day_type_and_source(runner, tmp_path):
    path = tmp_path / "ledger.parquet"
    invoke(runner, "replay", EXAMPLE, *TWO, "--explain", "--format", "parquet", "-o", str(path))
    ledger = F.read_parquet(path)
    assert {"at", "type", "source_file", "source_line"} <= set(ledger.columns)
    rules = ledger[ledger["kind"] == "rule"]
    assert rules["source_file"].notna().all() and rules["source_line"].notna().all()
    data = json.loads(invoke(runner, "replay", EXAMPLE, *TWO, "--explain",
                             "--format", "json").output)
    assert [str(d) for d in ledger["at"]] == [e["at"] for e in data["ledger"]]
    assert list(ledger["type"]) == [e["type"] for e in data["ledger"]]


@pytest.mark.parametrize("explain", [[], ["--explain"]])
def test_replay_files_round_trip(runner, tmp_path, explain):
    csv_path, parquet_path = tmp_path / "r.csv", tmp_path / "r.parquet"
    invoke(runner, "replay", EXAMPLE, *TWO, *explain, "--format", "csv", "-o", str(csv_path))
    invoke(runner, "replay", EXAMPLE, *TWO, *explain, "--format", "parquet", "-o",
           str(parquet_path))
    from_csv, from_parquet = F.read_csv(csv_path), F.read_parquet(parquet_path)
    assert_frame_equal(from_csv, from_parquet)
    assert from_csv.attrs == from_parquet.attrs


def test_replay_parquet_needs_an_output_file(runner):
    result = runner.invoke(cli, ["replay", EXAMPLE, *TWO, "--format", "parquet"])
    assert result.exit_code == 2
    assert "-o/--output" in result.output


def test_replay_json_to_a_file(runner, tmp_path):
    path = tmp_path / "r.json"
    assert invoke(runner, "replay", EXAMPLE, *TWO, "--format", "json", "-o", str(path)).output \
        == ""
    assert json.loads(path.read_text(encoding="utf-8")) == json.loads(
        invoke(runner, "replay", EXAMPLE, *TWO, "--format", "json").output)


def test_replay_never_replaces_its_history(runner, tmp_path):
    history = tmp_path / "h.yaml"
    history.write_text(Path(EXAMPLE).read_text(encoding="utf-8"), encoding="utf-8")
    before = history.read_bytes()
    result = runner.invoke(cli, ["replay", str(history), *TWO, "--format", "csv", "-o",
                                 str(history), "--force"])
    assert result.exit_code == 1
    assert "input" in result.output
    assert history.read_bytes() == before


def test_csv_lists_are_joined_with_semicolons(runner):
    out = invoke(runner, "diff", EXAMPLE, *TWO, "--format", "csv").output
    frame = pd.read_csv(io.StringIO(out))
    assert frame["citations"].dropna().str.contains(".txt:").all()
