"""The staff's lists of requests: the nearest-due badge, and the desk queue's rows.

Both are written in Python rather than in templates: a list draws them dozens of times a
page, and each variable a template resolves costs about as much as the whole Python line
(decisions §31). What they write is the same markup a template would.
"""

from datetime import datetime, tzinfo

from django import template
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe
from django.utils.timesince import timesince
from django.utils.translation import gettext

from jiayuan.servicedesk.clocks import nearest_due

register = template.Library()


def _time(at: datetime, words: str, zone: tzinfo) -> SafeString:
    """A <time> element: the machine-readable instant, the local minute on hover (what the
    `date` filter writes for "c" and "Y-m-d H:i")."""
    local = at.astimezone(zone)
    return mark_safe(  # noqa: S308 - the words are escaped; the rest is digits
        f'<time datetime="{local.isoformat()}" title="{local:%Y-%m-%d %H:%M}">'
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


def _handler(req, nobody: str) -> str:
    if req.assignee:
        if req.team:
            name, team = escape(req.assignee.get_short_name()), escape(req.team.name)
            return f'{name} <span class="muted small">{team}</span>'
        return escape(req.assignee.get_short_name())
    if req.team:
        return escape(req.team.name)
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
def queue_rows(context, requests):
    """The queue table's rows, one <tr> per request; each cell carries its column's name
    for the stacked phone layout. What every row shares is worked out once a page: the
    column names, the words, the detail address."""
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
    rows = []
    for req in requests:
        reporter = req.reporter.name if req.reporter else req.contact_name
        first_contact = req.first_contact
        rows.append(
            row_format.format(
                urgency=escape(req.urgency),
                url=detail_url.replace(str(_ANY_PK), str(req.pk)),
                number=escape(req.number),
                duplicate=duplicate if req.parent_id else "",
                kind=escape(req.get_kind_display()),
                category=escape(req.get_category_display()),
                urgency_label=escape(req.get_urgency_display()),
                place=escape(req.place_label or "—"),
                reporter=escape(reporter or "—"),
                first_contact=escape(first_contact.get_short_name()) if first_contact else dash,
                handler=_handler(req, nobody),
                status=escape(req.status),
                status_label=escape(req.get_status_display()),
                due=due_badge_html(req.due_at, now, zone),
                age=_time(req.created_at, timesince(req.created_at), zone),
            )
        )
    return mark_safe("".join(rows))  # noqa: S308 - every value is escaped above
