"""The periods a dashboard is read for: a month (2026-11), a quarter (2026-Q4) or a year
(2026), always whole months so the monthly rollups answer them."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.utils import timezone
from django.utils.translation import gettext as _

_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_QUARTER = re.compile(r"^(\d{4})-[Qq]([1-4])$")
_YEAR = re.compile(r"^(\d{4})$")
FIRST_YEAR = 2000


def add_months(day: date, months: int) -> date:
    index = day.year * 12 + day.month - 1 + months
    return date(index // 12, index % 12 + 1, 1)


@dataclass(frozen=True)
class Period:
    kind: str  # month, quarter, year, or range (any whole months, for measurements)
    start: date  # the first month
    end: date  # the month after the last

    @property
    def code(self) -> str:
        if self.kind == "month":
            return f"{self.start:%Y-%m}"
        if self.kind == "quarter":
            return f"{self.start.year}-Q{(self.start.month - 1) // 3 + 1}"
        if self.kind == "range":
            return f"{self.start:%Y-%m}..{add_months(self.end, -1):%Y-%m}"
        return f"{self.start.year}"

    @property
    def label(self) -> str:
        if self.kind == "month":
            return _("%(year)d-%(month)02d") % {"year": self.start.year, "month": self.start.month}
        if self.kind == "quarter":
            return _("Q%(quarter)d %(year)d") % {
                "quarter": (self.start.month - 1) // 3 + 1,
                "year": self.start.year,
            }
        if self.kind == "range":
            return self.code
        return _("Year %(year)d") % {"year": self.start.year}

    @property
    def months(self) -> list[date]:
        count = (self.end.year - self.start.year) * 12 + self.end.month - self.start.month
        return [add_months(self.start, step) for step in range(count)]

    def shifted(self, steps: int) -> Period:
        size = len(self.months)
        return Period(
            self.kind, add_months(self.start, steps * size), add_months(self.end, steps * size)
        )

    @property
    def last_day(self) -> date:
        return self.end - timedelta(days=1)

    @property
    def previous(self) -> Period:
        return self.shifted(-1)

    @property
    def following(self) -> Period:
        return self.shifted(1)

    def bounds(self) -> tuple[datetime, datetime]:
        zone = timezone.get_default_timezone()
        return (
            datetime(self.start.year, self.start.month, 1, tzinfo=zone),
            datetime(self.end.year, self.end.month, 1, tzinfo=zone),
        )


def month_of(day: date) -> Period:
    start = day.replace(day=1)
    return Period("month", start, add_months(start, 1))


def parse_period(text: str | None, today: date | None = None) -> Period:
    """The period a code names; the current month for none. ValueError for a code that is
    malformed or out of range."""
    today = today or timezone.localdate()
    if not text:
        return month_of(today)
    text = text.strip()
    if match := _MONTH.match(text):
        year, month = int(match[1]), int(match[2])
        if not 1 <= month <= 12:
            raise ValueError(text)
        period = month_of(date(year, month, 1))
    elif match := _QUARTER.match(text):
        start = date(int(match[1]), (int(match[2]) - 1) * 3 + 1, 1)
        period = Period("quarter", start, add_months(start, 3))
    elif match := _YEAR.match(text):
        start = date(int(match[1]), 1, 1)
        period = Period("year", start, add_months(start, 12))
    else:
        raise ValueError(text)
    if not FIRST_YEAR <= period.start.year <= today.year + 1:
        raise ValueError(text)
    return period


def period_choices(today: date | None = None) -> list[Period]:
    """What the period picker offers: the last twelve months, the last four quarters and
    this year and the last."""
    today = today or timezone.localdate()
    this_month = month_of(today)
    quarter_start = date(today.year, (today.month - 1) // 3 * 3 + 1, 1)
    this_quarter = Period("quarter", quarter_start, add_months(quarter_start, 3))
    this_year = Period("year", date(today.year, 1, 1), date(today.year + 1, 1, 1))
    return (
        [this_month.shifted(-step) for step in range(12)]
        + [this_quarter.shifted(-step) for step in range(4)]
        + [this_year, this_year.shifted(-1)]
    )
