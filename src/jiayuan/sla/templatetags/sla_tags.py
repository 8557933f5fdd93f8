"""The business-calendar warning on the managers' home page."""

from django import template
from django.utils import timezone

from jiayuan.core.access import roles_in_estate
from jiayuan.core.roles import MANAGERS
from jiayuan.sla.selectors import missing_calendar_years

register = template.Library()


@register.inclusion_tag("sla/_missing_years.html", takes_context=True)
def missing_holidays_warning(context, estate):
    """Years without public holidays in the company's calendars, for its managers."""
    user = context["request"].user
    if estate is None or not (user.is_superuser or roles_in_estate(user, estate) & MANAGERS):
        return {"missing_years": []}
    return {"missing_years": missing_calendar_years(estate.company_id, timezone.localdate())}
