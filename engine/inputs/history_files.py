"""Histories read from YAML or JSONL files, checked against the vocabulary.

Every event is checked against the vocabulary before anything is scored: an unknown
type, a missing or mistyped attribute, an unknown subject or a duplicate id is a
`HistoryError` naming the file, the line and the field. Nothing is dropped: an event is
either in the history or the whole file is refused.

Events are kept in canonical order, by (at, id), whatever the order of the input lines.
Each record is checked by `history_records.HistoryBuilder`; mistakes are reported together.

Bounds beyond those of the reading layer (`located`): dates lie in the years
`FIRST_YEAR` to `LAST_YEAR` (so that any duration a scheme adds stays a valid date); ids
are kept as the text written (YAML 1.1 would read `id: 010` as 8); a number field refuses
YAML 1.1 octal, binary, hex and base-60 integers (`010`, `1:30`) rather than read them as
another number; a history needs a subject or an event; `as_of` may not precede every event
and a subject may not be born after its first event.
"""

from __future__ import annotations

import contextlib
import hashlib
from datetime import date, datetime
from pathlib import Path
from typing import Any

from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import (
    FIRST_YEAR,
    LAST_YEAR,
    History,
)
from creditlab.engine.inputs.history_parquet import load_parquet_history
from creditlab.engine.inputs.history_records import (
    MAX_MISTAKES,
    HistoryBuilder,
    in_range,
)
from creditlab.engine.inputs.located import (
    MAX_JSONL_BYTES,
    MAX_JSONL_LINE_BYTES,
    MAX_YAML_BYTES,
    Located,
    clip,
    decode,
    parse_json_line,
    parse_yaml,
    read_bounded,
    short,
)
from creditlab.engine.inputs.vocabulary import Vocabulary

__all__ = ["FIRST_YEAR", "LAST_YEAR", "MAX_MISTAKES", "history_record", "load_history",
           "parse_history", "read_as_of"]

_HISTORY_KEYS = ("name", "description", "as_of", "subjects", "starting", "events")


def load_history(path: str | Path, vocabulary: Vocabulary) -> History:
    """Read a history: a folder or `.parquet` file as Parquet, `.jsonl` as JSON Lines and
    anything else as YAML."""
    path = Path(path)
    if path.is_dir() or path.suffix.lower() == ".parquet":
        return load_parquet_history(path, vocabulary)
    jsonl = path.suffix.lower() == ".jsonl"
    raw = read_bounded(path, MAX_JSONL_BYTES if jsonl else MAX_YAML_BYTES, HistoryError)
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if jsonl:
        return _from_jsonl(path, raw, digest, vocabulary)
    located = parse_yaml(raw, path, HistoryError)
    return parse_history(located, digest, vocabulary)


def parse_history(located: Located, digest: str, vocabulary: Vocabulary) -> History:
    """A history from YAML data (a mapping with subjects and events)."""
    file = located.file
    data = located.data
    if data is None:
        raise HistoryError("the history is empty: it has no subjects and no events",
                           file=file, line=1)
    if not isinstance(data, dict):
        raise HistoryError("a history is a mapping with 'subjects' and 'events'", file=file,
                           line=1)
    for key in data:
        if key not in _HISTORY_KEYS:
            raise HistoryError(f"unknown key {short(key)}; a history has "
                               f"{', '.join(_HISTORY_KEYS)}",
                               file=file, line=located.line_of((key,)), field=clip(key))
    builder = HistoryBuilder(file, vocabulary)
    for key in ("name", "description"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise HistoryError("expected a string", file=file, line=located.line_of((key,)),
                               field=key)
    builder.as_of = read_as_of(data.get("as_of"), file, located.line_of(("as_of",)))
    builder.as_of_line = located.line_of(("as_of",))
    subjects = data.get("subjects")
    events = data.get("events")
    for key, value in (("subjects", subjects), ("events", events)):
        if not isinstance(value, list):
            raise HistoryError(f"'{key}' must be a list", file=file,
                               line=located.line_of((key,)), field=key)
    assert isinstance(subjects, list) and isinstance(events, list)
    for i, item in enumerate(subjects):
        builder.attempt(builder.add_subject, item, located.line_of(("subjects", i)),
                        f"subjects[{i}]",
                            lambda f, i=i: located.line_of(("subjects", i, f)),
                            lambda f, i=i: located.raw_of(("subjects", i, f)))
    starting = data.get("starting", [])
    if not isinstance(starting, list):
        raise HistoryError("'starting' must be a list", file=file,
                           line=located.line_of(("starting",)), field="starting")
    for i, item in enumerate(starting):
        builder.attempt(builder.add_starting, item, located.line_of(("starting", i)),
                        f"starting[{i}]",
                             lambda f, i=i: located.raw_of(("starting", i, f)))
    for i, item in enumerate(events):
        builder.attempt(builder.add_event, item, located.line_of(("events", i)),
                        f"events[{i}]",
                          lambda f, i=i: located.line_of(("events", i, f)),
                          lambda f, i=i: located.raw_of(("events", i, f)))
    return builder.build(data.get("name"), data.get("description"), digest)


def _from_jsonl(path: Path, raw: bytes, digest: str, vocabulary: Vocabulary) -> History:
    builder = HistoryBuilder(str(path), vocabulary)
    name = description = None
    pending: list[tuple[Any, int]] = []
    starts: list[tuple[Any, int]] = []
    # Lines end at "\n" only: U+2028 or U+0085 inside a JSON string is not a line break.
    for number, raw_line in enumerate(raw.split(b"\n"), start=1):
        if len(raw_line) > MAX_JSONL_LINE_BYTES:
            raise HistoryError(f"line is longer than {MAX_JSONL_LINE_BYTES // 2**20} MiB",
                               file=path, line=number)
        line = decode(raw_line.removesuffix(b"\r"), path, HistoryError, number)
        if not line.strip():
            continue
        item = parse_json_line(line, path, number, HistoryError)
        if not isinstance(item, dict):
            raise HistoryError("each line must be a JSON object", file=path, line=number)
        record = item.get("record")
        if record == "subject":
            builder.attempt(builder.add_subject, {k: v for k, v in item.items()
                                                  if k != "record"}, number, None,
                            lambda f, n=number: n)
        elif record == "history":
            name, description = history_record(item, builder, path, number)
        elif record is None or record == "event":
            # Subjects may follow the events that name them: check events at the end.
            pending.append(({k: v for k, v in item.items() if k != "record"}, number))
        elif record == "starting":
            starts.append(({k: v for k, v in item.items() if k != "record"}, number))
        else:
            raise HistoryError(f"unknown record kind {short(record)}; use 'subject', 'event', "
                               "'starting' or 'history'", file=path, line=number, field="record")
    for item, number in starts:
        builder.attempt(builder.add_starting, item, number, None)
    for item, number in pending:
        builder.attempt(builder.add_event, item, number, None, lambda f, n=number: n)
    return builder.build(name, description, digest)


def history_record(item: dict[str, Any], builder: HistoryBuilder, path: Path,
                   number: int) -> tuple[Any, Any]:
    """A JSONL `history` record, checked: its name and description; its `as_of` goes to
    `builder`."""
    for key, value in item.items():
        if key not in ("record", "name", "description", "as_of"):
            raise HistoryError(f"unknown key {short(key)}; a history record has name, "
                               "description, as_of", file=path, line=number, field=clip(key))
        if key in ("name", "description") and not isinstance(value, (str, type(None))):
            raise HistoryError("expected a string", file=path, line=number, field=key)
    builder.as_of = read_as_of(item.get("as_of"), str(path), number)
    builder.as_of_line = number
    return item.get("name"), item.get("description")


def read_as_of(value: Any, file: str, line: int | None) -> date | None:
    if value is None:
        return None
    day: date | None = None
    if isinstance(value, date) and not isinstance(value, datetime):
        day = value
    elif isinstance(value, str):
        with contextlib.suppress(ValueError):
            day = date.fromisoformat(value)
    if day is None:
        raise HistoryError(f"expected an ISO date, got {short(value)}", file=file, line=line,
                           field="as_of")
    try:
        return in_range(day)
    except ValueError as exc:
        raise HistoryError(str(exc), file=file, line=line, field="as_of") from None


