"""pandas frames of every result, and CSV and Parquet files that keep their provenance.

Every frame is built from the result's JSON (`as_dict`), one row per record, so a frame
says what the JSON says: numbers as nullable floats (`Float64`; scores are exact decimals
in the engine, and every score with at most 6 decimal places has a float that prints back
the same), counts as nullable integers (`Int64`), text as `string`, yes/no as `boolean`;
lists are joined with "; " and mappings (attributes, quantities) are canonical JSON text.

Every frame carries `frame.attrs["manifest"]` (creditlab version, history and scheme
hashes, the analysis and its parameters) and `frame.attrs["digest"]` (the result's own
digest), and so does every file written here:

- Parquet: in the file's key-value metadata under `creditlab` (JSON with `manifest`,
  `digest` and `columns`); `read_parquet` puts them back on the frame;
- CSV: the first line is a comment, `# creditlab: ` followed by the same JSON; then a
  plain CSV with a header. `read_csv` reads it back with the column types; other tools can
  skip the first line (`pandas.read_csv(path, skiprows=1)`). An empty field is a null.

`read_csv(to_csv(frame))` and `read_parquet(to_parquet(frame))` equal `frame`, attrs
included (the tests check it).

CSV text cells are protected against formula injection (OWASP's rule): a text cell that
begins with `=`, `+`, `-`, `@`, a tab or a carriage return, after any number of `'`, gets
one more `'` in front, so a spreadsheet shows it as text instead of running it. Numbers
are never touched (-50 stays a number, in a number column or written as text).
`read_csv` takes exactly that one `'` off again; other readers see it, as OWASP intends.

Files are written through `creditlab.engine.views.files`: a temporary file renamed into
place, never through a link or a device, an existing file replaced only with
`overwrite=True`, and a failed write leaves the target as it was.
"""

from __future__ import annotations

import io
import json
import os
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any

import pandas as pd

from creditlab.engine.analysis.compare import Diff, Population
from creditlab.engine.analysis.exchange import Exchange
from creditlab.engine.analysis.matrix import Matrix
from creditlab.engine.canonical import dumps, plain
from creditlab.engine.describe import entry_record
from creditlab.engine.scoring.replay import Replay

from .files import PathLike, replacing

__all__ = [
    "compare_frames",
    "diff_events_frame",
    "diff_subjects_frame",
    "escape_formula",
    "exchange_frame",
    "ledger_frame",
    "matrix_frame",
    "read_csv",
    "read_parquet",
    "results_frame",
    "to_csv",
    "to_parquet",
]

CSV_MARK = "# creditlab: "
PARQUET_KEY = b"creditlab"

Columns = Sequence[tuple[str, str]]


def _cell(value: Any, dtype: str) -> Any:
    if value is None:
        return None
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
    rows = [plain(dict(r)) for r in records]
    data = {name: pd.array([_cell(r.get(name), dtype) for r in rows], dtype=dtype)
            for name, dtype in columns}
    frame = pd.DataFrame(data, columns=[name for name, _ in columns])
    frame.attrs = {"manifest": plain(dict(manifest)), "digest": digest}
    return frame


# --- replays ---------------------------------------------------------------------------

_RESULTS: Columns = (("subject", "string"), ("scheme", "string"), ("start", "Float64"),
                     ("score", "Float64"), ("band", "string"), ("flags", "string"),
                     ("events_scored", "Int64"), ("events_unscored", "Int64"))
_LEDGER: Columns = (("kind", "string"), ("at", "string"), ("event", "string"),
                    ("type", "string"), ("subject", "string"), ("scheme", "string"),
                    ("rule", "string"), ("points", "Float64"), ("applied", "Float64"),
                    ("score_before", "Float64"), ("score_after", "Float64"),
                    ("band_before", "string"), ("band_after", "string"),
                    ("effects", "string"), ("note", "string"), ("fidelity", "string"),
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
    ("flags", "string"), ("share_of_scale", "Float64"), ("share_of_scale_reason", "string"),
    ("band_rank", "Int64"), ("band_rank_reason", "string"))
_DIFF_EVENTS: Columns = (
    ("order", "Int64"), ("event", "string"), ("subject", "string"), ("at", "string"),
    ("type", "string"), ("attrs", "string"), ("agree", "boolean"),
    ("effects_differ", "boolean"), ("points_spread", "Float64"), ("scored_by", "Int64"),
    ("applicable", "Int64"), ("scheme", "string"), ("status", "string"),
    ("points", "Float64"), ("given", "Float64"), ("rules", "string"), ("effects", "string"),
    ("notes", "string"), ("citations", "string"), ("fidelity", "string"),
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
    ("flags", "string"), ("rules", "string"), ("notes", "string"), ("row_notes", "string"))


def matrix_frame(m: Matrix) -> pd.DataFrame:
    """One row per (behaviour, scheme) cell of the matrix."""
    rows = ({"behaviour": r["behaviour"], "attrs": r["attrs"], "row_notes": r["notes"],
             "scheme": k, **v} for r in m.body()["rows"] for k, v in r["cells"].items())
    return _frame(rows, _MATRIX, m.manifest, m.digest)


_EXCHANGE: Columns = (
    ("scheme", "string"), ("act_attrs", "string"), ("act_size", "string"),
    ("status", "string"), ("reason", "string"), ("offence_points", "Float64"),
    ("offence_effects", "string"), ("offence_rules", "string"), ("act_points", "Float64"),
    ("act_rules", "string"), ("acts", "Int64"), ("quantity", "string"),
    ("first_act", "string"), ("last_act", "string"), ("days", "Int64"),
    ("restored_on", "string"), ("limits", "string"), ("start", "Float64"),
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
                   ("band_b", "string"), ("count", "Int64"), ("subjects", "string"))
_EXTREMES: Columns = (("subject", "string"), ("top_in", "string"), ("bottom_in", "string"),
                      ("percentile_top", "Float64"), ("percentile_bottom", "Float64"))


def compare_frames(p: Population) -> dict[str, pd.DataFrame]:
    """The population comparison as frames: bands, agreement, flips, extremes."""
    body = p.body()
    return {name: _frame(body[name], columns, p.manifest, p.digest)
            for name, columns in (("bands", _BANDS), ("agreement", _AGREEMENT),
                                  ("flips", _FLIPS), ("extremes", _EXTREMES))}


# --- files ------------------------------------------------------------------------------


def _provenance(frame: pd.DataFrame) -> dict[str, Any]:
    return {"manifest": frame.attrs.get("manifest"), "digest": frame.attrs.get("digest"),
            "columns": {str(c): str(t) for c, t in frame.dtypes.items()}}


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


def to_csv(frame: pd.DataFrame, target: PathLike | IO[str], *, overwrite: bool = False,
           inputs: Iterable[PathLike] = ()) -> None:
    """Write `frame` as CSV, its manifest and digest on a leading `# creditlab: ` line.

    A path is written safely (see the module's docstring); `overwrite=True` replaces an
    existing file, never one of `inputs`.
    """
    def write(out: IO[str]) -> None:
        out.write(CSV_MARK + dumps(_provenance(frame)) + "\n")
        _map_text(frame, escape_formula).to_csv(out, index=False, lineterminator="\n")

    if isinstance(target, (str, os.PathLike)):
        with replacing(target, overwrite=overwrite, inputs=inputs, newline="") as handle:
            write(handle)
    else:
        write(target)


def read_csv(source: str | Path | IO[str]) -> pd.DataFrame:
    """A frame written by `to_csv`, with its column types, manifest and digest."""
    def read(handle: IO[str]) -> pd.DataFrame:
        first = handle.readline()
        if not first.startswith(CSV_MARK):
            raise ValueError("not a creditlab CSV: the first line is not '# creditlab: {...}'")
        meta = json.loads(first[len(CSV_MARK):])
        columns: dict[str, str] = meta["columns"]
        frame = _map_text(pd.read_csv(handle, dtype=columns, keep_default_na=False,
                                      na_values=[""]), _unescape_formula)
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
    metadata[PARQUET_KEY] = dumps(_provenance(frame)).encode("utf-8")
    table = table.replace_schema_metadata(metadata)
    if isinstance(target, (str, os.PathLike)):
        # pyarrow is handed a file, not the path: given a path, it unlinks it on failure.
        with replacing(target, overwrite=overwrite, inputs=inputs, binary=True) as handle:
            pq.write_table(table, handle)
    else:
        pq.write_table(table, target)


def read_parquet(source: str | Path | io.BytesIO) -> pd.DataFrame:
    """A frame written by `to_parquet`, with its manifest and digest in `attrs`."""
    import pyarrow.parquet as pq

    table = pq.read_table(source)
    meta = json.loads((table.schema.metadata or {}).get(PARQUET_KEY, b"{}"))
    frame = table.to_pandas()
    frame.attrs = {"manifest": meta.get("manifest"), "digest": meta.get("digest")}
    return frame
