"""Auditors' commands (issue 5): lint, audit. Filled in by issue 5."""

from __future__ import annotations

import click

COMMANDS: list[click.Command] = []
