"""Scenario files (`tests/scenarios/<scheme>/*.yaml`): a history, a scheme, and the outcome
the source's words give. Each file is one test; expectations compare only the keys given.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from creditlab.engine import shipped_schemes
from creditlab.engine.canonical import plain
from creditlab.engine.checks.scenario_tests import check, load_test
from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.located import load_yaml

SCENARIOS = Path(__file__).parent / "scenarios"
FILES = sorted(SCENARIOS.glob("*/*.yaml"))


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_scenario(path: Path) -> None:
    """The semantics of `creditlab test` (creditlab.engine.checks.scenario_tests), plus the
    shipped scenarios' own rules: one scheme, named by its folder, and the rules covered."""
    test = load_test(path)
    assert [s.id for s in test.schemes] == [path.parent.name], (
        f"{path}: folder and scheme differ")
    scheme = test.schemes[0]
    # A scenario names the rules it covers; only a scheme without rules has none to name.
    assert isinstance(test.located.data.get("covers"), list), f"{path}: 'covers' lists rule ids"
    assert test.covers or not scheme.rules, f"{path}: a scenario names the rules it covers"
    mismatches = check(test)
    assert not mismatches, f"{path.name}: " + "; ".join(m.message for m in mismatches)


def test_every_rule_has_a_scenario() -> None:
    """One scenario test per encoded rule (issue 2): find the rules no scenario covers."""
    covered: dict[str, set[str]] = {}
    for path in FILES:
        data = load_yaml(path, HistoryError).data
        covered.setdefault(data["scheme"], set()).update(data.get("covers", []))
    missing = [f"{s.id}:{r.id}" for s in shipped_schemes() for r in s.rules
               if r.id not in covered.get(s.id, set())]
    assert not missing, f"rules without a scenario: {', '.join(missing)}"


def test_decimal_points_stay_exact() -> None:
    assert plain(Decimal("0.5")) == 0.5 and plain(Decimal("1000")) == 1000
