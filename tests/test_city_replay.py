"""A city replayed partition by partition (in one process and on Dask) gives the digest of one
replay of the whole history, and memory that does not grow with the city."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from creditlab.cli.main import cli
from creditlab.engine import shipped_scheme, shipped_vocabulary
from creditlab.engine.inputs.history_parquet import load_parquet_history
from creditlab.engine.scoring.replay import replay

SCHEMES = ("meritown_2019", "fuzhou_yuming", "rongcheng_dongdao_lujia", "weihai_wendeng",
           "suining_county")


def _run(*args: str) -> str:
    result = CliRunner().invoke(cli, list(args), catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def city(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("city") / "city"
    _run("simulate", "--people", "600", "--seed", "3", "-o", str(folder))
    return folder


def _scheme_args() -> list[str]:
    return [a for s in SCHEMES for a in ("--scheme", s)]


def _folder_replay(city: Path, out: Path, *extra: str) -> dict:
    _run("replay", str(city), "--backend", "columnar", "--format", "parquet", "-o", str(out),
         "--explain", *_scheme_args(), *extra)
    return json.loads((out / "manifest.json").read_text())


def test_partitions_give_the_digest_of_the_whole_durable_replay(city: Path,
                                                                tmp_path: Path) -> None:
    whole = replay(load_parquet_history(city, shipped_vocabulary()),
                   [shipped_scheme(s) for s in SCHEMES])
    manifest = _folder_replay(city, tmp_path / "r", "--partition-size", "150")
    assert manifest["partitions"] == 4
    assert manifest["digest"] == whole.digest
    assert manifest["events"] == len(whole.history.events)
    assert manifest["manifest"]["backend"] == "columnar"
    accounting = {a.scheme: a.as_dict() for a in whole.accounting}
    assert manifest["accounting"] == accounting
    # The parts read back as one table, with every (subject, scheme) once.
    results = pd.read_parquet(tmp_path / "r" / "results")
    assert len(results) == len(whole.results)
    assert not results.duplicated(["subject", "scheme"]).any()
    ledger = pd.read_parquet(tmp_path / "r" / "ledger")
    assert len(ledger) == len(whole.ledger)


def test_the_durable_folder_is_the_same_replay(city: Path, tmp_path: Path) -> None:
    columnar = _folder_replay(city, tmp_path / "c")
    _run("replay", str(city), "--format", "parquet", "-o", str(tmp_path / "d"),
         *_scheme_args())
    durable = json.loads((tmp_path / "d" / "manifest.json").read_text())
    assert durable["digest"] == columnar["digest"]
    assert durable["manifest"]["backend"] == "durable"


def test_processes_give_the_same_replay(city: Path, tmp_path: Path) -> None:
    """`--jobs 2` (two processes, partitions as they finish) writes the replay `--jobs 1`
    writes: the same digest, accounting and parts."""
    one = _folder_replay(city, tmp_path / "one", "--partition-size", "150", "--jobs", "1")
    two = _folder_replay(city, tmp_path / "two", "--partition-size", "150", "--jobs", "2")
    assert (two["digest"], two["accounting"]) == (one["digest"], one["accounting"])
    for part in sorted(os.listdir(tmp_path / "one" / "results")):
        assert pd.read_parquet(tmp_path / "two" / "results" / part).equals(
            pd.read_parquet(tmp_path / "one" / "results" / part)), part


@pytest.mark.slow
def test_dask_gives_the_same_digest(city: Path, tmp_path: Path) -> None:
    alone = _folder_replay(city, tmp_path / "alone", "--partition-size", "200")
    on_dask = _folder_replay(city, tmp_path / "dask", "--partition-size", "200", "--dask")
    assert on_dask["digest"] == alone["digest"]
    assert sorted(os.listdir(tmp_path / "dask" / "results")) == [
        "part-00000.parquet", "part-00001.parquet", "part-00002.parquet"]


def _peak_gib(args: list[str], env: dict[str, str] | None = None) -> float:
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL, env=env)
    _, status, usage = os.wait4(process.pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0, args
    return usage.ru_maxrss / 2**20


@pytest.mark.slow
def test_memory_is_bounded_by_the_partition_not_the_city(tmp_path: Path) -> None:
    """The same city of 80,000 people replayed in one process (`--jobs 1`) in partitions of
    2,500 and in one partition: the partitioned run's peak is well under the whole one's
    (measured about 0.3 times; bound 0.6, generous: under a busy test run a process keeps
    some 300 MB more than alone, which the whole city's peak dwarfs)."""
    exe = str(Path(sys.executable).with_name("creditlab"))
    folder = tmp_path / "city"
    _run("simulate", "--people", "80000", "--seed", "1", "-o", str(folder))
    # A first run compiles the reducer into a cache of this test's own (compiling takes
    # some 200 MB): the measured runs then load it, as a user's runs do.
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba")}
    peaks = {}
    for size in (80_000, 2_500, 80_000):
        out = tmp_path / f"out{len(peaks)}-{size}"
        peaks[size] = _peak_gib([exe, "replay", str(folder), "--backend", "columnar",
                                 "--format", "parquet", "-o", str(out), "--explain",
                                 "--partition-size", str(size), "--jobs", "1",
                                 *_scheme_args()], env)
    assert peaks[2_500] < 0.6 * peaks[80_000], peaks
