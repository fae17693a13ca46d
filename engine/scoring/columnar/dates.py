"""Calendar arithmetic over day numbers (days since 1970-01-01), for compiled code.

`add_duration` is `creditlab.engine.scoring.periods.add_duration` on day numbers: the
31st plus a month is the month's last day. The conversions are the proleptic Gregorian
calendar's, exact for every day the engine accepts.
"""

from __future__ import annotations

from numba import njit

__all__ = ["add_duration"]


@njit(cache=True)
def _civil(days: int) -> tuple[int, int, int]:
    z = days + 719468
    era = (z if z >= 0 else z - 146096) // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (1 if m <= 2 else 0), m, d


@njit(cache=True)
def _days(y: int, m: int, d: int) -> int:
    y -= 1 if m <= 2 else 0
    era = (y if y >= 0 else y - 399) // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


@njit(cache=True)
def add_duration(day: int, years: int, months: int, days: int) -> int:
    """`periods.add_duration`: the 31st plus a month is the month's last day."""
    y, m, d = _civil(day)
    total = m - 1 + months + 12 * years
    y2 = y + total // 12
    m2 = total % 12 + 1
    last = _days(y2 + (1 if m2 == 12 else 0), 1 if m2 == 12 else m2 + 1, 1) - _days(y2, m2, 1)
    return _days(y2, m2, min(d, last)) + days
