"""The column types of creditlab's frames, and a typed frame built from records.

A frame's columns are declared as (name, type) pairs (`Columns`): a pandas dtype name
(`Float64`, `Int64`, `string`, `boolean`), `DATE` (pyarrow `date32`) or `LIST` (pyarrow
`list<string>`; `"list"` in a declaration). `records_frame` builds a frame from JSON
records by such a declaration, and `column_dtype` and `type_name` map a type name to its
dtype and back, so the frames (`frames`) and their files (`frame_files`) agree on them."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import date, datetime
from typing import Any

import pandas as pd

from creditlab.engine.canonical import dumps, plain

__all__ = [
    "DATE",
    "LIST",
    "Columns",
    "column_dtype",
    "records_frame",
    "type_name",
]


Columns = Sequence[tuple[str, str]]


LIST = "list<string>"
"""A list column's type name in `columns`: pyarrow `list<string>` in a frame and in Parquet,
the items joined with "; " in CSV."""
DATE = "date"
"""A date column's type name in `columns`: pyarrow `date32` in a frame and in Parquet,
ISO 8601 (2020-03-02) in CSV."""


def column_dtype(name: str) -> Any:
    """The pandas dtype of a column type name ("list", "date" or a pandas dtype)."""
    import pyarrow as pa

    if name in ("list", LIST):
        return pd.ArrowDtype(pa.list_(pa.string()))
    if name == DATE:
        return pd.ArrowDtype(pa.date32())
    return name


def type_name(dtype: Any) -> str:
    """The name `columns` gives a frame's dtype (the inverse of `column_dtype`)."""
    if isinstance(dtype, pd.ArrowDtype):
        import pyarrow as pa

        if pa.types.is_list(dtype.pyarrow_dtype):
            return LIST
        if pa.types.is_date32(dtype.pyarrow_dtype):
            return DATE
    return str(dtype)


def _item(value: Any) -> str:
    return value if isinstance(value, str) else dumps(value)


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


def _cell(value: Any, dtype: str) -> Any:
    if dtype == "list":
        return [_item(v) for v in value] if isinstance(value, list) else \
            ([] if value is None else [_item(value)])
    if value is None:
        return None
    if dtype == DATE:
        return _day(value)
    if isinstance(value, list):
        return "; ".join(str(v) for v in value) if value else None
    if isinstance(value, dict):
        return dumps(value)
    if dtype == "Float64":
        return float(value)
    if dtype == "string":
        return str(value)
    return value


def records_frame(records: Iterable[Mapping[str, Any]], columns: Columns,
                  manifest: Mapping[str, Any], digest: str) -> pd.DataFrame:
    """A frame of `records` with exactly `columns`, typed, and the result's manifest and
    digest in its attrs."""
    rows = [dict(r) for r in records]
    data = {name: pd.array([_cell(_plain_cell(r.get(name), dtype), dtype) for r in rows],
                           dtype=column_dtype(dtype))
            for name, dtype in columns}
    frame = pd.DataFrame(data, columns=[name for name, _ in columns])
    frame.attrs = {"manifest": plain(dict(manifest)), "digest": digest}
    return frame


def _plain_cell(value: Any, dtype: str) -> Any:
    """A record's value as JSON would have it, a date kept a date for a date column."""
    return value if dtype == DATE and isinstance(value, date) else plain(value)
