"""Rich tables of the analysts' results: diff, matrix, exchange, compare."""

from __future__ import annotations

from decimal import Decimal

from rich import box
from rich.table import Table
from rich.text import Text

from creditlab.engine.analysis.compare import Diff, Population
from creditlab.engine.analysis.exchange import Exchange
from creditlab.engine.analysis.matrix import Cell, Matrix
from creditlab.engine.describe import entry_effects, entry_note, number, signed

from .render import points_text, standing_cell

__all__ = ["compare_tables", "diff_tables", "exchange_tables", "matrix_tables"]

Renderable = Table | Text


def _pct(value: Decimal | None) -> str:
    return "" if value is None else f"{number(value)}%"


def diff_tables(d: Diff) -> list[Renderable]:
    schemes = d.schemes
    title = d.replay.history.name or d.replay.history.file
    out: list[Renderable] = []
    side = Table(title=f"{title}: where each subject ends up (score (change) band, share "
                       "of scale)", box=box.SIMPLE_HEAD)
    side.add_column("subject")
    for sid in schemes:
        side.add_column(sid, justify="right")
    side.add_column("agree")
    for s in d.subjects:
        row: list[str | Text] = [s.subject]
        for sid in schemes:
            st = s.schemes[sid]
            if st.status != "applies" or st.score is None or st.start is None:
                row.append(Text("n/a", style="dim"))
                continue
            cell = standing_cell(st.score, st.start, st.band, st.flags)
            share = st.share_of_scale.value
            cell.append(f" {number(share * 100)}%" if share is not None else " ?%", style="dim")
            row.append(cell)
        row.append("yes" if s.agree else Text("no", style="yellow"))
        side.add_row(*row)
    out.append(side)
    events = Table(title="Where they part ways, most divergent first", box=box.SIMPLE_HEAD)
    for col in ("event", "at", "subject", "behaviour"):
        events.add_column(col, overflow="fold")
    for sid in schemes:
        events.add_column(sid, justify="right", overflow="fold")
    why = Table(title="Why, rule by rule", box=box.SIMPLE_HEAD)
    for col in ("event", "scheme", "rule", "points", "effect / note", "source"):
        why.add_column(col, overflow="fold")
    for e in d.events:
        ev = e.event
        attrs = " ".join(f"{k}={v}" for k, v in sorted(ev.attrs.items()))
        row = [ev.id, ev.day.isoformat(), ev.subject, ev.type + (f" {attrs}" if attrs else "")]
        for sid in schemes:
            p = e.schemes[sid]
            if p.status == "not applicable":
                row.append(Text("n/a", style="dim"))
            elif p.status == "not scored":
                row.append(Text("·", style="dim"))
            else:
                if p.given is not None or p.points:
                    cell = points_text(p.points or Decimal(0))
                elif p.effects:
                    cell = Text("")
                else:
                    cell = Text("?", style="yellow")
                if p.effects:
                    cell.append((" " if cell.plain else "") + "; ".join(p.effects),
                                style="yellow")
                row.append(cell)
                for entry, citation in zip(p.entries, p.citations, strict=True):
                    points = "—" if entry.points is None else signed(entry.applied) or "0"
                    words = (*entry_effects(entry), entry_note(entry))
                    why.add_row(ev.id, sid, entry.rule, points,
                                "; ".join(x for x in words if x), citation)
        events.add_row(*row)
    if d.events:
        out.append(events)
        out.append(why)
    else:
        out.append(Text("The schemes agree on every event."))
    out.append(Text("· not scored (no rule for it)   n/a the scheme scores another kind of "
                    "subject   ? penalised or rewarded, no points documented   – no band   "
                    "?% the scale has no documented bounds", style="dim"))
    return out


def _cell(c: Cell) -> Text:
    if c.status == "not scored":
        return Text("·", style="dim")
    if c.points is None and not c.effect:
        return Text("?", style="yellow")
    text = points_text(c.points) if c.points is not None else Text("")
    if c.pct_of_scale is not None:
        text.append(f" ({_pct(c.pct_of_scale)})", style="dim")
    if c.band_steps:
        text.append(f" {'▲' if c.band_steps > 0 else '▼'}{abs(c.band_steps)}", style="bold")
    if c.effect:
        text.append((" " if text.plain else "") + c.effect, style="yellow")
    return text


def matrix_tables(m: Matrix) -> list[Renderable]:
    params = m.manifest["parameters"]
    who = params["persona"]
    person = ", ".join(who["roles"]) or "no role"
    if who["residence"]:
        person += f", {who['residence']}"
    table = Table(title=f"What one occurrence does, from the start score ({person}, on "
                        f"{params['on']})", box=box.SIMPLE_HEAD)
    table.add_column("behaviour", overflow="fold")
    for sid in m.schemes:
        table.add_column(sid, justify="right", overflow="fold")
    for behaviour, cells in m.rows:
        table.add_row(behaviour.label(), *(_cell(cells[s]) for s in m.schemes))
    return [table, Text("points (share of the scheme's scale span)  ▲/▼ bands moved  "
                        "· not scored  ? no points documented", style="dim")]


def exchange_tables(x: Exchange) -> list[Renderable]:
    offence = x.offence.label()
    table = Table(title=f"How much {x.good} offsets one {offence}", box=box.SIMPLE_HEAD)
    for col in ("scheme", "act", "offence", "per act", "acts", "total", "days", "result"):
        table.add_column(col, overflow="fold",
                         justify="right" if col in ("acts", "days", "per act") else "left")
    for r in x.rows:
        offence_cell = Text("")
        if r.offence_points is not None:
            offence_cell = points_text(r.offence_points)
        if r.offence_effects:
            offence_cell.append((" " if offence_cell.plain else "") + "; ".join(
                r.offence_effects), style="yellow")
        total = ", ".join(f"{number(v)} {k}" for k, v in r.quantity.items())
        if r.status in ("offset", "restored by time"):
            result = Text(r.status, style="green")
            if r.reason:
                result.append(f": {r.reason}", style="dim")
            elif r.limits:
                result.append(f" (limits: {'; '.join(r.limits)})", style="dim")
        else:
            result = Text(r.status, style="red" if r.status == "cannot be offset" else "dim")
            if r.reason:
                result.append(f": {r.reason}")
        act = " ".join(f"{k}={number(v) if isinstance(v, Decimal) else v}"
                       for k, v in r.act.attrs.items()) or "one act"
        table.add_row(r.scheme, act, offence_cell,
                      signed(r.act_points) if r.act_points is not None else "",
                      "" if r.acts is None else str(r.acts), total,
                      "" if r.days is None else str(r.days), result)
    return [table]


def compare_tables(p: Population) -> list[Renderable]:
    out: list[Renderable] = []
    bands = Table(title=f"Band distribution ({p.subjects} subjects)", box=box.SIMPLE_HEAD)
    for col in ("scheme", "band", "subjects", "share"):
        bands.add_column(col, justify="right" if col in ("subjects", "share") else "left")
    for b in p.bands:
        bands.add_row(b.scheme, b.band or "– (no band)", str(b.count),
                      f"{b.share * 100:.1f}%")
    out.append(bands)
    agreement = Table(title="Rank agreement between schemes (Kendall's tau-b on final scores)",
                      box=box.SIMPLE_HEAD)
    for col in ("scheme", "scheme ", "subjects", "tau", "p"):
        agreement.add_column(col, justify="right" if col in ("subjects", "tau", "p") else "left")
    for a in p.agreement:
        agreement.add_row(a.scheme_a, a.scheme_b, str(a.subjects),
                          number(a.tau) if a.tau is not None else f"– ({a.reason})",
                          number(a.p_value) if a.p_value is not None else "")
    out.append(agreement)
    flips = Table(title="Band flips: subjects by band in one scheme and in the other",
                  box=box.SIMPLE_HEAD)
    for col in ("scheme", "band", "scheme ", "band ", "subjects"):
        flips.add_column(col, justify="right" if col == "subjects" else "left")
    for f in p.flips:
        flips.add_row(f.scheme_a, f.band_a or "–", f.scheme_b, f.band_b or "–", str(f.count))
    out.append(flips)
    counts: dict[tuple[str, str], list[str]] = {}
    for x in p.extremes:
        counts.setdefault((x.top_in, x.bottom_in), []).append(x.subject)
    extremes = Table(title="Top fifth in one scheme, bottom fifth in another (percentile)",
                     box=box.SIMPLE_HEAD)
    for col in ("top in", "bottom in", "subjects", "who"):
        extremes.add_column(col, overflow="fold", justify="right" if col == "subjects"
                            else "left")
    for (top, bottom), who in sorted(counts.items()):
        extremes.add_row(top, bottom, str(len(who)),
                         ", ".join(who[:8]) + (f" and {len(who) - 8} more (--format json)"
                                               if len(who) > 8 else ""))
    out.append(extremes)
    return out
