"""Sweeps: one parameter of a scheme moved through a run of values, and how outcomes move.

A `Setting` (`analysis/sweep_setting.py`) names one thing a scheme states
(`sn_p_red_light.points`, `scale.start`) and the values to try, exact and at most
`MAX_VALUES`.

For each value the scheme is changed through `inputs.reform.set_value` (re-validated, its
id kept: the value travels beside it) and the history replayed; the outcome is reduced to
one `SweepRow`: how many people, their summed and mean score, how many hold each band, and
how many hold another band than in the scheme as written (the baseline, replayed first).
The same counts are kept for groups of people: residence, hukou, age band on the day the
history is evaluated, and role (a person with several roles counts in each, one with none
under "no role"), as the report's Population section draws them.

A history file is replayed whole by either backend (`scoring.replay.replay`). A city (a
Parquet history) is replayed partition by partition with the columnar backend
(`scoring.partitioned.replay_part`): each partition is read once, replayed for the baseline
and every value, and reduced to counts before the next is read, so memory holds one
partition's results, never a whole city's, and never all values at once.

Every number is kept exact: sums of scores are Decimals, means and shares `Fraction`s;
views round them. Each row carries its replay's digest, the one `creditlab replay` gives
for the changed scheme; the sweep has a digest of its own rows.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from creditlab.engine.analysis.groups import AGE_BANDS
from creditlab.engine.analysis.sweep_setting import (
    MAX_VALUES,
    Setting,
    Value,
    given_value,
    parse_setting,
    value_text,
)
from creditlab.engine.canonical import digest as digest_of
from creditlab.engine.errors import EngineError, SchemeError
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_parquet import (
    DEFAULT_SUBJECTS_PER_PARTITION,
    open_parquet_history,
)
from creditlab.engine.inputs.reform import set_value
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary
from creditlab.engine.scoring.digest import Combiner
from creditlab.engine.scoring.replay import Backend, creditlab_version, replay
from creditlab.engine.scoring.tables import results_table

__all__ = [
    "DIMENSIONS",
    "MAX_VALUES",
    "NOT_GIVEN",
    "NO_ROLE",
    "GroupOutcome",
    "Setting",
    "Sweep",
    "SweepProgress",
    "SweepRow",
    "Value",
    "parse_setting",
    "sweep_city",
    "sweep_history",
]


SweepProgress = Callable[[str, int, int], None]
"""Called as progress(what, done, total) as replays finish (what: "values" or
"partitions x values")."""

NOT_GIVEN = "not given"
NO_ROLE = "no role"
DIMENSIONS: tuple[str, ...] = ("everyone", "residence", "hukou", "age", "role")
"""The ways people are grouped, in the order rows list them."""


# --- the setting ----------------------------------------------------------------------------


# --- the rows -------------------------------------------------------------------------------


@dataclass(frozen=True)
class GroupOutcome:
    """Where the people of one group end under one value: exact counts and sums."""

    dimension: str
    """One of `DIMENSIONS`."""
    group: str
    """The group's value (`rural`, `30–44`, `teacher`, `not given`; `everyone`)."""
    people: int
    score_total: Decimal
    bands: tuple[tuple[str | None, int], ...]
    """People in each band (None: no band applies), in the sweep's band order."""
    changed: int
    """People whose band is not the one they hold in the scheme as written."""

    @property
    def label(self) -> str:
        return self.group if self.dimension == "everyone" else f"{self.dimension}: {self.group}"

    @property
    def mean_score(self) -> Fraction | None:
        return Fraction(self.score_total) / self.people if self.people else None

    @property
    def changed_share(self) -> Fraction | None:
        return Fraction(self.changed, self.people) if self.people else None

    def share(self, band: str | None) -> Fraction | None:
        """The share of the group in `band` (None: in no band)."""
        if not self.people:
            return None
        return Fraction(dict(self.bands).get(band, 0), self.people)

    def as_dict(self) -> dict[str, Any]:
        return {"dimension": self.dimension, "group": self.group, "people": self.people,
                "score_total": self.score_total,
                "bands": [{"band": b, "people": n} for b, n in self.bands],
                "changed": self.changed}


@dataclass(frozen=True)
class SweepRow:
    """One value of the sweep (None: the scheme as written) and its outcome."""

    value: Value | None
    groups: tuple[GroupOutcome, ...]
    """Everyone first, then each group of `DIMENSIONS` in order."""
    digest: str
    """The digest of this value's replay, as `creditlab replay` gives it."""

    @property
    def everyone(self) -> GroupOutcome:
        return self.groups[0]

    @property
    def label(self) -> str:
        return value_text(self.value)

    def as_dict(self) -> dict[str, Any]:
        return {"value": self.value, "groups": [g.as_dict() for g in self.groups],
                "digest": self.digest}


@dataclass(frozen=True)
class Sweep:
    """A sweep: the scheme, the setting, the baseline row and one row per value."""

    scheme: Scheme
    setting: Setting
    baseline: SweepRow
    rows: tuple[SweepRow, ...]
    bands: tuple[str | None, ...]
    """The scheme's bands (best first), any other band held, then None (no band) when
    someone holds none."""
    people: int
    evaluated_on: date | None
    manifest: dict[str, Any]
    digest: str = ""

    def body(self) -> dict[str, Any]:
        return {"scheme": self.scheme.id, "target": self.setting.target,
                "bands": list(self.bands), "people": self.people,
                "baseline": self.baseline.as_dict(), "rows": [r.as_dict() for r in self.rows]}

    def as_dict(self) -> dict[str, Any]:
        return {"manifest": self.manifest, **self.body(), "digest": self.digest}


# --- counting -------------------------------------------------------------------------------

_Key = tuple[str, str, str | None]
"""(dimension, group, band)."""


@dataclass
class _Tally:
    """Counts for one value, added up partition by partition."""

    cells: dict[_Key, list[Any]] = field(default_factory=dict)
    """(dimension, group, band) -> [people, score total, changed]."""
    digest: Combiner = field(default_factory=Combiner)

    def add(self, key: _Key, people: int, total: Decimal, changed: int) -> None:
        cell = self.cells.setdefault(key, [0, Decimal(0), 0])
        cell[0] += people
        cell[1] += total
        cell[2] += changed


def _age_bands(born: pa.Array, on: date | None) -> pa.Array:
    """Each birthday's age band on `on` (NOT_GIVEN for none, or when there is no day)."""
    if on is None:
        return pa.array([NOT_GIVEN] * len(born), pa.string())
    years = pc.year(born).to_pylist()
    months = pc.month(born).to_pylist()
    days = pc.day(born).to_pylist()
    out = []
    for y, m, d in zip(years, months, days, strict=True):
        if y is None:
            out.append(NOT_GIVEN)
            continue
        age = on.year - y - ((m, d) > (on.month, on.day))
        label = NOT_GIVEN
        for lowest, name in AGE_BANDS:
            if age >= lowest:
                label = name
        out.append(label)
    return pa.array(out, pa.string())


@dataclass(frozen=True)
class _People:
    """Who the subjects of one part are, in the order of its results: a table of
    (row, residence, hukou, age) and one of (row, role)."""

    subjects: pa.Array
    who: pa.Table
    roles: pa.Table


def _people(results: pa.Table, subjects: pa.Table, on: date | None) -> _People:
    ids = results.column("subject").combine_chunks()
    rows = pc.index_in(ids, value_set=subjects.column("id").combine_chunks())
    picked = subjects.take(rows)

    def given(name: str) -> pa.Array:
        return pc.fill_null(picked.column(name).combine_chunks().cast(pa.string()), NOT_GIVEN)

    row = pa.array(range(results.num_rows), pa.int64())
    who = pa.table({"row": row, "residence": given("residence"), "hukou": given("hukou"),
                    "age": _age_bands(picked.column("born").combine_chunks(), on)})
    roles = picked.column("roles").combine_chunks()
    flat = pc.list_flatten(roles)
    parents = pc.list_parent_indices(roles)
    counts = pc.fill_null(pc.list_value_length(roles), 0).to_pylist()
    alone = [i for i, n in enumerate(counts) if n == 0]
    role_table = pa.table({
        "row": pa.concat_arrays([parents.cast(pa.int64()), pa.array(alone, pa.int64())]),
        "role": pa.concat_arrays([flat.cast(pa.string()),
                                  pa.array([NO_ROLE] * len(alone), pa.string())])})
    return _People(ids, who, role_table)


def _count(tally: _Tally, results: pa.Table, baseline: pa.Array | None,
           people: _People) -> pa.Array:
    """Add one part's results (one scheme, in `people`'s order) to `tally`; the bands
    held, to compare the next values with when this is the baseline."""
    if not results.column("subject").combine_chunks().equals(people.subjects):
        raise EngineError("two replays of one part gave their subjects in different orders")
    bands = results.column("band").combine_chunks()
    if baseline is None:
        changed = pa.array([False] * results.num_rows, pa.bool_())
    else:
        same = pc.or_kleene(pc.equal(bands, baseline),
                            pc.and_(pc.is_null(bands), pc.is_null(baseline)))
        changed = pc.invert(pc.fill_null(same, False))
    scored = pa.table({"row": pa.array(range(results.num_rows), pa.int64()),
                       "score": results.column("score"), "band": bands, "changed": changed,
                       "everyone": pa.array(["everyone"] * results.num_rows, pa.string())})
    joined = scored.join(people.who, "row")
    with_roles = scored.join(people.roles, "row", join_type="inner")
    for dimension in DIMENSIONS:
        table = with_roles if dimension == "role" else joined
        grouped = table.group_by([dimension, "band"], use_threads=False).aggregate(
            [("score", "sum"), ("score", "count"), ("changed", "sum")])
        for cell in grouped.to_pylist():
            tally.add((dimension, cell[dimension], cell["band"]), int(cell["score_count"]),
                      cell["score_sum"] or Decimal(0), int(cell["changed_sum"] or 0))
    return bands


def _group_order(dimension: str, groups: set[str]) -> list[str]:
    last = [g for g in (NOT_GIVEN, NO_ROLE) if g in groups]
    if dimension == "age":
        first = [label for _, label in AGE_BANDS if label in groups]
    else:
        first = sorted(g for g in groups if g not in last)
    return first + last


def _band_order(scheme: Scheme, seen: set[str | None]) -> tuple[str | None, ...]:
    """Every band of the scheme, best first (held or not: a share of 0 says something),
    any other band a value's scheme gave, then None when someone holds no band."""
    known = [b.label for b in scheme.bands]
    others = sorted(b for b in seen if b is not None and b not in known)
    return (*known, *others, *([None] if None in seen else []))


def _exact(value: Decimal) -> Decimal:
    """A sum as the scores are written: no trailing zeros of the table's nine places."""
    plain = value.normalize()
    return plain.quantize(Decimal(1)) if plain == plain.to_integral_value() else plain


def _row(value: Value | None, tally: _Tally, bands: Sequence[str | None],
         digest: str) -> SweepRow:
    groups: list[GroupOutcome] = []
    for dimension in DIMENSIONS:
        cells = {k: v for k, v in tally.cells.items() if k[0] == dimension}
        for group in _group_order(dimension, {k[1] for k in cells}):
            mine = {k[2]: v for k, v in cells.items() if k[1] == group}
            groups.append(GroupOutcome(
                dimension, group, sum(v[0] for v in mine.values()),
                _exact(sum((v[1] for v in mine.values()), Decimal(0))),
                tuple((b, mine[b][0] if b in mine else 0) for b in bands),
                sum(v[2] for v in mine.values())))
    if not groups or groups[0].dimension != "everyone":
        groups.insert(0, GroupOutcome("everyone", "everyone", 0, Decimal(0), (), 0))
    return SweepRow(value, tuple(groups), digest)


def _changed_schemes(scheme: Scheme, setting: Setting,
                     vocabulary: Vocabulary) -> list[Scheme]:
    """The scheme under each value, all made before any replay: a bad target or value is
    refused at once, not after an hour of replays."""
    changed = []
    for value in setting.values:
        try:
            changed.append(set_value(scheme, setting.target, given_value(value),
                                     vocabulary=vocabulary))
        except SchemeError as exc:
            raise SchemeError(f"{exc.reason} (setting it to {value_text(value)})",
                              file=exc.file or scheme.file, line=exc.line,
                              field=exc.field or setting.target) from None
    return changed


def _finish(scheme: Scheme, setting: Setting, tallies: Sequence[_Tally],
            digests: Sequence[str], manifest: dict[str, Any],
            on: date | None) -> Sweep:
    seen = {k[2] for t in tallies for k in t.cells}
    bands = _band_order(scheme, seen)
    baseline = _row(None, tallies[0], bands, digests[0])
    rows = tuple(_row(v, t, bands, d) for v, t, d in
                 zip(setting.values, tallies[1:], digests[1:], strict=True))
    manifest = {**manifest, "analysis": "sweep",
                "parameters": {"scheme": scheme.id, "target": setting.target,
                               "values": [value_text(v) for v in setting.values]}}
    done = Sweep(scheme, setting, baseline, rows, bands, baseline.everyone.people, on,
                 manifest)
    return replace(done, digest=digest_of(done.body()))


# --- the two ways to replay -----------------------------------------------------------------


def sweep_history(history: History, scheme: Scheme, setting: Setting, *,
                  vocabulary: Vocabulary, backend: Backend = "durable",
                  progress: SweepProgress | None = None) -> Sweep:
    """Sweep `setting` over `history` (in memory), replayed whole by `backend`."""
    schemes = [scheme, *_changed_schemes(scheme, setting, vocabulary)]
    subjects = pa.table({
        "id": [s.id for s in history.subjects.values()],
        "born": pa.array([s.born for s in history.subjects.values()], pa.date32()),
        "residence": pa.array([s.residence for s in history.subjects.values()], pa.string()),
        "hukou": pa.array([s.hukou for s in history.subjects.values()], pa.string()),
        "roles": pa.array([list(s.roles) for s in history.subjects.values()],
                          pa.list_(pa.string()))})
    tallies: list[_Tally] = []
    digests: list[str] = []
    baseline: pa.Array | None = None
    people: _People | None = None
    manifest: dict[str, Any] = {}
    for done, changed in enumerate(schemes):
        if progress is not None:
            progress("values", done, len(schemes))
        result = replay(history, [changed], backend=backend)
        table = results_table(result.results)
        if people is None:
            people = _people(table, subjects, history.end)
            manifest = result.manifest
        tally = _Tally()
        bands = _count(tally, table, baseline, people)
        baseline = bands if baseline is None else baseline
        tallies.append(tally)
        digests.append(result.digest)
    if progress is not None:
        progress("values", len(schemes), len(schemes))
    return _finish(scheme, setting, tallies, digests, manifest, history.end)


def sweep_city(path: str | Path, scheme: Scheme, setting: Setting, *,
               vocabulary: Vocabulary,
               subjects_per_partition: int = DEFAULT_SUBJECTS_PER_PARTITION,
               progress: SweepProgress | None = None) -> Sweep:
    """Sweep `setting` over a Parquet history (a city), one partition of subjects at a
    time with the columnar backend; memory holds one partition's results."""
    from creditlab.engine.scoring.partitioned import replay_part

    schemes = [scheme, *_changed_schemes(scheme, setting, vocabulary)]
    opened = open_parquet_history(path, vocabulary)
    count = opened.partition_count(subjects_per_partition)
    end = opened.as_of or opened.last_day
    ids = opened.subjects.column("id").combine_chunks()
    ordered = ids.equals(ids.take(pc.sort_indices(ids)))
    tallies = [_Tally(digest=Combiner(in_order=ordered)) for _ in schemes]
    steps = count * len(schemes)
    if progress is not None:
        progress("partitions x values", 0, steps)
    for index in range(count):
        events, subjects = opened.partition(index, subjects_per_partition)
        baseline: pa.Array | None = None
        people: _People | None = None
        for position, changed in enumerate(schemes):
            part = replay_part(index, events, subjects, [changed], end=end)
            if people is None:
                people = _people(part.results, subjects, end)
            bands = _count(tallies[position], part.results, baseline, people)
            baseline = bands if baseline is None else baseline
            tallies[position].digest.add(part.digests)
            del part
            if progress is not None:
                progress("partitions x values", index * len(schemes) + position + 1, steps)
        del events, subjects, baseline, people
        pa.default_memory_pool().release_unused()
    manifest = {"creditlab": creditlab_version(), "backend": "columnar",
                "history": opened.sha256, "schemes": {scheme.id: scheme.sha256},
                "vocabulary": vocabulary.sha256, "partitions": count}
    if end is not None:
        manifest["as_of"] = end
    digests = [t.digest.value() for t in tallies]
    return _finish(scheme, setting, tallies, digests, manifest, end)
