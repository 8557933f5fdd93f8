"""Small formatting helpers of the dashboard pages."""

from django import template

from jiayuan.dashboard.charts import in_hours

register = template.Library()


@register.filter
def hours(minutes):
    """Minutes as hours with one decimal, or a dash when there is nothing to show."""
    value = in_hours(minutes)
    return "—" if value is None else f"{value:.1f}"


@register.filter
def percent(value):
    return "—" if value is None else f"{value:.1f}%"


@register.filter
def number(value, places=1):
    return "—" if value is None else f"{value:.{places}f}"


@register.simple_tag
def export_url(scope, chart_name, period):
    """The .xlsx export of a chart of this scope and period."""
    from django.urls import reverse

    if scope.team is not None:
        url = reverse("dashboard:team_export", args=[scope.team.pk, chart_name])
    elif scope.estate is not None:
        url = reverse("dashboard:estate_export", args=[scope.estate.pk, chart_name])
    else:
        url = reverse("dashboard:company_export", args=[chart_name])
    return f"{url}?period={period.code}"


@register.filter
def median(person, measure):
    return person.median(measure)


@register.filter
def p90(person, measure):
    return person.p90(measure)
