"""The demo as `jiayuan demo` and `jiayuan start` build it: the organisation (org.demo),
then what each app keeps in it. One place so a later app adds its part here, and removal
runs in the reverse order so nothing is left pointing at what went first."""

from collections.abc import Callable

from django.db import transaction

from jiayuan.dashboard.demo import build_dashboard_demo, delete_dashboard_demo
from jiayuan.dispatch.demo import build_dispatch_demo, delete_dispatch_demo
from jiayuan.org.demo import (
    DEMO_COMPANY_CODE,
    FULL_PLAN,
    SMALL_PLAN,
    DemoPlan,
    build_demo,
    delete_demo,
)
from jiayuan.org.models import Company
from jiayuan.quality.demo import build_quality_demo, delete_quality_demo
from jiayuan.servicedesk.demo import build_service_demo, delete_service_demo
from jiayuan.sla.demo import build_sla_demo, count_demo_clocks, delete_sla_demo
from jiayuan.supervision.demo import build_supervision_demo, delete_supervision_demo
from jiayuan.training.demo import build_training_demo, delete_training_demo


def build(
    plan: DemoPlan = FULL_PLAN, progress: Callable[[str], None] = lambda line: None
) -> Company:
    """The whole demo, all or nothing; refuses (DemoError) if it already exists."""
    with transaction.atomic():
        company = build_demo(plan=plan, progress=progress)
        build_sla_demo(company)
        build_dispatch_demo(company)
        build_service_demo(company, small=plan is SMALL_PLAN, progress=progress)
        count_demo_clocks(company)
        build_quality_demo(company)
        build_supervision_demo(company)
        build_training_demo(company)
        build_dashboard_demo(company)
    return company


def delete() -> bool:
    """Remove the demo company with everything in it; False if there is none."""
    company = Company.objects.filter(code=DEMO_COMPANY_CODE).first()
    if company is None:
        return False
    with transaction.atomic():
        delete_dashboard_demo(company)
        delete_training_demo(company)
        delete_supervision_demo(company)
        delete_quality_demo(company)
        delete_sla_demo(company)
        delete_dispatch_demo(company)
        delete_service_demo(company)
        return delete_demo()
