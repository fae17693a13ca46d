"""Lint's check of numbers against quotes: every number a rule encodes is one its sources print.

A rule's points, caps, tier bounds and points, formula numbers, count thresholds, numeric
conditions, frequency limits, durations (expiry, list states, grades, the length of a
rolling window, of an accumulated effect or of a frequency limit), set scores, fines and
ages must each appear in one of the rule's quotes (`source`, `also`, a tier's own
`source`), or be named in its `note` as the reading's own number, and then the rule is
`interpreted` or `assumed`
(`number-not-quoted`: an error for a documented rule, a warning otherwise). An age limit is
the scheme's scope, so the scheme's own `sources`, or an interpretation naming the rule, may
state it instead. The scale, each band, each cap group, each periodic check (its bound,
ages and durations) and each repeat (its factor, and a window given as a duration) are
checked the same way against their own quotes and note ("加倍" prints no digit: a factor
of 2 read from it is named in the note, and the repeat is interpreted). A quote
that prints a table row's points ("(-50)", "| -60") that are none of the rule's is another
row's (`quote-other-row`), unless the note names that number, saying why the row is cited.

Numbers are read from the words as printed: Arabic digits with thousands separators
("1,000", "1，000") and decimals, full-width digits, "2万" (also read as 20000), ranges
("1,000-10,000" gives both ends), signs ("(-50)", "+5": the absolute value is compared),
Chinese numerals (一 二 两 三 ... 十 百 千 万, 〇/零: "二十", "一百五十", "两万"), English
words (one to twenty, the tens, hundred, thousand; once, twice) and "half"/"半" (0.5). A
number followed by a unit of time is a duration (year(s)/年/周年, month(s)/个月/月,
week(s)/周/星期, day(s)/天/日), never points ("valid for five years" prints no 5 points);
"annual(ly)", "yearly", "a year", "每年", "年度" are one year, "半年"/"half a year" six
months, "monthly"/"每月" one month, "daily"/"每天" one day; years and months are compared
in months, weeks and days in days. A bound or threshold (a tier's range, a condition, a
count tier's "more than", an age, a band's bound) also matches the whole number on either
side of it ("over 50" encoded as min 51); a bound of 0 is a floor ("any amount"), not a
printed number. Not handled: percentages as fractions ("10%" is read as 10), dates,
fractions other than half, Roman numerals, numbers spelt out beyond the thousands, units
other than those above, and arithmetic (a cap that is a rate times a span is the reading's
own, to be named in the note). A note's number counts even when the note uses it for
something else ("Article 18"), so the note check errs on the lenient side.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from pydantic import BaseModel

from creditlab.engine.checks.intervals import number
from creditlab.engine.checks.lint_findings import Findings
from creditlab.engine.checks.lint_rules import point_values
from creditlab.engine.inputs.scheme import (
    AccumulatedEffect,
    Check,
    Cited,
    CountTiersEffect,
    Duration,
    ExternalSource,
    FormulaEffect,
    ListEffect,
    PointsEffect,
    QuantityTiersEffect,
    ReclassifyEffect,
    Rule,
    Scheme,
    SeedSource,
    SetScoreEffect,
    TiersEffect,
)

__all__ = ["Encoded", "Stated", "check_numbers", "encoded_numbers", "row_points", "stated"]

FieldPath = tuple[str | int, ...]


@dataclass(frozen=True)
class Encoded:
    """One number a scheme encodes: where it is, what it is, and how it may be printed.

    `value` is a number, or a `Duration`; `bound` marks a threshold, which a source may
    print as the whole number either side of it ("more than 5" is `more_than: 5`, "from
    the 6th" the same).
    """

    path: FieldPath
    what: str
    value: Decimal | Duration
    bound: bool = False

    def shown(self) -> str:
        if isinstance(self.value, Duration):
            d = self.value
            parts = [(d.years, "year"), (d.months, "month"), (d.days, "day")]
            return " ".join(f"{n} {unit}{'s' if n != 1 else ''}" for n, unit in parts if n)
        return number(self.value)


@dataclass
class Stated:
    """The numbers a text prints: plain numbers, and durations in months and in days."""

    numbers: set[Decimal] = field(default_factory=set)
    months: set[int] = field(default_factory=set)
    days: set[int] = field(default_factory=set)
    timed: set[Decimal] = field(default_factory=set)
    """Numbers printed with a unit of time ("二年"): durations, or a bound on years or days,
    never points ("valid for five years" does not print 5 points)."""

    def __ior__(self, other: Stated) -> Stated:
        self.numbers |= other.numbers
        self.timed |= other.timed
        self.months |= other.months
        self.days |= other.days
        return self

    def holds(self, item: Encoded) -> bool:
        """Whether the text prints `item`'s number (as its kind may be printed)."""
        value = item.value
        if isinstance(value, Duration):
            if value.days == 0:
                return value.years * 12 + value.months in self.months
            return value.years == 0 and value.months == 0 and value.days in self.days
        if item.bound and value == 0:
            return True  # "any amount", "from the first": a floor, not a printed number
        wanted = {abs(value)}
        if item.bound and value == value.to_integral_value():
            wanted |= {abs(value) - 1, abs(value) + 1}
        return bool(wanted & (self.numbers | self.timed if item.bound else self.numbers))


# --- reading numbers out of words ---------------------------------------------------------

_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6,
           "七": 7, "八": 8, "九": 9}
_UNITS = {"十": 10, "百": 100, "千": 1000}
_WORDS = {w: i for i, w in enumerate([
    "zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten",
    "eleven", "twelve", "thirteen", "fourteen", "fifteen", "sixteen", "seventeen", "eighteen",
    "nineteen", "twenty"])}
_WORDS |= {"thirty": 30, "forty": 40, "fifty": 50, "sixty": 60, "seventy": 70, "eighty": 80,
           "ninety": 90, "once": 1, "twice": 2}
_SCALES = {"hundred": 100, "thousand": 1000}

_ARABIC = re.compile(r"\d+(?:\.\d+)?")
_CHINESE = re.compile(r"[零〇一二两三四五六七八九十百千万]+")
_NUMBER_WORD = "|".join(sorted([*_WORDS, *_SCALES], key=len, reverse=True))
_ENGLISH = re.compile(rf"\b(?:(?:{_NUMBER_WORD})(?:[\s-]+(?:and[\s-]+)?|\b))+", re.IGNORECASE)
_HALF = re.compile(r"\bhalf\b|半", re.IGNORECASE)
_UNIT = re.compile(r"\s*(?:full\s+|个|整|-)?\s*(?P<unit>years?|yrs?|周年|年|months?|个月|月|"
                   r"weeks?|周(?!岁)|星期|days?|天|日)", re.IGNORECASE)
_PER_YEAR = re.compile(r"annual|yearly|\ba year\b|per year|each year|every year|每年|年度|全年"
                       r"|当年", re.IGNORECASE)
_HALF_YEAR = re.compile(r"half a year|half-year|半年", re.IGNORECASE)
_PER_MONTH = re.compile(r"monthly|\ba month\b|per month|each month|every month|每月|当月",
                        re.IGNORECASE)
_PER_DAY = re.compile(r"\bdaily\b|\ba day\b|per day|每天|每日|当日|当天", re.IGNORECASE)


def _chinese(text: str) -> int | None:
    """A Chinese numeral in its common forms (二十, 一百五十, 两万, 三千零五), or None."""
    total, section, digit = 0, 0, None
    for char in text:
        if char in _DIGITS:
            digit = _DIGITS[char]
        elif char in _UNITS:
            section += (1 if digit is None else digit) * _UNITS[char]
            digit = None
        elif char == "万":
            total += (section + (digit or 0) or 1) * 10000
            section, digit = 0, None
    value = total + section + (digit or 0)
    if all(c in _DIGITS for c in text) and len(text) > 1:  # 二〇二〇 spelt digit by digit
        value = int("".join(str(_DIGITS[c]) for c in text))
    return value if text.strip("万") or value else None


def _english(words: str) -> int | None:
    total, current, seen = 0, 0, False
    for word in re.findall(r"[a-z]+", words.lower()):
        if word in _WORDS:
            current += _WORDS[word]
            seen = True
        elif word in _SCALES:
            total += max(current, 1) * _SCALES[word]
            current, seen = 0, True
    return total + current if seen else None


def _tokens(text: str) -> Iterator[tuple[Decimal, int]]:
    """Every number `text` prints, with the index where the words after it begin."""
    for m in _ARABIC.finditer(text):
        value = Decimal(m.group())
        yield value, m.end()
        if text[m.end():m.end() + 1] == "万":
            yield value * 10000, m.end() + 1
    for m in _CHINESE.finditer(text):
        value_ = _chinese(m.group())
        if value_ is not None:
            yield Decimal(value_), m.end()
    for m in _HALF.finditer(text):
        yield Decimal("0.5"), m.end()
    for m in _ENGLISH.finditer(text):
        value_ = _english(m.group())
        if value_ is not None:
            yield Decimal(value_), m.end()


def stated(text: str) -> Stated:
    """The numbers and durations `text` prints (see the module's docstring for the forms)."""
    text = unicodedata.normalize("NFKC", text)
    text = re.sub(r"(?<=\d)[,，](?=\d{3}(?!\d))", "", text)
    out = Stated()
    for value, end in _tokens(text):
        unit = _UNIT.match(text, end)
        if unit is None or value != value.to_integral_value():
            out.numbers.add(value)
            continue
        out.timed.add(value)
        n, word = int(value), unit.group("unit").lower()
        if word.startswith(("y", "年", "周年")):
            out.months.add(n * 12)
        elif word.startswith(("mo", "个月", "月")):
            out.months.add(n)
        elif word.startswith(("w", "周", "星期")):
            out.days.add(n * 7)
        else:
            out.days.add(n)
    if _PER_YEAR.search(text):
        out.months.add(12)
    if _HALF_YEAR.search(text):
        out.months.add(6)
    if _PER_MONTH.search(text):
        out.months.add(1)
    if _PER_DAY.search(text):
        out.days.add(1)
    return out


def _quotes(node: Any) -> Iterator[str]:
    """Every quote anywhere inside a scheme element (its sources, its tiers' sources)."""
    return (source.quote for _, source in _sources(node, ()))


def _stated_all(texts: Iterable[str]) -> Stated:
    out = Stated()
    for text in texts:
        out |= stated(text)
    return out


# --- what a scheme encodes ----------------------------------------------------------------


def encoded_numbers(rule: Rule) -> list[Encoded]:
    """Every number `rule` encodes, with its path inside the rule."""
    out: list[Encoded] = []
    for k, cond in enumerate(rule.match.where):
        if isinstance(cond.value, Decimal):
            out.append(Encoded(("match", "where", k, "value"), f"{cond.attr} {cond.op}",
                               cond.value, bound=True))
    subject = rule.match.subject
    for key in ("min_age", "max_age"):
        age = getattr(subject, key, None) if subject is not None else None
        if age is not None:
            out.append(Encoded(("match", "subject", key), key.replace("_", " "), Decimal(age),
                               bound=True))
    for j, effect in enumerate(rule.effects):
        out += _effect_numbers(effect, ("effects", j))
    if rule.cap is not None:
        out.append(Encoded(("cap", "points"), "cap", rule.cap.points))
    if rule.frequency is not None:
        out.append(Encoded(("frequency", "times"), "times", Decimal(rule.frequency.times)))
        if not isinstance(rule.frequency.per, str):  # "any 30 days": a length it encodes
            out.append(Encoded(("frequency", "per", "rolling"), "frequency window",
                               rule.frequency.per.rolling))
    if rule.expires_after is not None:
        out.append(Encoded(("expires_after",), "expiry", rule.expires_after))
    if rule.fine_rmb is not None:
        out.append(Encoded(("fine_rmb",), "fine (RMB)", rule.fine_rmb))
    return out


def _effect_numbers(effect: Any, here: FieldPath) -> list[Encoded]:
    out: list[Encoded] = []
    if isinstance(effect, PointsEffect):
        out.append(Encoded((*here, "points"), "points", effect.points))
    elif isinstance(effect, SetScoreEffect):
        out.append(Encoded((*here, "score"), "score set", effect.score))
    elif isinstance(effect, TiersEffect):
        out += [Encoded((*here, "tiers", k, "points"), f"points for {effect.attr}={t.value}",
                        t.points) for k, t in enumerate(effect.tiers)]
    elif isinstance(effect, QuantityTiersEffect):
        for k, tier in enumerate(effect.tiers):
            out.append(Encoded((*here, "tiers", k, "points"), f"tier {k + 1} points",
                               tier.points))
            for key in ("min", "max"):
                bound = getattr(tier.range, key)
                if bound is not None:
                    out.append(Encoded((*here, "tiers", k, "range", key),
                                       f"tier {k + 1} {effect.attr} {key}", bound, bound=True))
    elif isinstance(effect, CountTiersEffect):
        for k, count in enumerate(effect.tiers):
            out.append(Encoded((*here, "tiers", k, "more_than"), f"tier {k + 1} count",
                               Decimal(count.more_than), bound=True))
            out.append(Encoded((*here, "tiers", k, "points"), f"tier {k + 1} points",
                               count.points))
    elif isinstance(effect, AccumulatedEffect):
        if effect.factor != 1:
            out.append(Encoded((*here, "factor"), "factor", effect.factor))
        if effect.rolling is not None:  # "within three years": a length the rule encodes
            out.append(Encoded((*here, "window", "rolling"), "rolling window",
                               effect.rolling))
        for k, step in enumerate(effect.tiers or ()):
            key = "at_least" if step.at_least is not None else "above"
            if step.bound:  # above 0: "any service", "up to 50 hours"
                out.append(Encoded((*here, "tiers", k, key),
                                   f"tier {k + 1} total {effect.of}", step.bound, bound=True))
            out.append(Encoded((*here, "tiers", k, "points"), f"tier {k + 1} points",
                               step.points))
        for k, bracket in enumerate(effect.brackets or ()):
            if bracket.above:  # 0: "from the first hour"
                out.append(Encoded((*here, "brackets", k, "above"),
                                   f"bracket {k + 1} total {effect.of} above", bracket.above,
                                   bound=True))
            out.append(Encoded((*here, "brackets", k, "per"), f"bracket {k + 1} per",
                               bracket.per))
            out.append(Encoded((*here, "brackets", k, "points"), f"bracket {k + 1} points",
                               bracket.points))
        if effect.max_points is not None:
            out.append(Encoded((*here, "max_points"), "max points", effect.max_points))
    elif isinstance(effect, FormulaEffect):
        for name in ("threshold", "base_points", "base_quantity", "per", "per_points",
                     "max_points"):
            value = getattr(effect, name)
            if value:  # 0 and None are the defaults: "no threshold", "no cap"
                out.append(Encoded((*here, name), name.replace("_", " "), value,
                                   bound=name in ("threshold", "base_quantity")))
    elif isinstance(effect, (ReclassifyEffect, ListEffect)) and effect.duration is not None:
        out.append(Encoded((*here, "duration"), "duration", effect.duration))
    return out


def _scheme_numbers(scheme: Scheme) -> Iterator[tuple[str, Cited, list[Encoded]]]:
    """The scale, each band, each cap group, each check and each repeat: its name, itself
    and the numbers it encodes."""
    scale = scheme.scale
    yield "scale", scale, [Encoded(("scale", key), key, getattr(scale, key))
                           for key in ("start", "min", "max") if getattr(scale, key) is not None]
    for i, band in enumerate(scheme.bands):
        if band.range is not None:
            yield f"band {band.label!r}", band, [
                Encoded(("bands", i, "range", key), key, getattr(band.range, key), bound=True)
                for key in ("min", "max") if getattr(band.range, key) is not None]
    for i, group in enumerate(scheme.cap_groups):
        yield f"cap group {group.id!r}", group, [
            Encoded(("cap_groups", i, "cap", "points"), "cap", group.cap.points)]
    for i, check in enumerate(scheme.checks):
        yield f"check {check.id!r}", check, check_numbers_of(check, ("checks", i))
    for i, repeat in enumerate(scheme.repeats):
        numbers = [Encoded(("repeats", i, "factor"), "factor", repeat.factor)]
        if not isinstance(repeat.within, str):
            numbers.append(Encoded(("repeats", i, "within"), "window", repeat.within))
        yield f"repeat {repeat.id!r}", repeat, numbers


def check_numbers_of(check: Check, here: FieldPath) -> list[Encoded]:
    """A periodic check's numbers: its condition's bound (a threshold), the ages of whom it
    judges, and the durations of the states it gives."""
    out: list[Encoded] = []
    for key in ("at_least", "at_most"):
        value = getattr(check, key)
        if value is not None:
            out.append(Encoded((*here, key), f"{check.count.of} {key.replace('_', ' ')}",
                               value, bound=True))
    for key in ("min_age", "max_age"):
        age = getattr(check.subject, key, None) if check.subject is not None else None
        if age is not None:
            out.append(Encoded((*here, "subject", key), key.replace("_", " "), Decimal(age),
                               bound=True))
    for j, effect in enumerate(check.effects):
        out += _effect_numbers(effect, (*here, "effects", j))
    return out


# --- the check ----------------------------------------------------------------------------


def check_numbers(scheme: Scheme, found: Findings) -> None:
    """Each number of each rule (and of the scale, bands and cap groups) against its quotes."""
    for name, cited, numbers in _scheme_numbers(scheme):
        _check_item(name, cited, numbers, found)
    scope = _stated_all(s.quote for s in scheme.sources)
    for i, rule in enumerate(scheme.rules):
        numbers = [Encoded(("rules", i, *e.path), e.what, e.value, e.bound)
                   for e in encoded_numbers(rule)]
        # An age limit is the scheme's scope, stated once for every rule: in the scheme's
        # own sources, or in an interpretation that names the rule.
        scope_here = Stated()
        scope_here |= scope
        scope_here |= _stated_all(x.reading + " " + x.why for x in scheme.interpretations
                                  if rule.id in x.rules)
        _check_item(rule.id, rule, numbers, found, rule_id=rule.id, scope=scope_here)
        _check_rows(rule, ("rules", i), stated(rule.note or ""), found)


def _check_item(name: str, cited: Cited, numbers: list[Encoded], found: Findings, *,
                rule_id: str | None = None, scope: Stated | None = None) -> None:
    quotes = _stated_all(_quotes(cited))
    note = stated(cited.note or "")
    documented = cited.fidelity == "documented"
    for item in numbers:
        if quotes.holds(item):
            continue
        if scope is not None and "subject" in item.path and (scope.holds(item)
                                                             or note.holds(item)):
            continue
        if note.holds(item):
            if documented:
                found.add("number-not-quoted", "error",
                          f"{name}: {item.what} {item.shown()} is in no quote, only in the "
                          "note: the reading's own number, yet fidelity is documented (make "
                          "it interpreted or assumed)", item.path, rule=rule_id)
            continue
        found.add("number-not-quoted", "error" if documented else "warning",
                  f"{name}: {item.what} {item.shown()} is in none of its quotes"
                  + ("" if documented else " and its note does not name it as the reading's "
                     "own"), item.path, rule=rule_id)


_ROW_POINTS = re.compile(r"[(（]\s*[+\-−－]\s*(?P<n>\d+(?:\.\d+)?)\s*分?\s*[)）]"
                         r"|\|\s*[+\-−－]?\s*(?P<m>\d+(?:\.\d+)?)\s*$")


def row_points(quote: str) -> list[Decimal]:
    """The points a quoted table row prints: "(-50)", "（+10）", "... | -60" (a table cell)."""
    text = unicodedata.normalize("NFKC", quote)
    return [Decimal(m.group("n") or m.group("m")) for m in _ROW_POINTS.finditer(text)]


def _check_rows(rule: Rule, where: FieldPath, note: Stated, found: Findings) -> None:
    """A quote printing a row's points none of the rule's points are is another row's."""
    own = {abs(value) for _, value in point_values(rule)}
    if not own:
        return
    for path, source in _sources(rule, where):
        for value in row_points(source.quote):
            if value in own or value in note.numbers:
                continue
            found.add("quote-other-row", "error" if rule.fidelity == "documented" else "warning",
                      f"{rule.id}: the quote {source.quote!r} prints the points of another row "
                      f"({number(value)}); the rule gives "
                      f"{', '.join(number(v) for v in sorted(own))} (quote the rule's own row, "
                      "or say in the note why this row is cited)", (*path, "quote"),
                      rule=rule.id)


def _sources(node: Any, path: FieldPath) -> Iterator[tuple[FieldPath, SeedSource | ExternalSource]]:
    """Every source inside a scheme element, with its path."""
    if isinstance(node, (SeedSource, ExternalSource)):
        yield path, node
    elif isinstance(node, list):
        for k, item in enumerate(node):
            yield from _sources(item, (*path, k))
    elif isinstance(node, BaseModel):
        for name in type(node).model_fields:
            yield from _sources(getattr(node, name), (*path, name))
