"""Rich renderings of schemes and replays: the side-by-side views people read."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich import box
from rich.console import Console, Group
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from creditlab.engine.checks.coverage import Coverage
from creditlab.engine.describe import (
    describe_effect,
    describe_limits,
    describe_match,
    describe_range,
    describe_source,
    entry_effects,
    entry_note,
    number,
    short_change,
    signed,
)
from creditlab.engine.inputs.history import Event
from creditlab.engine.inputs.scheme import ExternalSource, Scheme
from creditlab.engine.scoring.replay import Replay

__all__ = ["replay_tables", "scheme_detail", "scheme_list"]


def cells(*values: str | Text) -> list[Text]:
    """Table cells as Text: scheme text like "[Negative] tax data" is never rich markup."""
    return [v if isinstance(v, Text) else Text(v) for v in values]


def standing_cell(score: Decimal, start: Decimal, band: str | None,
                  flags: Sequence[str]) -> Text:
    """Where a subject stands in a scheme: `965 (-35) B blacklisted`."""
    cell = Text(number(score))
    change = score - start
    if change:
        cell.append(f" ({signed(change)})", style="green" if change > 0 else "red")
    cell.append(f" {band or '–'}", style="bold")
    if flags:
        cell.append(" " + ",".join(flags), style="magenta")
    return cell


def points_text(value: Decimal) -> Text:
    if value > 0:
        return Text(signed(value), style="green")
    if value < 0:
        return Text(signed(value), style="red")
    return Text("0", style="dim")


def scheme_list(schemes: list[Scheme]) -> Table:
    table = Table(title="Shipped schemes", box=box.SIMPLE_HEAD)
    for col in ("id", "name", "city", "subject", "scale", "start", "rules", "documented",
                "interpreted", "assumed", "external"):
        table.add_column(col, justify="right" if col in ("start", "rules", "documented",
                                                           "interpreted", "assumed",
                                                           "external") else "left")
    for s in schemes:
        counts = s.fidelity_counts()
        scale = f"{_opt(s.scale.min)}–{_opt(s.scale.max)}"
        external = sum(1 for r in s.rules if r.provenance == "external")
        table.add_row(*cells(s.id, s.name.en, s.city, s.subject_kind, scale, number(s.scale.start),
                      str(len(s.rules)), str(counts["documented"]), str(counts["interpreted"]),
                      str(counts["assumed"]), str(external)))
    return table


def coverage_table(rows: list[Coverage]) -> Table:
    table = Table(title="Coverage: what the sources say each scheme has, against what is "
                        "encoded", box=box.SIMPLE_HEAD)
    table.add_column("scheme", overflow="fold", max_width=26)
    for col in ("sources say", "encoded", "reward / penalty", "no points", "external",
                "share"):
        table.add_column(col, justify="right")
    table.add_column("note", overflow="fold", min_width=50)
    for c in rows:
        said = "?" if c.documented_total is None and c.documented_reward is None else (
            f"{c.documented_total if c.documented_total is not None else '?'}"
            + (f" ({c.documented_reward} / {c.documented_penalty})"
               if c.documented_reward is not None else ""))
        share = "—" if c.share is None else f"{c.share:.0%}"
        style = "red" if c.share is not None and c.share < 0.5 else ""
        table.add_row(*cells(c.scheme, said, str(c.encoded_total),
                      f"{c.encoded_reward} / {c.encoded_penalty}", str(c.without_points),
                      str(c.from_external), Text(share, style=style), _first_sentence(c.note)))
    return table


def _first_sentence(text: str | None) -> str:
    """The first sentence of a note, for a table cell (the JSON has it whole)."""
    if not text:
        return ""
    head, dot, rest = text.partition(". ")
    return head + ("." if dot else "") + (" …" if rest else "")


def _opt(value: Decimal | None) -> str:
    return "?" if value is None else number(value)


def scheme_detail(s: Scheme, *, seed_only: bool = False) -> Group:
    head = Text()
    head.append(f"{s.name.en}", style="bold")
    if s.name.zh:
        head.append(f"  {s.name.zh}")
    head.append(f"\n{s.city}" + (f", {s.province}" if s.province else ""))
    head.append(f" · {s.subject_kind} · {s.status}")
    if s.status_note:
        head.append(f" ({s.status_note})")
    head.append(f"\nscale {_opt(s.scale.min)}–{_opt(s.scale.max)}, start {number(s.scale.start)}"
                f"{', clamped' if s.scale.clamp else ''} [{s.scale.fidelity}]")
    if s.variant:
        head.append(f"\nvariant of {s.variant.of}: {s.variant.reading}")
    if s.summary:
        head.append(f"\n\n{s.summary}")
    parts: list[Panel | Table | Text] = [Panel(head, title=s.id)]
    if s.bands:
        bands = Table(title="Bands (best first)", box=box.SIMPLE_HEAD)
        for col in ("label", "range", "meaning", "fidelity"):
            bands.add_column(col)
        for b in s.bands:
            bands.add_row(*cells(b.label, describe_range(b.range), b.meaning or "", b.fidelity))
        parts.append(bands)
    rules = Table(title="Rules (declared order)", box=box.SIMPLE_HEAD, show_lines=False)
    for col in ("id", "behaviour", "matches", "effect", "limits", "fidelity", "source"):
        rules.add_column(col, overflow="fold")
    for r in s.rules:
        if seed_only and r.provenance != "seed":
            continue
        effect = "; ".join(describe_effect(e) for e in r.effects)
        fid = r.fidelity + (f" · external ({r.source.confidence})"
                            if isinstance(r.source, ExternalSource) else " · seed")
        fid += f": {r.note}" if r.note else ""
        rules.add_row(*cells(r.id, r.title, describe_match(r), effect, describe_limits(r),
                      fid, describe_source(r.source)))
    parts.append(rules)
    if s.interpretations:
        interp = Table(title="Interpretations of ambiguous sources", box=box.SIMPLE_HEAD)
        for col in ("ambiguity", "reading", "why"):
            interp.add_column(col, overflow="fold")
        for i in s.interpretations:
            interp.add_row(*cells(i.ambiguity, i.reading, i.why))
        parts.append(interp)
    if s.coverage is not None:
        c = s.coverage
        encoded = len(s.rules)
        documented = c.rules_total if c.rules_total is not None else (
            (c.reward_rules or 0) + (c.penalty_rules or 0) or None)
        text = f"Encoded {encoded} rules"
        if documented:
            text += f" of the {documented} the sources say the scheme has"
        if c.note:
            text += f". {c.note}"
        parts.append(Text(text, style="italic"))
    return Group(*parts)


def replay_tables(result: Replay, *, explain: bool) -> list[Table | Text]:
    schemes = [s.id for s in result.schemes]
    out: list[Table | Text] = []
    title = result.history.name or result.history.file
    by_event: dict[tuple[str, str], list[str | Text]] = {}
    totals: dict[tuple[str, str], Decimal] = {}
    numbered: set[tuple[str, str]] = set()
    for e in result.ledger:
        key = (e.event, e.scheme)
        totals[key] = totals.get(key, Decimal(0)) + e.applied
        if e.points is not None:
            numbered.add(key)
        by_event.setdefault(key, [])
        by_event[key].extend(short_change(x) for x in e.changes)
        if e.noted("cap_reached"):
            by_event[key].append("capped")
        elif e.noted("frequency_limit"):
            by_event[key].append("limit")
    events = Table(title=f"{title}: what each scheme did with each event", box=box.SIMPLE_HEAD)
    events.add_column("at", no_wrap=True)
    events.add_column("subject", no_wrap=True)
    events.add_column("event", min_width=24, max_width=40, overflow="fold")
    for sid in schemes:
        events.add_column(scheme_header(sid), justify="right", overflow="fold")
    kinds = {s.id: s.subject_kind for s in result.schemes}
    for ev in result.history.events:
        subject = result.history.subjects[ev.subject]
        row: list[str | Text] = [ev.at.date().isoformat() if ev.at.time() == ev.at.min.time()
                                 else ev.at.isoformat(), ev.subject, _event_label(ev)]
        for sid in schemes:
            key = (ev.id, sid)
            if kinds[sid] != subject.kind:
                row.append(Text("n/a", style="dim"))
            elif key not in totals:
                row.append(Text("·", style="dim"))
            else:
                # A rule fired whose source gives no number: "?" rather than a scored 0.
                extra = by_event.get(key) or []
                if key in numbered or totals[key]:
                    cell = points_text(totals[key])
                    cell.append("".join(" " + str(x) for x in extra), style="yellow")
                else:
                    cell = Text(" ".join(str(x) for x in extra) or "?", style="yellow")
                row.append(cell)
        events.add_row(*cells(*row))
    out.append(events)
    finals = Table(title="Final standing, side by side (score, change from start, band)",
                   box=box.SIMPLE_HEAD)
    finals.add_column("subject")
    for sid in schemes:
        finals.add_column(scheme_header(sid), justify="right", overflow="fold")
    subjects = sorted({r.subject for r in result.results})
    lookup = {(r.subject, r.scheme): r for r in result.results}
    for subj in subjects:
        row = [subj]
        for sid in schemes:
            r = lookup.get((subj, sid))
            if r is None:
                row.append(Text("n/a", style="dim"))
                continue
            row.append(standing_cell(r.score, r.start, r.band, r.flags))
        finals.add_row(*cells(*row))
    out.append(finals)
    out.append(Text("· not scored by this scheme (no rule for it)   ? a rule fired but its "
                    "source gives no number   n/a the scheme scores another kind of subject   "
                    "– no band: the source gives no thresholds", style="dim"))
    if explain:
        ledger = Table(title="Ledger: every rule that fired, with its source", box=box.SIMPLE_HEAD)
        for col in ("event", "subject", "scheme", "rule", "points", "applied", "score",
                    "band", "note", "source"):
            ledger.add_column(col, overflow="fold")
        rules = {(s.id, r.id): r for s in result.schemes for r in s.rules}
        for e in result.ledger:
            rule = rules[(e.scheme, e.rule)]
            ledger.add_row(*cells(e.event, e.subject, e.scheme, e.rule,
                           "—" if e.points is None else signed(e.points), points_text(e.applied),
                           f"{number(e.score_before)} → {number(e.score_after)}",
                           e.band_after or "–",
                           "; ".join(x for x in (", ".join(entry_effects(e)),
                                                 entry_note(e) or "") if x),
                           describe_source(rule.source)))
        out.append(ledger)
    return out


def scheme_header(scheme_id: str, width: int = 14) -> str:
    """A scheme id broken at underscores into lines of about `width` characters."""
    lines: list[str] = []
    for part in scheme_id.split("_"):
        if lines and len(lines[-1]) + 1 + len(part) <= width:
            lines[-1] += "_" + part
        else:
            lines.append(part if not lines else "_" + part)
    return "\n".join(lines)


def _event_label(ev: Event) -> str:
    attrs = " ".join(f"{k}={v}" for k, v in sorted(ev.attrs.items()))
    return f"{ev.id} {ev.type}" + (f" {attrs}" if attrs else "")


def print_all(console: Console, items: list[Table | Text]) -> None:
    for item in items:
        console.print(item)
