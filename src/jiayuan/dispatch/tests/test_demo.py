"""The demo's technicians have profiles and shifts, and lift repairs go to the grab pool."""

import pytest

from jiayuan.dispatch import selectors
from jiayuan.dispatch.demo import build_dispatch_demo, delete_dispatch_demo
from jiayuan.dispatch.models import DispatchRule, Mode, TechnicianProfile
from jiayuan.org.demo import SMALL_PLAN, build_demo
from jiayuan.sla.demo import build_sla_demo


@pytest.mark.django_db
def test_every_demo_technician_gets_a_profile_with_skills_and_shifts():
    company = build_demo(plan=SMALL_PLAN)
    build_sla_demo(company)
    build_dispatch_demo(company)
    profiles = TechnicianProfile.objects.filter(estate__company=company)
    assert profiles.exists()
    assert all(p.skills and p.shifts.count() == 7 for p in profiles)
    leads = [p for p in profiles if p.team and p.team.lead_id == p.user_id]
    assert leads and all(3 in p.skills.values() for p in leads)
    first = company.estates.order_by("pk").first()
    assert selectors.mode_for(selectors.rules_of(first.pk), "elevator") == Mode.GRAB
    delete_dispatch_demo(company)
    assert not TechnicianProfile.objects.filter(estate__company=company).exists()
    assert not DispatchRule.objects.exists()
