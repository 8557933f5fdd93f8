"""Reads for the page shell: who the signed-in person is to us, what their home page
shows, and the audit log. Every queryset goes through restrict()."""

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.contrib.contenttypes.models import ContentType
from django.db.models import Count, IntegerField, OuterRef, QuerySet, Subquery
from django.db.models.functions import Coalesce
from django.utils import timezone

from jiayuan.comms.selectors import notifications_for
from jiayuan.core.access import grants_of, has_role_anywhere, roles_in_estate
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.org.models import (
    Building,
    Estate,
    Membership,
    Residency,
    Team,
    Unit,
    current_residency,
)
from jiayuan.org.selectors import team_list

RECENT_EVENTS = 10
RECENT_NOTIFICATIONS = 5


class Audience(enum.Enum):
    STAFF = "staff"
    RESIDENT = "resident"
    NOBODY = "nobody"


def audience_of(user) -> Audience:
    """Staff (any role anywhere), a resident with a portal account, or an account that has
    been given nothing yet."""
    if has_role_anywhere(user, Role.values):
        return Audience.STAFF
    if user.is_authenticated and hasattr(user, "resident"):
        return Audience.RESIDENT
    return Audience.NOBODY


class HomeKind(enum.StrEnum):
    COMPANY_ADMIN = "company_admin"
    MANAGER = "manager"
    DESK = "desk"
    FIELD = "field"
    RESIDENT = "resident"
    NO_ACCESS = "no_access"


DESK_ROLES = frozenset({Role.SERVICE_DESK, Role.DISPATCHER})


@dataclass
class HomePage:
    kind: HomeKind
    estate: Estate | None = None
    roles: list[str] = field(default_factory=list)
    estates: list[Estate] = field(default_factory=list)
    units_by_status: list[tuple[str, int]] = field(default_factory=list)
    unit_count: int = 0
    resident_count: int = 0
    staff_by_role: list[tuple[str, int]] = field(default_factory=list)
    teams: list[Team] = field(default_factory=list)
    recent_events: list[AuditEvent] = field(default_factory=list)
    notifications: list = field(default_factory=list)
    units: list[Unit] = field(default_factory=list)
    service_phones: list[tuple[str, str]] = field(default_factory=list)


def _home_kind(user, estate: Estate | None) -> HomeKind:
    if user.is_superuser or any(g.role == Role.COMPANY_ADMIN for g in grants_of(user)):
        return HomeKind.COMPANY_ADMIN
    roles = roles_in_estate(user, estate) if estate is not None else set()
    if Role.ESTATE_MANAGER in roles:
        return HomeKind.MANAGER
    if roles & DESK_ROLES:
        return HomeKind.DESK
    if roles:
        return HomeKind.FIELD
    if audience_of(user) is Audience.RESIDENT:
        return HomeKind.RESIDENT
    return HomeKind.NO_ACCESS


def home_page(user, estate: Estate | None) -> HomePage:
    """Everything the home page shows, chosen by the person's role in the current estate."""
    kind = _home_kind(user, estate)
    page = HomePage(kind=kind, estate=estate)
    if estate is not None:
        page.roles = sorted(Role(code).label for code in roles_in_estate(user, estate))
    if kind is HomeKind.NO_ACCESS:
        return page
    if kind is HomeKind.COMPANY_ADMIN:
        page.estates = list(estates_with_counts(user))
        page.recent_events = list(audit_events(user)[:RECENT_EVENTS])
    elif kind is HomeKind.MANAGER:
        _fill_estate_stats(page, user, estate)
        page.recent_events = list(audit_events(user, estate=estate)[:RECENT_EVENTS])
    elif kind is HomeKind.DESK:
        start_of_today = timezone.make_aware(datetime.combine(timezone.localdate(), time.min))
        page.notifications = list(notifications_for(user).filter(created_at__gte=start_of_today))
        return page
    elif kind is HomeKind.FIELD:
        page.teams = list(
            Team.objects.restrict(user)
            .filter(memberships__user=user)
            .select_related("estate", "lead")
            .order_by("estate__name", "name")
        )
    elif kind is HomeKind.RESIDENT:
        page.units = list(Unit.objects.restrict(user).select_related("building", "estate__company"))
        phones = {}
        for unit in page.units:
            phone = unit.estate.service_phone or unit.estate.company.service_phone
            if phone:
                phones[unit.estate.name] = phone
        page.service_phones = sorted(phones.items())
    page.notifications = list(notifications_for(user)[:RECENT_NOTIFICATIONS])
    return page


def _count_per_estate(queryset: QuerySet, estate_lookup: str, counted: str = "pk") -> Coalesce:
    rows = (
        queryset.filter(**{estate_lookup: OuterRef("pk")})
        .order_by()
        .values(estate_lookup)
        .annotate(n=Count(counted, distinct=True))
        .values("n")
    )
    return Coalesce(Subquery(rows[:1], output_field=IntegerField()), 0)


def estates_with_counts(user) -> QuerySet:
    """The estates the user sees, each with its numbers of buildings, units, current
    residents and staff, in one query however many estates there are."""
    residencies = Residency.objects.restrict(user).filter(current_residency())
    staff = Membership.objects.restrict(user).filter(is_active=True)
    return (
        Estate.objects.restrict(user)
        .select_related("company")
        .annotate(
            building_count=_count_per_estate(Building.objects.restrict(user), "estate"),
            unit_count=_count_per_estate(Unit.objects.restrict(user), "estate"),
            resident_count=_count_per_estate(residencies, "unit__estate", "resident"),
            staff_count=_count_per_estate(staff, "estate", "user"),
        )
        .order_by("company__name", "name")
    )


def _fill_estate_stats(page: HomePage, user, estate: Estate) -> None:
    by_status = dict(
        Unit.objects.restrict(user)
        .filter(estate=estate)
        .order_by()
        .values_list("status")
        .annotate(n=Count("pk"))
    )
    page.units_by_status = [(label, by_status.get(code, 0)) for code, label in Unit.Status.choices]
    page.unit_count = sum(by_status.values())
    page.resident_count = (
        Residency.objects.restrict(user)
        .filter(current_residency(), unit__estate=estate)
        .values("resident_id")
        .distinct()
        .count()
    )
    by_role = dict(
        Membership.objects.restrict(user)
        .filter(estate=estate, is_active=True)
        .order_by()
        .values_list("role")
        .annotate(n=Count("user", distinct=True))
    )
    page.staff_by_role = [(label, by_role[code]) for code, label in Role.choices if code in by_role]
    page.teams = list(team_list(user, estate=estate))


def audit_events(
    user,
    *,
    estate: Estate | None = None,
    code: str = "",
    actor: str = "",
    date_from: date | None = None,
    date_to: date | None = None,
    target_type: ContentType | None = None,
) -> QuerySet:
    """The audit events the user may read, newest first, narrowed by the given filters.
    Dates are whole local days, both ends included."""
    events = AuditEvent.objects.restrict(user).select_related("estate", "target_type")
    if estate is not None:
        events = events.filter(estate=estate)
    if code:
        events = events.filter(code=code)
    if actor:
        events = events.filter(actor_label__icontains=actor)
    if date_from is not None:
        events = events.filter(at__gte=timezone.make_aware(datetime.combine(date_from, time.min)))
    if date_to is not None:
        day_after = datetime.combine(date_to + timedelta(days=1), time.min)
        events = events.filter(at__lt=timezone.make_aware(day_after))
    if target_type is not None:
        events = events.filter(target_type=target_type)
    return events
