"""Shell completion completes scheme ids and event types (README, "Shell completion")."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from creditlab.engine import shipped_schemes, shipped_vocabulary


def _complete(words: str) -> list[str]:
    """What bash would be offered for the last word of `words` (as the shell hook asks)."""
    env = {**os.environ, "COMP_WORDS": words, "COMP_CWORD": str(len(words.split()) - 1),
           "_CREDITLAB_COMPLETE": "bash_complete"}
    run = subprocess.run([sys.executable, "-m", "creditlab.cli.main"], env=env,
                         capture_output=True, text=True, check=True)
    return [line.split(",", 1)[1] for line in run.stdout.splitlines() if line]


@pytest.mark.parametrize("words", ["creditlab replay x.yaml --scheme fuz",
                                   "creditlab lint fuz", "creditlab show fuz",
                                   "creditlab diff x.yaml --scheme fuz"])
def test_scheme_ids_complete(words: str) -> None:
    expected = sorted(s.id for s in shipped_schemes() if s.id.startswith("fuz"))
    assert _complete(words) == expected


@pytest.mark.parametrize("words", ["creditlab vocabulary volunteer.",
                                   "creditlab matrix --behaviour volunteer."])
def test_event_types_complete(words: str) -> None:
    expected = sorted(t for t in shipped_vocabulary().events if t.startswith("volunteer."))
    assert expected and _complete(words) == expected
