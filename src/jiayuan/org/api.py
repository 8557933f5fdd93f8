"""Estates and people over the API: reads through org.selectors, writes through
org.services, the same rules as the pages."""

from datetime import date
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate
from ninja.responses import Status

from jiayuan.core.access import get_visible, grants_of, visible_or_none
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Day,
    InputSchema,
    Number,
    ObjectId,
    PageNumberPagination,
    Reference,
    SearchText,
    Text,
)
from jiayuan.core.roles import Role
from jiayuan.org import selectors, services
from jiayuan.org.models import (
    Building,
    Estate,
    Residency,
    Resident,
    Unit,
)

router = Router(tags=["org"])
me_router = Router(tags=["me"])


def _shown_mobile(user, resident: Resident) -> str:
    """selectors.phone_for decides per estate; a resident with homes in several estates shows
    the full number when any of those estates lets the caller read it."""
    if resident.user_id == user.pk:
        return resident.mobile
    shown = {
        selectors.phone_for(user, resident, residency.unit.estate)
        for residency in resident.visible_residencies
    }
    return resident.mobile if resident.mobile in shown else resident.masked_mobile


def _with_mobile_rule(queryset, user):
    """The residencies `_shown_mobile` needs, read once for the whole page of residents."""
    return queryset.prefetch_related(
        Prefetch(
            "residencies",
            queryset=Residency.objects.restrict(user).select_related("unit__estate"),
            to_attr="visible_residencies",
        )
    )


# ----------------------------------------------------------------------------- schemas
# Choice fields go out as plain text: a row written before a choice was retired must still
# be listed, not turn the whole page into a server error.


class PersonOut(Schema):
    id: int
    username: str
    name: str


class EstateOut(Schema):
    id: int
    company_id: int
    company_name: str = Field(alias="company.name")
    name: str
    code: str
    kind: str
    kind_label: str
    city: str
    address: str
    total_area: Decimal | None
    service_phone: str
    is_active: bool
    building_count: int
    unit_count: int

    @staticmethod
    def resolve_kind_label(obj):
        return str(obj.get_kind_display())


class BuildingOut(Schema):
    id: int
    estate_id: int
    name: str
    floors_above: int
    floors_below: int
    note: str
    unit_count: int


class UnitOut(Schema):
    id: int
    estate_id: int
    building_id: int
    building_name: str = Field(alias="building.name")
    label: str
    entrance: str
    number: str
    floor: int
    gross_area: Decimal
    inner_area: Decimal | None
    status: str
    status_label: str

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())


class CommonAreaOut(Schema):
    id: int
    estate_id: int
    building_id: int | None
    name: str
    kind: str
    kind_label: str
    note: str

    @staticmethod
    def resolve_kind_label(obj):
        return str(obj.get_kind_display())


class ResidencyOut(Schema):
    id: int
    resident_id: int
    unit_id: int
    unit_label: str = Field(alias="unit.label")
    estate_id: int = Field(alias="unit.estate_id")
    relation: str
    relation_label: str
    moved_in_on: date | None
    moved_out_on: date | None
    is_current: bool

    @staticmethod
    def resolve_relation_label(obj):
        return str(obj.get_relation_display())


class ResidentOut(Schema):
    id: int
    company_id: int
    name: str
    mobile: str = Field(description="Masked as 138****1234 unless the caller's role needs it.")
    tier: str
    tier_label: str
    note: str
    has_portal_account: bool
    current_homes: list[ResidencyOut] = Field(alias="current_residencies")

    @staticmethod
    def resolve_mobile(obj, context):
        return _shown_mobile(context["request"].auth, obj)

    @staticmethod
    def resolve_tier_label(obj):
        return str(obj.get_tier_display())

    @staticmethod
    def resolve_has_portal_account(obj):
        return obj.user_id is not None


class ResidentDetailOut(ResidentOut):
    residencies: list[ResidencyOut] = Field(
        alias="history", description="Every home on record, moved-out ones included."
    )


class MembershipOut(Schema):
    id: int
    user: PersonOut
    company_id: int
    estate_id: int | None = Field(description="Empty for a company-wide role.")
    role: str
    role_label: str
    is_active: bool

    @staticmethod
    def resolve_role_label(obj):
        return str(obj.get_role_display())


class TeamOut(Schema):
    id: int
    estate_id: int
    name: str
    skills: list[str] = Field(description="Request categories the team covers.")
    skill_labels: list[str]
    lead: PersonOut | None
    members: list[PersonOut]

    @staticmethod
    def resolve_members(obj):
        return list(obj.members.all())


class RoleOut(Schema):
    role: str
    role_label: str
    company_id: int
    estate_id: int | None


class EstateBriefOut(Schema):
    id: int
    name: str
    company_id: int
    service_phone: str


class ProfileOut(Schema):
    id: int
    username: str
    name: str
    email: str
    mobile: str | None = Field(description="Your own number, in full.")
    preferred_language: str
    is_resident: bool
    roles: list[RoleOut]
    estates: list[EstateBriefOut]


class MyHomeOut(Schema):
    id: int = Field(description="The residency.")
    relation: str
    relation_label: str
    moved_in_on: date | None
    unit: UnitOut
    estate: EstateBriefOut = Field(alias="unit.estate")

    @staticmethod
    def resolve_relation_label(obj):
        return str(obj.get_relation_display())


# ----------------------------------------------------------------------------- inputs


class EstateFilter(Schema):
    estate: ObjectId | None = None


class UnitFilter(Schema):
    estate: ObjectId | None = None
    building: ObjectId | None = None
    status: Unit.Status | None = None
    q: SearchText | None = Field(None, description="Part of the unit number or building name.")


class ResidentFilter(Schema):
    estate: ObjectId | None = None
    q: SearchText | None = Field(None, description="Part of the name, or of the mobile.")


class BuildingIn(InputSchema):
    name: Text
    floors_above: Number = 1
    floors_below: Number = 0
    note: Text = ""


class BuildingPatch(InputSchema):
    name: Text | None = None
    floors_above: Number | None = None
    floors_below: Number | None = None
    note: Text | None = None


class UnitIn(InputSchema):
    entrance: Text = ""
    number: Text
    floor: Number
    gross_area: Decimal
    inner_area: Decimal | None = None
    status: Unit.Status = Unit.Status.VACANT


class UnitPatch(InputSchema):
    entrance: Text | None = None
    number: Text | None = None
    floor: Number | None = None
    gross_area: Decimal | None = None
    inner_area: Decimal | None = None
    status: Unit.Status | None = None


class ResidentIn(InputSchema):
    name: Text
    mobile: Text = Field(description="Mainland mobile; spaces, dashes and +86 are removed.")
    tier: Resident.Tier = Resident.Tier.REGULAR
    note: Text = ""
    unit: Reference | None = Field(
        None, description="The unit in this estate they live in (needed unless company admin)."
    )
    relation: Residency.Relation = Residency.Relation.OWNER
    moved_in_on: Day | None = None


class ResidentPatch(InputSchema):
    name: Text | None = None
    mobile: Text | None = None
    tier: Resident.Tier | None = None
    note: Text | None = None


class MoveIn(InputSchema):
    unit: Reference
    relation: Residency.Relation
    moved_in_on: Day | None = Field(None, description="Today when left out.")


class MoveOut(InputSchema):
    moved_out_on: Day | None = Field(None, description="Today when left out.")


def _referenced_unit(user, unit_id, **scope) -> Unit:
    """A unit named in a request body: one the caller cannot see is reported on the field,
    the same way as one that does not exist."""
    unit = (
        Unit.objects.restrict(user)
        .select_related("building", "estate")
        .filter(pk=unit_id, **scope)
        .first()
    )
    if unit is None:
        raise ValidationError({"unit": _("No such unit.")})
    return unit


# ----------------------------------------------------------------------------- estates


@router.get("/estates", response={200: list[EstateOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_estates(request):
    return selectors.estate_list(request.auth)


@router.get("/estates/{estate_id}", response={200: EstateOut, **READ_ERRORS})
def get_estate(request, estate_id: ObjectId):
    return get_visible(selectors.estate_list(request.auth), request.auth, pk=estate_id)


# ----------------------------------------------------------------------------- buildings


@router.get("/buildings", response={200: list[BuildingOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_buildings(request, filters: Query[EstateFilter]):
    user = request.auth
    return selectors.building_list(user, estate=visible_or_none(Estate, user, filters.estate))


@router.get("/buildings/{building_id}", response={200: BuildingOut, **READ_ERRORS})
def get_building(request, building_id: ObjectId):
    return get_visible(selectors.building_list(request.auth), request.auth, pk=building_id)


@router.post("/estates/{estate_id}/buildings", response={201: BuildingOut, **WRITE_ERRORS})
def create_building(request, estate_id: ObjectId, payload: BuildingIn):
    user = request.auth
    estate = get_visible(Estate, user, pk=estate_id)
    building = services.building_create(actor=user, estate=estate, **payload.dict())
    return Status(201, get_visible(selectors.building_list(user), user, pk=building.pk))


@router.patch("/buildings/{building_id}", response={200: BuildingOut, **WRITE_ERRORS})
def update_building(request, building_id: ObjectId, payload: BuildingPatch):
    user = request.auth
    building = get_visible(Building, user, pk=building_id)
    services.building_update(actor=user, building=building, **payload.dict(exclude_unset=True))
    return get_visible(selectors.building_list(user), user, pk=building.pk)


@router.delete("/buildings/{building_id}", response={204: None, **WRITE_ERRORS})
def delete_building(request, building_id: ObjectId):
    user = request.auth
    services.building_delete(actor=user, building=get_visible(Building, user, pk=building_id))
    return Status(204, None)


# ----------------------------------------------------------------------------- units


@router.get("/units", response={200: list[UnitOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_units(request, filters: Query[UnitFilter]):
    user = request.auth
    return selectors.unit_list(
        user,
        estate=visible_or_none(Estate, user, filters.estate),
        building=visible_or_none(Building, user, filters.building),
        status=filters.status,
        search=filters.q,
    )


@router.get("/units/{unit_id}", response={200: UnitOut, **READ_ERRORS})
def get_unit(request, unit_id: ObjectId):
    return get_visible(selectors.unit_list(request.auth), request.auth, pk=unit_id)


@router.post("/buildings/{building_id}/units", response={201: UnitOut, **WRITE_ERRORS})
def create_unit(request, building_id: ObjectId, payload: UnitIn):
    user = request.auth
    building = get_visible(Building.objects.select_related("estate"), user, pk=building_id)
    unit = services.unit_create(actor=user, building=building, **payload.dict())
    return Status(201, get_visible(selectors.unit_list(user), user, pk=unit.pk))


@router.patch("/units/{unit_id}", response={200: UnitOut, **WRITE_ERRORS})
def update_unit(request, unit_id: ObjectId, payload: UnitPatch):
    user = request.auth
    unit = get_visible(Unit.objects.select_related("building"), user, pk=unit_id)
    services.unit_update(actor=user, unit=unit, **payload.dict(exclude_unset=True))
    return get_visible(selectors.unit_list(user), user, pk=unit.pk)


# ----------------------------------------------------------------------------- common areas


@router.get("/common-areas", response={200: list[CommonAreaOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_common_areas(request, filters: Query[EstateFilter]):
    user = request.auth
    return selectors.common_area_list(user, estate=visible_or_none(Estate, user, filters.estate))


@router.get("/common-areas/{area_id}", response={200: CommonAreaOut, **READ_ERRORS})
def get_common_area(request, area_id: ObjectId):
    return get_visible(selectors.common_area_list(request.auth), request.auth, pk=area_id)


# ----------------------------------------------------------------------------- residents


def _resident_detail(user, resident_id: int) -> Resident:
    resident = get_visible(
        _with_mobile_rule(selectors.resident_list(user), user), user, pk=resident_id
    )
    resident.history = list(selectors.residencies_of_resident(user, resident))
    return resident


@router.get("/residents", response={200: list[ResidentOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_residents(request, filters: Query[ResidentFilter]):
    user = request.auth
    residents = selectors.resident_list(
        user, estate=visible_or_none(Estate, user, filters.estate), search=filters.q
    )
    return _with_mobile_rule(residents, user)


@router.get("/residents/{resident_id}", response={200: ResidentDetailOut, **READ_ERRORS})
def get_resident(request, resident_id: ObjectId):
    return _resident_detail(request.auth, resident_id)


@router.post("/estates/{estate_id}/residents", response={201: ResidentDetailOut, **WRITE_ERRORS})
def create_resident(request, estate_id: ObjectId, payload: ResidentIn):
    user = request.auth
    estate = get_visible(Estate.objects.select_related("company"), user, pk=estate_id)
    fields = payload.dict()
    unit_id = fields.pop("unit")
    unit = _referenced_unit(user, unit_id) if unit_id is not None else None
    resident = services.resident_create(actor=user, estate=estate, unit=unit, **fields)
    return Status(201, _resident_detail(user, resident.pk))


@router.patch("/residents/{resident_id}", response={200: ResidentDetailOut, **WRITE_ERRORS})
def update_resident(request, resident_id: ObjectId, payload: ResidentPatch):
    user = request.auth
    resident = get_visible(Resident, user, pk=resident_id)
    services.resident_update(actor=user, resident=resident, **payload.dict(exclude_unset=True))
    return _resident_detail(user, resident.pk)


@router.post("/residents/{resident_id}/residencies", response={201: ResidencyOut, **WRITE_ERRORS})
def start_residency(request, resident_id: ObjectId, payload: MoveIn):
    user = request.auth
    resident = get_visible(Resident, user, pk=resident_id)
    residency = services.residency_start(
        actor=user,
        resident=resident,
        unit=_referenced_unit(user, payload.unit),
        relation=payload.relation,
        moved_in_on=payload.moved_in_on,
    )
    return Status(201, residency)


@router.post("/residencies/{residency_id}/end", response={200: ResidencyOut, **WRITE_ERRORS})
def end_residency(request, residency_id: ObjectId, payload: MoveOut | None = None):
    user = request.auth
    residency = get_visible(
        Residency.objects.select_related("unit__building", "unit__estate"), user, pk=residency_id
    )
    moved_out_on = payload.moved_out_on if payload is not None else None
    return services.residency_end(actor=user, residency=residency, moved_out_on=moved_out_on)


# ----------------------------------------------------------------------------- staff and teams


@router.get("/staff", response={200: list[MembershipOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_staff(request, filters: Query[EstateFilter]):
    user = request.auth
    return selectors.staff_list(user, estate=visible_or_none(Estate, user, filters.estate))


@router.get("/teams", response={200: list[TeamOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_teams(request, filters: Query[EstateFilter]):
    user = request.auth
    return selectors.team_list(user, estate=visible_or_none(Estate, user, filters.estate))


@router.get("/teams/{team_id}", response={200: TeamOut, **READ_ERRORS})
def get_team(request, team_id: ObjectId):
    return get_visible(selectors.team_list(request.auth), request.auth, pk=team_id)


# ----------------------------------------------------------------------------- me


@me_router.get("", response={200: ProfileOut, 401: READ_ERRORS[401]})
def get_profile(request):
    user = request.auth
    role_labels = dict(Role.choices)
    return {
        "id": user.pk,
        "username": user.username,
        "name": user.name,
        "email": user.email,
        "mobile": user.mobile,
        "preferred_language": user.preferred_language,
        "is_resident": selectors.is_resident(user),
        "roles": [
            {
                "role": grant.role,
                "role_label": str(role_labels.get(grant.role, grant.role)),
                "company_id": grant.company_id,
                "estate_id": grant.estate_id,
            }
            for grant in grants_of(user)
        ],
        "estates": list(Estate.objects.restrict(user).order_by("name", "pk")),
    }


@me_router.get("/units", response={200: list[MyHomeOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_my_units(request):
    return selectors.my_residencies(request.auth)


@me_router.get("/resident", response={200: ResidentDetailOut, **READ_ERRORS})
def get_my_resident_record(request):
    user = request.auth
    record = Resident.objects.restrict(user).filter(user=user).first()
    if record is None:
        raise Http404
    return _resident_detail(user, record.pk)
