"""The dashboards over the API: the same numbers and chart tables as the pages, for a
company, an estate, a team or a person, for a month (2026-11), a quarter (2026-Q4) or a
year (2026)."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema

from jiayuan.core.access import VIEW, get_visible
from jiayuan.core.api_schemas import READ_ERRORS
from jiayuan.dashboard import charts, selectors
from jiayuan.dashboard.periods import Period, parse_period
from jiayuan.org.models import Estate, Team

router = Router(tags=["dashboard"])
PERIOD_HELP = "A month (2026-11), a quarter (2026-Q4) or a year (2026); this month if left out."


class TimeOut(Schema):
    median_minutes: float | None
    p90_minutes: float | None


class StageOut(Schema):
    stage: str
    label: str
    mean_minutes: float | None
    requests: int


class ChartOut(Schema):
    name: str
    title: str
    kind: str
    columns: list[str]
    rows: list[list]


class DashboardOut(Schema):
    title: str
    period: str
    received: int
    counted: int = Field(description="Received less duplicates, cancelled and declined.")
    resolved: int
    resolution_rate: float | None
    first_contact_rate: float | None
    first_time_fix_rate: float | None
    reopen_rate: float | None
    complaints: int
    repeat_complaints: int
    average_rating: float | None
    rated: int
    csi: float | None
    on_time: dict[str, float | None] = Field(description="Percent on time per SLA target.")
    times: dict[str, TimeOut]
    stages: list[StageOut]
    charts: list[ChartOut]


class StaffKpisOut(Schema):
    name: str
    period: str
    assigned: int
    handled: int
    returned: int
    median_response_minutes: float | None
    median_arrival_minutes: float | None
    median_resolution_minutes: float | None
    on_time_rate: float | None
    first_time_fix_rate: float | None
    average_rating: float | None
    complaints: int
    visit_satisfied_rate: float | None


def _period(text: str | None) -> Period:
    try:
        return parse_period(text)
    except ValueError:
        raise ValidationError(
            {"period": [_("Write a month (2026-11), a quarter (2026-Q4) or a year (2026).")]}
        ) from None


def _dashboard(request, scope: selectors.Scope, period: Period) -> dict:
    user = request.auth
    kpis = selectors.kpis_of(user, scope, period)
    csi = selectors.csi_of(user, scope, period, kpis)
    found = charts.scope_charts(user, scope, period, kpis, csi)
    return {
        "title": scope.title,
        "period": period.code,
        **{name: kpis.totals[name] for name in ("received", "counted", "resolved", "complaints")},
        "repeat_complaints": kpis.repeat_complaints,
        "rated": kpis.rated,
        "resolution_rate": kpis.resolution_rate,
        "first_contact_rate": kpis.first_contact_rate,
        "first_time_fix_rate": kpis.first_time_fix_rate,
        "reopen_rate": kpis.reopen_rate,
        "average_rating": kpis.average_rating,
        "csi": csi.score if csi else None,
        "on_time": {target: kpis.on_time(target) for target in selectors.TARGETS},
        "times": {
            measure: {"median_minutes": median, "p90_minutes": p90}
            for measure, (median, p90) in kpis.times.items()
        },
        "stages": [
            {"stage": stage, "label": str(label), "mean_minutes": mean, "requests": count}
            for stage, label, mean, count in kpis.funnel
        ],
        "charts": [chart.as_json() for chart in found],
    }


@router.get("/companies/{company_id}", response={200: DashboardOut, **READ_ERRORS})
def company(request, company_id: int, period: str | None = Query(None, description=PERIOD_HELP)):
    """The company's estates that the caller manages, added up."""
    scope = selectors.company_scope(request.auth, company_id)
    if scope is None:
        raise Http404
    return _dashboard(request, scope, _period(period))


def _estate_scope(user, estate_id: int) -> selectors.Scope:
    estate = get_visible(Estate.objects.select_related("company"), user, VIEW, pk=estate_id)
    if not selectors.may_see_estate(user, estate):
        raise Http404
    return selectors.Scope(estate.company_id, estate)


@router.get("/estates/{estate_id}", response={200: DashboardOut, **READ_ERRORS})
def estate(request, estate_id: int, period: str | None = Query(None, description=PERIOD_HELP)):
    return _dashboard(request, _estate_scope(request.auth, estate_id), _period(period))


@router.get("/teams/{team_id}", response={200: DashboardOut, **READ_ERRORS})
def team(request, team_id: int, period: str | None = Query(None, description=PERIOD_HELP)):
    found = get_visible(Team.objects.select_related("estate"), request.auth, VIEW, pk=team_id)
    if not selectors.may_see_estate(request.auth, found.estate):
        raise Http404
    scope = selectors.Scope(found.estate.company_id, found.estate, found)
    return _dashboard(request, scope, _period(period))


@router.get("/estates/{estate_id}/people/{user_id}", response={200: StaffKpisOut, **READ_ERRORS})
def person(
    request,
    estate_id: int,
    user_id: int,
    period: str | None = Query(None, description=PERIOD_HELP),
):
    """One staff member's KPIs in the estate, from their hops of the handler trail."""
    scope = _estate_scope(request.auth, estate_id)
    member = selectors.staff_member(request.auth, scope.estate, user_id)
    if member is None:
        raise Http404
    chosen = _period(period)
    (kpis,) = selectors.people_kpis(request.auth, member, scope.estate, chosen)
    return {
        "name": kpis.name,
        "period": chosen.code,
        "assigned": kpis.assigned,
        "handled": kpis.handled,
        "returned": kpis.returned,
        "median_response_minutes": kpis.median("response"),
        "median_arrival_minutes": kpis.median("arrival"),
        "median_resolution_minutes": kpis.median("resolution"),
        "on_time_rate": kpis.on_time_rate,
        "first_time_fix_rate": kpis.first_time_fix_rate,
        "average_rating": kpis.average_rating,
        "complaints": kpis.complaints,
        "visit_satisfied_rate": kpis.visit_satisfied_rate,
    }
