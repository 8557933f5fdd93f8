"""The SLA where staff work: the clocks on a request's page (desk and technician), the
nearest due on the queue and on "my work" with the queue's due filter, the SLA check's
alerts in the staff's timeline, and the same over the API. Owners see none of it.

The clocks are the built-in policies' around-the-clock ones, so the times are exact: an
emergency repair reported at 10:00 is due to be accepted at 10:05, responded to at 10:10
and reached at 10:30; an urgent one is due to be accepted at 10:30."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from jiayuan.core.api_testing import ApiClient, field_errors
from jiayuan.core.models import AuditEvent
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Kind, ServiceRequest, Urgency
from jiayuan.servicedesk.tests.test_views_owner import english
from jiayuan.sla import deadlines
from jiayuan.sla.events import SlaEvent

pytestmark = pytest.mark.django_db
SH = ZoneInfo("Asia/Shanghai")
REPORTED = dt.datetime(2026, 6, 1, 10, 0, tzinfo=SH)  # a Monday


def minutes_after(n: int) -> dt.datetime:
    return REPORTED + dt.timedelta(minutes=n)


def report(p, *, urgency=Urgency.EMERGENCY, estate=None, actor=None, **extra):
    values = {
        "actor": actor or p.clerk_a,
        "estate": estate or p.estate_a,
        "kind": Kind.REPAIR,
        "category": "plumbing",
        "urgency": urgency,
        "description": "水管爆裂",
        "unit": p.unit_a101,
        "reporter": p.resident_a101,
    } | extra
    return services.request_create(**values)


def fresh(request) -> ServiceRequest:
    return ServiceRequest.objects.get(pk=request.pk)


def desk_page(p, request, user=None):
    client = english(p.client_for(user or p.clerk_a))
    return client.get(reverse("servicedesk:detail", args=[request.pk])).content.decode()


@pytest.fixture
def emergency(personas, time_machine):
    time_machine.move_to(REPORTED, tick=False)
    return report(personas)


# ----------------------------------------------------------------------------- request pages


class TestClocksOnTheRequestPage:
    def test_a_running_clock_shows_the_time_left_and_when_it_is_due(
        self, personas, emergency, time_machine
    ):
        time_machine.move_to(minutes_after(2), tick=False)
        page = desk_page(personas, emergency)
        assert "Deadlines" in page
        assert "Acceptance" in page and "3 min left" in page and "due 06-01 10:05" in page
        assert "Arrival on site" in page and "28 min left" in page
        assert "sd-due-ok" in page

    def test_a_missed_clock_says_by_how_much(self, personas, emergency, time_machine):
        time_machine.move_to(minutes_after(40), tick=False)
        page = desk_page(personas, emergency)
        assert "Overdue by 35 min" in page and "Overdue by 10 min" in page
        assert "sd-due-late" in page

    def test_a_met_clock_says_how_long_it_took(self, personas, emergency, time_machine):
        time_machine.move_to(minutes_after(3), tick=False)
        services.request_accept(actor=personas.clerk_a, request=emergency)
        time_machine.move_to(minutes_after(4), tick=False)
        page = desk_page(personas, emergency)
        assert "Met in 3 min" in page and "sd-due-done" in page
        # The first response is still running: 6 minutes left.
        assert "6 min left" in page

    def test_a_clock_on_hold_is_paused(self, personas, emergency, time_machine):
        p = personas
        services.request_dispatch(actor=p.dispatcher_a, request=emergency, assignee=p.technician_a)
        time_machine.move_to(minutes_after(20), tick=False)
        services.request_hold(actor=p.technician_a, request=fresh(emergency), reason="等配件")
        time_machine.move_to(minutes_after(90), tick=False)
        page = desk_page(p, emergency)
        # Arrival counted 20 of its 30 minutes before the hold; the pause does not count.
        assert "Paused, 10 min left" in page and "sd-due-paused" in page

    def test_the_technician_sees_the_clocks_of_their_order(self, personas, emergency, time_machine):
        p = personas
        services.request_dispatch(actor=p.dispatcher_a, request=emergency, assignee=p.technician_a)
        time_machine.move_to(minutes_after(12), tick=False)
        client = english(p.client_for(p.technician_a))
        page = client.get(reverse("servicedesk:tech_detail", args=[emergency.pk])).content
        page = page.decode()
        assert "Deadlines" in page and "Arrival on site" in page and "18 min left" in page

    def test_the_clocks_are_read_in_one_query(self, personas, emergency):
        client = english(personas.client_for(personas.clerk_a))
        url = reverse("servicedesk:detail", args=[emergency.pk])
        client.get(url)
        with CaptureQueriesContext(connection) as queries:
            client.get(url)
        reads = [q["sql"] for q in queries if "sla_requesttarget" in q["sql"]]
        assert len(reads) == 1

    def test_the_owner_sees_no_clock(self, personas, emergency, time_machine):
        p = personas
        time_machine.move_to(minutes_after(40), tick=False)
        client = english(p.client_for(p.owner_a101))
        page = client.get(reverse("servicedesk:owner_detail", args=[emergency.pk])).content
        page = page.decode()
        assert "Deadlines" not in page and "Overdue" not in page and "sd-due-" not in page

    def test_an_outsider_gets_404(self, personas, emergency):
        client = personas.client_for(personas.outsider)
        assert client.get(reverse("servicedesk:detail", args=[emergency.pk])).status_code == 404
        tech = reverse("servicedesk:tech_detail", args=[emergency.pk])
        assert client.get(tech).status_code == 404


# ----------------------------------------------------------------------------- timeline


class TestAlertsOnTheTimeline:
    def test_staff_read_the_warning_and_the_escalation(self, personas, emergency, time_machine):
        p = personas
        # Warned at 80% of the five minutes to accept; breached and escalated after 10:05.
        assert deadlines.check_due(now=minutes_after(4)) >= 1
        assert deadlines.check_due(now=minutes_after(6)) >= 1
        time_machine.move_to(minutes_after(7), tick=False)
        client = english(p.client_for(p.clerk_a))
        page = client.get(reverse("servicedesk:timeline", args=[emergency.pk])).content.decode()
        assert "Due soon: Acceptance is due at 06-01 10:05; " in page
        assert "Overdue: Acceptance; escalated to " in page
        entries = client.get(reverse("servicedesk:detail", args=[emergency.pk])).context["timeline"]
        sla = [e for e in entries if e.text.startswith(("Due soon", "Overdue"))]
        assert sla and {e.tone for e in sla} == {"problem"}

    def test_the_owner_reads_none_of_it(self, personas, emergency, time_machine):
        p = personas
        deadlines.check_due(now=minutes_after(40))
        assert AuditEvent.objects.filter(
            target_id=str(emergency.pk), code__in=[SlaEvent.WARNED, SlaEvent.ESCALATED]
        ).exists()
        time_machine.move_to(minutes_after(41), tick=False)
        client = english(p.client_for(p.owner_a101))
        for name in ("servicedesk:owner_detail", "servicedesk:owner_timeline"):
            page = client.get(reverse(name, args=[emergency.pk])).content.decode()
            assert "Due soon" not in page and "Overdue" not in page and "escalated" not in page
        timeline = ApiClient(p.owner_a101).get(f"/requests/{emergency.pk}/timeline").json()
        assert not any("Overdue" in e["text"] or "Due soon" in e["text"] for e in timeline)

    def test_an_alert_without_readable_details_still_reads(self, personas, emergency):
        from jiayuan.core.audit import record_event

        record_event(
            actor=None,
            code=SlaEvent.WARNED,
            target=emergency,
            estate=emergency.estate,
            after={"target": "teleport", "due_at": "soon", "to": ["x"]},
        )
        client = english(personas.client_for(personas.clerk_a))
        page = client.get(reverse("servicedesk:timeline", args=[emergency.pk])).content.decode()
        assert "Due soon: a deadline" in page


# ----------------------------------------------------------------------------- lists


@pytest.fixture
def due_rows(personas, time_machine):
    """At 10:10: the emergency is overdue, the urgent repair due within the hour, the
    normal one (two working hours to accept) later, the cancelled one has no clock."""
    p = personas
    time_machine.move_to(REPORTED, tick=False)
    rows = {
        "late": report(p),
        "soon": report(p, urgency=Urgency.URGENT),
        "later": report(p, urgency=Urgency.NORMAL),
        "none": report(p, urgency=Urgency.NORMAL),
        "other_estate": report(
            p,
            estate=p.estate_b,
            actor=p.clerk_b,
            unit=p.unit_b101,
            reporter=None,
            contact_phone="13500000000",
        ),
    }
    services.request_cancel(actor=p.clerk_a, request=rows["none"], reason="重复报修")
    time_machine.move_to(minutes_after(10), tick=False)
    return rows


def numbers_on(response) -> set[str]:
    return {row.number for row in response.context["page"].object_list}


class TestQueue:
    @pytest.mark.parametrize(
        ("due", "expected"), [("overdue", {"late"}), ("soon", {"soon"}), ("", None)]
    )
    def test_the_due_filter(self, personas, due_rows, due, expected):
        response = english(personas.client_for(personas.clerk_a)).get(
            reverse("servicedesk:queue"), {"due": due}
        )
        assert response.context["filters"].errors == {}
        expected = expected or {"late", "soon", "later", "none"}
        assert numbers_on(response) == {due_rows[name].number for name in expected}

    def test_a_bad_due_filter_is_reported_and_left_out(self, personas, due_rows):
        response = english(personas.client_for(personas.clerk_a)).get(
            reverse("servicedesk:queue"), {"due": "yesterday"}
        )
        assert response.context["filters"].errors["due"]
        assert len(numbers_on(response)) == 4

    def test_each_row_shows_its_nearest_due(self, personas, due_rows):
        page = (
            english(personas.client_for(personas.clerk_a))
            .get(reverse("servicedesk:queue"))
            .content.decode()
        )
        assert '<span class="badge sd-due-late">' in page and "Overdue by 5 min" in page
        assert '<span class="badge sd-due-soon">' in page and "20 min left" in page
        assert '<span class="badge sd-due-ok">' in page and "1 h 50 min left" in page
        # Four rows, three running clocks: the cancelled request has no badge.
        assert page.count('class="desk-due"><span class="badge') == 3
        assert page.count('class="desk-due"></td>') == 1

    def test_the_filter_keeps_to_the_estate(self, personas, due_rows):
        response = personas.client_for(personas.clerk_b).get(
            reverse("servicedesk:queue"), {"due": "overdue"}
        )
        assert numbers_on(response) == {due_rows["other_estate"].number}
        outsider = personas.client_for(personas.outsider).get(
            reverse("servicedesk:queue"), {"due": "overdue"}
        )
        assert numbers_on(outsider) == set()

    def test_the_technician_sees_the_nearest_due_of_their_orders(self, personas, due_rows):
        p = personas
        for name in ("late", "soon"):
            services.request_dispatch(
                actor=p.dispatcher_a, request=due_rows[name], assignee=p.technician_a
            )
        page = english(p.client_for(p.technician_a)).get(reverse("servicedesk:tech_list"))
        page = page.content.decode()
        # Dispatching met acceptance; arrival is what runs now (20 and 110 minutes left).
        assert "20 min left" in page and "1 h 50 min left" in page
        assert "sd-due-soon" in page


# ----------------------------------------------------------------------------- API


class TestApi:
    def test_the_detail_lists_the_clocks_for_staff(self, personas, emergency, time_machine):
        p = personas
        time_machine.move_to(minutes_after(3), tick=False)
        services.request_accept(actor=p.clerk_a, request=emergency)
        time_machine.move_to(minutes_after(15), tick=False)
        body = ApiClient(p.clerk_a).get(f"/requests/{emergency.pk}").json()
        assert body["due_at"] is not None
        targets = {t["target"]: t for t in body["targets"]}
        assert list(targets) == ["accept", "response", "arrival", "resolution"]
        accept = targets["accept"]
        assert accept["state"] == "met" and accept["tone"] == "done" and accept["on_time"]
        assert accept["words"] == "Met in 3 min" and accept["elapsed_minutes"] == 3
        assert accept["met_at"] is not None and accept["due_at"] is None
        response = targets["response"]
        assert response["state"] == "running" and response["tone"] == "late"
        assert response["words"] == "Overdue by 5 min" and response["minutes"] == 10
        assert response["elapsed_minutes"] == 15 and response["clock"] == "calendar"
        assert response["label"] == "First response" and response["on_time"] is None

    def test_the_owner_gets_no_clock(self, personas, time_machine):
        p = personas
        time_machine.move_to(REPORTED, tick=False)
        mine = report(p, actor=p.owner_a101, reporter=None)
        owner = ApiClient(p.owner_a101)
        assert owner.get(f"/requests/{mine.pk}").json()["targets"] == []
        assert owner.get(f"/requests/{mine.pk}").json()["due_at"] is None
        assert [r["due_at"] for r in owner.get("/requests").json()["items"]] == [None]

    def test_the_list_filters_by_due(self, personas, due_rows):
        desk = ApiClient(personas.clerk_a)
        overdue = desk.get("/requests", estate=personas.estate_a.pk, due="overdue").json()
        assert [r["id"] for r in overdue["items"]] == [due_rows["late"].pk]
        assert overdue["items"][0]["due_at"]
        soon = desk.get("/requests", due="soon").json()
        assert [r["id"] for r in soon["items"]] == [due_rows["soon"].pk]

    def test_a_bad_due_filter_is_422(self, personas, due_rows):
        response = ApiClient(personas.clerk_a).get("/requests", due="yesterday")
        assert response.status_code == 422
        assert "overdue" in field_errors(response)["due"]

    def test_an_outsider_gets_404(self, personas, emergency):
        assert ApiClient(personas.outsider).get(f"/requests/{emergency.pk}").status_code == 404
        listed = ApiClient(personas.outsider).get("/requests", due="overdue").json()
        assert listed["count"] == 0
