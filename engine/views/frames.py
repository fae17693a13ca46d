"""pandas frames of every result: replays and analyses, one row per record.

Every frame is built from the result's JSON (`as_dict`), one row per record, so a frame
says what the JSON says: numbers as nullable floats (`Float64`; scores are exact decimals
in the engine, and every score with at most 6 decimal places has a float that prints back
the same), counts as nullable integers (`Int64`), text as `string`, yes/no as `boolean`,
days as pyarrow `date32` (`DATE`), lists (flags, rules, effects, ...) as pyarrow
`list<string>` (`LIST`; an empty list, never a null); mappings (attributes, quantities)
are canonical JSON text. The column types and the building of a frame from records are
`frame_columns`.

Every frame carries `frame.attrs["manifest"]` (creditlab version, history and scheme
hashes, the analysis and its parameters) and `frame.attrs["digest"]` (the result's own
digest), and so does every file of a frame: CSV and Parquet files that load anywhere are
written and read by `frame_files`, whose functions (`to_csv`, `read_csv`, `to_parquet`,
`read_parquet`, ...) are importable from here too.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd

from creditlab.engine.analysis.compare import Diff, Population
from creditlab.engine.analysis.exchange import Exchange
from creditlab.engine.analysis.matrix import Matrix
from creditlab.engine.describe import entry_record
from creditlab.engine.scoring.replay import Replay
from creditlab.engine.views.frame_columns import Columns, records_frame
from creditlab.engine.views.frame_files import (
    escape_formula,
    provenance,
    read_csv,
    read_parquet,
    sidecar,
    to_csv,
    to_parquet,
    write_sidecar,
)

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
    return records_frame((r.as_dict() for r in result.results), _RESULTS, result.manifest,
                  result.digest)


def ledger_frame(result: Replay) -> pd.DataFrame:
    """One row per ledger entry, in replay order: its kind and day, the event's type, what
    it did in words, and the rule's source (a seed's file and line, or an external
    source's address) with its quote."""
    rows = ({**entry_record(e), "source_file": _source_file(e.source),
             "source_line": e.source.get("line"), "quote": e.source.get("quote")}
            for e in result.ledger)
    return records_frame(rows, _LEDGER, result.manifest, result.digest)


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
    return records_frame(rows, _DIFF_SUBJECTS, d.manifest, d.digest)


def diff_events_frame(d: Diff) -> pd.DataFrame:
    """One row per (divergent event, scheme), most divergent events first (`order`)."""
    rows = ({"order": i, **{k: v for k, v in e.items() if k not in ("schemes", "divergence")},
             **e["divergence"], "scheme": k, **v}
            for i, e in enumerate(d.body()["events"], start=1)
            for k, v in e["schemes"].items())
    return records_frame(rows, _DIFF_EVENTS, d.manifest, d.digest)


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
    return records_frame(rows, _MATRIX, m.manifest, m.digest)


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
    return records_frame(rows, _EXCHANGE, x.manifest, x.digest)


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
    return {name: records_frame(body[name], columns, p.manifest, p.digest)
            for name, columns in (("bands", _BANDS), ("agreement", _AGREEMENT),
                                  ("flips", _FLIPS), ("extremes", _EXTREMES))}
