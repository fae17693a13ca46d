"""The Python API at the top: `creditlab.replay` and what it returns.

    >>> import creditlab
    >>> r = creditlab.replay("fixtures/example.yaml", schemes=["fuzhou_yuming"])  # doctest: +SKIP
    >>> r.results_frame()                                                          # doctest: +SKIP

The stages underneath stay where they are (`creditlab.engine.inputs`, `.scoring`,
`.analysis`, `.checks`, `.views`); this module only joins them for a notebook or script.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from creditlab.engine.describe import entry_record
from creditlab.engine.inputs.catalog import resolve_schemes
from creditlab.engine.inputs.history import History
from creditlab.engine.inputs.history_files import load_history
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.inputs.vocabulary import shipped_vocabulary
from creditlab.engine.scoring.ledger import LedgerEntry
from creditlab.engine.scoring.replay import Accounting, Outcome, Progress, Replay
from creditlab.engine.scoring.replay import replay as replay_history

if TYPE_CHECKING:  # pandas is imported only when a frame is asked for
    import pandas as pd

__all__ = ["ReplayResult", "replay"]


@dataclass(frozen=True)
class ReplayResult:
    """A replay's results, ledger, manifest and digest, with frames and a notebook view."""

    replay: Replay

    @property
    def results(self) -> tuple[Outcome, ...]:
        """One outcome per (subject, scheme), sorted by subject then scheme."""
        return self.replay.results

    @property
    def ledger(self) -> tuple[LedgerEntry, ...]:
        """One typed entry per rule fired and per lapse, in replay order."""
        return self.replay.ledger

    @property
    def accounting(self) -> tuple[Accounting, ...]:
        return self.replay.accounting

    @property
    def manifest(self) -> dict[str, Any]:
        return self.replay.manifest

    @property
    def digest(self) -> str:
        return self.replay.digest

    @property
    def history(self) -> History:
        return self.replay.history

    @property
    def schemes(self) -> tuple[Scheme, ...]:
        return self.replay.schemes

    def as_dict(self, *, explain: bool = False) -> dict[str, Any]:
        """The JSON of `creditlab replay --format json [--explain]`."""
        data = self.replay.as_dict(explain=explain)
        if explain:
            data["ledger"] = [entry_record(e) for e in self.replay.ledger]
        return data

    def results_frame(self) -> pd.DataFrame:
        """A pandas frame, one row per (subject, scheme); `attrs` has manifest and digest."""
        from creditlab.engine.views.frames import results_frame

        return results_frame(self.replay)

    def ledger_frame(self) -> pd.DataFrame:
        """A pandas frame, one row per ledger entry: kind, at, event, type, rule, points,
        what it did, and the source's file, line and quote."""
        from creditlab.engine.views.frames import ledger_frame

        return ledger_frame(self.replay)

    def _repr_html_(self) -> str:
        from creditlab.engine.views.notebook import replay_html

        return replay_html(self.replay)


def replay(history: str | Path | History,
           schemes: Iterable[str | Path | Scheme] = (), *,
           progress: Progress | None = None) -> ReplayResult:
    """Replay a history (a YAML or JSONL file, or a `History`) through schemes.

    `schemes` are shipped ids (`"fuzhou_yuming"`, `"meritown_2019@rate_only"`), paths of
    scheme files, or `Scheme` objects; none means every shipped scheme, variants excluded.
    Errors are `creditlab.CreditlabError`s naming file, line and field.
    """
    loaded = history if isinstance(history, History) else load_history(history,
                                                                       shipped_vocabulary())
    chosen = _schemes(list(schemes))
    return ReplayResult(replay_history(loaded, chosen, progress=progress))


def _schemes(names: Sequence[str | Path | Scheme]) -> list[Scheme]:
    if not names:
        return resolve_schemes(())
    return [n if isinstance(n, Scheme) else resolve_schemes((str(n),))[0] for n in names]
