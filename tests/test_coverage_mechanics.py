"""Coverage says what is missing: every mechanic the seed catalog gives a shipped scheme is
listed in the scheme file's `coverage.mechanics`, with whether it is encoded, partly encoded,
not expressible by the engine yet, or not encoded, and how (rule ids) or why not; and
`creditlab schemes --coverage` and `creditlab show` carry the list.

The catalog is not shipped: these tests read it from `../shared` and skip without it (the
quotes themselves are checked against the seeds by test_sources.py, like every source).
"""

from __future__ import annotations

import json
import re
from typing import Any, get_args

import pytest
import yaml
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import shipped_schemes
from creditlab.engine.checks.coverage import MECHANIC_STATUSES, coverage_of
from creditlab.engine.inputs.catalog import shipped_scheme_files
from creditlab.engine.inputs.scheme import MechanicStatus

from conftest import shared_dir

SHARED = shared_dir()
needs_shared = pytest.mark.skipif(SHARED is None, reason="../shared (the catalog) is absent")

PENDING: tuple[str, ...] = ()
"""Schemes (ids or id prefixes) whose files are newer than their mechanics lists: checked
once their file lists mechanics (drop an id from here when it does)."""


def _file_data() -> dict[str, dict[str, Any]]:
    """Each shipped scheme file, as plain YAML, by id (fast: no scheme is compiled)."""
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    out = {}
    for path in shipped_scheme_files():
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=loader)
        out[data["id"]] = data
    return out


FILES = _file_data()


def _file_mechanics(scheme_id: str) -> list[dict[str, Any]]:
    return list((FILES[scheme_id].get("coverage") or {}).get("mechanics") or [])


def _catalog_mechanics() -> list[tuple[str, dict[str, Any]]]:
    """(scheme id, mechanic) for every catalog mechanic of a shipped scheme."""
    if SHARED is None:
        return []
    catalog = yaml.safe_load((SHARED / "catalog" / "seed-catalog.yaml").read_text("utf-8"))
    out = []
    for entry in catalog["schemes"]:
        sid = entry["id"]
        if sid not in FILES or (sid.startswith(PENDING) and not _file_mechanics(sid)):
            continue
        out.extend((sid, m) for m in entry.get("mechanics") or [])
    return out


CATALOG = _catalog_mechanics()


def test_the_statuses_are_the_models() -> None:
    assert MECHANIC_STATUSES == get_args(MechanicStatus) == (
        "encoded", "partly", "not_expressible", "not_encoded")


@needs_shared
def test_there_are_mechanics_to_check() -> None:
    assert len(CATALOG) >= 69
    assert len({sid for sid, _ in CATALOG}) >= 14


@needs_shared
@pytest.mark.parametrize("scheme_id,mechanic", CATALOG,
                         ids=[f"{sid}:{m['mechanic'][:40]}" for sid, m in CATALOG])
def test_each_catalog_mechanic_is_in_its_scheme_file(scheme_id: str,
                                                     mechanic: dict[str, Any]) -> None:
    """By the catalog's words or by its quote, with the catalog's citation."""
    listed = _file_mechanics(scheme_id)
    found = [m for m in listed if m["mechanic"] == mechanic["mechanic"]
             or m["source"]["quote"] == mechanic["source"]["quote"]]
    assert found, f"{scheme_id}: no mechanic {mechanic['mechanic']!r} in coverage.mechanics"
    assert any(m["source"].get("file") == mechanic["source"]["file"] for m in found)


@needs_shared
def test_no_scheme_lists_a_mechanic_the_catalog_does_not_give_it() -> None:
    by_scheme: dict[str, set[str]] = {}
    for sid, m in CATALOG:
        by_scheme.setdefault(sid, set()).add(m["mechanic"])
    for sid in FILES:
        extra = {m["mechanic"] for m in _file_mechanics(sid)} - by_scheme.get(sid, set())
        assert not extra, f"{sid}: mechanics not in the catalog: {sorted(extra)}"


def _ids_named(how: str, known: set[str]) -> set[str]:
    """The words of `how` that look like ids of the scheme (they share a rule's prefix)."""
    prefixes = {k.split("_", 1)[0] + "_" for k in known if "_" in k}
    words = set(re.findall(r"\b[a-z][a-z0-9]*_[a-z0-9_]*[a-z0-9]\b", how))
    return {w for w in words if any(w.startswith(p) for p in prefixes)}


@pytest.mark.parametrize("scheme_id", sorted(s for s in FILES if _file_mechanics(s)))
def test_each_mechanic_says_how_with_ids_the_scheme_has(scheme_id: str) -> None:
    data = FILES[scheme_id]
    known = {r["id"] for r in data.get("rules") or []} | {
        g["id"] for g in data.get("cap_groups") or []} | {
        c["id"] for c in data.get("checks") or []} | {
        p["id"] for p in data.get("repeats") or []}
    for m in _file_mechanics(scheme_id):
        assert m["status"] in MECHANIC_STATUSES
        assert m["how"].strip(), f"{scheme_id}: {m['mechanic']!r} does not say how or why not"
        unknown = _ids_named(m["how"], known) - known
        assert not unknown, f"{scheme_id}: {m['mechanic']!r} names no such rule: {unknown}"


def test_the_loaded_coverage_carries_the_files_mechanics() -> None:
    for scheme in shipped_schemes():
        if scheme.variant is not None:
            continue
        c = coverage_of(scheme)
        assert [m.mechanic for m in c.mechanics] == [
            m["mechanic"] for m in _file_mechanics(scheme.id)]
        assert sum(c.mechanics_by_status().values()) == len(c.mechanics)


def test_schemes_coverage_json_lists_each_schemes_mechanics() -> None:
    out = CliRunner().invoke(cli, ["schemes", "--coverage", "--format", "json"])
    assert out.exit_code == 0, out.output
    rows = {r["scheme"]: r for r in json.loads(out.output) if r["replayable"]}
    with_mechanics = [sid for sid in FILES if _file_mechanics(sid)]
    assert with_mechanics
    for sid in with_mechanics:
        row = rows[sid]
        assert [m["mechanic"] for m in row["mechanics"]] == [
            m["mechanic"] for m in _file_mechanics(sid)]
        assert all({"mechanic", "status", "how", "source"} <= set(m) for m in row["mechanics"])
        counts = row["mechanics_by_status"]
        assert set(counts) == set(MECHANIC_STATUSES)
        assert sum(counts.values()) == len(row["mechanics"])


def test_schemes_coverage_table_counts_the_mechanics_encoded() -> None:
    data = _file_mechanics("rongcheng_dongdao_lujia")
    encoded = sum(m["status"] == "encoded" for m in data)
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["schemes", "--coverage"]).output
    assert "mechanics" in out
    line = next(x for x in out.splitlines() if x.strip().startswith("rongcheng_dongdao_lujia"))
    assert f"{encoded} of {len(data)}" in line


def test_show_lists_the_mechanics_with_their_status() -> None:
    out = CliRunner(env={"COLUMNS": "200"}).invoke(cli, ["show", "rongcheng_gangwan"])
    assert out.exit_code == 0, out.output
    assert "Mechanics" in out.output
    for m in _file_mechanics("rongcheng_gangwan"):
        assert m["status"].replace("_", " ") in out.output
        assert m["mechanic"].split(" ")[0] in out.output
