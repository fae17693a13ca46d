"""A replay as a small HTML table, for notebooks (`_repr_html_`).

Every value from a history or a scheme is escaped: ids, labels and flags are text here.
"""

from __future__ import annotations

from html import escape

from creditlab.engine.canonical import number
from creditlab.engine.scoring.replay import Replay

__all__ = ["replay_html"]

MAX_ROWS = 50
"""Subjects shown; a notebook cell is not the place for a city."""


def replay_html(result: Replay) -> str:
    """Where each subject ends in each scheme (score, change, band), and the provenance."""
    schemes = [s.id for s in result.schemes]
    by_key = {(r.subject, r.scheme): r for r in result.results}
    subjects = sorted({r.subject for r in result.results})
    head = "".join(f"<th>{escape(s)}</th>" for s in schemes)
    rows = []
    for subject in subjects[:MAX_ROWS]:
        cells = []
        for scheme in schemes:
            r = by_key.get((subject, scheme))
            if r is None:
                cells.append('<td title="the scheme scores another kind of subject">n/a</td>')
                continue
            change = r.score - r.start
            shown = number(r.score) + (f" ({'+' if change > 0 else ''}{number(change)})"
                                       if change else "")
            band = escape(r.band) if r.band is not None else "–"
            flags = "".join(f" <em>{escape(f)}</em>" for f in r.flags)
            cells.append(f"<td>{shown} {band}{flags}</td>")
        rows.append(f"<tr><th>{escape(subject)}</th>{''.join(cells)}</tr>")
    more = len(subjects) - MAX_ROWS
    tail = (f"<p>… and {more} more subjects: <code>results_frame()</code> has them all.</p>"
            if more > 0 else "")
    events = len(result.history.events)
    caption = (f"{escape(result.history.name or result.history.file)}: {events} events, "
               f"{len(subjects)} subjects, {len(schemes)} schemes · "
               f"creditlab {escape(str(result.manifest.get('creditlab')))} · "
               f"digest <code>{escape(result.digest)}</code>")
    return (f"<table><caption>{caption}</caption><thead><tr><th>subject</th>{head}</tr>"
            f"</thead><tbody>{''.join(rows)}</tbody></table>{tail}")
