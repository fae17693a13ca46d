"""The columnar backend against durable_rules and against a numpy floor, in one run.

    .venv/bin/python benchmarks/city.py [--events 20000] [--people 1000000] [--seed 1]
                                        [--work DIR] [--keep]

The machine is shared and noisy: compare figures from the same run, never across runs or
against a fixed time. Prints:

1. on a sample of about `--events` events (event types the shipped schemes score), through
   every shipped scheme (variants excluded): event x scheme pairs per second on the
   durable_rules backend and on the columnar backend, their ratio, and whether their
   digests agree;
2. a synthetic city of `--people` people over one year (`creditlab simulate`), replayed
   through the same schemes with `creditlab replay CITY --backend columnar --format parquet
   -o DIR --jobs 1` (one process), each command in its own process: wall time and peak
   memory of each, the replay's time split (summed over partitions, from the folder's
   manifest: load, match, reduce, tables, checks, digest, write), and pairs per second, for
   the whole command and for its scoring stages (match and reduce); then the same replay
   with one process per core (the default) and with `--dask` (a local cluster, one worker
   process per core), each with its peak memory summed over all its processes and whether
   its digest is the same;
3. the numpy floor on the city's own events: for each scheme, a lookup of each event
   type's points and a bincount per person (no caps, no limits, no conditions: the least
   any engine must do), and the columnar backend's ratio to it.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
import pyarrow.dataset as ds

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "benchmarks"))

from replay import synthetic  # noqa: E402 - the sample history of benchmarks/replay.py

from creditlab.engine import replay  # noqa: E402
from creditlab.engine.inputs.scheme import PointsEffect  # noqa: E402
from creditlab.engine.scoring.columnar.replay import replay_columnar  # noqa: E402
from creditlab.engine.scoring.columnar.table import events_table, subjects_table  # noqa: E402
from creditlab.engine.scoring.digest import replay_digest  # noqa: E402


def machine() -> str:
    model = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return (f"{model}, {os.cpu_count()} cores, {memory:.0f} GiB, {platform.system()} "
            f"{platform.release()}, Python {platform.python_version()}")


def _tree_rss(root: int) -> int:
    """Resident bytes of process `root` and all its descendants, from /proc."""
    parents: dict[int, int] = {}
    rss: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        parents[int(entry.name)] = int(fields[1])
        rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
    tree, grew = {root}, True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in tree} - tree
        tree |= more
        grew = bool(more)
    return sum(rss.get(pid, 0) for pid in tree)


def timed_command(args: list[str]) -> tuple[float, float]:
    """Run a command in its own process: (wall seconds, peak resident memory in GiB, summed
    over the process and its children, sampled ten times a second)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, stdout=subprocess.DEVNULL)
    peak = 0
    while process.poll() is None:
        peak = max(peak, _tree_rss(process.pid))
        time.sleep(0.1)
    wall = time.perf_counter() - start
    if process.returncode != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return wall, peak / 2**30


def sample(events: int, seed: int) -> None:
    history, schemes = synthetic(events, seed)
    pairs = len(history.events) * len(schemes)
    replay(history.model_copy(update={"events": history.events[:50]}), schemes,
           backend="columnar")  # compile once (numba caches it on disk)
    start = time.perf_counter()
    durable = replay(history, schemes)
    t_durable = time.perf_counter() - start
    start = time.perf_counter()
    columnar = replay(history, schemes, backend="columnar")
    t_columnar = time.perf_counter() - start
    events, subjects = events_table(history), subjects_table(history)
    ordered = sorted(schemes, key=lambda s: s.id)
    start = time.perf_counter()
    tables = replay_columnar(events, subjects, ordered, end=history.end)
    replay_digest(tables.results, tables.ledger)
    t_engine = time.perf_counter() - start
    print(f"sample: {len(history.events)} events x {len(schemes)} schemes = {pairs} pairs")
    print(f"  durable            {pairs / t_durable:14,.0f} pairs/s")
    print(f"  columnar, tables   {pairs / t_engine:14,.0f} pairs/s  (results, ledger, digest: "
          f"{t_durable / t_engine:.0f}x durable)")
    print(f"  columnar, records  {pairs / t_columnar:14,.0f} pairs/s  (and its ledger turned "
          f"into LedgerEntry records, as replay() returns: {t_durable / t_columnar:.0f}x)")
    print(f"  digests {'agree' if durable.digest == columnar.digest else 'DIFFER'}")


def floor(city: Path, schemes: list) -> tuple[float, int]:
    """The numpy floor on the city's events: seconds for all schemes, and the events."""
    table = ds.dataset(city / "events", format="parquet").to_table(columns=["subject", "type"])
    types = pc.dictionary_encode(table.column("type")).combine_chunks()
    subjects = pc.dictionary_encode(table.column("subject")).combine_chunks()
    type_codes = types.indices.to_numpy()
    subject_codes = subjects.indices.to_numpy()
    names = types.dictionary.to_pylist()
    tables = []
    for scheme in schemes:
        points = np.zeros(len(names), dtype=np.int64)
        for i, name in enumerate(names):
            for rule in scheme.rules:
                if name in rule.match.types:
                    first = next((e for e in rule.effects if isinstance(e, PointsEffect)), None)
                    if first is not None:
                        points[i] = int(first.points * 1000)
                    break
        tables.append(points)
    start = time.perf_counter()
    for points in tables:
        np.bincount(subject_codes, weights=np.take(points, type_codes),
                    minlength=len(subjects.dictionary))
    return time.perf_counter() - start, len(type_codes)


def city(people: int, seed: int, work: Path) -> None:
    from creditlab.engine import shipped_schemes

    schemes = [s for s in shipped_schemes() if s.variant is None]
    exe = str(Path(sys.executable).with_name("creditlab"))
    folder, results = work / "city", work / "results"
    t_sim, m_sim = timed_command([exe, "simulate", "--people", str(people), "--seed",
                                  str(seed), "-o", str(folder)])
    args = [exe, "replay", str(folder), "--backend", "columnar", "--format", "parquet",
            "-o", str(results)]
    for scheme in schemes:
        args += ["--scheme", scheme.id]
    t_rep, m_rep = timed_command([*args, "--jobs", "1"])
    manifest = json.loads((results / "manifest.json").read_text())
    events = manifest["events"]
    pairs = events * len(schemes)
    print(f"city: {people:,} people, {events:,} events, {len(schemes)} schemes = "
          f"{pairs:,} pairs, {manifest['partitions']} partitions")
    print(f"  simulate  {t_sim:7.1f} s wall, peak {m_sim:.2f} GiB")
    print(f"  replay    {t_rep:7.1f} s wall, peak {m_rep:.2f} GiB, {pairs / t_rep:,.0f} pairs/s "
          "(one process)")
    split = manifest.get("seconds", {})
    print("  replay split (summed over partitions): "
          + ", ".join(f"{k} {v:.1f} s" for k, v in split.items()))
    scoring = split.get("match", 0.0) + split.get("reduce", 0.0)
    if scoring:
        print(f"  scoring (match and reduce) {pairs / scoring:,.0f} pairs/s")
    shutil.rmtree(results)
    cores = os.cpu_count() or 1
    t_jobs, m_jobs = timed_command(args)  # the default: one process per core
    in_jobs = json.loads((results / "manifest.json").read_text())
    same = "the same digest" if in_jobs["digest"] == manifest["digest"] else "DIGESTS DIFFER"
    print(f"  replay    {t_jobs:7.1f} s wall, peak {m_jobs:.2f} GiB over all its processes, "
          f"{pairs / t_jobs:,.0f} pairs/s ({cores} processes, the default; {same})")
    shutil.rmtree(results)
    t_dask, m_dask = timed_command([*args, "--dask"])
    on_dask = json.loads((results / "manifest.json").read_text())
    same = "the same digest" if on_dask["digest"] == manifest["digest"] else "DIGESTS DIFFER"
    print(f"  --dask    {t_dask:7.1f} s wall, peak {m_dask:.2f} GiB over all its processes, "
          f"{pairs / t_dask:,.0f} pairs/s ({os.cpu_count()} workers; {same})")
    t_floor, n = floor(folder, schemes)
    floor_rate = n * len(schemes) / t_floor
    print(f"  numpy floor {floor_rate:,.0f} pairs/s on the same events; the columnar replay is "
          f"{floor_rate / (pairs / t_rep):.1f}x slower (whole command, one process), "
          f"{floor_rate * scoring / pairs:.1f}x slower (its scoring stages)")
    print(f"  digest {manifest['digest']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--people", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None,
                        help="Folder for the city and its results (default: a temporary one)")
    parser.add_argument("--keep", action="store_true", help="Keep the city and results.")
    args = parser.parse_args()
    print(f"machine: {machine()}")
    sample(args.events, args.seed)
    work = args.work or Path(tempfile.mkdtemp(prefix="creditlab-bench-"))
    try:
        city(args.people, args.seed, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    print(f"this script's own peak (sample and floor): {peak:.2f} GiB")


if __name__ == "__main__":
    main()
