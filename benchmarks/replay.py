"""Replay throughput, reported as ratios measured in one run (the machine is shared and
noisy: compare numbers from the same run, never across runs or against a fixed time).

    .venv/bin/python benchmarks/replay.py [--events 20000] [--seed 1]

Reports, for a synthetic history built only from event types the shipped schemes score:
events per second through each shipped scheme (durable_rules matching plus the reducer),
and how the time splits between matching (durable_rules) and reducing, as shares of one run.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))

from creditlab.engine import replay, shipped_schemes, shipped_vocabulary
from creditlab.engine.scoring.durable.compile import compile_scheme
from creditlab.engine.scoring.durable.match import Matcher
from creditlab.engine.scoring.durable.reduce import Reducer

from history_builder import history, random_attrs


def synthetic_records(n: int, seed: int) -> tuple[list[dict], Iterator[dict]]:
    """The sample's subjects (a person per 20 events) and, drawn as they are asked for, its
    `n` events of the types the shipped schemes score (so a file can be written a line at
    a time: benchmarks/durable_memory.py)."""
    vocabulary = shipped_vocabulary()
    schemes = [s for s in shipped_schemes() if s.variant is None]
    types = sorted({t for s in schemes for r in s.rules for t in r.match.types})
    rng = random.Random(seed)
    subjects = [{"id": f"s{i}", "kind": "person", "residence": rng.choice(["urban", "rural"]),
                 "born": date(1960, 1, 1) + timedelta(days=rng.randrange(15000)),
                 "roles": rng.sample(vocabulary.roles, 2)} for i in range(max(1, n // 20))]

    def events() -> Iterator[dict]:
        for i in range(n):
            etype = rng.choice(types)
            ev = {"id": f"e{i}", "subject": rng.choice(subjects)["id"], "type": etype,
                  "at": date(2019, 1, 1) + timedelta(days=rng.randrange(1000))}
            ev.update(random_attrs(rng, vocabulary.events[etype], low=1))
            yield ev

    return subjects, events()


def synthetic(n: int, seed: int):
    subjects, events = synthetic_records(n, seed)
    schemes = [s for s in shipped_schemes() if s.variant is None]
    return history(subjects, list(events)), schemes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20000)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    h, schemes = synthetic(args.events, args.seed)
    print(f"{len(h.events)} events, {len(h.subjects)} subjects, seed {args.seed}")
    print(f"{'scheme':40} {'rules':>5} {'events/s':>10} {'match share':>12}")
    rates = {}
    for scheme in schemes:
        start = time.perf_counter()
        replay(h, [scheme])
        total = time.perf_counter() - start
        matcher, reducer = Matcher(compile_scheme(scheme)), Reducer(scheme)
        standings = {sid: reducer.start() for sid in h.subjects}
        t_match = t_reduce = 0.0
        for event in h.events:
            t0 = time.perf_counter()
            fired = matcher.fired(event, h.subjects[event.subject])
            t1 = time.perf_counter()
            reducer.apply(standings[event.subject], event, fired)
            t_match += t1 - t0
            t_reduce += time.perf_counter() - t1
        rates[scheme.id] = len(h.events) / total
        share = t_match / (t_match + t_reduce)
        print(f"{scheme.id:40} {len(scheme.rules):5} {rates[scheme.id]:10.0f} {share:12.0%}")
    slowest = min(rates, key=rates.__getitem__)
    fastest = max(rates, key=rates.__getitem__)
    print(f"ratio fastest/slowest in this run: {rates[fastest] / rates[slowest]:.2f} "
          f"({fastest} / {slowest})")


if __name__ == "__main__":
    main()
