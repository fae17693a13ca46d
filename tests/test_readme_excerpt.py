"""The README's excerpt of `./dev example` is what the command prints at 100 columns."""

from __future__ import annotations

import re

from click.testing import CliRunner

from creditlab.cli.main import cli

from conftest import ROOT


def test_every_line_of_the_excerpt_is_in_the_output_in_order() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"An excerpt at 100 columns.*?```\n(.*?)```", readme, re.S)
    assert block, "the README's excerpt of ./dev example"
    lines = [line for line in block.group(1).splitlines() if line.strip() not in ("", "…")]
    run = CliRunner().invoke(cli, ["replay", str(ROOT / "fixtures" / "example.yaml")],
                             env={"COLUMNS": "100"})
    assert run.exit_code == 0
    output = [line.rstrip() for line in run.output.splitlines()]
    assert max(len(line) for line in output) <= 100
    at = 0
    for line in lines:
        assert line in output[at:], f"not in the output (after line {at}): {line!r}"
        at = output.index(line, at) + 1
