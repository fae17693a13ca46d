"""One subject through one scheme, one event at a time: the scoring stage's stepping API.

For readers that search rather than replay a fixed history (`analysis.exchange` asks "how
many good acts offset this offence?"): `SubjectWalk.apply` scores one event as `replay`
would, `SubjectWalk.trial` scores it on a copy and leaves the walk as it was. Whatever a
search finds is then confirmed by a real `replay` of the history it describes.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date
from decimal import Decimal

from creditlab.engine.inputs.history import Event, Subject
from creditlab.engine.inputs.scheme import Scheme
from creditlab.engine.scoring.durable.compile import compile_scheme
from creditlab.engine.scoring.durable.match import Matcher
from creditlab.engine.scoring.durable.reduce import Reducer
from creditlab.engine.scoring.durable.standing import Standing
from creditlab.engine.scoring.ledger import LedgerEntry

__all__ = ["Grade", "SubjectWalk"]


@dataclass(frozen=True)
class Grade:
    """A grade set by a reclassification, until a date (None: no end stated)."""

    grade: str
    until: date | None
    rule: str


class SubjectWalk:
    """One subject's standing in one scheme, moved forward event by event."""

    def __init__(self, scheme: Scheme, subject: Subject) -> None:
        self.scheme = scheme
        self.subject = subject
        self._reducer = Reducer(scheme)
        self._matcher = Matcher(compile_scheme(scheme))
        self._standing: Standing = self._reducer.start()

    @property
    def score(self) -> Decimal:
        return self._standing.score

    @property
    def band(self) -> str | None:
        """The grade shown: the score's band unless a reclassification overrides it."""
        return self._reducer.band(self._standing)

    @property
    def flags(self) -> Mapping[str, date | None]:
        """List states held, each until a date (None: no end stated)."""
        return dict(self._standing.flags)

    @property
    def grade(self) -> Grade | None:
        o = self._standing.override
        return None if o is None else Grade(o.grade, o.until, o.rule)

    @property
    def overridden(self) -> bool:
        """A reclassification shows a grade other than the one the score gives."""
        return self._standing.override is not None and \
            self.band != self.scheme.band_for(self.score)

    def apply(self, event: Event) -> tuple[LedgerEntry, ...]:
        """Score `event` (of this walk's subject), as a replay would, and move on."""
        fired = self._matcher.fired(event, self.subject)
        return tuple(self._reducer.apply(self._standing, event, fired))

    def trial(self, event: Event) -> tuple[SubjectWalk, tuple[LedgerEntry, ...]]:
        """A copy of this walk with `event` applied; this walk is unchanged."""
        other = copy.copy(self)
        other._standing = copy.deepcopy(self._standing)
        return other, other.apply(event)

    def advance(self, day: date) -> None:
        """Let list states and grades whose time has run out by `day` end."""
        self._standing.expire(day)
