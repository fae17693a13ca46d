"""The columnar backend's tables: the ledger's dictionary columns hold the values of
`LEDGER_SCHEMA`'s strings, the numbers are exact `decimal128(38, 9)` for every int64 of
millionths, and the tables do not depend on the order of the history's rows."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from creditlab.engine import shipped_schemes, shipped_vocabulary
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.scoring.columnar.entries import decimals
from creditlab.engine.scoring.columnar.ledger_table import LEDGER_TYPES
from creditlab.engine.scoring.columnar.replay import replay_columnar
from creditlab.engine.scoring.columnar.table import events_table, subjects_table
from creditlab.engine.scoring.digest import replay_digest
from creditlab.engine.scoring.replay import replay
from creditlab.engine.scoring.tables import LEDGER_SCHEMA

ROOT = Path(__file__).resolve().parent.parent
SCHEMES = sorted(shipped_schemes(), key=lambda s: s.id)
EXAMPLE = load_history(ROOT / "fixtures" / "example.yaml", shipped_vocabulary())


@pytest.fixture(scope="module")
def example() -> tuple[pa.Table, pa.Table]:
    done = replay_columnar(events_table(EXAMPLE), subjects_table(EXAMPLE), SCHEMES,
                           starting=EXAMPLE.starting, end=EXAMPLE.end)
    return done.results, done.ledger


def _plain(ledger: pa.Table) -> pa.Table:
    return ledger.cast(LEDGER_SCHEMA)


def test_the_ledger_has_the_schemas_values(example: tuple[pa.Table, pa.Table]) -> None:
    results, ledger = example
    assert ledger.schema == LEDGER_TYPES
    assert ledger.num_rows > 0
    plain = _plain(ledger)
    assert plain.schema == LEDGER_SCHEMA
    # The same digest from the dictionary columns and from their strings, and from the
    # durable replay.
    assert replay_digest(results, ledger) == replay_digest(results, plain) == replay(
        EXAMPLE, SCHEMES).digest


def test_dictionaries_are_sorted_and_distinct(example: tuple[pa.Table, pa.Table]) -> None:
    _, ledger = example
    for field in LEDGER_TYPES:
        if pa.types.is_dictionary(field.type):
            values = ledger.column(field.name).combine_chunks().dictionary.to_pylist()
            assert values == sorted(set(values)), field.name


def test_band_columns_keep_their_nulls(example: tuple[pa.Table, pa.Table]) -> None:
    _, ledger = example
    for name in ("band_before", "band_after"):
        assert ledger.column(name).null_count == _plain(ledger).column(name).null_count
    assert ledger.column("points").null_count == _plain(ledger).column("points").null_count


def test_the_ledger_reads_back_from_parquet(example: tuple[pa.Table, pa.Table],
                                            tmp_path: Path) -> None:
    results, ledger = example
    pq.write_table(ledger, tmp_path / "ledger.parquet")
    again = pq.read_table(tmp_path / "ledger.parquet")
    assert _plain(again).equals(_plain(ledger))
    assert replay_digest(results, again) == replay_digest(results, ledger)


def test_an_empty_ledger_has_the_same_columns() -> None:
    done = replay_columnar(events_table(EXAMPLE).slice(0, 0), subjects_table(EXAMPLE),
                           SCHEMES, end=None)
    assert done.ledger.schema == LEDGER_TYPES and done.ledger.num_rows == 0


EDGES = [0, 1, -1, 999_999, -999_999, 2**32, -(2**32), 2**32 - 1, -(2**32) - 1,
         (2**63) // 1000, -((2**63) // 1000), 10**18 - 1, -(10**18) + 1, 2**63 - 1, -(2**63)]


@settings(max_examples=50, deadline=None, database=None)
@given(values=st.lists(st.integers(-(2**63), 2**63 - 1), max_size=40),
       nulls=st.lists(st.booleans(), max_size=55))
def test_decimals_are_exact_for_every_int64(values: list[int], nulls: list[bool]) -> None:
    values = EDGES + values
    valid = np.array([not (nulls[i] if i < len(nulls) else False)
                      for i in range(len(values))])
    column = decimals(np.array(values, np.int64), valid)
    assert column.type == pa.decimal128(38, 9)
    assert column.to_pylist() == [Decimal(v).scaleb(-6) if ok else None
                                  for v, ok in zip(values, valid, strict=True)]
    assert decimals(np.array(values, np.int64)).to_pylist() == [
        Decimal(v).scaleb(-6) for v in values]
