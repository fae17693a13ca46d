"""A history's mistakes are reported together, in file order, up to a limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import load_history, shipped_vocabulary
from creditlab.engine.errors import HistoryError, HistoryErrors
from creditlab.engine.inputs.history_files import MAX_MISTAKES

FIVE = """\
subjects:
  - {id: wang, kind: person, residence: urbn}
  - {id: li, kind: person}
events:
  - {id: e1, subject: wang, at: 2019-03-01, type: volunteer.service, hours: 30}
  - {id: e2, subject: li, at: 2019-03-02, type: volunter.service, hours: 30}
  - {id: e3, subject: li, at: yesterday, type: volunteer.service, hours: 30}
  - {id: e4, subject: zhao, at: 2019-03-02, type: volunteer.service, hours: 30}
  - {id: e5, subject: li, at: 2019-03-02, type: volunteer.service, hours: -3}
  - {id: e5, subject: li, at: 2019-03-02, type: volunteer.service, hours: 3}
"""


def _mistakes(path: Path) -> HistoryErrors:
    with pytest.raises(HistoryErrors) as caught:
        load_history(path, shipped_vocabulary())
    return caught.value


def test_every_mistake_in_file_order(tmp_path: Path) -> None:
    path = tmp_path / "five.yaml"
    path.write_text(FIVE)
    found = _mistakes(path)
    assert [(e.line, e.field) for e in found.errors] == [
        (2, "subjects[0].residence"), (6, "events[1].type"), (7, "events[2].at"),
        (8, "events[3].subject"), (9, "events[4].hours"), (10, "events[5].id")]
    assert all(e.file == str(path) for e in found.errors)
    # Still a HistoryError located at the first mistake, for callers that want one.
    assert isinstance(found, HistoryError) and (found.line, found.field) == (2,
                                                                              "subjects[0].residence")
    assert "did you mean 'volunteer.service'" in str(found)
    assert str(found).endswith("6 mistakes in the history")


def test_events_of_a_refused_subject_are_not_mistakes_of_their_own(tmp_path: Path) -> None:
    path = tmp_path / "h.yaml"
    path.write_text(FIVE)
    assert not any(e.line == 5 for e in _mistakes(path).errors)  # e1 is wang's


def test_one_mistake_is_one_plain_error(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text(FIVE.split("  - {id: e2")[0].replace("urbn", "urban")
                    .replace("hours: 30", "hours: -1"))
    with pytest.raises(HistoryError) as caught:
        load_history(path, shipped_vocabulary())
    assert type(caught.value) is HistoryError
    assert (caught.value.line, caught.value.field) == (5, "events[0].hours")


def test_reading_stops_at_the_limit(tmp_path: Path) -> None:
    lines = [json.dumps({"record": "subject", "id": "s", "kind": "person"})]
    lines += [json.dumps({"id": f"e{i}", "subject": "s", "at": "2020-01-01",
                          "type": "no.such"}) for i in range(MAX_MISTAKES + 5)]
    path = tmp_path / "many.jsonl"
    path.write_text("\n".join(lines) + "\n")
    found = _mistakes(path)
    assert len(found.errors) == MAX_MISTAKES
    assert [e.line for e in found.errors] == list(range(2, MAX_MISTAKES + 2))
    assert f"stopped after {MAX_MISTAKES} mistakes" in str(found)


def test_cli_lists_them_and_exits_1(tmp_path: Path) -> None:
    path = tmp_path / "five.yaml"
    path.write_text(FIVE)
    run = CliRunner().invoke(cli, ["replay", str(path), "--scheme", "meritown_2019"])
    assert run.exit_code == 1
    assert "Traceback" not in run.output
    for line in (2, 6, 7, 8, 9, 10):
        assert f"five.yaml:{line}:" in run.output
