"""The ledger: one typed record per rule that fired, and per lapse, in replay order.

Every later stage reads these records (explain, diff, the report's timelines, audit), so
they are data, never sentences: `kind` says what the entry is, `at` the day it takes
effect, `changes` what it did beyond points (score set, grade, list state, lapse date) and
`notes` why the applied points differ from the points given (limits, caps, clamp, a
missing attribute). Text is made from them by the readers (`creditlab.engine.describe`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Literal

__all__ = [
    "Accumulated",
    "AtMost",
    "BelowThreshold",
    "CapReached",
    "Change",
    "Checked",
    "Clamped",
    "CountTier",
    "FlagAdded",
    "FlagRemoved",
    "FrequencyLimit",
    "GradeSet",
    "Lapsed",
    "LapsesOn",
    "LedgerEntry",
    "MissingAttribute",
    "NoQuantityTier",
    "NoTierValue",
    "Note",
    "Repeat",
    "SameAct",
    "ScoreSet",
    "Unquantified",
]


# --- changes: what an entry did beyond adding points ------------------------------------


@dataclass(frozen=True)
class ScoreSet:
    """The score was set to `score` (a reset, for example)."""

    score: Decimal
    kind: Literal["score_set"] = "score_set"


@dataclass(frozen=True)
class GradeSet:
    """A reclassification: grade `grade` with `policy` (worse_of, replace) until `until`."""

    grade: str
    policy: str
    until: date | None
    kind: Literal["grade_set"] = "grade_set"


@dataclass(frozen=True)
class FlagAdded:
    """A list state (blacklisted, flight_ban, ...) added, until `until` (None: no end)."""

    flag: str
    until: date | None
    kind: Literal["flag_added"] = "flag_added"


@dataclass(frozen=True)
class FlagRemoved:
    """A list state removed."""

    flag: str
    kind: Literal["flag_removed"] = "flag_removed"


@dataclass(frozen=True)
class LapsesOn:
    """The points this entry applied lapse on `on` (the rule's `expires_after`)."""

    on: date
    kind: Literal["lapses_on"] = "lapses_on"


@dataclass(frozen=True)
class Lapsed:
    """This entry reverses the points that the event given on `given_on` applied."""

    given_on: date
    kind: Literal["lapsed"] = "lapsed"


Change = ScoreSet | GradeSet | FlagAdded | FlagRemoved | LapsesOn | Lapsed


# --- notes: why the applied points differ from the points given -------------------------


@dataclass(frozen=True)
class SameAct:
    """A duplicated row: `rule` scored this act already, so this one does not."""

    rule: str
    kind: Literal["same_act"] = "same_act"


@dataclass(frozen=True)
class FrequencyLimit:
    """The rule's limit of `times` per `per` was reached: recorded, 0 applied. `per` is a
    calendar period (`month`) or a rolling window as an ISO 8601 duration (`P30D`: any 30
    days up to this event)."""

    times: int
    per: str
    kind: Literal["frequency_limit"] = "frequency_limit"


@dataclass(frozen=True)
class CapReached:
    """A cap of `points` per `per` cut the points: the rule's own, or a shared `group`'s."""

    points: Decimal
    per: str
    group: str | None = None
    kind: Literal["cap_reached"] = "cap_reached"


@dataclass(frozen=True)
class Clamped:
    """The score was kept on the scale `min`-`max`."""

    min: Decimal
    max: Decimal
    kind: Literal["clamped"] = "clamped"


@dataclass(frozen=True)
class MissingAttribute:
    """The event lacks `attr`, on which the rule's points depend: no points given."""

    attr: str
    kind: Literal["missing_attribute"] = "missing_attribute"


@dataclass(frozen=True)
class NoTierValue:
    """The source documents no points for `attr` = `value`."""

    attr: str
    value: Any
    kind: Literal["no_tier_value"] = "no_tier_value"


@dataclass(frozen=True)
class NoQuantityTier:
    """No quantity tier of the rule covers `attr` = `value`."""

    attr: str
    value: Decimal
    kind: Literal["no_quantity_tier"] = "no_quantity_tier"


@dataclass(frozen=True)
class BelowThreshold:
    """The quantity is below the formula's threshold: 0 points."""

    attr: str
    threshold: Decimal
    kind: Literal["below_threshold"] = "below_threshold"


@dataclass(frozen=True)
class AtMost:
    """The formula's maximum of `points` applied."""

    points: Decimal
    kind: Literal["at_most"] = "at_most"


@dataclass(frozen=True)
class CountTier:
    """A counting rule: this is occurrence `count` in `window`; `more_than` is the tier
    reached by it, or None when it reached no new tier (0 points)."""

    count: int
    window: str
    more_than: int | None
    kind: Literal["count_tier"] = "count_tier"


@dataclass(frozen=True)
class Accumulated:
    """A running total: with this event, `of` (an attribute, or `count`) totals `total`
    in `window` for this rule; the points are what the total is worth now, less what it
    was worth before this event. `window` is a calendar period (`year`, `ever`, ...) or a
    rolling window's length as an ISO 8601 duration (`P365D`, `P3Y`: the events of that
    long up to this one)."""

    of: str
    total: Decimal
    window: str
    kind: Literal["accumulated"] = "accumulated"


@dataclass(frozen=True)
class Repeat:
    """A repeat offence: the same rule counted on `earlier_on`, still `within` (`validity`:
    while that entry's points count, or an ISO 8601 duration such as `P1Y`), so this
    entry's points are the rule's times `factor`."""

    factor: Decimal
    earlier_on: date
    within: str
    kind: Literal["repeat"] = "repeat"


@dataclass(frozen=True)
class Unquantified:
    """The rule fired but its source gives no points for this `direction`."""

    direction: str
    kind: Literal["unquantified"] = "unquantified"


@dataclass(frozen=True)
class Checked:
    """A periodic check's finding: it counted `total` (`of` entries or points) in the
    period from `since` to the check's day, and the total met its condition."""

    of: str
    total: Decimal
    since: date
    kind: Literal["checked"] = "checked"


Note = (SameAct | FrequencyLimit | CapReached | Clamped | MissingAttribute | NoTierValue
        | NoQuantityTier | BelowThreshold | AtMost | CountTier | Accumulated | Repeat
        | Unquantified | Checked)


def record(item: Change | Note) -> dict[str, Any]:
    """A change or note as a plain mapping, `kind` first."""
    data = {"kind": item.kind}
    data.update((k, v) for k, v in vars(item).items() if k != "kind")
    return data


@dataclass(frozen=True)
class LedgerEntry:
    """One rule that fired on one event in one scheme (kind `rule`), the lapse of the
    points one such entry applied (kind `lapse`), or a periodic check that found its
    condition met (kind `check`), and what it did.

    `event`, `type` and `rule` are those of the act; `at` is the day the entry takes
    effect: the event's day, or for a lapse the lapse's own day. A check's `rule` is the
    check's id, its `at` the check's day, its `event` the period judged (`since/at`, an
    ISO 8601 interval) and its `type` "check"; it applies no points.
    """

    kind: Literal["rule", "lapse", "check"]
    at: date
    event: str
    type: str
    subject: str
    scheme: str
    rule: str
    points: Decimal | None
    applied: Decimal
    score_before: Decimal
    score_after: Decimal
    band_before: str | None
    band_after: str | None
    changes: tuple[Change, ...]
    notes: tuple[Note, ...]
    source: dict[str, Any]
    fidelity: str

    @property
    def is_lapse(self) -> bool:
        return self.kind == "lapse"

    def change(self, kind: str) -> Change | None:
        """The first change of `kind` ("grade_set", "flag_added", ...), if any."""
        return next((c for c in self.changes if c.kind == kind), None)

    def noted(self, kind: str) -> bool:
        """Whether a note of `kind` ("cap_reached", "frequency_limit", ...) is present."""
        return any(n.kind == kind for n in self.notes)

    def as_dict(self) -> dict[str, Any]:
        """The entry as data (what the digest is computed over)."""
        return {
            "kind": self.kind,
            "at": self.at,
            "event": self.event,
            "type": self.type,
            "subject": self.subject,
            "scheme": self.scheme,
            "rule": self.rule,
            "points": self.points,
            "applied": self.applied,
            "score_before": self.score_before,
            "score_after": self.score_after,
            "band_before": self.band_before,
            "band_after": self.band_after,
            "changes": [record(c) for c in self.changes],
            "notes": [record(n) for n in self.notes],
            "fidelity": self.fidelity,
            "source": self.source,
        }
