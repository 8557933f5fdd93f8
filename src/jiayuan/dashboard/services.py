"""The dashboards' writes: the record of who took numbers out, and rebuilding the rollups
on request (the job keeps them current on its own)."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _

from jiayuan.core.audit import record_event
from jiayuan.dashboard import rollups
from jiayuan.dashboard.events import DashboardEvent
from jiayuan.dashboard.periods import Period
from jiayuan.org.models import Company
from jiayuan.sla.services import is_company_wide_manager


def record_export(*, actor, scope, chart: str, period: Period) -> None:
    record_event(
        actor=actor,
        code=DashboardEvent.EXPORTED,
        target=scope.team or scope.estate,
        estate=scope.estate,
        company=scope.estate.company if scope.estate else Company(pk=scope.company_id),
        after={"chart": chart, "period": period.code},
    )


def rollups_rebuild(
    *, actor, company: Company, progress: Callable[[int, int], None] = lambda done, total: None
) -> int:
    """Rebuild every figure of the company from its records (after an import of history,
    say); company admins only. The number of estate-months rebuilt."""
    if actor is not None and not is_company_wide_manager(actor, company.pk):
        raise PermissionDenied(_("Only the company's administrators may rebuild its figures."))
    months = rollups.refresh(company, rebuild_all=True, progress=progress)
    record_event(
        actor=actor,
        code=DashboardEvent.ROLLUPS_REBUILT,
        company=company,
        after={"months": months},
    )
    return months
