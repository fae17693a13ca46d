"""A JSONL history replayed a partition of subjects at a time equals the whole replay.

`index_jsonl` must refuse exactly what `load_history` refuses, with the same message, and
`replay_streamed` must give `replay`'s results, accounting, manifest and digest whatever
the partition size; `creditlab replay FILE.jsonl --format json|jsonl` must print the same
text as before.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_fuzz_readers import as_jsonl, history_like

from creditlab.cli.main import cli
from creditlab.cli.output import json_text, replay_document
from creditlab.engine import load_history, replay, shipped_vocabulary
from creditlab.engine.canonical import plain
from creditlab.engine.errors import CreditlabError, HistoryErrors
from creditlab.engine.inputs.catalog import shipped_scheme
from creditlab.engine.inputs.history_files import MAX_MISTAKES
from creditlab.engine.inputs.history_stream import JsonlIndex, index_jsonl
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.streamed import replay_streamed

from strategies import histories, schemes

ROOT = Path(__file__).resolve().parents[1]
POPULATION = ROOT / "fixtures" / "population.jsonl"
INVALID = ROOT / "fixtures" / "invalid" / "history"
VOCABULARY = shipped_vocabulary()
FEW = ("fuzhou_yuming", "meritown_2019", "national_blacklist_redlist_enterprise",
       "rongcheng_city", "suining_county")
"""Schemes named by id: the shipped set may grow while a test runs."""

SETTINGS = settings(max_examples=40, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.function_scoped_fixture])


def _outcome(load: Any, path: Path) -> Any:
    """What reading `path` gives: the value, or the error's type, message and mistakes."""
    try:
        return load(path, VOCABULARY)
    except CreditlabError as exc:
        mistakes = [(e.line, e.field, str(e)) for e in exc.errors] \
            if isinstance(exc, HistoryErrors) else None
        return (type(exc).__name__, str(exc), mistakes)


def _assert_same_reading(path: Path) -> JsonlIndex | None:
    """`index_jsonl` refuses `path` exactly as `load_history` does; the index when valid."""
    whole, index = _outcome(load_history, path), _outcome(index_jsonl, path)
    if isinstance(whole, tuple) or isinstance(index, tuple):
        assert index == whole
        return None
    assert isinstance(index, JsonlIndex)
    assert index.events == len(whole.events)
    assert index.end == whole.end
    assert index.header.sha256 == whole.sha256
    assert dict(index.header.subjects) == dict(whole.subjects)
    assert index.header.starting == whole.starting
    return index


def _assert_same_replay(path: Path, chosen: list[Scheme], sizes: tuple[int, ...]) -> None:
    index = _assert_same_reading(path)
    if index is None:
        return
    history = load_history(path, VOCABULARY)
    try:
        whole = replay(history, chosen)
    except CreditlabError as exc:
        for size in sizes:
            with pytest.raises(type(exc)) as caught:
                replay_streamed(index, chosen, subjects_per_partition=size)
            assert str(caught.value) == str(exc)
        return
    events = []
    for size in sizes:
        for k in range(index.partition_count(size)):
            part = index.partition(k, size)
            assert part.end == history.end and part.sha256 == history.sha256
            events += part.events
        assert sorted(events, key=lambda e: e.order_key) == list(history.events)
        events.clear()
        streamed = replay_streamed(index, chosen, subjects_per_partition=size)
        assert streamed.results == whole.results
        assert streamed.accounting == whole.accounting
        assert streamed.manifest == whole.manifest
        assert streamed.digest == whole.digest
        assert streamed.as_dict() == whole.as_dict()


def _lines(data: dict[str, Any]) -> list[dict[str, Any]]:
    """A generated history (the YAML shape) as JSONL records."""
    records: list[dict[str, Any]] = []
    if data.get("as_of") is not None:
        records.append({"record": "history", "as_of": data["as_of"]})
    records += [{"record": "subject", **s} for s in data["subjects"]]
    records += [{"record": "starting", **s} for s in data.get("starting", [])]
    records += data["events"]
    return records


def _write(path: Path, records: list[Any], blank: bool = False) -> Path:
    text = "\n".join(json.dumps(plain(r), ensure_ascii=False) for r in records)
    path.write_text(text + ("\n\n" if blank else "\n"), encoding="utf-8")
    return path


# --- replays equal ---------------------------------------------------------------------

@SETTINGS
@given(data=st.data(), chosen=st.lists(schemes(), min_size=1, max_size=3,
                                       unique_by=lambda s: s.id))
def test_streamed_replay_equals_the_whole_replay(tmp_path: Path, data: st.DataObject,
                                                 chosen: list[Scheme]) -> None:
    history = data.draw(histories(max_subjects=6, max_events=30, scheme=chosen[0]))
    records = _lines(history)
    if data.draw(st.booleans()):  # subjects after some of their events: read twice
        records = data.draw(st.permutations(records))
    for record in records:
        if record.get("record") is None and data.draw(st.integers(0, 4)) == 0:
            record.pop("id")  # an event without id is `#n`, n its place among the events
    path = _write(tmp_path / "h.jsonl", records, blank=data.draw(st.booleans()))
    _assert_same_replay(path, chosen, (1, 2, 7))


def test_population_in_partitions() -> None:
    chosen = [shipped_scheme(s) for s in FEW]
    _assert_same_replay(POPULATION, chosen, (1, 7, 1000))


def test_as_of_and_starting_points(tmp_path: Path) -> None:
    records = [
        {"record": "subject", "id": "b", "kind": "person"},
        {"id": "e1", "subject": "b", "at": "2019-03-01", "type": "traffic.red_light",
         "as": "driver"},
        {"record": "starting", "subject": "a", "scheme": "rongcheng_city", "score": 900},
        {"record": "subject", "id": "a", "kind": "person"},
        {"id": "e2", "subject": "a", "at": "2019-03-01", "type": "traffic.red_light",
         "as": "driver"},
        {"record": "history", "as_of": "2023-01-01", "name": "n"},
    ]
    chosen = [shipped_scheme(s) for s in FEW]
    _assert_same_replay(_write(tmp_path / "h.jsonl", records), chosen, (1, 2))


def test_a_bad_starting_point_is_refused_as_replay_refuses_it(tmp_path: Path) -> None:
    records = [{"record": "subject", "id": "a", "kind": "person"},
               {"record": "subject", "id": "b", "kind": "person"},
               {"record": "starting", "subject": "b", "scheme": "meritown_2019",
                "grade": "Z"},
               {"record": "starting", "subject": "a", "scheme": "no_such_scheme", "score": 1}]
    path = _write(tmp_path / "h.jsonl", records)
    chosen = [shipped_scheme(s) for s in FEW]
    _assert_same_replay(path, chosen, (1,))
    _assert_same_replay(_write(path, records[:3]), chosen, (1,))


# --- the same refusals ---------------------------------------------------------------

@pytest.mark.parametrize("path", sorted(INVALID.glob("*.jsonl")), ids=lambda p: p.name)
def test_invalid_corpus_refused_the_same(path: Path) -> None:
    assert _assert_same_reading(path) is None


MISTAKES = st.sampled_from(["type", "subject", "at", "duplicate_id", "duplicate_subject",
                            "late_subject", "born", "as_of", "no_subject", "starting",
                            "bad_subject"])


@SETTINGS
@given(data=st.data(), mistakes=st.lists(MISTAKES, min_size=1, max_size=4))
def test_mistakes_refused_the_same(tmp_path: Path, data: st.DataObject,
                                   mistakes: list[str]) -> None:
    history = data.draw(histories(max_subjects=4, max_events=12))
    records = _lines(history)
    events = [r for r in records if r.get("record") is None]
    subjects = [r for r in records if r.get("record") == "subject"]
    for mistake in mistakes:
        event = data.draw(st.sampled_from(events)) if events else None
        if mistake == "type" and event:
            event["type"] = "volunter.service"
        elif mistake == "subject" and event:
            event["subject"] = "nobody"
        elif mistake == "at" and event:
            event["at"] = "yesterday"
        elif mistake == "duplicate_id" and event and len(events) > 1:
            other = data.draw(st.sampled_from(events))
            other["id"] = event.get("id", "e0")
        elif mistake == "duplicate_subject":
            records.append(dict(data.draw(st.sampled_from(subjects))))
        elif mistake == "late_subject":
            subject = data.draw(st.sampled_from(subjects))
            records.remove(subject)
            records.append(subject)
        elif mistake == "born" and event:
            for subject in subjects:
                if subject["id"] == event.get("subject"):
                    subject["born"] = "2199-01-01"
        elif mistake == "as_of":
            records.insert(0, {"record": "history", "as_of": "1901-01-01"})
        elif mistake == "no_subject" and event:
            event.pop("subject", None)
        elif mistake == "starting":
            records.append({"record": "starting", "subject": "nobody", "scheme": "x",
                            "score": 1})
        elif mistake == "bad_subject":
            data.draw(st.sampled_from(subjects))["kind"] = "robot"
    _assert_same_reading(_write(tmp_path / "h.jsonl", records))


@settings(max_examples=60, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                 HealthCheck.function_scoped_fixture])
@given(data=history_like())
def test_nearly_histories_refused_the_same(tmp_path: Path, data: dict[str, Any]) -> None:
    path = tmp_path / "h.jsonl"
    path.write_bytes(as_jsonl(data))
    _assert_same_reading(path)


def test_more_mistakes_than_the_limit(tmp_path: Path) -> None:
    records: list[Any] = [{"id": f"e{i}", "subject": "s", "at": "2020-01-01",
                           "type": "no.such"} for i in range(MAX_MISTAKES + 5)]
    records.insert(3, {"record": "subject", "id": "s", "kind": "person"})
    records.append([1, 2])  # a line that is not an object: refused before any event
    path = _write(tmp_path / "h.jsonl", records)
    assert _assert_same_reading(path) is None
    _write(path, records[:-1])
    assert _assert_same_reading(path) is None


def test_a_duplicate_id_far_apart(tmp_path: Path) -> None:
    records: list[Any] = [{"record": "subject", "id": "s", "kind": "person"}]
    records += [{"id": f"e{i}", "subject": "s", "at": "2020-01-01",
                 "type": "volunteer.service", "hours": 1} for i in range(300)]
    records.append({"id": "e7", "subject": "s", "at": "2020-01-02",
                    "type": "volunteer.service", "hours": 1})
    records.append({"id": "#3", "subject": "s", "at": "2020-01-02",
                    "type": "volunteer.service", "hours": 1})
    records.append({"subject": "s", "at": "2020-01-02", "type": "volunteer.service",
                    "hours": 1})
    path = _write(tmp_path / "h.jsonl", records)
    assert _assert_same_reading(path) is None
    assert "duplicate event id 'e7' (first at line 9)" in str(_outcome(index_jsonl, path))


def test_too_large_and_missing_files(tmp_path: Path) -> None:
    assert _assert_same_reading(tmp_path / "missing.jsonl") is None
    long = tmp_path / "long.jsonl"
    long.write_bytes(b'{"record": "subject", "id": "s", "kind": "person"}\n'
                     + b" " * (2**20 + 1) + b"\n")
    assert _assert_same_reading(long) is None
    empty = tmp_path / "empty.jsonl"
    empty.write_bytes(b"")
    assert _assert_same_reading(empty) is None


def test_a_file_over_the_size_limit(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from creditlab.engine.inputs import history_files, history_stream

    for module in (history_files, history_stream):
        monkeypatch.setattr(module, "MAX_JSONL_BYTES", 2**20)
    path = _write(tmp_path / "h.jsonl", [{"record": "subject", "id": "s", "kind": "person"}])
    with path.open("ab") as f:
        f.write(b"\n" * 2**20)
    assert _assert_same_reading(path) is None
    assert "file is larger than 1 MiB" in str(_outcome(index_jsonl, path))


def test_a_file_changed_after_indexing_is_refused(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.jsonl", [
        {"record": "subject", "id": "s", "kind": "person"},
        {"id": "e1", "subject": "s", "at": "2020-01-01", "type": "volunteer.service",
         "hours": 1}])
    index = index_jsonl(path, VOCABULARY)
    path.write_text(path.read_text() + "\n")
    with pytest.raises(CreditlabError, match="changed while it was replayed"):
        index.partition(0)


# --- the command ---------------------------------------------------------------------

@pytest.mark.parametrize("fmt", ["json", "jsonl"])
@pytest.mark.parametrize("size", ["7", None])
def test_command_prints_what_it_printed_before(fmt: str, size: str | None,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    if size is not None:
        monkeypatch.setenv("CREDITLAB_SUBJECTS_PER_PARTITION", size)
    arguments = ["replay", str(POPULATION), "--format", fmt]
    for scheme in FEW:
        arguments += ["--scheme", scheme]
    run = CliRunner().invoke(cli, arguments)
    assert run.exit_code == 0, run.output
    whole = replay(load_history(POPULATION, VOCABULARY), [shipped_scheme(s) for s in FEW])
    data = replay_document(whole, explain=False)
    if fmt == "json":
        expected = json_text(data, indent=2) + "\n"
    else:
        expected = "".join(json_text(r) + "\n" for r in [
            {"record": "manifest", **data["manifest"]},
            *({"record": "result", **r} for r in data["results"]),
            {"record": "digest", "digest": data["digest"]}])
    assert run.output == expected


def test_command_refuses_a_bad_partition_size(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CREDITLAB_SUBJECTS_PER_PARTITION", "0")
    run = CliRunner().invoke(cli, ["replay", str(POPULATION), "--format", "json",
                                   "--scheme", "meritown_2019"])
    assert run.exit_code == 2
    assert "CREDITLAB_SUBJECTS_PER_PARTITION" in run.output


def test_command_with_no_results(tmp_path: Path) -> None:
    path = _write(tmp_path / "h.jsonl", [{"record": "subject", "id": "s", "kind": "person"}])
    run = CliRunner().invoke(cli, ["replay", str(path), "--format", "json", "--scheme",
                                   "national_blacklist_redlist_enterprise"])
    assert run.exit_code == 0, run.output
    whole = replay(load_history(path, VOCABULARY),
                   [shipped_scheme("national_blacklist_redlist_enterprise")])
    assert run.output == json_text(replay_document(whole, explain=False), indent=2) + "\n"
