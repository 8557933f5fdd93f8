"""Reads shared by pages and the API; every one is scoped by restrict()."""

from dataclasses import dataclass
from itertools import groupby

from django.db.models import Count, F, Prefetch, Q

from jiayuan.accounts.models import User
from jiayuan.core.access import VIEW, grants_of, has_role_anywhere, roles_in_estate
from jiayuan.core.memo import Memo
from jiayuan.core.roles import PHONE_READERS, Role
from jiayuan.org.models import (
    Building,
    CommonArea,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
    current_residency,
)

# The estates of the switcher, by the grants that choose them; the grants themselves are
# read on every request, so a revoked role drops its estates at once (decisions §35).
_switcher = Memo("org.switcher_estates")  # keys: (superuser, grants)


def estates_for_switcher(user) -> list[Estate]:
    """The estates a staff member works in, through a staff role; residents have none to
    switch. A staff member's home in another estate is not one of them: no desk page would
    open there, and the resident's rule would cost every page a subquery."""
    if not has_role_anywhere(user, Role.values) and not user.is_superuser:
        return []
    chosen_by = (user.is_superuser, grants_of(user))
    return list(_switcher.get(chosen_by, lambda: _estates_to_switch(user)))


def _estates_to_switch(user) -> tuple[Estate, ...]:
    return tuple(
        Estate.objects.restrict(user, VIEW, staff_only=True)
        .filter(is_active=True)
        .select_related("company")
        .order_by("company__name", "name")
    )


def forget_estates_to_switch(**_signal) -> None:
    """An estate or a company was saved or deleted: its name, its state or the estates of a
    company-wide role may have changed (post_save and post_delete of both)."""
    _switcher.forget(lambda key: True)


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


def building_choices(user, estate):
    """The estate's buildings to choose from in a form, by name: no unit counts and no
    ordering by company, whose joins made building_list's query 3 ms a page, against 0.7."""
    return Building.objects.restrict_in_estate(user, estate).order_by("name")


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
        queryset = queryset.filter(
            Q(number__icontains=search) | Q(building__name__icontains=search)
        )
    return queryset


def common_area_list(user, *, estate=None):
    queryset = CommonArea.objects.restrict(user).select_related("estate", "building")
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    return queryset


def _current_residencies():
    return Residency.objects.filter(current_residency())


# Enough digits to find a masked number by what the mask shows, too few to test a guess.
MASKED_SEARCH_DIGITS = 4


def resident_list(user, *, estate=None, search=None):
    """Residents with their current units (of `estate` when given) in `current_residencies`.

    Staff who see masked numbers may search by the last four digits the mask shows, not by
    a whole number: otherwise a search would confirm whose number it is."""
    queryset = Resident.objects.restrict(user)
    units_shown = (
        _current_residencies()
        .restrict(user)
        .select_related("unit__building", "unit__estate")
        .order_by("unit__building__name", "unit__number")
    )
    if estate is not None:
        queryset = queryset.filter(
            pk__in=Residency.objects.filter(unit__estate=estate).values("resident_id")
        )
        units_shown = units_shown.filter(unit__estate=estate)
    search = (search or "").strip()
    if search:
        phone_readable = (
            can_read_phone(user, estate)
            if estate is not None
            else has_role_anywhere(user, PHONE_READERS)
        )
        matches = Q(name__icontains=search)
        if phone_readable:
            matches |= Q(mobile__contains=search)
        elif search.isdigit() and len(search) <= MASKED_SEARCH_DIGITS:
            matches |= Q(mobile__endswith=search)
        queryset = queryset.filter(matches)
    return queryset.prefetch_related(
        Prefetch("residencies", queryset=units_shown, to_attr="current_residencies")
    )


def residencies_of_unit(user, unit):
    """Current residents first, then the most recent move-outs."""
    return (
        Residency.objects.restrict(user)
        .filter(unit=unit)
        .select_related("resident", "unit__building")
        .order_by(F("moved_out_on").desc(nulls_first=True), "relation", "id")
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
        queryset = queryset.filter(
            Q(estate=estate) | Q(estate__isnull=True, company=estate.company)
        )
    return queryset.order_by("user__name", "user_id", "role")


def team_list(user, *, estate=None):
    queryset = (
        Team.objects.restrict(user).select_related("estate", "lead").prefetch_related("members")
    )
    if estate is not None:
        queryset = queryset.filter(estate=estate)
    return queryset


def can_read_phone(user, estate) -> bool:
    """Full mobile numbers only for staff whose work needs them; others see 138****1234."""
    if user.is_superuser:
        return True
    return bool(roles_in_estate(user, estate) & PHONE_READERS)


def phone_for(user, resident: Resident, estate) -> str:
    if resident.user_id == user.pk or can_read_phone(user, estate):
        return resident.mobile
    return resident.masked_mobile


# ----------------------------------------------------------------------------- pages


def estate_overview(user, estate) -> dict:
    """What an estate's page shows: its buildings, common areas, teams and staff by role."""
    staff_by_role = (
        staff_list(user, estate=estate)
        .filter(is_active=True)
        .order_by()
        .values("role")
        .annotate(people=Count("user", distinct=True))
        .order_by("role")
    )
    role_labels = dict(Role.choices)
    return {
        "buildings": building_list(user, estate=estate),
        "common_areas": common_area_list(user, estate=estate),
        "teams": team_list(user, estate=estate),
        "staff_by_role": [
            {"role": row["role"], "label": role_labels.get(row["role"]), "people": row["people"]}
            for row in staff_by_role
        ],
    }


def units_of_building(user, building):
    """In the order people walk the building: entrance, then top floor down."""
    return unit_list(user, building=building).order_by("entrance", "-floor", "number")


@dataclass
class StaffMember:
    user: User
    memberships: list[Membership]


def staff_people(user, *, estate) -> list[StaffMember]:
    """The estate's staff (and the company-wide admins), one entry per person."""
    rows = staff_list(user, estate=estate)
    return [
        StaffMember(user=memberships[0].user, memberships=memberships)
        for memberships in (list(group) for _, group in groupby(rows, key=lambda m: m.user_id))
    ]


def staff_of_estate(user, estate):
    """People working in the estate, as far as `user` may see them: the choices for a team's
    lead and members."""
    works_here = Q(memberships__estate=estate) | Q(
        memberships__estate__isnull=True, memberships__company_id=estate.company_id
    )
    return (
        User.objects.restrict(user)
        .filter(works_here, memberships__is_active=True)
        .distinct()
        .order_by("name", "username")
    )


def staff_of_company(user, company):
    """People with a role anywhere in the company whom `user` may see: who can be granted
    another role."""
    return (
        User.objects.restrict(user)
        .filter(memberships__company=company, memberships__is_active=True)
        .distinct()
        .order_by("name", "username")
    )


def team_members(user, team):
    return (
        TeamMember.objects.restrict(user)
        .filter(team=team)
        .select_related("user")
        .order_by("user__name", "user__username")
    )


def my_residencies(user):
    """A resident's current homes, with what they need to call for help."""
    return (
        _current_residencies()
        .restrict(user)
        .filter(resident__user=user)
        .select_related("unit__building", "unit__estate__company")
        .order_by("unit__estate__name", "unit__building__name", "unit__number")
    )


def is_resident(user) -> bool:
    """Has this account a resident record of its own (staff accounts never do)."""
    return Resident.objects.restrict(user).filter(user=user).exists()


def with_shown_mobiles(user, residents, estate):
    """Give each resident `shown_mobile`: the whole number or the mask, per phone_for."""
    for resident in residents:
        resident.shown_mobile = phone_for(user, resident, estate)
    return residents
