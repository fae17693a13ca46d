"""Scenario files (`tests/scenarios/<scheme>/*.yaml`): a history, a scheme, and the outcome
the source's words give. Each file is one test; expectations compare only the keys given.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from creditlab.engine import replay, shipped_scheme, shipped_schemes, shipped_vocabulary
from creditlab.engine.canonical import plain
from creditlab.engine.describe import entry_record
from creditlab.engine.errors import HistoryError
from creditlab.engine.inputs.history import parse_history
from creditlab.engine.inputs.located import Located, load_yaml

SCENARIOS = Path(__file__).parent / "scenarios"
FILES = sorted(SCENARIOS.glob("*/*.yaml"))
SCENARIO_KEYS = ("name", "scheme", "covers", "quote", "expect", "note")


def _load(path: Path) -> tuple[dict[str, Any], Any]:
    located = load_yaml(path, HistoryError)
    data = located.data
    history = {k: v for k, v in data.items() if k not in SCENARIO_KEYS}
    return data, parse_history(Located(history, located.file, located.lines), "sha256:test",
                               shipped_vocabulary())


@pytest.mark.parametrize("path", FILES, ids=[f"{p.parent.name}/{p.stem}" for p in FILES])
def test_scenario(path: Path) -> None:
    data, history = _load(path)
    assert path.parent.name == data["scheme"], f"{path}: folder and scheme differ"
    scheme = shipped_scheme(data["scheme"])
    # A scenario names the rules it covers; only a scheme without rules has none to name.
    assert isinstance(data.get("covers"), list), f"{path}: 'covers' lists rule ids"
    assert data["covers"] or not scheme.rules, f"{path}: a scenario names the rules it covers"
    for rule_id in data["covers"]:
        assert scheme.rule(rule_id) is not None, f"{path}: covers unknown rule {rule_id}"
    result = replay(history, [scheme])
    expect = data["expect"]
    results = {r.subject: plain(r.as_dict()) for r in result.results}
    for want in expect.get("results", []):
        got = results[want["subject"]]
        for key, value in want.items():
            assert got[key] == plain(value), (
                f"{path.name}: {want['subject']}.{key} is {got[key]!r}, expected {value!r}")
    if "ledger" in expect:
        ledger = [plain(entry_record(e)) for e in result.ledger]
        assert len(ledger) == len(expect["ledger"]), (
            f"{path.name}: {len(ledger)} ledger entries, expected {len(expect['ledger'])}: "
            + ", ".join(f"{e['event']}/{e['rule']}" for e in ledger))
        for got, want in zip(ledger, expect["ledger"], strict=True):
            for key, value in want.items():
                assert got[key] == plain(value), (
                    f"{path.name}: ledger {want.get('event')}/{want.get('rule')}.{key} is "
                    f"{got[key]!r}, expected {value!r}")


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
