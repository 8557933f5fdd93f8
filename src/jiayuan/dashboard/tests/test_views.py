"""The dashboard pages, exports and report: managers read them, everyone else gets a 404,
exports are .xlsx files equal to the page's tables and recorded, and the number of queries
does not grow with the history."""

import datetime as dt
from io import BytesIO

import pytest
import time_machine
from django.urls import reverse
from django.utils.translation import gettext
from openpyxl import load_workbook

from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import make_staff
from jiayuan.dashboard import rollups
from jiayuan.dashboard.events import DashboardEvent
from jiayuan.org.models import TeamMember
from jiayuan.servicedesk import services as desk
from jiayuan.servicedesk.models import Kind

from .test_kpis import SHANGHAI

NOW = dt.datetime(2026, 6, 20, 10, tzinfo=SHANGHAI)
PERIOD = "?period=2026-06"


def make_requests(p, count, *, hostile=False):
    for index in range(count):
        request = desk.request_create(
            actor=p.owner_a101,
            estate=p.estate_a,
            kind=Kind.REPAIR,
            category="plumbing" if index % 2 else "electrical",
            description=f"第{index}次报修：厨房水管漏水",
            unit=p.unit_a101,
        )
        desk.request_accept(actor=p.clerk_a, request=request)
        request.refresh_from_db()
        desk.request_dispatch(
            actor=p.dispatcher_a, request=request, assignee=p.technician_a, team=p.team_a
        )
    rollups.refresh(p.company)


@pytest.fixture
def history(personas):
    TeamMember.objects.get_or_create(team=personas.team_a, user=personas.technician_a)
    with time_machine.travel(NOW, tick=False):
        make_requests(personas, 4)
        yield personas


def pages(p):
    return [
        reverse("dashboard:company"),
        reverse("dashboard:estate", args=[p.estate_a.pk]),
        reverse("dashboard:team", args=[p.team_a.pk]),
        reverse("dashboard:person", args=[p.estate_a.pk, p.technician_a.pk]),
        reverse("dashboard:report", args=[p.estate_a.pk]),
        reverse("dashboard:estate_export", args=[p.estate_a.pk, "by_category"]),
        reverse("dashboard:team_export", args=[p.team_a.pk, "people"]),
    ]


def test_manager_reads_every_level(history):
    client = history.client_for(history.manager_a)
    for url in pages(history):
        response = client.get(url + PERIOD)
        assert response.status_code == 200, url
    page = client.get(reverse("dashboard:estate", args=[history.estate_a.pk]) + PERIOD)
    text = page.content.decode()
    assert 'data-chart="by_category"' in text
    assert history.team_a.name in text
    assert page.context["kpis"].received == 4


@pytest.mark.parametrize(
    "persona", ["outsider", "clerk_b", "technician_a", "owner_a101", "stranger"]
)
def test_others_get_404_on_every_page(history, persona):
    client = history.client_for(getattr(history, persona))
    for url in pages(history)[1:]:
        assert client.get(url + PERIOD).status_code == 404, (persona, url)


def test_the_other_companys_manager_sees_only_their_own_company(history):
    client = history.client_for(history.outsider)
    page = client.get(reverse("dashboard:company") + PERIOD)
    assert page.context["scope"].company_id == history.other_company.pk
    assert page.context["kpis"].received == 0
    assert history.estate_a.name not in page.content.decode()


@pytest.mark.parametrize("persona", ["clerk_a", "technician_a", "owner_a101", "stranger"])
def test_company_page_and_its_exports_need_a_manager(history, persona):
    client = history.client_for(getattr(history, persona))
    assert client.get(reverse("dashboard:company")).status_code == 404
    export = reverse("dashboard:company_export", args=["by_estate"])
    assert client.get(export + PERIOD).status_code == 404
    assert not AuditEvent.objects.filter(code=DashboardEvent.EXPORTED.value).exists()


def test_company_page_is_for_managers(history):
    assert (
        history.client_for(history.company_admin).get(reverse("dashboard:company")).status_code
        == 200
    )


def test_estate_manager_does_not_see_the_other_estate(history):
    other_manager = make_staff("manager_b_only", "王经理", history.estate_b, Role.ESTATE_MANAGER)
    client = history.client_for(other_manager)
    url = reverse("dashboard:estate", args=[history.estate_a.pk])
    assert client.get(url).status_code == 404
    page = client.get(reverse("dashboard:company") + PERIOD)
    assert page.status_code == 200
    assert page.context["kpis"].received == 0


def test_export_is_the_table_and_is_recorded(history):
    client = history.client_for(history.manager_a)
    url = reverse("dashboard:estate_export", args=[history.estate_a.pk, "by_category"])
    response = client.get(url + PERIOD)
    assert response["Content-Disposition"].startswith("attachment")
    sheet = load_workbook(BytesIO(b"".join(response.streaming_content))).active
    rows = [list(row) for row in sheet.iter_rows(values_only=True)]
    assert rows[1] == ["Group", "Requests"] or len(rows[1]) == 2
    assert sorted(row[1] for row in rows[2:]) == [2, 2]
    event = AuditEvent.objects.get(code=DashboardEvent.EXPORTED.value)
    assert event.after == {"chart": "by_category", "period": "2026-06"}
    missing = reverse("dashboard:estate_export", args=[history.estate_a.pk, "no_such_chart"])
    assert client.get(missing).status_code == 404


def test_hostile_team_name_stays_text_in_the_export(history):
    history.team_a.name = '=HYPERLINK("http://evil","x")<script>'
    history.team_a.save()
    client = history.client_for(history.manager_a)
    url = reverse("dashboard:estate_export", args=[history.estate_a.pk, "by_team"])
    sheet = load_workbook(BytesIO(b"".join(client.get(url + PERIOD).streaming_content))).active
    cell = sheet.cell(row=3, column=1)
    assert cell.data_type == "s"
    page = client.get(reverse("dashboard:estate", args=[history.estate_a.pk]) + PERIOD)
    assert b'<script>"' not in page.content and b"=HYPERLINK" in page.content


@pytest.mark.parametrize("period", ["2026-13", "abc", "1999", "2026-Q5", "９９９９"])
def test_a_bad_period_falls_back_to_this_month_with_a_message(history, period):
    client = history.client_for(history.manager_a)
    response = client.get(
        reverse("dashboard:estate", args=[history.estate_a.pk]), {"period": period}
    )
    assert response.status_code == 200
    assert response.context["period"].code == "2026-06"
    shown = [str(m) for m in response.context["messages"]]
    assert shown == [gettext("That period is not one we know; showing this month.")]


def test_queries_do_not_grow_with_history(history, django_assert_max_num_queries):
    client = history.client_for(history.manager_a)
    url = reverse("dashboard:estate", args=[history.estate_a.pk]) + PERIOD
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(url)  # the switcher's estates are read once, then kept (decisions §35)
    with CaptureQueriesContext(connection) as few:
        client.get(url)
    with time_machine.travel(NOW, tick=False):
        make_requests(history, 12)
    with CaptureQueriesContext(connection) as many:
        client.get(url)
    assert len(many) == len(few)
