"""The educators' scenarios in fixtures/scenarios/: each replays to the outcome its source
states, cites that source in its description, and tells its story with one command."""

from __future__ import annotations

from decimal import Decimal

import pytest
import yaml

from creditlab.cli.educator import explain_command
from creditlab.engine import replay_file, shipped_schemes
from creditlab.engine.analysis.asymmetry import applies

from conftest import ROOT, shared_dir

SCENARIOS = ROOT / "fixtures" / "scenarios"
SHARED = shared_dir()

# file -> (the citations its description makes, the outcomes the sources state)
# outcome: (subject, scheme, score, band, flags); None means "not compared".
STATED = {
    "meritown_volunteering_cancels_abuse.yaml": (
        [("000_74864d8415915e16.txt", 14,
          "300 hours of volunteer work (+50) can cancel out abusing a family member (–50)")],
        [("liu", "meritown_2019", 1000, "A", ())]),
    "meritown_drunk_driving_aaa_to_b.yaml": (
        [("000_74864d8415915e16.txt", 14,
          "a drunk driving conviction automatically reclassifies an AAA person to a B")],
        [("chen", "meritown_2019", 1050, "B", ())]),
    "dongdao_petition_bypass_b.yaml": (
        [("001_71d7eae1f17e6b7f.txt", 57,
          "a fine of 1,000 yuan and an automatic assignment to category B"),
         ("001_71d7eae1f17e6b7f.txt", 54,
          "Each citizen starts with an A rating and a capital of 1,000 points")],
        [("zhang", "rongcheng_dongdao_lujia", 1000, "B", ())]),
    "meritown_covid_rules.yaml": (
        [("000_74864d8415915e16.txt", 16, "not wearing a mask (–10)"),
         ("000_74864d8415915e16.txt", 16, "participation in disease control efforts (+100)")],
        [("huang", "meritown_2019", 1090, None, ())]),
    "fuzhou_court_judgment_default.yaml": (
        [("003_d0933348fda7dee4.txt", 92, "Points reduced to 0, placement on defaulter "
                                          "blacklist")],
        [("wu", "fuzhou_yuming", 0, None, ("blacklisted",))]),
    "teacher_paid_tutoring.yaml": (
        [("000_74864d8415915e16.txt", 17, "public school teachers are penalized for "
                                          "moonlighting as private tutors (–20)"),
         ("003_d0933348fda7dee4.txt", 105, "Taking payment for make-up / remedial classes 30")],
        [("sun", "meritown_2019", 980, None, ()), ("sun", "fuzhou_yuming", 470, None, ())]),
}


def test_every_scenario_file_has_its_stated_outcome_here():
    assert sorted(p.name for p in SCENARIOS.glob("*.yaml")) == sorted(STATED)


@pytest.mark.parametrize("name", sorted(STATED))
def test_scenario_replays_to_the_outcome_its_source_states(name):
    _, outcomes = STATED[name]
    schemes = sorted({scheme for _, scheme, *_ in outcomes})
    result = replay_file(SCENARIOS / name, schemes)
    for subject, scheme, score, band, flags in outcomes:
        outcome = result.outcome(subject, scheme)
        assert outcome is not None
        assert outcome.score == Decimal(score)
        if band is not None:
            assert outcome.band == band
        assert outcome.flags == flags
        assert outcome.events_unscored == 0


@pytest.mark.parametrize("name", sorted(STATED))
def test_scenario_description_cites_the_source_words(name):
    data = yaml.safe_load((SCENARIOS / name).read_text("utf-8"))
    assert data["name"] and data["description"]
    description = " ".join(data["description"].split())
    for file, line, quote in STATED[name][0]:
        assert file in description and f"line {line}" in description
        assert quote in description


@pytest.mark.skipif(SHARED is None, reason="../shared absent: scenario citations NOT checked")
@pytest.mark.parametrize("name", sorted(STATED))
def test_scenario_citations_are_found_on_their_lines(name):
    assert SHARED is not None
    for file, line, quote in STATED[name][0]:
        lines = (SHARED / "seeds" / file).read_text("utf-8").splitlines()
        assert quote in lines[line - 1], (file, line, quote)


def test_paid_tutoring_is_scored_by_every_scheme_with_a_rule_for_it():
    schemes = [s for s in shipped_schemes() if s.variant is None and s.subject_kind == "person"]
    result = replay_file(SCENARIOS / "teacher_paid_tutoring.yaml", [s.id for s in schemes])
    teacher = result.history.subjects["sun"]
    day = result.history.events[0].day
    naming = {s.id for s in schemes for r in s.rules if "teacher.paid_tutoring" in r.match.types
              and applies(r.match.subject, teacher, day)}
    assert {"meritown_2019", "fuzhou_yuming"} <= naming
    for outcome in result.results:
        assert outcome.events_scored == (1 if outcome.scheme in naming else 0), outcome.scheme
        if outcome.scheme in naming:
            assert outcome.score < outcome.start


@pytest.mark.parametrize("name", sorted(STATED))
def test_one_command_tells_each_scenario(runner, name):
    _, outcomes = STATED[name]
    args = [str(SCENARIOS / name)]
    for _, scheme, *_ in outcomes:
        args += ["--scheme", scheme]
    result = runner.invoke(explain_command, args)
    assert result.exit_code == 0, result.output
    assert "Source" in result.output and "Ends on" in result.output
    for _, _scheme, score, band, _ in outcomes:
        assert f"at {score}" in result.output
        if band is not None:
            assert f"band {band}" in result.output
