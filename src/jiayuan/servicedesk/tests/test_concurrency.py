"""People acting on the same request at the same moment, on real threads with their own
database connections: the row lock and the version make one of them win and tell the
other what happened; intake numbers stay unique and consecutive."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import at_once, build_personas, make_staff
from jiayuan.servicedesk import services
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import Handling, Kind, RequestCounter, ServiceRequest, Status
from jiayuan.servicedesk.services import RequestChanged

# On SQLite, on a file database as the application uses (the root conftest says why).
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("file_database")]
MORNING = dt.datetime(2026, 6, 1, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))


def winner_and_loser(results) -> tuple:
    won = [r for r in results if not isinstance(r, Exception)]
    lost = [r for r in results if isinstance(r, Exception)]
    assert len(won) == 1, results
    assert len(lost) == 1 and isinstance(lost[0], RequestChanged), results
    return won[0], lost[0]


def repair(p) -> ServiceRequest:
    return services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=Kind.REPAIR,
        category="plumbing",
        description="厨房水龙头漏水",
        unit=p.unit_a101,
    )


def test_two_dispatchers_at_once_one_wins_and_the_other_is_told():
    p = build_personas()
    second_dispatcher = make_staff("dispatcher_a2", "郑调度", p.estate_a, Role.DISPATCHER)
    request = repair(p)

    results = at_once(
        lambda: services.request_dispatch(
            actor=p.dispatcher_a, request=request, assignee=p.technician_a
        ),
        lambda: services.request_dispatch(actor=second_dispatcher, request=request, team=p.team_a),
    )

    won, lost = winner_and_loser(results)
    # The message says what the request has become, so the person knows to look again.
    assert str(Status.DISPATCHED.label) in lost.messages[0]
    saved = ServiceRequest.objects.get(pk=request.pk)
    assert (saved.status, saved.version) == (Status.DISPATCHED, 2)
    assert (saved.assignee_id, saved.team_id) == (won.assignee_id, won.team_id)
    hop = Handling.objects.get(request=request)  # one hop, not two
    assert hop.ended_at is None and hop.handler_id == won.assignee_id
    assert AuditEvent.objects.filter(code=DeskEvent.DISPATCHED.value).count() == 1


def test_two_people_acting_on_the_same_version_the_second_is_refused():
    p = build_personas()
    request = services.request_dispatch(
        actor=p.dispatcher_a, request=repair(p), assignee=p.technician_a
    )
    seen = request.version  # what both pages showed

    results = at_once(
        lambda: services.request_take(actor=p.technician_a, request=request, expected_version=seen),
        lambda: services.request_transfer(
            actor=p.dispatcher_a,
            request=request,
            reason="换班组",
            team=p.team_a,
            expected_version=seen,
        ),
    )

    won, _lost = winner_and_loser(results)
    saved = ServiceRequest.objects.get(pk=request.pk)
    assert saved.version == seen + 1
    assert (saved.assignee_id, saved.team_id) == (won.assignee_id, won.team_id)
    assert Handling.objects.filter(request=request, ended_at__isnull=True).count() == 1
    assert AuditEvent.objects.filter(target_id=str(request.pk)).count() == 3  # +1 only


def test_the_owner_cancelling_while_the_desk_dispatches():
    p = build_personas()
    request = repair(p)

    results = at_once(
        lambda: services.request_cancel(actor=p.owner_a101, request=request),
        lambda: services.request_dispatch(
            actor=p.dispatcher_a, request=request, assignee=p.technician_a
        ),
    )

    won, _lost = winner_and_loser(results)
    saved = ServiceRequest.objects.get(pk=request.pk)
    assert saved.status == won.status and saved.version == 2
    # A cancelled request keeps no open hop; a dispatched one has exactly one.
    open_hops = Handling.objects.filter(request=request, ended_at__isnull=True).count()
    assert open_hops == (1 if saved.status == Status.DISPATCHED else 0)


def test_a_stale_page_is_refused_and_writes_nothing():
    p = build_personas()
    request = repair(p)
    seen = request.version
    services.request_accept(actor=p.clerk_a, request=request)
    events = AuditEvent.objects.count()
    with pytest.raises(RequestChanged):
        services.request_dispatch(
            actor=p.dispatcher_a,
            request=request,
            assignee=p.technician_a,
            expected_version=seen,
        )
    saved = ServiceRequest.objects.get(pk=request.pk)
    assert (saved.status, saved.version) == (Status.ACCEPTED, seen + 1)
    assert AuditEvent.objects.count() == events
    assert not Handling.objects.exists()


def test_eight_intakes_at_once_get_unique_consecutive_numbers():
    p = build_personas()
    with time_machine.travel(MORNING, tick=False):
        results = at_once(*[lambda: repair(p)] * 8)
    assert not [r for r in results if isinstance(r, Exception)], results
    numbers = sorted(r.number for r in results)
    assert numbers == [f"BX20260601-{n:04d}" for n in range(1, 9)]
    assert ServiceRequest.objects.count() == 8
    assert RequestCounter.objects.get(company=p.company, prefix="BX").last == 8
