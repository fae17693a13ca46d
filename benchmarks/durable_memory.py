"""Peak memory and wall time of `creditlab replay` on a large JSONL history (durable_rules).

    .venv/bin/python benchmarks/durable_memory.py [--events 1000000] [--seed 1] [--work DIR]
                                                  [--keep] [--size N]

Writes the synthetic history of benchmarks/replay.py (`synthetic(n, seed)`: one subject
per twenty events, event types the shipped schemes score) as JSONL, a line at a time (the
history is never held), then runs `creditlab replay FILE --format json -o OUT` (every
shipped scheme, variants excluded, durable_rules, no --explain) in its own process and
prints its wall time and peak resident memory (`os.wait4`'s ru_maxrss). `--size N` sets
`CREDITLAB_SUBJECTS_PER_PARTITION`. The machine is shared and noisy: the wall time is one
run's, the memory is what to compare.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT / "benchmarks"))


from replay import synthetic_records  # noqa: E402 - the sample of benchmarks/replay.py


def write_synthetic(path: Path, n: int, seed: int) -> None:
    """`benchmarks/replay.py`'s `synthetic(n, seed)`, the same draws, written as JSONL a
    line at a time."""
    subjects, events = synthetic_records(n, seed)
    with path.open("w", encoding="utf-8") as out:
        for subject in subjects:
            out.write(json.dumps({"record": "subject", **subject}, default=_json) + "\n")
        for ev in events:
            out.write(json.dumps(ev, default=_json) + "\n")


def _json(value: Any) -> Any:
    """Dates as ISO text, decimals as JSON numbers."""
    return float(value) if isinstance(value, Decimal) else str(value)


def measure(args: list[str], env: dict[str, str]) -> tuple[float, float]:
    """Run a command in its own process: (wall seconds, peak resident memory in MiB)."""
    start = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL)
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {' '.join(args)}")
    return wall, usage.ru_maxrss / 1024  # ru_maxrss is in KiB on Linux


def _summary(out: Path) -> tuple[dict[str, Any], int]:
    """The replay document without its results (which come last), and how many there
    are, read a line at a time: a city's results are not loaded to count them."""
    head: list[str] = []
    results = 0
    in_results = False
    with out.open(encoding="utf-8") as f:
        for line in f:
            if line.startswith('  "results": ['):
                in_results = True
            elif not in_results:
                head.append(line)
            elif line == "    {\n":
                results += 1
    return json.loads("".join(head).rstrip().rstrip(",") + "}"), results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--work", type=Path, default=None)
    parser.add_argument("--keep", action="store_true")
    parser.add_argument("--size", type=int, default=None)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="creditlab-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        history = work / f"synthetic-{args.events}.jsonl"
        if not history.exists():
            clock = time.perf_counter()
            write_synthetic(history, args.events, args.seed)
            print(f"wrote {history} ({history.stat().st_size / 2**20:.0f} MiB) in "
                  f"{time.perf_counter() - clock:.0f} s")
        env = dict(os.environ)
        if args.size is not None:
            env["CREDITLAB_SUBJECTS_PER_PARTITION"] = str(args.size)
        out = work / "replay.json"
        command = [str(Path(sys.executable).parent / "creditlab"), "replay", str(history),
                   "--format", "json", "-o", str(out), "--force"]
        wall, peak = measure(command, env)
        head, results = _summary(out)
        print(f"{args.events} events, {len(head['manifest']['schemes'])} schemes, "
              f"{results} results: {wall:.0f} s wall, peak {peak:.0f} MiB resident; "
              f"digest {head['digest']}")
    finally:
        if not args.keep and args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
