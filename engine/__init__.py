"""creditlab.engine: load histories and schemes, replay them, read the ledger.

The folders are the stages of the flow, each reading only what the ones before it made:

    inputs/    files → validated models: vocabulary, scheme format, histories, loading
    scoring/   replay: which rules fire (durable/: durable_rules and the exact reducer),
               the typed ledger, results, manifest and digest
    analysis/  analysts' and educators' readings of replays: diff, compare, matrix,
               exchange, explain, asymmetry
    checks/    auditors: lint, properties over generated histories, counterfactual groups
    views/     files for people: HTML report, charts, frames, CSV and Parquet

Leaves every stage uses sit at the root: `errors`, `canonical` (exact numbers and
canonical JSON), `model` (the frozen strict model base); `describe` words scheme elements
and ledger records for the readers.

    >>> from creditlab.engine import replay_file
    >>> result = replay_file("fixtures/example.yaml")          # doctest: +SKIP
    >>> [(r.subject, r.scheme, r.score) for r in result.results]  # doctest: +SKIP
"""

from __future__ import annotations

from pathlib import Path

from creditlab.engine.errors import (
    CreditlabError,
    EngineError,
    HistoryError,
    InputError,
    OutputError,
    SchemeError,
    UnknownSchemeError,
    VocabularyError,
)
from creditlab.engine.inputs.catalog import resolve_schemes, shipped_scheme, shipped_schemes
from creditlab.engine.inputs.history import Event, History, Subject
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.load import load_scheme
from creditlab.engine.inputs.scheme import Band, Rule, Scheme
from creditlab.engine.inputs.vocabulary import Vocabulary, load_vocabulary, shipped_vocabulary
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Accounting, Outcome, Replay, replay

__all__ = [
    "Accounting",
    "Band",
    "CreditlabError",
    "EngineError",
    "Event",
    "History",
    "HistoryError",
    "InputError",
    "LedgerEntry",
    "Outcome",
    "OutputError",
    "Replay",
    "Rule",
    "Scheme",
    "SchemeError",
    "Subject",
    "UnknownSchemeError",
    "Vocabulary",
    "VocabularyError",
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
    from creditlab.engine.scoring.replay import creditlab_version

    return creditlab_version()


def replay_file(history: str | Path, schemes: list[str] | tuple[str, ...] = ()) -> Replay:
    """Load a history file and replay it through the named (default: all shipped) schemes."""
    vocabulary = shipped_vocabulary()
    return replay(load_history(history, vocabulary), resolve_schemes(schemes))
