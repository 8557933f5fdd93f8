"""Writes to business calendars: who may make which, bad input refused without a partial
write, audit events, the official schedule, CSV and iCal import, and the cached schedules
the selectors hand out."""

from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404

from jiayuan.core import memo
from jiayuan.core.models import AuditEvent
from jiayuan.sla import selectors, services
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import BusinessCalendar, CalendarDay, WorkingWindow

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")
Kind = CalendarDay.Kind


def at(*args):
    return datetime(*args, tzinfo=SHANGHAI)


@pytest.fixture
def company_calendar(personas):
    with time_machine.travel(at(2026, 3, 2, 9, 0), tick=False):
        return services.calendar_create(actor=personas.company_admin, company=personas.company)


def events(code):
    return AuditEvent.objects.filter(code=code.value)


class TestCreating:
    def test_the_company_calendar_starts_with_office_hours_and_the_official_days(
        self, personas, company_calendar
    ):
        windows = sorted(
            WorkingWindow.objects.filter(calendar=company_calendar).values_list(
                "weekday", "start", "end"
            )
        )
        assert len(windows) == 10
        assert windows[:2] == [(0, time(8, 30), time(12, 0)), (0, time(13, 30), time(18, 0))]
        national_day = CalendarDay.objects.get(calendar=company_calendar, date=date(2026, 10, 1))
        assert (national_day.kind, national_day.name, national_day.source) == (
            Kind.HOLIDAY,
            "国庆节",
            CalendarDay.Source.LIBRARY,
        )
        makeup = CalendarDay.objects.get(calendar=company_calendar, date=date(2026, 10, 10))
        assert (makeup.kind, makeup.name) == (Kind.WORKDAY, "国庆节调休")
        # Last year's too, not older ones.
        assert CalendarDay.objects.filter(calendar=company_calendar, date__year=2025).exists()
        assert not CalendarDay.objects.filter(calendar=company_calendar, date__year=2024).exists()
        event = events(SlaEvent.CALENDAR_CREATED).get()
        assert event.company == personas.company
        assert event.actor == personas.company_admin

    def test_an_estate_copy_has_the_company_days_and_hours(self, personas, company_calendar):
        copy = services.calendar_copy_for_estate(
            actor=personas.manager_a, calendar=company_calendar, estate=personas.estate_a
        )
        assert copy.estate == personas.estate_a
        assert copy.windows.count() == 10
        assert copy.days.count() == company_calendar.days.count()

    def test_one_calendar_of_a_kind_per_company_and_estate(self, personas, company_calendar):
        with pytest.raises(ValidationError):
            services.calendar_create(actor=personas.company_admin, company=personas.company)
        always = services.calendar_create(
            actor=personas.company_admin,
            company=personas.company,
            kind=BusinessCalendar.Kind.ALWAYS_OPEN,
        )
        assert always.windows.count() == 0
        assert BusinessCalendar.objects.filter(company=personas.company).count() == 2

    def test_outsiders_and_staff_without_the_role_are_refused(self, personas):
        with pytest.raises(Http404):
            services.calendar_create(actor=personas.outsider, company=personas.company)
        with pytest.raises(PermissionDenied):
            services.calendar_create(actor=personas.manager_a, company=personas.company)
        with pytest.raises(PermissionDenied):
            services.calendar_create(
                actor=personas.clerk_a, company=personas.company, estate=personas.estate_a
            )
        with pytest.raises(Http404):
            services.calendar_create(
                actor=personas.manager_a, company=personas.company, estate=personas.estate_b
            )
        with pytest.raises(ValidationError):
            services.calendar_create(
                actor=personas.company_admin, company=personas.company, estate=personas.estate_c
            )
        assert not BusinessCalendar.objects.exists()
        assert not AuditEvent.objects.filter(code__startswith="sla.").exists()

    def test_bad_time_zone(self, personas):
        with pytest.raises(ValidationError) as error:
            services.calendar_create(
                actor=personas.company_admin, company=personas.company, time_zone="Mars/Base"
            )
        assert "time_zone" in error.value.message_dict
        assert not BusinessCalendar.objects.exists()


class TestChanging:
    def test_only_company_wide_managers_change_the_company_calendar(
        self, personas, company_calendar
    ):
        with pytest.raises(PermissionDenied):
            services.calendar_update(
                actor=personas.manager_a, calendar=company_calendar, name="改名"
            )
        with pytest.raises(Http404):
            services.calendar_update(
                actor=personas.outsider, calendar=company_calendar, name="改名"
            )
        with pytest.raises(Http404):
            services.calendar_day_add(
                actor=personas.technician_a,
                calendar=company_calendar,
                date=date(2027, 1, 1),
                kind=Kind.HOLIDAY,
            )
        services.calendar_update(
            actor=personas.company_admin, calendar=company_calendar, name="总部日历"
        )
        assert events(SlaEvent.CALENDAR_UPDATED).get().after == {"name": "总部日历"}

    def test_an_estate_manager_changes_their_estate_calendar_only(self, personas, company_calendar):
        own = services.calendar_copy_for_estate(
            actor=personas.manager_a, calendar=company_calendar, estate=personas.estate_a
        )
        other = services.calendar_copy_for_estate(
            actor=personas.company_admin, calendar=company_calendar, estate=personas.estate_b
        )
        services.calendar_day_add(
            actor=personas.manager_a, calendar=own, date=date(2027, 1, 1), kind=Kind.HOLIDAY
        )
        with pytest.raises(Http404):
            services.calendar_day_add(
                actor=personas.manager_a, calendar=other, date=date(2027, 1, 1), kind=Kind.HOLIDAY
            )

    def test_setting_windows(self, personas, company_calendar):
        services.calendar_set_windows(
            actor=personas.company_admin,
            calendar=company_calendar,
            windows={0: [(time(9, 0), time(17, 0))], 5: [(time(9, 0), time(12, 0))]},
        )
        assert company_calendar.windows.count() == 2
        event = events(SlaEvent.WINDOWS_SET).get()
        assert event.after["0"] == ["09:00-17:00"]
        assert event.after["1"] == []

    @pytest.mark.parametrize(
        "windows, field",
        [
            ({0: [(time(12, 0), time(9, 0))]}, "day_0"),
            ({2: [(time(9, 0), time(12, 0)), (time(11, 0), time(13, 0))]}, "day_2"),
            ({7: [(time(9, 0), time(12, 0))]}, "windows"),
            ({}, "windows"),
            ({1: ["09:00-12:00"]}, "day_1"),
        ],
    )
    def test_bad_windows_are_refused_whole(self, personas, company_calendar, windows, field):
        version = company_calendar.version
        with pytest.raises(ValidationError) as error:
            services.calendar_set_windows(
                actor=personas.company_admin, calendar=company_calendar, windows=windows
            )
        assert field in error.value.message_dict
        assert company_calendar.windows.count() == 10
        company_calendar.refresh_from_db()
        assert company_calendar.version == version

    def test_days_added_edited_and_deleted(self, personas, company_calendar):
        day = services.calendar_day_add(
            actor=personas.company_admin,
            calendar=company_calendar,
            date=date(2027, 1, 1),
            kind=Kind.HOLIDAY,
            name="元旦",
        )
        with pytest.raises(ValidationError) as error:
            services.calendar_day_add(
                actor=personas.company_admin,
                calendar=company_calendar,
                date=date(2027, 1, 1),
                kind=Kind.WORKDAY,
            )
        assert "date" in error.value.message_dict
        with pytest.raises(ValidationError) as error:
            services.calendar_day_add(
                actor=personas.company_admin,
                calendar=company_calendar,
                date="tomorrow",
                kind="party",
                follows_weekday=9,
            )
        assert set(error.value.message_dict) == {"date", "kind", "follows_weekday"}
        services.calendar_day_update(
            actor=personas.company_admin, day=day, kind=Kind.WORKDAY, follows_weekday=4
        )
        day.refresh_from_db()
        assert (day.kind, day.follows_weekday) == (Kind.WORKDAY, 4)
        services.calendar_day_delete(actor=personas.company_admin, day=day)
        assert not CalendarDay.objects.filter(pk=day.pk).exists()
        codes = set(AuditEvent.objects.values_list("code", flat=True))
        assert {SlaEvent.DAY_ADDED, SlaEvent.DAY_UPDATED, SlaEvent.DAY_DELETED} <= codes

    def test_a_24x7_calendar_has_no_hours_or_days(self, personas):
        always = services.calendar_create(
            actor=personas.company_admin,
            company=personas.company,
            kind=BusinessCalendar.Kind.ALWAYS_OPEN,
        )
        with pytest.raises(ValidationError):
            services.calendar_set_windows(
                actor=personas.company_admin,
                calendar=always,
                windows={0: [(time(9, 0), time(12, 0))]},
            )
        with pytest.raises(ValidationError):
            services.calendar_day_add(
                actor=personas.company_admin,
                calendar=always,
                date=date(2027, 1, 1),
                kind=Kind.HOLIDAY,
            )


class TestOfficialSchedule:
    def test_seeding_keeps_the_days_entered_by_hand(self, personas, company_calendar):
        national_day = CalendarDay.objects.get(calendar=company_calendar, date=date(2026, 10, 1))
        services.calendar_day_update(
            actor=personas.company_admin, day=national_day, name="国庆节（公司）"
        )
        CalendarDay.objects.filter(calendar=company_calendar, date=date(2026, 10, 2)).delete()
        result = services.calendar_seed_from_library(
            actor=personas.company_admin, calendar=company_calendar, years=[2026, 2031]
        )
        assert result.years == [2026]
        assert result.unknown_years == [2031]
        assert result.kept == 1
        assert (
            CalendarDay.objects.get(calendar=company_calendar, date=date(2026, 10, 1)).name
            == "国庆节（公司）"
        )
        assert CalendarDay.objects.filter(calendar=company_calendar, date=date(2026, 10, 2))
        assert events(SlaEvent.SEEDED).get().after["unknown_years"] == [2031]

    def test_bad_years(self, personas, company_calendar):
        with pytest.raises(ValidationError):
            services.calendar_seed_from_library(
                actor=personas.company_admin, calendar=company_calendar, years=["2026"]
            )


class TestImport:
    def test_csv_adds_and_updates_days(self, personas, company_calendar):
        data = (
            "日期,类型,名称\n2031-01-01,节假日,元旦\n2031/02/08,班,春节调休\n"
            "2026-10-01,holiday,国庆\n"
        ).encode("gb18030")
        result = services.calendar_import(
            actor=personas.company_admin, calendar=company_calendar, data=data, file_name="x.csv"
        )
        assert (result.created, result.updated) == (2, 1)
        assert CalendarDay.objects.get(calendar=company_calendar, date=date(2031, 2, 8)).kind == (
            Kind.WORKDAY
        )
        assert events(SlaEvent.IMPORTED).get().after["years"] == [2026, 2031]

    def test_a_bad_csv_writes_nothing_and_names_every_row(self, personas, company_calendar):
        data = b"date,kind,name\n2031-01-01,holiday,ok\n2031-13-01,holiday,x\n2031-01-02,nap,y\n"
        version = company_calendar.version
        with pytest.raises(services.ImportRejected) as error:
            services.calendar_import(
                actor=personas.company_admin, calendar=company_calendar, data=data
            )
        assert [row for row, _message in error.value.problems] == [3, 4]
        assert not CalendarDay.objects.filter(date__year=2031).exists()
        company_calendar.refresh_from_db()
        assert company_calendar.version == version

    def test_duplicate_dates_and_missing_header(self, personas, company_calendar):
        with pytest.raises(services.ImportRejected) as error:
            services.calendar_import(
                actor=personas.company_admin,
                calendar=company_calendar,
                data=b"date,kind\n2031-01-01,holiday\n2031-01-01,workday\n",
            )
        assert error.value.problems[0][0] == 3
        with pytest.raises(services.ImportRejected):
            services.calendar_import(
                actor=personas.company_admin,
                calendar=company_calendar,
                data=b"when,what\n2031-01-01,holiday\n",
            )

    def test_ical_events_become_holidays_and_multi_day_ones_expand(
        self, personas, company_calendar
    ):
        data = b"\r\n".join(
            [
                b"BEGIN:VCALENDAR",
                b"VERSION:2.0",
                b"PRODID:-//test//EN",
                b"BEGIN:VEVENT",
                b"UID:1",
                b"SUMMARY:\xe5\x9b\xbd\xe5\xba\x86\xe8\x8a\x82",  # 国庆节
                b"DTSTART;VALUE=DATE:20311001",
                b"DTEND;VALUE=DATE:20311008",
                b"END:VEVENT",
                b"BEGIN:VEVENT",
                b"UID:2",
                b"SUMMARY:\xe8\xa1\xa5\xe7\x8f\xad",  # 补班
                b"DTSTART;VALUE=DATE:20311011",
                b"END:VEVENT",
                b"END:VCALENDAR",
                b"",
            ]
        )
        result = services.calendar_import(
            actor=personas.company_admin, calendar=company_calendar, data=data, file_name="a.ics"
        )
        assert result.created == 8
        days = CalendarDay.objects.filter(calendar=company_calendar, date__year=2031)
        assert days.filter(kind=Kind.HOLIDAY).count() == 7
        assert days.get(kind=Kind.WORKDAY).date == date(2031, 10, 11)

    def test_a_broken_ical_file(self, personas, company_calendar):
        with pytest.raises(services.ImportRejected):
            services.calendar_import(
                actor=personas.company_admin,
                calendar=company_calendar,
                data=b"BEGIN:VCALENDAR\r\nnonsense",
                file_name="a.ics",
            )

    def test_outsider_cannot_import(self, personas, company_calendar):
        with pytest.raises(Http404):
            services.calendar_import(
                actor=personas.outsider, calendar=company_calendar, data=b"date,kind\n"
            )


class TestSchedules:
    def test_the_estate_override_wins_and_changes_are_seen(self, personas, company_calendar):
        company_id, estate_a = personas.company.pk, personas.estate_a.pk
        monday_evening = at(2026, 3, 2, 19, 0)
        schedule = selectors.schedule_for(company_id, estate_a)
        assert not schedule.is_open(monday_evening)
        assert selectors.schedule_for(company_id, estate_a) is schedule  # cached
        own = services.calendar_copy_for_estate(
            actor=personas.manager_a, calendar=company_calendar, estate=personas.estate_a
        )
        services.calendar_set_windows(
            actor=personas.manager_a, calendar=own, windows={0: [(time(8, 0), time(22, 0))]}
        )
        assert selectors.schedule_for(company_id, estate_a).is_open(monday_evening)
        assert not selectors.schedule_for(company_id, personas.estate_b.pk).is_open(monday_evening)
        services.calendar_day_add(
            actor=personas.manager_a, calendar=own, date=date(2026, 3, 2), kind=Kind.HOLIDAY
        )
        assert not selectors.schedule_for(company_id, estate_a).is_open(monday_evening)

    def test_without_a_calendar_the_built_in_default(self, personas):
        schedule = selectors.schedule_for(personas.company.pk, None)
        assert not schedule.is_open(at(2026, 10, 1, 10, 0))
        assert schedule.is_open(at(2026, 10, 10, 10, 0))
        assert selectors.schedule_for(personas.company.pk, None, always_open=True).always_open

    def test_read_once_a_minute_and_a_change_seen_at_once(
        self, personas, company_calendar, django_assert_num_queries
    ):
        company_id, estate_id = personas.company.pk, personas.estate_a.pk
        monday = at(2026, 3, 9, 10, 0)
        assert selectors.schedule_for(company_id, estate_id).is_open(monday)
        with django_assert_num_queries(0):
            selectors.schedule_for(company_id, estate_id)
        services.calendar_day_add(
            actor=personas.company_admin,
            calendar=company_calendar,
            date=monday.date(),
            kind=Kind.HOLIDAY,
        )
        assert not selectors.schedule_for(company_id, estate_id).is_open(monday)
        # Another process still holds the copy from before the change (no calendar saved:
        # the built-in week, open that Monday); it reads the versions again after a minute.
        copies = selectors._calendars._copies
        copies[(company_id, estate_id)] = (copies[(company_id, estate_id)][0], [])
        assert selectors.schedule_for(company_id, estate_id).is_open(monday)
        later = datetime.now(SHANGHAI) + timedelta(seconds=memo.SECONDS + 1)
        with time_machine.travel(later), django_assert_num_queries(1):
            assert not selectors.schedule_for(company_id, estate_id).is_open(monday)

    def test_missing_years(self, personas, company_calendar):
        company_id = personas.company.pk
        assert selectors.missing_calendar_years(company_id, date(2026, 9, 30)) == []
        assert selectors.missing_calendar_years(company_id, date(2026, 10, 1)) == [2027]
        services.calendar_day_add(
            actor=personas.company_admin,
            calendar=company_calendar,
            date=date(2027, 1, 1),
            kind=Kind.HOLIDAY,
        )
        assert selectors.missing_calendar_years(company_id, date(2026, 12, 1)) == []
        # Without any calendar the library's years decide.
        other = personas.other_company.pk
        assert selectors.missing_calendar_years(other, date(2026, 11, 1)) == [2027]
