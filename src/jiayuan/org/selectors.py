"""Reads shared by pages and the API; every one is scoped by restrict()."""

from django.db.models import Count, Q

from jiayuan.core.access import VIEW, has_role_anywhere
from jiayuan.core.roles import PHONE_READERS, Role
from jiayuan.org.models import (
    Building,
    CommonArea,
    Estate,
    Membership,
    Resident,
    Residency,
    Team,
    Unit,
)


def estates_for_switcher(user) -> list[Estate]:
    """The estates a staff member works in; residents have none to switch."""
    if not has_role_anywhere(user, Role.values) and not user.is_superuser:
        return []
    return list(
        Estate.objects.restrict(user, VIEW)
        .filter(is_active=True)
        .select_related("company")
        .order_by("company__name", "name")
    )


def current_estate_for(estates: list[Estate], chosen_id) -> Estate | None:
    for estate in estates:
        if str(estate.pk) == str(chosen_id):
            return estate
    return estates[0] if estates else None


def estate_list(user):
    return (
        Estate.objects.restrict(user)
        .select_related("company")
        .annotate(
            building_count=Count("buildings", distinct=True),
            unit_count=Count("units", distinct=True),
        )
    )


def building_list(user, *, estate=None):
    queryset = Building.objects.restrict(user).select_related("estate")
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    return queryset.annotate(unit_count=Count("units"))


def unit_list(user, *, estate=None, building=None, status=None, search=None):
    queryset = Unit.objects.restrict(user).select_related("building", "estate")
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    if building is not None:
        queryset = queryset.filter(building=building)
    if status:
        queryset = queryset.filter(status=status)
    if search:
        queryset = queryset.filter(Q(number__icontains=search) | Q(building__name__icontains=search))
    return queryset


def common_area_list(user, *, estate=None):
    queryset = CommonArea.objects.restrict(user).select_related("estate", "building")
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    return queryset


def resident_list(user, *, estate=None, search=None):
    queryset = Resident.objects.restrict(user)
    if estate is not None:
        queryset = queryset.filter(
            pk__in=Residency.objects.filter(unit__estate=estate).values("resident_id")
        )
    if search:
        search = search.strip()
        queryset = queryset.filter(Q(name__icontains=search) | Q(mobile__contains=search))
    return queryset


def residencies_of_unit(user, unit):
    return (
        Residency.objects.restrict(user)
        .filter(unit=unit)
        .select_related("resident", "unit__building")
        .order_by("moved_out_on", "relation", "id")
    )


def residencies_of_resident(user, resident):
    return (
        Residency.objects.restrict(user)
        .filter(resident=resident)
        .select_related("unit__building", "unit__estate")
    )


def staff_list(user, *, estate=None):
    queryset = Membership.objects.restrict(user).select_related("user", "estate", "company")
    if estate is not None:
        queryset = queryset.filter(Q(estate=estate) | Q(estate__isnull=True, company=estate.company))
    return queryset.order_by("user__name", "role")


def team_list(user, *, estate=None):
    queryset = (
        Team.objects.restrict(user).select_related("estate", "lead").prefetch_related("members")
    )
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    return queryset


def can_read_phone(user, estate) -> bool:
    """Full mobile numbers only for staff whose work needs them; others see 138****1234."""
    from jiayuan.core.access import roles_in_estate

    if user.is_superuser:
        return True
    return bool(roles_in_estate(user, estate) & PHONE_READERS)


def phone_for(user, resident: Resident, estate) -> str:
    if resident.user_id == user.pk or can_read_phone(user, estate):
        return resident.mobile
    return resident.masked_mobile
