"""Calendar periods and durations: the clock of limits, windows and list states."""

from __future__ import annotations

import calendar
from datetime import date

from creditlab.engine.inputs.scheme import Duration, Period

__all__ = ["add_duration", "period_key"]


def period_key(period: Period, day: date) -> str:
    """The calendar period `day` falls in: '' (ever), '2019', '2019-03', '2019-W09', ..."""
    if period == "ever":
        return ""
    if period == "year":
        return f"{day.year}"
    if period == "month":
        return f"{day.year}-{day.month:02d}"
    if period == "week":
        iso = day.isocalendar()
        return f"{iso.year}-W{iso.week:02d}"
    return day.isoformat()


def add_duration(day: date, duration: Duration) -> date:
    """`day` plus a calendar duration; the 31st plus a month is the month's last day."""
    months = day.month - 1 + duration.months + 12 * duration.years
    year, month = day.year + months // 12, months % 12 + 1
    last = calendar.monthrange(year, month)[1]
    moved = date(year, month, min(day.day, last))
    return date.fromordinal(moved.toordinal() + duration.days)
