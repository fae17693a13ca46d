"""Running totals over rolling windows (`window: {rolling: {days: 365}}`), in both backends.

"Accumulating to license suspension after 12 points within three years": the total is
of the rule's earlier counted events still in the window, plus this event, an event on day
e being in the window of an event on day d while d < e + the window's length. No shipped
scheme has one, so the edges are pinned on small schemes with hand-worked numbers, and a
reform of Weihai (its volunteering ladder over the last five years, the alternative its
note names) takes a rolling window through a shipped scheme. Every history here goes
through both backends and must give the same ledger (`assert_same`).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_accumulated import WEIHAI, accumulated, accumulating_cases, ev, scored
from test_columnar import SETTINGS, aimed, assert_same

from creditlab.engine import shipped_scheme, shipped_vocabulary
from creditlab.engine.checks.lint import lint_scheme
from creditlab.engine.checks.properties import PROPERTIES, Run, Violation
from creditlab.engine.describe import describe_effect, entry_note
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.reform import apply_reform, load_reform
from creditlab.engine.inputs.scheme import AccumulatedEffect, Duration, Scheme
from creditlab.engine.inputs.scheme_effects import RollingWindow
from creditlab.engine.scoring.ledger import Accumulated, FrequencyLimit
from creditlab.engine.scoring.periods import add_duration
from creditlab.engine.scoring.replay import replay

from conftest import rule
from history_builder import history, person

D = Decimal
ROOT = Path(__file__).resolve().parent.parent
REFORM = ROOT / "fixtures" / "reforms" / "weihai-volunteering-five-years.yaml"
STEP = [{"at_least": 1000, "points": 5}]
"""A step of 1,000 RMB worth 5 points ("Donating between 1,000-10,000 RMB ...")."""


def rolling(**length: int) -> dict[str, Any]:
    return {"rolling": length}


def gifts(window: Any, tiers: list[dict[str, Any]] = STEP, mode: str = "replace",
          **extra: Any) -> dict[str, Any]:
    """A rule on the running total of charitable gifts; `extra` are the rule's fields."""
    return rule("gift", "donation.charity", accumulated("amount_rmb", window, tiers=tiers,
                                                        mode=mode), **extra)


def gift(i: int, at: str, amount: Any, subject: str = "p") -> dict[str, Any]:
    return ev(i, "donation.charity", at=at, subject=subject, amount_rmb=amount)


def by_subject(entries: list[Any]) -> dict[str, list[Decimal]]:
    out: dict[str, list[Decimal]] = {}
    for e in sorted(entries, key=lambda e: (e.subject, e.at, e.event)):
        out.setdefault(e.subject, []).append(e.applied)
    return out


def totals(entries: list[Any]) -> list[Decimal]:
    return [n.total for e in entries for n in e.notes if isinstance(n, Accumulated)]


# --- the edges, by hand ------------------------------------------------------------------


def test_the_last_day_inside_and_the_first_day_outside(make_scheme: Any) -> None:
    """365 days from 2019-01-01 run to 2019-12-31: a gift then still sees the first; on
    2020-01-01 the first has left. A total that forgets earns its step again."""
    scheme = make_scheme(gifts(rolling(days=365)))
    h = history([person(), person("q")], [
        gift(1, "2019-01-01", 600), gift(2, "2019-12-31", 400), gift(3, "2020-01-01", 600),
        gift(4, "2019-01-01", 600, "q"), gift(5, "2020-01-01", 400, "q")])
    entries = scored(h, scheme)
    # p: 600; 600 + 400 = 1000 (+5); 600 left on 2020-01-01: 400 + 600 = 1000, worth 5
    # against 400's 0, so +5 again. q: 600, then 400 alone.
    assert by_subject(entries) == {"p": [0, 5, 5], "q": [0, 0]}
    p = [e for e in entries if e.subject == "p"]
    assert totals(p) == [600, 1000, 1000]
    assert p[1].notes == (Accumulated("amount_rmb", D(1000), "P365D"),)
    assert entry_note(p[1]) == "total 1000 amount_rmb in the 365 days up to this event"


def test_a_calendar_year_and_a_rolling_year_differ_across_new_year(make_scheme: Any) -> None:
    """The same gifts, 600 on 31 December and 400 on 1 January: a calendar year resets
    between them, a rolling year does not."""
    h = history([person()], [gift(1, "2019-12-31", 600), gift(2, "2020-01-01", 400)])
    calendar = make_scheme(gifts("year"))
    moving = make_scheme(gifts(rolling(years=1)))
    assert [e.applied for e in scored(h, calendar)] == [0, 0]
    assert [e.applied for e in scored(h, moving)] == [0, 5]


def test_a_total_crosses_tiers_inside_one_event(make_scheme: Any) -> None:
    """Wendeng's steps over a rolling 3 years: 40 then 400 hours cross both steps at once
    (replace: 50 in all; add: 10 + 50). Weihai's brackets over a rolling year: 120 hours at
    once are worth 63; a year later they have left, and 60 hours earn 40 afresh."""
    steps = [{"at_least": 50, "points": 10}, {"at_least": 300, "points": 50}]
    for mode, expected in (("replace", [0, 50]), ("add", [0, 60])):
        scheme = make_scheme(rule("vol", "volunteer.service", accumulated(
            "hours", rolling(years=3), tiers=steps, mode=mode)))
        h = history([person()], [ev(1, "volunteer.service", at="2019-01-01", hours=40),
                                 ev(2, "volunteer.service", at="2019-06-01", hours=400)])
        assert [e.applied for e in scored(h, scheme)] == expected
    ladder = make_scheme(rule("vol", "volunteer.service", accumulated(
        "hours", rolling(years=1), brackets=WEIHAI)))
    h = history([person()], [ev(1, "volunteer.service", at="2019-01-01", hours=120),
                             ev(2, "volunteer.service", at="2020-01-01", hours=60)])
    entries = scored(h, ladder)
    assert [e.applied for e in entries] == [63, 40]
    assert totals(entries) == [120, 60]


def test_a_month_from_the_31st_ends_with_february(make_scheme: Any) -> None:
    """31 January plus a month is 28 February (2019): a gift on the 27th is inside, one on
    the 28th outside."""
    scheme = make_scheme(gifts(rolling(months=1)))
    h = history([person(), person("q")], [
        gift(1, "2019-01-31", 600), gift(2, "2019-02-27", 400),
        gift(3, "2019-01-31", 600, "q"), gift(4, "2019-02-28", 400, "q")])
    assert by_subject(scored(h, scheme)) == {"p": [0, 5], "q": [0, 0]}


def test_a_year_from_a_leap_day(make_scheme: Any) -> None:
    """29 February 2020 plus a year is 28 February 2021; plus four years, 29 February
    2024. Two rules on the same gifts, one over a rolling year, one over four."""
    scheme = make_scheme(
        gifts(rolling(years=1)),
        rule("gift4", "donation.charity", accumulated("amount_rmb", rolling(years=4),
                                                      tiers=STEP)))
    later = {"p": "2021-02-27", "q": "2021-02-28", "r": "2024-02-28", "s": "2024-02-29"}
    h = history([person(s) for s in later], [
        gift(k, day, amount, s) for n, (s, second) in enumerate(later.items())
        for k, day, amount in ((2 * n + 1, "2020-02-29", 600), (2 * n + 2, second, 400))])
    entries = scored(h, scheme)
    one = by_subject([e for e in entries if e.rule == "gift"])
    four = by_subject([e for e in entries if e.rule == "gift4"])
    assert one == {"p": [0, 5], "q": [0, 0], "r": [0, 0], "s": [0, 0]}
    assert four == {"p": [0, 5], "q": [0, 5], "r": [0, 5], "s": [0, 0]}


def test_two_subjects_interleaved_keep_their_own_windows(make_scheme: Any) -> None:
    """A third offence within 30 days (a count, Dongdao's other reading): p's 1 January
    leaves on the 31st, so the 31st is again a third within 30 days; q's 2 January leaves
    on 1 February, so q's third comes on 2 February."""
    scheme = make_scheme(rule("thrice", "traffic.violation", accumulated(
        "count", rolling(days=30), tiers=[{"at_least": 3, "points": -10}]),
        direction="penalty"))
    days = {"p": ["2019-01-01", "2019-01-15", "2019-01-30", "2019-01-31", "2019-03-15"],
            "q": ["2019-01-02", "2019-01-16", "2019-02-01", "2019-02-02"]}
    events = sorted(({"id": f"{s}{k}", "subject": s, "at": day, "type": "traffic.violation"}
                     for s, ds in days.items() for k, day in enumerate(ds)),
                    key=lambda e: e["at"])
    h = history([person("p"), person("q")], events)
    entries = scored(h, scheme)
    assert by_subject(entries) == {"p": [0, 0, -10, -10, 0], "q": [0, 0, 0, -10]}
    assert totals(sorted(entries, key=lambda e: (e.subject, e.at))) == [
        1, 2, 3, 3, 1, 1, 2, 2, 3]
    assert entry_note(entries[-1]).endswith("events in the 30 days up to this event")


def test_blocked_events_add_nothing(make_scheme: Any) -> None:
    """Two gifts a month at most: the third March gift is blocked and not in the window,
    so April's 100 is the one that brings the 60 days' total to 1000."""
    scheme = make_scheme(gifts(rolling(days=60), frequency={"times": 2, "per": "month"}))
    h = history([person()], [gift(1, "2019-03-01", 600), gift(2, "2019-03-02", 300),
                             gift(3, "2019-03-03", 300), gift(4, "2019-04-01", 100)])
    entries = scored(h, scheme)
    assert [e.applied for e in entries] == [0, 0, 0, 5]
    assert totals(entries) == [600, 900, 900, 1000]
    assert FrequencyLimit(2, "month") in entries[2].notes


def test_caps_and_lapses_apply_to_what_a_rolling_total_gives(make_scheme: Any) -> None:
    """A rolling window beside the rule's expiry: the points lapse, the hours leave the
    window, and the second block earns the first steps again (cut by the cap)."""
    scheme = make_scheme(rule("vol", "volunteer.service",
                              accumulated("hours", rolling(years=1), brackets=WEIHAI),
                              cap={"points": 30, "per": "year"}, expires_after={"years": 1}))
    h = history([person()], [ev(1, "volunteer.service", at="2019-03-01", hours=60),
                             ev(2, "volunteer.service", at="2020-03-01", hours=60)],
                as_of="2021-12-31")
    entries = assert_same(h, [scheme]).entries()
    assert [(e.kind, e.applied) for e in entries] == [
        ("rule", 30), ("lapse", -30), ("rule", 30), ("lapse", -30)]


# --- the model, words and lint ------------------------------------------------------------


def test_the_window_names_and_words() -> None:
    effect = AccumulatedEffect.model_validate(accumulated(
        "amount_rmb", rolling(years=3), tiers=STEP))
    assert effect.rolling == Duration(years=3)
    assert effect.window_name == "P3Y"
    assert describe_effect(effect) == "total amount_rmb in the last 3 years: ≥ 1000 +5"
    for length, name in (({"days": 365}, "P365D"), ({"years": 1, "months": 6}, "P1Y6M"),
                         ({"months": 1}, "P1M")):
        window = RollingWindow.model_validate({"rolling": length})
        assert window.name == name
        assert RollingWindow.named(name) == window
    assert RollingWindow.named("year") is None
    assert RollingWindow.named("P") is None
    calendar = AccumulatedEffect.model_validate(accumulated("hours", "ever", tiers=STEP))
    assert (calendar.rolling, calendar.window_name) == (None, "ever")


@pytest.mark.parametrize(("window", "message"), [
    ({"rolling": {"days": 0}}, "a duration needs a positive number"),
    ({"rolling": 365}, "valid dictionary"),
    ({"days": 365}, "missing required key 'rolling'"),
    ("yearly", "Input should be 'ever', 'year'"),
])
def test_a_bad_window_is_refused_where_it_is(make_scheme: Any, window: Any,
                                              message: str) -> None:
    with pytest.raises(SchemeError, match=message) as caught:
        make_scheme(gifts(window))
    assert caught.value.field is not None
    assert caught.value.field.startswith("rules[0].effects[0].window")


def test_lint_reads_the_length_of_a_window(make_scheme: Any) -> None:
    """"within three years" prints a rolling window of 3 years; 2 years is not printed."""
    quote = {"kind": "seed", "file": "t.txt",
             "quote": "Donating 1,000 RMB within three years earns five points."}
    found = {n: lint_scheme(make_scheme(gifts(rolling(years=n), source=quote)))
             for n in (2, 3)}
    unquoted = {n: [f.field for f in fs if f.code == "number-not-quoted" and f.rule]
                for n, fs in found.items()}
    assert unquoted == {2: ["rules[0].effects[0].window.rolling"], 3: []}


# --- the audit property -------------------------------------------------------------------


def test_totals_bounded_holds_over_stretches_of_a_rolling_window(make_scheme: Any) -> None:
    """A rolling total that forgets earns again (8 twice, a year apart): not a violation.
    Tiers added where they replace give 5 + 8 within one stretch: a violation."""
    (prop,) = [p for p in PROPERTIES if p.name == "totals-bounded"]
    tiers = [{"at_least": 1000, "points": 5}, {"at_least": 2000, "points": 8}]
    scheme = make_scheme(gifts(rolling(days=365), tiers))
    broken = make_scheme(gifts(rolling(days=365), tiers, mode="add"))
    assert prop.applies(scheme)
    again = history([person()], [gift(1, "2019-01-01", 2000), gift(2, "2020-01-01", 2000)])
    result = replay(again, [scheme])
    assert [e.applied for e in result.ledger] == [8, 8]
    prop.check(Run(scheme, scheme, {}, again, result, shipped_vocabulary()))
    steps = history([person()], [gift(1, "2019-01-01", 1000), gift(2, "2019-02-01", 1000)])
    prop.check(Run(scheme, scheme, {}, steps, replay(steps, [scheme]), shipped_vocabulary()))
    with pytest.raises(Violation, match="window of P365D"):
        prop.check(Run(scheme, broken, {}, steps, replay(steps, [broken]),
                       shipped_vocabulary()))


# --- a shipped scheme, reformed -------------------------------------------------------------


def reformed() -> Scheme:
    reform, located = load_reform(REFORM)
    return apply_reform(shipped_scheme("weihai_seashell"), reform,
                        vocabulary=shipped_vocabulary(), located=located)


def test_weihai_volunteering_over_five_years() -> None:
    """60 hours in 2019 earn 40 and lapse five years on; 60 more on the day the first
    leave the window earn 40 again, where the whole-life ladder gives them 23."""
    five = reformed()
    assert five.id == "weihai_seashell+volunteering-five-years"
    volunteering = five.rule("wh_r_volunteering")
    assert volunteering is not None
    assert describe_effect(volunteering.effects[0]).startswith(
        "total hours in the last 5 years: above 0 +1 per 1")
    h = history([person("li", born=date(1970, 1, 1))], [
        {"id": "v1", "subject": "li", "type": "volunteer.service", "at": "2019-01-01",
         "hours": 60},
        {"id": "v2", "subject": "li", "type": "volunteer.service", "at": "2024-01-01",
         "hours": 60}])
    for scheme, second in ((five, 40), (shipped_scheme("weihai_seashell"), 23)):
        entries = [e for e in assert_same(h, [scheme]).entries()
                   if e.rule == "wh_r_volunteering"]
        assert [(e.kind, e.applied) for e in entries] == [
            ("rule", 40), ("lapse", -40), ("rule", second)]


FIVE = reformed()


@settings(SETTINGS, max_examples=30)
@given(data=st.data())
def test_generated_histories_through_the_reform_agree(data: st.DataObject) -> None:
    """Histories aimed at the reformed Weihai's rules (strategies.py): both backends agree."""
    assert_same(data.draw(aimed(FIVE, max_events=30)), [FIVE])

WINDOWS = st.one_of(
    st.sampled_from(["ever", "year", "month"]),
    st.builds(lambda y, m, d: rolling(**{k: v for k, v in (("years", y), ("months", m),
                                                          ("days", d)) if v}),
              st.sampled_from([0, 0, 1, 2]), st.sampled_from([0, 0, 1, 6]),
              st.sampled_from([0, 1, 7, 30, 365])).filter(lambda w: bool(w["rolling"])))
"""Calendar periods and rolling windows of days, months and years (never all zero)."""


@settings(max_examples=50, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(case=accumulating_cases(WINDOWS))
def test_both_backends_agree_on_rolling_totals(make_scheme: Any,
                                               case: tuple[list[dict[str, Any]],
                                                           dict[str, Any],
                                                           dict[str, Any]]) -> None:
    """Generated rules (tiers or brackets, caps, limits, expiry, same act) over rolling and
    calendar windows, generated histories of three subjects: the same ledger, results and
    digest from both backends; each counted event's total is its window's, by hand; and
    the audit's `totals-bounded` holds."""
    rules, fields, data = case
    scheme = make_scheme(*rules, **fields)
    h = history(data["subjects"], data["events"],
                **({"as_of": data["as_of"]} if "as_of" in data else {}))
    entries = [e for e in assert_same(h, [scheme]).entries() if e.kind == "rule"]
    _totals_are_the_windows(scheme, h, entries)
    (prop,) = [p for p in PROPERTIES if p.name == "totals-bounded"]
    prop.check(Run(scheme, scheme, {}, h, replay(h, [scheme]), shipped_vocabulary()))


def _totals_are_the_windows(scheme: Scheme, h: History, entries: list[Any]) -> None:
    """Each total an entry notes is the sum of the amounts of the rule's counted events in
    its window, worked out from the definition (no state carried from event to event)."""
    events = {e.id: e for e in h.events}
    for r in scheme.rules:
        for index, effect in enumerate(r.effects):
            if not isinstance(effect, AccumulatedEffect) or effect.rolling is None:
                continue
            # Every generated event gives hours: each accumulated effect notes its total.
            place = sum(isinstance(x, AccumulatedEffect) for x in r.effects[:index])
            counted: list[tuple[date, str, Decimal]] = []
            for entry in (e for e in entries if e.rule == r.id):
                note = [n for n in entry.notes if isinstance(n, Accumulated)][place]
                event = events[entry.event]
                blocked = any(n.kind in ("frequency_limit", "same_act") for n in entry.notes)
                amount = D(1) if effect.attr is None else D(str(
                    event.attrs[effect.attr])) * effect.factor
                if not blocked:
                    counted.append((event.day, entry.subject, amount))
                inside = sum((a for day, s, a in counted if s == entry.subject
                              and day <= event.day < add_duration(day, effect.rolling)),
                             D(0))
                assert note.total == inside
