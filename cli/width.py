"""Tables that fit the width they are given: the terminal, COLUMNS, or `--width N`.

A table is never cropped and an id or a number never broken: every column holding ids or
numbers is `no_wrap` and pinned to its widest cell, prose columns wrap at word boundaries
(CJK text by character, as rich does). A table that cannot fit so is laid out another way
by its caller (the replay view turns and pages), or told as records, one field a line
(`fitted`). The width comes from `--width N`, else COLUMNS, else the terminal; output that
goes to a file or a pipe is 160 columns wide.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterable
from typing import IO, Any, TypeVar

import click
from rich.cells import cell_len
from rich.console import Console, Group, RenderableType
from rich.table import Table
from rich.text import Text

__all__ = ["PIPE_WIDTH", "FittingConsole", "as_records", "console_for", "fit_all", "fits",
           "fitted", "indented", "joined", "lay_out", "needed_width", "output_width", "pin",
           "width_option"]

F = TypeVar("F", bound=Callable[..., Any])

PIPE_WIDTH = 160
"""The width of tables written to a file or a pipe when neither --width nor COLUMNS is
given: wide enough for side-by-side tables, and the same on every machine."""

_KEY = "creditlab.width"


def _remember(ctx: click.Context, _param: click.Parameter, value: int | None) -> None:
    if value is not None:
        ctx.meta[_KEY] = value


def width_option(func: F) -> F:
    """`--width N`: the width tables are fitted to (default: COLUMNS, else the terminal)."""
    return click.option(
        "--width", type=click.IntRange(40, 1000), metavar="N", default=None,
        expose_value=False, callback=_remember,
        help="Fit tables and text to N columns (default: COLUMNS, else the terminal's "
             f"width; {PIPE_WIDTH} into a file or a pipe).",
    )(func)


def output_width(file: IO[str] | None = None, *, pipe: int = PIPE_WIDTH) -> int:
    """The width to fit: `--width`, else COLUMNS, else the terminal's, else `pipe`;
    into a file, `--width` or PIPE_WIDTH."""
    ctx = click.get_current_context(silent=True)
    if ctx is not None and _KEY in ctx.meta:
        return int(ctx.meta[_KEY])
    if file is not None:
        return PIPE_WIDTH
    columns = os.environ.get("COLUMNS", "")
    if columns.isdigit() and int(columns) > 0:
        return int(columns)
    try:
        if sys.stdout.isatty():
            return os.get_terminal_size(sys.stdout.fileno()).columns
    except (AttributeError, OSError, ValueError):
        pass
    return pipe


class FittingConsole(Console):
    """A console that fits every table it prints to its width (`fitted`), also inside a
    Group or a Panel."""

    def print(self, *objects: Any, **kwargs: Any) -> None:
        super().print(*(fit_all(o, self.width) for o in objects), **kwargs)


def fit_all(renderable: Any, width: int) -> Any:
    """`renderable` with every table in it fitted to `width`."""
    if isinstance(renderable, Table):
        return fitted(renderable, width)
    if isinstance(renderable, Group):
        return Group(*(fit_all(r, width) for r in renderable.renderables))
    return renderable


def console_for(file: IO[str] | None = None, *, pipe: int = PIPE_WIDTH) -> Console:
    """A console of `output_width()` columns on stdout (or `file`) that fits its tables.

    Markup is off: scheme and history text such as "[Negative] tax inspection data" is
    printed as written, never read as rich style tags. Styles come from Text objects.
    """
    return FittingConsole(file=file, width=output_width(file, pipe=pipe), highlight=False,
                          markup=False)


def _lines(renderable: Any) -> list[str]:
    plain = renderable.plain if isinstance(renderable, Text) else str(renderable)
    return plain.split("\n")


def _cell_width(renderable: Any) -> int:
    """The widest line of a cell as written (Text or str)."""
    return max((cell_len(line) for line in _lines(renderable)), default=0)


def _longest_word(renderable: Any) -> int:
    """The widest run a wrap may not break: a word of narrow characters (a CJK character
    may end a line anywhere, as rich folds it)."""
    longest = 0
    for line in _lines(renderable):
        for word in line.split():
            run = 0
            for char in word:
                wide = cell_len(char)
                run = 0 if wide > 1 else run + wide
                longest = max(longest, run, wide)
    return longest


def pin(table: Table) -> Table:
    """Give every column a minimum width: its widest cell (header included) when it is
    `no_wrap`, else its longest word, so that an id, a number or a word is never broken
    to make the table fit; prose wraps at spaces instead."""
    for column in table.columns:
        values = [column.header, *column.cells]
        if column.no_wrap:
            least = max(_cell_width(v) for v in values)
        else:
            least = max(_longest_word(v) for v in values)
        column.min_width = max(column.min_width or 0, least)
    return table


def _frame(table: Table) -> int:
    """The columns a table takes beyond its cells' text: padding, edges, separators."""
    _top, right, _bottom, left = table.padding
    frame = (left + right) * len(table.columns)
    if not table.pad_edge and table.columns:
        frame -= left + right
    if table.box and table.show_edge:
        frame += 2
    if table.box:
        frame += len(table.columns) - 1
    return frame


def needed_width(table: Table) -> int:
    """The fewest columns `table` takes without breaking a pinned cell."""
    pin(table)
    return _frame(table) + sum(c.min_width or 1 for c in table.columns)


def fits(table: Table, width: int) -> bool:
    return needed_width(table) <= width


def lay_out(table: Table, width: int) -> Table:
    """Fix each column's width so that `table` takes at most `width` columns and no
    column is narrower than its pinned minimum: the room left over goes to the columns
    that wrap, the narrowest first, up to a common width. Rich's own squeezing would crop a
    `no_wrap` column or split a word; this never does (`fits` must hold)."""
    pin(table)
    least = [c.min_width or 1 for c in table.columns]
    natural = [max(max(_cell_width(v) for v in [c.header, *c.cells]), m)
               for c, m in zip(table.columns, least, strict=True)]
    natural = [n if c.max_width is None else max(min(n, c.max_width), lo)
               for n, c, lo in zip(natural, table.columns, least, strict=True)]
    room = width - _frame(table)
    widths = list(natural)
    if sum(natural) > room:
        # the narrowest columns reach their natural width first, the widest wrap
        low, high = 0, max(natural)
        while low < high:
            level = (low + high + 1) // 2
            if sum(max(m, min(n, level)) for m, n in zip(least, natural, strict=True)) <= room:
                low = level
            else:
                high = level - 1
        widths = [max(m, min(n, low)) for m, n in zip(least, natural, strict=True)]
        left = room - sum(widths)
        for i in sorted(range(len(widths)), key=lambda i: widths[i] - natural[i]):
            if left > 0 and widths[i] < natural[i]:
                widths[i] += 1
                left -= 1
    for column, w in zip(table.columns, widths, strict=True):
        column.width = w
    return table


def fitted(table: Table, width: int) -> RenderableType:
    """`table` laid out to `width` when it fits, else the same rows told as records
    (`as_records`)."""
    return lay_out(table, width) if fits(table, width) else as_records(table)


def as_records(table: Table) -> Group:
    """A table's rows as records: the first cell as a heading, then one `header: value`
    line per other cell, wrapped at words. Nothing is left out; the title and caption
    stay."""
    headers = [_plain(c.header) for c in table.columns]
    columns = [list(c.cells) for c in table.columns]
    key_width = max((cell_len(h) for h in headers[1:]), default=0) + 3
    parts: list[RenderableType] = []
    if table.title:
        parts.append(Text(_plain(table.title), style="bold"))
    for i in range(len(columns[0]) if columns else 0):
        head = columns[0][i]
        heading = Text(f"{headers[0]}: ", style="dim")
        heading.append(_plain(head).replace("\n", ", "))
        heading.stylize("bold", len(headers[0]) + 2)
        grid = Table.grid(padding=(0, 1))
        grid.add_column(no_wrap=True, min_width=key_width)
        grid.add_column(overflow="fold")
        for header, cells in zip(headers[1:], columns[1:], strict=True):
            value = cells[i]
            if _plain(value).strip():
                grid.add_row(Text(f"  {header}:", style="dim"), value)
        parts.extend([Text(""), heading, grid] if i else [heading, grid])
    if table.caption:
        parts.append(Text(_plain(table.caption), style="dim"))
    return Group(*parts)


def _plain(value: Any) -> str:
    return value.plain if isinstance(value, Text) else str(value).replace("\n", " ")


def indented(text: Text | str, lead: str = "  ") -> Table:
    """`text` wrapped at words under a hanging indent of `lead`'s width."""
    grid = Table.grid()
    grid.add_column(no_wrap=True)
    grid.add_column(overflow="fold")
    grid.add_row(lead, text if isinstance(text, Text) else Text(text))
    return grid


def joined(items: Iterable[str], width: int, *, lead: str = "") -> Text:
    """Words or ids joined with ", " and wrapped at `width` between items, never inside
    one."""
    text = Text(lead)
    line = cell_len(lead)
    for n, item in enumerate(items):
        sep = ", " if n else ""
        if n and line + len(sep) + cell_len(item) > width:
            text.append(",\n  ")
            line = 2
            sep = ""
        text.append(sep + item)
        line += cell_len(sep + item)
    return text
