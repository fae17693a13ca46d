"""Synthetic cities: deterministic bytes, honest models, and histories the schemes replay."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from creditlab.cli.simulate import DEFAULT_MODEL, simulate_command
from creditlab.engine.errors import InputError, OutputError
from creditlab.engine.inputs.catalog import shipped_scheme, shipped_schemes
from creditlab.engine.inputs.history_parquet import (
    events_schema,
    load_parquet_history,
    open_parquet_history,
)
from creditlab.engine.inputs.vocabulary import Vocabulary, shipped_vocabulary
from creditlab.engine.scoring.replay import replay
from creditlab.engine.simulation.city import SIMULATION_KEY, simulate
from creditlab.engine.simulation.model import CityModel, load_city_model


@pytest.fixture(scope="module")
def vocabulary() -> Vocabulary:
    return shipped_vocabulary()


@pytest.fixture(scope="module")
def model(vocabulary: Vocabulary) -> CityModel:
    return load_city_model(DEFAULT_MODEL, vocabulary)


def hashes(folder: Path) -> dict[str, str]:
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


# --- the model ----------------------------------------------------------------------------


def test_default_model_is_honest(model: CityModel) -> None:
    """Every number of the shipped model is assumed and says so; about 20 events a year."""
    figures = model.figures()
    assert len(figures) > 100
    for path, figure in figures:
        assert figure.fidelity == "assumed", path
        assert figure.note and "ssumed" in figure.note, path
    mean = sum(sum(b.rate_of(g.id) for b in model.behaviours) * g.share.value
               for g in model.groups)
    assert 18 <= mean <= 22
    assert sum(g.share.value for g in model.groups) == 1


def test_default_model_uses_types_the_schemes_score(model: CityModel) -> None:
    scored = {t for scheme in shipped_schemes() for rule in scheme.rules
              for t in rule.match.types}
    assert not [b.type for b in model.behaviours if b.type not in scored]


BASE = """\
name: tiny
start: 2024-01-01
notes:
  a: &a {fidelity: assumed, note: assumed}
groups:
  - id: everyone
    share: {<<: *a, value: 1}
    residence: urban
    age: {min: {<<: *a, value: 18}, max: {<<: *a, value: 60}}
behaviours:
  - type: volunteer.service
    rate: {<<: *a, value: 2}
    attrs:
      hours:
        kind: uniform
        min: {<<: *a, value: 1}
        max: {<<: *a, value: 3}
        step: {<<: *a, value: 0.5}
"""


@pytest.mark.parametrize(("change", "line", "field", "phrase"), [
    (("type: volunteer.service", "type: volunteer.servce"), 11, "behaviours[0].type",
     "unknown event type 'volunteer.servce' (did you mean 'volunteer.service'"),
    (("share: {<<: *a, value: 1}", "share: {<<: *a, value: 0.9}"), 5, "groups",
     "the group shares add up to 0.9, not 1"),
    (("rate: {<<: *a, value: 2}", "rate: {<<: *a, value: -2}"), 12, "behaviours[0].rate.value",
     "must be \u2265 0, got -2"),
    (("residence: urban", "residence: urban\n    roles: [teachr]"), 9, "groups[0].roles[0]",
     "unknown role 'teachr' (did you mean 'teacher'?)"),
    (("      hours:", "      hour:"), 14, "behaviours[0].attrs.hour",
     "unknown attribute 'hour' for volunteer.service (did you mean 'hours'?)"),
    (("rate: {<<: *a, value: 2}", "rate: {value: 2, fidelity: assumed}"), 12,
     "behaviours[0].rate", "an assumed number needs a 'note'"),
    (("step: {<<: *a, value: 0.5}", "step: {<<: *a, value: 0.7}"), 17,
     "behaviours[0].attrs.hours.max.value", "is not min 1 plus a whole number of steps"),
    (("name: tiny", "name: tiny\ncolour: red"), 2, "colour", "Extra inputs are not permitted"),
])
def test_model_errors_name_file_line_field(change: tuple[str, str], line: int, field: str,
                                           phrase: str, vocabulary: Vocabulary,
                                           tmp_path: Path) -> None:
    assert change[0] in BASE
    path = tmp_path / "city.yaml"
    path.write_text(BASE.replace(change[0], change[1], 1), encoding="utf-8")
    with pytest.raises(InputError) as info:
        load_city_model(path, vocabulary)
    err = info.value
    assert (err.file, err.line, err.field) == (str(path), line, field), str(err)
    assert phrase in err.reason, str(err)


def test_the_base_model_loads(vocabulary: Vocabulary, tmp_path: Path) -> None:
    path = tmp_path / "city.yaml"
    path.write_text(BASE, encoding="utf-8")
    model = load_city_model(path, vocabulary)
    assert model.sha256.startswith("sha256:") and len(model.figures()) == 7


# --- the city -----------------------------------------------------------------------------


def test_same_seed_same_bytes_other_seed_other_bytes(model: CityModel, tmp_path: Path) -> None:
    one = simulate(model, 1200, 2, 5, tmp_path / "one")
    two = simulate(model, 1200, 2, 5, tmp_path / "two")
    other = simulate(model, 1200, 2, 6, tmp_path / "other")
    assert hashes(tmp_path / "one") == hashes(tmp_path / "two")
    assert set(hashes(tmp_path / "one")) == {"subjects.parquet", "events/part-00000.parquet"}
    assert set(hashes(tmp_path / "one").values()).isdisjoint(hashes(tmp_path / "other").values())
    assert one == two.__class__(tmp_path / "one", 1200, two.events, 1, two.as_of)
    assert other.events != one.events
    meta = pq.ParquetFile(tmp_path / "one" / "subjects.parquet").schema_arrow.metadata
    assert json.loads(meta[SIMULATION_KEY]) == {"model": model.sha256, "name": model.name,
                                                "seed": 5, "people": 1200, "years": 2}


def test_small_city_reads_back_and_replays(model: CityModel, vocabulary: Vocabulary,
                                           tmp_path: Path, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    import creditlab.engine.simulation.city as city_module

    monkeypatch.setattr(city_module, "PEOPLE_PER_PART", 700)  # three parts
    done: list[tuple[int, int]] = []
    city = simulate(model, 2000, 1, 0, tmp_path / "city", lambda d, t: done.append((d, t)))
    assert city.parts == 3 and done == [(700, 2000), (1400, 2000), (2000, 2000)]
    assert 15 * 2000 < city.events < 25 * 2000
    history = load_parquet_history(tmp_path / "city", vocabulary)
    assert len(history.subjects) == 2000 and len(history.events) == city.events
    assert history.as_of == city.as_of and history.end == city.as_of
    opened = open_parquet_history(tmp_path / "city", vocabulary)
    assert opened.last_day is not None and opened.last_day <= city.as_of
    # Each part is a disjoint run of subjects, sorted by (subject, at, id).
    for part in sorted((tmp_path / "city" / "events").glob("*.parquet")):
        rows = pq.read_table(part, columns=["subject", "at", "id"]).to_pylist()
        keys = [(r["subject"], r["at"], r["id"]) for r in rows]
        assert keys == sorted(keys)
    sizes = []
    seen: set[str] = set()
    for table in opened.partitions(subjects_per_partition=700):
        assert table.schema == events_schema(vocabulary)
        subjects = set(table.column("subject").to_pylist())
        assert not subjects & seen
        seen |= subjects
        sizes.append(table.num_rows)
    assert sum(sizes) == city.events and len(sizes) == 3
    schemes = [shipped_scheme(i) for i in ("hangzhou_qianjiang", "meritown_2019",
                                           "suining_county")]
    small = history.model_copy(update={
        "events": tuple(e for e in history.events if e.subject < "c0200"),
        "subjects": {k: v for k, v in history.subjects.items() if k < "c0200"}})
    result = replay(small, schemes)
    assert len(result.results) == 3 * 200
    assert any(r.score != r.start for r in result.results)


def test_refuses_a_folder_that_is_not_empty(model: CityModel, tmp_path: Path) -> None:
    target = tmp_path / "city"
    target.mkdir()
    (target / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not empty"):
        simulate(model, 10, 1, 0, target)
    assert [p.name for p in tmp_path.iterdir()] == ["city"]
    empty = tmp_path / "empty"
    empty.mkdir()
    simulate(model, 10, 1, 0, empty)
    assert (empty / "subjects.parquet").is_file()
    with pytest.raises(OutputError, match="does not exist"):
        simulate(model, 10, 1, 0, tmp_path / "no" / "city")


# --- the command --------------------------------------------------------------------------


def test_cli_writes_a_city(tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(simulate_command, ["--people", "300", "--seed", "3", "-o",
                                              str(tmp_path / "city")])
    assert result.exit_code == 0, result.output
    assert "wrote 300 people and" in result.output
    assert (tmp_path / "city" / "events" / "part-00000.parquet").is_file()
    again = runner.invoke(simulate_command, ["--people", "300", "-o", str(tmp_path / "city")])
    assert again.exit_code == 1 and "the folder is not empty" in again.output
    assert "Traceback" not in again.output


def test_cli_bad_model_and_usage(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text(BASE.replace("volunteer.service", "volunteer.servce"), encoding="utf-8")
    runner = CliRunner()
    result = runner.invoke(simulate_command, ["--people", "5", "--model", str(bad), "-o",
                                              str(tmp_path / "c")])
    assert result.exit_code == 1
    assert f"{bad}:11: [behaviours[0].type] unknown event type" in result.output
    assert runner.invoke(simulate_command, ["-o", str(tmp_path / "c")]).exit_code == 2
    assert runner.invoke(simulate_command, ["--people", "0", "-o", "x"]).exit_code == 2
    help_text = runner.invoke(simulate_command, ["--help"]).output
    assert "Example:" in help_text and "creditlab simulate --people" in help_text
