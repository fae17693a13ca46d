"""creditlab.testing: hypothesis strategies and a pytest plugin for auditors' own properties.

    from hypothesis import given
    from creditlab.testing import histories

    @given(history=histories(scheme="fuzhou_yuming"))
    def test_no_one_ends_below_zero(history, creditlab_replay):
        result = creditlab_replay(history, "fuzhou_yuming")
        assert all(r.score >= 0 for r in result.results)

Strategies (all give plain data in the shape of a YAML history file, so a failing example
can be saved and replayed with `creditlab replay`):

- `histories(max_subjects=4, max_events=25, types=None, scheme=None)`: subjects and events;
  with `scheme` (an id, a path or a Scheme) nine events in ten are aimed at its rules
  (boundary values, roles, effective dates), as `creditlab audit` generates them;
- `subjects(sid, kind=None, roles=())`, `events(eid, subject_ids, types=None)`,
  `attr_values(spec)`: the parts;
- `schemes(variants=False)`: shipped schemes.

The pytest plugin (registered as `pytest11` entry point `creditlab`) gives the
session-scoped (stateless, so hypothesis accepts them in `@given` tests) fixtures
`creditlab_replay` (replay plain history data through schemes, returning a `Replay`),
`creditlab_history` (plain data to a validated `History`) and `creditlab_scheme` (a
scheme by id or path).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import strategies as st

from creditlab.engine import History, Replay, Scheme, replay, resolve_schemes, shipped_schemes
from creditlab.engine.checks.audit import PROPERTIES, Run, Violation, history_from_data
from creditlab.engine.checks.generate import attr_values, boundary_values, events, subjects
from creditlab.engine.checks.generate import histories as _histories

__all__ = [
    "PROPERTIES",
    "Run",
    "Violation",
    "attr_values",
    "boundary_values",
    "creditlab_history",
    "creditlab_replay",
    "creditlab_scheme",
    "events",
    "histories",
    "replay_data",
    "scheme_named",
    "schemes",
    "subjects",
]


def scheme_named(name: str | Scheme) -> Scheme:
    """A shipped scheme by id, or a scheme file by path."""
    return name if isinstance(name, Scheme) else resolve_schemes((name,))[0]


def histories(max_subjects: int = 4, max_events: int = 25, types: list[str] | None = None,
              scheme: Scheme | str | None = None) -> st.SearchStrategy[dict[str, Any]]:
    """Histories as plain data; with `scheme`, aimed at its rules."""
    chosen = scheme_named(scheme) if scheme is not None else None
    return _histories(max_subjects=max_subjects, max_events=max_events, types=types,
                      scheme=chosen)


def schemes(variants: bool = False) -> st.SearchStrategy[Scheme]:
    """One of the shipped schemes (variant readings only when asked)."""
    return st.sampled_from([s for s in shipped_schemes() if variants or s.variant is None])


def replay_data(data: dict[str, Any], *names: str | Scheme) -> Replay:
    """Replay a history given as plain data through schemes (ids, paths or Schemes)."""
    return replay(history_from_data(data), [scheme_named(n) for n in names])


@pytest.fixture(scope="session")
def creditlab_replay() -> Callable[..., Replay]:
    """`creditlab_replay(history_data, "scheme_id", ...)` -> Replay."""
    return replay_data


@pytest.fixture(scope="session")
def creditlab_history() -> Callable[[dict[str, Any]], History]:
    """`creditlab_history(history_data)` -> a validated History."""
    return history_from_data


@pytest.fixture(scope="session")
def creditlab_scheme() -> Callable[[str], Scheme]:
    """`creditlab_scheme("fuzhou_yuming")` or `creditlab_scheme("my-scheme.yaml")`."""
    return scheme_named
