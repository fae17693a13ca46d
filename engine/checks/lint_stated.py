"""Lint's reading of numbers out of words: what a quote or a note prints (`Stated`).

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

`row_points` reads the points a quoted table row prints ("(-50)", "| -60"), which
`lint_numbers` compares with the rule's own.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal

from creditlab.engine.checks.lint_encoded import Encoded
from creditlab.engine.inputs.scheme import Duration

__all__ = ["Stated", "row_points", "stated"]


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


_ROW_POINTS = re.compile(r"[(（]\s*[+\-−－]\s*(?P<n>\d+(?:\.\d+)?)\s*分?\s*[)）]"
                         r"|\|\s*[+\-−－]?\s*(?P<m>\d+(?:\.\d+)?)\s*$")


def row_points(quote: str) -> list[Decimal]:
    """The points a quoted table row prints: "(-50)", "（+10）", "... | -60" (a table cell)."""
    text = unicodedata.normalize("NFKC", quote)
    return [Decimal(m.group("n") or m.group("m")) for m in _ROW_POINTS.finditer(text)]
