"""Business-time arithmetic: how many working minutes lie between two instants, and when a
number of working minutes after an instant has passed. Pure and fast: no database, no
Django; the selectors build a `Schedule` from a calendar's rows and cache it.

Time is counted in whole microseconds since the epoch, so adding then measuring gives back
exactly what was added and the minutes between two instants are additive over any split
point (a pause never shortens a deadline). Working windows are local wall times; each day's
windows are turned into instants in the calendar's time zone, so a day on which the clocks
change counts the hours that really pass.

`add(start, 0)` is the next open instant at or after `start` (`start` itself when open):
the instant the clock starts running. For minutes > 0 the result is the instant the
minutes have been used up, so a deadline that uses up a window exactly lands on the
window's end (12:00), not on the start of the next one (13:30).
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from types import MappingProxyType
from zoneinfo import ZoneInfo

DEFAULT_TIME_ZONE = "Asia/Shanghai"
MONDAY = 0
# A make-up workday (调休) works the windows of this weekday unless told otherwise.
MAKEUP_FOLLOWS = MONDAY
Window = tuple[time, time]
# 08:30–12:00 and 13:30–18:00 from Monday to Friday: the office hours of most Chinese
# property companies' service desks.
OFFICE_DAY: tuple[Window, ...] = ((time(8, 30), time(12, 0)), (time(13, 30), time(18, 0)))
OFFICE_WEEK: tuple[tuple[Window, ...], ...] = (OFFICE_DAY,) * 5 + ((), ())
# No real calendar is closed for this long; past it the schedule is taken to be broken.
MAX_CLOSED_DAYS = 3660

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICRO = timedelta(microseconds=1)
_US_PER_MINUTE = 60_000_000
_MIDNIGHT = time(0, 0)
_DAY_CACHE_LIMIT = 20_000


class NoWorkingTime(ValueError):
    """The schedule has no working time on or after the instant asked about."""


def _us(at: datetime) -> int:
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError("business-time arithmetic needs aware datetimes")
    return (at - _EPOCH) // _MICRO


def _instant(us: int) -> datetime:
    return _EPOCH + timedelta(microseconds=us)


def window_minutes(start: time, end: time) -> int:
    """Length of a window on a day without a clock change; an end of 00:00 is midnight."""
    end_minutes = 24 * 60 if end == _MIDNIGHT else end.hour * 60 + end.minute
    return end_minutes - (start.hour * 60 + start.minute)


def check_windows(windows: Iterable[Window]) -> tuple[Window, ...]:
    """The windows of one day in order; ValueError if one is empty or two overlap. A window
    may end at 00:00, meaning midnight at the end of the day."""
    ordered = tuple(sorted(windows))
    previous_end = None
    for start, end in ordered:
        if start.tzinfo is not None or end.tzinfo is not None:
            raise ValueError("working windows are local wall times, without a time zone")
        if end != _MIDNIGHT and end <= start:
            raise ValueError(f"window {start:%H:%M}–{end:%H:%M} ends before it starts")
        if previous_end is not None and (previous_end == _MIDNIGHT or start < previous_end):
            raise ValueError(f"window starting {start:%H:%M} overlaps the one before")
        previous_end = end
    return ordered


@dataclass(frozen=True)
class Schedule:
    """When work happens: windows per weekday (Monday first), holidays, make-up workdays
    with the weekday whose windows they follow, in one time zone; or always open (24×7)."""

    time_zone: str = DEFAULT_TIME_ZONE
    windows: tuple[tuple[Window, ...], ...] = OFFICE_WEEK
    holidays: frozenset[date] = frozenset()
    makeup_workdays: Mapping[date, int] = field(default_factory=dict)
    always_open: bool = False
    _zone: ZoneInfo = field(init=False, repr=False, compare=False)
    _special: tuple[date, ...] = field(init=False, repr=False, compare=False)
    _works_weekly: bool = field(init=False, repr=False, compare=False)
    _days: dict = field(init=False, repr=False, compare=False, default_factory=dict)

    def __post_init__(self):
        set_ = object.__setattr__
        set_(self, "_zone", ZoneInfo(self.time_zone))  # unknown zone: ZoneInfoNotFoundError
        if len(self.windows) != 7:
            raise ValueError("a schedule has windows for each of the 7 weekdays")
        set_(self, "windows", tuple(check_windows(day) for day in self.windows))
        set_(self, "holidays", frozenset(self.holidays))
        makeup = dict(self.makeup_workdays)
        if any(weekday not in range(7) for weekday in makeup.values()):
            raise ValueError("a make-up workday follows a weekday from 0 (Monday) to 6")
        set_(self, "makeup_workdays", MappingProxyType(makeup))
        set_(self, "_special", tuple(sorted(makeup)))
        set_(self, "_works_weekly", any(self.windows))

    def __hash__(self):
        return hash((self.time_zone, self.windows, self.holidays, self.always_open))

    @classmethod
    def always(cls, time_zone: str = DEFAULT_TIME_ZONE) -> Schedule:
        """The 24×7 schedule of emergencies: business time is wall-clock time."""
        return cls(time_zone=time_zone, windows=((),) * 7, always_open=True)

    # ------------------------------------------------------------------ one day

    def windows_on(self, day: date) -> tuple[Window, ...]:
        """The local windows of a date: a make-up workday's weekday, none on a holiday."""
        if day in self.makeup_workdays:
            return self.windows[self.makeup_workdays[day]]
        if day in self.holidays:
            return ()
        return self.windows[day.weekday()]

    def _day_start(self, day: date) -> int:
        # fold=0 gives the first instant of the date whether midnight is skipped or repeated.
        return _us(datetime.combine(day, _MIDNIGHT, tzinfo=self._zone))

    def _open_on(self, day: date) -> tuple[tuple[int, int], ...]:
        """The date's open intervals as [start, end) microseconds, ordered and disjoint,
        inside the date's own local day."""
        cached = self._days.get(day)
        if cached is not None:
            return cached
        windows = self.windows_on(day)
        intervals = []
        if windows:
            next_day = day + timedelta(days=1)
            floor, ceiling = self._day_start(day), self._day_start(next_day)
            for start, end in windows:
                start_us = _us(datetime.combine(day, start, tzinfo=self._zone))
                end_us = (
                    ceiling
                    if end == _MIDNIGHT
                    else _us(datetime.combine(day, end, tzinfo=self._zone))
                )
                # A bound in a skipped hour can land past the next one: clip to keep order.
                start_us = max(start_us, floor, intervals[-1][1] if intervals else floor)
                end_us = min(end_us, ceiling)
                if end_us > start_us:
                    intervals.append((start_us, end_us))
        result = tuple(intervals)
        if len(self._days) >= _DAY_CACHE_LIMIT:
            self._days.clear()
        self._days[day] = result
        return result

    def _local_date(self, us: int) -> date:
        return _instant(us).astimezone(self._zone).date()

    def _has_work_after(self, day: date) -> bool:
        if self._works_weekly:
            return True
        return bisect.bisect_left(self._special, day) < len(self._special)

    # ------------------------------------------------------------------ the API

    def is_open(self, at: datetime) -> bool:
        if self.always_open:
            return True
        now = _us(at)
        return any(start <= now < end for start, end in self._open_on(self._local_date(now)))

    def add(self, start: datetime, minutes: float) -> datetime:
        """The instant (UTC) when `minutes` business minutes after `start` have passed."""
        if isinstance(minutes, bool) or not math.isfinite(minutes) or minutes < 0:
            raise ValueError("minutes must be a finite number, 0 or more")
        remaining = round(minutes * _US_PER_MINUTE)
        now = _us(start)
        if self.always_open:
            return _instant(now + remaining)
        day = self._local_date(now)
        closed_days = 0
        while closed_days <= MAX_CLOSED_DAYS and self._has_work_after(day):
            intervals = self._open_on(day)
            closed_days = 0 if intervals else closed_days + 1
            for open_from, open_until in intervals:
                if open_until <= now:
                    continue
                begin = max(open_from, now)
                if remaining <= open_until - begin:
                    return _instant(begin + remaining)
                remaining -= open_until - begin
                now = open_until
            day += timedelta(days=1)
        raise NoWorkingTime(f"no working time after {start.isoformat()} in this schedule")

    def between(self, start: datetime, end: datetime) -> float:
        """Business minutes in [start, end); 0 when end is not after start."""
        return self.between_us(_us(start), _us(end)) / _US_PER_MINUTE

    def between_us(self, start_us: int, end_us: int) -> int:
        """Business microseconds in [start_us, end_us), exact: additive over a split point."""
        if end_us <= start_us:
            return 0
        if self.always_open:
            return end_us - start_us
        total = 0
        day, last_day = self._local_date(start_us), self._local_date(end_us)
        while day <= last_day:
            for open_from, open_until in self._open_on(day):
                overlap = min(open_until, end_us) - max(open_from, start_us)
                if overlap > 0:
                    total += overlap
            day += timedelta(days=1)
        return total
