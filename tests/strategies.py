"""Hypothesis strategies: subjects, events per the vocabulary, whole histories."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from hypothesis import strategies as st

from creditlab.engine import shipped_vocabulary
from creditlab.engine.vocabulary import AttrSpec

VOCABULARY = shipped_vocabulary()
START = date(2018, 1, 1)


def attr_values(spec: AttrSpec) -> st.SearchStrategy[Any]:
    kind = spec.kind
    if kind == "int":
        return st.integers(0, 24)
    if kind == "number":
        return st.one_of(st.integers(0, 1200),
                         st.decimals(0, 1200, places=1, allow_nan=False, allow_infinity=False)
                         .map(lambda d: d if d != d.to_integral_value() else int(d)))
    if kind == "bool":
        return st.booleans()
    if kind == "date":
        return st.dates(START, date(2023, 12, 31))
    if kind == "enum":
        return st.sampled_from(spec.values)
    return st.text("abcdefgh ", min_size=1, max_size=8)


@st.composite
def subjects(draw: st.DrawFn, sid: str) -> dict[str, Any]:
    subject: dict[str, Any] = {"id": sid, "kind": draw(st.sampled_from(["person", "person",
                                                                         "enterprise"]))}
    if draw(st.booleans()):
        subject["born"] = draw(st.dates(date(1940, 1, 1), date(2005, 12, 31)))
    if draw(st.booleans()):
        subject["residence"] = draw(st.sampled_from(["urban", "rural"]))
    subject["roles"] = draw(st.lists(st.sampled_from(VOCABULARY.roles), max_size=3, unique=True))
    return subject


@st.composite
def events(draw: st.DrawFn, eid: str, subject_ids: list[str],
           types: list[str] | None = None) -> dict[str, Any]:
    etype = draw(st.sampled_from(types or sorted(VOCABULARY.events)))
    spec = VOCABULARY.events[etype]
    event: dict[str, Any] = {
        "id": eid,
        "subject": draw(st.sampled_from(subject_ids)),
        "at": START + timedelta(days=draw(st.integers(0, 5 * 365))),
        "type": etype,
    }
    for name, attr in spec.attrs.items():
        if attr.required or draw(st.booleans()):
            event[name] = draw(attr_values(attr))
    return event


@st.composite
def histories(draw: st.DrawFn, max_subjects: int = 4, max_events: int = 25,
              types: list[str] | None = None) -> dict[str, Any]:
    """A history as plain data (the YAML shape): subjects, then events with unique ids."""
    n = draw(st.integers(1, max_subjects))
    subs = [draw(subjects(f"s{i}")) for i in range(n)]
    ids = [s["id"] for s in subs]
    m = draw(st.integers(0, max_events))
    evs = [draw(events(f"e{i}", ids, types)) for i in range(m)]
    return {"subjects": subs, "events": evs}


def decimal_or_int(value: Decimal) -> Decimal | int:
    return int(value) if value == value.to_integral_value() else value
