"""`creditlab sweep`: settings parsed exactly, a known effect comes out linear, bad settings
are refused, runs are deterministic, both backends and a city's partitions agree."""

from __future__ import annotations

import json
from decimal import Decimal
from fractions import Fraction
from itertools import pairwise
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import (
    InputError,
    SchemeError,
    load_history,
    replay,
    shipped_scheme,
    shipped_vocabulary,
)
from creditlab.engine.analysis.sweep import (
    MAX_VALUES,
    parse_setting,
    sweep_city,
    sweep_history,
)
from creditlab.engine.views.sweep_chart import sweep_chart, sweep_frame, sweep_page

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = str(ROOT / "fixtures" / "example.yaml")
RED_LIGHT = "sn_p_red_light.points=-50:-10:10"


def _invoke(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


# --- the setting ----------------------------------------------------------------------------


@pytest.mark.parametrize(("text", "values"), [
    ("sn_p_red_light.points=-50:-10:10", ["-50", "-40", "-30", "-20", "-10"]),
    ("sn_p_red_light.points=-50:-15:10", ["-50", "-40", "-30", "-20"]),  # STOP not on a step
    ("scale.start=1000:900:-50", ["1000", "950", "900"]),
    ("scale.start=0.1:0.3:0.1", ["0.1", "0.2", "0.3"]),  # exact: 0.1 + 0.2 is 0.3
    ("sn_p_red_light.points=-5", ["-5"]),
    ("sn_p_red_light.points=-50, -10 ,0", ["-50", "-10", "0"]),
])
def test_settings_give_exact_values(text, values):
    setting = parse_setting(text)
    assert setting.target == text.split("=")[0]
    assert setting.values == tuple(Decimal(v) for v in values)
    assert all(isinstance(v, Decimal) for v in setting.values)


def test_words_in_a_list_stay_words():
    assert parse_setting("scale.clamp=true,false").values == (True, False)
    assert parse_setting("x.grade=A,B").values == ("A", "B")


@pytest.mark.parametrize(("text", "phrase"), [
    ("sn_p_red_light.points", "RULE.FIELD=START:STOP:STEP"),
    ("=1,2", "RULE.FIELD=START:STOP:STEP"),
    ("sn_p_red_light.points=", "no values"),
    ("sn_p_red_light.points=-50:-10", "START:STOP:STEP"),
    ("sn_p_red_light.points=-50:-10:0", "step"),
    ("sn_p_red_light.points=-50:-10:-10", "use 10 as the step"),
    ("sn_p_red_light.points=a:b:1", "not a number"),
    ("sn_p_red_light.points=0:1000:1", f"at most {MAX_VALUES}"),
    ("sn_p_red_light.points=0:1E+30:1", f"at most {MAX_VALUES}"),
    ("sn_p_red_light.points=1,,2", "empty value"),
    ("sn_p_red_light.points=1,1.0", "given twice"),
    ("sn_p_red_light.points=nan:1:1", "not a finite number"),
])
def test_bad_settings_are_refused_clearly(text, phrase):
    with pytest.raises(InputError, match=phrase):
        parse_setting(text)


def test_too_many_values_in_a_list_are_refused():
    with pytest.raises(InputError, match="at most 3"):
        parse_setting("sn_p_red_light.points=1,2,3,4", limit=3)


# --- a known effect ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    return load_history(EXAMPLE, shipped_vocabulary())


@pytest.fixture(scope="module")
def red_light(example):
    return sweep_history(example, shipped_scheme("suining_county"), parse_setting(RED_LIGHT),
                         vocabulary=shipped_vocabulary(), backend="durable")


def test_red_light_sweep_moves_the_mean_linearly(example, red_light):
    # By hand: Suining scores the four people of the example; as written they end at
    # 950 (wang: one red light), 1000 (lu), 965 (sun: +15 found money, -50 red light) and
    # 1000 (zhao): 3915 in all. Two red lights are scored (e02, e03), so each step of 10
    # moves the total by 20 and the mean by 20 / 4 = 5.
    suining = shipped_scheme("suining_county")
    fired = [e for e in replay(example, [suining]).ledger if e.rule == "sn_p_red_light"]
    assert [e.event for e in fired] == ["e02", "e03"]
    people = red_light.people
    assert people == 4
    assert red_light.baseline.everyone.score_total == 3915
    means = [r.everyone.mean_score for r in red_light.rows]
    assert means == [Fraction(3915 + 20 * k, 4) for k in range(5)]
    steps = {b - a for a, b in pairwise(means)}
    assert steps == {Fraction(10 * len(fired), people)} == {Fraction(5)}
    # -50 is the value as written: the same replay, to the digest
    assert red_light.rows[0].digest == red_light.baseline.digest
    assert red_light.rows[0].everyone == red_light.baseline.everyone
    # Suining documents no band thresholds: nobody holds a band, so no band changes
    for row in red_light.rows:
        assert row.everyone.share(None) == 1 and row.everyone.changed == 0


def test_groups_add_up_within_each_dimension(red_light):
    for row in (red_light.baseline, *red_light.rows):
        everyone = row.everyone
        for dimension in ("residence", "hukou", "age"):
            groups = [g for g in row.groups if g.dimension == dimension]
            assert sum(g.people for g in groups) == everyone.people
            assert sum(g.score_total for g in groups) == everyone.score_total
    sun = next(g for g in red_light.rows[-1].groups if g.label == "hukou: non_local")
    assert (sun.people, sun.score_total) == (1, Decimal(1000 + 15 - 10))


def test_columnar_gives_the_same_rows_as_durable(example, red_light):
    columnar = sweep_history(example, shipped_scheme("suining_county"),
                             parse_setting(RED_LIGHT), vocabulary=shipped_vocabulary(),
                             backend="columnar")
    assert columnar.body() == red_light.body()
    assert columnar.digest == red_light.digest
    assert columnar.manifest["backend"] == "columnar"


def test_a_value_replays_as_the_changed_scheme_does(example, red_light):
    from creditlab.engine.inputs.reform import set_value

    changed = set_value(shipped_scheme("suining_county"), "sn_p_red_light.points", -10,
                        vocabulary=shipped_vocabulary())
    assert red_light.rows[-1].digest == replay(example, [changed]).digest


# --- refused ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("target", "phrase"), [
    ("sn_p_red_ligth.points", "did you mean 'sn_p_red_light'"),
    ("sn_p_red_light.pionts", "did you mean 'points'"),
])
def test_unknown_rules_and_fields_are_refused_before_any_replay(example, target, phrase):
    with pytest.raises(SchemeError, match=phrase) as caught:
        sweep_history(example, shipped_scheme("suining_county"),
                      parse_setting(f"{target}=-50:-10:10"), vocabulary=shipped_vocabulary())
    assert caught.value.field == target


def test_the_cli_refuses_bad_settings_with_one_line():
    unknown = _invoke("sweep", EXAMPLE, "--scheme", "suining_county",
                      "--set", "sn_p_red_ligth.points=-50:-10:10")
    assert unknown.exit_code == 1
    assert "did you mean 'sn_p_red_light'" in unknown.output
    assert "Traceback" not in unknown.output
    bad = _invoke("sweep", EXAMPLE, "--scheme", "suining_county",
                  "--set", "sn_p_red_light.points=0:100000:1")
    assert bad.exit_code == 2
    assert "--set" in bad.output and f"at most {MAX_VALUES}" in bad.output
    invalid = _invoke("sweep", EXAMPLE, "--scheme", "suining_county",
                      "--set", "sn_p_red_light.points=abc")
    assert invalid.exit_code == 1 and "sn_p_red_light" in invalid.output


# --- the command ------------------------------------------------------------------------------


def test_csv_is_byte_equal_across_runs(tmp_path):
    files = []
    for n in (1, 2):
        out = tmp_path / f"sweep{n}.csv"
        result = _invoke("sweep", EXAMPLE, "--scheme", "suining_county", "--set", RED_LIGHT,
                         "--format", "csv", "-o", str(out))
        assert result.exit_code == 0, result.output
        files.append(out)
    assert files[0].read_bytes() == files[1].read_bytes()
    sidecars = [Path(str(f) + ".manifest.json").read_bytes() for f in files]
    assert sidecars[0] == sidecars[1]
    frame = pd.read_csv(files[0])
    everyone = frame[frame["dimension"] == "everyone"]
    assert list(everyone["mean_score"]) == [978.75, 978.75, 983.75, 988.75, 993.75, 998.75]
    assert list(everyone["share no band"]) == [1.0] * 6


def test_table_json_and_report(tmp_path):
    table = _invoke("sweep", EXAMPLE, "--scheme", "suining_county", "--set", RED_LIGHT,
                    "--width", "100")
    assert table.exit_code == 0
    assert "983.75" in table.output and "+5" in table.output
    assert max(len(line) for line in table.output.splitlines()) <= 100
    data = json.loads(_invoke("sweep", EXAMPLE, "--scheme", "suining_county", "--set",
                              RED_LIGHT, "--format", "json").output)
    assert data["target"] == "sn_p_red_light.points" and len(data["rows"]) == 5
    assert data["manifest"]["parameters"]["values"] == ["-50", "-40", "-30", "-20", "-10"]
    page = tmp_path / "sweep.html"
    made = _invoke("sweep", EXAMPLE, "--scheme", "suining_county", "--set", RED_LIGHT,
                   "--format", "json", "-o", str(tmp_path / "s.json"), "--report", str(page))
    assert made.exit_code == 0
    html = page.read_text(encoding="utf-8")
    assert html.startswith("<!DOCTYPE html>") and "Plotly.newPlot" in html
    assert "<script src=" not in html  # plotly.js is embedded: the page works offline
    again = _invoke("sweep", EXAMPLE, "--scheme", "suining_county", "--set", RED_LIGHT,
                    "--report", str(page))
    assert again.exit_code == 1 and "exists" in again.output
    parquet = _invoke("sweep", EXAMPLE, "--scheme", "suining_county", "--set", RED_LIGHT,
                      "--format", "parquet")
    assert parquet.exit_code == 2


def test_page_escapes_what_it_is_given(red_light):
    page = sweep_page(red_light)
    assert "<script>alert" not in page
    chart = sweep_chart(red_light)
    assert len(chart.figure.data) == len(red_light.bands) + 2


# --- a city -----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def city(tmp_path_factory) -> str:
    folder = tmp_path_factory.mktemp("sweep") / "city"
    made = _invoke("simulate", "--people", "2000", "--seed", "1", "-o", str(folder))
    assert made.exit_code == 0, made.output
    return str(folder)


def test_a_city_sweep_moves_band_shares_and_they_add_up(city):
    voc = shipped_vocabulary()
    fuzhou = shipped_scheme("fuzhou_yuming")
    setting = parse_setting("scale.start=400:600:100")
    whole = sweep_city(city, fuzhou, setting, vocabulary=voc)
    assert whole.people == 2000
    for row in (whole.baseline, *whole.rows):
        for group in row.groups:
            assert sum(group.share(b) or 0 for b in whole.bands) == 1, group.label
    good = [r.everyone.share("Good credit") for r in whole.rows]
    assert good[1] == whole.baseline.everyone.share("Good credit")  # 500 is as written
    assert good[0] < good[1] and good[2] < good[1]  # moved down, then up, out of Good
    assert whole.rows[1].everyone.changed == 0
    assert whole.rows[0].everyone.changed > 0 and whole.rows[2].everyone.changed > 0
    # the partitions change nothing, and the baseline is the replay's own digest
    parts = sweep_city(city, fuzhou, setting, vocabulary=voc, subjects_per_partition=700)
    assert parts.body() == whole.body()
    history = load_history(city, voc)
    assert whole.baseline.digest == replay(history, [fuzhou], backend="columnar").digest
    frame = sweep_frame(whole)
    assert len(frame) == 4 * len(whole.baseline.groups)


def test_the_cli_sweeps_a_city(city, tmp_path):
    out = tmp_path / "city.parquet"
    result = _invoke("sweep", city, "--scheme", "suining_county", "--set", RED_LIGHT,
                     "--format", "parquet", "-o", str(out))
    assert result.exit_code == 0, result.output
    frame = pd.read_parquet(out)
    means = list(frame[frame["dimension"] == "everyone"]["mean_score"])
    steps = {round(b - a, 6) for a, b in pairwise(means[1:])}  # [0] is as written
    assert len(steps) == 1 and steps.pop() > 0
