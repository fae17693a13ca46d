"""A JSONL history indexed in one bounded pass, then read a partition of subjects at a time.

`load_history` holds a whole history as records: a city's million events do not fit in
memory that way. `index_jsonl` reads the file line by line and checks every record exactly
as `load_history` does (the same errors, naming the same file, line and field), but keeps
only what is small: the subjects, the starting points, the history's name, `as_of`, end
and sha256, and for each event line its byte offset and its subject's code. Event ids are
kept as 8-byte hashes (Python's `hash`, compared within the one process); only ids whose
hashes repeat are compared as text, so a duplicate is reported as `load_history` reports
it (with the line of the first).

`JsonlIndex.partition` reads back the events of a slice of the subjects (sorted by id),
by offset, as a `History` with the whole history's end and sha256: a subject's standing
depends only on its own events, so replaying the partition gives the same results,
ledger and subject digests for its subjects as replaying the whole history.

Events are checked in one pass when every event follows its subject and nothing is wrong
(the usual file). Otherwise the events are checked again, in file order, exactly as
`load_history` checks them, so that its mistakes are reported the same way.
"""

from __future__ import annotations

import hashlib
import io
import stat
from array import array
from collections.abc import Callable, Iterator
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import numpy as np

from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import Event, History
from creditlab.engine.inputs.history_files import history_record
from creditlab.engine.inputs.history_records import HistoryBuilder, SkipRecord, event_id_text
from creditlab.engine.inputs.located import (
    MAX_JSONL_BYTES,
    MAX_JSONL_LINE_BYTES,
    decode,
    parse_json_line,
    read_bounded,
    short,
    size_text,
)
from creditlab.engine.inputs.vocabulary import Vocabulary

__all__ = ["DEFAULT_SUBJECTS_PER_PARTITION", "JsonlIndex", "index_jsonl"]

DEFAULT_SUBJECTS_PER_PARTITION = 500
"""Subjects per partition when none is given: with twenty events each, about 10,000
events and their ledger in memory at a time."""


class _UnkeptIds(dict[str, int | None]):
    """Event ids a builder checks without keeping: their hashes are compared instead."""

    def __setitem__(self, key: str, value: int | None) -> None:
        pass


class _SuspectIds(dict[str, int | None]):
    """Keeps only the ids whose hashes repeat in the file: an id whose hash is unique
    cannot be a duplicate, so the builder's duplicate check stays exact."""

    def __init__(self, suspects: set[int]) -> None:
        super().__init__()
        self.suspects = suspects

    def __setitem__(self, key: str, value: int | None) -> None:
        if hash(key) in self.suspects:
            super().__setitem__(key, value)


class _Source:
    """The file's bytes, read again by offset: the file itself, or (for a pipe or a
    device, which cannot be read twice) the bytes kept from the first read."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.kept: bytes | None = None
        self.signature: tuple[int, int] | None = None
        try:
            info = path.stat()
        except OSError as exc:
            raise HistoryError(f"cannot read file: {exc.strerror or exc}", file=path) from None
        if stat.S_ISREG(info.st_mode):
            if info.st_size > MAX_JSONL_BYTES:  # as read_bounded refuses it, before any line
                raise _too_large(path)
            self.signature = (info.st_size, info.st_mtime_ns)
        else:
            self.kept = read_bounded(path, MAX_JSONL_BYTES, HistoryError)

    def open(self) -> IO[bytes]:
        if self.kept is not None:
            return io.BytesIO(self.kept)
        try:
            return self.path.open("rb")
        except OSError as exc:
            raise HistoryError(f"cannot read file: {exc.strerror or exc}",
                               file=self.path) from None

    def check_unchanged(self) -> None:
        """The file is the one indexed: offsets into another file would read other events."""
        if self.signature is None:
            return
        try:
            info = self.path.stat()
        except OSError as exc:
            raise HistoryError(f"cannot read file: {exc.strerror or exc}",
                               file=self.path) from None
        if (info.st_size, info.st_mtime_ns) != self.signature:
            raise HistoryError("the file changed while it was replayed; replay it again",
                               file=self.path)


def _too_large(path: Path) -> HistoryError:
    """`read_bounded`'s refusal, without reading the file."""
    return HistoryError(f"file is larger than {size_text(MAX_JSONL_BYTES)}; creditlab reads at "
                        "most that much", file=path)


def _lines(stream: IO[bytes], path: Path) -> Iterator[tuple[int, int, bytes, bytes]]:
    """(line number, byte offset, the line without its end, the bytes read), line by line.

    Lines end at "\\n" only, as `load_history` splits them; at most
    `MAX_JSONL_LINE_BYTES` + 1 bytes are read at a time, so a line without end is refused
    without being held."""
    number = offset = 0
    total = 0
    while True:
        try:
            chunk = stream.readline(MAX_JSONL_LINE_BYTES + 1)
        except OSError as exc:
            raise HistoryError(f"cannot read file: {exc.strerror or exc}", file=path) from None
        if not chunk:
            return
        number += 1
        total += len(chunk)
        if total > MAX_JSONL_BYTES:  # the file grew since it was measured
            raise _too_large(path)
        raw_line = chunk[:-1] if chunk.endswith(b"\n") else chunk
        if len(raw_line) > MAX_JSONL_LINE_BYTES:
            raise HistoryError(f"line is longer than {MAX_JSONL_LINE_BYTES // 2**20} MiB",
                               file=path, line=number)
        yield number, offset, raw_line, chunk
        offset += len(chunk)


def _record(raw_line: bytes, path: Path, number: int) -> dict[str, Any] | None:
    """A line as a JSON object (None for a blank line), refused as `load_history` does."""
    line = decode(raw_line.removesuffix(b"\r"), path, HistoryError, number)
    if not line.strip():
        return None
    item = parse_json_line(line, path, number, HistoryError)
    if not isinstance(item, dict):
        raise HistoryError("each line must be a JSON object", file=path, line=number)
    return item


def _fields(item: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in item.items() if k != "record"}


def _line_of(number: int) -> Callable[..., int | None]:
    return lambda f: number


class _Events:
    """What the index keeps of the checked events: each one's subject code, each subject's
    first event and the last event's time."""

    def __init__(self) -> None:
        self.code_of: dict[str, int] = {}
        self.codes: array[int] = array("i")
        self.first: dict[str, Event] = {}
        self.last: datetime | None = None

    def add(self, event: Event) -> None:
        code = self.code_of.setdefault(event.subject, len(self.code_of))
        self.codes.append(code)
        first = self.first.get(event.subject)
        if first is None or event.order_key < first.order_key:
            self.first[event.subject] = event
        if self.last is None or event.at > self.last:
            self.last = event.at


class JsonlIndex:
    """A checked JSONL history: its subjects and where each event's line is.

    `header` is the history without its events (subjects, starting points, name, `as_of`,
    sha256); `end` is the day final states are evaluated at (`History.end` of the whole
    history). `offsets[i]`, `lines[i]` and `codes[i]` are the byte offset, line number
    and subject code (an index into `subject_ids`) of the i-th event line of the file.
    """

    def __init__(self, source: _Source, vocabulary: Vocabulary, header: History,
                 end: date | None, subject_ids: tuple[str, ...], offsets: np.ndarray,
                 lines: np.ndarray, codes: np.ndarray) -> None:
        self._source = source
        self.vocabulary = vocabulary
        self.header = header
        self.end = end
        self.subject_ids = subject_ids
        self.offsets = offsets
        self.lines = lines
        self.codes = codes
        self._grouped: tuple[np.ndarray, np.ndarray, list[str]] | None = None

    @property
    def path(self) -> Path:
        return self._source.path

    @property
    def events(self) -> int:
        """The number of events in the history."""
        return len(self.offsets)

    def partition_count(self, subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION
                        ) -> int:
        """How many partitions of at most `subjects_per_partition` subjects there are."""
        _check_size(subjects_per_partition)
        return -(-len(self.subject_ids) // subjects_per_partition)

    def partition_subjects(self, index: int,
                           subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION
                           ) -> list[str]:
        """The ids of partition `index`'s subjects: a slice of all ids in code-point order."""
        _check_size(subjects_per_partition)
        _, _, ordered = self._groups()
        return ordered[index * subjects_per_partition:(index + 1) * subjects_per_partition]

    def partition(self, index: int,
                  subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION) -> History:
        """Partition `index`: its subjects and only their events, in (at, id) order, with
        the whole history's end as `as_of` and its sha256, so that replaying it gives the
        same results for these subjects as replaying the whole history."""
        count = self.partition_count(subjects_per_partition)
        if not 0 <= index < count:
            raise IndexError(f"partition {index} of {count}")
        order, starts, ordered = self._groups()
        low = index * subjects_per_partition
        high = min(low + subjects_per_partition, len(ordered))
        chosen = np.sort(order[starts[low]:starts[high]])
        header = self.header
        builder = HistoryBuilder(header.file, self.vocabulary)
        builder.subjects = dict(header.subjects)
        builder.event_ids = _UnkeptIds()
        self._source.check_unchanged()
        path = self.path
        with self._source.open() as stream:
            for position in chosen.tolist():
                stream.seek(int(self.offsets[position]))
                number = int(self.lines[position])
                raw_line = stream.readline(MAX_JSONL_LINE_BYTES + 1).removesuffix(b"\n")
                item = _record(raw_line, path, number)
                if item is None:
                    raise HistoryError("the file changed while it was replayed; replay it "
                                       "again", file=path, line=number)
                builder.position = position  # so an event without id gets its `#n` again
                builder.add_event(_fields(item), number, None, _line_of(number))
        ids = set(ordered[low:high])
        return History(
            name=header.name, description=header.description, as_of=self.end,
            subjects={sid: header.subjects[sid] for sid in ordered[low:high]},
            starting=tuple(p for p in header.starting if p.subject in ids),
            events=tuple(sorted(builder.events, key=lambda e: e.order_key)),
            file=header.file, sha256=header.sha256, vocabulary=header.vocabulary)

    def _groups(self) -> tuple[np.ndarray, np.ndarray, list[str]]:
        """Event positions grouped by subject in id order, where each subject's start, and
        the ids in that order: computed once, 8 bytes an event."""
        if self._grouped is None:
            ordered = sorted(self.subject_ids)
            position_of = {sid: k for k, sid in enumerate(ordered)}
            rank = np.array([position_of[s] for s in self.subject_ids], dtype=np.int64)
            ranks = rank[self.codes] if len(self.codes) else np.zeros(0, dtype=np.int64)
            order = np.argsort(ranks, kind="stable")
            starts = np.searchsorted(ranks[order], np.arange(len(ordered) + 1))
            self._grouped = (order, starts, ordered)
        return self._grouped


def _check_size(subjects_per_partition: int) -> None:
    if subjects_per_partition < 1:
        raise ValueError("a partition holds at least one subject")


def index_jsonl(path: str | Path, vocabulary: Vocabulary) -> JsonlIndex:
    """Check a JSONL history as `load_history` does, keeping only its index.

    One pass over the file, a line at a time; the events are read a second time only when
    the file has a mistake or an event before its subject's record, so that the mistakes
    are those `load_history` reports, in the same order.
    """
    path = Path(path)
    source = _Source(path)
    builder = HistoryBuilder(str(path), vocabulary)
    checker = HistoryBuilder(str(path), vocabulary)
    checker.subjects = builder.subjects
    checker.broken = builder.broken
    checker.event_ids = _UnkeptIds()
    sha = hashlib.sha256()
    name = description = None
    starts: list[tuple[Any, int]] = []
    offsets: array[int] = array("q")
    lines: array[int] = array("q")
    hashes: array[int] = array("q")
    events = _Events()
    at_once = True  # every event checked as it came: no second reading needed
    with source.open() as stream:
        for number, offset, raw_line, chunk in _lines(stream, path):
            sha.update(chunk)
            item = _record(raw_line, path, number)
            if item is None:
                continue
            record = item.get("record")
            if record == "subject":
                builder.attempt(builder.add_subject, _fields(item), number, None,
                                _line_of(number))
            elif record == "history":
                name, description = history_record(item, builder, path, number)
            elif record is None or record == "event":
                fields = _fields(item)
                position = len(offsets)
                offsets.append(offset)
                lines.append(number)
                eid = event_id_text(fields.get("id", f"#{position + 1}"), None)
                hashes.append(hash(eid) if isinstance(eid, str) else 0)
                if at_once:
                    at_once = _check_at_once(checker, fields, number, position, events)
            elif record == "starting":
                starts.append((_fields(item), number))
            else:
                raise HistoryError(f"unknown record kind {short(record)}; use 'subject', "
                                   "'event', 'starting' or 'history'", file=path, line=number,
                                   field="record")
    for item, number in starts:
        builder.attempt(builder.add_starting, item, number, None)
    suspects = _repeated(np.frombuffer(hashes, dtype=np.int64) if hashes
                         else np.zeros(0, dtype=np.int64))
    del hashes
    if not at_once or suspects:
        events = _check_again(builder, source, path, offsets, lines, suspects)
    digest = "sha256:" + sha.hexdigest()
    builder.events = sorted(events.first.values(), key=lambda e: e.order_key)
    # build() refuses the mistakes, an empty history, an `as_of` before every event and a
    # subject born after its first event: each subject's first event is all it needs.
    built = builder.build(name, description, digest)
    header = built.model_copy(update={"events": ()})
    end = header.as_of if header.as_of is not None else (
        events.last.date() if events.last is not None else None)
    subject_ids = tuple(events.code_of) + tuple(s for s in header.subjects
                                                if s not in events.code_of)
    return JsonlIndex(source, vocabulary, header, end, subject_ids,
                       np.frombuffer(offsets, dtype=np.int64),
                       np.frombuffer(lines, dtype=np.int64),
                       np.frombuffer(events.codes, dtype=np.int32) if events.codes
                       else np.zeros(0, dtype=np.int32))


def _check_at_once(checker: HistoryBuilder, fields: dict[str, Any], number: int,
                   position: int, events: _Events) -> bool:
    """Check an event as it comes; False when it cannot be (its subject is not yet read,
    or was refused) or is wrong: the events are then checked again at the end."""
    subject = event_id_text(fields.get("subject"), None)
    if (not isinstance(subject, str) or subject not in checker.subjects
            or subject in checker.broken):
        return False
    checker.position = position
    try:
        checker.add_event(fields, number, None, _line_of(number))
    except (HistoryError, SkipRecord):
        return False
    events.add(checker.events.pop())
    return True


def _repeated(hashes: np.ndarray) -> set[int]:
    """The hashes that occur more than once."""
    ordered = np.sort(hashes)
    same = ordered[1:] == ordered[:-1]
    return {int(h) for h in ordered[1:][same]}


def _check_again(builder: HistoryBuilder, source: _Source, path: Path, offsets: array[int],
                 lines: array[int], suspects: set[int]) -> _Events:
    """Every event checked in file order after the subjects and starting points, exactly
    as `load_history` checks them (its mistakes, its duplicate ids)."""
    events = _Events()
    builder.event_ids = _SuspectIds(suspects)
    builder.position = 0
    with source.open() as stream:
        for position, offset in enumerate(offsets):
            stream.seek(offset)
            number = lines[position]
            raw_line = stream.readline(MAX_JSONL_LINE_BYTES + 1).removesuffix(b"\n")
            item = _record(raw_line, path, number)
            assert item is not None
            builder.attempt(builder.add_event, _fields(item), number, None, _line_of(number))
            if builder.events:
                events.add(builder.events.pop())
    return events
