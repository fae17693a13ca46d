"""Periodic checks: judged at the end of each period on its ledger, on both backends.

Weekly checks are pinned at their edges (the Friday itself, the Saturday after, a penalty
its rule's frequency limit blocked), a yearly check with a condition an empty year meets
against an oracle written from the check's words over generated histories, and the
scheme file's refusals. Meritown's two checks have a scenario
(tests/scenarios/meritown_2019/public_servants_earn_bonus_points_every_year.yaml).
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlab.engine import replay, shipped_schemes
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.scheme import Check, Scheme

from conftest import SOURCE, points, rule
from history_builder import history, person

ROOT = Path(__file__).resolve().parents[1]
BACKENDS = ("durable", "columnar")
MERITOWN = next(s for s in shipped_schemes() if s.id == "meritown_2019")
TENG_JIA = next(s for s in shipped_schemes() if s.id == "teng_jia_village")


def broadcast(**extra: Any) -> dict[str, Any]:
    """Teng Jia's check, as the shipped file has it, with `extra` fields changed."""
    return {"id": "broadcast", "title": "named on Friday", "every": "week", "ends_on": "friday",
            "count": {"of": "entries", "direction": "penalty"}, "at_least": 1,
            "effects": [{"kind": "list", "action": "add", "flag": "named_in_broadcast",
                         "duration": {"days": 7}}],
            "source": SOURCE, "fidelity": "documented", **extra}


def test_the_test_check_is_teng_jias():
    shipped = TENG_JIA.checks[0].model_dump(exclude={"id", "title", "source", "fidelity",
                                                     "note", "also"})
    for name in ("every", "ends_on", "count", "at_least", "effects"):
        assert shipped[name] == Check.model_validate(broadcast()).model_dump()[name]


def weekly(make_scheme, *rules: dict[str, Any], **check: Any) -> Scheme:
    return make_scheme(*rules, checks=[broadcast(**check)])


def both(h, scheme: Scheme):
    """The replay on each backend, asserting they agree."""
    done = [replay(h, [scheme], backend=b) for b in BACKENDS]
    assert done[0].ledger == done[1].ledger
    assert done[0].results == done[1].results
    assert done[0].digest == done[1].digest
    return done[0]


def findings(done) -> list[tuple[str, date, str]]:
    return [(e.subject, e.at, e.event) for e in done.ledger if e.kind == "check"]


LITTER = rule("litter", "environment.littering", points(-5), direction="penalty")


def test_the_shipped_teng_jia_check_finds_nobody_without_rules():
    h = history([person("a")], [{"id": "e1", "subject": "a", "at": "2019-03-01",
                                 "type": "environment.littering"}], as_of="2019-12-31")
    done = both(h, TENG_JIA)
    assert findings(done) == [] and done.results[0].flags == ()


def test_a_reform_adding_a_penalty_rule_shows_the_broadcast():
    from creditlab.engine import shipped_vocabulary
    from creditlab.engine.inputs.reform import apply_reform, load_reform

    reform, located = load_reform(ROOT / "fixtures/reforms/teng-jia-quarrels-named.yaml")
    reformed = apply_reform(TENG_JIA, reform, vocabulary=shipped_vocabulary(), located=located)
    h = history([person("ma")], [
        {"id": "e1", "subject": "ma", "at": "2019-05-03", "type": "community.quarrel",
         "where": "neighbours"}], as_of="2019-05-12")
    done = both(h, reformed)
    assert findings(done) == [("ma", date(2019, 5, 3), "2019-04-27/2019-05-03")]
    assert done.results[0].flags == ()  # named until 2019-05-10, before the end
    check = next(e for e in done.ledger if e.kind == "check")
    assert [n.kind for n in check.notes] == ["checked"] and check.notes[0].total == 1


def test_a_penalty_on_friday_is_broadcast_that_friday_and_one_on_saturday_the_next(
        make_scheme):
    # 2019-03-01 is a Friday.
    h = history([person("fri"), person("sat"), person("none")], [
        {"id": "e1", "subject": "fri", "at": "2019-03-01", "type": "environment.littering"},
        {"id": "e2", "subject": "sat", "at": "2019-03-02", "type": "environment.littering"},
    ], as_of="2019-03-12")
    done = both(h, weekly(make_scheme, LITTER))
    assert findings(done) == [
        ("fri", date(2019, 3, 1), "2019-02-23/2019-03-01"),
        ("sat", date(2019, 3, 8), "2019-03-02/2019-03-08"),
    ]
    flags = {o.subject: o.flags for o in done.results}
    # Named for 7 days: fri's state ran out on 2019-03-08; sat's lasts to 2019-03-15.
    assert flags == {"fri": (), "sat": ("named_in_broadcast",), "none": ()}
    entry = next(e for e in done.ledger if e.kind == "check" and e.subject == "sat")
    assert entry.score_after == 995 and entry.applied == 0 and entry.points is None


def test_a_week_after_the_history_ends_is_not_judged(make_scheme):
    h = history([person("a")], [{"id": "e1", "subject": "a", "at": "2019-03-02",
                                 "type": "environment.littering"}], as_of="2019-03-07")
    assert findings(both(h, weekly(make_scheme, LITTER))) == []


def test_a_penalty_its_rules_limit_blocked_is_not_counted(make_scheme):
    limited = {**LITTER, "frequency": {"times": 1, "per": "month"}}
    h = history([person("a")], [
        {"id": "e1", "subject": "a", "at": "2019-02-27", "type": "environment.littering"},
        {"id": "e2", "subject": "a", "at": "2019-03-06", "type": "environment.littering"},
    ], as_of="2019-03-31")
    done = both(h, weekly(make_scheme, limited))
    # e1 (February) is broadcast on 1 March; e2 is the month's first, broadcast on 8 March.
    assert [f[1] for f in findings(done)] == [date(2019, 3, 1), date(2019, 3, 8)]
    blocked = history([person("a")], [
        {"id": "e1", "subject": "a", "at": "2019-03-02", "type": "environment.littering"},
        {"id": "e2", "subject": "a", "at": "2019-03-09", "type": "environment.littering"},
    ], as_of="2019-03-31")
    done = both(blocked, weekly(make_scheme, limited))
    assert [f[1] for f in findings(done)] == [date(2019, 3, 8)]  # e2 gave nothing


def test_a_finding_stands_before_the_subjects_later_entries(make_scheme):
    h = history([person("a")], [
        {"id": "e1", "subject": "a", "at": "2019-03-01", "type": "environment.littering"},
        {"id": "e2", "subject": "a", "at": "2019-03-05", "type": "environment.littering"},
    ], as_of="2019-03-06")
    done = both(h, weekly(make_scheme, LITTER))
    assert [(e.kind, e.at) for e in done.ledger] == [
        ("rule", date(2019, 3, 1)), ("check", date(2019, 3, 1)), ("rule", date(2019, 3, 5))]


# --- a yearly check an empty year meets, against an oracle -----------------------------

CIVIL = [person(f"c{i}", born="1980-01-01", roles=["civil_servant"]) for i in range(3)]
OTHERS = [person("young", born="2003-07-01", roles=["civil_servant"]),
          person("plain", born="1970-01-01")]


@st.composite
def service_histories(draw: st.DrawFn) -> Any:
    """Civil servants (and others) who volunteer, or get a COVID reward, some years."""
    events = []
    for n in range(draw(st.integers(0, 8))):
        who = draw(st.sampled_from([p["id"] for p in CIVIL + OTHERS]))
        day = date(2019, 1, 1) + timedelta(days=draw(st.integers(0, 3 * 365)))
        kind = draw(st.sampled_from(["volunteer.service", "covid.disease_control"]))
        extra = {"hours": draw(st.sampled_from([5, 10, 40]))} if kind == "volunteer.service" \
            else {}
        events.append({"id": f"e{n}", "subject": who, "at": day.isoformat(), "type": kind,
                       **extra})
    end = draw(st.one_of(  # the check day itself, the day before, or any day
        st.sampled_from([date(y, 12, d) for y in (2019, 2020, 2021) for d in (30, 31)]),
        st.builds(lambda n: date(2019, 6, 1) + timedelta(days=n), st.integers(0, 3 * 365))))
    events = [e for e in events if e["at"] <= end.isoformat()]
    return history(CIVIL + OTHERS, events, as_of=end.isoformat())


def oracle(h) -> set[tuple[str, date]]:
    """Meritown's checks in the seed's words: each civil servant aged 18 who earned no bonus
    points in a year (from 2020: no volunteering points; 9 hours or fewer earn none, and
    nothing is earned before the 18th birthday) is found wanting on 31 December, if the
    history reaches it."""
    out = set()
    for sid, subject in h.subjects.items():
        if "civil_servant" not in subject.roles:
            continue
        for year in range(2019, h.end.year + 1):
            day = date(year, 12, 31)
            if day > h.end or subject.age_on(day) < 18:
                continue
            # The COVID reward is in force from 2020-01-23, when it no longer counts; hours
            # given before the 18th birthday are not scored (the scheme's eligibility).
            earned = [e for e in h.events if e.subject == sid and e.day.year == year
                      and e.type == "volunteer.service" and e.attrs["hours"] >= 10
                      and subject.age_on(e.day) >= 18]
            if not earned:
                out.add((sid, day))
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(service_histories())
def test_meritowns_yearly_checks_find_whom_the_seed_says(h):
    done = both(h, MERITOWN)
    assert {(s, at) for s, at, _ in findings(done)} == oracle(h)
    for o in done.results:
        found = [at for s, at in oracle(h) if s == o.subject]
        in_force = any(date(at.year + 1, 12, 31) > h.end for at in found)  # for a year
        assert ("promotion_ineligible" in o.flags) == in_force, o


# --- the scheme file's refusals ---------------------------------------------------------


@pytest.mark.parametrize(("change", "words"), [
    ({"at_most": 0}, "one of 'at_least' or 'at_most'"),
    ({"every": "year"}, "'ends_on' is the weekday a week ends on"),
    ({"at_least": 0}, "give 'effective_from'"),
    ({"effects": [{"kind": "list", "action": "remove", "flag": "x"}]}, "adds list states"),
    ({"count": {"of": "entries", "rules": ["nope"]}}, "unknown rule 'nope'"),
    ({"id": "litter"}, "duplicate id 'litter'"),
    ({"subject": {"roles_any": ["wizard"]}}, "unknown role 'wizard'"),
])
def test_a_malformed_check_is_refused_naming_the_field(make_scheme, change, words):
    with pytest.raises(SchemeError, match=words) as caught:
        weekly(make_scheme, LITTER, **change)
    assert caught.value.field is not None and caught.value.field.startswith("checks")


def test_a_check_may_not_give_a_state_a_rule_gives(make_scheme):
    listing = rule("listing", "environment.littering",
                   {"kind": "list", "action": "add", "flag": "named_in_broadcast"},
                   direction="penalty")
    with pytest.raises(SchemeError, match="a rule adds or removes 'named_in_broadcast'"):
        weekly(make_scheme, listing)


def test_lint_wants_a_checks_numbers_quoted(make_scheme):
    from creditlab.engine.checks.lint import lint_scheme

    # The test check is documented, yet its quote prints neither 1 nor 7 days.
    codes = {(f.code, f.field) for f in lint_scheme(weekly(make_scheme, LITTER))}
    assert ("number-not-quoted", "checks[0].at_least") in codes
    assert ("number-not-quoted", "checks[0].effects[0].duration") in codes
    assert not [f for f in lint_scheme(TENG_JIA) if f.code == "number-not-quoted"]


def test_show_lists_the_checks(runner):
    from creditlab.cli.main import cli

    out = runner.invoke(cli, ["show", "meritown_2019"], env={"COLUMNS": "120"})
    assert out.exit_code == 0, out.output
    assert "Periodic checks" in out.output and "mt_k_public_servant_volunteering" in out.output
    assert "+promotion_ineligible (1 year)" in out.output

