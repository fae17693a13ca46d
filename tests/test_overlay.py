"""Retention overlays: Zhejiang's five-year deletion of records, applied to the schemes of
its province as one cited rule (`schemes/overlays/`), in both backends."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from creditlab.engine import replay, shipped_scheme, shipped_vocabulary
from creditlab.engine.errors import SchemeError
from creditlab.engine.inputs.catalog import resolve_schemes, schemes_dir
from creditlab.engine.inputs.overlay import apply_overlays, load_overlay, shipped_overlays
from creditlab.engine.inputs.reform import ReformedScheme
from creditlab.engine.inputs.scheme import Duration

from history_builder import history, person

OVERLAYS = shipped_overlays(schemes_dir() / "overlays")
PENALTY = """\
reform:
  id: test-penalty
  of: hangzhou_qianjiang
  title: A penalty with points and a blacklisting, to exercise the overlay
  why: Test only.
changes:
  - add: rules
    item:
      id: hz_p_test_penalty
      title: A test penalty
      direction: penalty
      match: {type: family.abuse}
      effects:
        - {kind: points, points: -20}
        - {kind: list, action: add, flag: blacklisted}
      source: {kind: seed, file: 004_bd7a772d2591ee24.txt, line: 638, quote: "must delete"}
      fidelity: assumed
      note: A made-up penalty of -20 with a blacklisting, only to exercise the overlay.
  - add: rules
    item:
      id: hz_p_test_short
      title: A test penalty that lapses sooner
      direction: penalty
      match: {type: family.neglect_elderly_parents}
      effects:
        - {kind: points, points: -5}
      expires_after: {years: 1}
      source: {kind: seed, file: 004_bd7a772d2591ee24.txt, line: 638, quote: "must delete"}
      fidelity: assumed
      note: A made-up penalty of -5 that lapses after 1 year.
"""


@pytest.fixture
def reformed(tmp_path: Path):
    path = tmp_path / "penalty.yaml"
    path.write_text(PENALTY, encoding="utf-8")
    (scheme,) = resolve_schemes([f"hangzhou_qianjiang+{path}"])
    return scheme


def test_the_zhejiang_overlay_is_cited_and_applies_to_zhejiang_only() -> None:
    (overlay,) = OVERLAYS
    assert overlay.province == "Zhejiang" and overlay.keep_for == Duration(years=5)
    assert overlay.fidelity == "interpreted" and "five years" in overlay.source.quote
    other = shipped_scheme("suining_county")
    assert apply_overlays(other, OVERLAYS, vocabulary=shipped_vocabulary()) is other


def test_shipped_zhejiang_schemes_have_nothing_it_changes() -> None:
    """Hangzhou's penalties give no points and set no list state; Zhejiang's corporate
    penalties are unquantified: the overlay leaves them as they are."""
    for sid in ("hangzhou_qianjiang", "zhejiang_corporate"):
        assert not isinstance(shipped_scheme(sid), ReformedScheme), sid


def test_a_penalty_with_points_lapses_after_five_years_and_its_list_state_ends(reformed) -> None:
    rule = reformed.rule("hz_p_test_penalty")
    assert rule.expires_after == Duration(years=5)
    assert rule.effects[1].duration == Duration(years=5)
    assert reformed.rule("hz_p_test_short").expires_after == Duration(years=1)  # sooner: kept
    assert reformed.rule("hz_r_volunteering").expires_after is None  # rewards: untouched
    assert [r.id for r in reformed.reforms] == ["test-penalty", "zhejiang_retention_5y"]
    h = history([person("li", born=date(1980, 1, 1))],
                [{"id": "e1", "subject": "li", "type": "family.abuse", "at": date(2019, 3, 1)}],
                as_of=date(2026, 1, 1))
    durable = replay(h, [reformed])
    assert [(e.kind, e.at, e.applied) for e in durable.ledger] == [
        ("rule", date(2019, 3, 1), -20), ("lapse", date(2024, 3, 1), 20)]
    (result,) = durable.results
    assert result.flags == ()  # the blacklisting ended with the record
    assert "zhejiang_retention_5y" in str(durable.manifest["reforms"])
    assert replay(h, [reformed], backend="columnar").digest == durable.digest


def test_a_broken_overlay_names_file_line_and_field(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("overlay:\n  id: x\n  province: Zhejiang\n  title: t\n"
                   "  keep_for: {years: -1}\n  source: {kind: seed, file: f, line: 1, "
                   "quote: abc}\n  fidelity: documented\n", encoding="utf-8")
    with pytest.raises(SchemeError) as err:
        load_overlay(bad)
    assert err.value.file == str(bad) and err.value.line == 5
    assert err.value.field == "overlay.keep_for"


def test_each_overlay_quote_is_on_its_line() -> None:
    from conftest import shared_dir

    shared = shared_dir()
    if shared is None:
        pytest.skip("../shared (the seeds) is absent")
    for overlay in OVERLAYS:
        for source in overlay.sources:
            assert source.kind == "seed"
            lines = (shared / "seeds" / source.file).read_text("utf-8").splitlines()
            assert source.quote in lines[source.line - 1], overlay.id
