"""Every write to estates and people. Each function checks the actor's permission through
restrict(), validates, saves atomically and records one audit event per change."""

from collections.abc import Callable
from datetime import date
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, models, transaction
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.accounts.models import User
from jiayuan.core.access import (
    ADD,
    CHANGE,
    DELETE,
    VIEW,
    ensure_allowed,
    ensure_can_in_estate,
    forget_grants,
    roles_in_estate,
)
from jiayuan.core.audit import changed_only, record_event, snapshot
from jiayuan.core.phones import normalize_mobile
from jiayuan.core.roles import Role
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import (
    Building,
    CommonArea,
    Company,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

# ----------------------------------------------------------------------------- helpers


def _estate_of(instance: models.Model) -> Estate | None:
    if isinstance(instance, Estate):
        return instance
    return getattr(instance, "estate", None)


def _save_validated(instance: models.Model, exclude: list[str] | None = None) -> None:
    """full_clean then save; a unique clash lost to a concurrent writer becomes the same
    clear validation error as the one full_clean gives."""
    instance.full_clean(exclude=exclude)
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError as exc:
        raise ValidationError(_("This record already exists or conflicts with another.")) from exc


def _validate_all(*checks: Callable[[], None]) -> None:
    """Run every check and raise one error with all their messages, so that a form shows
    every problem at once instead of one per attempt."""
    errors: dict = {}
    for check in checks:
        try:
            check()
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if errors:
        raise ValidationError(errors)


def _create(actor, instance: models.Model, code: OrgEvent, estate: Estate | None) -> Any:
    _save_validated(instance)
    record_event(actor=actor, code=code, target=instance, estate=estate, after=snapshot(instance))
    return instance


def _update(
    actor,
    instance: models.Model,
    changes: dict,
    code: OrgEvent,
    allowed: set[str],
    check: Callable[[], None] | None = None,
):
    """Permission comes first, so that someone who may not see the object learns nothing
    about it from a validation message; `check` holds the entity's own rules."""
    ensure_allowed(actor, CHANGE, instance)
    unknown = set(changes) - allowed
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed here.") for name in sorted(unknown)}
        )
    if check is not None:
        check()
    before = snapshot(instance)
    for name, value in changes.items():
        setattr(instance, name, value)
    _save_validated(instance)
    old, new = changed_only(before, snapshot(instance))
    if new:
        record_event(
            actor=actor,
            code=code,
            target=instance,
            estate=_estate_of(instance),
            company=getattr(instance, "company", None),
            before=old,
            after=new,
        )
    return instance


def _delete(
    actor, instance: models.Model, code: OrgEvent, in_use_reason: Callable[[], str | None]
) -> None:
    """`in_use_reason` runs after the permission check and names what still needs the row."""
    ensure_allowed(actor, DELETE, instance)
    reason = in_use_reason()
    if reason:
        raise ValidationError(reason)
    estate = _estate_of(instance)
    before = snapshot(instance)
    record_event(actor=actor, code=code, target=instance, estate=estate, before=before)
    instance.delete()


# ----------------------------------------------------------------------------- company


@transaction.atomic
def company_bootstrap(
    *, name: str, code: str, admin_username: str, admin_password: str, admin_name: str = ""
) -> tuple[Company, User]:
    """Create a company and its first admin. Only the command line calls this: there is
    nobody yet who could be allowed to."""
    company = Company(name=name, code=code)
    _save_validated(company)
    admin = User(username=admin_username, name=admin_name or admin_username)
    admin.set_password(admin_password)
    _save_validated(admin, exclude=["password"])
    Membership.objects.create(user=admin, company=company, role=Role.COMPANY_ADMIN)
    record_event(
        actor=None,
        code=OrgEvent.COMPANY_CREATED,
        target=company,
        company=company,
        after=snapshot(company),
    )
    return company, admin


# ----------------------------------------------------------------------------- estates

ESTATE_FIELDS = {
    "name",
    "code",
    "kind",
    "city",
    "address",
    "total_area",
    "service_phone",
    "is_active",
}


@transaction.atomic
def estate_create(*, actor, company: Company, **fields) -> Estate:
    ensure_allowed(actor, "view", company)
    if not actor.is_superuser and Role.COMPANY_ADMIN not in {
        g.role for g in _company_grants(actor, company)
    }:
        raise PermissionDenied(_("You are not allowed to do this."))
    estate = Estate(company=company, **_only(fields, ESTATE_FIELDS))
    _save_validated(estate)
    record_event(
        actor=actor,
        code=OrgEvent.ESTATE_CREATED,
        target=estate,
        estate=estate,
        after=snapshot(estate),
    )
    return estate


def _company_grants(actor, company):
    from jiayuan.core.access import grants_of

    return [g for g in grants_of(actor) if g.company_id == company.pk and g.estate_id is None]


@transaction.atomic
def estate_update(*, actor, estate: Estate, **changes) -> Estate:
    return _update(actor, estate, changes, OrgEvent.ESTATE_UPDATED, ESTATE_FIELDS)


def _only(fields: dict, allowed: set[str]) -> dict:
    unknown = set(fields) - allowed
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    return fields


# ----------------------------------------------------------------------------- buildings

BUILDING_FIELDS = {"name", "floors_above", "floors_below", "note"}


@transaction.atomic
def building_create(*, actor, estate: Estate, **fields) -> Building:
    ensure_can_in_estate(actor, Building, ADD, estate)
    building = Building(estate=estate, **_only(fields, BUILDING_FIELDS))
    return _create(actor, building, OrgEvent.BUILDING_CREATED, estate)


@transaction.atomic
def building_update(*, actor, building: Building, **changes) -> Building:
    return _update(actor, building, changes, OrgEvent.BUILDING_UPDATED, BUILDING_FIELDS)


@transaction.atomic
def building_delete(*, actor, building: Building) -> None:
    def in_use_reason():
        if building.units.exists():
            return _("This building still has units. Delete or move them first.")
        if building.common_areas.exists():
            return _("Common areas still belong to this building. Change or delete them first.")
        return None

    _delete(actor, building, OrgEvent.BUILDING_DELETED, in_use_reason)


# ----------------------------------------------------------------------------- units

UNIT_FIELDS = {"entrance", "number", "floor", "gross_area", "inner_area", "status"}


@transaction.atomic
def unit_create(*, actor, building: Building, **fields) -> Unit:
    ensure_can_in_estate(actor, Unit, ADD, building.estate)
    unit = Unit(building=building, estate=building.estate, **_only(fields, UNIT_FIELDS))
    return _create(actor, unit, OrgEvent.UNIT_CREATED, building.estate)


@transaction.atomic
def unit_update(*, actor, unit: Unit, **changes) -> Unit:
    return _update(actor, unit, changes, OrgEvent.UNIT_UPDATED, UNIT_FIELDS)


@transaction.atomic
def unit_delete(*, actor, unit: Unit) -> None:
    def in_use_reason():
        if unit.residencies.exists():
            return _("Residents are on record for this unit, so it cannot be deleted.")
        return None

    _delete(actor, unit, OrgEvent.UNIT_DELETED, in_use_reason)


# ----------------------------------------------------------------------------- common areas

COMMON_AREA_FIELDS = {"name", "kind", "building", "note"}


def _building_in_estate(building: Building | None, estate: Estate) -> None:
    if building is not None and building.estate_id != estate.pk:
        raise ValidationError({"building": _("This building belongs to another estate.")})


@transaction.atomic
def common_area_create(*, actor, estate: Estate, **fields) -> CommonArea:
    ensure_can_in_estate(actor, CommonArea, ADD, estate)
    area = CommonArea(estate=estate, **_only(fields, COMMON_AREA_FIELDS))
    _building_in_estate(area.building, estate)
    return _create(actor, area, OrgEvent.COMMON_AREA_CREATED, estate)


@transaction.atomic
def common_area_update(*, actor, area: CommonArea, **changes) -> CommonArea:
    def check():
        if "building" in changes:
            _building_in_estate(changes["building"], area.estate)

    return _update(
        actor, area, changes, OrgEvent.COMMON_AREA_UPDATED, COMMON_AREA_FIELDS, check=check
    )


@transaction.atomic
def common_area_delete(*, actor, area: CommonArea) -> None:
    _delete(actor, area, OrgEvent.COMMON_AREA_DELETED, in_use_reason=lambda: None)


# ----------------------------------------------------------------------------- residents

RESIDENT_FIELDS = {"name", "mobile", "tier", "note"}


@transaction.atomic
def resident_create(
    *,
    actor,
    estate: Estate,
    name: str,
    mobile: str,
    tier: str = Resident.Tier.REGULAR,
    note: str = "",
    unit: Unit | None = None,
    relation: str = Residency.Relation.OWNER,
    moved_in_on: date | None = None,
) -> Resident:
    """Register a resident of this estate, usually together with the unit they live in."""
    ensure_can_in_estate(actor, Resident, ADD, estate)

    def check_unit():
        if unit is None and not _sees_every_resident_of(actor, estate.company):
            # Estate staff see residents through their units: without one, the new record
            # would vanish from the sight of the person who just typed it in.
            raise ValidationError({"unit": _("Choose the unit this resident lives in.")})
        if unit is not None and unit.estate_id != estate.pk:
            raise ValidationError({"unit": _("This unit belongs to another estate.")})

    resident = Resident(
        company=estate.company,
        name=(name or "").strip(),
        mobile=normalize_mobile(mobile),
        tier=tier,
        note=note,
    )
    _validate_all(
        check_unit,
        lambda: resident.full_clean(validate_constraints=False),
        lambda: _ensure_mobile_free(resident),
    )
    _create(actor, resident, OrgEvent.RESIDENT_CREATED, estate)
    if unit is not None:
        residency_start(
            actor=actor, resident=resident, unit=unit, relation=relation, moved_in_on=moved_in_on
        )
    return resident


def _sees_every_resident_of(actor, company: Company) -> bool:
    if actor.is_superuser:
        return True
    readers = Resident.access.staff[VIEW]
    return any(g.role in readers for g in _company_grants(actor, company))


def _ensure_mobile_free(resident: Resident, mobile: str | None = None) -> None:
    """One resident per mobile and company; said on the mobile field, where it is fixed."""
    taken = Resident.objects.filter(
        company_id=resident.company_id, mobile=mobile or resident.mobile
    )
    if taken.exclude(pk=resident.pk).exists():
        raise ValidationError({"mobile": _("A resident with this mobile is already registered.")})


@transaction.atomic
def resident_update(*, actor, resident: Resident, **changes) -> Resident:
    if "mobile" in changes:
        changes["mobile"] = normalize_mobile(changes["mobile"])
    if "name" in changes:
        changes["name"] = (changes["name"] or "").strip()

    def check():
        if "mobile" in changes:
            _ensure_mobile_free(resident, changes["mobile"])

    return _update(
        actor, resident, changes, OrgEvent.RESIDENT_UPDATED, RESIDENT_FIELDS, check=check
    )


@transaction.atomic
def resident_open_portal(*, actor, resident: Resident, password: str) -> User:
    """Give a resident a sign-in for the owner portal; they sign in with their mobile."""
    from django.contrib.auth.password_validation import validate_password

    ensure_allowed(actor, CHANGE, resident)
    if resident.user_id:
        raise ValidationError(_("This resident already has a portal account."))
    if User.objects.filter(mobile=resident.mobile).exists():
        raise ValidationError({"mobile": _("Another account already uses this mobile.")})
    user = User(username=f"r{resident.mobile}", name=resident.name, mobile=resident.mobile)
    try:
        validate_password(password, user)
    except ValidationError as exc:
        raise ValidationError({"password": exc.messages}) from exc
    user.set_password(password)
    _save_validated(user, exclude=["password"])
    resident.user = user
    resident.save(update_fields=["user", "updated_at"])
    record_event(
        actor=actor,
        code=OrgEvent.RESIDENT_PORTAL_OPENED,
        target=resident,
        company=resident.company,
        after={"user_id": user.pk, "username": user.username},
    )
    return user


@transaction.atomic
def residency_start(
    *,
    actor,
    resident: Resident,
    unit: Unit,
    relation: str,
    moved_in_on: date | None = None,
) -> Residency:
    ensure_allowed(actor, "view", unit)
    ensure_can_in_estate(actor, Residency, ADD, unit.estate)
    if resident.company_id != unit.estate.company_id:
        raise ValidationError({"unit": _("This unit belongs to another company.")})
    residency = Residency(
        resident=resident,
        unit=unit,
        relation=relation,
        moved_in_on=moved_in_on or timezone.localdate(),
    )
    residency.full_clean(validate_constraints=False)
    if Residency.objects.filter(resident=resident, unit=unit, moved_out_on__isnull=True).exists():
        raise ValidationError({"unit": _("This resident already lives in this unit.")})
    _create(actor, residency, OrgEvent.RESIDENCY_STARTED, unit.estate)
    new_status = unit_status_after_move_in(unit.status, relation)
    if new_status != unit.status:
        Unit.objects.filter(pk=unit.pk).update(status=new_status)
        unit.status = new_status
    return residency


def unit_status_after_move_in(status: str, relation: str) -> str:
    """A vacant unit becomes rented when a tenant moves in and occupied otherwise; a unit
    already lived in or under renovation keeps its status. The spreadsheet import applies
    the same rule to thousands of move-ins at once."""
    if status != Unit.Status.VACANT:
        return status
    return Unit.Status.RENTED if relation == Residency.Relation.TENANT else Unit.Status.OCCUPIED


@transaction.atomic
def residency_end(*, actor, residency: Residency, moved_out_on: date | None = None) -> Residency:
    ensure_allowed(actor, CHANGE, residency)
    moved_out_on = moved_out_on or timezone.localdate()
    if residency.moved_out_on is not None:
        raise ValidationError(_("This resident has already moved out."))
    if residency.moved_in_on and moved_out_on < residency.moved_in_on:
        raise ValidationError({"moved_out_on": _("Move-out cannot be before move-in.")})
    before = snapshot(residency, ["moved_out_on"])
    residency.moved_out_on = moved_out_on
    residency.save(update_fields=["moved_out_on", "updated_at"])
    record_event(
        actor=actor,
        code=OrgEvent.RESIDENCY_ENDED,
        target=residency,
        estate=residency.unit.estate,
        before=before,
        after=snapshot(residency, ["moved_out_on"]),
    )
    unit = residency.unit
    still_lived_in = Residency.objects.filter(unit=unit, moved_out_on__isnull=True).exists()
    new_status = unit_status_after_move_out(unit.status, still_lived_in=still_lived_in)
    if new_status != unit.status:
        Unit.objects.filter(pk=unit.pk).update(status=new_status)
        unit.status = new_status
    return residency


def unit_status_after_move_out(status: str, *, still_lived_in: bool) -> str:
    """When the last person moves out an occupied or rented unit becomes vacant; a unit
    under renovation stays so until staff say otherwise."""
    if still_lived_in or status not in (Unit.Status.OCCUPIED, Unit.Status.RENTED):
        return status
    return Unit.Status.VACANT


# ----------------------------------------------------------------------------- staff

# Estate managers may staff their estate but not make managers or company admins.
GRANTABLE_BY_ESTATE_MANAGER = frozenset(Role) - {Role.COMPANY_ADMIN, Role.ESTATE_MANAGER}


def _ensure_may_grant(actor, estate: Estate | None, company: Company, role: str) -> None:
    if role not in Role.values:
        raise ValidationError({"role": _("Unknown role.")})
    if actor.is_superuser:
        return
    company_admin = any(g.role == Role.COMPANY_ADMIN for g in _company_grants(actor, company))
    if company_admin:
        return
    if estate is None or role not in GRANTABLE_BY_ESTATE_MANAGER:
        raise PermissionDenied(_("Only a company admin can grant this role."))
    ensure_can_in_estate(actor, Membership, ADD, estate)


def may_grant(actor, *, estate: Estate | None, company: Company, role: str) -> bool:
    """Whether the actor may grant (or revoke) this role here: pages offer only what works."""
    try:
        _ensure_may_grant(actor, estate, company, role)
    except (PermissionDenied, Http404):
        return False
    return True


@transaction.atomic
def staff_add(
    *,
    actor,
    estate: Estate,
    username: str,
    name: str,
    role: str,
    password: str,
    mobile: str = "",
    email: str = "",
) -> Membership:
    """Create a staff account and give it a role in the estate."""
    from django.contrib.auth.password_validation import validate_password

    _ensure_may_grant(actor, estate, estate.company, role)
    user = User(
        username=(username or "").strip(),
        name=(name or "").strip(),
        mobile=normalize_mobile(mobile) or None,
        email=(email or "").strip(),
    )

    def check_password():
        try:
            validate_password(password, user)
        except ValidationError as exc:
            raise ValidationError({"password": exc.messages}) from exc

    _validate_all(lambda: user.full_clean(exclude=["password"]), check_password)
    user.set_password(password)
    _save_validated(user, exclude=["password"])
    record_event(
        actor=actor,
        code=OrgEvent.STAFF_ADDED,
        target=user,
        estate=estate,
        after=snapshot(user, ["username", "name", "mobile", "email"]),
    )
    return _grant(actor, user, estate, estate.company, role)


@transaction.atomic
def membership_grant(
    *, actor, user: User, estate: Estate | None, role: str, company: Company | None = None
) -> Membership:
    """Give an existing person, whom the actor can see, another role."""
    ensure_allowed(actor, VIEW, user)
    return _grant(actor, user, estate, company or estate.company, role)


def _grant(actor, user: User, estate: Estate | None, company: Company, role: str) -> Membership:
    _ensure_may_grant(actor, estate, company, role)
    if hasattr(user, "resident") and user.resident is not None:
        raise ValidationError(_("A resident's portal account cannot hold a staff role."))
    if Membership.objects.filter(user=user, company=company, estate=estate, role=role).exists():
        raise ValidationError({"role": _("This person already has this role here.")})
    membership = Membership(user=user, company=company, estate=estate, role=role)
    _create(actor, membership, OrgEvent.MEMBERSHIP_GRANTED, estate)
    forget_grants(user)
    return membership


@transaction.atomic
def membership_revoke(*, actor, membership: Membership) -> None:
    ensure_allowed(actor, VIEW, membership)
    _ensure_may_grant(actor, membership.estate, membership.company, membership.role)
    if membership.user_id == actor.pk and membership.role == Role.COMPANY_ADMIN:
        raise ValidationError(_("You cannot remove your own company admin role."))
    record_event(
        actor=actor,
        code=OrgEvent.MEMBERSHIP_REVOKED,
        target=membership,
        estate=membership.estate,
        company=membership.company,
        before=snapshot(membership),
    )
    membership.delete()
    forget_grants(membership.user)


# ----------------------------------------------------------------------------- teams

TEAM_FIELDS = {"name", "skills", "lead"}


def _ensure_staff_of(user: User | None, estate: Estate, field: str) -> None:
    if user is not None and not roles_in_estate(user, estate):
        raise ValidationError({field: _("This person does not work in this estate.")})


@transaction.atomic
def team_create(*, actor, estate: Estate, **fields) -> Team:
    ensure_can_in_estate(actor, Team, ADD, estate)
    team = Team(estate=estate, **_only(fields, TEAM_FIELDS))
    _ensure_staff_of(team.lead, estate, "lead")
    return _create(actor, team, OrgEvent.TEAM_CREATED, estate)


@transaction.atomic
def team_update(*, actor, team: Team, **changes) -> Team:
    def check():
        if "lead" in changes:
            _ensure_staff_of(changes["lead"], team.estate, "lead")

    return _update(actor, team, changes, OrgEvent.TEAM_UPDATED, TEAM_FIELDS, check=check)


@transaction.atomic
def team_member_add(*, actor, team: Team, user: User) -> TeamMember:
    ensure_allowed(actor, CHANGE, team)
    _ensure_staff_of(user, team.estate, "user")
    if TeamMember.objects.filter(team=team, user=user).exists():
        raise ValidationError({"user": _("This person is already in the team.")})
    member = TeamMember(team=team, user=user)
    return _create(actor, member, OrgEvent.TEAM_MEMBER_ADDED, team.estate)


@transaction.atomic
def team_member_remove(*, actor, member: TeamMember) -> None:
    ensure_allowed(actor, CHANGE, member.team)
    record_event(
        actor=actor,
        code=OrgEvent.TEAM_MEMBER_REMOVED,
        target=member.team,
        estate=member.team.estate,
        before={"user_id": member.user_id},
    )
    member.delete()
