"""Quality supervision over the API, through the same selectors and services as the pages:
inspections, rectification orders and their steps (fix, verify, reject), third-party
evaluations and improvement actions.

A step on an order or an action carries the `version` the client last read; a row changed
by someone else meanwhile answers 409 with the reason, and nothing is written."""

from datetime import date, datetime
from decimal import Decimal
from typing import Annotated

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, File, Form, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from jiayuan.accounts.models import User
from jiayuan.core.access import VIEW, get_visible, visible_or_none
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Day,
    ErrorOut,
    InputSchema,
    Number,
    ObjectId,
    PageNumberPagination,
    PersonOut,
    Reference,
    Text,
)
from jiayuan.org.models import Estate
from jiayuan.supervision import selectors, services, workflow
from jiayuan.supervision.models import TEXT_MAX, TITLE_MAX, RectificationOrder

router = Router(tags=["supervision"])
STEP_ERRORS = {**WRITE_ERRORS, 409: ErrorOut}
LongText = Annotated[Text, Field(max_length=TEXT_MAX)]
ShortText = Annotated[Text, Field(max_length=TITLE_MAX)]
Version = Annotated[Number, Field(ge=1)]


def _changed(exc: services.OrderChanged):
    return Status(409, {"detail": " ".join(exc.messages), "errors": []})


# ----------------------------------------------------------------------------- schemas


class InspectionOut(Schema):
    id: int
    estate_id: int
    area: str
    area_label: str
    checklist: str = Field(alias="template_title")
    inspector: PersonOut
    inspected_at: datetime
    status: str
    submitted_at: datetime | None
    points: int
    max_points: int
    score: float = Field(description="points / max_points × 100, one decimal.")

    @staticmethod
    def resolve_area_label(obj):
        return str(obj.get_area_display())


class InspectionItemOut(Schema):
    id: int
    position: int
    description: str
    max_points: int
    critical: bool
    points: int
    note: str
    has_photo: bool
    order_id: int | None

    @staticmethod
    def resolve_has_photo(obj):
        return bool(obj.photo)

    @staticmethod
    def resolve_order_id(obj):
        order = getattr(obj, "order", None)  # the reverse one-to-one raises when absent
        return order.pk if order else None


class InspectionDetailOut(InspectionOut):
    note: str
    items: list[InspectionItemOut]

    @staticmethod
    def resolve_items(obj):
        return list(obj.items.all())


class OrderOut(Schema):
    id: int
    estate_id: int
    area: str
    area_label: str
    inspection_id: int | None
    finding: str
    owner: PersonOut
    deadline: datetime
    overdue: bool
    status: str
    status_label: str
    fix_note: str
    fixed_at: datetime | None
    verified_at: datetime | None
    rejection_reason: str
    rejections: int
    has_before_photo: bool
    has_after_photo: bool
    version: int = Field(description="Send it back with every step on the order.")

    @staticmethod
    def resolve_area_label(obj):
        return str(obj.get_area_display())

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())

    @staticmethod
    def resolve_overdue(obj):
        return obj.is_overdue()

    @staticmethod
    def resolve_has_before_photo(obj):
        return bool(obj.before_photo)

    @staticmethod
    def resolve_has_after_photo(obj):
        return bool(obj.after_photo)


class OrderDetailOut(OrderOut):
    fixed_by: PersonOut | None
    verified_by: PersonOut | None
    actions: list[str] = Field(description="The steps the caller may take now.")

    @staticmethod
    def resolve_actions(obj, context):
        return [t.action for t in workflow.allowed_order_actions(context["request"].auth, obj)]


class EvaluationOut(Schema):
    id: int
    estate_id: int
    evaluator: str
    evaluated_on: date
    score: float
    scope: str
    report_kind: str = Field(description='"pdf", "image" or "" when no report is attached.')


class ActionOut(Schema):
    id: int
    estate_id: int
    title: str
    problem_kind: str
    kpi: str
    complaint_category: str
    period_start: date | None
    period_end: date | None
    order_id: int | None
    problem_text: str
    owner: PersonOut
    due_on: date
    overdue: bool
    status: str
    status_label: str
    plan: str
    done: str
    done_on: date | None
    baseline_value: Decimal | None
    after_value: Decimal | None
    measured_on: date | None
    check_comment: str
    act_decision: str
    act_note: str
    closed_at: datetime | None
    version: int

    @staticmethod
    def resolve_overdue(obj):
        return obj.is_overdue()

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())


class InspectionFilters(Schema):
    estate: ObjectId | None = None
    area: str = Field("", max_length=16)
    status: str = Field("", max_length=10)


class OrderFilters(Schema):
    estate: ObjectId | None = None
    status: str = Field("", max_length=10)
    area: str = Field("", max_length=16)
    overdue: bool = False
    mine: bool = False


class EvaluationFilters(Schema):
    estate: ObjectId | None = None


class ActionFilters(Schema):
    estate: ObjectId | None = None
    status: str = Field("", max_length=8)
    overdue: bool = False
    owner: ObjectId | None = None


class FixIn(Schema):
    # A multipart form carries every value as text.
    version: Annotated[int, Field(ge=1, le=2**31)]
    note: LongText


class VersionIn(InputSchema):
    version: Version


class RejectIn(InputSchema):
    version: Version
    reason: LongText


class ActionIn(InputSchema):
    estate: Reference
    title: ShortText
    problem_kind: ShortText = Field(description="kpi, complaints, finding or other.")
    kpi: ShortText = ""
    complaint_category: ShortText = ""
    period_start: Day | None = None
    period_end: Day | None = None
    order: Reference | None = Field(None, description="A rectification order, for a finding.")
    problem_text: LongText = ""
    owner: Reference
    due_on: Day
    plan: LongText


class AdvanceIn(InputSchema):
    """The fields that complete the current stage: plan (may revise it); do: done,
    done_on; check: baseline_value, after_value, measured_on, check_comment; act:
    act_decision (standardise or next_cycle), act_note."""

    version: Version
    plan: LongText = ""
    done: LongText = ""
    done_on: Day | None = None
    baseline_value: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    after_value: Decimal | None = Field(None, max_digits=12, decimal_places=2)
    measured_on: Day | None = None
    check_comment: LongText = ""
    act_decision: ShortText = ""
    act_note: LongText = ""


# ----------------------------------------------------------------------------- inspections


@router.get("/inspections", response={200: list[InspectionOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def inspection_list(request, filters: Query[InspectionFilters]):
    """Inspections of the estates the caller inspects, newest first."""
    return selectors.inspection_list(
        request.auth,
        visible_or_none(Estate, request.auth, filters.estate),
        area=filters.area,
        status=filters.status,
    )


@router.get("/inspections/{inspection_id}", response={200: InspectionDetailOut, **READ_ERRORS})
def inspection_detail(request, inspection_id: ObjectId):
    """One inspection with its items as they were when it started, and their results."""
    return selectors.inspection(request.auth, inspection_id)


# ----------------------------------------------------------------------------- orders


@router.get("/orders", response={200: list[OrderOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def order_list(request, filters: Query[OrderFilters]):
    """Rectification orders: inspectors see their estates'; field staff their own."""
    return selectors.order_list(
        request.auth,
        visible_or_none(Estate, request.auth, filters.estate),
        status=filters.status,
        area=filters.area,
        overdue=filters.overdue,
        owner=request.auth if filters.mine else None,
    )


@router.get("/orders/{order_id}", response={200: OrderDetailOut, **READ_ERRORS})
def order_detail(request, order_id: ObjectId):
    return selectors.order(request.auth, order_id)


@router.post("/orders/{order_id}/fix", response={200: OrderDetailOut, **STEP_ERRORS})
def order_fix(
    request,
    order_id: ObjectId,
    payload: Form[FixIn],
    after_photo: File[UploadedFile] = None,
):
    """The owner says what was done (multipart: version, note, after_photo). A photo of
    the result is needed when the finding has one."""
    order = selectors.order(request.auth, order_id)
    try:
        return services.order_fix(
            actor=request.auth,
            order=order,
            note=payload.note,
            after_photo=after_photo,
            version=payload.version,
        )
    except services.OrderChanged as exc:
        return _changed(exc)


@router.post("/orders/{order_id}/verify", response={200: OrderDetailOut, **STEP_ERRORS})
def order_verify(request, order_id: ObjectId, payload: VersionIn):
    """Someone other than the owner and than whoever marked it fixed closes the order."""
    order = selectors.order(request.auth, order_id)
    try:
        return services.order_verify(actor=request.auth, order=order, version=payload.version)
    except services.OrderChanged as exc:
        return _changed(exc)


@router.post("/orders/{order_id}/reject", response={200: OrderDetailOut, **STEP_ERRORS})
def order_reject(request, order_id: ObjectId, payload: RejectIn):
    """Not put right: back to open, with the reason for the owner."""
    order = selectors.order(request.auth, order_id)
    try:
        return services.order_reject(
            actor=request.auth, order=order, reason=payload.reason, version=payload.version
        )
    except services.OrderChanged as exc:
        return _changed(exc)


# ----------------------------------------------------------------------------- evaluations


@router.get("/evaluations", response={200: list[EvaluationOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def evaluation_list(request, filters: Query[EvaluationFilters]):
    """Third-party evaluations, newest first."""
    return selectors.evaluation_list(
        request.auth, visible_or_none(Estate, request.auth, filters.estate)
    )


# ----------------------------------------------------------------------------- improvements


@router.get("/actions", response={200: list[ActionOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def action_list(request, filters: Query[ActionFilters]):
    """Improvement actions, soonest due first."""
    owner = None
    if filters.owner is not None:
        owner = User.objects.filter(pk=filters.owner).first()
        if owner is None:
            return selectors.action_list(request.auth).none()
    return selectors.action_list(
        request.auth,
        visible_or_none(Estate, request.auth, filters.estate),
        status=filters.status,
        overdue=filters.overdue,
        owner=owner,
    )


def _referenced(model_qs, pk, field: str):
    if pk is None:
        return None
    found = model_qs.filter(pk=pk).first()
    if found is None:
        raise ValidationError({field: _("Not found.")})
    return found


@router.post("/actions", response={201: ActionOut, **WRITE_ERRORS})
def action_create(request, payload: ActionIn):
    """A new improvement action in its plan stage."""
    estate = get_visible(Estate, request.auth, VIEW, pk=payload.estate)
    data = payload.dict(exclude={"estate"})
    data["owner"] = _referenced(User.objects.all(), payload.owner, "owner")
    data["order"] = _referenced(
        RectificationOrder.objects.restrict(request.auth, VIEW), payload.order, "order"
    )
    action = services.action_create(actor=request.auth, estate=estate, **data)
    return Status(201, action)


@router.post("/actions/{action_id}/advance", response={200: ActionOut, **STEP_ERRORS})
def action_advance(request, action_id: ObjectId, payload: AdvanceIn):
    """Complete the current stage with its fields and move to the next."""
    action = selectors.action(request.auth, action_id)
    values = payload.dict(exclude={"version"})
    stage_fields = services.STAGE_FIELDS.get(action.status, [])
    try:
        return services.action_advance(
            actor=request.auth,
            action=action,
            version=payload.version,
            **{name: values[name] for name in stage_fields},
        )
    except services.OrderChanged as exc:
        return _changed(exc)
