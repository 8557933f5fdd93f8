"""The demo's dashboards: six months of finished history before the desk's own two months
(dashboard.history), one team of the residential estate slower than the others so the
dashboards have a bottleneck to show, and the figures computed once."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.db.models import Min
from django.utils import timezone

from jiayuan.core.roles import Role
from jiayuan.dashboard import history, rollups
from jiayuan.dashboard.models import DayStat, MonthStat, RollupRun, TimeBucket
from jiayuan.org.models import Company, Membership, Residency, Team
from jiayuan.servicedesk.models import ServiceRequest

HISTORY_DAYS = 180
SEED = 20261206
# Requests a day per household: about one a year and a half per flat, as desks see.
PER_HOUSEHOLD_DAY = 1 / 160


def build_dashboard_demo(company: Company) -> None:
    first = ServiceRequest.objects.filter(company=company).aggregate(first=Min("created_at"))[
        "first"
    ]
    end = timezone.localtime(first or timezone.now()).date()
    zone = timezone.get_default_timezone()
    start = datetime(end.year, end.month, end.day, tzinfo=zone) - timedelta(days=HISTORY_DAYS)
    numbers = defaultdict(int)  # request numbers are the company's, across its estates
    for index, estate in enumerate(company.estates.order_by("pk")):
        households = list(
            Residency.objects.filter(unit__estate=estate, moved_out_on__isnull=True)
            .order_by("unit_id", "pk")
            .values_list("unit_id", "unit__building_id", "resident_id", "resident__user_id")
        )
        desk = list(
            Membership.objects.filter(company=company, role=Role.SERVICE_DESK, is_active=True)
            .filter(estate=estate)
            .order_by("user_id")
            .values_list("user_id", flat=True)
        )
        teams = {
            team.pk: sorted(team.memberships.values_list("user_id", flat=True))
            for team in Team.objects.filter(estate=estate).order_by("pk")
            if team.memberships.exists()
        }
        if not households or not desk or not teams:
            continue
        plan = history.EstateHistory(
            company_id=company.pk,
            estate_id=estate.pk,
            households=households,
            desk=desk,
            teams=teams,
            slow_team=sorted(teams)[1] if index == 0 and len(teams) > 1 else None,
            numbers=numbers,
        )
        units = len({row[0] for row in households})
        history.generate(
            plan,
            start=start,
            days=HISTORY_DAYS,
            per_day=max(2.0, units * PER_HOUSEHOLD_DAY),
            seed=SEED + index,
        )
    rollups.refresh(company, rebuild_all=True)


def delete_dashboard_demo(company: Company) -> None:
    for model in (MonthStat, DayStat, TimeBucket, RollupRun):
        model.objects.filter(company=company).delete()
