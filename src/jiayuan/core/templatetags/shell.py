"""Template helpers of the page shell: the navigation menu by role and the audit diff.

The menu is the one place that says which role sees which link. Staff links are shown to
the roles the linked model's access rule lets view it, so the menu and the pages cannot
drift apart."""

import json
from dataclasses import dataclass

from django import template
from django.urls import reverse
from django.utils.functional import Promise
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _

from jiayuan.core.access import VIEW, has_role_anywhere
from jiayuan.core.admin_site import admin_site
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import FIELD_STAFF, MANAGERS, Role
from jiayuan.core.selectors import Audience, audience_of
from jiayuan.dashboard.models import DASHBOARD_ROLES
from jiayuan.dispatch.models import DISPATCH_KEEPERS
from jiayuan.org.models import Building, CommonArea, Estate, Membership, Resident, Team, Unit
from jiayuan.quality.models import Campaign, FollowUp
from jiayuan.servicedesk.models import DESK_ROLES
from jiayuan.sla.models import BusinessCalendar, SlaPolicy
from jiayuan.supervision.models import ImprovementAction, Inspection, RectificationOrder
from jiayuan.training.models import KEEPERS as TRAINING_KEEPERS
from jiayuan.training.models import Certificate

register = template.Library()


@dataclass(frozen=True)
class MenuItem:
    view_name: str
    label: Promise
    # Staff roles that see the link; None shows it to everyone in the audience.
    roles: frozenset[str] | None = None


STAFF_MENU = (
    MenuItem("core:home", _("Home")),
    MenuItem("dashboard:company", _("Dashboard"), DASHBOARD_ROLES),
    MenuItem("servicedesk:tech_list", _("My work"), FIELD_STAFF),
    MenuItem("dispatch:pool", _("Grab pool"), {Role.TECHNICIAN}),
    MenuItem("servicedesk:queue", _("Requests"), DESK_ROLES | {Role.FINANCE}),
    MenuItem("servicedesk:visit_list", _("Return visits"), DESK_ROLES),
    MenuItem("quality:follow_up_list", _("Low-score follow-ups"), FollowUp.access.staff[VIEW]),
    MenuItem("quality:campaign_list", _("Satisfaction surveys"), Campaign.access.staff[VIEW]),
    MenuItem("org:estate_list", _("Estates"), Estate.access.staff[VIEW]),
    MenuItem("org:building_list", _("Buildings"), Building.access.staff[VIEW]),
    MenuItem("org:unit_list", _("Units"), Unit.access.staff[VIEW]),
    MenuItem("org:common_area_list", _("Common areas"), CommonArea.access.staff[VIEW]),
    MenuItem("org:resident_list", _("Residents"), Resident.access.staff[VIEW]),
    MenuItem("org:staff_list", _("Staff"), Membership.access.staff[VIEW]),
    MenuItem("org:team_list", _("Teams"), Team.access.staff[VIEW]),
    MenuItem("org:import_start", _("Import"), MANAGERS),
    MenuItem("dispatch:technician_list", _("Technicians"), DISPATCH_KEEPERS),
    MenuItem("sla:policy_list", _("SLA policies"), SlaPolicy.access.staff[VIEW]),
    MenuItem("sla:calendar_list", _("Business calendars"), BusinessCalendar.access.staff[VIEW]),
    MenuItem("training:mine", _("My training")),
    MenuItem("training:team", _("Training"), TRAINING_KEEPERS),
    MenuItem("training:certificate_list", _("Certificates"), Certificate.access.staff[VIEW]),
    MenuItem("supervision:inspection_list", _("Inspections"), Inspection.access.staff[VIEW]),
    MenuItem("supervision:order_list", _("Rectification"), RectificationOrder.access.staff[VIEW]),
    MenuItem("supervision:action_list", _("Improvements"), ImprovementAction.access.staff[VIEW]),
    MenuItem("core:audit", _("Audit"), AuditEvent.access.staff[VIEW]),
)
RESIDENT_MENU = (
    MenuItem("core:home", _("Home")),
    MenuItem("servicedesk:owner_list", _("My requests")),
    MenuItem("servicedesk:owner_create", _("Report an issue")),
    MenuItem("org:my_units", _("My units")),
    MenuItem("quality:my_surveys", _("Satisfaction surveys")),
    MenuItem("comms:list", _("Notifications")),
)
NO_ROLE_MENU = (MenuItem("core:home", _("Home")),)


def menu_for(user) -> tuple[MenuItem, ...]:
    audience = audience_of(user)
    if audience is Audience.STAFF:
        return tuple(
            item for item in STAFF_MENU if item.roles is None or has_role_anywhere(user, item.roles)
        )
    if audience is Audience.RESIDENT:
        return RESIDENT_MENU
    return NO_ROLE_MENU


@register.simple_tag(takes_context=True)
def main_menu(context) -> list[dict]:
    """[{url, label, current}] for the signed-in user, in menu order."""
    request = context["request"]
    match = getattr(request, "resolver_match", None)
    current_view = match.view_name if match else ""
    return [
        {
            "url": reverse(item.view_name),
            "label": item.label,
            "current": item.view_name == current_view,
        }
        for item in menu_for(request.user)
    ]


@register.filter
def internal_link(link: str) -> str:
    """The link if it stays on this site; links are stored text, so never trust a scheme."""
    return link if link and url_has_allowed_host_and_scheme(link, allowed_hosts=None) else ""


@register.simple_tag(takes_context=True)
def can_use_admin(context) -> bool:
    return admin_site.has_permission(context["request"])


_VALUE_WIDTH = 80


def _shown(value) -> str:
    if value is None:
        return "∅"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False)
    return Truncator(text).chars(_VALUE_WIDTH)


@register.filter
def audit_changes(event: AuditEvent) -> list[dict]:
    """The fields an event touched, each with its value before and after, ready to show."""
    before = event.before if isinstance(event.before, dict) else {}
    after = event.after if isinstance(event.after, dict) else {}
    fields = list(after) + [name for name in before if name not in after]
    return [
        {
            "field": name,
            "before": _shown(before[name]) if name in before else None,
            "after": _shown(after[name]) if name in after else None,
        }
        for name in fields
    ]
