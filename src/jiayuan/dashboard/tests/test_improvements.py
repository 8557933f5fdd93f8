"""From the dashboard to an improvement action: the bottleneck links to a new action with
the estate, the KPI and the period filled in, and at the check stage the action's
baseline and value after are measured by the dashboard."""

import datetime as dt

import time_machine
from django.urls import reverse

from jiayuan.dashboard import rollups, selectors
from jiayuan.dashboard.kpis import Kpi
from jiayuan.supervision import services as supervision
from jiayuan.supervision.models import Stage

from .test_kpis import JUNE, SHANGHAI, month  # noqa: F401 - the fixture

LATER = dt.datetime(2026, 9, 10, 10, tzinfo=SHANGHAI)


def test_kpi_value_reads_the_dashboards_numbers(month, personas):  # noqa: F811
    rollups.refresh(personas.company)
    june = selectors.kpis_of(personas.manager_a, selectors.Scope(personas.company.pk), JUNE)
    june_days = (dt.date(2026, 6, 1), dt.date(2026, 6, 30))
    value = selectors.kpi_value(
        personas.manager_a, personas.estate_a, Kpi.RESOLUTION_RATE, *june_days
    )
    assert value == june.resolution_rate == 50.0
    # Someone who may not read the estate's numbers measures nothing.
    outsider = selectors.kpi_value(
        personas.outsider, personas.estate_a, Kpi.RESOLUTION_RATE, *june_days
    )
    assert outsider is None


def test_the_bottleneck_links_to_a_prefilled_action(month, personas):  # noqa: F811
    rollups.refresh(personas.company)
    client = personas.client_for(personas.manager_a)
    page = client.get(reverse("dashboard:estate", args=[personas.estate_a.pk]) + "?period=2026-06")
    _label, _minutes, kpi = page.context["kpis"].bottleneck
    link = (
        f"{reverse('supervision:action_create')}?estate={personas.estate_a.pk}&amp;"
        f"problem_kind=kpi&amp;kpi={kpi}&amp;period_start=2026-06-01&amp;period_end=2026-06-30"
    )
    assert link in page.content.decode()
    form = client.get(link.replace("&amp;", "&")).context["form"]
    assert form.initial["kpi"] == kpi
    assert form.initial["period_end"] == "2026-06-30"
    # A desk clerk reads no dashboard and gets no such link.
    assert client.get(reverse("dashboard:estate", args=[personas.estate_b.pk])).status_code == 404


def test_the_check_stage_is_measured_from_the_dashboard(month, personas):  # noqa: F811
    rollups.refresh(personas.company)
    with time_machine.travel(LATER, tick=False):
        action = supervision.action_create(
            actor=personas.manager_a,
            estate=personas.estate_a,
            title="提高解决率",
            problem_kind="kpi",
            kpi=Kpi.RESOLUTION_RATE,
            period_start=dt.date(2026, 6, 1),
            period_end=dt.date(2026, 6, 30),
            owner=personas.manager_a,
            due_on=dt.date(2026, 9, 30),
            plan="每周复盘未解决工单",
        )
        action = supervision.action_advance(
            actor=personas.manager_a, action=action, plan=action.plan
        )
        action = supervision.action_advance(
            actor=personas.manager_a, action=action, done="复盘会已开", done_on=dt.date(2026, 7, 5)
        )
        assert action.status == Stage.CHECK
        client = personas.client_for(personas.manager_a)
        form = client.get(reverse("supervision:action_detail", args=[action.pk])).context["form"]
    assert form.initial["baseline_value"] == 50.0
    # Nothing came in from August on: the dashboard has no rate to give.
    assert form.initial["after_value"] is None
    assert form.initial["measured_on"] == LATER.date()
