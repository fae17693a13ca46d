"""`creditlab explain`: the story of one person's score, read from the ledger, with citations."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import deferred

from creditlab.cli.educator import explain_command
from creditlab.engine import InputError, replay, shipped_scheme
from creditlab.engine.analysis.explain import explain, explain_all, narrate_ending, narrate_step

from conftest import ROOT, masked, points, rule
from history_builder import history, person
from strategies import histories

SCENARIOS = ROOT / "fixtures" / "scenarios"
SOURCE_QUOTE = "a test rule"


def _replay(scheme, events, subjects=None, **extra):
    h = history(subjects or [person("p", born="1980-01-01")], events, **extra)
    return replay(h, [scheme])


def test_each_step_is_a_ledger_entry_and_every_event_is_told(make_scheme):
    scheme = make_scheme(
        rule("r_help", "neighbour.eldercare_trip", points(1), frequency={"times": 1,
                                                                        "per": "month"}),
        rule("p_fight", "community.fight", points(-10), direction="penalty"),
        bands=[{"label": "A", "range": {"min": 1000}, "meaning": "Good.",
                "source": {"kind": "seed", "file": "test.txt", "quote": SOURCE_QUOTE},
                "fidelity": "documented"},
               {"label": "B", "range": {"max": 999}, "meaning": None,
                "source": {"kind": "seed", "file": "test.txt", "quote": SOURCE_QUOTE},
                "fidelity": "documented"}])
    result = _replay(scheme, [
        {"id": "e1", "subject": "p", "at": "2020-01-05", "type": "neighbour.eldercare_trip"},
        {"id": "e2", "subject": "p", "at": "2020-01-06", "type": "neighbour.eldercare_trip"},
        {"id": "e3", "subject": "p", "at": "2020-02-01", "type": "community.fight"},
        {"id": "e4", "subject": "p", "at": "2020-03-01", "type": "gambling"},
    ])
    story = explain(result, "p", "test_scheme")
    assert [(s.event, s.rule) for s in story.steps] == [
        ("e1", "r_help"), ("e2", "r_help"), ("e3", "p_fight"), ("e4", None)]
    assert [s.applied for s in story.steps] == [1, 0, -10, 0]
    assert [s.score for s in story.steps] == [1001, 1001, 991, 991]
    assert [s.band for s in story.steps] == ["A", "A", "B", "B"]
    assert story.start == 1000 and story.start_band == "A" and not story.start_given
    assert story.steps[1].note == "limit reached: at most 1 per month"
    assert all(s.quote == SOURCE_QUOTE for s in story.steps[:3])
    assert story.steps[3].quote is None
    assert "no rule of this scheme scores it" in narrate_step(story.steps[3])
    assert "+1, 0 applied" in narrate_step(story.steps[1])
    assert story.ending.score == 991 and story.ending.band == "B"
    assert "no stated meaning" in narrate_ending(story.ending)


def test_the_ending_quotes_what_the_band_means():
    result = replay_file_of("meritown_drunk_driving_aaa_to_b.yaml", "meritown_2019")
    story = explain(result, "chen", "meritown_2019")
    assert story.start_given and story.start_band == "AAA" and story.start == 1050
    assert story.ending.band == "B"
    meaning = shipped_scheme("meritown_2019").band("B")
    assert meaning is not None and story.ending.meaning == meaning.meaning
    text = narrate_ending(story.ending)
    assert "What B means" in text and meaning.source.quote in text
    assert "band AAA → band B" in narrate_step(story.steps[0])


def test_flags_and_score_resets_are_told():
    result = replay_file_of("fuzhou_court_judgment_default.yaml", "fuzhou_yuming")
    story = explain(result, "wu", "fuzhou_yuming")
    assert story.ending.flags == ("blacklisted",) and story.ending.score == 0
    assert "score set to 0" in narrate_step(story.steps[-1])
    assert "listed: blacklisted" in narrate_ending(story.ending)


def replay_file_of(name, scheme):
    from creditlab.engine import replay_file

    return replay_file(SCENARIOS / name, [scheme])


def test_errors_name_what_is_wrong(make_scheme):
    scheme = make_scheme(rule("r", "gambling", points(-1), direction="penalty"))
    result = _replay(scheme, [{"id": "e", "subject": "p", "at": "2020-01-01",
                               "type": "gambling"}])
    with pytest.raises(InputError, match="no subject 'q'"):
        explain(result, "q", "test_scheme")
    with pytest.raises(InputError, match="was not replayed"):
        explain(result, "p", "meritown_2019")
    company = make_scheme(rule("r", "gambling", points(-1), direction="penalty"),
                          id="firm_scheme", subject_kind="enterprise")
    both = replay(history([person("p")], []), [company])
    with pytest.raises(InputError, match="scores enterprises"):
        explain(both, "p", "firm_scheme")
    assert explain_all(both, "p") == []


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deferred(lambda: histories(scheme=shipped_scheme("suining_county"))))
def test_a_story_adds_up_to_the_outcome(data):
    result = replay(history(data["subjects"], data["events"]), [shipped_scheme("suining_county")])
    for subject, who in result.history.subjects.items():
        if who.kind != "person":
            continue
        story = explain(result, subject, "suining_county")
        outcome = result.outcome(subject, "suining_county")
        assert outcome is not None
        assert story.start + sum((s.applied for s in story.steps), Decimal(0)) == outcome.score
        assert {s.event for s in story.steps} == {e.id for e in result.history.events_of(subject)}
        assert story.ending.band == outcome.band


def test_cli_golden_text_and_json(runner, golden):
    path = SCENARIOS / "meritown_volunteering_cancels_abuse.yaml"
    for fmt, suffix in (("text", "txt"), ("json", "json")):
        result = runner.invoke(explain_command, [str(path), "--scheme", "meritown_2019",
                                                 "--format", fmt])
        assert result.exit_code == 0, result.output
        golden(f"educator.explain.{suffix}", masked(result.output))


def test_cli_needs_a_subject_when_there_are_several(runner):
    result = runner.invoke(explain_command, [str(ROOT / "fixtures" / "example.yaml")])
    assert result.exit_code == 2
    assert "--subject is needed" in result.output and "lu, sun, wang, zhao" in result.output
    result = runner.invoke(explain_command, [str(ROOT / "fixtures" / "example.yaml"),
                                             "--subject", "lux"])
    assert result.exit_code == 1
    assert "no subject 'lux'" in result.output and "did you mean 'lu'" in result.output


def test_cli_without_schemes_tells_only_where_a_rule_fired(runner):
    result = runner.invoke(explain_command, [str(SCENARIOS / "teacher_paid_tutoring.yaml")])
    assert result.exit_code == 0, result.output
    assert "meritown_2019 — " in result.output and "fuzhou_yuming — " in result.output
    assert "No rule fired for sun in:" in result.output
    assert "suining_county — " not in result.output


def test_cli_help_has_an_example(runner):
    result = runner.invoke(explain_command, ["--help"])
    assert result.exit_code == 0 and "Example:" in result.output


def test_lapsed_points_are_told_when_they_lapse(make_scheme):
    scheme = make_scheme(rule("r_blood", "donation.blood", points(10),
                              expires_after={"years": 1}))
    result = _replay(scheme, [
        {"id": "e1", "subject": "p", "at": "2020-01-05", "type": "donation.blood", "ml": 400},
        {"id": "e2", "subject": "p", "at": "2021-03-01", "type": "gambling"},
    ])
    story = explain(result, "p", "test_scheme")
    assert [(s.event, s.applied, s.at.date().isoformat()) for s in story.steps] == [
        ("e1", 10, "2020-01-05"), ("e1", -10, "2021-01-05"), ("e2", 0, "2021-03-01")]
    assert story.steps[1].kind == "lapse"
    assert "lapse" in narrate_step(story.steps[1])
    assert story.start + sum(s.applied for s in story.steps) == story.ending.score == 1000
