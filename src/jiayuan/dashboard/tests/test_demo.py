"""The demo's months of history make the dashboards alive, with a slow team to find."""

import pytest

from jiayuan.dashboard import rollups, selectors
from jiayuan.dashboard.demo import HISTORY_DAYS, build_dashboard_demo, delete_dashboard_demo
from jiayuan.dashboard.facts import facts_of
from jiayuan.dashboard.models import MEASURES, MonthStat
from jiayuan.dashboard.periods import add_months, month_of
from jiayuan.org.demo import SMALL_PLAN, build_demo
from jiayuan.servicedesk.models import ServiceRequest


@pytest.mark.django_db
def test_demo_history_fills_months_and_shows_the_slow_team():
    company = build_demo(plan=SMALL_PLAN)
    build_dashboard_demo(company)
    requests = ServiceRequest.objects.filter(company=company)
    assert requests.count() > HISTORY_DAYS  # at least a request a day
    months = set(MonthStat.objects.filter(company=company).values_list("month", flat=True))
    assert len(months) >= 6
    numbers = list(requests.values_list("number", flat=True))
    assert len(numbers) == len(set(numbers))
    # The residential estate's slow team takes longest to arrive.
    estate = company.estates.order_by("pk").first()
    scope = selectors.Scope(company.pk, estate)
    last = month_of(max(months))
    period = type(last)("year", add_months(last.end, -12), last.end)
    admin = company.memberships.filter(role="company_admin").first().user
    groups = [g for g in selectors.by_group(admin, scope, period, "team") if g.key]
    arrivals = {
        g.name: g.kpis.totals["arrival_minutes"] / max(1, g.kpis.arrival_count) for g in groups
    }
    slowest = max(arrivals, key=arrivals.get)
    assert arrivals[slowest] > 1.5 * min(v for v in arrivals.values() if v)
    # What the rollups hold equals the records, month by month.
    for month in sorted(months)[:2]:
        start, end = rollups.month_bounds(month)
        raw = dict.fromkeys(MEASURES, 0)
        for _row, record in rollups.read_records(estate.pk, start, end):
            for name, value in facts_of(record).items():
                raw[name] += value
        stored = selectors.kpis_of(admin, scope, month_of(month)).totals
        assert stored == raw
    delete_dashboard_demo(company)
    assert not MonthStat.objects.filter(company=company).exists()
