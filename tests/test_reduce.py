"""The reducer's mechanics, each shown on a tiny scheme: formulas and their boundaries,
tiers, caps, shared caps, period limits, count windows, duplicated rows, set score,
list states, reclassification and its duration, effective dates, subject conditions.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from creditlab.engine import replay
from creditlab.engine.describe import entry_effects, entry_note

from conftest import points, rule
from history_builder import history, person

D = Decimal


def run(scheme, subjects, events, **extra):
    return replay(history(subjects, events, **extra), [scheme])


def ev(i, etype, at="2019-01-01", subject="p", **attrs):
    return {"id": f"e{i:02d}", "subject": subject, "at": at, "type": etype, **attrs}


BLOOD = {"kind": "formula", "attr": "ml", "threshold": 400, "base_points": 10,
         "base_quantity": 400, "per": 200, "per_points": 5, "max_points": 30}


def test_blood_formula_boundaries(make_scheme):
    scheme = make_scheme(rule("blood", "donation.blood", BLOOD))
    applied = {ml: run(scheme, [person()], [ev(1, "donation.blood", ml=ml)]).ledger[0].applied
               for ml in (200, 399, 400, 599, 600, 800, 2000)}
    assert applied == {200: 0, 399: 0, 400: 10, 599: 10, 600: 15, 800: 20, 2000: 30}


def test_unit_conversion_platelets(make_scheme):
    platelets = {**BLOOD, "factor": 20}  # 10 ml of platelets = 200 ml of blood
    scheme = make_scheme(rule("platelets", "donation.platelets", platelets))
    assert run(scheme, [person()], [ev(1, "donation.platelets", ml=20)]).ledger[0].applied == 10
    assert run(scheme, [person()], [ev(1, "donation.platelets", ml=30)]).ledger[0].applied == 15


def test_tiers_by_level_and_missing_level(make_scheme):
    tiers = {"kind": "tiers", "attr": "level", "tiers": [
        {"value": "national", "points": 50}, {"value": "provincial", "points": 30}]}
    scheme = make_scheme(rule("award", "award.received", tiers))
    result = run(scheme, [person()], [
        ev(1, "award.received", award="bravery", level="national"),
        ev(2, "award.received", award="bravery", level="city"),
        ev(3, "award.received", award="bravery")])
    assert [e.applied for e in result.ledger] == [50, 0, 0]
    assert result.ledger[1].points is None
    assert "no points documented" in entry_note(result.ledger[1])
    assert "no level given" in entry_note(result.ledger[2])


def test_quantity_tiers_boundaries(make_scheme):
    tiers = {"kind": "quantity_tiers", "attr": "hours", "tiers": [
        {"range": {"max": 50}, "points": 10},
        {"range": {"min": 50, "min_inclusive": False, "max": 100}, "points": 20},
        {"range": {"min": 100, "min_inclusive": False}, "points": 30}]}
    scheme = make_scheme(rule("vol", "volunteer.service", tiers))
    got = [run(scheme, [person()], [ev(1, "volunteer.service", hours=h)]).ledger[0].applied
           for h in (1, 50, D("50.5"), 100, 101)]
    assert got == [10, 10, 20, 20, 30]


def test_rule_cap_per_year(make_scheme):
    scheme = make_scheme(rule("arrears", "utility.arrears", points(-15),
                              cap={"points": 30, "per": "year"}, direction="penalty"))
    events = [ev(i, "utility.arrears", at=f"2019-0{i}-01", utility="water", months_overdue=6)
              for i in (1, 2, 3)] + [ev(4, "utility.arrears", at="2020-01-01", utility="water",
                                        months_overdue=6)]
    result = run(scheme, [person()], events)
    assert [e.applied for e in result.ledger] == [-15, -15, 0, -15]
    assert "cap of 30 per year reached" in entry_note(result.ledger[2])


def test_shared_cap_group(make_scheme):
    group = {"id": "donations", "cap": {"points": 20}, "source": {"kind": "seed",
             "file": "t.txt", "quote": "counted together"}, "fidelity": "documented"}
    scheme = make_scheme(
        rule("red_cross", "donation.charity", points(15),
             match={"where": [{"attr": "via", "op": "eq", "value": "red_cross"}]},
             cap_group="donations"),
        rule("federation", "donation.charity", points(15),
             match={"where": [{"attr": "via", "op": "eq", "value": "charity_federation"}]},
             cap_group="donations"),
        cap_groups=[group])
    result = run(scheme, [person()], [
        ev(1, "donation.charity", amount_rmb=100, via="red_cross"),
        ev(2, "donation.charity", amount_rmb=100, via="charity_federation")])
    assert [e.applied for e in result.ledger] == [15, 5]
    assert result.results[0].score == 1020


def test_frequency_two_a_month(make_scheme):
    scheme = make_scheme(rule("trip", "neighbour.eldercare_trip", points(1),
                              frequency={"times": 2, "per": "month"}))
    dates = ["2019-03-01", "2019-03-10", "2019-03-31", "2019-04-01"]
    result = run(scheme, [person()], [ev(i, "neighbour.eldercare_trip", at=d)
                                      for i, d in enumerate(dates)])
    assert [e.applied for e in result.ledger] == [1, 1, 0, 1]
    assert result.results[0].events_scored == 4  # the rule fired; the limit held it to 0


def test_count_tiers_replace_and_add(make_scheme):
    tiers = [{"more_than": 5, "points": -30}, {"more_than": 10, "points": -50}]
    for mode, expected in (("replace", [0] * 5 + [-30] + [0] * 4 + [-20]),
                           ("add", [0] * 5 + [-30] + [0] * 4 + [-50])):
        scheme = make_scheme(rule("traffic", "traffic.violation", {
            "kind": "count_tiers", "window": "year", "mode": mode, "tiers": tiers},
            direction="penalty"))
        events = [ev(i, "traffic.violation", at=f"2019-01-{i + 1:02d}") for i in range(11)]
        assert [e.applied for e in run(scheme, [person()], events).ledger] == expected


def test_same_act_scored_once(make_scheme):
    scheme = make_scheme(
        rule("tax_finance", "tax.arrears", points(-30), direction="penalty"),
        rule("tax_bureau", "tax.arrears", points(-30), direction="penalty",
             same_act_as="tax_finance"))
    result = run(scheme, [person()], [ev(1, "tax.arrears")])
    assert [e.applied for e in result.ledger] == [-30, 0]
    assert result.results[0].score == 970


def test_reset_to_zero_and_blacklist(make_scheme):
    scheme = make_scheme(rule("default", "court.judgment_default",
                              {"kind": "set_score", "score": 0},
                              {"kind": "list", "action": "add", "flag": "blacklisted"},
                              direction="penalty"))
    result = run(scheme, [person()], [ev(1, "court.judgment_default")])
    assert result.results[0].score == 0 and result.results[0].flags == ("blacklisted",)
    assert result.ledger[0].applied == -1000


def test_reclassification_holds_for_its_duration(make_scheme):
    bands = [{"label": "A", "range": {"min": 1000}, "source": {"kind": "seed", "file": "t.txt",
              "quote": "abc"}, "fidelity": "documented"},
             {"label": "B", "range": {"max": 1000, "max_inclusive": False},
              "source": {"kind": "seed", "file": "t.txt", "quote": "abc"},
              "fidelity": "documented"}]
    scheme = make_scheme(rule("drunk", "traffic.drunk_driving", {
        "kind": "reclassify", "grade": "B", "policy": "worse_of", "duration": {"years": 1}},
        direction="penalty"), bands=bands)
    during = run(scheme, [person()], [ev(1, "traffic.drunk_driving", at="2019-05-01")],
                 as_of="2020-04-30")
    after = run(scheme, [person()], [ev(1, "traffic.drunk_driving", at="2019-05-01")],
                as_of="2020-05-01")
    assert during.results[0].band == "B" and during.results[0].score == 1000
    assert after.results[0].band == "A"


def test_list_state_expires(make_scheme):
    scheme = make_scheme(rule("list", "court.judgment_default", {
        "kind": "list", "action": "add", "flag": "blacklisted", "duration": {"months": 6}},
        direction="penalty"))
    e = [ev(1, "court.judgment_default", at="2019-01-31")]
    assert run(scheme, [person()], e, as_of="2019-07-30").results[0].flags == ("blacklisted",)
    assert run(scheme, [person()], e, as_of="2019-07-31").results[0].flags == ()


def test_effective_dates(make_scheme):
    scheme = make_scheme(rule("mask", "covid.no_mask", points(-10), direction="penalty",
                              effective_from=date(2020, 1, 23), effective_to=date(2022, 12, 31)))
    result = run(scheme, [person()], [ev(1, "covid.no_mask", at="2019-12-01"),
                                      ev(2, "covid.no_mask", at="2020-01-23"),
                                      ev(3, "covid.no_mask", at="2023-01-01")])
    assert [e.event for e in result.ledger] == ["e02"]
    assert result.results[0].events_unscored == 2


def test_subject_conditions(make_scheme):
    scheme = make_scheme(
        rule("tutor", "teacher.paid_tutoring", points(-20), direction="penalty",
             match={"subject": {"roles_any": ["teacher"]}}),
        rule("rural", "livestock.loose", points(-10), direction="penalty",
             match={"subject": {"residence": "rural"}}),
        rule("adult", "gambling", points(-5), direction="penalty",
             match={"subject": {"min_age": 18}}))
    subjects = [person("t", roles=["teacher"], residence="rural", born=date(1980, 1, 1)),
                person("u", residence="urban", born=date(2005, 6, 1)), person("x")]
    events = [ev(i * 3 + j, etype, subject=s)
              for i, s in enumerate(("t", "u", "x"))
              for j, etype in enumerate(("teacher.paid_tutoring", "livestock.loose", "gambling"))]
    result = run(scheme, subjects, events)
    fired = {(e.subject, e.rule) for e in result.ledger}
    assert fired == {("t", "tutor"), ("t", "rural"), ("t", "adult")}
    # An unknown age or residence never satisfies a condition.
    assert result.outcome("x", "test_scheme").events_unscored == 3


def test_clamped_scale(make_scheme):
    scheme = make_scheme(rule("big", "gambling", points(-700), direction="penalty"),
                         scale={"min": 0, "max": 1000, "start": 600, "clamp": True})
    result = run(scheme, [person()], [ev(1, "gambling")])
    assert result.results[0].score == 0 and result.ledger[0].applied == -600


def test_half_points_are_exact(make_scheme):
    scheme = make_scheme(rule("meter", "neighbour.help", points(D("0.5"))))
    result = run(scheme, [person()], [ev(i, "neighbour.help", kind="read_water_meter")
                                      for i in range(3)])
    assert result.results[0].score == D("1001.5")


def test_enterprise_events_are_not_applicable_to_person_schemes(make_scheme):
    scheme = make_scheme(rule("g", "gambling", points(-5), direction="penalty"))
    result = run(scheme, [person(), {"id": "co", "kind": "enterprise"}],
                 [ev(1, "gambling"), ev(2, "gambling", subject="co")])
    (acc,) = result.accounting
    assert (acc.scored, acc.unscored, acc.not_applicable) == (1, 0, 1)
    assert [r.subject for r in result.results] == ["p"]


def test_starting_points_set_score_and_grade(make_scheme):
    import pytest

    from creditlab.engine.errors import HistoryError

    bands = [{"label": label, "range": None, "source": {"kind": "seed", "file": "t.txt",
              "quote": "abc"}, "fidelity": "documented"} for label in ("AAA", "A", "B")]
    scheme = make_scheme(rule("drunk", "traffic.drunk_driving", {
        "kind": "reclassify", "grade": "B", "policy": "worse_of"}, direction="penalty"),
        rule("gift", "good_deed.other", points(5)), bands=bands)
    starting = [{"subject": "p", "scheme": "test_scheme", "score": 1100, "grade": "AAA"}]
    before = run(scheme, [person()], [ev(1, "good_deed.other")], starting=starting)
    assert before.results[0].start == 1100 and before.results[0].score == 1105
    assert before.results[0].band == "AAA"
    after = run(scheme, [person()], [ev(1, "traffic.drunk_driving")], starting=starting)
    assert (after.ledger[0].band_before, after.ledger[0].band_after) == ("AAA", "B")
    with pytest.raises(HistoryError, match="has no grade 'AA'"):
        run(scheme, [person()], [], starting=[{"subject": "p", "scheme": "test_scheme",
                                               "grade": "AA"}])


def test_points_lapse_after_their_validity(make_scheme):
    scheme = make_scheme(rule("gift", "good_deed.other", points(10),
                              expires_after={"years": 2}),
                         rule("fine", "gambling", points(-5), direction="penalty",
                              expires_after={"months": 6}))
    events = [ev(1, "good_deed.other", at="2019-01-10"), ev(2, "gambling", at="2019-02-01"),
              ev(3, "good_deed.other", at="2019-09-01")]
    result = run(scheme, [person()], events, as_of="2021-01-10")
    rows = [(e.event, e.rule, e.applied, entry_effects(e)[-1] if e.changes else "")
            for e in result.ledger]
    assert rows == [
        ("e01", "gift", 10, "lapses on 2021-01-10"),
        ("e02", "fine", -5, "lapses on 2019-08-01"),
        ("e02", "fine", 5, "lapsed"),      # lapsed before e03, the subject's next event
        ("e03", "gift", 10, "lapses on 2021-09-01"),
        ("e01", "gift", -10, "lapsed"),    # lapsed by as_of
    ]
    assert result.results[0].score == 1010
