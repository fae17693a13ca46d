"""Frames and exports: CSV and Parquet round-trip, and carry the manifest and digest."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pandas as pd
import pytest
from pandas.testing import assert_frame_equal

from creditlab.engine import replay_file, resolve_schemes, shipped_vocabulary
from creditlab.engine.analysis.compare import compare_population, diff
from creditlab.engine.analysis.exchange import exchange
from creditlab.engine.analysis.matrix import behaviour_matrix
from creditlab.engine.canonical import plain
from creditlab.engine.views import frames as F

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "fixtures" / "example.yaml"
NAMED = ["meritown_2019", "fuzhou_yuming", "suining_county"]
# The frames the fixture below builds, named here so that collecting the tests replays nothing.
FRAME_NAMES = sorted(["results", "ledger", "diff_subjects", "diff_events", "matrix", "exchange",
                      "compare_bands", "compare_agreement", "compare_flips",
                      "compare_extremes"])


@pytest.fixture(scope="module")
def result():
    return replay_file(EXAMPLE, NAMED)


@pytest.fixture(scope="module")
def matrix():
    return behaviour_matrix(resolve_schemes(NAMED), shipped_vocabulary(),
                            codes=["volunteer.service", "family.abuse", "traffic.drunk_driving",
                                   "court.judgment_default"])


@pytest.fixture(scope="module")
def exchanged():
    return exchange("family.abuse", "volunteer.service", resolve_schemes(NAMED),
                    shipped_vocabulary())


@pytest.fixture(scope="module")
def frames(result, matrix, exchanged):
    """Each frame by name, with the manifest and digest of what it was made from."""
    differences = diff(result)
    population = compare_population(result)
    return {
        "results": (F.results_frame(result), result.manifest, result.digest),
        "ledger": (F.ledger_frame(result), result.manifest, result.digest),
        "diff_subjects": (F.diff_subjects_frame(differences), differences.manifest,
                          differences.digest),
        "diff_events": (F.diff_events_frame(differences), differences.manifest,
                        differences.digest),
        "matrix": (F.matrix_frame(matrix), matrix.manifest, matrix.digest),
        "exchange": (F.exchange_frame(exchanged), exchanged.manifest, exchanged.digest),
        **{f"compare_{k}": (v, population.manifest, population.digest)
           for k, v in F.compare_frames(population).items()},
    }


def test_every_frame_is_checked(frames):
    assert sorted(frames) == FRAME_NAMES


@pytest.mark.parametrize("name", FRAME_NAMES)
def test_frames_carry_the_manifest_and_digest(frames, name):
    frame, manifest, digest = frames[name]
    assert frame.attrs == {"manifest": plain(manifest), "digest": digest}
    assert len(frame) > 0


@pytest.mark.parametrize("name", FRAME_NAMES)
def test_csv_round_trips(frames, name, tmp_path):
    frame = frames[name][0]
    path = tmp_path / f"{name}.csv"
    F.to_csv(frame, path)
    assert path.read_text(encoding="utf-8").startswith(",".join(frame.columns) + "\n")
    meta = json.loads(F.sidecar(path).read_text(encoding="utf-8"))
    assert (meta["manifest"], meta["digest"]) == (frame.attrs["manifest"], frame.attrs["digest"])
    assert meta["columns"] == F.provenance(frame)["columns"]
    assert sorted(meta["columns"]) == sorted(frame.columns)
    back = F.read_csv(path)
    assert_frame_equal(back, frame)
    assert back.attrs == frame.attrs


@pytest.mark.parametrize("name", FRAME_NAMES)
def test_csv_stream_round_trips_with_its_provenance(frames, name):
    frame = frames[name][0]
    buffer = io.StringIO()
    F.to_csv(frame, buffer)
    assert buffer.getvalue().startswith(",".join(frame.columns) + "\n")
    buffer.seek(0)
    back = F.read_csv(buffer, meta=F.provenance(frame))
    assert_frame_equal(back, frame)
    assert back.attrs == frame.attrs


@pytest.mark.parametrize("name", FRAME_NAMES)
def test_parquet_round_trips(frames, name, tmp_path):
    import pyarrow.parquet as pq

    frame = frames[name][0]
    path = tmp_path / f"{name}.parquet"
    F.to_parquet(frame, path)
    back = F.read_parquet(path)
    assert_frame_equal(back, frame)
    assert back.attrs == frame.attrs
    meta = json.loads(pq.read_schema(path).metadata[b"creditlab"])
    assert meta["digest"] == frame.attrs["digest"]


def _same(value, expected):
    if isinstance(expected, list):
        return list(value) == [str(x) for x in expected]
    if expected is None:
        return pd.isna(value)
    return value == expected


def test_frames_say_what_the_json_says(result, matrix, exchanged):
    results = F.results_frame(result).to_dict("records")
    for row, record in zip(results, plain(result.as_dict())["results"], strict=True):
        for column in ("subject", "scheme", "start", "score", "band", "flags"):
            assert _same(row[column], record[column]), (column, row, record)
    matrix_rows = F.matrix_frame(matrix).to_dict("records")
    cells = [(r["behaviour"], s, c) for r in plain(matrix.body())["rows"]
             for s, c in r["cells"].items()]
    assert len(cells) == len(matrix_rows)
    for (behaviour, scheme, cell), row in zip(cells, matrix_rows, strict=True):
        assert (row["behaviour"], row["scheme"]) == (behaviour, scheme)
        for column in ("status", "points", "pct_of_scale", "band_steps", "effect", "rules"):
            assert _same(row[column], cell[column]), (column, row, cell)
    exchange_rows = F.exchange_frame(exchanged).to_dict("records")
    for row, record in zip(exchange_rows, plain(exchanged.body())["rows"], strict=True):
        for column in ("scheme", "status", "reason", "acts", "days", "replay_digest"):
            assert _same(row[column], record[column]), (column, row, record)


def test_csv_without_its_provenance_is_refused(tmp_path):
    path = tmp_path / "plain.csv"
    path.write_text("a,b\n1,2\n", encoding="utf-8")
    with pytest.raises(ValueError, match="not a creditlab CSV"):
        F.read_csv(path)
    with pytest.raises(ValueError, match="no sidecar"):
        F.read_csv(io.StringIO("a,b\n1,2\n"))
