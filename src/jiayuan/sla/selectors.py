"""Reads of business calendars: the `Schedule` a deadline is counted in (cached, for hot
paths) and what the calendar pages and the home page show. Pages read through restrict()."""

from __future__ import annotations

import functools
import threading
from dataclasses import dataclass
from datetime import date, datetime

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import ExtractYear

from jiayuan.core.access import VIEW
from jiayuan.core.memo import Memo
from jiayuan.sla.calendar import DEFAULT_TIME_ZONE, OFFICE_WEEK, Schedule
from jiayuan.sla.models import BusinessCalendar, CalendarDay, RequestTarget, Target, WorkingWindow
from jiayuan.sla.official import library_years, official_days

REGULAR = BusinessCalendar.Kind.REGULAR
ALWAYS_OPEN = BusinessCalendar.Kind.ALWAYS_OPEN
# The next year's holidays are published in November or December; from October on, a
# calendar without them is worth a warning.
WARN_FROM_MONTH = 10
# Schedules kept per process; a calendar's every version is a new key, so old versions
# only wait here to be dropped.
CACHE_SIZE = 512

_schedules: dict[tuple, Schedule] = {}
_schedules_lock = threading.Lock()


@functools.cache
def default_schedule() -> Schedule:
    """The schedule of a company without a calendar: office hours, official holidays."""
    return _schedule_from(DEFAULT_TIME_ZONE, dict(enumerate(OFFICE_WEEK)), official_days_rows())


def official_days_rows() -> list[tuple[date, str, int]]:
    return [
        (day.date, CalendarDay.Kind.HOLIDAY if day.is_holiday else CalendarDay.Kind.WORKDAY, 0)
        for day in official_days(library_years())
    ]


def _schedule_from(time_zone: str, windows: dict, days) -> Schedule:
    holidays = set()
    makeup = {}
    for day, kind, follows in days:
        if kind == CalendarDay.Kind.HOLIDAY:
            holidays.add(day)
        else:
            makeup[day] = follows
    return Schedule(
        time_zone=time_zone,
        windows=tuple(tuple(windows.get(weekday, ())) for weekday in range(7)),
        holidays=frozenset(holidays),
        makeup_workdays=makeup,
    )


def calendar_schedule(calendar: BusinessCalendar) -> Schedule:
    """A calendar's schedule, read now (two queries); schedule_for() caches it."""
    if calendar.kind == ALWAYS_OPEN:
        return Schedule.always(calendar.time_zone)
    windows: dict[int, list] = {}
    for weekday, start, end in WorkingWindow.objects.filter(calendar=calendar).values_list(
        "weekday", "start", "end"
    ):
        windows.setdefault(weekday, []).append((start, end))
    days = CalendarDay.objects.filter(calendar=calendar).values_list(
        "date", "kind", "follows_weekday"
    )
    return _schedule_from(calendar.time_zone, windows, days)


def _chosen(rows, kind: str, estate_id: int | None):
    """The estate's own calendar of this kind, else the company's, else None."""
    of_kind = [row for row in rows if row[2] == kind]
    own = [row for row in of_kind if estate_id is not None and row[1] == estate_id]
    company = [row for row in of_kind if row[1] is None]
    return (own or company or [None])[0]


_calendars = Memo("sla.calendars")  # keys: (company id, estate id)


def forget_calendars(company_id: int) -> None:
    """After a change of the company's calendars: this process sees it at once."""
    _calendars.forget(lambda key: key[0] == company_id)


def schedule_for(company_id: int, estate_id: int | None, *, always_open: bool = False) -> Schedule:
    """The schedule deadlines of this estate are counted in: the estate's own calendar,
    else the company's, else the built-in default. With `always_open`, the 24×7 schedule
    (in the time zone of the estate's 24×7 or regular calendar).

    The calendars' versions are read at most once a minute per process (core.memo: every
    new request needs them, a change applies within the minute); the schedule itself is
    built once per calendar version and process."""

    def load():
        return list(
            BusinessCalendar.objects.filter(company_id=company_id)
            .filter(Q(estate__isnull=True) | Q(estate_id=estate_id))
            .values_list("id", "estate_id", "kind", "version", "time_zone")
        )

    rows = _calendars.get((company_id, estate_id), load)
    regular = _chosen(rows, REGULAR, estate_id)
    if always_open:
        chosen = _chosen(rows, ALWAYS_OPEN, estate_id) or regular
        return Schedule.always(chosen[4] if chosen else DEFAULT_TIME_ZONE)
    if regular is None:
        return default_schedule()
    key = (regular[0], regular[3])
    schedule = _schedules.get(key)
    if schedule is None:
        calendar = BusinessCalendar(id=regular[0], kind=REGULAR, time_zone=regular[4])
        schedule = calendar_schedule(calendar)
        with _schedules_lock:
            if len(_schedules) >= CACHE_SIZE:
                _schedules.clear()
            _schedules[key] = schedule
    return schedule


def missing_calendar_years(company_id: int, today: date) -> list[int]:
    """Years the company's deadlines would be counted without public holidays: this year
    at any time, and next year from October on, for each regular calendar of the company
    (the built-in default when it has none) that has no holiday at all in that year."""
    years = [today.year] + ([today.year + 1] if today.month >= WARN_FROM_MONTH else [])
    calendars = list(
        BusinessCalendar.objects.filter(company_id=company_id, kind=REGULAR).values_list(
            "id", "estate_id"
        )
    )
    covered = {
        (row["calendar_id"], row["year"])
        for row in CalendarDay.objects.filter(
            calendar_id__in=[pk for pk, _estate in calendars],
            kind=CalendarDay.Kind.HOLIDAY,
            date__year__in=years,
        )
        .annotate(year=ExtractYear("date"))
        .values("calendar_id", "year")
        .distinct()
    }
    missing = {year for pk, _estate in calendars for year in years if (pk, year) not in covered}
    if not any(estate is None for _pk, estate in calendars):
        missing |= {year for year in years if year not in library_years()}
    return sorted(missing)


# ----------------------------------------------------------------------------- pages


@dataclass(frozen=True)
class YearCount:
    year: int
    holidays: int
    workdays: int


def calendar_list(user, company) -> QuerySet:
    """The company's calendars the user sees, the company's first, with their day counts."""
    return (
        BusinessCalendar.objects.restrict(user, VIEW)
        .filter(company=company)
        .select_related("estate")
        .annotate(day_count=Count("days"))
        .order_by("estate__name", "kind", "name")
    )


def calendar_windows(calendar: BusinessCalendar) -> dict[int, list[tuple]]:
    windows: dict[int, list] = {weekday: [] for weekday in range(7)}
    for window in WorkingWindow.objects.filter(calendar=calendar).order_by("weekday", "start"):
        windows[window.weekday].append((window.start, window.end))
    return windows


def calendar_years(calendar: BusinessCalendar) -> list[YearCount]:
    rows = (
        CalendarDay.objects.filter(calendar=calendar)
        .annotate(year=ExtractYear("date"))
        .values("year")
        .annotate(
            holidays=Count("pk", filter=Q(kind=CalendarDay.Kind.HOLIDAY)),
            workdays=Count("pk", filter=Q(kind=CalendarDay.Kind.WORKDAY)),
        )
        .order_by("year")
    )
    return [YearCount(row["year"], row["holidays"], row["workdays"]) for row in rows]


def calendar_days(calendar: BusinessCalendar, year: int) -> QuerySet:
    return CalendarDay.objects.filter(calendar=calendar, date__year=year).order_by("date")


# ----------------------------------------------------------------------------- on-time rates


@dataclass(frozen=True)
class RateCell:
    met: int
    on_time: int

    @property
    def percent(self) -> float | None:
        return round(100 * self.on_time / self.met, 1) if self.met else None


@dataclass(frozen=True)
class RateRow:
    key: int | None
    name: str
    cells: list  # (target's label, its RateCell or None) per target, in the order of Target


_GROUPS = {
    "estate": ("request__estate_id", "request__estate__name"),
    "team": ("team_id", "team__name"),
    "person": ("handler_id", "handler__name"),
}


def on_time_rates(user, *, company_id: int, start: datetime, end: datetime, by: str):
    """Targets met in [start, end) and how many on time, per estate, team or person (who
    held the request when the target was met), from the clocks as they were recorded."""
    key, name = _GROUPS[by]
    rows = (
        RequestTarget.objects.restrict(user, VIEW)
        .filter(request__company_id=company_id, state=RequestTarget.State.MET)
        .filter(met_at__gte=start, met_at__lt=end)
        .values(key, name, "target")
        .annotate(met=Count("id"), on_time=Count("id", filter=Q(on_time=True)))
        .order_by(name)
    )
    table: dict = {}
    for row in rows:
        entry = table.setdefault(row[key], (row[name] or "", {}))
        entry[1][row["target"]] = RateCell(row["met"], row["on_time"])
    return [
        RateRow(group, label or "—", [(name, cells.get(t)) for t, name in Target.choices])
        for group, (label, cells) in table.items()
    ]
