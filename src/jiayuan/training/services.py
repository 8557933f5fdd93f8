"""Training: the only way to write courses, sessions, attendance, certificates and the
company's warning days, and the daily job that warns before certificates expire."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from datetime import date, datetime, timedelta

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.http import Http404
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from jiayuan.comms.services import notify
from jiayuan.core.access import (
    ADD,
    CHANGE,
    DELETE,
    ensure_allowed,
    ensure_can_in_estate,
    ensure_company_role,
)
from jiayuan.core.audit import changed_only, record_event, snapshot
from jiayuan.core.roles import Role
from jiayuan.org.models import Company, Estate, Membership
from jiayuan.training import selectors
from jiayuan.training.events import TrainingEvent
from jiayuan.training.models import (
    KEEPERS,
    MAX_SCORE,
    Attendance,
    Certificate,
    CertificateWarning,
    Course,
    Session,
    TrainingSettings,
    renewed_filter,
)
from jiayuan.training.scans import checked_scan

log = logging.getLogger(__name__)
COURSE_FIELDS = [
    "title",
    "topic",
    "description",
    "roles",
    "recurrence",
    "pass_mark",
    "is_mandatory",
    "is_active",
]
CERTIFICATE_FIELDS = ["kind", "number", "issuer", "issued_on", "expires_on", "estate"]
RECORDABLE = (Attendance.Status.PRESENT, Attendance.Status.ABSENT, Attendance.Status.EXCUSED)
DESCRIPTION_LIMIT = Course._meta.get_field("description").max_length
MAX_WARNING_THRESHOLDS = 5
MAX_WARNING_DAYS = 365
# A job that was down on the day of expiry still says so when it comes back, for a week;
# a certificate entered long after it expired shows as expired but is not announced.
LATE_WARNING_DAYS = 7


# ----------------------------------------------------------------------------- helpers


def _save_unique(instance, *, unique_message: str, unique_field: str) -> None:
    """Save a validated row; a clash with a row written meanwhile is the same field error
    as the one the check before gives."""
    try:
        with transaction.atomic():
            instance.save()
    except IntegrityError:
        raise ValidationError({unique_field: unique_message}) from None


def _is_whole_number(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


# ----------------------------------------------------------------------------- courses


def _check_course(course: Course) -> None:
    errors = {}
    if not isinstance(course.roles, list) or not course.roles:
        errors["roles"] = _("Choose at least one role the course is for.")
    elif any(role not in Role.values for role in course.roles):
        errors["roles"] = _("Unknown role.")
    if not _is_whole_number(course.pass_mark) or not 0 <= course.pass_mark <= MAX_SCORE:
        errors["pass_mark"] = _("The pass mark is a whole number from 0 to 100.")
    if len(course.description or "") > DESCRIPTION_LIMIT:
        errors["description"] = _("Use at most %(count)s characters.") % {
            "count": DESCRIPTION_LIMIT
        }
    if errors:
        raise ValidationError(errors)
    course.roles = sorted(set(course.roles), key=Role.values.index)
    duplicate = Course.objects.filter(company_id=course.company_id, title=course.title)
    if duplicate.exclude(pk=course.pk).exists():
        raise ValidationError({"title": _("The company already has a course of this title.")})


def _save_course(course: Course) -> None:
    _check_course(course)
    course.full_clean(exclude=["company"], validate_constraints=False)
    _save_unique(
        course,
        unique_field="title",
        unique_message=_("The company already has a course of this title."),
    )


@transaction.atomic
def course_create(*, actor, company: Company, **fields) -> Course:
    ensure_company_role(actor, company, KEEPERS)
    unknown = set(fields) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    course = Course(company=company, **fields)
    _save_course(course)
    record_event(
        actor=actor,
        code=TrainingEvent.COURSE_CREATED,
        target=course,
        company=company,
        after=snapshot(course, COURSE_FIELDS),
    )
    return course


@transaction.atomic
def course_update(*, actor, course: Course, **changes) -> Course:
    ensure_allowed(actor, CHANGE, course)
    unknown = set(changes) - set(COURSE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed here.") for name in sorted(unknown)}
        )
    before = snapshot(course, COURSE_FIELDS)
    for name, value in changes.items():
        setattr(course, name, value)
    _save_course(course)
    old, new = changed_only(before, snapshot(course, COURSE_FIELDS))
    if new:
        record_event(
            actor=actor,
            code=TrainingEvent.COURSE_UPDATED,
            target=course,
            company=course.company,
            before=old,
            after=new,
        )
    return course


# ----------------------------------------------------------------------------- sessions


def _staff_of(company: Company, estate: Estate | None):
    """Active staff memberships of the estate, or of the whole company."""
    memberships = Membership.objects.filter(company=company, is_active=True, user__is_active=True)
    return memberships.filter(estate=estate) if estate is not None else memberships


def default_invitees(course: Course, estate: Estate | None, capacity: int, today: date) -> list:
    """Everyone of the course's roles in the estate (or the company), those who have not
    passed it this period first, as many as the room holds."""
    users = {
        m.user_id: m.user
        for m in _staff_of(course.company, estate)
        .filter(role__in=course.roles)
        .select_related("user")
    }
    passed = selectors.passed_this_period(course, users, today)
    ordered = sorted(users.values(), key=lambda u: (u.pk in passed, u.get_short_name(), u.pk))
    return ordered[:capacity]


def _check_session(session: Session, course: Course, estate: Estate | None) -> None:
    errors = {}
    if course.company_id != session.company_id or not course.is_active:
        errors["course"] = _("Choose a course of the company that is in use.")
    if session.starts_at and session.ends_at and session.ends_at <= session.starts_at:
        errors["ends_at"] = _("The session must end after it starts.")
    elif session.starts_at and session.ends_at - session.starts_at > timedelta(days=7):
        errors["ends_at"] = _("A session lasts at most 7 days.")
    if session.trainer_id and session.trainer_name:
        errors["trainer_name"] = _("Choose a staff trainer or type an outside name, not both.")
    elif not session.trainer_id and not session.trainer_name.strip():
        errors["trainer_name"] = _("Choose a staff trainer or type an outside trainer's name.")
    elif (
        session.trainer_id
        and not _staff_of(session.company, None).filter(user_id=session.trainer_id).exists()
    ):
        errors["trainer"] = _("The trainer is not on the company's staff.")
    if errors:
        raise ValidationError(errors)


@transaction.atomic
def session_create(
    *,
    actor,
    course: Course,
    estate: Estate | None,
    starts_at: datetime,
    ends_at: datetime,
    place: str,
    trainer=None,
    trainer_name: str = "",
    capacity: int = 30,
    invitees: Iterable | None = None,
) -> Session:
    """Schedule (or enter after the fact) a session. The invitees default to the course's
    roles in the estate; a session of the whole company needs a company-wide manager."""
    company = course.company
    if estate is not None:
        ensure_can_in_estate(actor, Session, ADD, estate)
        if estate.company_id != company.pk:
            raise Http404(_("Not found."))
    else:
        ensure_company_role(actor, company, KEEPERS)
        try:
            ensure_company_role(actor, company, KEEPERS, company_wide=True)
        except PermissionDenied:
            raise ValidationError(
                {"estate": _("Only company-wide managers schedule sessions for the whole company.")}
            ) from None
    session = Session(
        course=course,
        company=company,
        estate=estate,
        starts_at=starts_at,
        ends_at=ends_at,
        place=place,
        trainer=trainer,
        trainer_name=trainer_name,
        capacity=capacity,
        created_by=actor,
    )
    session.full_clean(
        exclude=["course", "company", "estate", "trainer", "created_by"],
        validate_constraints=False,
    )
    _check_session(session, course, estate)
    if invitees is None:
        people = default_invitees(course, estate, capacity, timezone.localdate(starts_at))
    else:
        people = list({u.pk: u for u in invitees}.values())
        staff = set(_staff_of(company, estate).values_list("user_id", flat=True))
        if any(u.pk not in staff for u in people):
            raise ValidationError({"invitees": _("Invite staff of the estate only.")})
        if len(people) > capacity:
            raise ValidationError(
                {"invitees": _("More people are invited than the session holds.")}
            )
    session.save()
    Attendance.objects.bulk_create(Attendance(session=session, user=u) for u in people)
    record_event(
        actor=actor,
        code=TrainingEvent.SESSION_CREATED,
        target=session,
        estate=estate,
        company=company,
        after={
            **snapshot(session, ["course", "estate", "starts_at", "ends_at", "place", "capacity"]),
            "trainer": session.trainer_label,
            "invitees": sorted(u.pk for u in people),
        },
    )
    return session


@transaction.atomic
def session_delete(*, actor, session: Session) -> None:
    """Cancel a session whose attendance has not been recorded."""
    ensure_allowed(actor, DELETE, session)
    if session.attendees.exclude(status=Attendance.Status.INVITED).exists():
        raise ValidationError(
            _("Attendance has been recorded for this session; it cannot be cancelled.")
        )
    record_event(
        actor=actor,
        code=TrainingEvent.SESSION_DELETED,
        target=session,
        estate=session.estate,
        company=session.company,
        before=snapshot(session, ["course", "estate", "starts_at", "place"]),
    )
    session.delete()


def _recorded_row(index: int, row: Mapping, course: Course) -> tuple[str, int | None]:
    status, score = row.get("status"), row.get("score")
    prefix = f"attendees.{index}"
    if status not in RECORDABLE:
        raise ValidationError({f"{prefix}.status": _("Choose present, absent or excused.")})
    if score is None:
        return status, None
    if not _is_whole_number(score) or not 0 <= score <= MAX_SCORE:
        raise ValidationError({f"{prefix}.score": _("A score is a whole number from 0 to 100.")})
    if status != Attendance.Status.PRESENT:
        raise ValidationError({f"{prefix}.score": _("Only people who were present have a score.")})
    if not course.has_exam:
        raise ValidationError({f"{prefix}.score": _("This course has no exam.")})
    return status, score


@transaction.atomic
def attendance_record(
    *, actor, session: Session, rows: list[Mapping], now: datetime | None = None
) -> list[Attendance]:
    """Record who came and their scores, once the session has ended. Each row names an
    invitee (`user`), a `status` and, for someone present at a course with an exam, a
    `score`; invitees left out keep what they had. All rows are checked before any is
    written. Passed: present and, with an exam, scoring at least the pass mark."""
    ensure_allowed(actor, CHANGE, session)
    now = now or timezone.now()
    session = Session.objects.select_for_update().select_related("course").get(pk=session.pk)
    if now < session.ends_at:
        raise ValidationError(
            _("Attendance can be recorded once the session has ended (%(end)s).")
            % {"end": timezone.localtime(session.ends_at).strftime("%Y-%m-%d %H:%M")}
        )
    course = session.course
    seats = {a.user_id: a for a in session.attendees.all()}
    changes, errors = {}, {}
    for index, row in enumerate(rows):
        user_id = row.get("user")
        try:
            if user_id not in seats or user_id in changes:
                raise ValidationError(
                    {f"attendees.{index}.user": _("This person is not invited to the session.")}
                )
            changes[user_id] = _recorded_row(index, row, course)
        except ValidationError as exc:
            exc.update_error_dict(errors)
    if errors:
        # Every bad row at once, so a long list is corrected in one go.
        raise ValidationError(errors)
    before, after, saved = {}, {}, []
    for user_id, (status, score) in changes.items():
        seat = seats[user_id]
        passed = status == Attendance.Status.PRESENT and (
            not course.has_exam or (score is not None and score >= course.pass_mark)
        )
        if (seat.status, seat.score, seat.passed) == (status, score, passed):
            continue
        before[str(user_id)] = [seat.status, seat.score]
        seat.status, seat.score, seat.passed, seat.recorded_at = status, score, passed, now
        after[str(user_id)] = [status, score, passed]
        saved.append(seat)
    Attendance.objects.bulk_update(saved, ["status", "score", "passed", "recorded_at"])
    if saved:
        record_event(
            actor=actor,
            code=TrainingEvent.ATTENDANCE_RECORDED,
            target=session,
            estate=session.estate,
            company=session.company,
            before=before,
            after=after,
        )
    return saved


# ----------------------------------------------------------------------------- certificates


def _check_certificate(certificate: Certificate, today: date) -> None:
    errors = {}
    if certificate.issued_on and certificate.issued_on > today:
        errors["issued_on"] = _("The issue date cannot be in the future.")
    if (
        certificate.issued_on
        and certificate.expires_on
        and certificate.expires_on <= certificate.issued_on
    ):
        errors["expires_on"] = _("The expiry date must be after the issue date.")
    works_there = Membership.objects.filter(
        user_id=certificate.holder_id, estate_id=certificate.estate_id, is_active=True
    ).exists()
    if not works_there:
        errors["holder"] = _("The holder is not on the staff of this estate.")
    if errors:
        raise ValidationError(errors)
    same_number = Certificate.objects.filter(
        company_id=certificate.company_id, kind=certificate.kind, number=certificate.number
    )
    if same_number.exclude(pk=certificate.pk).exists():
        raise ValidationError({"number": _("This certificate number is already on record.")})


def _save_certificate(certificate: Certificate, scan) -> None:
    certificate.full_clean(
        exclude=["holder", "company", "estate", "scan"], validate_constraints=False
    )
    _check_certificate(certificate, timezone.localdate())
    if scan is not None:
        certificate.scan = checked_scan(scan)
    _save_unique(
        certificate,
        unique_field="number",
        unique_message=_("This certificate number is already on record."),
    )


def _certificate_after(certificate: Certificate) -> dict:
    return {**snapshot(certificate, [*CERTIFICATE_FIELDS, "holder"]), "scan": certificate.scan.name}


@transaction.atomic
def certificate_create(*, actor, holder, estate: Estate, scan=None, **fields) -> Certificate:
    ensure_can_in_estate(actor, Certificate, ADD, estate)
    unknown = set(fields) - set(CERTIFICATE_FIELDS)
    if unknown:
        raise ValidationError({name: _("Unknown field.") for name in sorted(unknown)})
    certificate = Certificate(holder=holder, company=estate.company, estate=estate, **fields)
    _save_certificate(certificate, scan)
    record_event(
        actor=actor,
        code=TrainingEvent.CERTIFICATE_CREATED,
        target=certificate,
        estate=estate,
        after=_certificate_after(certificate),
    )
    return certificate


@transaction.atomic
def certificate_update(*, actor, certificate: Certificate, scan=None, **changes) -> Certificate:
    """Change a certificate; a new expiry date makes its warnings start afresh."""
    ensure_allowed(actor, CHANGE, certificate)
    unknown = set(changes) - set(CERTIFICATE_FIELDS)
    if unknown:
        raise ValidationError(
            {name: _("This field cannot be changed here.") for name in sorted(unknown)}
        )
    estate = changes.get("estate")
    if estate is not None and estate.pk != certificate.estate_id:
        ensure_can_in_estate(actor, Certificate, ADD, estate)
        if estate.company_id != certificate.company_id:
            raise Http404(_("Not found."))
    before = _certificate_after(certificate)
    for name, value in changes.items():
        setattr(certificate, name, value)
    _save_certificate(certificate, scan)
    old, new = changed_only(before, _certificate_after(certificate))
    if new:
        record_event(
            actor=actor,
            code=TrainingEvent.CERTIFICATE_UPDATED,
            target=certificate,
            estate=certificate.estate,
            before=old,
            after=new,
        )
    return certificate


# ----------------------------------------------------------------------------- settings


@transaction.atomic
def settings_update(*, actor, company: Company, warning_days) -> TrainingSettings:
    ensure_company_role(actor, company, {Role.COMPANY_ADMIN}, company_wide=True)
    days = list(warning_days) if isinstance(warning_days, list | tuple) else None
    if (
        not days
        or len(days) > MAX_WARNING_THRESHOLDS
        or not all(_is_whole_number(d) and 1 <= d <= MAX_WARNING_DAYS for d in days)
    ):
        raise ValidationError(
            {
                "warning_days": _("Give one to %(count)s numbers of days, each from 1 to %(most)s.")
                % {"count": MAX_WARNING_THRESHOLDS, "most": MAX_WARNING_DAYS}
            }
        )
    row, _created = TrainingSettings.objects.get_or_create(
        company=company, defaults={"warning_days": selectors.warning_days_of(company)}
    )
    before = row.warning_days
    row.warning_days = sorted(set(days), reverse=True)
    row.save()
    if before != row.warning_days:
        record_event(
            actor=actor,
            code=TrainingEvent.SETTINGS_UPDATED,
            target=row,
            company=company,
            before={"warning_days": before},
            after={"warning_days": row.warning_days},
        )
    return row


# ----------------------------------------------------------------------------- warnings


def due_threshold(days_left: int, thresholds: Iterable[int]) -> int | None:
    """The warning a certificate with `days_left` is due now: the nearest threshold it has
    reached (0 is the day of expiry). Passed thresholds are not sent late one after another:
    only the nearest counts."""
    if days_left < -LATE_WARNING_DAYS:
        return None
    reached = [t for t in {*thresholds, 0} if days_left <= t]
    return min(reached) if reached else None


def _warning_title(certificate: Certificate, days_left: int) -> str:
    names = {"kind": certificate.get_kind_display(), "name": certificate.holder.get_short_name()}
    if days_left > 0:
        return ngettext(
            "%(name)s's %(kind)s certificate expires in %(days)d day",
            "%(name)s's %(kind)s certificate expires in %(days)d days",
            days_left,
        ) % {**names, "days": days_left}
    if days_left == 0:
        return _("%(name)s's %(kind)s certificate expires today") % names
    return _("%(name)s's %(kind)s certificate has expired") % names


class _Managers:
    """The estate's managers (the company's admins when it has none), read once per estate."""

    def __init__(self):
        self._found: dict[int, list] = {}

    def of(self, estate: Estate) -> list:
        if estate.pk not in self._found:
            rows = Membership.objects.filter(
                estate=estate, role=Role.ESTATE_MANAGER, is_active=True, user__is_active=True
            )
            if not rows.exists():
                rows = Membership.objects.filter(
                    company_id=estate.company_id,
                    estate__isnull=True,
                    role=Role.COMPANY_ADMIN,
                    is_active=True,
                    user__is_active=True,
                )
            self._found[estate.pk] = [m.user for m in rows.select_related("user")]
        return self._found[estate.pk]


def warn_expiring(today: date | None = None, *, company: Company | None = None) -> int:
    """The daily check: send each certificate's due warning once (60 and 30 days before by
    default, and on the day) to its holder and the estate's managers. Returns how many
    warnings went out. Safe to run twice: a warning is recorded before it is sent, once."""
    today = today or timezone.localdate()
    candidates = (
        Certificate.objects.filter(
            expires_on__isnull=False,
            expires_on__gte=today - timedelta(days=LATE_WARNING_DAYS),
            expires_on__lte=today + timedelta(days=MAX_WARNING_DAYS),
            holder__is_active=True,
        )
        .exclude(renewed_filter())
        .select_related("holder", "estate", "company")
        .order_by("expires_on", "pk")
    )
    if company is not None:
        candidates = candidates.filter(company=company)
    thresholds: dict[int, list[int]] = {}
    managers = _Managers()
    sent = 0
    for certificate in candidates:
        company = certificate.company
        if company.pk not in thresholds:
            thresholds[company.pk] = selectors.warning_days_of(company)
        days_left = (certificate.expires_on - today).days
        threshold = due_threshold(days_left, thresholds[company.pk])
        if threshold is None:
            continue
        sent += _warn(certificate, threshold, days_left, managers.of(certificate.estate))
    return sent


@transaction.atomic
def _warn(certificate: Certificate, threshold: int, days_left: int, managers: list) -> int:
    holder = certificate.holder
    try:
        with transaction.atomic():
            CertificateWarning.objects.create(
                certificate=certificate,
                days_before=threshold,
                expires_on=certificate.expires_on,
                sent_at=timezone.now(),
                recipients=sorted({holder.pk, *(u.pk for u in managers)}),
            )
    except IntegrityError:
        return 0
    title = _warning_title(certificate, days_left)
    body = _("Certificate number %(number)s, issued by %(issuer)s, valid until %(date)s.") % {
        "number": certificate.number,
        "issuer": certificate.issuer,
        "date": certificate.expires_on.isoformat(),
    }
    notify(
        recipients=[holder],
        kind="training.certificate",
        title=title,
        body=body,
        link=reverse("training:mine"),
        estate=certificate.estate,
    )
    others = [u for u in managers if u.pk != holder.pk]
    if others:
        notify(
            recipients=others,
            kind="training.certificate",
            title=title,
            body=body,
            link=reverse("training:certificate_edit", args=[certificate.pk]),
            estate=certificate.estate,
        )
    record_event(
        actor=None,
        code=TrainingEvent.CERTIFICATE_WARNED,
        target=certificate,
        estate=certificate.estate,
        after={
            "days_before": threshold,
            "expires_on": certificate.expires_on.isoformat(),
            "to": sorted({holder.pk, *(u.pk for u in others)}),
        },
    )
    return 1
