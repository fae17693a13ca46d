"""Repeat offences (`repeats`) and frequency limits over rolling windows, in both backends.

Wendeng's Article 18(4), "在原减分分值基础上加倍减分": a repeat of the same kind of offence
within the validity period is deducted double. Dongdao Lujia's "two trips a month", read as
any 30 days (`frequency: {times: 2, per: {rolling: {days: 30}}}`, the variant
rongcheng_dongdao_lujia@eldercare_any_30_days). Both count a rule's earlier entries that its
limits let through, within a window that moves with each event. The edges are pinned on
small schemes with hand-worked numbers; every history goes through both backends and must
give the same ledger (`assert_same`), and a property holds them equal on generated
histories.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from test_columnar import SETTINGS, aimed, assert_same

from creditlab.cli.main import cli
from creditlab.engine import shipped_scheme
from creditlab.engine.checks.lint import lint_scheme
from creditlab.engine.describe import entry_note
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.catalog import shipped_schemes
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.ledger import FrequencyLimit, LedgerEntry, Repeat

from conftest import SOURCE, points, rule
from history_builder import history, person

D = Decimal
ONE_YEAR = {"years": 1}


def repeat(*rules: str, within: Any = "validity", factor: Any = 2,
           **extra: Any) -> dict[str, Any]:
    return {"id": "doubled", "rules": list(rules), "within": within, "factor": factor,
            "source": SOURCE, "fidelity": "documented", **extra}


def red_light(**extra: Any) -> dict[str, Any]:
    """-5 for a red light, counting one year (Wendeng's deductions of 40 or less)."""
    return rule("red", "traffic.red_light", points(-5), direction="penalty",
                expires_after=ONE_YEAR, **extra)


def litter(**extra: Any) -> dict[str, Any]:
    return rule("litter", "community.fight", points(-3), direction="penalty",
                expires_after=ONE_YEAR, **extra)


def ev(i: int, etype: str, at: str, subject: str = "p", **attrs: Any) -> dict[str, Any]:
    return {"id": f"e{i:02d}", "subject": subject, "at": at, "type": etype, **attrs}


def entries(h: History, scheme: Scheme) -> list[LedgerEntry]:
    """The ledger (rules and lapses), the same from both backends, by subject and day."""
    return sorted(assert_same(h, [scheme]).entries(), key=lambda e: (e.subject, e.at,
                                                                      e.event, e.kind))


def applied(h: History, scheme: Scheme) -> list[tuple[str, str, Decimal]]:
    return [(e.kind, str(e.at), e.applied) for e in entries(h, scheme)]


def test_a_second_offence_within_validity_is_doubled(make_scheme: Any) -> None:
    scheme = make_scheme(red_light(), repeats=[repeat("red")])
    h = history([person()], [ev(1, "traffic.red_light", "2020-03-01"),
                             ev(2, "traffic.red_light", "2020-09-01"),
                             ev(3, "traffic.red_light", "2020-10-01")])
    rules = [e for e in entries(h, scheme) if e.kind == "rule"]
    # A third offence is doubled too, not quadrupled: 加倍 is relative to the rule's points.
    assert [(e.points, e.applied) for e in rules] == [(-5, -5), (-10, -10), (-10, -10)]
    assert rules[1].notes == (Repeat(D(2), date(2020, 3, 1), "validity"),)
    assert rules[2].notes == (Repeat(D(2), date(2020, 9, 1), "validity"),)
    assert entry_note(rules[1]) == "a repeat within the validity of 2020-03-01: doubled"
    assert rules[2].score_after == 975


def test_the_validity_last_day_against_the_day_it_ends(make_scheme: Any) -> None:
    """A year from 2020-03-01 ends on 2021-03-01: an offence on 2021-02-28 repeats it, one
    on 2021-03-01 (the day the first lapses) does not."""
    scheme = make_scheme(red_light(), repeats=[repeat("red")])
    h = history([person(), person("q")], [
        ev(1, "traffic.red_light", "2020-03-01"), ev(2, "traffic.red_light", "2021-02-28"),
        ev(3, "traffic.red_light", "2020-03-01", "q"),
        ev(4, "traffic.red_light", "2021-03-01", "q")])
    assert applied(h, scheme) == [
        ("rule", "2020-03-01", -5), ("rule", "2021-02-28", -10),
        ("lapse", "2021-03-01", 5),
        ("rule", "2020-03-01", -5), ("lapse", "2021-03-01", 5), ("rule", "2021-03-01", -5)]


def test_a_duration_window(make_scheme: Any) -> None:
    """`within: {months: 6}`, on a rule that counts a year: seven months later is no
    repeat, though the earlier points still count."""
    scheme = make_scheme(red_light(), repeats=[repeat("red", within={"months": 6}, factor=3)])
    h = history([person()], [ev(1, "traffic.red_light", "2020-01-31"),
                             ev(2, "traffic.red_light", "2020-07-30"),
                             ev(3, "traffic.red_light", "2021-02-28")])
    rules = [e for e in entries(h, scheme) if e.kind == "rule"]
    assert [e.applied for e in rules] == [-5, -15, -5]
    assert rules[1].notes == (Repeat(D(3), date(2020, 1, 31), "P6M"),)
    assert entry_note(rules[1]) == "a repeat within 6 months of 2020-01-31: tripled"


def test_another_rule_is_not_a_repeat(make_scheme: Any) -> None:
    """Both rules are in the repeat, but the same type is read as the same rule."""
    scheme = make_scheme(red_light(), litter(), repeats=[repeat("red", "litter")])
    h = history([person()], [ev(1, "traffic.red_light", "2020-03-01"),
                             ev(2, "community.fight", "2020-04-01"),
                             ev(3, "community.fight", "2020-05-01")])
    rules = [e for e in entries(h, scheme) if e.kind == "rule"]
    assert [e.applied for e in rules] == [-5, -3, -6]


def test_a_rule_not_listed_is_never_doubled(make_scheme: Any) -> None:
    scheme = make_scheme(red_light(), litter(), repeats=[repeat("red")])
    h = history([person()], [ev(1, "community.fight", "2020-04-01"),
                             ev(2, "community.fight", "2020-05-01")])
    assert [e.applied for e in entries(h, scheme)] == [-3, -3]


def test_a_blocked_entry_is_neither_counted_nor_doubled(make_scheme: Any) -> None:
    """At most one red light a month: the second in March is blocked (0, no repeat), and
    April's is a repeat of 1 March's, not of the blocked one."""
    scheme = make_scheme(red_light(frequency={"times": 1, "per": "month"}),
                         repeats=[repeat("red")])
    h = history([person()], [ev(1, "traffic.red_light", "2020-03-01"),
                             ev(2, "traffic.red_light", "2020-03-20"),
                             ev(3, "traffic.red_light", "2020-04-02")])
    rules = [e for e in entries(h, scheme) if e.kind == "rule"]
    assert [(e.points, e.applied) for e in rules] == [(-5, -5), (-5, 0), (-10, -10)]
    assert [n.kind for n in rules[1].notes] == ["frequency_limit"]
    assert rules[2].notes == (Repeat(D(2), date(2020, 3, 1), "validity"),)


def test_a_cap_cuts_the_doubled_points(make_scheme: Any) -> None:
    """A cap of 12 a year: -5, then -10 cut to -7 (the doubling comes before the cap)."""
    scheme = make_scheme(red_light(cap={"points": 12, "per": "year"}),
                         repeats=[repeat("red")])
    h = history([person()], [ev(1, "traffic.red_light", "2020-03-01"),
                             ev(2, "traffic.red_light", "2020-04-01")])
    rules = [e for e in entries(h, scheme) if e.kind == "rule"]
    assert [(e.points, e.applied) for e in rules] == [(-5, -5), (-10, -7)]
    assert [n.kind for n in rules[1].notes] == ["repeat", "cap_reached"]


def test_the_lapse_reverses_the_doubled_amount(make_scheme: Any) -> None:
    scheme = make_scheme(red_light(), repeats=[repeat("red")])
    h = history([person()], [ev(1, "traffic.red_light", "2020-03-01"),
                             ev(2, "traffic.red_light", "2020-06-01")], as_of="2022-01-01")
    assert applied(h, scheme) == [
        ("rule", "2020-03-01", -5), ("rule", "2020-06-01", -10),
        ("lapse", "2021-03-01", 5), ("lapse", "2021-06-01", 10)]


def test_subjects_do_not_share_offences(make_scheme: Any) -> None:
    scheme = make_scheme(red_light(), repeats=[repeat("red")])
    h = history([person(), person("q")], [ev(1, "traffic.red_light", "2020-03-01"),
                                          ev(2, "traffic.red_light", "2020-04-01", "q")])
    assert [e.applied for e in entries(h, scheme)] == [-5, -5]


@pytest.mark.parametrize(("fields", "rules", "phrase", "where"), [
    ({"rules": ["red", "rde"]}, None, "unknown rule 'rde'", "repeats[0].rules[1]"),
    ({}, [rule("red", "traffic.red_light", points(-5), direction="penalty")],
     "has no expires_after", "repeats[0].rules[0]"),
    ({"factor": 0}, None, "above 0", "repeats[0].factor"),
    ({"factor": -2}, None, "above 0", "repeats[0].factor"),
])
def test_refused_at_load(make_scheme: Any, fields: dict[str, Any], rules: Any, phrase: str,
                         where: str) -> None:
    with pytest.raises(SchemeError) as caught:
        make_scheme(*(rules or [red_light()]), repeats=[{**repeat("red"), **fields}])
    assert phrase in str(caught.value)
    assert caught.value.field == where


def test_a_rule_in_two_repeats_is_refused(make_scheme: Any) -> None:
    with pytest.raises(SchemeError, match="already in repeat"):
        make_scheme(red_light(), repeats=[repeat("red"), {**repeat("red"), "id": "other"}])


def test_wendeng_doubles_a_second_traffic_fine() -> None:
    """The shipped scheme: two red-light fines of 500 RMB or less (-10 each, counting a
    year) four months apart: the second is -20."""
    scheme = shipped_scheme("weihai_wendeng")
    assert scheme.repeats and scheme.repeats[0].factor == 2
    rule_ids = {r.id for r in scheme.rules if r.direction == "penalty"
                and r.expires_after is not None}
    assert set(scheme.repeats[0].rules) == rule_ids


def test_wendeng_in_both_backends() -> None:
    """The shipped scheme: a traffic fine of 500 RMB (-10) and one of 2,000 RMB four
    months later (-20, doubled: -40): one rule, a fine of any amount."""
    scheme = shipped_scheme("weihai_wendeng")
    h = history([person(born="1980-05-01")], [
        ev(1, "traffic.administrative_penalty", "2020-03-01", penalty="fine", fine_rmb=500),
        ev(2, "traffic.administrative_penalty", "2020-07-01", penalty="fine", fine_rmb=2000),
        ev(3, "traffic.drunk_driving", "2020-08-01")])
    rules = [e for e in entries(h, scheme) if e.kind == "rule"]
    assert [(e.rule, e.points, e.applied) for e in rules] == [
        ("wd_p_traffic_fine", -10, -10), ("wd_p_traffic_fine", -40, -40),
        ("wd_g_drunk_driving_b", None, 0)]


# --- lint and show -----------------------------------------------------------------------


def unquoted(scheme: Scheme) -> list[tuple[str, str]]:
    return [(f.severity, f.field) for f in lint_scheme(scheme)
            if f.code == "number-not-quoted" and f.field.startswith("repeats")]


def test_lint_checks_the_factor_and_the_window(make_scheme: Any) -> None:
    """"加倍" prints no digit: a documented factor of 2 is an error; named in the note of an
    interpreted repeat it passes. A window of six months must be printed too."""
    quote = {"kind": "seed", "file": "t.txt", "quote": "在原减分分值基础上加倍减分"}
    documented = make_scheme(red_light(), repeats=[repeat("red", source=quote)])
    named = make_scheme(red_light(), repeats=[repeat(
        "red", source=quote, fidelity="interpreted", note="加倍 (double) read as a factor of 2.")])
    windowed = make_scheme(red_light(), repeats=[repeat(
        "red", within={"months": 6}, source={**quote, "quote": "半年内再次违反的，加倍减分"},
        fidelity="interpreted", note="加倍 read as 2.")])
    assert unquoted(documented) == [("error", "repeats[0].factor")]
    assert unquoted(named) == []
    assert unquoted(windowed) == []
    assert [f for f in lint_scheme(shipped_scheme("weihai_wendeng"))
            if f.severity != "info"] == []


def test_show_lists_the_repeats(runner: Any) -> None:
    result = runner.invoke(cli, ["show", "weihai_wendeng", "--width", "250"])
    assert result.exit_code == 0, result.output
    assert "Repeat offences" in result.output
    assert "wd_repeat_doubled" in result.output
    assert "points ×2 within the validity" in result.output


# --- frequency limits over rolling windows ----------------------------------------------


def trips(per: Any) -> dict[str, Any]:
    """+1 an eldercare trip, at most two per `per`."""
    return rule("trip", "neighbour.eldercare_trip", points(1),
                frequency={"times": 2, "per": per})


TRIP_DAYS = ["2020-01-20", "2020-01-25", "2020-02-05", "2020-02-19", "2020-02-20"]


def test_two_trips_in_any_30_days(make_scheme: Any) -> None:
    """20 and 25 January score; 5 February is the third in the 30 days up to it; 19
    February scores (20 January + 30 days is 19 February: it has left); 20 February is
    again the third (25 January and 19 February are in its window). The blocked trip of
    5 February never counts. By calendar month, 5 and 19 February both score."""
    h = history([person()], [ev(i, "neighbour.eldercare_trip", d)
                             for i, d in enumerate(TRIP_DAYS)])
    rolling = [e for e in entries(h, make_scheme(trips({"rolling": {"days": 30}})))]
    monthly = [e for e in entries(h, make_scheme(trips("month")))]
    assert [e.applied for e in rolling] == [1, 1, 0, 1, 0]
    assert [e.applied for e in monthly] == [1, 1, 1, 1, 0]
    assert rolling[2].notes == (FrequencyLimit(2, "P30D"),)
    assert entry_note(rolling[2]) == "limit reached: at most 2 in any 30 days"
    assert entry_note(monthly[4]) == "limit reached: at most 2 per month"


def test_a_rolling_limit_is_per_subject_and_per_rule(make_scheme: Any) -> None:
    scheme = make_scheme(trips({"rolling": {"days": 30}}),
                         rule("trip2", "neighbour.eldercare_trip", points(2),
                              frequency={"times": 1, "per": {"rolling": {"months": 1}}}))
    h = history([person(), person("q")], [
        ev(1, "neighbour.eldercare_trip", "2020-01-31"),
        ev(2, "neighbour.eldercare_trip", "2020-02-28"),
        ev(3, "neighbour.eldercare_trip", "2020-02-29"),
        ev(4, "neighbour.eldercare_trip", "2020-02-01", "q")])
    got = [(e.subject, e.rule, e.applied) for e in entries(h, scheme)]
    # p: trip counts 31 Jan, 28 Feb, then 29 Feb is the third within 30 days; trip2 (a
    # month from 31 January is 29 February 2020): 28 February blocked, 29 February scores.
    assert got == [("p", "trip", 1), ("p", "trip2", 2), ("p", "trip", 1), ("p", "trip2", 0),
                   ("p", "trip", 0), ("p", "trip2", 2), ("q", "trip", 1), ("q", "trip2", 2)]


def test_lint_reads_the_length_of_a_frequency_window(make_scheme: Any) -> None:
    quote = {"kind": "seed", "file": "t.txt", "quote": "limited to two trips a month"}
    found = lint_scheme(make_scheme(rule(
        "trip", "neighbour.eldercare_trip", points(1), source=quote, fidelity="interpreted",
        note="A month is read as any 30 days.",
        frequency={"times": 2, "per": {"rolling": {"days": 30}}})))
    silent = lint_scheme(make_scheme(rule(
        "trip", "neighbour.eldercare_trip", points(1), source=quote, fidelity="interpreted",
        note="A month is read as a moving window.",
        frequency={"times": 2, "per": {"rolling": {"days": 30}}})))
    windows = [[f.field for f in fs if f.code == "number-not-quoted"
                and f.field.startswith("rules[0].frequency")] for fs in (found, silent)]
    assert windows == [[], ["rules[0].frequency.per.rolling"]]


def test_the_dongdao_variant_counts_any_30_days() -> None:
    variant = next(s for s in shipped_schemes()
                   if s.id == "rongcheng_dongdao_lujia@eldercare_any_30_days")
    base = shipped_scheme("rongcheng_dongdao_lujia")
    h = history([person(born="1980-05-01")], [ev(i, "neighbour.eldercare_trip", d)
                                              for i, d in enumerate(TRIP_DAYS)])
    assert [e.applied for e in entries(h, variant)] == [1, 1, 0, 1, 0]
    assert [e.applied for e in entries(h, base)] == [1, 1, 1, 1, 0]
    assert [f for f in lint_scheme(variant) if f.severity != "info"] == []


# --- the backends agree ----------------------------------------------------------------


@st.composite
def offences(draw: st.DrawFn, scheme: Scheme) -> History:
    """Red lights and litter for two people over two years, days drawn close together so
    that repeats, blocked entries, caps and lapses meet."""
    n = draw(st.integers(1, 10))
    days = sorted(draw(st.lists(st.integers(0, 700), min_size=n, max_size=n)))
    events = []
    for i, d in enumerate(days):
        etype = draw(st.sampled_from(["traffic.red_light", "community.fight",
                                      "neighbour.eldercare_trip"]))
        at = date.fromordinal(date(2020, 1, 1).toordinal() + d).isoformat()
        events.append(ev(i, etype, at, draw(st.sampled_from(["p", "q"]))))
    return history([person(), person("q")], events, as_of="2023-01-01")


def test_durable_and_columnar_agree_on_repeats(make_scheme: Any) -> None:
    schemes = [
        make_scheme(red_light(), litter(), repeats=[repeat("red", "litter")]),
        make_scheme(red_light(frequency={"times": 2, "per": "month"},
                              cap={"points": 12, "per": "year"}), litter(),
                    repeats=[repeat("red", within={"days": 90}, factor=D("1.5"))]),
        make_scheme(red_light(), litter(), repeats=[repeat("litter", factor=3)],
                    scale={"min": 980, "max": 1000, "clamp": True}),
        make_scheme(red_light(frequency={"times": 1, "per": {"rolling": {"days": 45}}}),
                    trips({"rolling": {"days": 30}}), litter(),
                    repeats=[repeat("red", "litter")]),
    ]

    @SETTINGS
    @given(data=st.data())
    def agree(data: st.DataObject) -> None:
        scheme = data.draw(st.sampled_from(schemes))
        assert_same(data.draw(offences(scheme)), [scheme])

    agree()


def test_generated_histories_agree_on_wendeng() -> None:
    scheme = shipped_scheme("weihai_wendeng")

    @SETTINGS
    @given(history=aimed(scheme))
    def agree(history: History) -> None:
        assert_same(history, [scheme])

    agree()
