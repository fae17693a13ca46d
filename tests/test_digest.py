"""The replay digest is computed by subject, so partitions of a history give the same digest."""

from __future__ import annotations

from decimal import Decimal

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditlab.engine import load_history, shipped_vocabulary
from creditlab.engine.inputs.catalog import shipped_schemes
from creditlab.engine.inputs.history import History
from creditlab.engine.scoring.digest import Combiner, combine, replay_digest, subject_digests
from creditlab.engine.scoring.replay import Replay, replay
from creditlab.engine.scoring.tables import NUMBER, ledger_table, results_table

from conftest import ROOT


def _tables(r: Replay) -> tuple[pa.Table, pa.Table]:
    ids = [s.id for s in r.schemes]
    return results_table(r.results), ledger_table(r.ledger, ids, [0] * len(r.ledger))


def _part(history: History, subjects: set[str]) -> History:
    return history.model_copy(update={
        "subjects": {k: v for k, v in history.subjects.items() if k in subjects},
        "events": tuple(e for e in history.events if e.subject in subjects),
        "starting": tuple(p for p in history.starting if p.subject in subjects),
    })


@pytest.fixture(scope="module")
def example() -> tuple[History, Replay]:
    history = load_history(ROOT / "fixtures" / "example.yaml", shipped_vocabulary())
    # Partitions are evaluated on the whole history's last day, as a city's partitions are.
    history = history.model_copy(update={"as_of": history.end})
    return history, replay(history, shipped_schemes())


@settings(max_examples=15, deadline=None)
@given(data=st.data())
def test_partitions_give_the_whole_replays_digest(example: tuple[History, Replay],
                                                   data: st.DataObject) -> None:
    history, whole = example
    names = sorted(history.subjects)
    labels = data.draw(st.lists(st.integers(0, 2), min_size=len(names), max_size=len(names)))
    parts = [{n for n, label in zip(names, labels, strict=True) if label == k} for k in range(3)]
    digests = []
    for part in parts:
        if part:
            digests.append(subject_digests(*_tables(replay(_part(history, part),
                                                             shipped_schemes()))))
    assert combine(reversed(digests)) == whole.digest


def test_partitions_in_subject_order_combine_as_they_come(example: tuple[History, Replay]
                                                          ) -> None:
    history, whole = example
    names = sorted(history.subjects)
    parts = [subject_digests(*_tables(replay(_part(history, set(names[i:i + 2])),
                                             shipped_schemes())))
             for i in range(0, len(names), 2)]
    combiner = Combiner(in_order=True)
    for part in parts:
        combiner.add(part)
    assert combiner.value() == whole.digest
    held = Combiner()
    for part in reversed(parts):
        held.add(part)
    assert held.value() == whole.digest
    backwards = Combiner(in_order=True)
    backwards.add(parts[-1])
    with pytest.raises(ValueError, match="subject order"):
        backwards.add(parts[0])


def test_digest_is_the_tables_digest(example: tuple[History, Replay]) -> None:
    _, whole = example
    assert replay_digest(*_tables(whole)) == whole.digest


@pytest.mark.parametrize("column", ["score", "band", "flags", "events_scored"])
def test_any_changed_result_changes_the_digest(example: tuple[History, Replay],
                                               column: str) -> None:
    _, whole = example
    results, ledger = _tables(whole)
    values = results.column(column).to_pylist()
    if column == "band":
        values[0] = "Z"
    elif column == "flags":
        values[0] = ["blacklisted"]
    else:
        values[0] += 1
    altered = results.set_column(results.schema.get_field_index(column),
                                 results.schema.field(column), pa.array(values,
                                                                       results.schema.field(
                                                                           column).type))
    assert replay_digest(altered, ledger) != whole.digest


@pytest.mark.parametrize("column", ["event", "rule", "applied", "at", "notes", "kind"])
def test_any_changed_ledger_cell_changes_the_digest(example: tuple[History, Replay],
                                                    column: str) -> None:
    _, whole = example
    results, ledger = _tables(whole)
    values = ledger.column(column).to_pylist()
    last = len(values) - 1
    values[last] = {"event": "x", "rule": "x", "applied": Decimal("0.5"),
                    "at": values[0], "notes": "[]", "kind": "lapse"}[column]
    if values[last] == ledger.column(column)[last].as_py():
        values[last] = {"at": values[1], "notes": '[{"kind":"same_act"}]'}.get(column)
    field = ledger.schema.field(column)
    altered = ledger.set_column(ledger.schema.get_field_index(column), field,
                                pa.array(values, field.type))
    assert replay_digest(results, altered) != whole.digest


def test_field_boundaries_cannot_be_faked() -> None:
    """`a` + `b:c` and `a:b` + `c` are different rows, so different digests."""
    first = pa.table({"subject": ["s"], "scheme": ["x"], "start": pa.array([Decimal(0)], NUMBER),
                      "score": pa.array([Decimal(0)], NUMBER), "band": ["a"],
                      "flags": pa.array([["b:c"]]), "events_scored": [0], "events_unscored": [0]})
    second = first.set_column(4, "band", pa.array(["a:b"])).set_column(
        5, "flags", pa.array([["c"]]))
    empty = ledger_table([], [], [])
    assert replay_digest(first, empty) != replay_digest(second, empty)


def test_a_number_is_its_value_whatever_its_decimal_type(example: tuple[History, Replay]
                                                         ) -> None:
    _, whole = example
    results, ledger = _tables(whole)
    i = results.schema.get_field_index("score")
    wider = results.set_column(i, pa.field("score", pa.decimal128(30, 4)),
                               results.column("score").cast(pa.decimal128(30, 4)))
    assert replay_digest(wider, ledger) == whole.digest


def test_a_subject_split_across_partitions_is_refused(example: tuple[History, Replay]) -> None:
    _, whole = example
    part = subject_digests(*_tables(whole))
    with pytest.raises(ValueError, match="split"):
        combine([part, part])
