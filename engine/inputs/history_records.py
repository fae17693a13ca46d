"""A history's subjects, starting points and events checked one record at a time.

`HistoryBuilder` takes each record as the reader finds it (a YAML item or a JSONL line),
with its line and field path, checks it against the vocabulary and creditlab's bounds, and
keeps a mistake and goes on (up to `MAX_MISTAKES`), so that one run reports them together.
The readers are in `history_files`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any, TypeVar

from creditlab.engine.errors import HistoryError, HistoryErrors, did_you_mean
from creditlab.engine.inputs.history import (
    FIRST_YEAR,
    LAST_YEAR,
    Event,
    History,
    StartingPoint,
    Subject,
)
from creditlab.engine.inputs.located import (
    clip,
    short,
)
from creditlab.engine.inputs.vocabulary import AttrSpec, AttrValue, Vocabulary, check_attr

__all__ = [
    "MAX_MISTAKES",
    "HistoryBuilder",
    "LineOf",
    "RawOf",
    "SkipRecord",
    "event_id_text",
    "in_range",
    "no_raw",
    "reason_of",
]


_EVENT_FIELDS = ("id", "subject", "at", "type")


_SUBJECT_FIELDS = ("id", "kind", "born", "residence", "hukou", "roles")


_STARTING_FIELDS = ("subject", "scheme", "score", "grade")


MAX_MISTAKES = 20
"""A history's mistakes are reported together, in file order, up to this many."""


# An integer as YAML 1.2 and JSON write it; YAML 1.1 also reads 010 (octal), 0b10, 0x10
# and 1:30 (base 60) as integers, which a number field refuses rather than misread.
_DECIMAL_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*)$")


LineOf = Callable[..., int | None]


RawOf = Callable[..., str | None]


def no_raw(name: str) -> str | None:
    return None


_Day = TypeVar("_Day", bound=date)


def in_range(day: _Day) -> _Day:
    """`day` (a date or date-time) when its year is one creditlab replays; else ValueError."""
    if not FIRST_YEAR <= day.year <= LAST_YEAR:
        raise ValueError(f"date {day.isoformat()} is outside the years {FIRST_YEAR} to "
                         f"{LAST_YEAR} that creditlab replays")
    return day


def reason_of(exc: Exception) -> str:
    """A check's message, cut short: it may quote a whole bad value."""
    text = str(exc)
    return text if len(text) <= 200 else text[:200] + "…"


def _at(value: Any) -> datetime:
    """An event time as naive UTC: a date is its midnight; an aware time is converted."""
    moment: object = value
    if isinstance(value, str):
        try:
            moment = datetime.fromisoformat(value) if "T" in value or " " in value \
                else date.fromisoformat(value)
        except ValueError:
            raise ValueError(f"expected an ISO date or date-time, got {short(value)}") from None
    if isinstance(moment, date):
        in_range(moment)  # before converting to UTC, which overflows at year 1 or 9999
    if isinstance(moment, datetime):
        if moment.tzinfo is not None:
            return moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    if isinstance(moment, date):
        return datetime(moment.year, moment.month, moment.day)
    raise ValueError(f"expected an ISO date or date-time, got {short(value)}")


def event_id_text(value: Any, raw: str | None) -> Any:
    """An id as written: YAML's reading of `010`, `1:30`, `yes` or a date gives way to its text."""
    if isinstance(value, str) or value is None:
        return value
    if raw is not None:
        return raw
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)  # a JSON number
    return value


class SkipRecord(Exception):
    """An event of a subject that was refused: not a mistake of its own."""


class HistoryBuilder:
    """Collects subjects and events, checking each as it comes."""

    def __init__(self, file: str, vocabulary: Vocabulary) -> None:
        self.file = file
        self.vocabulary = vocabulary
        self.subjects: dict[str, Subject] = {}
        self.born_at: dict[str, tuple[int | None, str]] = {}
        self.starting: list[StartingPoint] = []
        self.events: list[Event] = []
        self.event_ids: dict[str, int | None] = {}
        self.as_of: date | None = None
        self.as_of_line: int | None = None
        self.position = 0
        self.mistakes: list[HistoryError] = []
        self.broken: set[str] = set()
        """Ids of subjects refused: an event naming one is not a second mistake."""

    def attempt(self, add: Callable[..., None], *args: Any) -> None:
        """Add a subject, starting point or event; a mistake is kept and reading goes on
        (up to `MAX_MISTAKES`), so one run reports them together."""
        try:
            add(*args)
        except SkipRecord:
            pass
        except HistoryError as exc:
            self.mistakes.append(exc)
            if len(self.mistakes) >= MAX_MISTAKES:
                raise self.refusal() from None

    def refusal(self) -> HistoryError:
        """The history's mistakes, in file order: one error, or all of them together."""
        mistakes = sorted(self.mistakes, key=lambda e: (e.line is None, e.line or 0))
        if len(mistakes) == 1:
            return mistakes[0]
        return HistoryErrors(mistakes, limit=MAX_MISTAKES)

    def error(self, reason: str, line: int | None, field: str | None) -> HistoryError:
        return HistoryError(reason, file=self.file, line=line, field=clip(field))

    def check_value(self, spec: AttrSpec, value: Any, raw: str | None, line: int | None,
                    field: str) -> AttrValue:
        """An attribute or subject field checked against its type and creditlab's bounds."""
        if spec.kind in ("int", "number"):
            self.check_written_int(value, raw, line, field)
        if isinstance(value, (dict, list)):
            raise self.error(f"expected a single {spec.type} value, got a "
                             f"{'mapping' if isinstance(value, dict) else 'list'}", line, field)
        try:
            checked = check_attr(spec, value)
            if isinstance(checked, date):
                in_range(checked)
        except ValueError as exc:
            raise self.error(reason_of(exc), line, field) from None
        return checked

    def check_written_int(self, value: Any, raw: str | None, line: int | None,
                          field: str) -> None:
        """Refuse an integer YAML 1.1 read from octal, binary, hex or base 60 (`010` is 8)."""
        if (raw is not None and isinstance(value, int) and not isinstance(value, bool)
                and not _DECIMAL_INT.match(raw)):
            raise self.error(f"{short(raw)} is not a decimal integer (YAML 1.1 reads it as "
                             f"{value}: octal, binary, hex or base 60); write it in decimal "
                             "without leading zeros", line, field)

    def add_subject(self, item: Any, line: int | None, where: str | None,
                    line_of: LineOf, raw_of: RawOf = no_raw) -> None:
        def fld(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(item, dict):
            raise self.error("a subject is a mapping with at least id and kind", line, where)
        if isinstance(item.get("id"), str):
            self.broken.add(item["id"])  # until the subject is added, below
        for key in item:
            if key not in _SUBJECT_FIELDS:
                raise self.error(f"unknown subject field {short(key)}; a subject has "
                                 f"{', '.join(_SUBJECT_FIELDS)}", line_of(key), fld(key))
        sid = event_id_text(item.get("id"), raw_of("id"))
        if not isinstance(sid, str) or not sid:
            raise self.error("a subject needs an 'id' (a string)", line_of("id"), fld("id"))
        if sid in self.subjects:
            raise self.error(f"duplicate subject id {short(sid)}", line_of("id"), fld("id"))
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
                        raise self.error(f"unknown role {short(role)}"
                                         f"{did_you_mean(role, self.vocabulary.roles)}",
                                         line_of(name), fld(name))
                fields[name] = tuple(sorted(set(value)))
                continue
            fields[name] = self.check_value(spec, value, raw_of(name), line_of(name), fld(name))
        self.subjects[sid] = Subject(**fields)
        self.broken.discard(sid)
        self.born_at[sid] = (line_of("born"), fld("born"))

    def add_starting(self, item: Any, line: int | None, where: str | None,
                     raw_of: RawOf = no_raw) -> None:
        def fld(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(item, dict):
            raise self.error("a starting point is a mapping with subject, scheme and a score "
                             "or grade", line, where)
        for key in item:
            if key not in _STARTING_FIELDS:
                raise self.error(f"unknown key {short(key)}; a starting point has "
                                 f"{', '.join(_STARTING_FIELDS)}", line, fld(key))
        subject, scheme = event_id_text(item.get("subject"), raw_of("subject")), item.get("scheme")
        if isinstance(subject, str) and subject in self.broken:
            raise SkipRecord  # the subject's own mistake is reported
        if not isinstance(subject, str) or subject not in self.subjects:
            raise self.error(f"unknown subject {short(subject)}"
                             f"{did_you_mean(str(subject), self.subjects)}", line, fld("subject"))
        if not isinstance(scheme, str) or not scheme:
            raise self.error("'scheme' must be a scheme id", line, fld("scheme"))
        if any(s.subject == subject and s.scheme == scheme for s in self.starting):
            raise self.error(f"a second starting point for {subject} in {short(scheme)}", line,
                             fld("scheme"))
        score, grade = item.get("score"), item.get("grade")
        if score is None and grade is None:
            raise self.error("give a 'score', a 'grade' or both", line, where)
        if score is not None and (isinstance(score, bool)
                                  or not isinstance(score, (int, Decimal))):
            raise self.error(f"expected a number, got {short(score)}", line, fld("score"))
        self.check_written_int(score, raw_of("score"), line, fld("score"))
        if grade is not None and not isinstance(grade, str):
            raise self.error(f"expected a grade label, got {short(grade)}", line, fld("grade"))
        self.starting.append(StartingPoint(subject=subject, scheme=scheme,
                                           score=None if score is None else Decimal(score),
                                           grade=grade, line=line))

    def add_event(self, item: Any, line: int | None, where: str | None,
                  line_of: LineOf, raw_of: RawOf = no_raw) -> None:
        self.position += 1

        def fld(name: str) -> str:
            return f"{where}.{name}" if where else name

        if not isinstance(item, dict):
            raise self.error("an event is a mapping with subject, at and type", line, where)
        eid = event_id_text(item.get("id", f"#{self.position}"), raw_of("id"))
        if not isinstance(eid, str) or not eid:
            raise self.error("an event 'id' must be a non-empty string", line_of("id"), fld("id"))
        if eid in self.event_ids:
            first = self.event_ids[eid]
            raise self.error(f"duplicate event id {short(eid)}"
                             + (f" (first at line {first})" if first else ""),
                             line_of("id"), fld("id"))
        self.event_ids[eid] = line
        for key in ("subject", "at", "type"):
            if key not in item:
                raise self.error(f"missing required field {key!r}", line, fld(key))
        subject = event_id_text(item["subject"], raw_of("subject"))
        if isinstance(subject, str) and subject in self.broken:
            raise SkipRecord  # the subject's own mistake is reported
        if not isinstance(subject, str) or subject not in self.subjects:
            raise self.error(f"unknown subject {short(subject)}"
                             f"{did_you_mean(str(subject), self.subjects)}; "
                             + ("declare it under 'subjects'" if where else
                                'declare it on a {"record": "subject"} line'),
                             line_of("subject"), fld("subject"))
        try:
            at = _at(item["at"])
        except ValueError as exc:
            raise self.error(reason_of(exc), line_of("at"), fld("at")) from None
        etype = item["type"]
        spec = self.vocabulary.event(etype) if isinstance(etype, str) else None
        if spec is None:
            raise self.error(f"unknown event type {short(etype)}"
                             f"{did_you_mean(str(etype), self.vocabulary.events)}",
                             line_of("type"), fld("type"))
        attrs: dict[str, AttrValue] = {}
        for key, value in item.items():
            if key in _EVENT_FIELDS:
                continue
            attr = spec.attrs.get(key)
            if attr is None:
                known = ", ".join(spec.attrs) or "none"
                raise self.error(f"unknown attribute {short(key)} for {etype}"
                                 f"{did_you_mean(key, spec.attrs)}; its attributes: {known}",
                                 line_of(key), fld(key))
            if value is None:
                continue
            attrs[key] = self.check_value(attr, value, raw_of(key), line_of(key), fld(key))
        for name, attr in spec.attrs.items():
            if attr.required and name not in attrs:
                raise self.error(f"missing required attribute {name!r} for {etype}", line,
                                 fld(name))
        self.events.append(Event(id=eid, subject=subject, at=at, type=etype, attrs=attrs,
                                 line=line))

    def build(self, name: Any, description: Any, digest: str) -> History:
        if self.mistakes:
            raise self.refusal()
        for key, value in (("name", name), ("description", description)):
            if value is not None and not isinstance(value, str):
                raise self.error("expected a string", None, key)
        if not self.subjects and not self.events:
            raise self.error("the history is empty: it has no subjects and no events", 1, None)
        events = tuple(sorted(self.events, key=lambda e: e.order_key))
        if events and self.as_of is not None and self.as_of < events[0].day:
            raise self.error(f"as_of {self.as_of} is before every event (the first is "
                             f"{short(events[0].id)} on {events[0].day})", self.as_of_line,
                             "as_of")
        seen: set[str] = set()
        for event in events:
            if event.subject in seen:
                continue
            seen.add(event.subject)
            born = self.subjects[event.subject].born
            if born is not None and born > event.day:
                line, field = self.born_at[event.subject]
                raise self.error(f"born {born} is after the subject's first event "
                                 f"({short(event.id)} on {event.day})", line, field)
        return History(name=name, description=description, as_of=self.as_of,
                       subjects=self.subjects, starting=tuple(self.starting), events=events,
                       file=self.file, sha256=digest, vocabulary=self.vocabulary.sha256)
