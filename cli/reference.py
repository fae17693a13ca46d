"""`creditlab vocabulary`: the event types, attributes, roles and subject fields to use."""

from __future__ import annotations

import os
import shutil
import sys
from typing import Any

import click
from rich import box
from rich.table import Table

from creditlab.engine import shipped_vocabulary
from creditlab.engine.canonical import plain
from creditlab.engine.errors import did_you_mean
from creditlab.engine.inputs.vocabulary import AttrSpec, EventSpec

from .completion import complete_event_type
from .output import format_option, write_json
from .width import console_for, width_option

__all__ = ["COMMANDS"]


def _attr_text(name: str, spec: AttrSpec) -> str:
    """`hours: number ≥0 (required)`, `class: enum[a, b]`."""
    text = f"{name}: {spec.type}"
    low, high = spec.low, spec.high
    if low is not None or high is not None:
        text += f" {'' if low is None else plain(low)}..{'' if high is None else plain(high)}"
    return text + (" (required)" if spec.required else "")


def _event_record(code: str, spec: EventSpec) -> dict[str, Any]:
    return {"type": code, "doc": spec.doc,
            "attrs": {n: {"type": a.type, "required": a.required, "values": list(a.values),
                          "min": a.low, "max": a.high, "doc": a.doc}
                      for n, a in spec.attrs.items()}}


@click.command("vocabulary")
@click.argument("event_type", required=False, metavar="[TYPE]",
                shell_complete=complete_event_type)
@format_option("table", "json")
@width_option
def vocabulary_command(event_type: str | None, fmt: str) -> None:
    """List the event types a history may use, with their attributes; or one TYPE in full.

    Example:

        creditlab vocabulary
        creditlab vocabulary volunteer.service --format json
    """
    vocabulary = shipped_vocabulary()
    if event_type is not None and vocabulary.event(event_type) is None:
        raise click.ClickException(f"unknown event type {event_type!r}"
                                   f"{did_you_mean(event_type, vocabulary.events)}")
    chosen = {event_type: vocabulary.events[event_type]} if event_type else vocabulary.events
    if fmt == "json":
        data: dict[str, Any] = {"events": [_event_record(c, s) for c, s in chosen.items()]}
        if event_type is None:
            data["roles"] = vocabulary.roles
            data["subject"] = {n: {"type": a.type, "required": a.required}
                               for n, a in vocabulary.subject.items()}
        write_json(plain(data))
        return
    table = Table(title="Event types", box=box.SIMPLE_HEAD)
    table.add_column("type", no_wrap=True)
    table.add_column("doc and attributes", overflow="fold")
    for code, spec in chosen.items():
        attrs = "\n".join("  " + _attr_text(n, a) for n, a in spec.attrs.items())
        table.add_row(code, spec.doc + ("\n" + attrs if attrs else ""))
    # the terminal's width even through `| less`, so the table reads at 80 columns
    out = console_for(pipe=_terminal_width())
    out.print(table)
    if event_type is None:
        out.print("roles: " + ", ".join(vocabulary.roles))
        out.print("subject: " + "; ".join(_attr_text(n, a) for n, a in vocabulary.subject.items()))


def _terminal_width() -> int:
    """stdout's terminal, else stderr's (stdout piped to `less`), else 100 columns."""
    for stream in (sys.stdout, sys.stderr):
        try:
            return os.get_terminal_size(stream.fileno()).columns
        except (AttributeError, OSError, ValueError):
            continue
    return shutil.get_terminal_size((100, 24)).columns


COMMANDS = (vocabulary_command,)
