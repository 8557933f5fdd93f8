"""Training over the API: courses, sessions and their attendance, certificates and each
staff member's own record, through the same selectors and services as the pages."""

from datetime import date, datetime, timedelta
from typing import Literal

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, File, Query, Router, Schema
from ninja.files import UploadedFile
from ninja.pagination import paginate
from ninja.responses import Status

from jiayuan.accounts.models import User
from jiayuan.core.access import VIEW, get_visible, visible_or_none
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    Day,
    InputSchema,
    Number,
    ObjectId,
    PageNumberPagination,
    PersonOut,
    Reference,
    Text,
)
from jiayuan.org.models import Estate
from jiayuan.training import selectors, services
from jiayuan.training.models import Certificate, CertificateKind, CertificateState, Session

router = Router(tags=["training"])
MAX_ROWS = 500


# ----------------------------------------------------------------------------- schemas


class CourseOut(Schema):
    id: int
    company_id: int
    title: str
    topic: str
    topic_label: str
    description: str
    roles: list[str]
    recurrence: str
    recurrence_label: str
    pass_mark: int = Field(description="0: no exam, attending passes.")
    is_mandatory: bool
    is_active: bool

    @staticmethod
    def resolve_topic_label(obj):
        return str(obj.get_topic_display())

    @staticmethod
    def resolve_recurrence_label(obj):
        return str(obj.get_recurrence_display())


class SessionOut(Schema):
    id: int
    course_id: int
    course_title: str = Field(alias="course.title")
    estate_id: int | None = Field(description="Empty for a session of the whole company.")
    starts_at: datetime
    ends_at: datetime
    place: str
    trainer: str = Field(alias="trainer_label")
    capacity: int
    invited: int
    present: int
    passed: int


class AttendeeOut(Schema):
    user: PersonOut
    status: str
    status_label: str
    score: int | None
    passed: bool
    recorded_at: datetime | None

    @staticmethod
    def resolve_status_label(obj):
        return str(obj.get_status_display())


class SessionDetailOut(SessionOut):
    attendees: list[AttendeeOut] = Field(
        alias="attendees_list",
        description="Everyone invited for a manager; yourself only for other staff.",
    )


class AttendanceRowIn(InputSchema):
    user: Reference
    status: Literal["present", "absent", "excused"]
    score: Number | None = Field(None, description="0–100, for someone present at an exam.")


class AttendanceIn(InputSchema):
    attendees: list[AttendanceRowIn] = Field(max_length=MAX_ROWS)


class CertificateOut(Schema):
    id: int
    holder: PersonOut
    estate_id: int
    kind: str
    kind_label: str
    number: str
    issuer: str
    issued_on: date
    expires_on: date | None = Field(description="Empty if it never expires.")
    state: str = Field(description="valid, expiring or expired.")
    state_label: str
    is_renewed: bool = Field(description="The holder has a later certificate of this kind.")
    has_scan: bool

    @staticmethod
    def resolve_kind_label(obj):
        return str(obj.get_kind_display())

    @staticmethod
    def resolve_has_scan(obj):
        return bool(obj.scan)


class CertificateIn(InputSchema):
    holder: Reference
    estate: Reference = Field(description="Where the holder works.")
    kind: CertificateKind
    number: Text = Field(max_length=64)
    issuer: Text = Field(max_length=100)
    issued_on: Day
    expires_on: Day | None = None


class CertificatePatch(InputSchema):
    estate: Reference | None = None
    kind: CertificateKind | None = None
    number: Text | None = Field(None, max_length=64)
    issuer: Text | None = Field(None, max_length=100)
    issued_on: Day | None = None
    expires_on: Day | None = None


class SessionFilter(Schema):
    estate: ObjectId | None = None


class CertificateFilter(Schema):
    kind: CertificateKind | None = None
    state: CertificateState | None = None
    estate: ObjectId | None = None


class ExpiringFilter(Schema):
    days: int = Field(60, ge=0, le=365, description="Expiring within this many days.")
    estate: ObjectId | None = None


class StandingOut(Schema):
    course_id: int = Field(alias="course.pk")
    course_title: str = Field(alias="course.title")
    passed_on: date | None = Field(description="Empty: still due this period.")
    score: int | None


class MyAttendanceOut(Schema):
    session_id: int
    course_title: str = Field(alias="session.course.title")
    starts_at: datetime = Field(alias="session.starts_at")
    status: str
    score: int | None
    passed: bool


class RecordOut(Schema):
    due: list[StandingOut] = Field(alias="standings")
    certificates: list[CertificateOut]
    sessions: list[MyAttendanceOut] = Field(alias="attendances")


# ----------------------------------------------------------------------------- helpers


def _certificates(user, **filters):
    today = timezone.localdate()
    soon = selectors.soon_days_of(selectors.company_of(user))
    return selectors.certificate_list(user, today=today, soon_days=soon, **filters)


def _certificate_out(user, pk: int) -> Certificate:
    return get_visible(_certificates(user), user, pk=pk)


def _session_out(user, pk: int) -> Session:
    session = get_visible(selectors.session_list(user), user, pk=pk)
    session.attendees_list = list(selectors.attendees_of(user, session))
    return session


# ----------------------------------------------------------------------------- routes


@router.get("/courses", response={200: list[CourseOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_courses(request):
    return selectors.course_list(request.auth)


@router.get("/sessions", response={200: list[SessionOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_sessions(request, filters: Query[SessionFilter]):
    user = request.auth
    return selectors.session_list(user, visible_or_none(Estate, user, filters.estate))


@router.get("/sessions/{session_id}", response={200: SessionDetailOut, **READ_ERRORS})
def get_session(request, session_id: ObjectId):
    return _session_out(request.auth, session_id)


@router.post("/sessions/{session_id}/attendance", response={200: SessionDetailOut, **WRITE_ERRORS})
def record_attendance(request, session_id: ObjectId, payload: AttendanceIn):
    """Who came and their scores, after the session has ended (422 before). Invitees not
    listed keep what they had."""
    user = request.auth
    session = get_visible(Session, user, VIEW, pk=session_id)
    services.attendance_record(
        actor=user, session=session, rows=[row.dict() for row in payload.attendees]
    )
    return get_session(request, session_id)


@router.get("/certificates", response={200: list[CertificateOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_certificates(request, filters: Query[CertificateFilter]):
    """Certificates you may see (your own; all of your estates' for a manager), the
    soonest to expire first."""
    user = request.auth
    return _certificates(
        user,
        kind=filters.kind,
        state=filters.state,
        estate=visible_or_none(Estate, user, filters.estate),
    )


@router.get("/certificates/expiring", response={200: list[CertificateOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def expiring_certificates(request, filters: Query[ExpiringFilter]):
    """Certificates running out within `days` (or already expired) that were not renewed."""
    user = request.auth
    today = timezone.localdate()
    return _certificates(user, estate=visible_or_none(Estate, user, filters.estate)).filter(
        is_renewed=False, expires_on__lte=today + timedelta(days=filters.days)
    )


@router.post("/certificates", response={201: CertificateOut, **WRITE_ERRORS})
def create_certificate(request, payload: CertificateIn):
    user = request.auth
    estate = get_visible(Estate, user, pk=payload.estate)
    holder = User.objects.filter(pk=payload.holder).first()
    if holder is None:
        raise ValidationError({"holder": _("The holder is not on the staff of this estate.")})
    data = payload.dict(exclude={"holder", "estate"})
    certificate = services.certificate_create(actor=user, holder=holder, estate=estate, **data)
    return Status(201, _certificate_out(user, certificate.pk))


@router.patch("/certificates/{certificate_id}", response={200: CertificateOut, **WRITE_ERRORS})
def update_certificate(request, certificate_id: ObjectId, payload: CertificatePatch):
    """Change a certificate; a new expiry date starts its warnings afresh."""
    user = request.auth
    certificate = get_visible(Certificate, user, pk=certificate_id)
    changes = payload.dict(exclude_unset=True)
    if "estate" in changes:
        changes["estate"] = get_visible(Estate, user, pk=changes["estate"])
    services.certificate_update(actor=user, certificate=certificate, **changes)
    return _certificate_out(user, certificate.pk)


@router.post("/certificates/{certificate_id}/scan", response={200: CertificateOut, **WRITE_ERRORS})
def upload_scan(request, certificate_id: ObjectId, scan: File[UploadedFile]):
    """The certificate's scan (multipart, field `scan`): a JPEG, PNG or WebP photo or a PDF,
    at most 5 MB."""
    user = request.auth
    certificate = get_visible(Certificate, user, pk=certificate_id)
    services.certificate_update(actor=user, certificate=certificate, scan=scan)
    return _certificate_out(user, certificate.pk)


@router.get("/me", response={200: RecordOut, 401: READ_ERRORS[401]})
def my_record(request):
    """Your mandatory courses this period, your certificates and your sessions."""
    user = request.auth
    return selectors.staff_record(user, user.pk, timezone.localdate())
