"""`creditlab simulate`: a synthetic city written as a Parquet history folder."""

from __future__ import annotations

from pathlib import Path

import click

from creditlab.engine.errors import CreditlabError
from creditlab.engine.inputs.vocabulary import shipped_vocabulary
from creditlab.engine.simulation.city import MAX_PEOPLE, MAX_YEARS, simulate
from creditlab.engine.simulation.model import load_city_model

from .output import ProgressBar

__all__ = ["COMMANDS", "DEFAULT_MODEL", "simulate_command"]

DEFAULT_MODEL = Path(__file__).resolve().parents[1] / "fixtures" / "city-model.yaml"
"""The shipped city model (every number in it is assumed, and says so)."""


@click.command("simulate")
@click.option("--people", type=click.IntRange(1, MAX_PEOPLE), required=True,
              help="Number of persons in the city.")
@click.option("--years", type=click.IntRange(1, MAX_YEARS), default=1, show_default=True,
              help="Years of behaviour from the model's start date.")
@click.option("--seed", type=click.IntRange(0), default=0, show_default=True,
              help="Random seed: the same seed and model give byte-identical files.")
@click.option("--model", "model_path", type=click.Path(dir_okay=False, path_type=Path),
              default=None, help="City model file (default: the shipped fixtures/city-model"
              ".yaml, whose every number is assumed).")
@click.option("-o", "--output", type=click.Path(path_type=Path), required=True,
              help="Folder to write: new, or empty.")
def simulate_command(people: int, years: int, seed: int, model_path: Path | None,
                     output: Path) -> None:
    """Draw a synthetic city and write it as a Parquet history folder.

    The folder holds subjects.parquet and events/part-00000.parquet, ..., and is read
    back by every command that takes a history. Group shares, ages and behaviour rates
    come from the city model; in the shipped model they are all assumed, so a synthetic
    city shows how the schemes treat a plausible population, not any real city.

    Example:

    \b
        creditlab simulate --people 10000 --years 2 --seed 7 -o city/
        creditlab simulate --people 1000 --model my-city.yaml -o small-city/
    """
    bar = ProgressBar("simulating")
    try:
        model = load_city_model(model_path or DEFAULT_MODEL, shipped_vocabulary())
        city = simulate(model, people, years, seed, output,
                        lambda done, total: bar.update("people", done, total))
    except CreditlabError as exc:
        raise click.ClickException(str(exc)) from None
    except OSError as exc:  # a full disk while writing: the partial folder is removed
        raise click.ClickException(f"{exc.filename or output}: {exc.strerror or exc}") from None
    finally:
        bar.close()
    click.echo(f"wrote {city.people} people and {city.events} events ({city.parts} parts, "
               f"as of {city.as_of}) to {city.path}")


COMMANDS = (simulate_command,)
