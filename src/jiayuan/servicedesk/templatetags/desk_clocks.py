"""The nearest-due badge of a request on the staff's lists."""

from django import template
from django.utils import timezone

from jiayuan.servicedesk.clocks import nearest_due

register = template.Library()


@register.inclusion_tag("servicedesk/_due_badge.html", takes_context=True)
def due_badge(context, due_at):
    """Time left (or overdue) until `due_at`, counted from the page's `now` so every row of
    a list is measured from the same instant; nothing when no clock runs."""
    return {"due": nearest_due(due_at, context.get("now") or timezone.now())}
