import datetime as dt

import pytest

from jiayuan.core.scheduler import registered_jobs
from jiayuan.servicedesk import services
from jiayuan.servicedesk.models import Kind, ServiceRequest, Status
from jiayuan.servicedesk.tasks import auto_close_finished

pytestmark = pytest.mark.django_db


def test_the_auto_close_job_is_scheduled_every_ten_minutes():
    jobs = {job.name: job for job in registered_jobs()}
    assert jobs["servicedesk_auto_close"].cron == "*/10 * * * *"
    assert jobs["servicedesk_auto_close"].task is auto_close_finished


def test_the_job_closes_due_requests_once(personas, time_machine):
    p = personas
    time_machine.move_to(dt.datetime(2026, 7, 1, 9, tzinfo=dt.UTC))
    request = services.request_create(
        actor=p.owner_a101,
        estate=p.estate_a,
        kind=Kind.SUGGESTION,
        category="greening",
        description="建议在中心花园多种几棵树",
    )
    services.request_reply(actor=p.clerk_a, request=request, reply="已转园林组评估")
    time_machine.move_to(dt.datetime(2026, 7, 3, 8, tzinfo=dt.UTC))
    assert auto_close_finished.enqueue().return_value == 0  # 47 hours: not yet
    time_machine.move_to(dt.datetime(2026, 7, 3, 10, tzinfo=dt.UTC))
    assert auto_close_finished.enqueue().return_value == 1
    assert auto_close_finished.enqueue().return_value == 0
    request = ServiceRequest.objects.get(pk=request.pk)
    assert (request.status, request.auto_closed) == (Status.CLOSED, True)
    assert request.rating.is_automatic
