"""The history loader: YAML and JSONL, canonical order, derived ids, times and numbers."""

from __future__ import annotations

import hashlib
import json
import tempfile
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import Event, History
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

YAML_HISTORY = """\
name: Volunteering against family abuse
description: The same person volunteers 300 hours, then abuses a family member.
as_of: 2020-01-01
subjects:
  - id: wang
    kind: person
    born: 1980-05-01
    residence: urban
    roles: [civil_servant, party_member]
  - {id: acme, kind: enterprise}
events:
  - {id: e2, subject: wang, at: 2019-06-01, type: family.abuse}
  - {id: e1, subject: wang, at: 2019-03-01, type: volunteer.service, hours: 300}
  - {id: e3, subject: acme, at: "2019-06-01T09:30:00", type: tax.arrears, amount_rmb: 1200.50}
  - {id: e4, subject: wang, at: 2019-03-01, type: traffic.red_light, as: pedestrian}
"""

def dumps(record: dict[str, Any]) -> str:
    """A JSON object with Decimal values written as JSON numbers, digit for digit."""
    return "{" + ", ".join(
        f"{json.dumps(k)}: {format(v, 'f') if isinstance(v, Decimal) else json.dumps(v)}"
        for k, v in record.items()) + "}"


JSONL_HISTORY = "\n".join(dumps(r) for r in [
    {"record": "history", "name": "Volunteering against family abuse",
     "description": "The same person volunteers 300 hours, then abuses a family member.",
     "as_of": "2020-01-01"},
    {"id": "e3", "subject": "acme", "at": "2019-06-01T09:30:00", "type": "tax.arrears",
     "amount_rmb": Decimal("1200.50")},
    {"record": "subject", "id": "wang", "kind": "person", "born": "1980-05-01",
     "residence": "urban", "roles": ["party_member", "civil_servant"]},
    {"id": "e4", "subject": "wang", "at": "2019-03-01", "type": "traffic.red_light",
     "as": "pedestrian"},
    {"record": "event", "id": "e1", "subject": "wang", "at": "2019-03-01",
     "type": "volunteer.service", "hours": 300},
    {"id": "e2", "subject": "wang", "at": "2019-06-01", "type": "family.abuse"},
    {"record": "subject", "id": "acme", "kind": "enterprise"},
]) + "\n"


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return shipped_vocabulary()


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def canonical(history: History) -> list[dict[str, Any]]:
    """The events without `line`, which says where each came from in its file."""
    return [e.model_dump(exclude={"line"}) for e in history.events]


def jsonl(records: list[dict[str, Any]]) -> str:
    return "".join(json.dumps(r) + "\n" for r in records)


def test_yaml_and_jsonl_load_to_equal_histories(vocabulary: Vocabulary, tmp_path: Path) -> None:
    from_yaml = load_history(write(tmp_path, "h.yaml", YAML_HISTORY), vocabulary)
    from_jsonl = load_history(write(tmp_path, "h.jsonl", JSONL_HISTORY), vocabulary)
    assert canonical(from_yaml) == canonical(from_jsonl)
    assert [e.id for e in from_yaml.events] == ["e1", "e4", "e2", "e3"]
    assert dict(from_yaml.subjects) == dict(from_jsonl.subjects)
    wang = from_yaml.subjects["wang"]
    assert wang.born == date(1980, 5, 1)
    assert wang.roles == ("civil_servant", "party_member")
    assert wang.age_on(date(2019, 4, 30)) == 38
    assert wang.age_on(date(2019, 5, 1)) == 39
    assert from_yaml.subjects["acme"].kind == "enterprise"
    for h in (from_yaml, from_jsonl):
        assert h.name == "Volunteering against family abuse"
        assert h.description is not None and h.description.startswith("The same person")
        assert h.as_of == date(2020, 1, 1)
    assert [e.line for e in from_yaml.events] == [13, 15, 12, 14]
    assert [e.line for e in from_jsonl.events] == [5, 4, 6, 2]


def test_events_in_at_then_id_order(vocabulary: Vocabulary, tmp_path: Path) -> None:
    records: list[dict[str, Any]] = [{"record": "subject", "id": "s", "kind": "person"}]
    days = ["2019-05-01", "2019-01-01", "2019-05-01", "2018-12-31", "2019-01-01"]
    ids = ["b", "z", "a", "y", "c"]
    records += [{"id": i, "subject": "s", "at": d, "type": "gambling"}
                for i, d in zip(ids, days, strict=True)]
    h = load_history(write(tmp_path, "h.jsonl", jsonl(records)), vocabulary)
    assert [(e.day.isoformat(), e.id) for e in h.events] == [
        ("2018-12-31", "y"), ("2019-01-01", "c"), ("2019-01-01", "z"),
        ("2019-05-01", "a"), ("2019-05-01", "b")]
    assert [e.order_key for e in h.events] == sorted(e.order_key for e in h.events)
    assert [e.id for e in h.events_of("s")] == ["y", "c", "z", "a", "b"]
    assert h.end == date(2019, 5, 1)  # no as_of: the last event's day


def test_ids_derived_from_position(vocabulary: Vocabulary, tmp_path: Path) -> None:
    text = """\
subjects: [{id: s, kind: person}]
events:
  - {subject: s, at: 2019-03-02, type: gambling}
  - {subject: s, at: 2019-03-01, type: gambling}
  - {id: named, subject: s, at: 2019-03-03, type: gambling}
  - {subject: s, at: 2019-03-04, type: gambling}
"""
    h = load_history(write(tmp_path, "h.yaml", text), vocabulary)
    assert [e.id for e in h.events] == ["#2", "#1", "named", "#4"]
    again = load_history(write(tmp_path, "again.yaml", text), vocabulary)
    assert canonical(again) == canonical(h)
    lines = jsonl([{"record": "subject", "id": "s", "kind": "person"}]
                  + [{"subject": "s", "at": f"2019-03-0{d}", "type": "gambling"} for d in (2, 1)])
    h = load_history(write(tmp_path, "h.jsonl", lines), vocabulary)
    assert [e.id for e in h.events] == ["#2", "#1"]  # subject lines do not count


def test_dates_and_date_times_mix(vocabulary: Vocabulary, tmp_path: Path) -> None:
    text = """\
subjects: [{id: s, kind: person}]
events:
  - {id: a_date, subject: s, at: 2019-03-01, type: gambling}
  - {id: b_naive, subject: s, at: "2019-03-01T00:00:00", type: gambling}
  - {id: c_beijing, subject: s, at: 2019-03-01T07:00:00+08:00, type: gambling}
  - {id: d_string_tz, subject: s, at: "2019-03-01T09:15:00+08:00", type: gambling}
  - {id: e_utc, subject: s, at: "2019-03-01T12:00:00Z", type: gambling}
"""
    h = load_history(write(tmp_path, "h.yaml", text), vocabulary)
    at = {e.id: e.at for e in h.events}
    assert at == {
        "a_date": datetime(2019, 3, 1),                   # a date is its midnight
        "b_naive": datetime(2019, 3, 1),
        "c_beijing": datetime(2019, 2, 28, 23, 0),        # converted to UTC
        "d_string_tz": datetime(2019, 3, 1, 1, 15),
        "e_utc": datetime(2019, 3, 1, 12, 0),
    }
    assert all(e.at.tzinfo is None for e in h.events)
    assert [e.id for e in h.events] == ["c_beijing", "a_date", "b_naive", "d_string_tz", "e_utc"]
    assert h.events[0].day == date(2019, 2, 28)


def test_numbers_are_exact(vocabulary: Vocabulary, tmp_path: Path) -> None:
    text = """\
subjects: [{id: s, kind: person}]
events:
  - {id: e1, subject: s, at: 2019-03-01, type: volunteer.service, hours: 0.5}
  - {id: e2, subject: s, at: 2019-03-02, type: volunteer.service, hours: 300.0}
  - {id: e3, subject: s, at: 2019-03-03, type: volunteer.service, hours: 0.1}
  - {id: e4, subject: s, at: 2019-03-04, type: traffic.violation, licence_points: 6.0}
  - {id: e5, subject: s, at: 2019-03-05, type: volunteer.service, hours: 2}
"""
    h = load_history(write(tmp_path, "h.yaml", text), vocabulary)
    attrs = {e.id: next(iter(e.attrs.values())) for e in h.events}
    assert attrs["e1"] == Decimal("0.5") and isinstance(attrs["e1"], Decimal)
    assert str(attrs["e1"]) == "0.5"
    assert attrs["e2"] == 300 and type(attrs["e2"]) is int
    assert attrs["e3"] == Decimal("0.1") and str(attrs["e3"]) == "0.1"  # not 0.1000000000000000055
    assert attrs["e4"] == 6 and type(attrs["e4"]) is int
    assert attrs["e5"] == 2 and type(attrs["e5"]) is int
    lines = ('{"record": "subject", "id": "s", "kind": "person"}\n'
             '{"id": "e1", "subject": "s", "at": "2019-03-01", "type": "volunteer.service", '
             '"hours": 0.5}\n'
             '{"id": "e2", "subject": "s", "at": "2019-03-02", "type": "volunteer.service", '
             '"hours": 300.0}\n'
             '{"id": "e3", "subject": "s", "at": "2019-03-03", "type": "volunteer.service", '
             '"hours": 0.1}\n')
    from_jsonl = load_history(write(tmp_path, "h.jsonl", lines), vocabulary)
    assert [e.attrs["hours"] for e in from_jsonl.events] == [Decimal("0.5"), 300, Decimal("0.1")]
    assert type(from_jsonl.events[1].attrs["hours"]) is int
    assert str(from_jsonl.events[2].attrs["hours"]) == "0.1"


def test_optional_attributes_and_nulls(vocabulary: Vocabulary, tmp_path: Path) -> None:
    text = """\
subjects: [{id: s, kind: person, residence: null}]
events:
  - {id: e1, subject: s, at: 2019-03-01, type: traffic.red_light}
  - {id: e2, subject: s, at: 2019-03-02, type: traffic.red_light, as: null}
  - {id: e3, subject: s, at: 2019-03-03, type: environment.burning, what: rubbish, spread: false}
"""
    h = load_history(write(tmp_path, "h.yaml", text), vocabulary)
    assert [dict(e.attrs) for e in h.events] == [{}, {}, {"what": "rubbish", "spread": False}]
    assert h.subjects["s"].residence is None and h.subjects["s"].roles == ()


def test_as_of(vocabulary: Vocabulary, tmp_path: Path) -> None:
    base = "subjects: [{id: s, kind: person}]\nevents:\n" \
           "  - {id: e1, subject: s, at: 2019-03-01, type: gambling}\n"
    h = load_history(write(tmp_path, "a.yaml", "as_of: 2021-06-30\n" + base), vocabulary)
    assert h.as_of == date(2021, 6, 30) and h.end == date(2021, 6, 30)
    h = load_history(write(tmp_path, "b.yaml", 'as_of: "2021-06-30"\n' + base), vocabulary)
    assert h.as_of == date(2021, 6, 30)
    h = load_history(write(tmp_path, "c.yaml", base), vocabulary)
    assert h.as_of is None and h.end == date(2019, 3, 1)
    lines = jsonl([{"record": "history", "as_of": "2021-06-30"},
                   {"record": "subject", "id": "s", "kind": "person"}])
    h = load_history(write(tmp_path, "d.jsonl", lines), vocabulary)
    assert h.as_of == date(2021, 6, 30) and h.events == () and h.end == date(2021, 6, 30)
    quiet = load_history(write(tmp_path, "e.yaml", "subjects: [{id: s, kind: person}]\n"
                               "events: []\n"), vocabulary)
    assert quiet.end is None and quiet.name is None  # subjects, no events: fine
    with pytest.raises(HistoryError, match="the history is empty"):
        load_history(write(tmp_path, "f.yaml", "subjects: []\nevents: []\n"), vocabulary)


def test_sha256_is_the_files(vocabulary: Vocabulary, tmp_path: Path) -> None:
    for name, text in (("h.yaml", YAML_HISTORY), ("h.jsonl", JSONL_HISTORY)):
        path = write(tmp_path, name, text)
        h = load_history(path, vocabulary)
        assert h.sha256 == "sha256:" + hashlib.sha256(path.read_bytes()).hexdigest()
        assert h.file == str(path)
    # Same events, different bytes: a different digest (it identifies the file).
    a = load_history(write(tmp_path, "a.yaml", YAML_HISTORY), vocabulary)
    b = load_history(write(tmp_path, "b.yaml", YAML_HISTORY + "# a comment\n"), vocabulary)
    assert canonical(a) == canonical(b) and a.sha256 != b.sha256


def test_events_are_frozen(vocabulary: Vocabulary, tmp_path: Path) -> None:
    h = load_history(write(tmp_path, "h.yaml", YAML_HISTORY), vocabulary)
    with pytest.raises(Exception):  # noqa: B017 - pydantic's frozen-instance error
        h.events[0].id = "other"  # type: ignore[misc]
    assert isinstance(h.events[0], Event)


# --- property: the order of the input lines does not matter ------------------------------

_TYPES: list[tuple[str, dict[str, st.SearchStrategy[Any]]]] = [
    ("gambling", {}),
    ("volunteer.service", {"hours": st.decimals(min_value=0, max_value=1000, places=2)}),
    ("traffic.red_light", {"as": st.sampled_from(["driver", "pedestrian"])}),
    ("traffic.violation", {"licence_points": st.integers(min_value=0, max_value=12)}),
    ("environment.burning", {"what": st.sampled_from(["rubbish", "arable_land"]),
                             "spread": st.booleans()}),
]


@st.composite
def jsonl_histories(draw: st.DrawFn) -> list[str]:
    """The lines of a valid JSONL history with explicit, unique event ids."""
    subjects = draw(st.lists(st.sampled_from(["wang", "li", "zhang", "acme"]), min_size=1,
                             max_size=4, unique=True))
    lines = [json.dumps({"record": "subject", "id": s,
                         "kind": "enterprise" if s == "acme" else "person"}) for s in subjects]
    if draw(st.booleans()):
        lines.append(json.dumps({"record": "history", "name": "generated",
                                 "as_of": "2030-01-01"}))
    n = draw(st.integers(min_value=0, max_value=25))
    for i in range(n):
        etype, attrs = draw(st.sampled_from(_TYPES))
        day = draw(st.dates(min_value=date(2015, 1, 1), max_value=date(2025, 12, 31)))
        at: str = day.isoformat()
        if draw(st.booleans()):  # some events carry a time, some in another time zone
            at += "T" + draw(st.sampled_from(["00:00:00", "08:30:00", "23:59:59+08:00",
                                              "12:00:00Z", "06:00:00-05:00"]))
        record: dict[str, Any] = {"id": f"e{draw(st.integers(0, 3))}-{i}",
                                  "subject": draw(st.sampled_from(subjects)),
                                  "at": at, "type": etype}
        record.update({k: draw(v) for k, v in attrs.items()})
        lines.append(dumps(record))
    return lines


@settings(max_examples=60, deadline=None)
@given(lines=jsonl_histories(), data=st.data())
def test_permuting_jsonl_lines_gives_the_same_events(lines: list[str], data: st.DataObject
                                                     ) -> None:
    vocabulary = shipped_vocabulary()
    shuffled = data.draw(st.permutations(lines))
    with tempfile.TemporaryDirectory() as tmp:
        a = Path(tmp) / "a.jsonl"
        b = Path(tmp) / "b.jsonl"
        a.write_text("\n".join(lines) + "\n", encoding="utf-8")
        b.write_text("\n".join(shuffled) + "\n", encoding="utf-8")
        first, second = load_history(a, vocabulary), load_history(b, vocabulary)
    assert canonical(first) == canonical(second)
    assert dict(first.subjects) == dict(second.subjects)
    assert first.as_of == second.as_of
    keys = [e.order_key for e in first.events]
    assert keys == sorted(keys)
    assert len(first.events) == len(lines) - len(first.subjects) - (first.as_of is not None)
