"""The one exception hierarchy of creditlab.

    CreditlabError                 root: everything the library raises on purpose
    ├── InputError                 bad input a user can fix; carries file, line, field
    │   ├── HistoryError           a history file (YAML or JSONL) is malformed or invalid
    │   ├── SchemeError            a scheme file is malformed, invalid or unresolvable
    │   ├── VocabularyError        the vocabulary file is malformed or invalid
    │   └── ScenarioTestError      a test file (`creditlab test`) cannot be run
    ├── UnknownSchemeError         a scheme id that is not shipped (with "did you mean")
    ├── OutputError                a file creditlab was asked to write cannot or must not be
    └── EngineError                durable_rules misbehaved (a bug, never bad input)

Each error keeps its context as attributes and builds its message from them, so the CLI
can print it and exit 1 without knowing which kind it is.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

__all__ = [
    "CreditlabError",
    "EngineError",
    "HistoryError",
    "HistoryErrors",
    "InputError",
    "OutputError",
    "ScenarioTestError",
    "SchemeError",
    "UnknownSchemeError",
    "VocabularyError",
    "did_you_mean",
]


def did_you_mean(name: str, possibilities: Iterable[str]) -> str:
    """A " (did you mean 'x'?)" suffix for an unknown name, or "" when nothing is close."""
    close = difflib.get_close_matches(name, sorted(set(possibilities)), n=3, cutoff=0.6)
    if not close:
        return ""
    return " (did you mean " + " or ".join(repr(c) for c in close) + "?)"


class CreditlabError(Exception):
    """Root of every error creditlab raises on purpose."""


class InputError(CreditlabError):
    """Bad input, located: which file, which line, which field, and what is wrong."""

    what = "input"

    def __init__(
        self,
        reason: str,
        *,
        file: str | Path | None = None,
        line: int | None = None,
        field: str | None = None,
        row: int | None = None,
    ) -> None:
        self.reason = reason
        self.file = str(file) if file is not None else None
        self.line = line
        self.field = field
        self.row = row
        """The 1-based data row, for tables (Parquet), which have no lines."""
        super().__init__(self.format_message())

    def format_message(self) -> str:
        where = self.file or f"<{self.what}>"
        if self.line is not None:
            where += f":{self.line}"
        elif self.row is not None:
            where += f": row {self.row}"
        field = f" [{self.field}]" if self.field else ""
        return f"{where}:{field} {self.reason}"


class HistoryError(InputError):
    """A history file is malformed or does not fit the vocabulary."""

    what = "history"


class HistoryErrors(HistoryError):
    """Several mistakes in one history, in file order (the first is this error's location).

    A history's subjects and events are each checked in full before the file is refused,
    so that one run reports up to `limit` mistakes instead of the first one only.
    """

    def __init__(self, errors: Sequence[HistoryError], *, limit: int) -> None:
        self.errors = tuple(errors)
        self.limit = limit
        first = self.errors[0]
        super().__init__(first.reason, file=first.file, line=first.line, field=first.field)

    def format_message(self) -> str:
        lines = [e.format_message() for e in self.errors]
        more = (f"\n(stopped after {self.limit} mistakes; fix these and run again)"
                if len(self.errors) >= self.limit else "")
        return "\n".join(lines) + f"\n{len(self.errors)} mistakes in the history" + more


class SchemeError(InputError):
    """A scheme file is malformed, invalid, or refers to something that does not exist."""

    what = "scheme"


class VocabularyError(InputError):
    """The vocabulary file is malformed or invalid."""

    what = "vocabulary"


class ScenarioTestError(InputError):
    """A test file that cannot be run: malformed, an unknown key or scheme, a bad expectation."""

    what = "test file"


class UnknownSchemeError(CreditlabError):
    """A scheme id that no shipped scheme file has."""

    def __init__(self, scheme_id: str, known: Iterable[str]) -> None:
        self.scheme_id = scheme_id
        self.known = sorted(known)
        super().__init__(
            f"unknown scheme {scheme_id!r}{did_you_mean(scheme_id, self.known)}; "
            f"shipped schemes: {', '.join(self.known)}"
        )


class OutputError(CreditlabError):
    """A file creditlab was asked to write cannot be written, or must not be (a link, a
    device, an input of the same command, an existing file without --force)."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")


class EngineError(CreditlabError):
    """durable_rules failed or swallowed an exception: a bug in creditlab, not in the input."""
