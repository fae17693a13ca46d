"""The report's Population section: band shares and score spreads by group, from frames.

It reads two frames (outcomes; subjects), never ledger entries, so that a columnar
replay of a city feeds it as well as a replay of four people; only aggregates enter the
figures.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import numpy as np
import pandas as pd
import pytest

from creditlab.engine import replay_file
from creditlab.engine.views.population import (
    AGE_BANDS,
    POPULATION_FROM,
    outcomes_frame,
    population_charts,
    population_section,
    subjects_frame,
)
from creditlab.engine.views.report import build_report

from conftest import ROOT

EXAMPLE = ROOT / "fixtures" / "example.yaml"
SCHEMES = ["fuzhou_yuming", "meritown_2019"]


@pytest.fixture(scope="module")
def example() -> Any:
    return replay_file(EXAMPLE, SCHEMES)


def _shares(chart: Any) -> dict[str, list[float]]:
    """Each band's share (%) of each group, by band, from the chart's bars."""
    return {t.name: list(t.x) for t in chart.figure.data if t.type == "bar"}


def test_frames_of_a_replay(example: Any) -> None:
    outcomes = outcomes_frame(example)
    subjects = subjects_frame(example.history)
    assert list(outcomes.columns) == ["subject", "scheme", "score", "band"]
    assert list(subjects.columns) == ["id", "kind", "born", "residence", "hukou", "roles"]
    assert len(outcomes) == len(example.results) and len(subjects) == 4
    assert isinstance(outcomes["score"].iloc[0], Decimal)  # exact until drawn


def test_groups_and_shares(example: Any) -> None:
    charts = population_charts(outcomes_frame(example), subjects_frame(example.history),
                               example.schemes, on=example.history.end)
    assert [c.scheme for c in charts] == [s.id for s in example.schemes]
    fuzhou = charts[0]
    groups = list(fuzhou.figure.data[0].y)
    assert groups[0] == "everyone (4)"
    assert {"residence: rural (1)", "residence: urban (3)", "hukou: non_local (1)",
            "age: 45–59 (2)", "role: teacher (1)", "role: car_owner (2)"} <= set(groups)
    shares = _shares(fuzhou)
    for i in range(len(groups)):  # every group's bands add up to 100 %
        assert sum(v[i] for v in shares.values()) == pytest.approx(100)
    # zhao (-30) is the one "Slightly dishonest" of four; lu, the rural one, is "Good credit"
    assert shares["Slightly dishonest"][0] == pytest.approx(25)
    assert shares["Good credit"][groups.index("residence: rural (1)")] == pytest.approx(100)
    box = next(t for t in fuzhou.figure.data if t.type == "box")
    assert box.lowerfence[0] == 470 and box.upperfence[0] == 540
    assert "Fuzhou (抚州)" in fuzhou.title
    assert "documented scale 0–1000" in fuzhou.figure.layout.xaxis2.title.text
    meritown = charts[1]
    assert "no band" in _shares(meritown)  # wang's 1158 is in no documented band
    assert "no documented scale" in meritown.figure.layout.xaxis2.title.text


def test_a_city_from_frames_alone(example: Any) -> None:
    """A population of 200,000 as a columnar backend would give it: scores as floats, no
    ledger; the figures carry aggregates only."""
    n = 200_000
    rng = np.random.default_rng(7)
    ids = [f"p{i}" for i in range(n)]
    scores = rng.normal(500, 60, n).round().clip(0, 1000)
    bands = np.where(scores >= 600, "Superior credit",
                     np.where(scores >= 500, "Good credit", "Slightly dishonest"))
    outcomes = pd.DataFrame({"subject": ids, "scheme": "fuzhou_yuming", "score": scores,
                             "band": bands})
    born = pd.to_datetime("1940-01-01") + pd.to_timedelta(rng.integers(0, 80 * 365, n), "D")
    subjects = pd.DataFrame({
        "id": ids, "kind": "person", "born": born.date,
        "residence": rng.choice(["urban", "rural"], n), "hukou": rng.choice(["local", None], n),
        "roles": [["farmer"] if i % 3 == 0 else [] for i in range(n)]})
    scheme = next(s for s in example.schemes if s.id == "fuzhou_yuming")
    html = population_section(outcomes, subjects, [scheme], on=date(2021, 1, 1),
                              first_figure=5)
    assert 'id="figure-5"' in html and "200,000 subjects" in html
    assert len(html) < 200_000, "aggregates only: the page does not grow with the city"
    chart = population_charts(outcomes, subjects, [scheme], on=date(2021, 1, 1))[0]
    groups = list(chart.figure.data[0].y)
    assert groups[0] == "everyone (200,000)"
    assert [g.split(" (")[0] for g in groups if g.startswith("age: ")] == \
        [f"age: {label}" for _, label in AGE_BANDS]
    assert any(g.startswith("hukou: not given") for g in groups)
    assert any(g.startswith("role: no role") for g in groups)


def test_shown_when_the_history_is_large(example: Any, monkeypatch: Any) -> None:
    import creditlab.engine.views.report as report_module

    assert 'id="population"' not in build_report(example)
    monkeypatch.setattr(report_module, "POPULATION_FROM", 3)
    page = build_report(example, subjects=["lu"])
    assert 'id="population"' in page and 'href="#population"' in page
    assert 'id="population"' not in build_report(example, population=False)
    assert POPULATION_FROM == 50
