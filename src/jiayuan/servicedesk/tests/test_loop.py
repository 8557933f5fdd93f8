"""The closed loop of each kind, end to end through the services."""

import datetime as dt
from decimal import Decimal

import pytest

from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Handling, Kind, ReturnVisit, ServiceRequest, Status

pytestmark = pytest.mark.django_db


def owner_repair(p, **extra):
    return services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=Kind.REPAIR,
        category="plumbing",
        description="厨房水龙头漏水",
        unit=p.unit_a101,
        **extra,
    )


def test_a_repair_goes_round_the_whole_loop(personas):
    p = personas
    request = owner_repair(p)
    assert request.number.startswith("BX") and request.status == Status.SUBMITTED
    assert request.reporter == p.resident_a101 and request.channel == "portal"
    services.request_accept(actor=p.clerk_a, request=request)
    services.request_dispatch(actor=p.dispatcher_a, request=request, assignee=p.technician_a)
    request = services.request_arrive(actor=p.technician_a, request=request)
    assert request.status == Status.IN_PROGRESS and request.arrived_at is not None
    request = services.request_complete(
        actor=p.technician_a,
        request=request,
        work_notes="更换阀芯",
        is_paid=True,
        labour_fee="30",
        materials=[{"item": "阀芯", "unit_price": "25.50", "quantity": "2"}],
    )
    assert request.status == Status.COMPLETED
    assert request.charge_total == Decimal("81.00")
    request = services.request_confirm(actor=p.owner_a101, request=request)
    assert request.status == Status.CLOSED
    rating = services.request_rate(actor=p.owner_a101, request=request, overall=5)
    assert (rating.timeliness, rating.is_automatic) == (5, False)
    hop = Handling.objects.get(request=request)
    assert (hop.handler, hop.outcome) == (p.technician_a, Handling.Outcome.COMPLETED)
    assert hop.accepted_at and hop.arrived_at and hop.ended_at


def test_a_complaint_is_investigated_replied_and_reopened(personas):
    p = personas
    request = services.request_create(
        actor=p.clerk_a,
        estate=p.estate_a,
        kind=Kind.COMPLAINT,
        category="noise_neighbor",
        description="楼上装修噪音",
        reporter=p.resident_a101,
    )
    assert request.number.startswith("TS") and request.first_contact == p.clerk_a
    services.request_investigate(actor=p.clerk_a, request=request)
    services.request_reply(actor=p.clerk_a, request=request, reply="已与装修方沟通")
    request = services.request_reopen(actor=p.owner_a101, request=request, reason="还在吵")
    assert (request.status, request.reopen_count) == (Status.INVESTIGATING, 1)
    services.request_reply(actor=p.clerk_a, request=request, reply="已限定施工时间")
    request = services.request_confirm(actor=p.owner_a101, request=request)
    assert ReturnVisit.objects.filter(request=request).exists()


def test_an_unrated_request_is_closed_and_rated_automatically(personas, time_machine):
    p = personas
    time_machine.move_to(dt.datetime(2026, 6, 1, 9, tzinfo=dt.UTC))
    request = services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=Kind.INQUIRY,
        category="billing",
        description="物业费怎么交？",
    )
    services.request_reply(actor=p.clerk_a, request=request, reply="可在前台或线上缴纳")
    assert services.auto_close_due() == 0
    time_machine.move_to(dt.datetime(2026, 6, 3, 10, tzinfo=dt.UTC))
    assert services.auto_close_due() == 1
    assert services.auto_close_due() == 0
    request = ServiceRequest.objects.get(pk=request.pk)
    assert request.status == Status.CLOSED and request.auto_closed
    assert request.rating.is_automatic and request.rating.overall == 5
