"""Rich renderings of schemes, coverage and lint findings (the replay view: `replay_view`)."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal

from rich import box
from rich.console import Console, Group, RenderableType
from rich.panel import Panel
from rich.table import Table
from rich.text import Text

from creditlab.engine.canonical import dumps, plain
from creditlab.engine.checks.coverage import Coverage
from creditlab.engine.checks.lint_findings import Finding
from creditlab.engine.describe import (
    describe_check,
    describe_effect,
    describe_limits,
    describe_match,
    describe_range,
    describe_repeat,
    describe_source,
    number,
    signed,
)
from creditlab.engine.inputs.reform import ChangedValue, ReformedScheme
from creditlab.engine.inputs.scheme import ExternalSource, Scheme
from creditlab.engine.inputs.systems import NotReplayable
from creditlab.engine.views.findings import relative

from .width import fits, output_width

__all__ = ["changes_by_item", "changes_table", "coverage_table", "findings_tables", "print_all",
           "scheme_detail", "scheme_list", "shown_value"]


def cells(*values: str | Text) -> list[Text]:
    """Table cells as Text: scheme text like "[Negative] tax data" is never rich markup."""
    return [v if isinstance(v, Text) else Text(v) for v in values]


def standing_cell(score: Decimal, start: Decimal, band: str | None,
                  flags: Sequence[str], *, sep: str = " ") -> Text:
    """Where a subject stands in a scheme: `965 (-35) B blacklisted` (`sep` before the
    band: a newline puts it on a line of its own)."""
    cell = Text(number(score))
    change = score - start
    if change:
        cell.append(f" ({signed(change)})", style="green" if change > 0 else "red")
    cell.append(f"{sep}{band or '–'}", style="bold")
    if flags:
        cell.append(" " + ",".join(flags), style="magenta")
    return cell


def points_text(value: Decimal) -> Text:
    if value > 0:
        return Text(signed(value), style="green")
    if value < 0:
        return Text(signed(value), style="red")
    return Text("0", style="dim")


def scheme_list(schemes: list[Scheme], width: int | None = None) -> Table:
    """The shipped schemes, one a row: a column per count when `width` (default: the
    output's) holds them, else the counts told in one column, so that no id breaks."""
    width = output_width() if width is None else width
    table = Table(title="Shipped schemes", box=box.SIMPLE_HEAD)
    numbers = ("start", "rules", "documented", "interpreted", "assumed", "external")
    for col in ("id", "name", "city", "subject", "scale", *numbers):
        table.add_column(col, justify="right" if col in numbers else "left",
                         no_wrap=col in ("id", "subject", "scale", *numbers))
    for s in schemes:
        counts = s.fidelity_counts()
        external = sum(1 for r in s.rules if r.provenance == "external")
        table.add_row(*cells(s.id, s.name.en, s.city, s.subject_kind, _scale(s),
                      number(s.scale.start), str(len(s.rules)), str(counts["documented"]),
                      str(counts["interpreted"]), str(counts["assumed"]), str(external)))
    if fits(table, width):
        return table
    compact = Table(title="Shipped schemes", box=box.SIMPLE_HEAD, pad_edge=False)
    compact.add_column("id, name, city, subject", overflow="fold")
    compact.add_column("scale", no_wrap=True)
    compact.add_column("rules", justify="right", no_wrap=True)
    compact.add_column("of which", no_wrap=True)
    for s in schemes:
        counts = s.fidelity_counts()
        external = sum(1 for r in s.rules if r.provenance == "external")
        head = Text(s.id, style="bold")
        head.append(f"\n{s.name.en}, {s.city}, {s.subject_kind}")
        compact.add_row(head, Text(f"{_scale(s)}\nstart {number(s.scale.start)}"),
                        Text(str(len(s.rules))),
                        Text(f"{counts['documented']} documented\n{counts['interpreted']} "
                             f"interpreted\n{counts['assumed']} assumed\n{external} external"))
    return compact


def _scale(s: Scheme) -> str:
    return f"{_opt(s.scale.min)}–{_opt(s.scale.max)}"


def coverage_table(rows: list[Coverage]) -> Table:
    table = Table(title="Coverage: what the sources say each scheme has, against what is "
                        "encoded", box=box.SIMPLE_HEAD)
    table.add_column("scheme", overflow="fold")
    for col in ("sources say", "encoded", "reward / penalty", "no points", "external",
                "share", "mechanics"):
        table.add_column(col, justify="right")
    table.add_column("note", overflow="fold")
    for c in rows:
        said = "?" if c.documented_total is None and c.documented_reward is None else (
            f"{c.documented_total if c.documented_total is not None else '?'}"
            + (f" ({c.documented_reward} / {c.documented_penalty})"
               if c.documented_reward is not None else ""))
        share = "—" if c.share is None else f"{c.share:.0%}"
        style = "red" if c.share is not None and c.share < 0.5 else ""
        table.add_row(*cells(c.scheme, said, str(c.encoded_total),
                      f"{c.encoded_reward} / {c.encoded_penalty}", str(c.without_points),
                      str(c.from_external), Text(share, style=style), _mechanics_cell(c),
                      _first_sentence(c.note)))
    return table


def _mechanics_cell(c: Coverage) -> str:
    """`5 of 7` (encoded of the sources' mechanics), with those partly encoded and those
    the engine cannot express yet below."""
    if not c.mechanics:
        return "—"
    counts = c.mechanics_by_status()
    return (f"{counts['encoded']} of {len(c.mechanics)}"
            + (f"\n+{counts['partly']} partly" if counts["partly"] else "")
            + (f"\n{counts['not_expressible']} inexpressible" if counts["not_expressible"]
               else ""))


def not_replayable_table(systems: Sequence[NotReplayable]) -> Table:
    """The systems the sources describe that are not replayable, with the reason."""
    table = Table(title="Described in the sources, not replayable", box=box.SIMPLE_HEAD)
    table.add_column("system", overflow="fold")
    table.add_column("reason")
    table.add_column("why", overflow="fold")
    for n in systems:
        table.add_row(*cells(n.id, n.reason.replace("_", " "), _first_sentence(n.why)))
    return table


def _first_sentence(text: str | None) -> str:
    """The first sentence of a note, for a table cell (the JSON has it whole)."""
    if not text:
        return ""
    head, dot, rest = text.partition(". ")
    return head + ("." if dot else "") + (" …" if rest else "")


def _opt(value: Decimal | None) -> str:
    return "?" if value is None else number(value)


def changes_by_item(s: Scheme) -> dict[tuple[str, str | None], list[ChangedValue]]:
    """A reformed scheme's changes by the item they touch: (`rules`, id), (`bands`, label),
    (`scale`, None), ...; empty for a scheme without reforms."""
    out: dict[tuple[str, str | None], list[ChangedValue]] = {}
    if isinstance(s, ReformedScheme):
        for change in s.changed:
            out.setdefault((change.part, change.key), []).append(change)
    return out


def shown_value(value: object) -> str:
    """A baseline's or reformed value in a few words: `-50`, `unset`, `a rule`."""
    if value is None:
        return "unset"
    if isinstance(value, Decimal):
        return number(value)
    if isinstance(value, dict):  # a small mapping in full: {rolling: {days: 30}}
        text = dumps(plain(value)).replace('"', "").replace(":", ": ").replace(",", ", ")
        return text if len(text) <= 60 else "{…}"
    if isinstance(value, list):
        return f"[{len(value)} items]"
    text = str(plain(value))
    return text if len(text) <= 40 else text[:39] + "…"


def _was(changes: Sequence[ChangedValue]) -> str:
    """`(points was -50; cap was unset)` for a table cell; `added` for a new item."""
    if any(c.field == "" and c.was is None for c in changes):
        return f"added by {changes[0].reform}"
    words = [f"{c.field or 'whole'} was {shown_value(c.was)}" for c in changes]
    return "; ".join(words)


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
    if s.eligibility is not None:
        e = s.eligibility
        unknown = "scored" if e.age_unknown == "scored" else "not scored"
        head.append(f"\nscores subjects aged {e.min_age} and over (no birth date: {unknown})"
                    f" [{e.fidelity}]")
    if s.variant:
        head.append(f"\nvariant of {s.variant.of}: {s.variant.reading}")
    marks = changes_by_item(s)
    if isinstance(s, ReformedScheme):
        head.append(f"\nreform of {s.baseline}: " + "; then ".join(
            f"{r.id} ({r.title})" for r in s.reforms), style="yellow")
    if ("scale", None) in marks:
        head.append(f"\n  changed: {_was(marks[('scale', None)])}", style="yellow")
    if s.summary:
        head.append(f"\n\n{s.summary}")
    parts: list[Panel | Table | Text] = [Panel(head, title=s.id)]
    if s.bands:
        bands = Table(title="Bands (best first)", box=box.SIMPLE_HEAD)
        for col in ("label", "range", "meaning", "fidelity"):
            bands.add_column(col)
        for b in s.bands:
            label = Text(b.label)
            if ("bands", b.label) in marks:
                label.append(f"\n{_was(marks[('bands', b.label)])}", style="yellow")
            bands.add_row(label, *cells(describe_range(b.range), b.meaning or "", b.fidelity))
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
        rule_id = Text(r.id)
        if ("rules", r.id) in marks:
            rule_id.append(f"\n{_was(marks[('rules', r.id)])}", style="yellow")
        rules.add_row(rule_id, *cells(r.title, describe_match(r), effect, describe_limits(r),
                      fid, describe_source(r.source)))
    parts.append(rules)
    if s.checks:
        checks = Table(title="Periodic checks (after the rules, on each period's ledger)",
                       box=box.SIMPLE_HEAD)
        for col in ("id", "when", "finds", "gives", "fidelity", "source"):
            checks.add_column(col, overflow="fold")
        for k in s.checks:
            fid = k.fidelity + (f": {k.note}" if k.note else "")
            check_id = Text(k.id)
            if ("checks", k.id) in marks:
                check_id.append(f"\n{_was(marks[('checks', k.id)])}", style="yellow")
            checks.add_row(check_id, *cells(*describe_check(k), fid, describe_source(k.source)))
        parts.append(checks)
    if s.repeats:
        repeats = Table(title="Repeat offences", box=box.SIMPLE_HEAD)
        for col in ("id", "rules", "gives", "fidelity", "source"):
            repeats.add_column(col, overflow="fold")
        for p in s.repeats:
            fid = p.fidelity + (f": {p.note}" if p.note else "")
            repeats.add_row(*cells(p.id, ", ".join(p.rules), describe_repeat(p), fid,
                                   describe_source(p.source)))
        parts.append(repeats)
    if isinstance(s, ReformedScheme) and s.changed:
        parts.append(changes_table(s))
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
        if c.mechanics:
            # What encodes each, or why not, is in the JSON (`how`): too long for a table.
            mechanics = Table(title="Mechanics the sources give", box=box.SIMPLE_HEAD)
            mechanics.add_column("status")
            mechanics.add_column("mechanic", overflow="fold")
            for m in c.mechanics:
                mechanics.add_row(*cells(m.status.replace("_", " "), m.mechanic))
            parts.append(mechanics)
    return Group(*parts)


def changes_table(s: ReformedScheme) -> Table:
    """Every value the reforms changed, beside the baseline's, with the reform and its note."""
    table = Table(title=f"Changed from {s.baseline}", box=box.SIMPLE_HEAD)
    for col in ("target", "was", "now", "reform", "note"):
        table.add_column(col, overflow="fold")
    for c in s.changed:
        was = "(added)" if c.was is None and c.field == "" else shown_value(c.was)
        now = "(removed)" if c.now is None and c.field == "" else shown_value(c.now)
        table.add_row(*cells(c.target, was, now, c.reform, c.note or ""))
    return table


SEVERITY_STYLE = {"error": "bold red", "warning": "yellow", "info": "dim"}


def findings_tables(findings: Sequence[Finding]) -> list[Table]:
    """Lint's findings, one table per scheme file (its path relative to the working
    folder when inside it): severity and code, line, then the rule, the finding and why
    it matters, wrapped at words."""
    by_file: dict[str, list[Finding]] = {}
    for f in findings:
        by_file.setdefault(f.file, []).append(f)
    tables = []
    for file, found in by_file.items():
        table = Table(title=relative(file), title_justify="left", box=box.SIMPLE_HEAD,
                      pad_edge=False)
        table.add_column("severity", no_wrap=True)
        table.add_column("line", justify="right", no_wrap=True)
        table.add_column("rule: finding", overflow="fold")
        for f in found:
            head = Text(f.severity, style=SEVERITY_STYLE[f.severity])
            head.append(f"\n{f.code}")
            finding = Text(f"{f.rule}: " if f.rule else "", style="bold")
            finding.append(f.message + (" [source]" if f.caused_by_source else ""))
            finding.append(f"\n{f.why}", style="dim")
            table.add_row(head, Text("" if f.line is None else str(f.line)), finding)
        tables.append(table)
    return tables



def print_all(console: Console, items: Sequence[RenderableType]) -> None:
    for item in items:
        console.print(item)
