"""The replay's terminal view: the events, then each scheme's standings and points, fitted.

When the schemes fit beside the events, one table (events as rows, schemes as columns)
and the standings; otherwise the view turns: schemes as rows, people as columns, in
balanced tables of people, with a line naming anyone left out and how to see them. A
lapse of points is a row of its own, on its own day. Glyphs: `LEGEND`.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import Decimal

import click
from rich import box
from rich.cells import cell_len
from rich.console import RenderableType
from rich.table import Table
from rich.text import Text

from creditlab.engine.describe import (
    describe_source,
    entry_effects,
    entry_note,
    number,
    short_change,
    signed,
)
from creditlab.engine.errors import did_you_mean
from creditlab.engine.inputs.history import Event
from creditlab.engine.inputs.scheme import Check, Rule
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Replay

from .render import cells, points_text, standing_cell
from .width import PIPE_WIDTH, fits, fitted, joined, lay_out, needed_width, pin

__all__ = [
    "LEGEND",
    "MAX_PAGES",
    "NARROW",
    "replay_tables",
]


MAX_PAGES = 3
"""Tables of people the turned replay view prints before it says who it left out."""


NARROW = 16
"""A standing longer than this puts its band on a second line in the turned view."""


LEGEND: tuple[tuple[str, str], ...] = (
    ("·", "not scored by this scheme (no rule for it)"),
    ("?", "a rule fired but its source gives no number"),
    ("∅", "a rule fired but the event lacks the attribute its points depend on"),
    ("n/a", "the scheme scores another kind of subject"),
    ("–", "no band: the source gives no thresholds"),
)


def replay_tables(result: Replay, *, explain: bool, width: int = PIPE_WIDTH,
                  subjects: Sequence[str] = ()) -> list[RenderableType]:
    """The replay for people, fitted to `width` columns.

    When every scheme fits beside the events, one row per event (and per lapse, on its
    own day) and one column per scheme, then the standings. Otherwise the view turns:
    schemes as rows, people as columns, several tables of people one after another, and
    a line says who was left out and how to see them. `subjects` narrows it to those.
    """
    unknown = [s for s in subjects if s not in result.history.subjects]
    if unknown:
        raise click.BadParameter(f"no subject {unknown[0]!r} in the history"
                                 f"{did_you_mean(unknown[0], result.history.subjects)}",
                                 param_hint="--subject")
    view = _ReplayView(result, subjects)
    out: list[RenderableType] = []
    events, finals = view.event_table(), view.standings_table()
    if fits(events, width) and fits(finals, width):
        out += [lay_out(events, width), lay_out(finals, width)]
        glyphs = LEGEND
    else:
        out += view.turned(width)
        glyphs = LEGEND[1:]
    out.append(Text("\n".join(f"{glyph} {meaning}" for glyph, meaning in glyphs),
                    style="dim"))
    if explain:
        out.append(fitted(view.ledger_table(), width))
    return out


class _ReplayView:
    """What the replay tables show, gathered once: cells per (event, scheme), lapses."""

    def __init__(self, result: Replay, subjects: Sequence[str]) -> None:
        self.result = result
        self.schemes = [s.id for s in result.schemes]
        self.kinds = {s.id: s.subject_kind for s in result.schemes}
        shown = set(subjects) or set(result.history.subjects)
        self.subjects = sorted(s for s in result.history.subjects if s in shown)
        self.events = [e for e in result.history.events if e.subject in shown]
        self.title = result.history.name or result.history.file
        self.cells: dict[tuple[str, str], Text] = {}
        self.lapses: dict[tuple[date, str, str], dict[str, Decimal]] = {}
        entries: dict[tuple[str, str], list[LedgerEntry]] = {}
        for e in result.ledger:
            if e.subject not in shown:
                continue
            if e.kind == "check":  # a finding on a period, in the ledger table only
                continue
            if e.is_lapse:  # its own row, on its own day: not the event's cell
                lapse = self.lapses.setdefault((e.at, e.subject, e.event), {})
                lapse[e.scheme] = lapse.get(e.scheme, Decimal(0)) + e.applied
            else:
                entries.setdefault((e.event, e.scheme), []).append(e)
        for key, fired in entries.items():
            self.cells[key] = _event_cell(fired)
        self.events_of: dict[str, list[Event]] = {}
        for ev in self.events:
            self.events_of.setdefault(ev.subject, []).append(ev)
        self.lapses_of: dict[str, list[tuple[date, str, dict[str, Decimal]]]] = {}
        for (day, who, event), by_scheme in sorted(self.lapses.items()):
            self.lapses_of.setdefault(who, []).append((day, event, by_scheme))

    def subject_of(self, subject: str) -> str:
        return self.result.history.subjects[subject].kind

    def rows(self) -> list[tuple[date, str, str, str, dict[str, Text]]]:
        """(day, subject, event id, label, cells by scheme) per event and per lapse, by
        day; a lapse after the events of its day."""
        rows: list[tuple[tuple[date, int, int], tuple[date, str, str, str,
                                                      dict[str, Text]]]] = []
        for n, ev in enumerate(self.events):
            kind = self.subject_of(ev.subject)
            cells = {}
            for sid in self.schemes:
                if self.kinds[sid] != kind:
                    cells[sid] = Text("n/a", style="dim")
                else:
                    cells[sid] = self.cells.get((ev.id, sid)) or Text("·", style="dim")
            at = ev.at.date().isoformat() if ev.at.time() == ev.at.min.time() \
                else ev.at.isoformat()
            rows.append(((ev.day, 0, n), (ev.day, at, ev.subject, _event_label(ev), cells)))
        for n, ((day, subject, event), by_scheme) in enumerate(sorted(self.lapses.items())):
            cells = {sid: points_text(v) for sid, v in by_scheme.items()}
            label = f"{event} lapse: its points end ({', '.join(sorted(by_scheme))})"
            rows.append(((day, 1, n), (day, day.isoformat(), subject, label, cells)))
        return [row for _, row in sorted(rows, key=lambda r: r[0])]

    def event_table(self) -> Table:
        table = Table(title=f"{self.title}: what each scheme did with each event",
                      box=box.SIMPLE_HEAD)
        table.add_column("at", no_wrap=True)
        table.add_column("subject", no_wrap=True)
        table.add_column("event", overflow="fold")
        for sid in self.schemes:
            table.add_column(sid, justify="right", no_wrap=True)
        for _, at, subject, label, by_scheme in self.rows():
            table.add_row(*cells(at, subject, label,
                                 *(by_scheme.get(sid, Text("")) for sid in self.schemes)))
        return pin(table)

    def standing(self, subject: str, scheme: str) -> Text:
        r = self.result.outcome(subject, scheme)
        if r is None:
            return Text("n/a", style="dim")
        return standing_cell(r.score, r.start, r.band, r.flags)

    def standings_table(self) -> Table:
        table = Table(title="Final standing, side by side (score, change from start, band)",
                      box=box.SIMPLE_HEAD)
        table.add_column("subject", no_wrap=True)
        for sid in self.schemes:
            table.add_column(sid, justify="right", overflow="fold")
        for subject in self.subjects:
            table.add_row(Text(subject), *(self.standing(subject, sid) for sid in self.schemes))
        return pin(table)

    def person_cell(self, subject: str, scheme: str) -> Text:
        """Where `subject` ends in `scheme` (bold), then each event it scored, one a line,
        and each lapse of points."""
        cell = self.standing(subject, scheme)
        if cell.plain == "n/a":
            return cell
        if cell_len(cell.plain) > NARROW:  # the band on a line of its own
            r = self.result.outcome(subject, scheme)
            assert r is not None
            cell = standing_cell(r.score, r.start, r.band, r.flags, sep="\n")
        cell.stylize("bold")
        lines: list[tuple[date, int, Text]] = []
        for n, ev in enumerate(self.events_of.get(subject, ())):
            fired = self.cells.get((ev.id, scheme))
            if fired is not None:
                lines.append((ev.day, n, Text(f"{ev.id} ").append_text(fired)))
        for n, (day, event, by_scheme) in enumerate(self.lapses_of.get(subject, ())):
            if scheme in by_scheme:  # after the events of its day
                line = Text(f"{event} lapse ").append_text(points_text(by_scheme[scheme]))
                lines.append((day, len(self.events) + n, line))
        for _, _, line in sorted(lines, key=lambda x: (x[0], x[1])):
            cell.append("\n")
            cell.append_text(line)
        return cell

    def people_table(self, people: Sequence[str], page: str) -> Table:
        table = Table(title=f"Each scheme, each person: where they end (bold), then each "
                            f"event scored{page}", box=box.SIMPLE_HEAD)
        table.add_column("scheme", no_wrap=True)
        for subject in people:
            table.add_column(subject, justify="right", no_wrap=True)
        for sid in self.schemes:
            table.add_row(Text(sid), *(self.person_cell(p, sid) for p in people))
        return pin(table)

    def turned(self, width: int) -> list[RenderableType]:
        """Schemes as rows, people as columns, as many people a table as `width` holds;
        at most MAX_PAGES tables, then who was left out."""
        pages: list[list[str]] = []
        rest = list(self.subjects)
        while rest and len(pages) < MAX_PAGES:
            page = [rest.pop(0)]
            while rest and fits(self.people_table([*page, rest[0]], ""), width):
                page.append(rest.pop(0))
            pages.append(page)
        if len(pages) > 1:  # as many people a table as the others: 2 + 2, not 3 + 1
            people = [p for page in pages for p in page]
            size = -(-len(people) // len(pages))
            even = [people[i:i + size] for i in range(0, len(people), size)]
            if all(fits(self.people_table(page, ""), width) for page in even):
                pages = even
        shown = {p for page in pages for p in page}
        events = Table(title=f"{self.title}: the events", box=box.SIMPLE_HEAD)
        events.add_column("at", no_wrap=True)
        events.add_column("subject", no_wrap=True)
        events.add_column("event", overflow="fold")
        for _, at, subject, label, _cells in self.rows():
            if subject in shown:
                events.add_row(*cells(at, subject, label))
        out: list[RenderableType] = [fitted(pin(events), width)]
        total = len(self.subjects)
        for page in pages:
            first = self.subjects.index(page[0]) + 1
            label = f" (people {first}–{first + len(page) - 1} of {total})" \
                if len(pages) > 1 or rest else ""
            out.append(fitted(self.people_table(page, label), width))
        if rest:
            wider = needed_width(self.people_table(self.subjects, ""))
            how = "--subject ID" + (f", or --width {wider}" if wider <= 1000 else "")
            out.append(joined(rest, width, lead=f"{len(rest)} more "
                              f"{'person' if len(rest) == 1 else 'people'} not shown "
                              f"({how}): "))
        return out

    def ledger_table(self) -> Table:
        table = Table(title="Ledger: every rule that fired, with its source",
                      box=box.SIMPLE_HEAD, pad_edge=False)
        table.add_column("event", no_wrap=True)
        table.add_column("scheme, rule", no_wrap=True)
        table.add_column("points", justify="right", no_wrap=True)
        table.add_column("score, band", no_wrap=True)
        table.add_column("note, source", overflow="fold")
        rules: dict[tuple[str, str], Rule | Check] = {
            (s.id, r.id): r for s in self.result.schemes for r in s.rules}
        rules.update({(s.id, c.id): c for s in self.result.schemes for c in s.checks})
        for e in sorted(self.result.ledger, key=lambda e: e.at):  # a lapse on its own day
            if e.subject not in self.subjects:
                continue
            rule = rules[(e.scheme, e.rule)]
            given = "—" if e.points is None else signed(e.points)
            points = Text(f"given {given}\napplied ")
            points.append_text(points_text(e.applied))
            table.add_row(*cells(
                f"{e.event}{_KIND_WORD.get(e.kind, '')}\n{e.subject}\n{e.at.isoformat()}",
                f"{e.scheme}\n{e.rule}", points,
                f"{number(e.score_before)} → {number(e.score_after)}\n{e.band_after or '–'}",
                _note_and_source(e, describe_source(rule.source))))
        return table


_KIND_WORD = {"lapse": " lapse", "check": " check"}


def _note_and_source(e: LedgerEntry, source: str) -> Text:
    """What the entry did beyond its points (effects, notes), then the rule's source."""
    note = "; ".join(x for x in (", ".join(entry_effects(e)), entry_note(e) or "") if x)
    text = Text(note + "\n", style="yellow") if note else Text()
    return text.append(source)


def _event_cell(fired: Sequence[LedgerEntry]) -> Text:
    """What one scheme did with one event: points applied, then changes and notes;
    `?` when a rule fired whose source gives no number, `∅` when the event lacks the
    attribute the points depend on."""
    total = sum((e.applied for e in fired), Decimal(0))
    extra: list[str] = []
    for e in fired:
        # when points lapse is told by the lapse's own row (or line), not here
        extra.extend(short_change(x) for x in e.changes if x.kind not in ("lapses_on",
                                                                          "lapsed"))
        if e.noted("cap_reached"):
            extra.append("capped")
        elif e.noted("frequency_limit"):
            extra.append("limit")
    if any(e.points is not None for e in fired) or total:
        cell = points_text(total)
        cell.append("".join(" " + x for x in extra), style="yellow")
        return cell
    if any(e.noted("missing_attribute") for e in fired):
        extra.insert(0, "∅")
    return Text(" ".join(extra) or "?", style="yellow")


def _event_label(ev: Event) -> str:
    attrs = " ".join(f"{k}={v}" for k, v in sorted(ev.attrs.items()))
    return f"{ev.id} {ev.type}" + (f" {attrs}" if attrs else "")
