"""CSV and Parquet files of frames that load anywhere, with their provenance.

Every file written here carries the frame's provenance (`provenance`: manifest, digest
and the column types):

- Parquet: typed columns (`date32`, `list<string>`, `double`, `int64`, ...), so any
  Parquet reader gets dates and lists; the provenance in the file's key-value metadata
  under `creditlab`. `read_parquet` puts it back on the frame;
- CSV: a plain CSV, the header first, that any tool loads with default options. Dates are
  ISO 8601, numbers are written as the JSON writes them (1000, 520.5), lists are joined
  with "; ", an empty field is a null (or an empty list). Written to a path, the
  provenance goes beside it in `PATH.manifest.json` (`sidecar`); `read_csv(path)` reads it
  to restore the column types and attrs (a stream has none: pass `meta=`).

`read_csv(to_csv(frame))` and `read_parquet(to_parquet(frame))` equal `frame`, attrs
included (the tests check it; a list item containing "; " does not survive CSV).

CSV text cells are protected against formula injection (OWASP's rule): a text cell that
begins with `=`, `+`, `-`, `@`, a tab or a carriage return, after any number of `'`, gets
one more `'` in front, so a spreadsheet shows it as text instead of running it. Numbers
are never touched (-50 stays a number, in a number column or written as text).
`read_csv` takes exactly that one `'` off again; other readers see it, as OWASP intends.

Files (and sidecars) are written through `creditlab.engine.views.files`: a temporary
file renamed into place, never through a link or a device, an existing file replaced only
with `overwrite=True`, and a failed write leaves the target as it was."""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping
from datetime import date
from pathlib import Path
from typing import IO, Any

import pandas as pd

from creditlab.engine.canonical import dumps

from .files import PathLike, check_target, replacing
from .frame_columns import DATE, LIST, column_dtype, type_name

__all__ = [
    "LIST_SEPARATOR",
    "PARQUET_KEY",
    "SIDECAR_SUFFIX",
    "escape_formula",
    "provenance",
    "read_csv",
    "read_parquet",
    "sidecar",
    "to_csv",
    "to_parquet",
    "write_sidecar",
]


PARQUET_KEY = b"creditlab"
SIDECAR_SUFFIX = ".manifest.json"
LIST_SEPARATOR = "; "


def provenance(frame: pd.DataFrame) -> dict[str, Any]:
    """What a file of `frame` says about itself: manifest, digest and column types."""
    return {"manifest": frame.attrs.get("manifest"), "digest": frame.attrs.get("digest"),
            "columns": {str(c): type_name(t) for c, t in frame.dtypes.items()}}


def sidecar(path: PathLike) -> Path:
    """Where the provenance of the CSV file `path` is written: `PATH.manifest.json`."""
    return Path(os.fspath(path) + SIDECAR_SUFFIX)


_FORMULA = re.compile(r"'*[=+\-@\t\r]")
"""A text cell a spreadsheet would read as a formula (after any `'` already there)."""


_NUMBER = re.compile(r"[+-]?[0-9]+(\.[0-9]+)?([eE][+-]?[0-9]+)?")


def escape_formula(text: str) -> str:
    """`text` with a `'` in front when a spreadsheet would read it as a formula; a number
    written as text (-50, 0.5) is left as it is: a spreadsheet reads it as that number."""
    return "'" + text if _FORMULA.match(text) and not _NUMBER.fullmatch(text) else text


def _unescape_formula(text: str) -> str:
    return text[1:] if text.startswith("'") and _FORMULA.match(text, 1) else text


def _is_text(dtype: Any) -> bool:
    return bool(pd.api.types.is_string_dtype(dtype) or pd.api.types.is_object_dtype(dtype))


def _map_text(frame: pd.DataFrame, change: Callable[[str], str]) -> pd.DataFrame:
    out = frame.copy()
    for name in out.columns:
        if _is_text(out[name].dtype):
            column = out[name]
            out[name] = column.map(lambda v: change(v) if isinstance(v, str) else v,
                                   na_action="ignore").astype(column.dtype)
    return out


def _csv_text(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its list cells joined with "; " and its dates in ISO 8601."""
    out = frame.copy()
    for name, dtype in frame.dtypes.items():
        kind = type_name(dtype)
        if kind == LIST:
            out[name] = pd.array([LIST_SEPARATOR.join(v) if v is not None and len(v) else None
                                  for v in frame[name]], dtype="string")
        elif kind == DATE:
            out[name] = pd.array([None if pd.isna(v) else v.isoformat() for v in frame[name]],
                                 dtype="string")
    return out


def _csv_numbers(frame: pd.DataFrame) -> pd.DataFrame:
    """`frame` with its decimal numbers as the JSON output writes them."""
    out = frame.copy()
    for name, dtype in frame.dtypes.items():
        if str(dtype) == "Float64":
            out[name] = pd.array([None if pd.isna(v) else _number(float(v))
                                  for v in frame[name]], dtype="string")
    return out


def _number(value: float) -> str:
    """A number as the JSON output writes it: 1000, -50, 520.5 (not 1000.0)."""
    return str(int(value)) if value.is_integer() else repr(value)


def to_csv(frame: pd.DataFrame, target: PathLike | IO[str], *, overwrite: bool = False,
           inputs: Iterable[PathLike] = ()) -> None:
    """Write `frame` as a plain CSV (a header, then one line per row); to a path, also its
    provenance beside it in `PATH.manifest.json` (see `sidecar`).

    A path is written safely (see the module's docstring); `overwrite=True` replaces an
    existing file, never one of `inputs`.
    """
    def write(out: IO[str]) -> None:
        text = _csv_numbers(_map_text(_csv_text(frame), escape_formula))
        text.to_csv(out, index=False, lineterminator="\n")

    if isinstance(target, (str, os.PathLike)):
        inputs = tuple(inputs)
        check_target(sidecar(target), overwrite=overwrite, inputs=inputs)
        with replacing(target, overwrite=overwrite, inputs=inputs, newline="") as handle:
            write(handle)
        write_sidecar(frame, target, overwrite=overwrite, inputs=inputs)
    else:
        write(target)


def write_sidecar(frame: pd.DataFrame, target: PathLike, *, overwrite: bool = False,
                  inputs: Iterable[PathLike] = ()) -> Path:
    """Write the provenance of `frame` (see `provenance`) beside the CSV file `target`."""
    path = sidecar(target)
    with replacing(path, overwrite=overwrite, inputs=inputs) as handle:
        handle.write(dumps(provenance(frame), indent=2) + "\n")
    return path


def read_csv(source: str | Path | IO[str], *,
             meta: Mapping[str, Any] | None = None) -> pd.DataFrame:
    """A frame written by `to_csv`, with its column types, manifest and digest, read from
    the file's sidecar (`PATH.manifest.json`), or from `meta` (the sidecar's contents) for
    a stream. Without either, `ValueError`."""
    if meta is None:
        if not isinstance(source, (str, Path)):
            raise ValueError("a CSV stream has no sidecar: give meta=(its manifest.json)")
        try:
            meta = json.loads(sidecar(source).read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ValueError(f"not a creditlab CSV: {sidecar(source)} is missing") from None
    assert meta is not None
    columns: dict[str, str] = dict(meta["columns"])

    def read(handle: IO[str]) -> pd.DataFrame:
        as_text = {name: "string" if kind in (LIST, DATE) else kind
                   for name, kind in columns.items()}
        frame = _map_text(pd.read_csv(handle, dtype=as_text, keep_default_na=False,
                                      na_values=[""]), _unescape_formula)
        for name, kind in columns.items():
            if kind == LIST:
                frame[name] = pd.array([[] if pd.isna(v) else str(v).split(LIST_SEPARATOR)
                                        for v in frame[name]], dtype=column_dtype(LIST))
            elif kind == DATE:
                frame[name] = pd.array([None if pd.isna(v) else date.fromisoformat(v)
                                        for v in frame[name]], dtype=column_dtype(DATE))
        frame.attrs = {"manifest": meta["manifest"], "digest": meta["digest"]}
        return frame

    if isinstance(source, (str, Path)):
        with open(source, encoding="utf-8", newline="") as handle:
            return read(handle)
    return read(source)


def to_parquet(frame: pd.DataFrame, target: PathLike | io.BytesIO, *,
               overwrite: bool = False, inputs: Iterable[PathLike] = ()) -> None:
    """Write `frame` as Parquet, manifest and digest in the file's key-value metadata.

    A path is written safely (see the module's docstring); `overwrite=True` replaces an
    existing file, never one of `inputs`.
    """
    import pyarrow as pa
    import pyarrow.parquet as pq

    table = pa.Table.from_pandas(frame, preserve_index=False)
    metadata = dict(table.schema.metadata or {})
    if b"pandas" in metadata:
        metadata[b"pandas"] = _readable_pandas_metadata(metadata[b"pandas"])
    metadata[PARQUET_KEY] = dumps(provenance(frame)).encode("utf-8")
    table = table.replace_schema_metadata(metadata)
    if isinstance(target, (str, os.PathLike)):
        # pyarrow is handed a file, not the path: given a path, it unlinks it on failure.
        with replacing(target, overwrite=overwrite, inputs=inputs, binary=True) as handle:
            pq.write_table(table, handle)
    else:
        pq.write_table(table, target)


def _arrow_types(arrow_type: Any) -> Any:
    """pandas dtypes for Parquet's dates and lists: kept as pyarrow types, not objects."""
    import pyarrow as pa

    if pa.types.is_date32(arrow_type) or pa.types.is_list(arrow_type):
        return pd.ArrowDtype(arrow_type)
    return None


def _readable_pandas_metadata(raw: bytes) -> bytes:
    """pyarrow's pandas metadata with a list column's dtype as `object`: pandas cannot
    parse the name `list<item: string>[pyarrow]` back, and `pd.read_parquet` would fail."""
    meta = json.loads(raw)
    for column in meta.get("columns", []):
        if str(column.get("numpy_type", "")).startswith("list<"):
            column["numpy_type"] = "object"
    return json.dumps(meta).encode("utf-8")


def read_parquet(source: str | Path | io.BytesIO) -> pd.DataFrame:
    """A frame written by `to_parquet`, with its manifest and digest in `attrs`."""
    import pyarrow.parquet as pq

    table = pq.read_table(source)
    meta = json.loads((table.schema.metadata or {}).get(PARQUET_KEY, b"{}"))
    frame = table.to_pandas(types_mapper=_arrow_types)
    frame.attrs = {"manifest": meta.get("manifest"), "digest": meta.get("digest")}
    return frame
