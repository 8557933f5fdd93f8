"""Two SLA checks at the same moment (two schedulers' ticks, or a job run twice by two
workers), on real threads with their own connections: every warning is sent once."""

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.core.testing import at_once, build_personas
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Kind, Urgency
from jiayuan.sla.deadlines import check_due
from jiayuan.sla.events import SlaEvent
from jiayuan.sla.models import SlaAlert

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.usefixtures("file_database")]
MORNING = dt.datetime(2026, 11, 23, 9, 0, tzinfo=ZoneInfo("Asia/Shanghai"))
REQUESTS = 6


def test_two_checks_at_once_send_each_warning_once():
    p = build_personas()
    with time_machine.travel(MORNING, tick=False):
        for n in range(REQUESTS):
            services.request_create(
                actor=p.owner_a101,
                estate=p.estate_a,
                kind=Kind.REPAIR,
                category="plumbing",
                urgency=Urgency.EMERGENCY,
                description=f"水管爆裂 {n}",
                unit=p.unit_a101,
            )
    # Four minutes in, every emergency's acceptance (due in five) is to be warned.
    warn_time = MORNING + dt.timedelta(minutes=4)
    results = at_once(lambda: check_due(now=warn_time), lambda: check_due(now=warn_time))
    assert not [r for r in results if isinstance(r, Exception)], results
    assert sum(results) == REQUESTS
    assert SlaAlert.objects.count() == REQUESTS
    assert AuditEvent.objects.filter(code=SlaEvent.WARNED).count() == REQUESTS
    # Nobody holds them yet: the estate's dispatcher and desk are told, once each time.
    assert Notification.objects.filter(recipient=p.dispatcher_a, kind="sla").count() == REQUESTS
