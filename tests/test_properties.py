"""What the engine promises for every history: determinism, order independence, a
continuous ledger, and an accounting in which every event is scored, unscored or not
applicable."""

from __future__ import annotations

import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from creditlab.engine import Scheme, load_history, replay, shipped_schemes, shipped_vocabulary
from creditlab.engine.canonical import dumps

from history_builder import history
from strategies import histories

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


def _unvaried() -> list[Scheme]:
    return [s for s in shipped_schemes() if s.variant is None]


def _scored_histories() -> st.SearchStrategy[dict[str, Any]]:
    """Histories of the types the shipped schemes score, so that rules actually fire; built
    at the first draw, so that collecting the tests loads no scheme."""
    return histories(types=sorted({t for s in _unvaried() for r in s.rules
                                   for t in r.match.types}))


@pytest.fixture(scope="module")
def schemes() -> list[Scheme]:
    return _unvaried()


def run(data, schemes):
    return replay(history(data["subjects"], data["events"]), schemes)


@SETTINGS
@given(st.deferred(_scored_histories))
def test_replaying_twice_gives_identical_output(schemes, data):
    first, second = run(data, schemes), run(data, schemes)
    assert dumps(first.as_dict(explain=True)) == dumps(second.as_dict(explain=True))


@SETTINGS
@given(st.deferred(_scored_histories), st.randoms(use_true_random=False))
def test_permuting_input_lines_gives_the_same_digest(schemes, data, random):
    lines = [dumps({"record": "subject", **s}) for s in data["subjects"]]
    lines += [dumps(e) for e in data["events"]]
    digests = set()
    for attempt in range(2):
        if attempt:
            random.shuffle(lines)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / "h.jsonl"
            path.write_text("\n".join(lines) + "\n", encoding="utf-8")
            loaded = load_history(path, shipped_vocabulary())
        digests.add(replay(loaded, schemes).digest)
    assert len(digests) == 1


@SETTINGS
@given(st.deferred(_scored_histories))
def test_ledger_is_continuous(schemes, data):
    result = run(data, schemes)
    last = {}
    for entry in result.ledger:
        key = (entry.subject, entry.scheme)
        if key in last:
            assert entry.score_before == last[key]
        else:
            assert entry.score_before == result.outcome(*key).start
        assert entry.score_after - entry.score_before == entry.applied
        last[key] = entry.score_after
    for outcome in result.results:
        assert outcome.score == last.get((outcome.subject, outcome.scheme), outcome.start)


@SETTINGS
@given(histories(max_events=40))
def test_every_event_is_accounted_for(schemes, data):
    result = run(data, schemes)
    n = len(data["events"])
    per_scheme = defaultdict(int)
    for outcome in result.results:
        per_scheme[outcome.scheme] += outcome.events_scored + outcome.events_unscored
    for acc in result.accounting:
        assert acc.events == n
        assert acc.scored + acc.unscored + acc.not_applicable == n
        assert per_scheme[acc.scheme] == acc.scored + acc.unscored
