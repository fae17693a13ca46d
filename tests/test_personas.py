"""The personas in fixtures/personas/: each loads, lasts a year or more, says what it is meant
to show, uses only behaviours the shipped schemes score, and replays through every scheme."""

from __future__ import annotations

import pytest
import yaml

from creditlab.engine import load_history, replay, shipped_schemes, shipped_vocabulary

from conftest import ROOT

PERSONAS = sorted((ROOT / "fixtures" / "personas").glob("*.yaml"))


@pytest.fixture(scope="module")
def scored() -> set[str]:
    """Behaviours some shipped scheme scores (variants included): the sources document them."""
    return {t for s in shipped_schemes() for r in s.rules for t in r.match.types}


def test_the_issue_personas_are_all_there():
    assert {p.stem for p in PERSONAS} >= {
        "rural_farmer", "urban_civil_servant", "public_school_teacher", "taxi_driver",
        "company_legal_representative", "retired_volunteer_blood_donor", "petitioner"}


@pytest.mark.parametrize("path", PERSONAS, ids=lambda p: p.stem)
def test_persona_is_a_documented_year_or_more(path, scored):
    history = load_history(path, shipped_vocabulary())
    raw = yaml.safe_load(path.read_text("utf-8"))
    assert history.name and "What it shows" in (history.description or "")
    assert "starting" not in raw, "a persona starts where each scheme starts"
    assert (history.events[-1].day - history.events[0].day).days >= 365
    unscored = sorted({e.type for e in history.events} - scored)
    assert not unscored, f"behaviours no shipped scheme scores: {unscored}"
    for subject in history.subjects.values():
        assert subject.kind == "person" and subject.born is not None
        assert subject.residence is not None and subject.hukou is not None


@pytest.mark.parametrize("path", PERSONAS, ids=lambda p: p.stem)
def test_persona_replays_through_every_shipped_scheme(path):
    history = load_history(path, shipped_vocabulary())
    result = replay(history, shipped_schemes())
    for accounting in result.accounting:
        assert accounting.scored + accounting.unscored + accounting.not_applicable \
            == len(history.events)
    # Every behaviour of the persona is scored by at least one scheme.
    scored_events = {e.event for e in result.ledger}
    assert scored_events == {e.id for e in history.events}
