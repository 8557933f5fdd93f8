"""The demo's service desk: a living desk in every state, with a believable history."""

from datetime import timedelta

import pytest
from django.core.management import call_command
from django.utils import timezone

from jiayuan import demo
from jiayuan.accounts.models import User
from jiayuan.core.models import AuditEvent
from jiayuan.org.demo import SMALL_PLAN
from jiayuan.org.models import Company
from jiayuan.servicedesk import selectors
from jiayuan.servicedesk.demo import REQUEST_TIMES, SMALL_REQUESTS
from jiayuan.servicedesk.events import DeskEvent
from jiayuan.servicedesk.models import (
    Handling,
    Rating,
    ReplyTemplate,
    RequestCounter,
    ReturnVisit,
    ServiceRequest,
    Status,
)
from jiayuan.sla.deadlines import check_due
from jiayuan.sla.demo import CLOSE_CALLS, SETTLED_BEFORE
from jiayuan.sla.models import RequestTarget, Target

pytestmark = pytest.mark.django_db


@pytest.fixture
def built():
    started = timezone.now()
    company = demo.build(plan=SMALL_PLAN)
    return company, started


def test_the_small_demo_has_a_desk_in_many_states(built):
    company, _started = built
    requests = ServiceRequest.objects.filter(company=company)
    assert requests.count() >= SMALL_REQUESTS
    statuses = set(requests.values_list("status", flat=True))
    assert {Status.SUBMITTED, Status.DISPATCHED, Status.CLOSED} <= statuses
    assert len(statuses) >= 6
    assert set(requests.values_list("kind", flat=True)) >= {"repair", "complaint", "inquiry"}
    assert ReplyTemplate.objects.filter(company=company).count() == 5
    # Closed requests are rated (by the owner or, when nobody answered, automatically).
    closed = requests.filter(status=Status.CLOSED).exclude(kind="praise")
    assert closed.exists()
    assert Rating.objects.filter(request__in=closed).count() == closed.count()


def test_the_history_lies_in_the_past_and_in_order(built):
    company, started = built
    # The SLA demo's emergencies are reported as the demo is made, to be watched live.
    live = ServiceRequest.objects.filter(company=company, created_at__gte=started)
    assert live.count() == len(CLOSE_CALLS)
    # The dashboards' months of older, finished history (dashboard.demo) are written in
    # bulk, without the intake's event; the desk's own requests all have it.
    made_at_the_desk = AuditEvent.objects.filter(
        company=company, code=DeskEvent.CREATED
    ).values_list("target_id", flat=True)
    desk = ServiceRequest.objects.filter(pk__in=[int(pk) for pk in made_at_the_desk])
    older = ServiceRequest.objects.filter(company=company).exclude(pk__in=desk.values("pk"))
    assert older.exists()
    assert older.filter(created_at__gte=desk.earliest("created_at").created_at).count() == 0
    for request in desk.exclude(pk__in=live):
        times = [getattr(request, name) for name in REQUEST_TIMES]
        assert all(t is None or t < started for t in times), request.number
        assert request.created_at > started - timedelta(days=61)
        for later in ("accepted_at", "dispatched_at", "completed_at", "closed_at"):
            value = getattr(request, later)
            assert value is None or value >= request.created_at, (request.number, later)
    hops = Handling.objects.filter(request__company=company).exclude(request__in=live)
    assert all(hop.assigned_at < started for hop in hops)
    # The requests' events; the reply templates were written today, as setup.
    events = (
        AuditEvent.objects.filter(company=company, code__startswith="servicedesk.")
        .exclude(code__startswith="servicedesk.template")
        .exclude(target_id__in=[str(pk) for pk in live.values_list("pk", flat=True)])
    )
    assert events.exists() and not events.filter(at__gte=started).exists()


def test_numbers_carry_the_day_and_the_counters_continue(built):
    company, _started = built
    requests = list(ServiceRequest.objects.filter(company=company))
    assert len({r.number for r in requests}) == len(requests)
    for request in requests:
        assert request.number[2:10] == f"{timezone.localdate(request.created_at):%Y%m%d}"
    today = timezone.localdate()
    for counter in RequestCounter.objects.filter(company=company, day=today):
        taken = ServiceRequest.objects.filter(
            company=company, number__startswith=f"{counter.prefix}{today:%Y%m%d}-"
        ).count()
        assert counter.last == taken


def test_the_demo_people_find_their_work(built):
    company, _started = built
    owners = User.objects.filter(resident__company=company, resident__user__isnull=False)
    assert any(selectors.my_requests(owner).exists() for owner in owners)
    desk = User.objects.get(username="demo_desk1")
    assert selectors.request_queue(desk).exists()
    assert (
        selectors.due_return_visits(desk).exists()
        or ReturnVisit.objects.exclude(done_at=None).exists()
    )


def test_reset_rebuilds_the_same_desk_and_a_second_build_adds_nothing(built):
    company, _started = built
    before = sorted(ServiceRequest.objects.values_list("kind", "status", "description"))
    call_command("demo", "--small")  # exists already: nothing to do
    assert ServiceRequest.objects.count() == len(before)
    call_command("demo", "--small", "--reset")
    assert not Company.objects.filter(pk=company.pk).exists()
    after = sorted(ServiceRequest.objects.values_list("kind", "status", "description"))
    assert after == before


def test_the_demo_has_live_sla_clocks_and_a_warning_minutes_away(built):
    company, started = built
    clocks = RequestTarget.objects.filter(request__company=company)
    running = clocks.filter(state=RequestTarget.State.RUNNING)
    assert running.filter(due_at__gt=timezone.now()).exists()  # countdowns
    met = clocks.filter(state=RequestTarget.State.MET)
    assert met.filter(on_time=True).exists() and met.filter(on_time=False).exists()
    # What was overdue long ago is settled history, not a flood of alerts today.
    assert not running.filter(next_check_at__lt=started - SETTLED_BEFORE).exists()
    # The emergency waiting to be accepted: warned within 4 minutes, escalated at 5.
    waiting = running.get(request__created_at__gte=started, target=Target.ACCEPT)
    assert waiting.warn_at - waiting.request.created_at == timedelta(minutes=4)
    # Read on the clock itself: the demo's history, written against the real time of day,
    # may hold other clocks that fall due in the same minutes, so counts would vary.
    check_due(now=waiting.warn_at)
    waiting.refresh_from_db()
    assert waiting.warned_at == waiting.warn_at and waiting.breached_at is None
    check_due(now=waiting.due_at)
    waiting.refresh_from_db()
    assert waiting.breached_at == waiting.due_at and waiting.escalation_level == 1
    assert check_due(now=waiting.due_at) == 0  # each step once
