"""Synthetic cities: a population and its behaviour drawn from a city model, written as a
Parquet history that creditlab reads back like any other (`inputs.history_parquet`).

`model` reads and checks the city model file (groups of people, behaviours and their
yearly rates, every number with its fidelity); `city` draws a city from it, vectorised
and deterministic for a seed.
"""
