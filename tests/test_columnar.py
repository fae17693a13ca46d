"""The columnar backend gives the durable backend's outcomes, accounting and ledger.

The durable replay (durable_rules matching, the Decimal reducer) is the reference: every
shipped scheme and variant, over generated histories aimed at its rules, over every
history of fixtures/ and every scenario of tests/scenarios, gives equal records, equal
canonical JSON and the same digest from `replay_columnar`. Unit tests pin the edges:
a lapse on its due day, caps reached mid-event, count tiers that replace, starting
points, and numbers the backend cannot hold exactly.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from creditlab.engine import shipped_schemes, shipped_vocabulary
from creditlab.engine.canonical import dumps
from creditlab.engine.checks.audit import history_from_data
from creditlab.engine.checks.scenario_tests import load_test
from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.scheme import Duration, Scheme
from creditlab.engine.scoring import periods
from creditlab.engine.scoring.columnar.dates import add_duration
from creditlab.engine.scoring.columnar.replay import ColumnarReplay, replay_columnar
from creditlab.engine.scoring.columnar.table import events_table, subjects_table
from creditlab.engine.scoring.digest import replay_digest
from creditlab.engine.scoring.replay import replay

from conftest import SOURCE, points, rule
from history_builder import history, person
from strategies import histories

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
SCHEMES = shipped_schemes()
PRIMARY = [s for s in SCHEMES if s.variant is None]
FIXTURES = sorted([ROOT / "fixtures" / "example.yaml",
                   *(ROOT / "fixtures" / "personas").glob("*.yaml"),
                   *(ROOT / "fixtures" / "scenarios").glob("*.yaml")])
SCENARIOS = sorted((ROOT / "tests" / "scenarios").glob("*/*.yaml"))
SETTINGS = settings(max_examples=25, deadline=None, database=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def columnar(history: History, schemes: list[Scheme] | tuple[Scheme, ...]) -> ColumnarReplay:
    ordered = sorted(schemes, key=lambda s: s.id)
    return replay_columnar(events_table(history), subjects_table(history), ordered,
                           starting=history.starting, end=history.end)


def assert_same(history: History, schemes: list[Scheme] | tuple[Scheme, ...]) -> ColumnarReplay:
    """Both backends agree on `history`: records, canonical JSON, digest."""
    durable = replay(history, schemes)
    fast = columnar(history, schemes)
    assert fast.outcomes() == list(durable.results)
    assert fast.accounting == durable.accounting
    entries = fast.entries()
    assert len(entries) == len(durable.ledger)
    for mine, theirs in zip(entries, durable.ledger, strict=True):
        assert mine == theirs
        assert dumps(mine.as_dict()) == dumps(theirs.as_dict())
    assert [dumps(o.as_dict()) for o in fast.outcomes()] == [
        dumps(o.as_dict()) for o in durable.results]
    assert replay_digest(fast.results, fast.ledger) == durable.digest
    return fast


def from_data(data: dict[str, Any]) -> History:
    return history_from_data(data, shipped_vocabulary())


# --- the reference histories ------------------------------------------------------------


@pytest.mark.parametrize("path", FIXTURES, ids=[p.stem for p in FIXTURES])
def test_fixture_histories_through_every_scheme(path: Path) -> None:
    assert_same(load_history(path, shipped_vocabulary()), SCHEMES)


@pytest.mark.parametrize("path", SCENARIOS, ids=[f"{p.parent.name}/{p.stem}" for p in SCENARIOS])
def test_scenario_histories_through_every_scheme(path: Path) -> None:
    assert_same(load_test(path).history, SCHEMES)


# --- generated histories, scheme by scheme -----------------------------------------------


@st.composite
def aimed(draw: st.DrawFn, scheme: Scheme, max_events: int = 25) -> History:
    data = draw(histories(scheme=scheme, max_subjects=3, max_events=max_events))
    if draw(st.integers(0, 3)) == 0 and data["events"]:
        # Now and then a history that ends later, so that finish lapses and expiries come.
        data["as_of"] = date(2030, 1, 1)
    return from_data(data)


@pytest.mark.parametrize("scheme", SCHEMES, ids=[s.id for s in SCHEMES])
def test_generated_histories_agree(scheme: Scheme) -> None:
    @SETTINGS
    @given(history=aimed(scheme))
    def agree(history: History) -> None:
        assert_same(history, [scheme])

    agree()


@pytest.mark.slow
def test_generated_histories_agree_at_length() -> None:
    """Longer histories through every scheme at once (more caps, windows and lapses)."""

    @settings(max_examples=60, deadline=None, database=None,
              suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
    @given(data=st.data())
    def agree(data: st.DataObject) -> None:
        scheme = data.draw(st.sampled_from(SCHEMES))
        assert_same(data.draw(aimed(scheme, max_events=60)), SCHEMES)

    agree()


# --- edges, on tiny schemes ----------------------------------------------------------------


def ev(i: int, etype: str, at: str = "2019-01-01", subject: str = "p",
       **attrs: Any) -> dict[str, Any]:
    return {"id": f"e{i:02d}", "subject": subject, "at": at, "type": etype, **attrs}


def test_points_lapse_on_exactly_their_due_day(make_scheme: Any) -> None:
    scheme = make_scheme(rule("gift", "good_deed.other", points(10),
                              expires_after={"years": 1}),
                         rule("fine", "gambling", points(-5), direction="penalty",
                              expires_after={"months": 1}))
    # e01's points are due on 2020-01-31 + 1 year: the 31st plus a month is 29 February.
    h = history([person(), person("q")], [
        ev(1, "good_deed.other", at="2019-01-31"), ev(2, "gambling", at="2020-01-31"),
        ev(3, "covid.no_mask", at="2020-01-31"), ev(4, "gambling", at="2020-02-29"),
        ev(5, "good_deed.other", at="2019-06-01", subject="q")], as_of="2020-06-01")
    fast = assert_same(h, [scheme])
    lapses = [(e.at, e.event, e.applied) for e in fast.entries() if e.is_lapse]
    assert lapses == [(date(2020, 1, 31), "e01", -10), (date(2020, 2, 29), "e02", 5),
                      (date(2020, 3, 29), "e04", 5), (date(2020, 6, 1), "e05", -10)]
    rows = fast.ledger.to_pylist()
    # A lapse comes first among its event's entries; the finish lapse after every event.
    assert [(r["position"], r["order"], r["kind"]) for r in rows][:4] == [
        (0, 0, "rule"), (1, 0, "rule"), (2, 0, "lapse"), (2, 1, "rule")]
    assert rows[-1]["position"] == len(h.events)


def test_caps_reached_mid_event_across_rule_and_group(make_scheme: Any) -> None:
    group = {"id": "giving", "cap": {"points": 25, "per": "year"}, "source": SOURCE,
             "fidelity": "documented"}
    scheme = make_scheme(
        rule("gift", "donation.charity", points(10), points(10),
             cap={"points": 15, "per": "year"}, cap_group="giving"),
        rule("more", "donation.charity", points(8), cap_group="giving"),
        cap_groups=[group], scale={"min": 0, "max": 1030, "clamp": True})
    h = history([person()], [ev(i, "donation.charity", at=f"2019-0{i}-01", amount_rmb=5)
                              for i in range(1, 4)] + [
        ev(9, "donation.charity", at="2020-01-01", amount_rmb=5)])
    fast = assert_same(h, [scheme])
    entries = fast.entries()
    # 2020: the caps start again, and the scale's top (1030) cuts what they leave.
    assert [e.applied for e in entries] == [15, 8, 0, 2, 0, 0, 5, 0]
    assert [n.kind for n in entries[6].notes] == ["clamped", "clamped"]
    assert any(n.kind == "cap_reached" and n.group == "giving" for n in entries[3].notes)
    assert any(n.kind == "cap_reached" and n.group is None for n in entries[0].notes)


def test_count_tiers_replace_within_a_window(make_scheme: Any) -> None:
    tiers = [{"more_than": 0, "points": -5}, {"more_than": 2, "points": -20}]
    scheme = make_scheme(rule("traffic", "traffic.violation", {
        "kind": "count_tiers", "window": "month", "mode": "replace", "tiers": tiers},
        direction="penalty"))
    days = ["2019-03-01", "2019-03-02", "2019-03-03", "2019-03-31", "2019-04-01"]
    h = history([person()], [ev(i, "traffic.violation", at=d) for i, d in enumerate(days)])
    fast = assert_same(h, [scheme])
    assert [e.applied for e in fast.entries()] == [-5, 0, -15, 0, -5]


def test_count_tiers_of_a_limited_rule(make_scheme: Any) -> None:
    """An event the frequency limit blocks is not counted, and reaches no new tier."""
    tiers = [{"more_than": 0, "points": -5}, {"more_than": 1, "points": -20}]
    scheme = make_scheme(rule("traffic", "traffic.violation", {
        "kind": "count_tiers", "window": "month", "mode": "replace", "tiers": tiers},
        direction="penalty", frequency={"times": 2, "per": "month"}))
    days = ["2019-03-01", "2019-03-02", "2019-03-03"]
    h = history([person()], [ev(i, "traffic.violation", at=d) for i, d in enumerate(days)])
    fast = assert_same(h, [scheme])
    assert [(e.points, e.applied) for e in fast.entries()] == [(-5, -5), (-15, -15), (0, 0)]


def test_formulas_resets_lists_and_grades(make_scheme: Any) -> None:
    blood = {"kind": "formula", "attr": "ml", "threshold": 400, "base_points": 10,
             "base_quantity": 400, "per": 200, "per_points": 5, "max_points": 30}
    bands = [{"label": label, "range": None, "source": SOURCE, "fidelity": "documented"}
             for label in ("A", "B")]
    scheme = make_scheme(
        rule("blood", "donation.blood", blood),
        rule("default", "court.judgment_default", {"kind": "set_score", "score": 0},
             {"kind": "list", "action": "add", "flag": "dishonest", "duration": {"months": 1}},
             {"kind": "reclassify", "grade": "B", "policy": "replace",
              "duration": {"days": 10}}, direction="penalty"),
        bands=bands)
    h = history([person()], [ev(i, "donation.blood", at=f"2019-01-0{i}", ml=ml)
                             for i, ml in enumerate((200, 400, 599, 600, 5000), 1)] + [
        ev(8, "court.judgment_default", at="2019-01-31"),
        ev(9, "donation.blood", at="2019-02-10", ml=400),
        ev(10, "donation.blood", at="2019-02-28", ml=400)], as_of="2019-03-31")
    fast = assert_same(h, [scheme])
    entries = fast.entries()
    assert [e.applied for e in entries[:5]] == [0, 10, 10, 15, 30]
    assert [n.kind for e in entries[:5] for n in e.notes] == ["below_threshold", "at_most"]
    # The grade holds ten days: on 10 February it has run out (and the list, by March).
    assert [(e.band_after, e.score_after) for e in entries[5:]] == [
        ("B", 0), (None, 10), (None, 20)]
    assert fast.outcomes()[0].flags == ()


def test_starting_points(make_scheme: Any) -> None:
    bands = [{"label": label, "range": None, "source": SOURCE, "fidelity": "documented"}
             for label in ("AAA", "A", "B")]
    scheme = make_scheme(rule("drunk", "traffic.drunk_driving", {
        "kind": "reclassify", "grade": "B", "policy": "worse_of"}, direction="penalty"),
        rule("gift", "good_deed.other", points(5)), bands=bands)
    starting = [{"subject": "p", "scheme": "test_scheme", "score": 1100, "grade": "AAA"}]
    h = history([person(), person("q")], [ev(1, "good_deed.other"),
                                          ev(2, "traffic.drunk_driving", subject="q")],
                starting=starting)
    fast = assert_same(h, [scheme])
    assert [(o.start, o.score, o.band) for o in fast.outcomes()] == [
        (1100, 1105, "AAA"), (1000, 1000, "B")]
    # A given grade shows only while the score gives no band (not the worse of the two).
    ranged = make_scheme(rule("gift", "good_deed.other", points(5)), bands=[
        {"label": "A", "range": {"min": 1000}, "source": SOURCE, "fidelity": "documented"},
        {"label": "B", "range": None, "source": SOURCE, "fidelity": "documented"}])
    given_b = [{"subject": "p", "scheme": "test_scheme", "score": 999, "grade": "B"}]
    h = history([person()], [ev(1, "good_deed.other")], starting=given_b)
    fast = assert_same(h, [ranged])
    assert [(e.band_before, e.band_after) for e in fast.entries()] == [("B", "A")]
    bad = history([person()], [], starting=[{"subject": "p", "scheme": "test_scheme",
                                             "grade": "AA"}])
    with pytest.raises(HistoryError, match="has no grade 'AA'") as caught:
        columnar(bad, [scheme])
    assert caught.value.field == "grade"


def test_effective_dates_hold_on_both_days(make_scheme: Any) -> None:
    scheme = make_scheme(rule("mask", "covid.no_mask", points(-10), direction="penalty",
                              effective_from=date(2020, 1, 23), effective_to=date(2020, 6, 30)))
    days = ["2020-01-22", "2020-01-23", "2020-06-30", "2020-07-01"]
    h = history([person()], [ev(i, "covid.no_mask", at=d) for i, d in enumerate(days)])
    fast = assert_same(h, [scheme])
    assert [e.event for e in fast.entries()] == ["e01", "e02"]


def test_numbers_beyond_exact_bounds_are_refused(make_scheme: Any) -> None:
    formula = {"kind": "formula", "attr": "hours", "per": D("0.000001"), "per_points": 1}
    scheme = make_scheme(rule("vol", "volunteer.service", formula))
    h = history([person()], [ev(1, "volunteer.service", hours=10**8)])
    with pytest.raises(HistoryError, match="cannot be scored exactly") as caught:
        columnar(h, [scheme])
    assert caught.value.field == "hours"
    many = history([person()], [ev(i, "volunteer.service", hours=999_000)
                                for i in range(3)])
    # 999,000 hours give 999,000,000,000 points: within bounds once, a score of three
    # such is not, and is refused rather than wrapped around.
    with pytest.raises(HistoryError, match="leaves the range"):
        columnar(many, [scheme])
    small = make_scheme(rule("gift", "good_deed.other", points(1)))
    start = [{"subject": "p", "scheme": "test_scheme", "score": D("0.0000001")}]
    with pytest.raises(HistoryError, match="cannot be scored exactly") as caught:
        columnar(history([person()], [], starting=start), [small])
    assert caught.value.field == "score"


def test_a_partition_gives_its_subjects_rows() -> None:
    """Replaying one subject's rows alone gives that subject's results and entries, and
    rows in any order give the same replay."""
    h = load_history(ROOT / "fixtures" / "example.yaml", shipped_vocabulary())
    whole = columnar(h, SCHEMES)
    events, subjects = events_table(h), subjects_table(h)
    shuffled = events.take(pa.array(list(range(events.num_rows))[::-1]))
    again = replay_columnar(shuffled, subjects, SCHEMES, starting=h.starting, end=h.end)
    assert again.results.equals(whole.results) and again.ledger.equals(whole.ledger)
    for sid in h.subjects:
        part = replay_columnar(
            events.filter(pc.equal(events.column("subject"), sid)),
            subjects.filter(pc.equal(subjects.column("id"), sid)), SCHEMES,
            starting=h.starting, end=h.end)
        assert part.outcomes() == [o for o in whole.outcomes() if o.subject == sid]
        mine = [e for e in whole.entries() if e.subject == sid]
        assert [e for e in part.entries() if e.kind == "rule"] == [
            e for e in mine if e.kind == "rule"]
        assert sorted(map(repr, part.entries())) == sorted(map(repr, mine))


@settings(max_examples=300, deadline=None, database=None)
@given(day=st.dates(date(1900, 1, 1), date(2200, 12, 31)), years=st.integers(0, 98),
       months=st.integers(0, 30), days=st.integers(0, 400))
def test_compiled_durations_are_the_calendars(day: date, years: int, months: int,
                                              days: int) -> None:
    assume(years * 365 + months * 30 + days <= 100 * 366)  # Duration's own bound
    duration = Duration(years=years, months=months, days=days or 1)
    epoch = date(1970, 1, 1).toordinal()
    mine = add_duration(day.toordinal() - epoch, duration.years, duration.months, duration.days)
    assert date.fromordinal(mine + epoch) == periods.add_duration(day, duration)
