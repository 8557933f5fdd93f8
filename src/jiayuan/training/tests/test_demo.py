"""The demo's training: courses, past sessions with scores (some failing) in both estates,
certificates for every technician and guard with the promised states."""

import time

import pytest
from django.utils import timezone

from jiayuan.core.roles import Role
from jiayuan.dispatch.demo import build_dispatch_demo
from jiayuan.org.demo import SMALL_PLAN, build_demo
from jiayuan.org.models import Membership
from jiayuan.sla.demo import build_sla_demo
from jiayuan.training import selectors
from jiayuan.training.demo import build_training_demo, delete_training_demo
from jiayuan.training.models import Attendance, Certificate, CertificateWarning, Course, Session


@pytest.mark.django_db
def test_the_demo_builds_quickly_with_the_promised_training_data():
    company = build_demo(plan=SMALL_PLAN)
    build_sla_demo(company)
    build_dispatch_demo(company)
    started = time.monotonic()
    build_training_demo(company)
    assert time.monotonic() - started < 10
    assert Course.objects.filter(company=company).count() == 6
    estates = set(Session.objects.filter(company=company).values_list("estate_id", flat=True))
    assert estates == set(company.estates.values_list("pk", flat=True))
    scored = Attendance.objects.filter(session__company=company, score__isnull=False)
    assert scored.filter(passed=False).exists() and scored.filter(passed=True).exists()
    today = timezone.localdate()
    rows = selectors.certificate_list(
        Membership.objects.get(user__username="demo_admin").user, today=today, soon_days=60
    )
    states = [c.state for c in rows]
    assert states.count("expired") == 1 and states.count("expiring") == 2
    field_staff = Membership.objects.filter(
        company=company, role__in=[Role.TECHNICIAN, Role.SECURITY]
    ).values_list("user_id", flat=True)
    assert set(field_staff) <= set(rows.values_list("holder_id", flat=True))
    warned = CertificateWarning.objects.filter(certificate__company=company)
    assert warned.values("certificate").distinct().count() == 1
    delete_training_demo(company)
    assert not Course.objects.filter(company=company).exists()
    assert not Certificate.objects.filter(company=company).exists()
