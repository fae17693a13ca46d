"""Counterfactual group checks: one attribute flipped, everything else equal; outcomes by
group in fairlearn's MetricFrame shape, ratios below 0.8 (Aequitas' default) flagged."""

from __future__ import annotations

import json

import pytest
import yaml

from creditlab.cli.main import cli
from creditlab.engine import shipped_scheme

from conftest import points, rule

# creditlab.engine.checks.counterfactual is imported in the tests that use it: it brings in
# fairlearn and scikit-learn, a second of every xdist worker's collection otherwise.


def urban_only(make_scheme):
    return make_scheme(rule("r_urban_volunteer", "volunteer.service", points(10),
                            match={"subject": {"residence": "urban"}}))


def people(*specs):
    subjects, events = [], []
    for n, (residence, volunteers) in enumerate(specs):
        subjects.append({"id": f"p{n}", "kind": "person", "residence": residence})
        if volunteers:
            events.append({"id": f"e{n}", "subject": f"p{n}", "at": "2020-01-01",
                           "type": "volunteer.service", "hours": 5})
    return {"subjects": subjects, "events": events}


def test_flipping_residence_moves_scores_by_group(make_scheme):
    from creditlab.engine.checks.counterfactual import DISPARITY_THRESHOLD, flip_check, parse_flip

    # Two urban volunteers lose their 10 points when rural; of two rural people, only the
    # one who volunteers gains 10 when urban.
    data = people(("urban", True), ("urban", True), ("rural", True), ("rural", False))
    [report] = flip_check(data, [urban_only(make_scheme)], parse_flip("residence"))
    assert report.subjects == 4 and report.not_flippable == 0
    assert report.by_group["urban"]["score_moved"] == 1.0
    assert report.by_group["urban"]["mean_shift"] == -10.0
    assert report.by_group["rural"]["score_moved"] == 0.5
    assert report.by_group["rural"]["mean_shift"] == 5.0
    assert report.overall["score_moved"] == 0.75 and report.overall["max_abs_shift"] == 10.0
    assert report.difference["score_moved"] == 0.5
    assert report.ratio["score_moved"] == 0.5 < DISPARITY_THRESHOLD
    assert "score_moved" in report.flags and "mean_abs_shift" in report.flags


def test_equal_movement_is_not_flagged_and_unknown_values_are_counted(make_scheme):
    from creditlab.engine.checks.counterfactual import flip_check, parse_flip

    data = people(("urban", True), ("rural", True))
    data["subjects"].append({"id": "x", "kind": "person"})
    [report] = flip_check(data, [urban_only(make_scheme)], parse_flip("residence"))
    assert report.not_flippable == 1 and report.subjects == 2
    assert report.ratio == {"score_moved": 1.0, "band_moved": 1.0, "mean_abs_shift": 1.0}
    assert report.flags == ()


def test_flipping_a_role_adds_or_removes_it(make_scheme):
    from creditlab.engine.checks.counterfactual import Flip, flip_check, parse_flip

    scheme = make_scheme(rule("r_staff", "volunteer.service", points(20),
                              match={"subject": {"roles_any": ["civil_servant"]}}))
    data = {"subjects": [{"id": "a", "kind": "person", "roles": ["civil_servant"]},
                         {"id": "b", "kind": "person"}],
            "events": [{"id": "e1", "subject": "a", "at": "2020-01-01",
                        "type": "volunteer.service", "hours": 1},
                       {"id": "e2", "subject": "b", "at": "2020-01-01",
                        "type": "volunteer.service", "hours": 1}]}
    [report] = flip_check(data, [scheme], parse_flip("role=civil_servant"))
    assert report.by_group["civil_servant"]["mean_shift"] == -20.0
    assert report.by_group["not civil_servant"]["mean_shift"] == 20.0
    assert Flip("role", "teacher").apply({"id": "a", "roles": ["teacher"]})["roles"] == []


@pytest.mark.parametrize("text", ["age", "role=astronaut", "role"])
def test_bad_flips_are_refused(text):
    from creditlab.engine.checks.counterfactual import parse_flip

    with pytest.raises(ValueError):
        parse_flip(text)


def test_generated_population_is_deterministic():
    from creditlab.engine.checks.counterfactual import population

    scheme = shipped_scheme("meritown_2019")
    assert population(scheme, examples=10, seed=1) == population(scheme, examples=10, seed=1)


def test_cli_flip_with_a_history(runner, tmp_path):
    history = tmp_path / "people.yaml"
    data = {"subjects": [{"id": "t", "kind": "person", "roles": ["teacher"]},
                         {"id": "n", "kind": "person"}],
            "events": [{"id": "e1", "subject": "t", "at": "2020-01-01",
                        "type": "teacher.paid_tutoring"},
                       {"id": "e2", "subject": "n", "at": "2020-01-01",
                        "type": "teacher.paid_tutoring"}]}
    history.write_text(yaml.safe_dump(data), encoding="utf-8")
    args = ["audit", "meritown_2019", "--flip", "role=teacher", "--history", str(history)]
    result = runner.invoke(cli, [*args, "--format", "json"], catch_exceptions=False)
    assert result.exit_code == 0
    out = json.loads(result.output)
    [report] = out["flips"]
    assert report["scheme"] == "meritown_2019" and report["flip"] == "role=teacher"
    assert set(report["by_group"]) == {"teacher", "not teacher"}
    assert report["by_group"]["teacher"]["mean_shift"] > 0  # no longer a teacher: no penalty
    assert report["by_group"]["not teacher"]["mean_shift"] < 0
    assert out["threshold"] == 0.8
    table = runner.invoke(cli, args)
    assert table.exit_code == 0 and "flip role=teacher" in table.output
    assert "ratio" in table.output and "difference" in table.output


def test_cli_flip_on_generated_histories_and_fail_on_disparity(runner):
    args = ["audit", "fuzhou_yuming", "--flip", "role=civil_servant", "--flip", "residence",
            "--max-examples", "30", "--format", "json"]
    result = runner.invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0
    out = json.loads(result.output)
    assert [r["flip"] for r in out["flips"]] == ["role=civil_servant", "residence"]
    flagged = out["flagged"]
    strict = runner.invoke(cli, [*args, "--fail-on-disparity"])
    assert strict.exit_code == (1 if flagged else 0)


def test_cli_flip_usage_errors(runner):
    assert runner.invoke(cli, ["audit", "meritown_2019", "--flip", "height"]).exit_code == 2
    assert runner.invoke(cli, ["audit", "meritown_2019", "--fail-on-disparity"]).exit_code == 2
