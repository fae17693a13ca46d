"""Whom a scheme scores: its `eligibility` ("every adult"), the same in both backends.

A subject of the scheme's kind is scored from the day it reaches `min_age`; its events
before are not applicable (counted as `ineligible` within `not_applicable`), and a subject
still under age at the history's end has no result. `age_unknown` decides for a subject
with no birth date. Meritown scores "every adult" (18, the reading's own number).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_columnar import assert_same, from_data

from creditlab.engine import shipped_scheme
from creditlab.engine.checks.generate import histories
from creditlab.engine.inputs.history import History
from creditlab.engine.scoring.conditions import scored_on
from creditlab.engine.scoring.replay import replay

from history_builder import history, person

MERITOWN = shipped_scheme("meritown_2019")


def child_and_adult() -> History:
    """A child born in 2010 (abuse and volunteering in 2019), a person who turns 18 on
    2019-06-01 (one event before, one on the birthday) and one with no birth date."""
    return history(
        [person("child", born=date(2010, 5, 1)), person("teen", born=date(2001, 6, 1)),
         person("unknown")],
        [{"id": "c1", "subject": "child", "type": "family.abuse", "at": date(2019, 3, 1)},
         {"id": "c2", "subject": "child", "type": "volunteer.service", "at": date(2019, 4, 1),
          "hours": 100},
         {"id": "t1", "subject": "teen", "type": "volunteer.service", "at": date(2019, 5, 31),
          "hours": 100},
         {"id": "t2", "subject": "teen", "type": "volunteer.service", "at": date(2019, 6, 1),
          "hours": 100},
         {"id": "u1", "subject": "unknown", "type": "volunteer.service",
          "at": date(2019, 6, 1), "hours": 100}])


def test_meritown_scores_adults_only() -> None:
    done = replay(child_and_adult(), [MERITOWN])
    assert [r.subject for r in done.results] == ["teen", "unknown"]  # the child has no score
    (accounting,) = done.accounting
    assert (accounting.events, accounting.scored + accounting.unscored,
            accounting.not_applicable, accounting.ineligible) == (5, 2, 3, 3)
    assert [e.event for e in done.ledger] == ["t2", "u1"]  # not c1, c2, nor t1 (day before)
    teen = done.outcome("teen", MERITOWN.id)
    assert teen is not None and teen.score == Decimal(1000) + done.ledger[0].applied
    assert done.as_dict()["accounting"][MERITOWN.id]["ineligible"] == 3


def test_the_backends_agree_on_eligibility() -> None:
    assert_same(child_and_adult(), [MERITOWN])


@pytest.mark.parametrize("unknown", ["scored", "not_scored"])
def test_age_unknown_is_the_schemes_choice(unknown: str) -> None:
    scheme = MERITOWN.model_copy(update={"eligibility": MERITOWN.eligibility.model_copy(
        update={"age_unknown": unknown})})
    done = replay(child_and_adult(), [scheme])
    assert ("unknown" in [r.subject for r in done.results]) == (unknown == "scored")
    assert_same(child_and_adult(), [scheme])


def test_scored_on_is_the_statement() -> None:
    h = child_and_adult()
    assert not scored_on(MERITOWN, h.subjects["teen"], date(2019, 5, 31))
    assert scored_on(MERITOWN, h.subjects["teen"], date(2019, 6, 1))  # on the birthday
    assert scored_on(MERITOWN, h.subjects["unknown"], date(2019, 6, 1))


@settings(max_examples=60, deadline=None, database=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(data=st.data())
def test_generated_histories_agree_around_the_age(data: st.DataObject) -> None:
    """Histories whose subjects come of age within them (the generator aims births at
    `min_age`), through Meritown with a drawn age and `age_unknown`."""
    rule = MERITOWN.eligibility.model_copy(update={
        "min_age": data.draw(st.sampled_from([1, 16, 18, 30])),
        "age_unknown": data.draw(st.sampled_from(["scored", "not_scored"]))})
    scheme = MERITOWN.model_copy(update={"eligibility": rule})
    h = from_data(data.draw(histories(scheme=scheme, max_subjects=4, max_events=20)))
    assert_same(h, [scheme])
    done = replay(h, [scheme])
    for a in done.accounting:
        assert a.events == a.scored + a.unscored + a.not_applicable
        assert a.ineligible <= a.not_applicable
    expected = sum(1 for e in h.events if h.subjects[e.subject].kind == "person"
                   and not scored_on(scheme, h.subjects[e.subject], e.day))
    assert done.accounting[0].ineligible == expected


def test_the_audit_property_catches_an_engine_that_scores_children() -> None:
    """`eligible-only` fails when the replay ignores the scheme's eligibility."""
    from creditlab.engine import shipped_vocabulary
    from creditlab.engine.checks.properties import PROPERTIES, Run, Violation

    (prop,) = [p for p in PROPERTIES if p.name == "eligible-only"]
    assert prop.applies(MERITOWN)
    h = child_and_adult()
    blind = MERITOWN.model_copy(update={"eligibility": None})
    prop.check(Run(MERITOWN, MERITOWN, {}, h, replay(h, [MERITOWN]), shipped_vocabulary()))
    with pytest.raises(Violation, match="child"):
        prop.check(Run(MERITOWN, blind, {}, h, replay(h, [blind]), shipped_vocabulary()))
