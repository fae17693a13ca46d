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
from creditlab.engine.inputs.history import load_history
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
