"""Every system the seed catalog describes is a shipped scheme or listed, with its reason,
in `schemes/systems/not_replayable.yaml` (and `creditlab schemes --coverage` says so)."""

from __future__ import annotations

import json

import pytest
import yaml
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import shipped_schemes
from creditlab.engine.inputs.systems import not_replayable

from conftest import shared_dir

SHARED = shared_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared (the catalog) is absent")


@needs_shared
def test_every_described_system_is_shipped_or_listed_with_its_reason() -> None:
    catalog = yaml.safe_load((SHARED / "catalog" / "seed-catalog.yaml").read_text("utf-8"))
    described = {entry["id"] for entry in catalog["schemes"]}
    shipped = {s.id for s in shipped_schemes() if s.variant is None}
    listed = {n.id for n in not_replayable()}
    assert not shipped & listed, "a shipped scheme is also listed as not replayable"
    assert listed <= described, "a listed system is not in the catalog"
    assert described - shipped - listed == set()


@needs_shared
def test_each_listed_systems_quote_is_on_its_line() -> None:
    for system in not_replayable():
        source = system.source
        assert source.kind == "seed"
        lines = (SHARED / "seeds" / source.file).read_text("utf-8").splitlines()
        assert source.quote in lines[source.line - 1], system.id


def test_coverage_lists_the_systems_that_are_not_replayable() -> None:
    out = CliRunner().invoke(cli, ["schemes", "--coverage", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = json.loads(out.output)
    listed = {r["scheme"]: r for r in rows if not r["replayable"]}
    assert set(listed) == {n.id for n in not_replayable()}
    assert all(r["why"] and r["source"]["quote"] for r in listed.values())
    table = CliRunner(env={"COLUMNS": "120"}).invoke(cli, ["schemes", "--coverage"]).output
    assert "Described in the sources, not replayable" in table
    assert "zhejiang_regulation_2017" in table
