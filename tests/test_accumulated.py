"""Totals over time: the `accumulated` effect, in both backends.

Sources print points for running totals ("Donating between 1,000-10,000 RMB over the
course of one year", "累计捐赠", "志愿服务前20个小时,每1小时加1分;21—80个小时,每两小时加1分
…"): an event gets what the rule's total in its window is worth after it, less what the
total was worth before. Unit tests pin the numbers by hand; a property holds the columnar
backend to the durable one on generated schemes and histories.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError
from test_columnar import assert_same, columnar

from creditlab.engine.checks.generate import targets_for
from creditlab.engine.checks.lint import lint_scheme
from creditlab.engine.describe import describe_effect, entry_note
from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.scheme import AccumulatedEffect, Scheme
from creditlab.engine.scoring.ledger import Accumulated, LedgerEntry
from creditlab.engine.scoring.periods import period_key
from creditlab.engine.scoring.replay import replay

from conftest import points, rule
from history_builder import history, person

D = Decimal

WEIHAI = [{"above": 0, "per": 1, "points": 1}, {"above": 20, "per": 2, "points": 1},
          {"above": 80, "per": 3, "points": 1}, {"above": 200, "per": 4, "points": 1}]
"""志愿服务前20个小时,每1小时加1分;21—80个小时,每两小时加1分;81—200个小时,每3小时加1分;
201小时以上,每4小时加1分"""


def ev(i: int, etype: str, at: str = "2019-01-01", subject: str = "p",
       **attrs: Any) -> dict[str, Any]:
    return {"id": f"e{i:02d}", "subject": subject, "at": at, "type": etype, **attrs}


def accumulated(of: str, window: Any = "year", **fields: Any) -> dict[str, Any]:
    return {"kind": "accumulated", "of": of, "window": window, **fields}


def scored(h: History, scheme: Scheme) -> list[LedgerEntry]:
    """The ledger, the same from both backends."""
    return [e for e in assert_same(h, [scheme]).entries() if e.kind == "rule"]


# --- the numbers, by hand ---------------------------------------------------------


def test_two_small_donations_in_one_year_reach_the_step(make_scheme: Any) -> None:
    """600 + 600 RMB in a year: +5 at the second (004, Gangwan); 15,000 in three: +5 once."""
    scheme = make_scheme(rule("gift", "donation.charity", accumulated(
        "amount_rmb", tiers=[{"at_least": 1000, "points": 5}])))
    h = history([person(), person("q")], [
        ev(1, "donation.charity", at="2019-02-01", amount_rmb=600),
        ev(2, "donation.charity", at="2019-09-01", amount_rmb=600),
        ev(3, "donation.charity", at="2019-10-01", amount_rmb=600),
        *(ev(4 + k, "donation.charity", at=f"2019-0{k + 1}-01", subject="q",
             amount_rmb=5000) for k in range(3))])
    entries = sorted(scored(h, scheme), key=lambda e: (e.subject, e.event))
    assert [(e.subject, e.applied) for e in entries] == [
        ("p", 0), ("p", 5), ("p", 0), ("q", 5), ("q", 0), ("q", 0)]
    assert entries[1].notes == (Accumulated("amount_rmb", D(1200), "year"),)
    assert entry_note(entries[1]) == "total 1200 amount_rmb this year"


def test_weihai_brackets_two_sixty_hour_blocks_earn_63(make_scheme: Any) -> None:
    """120 hours: 20 (first 20 at 1/h) + 30 (60 hours at 1 per 2) + 13 (40 hours at 1 per
    3, whole steps) = 63, where the ladder applied to each block gave 40 + 40 = 80."""
    scheme = make_scheme(rule("vol", "volunteer.service",
                              accumulated("hours", "ever", brackets=WEIHAI)))
    h = history([person()], [ev(1, "volunteer.service", at="2019-01-01", hours=60),
                             ev(2, "volunteer.service", at="2020-06-01", hours=60)])
    entries = scored(h, scheme)
    # 60 hours: 20 + 40/2 = 40; 120 hours: 63, so the second block earns 23.
    assert [e.applied for e in entries] == [40, 23]
    assert sum(e.applied for e in entries) == 63
    assert entries[1].notes[0] == Accumulated("hours", D(120), "ever")


def test_brackets_count_whole_steps_only_once(make_scheme: Any) -> None:
    """Hours 21-80 at 1 per 2: 21 + 1 + 1 hours give 20, then 1 (at 22), then 0 (23)."""
    scheme = make_scheme(rule("vol", "volunteer.service",
                              accumulated("hours", "ever", brackets=WEIHAI)))
    h = history([person()], [ev(i, "volunteer.service", at=f"2019-01-0{i}", hours=hours)
                             for i, hours in enumerate((21, 1, D("0.5"), D("0.5"), 300), 1)])
    # totals 21, 22, 22.5, 23, 323: worth 20, 21, 21, 21, 20 + 30 + 40 + 30 = 120.
    assert [e.applied for e in scored(h, scheme)] == [20, 1, 0, 0, 99]


def test_a_year_boundary_resets_the_total(make_scheme: Any) -> None:
    scheme = make_scheme(rule("gift", "donation.charity", accumulated(
        "amount_rmb", tiers=[{"at_least": 1000, "points": 5}])))
    h = history([person()], [
        ev(1, "donation.charity", at="2019-12-31", amount_rmb=600),
        ev(2, "donation.charity", at="2020-01-01", amount_rmb=600),
        ev(3, "donation.charity", at="2020-12-31", amount_rmb=400)])
    entries = scored(h, scheme)
    assert [e.applied for e in entries] == [0, 0, 5]
    assert [n.total for e in entries for n in e.notes if isinstance(n, Accumulated)] == [
        600, 600, 1000]


def test_blocked_events_add_nothing(make_scheme: Any) -> None:
    """An event the frequency limit blocks, or a duplicated row (same_act_as), is not in
    the total."""
    scheme = make_scheme(
        rule("gift", "donation.charity", accumulated(
            "amount_rmb", tiers=[{"at_least": 1000, "points": 5}]),
            frequency={"times": 2, "per": "month"}),
        rule("again", "donation.charity", accumulated(
            "amount_rmb", tiers=[{"at_least": 1000, "points": 7}]), same_act_as="gift"))
    h = history([person()], [
        ev(1, "donation.charity", at="2019-03-01", amount_rmb=400),
        ev(2, "donation.charity", at="2019-03-02", amount_rmb=400),
        ev(3, "donation.charity", at="2019-03-03", amount_rmb=400),
        ev(4, "donation.charity", at="2019-04-01", amount_rmb=200)])
    entries = scored(h, scheme)
    gift = [e for e in entries if e.rule == "gift"]
    again = [e for e in entries if e.rule == "again"]
    # The third March gift is blocked: the total stays 800, and April's 200 reaches 1000.
    assert [(e.applied, e.notes[-1].total) for e in gift] == [  # type: ignore[union-attr]
        (0, 400), (0, 800), (0, 800), (5, 1000)]
    # `again` counts only the event gift did not score: the third (400).
    assert [(e.applied, e.notes[-1].total) for e in again] == [  # type: ignore[union-attr]
        (0, 0), (0, 0), (0, 400), (0, 400)]


def test_tiers_replace_or_add(make_scheme: Any) -> None:
    """Wendeng's steps (累计达到 50 小时 +10 ... 300 小时 +50): replacing, 300 hours are
    worth 50 in all; adding, every step reached adds its points."""
    steps = [{"at_least": 50, "points": 10}, {"at_least": 300, "points": 50}]
    for mode, expected in (("replace", [10, 0, 40]), ("add", [10, 0, 50])):
        scheme = make_scheme(rule("vol", "volunteer.service", accumulated(
            "hours", tiers=steps, mode=mode)))
        h = history([person()], [ev(i, "volunteer.service", at=f"2019-0{i}-01", hours=h)
                                 for i, h in enumerate((50, 100, 150), 1)])
        assert [e.applied for e in scored(h, scheme)] == expected


def test_above_excludes_its_bound_and_max_points_holds(make_scheme: Any) -> None:
    """Fuzhou's row: 10 up to 50 hours, 20 over 50 to 100, 30 over 100; a count and a
    maximum."""
    tiers = [{"above": 0, "points": 10}, {"above": 50, "points": 20},
             {"above": 100, "points": 30}]
    scheme = make_scheme(
        rule("vol", "volunteer.service", accumulated("hours", tiers=tiers)),
        rule("times", "volunteer.service", accumulated(
            "count", "ever", brackets=[{"above": 0, "per": 1, "points": 2}], max_points=5)))
    h = history([person()], [ev(i, "volunteer.service", at=f"2019-0{i}-01", hours=hours)
                             for i, hours in enumerate((50, 50, D("0.5"), 101), 1)])
    entries = scored(h, scheme)
    # Totals 50, 100, 100.5, 201.5: worth 10, 20, 30, 30.
    assert [e.applied for e in entries if e.rule == "vol"] == [10, 10, 10, 0]
    # Two points per event, at most 5 in all: 2, 2, 1, 0.
    assert [e.applied for e in entries if e.rule == "times"] == [2, 2, 1, 0]
    assert entries[-1].notes[0] == Accumulated("count", D(4), "ever")
    assert entry_note(entries[-1]) == "total 4 events in all"


def test_missing_attribute_scores_nothing_and_adds_nothing(make_scheme: Any) -> None:
    lost = "good_deed.return_lost_property"
    scheme = make_scheme(rule("found", lost, accumulated(
        "amount_rmb", tiers=[{"at_least": 10, "points": 3}]), points(1)))
    h = history([person()], [ev(1, lost, amount_rmb=6), ev(2, lost, at="2019-01-02"),
                             ev(3, lost, at="2019-01-03", amount_rmb=4)])
    entries = scored(h, scheme)
    assert [e.applied for e in entries] == [1, 1, 4]
    assert [n.kind for n in entries[1].notes] == ["missing_attribute"]


def test_caps_and_lapses_cut_what_a_total_gives(make_scheme: Any) -> None:
    """The rule's cap applies to the points of the total's steps; lapses reverse them."""
    scheme = make_scheme(rule("vol", "volunteer.service",
                              accumulated("hours", "ever", brackets=WEIHAI),
                              cap={"points": 30, "per": "year"}, expires_after={"years": 1}))
    h = history([person()], [ev(1, "volunteer.service", at="2019-01-01", hours=60),
                             ev(2, "volunteer.service", at="2019-06-01", hours=60),
                             ev(3, "volunteer.service", at="2020-03-01", hours=60)],
                as_of="2021-12-31")
    entries = assert_same(h, [scheme]).entries()
    # 40 (cut to 30), 23 (cut to 0), then 2020: 180 hours are worth 83, +20.
    assert [(e.kind, e.applied) for e in entries] == [
        ("rule", 30), ("rule", 0), ("lapse", -30), ("rule", 20), ("lapse", -20)]


def test_amounts_beyond_exact_bounds_are_refused(make_scheme: Any) -> None:
    """The columnar backend refuses, never rounds, an amount or a total it cannot hold."""
    halves = make_scheme(rule("vol", "volunteer.service", accumulated(
        "hours", factor=D("0.5"), tiers=[{"at_least": 1, "points": 1}])))
    h = history([person()], [ev(1, "volunteer.service", hours=D("0.000001"))])
    assert [e.applied for e in replay(h, [halves]).ledger] == [0]
    with pytest.raises(HistoryError, match="amount 5E-7 cannot be scored exactly"):
        columnar(h, [halves])
    big = make_scheme(rule("vol", "volunteer.service", accumulated(
        "hours", "ever", brackets=[{"above": 0, "per": D("0.000001"), "points": 1000}])))
    with pytest.raises(HistoryError, match="leaves the range"):
        columnar(history([person()], [ev(1, "volunteer.service", hours=10**6)]), [big])


# --- the model ------------------------------------------------------------------------------


@pytest.mark.parametrize(("fields", "message"), [
    ({}, "one of 'tiers' or 'brackets'"),
    ({"tiers": [{"at_least": 1, "points": 1}], "brackets": [
        {"above": 0, "per": 1, "points": 1}]}, "one of 'tiers' or 'brackets'"),
    ({"tiers": [{"at_least": 5, "points": 1}, {"at_least": 5, "points": 2}]},
     "increasing order"),
    ({"tiers": [{"at_least": 5, "above": 4, "points": 1}]}, "one of 'at_least' or 'above'"),
    ({"brackets": [{"above": 20, "per": 1, "points": 1}, {"above": 0, "per": 2, "points": 1}]},
     "increasing order"),
    ({"brackets": [{"above": 0, "per": 0, "points": 1}]}, "'per' must be positive"),
    ({"brackets": [{"above": 0, "per": 1, "points": 1}], "mode": "add"}, "'mode' applies"),
    ({"tiers": [], "factor": 1}, "at least one"),
    ({"tiers": [{"at_least": 0, "points": 1}]}, "reached by a positive total"),
    ({"tiers": [{"above": -1, "points": 1}]}, "reached by a positive total"),
    ({"brackets": [{"above": -5, "per": 1, "points": 1}]}, "starts at 0 or above"),
    ({"tiers": [{"at_least": 1, "points": 1}], "factor": 0}, "'factor' must be positive"),
])
def test_the_model_refuses_what_it_cannot_mean(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        AccumulatedEffect.model_validate({"kind": "accumulated", "of": "hours",
                                          "window": "year", **fields})


def test_count_takes_no_factor() -> None:
    with pytest.raises(ValidationError, match="not to a count"):
        AccumulatedEffect.model_validate({"kind": "accumulated", "of": "count", "factor": 2,
                                          "window": "ever",
                                          "tiers": [{"at_least": 1, "points": 1}]})


def test_described_in_words() -> None:
    effect = AccumulatedEffect.model_validate(accumulated("hours", "ever", brackets=WEIHAI[:2],
                                                          max_points=50))
    assert describe_effect(effect) == ("total hours in all: above 0 +1 per 1, above 20 +1 "
                                       "per 2, at most 50")
    tiers = AccumulatedEffect.model_validate(accumulated(
        "amount_rmb", tiers=[{"at_least": 1000, "points": 5}, {"above": 10000, "points": 8}]))
    assert describe_effect(tiers) == "total amount_rmb this year: ≥ 1000 +5, > 10000 +8"


# --- both backends, on generated schemes and histories -----------------------------------

AMOUNTS = st.sampled_from([0, 1, 2, 3, 5, 10, 19, 20, 21, 50, 60, 80, 81, 100, 120, 200, 201,
                           300, D("0.5"), D("1.25"), D("19.999999"), D("20.000001")])
BOUNDS = st.sampled_from([1, 2, 5, 10, 20, 21, 50, 80, 100, 120, 200, 300, D("0.5"),
                          D("20.5")])
POINTS = st.sampled_from([0, 1, 2, 5, 10, 13, 30, D("0.5"), D("2.25")])


CALENDAR = st.sampled_from(["ever", "year", "month", "week", "day"])
"""Calendar windows (test_rolling_windows.py draws rolling ones too)."""


@st.composite
def accumulated_effects(draw: st.DrawFn, sign: int,
                        windows: st.SearchStrategy[Any] = CALENDAR) -> dict[str, Any]:
    of = draw(st.sampled_from(["hours", "count"]))
    fields: dict[str, Any] = {"window": draw(windows)}
    if of != "count" and draw(st.booleans()):
        # A factor with decimals can give an amount of 7 places, which the columnar
        # backend refuses (test_amounts_beyond_exact_bounds_are_refused).
        fields["factor"] = draw(st.sampled_from([2, 3, 10]))
    bounds = sorted(set(draw(st.lists(BOUNDS, min_size=1, max_size=4))))
    if draw(st.booleans()):
        bounds = [0, *bounds]  # "above 0": from the first hour
        fields["mode"] = draw(st.sampled_from(["replace", "add"]))
        fields["tiers"] = [{"above" if b == 0 or draw(st.booleans()) else "at_least": b,
                            "points": sign * draw(POINTS)} for b in bounds]
    else:
        fields["brackets"] = [{"above": b, "per": draw(st.sampled_from([1, 2, 3, D("0.5"),
                                                                        D("2.5")])),
                               "points": sign * draw(POINTS)} for b in bounds]
    if draw(st.integers(0, 3)) == 0:
        fields["max_points"] = sign * draw(st.sampled_from([1, 7, 25]))
    return accumulated(of, **fields)


@st.composite
def accumulating_cases(draw: st.DrawFn, windows: st.SearchStrategy[Any] = CALENDAR
                       ) -> tuple[list[dict[str, Any]], dict[str, Any], dict[str, Any]]:
    """(rules, scheme fields, history data) around volunteer.service."""
    rules = []
    for k in range(draw(st.integers(1, 2))):
        direction = draw(st.sampled_from(["reward", "penalty"]))
        sign = 1 if direction == "reward" else -1
        effects = [draw(accumulated_effects(sign, windows))
                   for _ in range(draw(st.integers(1, 2)))]
        extra: dict[str, Any] = {"direction": direction}
        if draw(st.integers(0, 2)) == 0:
            extra["frequency"] = {"times": draw(st.integers(1, 3)),
                                  "per": draw(st.sampled_from(["month", "year"]))}
        if draw(st.integers(0, 2)) == 0:
            extra["cap"] = {"points": draw(st.sampled_from([5, 30])),
                            "per": draw(st.sampled_from(["year", "ever"]))}
        if draw(st.integers(0, 2)) == 0:
            extra["expires_after"] = {"months": draw(st.sampled_from([1, 6, 13]))}
        if k == 1 and draw(st.booleans()):
            extra["same_act_as"] = "r0"
        rules.append(rule(f"r{k}", "volunteer.service", *effects, **extra))
    fields: dict[str, Any] = {}
    if draw(st.booleans()):
        fields["scale"] = {"min": 900, "max": 1060, "clamp": True}
    days = st.dates(min_value=date(2019, 1, 1), max_value=date(2021, 3, 31))
    events = [ev(i, "volunteer.service", at=draw(days).isoformat(),
                 subject=draw(st.sampled_from(["p", "q", "r"])), hours=draw(AMOUNTS))
              for i in range(draw(st.integers(0, 18)))]
    data = {"subjects": [person(s) for s in ("p", "q", "r")], "events": events}
    if draw(st.booleans()):
        data["as_of"] = "2022-06-30"
    return rules, fields, data


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=accumulating_cases())
def test_both_backends_agree_on_running_totals(make_scheme: Any,
                                                case: tuple[list[dict[str, Any]],
                                                            dict[str, Any],
                                                            dict[str, Any]]) -> None:
    """Records, canonical JSON and digest equal in both backends; and the points a rule of
    one effect gives in a window (before caps) add up to what its final total is worth."""
    rules, fields, data = case
    scheme = make_scheme(*rules, **fields)
    h = history(data["subjects"], data["events"],
                **({"as_of": data["as_of"]} if "as_of" in data else {}))
    entries = [e for e in assert_same(h, [scheme]).entries() if e.kind == "rule"]
    for r in scheme.rules:
        if len(r.effects) != 1:
            continue
        effect = r.effects[0]
        assert isinstance(effect, AccumulatedEffect)
        last: dict[tuple[str, str], Decimal] = {}
        given_sum: dict[tuple[str, str], Decimal] = {}
        for e in entries:
            if e.rule == r.id:
                key = (e.subject, period_key(effect.window, e.at))
                total = next(n.total for n in e.notes if isinstance(n, Accumulated))
                last[key] = total
                given_sum[key] = given_sum.get(key, D(0)) + (e.points or 0)
        for key, total in last.items():
            assert given_sum[key] == effect.value(total)


# --- lint knows the effect -------------------------------------------------------------


def test_lint_reads_the_numbers_of_a_total(make_scheme: Any) -> None:
    """The tiers' bounds and points, the brackets' steps and rates: quoted or reported;
    a reward's negative step is a direction mismatch."""
    quoted = dict(rule("gift", "donation.charity", accumulated(
        "amount_rmb", tiers=[{"at_least": 1000, "points": 5}, {"above": 10000, "points": 8}])),
        source={"kind": "seed", "file": "t.txt",
                "quote": "Donating between 1,000-10,000 RMB over the course of one year, "
                         "for example, earned an individual five credit points."})
    ladder = rule("vol", "volunteer.service", accumulated("hours", "ever", brackets=[
        {"above": 0, "per": 1, "points": 1}, {"above": 20, "per": 2, "points": -1}]))
    found = lint_scheme(make_scheme(quoted, ladder))
    unquoted = [(f.rule, f.field) for f in found
                if f.code == "number-not-quoted" and f.rule is not None]
    # 1,000 and 10,000 and five are printed; 8 is not. "Above 0" is the first hour's.
    here = "rules[1].effects[0].brackets"
    assert unquoted == [("gift", "rules[0].effects[0].tiers[1].points"),
                        *(("vol", f"{here}[{k}].{name}") for k, names in
                          ((0, ("per", "points")), (1, ("above", "per", "points")))
                          for name in names)]
    assert [(f.rule, f.field) for f in found if f.code == "direction-mismatch"] == [
        ("vol", "rules[1].effects[0].brackets[1].points")]


def test_generated_histories_aim_at_the_steps_of_a_total(make_scheme: Any) -> None:
    """Audit's histories carry amounts at a step, half or a third of it (two or three
    events reach it) and past it."""
    scheme = make_scheme(rule("vol", "volunteer.service", accumulated(
        "hours", "ever", brackets=[{"above": 0, "per": 1, "points": 1},
                                   {"above": 20, "per": 2, "points": 1}])))
    values = set(targets_for(scheme).values[("volunteer.service", "hours")])
    assert {20, 10, 21, 22, 24} <= values
    assert D("6.666666") in values  # three of them stay just below 20


def test_the_audit_property_catches_tiers_added_instead_of_replaced() -> None:
    """`totals-bounded` passes Weihai's donation tiers as written (the highest tier reached,
    at most 60 ever) and fails an engine that adds every tier reached instead."""
    from creditlab.engine import shipped_scheme, shipped_vocabulary
    from creditlab.engine.checks.properties import PROPERTIES, Run, Violation

    (prop,) = [p for p in PROPERTIES if p.name == "totals-bounded"]
    weihai = shipped_scheme("weihai_seashell")
    assert prop.applies(weihai)
    rule_index = next(i for i, r in enumerate(weihai.rules) if r.id == "wh_r_charitable_donation")
    declared = weihai.rules[rule_index]
    broken_effect = declared.effects[0].model_copy(update={"mode": "add"})
    broken = weihai.model_copy(update={"rules": [
        r if i != rule_index else declared.model_copy(update={"effects": [broken_effect]})
        for i, r in enumerate(weihai.rules)]})
    h = history([person("li", born=date(1970, 1, 1))],
                [{"id": f"d{k}", "subject": "li", "type": "donation.charity",
                  "at": date(2020, 1, 1 + k), "amount_rmb": amount}
                 for k, amount in enumerate([6000, 10000, 100000, 400000])])
    prop.check(Run(weihai, weihai, {}, h, replay(h, [weihai]), shipped_vocabulary()))
    with pytest.raises(Violation, match="wh_r_charitable_donation"):
        prop.check(Run(weihai, broken, {}, h, replay(h, [broken]), shipped_vocabulary()))
