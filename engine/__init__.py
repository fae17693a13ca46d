"""creditlab.engine: load histories and schemes, replay them, read the ledger.

    >>> from creditlab.engine import load_history, replay_file
    >>> result = replay_file("fixtures/example.yaml")          # doctest: +SKIP
    >>> [(r.subject, r.scheme, r.score) for r in result.results]  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from .catalog import resolve_schemes, shipped_scheme, shipped_schemes
from .compile import CompiledScheme, compile_scheme, load_scheme
from .errors import (
    CreditlabError,
    EngineError,
    HistoryError,
    InputError,
    SchemeError,
    UnknownSchemeError,
    VocabularyError,
)
from .history import Event, History, Subject, load_history
from .reduce import LedgerEntry, Reducer, Standing
from .replay import Accounting, Outcome, Replay, replay
from .scheme import Band, Rule, Scheme
from .vocabulary import Vocabulary, load_vocabulary, shipped_vocabulary

__all__ = [
    "Accounting",
    "Band",
    "CompiledScheme",
    "CreditlabError",
    "EngineError",
    "Event",
    "History",
    "HistoryError",
    "InputError",
    "LedgerEntry",
    "Outcome",
    "Reducer",
    "Replay",
    "Rule",
    "Scheme",
    "SchemeError",
    "Standing",
    "Subject",
    "UnknownSchemeError",
    "Vocabulary",
    "VocabularyError",
    "compile_scheme",
    "load_history",
    "load_scheme",
    "load_vocabulary",
    "replay",
    "replay_file",
    "resolve_schemes",
    "shipped_scheme",
    "shipped_schemes",
    "shipped_vocabulary",
    "version",
]


def version() -> str:
    """The installed creditlab version."""
    from creditlab import __version__

    return __version__


def replay_file(history: str | Path, schemes: list[str] | tuple[str, ...] = ()) -> Replay:
    """Load a history file and replay it through the named (default: all shipped) schemes."""
    vocabulary = shipped_vocabulary()
    loaded = load_history(history, vocabulary)
    chosen = resolve_schemes(schemes)
    return replay(loaded, chosen, version=version(), vocabulary_sha256=_vocabulary_sha())


def _vocabulary_sha() -> str:
    import hashlib

    from .catalog import schemes_dir

    raw = (schemes_dir() / "vocabulary.yaml").read_bytes()
    return "sha256:" + hashlib.sha256(raw).hexdigest()
