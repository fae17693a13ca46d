"""The engine at the sizes ARCHITECTURE.md names: a scheme of 1,500 rules (conditions
nested so durable_rules builds it), and 100,000 subjects in one replay (one session, the
subject carried in the event). Both deterministic; the 1,500-rule scheme is also checked
against an independent evaluation of every rule's conditions in plain Python."""

from __future__ import annotations

import random
from datetime import date, timedelta

import pytest

from creditlab.engine import replay, shipped_scheme, shipped_vocabulary
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.load import MAX_RULES_PER_TYPE
from creditlab.engine.inputs.vocabulary import check_attr

from conftest import points, rule
from history_builder import history, random_attrs

VOCABULARY = shipped_vocabulary()
ROLES = VOCABULARY.roles


def _rules(n: int, seed: int = 7) -> list[dict]:
    rng = random.Random(seed)
    types = sorted(VOCABULARY.events)
    out = []
    for i in range(n):
        etype = types[i % len(types)]
        spec = VOCABULARY.events[etype]
        match: dict = {}
        numeric = [a for a, s in spec.attrs.items() if s.kind in ("int", "number")]
        enums = [a for a, s in spec.attrs.items() if s.kind == "enum"]
        kind = rng.randrange(4)
        if kind == 1 and numeric:
            top = spec.attrs[numeric[0]].max  # a share is at most 1
            value = rng.randrange(1, 400) if top is None or top >= 400 else top
            match["where"] = [{"attr": numeric[0], "op": rng.choice(["gte", "lt"]),
                               "value": value}]
        elif kind == 2 and enums:
            match["where"] = [{"attr": enums[0], "op": "eq",
                               "value": rng.choice(spec.attrs[enums[0]].values)}]
        elif kind == 3:
            match["subject"] = {"roles_any": [rng.choice(ROLES)]}
        extra = {}
        if rng.randrange(5) == 0:
            extra["effective_from"] = date(2019, 1, 1) + timedelta(days=rng.randrange(700))
        out.append(rule(f"r{i:04d}", etype, points(rng.randrange(-50, 51)), match=match,
                        **extra))
    return out


def _reference_fires(r, event, subject) -> bool:
    """Whether a rule matches, evaluated in plain Python (no durable_rules)."""
    if event.type not in r.match.types:
        return False
    if r.effective_from and event.day < r.effective_from:
        return False
    for cond in r.match.where:
        value = event.attrs.get(cond.attr)
        if value is None:
            return False
        want = check_attr(VOCABULARY.events[event.type].attrs[cond.attr], cond.value)
        if not {"eq": value == want, "gte": value >= want, "lt": value < want}[cond.op]:
            return False
    sub = r.match.subject
    return not (sub and sub.roles_any and not set(sub.roles_any) & set(subject.roles))


def _history(n_events: int, n_subjects: int, seed: int):
    rng = random.Random(seed)
    subjects = [{"id": f"s{i}", "kind": "person",
                 "roles": rng.sample(ROLES, rng.randrange(3))} for i in range(n_subjects)]
    events = []
    types = sorted(VOCABULARY.events)
    for i in range(n_events):
        etype = rng.choice(types)
        spec = VOCABULARY.events[etype]
        ev = {"id": f"e{i}", "subject": f"s{rng.randrange(n_subjects)}", "type": etype,
              "at": date(2019, 1, 1) + timedelta(days=rng.randrange(900))}
        ev.update(random_attrs(rng, spec))
        events.append(ev)
    return history(subjects, events)


def test_a_scheme_of_1500_rules_builds_and_matches_like_plain_python(make_scheme):
    scheme = make_scheme(*_rules(1500), id="wide_scheme")
    h = _history(3000, 50, seed=1)
    first = replay(h, [scheme])
    second = replay(h, [scheme])
    assert first.digest == second.digest
    fired = {(e.event, e.rule) for e in first.ledger}
    expected = {(ev.id, r.id) for ev in h.events for r in scheme.rules
                if _reference_fires(r, ev, h.subjects[ev.subject])}
    assert fired == expected
    assert len(fired) > 1000  # the rules really fire


def test_too_many_rules_on_one_type_is_a_clear_error_not_a_hang(make_scheme):
    rules = [rule(f"r{i}", "gambling", points(-1)) for i in range(MAX_RULES_PER_TYPE + 1)]
    with pytest.raises(SchemeError, match="durable_rules fails beyond"):
        make_scheme(*rules)


@pytest.mark.slow
def test_100000_subjects_in_one_replay():
    h = _history(100_000, 100_000, seed=2)
    schemes = [shipped_scheme("suining_county"), shipped_scheme("meritown_2019")]
    first = replay(h, schemes)
    second = replay(h, schemes)
    assert first.digest == second.digest
    assert len(first.results) == 2 * 100_000
    for acc in first.accounting:
        assert acc.scored + acc.unscored + acc.not_applicable == 100_000
    assert sum(a.scored for a in first.accounting) > 1000
