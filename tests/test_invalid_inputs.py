"""The corpus of invalid inputs: every error names the file, the line and the field.

Each file of `fixtures/invalid/history/` and `fixtures/invalid/scheme/` has exactly one
defect. A YAML file states what is wrong in its first comment and, in header comments,
what the error must say:

    # expect-line: 11
    # expect-field: events[0].type      (empty when the error has no field)
    # expect-phrase: did you mean 'volunteer.service'

A JSON Lines file cannot carry comments (its first line is a valid subject record); its
expectations are in `JSONL_EXPECTED` below.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from creditlab.engine.errors import HistoryError, InputError, SchemeError
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary

INVALID = Path(__file__).resolve().parents[1] / "fixtures" / "invalid"
HISTORIES = INVALID / "history"
SCHEMES = INVALID / "scheme"


@dataclass(frozen=True)
class Expected:
    line: int
    field: str | None
    phrase: str
    why: str = ""


JSONL_EXPECTED: dict[str, Expected] = {
    "malformed_json_line.jsonl": Expected(
        3, None, "malformed JSON: Expecting property name enclosed in double quotes",
        "line 3 ends its object with a trailing comma"),
    "line_not_object.jsonl": Expected(
        2, None, "each line must be a JSON object",
        "line 2 is a JSON array, not an object"),
    "unknown_record_kind.jsonl": Expected(
        4, "record", "unknown record kind 'subjects'",
        "line 4 (after a blank line) says record 'subjects' instead of 'subject'"),
    "unknown_subject.jsonl": Expected(
        3, "subject", "unknown subject 'zhang'",
        "the event on line 3 names a subject no line declares (li is declared after it)"),
    "history_record_unknown_key.jsonl": Expected(
        2, "asof", "unknown key 'asof'",
        "the history record misspells as_of, which would otherwise be dropped silently"),
    "duplicate_json_key.jsonl": Expected(
        2, "hours", "duplicate key 'hours'",
        "the event on line 2 gives hours twice; JSON would keep the last silently"),
    "number_exponent_out_of_range.jsonl": Expected(
        2, None, "its exponent must lie between -30 and 30",
        "1e-999999999999999999 would pass as tiny, then exhaust memory when rounded"),
    "integer_too_many_digits.jsonl": Expected(
        2, None, "has more than 30 digits",
        "a 40-digit integer literal is refused before int() reads it"),
    "control_character_in_string.jsonl": Expected(
        2, "id", "control character U+001B in a string",
        "an id carrying a terminal escape sequence"),
    "nesting_too_deep.jsonl": Expected(
        2, None, "nested more than 64 levels deep",
        "an attribute nested 100 lists deep"),
    "date_underflows_utc.jsonl": Expected(
        2, "at", "outside the years 1900 to 2200",
        "midnight of year 1 at UTC+1 would underflow when converted to UTC"),
    "as_of_before_every_event.jsonl": Expected(
        3, "as_of", "is before every event",
        "the history record's as_of precedes the only event"),
}

_HEADER = re.compile(r"^# expect-(line|field|phrase):[ \t]*(.*?)[ \t]*$", re.MULTILINE)


def expected_of(path: Path) -> Expected:
    if path.suffix == ".jsonl":
        return JSONL_EXPECTED[path.name]
    text = path.read_text(encoding="utf-8")
    header = dict(_HEADER.findall(text))
    assert set(header) == {"line", "field", "phrase"}, (
        f"{path.name}: needs '# expect-line:', '# expect-field:' and '# expect-phrase:' "
        "header comments")
    assert text.startswith("# ") and not text.startswith("# expect-"), (
        f"{path.name}: the first comment says what is wrong")
    return Expected(int(header["line"]), header["field"] or None, header["phrase"])


def corpus(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.suffix in (".yaml", ".jsonl"))


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return shipped_vocabulary()


def check_error(err: InputError, path: Path, expected: Expected) -> None:
    message = str(err)
    assert err.file is not None and err.file.endswith(path.name), message
    assert err.line == expected.line, message
    assert err.field == expected.field, message
    assert expected.phrase in message, message
    assert expected.phrase in err.reason, message
    assert message.startswith(f"{err.file}:{err.line}:"), message
    if err.field is not None:
        assert message.startswith(f"{err.file}:{err.line}: [{err.field}] "), message


@pytest.mark.parametrize("path", corpus(HISTORIES), ids=lambda p: p.name)
def test_invalid_history(path: Path, vocabulary: Vocabulary) -> None:
    expected = expected_of(path)
    with pytest.raises(HistoryError) as info:
        load_history(path, vocabulary)
    check_error(info.value, path, expected)


@pytest.mark.parametrize("path", corpus(SCHEMES), ids=lambda p: p.name)
def test_invalid_scheme(path: Path, vocabulary: Vocabulary) -> None:
    expected = expected_of(path)
    with pytest.raises(SchemeError) as info:
        load_scheme(path, vocabulary)
    check_error(info.value, path, expected)


def test_corpus_is_complete() -> None:
    """Every JSONL file has expectations, every expectation a file; no stray files."""
    jsonl = {p.name for p in HISTORIES.glob("*.jsonl")}
    assert jsonl == set(JSONL_EXPECTED)
    assert len(corpus(HISTORIES)) >= 25
    assert len(corpus(SCHEMES)) >= 20
    for folder in (HISTORIES, SCHEMES):
        assert {p.suffix for p in folder.iterdir()} <= {".yaml", ".jsonl"}
    assert not list(SCHEMES.glob("*.jsonl"))


@pytest.mark.parametrize("name", sorted(JSONL_EXPECTED))
def test_jsonl_fixture_starts_with_a_valid_subject(name: str) -> None:
    first = (HISTORIES / name).read_text(encoding="utf-8").splitlines()[0]
    record = json.loads(first)
    assert record["record"] == "subject" and record["kind"] in ("person", "enterprise")


def test_scheme_fixtures_have_one_defect(vocabulary: Vocabulary, tmp_path: Path) -> None:
    """The scheme the corpus is built on is valid: without the defect line it loads."""
    path = SCHEMES / "unknown_rule_key.yaml"
    line = expected_of(path).line
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert lines[line - 1].strip() == "points: 5"
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text("".join(lines[: line - 1] + lines[line:]), encoding="utf-8")
    scheme = load_scheme(fixed, vocabulary)
    assert [r.id for r in scheme.rules] == ["ft_volunteer"]


def test_history_fixtures_have_one_defect(vocabulary: Vocabulary, tmp_path: Path) -> None:
    """Likewise for a history: the misspelt type corrected, the file loads."""
    text = (HISTORIES / "unknown_event_type.yaml").read_text(encoding="utf-8")
    fixed = tmp_path / "fixed.yaml"
    fixed.write_text(text.replace("volunteer.servce", "volunteer.service"), encoding="utf-8")
    history = load_history(fixed, vocabulary)
    assert [e.type for e in history.events] == ["volunteer.service"]


# Bounds too large for a corpus file, and inputs that are valid however odd they look.


def test_file_size_is_bounded(vocabulary: Vocabulary, tmp_path: Path,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A file over the bound is refused (after reading bound + 1 bytes), YAML and JSONL."""
    import creditlab.engine.inputs.history_files as history_module

    monkeypatch.setattr(history_module, "MAX_YAML_BYTES", 100)
    monkeypatch.setattr(history_module, "MAX_JSONL_BYTES", 2**20)
    big = tmp_path / "big.yaml"
    big.write_text("subjects: [{id: wang, kind: person}]\nevents: []\n" + "#" * 200 + "\n")
    with pytest.raises(HistoryError, match="file is larger than") as info:
        load_history(big, vocabulary)
    assert info.value.file == str(big)
    huge = tmp_path / "huge.jsonl"
    huge.write_bytes(b"\n" * (2**20 + 1))
    with pytest.raises(HistoryError, match="file is larger than 1 MiB"):
        load_history(huge, vocabulary)


def test_jsonl_line_length_is_bounded(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "long.jsonl"
    subject = '{"record": "subject", "id": "wang", "kind": "person"}\n'
    path.write_text(subject + '{"record": "history", "description": "' + "x" * 2**20 + '"}\n')
    with pytest.raises(HistoryError, match="line is longer than 1 MiB") as info:
        load_history(path, vocabulary)
    assert info.value.line == 2


def test_empty_jsonl_is_refused(vocabulary: Vocabulary, tmp_path: Path) -> None:
    for text in ("", "\n\n", "\r\n"):
        path = tmp_path / "empty.jsonl"
        path.write_text(text)
        with pytest.raises(HistoryError, match="the history is empty") as info:
            load_history(path, vocabulary)
        assert info.value.line == 1
    path = tmp_path / "empty.yaml"
    path.write_text("# nothing here\n")
    with pytest.raises(HistoryError, match="the history is empty"):
        load_history(path, vocabulary)


def test_error_messages_quote_a_short_prefix(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "long.yaml"
    path.write_text("subjects: [{id: wang, kind: person}]\nevents:\n"
                    f"  - {{subject: wang, at: 2019-03-01, type: {'x' * 5000}}}\n")
    with pytest.raises(HistoryError, match="unknown event type") as info:
        load_history(path, vocabulary)
    assert len(str(info.value)) < 300 and "…" in str(info.value)


ACCEPTED_YAML = {
    "merge_key": (
        "subjects: [{id: wang, kind: person}]\n"
        "events:\n"
        "  - &base {id: e1, subject: wang, at: 2019-03-01, type: volunteer.service, hours: 3}\n"
        "  - <<: *base\n"
        "    id: e2\n"
        "    hours: 5\n"),
    "yaml11_ids": (
        "subjects: [{id: 010, kind: person}, {id: yes, kind: person}]\n"
        "starting: [{subject: 010, scheme: meritown_2019, score: 1000}]\n"
        "events:\n"
        "  - {id: 1:30, subject: 010, at: 2019-03-01, type: gambling}\n"
        "  - {id: 2019-03-02, subject: yes, at: 2019-03-02, type: gambling}\n"),
    "subjects_without_events": "subjects: [{id: wang, kind: person}]\nevents: []\n",
}


def test_merge_keys_are_read(vocabulary: Vocabulary, tmp_path: Path) -> None:
    """`<<: *base` merges the anchored event; keys written beside it override it."""
    path = tmp_path / "merge.yaml"
    path.write_text(ACCEPTED_YAML["merge_key"])
    history = load_history(path, vocabulary)
    assert [(e.id, e.type, dict(e.attrs), e.line) for e in history.events] == [
        ("e1", "volunteer.service", {"hours": 3}, 3),
        ("e2", "volunteer.service", {"hours": 5}, 4),
    ]


def test_ids_are_kept_as_written(vocabulary: Vocabulary, tmp_path: Path) -> None:
    """YAML 1.1 reads 010 as 8, 1:30 as 90 and yes as true; ids stay the text written."""
    path = tmp_path / "ids.yaml"
    path.write_text(ACCEPTED_YAML["yaml11_ids"])
    history = load_history(path, vocabulary)
    assert list(history.subjects) == ["010", "yes"]
    assert [(e.id, e.subject) for e in history.events] == [("1:30", "010"),
                                                          ("2019-03-02", "yes")]
    assert history.starting[0].subject == "010"


def test_subjects_without_events_are_a_history(vocabulary: Vocabulary,
                                               tmp_path: Path) -> None:
    path = tmp_path / "quiet.yaml"
    path.write_text(ACCEPTED_YAML["subjects_without_events"])
    history = load_history(path, vocabulary)
    assert list(history.subjects) == ["wang"] and history.events == ()


def test_jsonl_lines_end_at_newline_only(vocabulary: Vocabulary, tmp_path: Path) -> None:
    """U+2028, U+2029 and U+0085 are characters inside a string, not line breaks; CRLF is."""
    path = tmp_path / "separators.jsonl"
    path.write_bytes(
        b'{"record": "subject", "id": "wang", "kind": "person"}\r\n'
        + '{"id": "e\u2028\u2029\u0085", "subject": "wang", "at": "2019-03-01", '
          '"type": "gambling"}\r\n'.encode())
    history = load_history(path, vocabulary)
    assert [(e.id, e.line) for e in history.events] == [("e\u2028\u2029\u0085", 2)]


def test_dates_at_the_edges_of_the_range_load(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "edges.yaml"
    path.write_text("subjects: [{id: wang, kind: person, born: 1900-01-01}]\nevents:\n"
                    "  - {id: a, subject: wang, at: 1900-01-01T00:00:00-01:00, type: gambling}\n"
                    "  - {id: b, subject: wang, at: 2200-12-31T23:59:59+08:00, type: gambling}\n")
    history = load_history(path, vocabulary)
    assert [e.at.year for e in history.events] == [1900, 2200]


def test_long_keys_are_cut_in_the_field(vocabulary: Vocabulary, tmp_path: Path) -> None:
    key = "k" * 5000
    path = tmp_path / "key.jsonl"
    path.write_text('{"record": "subject", "id": "wang", "kind": "person"}\n'
                    f'{{"subject": "wang", "at": "2019-03-01", "type": "gambling", "{key}": 1}}\n')
    with pytest.raises(HistoryError, match="unknown attribute") as info:
        load_history(path, vocabulary)
    assert len(str(info.value)) < 400
    path = tmp_path / "key.yaml"
    path.write_text(f"subjects: []\nevents: []\n? {key}\n: 1\n")
    with pytest.raises(HistoryError, match="unknown key") as info:
        load_history(path, vocabulary)
    assert len(str(info.value)) < 400
