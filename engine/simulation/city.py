"""A synthetic city drawn from a city model and written as a Parquet history folder.

`simulate` draws `people` persons and `years` years of their behaviour and writes
`subjects.parquet` and `events/part-00000.parquet`, ... (each part the events of a
disjoint run of `PEOPLE_PER_PART` subjects, rows sorted by subject, at and id), which
`inputs.history_parquet` reads back. Events are dated (midnight) within the years from the
model's start; `as_of`, the last day of those years, is in the subjects file's metadata.

Draws are vectorised per part: part k uses `numpy.random.Generator(PCG64(seed))` seeded
with SeedSequence(seed, spawn_key=(k,)), so the same model, seed, people and years give
byte-identical files (fixed writer options, no time or host in any metadata). Memory is
bounded by one part. Numbers stay exact: a uniform value is min + k * step, computed as a
scaled integer, never as a float.

The folder is written as files.py writes a file: into a new hidden folder beside it
(`.NAME.XXXXXXXX.part`), renamed into place only when complete, and removed on failure.
A target that exists and is not an empty folder (a file, a link, a folder with anything
in it) is refused; its parent folder must exist. (The rule of `engine.views.files`,
restated here: the simulation stage may not import the views.)
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from creditlab.engine.errors import OutputError
from creditlab.engine.inputs.history_parquet import AS_OF_KEY, DECIMAL
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.engine.simulation.model import (
    Choice,
    CityModel,
    Constant,
    Figure,
    Uniform,
)

__all__ = ["MAX_PEOPLE", "MAX_YEARS", "PEOPLE_PER_PART", "City", "simulate"]

PEOPLE_PER_PART = 50_000
"""Subjects per events part (about a million events with the default model)."""
MAX_PEOPLE = 100_000_000
MAX_YEARS = 100
SIMULATION_KEY = b"creditlab.simulation"
"""Key-value metadata: the model's sha256, the seed, people and years (JSON)."""
_ROW_GROUP = 128 * 1024
_EPOCH = date(1970, 1, 1)
_DAYS_A_YEAR = 365.2425

Progress = Callable[[int, int], None]
"""Called with (people written, people in all) after each part."""


@dataclass(frozen=True)
class City:
    """What `simulate` wrote."""

    path: Path
    people: int
    events: int
    parts: int
    as_of: date


def simulate(model: CityModel, people: int, years: int, seed: int, out_dir: str | Path,
             progress: Progress | None = None, *,
             vocabulary: Vocabulary | None = None) -> City:
    """Draw a city of `people` persons over `years` years and write it to `out_dir`."""
    if not 1 <= people <= MAX_PEOPLE:
        raise ValueError(f"people must be between 1 and {MAX_PEOPLE}")
    if not 1 <= years <= MAX_YEARS:
        raise ValueError(f"years must be between 1 and {MAX_YEARS}")
    if seed < 0:
        raise ValueError("the seed must be 0 or more")
    vocabulary = vocabulary or shipped_vocabulary()
    target = Path(out_dir)
    _check_target(target)
    end = _add_years(model.start, years)
    plan = _Plan(model, vocabulary, years, (end - model.start).days)
    meta = {AS_OF_KEY: date.fromordinal(end.toordinal() - 1).isoformat().encode(),
            SIMULATION_KEY: json.dumps({"model": model.sha256, "name": model.name,
                                        "seed": seed, "people": people, "years": years},
                                       sort_keys=True).encode()}
    work = target.parent / f".{target.name}.{secrets.token_hex(4)}.part"
    try:
        work.mkdir()
    except OSError as exc:
        raise OutputError(target, exc.strerror or str(exc)) from None
    try:
        (work / "events").mkdir()
        width = len(str(people - 1))
        subjects_schema = _subjects_schema().with_metadata(meta)
        events = parts = 0
        with pq.ParquetWriter(work / "subjects.parquet", subjects_schema,
                              **_WRITER) as subjects_out:
            for parts, first in enumerate(range(0, people, PEOPLE_PER_PART)):
                n = min(PEOPLE_PER_PART, people - first)
                rng = np.random.Generator(np.random.PCG64(
                    np.random.SeedSequence(seed, spawn_key=(parts,))))
                subjects, group = plan.subjects(rng, first, n, width)
                subjects_out.write_table(subjects.replace_schema_metadata(meta),
                                         row_group_size=_ROW_GROUP)
                table = plan.events(rng, subjects.column("id"), group, events)
                table = table.replace_schema_metadata(meta)
                pq.write_table(table, work / "events" / f"part-{parts:05d}.parquet",
                               row_group_size=_ROW_GROUP, **_WRITER)
                events += table.num_rows
                if progress is not None:
                    progress(first + n, people)
        _commit(work, target)
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    return City(target, people, events, parts + 1, date.fromordinal(end.toordinal() - 1))


_WRITER: dict[str, object] = {
    "compression": "zstd", "compression_level": 3, "use_dictionary": True,
    "write_statistics": True, "version": "2.6", "data_page_version": "1.0",
}
"""Fixed writer options: the bytes depend on the data and pyarrow's version only."""


def _subjects_schema() -> pa.Schema:
    return pa.schema([("id", pa.string()), ("kind", pa.string()), ("born", pa.date32()),
                      ("residence", pa.string()), ("hukou", pa.string()),
                      ("roles", pa.list_(pa.string()))])


def _add_years(day: date, years: int) -> date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _check_target(target: Path) -> None:
    if target.is_symlink():
        raise OutputError(target, "it is a symbolic link")
    if target.exists():
        if not target.is_dir():
            raise OutputError(target, "it exists and is not a folder")
        if any(target.iterdir()):
            raise OutputError(target, "the folder is not empty")
    elif not target.parent.is_dir():
        raise OutputError(target, f"the folder {target.parent} does not exist")


def _commit(work: Path, target: Path) -> None:
    """Rename the finished folder into place: over an empty folder, or a new name."""
    try:
        os.rename(work, target)  # replaces an empty folder only, atomically
    except OSError as exc:
        raise OutputError(target, exc.strerror or str(exc)) from None


def _decimal_array(unscaled: np.ndarray, scale: int) -> pa.Array:
    """Exact decimals from scaled integers (value * 10**scale), as decimal128(38, 9)."""
    words = np.empty((unscaled.size, 2), dtype="<i8")
    words[:, 0] = unscaled
    words[:, 1] = unscaled >> 63  # the sign, extended to 128 bits
    raw = pa.Array.from_buffers(pa.decimal128(38, scale), unscaled.size,
                                [None, pa.py_buffer(words.tobytes())])
    return raw.cast(DECIMAL)


def _scale(*values: Decimal) -> int:
    exponents = [v.normalize().as_tuple().exponent for v in values]
    return max([0] + [-e for e in exponents if isinstance(e, int) and e < 0])


class _Plan:
    """The model as arrays: group shares, rates per (behaviour, group), attribute draws."""

    def __init__(self, model: CityModel, vocabulary: Vocabulary, years: int,
                 days: int) -> None:
        self.model = model
        self.vocabulary = vocabulary
        self.days = days
        self.start = (model.start - _EPOCH).days
        groups = model.groups
        shares = np.array([float(g.share.value) for g in groups])
        self.shares = shares / shares.sum()
        self.age_min = np.array([int(g.age.min.value) for g in groups])
        self.age_max = np.array([int(g.age.max.value) for g in groups])
        self.residence = pa.array([g.residence for g in groups], pa.string())
        self.hukou = pa.array([g.hukou for g in groups], pa.string())
        self.roles = pa.array([sorted(set(g.roles)) for g in groups], pa.list_(pa.string()))
        self.rates = np.array([[float(b.rate_of(g.id)) * years for g in groups]
                               for b in model.behaviours])
        self.types = pa.array([b.type for b in model.behaviours], pa.string())

    def subjects(self, rng: np.random.Generator, first: int, n: int,
                 width: int) -> tuple[pa.Table, np.ndarray]:
        group = rng.choice(len(self.shares), size=n, p=self.shares)
        age = rng.integers(self.age_min[group], self.age_max[group] + 1)
        fraction = rng.random(n)
        born = self.start - np.floor((age + fraction) * _DAYS_A_YEAR).astype(np.int64)
        number = pc.cast(pa.array(np.arange(first, first + n)), pa.string())
        ids = pc.binary_join_element_wise("c", pc.utf8_lpad(number, width, "0"), "")
        take = pa.array(group)
        table = pa.table({
            "id": ids, "kind": pa.repeat(pa.scalar("person"), n).cast(pa.string()),
            "born": pa.array(born.astype(np.int32), pa.date32()),
            "residence": self.residence.take(take), "hukou": self.hukou.take(take),
            "roles": self.roles.take(take),
        }, schema=_subjects_schema())
        return table, group

    def events(self, rng: np.random.Generator, ids: pa.ChunkedArray, group: np.ndarray,
               first_event: int) -> pa.Table:
        n = len(group)
        subject_parts: list[np.ndarray] = []
        day_parts: list[np.ndarray] = []
        counts: list[int] = []
        attrs: dict[str, list[tuple[int, pa.Array]]] = {}
        for b, behaviour in enumerate(self.model.behaviours):
            per_person = rng.poisson(self.rates[b][group])
            total = int(per_person.sum())
            subject_parts.append(np.repeat(np.arange(n), per_person))
            day_parts.append(rng.integers(0, self.days, size=total))
            counts.append(total)
            for name, distribution in behaviour.attrs.items():
                attrs.setdefault(name, []).append(
                    (b, self.draw(rng, behaviour.type, name, distribution, total)))
        subject = np.concatenate(subject_parts)
        day = np.concatenate(day_parts)
        behaviour_of = np.repeat(np.arange(len(counts)), counts)
        order = np.lexsort((day, subject))  # stable: ties keep the behaviour order
        total = subject.size
        take = pa.array(order)
        number = pc.cast(pa.array(np.arange(first_event + 1, first_event + total + 1)),
                         pa.string())
        columns: dict[str, pa.Array] = {
            "id": pc.binary_join_element_wise("e", pc.utf8_lpad(number, 12, "0"), ""),
            "subject": ids.take(pa.array(subject[order])),
            "at": pa.array((self.start + day[order]).astype(np.int32), pa.date32()),
            "type": self.types.take(pa.array(behaviour_of[order])),
        }
        offsets = np.concatenate([[0], np.cumsum(counts)])
        for name in sorted(attrs):
            drawn = dict(attrs[name])
            kind = self._kind(name)
            chunks = [drawn[b] if b in drawn else pa.nulls(counts[b], kind)
                      for b in range(len(counts))]
            column = pa.concat_arrays([c.cast(kind) for c in chunks])
            assert len(column) == offsets[-1]
            columns[name] = column.take(take)
        return pa.table(columns)

    def _kind(self, name: str) -> pa.DataType:
        for spec in self.vocabulary.events.values():
            attr = spec.attrs.get(name)
            if attr is not None:
                return {"int": DECIMAL, "number": DECIMAL, "bool": pa.bool_(),
                        "date": pa.date32()}.get(attr.kind, pa.string())
        raise KeyError(name)

    def draw(self, rng: np.random.Generator, etype: str, name: str,
             distribution: Uniform | Choice | Constant, size: int) -> pa.Array:
        attr = self.vocabulary.events[etype].attrs[name]
        if isinstance(distribution, Uniform):
            low, high, step = (distribution.min.value, distribution.max.value,
                               distribution.step.value)
            scale = _scale(low, step)
            unit = Decimal(10) ** scale
            steps = int((high - low) / step)
            k = rng.integers(0, steps + 1, size=size)
            unscaled = int(low * unit) + k * int(step * unit)
            return _decimal_array(unscaled.astype(np.int64), scale)
        if isinstance(distribution, Choice):
            keys = list(distribution.weights)
            weights = np.array([float(distribution.weights[k].value) for k in keys])
            index = pa.array(rng.choice(len(keys), size=size, p=weights / weights.sum()))
            if attr.kind == "bool":
                return pa.array([k == "true" for k in keys], pa.bool_()).take(index)
            return pa.array(keys, pa.string()).take(index)
        value = distribution.value
        if isinstance(value, Figure):
            return pa.repeat(pa.scalar(value.value, DECIMAL), size)
        return pa.repeat(pa.scalar(value), size)
