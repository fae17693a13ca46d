"""Analysts' commands (issue 4): diff, matrix, exchange, compare. Filled in by issue 4."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
