"""Histories: subjects and the events that happened to them, read from YAML or JSONL.

Every event is checked against the vocabulary before anything is scored: an unknown
type, a missing or mistyped attribute, an unknown subject or a duplicate id is a
`HistoryError` naming the file, the line and the field. Nothing is dropped: an event is
either in the history or the whole file is refused.

Events are kept in canonical order, by (at, id), whatever the order of the input lines.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, Literal

from creditlab.engine.errors import HistoryError, did_you_mean
from creditlab.engine.inputs.located import Located, load_yaml, parse_json_line
from creditlab.engine.inputs.vocabulary import AttrValue, Vocabulary, check_attr
from creditlab.engine.model import Exact, Model

__all__ = ["Event", "History", "StartingPoint", "Subject", "load_history", "parse_history"]

_EVENT_FIELDS = ("id", "subject", "at", "type")
_SUBJECT_FIELDS = ("id", "kind", "born", "residence", "hukou", "roles")
_HISTORY_KEYS = ("name", "description", "as_of", "subjects", "starting", "events")
_STARTING_FIELDS = ("subject", "scheme", "score", "grade")


class Subject(Model):
    """A person or an enterprise whose events are replayed."""

    id: str
    kind: Literal["person", "enterprise"]
    born: date | None = None
    residence: Literal["urban", "rural"] | None = None
    hukou: Literal["local", "non_local"] | None = None
    roles: tuple[str, ...] = ()

    def age_on(self, day: date) -> int | None:
        """Age in whole years on `day`, or None when `born` is not known."""
        if self.born is None:
            return None
        years = day.year - self.born.year
        if (day.month, day.day) < (self.born.month, self.born.day):
            years -= 1
        return years


class Event(Model):
    """One thing that happened to one subject, on one date, of one vocabulary type."""

    id: str
    subject: str
    at: datetime
    type: str
    attrs: Mapping[str, AttrValue]
    line: int | None = None

    @property
    def day(self) -> date:
        return self.at.date()

    @property
    def order_key(self) -> tuple[datetime, str]:
        return (self.at, self.id)


class StartingPoint(Model):
    """Where a subject stands in one scheme before the history's first event.

    Given by the history, not by a source: "suppose this person is AAA". `score` replaces
    the scheme's start; `grade` is shown while the score gives no band (the scheme documents
    no thresholds) and until a reclassification replaces it. Checked against the scheme
    when it is replayed.
    """

    subject: str
    scheme: str
    score: Exact | None = None
    grade: str | None = None
    line: int | None = None


class History(Model):
    """A validated history: subjects by id and events in canonical (at, id) order."""

    name: str | None
    description: str | None
    as_of: date | None
    subjects: Mapping[str, Subject]
    starting: tuple[StartingPoint, ...] = ()
    events: tuple[Event, ...]
    file: str
    sha256: str
    vocabulary: str = ""
    """`sha256:<hex>` of the vocabulary the history was validated against."""

    @property
    def end(self) -> date | None:
        """The date final states are evaluated at: `as_of`, else the last event's day."""
        if self.as_of is not None:
            return self.as_of
        return self.events[-1].day if self.events else None

    def events_of(self, subject: str) -> Iterator[Event]:
        return (e for e in self.events if e.subject == subject)


def load_history(path: str | Path, vocabulary: Vocabulary) -> History:
    """Read a history file, `.jsonl` as JSON Lines and anything else as YAML."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise HistoryError(f"cannot read file: {exc.strerror or exc}", file=path) from None
    digest = "sha256:" + hashlib.sha256(raw).hexdigest()
    if path.suffix.lower() == ".jsonl":
        return _from_jsonl(path, raw, digest, vocabulary)
    located = load_yaml(path, HistoryError)
    return parse_history(located, digest, vocabulary)


def parse_history(located: Located, digest: str, vocabulary: Vocabulary) -> History:
    """A history from YAML data (a mapping with subjects and events)."""
    file = located.file
    data = located.data
    if not isinstance(data, dict):
        raise HistoryError("a history is a mapping with 'subjects' and 'events'", file=file,
                           line=1)
    for key in data:
        if key not in _HISTORY_KEYS:
            raise HistoryError(f"unknown key {key!r}; a history has {', '.join(_HISTORY_KEYS)}",
                               file=file, line=located.line_of((key,)), field=key)
    builder = _Builder(file, vocabulary)
    for key in ("name", "description"):
        if data.get(key) is not None and not isinstance(data[key], str):
            raise HistoryError("expected a string", file=file, line=located.line_of((key,)),
                               field=key)
    builder.as_of = _as_of(data.get("as_of"), file, located.line_of(("as_of",)))
    subjects = data.get("subjects")
    events = data.get("events")
    for key, value in (("subjects", subjects), ("events", events)):
        if not isinstance(value, list):
            raise HistoryError(f"'{key}' must be a list", file=file,
                               line=located.line_of((key,)), field=key)
    assert isinstance(subjects, list) and isinstance(events, list)
    for i, item in enumerate(subjects):
        builder.add_subject(item, located.line_of(("subjects", i)), f"subjects[{i}]",
                            lambda f, i=i: located.line_of(("subjects", i, f)))
    starting = data.get("starting", [])
    if not isinstance(starting, list):
        raise HistoryError("'starting' must be a list", file=file,
                           line=located.line_of(("starting",)), field="starting")
    for i, item in enumerate(starting):
        builder.add_starting(item, located.line_of(("starting", i)), f"starting[{i}]")
    for i, item in enumerate(events):
        builder.add_event(item, located.line_of(("events", i)), f"events[{i}]",
                          lambda f, i=i: located.line_of(("events", i, f)))
    return builder.build(data.get("name"), data.get("description"), digest)


def _from_jsonl(path: Path, raw: bytes, digest: str, vocabulary: Vocabulary) -> History:
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise HistoryError(f"not UTF-8 text ({exc.reason} at byte {exc.start})",
                           file=path) from None
    builder = _Builder(str(path), vocabulary)
    name = description = None
    pending: list[tuple[Any, int]] = []
    starts: list[tuple[Any, int]] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        item = parse_json_line(line, path, number, HistoryError)
        if not isinstance(item, dict):
            raise HistoryError("each line must be a JSON object", file=path, line=number)
        record = item.get("record")
        if record == "subject":
            builder.add_subject({k: v for k, v in item.items() if k != "record"}, number, None,
                                lambda f, n=number: n)
        elif record == "history":
            for key, value in item.items():
                if key not in ("record", "name", "description", "as_of"):
                    raise HistoryError(f"unknown key {key!r}; a history record has name, "
                                       "description, as_of", file=path, line=number, field=key)
                if key in ("name", "description") and not isinstance(value, (str, type(None))):
                    raise HistoryError("expected a string", file=path, line=number, field=key)
            name, description = item.get("name"), item.get("description")
            builder.as_of = _as_of(item.get("as_of"), str(path), number)
        elif record is None or record == "event":
            # Subjects may follow the events that name them: check events at the end.
            pending.append(({k: v for k, v in item.items() if k != "record"}, number))
        elif record == "starting":
            starts.append(({k: v for k, v in item.items() if k != "record"}, number))
        else:
            raise HistoryError(f"unknown record kind {record!r}; use 'subject', 'event', "
                               "'starting' or 'history'", file=path, line=number, field="record")
    for item, number in starts:
        builder.add_starting(item, number, None)
    for item, number in pending:
        builder.add_event(item, number, None, lambda f, n=number: n)
    return builder.build(name, description, digest)


def _as_of(value: Any, file: str, line: int | None) -> date | None:
    if value is None:
        return None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value)
        except ValueError:
            pass
    raise HistoryError(f"expected an ISO date, got {value!r}", file=file, line=line,
                       field="as_of")


def _at(value: Any) -> datetime:
    """An event time as naive UTC: a date is its midnight; an aware time is converted."""
    moment: object = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value) if "T" in value or " " in value \
                else date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO date or date-time, got {value!r}") from None
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    if isinstance(moment, date):
        return datetime(moment.year, moment.month, moment.day)
    raise ValueError(f"expected an ISO date or date-time, got {value!r}")


class _Builder:
    """Collects subjects and events, checking each as it comes."""

    def __init__(self, file: str, vocabulary: Vocabulary) -> None:
        self.file = file
        self.vocabulary = vocabulary
        self.subjects: dict[str, Subject] = {}
        self.starting: list[StartingPoint] = []
        self.events: list[Event] = []
        self.event_ids: dict[str, int | None] = {}
        self.as_of: date | None = None
        self.position = 0

    def error(self, reason: str, line: int | None, field: str | None) -> HistoryError:
        return HistoryError(reason, file=self.file, line=line, field=field)

    def add_subject(self, item: Any, line: int | None, where: str | None,
                    line_of: Any) -> None:
        def fld(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(item, dict):
            raise self.error("a subject is a mapping with at least id and kind", line, where)
        for key in item:
            if key not in _SUBJECT_FIELDS:
                raise self.error(f"unknown subject field {key!r}; a subject has "
                                 f"{', '.join(_SUBJECT_FIELDS)}", line_of(key), fld(key))
        sid = item.get("id")
        if isinstance(sid, int) and not isinstance(sid, bool):
            sid = str(sid)
        if not isinstance(sid, str) or not sid:
            raise self.error("a subject needs an 'id' (a string)", line_of("id"), fld("id"))
        if sid in self.subjects:
            raise self.error(f"duplicate subject id {sid!r}", line_of("id"), fld("id"))
        fields: dict[str, Any] = {"id": sid}
        for name, spec in self.vocabulary.subject.items():
            if name == "id":
                continue
            value = item.get(name)
            if value is None:
                if spec.required:
                    raise self.error(f"missing required subject field {name!r}", line, fld(name))
                continue
            if spec.kind == "list[role]":
                if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
                    raise self.error("expected a list of roles", line_of(name), fld(name))
                for role in value:
                    if role not in self.vocabulary.roles:
                        raise self.error(f"unknown role {role!r}"
                                         f"{did_you_mean(role, self.vocabulary.roles)}",
                                         line_of(name), fld(name))
                fields[name] = tuple(sorted(set(value)))
                continue
            try:
                fields[name] = check_attr(spec, value)
            except ValueError as exc:
                raise self.error(str(exc), line_of(name), fld(name)) from None
        self.subjects[sid] = Subject(**fields)

    def add_starting(self, item: Any, line: int | None, where: str | None) -> None:
        def fld(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(item, dict):
            raise self.error("a starting point is a mapping with subject, scheme and a score "
                             "or grade", line, where)
        for key in item:
            if key not in _STARTING_FIELDS:
                raise self.error(f"unknown key {key!r}; a starting point has "
                                 f"{', '.join(_STARTING_FIELDS)}", line, fld(key))
        subject, scheme = item.get("subject"), item.get("scheme")
        if subject not in self.subjects:
            raise self.error(f"unknown subject {subject!r}"
                             f"{did_you_mean(str(subject), self.subjects)}", line, fld("subject"))
        if not isinstance(scheme, str) or not scheme:
            raise self.error("'scheme' must be a scheme id", line, fld("scheme"))
        if any(s.subject == subject and s.scheme == scheme for s in self.starting):
            raise self.error(f"a second starting point for {subject} in {scheme}", line,
                             fld("scheme"))
        score, grade = item.get("score"), item.get("grade")
        if score is None and grade is None:
            raise self.error("give a 'score', a 'grade' or both", line, where)
        if score is not None and (isinstance(score, bool)
                                  or not isinstance(score, (int, Decimal))):
            raise self.error(f"expected a number, got {score!r}", line, fld("score"))
        if grade is not None and not isinstance(grade, str):
            raise self.error(f"expected a grade label, got {grade!r}", line, fld("grade"))
        self.starting.append(StartingPoint(subject=subject, scheme=scheme,
                                           score=None if score is None else Decimal(score),
                                           grade=grade, line=line))

    def add_event(self, item: Any, line: int | None, where: str | None,
                  line_of: Any) -> None:
        self.position += 1

        def fld(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(item, dict):
            raise self.error("an event is a mapping with subject, at and type", line, where)
        eid = item.get("id", f"#{self.position}")
        if isinstance(eid, int) and not isinstance(eid, bool):
            eid = str(eid)
        if not isinstance(eid, str) or not eid:
            raise self.error("an event 'id' must be a non-empty string", line_of("id"), fld("id"))
        if eid in self.event_ids:
            first = self.event_ids[eid]
            raise self.error(f"duplicate event id {eid!r}"
                             + (f" (first at line {first})" if first else ""),
                             line_of("id"), fld("id"))
        self.event_ids[eid] = line
        for key in ("subject", "at", "type"):
            if key not in item:
                raise self.error(f"missing required field {key!r}", line, fld(key))
        subject = item["subject"]
        if isinstance(subject, int) and not isinstance(subject, bool):
            subject = str(subject)
        if subject not in self.subjects:
            raise self.error(f"unknown subject {subject!r}"
                             f"{did_you_mean(str(subject), self.subjects)}; "
                             + ("declare it under 'subjects'" if where else
                                'declare it on a {"record": "subject"} line'),
                             line_of("subject"), fld("subject"))
        try:
            at = _at(item["at"])
        except ValueError as exc:
            raise self.error(str(exc), line_of("at"), fld("at")) from None
        etype = item["type"]
        spec = self.vocabulary.event(etype) if isinstance(etype, str) else None
        if spec is None:
            raise self.error(f"unknown event type {etype!r}"
                             f"{did_you_mean(str(etype), self.vocabulary.events)}",
                             line_of("type"), fld("type"))
        attrs: dict[str, AttrValue] = {}
        for key, value in item.items():
            if key in _EVENT_FIELDS:
                continue
            attr = spec.attrs.get(key)
            if attr is None:
                known = ", ".join(spec.attrs) or "none"
                raise self.error(f"unknown attribute {key!r} for {etype}"
                                 f"{did_you_mean(key, spec.attrs)}; its attributes: {known}",
                                 line_of(key), fld(key))
            if value is None:
                continue
            try:
                attrs[key] = check_attr(attr, value)
            except ValueError as exc:
                raise self.error(str(exc), line_of(key), fld(key)) from None
        for name, attr in spec.attrs.items():
            if attr.required and name not in attrs:
                raise self.error(f"missing required attribute {name!r} for {etype}", line,
                                 fld(name))
        self.events.append(Event(id=eid, subject=subject, at=at, type=etype, attrs=attrs,
                                 line=line))

    def build(self, name: Any, description: Any, digest: str) -> History:
        for key, value in (("name", name), ("description", description)):
            if value is not None and not isinstance(value, str):
                raise self.error("expected a string", None, key)
        events = tuple(sorted(self.events, key=lambda e: e.order_key))
        return History(name=name, description=description, as_of=self.as_of,
                       subjects=self.subjects, starting=tuple(self.starting), events=events,
                       file=self.file, sha256=digest, vocabulary=self.vocabulary.sha256)

