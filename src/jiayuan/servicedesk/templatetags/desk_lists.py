"""The staff's lists of requests: the nearest-due badge, and the desk queue's rows.

Both are written in Python rather than in templates: a list draws them dozens of times a
page, and each variable a template resolves costs about as much as the whole Python line
(decisions §31). What they write is the same markup a template would.
"""

import html
from datetime import datetime, tzinfo

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext

from jiayuan.core.models import choice_labels
from jiayuan.servicedesk.clocks import nearest_due
from jiayuan.servicedesk.models import ServiceRequest
from jiayuan.servicedesk.selectors import QueueLine

register = template.Library()


def escape(text) -> str:
    """Django's escape() without its check of each argument for a lazy string, which the
    600-odd calls of a queue page paid about 1 ms for: the same characters escaped."""
    return html.escape(str(text))


def _time(at: datetime, words: str, zone: tzinfo) -> SafeString:
    """A <time> element: the machine-readable instant, the local minute on hover (what the
    `date` filter writes for "c" and "Y-m-d H:i")."""
    local = at.astimezone(zone)
    return mark_safe(  # noqa: S308 - the words are escaped; the rest is digits
        f'<time datetime="{local.isoformat()}" title="{local.isoformat(" ", "minutes")[:16]}">'
        f"{escape(words)}</time>"
    )


def due_badge_html(due_at: datetime | None, now: datetime, zone: tzinfo) -> SafeString:
    """Time left (or overdue) until `due_at`; nothing when no clock runs."""
    due = nearest_due(due_at, now)
    if due is None:
        return mark_safe("")
    badge = _time(due.at, due.words, zone)
    # A tone is a word of ours; the badge is escaped.
    return mark_safe(f'<span class="badge sd-due-{due.tone}">{badge}</span>')  # noqa: S308


@register.simple_tag(takes_context=True)
def due_badge(context, due_at):
    """The badge counted from the page's `now`, so every row of a list is measured from the
    same instant."""
    now = context.get("now") or timezone.now()
    return due_badge_html(due_at, now, timezone.get_current_timezone())


_ANY_PK = 2_147_483_647  # a number no other part of a detail page's address holds
_QUEUE_ROW = (
    '<tr class="desk-urgency-{urgency}">'
    '<td data-label="{l_number}"><a class="sd-number" href="{url}">{number}</a>{duplicate}</td>'
    '<td data-label="{l_kind}">{kind}<br><span class="muted small">{category}</span></td>'
    '<td data-label="{l_urgency}"><span class="badge sd-urgency-badge-{urgency}">'
    "{urgency_label}</span></td>"
    '<td data-label="{l_place}">{place}</td>'
    '<td data-label="{l_reporter}">{reporter}</td>'
    '<td data-label="{l_first}">{first_contact}</td>'
    '<td data-label="{l_handler}">{handler}</td>'
    '<td data-label="{l_status}"><span class="badge sd-status-{status}">{status_label}</span></td>'
    '<td data-label="{l_due}" class="desk-due">{due}</td>'
    '<td data-label="{l_age}">{age}</td>'
    "</tr>\n"
)


def _handler(line: QueueLine, nobody: str) -> str:
    if line.assignee:
        if line.team:
            name, team = escape(line.assignee), escape(line.team)
            return f'{name} <span class="muted small">{team}</span>'
        return escape(line.assignee)
    if line.team:
        return escape(line.team)
    return nobody


_QUEUE_COLUMNS = {
    "l_number": "Number",
    "l_kind": "Kind",
    "l_urgency": "Urgency",
    "l_place": "Place",
    "l_reporter": "Reporter",
    "l_first": "First-contact owner",
    "l_handler": "Handler",
    "l_status": "Status",
    "l_due": "Deadline",
    "l_age": "Age",
}


@register.simple_tag(takes_context=True)
def queue_rows(context, lines: list[QueueLine]):
    """The queue table's rows, one <tr> per line; each cell carries its column's name for
    the stacked phone layout. What every row shares is worked out once a page: the column
    names, the words, the detail address."""
    now = context.get("now") or timezone.now()
    zone = timezone.get_current_timezone()
    row_format = _QUEUE_ROW
    for key, label in _QUEUE_COLUMNS.items():
        words = escape(gettext(label)).replace("{", "{{").replace("}", "}}")
        row_format = row_format.replace(f"{{{key}}}", words)
    # A reverse() a row cost more than all the row's other cells.
    detail_url = escape(reverse("servicedesk:detail", args=[_ANY_PK]))
    # Translated outside the f-strings, where the message extractor would not see them.
    duplicate, nobody = escape(gettext("duplicate")), escape(gettext("nobody yet"))
    duplicate = f' <span class="badge badge-muted">{duplicate}</span>'
    nobody = f'<span class="muted">{nobody}</span>'
    dash = '<span class="muted">—</span>'
    kinds, categories, urgencies, statuses = (
        choice_labels(ServiceRequest, name) for name in ("kind", "category", "urgency", "status")
    )
    rows = []
    for line in lines:
        rows.append(
            row_format.format(
                urgency=escape(line.urgency),
                url=detail_url.replace(str(_ANY_PK), str(line.pk)),
                number=escape(line.number),
                duplicate=duplicate if line.is_duplicate else "",
                kind=escape(kinds.get(line.kind, line.kind)),
                category=escape(categories.get(line.category, line.category)),
                urgency_label=escape(urgencies.get(line.urgency, line.urgency)),
                place=escape(line.place or "—"),
                reporter=escape(line.reporter or "—"),
                first_contact=escape(line.first_contact) if line.first_contact else dash,
                handler=_handler(line, nobody),
                status=escape(line.status),
                status_label=escape(statuses.get(line.status, line.status)),
                due=due_badge_html(line.due_at, now, zone),
                age=_time(line.created_at, timesince(line.created_at, now), zone),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value is escaped above
