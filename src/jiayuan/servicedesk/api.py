"""Owner requests over the API: the same selectors and services as the owner portal, the
desk workbench and the technician's pages, so a phone app, a WeChat mini-program or a
call-centre system works the request exactly as a person on the pages does.

Every step on a request carries the `version` the client last read; a request changed by
someone else meanwhile answers 409 with the reason, and nothing is written."""

from datetime import datetime
from decimal import Decimal
from typing import Literal

from django.core.exceptions import ValidationError
from django.http import FileResponse, Http404
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status
from pydantic import BaseModel, ConfigDict, StrictBool

from jiayuan.core.access import VIEW, get_visible, grants_of, visible_or_none
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Day,
    ErrorOut,
    InputSchema,
    Moment,
    Number,
    ObjectId,
    PageNumberPagination,
    PersonOut,
    ReadPage,
    Reference,
    SearchText,
    Text,
)
from jiayuan.core.db import prepared_statements
from jiayuan.core.models import choice_labels
from jiayuan.org.models import CommonArea, Estate, Resident
from jiayuan.servicedesk import clocks, incidents, selectors, services, timeline
from jiayuan.servicedesk.models import (
    Channel,
    Kind,
    ReturnVisit,
    ServiceRequest,
    Urgency,
)
from jiayuan.servicedesk.models import (
    Status as RequestStatus,
)
from jiayuan.servicedesk.services import RequestChanged
from jiayuan.sla.deadlines import DUE_FILTERS

router = Router(tags=["service desk"])
visits_router = Router(tags=["service desk"])
photos_router = Router(tags=["service desk"])
templates_router = Router(tags=["service desk"])
categories_router = Router(tags=["service desk"])

# A step can also be refused because someone else got there first.
STEP_ERRORS = {**WRITE_ERRORS, 409: ErrorOut}


# ----------------------------------------------------------------------------- schemas


class NamedOut(BaseModel):
    """An id and a name: a team, or a person already named. A plain model, read from a
    dict or a row's attributes by pydantic's compiled validator."""

    model_config = ConfigDict(from_attributes=True)

    id: int
    name: str


class ResidentBriefOut(Schema):
    id: int
    name: str


def _caller(context) -> object:
    return context["request"].auth


def _for_owner(user, estate: Estate) -> bool:
    """An owner reads their request as its reporter: no internal trail, no staff notes."""
    return not (user.is_superuser or services.is_staff_in(user, estate))


FIRST_CONTACT = "首问负责人: the staff member responsible until the request is closed."


class RequestLineOut(BaseModel):
    """A request as the list gives it, built from values already worded (`_request_lines`):
    a plain model, so 50 lines are checked in compiled code instead of field by field
    through Ninja's getter (decisions §34)."""

    id: int
    number: str
    estate_id: int
    kind: str
    kind_label: str
    category: str
    category_label: str
    urgency: str
    urgency_label: str
    channel: str
    channel_label: str
    status: str
    status_label: str
    building_id: int | None
    place: str = Field(description="The unit or common area, in words.")
    description: str
    contact_name: str
    contact_phone: str = Field(description="In full for people who call owners, else masked.")
    first_contact: NamedOut | None = Field(description=FIRST_CONTACT)
    assignee: NamedOut | None
    team: NamedOut | None
    appointment_start: datetime | None
    appointment_end: datetime | None
    reopen_count: int
    due_at: datetime | None = Field(
        description="Staff only: when the earliest running SLA clock is due; null when none "
        "runs (and always for owners)."
    )
    created_at: datetime
    updated_at: datetime
    version: int = Field(description="Send it back with every step on the request.")


class RequestOut(RequestLineOut, Schema):
    """The same fields read from a request row, for the answers that hold one request."""

    first_contact: PersonOut | None = Field(description=FIRST_CONTACT)
    assignee: PersonOut | None

    @staticmethod
    def resolve_kind_label(obj):
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_category_label(obj):
        return str(obj.get_category_display())

    @staticmethod
    def resolve_urgency_label(obj):
        return str(obj.get_urgency_display())

    @staticmethod
    def resolve_channel_label(obj):
        return str(obj.get_channel_display())

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())

    @staticmethod
    def resolve_place(obj):
        return obj.place_label

    @staticmethod
    def resolve_due_at(obj, context):
        return None if _for_owner(_caller(context), obj.estate) else obj.due_at

    @staticmethod
    def resolve_contact_phone(obj, context):
        return selectors.phone_shown(
            _caller(context),
            phone=obj.contact_phone,
            reporter_user_id=obj.reporter_user_id,
            assignee_id=obj.assignee_id,
            estate=obj.estate,
        )


# The list's columns copied as they are, and those read to word the others.
_LINE_COPIED = (
    *("id", "number", "estate_id", "kind", "category", "urgency", "channel", "status"),
    *("building_id", "description", "contact_name", "appointment_start", "appointment_end"),
    *("reopen_count", "created_at", "updated_at", "version"),
)
_LINE_VALUES = (
    *_LINE_COPIED,
    *("unit_id", "common_area_id", "location_note", "contact_phone", "reporter_user_id"),
    *("first_contact_id", "assignee_id", "team_id", "due_at"),
)
_LABELLED = ("kind", "category", "urgency", "channel", "status")


def _request_lines(user, rows, estate: Estate | None) -> list[dict]:
    """A page of the list read as values, worded as RequestOut words a row: 50 requests as
    models with their estate, people and team cost about as much as the rest of the answer."""
    values = selectors.page_values(rows, _LINE_VALUES)
    estates = {estate.pk: estate} if estate is not None else {}
    missing = {v["estate_id"] for v in values} - estates.keys()
    estates.update(Estate.objects.only("pk", "company_id").in_bulk(missing))
    staff_reads = {pk: not _for_owner(user, each) for pk, each in estates.items()}
    place = selectors.page_places(values)
    named = _Named(people=selectors.staff_names(values), teams=selectors.team_names(values))
    return [
        _worded_line(user, v, estates[v["estate_id"]], staff_reads[v["estate_id"]], place(v), named)
        for v in values
    ]


def _request_line(user, request: ServiceRequest) -> dict:
    """A request in hand (just created, its people and team read along), worded as a line
    of the list: as a plain dict, not through RequestOut's getter, field by field."""
    v = {name: getattr(request, name) for name in _LINE_VALUES}
    named = _Named(
        people={
            person.pk: person.get_short_name()
            for person in (request.first_contact, request.assignee)
            if person is not None
        },
        teams={request.team_id: request.team.name} if request.team_id else {},
    )
    staff_reads = not _for_owner(user, request.estate)
    return _worded_line(user, v, request.estate, staff_reads, request.place_label, named)


class _Named:
    """The names lines show: the choices' labels, and their people's and teams' by id."""

    def __init__(self, *, people: dict[int, str], teams: dict[int, str]):
        self.people, self.teams = people, teams
        self.labels = {name: choice_labels(ServiceRequest, name) for name in _LABELLED}

    def person(self, pk: int | None) -> dict | None:
        return None if pk is None else {"id": pk, "name": self.people.get(pk, "")}

    def team(self, pk: int | None) -> dict | None:
        return None if pk is None else {"id": pk, "name": self.teams.get(pk, "")}


def _worded_line(user, v: dict, estate, staff_reads: bool, place: str, named: _Named) -> dict:
    labels = named.labels
    return {
        **{name: v[name] for name in _LINE_COPIED},
        **{f"{name}_label": labels[name].get(v[name], v[name]) for name in _LABELLED},
        "place": place,
        "contact_phone": selectors.phone_shown(
            user,
            phone=v["contact_phone"],
            reporter_user_id=v["reporter_user_id"],
            assignee_id=v["assignee_id"],
            estate=estate,
        ),
        "first_contact": named.person(v["first_contact_id"]),
        "assignee": named.person(v["assignee_id"]),
        "team": named.team(v["team_id"]),
        "due_at": v["due_at"] if staff_reads else None,
    }


class ActionOut(Schema):
    action: str
    label: str
    needs_reason: bool


class PhotoOut(Schema):
    id: int
    stage: str
    stage_label: str
    uploaded_at: datetime
    url: str
    thumbnail_url: str

    @staticmethod
    def resolve_stage_label(obj):
        return str(obj.get_stage_display())

    @staticmethod
    def resolve_url(obj):
        return f"/api/v1/photos/{obj.pk}"

    @staticmethod
    def resolve_thumbnail_url(obj):
        return f"/api/v1/photos/{obj.pk}/thumbnail"


class MaterialOut(Schema):
    item: str
    unit_price: Decimal
    quantity: Decimal
    total: Decimal


class RatingOut(Schema):
    overall: int
    timeliness: int
    attitude: int
    quality: int
    comment: str
    tags: list[str]
    is_automatic: bool
    rated_at: datetime


class HandlingOut(Schema):
    handler: PersonOut | None
    team: NamedOut | None
    assigned_by: PersonOut | None
    assigned_at: datetime
    accepted_at: datetime | None
    arrived_at: datetime | None
    ended_at: datetime | None
    outcome: str
    note: str


class ReturnVisitOut(Schema):
    id: int
    request_id: int
    due_at: datetime
    done_at: datetime | None
    method: str
    outcome: str
    note: str


class TargetOut(Schema):
    target: str = Field(description="accept, response, arrival or resolution.")
    label: str
    state: str = Field(description="running, paused, met or stopped.")
    tone: str = Field(description="ok, soon, late, done, missed, paused or off.")
    words: str = Field(description="The state in words: time left, overdue by, met in.")
    due_at: datetime | None = Field(description="While the clock runs.")
    minutes: int = Field(description="The promise, in minutes of its clock.")
    clock: str = Field(description="business (working hours) or calendar (around the clock).")
    elapsed_minutes: float = Field(description="Minutes of its clock counted so far.")
    met_at: datetime | None
    on_time: bool | None


class RequestDetailOut(RequestOut):
    unit_id: int | None
    common_area_id: int | None
    location_note: str
    reporter: ResidentBriefOut | None
    praised_staff: PersonOut | None
    parent_id: int | None = Field(description="The incident this report joined, if any.")
    parent_number: str | None
    children_count: int = Field(description="Reports of the same fault linked to this one.")
    related_to_id: int | None
    held_from: str
    hold_reason: str
    close_reason: str
    reply: str
    work_notes: str
    is_paid: bool
    labour_fee: Decimal
    materials: list[MaterialOut]
    charge_total: Decimal
    accepted_at: datetime | None
    dispatched_at: datetime | None
    arrived_at: datetime | None
    completed_at: datetime | None
    replied_at: datetime | None
    closed_at: datetime | None
    auto_closed: bool
    photos: list[PhotoOut]
    rating: RatingOut | None
    handlings: list[HandlingOut] = Field(description="The handler trail; empty for owners.")
    return_visit: ReturnVisitOut | None = Field(description="For staff only.")
    targets: list[TargetOut] = Field(description="The SLA clocks; empty for owners.")
    allowed_actions: list[ActionOut] = Field(
        description="The steps the caller may take now, for POST …/actions/{action}."
    )
    can_rate: bool

    @staticmethod
    def resolve_parent_number(obj):
        return obj.parent.number if obj.parent_id else None

    @staticmethod
    def resolve_children_count(obj):
        return obj.children.count()

    @staticmethod
    def resolve_materials(obj):
        return list(obj.materials.all())

    @staticmethod
    def resolve_photos(obj):
        return list(obj.photos.all())

    @staticmethod
    def resolve_rating(obj):
        return getattr(obj, "rating", None)

    @staticmethod
    def resolve_handlings(obj, context):
        if _for_owner(_caller(context), obj.estate):
            return []
        return sorted(obj.handlings.all(), key=lambda hop: (hop.assigned_at, hop.pk))

    @staticmethod
    def resolve_return_visit(obj, context):
        if _for_owner(_caller(context), obj.estate):
            return None
        return ReturnVisit.objects.filter(request=obj).first()

    @staticmethod
    def resolve_targets(obj, context):
        if _for_owner(_caller(context), obj.estate):
            return []
        return clocks.clock_details(obj)

    @staticmethod
    def resolve_allowed_actions(obj, context):
        return [
            {"action": t.action, "label": str(t.label), "needs_reason": t.needs_reason}
            for t in services.allowed_transitions(_caller(context), obj)
        ]

    @staticmethod
    def resolve_can_rate(obj, context):
        return services.rating_allowed(_caller(context), obj)


class TimelineEntryOut(Schema):
    at: datetime
    text: str
    detail: str
    actor: str
    tone: str


class CategoryOut(Schema):
    code: str
    label: str


class ReplyTemplateOut(Schema):
    id: int
    kind: str
    title: str
    body: str


# ----------------------------------------------------------------------------- inputs


class RequestFilter(Schema):
    estate: ObjectId | None = None
    status: RequestStatus | None = None
    open_only: bool = Field(False, description="Only requests not yet closed.")
    kind: Kind | None = None
    category: str | None = Field(None, max_length=32)
    urgency: Urgency | None = None
    building: ObjectId | None = None
    assignee: ObjectId | None = None
    unassigned: bool = False
    created_from: Day | None = None
    created_to: Day | None = None
    q: SearchText | None = Field(
        None,
        description="Part of the number, the contact's name or the description, or "
        "the end of the contact's phone.",
    )
    due: Literal[tuple(DUE_FILTERS)] | None = Field(
        None,
        description="overdue: an SLA clock is past due; soon: the earliest one is due within "
        "the hour.",
    )


class RequestIn(InputSchema):
    estate: Reference
    kind: Kind
    category: str = Field(max_length=32)
    urgency: Urgency = Urgency.NORMAL
    description: Text
    unit: Reference | None = None
    common_area: Reference | None = None
    location_note: Text = ""
    appointment_start: Moment | None = None
    appointment_end: Moment | None = None
    channel: Channel | None = Field(None, description="Staff only: how the request came in.")
    reporter: Reference | None = Field(None, description="Staff only: the resident reporting.")
    contact_name: Text = ""
    contact_phone: Text = ""
    praised_staff: Reference | None = None


class MaterialIn(InputSchema):
    item: Text
    unit_price: Decimal
    quantity: Decimal


class StepIn(InputSchema):
    version: Number = Field(ge=1, description="The request's version the caller acted on.")
    reason: Text | None = None
    assignee: Reference | None = None
    team: Reference | None = None
    reply: Text | None = None
    to_previous: StrictBool | None = None
    work_notes: Text | None = None
    is_paid: StrictBool | None = None
    labour_fee: Decimal | None = None
    materials: list[MaterialIn] | None = Field(None, max_length=services.MAX_MATERIAL_LINES)


class RatingIn(InputSchema):
    version: Number | None = Field(None, ge=1)
    overall: Number
    timeliness: Number | None = None
    attitude: Number | None = None
    quality: Number | None = None
    comment: Text = ""
    tags: list[Text] = Field(default_factory=list, max_length=services.RATING_TAGS_MAX)


class VisitIn(InputSchema):
    method: ReturnVisit.Method
    outcome: ReturnVisit.Outcome
    note: Text = ""
    follow_up: str = Field(
        "", max_length=10, description='"reopen" or "complaint" for an unhappy owner.'
    )


class CategoryFilter(Schema):
    estate: ObjectId


class VisitFilter(Schema):
    estate: ObjectId | None = None


class TemplateFilter(Schema):
    estate: ObjectId | None = Field(None, description="The templates of this estate's company.")
    kind: Kind | None = None


# ----------------------------------------------------------------------------- references


def _in_body(field: str, rows, pk):
    """An object named in a request body (`rows`: the queryset it must be in, or a function
    making it): one the caller cannot use is reported on its field, the same way as one
    that does not exist."""
    if pk is None:
        return None
    found = (rows() if callable(rows) else rows).filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("Not found.")})
    return found


def _request_for(user, request_id: int) -> ServiceRequest:
    return selectors.request_detail(user, request_id)


def _handler_of(user, estate, step: StepIn):
    assignee = _in_body("assignee", selectors.estate_staff(user, estate), step.assignee)
    team = _in_body("team", selectors.estate_teams(user, estate), step.team)
    return assignee, team


def _dispatch(user, req, step):
    assignee, team = _handler_of(user, req.estate, step)
    return services.request_dispatch(
        actor=user, request=req, assignee=assignee, team=team, expected_version=step.version
    )


def _transfer(user, req, step):
    assignee, team = _handler_of(user, req.estate, step)
    return services.request_transfer(
        actor=user,
        request=req,
        reason=step.reason,
        assignee=assignee,
        team=team,
        expected_version=step.version,
    )


def _investigate(user, req, step):
    assignee, _team = _handler_of(user, req.estate, step)
    return services.request_investigate(
        actor=user, request=req, assignee=assignee, expected_version=step.version
    )


def _complete(user, req, step):
    return services.request_complete(
        actor=user,
        request=req,
        work_notes=step.work_notes,
        is_paid=bool(step.is_paid),
        labour_fee=step.labour_fee,
        materials=[line.dict() for line in step.materials or []],
        expected_version=step.version,
    )


def _return(user, req, step):
    return services.request_return(
        actor=user,
        request=req,
        reason=step.reason,
        to_previous=bool(step.to_previous),
        expected_version=step.version,
    )


def _plain(service, *fields):
    def run(user, req, step):
        chosen = {name: getattr(step, name) for name in fields}
        return service(actor=user, request=req, expected_version=step.version, **chosen)

    return run


# What each step calls, and which of StepIn's fields (besides `version`) it takes.
STEPS = {
    "accept": (_plain(services.request_accept), ()),
    "decline": (_plain(services.request_decline, "reason"), ("reason",)),
    "cancel": (_plain(services.request_cancel, "reason"), ("reason",)),
    "dispatch": (_dispatch, ("assignee", "team")),
    "take": (_plain(services.request_take), ()),
    "arrive": (_plain(services.request_arrive), ()),
    "complete": (_complete, ("work_notes", "is_paid", "labour_fee", "materials")),
    "investigate": (_investigate, ("assignee",)),
    "reply": (_plain(services.request_reply, "reply"), ("reply",)),
    "transfer": (_transfer, ("reason", "assignee", "team")),
    "return": (_return, ("reason", "to_previous")),
    "hold": (_plain(services.request_hold, "reason"), ("reason",)),
    "resume": (_plain(services.request_resume), ()),
    "confirm": (_plain(services.request_confirm), ()),
    "reopen": (_plain(services.request_reopen, "reason"), ("reason",)),
}


def _run_step(user, req, action: str, step: StepIn):
    if action not in STEPS:
        raise ValidationError(
            {"action": _("Choose one of: %(choices)s.") % {"choices": ", ".join(STEPS)}}
        )
    run, takes = STEPS[action]
    given = step.model_fields_set - {"version"}
    unexpected = sorted(given - set(takes))
    if unexpected:
        raise ValidationError(
            {name: _("This step does not take this field.") for name in unexpected}
        )
    return run(user, req, step)


def _conflict(exc: RequestChanged):
    return Status(409, {"detail": " ".join(exc.messages), "errors": []})


# ----------------------------------------------------------------------------- requests


@router.get("", response={200: list[RequestLineOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_requests(request, filters: Query[RequestFilter]):
    """The requests the caller may see, newest first: an owner's own, a technician's work,
    the desk's estates."""
    user = request.auth
    estate = visible_or_none(Estate, user, filters.estate)
    rows = selectors.request_queue(
        user,
        estate=estate,
        filters=selectors.QueueFilters(
            status=filters.status or "",
            kind=filters.kind or "",
            category=filters.category or "",
            urgency=filters.urgency or "",
            building=filters.building,
            assignee=filters.assignee,
            unassigned=filters.unassigned,
            open_only=filters.open_only,
            created_from=filters.created_from,
            created_to=filters.created_to,
            search=filters.q or "",
            due=filters.due or "",
        ),
    )
    return ReadPage(rows, read=lambda page: _request_lines(user, page, estate))


def _reported_place(user, estate_id: int, unit_id: int | None):
    """The estate, the unit named (or None) and, for someone with no staff role (an owner),
    their homes in the estate, read with the flats: the service takes them rather than read
    them again. The service decides who may report in the estate and about which unit (404
    for an estate that is not the caller's); here the ids are only turned into rows."""
    unit = homes = None
    if not grants_of(user):
        homes = selectors.homes_in(user, estate_id)
        unit = next((home.home_unit for home in homes if home.home_unit_id == unit_id), None)
    if unit is None and unit_id is not None:
        unit = selectors.unit_with_estate(estate_id, unit_id)
        if unit is None:
            raise ValidationError({"unit": _("Not found.")})
    if unit is not None:
        estate = unit.estate
    elif homes:
        estate = homes[0].home_unit.estate
    else:
        estate = Estate.objects.filter(pk=estate_id).first()
    if estate is None:
        raise Http404
    return estate, unit, homes


@router.post("", response={201: RequestLineOut, **WRITE_ERRORS})
def create_request(request, payload: RequestIn):
    """An owner reports (about their own unit or a common area of their estate), or the desk
    records a call, a visit or what staff found (naming the resident if there is one).
    Answers the new request as the list shows it; its detail is at GET /requests/{id}."""
    # Every owner's report runs the same point lookups and inserts: prepared (core.db).
    with prepared_statements():
        user = request.auth
        estate, unit, homes = _reported_place(user, payload.estate, payload.unit)
        created = services.request_create(
            actor=user,
            estate=estate,
            kind=payload.kind,
            category=payload.category,
            urgency=payload.urgency,
            description=payload.description,
            channel=payload.channel,
            unit=unit,
            common_area=_in_body(
                "common_area", lambda: CommonArea.objects.filter(estate=estate), payload.common_area
            ),
            location_note=payload.location_note,
            appointment_start=payload.appointment_start,
            appointment_end=payload.appointment_end,
            reporter=_in_body(
                "reporter",
                lambda: Resident.objects.restrict(user, VIEW).filter(company_id=estate.company_id),
                payload.reporter,
            ),
            contact_name=payload.contact_name,
            contact_phone=payload.contact_phone,
            praised_staff=_in_body(
                "praised_staff", lambda: selectors.estate_staff(user, estate), payload.praised_staff
            ),
            homes=homes,
        )
        return Status(201, _request_line(user, created))


@router.get("/{request_id}", response={200: RequestDetailOut, **READ_ERRORS})
def get_request(request, request_id: ObjectId):
    return _request_for(request.auth, request_id)


@router.get("/{request_id}/timeline", response={200: list[TimelineEntryOut], **READ_ERRORS})
def get_timeline(request, request_id: ObjectId):
    """What happened, oldest first, in plain words; owners see their side of it."""
    user = request.auth
    found = _request_for(user, request_id)
    for_owner = _for_owner(user, found.estate)
    events = selectors.request_timeline(user, found, for_owner=for_owner)
    return [
        {"at": e.at, "text": str(e.text), "detail": str(e.detail), "actor": e.actor, "tone": e.tone}
        for e in timeline.present(events, for_owner=for_owner)
    ]


@router.post("/{request_id}/actions/{action}", response={200: RequestDetailOut, **STEP_ERRORS})
def take_step(request, request_id: ObjectId, action: str, payload: StepIn):
    """One step of the request's life (see `allowed_actions` on the request): accept,
    decline, cancel, dispatch, take, arrive, complete, investigate, reply, transfer, return,
    hold, resume, confirm, reopen."""
    user = request.auth
    found = _request_for(user, request_id)
    try:
        _run_step(user, found, action, payload)
    except RequestChanged as exc:
        return _conflict(exc)
    return _request_for(user, request_id)


class ReclassifyIn(InputSchema):
    version: Number = Field(ge=1, description="The request's version the caller acted on.")
    kind: Kind | None = None
    category: str | None = Field(None, max_length=32)
    urgency: Urgency | None = None


@router.post("/{request_id}/reclassify", response={200: RequestDetailOut, **STEP_ERRORS})
def reclassify_request(request, request_id: ObjectId, payload: ReclassifyIn):
    """The desk (or a dispatcher) corrects the kind, category or urgency; fields left out
    stay as they are. The kind changes only before the request is dispatched or handled."""
    user = request.auth
    found = _request_for(user, request_id)
    try:
        services.request_reclassify(
            actor=user,
            request=found,
            kind=payload.kind,
            category=payload.category,
            urgency=payload.urgency,
            expected_version=payload.version,
        )
    except RequestChanged as exc:
        return _conflict(exc)
    return _request_for(user, request_id)


class LinkIn(InputSchema):
    version: Number | None = Field(None, ge=1)
    parent: Reference = Field(description="The open request (the incident) of the same fault.")


class UnlinkIn(InputSchema):
    version: Number | None = Field(None, ge=1)
    reason: Text


@router.post("/{request_id}/link", response={200: RequestDetailOut, **STEP_ERRORS})
def link_request(request, request_id: ObjectId, payload: LinkIn):
    """The desk links a report to the open incident of the same fault: it waits on it and
    is done when the incident's work is done."""
    user = request.auth
    found = _request_for(user, request_id)
    incidents.ensure_linker(user, found)  # 403 before the body is read, as for any step
    parent = _in_body("parent", ServiceRequest.objects.restrict(user, VIEW), payload.parent)
    try:
        incidents.incident_link(
            actor=user, request=found, parent=parent, expected_version=payload.version
        )
    except RequestChanged as exc:
        return _conflict(exc)
    return _request_for(user, request_id)


@router.post("/{request_id}/unlink", response={200: RequestDetailOut, **STEP_ERRORS})
def unlink_request(request, request_id: ObjectId, payload: UnlinkIn):
    """The desk takes a report out of its incident (a reason is recorded); it goes on from
    the state it was in when it joined."""
    user = request.auth
    found = _request_for(user, request_id)
    try:
        incidents.incident_unlink(
            actor=user, request=found, reason=payload.reason, expected_version=payload.version
        )
    except RequestChanged as exc:
        return _conflict(exc)
    return _request_for(user, request_id)


@router.post("/{request_id}/rating", response={201: RatingOut, **STEP_ERRORS})
def rate_request(request, request_id: ObjectId, payload: RatingIn):
    """The owner rates a closed request, once."""
    user = request.auth
    found = _request_for(user, request_id)
    try:
        rating = services.request_rate(
            actor=user,
            request=found,
            overall=payload.overall,
            timeliness=payload.timeliness,
            attitude=payload.attitude,
            quality=payload.quality,
            comment=payload.comment,
            tags=payload.tags,
            expected_version=payload.version,
        )
    except RequestChanged as exc:
        return _conflict(exc)
    return Status(201, rating)


@router.post("/{request_id}/photos", response={201: list[PhotoOut], **STEP_ERRORS})
def add_photos(
    request,
    request_id: ObjectId,
    photos: File[list[UploadedFile]],
    version: Form[int | None] = None,
):
    """More photos on an open request (multipart, field `photos`, at most 9 in all): the
    owner's of the fault, staff's of the work."""
    user = request.auth
    found = _request_for(user, request_id)
    try:
        saved = services.request_add_photos(
            actor=user, request=found, photos=photos, expected_version=version
        )
    except RequestChanged as exc:
        return _conflict(exc)
    return Status(201, saved)


# ----------------------------------------------------------------------------- photos

JPEG = {"200": {"description": "The photo (JPEG).", "content": {"image/jpeg": {}}}}


def _photo_file(request, photo_id: int, *, thumbnail: bool):
    picture = selectors.request_photo(request.auth, photo_id)
    image = picture.thumbnail if thumbnail else picture.image
    response = FileResponse(image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


@photos_router.get("/{photo_id}", response={**READ_ERRORS}, openapi_extra={"responses": JPEG})
def get_photo(request, photo_id: ObjectId):
    return _photo_file(request, photo_id, thumbnail=False)


@photos_router.get(
    "/{photo_id}/thumbnail", response={**READ_ERRORS}, openapi_extra={"responses": JPEG}
)
def get_photo_thumbnail(request, photo_id: ObjectId):
    return _photo_file(request, photo_id, thumbnail=True)


# ----------------------------------------------------------------------------- return visits


@visits_router.get("", response={200: list[ReturnVisitOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_due_visits(request, filters: Query[VisitFilter]):
    """Return visits still to make, the earliest due first."""
    user = request.auth
    estate = visible_or_none(Estate, user, filters.estate)
    return selectors.due_return_visits(user, estate=estate)


@visits_router.post("/{visit_id}", response={200: ReturnVisitOut, **STEP_ERRORS})
def record_visit(request, visit_id: ObjectId, payload: VisitIn):
    """The desk records the call back; an unhappy owner's repair can be reopened or a
    follow-up complaint opened."""
    user = request.auth
    visit = get_visible(ReturnVisit, user, VIEW, pk=visit_id)
    try:
        return services.return_visit_record(actor=user, visit=visit, **payload.dict())
    except RequestChanged as exc:
        return _conflict(exc)


# ----------------------------------------------------------------------------- templates


@templates_router.get("", response={200: list[ReplyTemplateOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_reply_templates(request, filters: Query[TemplateFilter]):
    """The company's ready answers for inquiries and complaints."""
    user = request.auth
    estate = visible_or_none(Estate, user, filters.estate)
    company = estate.company if estate is not None else None
    return selectors.reply_templates(user, company, kind=filters.kind or "")


# ----------------------------------------------------------------------------- categories


@categories_router.get("", response={200: list[CategoryOut], **READ_ERRORS})
def list_categories(request, filters: Query[CategoryFilter]):
    """The categories the estate's company takes requests in, for a report form."""
    estate = get_visible(Estate, request.auth, pk=filters.estate)
    return [
        {"code": code, "label": str(label)}
        for code, label in services.offered_categories(estate.company_id)
    ]
