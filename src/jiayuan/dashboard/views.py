"""/dashboard/: company → estate → team → person, for a month, a quarter or a year; each
chart's table as .xlsx; an estate's printable monthly service report. Managers only: the
company view adds up the estates the manager sees, and every other page answers 404 to
whoever may not read that estate's numbers."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404
from django.shortcuts import render
from django.utils.translation import gettext as _

from jiayuan.core.access import ADD, VIEW, can_in_estate, get_visible
from jiayuan.dashboard import charts, selectors, services
from jiayuan.dashboard.periods import Period, parse_period, period_choices
from jiayuan.org.models import Estate, Team
from jiayuan.supervision.models import ImprovementAction


def _period(request) -> Period:
    try:
        return parse_period(request.GET.get("period"))
    except ValueError:
        messages.error(request, _("That period is not one we know; showing this month."))
        return parse_period(None)


def _company_scope(request) -> selectors.Scope:
    if request.estate is None:
        raise Http404
    scope = selectors.company_scope(request.user, request.estate.company_id)
    if scope is None:
        raise Http404
    return scope


def _estate_scope(request, pk: int) -> selectors.Scope:
    estate = get_visible(Estate.objects.select_related("company"), request.user, VIEW, pk=pk)
    if not selectors.may_see_estate(request.user, estate):
        raise Http404
    return selectors.Scope(estate.company_id, estate)


def _team_scope(request, pk: int) -> selectors.Scope:
    team = get_visible(Team.objects.select_related("estate__company"), request.user, VIEW, pk=pk)
    if not selectors.may_see_estate(request.user, team.estate):
        raise Http404
    return selectors.Scope(team.estate.company_id, team.estate, team)


def _charts(request, scope: selectors.Scope, period: Period, kpis, csi) -> list[charts.Chart]:
    found = charts.scope_charts(request.user, scope, period, kpis, csi)
    if scope.team is not None:
        people = selectors.people_kpis(
            request.user, selectors.team_people(scope.team), scope.estate, period
        )
        found.insert(2, charts.people_chart(people))
    return found


def _render_scope(request, scope: selectors.Scope, *, drill: list | None = None, people=None):
    period = _period(request)
    kpis = selectors.kpis_of(request.user, scope, period)
    csi = selectors.csi_of(request.user, scope, period, kpis)
    return render(
        request,
        "dashboard/scope.html",
        {
            "scope": scope,
            "period": period,
            "choices": period_choices(),
            "kpis": kpis,
            "charts": _charts(request, scope, period, kpis, csi),
            "backlog": selectors.backlog(request.user, scope),
            "drill": drill or [],
            "csi": csi,
            "fresh_at": selectors.freshness(scope.company_id),
            "people": sorted((people or {}).items(), key=lambda item: item[1]),
            "may_act": scope.estate is not None
            and can_in_estate(request.user, ImprovementAction, ADD, scope.estate),
        },
    )


@login_required
def company(request):
    scope = _company_scope(request)
    return _render_scope(request, scope, drill=list(scope.estates))


@login_required
def estate(request, pk: int):
    scope = _estate_scope(request, pk)
    teams = list(Team.objects.filter(estate=scope.estate).order_by("name"))
    return _render_scope(request, scope, drill=teams)


@login_required
def team(request, pk: int):
    scope = _team_scope(request, pk)
    return _render_scope(request, scope, people=selectors.team_people(scope.team))


@login_required
def person(request, estate_pk: int, user_pk: int):
    scope = _estate_scope(request, estate_pk)
    member = selectors.staff_member(request.user, scope.estate, user_pk)
    if member is None:
        raise Http404
    period = _period(request)
    (kpis,) = selectors.people_kpis(request.user, member, scope.estate, period)
    return render(
        request,
        "dashboard/person.html",
        {
            "scope": scope,
            "period": period,
            "choices": period_choices(),
            "person": kpis,
        },
    )


def _export(request, scope: selectors.Scope, name: str):
    period = _period(request)
    kpis = selectors.kpis_of(request.user, scope, period)
    csi = selectors.csi_of(request.user, scope, period, kpis)
    chart = next((c for c in _charts(request, scope, period, kpis, csi) if c.name == name), None)
    if chart is None:
        raise Http404
    heading = f"{scope.title} · {chart.title} · {period.label}"
    services.record_export(actor=request.user, scope=scope, chart=name, period=period)
    return FileResponse(
        charts.workbook_of(chart, heading),
        as_attachment=True,
        filename=f"{scope.title}-{chart.title}-{period.code}.xlsx",
    )


@login_required
def company_export(request, name: str):
    scope = _company_scope(request)
    return _export(request, scope, name)


@login_required
def estate_export(request, pk: int, name: str):
    return _export(request, _estate_scope(request, pk), name)


@login_required
def team_export(request, pk: int, name: str):
    return _export(request, _team_scope(request, pk), name)


@login_required
def report(request, pk: int):
    """The estate's monthly service report, laid out for printing."""
    scope = _estate_scope(request, pk)
    period = _period(request)
    kpis = selectors.kpis_of(request.user, scope, period)
    csi = selectors.csi_of(request.user, scope, period, kpis)
    return render(
        request,
        "dashboard/report.html",
        {
            "scope": scope,
            "period": period,
            "kpis": kpis,
            "charts": _charts(request, scope, period, kpis, csi),
            "backlog": selectors.backlog(request.user, scope),
            "low_ratings": selectors.low_ratings(request.user, scope, period),
            "csi": csi,
        },
    )
