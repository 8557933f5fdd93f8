"""Every write to business calendars: creating one (the company's, an estate's copy, a 24×7
one), its working windows, its holidays and make-up workdays by hand, from the official
schedule or from a CSV or iCal file. Each is atomic, writes one audit event and raises the
calendar's version so cached schedules are rebuilt."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import PurePath

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.db.models import F
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.core.access import ADD, CHANGE, VIEW, ensure_allowed, ensure_can_in_estate, grants_of
from jiayuan.core.audit import changed_only, record_event, snapshot
from jiayuan.core.roles import MANAGERS
from jiayuan.org.importing import DATE_FORMATS
from jiayuan.sla.calendar import DEFAULT_TIME_ZONE, MAKEUP_FOLLOWS, OFFICE_WEEK, check_windows
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    CalendarDay,
    EscalationStep,
    SlaPolicy,
    WorkingWindow,
    validate_time_zone,
)
from jiayuan.sla.official import library_years, official_days
from jiayuan.sla.policies import TARGETS, default_policies, forget_company
from jiayuan.sla.selectors import calendar_windows, forget_calendars

Kind = CalendarDay.Kind
Source = CalendarDay.Source
NAME_MAX = 100
MAX_WINDOWS_PER_DAY = 6
IMPORT_MAX_BYTES = 1024 * 1024
IMPORT_MAX_DAYS = 2000
# One event longer than this is not a holiday but a mistake (a year-long "holiday").
MAX_EVENT_DAYS = 60
# Years seeded when a calendar is made: last year's (requests still open over New Year)
# and every later year the library knows.
SEED_YEARS_BACK = 1

CALENDAR_FIELDS = ["name", "time_zone", "kind", "estate"]
DAY_FIELDS = ["date", "kind", "name", "follows_weekday", "source"]
CSV_COLUMNS = {
    "date": "date",
    "日期": "date",
    "kind": "kind",
    "类型": "kind",
    "name": "name",
    "名称": "name",
    "说明": "name",
}
KIND_WORDS = {
    "holiday": Kind.HOLIDAY,
    "假日": Kind.HOLIDAY,
    "节假日": Kind.HOLIDAY,
    "休": Kind.HOLIDAY,
    "放假": Kind.HOLIDAY,
    "workday": Kind.WORKDAY,
    "make-up workday": Kind.WORKDAY,
    "makeup": Kind.WORKDAY,
    "班": Kind.WORKDAY,
    "补班": Kind.WORKDAY,
    "上班": Kind.WORKDAY,
    "调休上班": Kind.WORKDAY,
    "工作日": Kind.WORKDAY,
}
# An iCal event is a holiday unless its title says it is a day of work.
ICAL_WORKDAY_WORDS = ("补班", "上班", "make-up workday")


# ----------------------------------------------------------------------------- who may write


def is_company_wide_manager(user, company_id: int) -> bool:
    return user.is_superuser or any(
        g.company_id == company_id and g.estate_id is None and g.role in MANAGERS
        for g in grants_of(user)
    )


def may_change(user, calendar: BusinessCalendar) -> bool:
    """Managers change their estate's calendar; the company's only company-wide managers."""
    if calendar.estate_id is None:
        return is_company_wide_manager(user, calendar.company_id)
    return BusinessCalendar.objects.restrict(user, CHANGE).filter(pk=calendar.pk).exists()


def _ensure_may_change(actor, calendar: BusinessCalendar) -> None:
    ensure_allowed(actor, CHANGE, calendar)
    if calendar.estate_id is None and not is_company_wide_manager(actor, calendar.company_id):
        raise PermissionDenied(_("Only the company's administrators change its calendar."))


def _ensure_may_add(actor, company, estate) -> None:
    if estate is not None:
        if estate.company_id != company.pk:
            raise ValidationError({"estate": _("The estate belongs to another company.")})
        ensure_can_in_estate(actor, BusinessCalendar, ADD, estate)
        return
    if is_company_wide_manager(actor, company.pk):
        return
    if not any(g.company_id == company.pk for g in grants_of(actor)):
        raise Http404(_("Not found."))
    raise PermissionDenied(_("Only the company's administrators change its calendar."))


def _touch(calendar: BusinessCalendar) -> None:
    """A new version: every cached schedule of this calendar is stale from now on."""
    now = timezone.now()
    BusinessCalendar.objects.filter(pk=calendar.pk).update(version=F("version") + 1, updated_at=now)
    calendar.refresh_from_db(fields=["version", "updated_at"])
    forget_calendars(calendar.company_id)


def _record(actor, code: SlaEvent, calendar: BusinessCalendar, target=None, **changes):
    record_event(
        actor=actor,
        code=code,
        target=target or calendar,
        company=calendar.company,
        estate=calendar.estate,
        **changes,
    )


# ----------------------------------------------------------------------------- checking input


def _clean_name(value, *, required: bool) -> str:
    text = " ".join(str(value or "").split())
    if required and not text:
        raise ValidationError({"name": _("Enter a name.")})
    if len(text) > NAME_MAX:
        raise ValidationError(
            {"name": _("At most %(limit)d characters, please.") % {"limit": NAME_MAX}}
        )
    return text


def _clean_time_zone(value) -> str:
    value = str(value or "").strip()
    try:
        validate_time_zone(value)
    except ValidationError as exc:
        raise ValidationError({"time_zone": exc.messages}) from exc
    return value


def _clean_weekday(value, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value not in range(7):
        raise ValidationError({field_name: _("Choose a weekday.")})
    return value


def _clean_kind(value) -> str:
    if value not in Kind.values:
        raise ValidationError({"kind": _("Choose holiday or make-up workday.")})
    return value


def _clean_date(value) -> date:
    if isinstance(value, datetime) or not isinstance(value, date):
        raise ValidationError({"date": _("Enter a date.")})
    return value


def clean_windows(windows: Mapping[int, Iterable[tuple[time, time]]]) -> dict[int, tuple]:
    """{weekday: ordered windows} for every weekday (missing ones closed), or a
    ValidationError naming each bad weekday as `day_<n>`."""
    if not isinstance(windows, Mapping):
        raise ValidationError({"windows": _("Send the windows per weekday.")})
    errors = {}
    cleaned = {weekday: () for weekday in range(7)}
    for weekday, spans in windows.items():
        if isinstance(weekday, bool) or weekday not in range(7):
            errors["windows"] = _("Weekdays go from 0 (Monday) to 6 (Sunday).")
            continue
        spans = list(spans)
        key = f"day_{weekday}"
        if len(spans) > MAX_WINDOWS_PER_DAY:
            errors[key] = _("At most %(count)d working windows a day.") % {
                "count": MAX_WINDOWS_PER_DAY
            }
            continue
        if not all(
            isinstance(span, tuple | list)
            and len(span) == 2
            and all(isinstance(bound, time) for bound in span)
            for span in spans
        ):
            errors[key] = _("Write each window as from–until, such as 08:30-12:00.")
            continue
        try:
            cleaned[weekday] = check_windows(
                (start.replace(second=0, microsecond=0), end.replace(second=0, microsecond=0))
                for start, end in spans
            )
        except ValueError:
            errors[key] = _(
                "%(weekday)s: each window must end after it starts, and windows must not overlap."
            ) % {"weekday": WEEKDAY_NAMES[weekday]}
    if errors:
        raise ValidationError(errors)
    if not any(cleaned.values()):
        raise ValidationError({"windows": _("A calendar needs at least one working window.")})
    return cleaned


# ----------------------------------------------------------------------------- calendars


def _write_windows(calendar: BusinessCalendar, windows: Mapping[int, Iterable]) -> None:
    WorkingWindow.objects.filter(calendar=calendar).delete()
    WorkingWindow.objects.bulk_create(
        WorkingWindow(calendar=calendar, weekday=weekday, start=start, end=end)
        for weekday, spans in sorted(windows.items())
        for start, end in spans
    )


def _windows_snapshot(windows: Mapping[int, Iterable[tuple[time, time]]]) -> dict[str, list]:
    return {
        str(weekday): [f"{start:%H:%M}-{end:%H:%M}" for start, end in spans]
        for weekday, spans in sorted(windows.items())
    }


def _save_new(calendar: BusinessCalendar) -> None:
    try:
        with transaction.atomic():
            calendar.save()
            forget_calendars(calendar.company_id)
    except IntegrityError as exc:
        raise ValidationError(
            _("There is already a calendar of this kind for the company or estate.")
        ) from exc


def seed_years(today: date | None = None) -> list[int]:
    """The years a new calendar is filled with from the official schedule."""
    first = (today or timezone.localdate()).year - SEED_YEARS_BACK
    return sorted(year for year in library_years() if year >= first)


@transaction.atomic
def calendar_create(
    *,
    actor,
    company,
    estate=None,
    kind: str = BusinessCalendar.Kind.REGULAR,
    name: str = "",
    time_zone: str = DEFAULT_TIME_ZONE,
) -> BusinessCalendar:
    """A new calendar. A regular one starts with office hours (Monday to Friday 08:30–12:00
    and 13:30–18:00) and China's official holidays for the years the library knows; a 24×7
    one needs nothing more."""
    _ensure_may_add(actor, company, estate)
    if kind not in BusinessCalendar.Kind.values:
        raise ValidationError({"kind": _("Choose one of the listed values.")})
    always_open = kind == BusinessCalendar.Kind.ALWAYS_OPEN
    default_name = _("Emergencies (24×7)") if always_open else _("Office hours")
    calendar = BusinessCalendar(
        company=company,
        estate=estate,
        kind=kind,
        name=_clean_name(name, required=False) or default_name,
        time_zone=_clean_time_zone(time_zone),
    )
    _save_new(calendar)
    if not always_open:
        _write_windows(calendar, dict(enumerate(OFFICE_WEEK)))
        _add_official_days(calendar, seed_years())
    _record(actor, SlaEvent.CALENDAR_CREATED, calendar, after=snapshot(calendar, CALENDAR_FIELDS))
    return calendar


@transaction.atomic
def calendar_copy_for_estate(*, actor, calendar: BusinessCalendar, estate, name: str = ""):
    """An estate's own calendar, starting as a copy of the company's (windows and days)."""
    ensure_allowed(actor, VIEW, calendar)
    _ensure_may_add(actor, calendar.company, estate)
    if calendar.estate_id is not None:
        raise ValidationError(_("Copy the company's calendar, not another estate's."))
    copy = BusinessCalendar(
        company=calendar.company,
        estate=estate,
        kind=calendar.kind,
        name=_clean_name(name, required=False) or f"{calendar.name} · {estate.name}",
        time_zone=calendar.time_zone,
    )
    _save_new(copy)
    _write_windows(copy, calendar_windows(calendar))
    CalendarDay.objects.bulk_create(
        CalendarDay(
            calendar=copy,
            date=day.date,
            kind=day.kind,
            name=day.name,
            follows_weekday=day.follows_weekday,
            source=day.source,
        )
        for day in CalendarDay.objects.filter(calendar=calendar)
    )
    _record(
        actor,
        SlaEvent.CALENDAR_CREATED,
        copy,
        after=snapshot(copy, CALENDAR_FIELDS) | {"copied_from": calendar.pk},
    )
    return copy


@transaction.atomic
def calendar_update(*, actor, calendar: BusinessCalendar, **changes) -> BusinessCalendar:
    _ensure_may_change(actor, calendar)
    unknown = set(changes) - {"name", "time_zone"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    before = snapshot(calendar, CALENDAR_FIELDS)
    if "name" in changes:
        calendar.name = _clean_name(changes["name"], required=True)
    if "time_zone" in changes:
        calendar.time_zone = _clean_time_zone(changes["time_zone"])
    calendar.save()
    _touch(calendar)
    old, new = changed_only(before, snapshot(calendar, CALENDAR_FIELDS))
    if new:
        _record(actor, SlaEvent.CALENDAR_UPDATED, calendar, before=old, after=new)
    return calendar


@transaction.atomic
def calendar_delete(*, actor, calendar: BusinessCalendar) -> None:
    """An estate's calendar removed: the estate follows the company's again. The company's
    removed: the built-in office hours with the official holidays apply."""
    _ensure_may_change(actor, calendar)
    _record(actor, SlaEvent.CALENDAR_DELETED, calendar, before=snapshot(calendar, CALENDAR_FIELDS))
    calendar.delete()
    forget_calendars(calendar.company_id)


@transaction.atomic
def calendar_set_windows(
    *, actor, calendar: BusinessCalendar, windows: Mapping[int, Iterable[tuple[time, time]]]
) -> BusinessCalendar:
    """Replace the working windows: {weekday (0 = Monday): [(from, until), ...]}; a weekday
    left out is closed."""
    _ensure_may_change(actor, calendar)
    if calendar.is_always_open:
        raise ValidationError(_("A 24×7 calendar has no working hours to set."))
    cleaned = clean_windows(windows)
    before = _windows_snapshot(calendar_windows(calendar))
    _write_windows(calendar, cleaned)
    _touch(calendar)
    after = _windows_snapshot(cleaned)
    if before != after:
        _record(actor, SlaEvent.WINDOWS_SET, calendar, before=before, after=after)
    return calendar


# ----------------------------------------------------------------------------- days


def _ensure_regular(calendar: BusinessCalendar) -> None:
    if calendar.is_always_open:
        raise ValidationError(_("A 24×7 calendar has no holidays."))


@transaction.atomic
def calendar_day_add(
    *,
    actor,
    calendar: BusinessCalendar,
    date,
    kind,
    name: str = "",
    follows_weekday: int = MAKEUP_FOLLOWS,
) -> CalendarDay:
    _ensure_may_change(actor, calendar)
    _ensure_regular(calendar)
    errors: dict = {}
    values = {}
    for key, check in (
        ("date", lambda: _clean_date(date)),
        ("kind", lambda: _clean_kind(kind)),
        ("name", lambda: _clean_name(name, required=False)),
        ("follows_weekday", lambda: _clean_weekday(follows_weekday, "follows_weekday")),
    ):
        try:
            values[key] = check()
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if not errors and CalendarDay.objects.filter(calendar=calendar, date=values["date"]).exists():
        errors["date"] = [_("This date is already in the calendar: edit it instead.")]
    if errors:
        raise ValidationError(errors)
    day = CalendarDay.objects.create(calendar=calendar, source=Source.MANUAL, **values)
    _touch(calendar)
    _record(actor, SlaEvent.DAY_ADDED, calendar, target=day, after=snapshot(day, DAY_FIELDS))
    return day


@transaction.atomic
def calendar_day_update(*, actor, day: CalendarDay, **changes) -> CalendarDay:
    calendar = day.calendar
    _ensure_may_change(actor, calendar)
    unknown = set(changes) - {"date", "kind", "name", "follows_weekday"}
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    checks = {
        "date": _clean_date,
        "kind": _clean_kind,
        "name": lambda value: _clean_name(value, required=False),
        "follows_weekday": lambda value: _clean_weekday(value, "follows_weekday"),
    }
    errors: dict = {}
    values = {}
    for key, value in changes.items():
        try:
            values[key] = checks[key](value)
        except ValidationError as exc:
            exc.update_error_dict(errors)
    new_date = values.get("date", day.date)
    if (
        "date" not in errors
        and CalendarDay.objects.filter(calendar=calendar, date=new_date).exclude(pk=day.pk).exists()
    ):
        errors["date"] = [_("This date is already in the calendar: edit it instead.")]
    if errors:
        raise ValidationError(errors)
    before = snapshot(day, DAY_FIELDS)
    for key, value in values.items():
        setattr(day, key, value)
    old, new = changed_only(before, snapshot(day, DAY_FIELDS))
    if new:
        # A day changed by hand is the company's own from now on: seeding keeps it.
        day.source = Source.MANUAL
        day.save()
        _touch(calendar)
        _record(actor, SlaEvent.DAY_UPDATED, calendar, target=day, before=old, after=new)
    return day


@transaction.atomic
def calendar_day_delete(*, actor, day: CalendarDay) -> None:
    calendar = day.calendar
    _ensure_may_change(actor, calendar)
    _record(actor, SlaEvent.DAY_DELETED, calendar, target=day, before=snapshot(day, DAY_FIELDS))
    day.delete()
    _touch(calendar)


# ----------------------------------------------------------------------------- official schedule


@dataclass(frozen=True)
class SeedResult:
    years: list[int]  # seeded from the library
    unknown_years: list[int]  # asked for, but the library does not know them yet
    added: int
    kept: int  # dates entered by hand or imported, left as they were


def _add_official_days(calendar: BusinessCalendar, years: Iterable[int]) -> tuple[int, int]:
    """Replace the library's days of these years; the company's own days win."""
    years = sorted(set(years))
    CalendarDay.objects.filter(
        calendar=calendar, source=Source.LIBRARY, date__year__in=years
    ).delete()
    own = set(
        CalendarDay.objects.filter(calendar=calendar, date__year__in=years).values_list(
            "date", flat=True
        )
    )
    official = official_days(years)
    new_days = [
        CalendarDay(
            calendar=calendar,
            date=day.date,
            kind=Kind.HOLIDAY if day.is_holiday else Kind.WORKDAY,
            name=day.name,
            source=Source.LIBRARY,
        )
        for day in official
        if day.date not in own
    ]
    CalendarDay.objects.bulk_create(new_days)
    return len(new_days), len(official) - len(new_days)


@transaction.atomic
def calendar_seed_from_library(
    *, actor, calendar: BusinessCalendar, years: Iterable[int] | None = None
) -> SeedResult:
    """Fill in China's official holidays and make-up workdays for these years (default:
    the years a new calendar gets). Days entered by hand or imported are kept."""
    _ensure_may_change(actor, calendar)
    _ensure_regular(calendar)
    asked = sorted(set(seed_years() if years is None else years))
    if not asked or not all(isinstance(year, int) and 1900 < year < 2200 for year in asked):
        raise ValidationError({"years": _("Choose the years to fill in.")})
    known = [year for year in asked if year in library_years()]
    added, kept = _add_official_days(calendar, known) if known else (0, 0)
    result = SeedResult(
        years=known,
        unknown_years=[year for year in asked if year not in known],
        added=added,
        kept=kept,
    )
    _touch(calendar)
    _record(
        actor,
        SlaEvent.SEEDED,
        calendar,
        after={"years": known, "unknown_years": result.unknown_years, "added": added},
    )
    return result


# ----------------------------------------------------------------------------- import


@dataclass(frozen=True)
class ImportedDay:
    date: date
    kind: str
    name: str


@dataclass
class ImportResult:
    created: int = 0
    updated: int = 0
    years: list[int] = field(default_factory=list)


class ImportRejected(ValidationError):
    """A file with at least one bad row: nothing was written. `problems` lists
    (row or None, message) so the page can show them all."""

    def __init__(self, problems: list[tuple[int | None, str]]):
        self.problems = problems
        super().__init__(
            [
                _("Row %(row)d: %(message)s") % {"row": row, "message": message} if row else message
                for row, message in problems
            ]
        )


def _decode(data: bytes) -> str:
    # Excel in China saves CSV as GB18030; other tools as UTF-8, often with a BOM.
    for encoding in ("utf-8-sig", "gb18030"):
        try:
            return data.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise ImportRejected([(None, _("The file is not in UTF-8 or GB18030 text encoding."))])


def _parse_date(text: str) -> date | None:
    for pattern in DATE_FORMATS:
        try:
            return datetime.strptime(text, pattern).date()
        except ValueError:
            continue
    return None


def parse_csv(data: bytes) -> list[tuple[int, ImportedDay]]:
    """(row number, day) per data row of a CSV file with columns date, kind, name (or
    日期, 类型, 名称); ImportRejected lists every bad row."""
    text = _decode(data)
    rows = list(csv.reader(io.StringIO(text, newline="")))
    if not rows:
        raise ImportRejected([(None, _("The file is empty."))])
    header = [CSV_COLUMNS.get(cell.strip().lower()) for cell in rows[0]]
    if "date" not in header or "kind" not in header:
        raise ImportRejected([(None, _("The first row must name the columns: date, kind, name."))])
    position = {key: header.index(key) for key in ("date", "kind", "name") if key in header}
    problems: list[tuple[int | None, str]] = []
    parsed = []
    for number, row in enumerate(rows[1:], start=2):
        if not any(cell.strip() for cell in row):
            continue

        def cell(key, row=row):
            index = position.get(key)
            return row[index].strip() if index is not None and index < len(row) else ""

        day = _parse_date(cell("date"))
        kind = KIND_WORDS.get(cell("kind").lower())
        name = " ".join(cell("name").split())
        if day is None:
            problems.append((number, _("“%(value)s” is not a date.") % {"value": cell("date")}))
        if kind is None:
            problems.append(
                (
                    number,
                    _("“%(value)s” is not a kind of day: write holiday or workday.")
                    % {"value": cell("kind")},
                )
            )
        if len(name) > NAME_MAX:
            problems.append((number, _("The name is longer than %(limit)d.") % {"limit": NAME_MAX}))
        if day is not None and kind is not None and len(name) <= NAME_MAX:
            parsed.append((number, ImportedDay(day, kind, name)))
    if problems:
        raise ImportRejected(problems)
    return parsed


def _event_dates(event) -> list[date]:
    start = event.decoded("DTSTART")
    if "DTEND" in event:
        end = event.decoded("DTEND")
    elif "DURATION" in event:
        end = start + event.decoded("DURATION")
    else:
        end = start + timedelta(days=1) if not isinstance(start, datetime) else start
    if isinstance(start, datetime):
        # A timed event covers every date it touches; an end at midnight touches no more.
        first, last = start.date(), end.date()
        if end.time() == time(0) and last > first:
            last -= timedelta(days=1)
    else:
        # All-day events end on the day after their last (DTEND is exclusive).
        first, last = start, max(start, end - timedelta(days=1))
    if (last - first).days >= MAX_EVENT_DAYS:
        raise ValueError("too long")
    return [first + timedelta(days=offset) for offset in range((last - first).days + 1)]


def parse_ical(data: bytes) -> list[tuple[int, ImportedDay]]:
    """(event number, day) per date of every VEVENT: holidays, or make-up workdays when the
    title says a day of work (补班, 上班); an event of several days gives each date."""
    import icalendar

    try:
        calendar = icalendar.Calendar.from_ical(data)
    except (ValueError, IndexError, KeyError) as exc:
        raise ImportRejected([(None, _("The file is not an iCalendar (.ics) file."))]) from exc
    problems: list[tuple[int | None, str]] = []
    parsed = []
    for number, event in enumerate(calendar.walk("VEVENT"), start=1):
        name = " ".join(str(event.get("SUMMARY", "")).split())[:NAME_MAX]
        kind = (
            Kind.WORKDAY
            if any(word in name.lower() for word in ICAL_WORKDAY_WORDS)
            else Kind.HOLIDAY
        )
        try:
            dates = _event_dates(event)
        except (KeyError, TypeError, ValueError, AttributeError):
            problems.append(
                (
                    number,
                    _("Event “%(name)s” has no usable dates (at most %(days)d days).")
                    % {"name": name, "days": MAX_EVENT_DAYS},
                )
            )
            continue
        parsed.extend((number, ImportedDay(day, kind, name)) for day in dates)
    if problems:
        raise ImportRejected(problems)
    if not parsed:
        raise ImportRejected([(None, _("The file has no events."))])
    return parsed


def _file_kind(file_name: str, data: bytes) -> str:
    suffix = PurePath(file_name or "").suffix.lower()
    if suffix in {".ics", ".ical", ".ifb"} or data.lstrip().startswith(b"BEGIN:VCALENDAR"):
        return "ical"
    if suffix in {".csv", ".txt", ""}:
        return "csv"
    raise ImportRejected([(None, _("Upload a .csv or an .ics file."))])


@transaction.atomic
def calendar_import(
    *, actor, calendar: BusinessCalendar, data: bytes, file_name: str = ""
) -> ImportResult:
    """Holidays and make-up workdays from a CSV (date, kind, name) or iCal file, all or
    nothing: a date already in the calendar takes the file's kind and name."""
    _ensure_may_change(actor, calendar)
    _ensure_regular(calendar)
    if len(data) > IMPORT_MAX_BYTES:
        raise ImportRejected([(None, _("The file is larger than 1 MB."))])
    rows = parse_ical(data) if _file_kind(file_name, data) == "ical" else parse_csv(data)
    seen: dict[date, int] = {}
    problems: list[tuple[int | None, str]] = []
    for number, day in rows:
        if day.date in seen and seen[day.date] != number:
            problems.append(
                (
                    number,
                    _("%(date)s is also in row %(row)d.")
                    % {"date": day.date.isoformat(), "row": seen[day.date]},
                )
            )
        seen.setdefault(day.date, number)
    if len(seen) > IMPORT_MAX_DAYS:
        problems.append(
            (None, _("The file has more than %(limit)d days.") % {"limit": IMPORT_MAX_DAYS})
        )
    if problems:
        raise ImportRejected(problems)
    unique = {day.date: day for _number, day in rows}
    existing = {
        day.date: day for day in CalendarDay.objects.filter(calendar=calendar, date__in=unique)
    }
    result = ImportResult(years=sorted({day.year for day in unique}))
    created = []
    for imported in unique.values():
        current = existing.get(imported.date)
        if current is None:
            created.append(
                CalendarDay(
                    calendar=calendar,
                    date=imported.date,
                    kind=imported.kind,
                    name=imported.name,
                    source=Source.IMPORT,
                )
            )
            continue
        current.kind, current.name, current.source = imported.kind, imported.name, Source.IMPORT
        current.save(update_fields=["kind", "name", "source"])
        result.updated += 1
    CalendarDay.objects.bulk_create(created)
    result.created = len(created)
    _touch(calendar)
    _record(
        actor,
        SlaEvent.IMPORTED,
        calendar,
        after={
            "file": str(file_name)[:200],
            "created": result.created,
            "updated": result.updated,
            "years": result.years,
        },
    )
    return result


# ----------------------------------------------------------------------------- SLA policies

POLICY_FIELDS = [
    "name",
    "estate",
    "kind",
    "category",
    "urgency",
    "warn_percent",
    *(f"{target}_{part}" for target in TARGETS for part in ("minutes", "clock")),
]
# A target longer than a year is a typing mistake, not a promise.
TARGET_MAX_MINUTES = 366 * 24 * 60
ESCALATION_MAX_STEPS = 5


def _ensure_may_set_rules(actor, company, estate) -> None:
    """The rules of one estate: its managers; the company's: company-wide managers."""
    _ensure_may_add(actor, company, estate)


@transaction.atomic
def sla_policies_adopt_defaults(*, actor, company) -> list[SlaPolicy]:
    """Save the built-in policies as the company's own, to be edited. Does nothing if the
    company has policies already."""
    _ensure_may_set_rules(actor, company, None)
    if SlaPolicy.objects.filter(company=company).exists():
        return list(SlaPolicy.objects.filter(company=company))
    rows = SlaPolicy.objects.bulk_create(default_policies(company.pk))
    record_event(
        actor=actor,
        code=SlaEvent.POLICY_SAVED,
        target=company,
        company=company,
        after={"policies": [row.name for row in rows]},
    )
    forget_company(company.pk)
    return rows


@transaction.atomic
def sla_policy_save(*, actor, company, policy: SlaPolicy | None = None, **fields) -> SlaPolicy:
    """Create a policy of the company, or change one. The company's built-in policies are
    saved first, so that adding one never drops the others."""
    unknown = set(fields) - set(POLICY_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    if policy is not None:
        if policy.company_id != company.pk:
            raise Http404(_("Not found."))
        _ensure_may_set_rules(actor, company, policy.estate)
    estate = fields.get("estate", policy.estate if policy else None)
    _ensure_may_set_rules(actor, company, estate)
    if policy is None and not SlaPolicy.objects.filter(company=company).exists():
        SlaPolicy.objects.bulk_create(default_policies(company.pk))
    row = policy or SlaPolicy(company=company)
    before = snapshot(row, POLICY_FIELDS) if policy else None
    was_default = policy is not None and policy.is_default
    for name, value in fields.items():
        setattr(row, name, value)
    row.name = _clean_name(row.name, required=True)
    errors = {}
    for target in TARGETS:
        minutes = row.minutes_of(target)
        if minutes is not None and not 0 < minutes <= TARGET_MAX_MINUTES:
            errors[f"{target}_minutes"] = _("Give minutes between 1 and %(max)s.") % {
                "max": TARGET_MAX_MINUTES
            }
    if not any(row.minutes_of(target) for target in TARGETS):
        errors["accept_minutes"] = _("Give at least one target.")
    if was_default and not row.is_default:
        errors["kind"] = _("The default policy matches every request; add another instead.")
    if errors:
        raise ValidationError(errors)
    try:
        row.full_clean()
    except ValidationError as exc:
        errors = exc.message_dict
        if "__all__" in errors:  # the one constraint: a policy for the same requests
            errors.pop("__all__")
            errors["kind"] = [_("A policy for these requests exists already.")]
        raise ValidationError(errors) from exc
    row.save()
    old, new = changed_only(before or {}, snapshot(row, POLICY_FIELDS))
    record_event(
        actor=actor,
        code=SlaEvent.POLICY_SAVED,
        target=row,
        company=company,
        estate=row.estate,
        before=old or None,
        after=new,
    )
    forget_company(company.pk)
    return row


@transaction.atomic
def sla_policy_delete(*, actor, policy: SlaPolicy) -> None:
    company = policy.company
    _ensure_may_set_rules(actor, company, policy.estate)
    if policy.is_default:
        raise ValidationError(_("The default policy cannot be deleted: every request needs one."))
    record_event(
        actor=actor,
        code=SlaEvent.POLICY_DELETED,
        target=policy,
        company=company,
        estate=policy.estate,
        before=snapshot(policy, POLICY_FIELDS),
    )
    policy.delete()
    forget_company(company.pk)


@transaction.atomic
def escalation_chain_set(
    *, actor, company, estate=None, steps: Iterable[tuple[str, int]]
) -> list[EscalationStep]:
    """Replace the chain of the company (or of one estate): (who, minutes after the step
    before), in order. An empty chain for an estate falls back to the company's."""
    _ensure_may_set_rules(actor, company, estate)
    steps = list(steps)
    if len(steps) > ESCALATION_MAX_STEPS:
        raise ValidationError(
            _("At most %(count)s steps.") % {"count": ESCALATION_MAX_STEPS}, code="too_many"
        )
    rows = []
    for level, (recipient, delay) in enumerate(steps, start=1):
        if recipient not in EscalationStep.Recipient.values:
            raise ValidationError({f"recipient_{level}": _("Choose who is told.")})
        if not isinstance(delay, int) or not 0 <= delay <= TARGET_MAX_MINUTES:
            raise ValidationError(
                {
                    f"delay_{level}": _("Give minutes between 0 and %(max)s.")
                    % {"max": TARGET_MAX_MINUTES}
                }
            )
        rows.append(
            EscalationStep(
                company=company,
                estate=estate,
                level=level,
                recipient=recipient,
                delay_minutes=delay,
            )
        )
    scope = EscalationStep.objects.filter(company=company, estate=estate)
    before = [(s.recipient, s.delay_minutes) for s in scope.order_by("level")]
    scope.delete()
    EscalationStep.objects.bulk_create(rows)
    record_event(
        actor=actor,
        code=SlaEvent.CHAIN_SAVED,
        target=estate or company,
        company=company,
        estate=estate,
        before={"steps": before},
        after={"steps": [(s.recipient, s.delay_minutes) for s in rows]},
    )
    forget_company(company.pk)
    return rows
