"""pandas frames of every result, and CSV and Parquet files that load anywhere.

Every frame is built from the result's JSON (`as_dict`), one row per record, so a frame
says what the JSON says: numbers as nullable floats (`Float64`; scores are exact decimals
in the engine, and every score with at most 6 decimal places has a float that prints back
the same), counts as nullable integers (`Int64`), text as `string`, yes/no as `boolean`,
days as pyarrow `date32` (`DATE`), lists (flags, rules, effects, ...) as pyarrow
`list<string>` (`LIST`; an empty list, never a null); mappings (attributes, quantities)
are canonical JSON text.

Every frame carries `frame.attrs["manifest"]` (creditlab version, history and scheme
hashes, the analysis and its parameters) and `frame.attrs["digest"]` (the result's own
digest), and so does every file written here (`provenance`: manifest, digest and the
column types):

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
with `overwrite=True`, and a failed write leaves the target as it was.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import IO, Any

import pandas as pd

from creditlab.engine.analysis.compare import Diff, Population
from creditlab.engine.analysis.exchange import Exchange
from creditlab.engine.analysis.matrix import Matrix
from creditlab.engine.canonical import dumps, plain
from creditlab.engine.describe import entry_record
from creditlab.engine.scoring.replay import Replay

from .files import PathLike, check_target, replacing

__all__ = [
    "compare_frames",
    "diff_events_frame",
    "diff_subjects_frame",
    "escape_formula",
    "exchange_frame",
    "ledger_frame",
    "matrix_frame",
    "provenance",
    "read_csv",
    "read_parquet",
    "results_frame",
    "sidecar",
    "to_csv",
    "to_parquet",
    "write_sidecar",
]

PARQUET_KEY = b"creditlab"
SIDECAR_SUFFIX = ".manifest.json"
LIST_SEPARATOR = "; "

Columns = Sequence[tuple[str, str]]


LIST = "list<string>"
"""A list column's type name in `columns`: pyarrow `list<string>` in a frame and in Parquet,
the items joined with "; " in CSV."""
DATE = "date"
"""A date column's type name in `columns`: pyarrow `date32` in a frame and in Parquet,
ISO 8601 (2020-03-02) in CSV."""


def _dtype(name: str) -> Any:
    """The pandas dtype of a column type name ("list", "date" or a pandas dtype)."""
    import pyarrow as pa

    if name in ("list", LIST):
        return pd.ArrowDtype(pa.list_(pa.string()))
    if name == DATE:
        return pd.ArrowDtype(pa.date32())
    return name


def _type_name(dtype: Any) -> str:
    """The name `columns` gives a frame's dtype (the inverse of `_dtype`)."""
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


def _frame(records: Iterable[Mapping[str, Any]], columns: Columns, manifest: Mapping[str, Any],
           digest: str) -> pd.DataFrame:
    rows = [dict(r) for r in records]
    data = {name: pd.array([_cell(_plain_cell(r.get(name), dtype), dtype) for r in rows],
                           dtype=_dtype(dtype))
            for name, dtype in columns}
    frame = pd.DataFrame(data, columns=[name for name, _ in columns])
    frame.attrs = {"manifest": plain(dict(manifest)), "digest": digest}
    return frame


def _plain_cell(value: Any, dtype: str) -> Any:
    """A record's value as JSON would have it, a date kept a date for a date column."""
    return value if dtype == DATE and isinstance(value, date) else plain(value)


# --- replays ---------------------------------------------------------------------------

_RESULTS: Columns = (("subject", "string"), ("scheme", "string"), ("start", "Float64"),
                     ("score", "Float64"), ("band", "string"), ("flags", "list"),
                     ("events_scored", "Int64"), ("events_unscored", "Int64"))
_LEDGER: Columns = (("kind", "string"), ("at", "date"), ("event", "string"),
                    ("type", "string"), ("subject", "string"), ("scheme", "string"),
                    ("rule", "string"), ("points", "Float64"), ("applied", "Float64"),
                    ("score_before", "Float64"), ("score_after", "Float64"),
                    ("band_before", "string"), ("band_after", "string"),
                    ("effects", "list"), ("note", "string"), ("fidelity", "string"),
                    ("source_file", "string"), ("source_line", "Int64"), ("quote", "string"))


def results_frame(result: Replay) -> pd.DataFrame:
    """One row per (subject, scheme): the final standings of a replay."""
    return _frame((r.as_dict() for r in result.results), _RESULTS, result.manifest,
                  result.digest)


def ledger_frame(result: Replay) -> pd.DataFrame:
    """One row per ledger entry, in replay order: its kind and day, the event's type, what
    it did in words, and the rule's source (a seed's file and line, or an external
    source's address) with its quote."""
    rows = ({**entry_record(e), "source_file": _source_file(e.source),
             "source_line": e.source.get("line"), "quote": e.source.get("quote")}
            for e in result.ledger)
    return _frame(rows, _LEDGER, result.manifest, result.digest)


def _source_file(source: Mapping[str, Any]) -> str | None:
    if source.get("kind") == "seed":
        return str(source.get("file"))
    return str(source["url"]) if source.get("url") else None


# --- analyses ---------------------------------------------------------------------------

_DIFF_SUBJECTS: Columns = (
    ("subject", "string"), ("agree", "boolean"), ("scheme", "string"), ("status", "string"),
    ("start", "Float64"), ("score", "Float64"), ("change", "Float64"), ("band", "string"),
    ("flags", "list"), ("share_of_scale", "Float64"), ("share_of_scale_reason", "string"),
    ("band_rank", "Int64"), ("band_rank_reason", "string"))
_DIFF_EVENTS: Columns = (
    # `at` keeps the event's time of day where it has one (ISO 8601 text), so not a date.
    ("order", "Int64"), ("event", "string"), ("subject", "string"), ("at", "string"),
    ("type", "string"), ("attrs", "string"), ("agree", "boolean"),
    ("effects_differ", "boolean"), ("points_spread", "Float64"), ("scored_by", "Int64"),
    ("applicable", "Int64"), ("scheme", "string"), ("status", "string"),
    ("points", "Float64"), ("given", "Float64"), ("rules", "list"), ("effects", "list"),
    ("notes", "list"), ("citations", "list"), ("fidelity", "string"),
    ("score_after", "Float64"), ("band_after", "string"))


def diff_subjects_frame(d: Diff) -> pd.DataFrame:
    """One row per (subject, scheme) of a diff: standings side by side, long format."""
    rows = ({"subject": s["subject"], "agree": s["agree"], "scheme": k, **v}
            for s in d.body()["subjects"] for k, v in s["schemes"].items())
    return _frame(rows, _DIFF_SUBJECTS, d.manifest, d.digest)


def diff_events_frame(d: Diff) -> pd.DataFrame:
    """One row per (divergent event, scheme), most divergent events first (`order`)."""
    rows = ({"order": i, **{k: v for k, v in e.items() if k not in ("schemes", "divergence")},
             **e["divergence"], "scheme": k, **v}
            for i, e in enumerate(d.body()["events"], start=1)
            for k, v in e["schemes"].items())
    return _frame(rows, _DIFF_EVENTS, d.manifest, d.digest)


_MATRIX: Columns = (
    ("behaviour", "string"), ("attrs", "string"), ("scheme", "string"), ("status", "string"),
    ("points", "Float64"), ("given", "Float64"), ("pct_of_scale", "Float64"),
    ("pct_reason", "string"), ("band_before", "string"), ("band_after", "string"),
    ("band_steps", "Int64"), ("band_reason", "string"), ("effect", "string"),
    ("flags", "list"), ("rules", "list"), ("notes", "list"), ("row_notes", "list"))


def matrix_frame(m: Matrix) -> pd.DataFrame:
    """One row per (behaviour, scheme) cell of the matrix."""
    rows = ({"behaviour": r["behaviour"], "attrs": r["attrs"], "row_notes": r["notes"],
             "scheme": k, **v} for r in m.body()["rows"] for k, v in r["cells"].items())
    return _frame(rows, _MATRIX, m.manifest, m.digest)


_EXCHANGE: Columns = (
    ("scheme", "string"), ("act_attrs", "string"), ("act_size", "string"),
    ("status", "string"), ("reason", "string"), ("offence_points", "Float64"),
    ("offence_effects", "list"), ("offence_rules", "list"), ("act_points", "Float64"),
    ("act_rules", "list"), ("acts", "Int64"), ("quantity", "string"),
    ("first_act", "date"), ("last_act", "date"), ("days", "Int64"),
    ("restored_on", "date"), ("limits", "list"), ("start", "Float64"),
    ("score_after", "Float64"), ("band_before", "string"), ("band_after", "string"),
    ("replay_digest", "string"))


def exchange_frame(x: Exchange) -> pd.DataFrame:
    """One row per (scheme, act size): acts needed, total quantity, time, or why not."""
    rows = ({**r, "offence_points": r["offence"]["points"],
             "offence_effects": r["offence"]["effects"], "offence_rules": r["offence"]["rules"],
             "act_points": r["act"]["points"], "act_rules": r["act"]["rules"]}
            for r in x.body()["rows"])
    return _frame(rows, _EXCHANGE, x.manifest, x.digest)


_BANDS: Columns = (("scheme", "string"), ("band", "string"), ("rank", "Int64"),
                   ("count", "Int64"), ("share", "Float64"))
_AGREEMENT: Columns = (("scheme_a", "string"), ("scheme_b", "string"), ("subjects", "Int64"),
                       ("tau", "Float64"), ("p_value", "Float64"), ("reason", "string"))
_FLIPS: Columns = (("scheme_a", "string"), ("scheme_b", "string"), ("band_a", "string"),
                   ("band_b", "string"), ("count", "Int64"), ("subjects", "list"))
_EXTREMES: Columns = (("subject", "string"), ("top_in", "string"), ("bottom_in", "string"),
                      ("percentile_top", "Float64"), ("percentile_bottom", "Float64"))


def compare_frames(p: Population) -> dict[str, pd.DataFrame]:
    """The population comparison as frames: bands, agreement, flips, extremes."""
    body = p.body()
    return {name: _frame(body[name], columns, p.manifest, p.digest)
            for name, columns in (("bands", _BANDS), ("agreement", _AGREEMENT),
                                  ("flips", _FLIPS), ("extremes", _EXTREMES))}


# --- files ------------------------------------------------------------------------------


def provenance(frame: pd.DataFrame) -> dict[str, Any]:
    """What a file of `frame` says about itself: manifest, digest and column types."""
    return {"manifest": frame.attrs.get("manifest"), "digest": frame.attrs.get("digest"),
            "columns": {str(c): _type_name(t) for c, t in frame.dtypes.items()}}


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
        kind = _type_name(dtype)
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
                                        for v in frame[name]], dtype=_dtype(LIST))
            elif kind == DATE:
                frame[name] = pd.array([None if pd.isna(v) else date.fromisoformat(v)
                                        for v in frame[name]], dtype=_dtype(DATE))
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
