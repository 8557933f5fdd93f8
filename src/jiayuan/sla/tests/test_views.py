"""The calendar pages: managers reach them, everyone else gets a 404; the forms call the
services and show their refusals; the home page warns about a year without holidays."""

from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from jiayuan.sla import services
from jiayuan.sla.models import BusinessCalendar, CalendarDay

pytestmark = pytest.mark.django_db
SHANGHAI = ZoneInfo("Asia/Shanghai")


def english(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


@pytest.fixture
def calendar(personas):
    with time_machine.travel(datetime(2026, 3, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        return services.calendar_create(actor=personas.company_admin, company=personas.company)


@pytest.fixture
def day(calendar):
    return CalendarDay.objects.get(calendar=calendar, date=date(2026, 10, 1))


def pages(calendar, day):
    pk = calendar.pk
    return [
        reverse("sla:calendar_list"),
        reverse("sla:calendar_detail", args=[pk]),
        reverse("sla:calendar_edit", args=[pk]),
        reverse("sla:calendar_hours", args=[pk]),
        reverse("sla:calendar_import", args=[pk]),
        reverse("sla:day_create", args=[pk]),
        reverse("sla:day_edit", args=[pk, day.pk]),
        reverse("sla:day_delete", args=[pk, day.pk]),
        reverse("sla:calendar_delete", args=[pk]),
    ]


def test_managers_see_every_page(personas, calendar, day):
    for user in (personas.company_admin, personas.manager_a):
        client = english(personas.client_for(user))
        for url in pages(calendar, day)[:2]:
            assert client.get(url).status_code == 200, url
    admin = english(personas.client_for(personas.company_admin))
    for url in pages(calendar, day):
        assert admin.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["outsider", "owner_a101", "technician_a", "clerk_a"])
def test_everyone_else_gets_404(personas, calendar, day, persona):
    client = personas.client_for(getattr(personas, persona))
    list_url, *detail_urls = pages(calendar, day)
    for url in detail_urls:
        assert client.get(url).status_code == 404, url
    if persona == "outsider":
        # A manager of another company: their own company's (empty) list, none of ours.
        response = client.get(list_url)
        assert response.status_code == 200
        assert calendar.name not in response.text
    else:
        assert client.get(list_url).status_code == 404
        create = client.post(reverse("sla:calendar_create"), {"what": "company"})
        assert create.status_code == 404
    assert client.post(reverse("sla:calendar_seed", args=[calendar.pk])).status_code == 404


def test_an_estate_manager_reads_but_does_not_change_the_company_calendar(personas, calendar, day):
    client = personas.client_for(personas.manager_a)
    response = client.get(reverse("sla:calendar_detail", args=[calendar.pk]))
    assert reverse("sla:calendar_hours", args=[calendar.pk]) not in response.text
    assert (
        client.post(
            reverse("sla:calendar_edit", args=[calendar.pk]),
            {"name": "x", "time_zone": "Asia/Shanghai"},
        ).status_code
        == 403
    )


def test_the_detail_lists_the_days_of_a_year(personas, calendar):
    client = personas.client_for(personas.company_admin)
    response = client.get(reverse("sla:calendar_detail", args=[calendar.pk]) + "?year=2026")
    assert "国庆节调休" in response.text
    assert "2026-10-10" in response.text


def test_setting_hours_through_the_form(personas, calendar):
    client = english(personas.client_for(personas.company_admin))
    url = reverse("sla:calendar_hours", args=[calendar.pk])
    response = client.post(url, {"day_0": "09:00-12:00，13:00-17:30", "day_5": "9:00-24:00"})
    assert response.status_code == 302
    assert calendar.windows.count() == 3
    response = client.post(url, {"day_0": "12:00-09:00"})
    assert response.status_code == 200
    assert "each window must end after it starts" in response.text
    response = client.post(url, {"day_1": "morning"})
    assert "Write windows as 08:30-12:00" in response.text
    assert calendar.windows.count() == 3


def test_adding_a_day_through_the_form(personas, calendar):
    client = english(personas.client_for(personas.company_admin))
    url = reverse("sla:day_create", args=[calendar.pk])
    response = client.post(
        url, {"date": "2027-01-01", "kind": "holiday", "name": "元旦", "follows_weekday": "0"}
    )
    assert response.status_code == 302
    assert response["Location"].endswith("?year=2027")
    response = client.post(
        url, {"date": "2027-01-01", "kind": "holiday", "name": "", "follows_weekday": "0"}
    )
    assert "already in the calendar" in response.text


def test_import_reports_every_bad_row(personas, calendar):
    client = english(personas.client_for(personas.company_admin))
    url = reverse("sla:calendar_import", args=[calendar.pk])
    bad = SimpleUploadedFile("d.csv", b"date,kind,name\n2027-02-30,holiday,x\n", "text/csv")
    response = client.post(url, {"file": bad})
    assert response.status_code == 400
    assert "Nothing was imported" in response.text
    assert "Row 2" in response.text
    good = SimpleUploadedFile("d.csv", b"date,kind,name\n2027-01-01,holiday,x\n", "text/csv")
    response = client.post(url, {"file": good})
    assert response.status_code == 200
    assert CalendarDay.objects.filter(calendar=calendar, date=date(2027, 1, 1)).exists()


def test_seed_and_create_buttons(personas):
    client = english(personas.client_for(personas.company_admin))
    response = client.post(reverse("sla:calendar_create"), {"what": "company"})
    assert response.status_code == 302
    calendar = BusinessCalendar.objects.get()
    CalendarDay.objects.filter(calendar=calendar).delete()
    response = client.post(reverse("sla:calendar_seed", args=[calendar.pk]), {"year": "2026"})
    assert response.status_code == 302
    assert CalendarDay.objects.filter(calendar=calendar, date__year=2026).count() > 30
    manager = personas.client_for(personas.manager_a)
    assert manager.post(reverse("sla:calendar_create"), {"what": "estate"}).status_code == 302
    assert BusinessCalendar.objects.filter(estate=personas.estate_a).exists()
    assert manager.post(reverse("sla:calendar_create"), {"what": "company"}).status_code == 403


def test_the_home_page_warns_managers_about_a_missing_year(personas, calendar):
    with time_machine.travel(datetime(2026, 11, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        manager = english(personas.client_for(personas.manager_a))
        response = manager.get(reverse("core:home"))
        assert "No public holidays are entered for 2027 yet" in response.text
        clerk = english(personas.client_for(personas.clerk_a))
        assert "No public holidays" not in clerk.get(reverse("core:home")).text
    with time_machine.travel(datetime(2026, 6, 2, 9, 0, tzinfo=SHANGHAI), tick=False):
        assert "No public holidays" not in manager.get(reverse("core:home")).text


def test_pages_are_in_chinese_by_default(personas, calendar):
    client = personas.client_for(personas.company_admin)
    response = client.get(reverse("sla:calendar_list"))
    assert "工作日历" in response.text or "日历" in response.text
