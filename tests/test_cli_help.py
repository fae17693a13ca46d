"""Help that matches the options: --format names its choices, -V, `creditlab vocabulary`."""

from __future__ import annotations

import json
import re

import click
import pytest

from creditlab.cli.main import cli

_FORMAT_WORDS = {"table", "text", "json", "jsonl", "csv", "parquet", "html", "junit", "github",
                 "sarif"}


@pytest.mark.parametrize("name", sorted(cli.commands))
def test_format_help_names_exactly_the_choices(name):
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option) and "--format" in param.opts:
            assert isinstance(param.type, click.Choice)
            named = set(re.findall(r"[a-z]+", (param.help or "").lower())) & _FORMAT_WORDS
            assert named == set(param.type.choices), f"creditlab {name} --format help"


def test_short_version_flag(runner):
    result = runner.invoke(cli, ["-V"])
    assert result.exit_code == 0 and "creditlab, version" in result.output


def test_vocabulary_lists_every_type_and_suggests_for_unknown(runner):
    data = json.loads(runner.invoke(cli, ["vocabulary", "--format", "json"]).output)
    assert {"volunteer.service", "donation.blood"} <= {e["type"] for e in data["events"]}
    assert data["events"][0]["attrs"] is not None and data["roles"]
    one = runner.invoke(cli, ["vocabulary", "volunteer.service"])
    assert one.exit_code == 0 and "hours: number" in one.output
    bad = runner.invoke(cli, ["vocabulary", "volunteer.servic"])
    assert bad.exit_code == 1 and "did you mean 'volunteer.service'" in bad.output
