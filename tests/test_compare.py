"""The N-way diff, the population comparison and the normalisations (engine side)."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis.strategies import deferred

from creditlab.engine import InputError, replay, replay_file, shipped_scheme
from creditlab.engine.analysis.compare import compare_population, diff
from creditlab.engine.analysis.normalise import band_rank, percentiles, share_of_scale
from creditlab.engine.inputs.population import population_lines

from conftest import points, rule
from history_builder import history, person
from strategies import histories

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "example.yaml"
POPULATION = ROOT / "fixtures" / "population.jsonl"
NAMED = ["meritown_2019", "fuzhou_yuming", "suining_county", "rongcheng_dongdao_lujia"]
SETTINGS = settings(max_examples=15, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _scored_histories():
    """Histories of the behaviours the named schemes score; built at the first draw, so
    that collecting the tests loads no scheme."""
    types = sorted({t for sid in NAMED for r in shipped_scheme(sid).rules
                    for t in r.match.types})
    return histories(types=types)


def _copy(scheme_id: str, new_id: str):
    scheme = shipped_scheme(scheme_id)
    return scheme.model_copy(update={"id": new_id})


@SETTINGS
@given(deferred(_scored_histories))
def test_the_diff_of_a_scheme_with_itself_is_empty(data):
    for sid in ("meritown_2019", "fuzhou_yuming"):
        h = history(data["subjects"], data["events"])
        result = replay(h, [shipped_scheme(sid), _copy(sid, "zz_copy")])
        d = diff(result)
        assert d.is_empty
        assert d.events == ()
        assert all(s.agree for s in d.subjects)


def test_diff_lists_divergent_events_most_divergent_first():
    d = diff(replay_file(EXAMPLE, ["meritown_2019", "fuzhou_yuming", "suining_county"]))
    assert not d.is_empty
    first = d.events[0]
    # Drunk driving: a grade change in Meritown, points in Fuzhou, nothing in Suining.
    assert first.event.type == "traffic.drunk_driving"
    assert first.effects_differ
    assert first.schemes["meritown_2019"].effects == ("grade B (worse of)",)
    assert first.schemes["fuzhou_yuming"].points == Decimal(-30)
    assert first.schemes["suining_county"].status == "not scored"
    keys = [(e.effects_differ, e.points_spread) for e in d.events]
    assert keys == sorted(keys, reverse=True)
    for e in d.events:
        assert not e.agree
        for p in e.schemes.values():
            assert len(p.rules) == len(p.citations) == len(p.entries)


def test_diff_with_all_events_lists_every_event_once():
    result = replay_file(EXAMPLE, ["meritown_2019", "suining_county"])
    d = diff(result, all_events=True)
    assert sorted(e.event.id for e in d.events) == sorted(e.id for e in result.history.events)


def test_diff_standings_match_the_replay():
    result = replay_file(EXAMPLE, ["meritown_2019", "fuzhou_yuming"])
    d = diff(result)
    for s in d.subjects:
        for sid, st in s.schemes.items():
            outcome = result.outcome(s.subject, sid)
            assert outcome is not None
            assert (st.score, st.band, st.flags) == (outcome.score, outcome.band, outcome.flags)
    wang = next(s for s in d.subjects if s.subject == "wang")
    assert wang.schemes["fuzhou_yuming"].share_of_scale.value == Decimal("0.54")
    meritown = wang.schemes["meritown_2019"].share_of_scale
    assert meritown.value is None and "no minimum or maximum" in (meritown.reason or "")


def test_diff_needs_two_schemes():
    with pytest.raises(InputError, match="at least two"):
        diff(replay_file(EXAMPLE, ["meritown_2019"]))


def test_enterprise_schemes_are_not_applicable_to_persons(make_scheme):
    firm = make_scheme(rule("r", "family.abuse", points(-5)), id="firm_scheme",
                       subject_kind="enterprise")
    h = history([person("p")], [{"id": "e", "subject": "p", "at": "2020-01-01",
                                 "type": "family.abuse"}])
    d = diff(replay(h, [shipped_scheme("meritown_2019"), firm]), all_events=True)
    assert d.events[0].schemes["firm_scheme"].status == "not applicable"
    assert d.subjects[0].schemes["firm_scheme"].status == "not applicable"


def _population(make_scheme, first, second):
    subjects = [person(f"p{i}") for i in range(5)]
    events = [{"id": f"e{i}-{k}", "subject": f"p{i}", "at": "2020-01-01",
               "type": "traffic.red_light"} for i in range(5) for k in range(i)]
    h = history(subjects, events)
    a = make_scheme(rule("a", "traffic.red_light", points(first)), id="scheme_a")
    b = make_scheme(rule("b", "traffic.red_light", points(second)), id="scheme_b")
    return compare_population(replay(h, [a, b]))


def test_kendall_tau_is_one_when_schemes_rank_alike_and_minus_one_when_reversed(make_scheme):
    assert _population(make_scheme, -10, -20).agreement[0].tau == 1
    assert _population(make_scheme, -10, 20).agreement[0].tau == -1
    constant = _population(make_scheme, -10, 0).agreement[0]
    assert constant.tau is None and "same score" in (constant.reason or "")


def test_extreme_flips_name_who_is_top_in_one_and_bottom_in_the_other(make_scheme):
    p = _population(make_scheme, -10, 20)
    tops = {(x.subject, x.top_in) for x in p.extremes}
    assert ("p0", "scheme_a") in tops and ("p4", "scheme_b") in tops


def test_population_bands_and_flips_add_up():
    result = replay_file(POPULATION, ["meritown_2019", "fuzhou_yuming", "suining_county"])
    p = compare_population(result)
    n = len(result.history.subjects)
    assert p.subjects == n == 300
    for sid in ("meritown_2019", "fuzhou_yuming", "suining_county"):
        assert sum(b.count for b in p.bands if b.scheme == sid) == n
    pairs = {(f.scheme_a, f.scheme_b) for f in p.flips}
    assert len(pairs) == 3
    for pair in pairs:
        cells = [f for f in p.flips if (f.scheme_a, f.scheme_b) == pair]
        assert sum(f.count for f in cells) == n
        assert sum(len(f.subjects) for f in cells) == n
    assert all(a.subjects == n for a in p.agreement)


def test_the_population_fixture_is_the_seeded_generator_s_output():
    lines = population_lines(seed=4, subjects=300, events_per_subject=10)
    assert POPULATION.read_text(encoding="utf-8") == "\n".join(lines) + "\n"


def test_the_population_fixture_uses_only_behaviours_the_named_schemes_score():
    result = replay_file(POPULATION, ["meritown_2019"])
    named = ["meritown_2019", "rongcheng_dongdao_lujia", "suining_county", "fuzhou_yuming",
             "rongcheng_city", "rongcheng_gangwan", "rongcheng_taxi"]
    scored = {t for sid in named for r in shipped_scheme(sid).rules for t in r.match.types}
    assert {e.type for e in result.history.events} <= scored
    assert 2000 <= len(result.history.events) <= 5000


def test_share_of_scale_band_rank_and_percentile_are_explicit():
    fuzhou, meritown = shipped_scheme("fuzhou_yuming"), shipped_scheme("meritown_2019")
    assert share_of_scale(fuzhou, Decimal(250)).value == Decimal("0.25")
    missing = share_of_scale(meritown, Decimal(1000))
    assert missing.value is None and missing.reason
    assert band_rank(meritown, "A").value == 1
    assert band_rank(meritown, None).value is None
    assert percentiles({"a": Decimal(1), "b": Decimal(1), "c": Decimal(2), "d": Decimal(3)}) == {
        "a": Decimal(25), "b": Decimal(25), "c": Decimal("62.5"), "d": Decimal("87.5")}
