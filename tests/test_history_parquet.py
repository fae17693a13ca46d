"""Parquet histories: the same history as YAML, the same checks, errors naming file, row
and field, and partitions that hold every event of disjoint subjects."""

from __future__ import annotations

import re
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, assume, given, settings

from creditlab.engine.errors import HistoryError, InputError
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.history_parquet import (
    AS_OF_KEY,
    events_schema,
    load_parquet_history,
    open_parquet_history,
)
from creditlab.engine.inputs.located import load_yaml
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.testing import histories, history_from_data

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "example.yaml"
INVALID = ROOT / "fixtures" / "invalid" / "history"


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return shipped_vocabulary()


class Unconvertible(Exception):
    """The YAML's defect cannot be written as a typed Parquet column."""


def column(values: list[Any]) -> pa.Array:
    present = [v for v in values if v is not None]
    try:
        if present and all(isinstance(v, bool) for v in present):
            return pa.array(values, pa.bool_())
        if present and all(isinstance(v, int) and not isinstance(v, bool) for v in present):
            return pa.array(values, pa.int64())
        if present and all(isinstance(v, (int, Decimal)) and not isinstance(v, bool)
                           for v in present):
            return pa.array([None if v is None else str(v) for v in values], pa.string())
        if present and all(isinstance(v, datetime) for v in present):
            return pa.array(values, pa.timestamp("us"))
        if present and all(isinstance(v, date) and not isinstance(v, datetime)
                           for v in present):
            return pa.array(values, pa.date32())
        if present and all(isinstance(v, list) for v in present):
            return pa.array(values, pa.list_(pa.string()))
        if all(isinstance(v, str) for v in present):
            return pa.array(values, pa.string())
    except (pa.ArrowException, OverflowError) as exc:
        raise Unconvertible(str(exc)) from None
    raise Unconvertible(f"mixed values {present!r}")


def table(records: list[dict[str, Any]], keys: list[str] | None = None) -> pa.Table:
    if keys is None:
        keys = []
        for record in records:
            keys += [k for k in record if k not in keys]
    if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
        raise Unconvertible("not a list of mappings")
    return pa.table({k: column([r.get(k) for r in records]) for k in keys})


def yaml_records(path: Path) -> tuple[list[dict[str, Any]], list[dict[str, Any]], Any]:
    data = load_yaml(path, HistoryError).data
    if not isinstance(data, dict) or "starting" in data:
        raise Unconvertible("not a plain history")
    return data.get("subjects") or [], data.get("events") or [], data.get("as_of")


def write_folder(subjects: list[dict[str, Any]], events: list[dict[str, Any]], folder: Path,
                 as_of: Any = None) -> Path:
    folder.mkdir()
    people = table(subjects, None if subjects else ["id", "kind"])
    if as_of is not None:
        people = people.replace_schema_metadata({AS_OF_KEY: str(as_of).encode()})
    pq.write_table(people, folder / "subjects.parquet")
    pq.write_table(table(events, None if events else ["subject", "at", "type"]),
                   folder / "events.parquet")
    return folder


def write_single(subjects: list[dict[str, Any]], events: list[dict[str, Any]],
                 path: Path) -> Path:
    records = [{"record": "subject", **s} for s in subjects] + \
        [{"record": "event", **e} for e in events]
    pq.write_table(table(records, None if records else ["record", "id", "kind"]), path)
    return path


def row_of(err: InputError) -> int | None:
    """The row an error names: its `row` where errors carry one, else "row N: " leading
    its reason."""
    row = getattr(err, "row", None)
    if row is not None:
        return int(row)
    found = re.match(r"row (\d+): ", err.reason)
    return int(found.group(1)) if found else None


def same_history(a: History, b: History) -> None:
    assert a.subjects == b.subjects
    assert [(e.id, e.subject, e.at, e.type, dict(e.attrs)) for e in a.events] == \
        [(e.id, e.subject, e.at, e.type, dict(e.attrs)) for e in b.events]
    assert a.as_of == b.as_of and a.end == b.end


# --- round trips ------------------------------------------------------------------------


def test_example_round_trips_through_a_folder(vocabulary: Vocabulary, tmp_path: Path) -> None:
    subjects, events, _ = yaml_records(EXAMPLE)
    folder = write_folder(subjects, events, tmp_path / "example")
    history = load_parquet_history(folder, vocabulary)
    same_history(history, load_history(EXAMPLE, vocabulary))
    assert history.file == str(folder) and history.sha256.startswith("sha256:")
    assert history.vocabulary == vocabulary.sha256


def test_example_round_trips_through_one_file(vocabulary: Vocabulary, tmp_path: Path) -> None:
    subjects, events, _ = yaml_records(EXAMPLE)
    path = write_single(subjects, events, tmp_path / "example.parquet")
    same_history(load_parquet_history(path, vocabulary), load_history(EXAMPLE, vocabulary))


def test_events_folder_of_parts_and_as_of(vocabulary: Vocabulary, tmp_path: Path) -> None:
    subjects, events, _ = yaml_records(EXAMPLE)
    folder = tmp_path / "parts"
    (folder / "events").mkdir(parents=True)
    people = table(subjects).replace_schema_metadata({AS_OF_KEY: b"2022-01-01"})
    pq.write_table(people, folder / "subjects.parquet")
    # Parts are read in name order; ids absent: derived from the position, as in JSONL.
    no_ids = [{k: v for k, v in e.items() if k != "id"} for e in events]
    pq.write_table(table(no_ids[10:]), folder / "events" / "part-1.parquet")
    pq.write_table(table(no_ids[:10]), folder / "events" / "part-0.parquet")
    history = load_parquet_history(folder, vocabulary)
    assert history.as_of == date(2022, 1, 1)
    assert sorted(e.id for e in history.events) == sorted(f"#{i}" for i in range(1, 21))
    by_id = {e.id: e for e in history.events}
    assert by_id["#1"].type == events[0]["type"] and by_id["#11"].type == events[10]["type"]
    opened = open_parquet_history(folder, vocabulary)
    assert opened.events == 20 and opened.last_day == date(2021, 4, 10)


def test_sha256_covers_every_file_in_order(vocabulary: Vocabulary, tmp_path: Path) -> None:
    subjects, events, _ = yaml_records(EXAMPLE)
    one = open_parquet_history(write_folder(subjects, events, tmp_path / "a"), vocabulary)
    two = open_parquet_history(write_folder(subjects, events, tmp_path / "b"), vocabulary)
    three = open_parquet_history(write_folder(subjects, events[:-1], tmp_path / "c"),
                                 vocabulary)
    assert one.sha256 == two.sha256 != three.sha256


def test_number_columns_convert_exactly(vocabulary: Vocabulary, tmp_path: Path) -> None:
    folder = tmp_path / "numbers"
    folder.mkdir()
    pq.write_table(pa.table({"id": ["wang"], "kind": ["person"]}), folder / "subjects.parquet")
    events = pa.table({"subject": ["wang"] * 3, "at": ["2019-03-01", "2019-03-02T08:00:00+08:00",
                                                       "2019-03-03"],
                       "type": ["volunteer.service"] * 3, "hours": [0.1, 2.5, 300.0]})
    pq.write_table(events, folder / "events.parquet")
    history = load_parquet_history(folder, vocabulary)
    assert [e.attrs["hours"] for e in history.events] == [Decimal("0.1"), Decimal("2.5"), 300]
    assert str(history.events[0].attrs["hours"]) == "0.1"
    assert history.events[1].at == datetime(2019, 3, 2, 0, 0)  # 08:00 at UTC+8


# --- errors -------------------------------------------------------------------------------

_HEADER = re.compile(r"^# expect-(line|field|phrase):[ \t]*(.*?)[ \t]*$", re.MULTILINE)
_FIELD = re.compile(r"^(subjects|events)\[(\d+)\]\.(\w+)$")

# Defects the conversion itself removes or cannot carry: YAML syntax and YAML 1.1 quirks,
# mixed-type columns, structural keys. Every other fixture must fail the same way.
SURVIVING = {
    "date_out_of_range.yaml", "duplicate_event_id.yaml", "duplicate_subject_id.yaml",
    "enum_value_not_allowed.yaml", "int_attribute_fraction.yaml", "malformed_date_string.yaml",
    "missing_at_field.yaml", "missing_required_attribute.yaml", "missing_type_field.yaml",
    "mistyped_attribute.yaml", "number_out_of_range.yaml", "subject_without_kind.yaml",
    "unknown_attribute.yaml", "unknown_event_type.yaml", "unknown_role.yaml",
    "unknown_subject.yaml", "born_after_first_event.yaml",
    "subject_field_date_out_of_range.yaml", "as_of_before_every_event.yaml",
    "missing_subject_field.yaml", "date_underflows_utc.yaml", "empty_history.yaml",
}


def corpus() -> list[Path]:
    return sorted(INVALID.glob("*.yaml"))


@pytest.mark.parametrize("layout", ["folder", "single"])
@pytest.mark.parametrize("path", corpus(), ids=lambda p: p.name)
def test_invalid_history_as_parquet(path: Path, layout: str, vocabulary: Vocabulary,
                                    tmp_path: Path) -> None:
    header = dict(_HEADER.findall(path.read_text(encoding="utf-8")))
    # as_of is metadata of the subjects file: the single-file test case cannot carry it.
    survives = path.name in SURVIVING and not (layout == "single" and header["field"] == "as_of")
    try:
        subjects, events, as_of = yaml_records(path)
        if layout == "folder":
            target = write_folder(subjects, events, tmp_path / "h", as_of)
        else:
            if as_of is not None:
                raise Unconvertible("as_of in a single file is metadata")
            target = write_single(subjects, events, tmp_path / "h.parquet")
    except (InputError, Unconvertible, TypeError, AttributeError, OverflowError):
        assert not survives
        pytest.skip("the defect does not survive conversion")
    try:
        load_parquet_history(target, vocabulary)
    except HistoryError as err:
        error = err
    else:
        assert not survives, "the defect survives, the error must too"
        pytest.skip("the defect does not survive conversion")
    assert survives, str(error)
    if header["field"] == "as_of":  # metadata of the subjects file: no row
        assert error.field == "as_of" and error.file is not None
        assert error.file.endswith("subjects.parquet") and header["phrase"] in error.reason
        return
    if not header["field"]:  # the whole history
        assert error.field is None and header["phrase"] in error.reason, str(error)
        return
    field = _FIELD.match(header["field"])
    assert field is not None, header["field"]
    part, index, name = field.group(1), int(field.group(2)), field.group(3)
    assert error.field == name, str(error)
    assert error.file is not None
    if layout == "folder":
        assert error.file.endswith(f"{part}.parquet"), str(error)
        row = index + 1
    else:
        assert error.file.endswith("h.parquet"), str(error)
        row = index + 1 + (len(subjects) if part == "events" else 0)
    assert row_of(error) == row, str(error)
    # Where JSONL names a line, Parquet names a row.
    assert re.sub(r" \(first at line \d+\)", "", header["phrase"]) in error.reason, str(error)


def test_each_surviving_fixture_exists() -> None:
    assert {p.name for p in corpus()} >= SURVIVING


def test_wrong_column_types(vocabulary: Vocabulary, tmp_path: Path) -> None:
    def history(events: pa.Table, subjects: pa.Table | None = None) -> Path:
        folder = tmp_path / f"h{len(list(tmp_path.iterdir()))}"
        folder.mkdir()
        pq.write_table(subjects or pa.table({"id": ["wang"], "kind": ["person"]}),
                       folder / "subjects.parquet")
        pq.write_table(events, folder / "events.parquet")
        return folder

    base = {"subject": ["wang"], "at": ["2019-03-01"], "type": ["volunteer.service"]}
    cases: list[tuple[pa.Table, pa.Table | None, str, str]] = [
        (pa.table({**base, "at": pa.array([20190301], pa.int64())}), None, "at",
         "it should be a timestamp, date32 or string column"),
        (pa.table({**base, "hours": pa.array([[1]], pa.list_(pa.int64()))}), None, "hours",
         "it should be an integer, float, decimal or string column"),
        (pa.table({**base, "type": pa.array([1], pa.int64())}), None, "type",
         "it should be a string column"),
        (pa.table({**base, "notes": pa.array([{"a": 1}])}), None, "notes",
         "nested Arrow type"),
        (pa.table(base), pa.table({"id": ["wang"], "kind": ["person"], "roles": ["farmer"]}),
         "roles", "it should be a list<string> column"),
        (pa.table({**base, "hours": [float("nan")]}), None, "hours",
         "not a finite number: nan"),
        (pa.table({**base, "hours": ["1.1234567"]}), None, "hours",
         "number 1.1234567 has more than 6 decimal places"),
        (pa.table({**base, "hours": [-1]}), None, "hours", "must be \u2265 0, got -1"),
        (pa.table({**base, "hours": [True]}), None, "hours",
         "column 'hours' has Arrow type bool; it should be an integer, float, decimal"),
        (pa.table({**base, "id": ["e\x1b[31m"]}), None, "id",
         "control character U+001B in a string"),
        (pa.table({**base, "type": ["volunteer.servce"], "hours": [1]}), None, "type",
         "unknown event type 'volunteer.servce' (did you mean 'volunteer.service'"),
    ]
    for events, subjects, field, phrase in cases:
        with pytest.raises(HistoryError) as info:
            load_parquet_history(history(events, subjects), vocabulary)
        err = info.value
        assert err.field == field and phrase in err.reason, str(err)
        # A column of the wrong type is refused as a whole; a bad value names its row.
        assert row_of(err) == (None if "Arrow type" in err.reason else 1), str(err)


def test_not_parquet_and_bad_layouts(vocabulary: Vocabulary, tmp_path: Path) -> None:
    junk = tmp_path / "junk.parquet"
    junk.write_bytes(b"not parquet at all")
    with pytest.raises(HistoryError, match="not a Parquet file"):
        open_parquet_history(junk, vocabulary)
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(HistoryError, match=r"needs subjects\.parquet"):
        open_parquet_history(empty, vocabulary)
    no_record = tmp_path / "events.parquet"
    pq.write_table(pa.table({"subject": ["wang"]}), no_record)
    with pytest.raises(HistoryError, match="needs a 'record' column"):
        open_parquet_history(no_record, vocabulary)


# --- partitions ---------------------------------------------------------------------------


def test_partitions_hold_all_events_of_disjoint_subjects(vocabulary: Vocabulary,
                                                         tmp_path: Path) -> None:
    subjects, events, _ = yaml_records(EXAMPLE)
    folder = write_folder(subjects, events, tmp_path / "example")
    opened = open_parquet_history(folder, vocabulary)
    history = load_parquet_history(folder, vocabulary)
    schema = events_schema(vocabulary)
    seen: set[str] = set()
    rows: list[tuple[str, str, datetime, str]] = []
    for part in opened.partitions(subjects_per_partition=1):
        assert part.schema == schema
        assert part.column("position").to_pylist() == list(range(part.num_rows))
        ats = part.column("at").to_pylist()
        ids = part.column("id").to_pylist()
        assert list(zip(ats, ids, strict=True)) == sorted(zip(ats, ids, strict=True))
        mine = set(part.column("subject").to_pylist())
        assert len(mine) == 1 and not mine & seen
        seen |= mine
        rows += [(r["id"], r["subject"], r["at"], r["type"]) for r in part.to_pylist()]
    assert sorted(rows) == sorted((e.id, e.subject, e.at, e.type) for e in history.events)


def parts_history(tmp_path: Path, *parts: pa.Table) -> Path:
    folder = tmp_path / "parts"
    (folder / "events").mkdir(parents=True)
    pq.write_table(pa.table({"id": ["wang", "li", "idle"], "kind": ["person"] * 3}),
                   folder / "subjects.parquet")
    for i, part in enumerate(parts):
        pq.write_table(part, folder / "events" / f"part-{i}.parquet")
    return folder


def test_duplicate_id_across_parts(vocabulary: Vocabulary, tmp_path: Path) -> None:
    one = pa.table({"id": ["e1", "e2"], "subject": ["wang", "wang"],
                    "at": ["2019-03-01", "2019-03-02"], "type": ["gambling", "gambling"]})
    two = pa.table({"id": ["e3", "e1"], "subject": ["li", "li"],
                    "at": ["2019-03-01", "2019-03-02"], "type": ["gambling", "gambling"]})
    folder = parts_history(tmp_path, one, two)
    with pytest.raises(HistoryError) as info:
        list(open_parquet_history(folder, vocabulary).partitions())
    err = info.value
    assert err.file is not None and err.file.endswith("part-1.parquet") and err.field == "id"
    assert row_of(err) == 2 and "duplicate event id 'e1' (first at row 1 of " in err.reason
    assert err.reason.endswith("part-0.parquet)")


def test_parts_may_type_a_column_differently(vocabulary: Vocabulary, tmp_path: Path) -> None:
    """Each row group is checked on its own: int64 here, float64 there, one exact result;
    the k-th partition holds the events of the k-th run of subjects, empty or not."""
    one = pa.table({"subject": ["li"], "at": ["2019-03-01"], "type": ["volunteer.service"],
                    "hours": pa.array([999_999_999_999_999], pa.int64())})
    two = pa.table({"subject": ["wang"], "at": [date(2019, 3, 1)],
                    "type": ["volunteer.service"], "hours": [0.3]})
    opened = open_parquet_history(parts_history(tmp_path, one, two), vocabulary)
    tables = list(opened.partitions(subjects_per_partition=2))
    assert [t.num_rows for t in tables] == [2, 0]
    assert tables[1].schema == events_schema(vocabulary)
    by_subject = {r["subject"]: r["hours"] for r in tables[0].to_pylist()}
    assert by_subject == {"li": Decimal(999_999_999_999_999), "wang": Decimal("0.3")}
    assert tables[0].column("id").to_pylist() == ["#1", "#2"]
    assert tables[0].column("position").to_pylist() == [0, 1]


def test_single_file_record_kinds(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "h.parquet"
    pq.write_table(pa.table({"record": ["subject", "subjects"], "id": ["wang", "li"],
                             "kind": ["person", "person"]}), path)
    with pytest.raises(HistoryError) as info:
        open_parquet_history(path, vocabulary)
    assert info.value.field == "record"
    assert row_of(info.value) == 2
    assert "unknown record kind 'subjects'; use 'subject' or 'event'" in info.value.reason


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=histories())
def test_generated_histories_read_the_same_from_parquet(data: dict[str, Any],
                                                        vocabulary: Vocabulary,
                                                        tmp_path_factory: pytest.TempPathFactory
                                                        ) -> None:
    expected = history_from_data(data)
    folder = tmp_path_factory.mktemp("h")
    try:
        write_folder(data.get("subjects") or [], data.get("events") or [], folder / "h",
                     data.get("as_of"))
        write_single(data.get("subjects") or [], data.get("events") or [],
                     folder / "h.parquet")
    except Unconvertible:
        assume(False)
    same_history(load_parquet_history(folder / "h", vocabulary), expected)
    if data.get("as_of") is None:
        same_history(load_parquet_history(folder / "h.parquet", vocabulary), expected)


def test_one_partition_at_a_time(vocabulary: Vocabulary, tmp_path: Path) -> None:
    subjects, events, _ = yaml_records(EXAMPLE)
    folder = write_folder(subjects, events, tmp_path / "example")
    every = list(open_parquet_history(folder, vocabulary).partitions(3))
    opened = open_parquet_history(folder, vocabulary)
    assert opened.partition_count(3) == len(every) == 2
    for index in (1, 0):
        events_table, subjects_table = opened.partition(index, 3)
        assert events_table.equals(every[index])
        assert subjects_table.column("id").to_pylist() == ["wang", "lu", "sun", "zhao"][
            3 * index: 3 * index + 3]
        assert set(events_table.column("subject").to_pylist()) <= \
            set(subjects_table.column("id").to_pylist())
    with pytest.raises(IndexError):
        opened.partition(2, 3)
