"""Plain-language words for scheme elements and ledger records, for tables and stories.

The ledger is data (`scoring.ledger`); every sentence about it is made here, so that
rewording a message changes no behaviour and no digest.
"""

from __future__ import annotations

from decimal import Decimal

from creditlab.engine.canonical import number
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Check,
    CountTiersEffect,
    Duration,
    Effect,
    ExternalSource,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    Range,
    ReclassifyEffect,
    Rule,
    SeedSource,
    SetScoreEffect,
    SubjectCondition,
    TiersEffect,
    UnquantifiedEffect,
)
from creditlab.engine.inputs.scheme_effects import RollingWindow
from creditlab.engine.inputs.scheme_repeats import Repeat as SchemeRepeat
from creditlab.engine.scoring.ledger import (
    Accumulated,
    AtMost,
    BelowThreshold,
    CapReached,
    Change,
    Checked,
    Clamped,
    CountTier,
    FlagAdded,
    FlagRemoved,
    FrequencyLimit,
    GradeSet,
    Lapsed,
    LapsesOn,
    LedgerEntry,
    MissingAttribute,
    NoQuantityTier,
    Note,
    NoTierValue,
    Repeat,
    SameAct,
    ScoreSet,
    Unquantified,
)

__all__ = ["describe_change", "describe_check", "describe_effect", "describe_limits",
           "describe_match", "describe_note", "describe_range", "describe_repeat",
           "describe_source", "describe_subject", "entry_effects", "entry_note", "entry_record",
           "number", "short_change", "signed"]

_OPS = {"eq": "=", "ne": "≠", "gt": ">", "gte": "≥", "lt": "<", "lte": "≤", "in": "in"}


def signed(value: Decimal) -> str:
    return ("+" if value > 0 else "") + number(value)


def _duration(d: Duration | None) -> str:
    if d is None:
        return "no end stated"
    parts = [f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in
             ((d.years, "year"), (d.months, "month"), (d.days, "day")) if n]
    return " ".join(parts)


def describe_range(r: Range | None) -> str:
    if r is None:
        return "thresholds not documented"
    lo = "" if r.min is None else ("≥ " if r.min_inclusive else "> ") + number(r.min)
    hi = "" if r.max is None else ("≤ " if r.max_inclusive else "< ") + number(r.max)
    return ", ".join(p for p in (lo, hi) if p) or "any score"


def describe_effect(effect: Effect) -> str:
    if isinstance(effect, PointsEffect):
        return signed(effect.points)
    if isinstance(effect, TiersEffect):
        return f"by {effect.attr}: " + ", ".join(f"{t.value} {signed(t.points)}"
                                                 for t in effect.tiers)
    if isinstance(effect, QuantityTiersEffect):
        unit = f" (x{number(effect.factor)})" if effect.factor != 1 else ""
        return f"by {effect.attr}{unit}: " + ", ".join(
            f"{describe_range(t.range)} {signed(t.points)}" for t in effect.tiers)
    if isinstance(effect, FormulaEffect):
        parts = []
        if effect.factor != 1:
            parts.append(f"{effect.attr} x{number(effect.factor)}")
        if effect.threshold:
            parts.append(f"from {number(effect.threshold)}")
        if effect.base_points:
            parts.append(f"{signed(effect.base_points)} for the first "
                         f"{number(effect.base_quantity)}")
        if effect.per is not None:
            parts.append(f"{signed(effect.per_points)} per {number(effect.per)} {effect.attr}")
        if effect.max_points is not None:
            parts.append(f"at most {number(abs(effect.max_points))}")
        return ", ".join(parts)
    if isinstance(effect, CountTiersEffect):
        window = "in all" if effect.window == "ever" else f"per {effect.window}"
        return f"count {window} ({effect.mode}): " + ", ".join(
            f"> {t.more_than} {signed(t.points)}" for t in effect.tiers)
    if isinstance(effect, AccumulatedEffect):
        return _describe_accumulated(effect)
    if isinstance(effect, SetScoreEffect):
        return f"score set to {number(effect.score)}"
    if isinstance(effect, ReclassifyEffect):
        return f"grade → {effect.grade} ({effect.policy.replace('_', ' ')}, " \
               f"{_duration(effect.duration)})"
    if isinstance(effect, ListEffect):
        sign = "+" if effect.action == "add" else "-"
        return f"{sign}{effect.flag} ({_duration(effect.duration)})" if effect.action == "add" \
            else f"{sign}{effect.flag}"
    assert isinstance(effect, UnquantifiedEffect)
    return "no points documented"


def _window(window: str) -> str:
    """`in all`, `this year`, or for a rolling window (`P365D`, as the ledger names it)
    `in the 365 days up to this event`, `in the last 3 years`."""
    rolling = RollingWindow.named(window)
    if rolling is None:
        return "in all" if window == "ever" else f"this {window}"
    d = rolling.rolling
    length = _duration(d).removeprefix("1 ") if [d.years, d.months, d.days].count(0) == 2 \
        else _duration(d)  # "the last year", "the month up to this event"
    if d.years and not d.months and not d.days:
        return f"in the last {length}"
    return f"in the {length} up to this event"


def _describe_accumulated(effect: AccumulatedEffect) -> str:
    """`total hours this year: ≥ 50 +10, ≥ 300 +50` or `total hours in all: first 20 +1 per
    1, above 20 +1 per 2`."""
    what = "count" if effect.attr is None else f"total {effect.of}"
    if effect.factor != 1:
        what += f" (x{number(effect.factor)})"
    what += " " + _window(effect.window_name)
    if effect.tiers is not None:
        mode = " (each tier adds)" if effect.mode == "add" else ""
        steps = ", ".join(("≥ " + number(t.at_least) if t.at_least is not None
                           else "> " + number(t.bound)) + f" {signed(t.points)}"
                          for t in effect.tiers)
        text = f"{what}{mode}: {steps}"
    else:
        assert effect.brackets is not None
        text = f"{what}: " + ", ".join(
            f"above {number(b.above)} {signed(b.points)} per {number(b.per)}"
            for b in effect.brackets)
    if effect.max_points is not None:
        text += f", at most {number(abs(effect.max_points))}"
    return text


def describe_match(rule: Rule) -> str:
    """`type [attr op value, ...] (who)`: what a rule fires on, in one line."""
    text = ", ".join(rule.match.types)
    conds = []
    for c in rule.match.where:
        value = c.value
        shown = "/".join(map(str, value)) if isinstance(value, list) else (
            number(value) if isinstance(value, Decimal) else str(value).lower()
            if isinstance(value, bool) else str(value))
        conds.append(f"{c.attr} {_OPS[c.op]} {shown}")
    if conds:
        text += " [" + ", ".join(conds) + "]"
    who = describe_subject(rule.match.subject)
    return text + (f" ({who})" if who else "")


def describe_subject(sub: SubjectCondition | None) -> str:
    """Whom a rule or a check applies to, in a few words ('' for everyone)."""
    if sub is None:
        return ""
    who = [*(f"role {x}" for x in sub.roles_any), *(f"not {x}" for x in sub.roles_none)]
    if sub.residence:
        who.append(sub.residence)
    if sub.hukou:
        who.append(f"hukou {sub.hukou}")
    if sub.min_age is not None:
        who.append(f"age ≥ {sub.min_age}")
    if sub.max_age is not None:
        who.append(f"age ≤ {sub.max_age}")
    return ", ".join(who)


def describe_check(check: Check) -> tuple[str, str, str]:
    """A periodic check in words: (when it runs, what it finds, what it gives)."""
    when = {"year": "end of each year", "month": "end of each month",
            "week": f"each {(check.ends_on or 'sunday').capitalize()} (the 7 days to it)"}[
        check.every]
    if check.effective_from or check.effective_to:
        when += f", {check.effective_from or '…'} – {check.effective_to or '…'}"
    who = describe_subject(check.subject)
    when += f" ({who})" if who else ""
    count = check.count
    rules = ", ".join(count.rules) if count.rules else (
        f"{count.direction} rules" if count.direction else "all rules")
    what = "points applied by" if count.of == "points" else "entries of"
    bound = (f"≥ {number(check.at_least)}" if check.at_least is not None
             else f"≤ {number(check.at_most)}" if check.at_most is not None else "")
    gives = "; ".join(describe_effect(e) for e in check.effects)
    return when, f"{what} {rules} in the period {bound}", gives


def describe_limits(rule: Rule) -> str:
    parts = []
    if rule.cap is not None:
        parts.append(f"max {number(rule.cap.points)}"
                     + ("" if rule.cap.per == "ever" else f"/{rule.cap.per}"))
    if rule.cap_group is not None:
        parts.append(f"shared cap {rule.cap_group}")
    if rule.frequency is not None:
        parts.append(f"≤ {rule.frequency.times}{_per(rule.frequency.window_name, '/')}")
    if rule.same_act_as is not None:
        parts.append(f"same act as {rule.same_act_as}")
    if rule.effective_from or rule.effective_to:
        parts.append(f"in force {rule.effective_from or '…'} – {rule.effective_to or '…'}")
    return "; ".join(parts)


def describe_source(source: SeedSource | ExternalSource) -> str:
    if isinstance(source, SeedSource):
        where = source.file + (f":{source.line}" if source.line else "")
        return f"{where} “{source.quote}”"
    return f"{source.publisher}, {source.title} ({source.confidence}) “{source.quote}”"


# --- ledger records in words --------------------------------------------------------------


def describe_change(change: Change) -> str:
    """One change of a ledger entry in a few words: `grade B (worse of) until 2021-03-01`."""
    if isinstance(change, ScoreSet):
        return f"score set to {number(change.score)}"
    if isinstance(change, GradeSet):
        return (f"grade {change.grade} ({change.policy.replace('_', ' ')})"
                + (f" until {change.until}" if change.until else ""))
    if isinstance(change, FlagAdded):
        return f"+{change.flag}" + (f" until {change.until}" if change.until else "")
    if isinstance(change, FlagRemoved):
        return f"-{change.flag}"
    if isinstance(change, LapsesOn):
        return f"lapses on {change.on}"
    assert isinstance(change, Lapsed)
    return "lapsed"


def short_change(change: Change) -> str:
    """A change in a few characters, for the event matrix: →B, =0, +blacklisted."""
    if isinstance(change, GradeSet):
        return "→" + change.grade
    if isinstance(change, ScoreSet):
        return "=" + number(change.score)
    if isinstance(change, FlagAdded):
        return "+" + change.flag
    return describe_change(change)


def describe_note(note: Note) -> str:
    """Why an entry's applied points differ from the points given, in a few words."""
    if isinstance(note, SameAct):
        return f"same act as {note.rule}, which scored it: not counted twice"
    if isinstance(note, FrequencyLimit):
        return f"limit reached: at most {note.times}{_per(note.per, ' per ')}"
    if isinstance(note, CapReached):
        what = "rule" if note.group is None else f"group {note.group}"
        return f"{what} cap of {number(note.points)} per {note.per} reached"
    if isinstance(note, Clamped):
        return f"clamped to the scale {number(note.min)}-{number(note.max)}"
    if isinstance(note, MissingAttribute):
        return f"no {note.attr} given: the rule's points depend on it"
    if isinstance(note, NoTierValue):
        return f"no points documented for {note.attr}={note.value}"
    if isinstance(note, NoQuantityTier):
        return f"no tier covers {note.attr}={number(note.value)}"
    if isinstance(note, BelowThreshold):
        return f"{note.attr} below the threshold of {number(note.threshold)}"
    if isinstance(note, AtMost):
        return f"at most {number(note.points)}"
    if isinstance(note, CountTier):
        if note.more_than is None:
            return f"count {note.count} in {note.window}: no new tier"
        return f"count {note.count}: more than {note.more_than}"
    if isinstance(note, Accumulated):
        what = "events" if note.of == "count" else note.of
        return f"total {number(note.total)} {what} {_window(note.window)}"
    if isinstance(note, Repeat):
        return f"a repeat within {_within(note.within)} of {note.earlier_on}: " \
            + _times(note.factor)
    if isinstance(note, Checked):
        one = note.total == 1
        what = ("point" if one else "points") if note.of == "points" else (
            "entry" if one else "entries")
        return f"{number(note.total)} {what} counted"
    assert isinstance(note, Unquantified)
    return f"the source gives no points for this {note.direction}"


def _per(per: str, calendar: str) -> str:
    """A frequency limit's window: `/month` (`calendar` before a period), or for a rolling
    window (`P30D`, as the ledger names it) ` in any 30 days`."""
    rolling = RollingWindow.named(per)
    return f"{calendar}{per}" if rolling is None else f" in any {_duration(rolling.rolling)}"


def _within(within: str) -> str:
    """`the validity`, or a repeat's window (`P1Y`, as the ledger names it) in words."""
    rolling = RollingWindow.named(within)
    return "the validity" if rolling is None else _duration(rolling.rolling)


def _times(factor: Decimal) -> str:
    """A repeat's factor in words: `doubled`, `tripled`, `×1.5`."""
    if factor == 2:
        return "doubled"
    if factor == 3:
        return "tripled"
    return f"×{number(factor)}"


def describe_repeat(repeat: SchemeRepeat) -> str:
    """What a repeat does, in a few words: `points ×2 within the validity of the last`."""
    within = "the validity of" if isinstance(repeat.within, str) \
        else _duration(repeat.within) + " of"
    return f"points ×{number(repeat.factor)} within {within} the rule's last counted entry"


def entry_effects(entry: LedgerEntry) -> tuple[str, ...]:
    """An entry's changes in words, in order (`("grade B (worse of)",)`)."""
    return tuple(describe_change(c) for c in entry.changes)


def entry_note(entry: LedgerEntry) -> str | None:
    """An entry's notes in one line (a lapse says whose points lapsed, and when)."""
    parts = [f"points of {entry.event} lapsed on {entry.at}"] if entry.is_lapse else []
    if entry.kind == "check":
        parts.append(f"check of {entry.event.replace('/', ' to ')}")
    parts.extend(describe_note(n) for n in entry.notes)
    return "; ".join(parts) or None


def entry_record(entry: LedgerEntry) -> dict[str, object]:
    """An entry as data plus its words (`effects`, `note`): the ledger of the JSON output."""
    data = entry.as_dict()
    data["effects"] = list(entry_effects(entry))
    data["note"] = entry_note(entry)
    return data
