"""Reads shared by the training pages and the API, always through restrict(): courses,
sessions, certificates, who is due which course this period (the training gaps), the
team matrix and one person's record.

The gaps are computed when they are read, not by a periodic job: they change with every
attendance recorded and every staff member joining, and reading them costs a handful of
queries per estate, so a stored list would only ever be staler."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from django.db.models import Case, CharField, Count, Q, QuerySet, Value, When
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.accounts.models import User
from jiayuan.core.access import VIEW, grants_of
from jiayuan.core.roles import Role
from jiayuan.org.models import Company, Estate, Membership
from jiayuan.training.models import (
    DEFAULT_WARNING_DAYS,
    KEEPERS,
    Attendance,
    Certificate,
    CertificateState,
    Course,
    Session,
    TrainingSettings,
    renewed_filter,
)

# The team view highlights certificates running out within this many days.
TEAM_EXPIRY_DAYS = 60


# ----------------------------------------------------------------------------- settings


def warning_days_of(company: Company) -> list[int]:
    row = TrainingSettings.objects.filter(company=company).first()
    return list(row.warning_days) if row and row.warning_days else list(DEFAULT_WARNING_DAYS)


def soon_days_of(company: Company | None) -> int:
    """Within this many days of expiry a certificate counts as expiring soon."""
    return max(warning_days_of(company)) if company else max(DEFAULT_WARNING_DAYS)


def company_of(user) -> Company | None:
    """The company the user works for (the first, for the rare person in two)."""
    ids = sorted({g.company_id for g in grants_of(user)}) if user.is_authenticated else []
    return Company.objects.filter(pk=ids[0]).first() if ids else None


def is_company_admin(user, company: Company) -> bool:
    """Company-wide admins set the company's training rules."""
    return user.is_superuser or any(
        g.role == Role.COMPANY_ADMIN and g.estate_id is None and g.company_id == company.pk
        for g in grants_of(user)
    )


def kept_estates(user) -> QuerySet:
    """The estates where the user keeps training records (a manager's)."""
    if user.is_superuser:
        return Estate.objects.all()
    grants = [g for g in grants_of(user) if g.role in KEEPERS]
    return Estate.objects.filter(
        Q(pk__in=[g.estate_id for g in grants if g.estate_id is not None])
        | Q(company_id__in=[g.company_id for g in grants if g.estate_id is None])
    )


# ----------------------------------------------------------------------------- lists


def course_list(user, company: Company | None = None) -> QuerySet:
    courses = Course.objects.restrict(user, VIEW).select_related("company")
    return courses.filter(company=company) if company is not None else courses


def session_list(user, estate: Estate | None = None) -> QuerySet:
    """Sessions the user may see, newest first; with an estate, that estate's and the
    company's own, each with its head counts."""
    sessions = Session.objects.restrict(user, VIEW)
    if estate is not None:
        sessions = sessions.filter(
            Q(estate=estate) | Q(estate__isnull=True, company_id=estate.company_id)
        )
    return (
        sessions.select_related("course", "estate", "trainer")
        .annotate(
            invited=Count("attendees"),
            present=Count("attendees", filter=Q(attendees__status=Attendance.Status.PRESENT)),
            passed=Count("attendees", filter=Q(attendees__passed=True)),
        )
        .order_by("-starts_at", "-pk")
    )


def attendees_of(user, session: Session) -> QuerySet:
    """The invitees the user may see: all of them for a manager, themselves for others."""
    return (
        Attendance.objects.restrict(user, VIEW)
        .filter(session=session)
        .select_related("user")
        .order_by("user__name", "user_id")
    )


def _state(today: date, soon_days: int) -> Case:
    """valid, expiring (within `soon_days`, the last day included) or expired."""
    return Case(
        When(expires_on__lt=today, then=Value(CertificateState.EXPIRED.value)),
        When(
            expires_on__lte=today + timedelta(days=soon_days),
            then=Value(CertificateState.EXPIRING.value),
        ),
        default=Value(CertificateState.VALID.value),
        output_field=CharField(),
    )


def certificate_list(
    user,
    *,
    today: date,
    soon_days: int,
    kind: str | None = None,
    state: str | None = None,
    estate: Estate | None = None,
    holder=None,
) -> QuerySet:
    """Certificates the user may see, the soonest to expire first (never-expiring last),
    each with `is_renewed` and `state`."""
    certificates = (
        Certificate.objects.restrict(user, VIEW)
        .select_related("holder", "estate")
        .annotate(is_renewed=renewed_filter(), state=_state(today, soon_days))
    )
    if kind:
        certificates = certificates.filter(kind=kind)
    if state:
        certificates = certificates.filter(state=state)
    if estate is not None:
        certificates = certificates.filter(estate=estate)
    if holder is not None:
        certificates = certificates.filter(holder=holder)
    return certificates


# ----------------------------------------------------------------------------- who is due


def _local_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


@dataclass
class Standing:
    """One person and one mandatory course this period."""

    course: Course
    required: bool
    passed_on: date | None = None
    score: int | None = None

    @property
    def is_gap(self) -> bool:
        return self.required and self.passed_on is None


def _passes(courses: list[Course], user_ids, today: date) -> dict[tuple[int, int], tuple]:
    """(user, course) → (day, score) of the latest pass within the course's period now."""
    starts = [course.period(today)[0] for course in courses]
    rows = Attendance.objects.filter(
        passed=True, session__course__in=courses, user_id__in=list(user_ids)
    )
    if starts and None not in starts:
        rows = rows.filter(session__starts_at__gte=_local_start(min(starts)))
    by_id = {course.pk: course for course in courses}
    found: dict[tuple[int, int], tuple] = {}
    for user_id, course_id, starts_at, score in rows.values_list(
        "user_id", "session__course_id", "session__starts_at", "score"
    ):
        day = timezone.localdate(starts_at)
        start, end = by_id[course_id].period(today)
        if (start and day < start) or (end and day >= end):
            continue
        key = (user_id, course_id)
        if key not in found or found[key][0] < day:
            found[key] = (day, score)
    return found


def passed_this_period(course: Course, user_ids, today: date) -> set[int]:
    return {user_id for user_id, _course in _passes([course], user_ids, today)}


def _mandatory_courses(company_ids) -> list[Course]:
    courses = Course.objects.filter(company_id__in=company_ids, is_mandatory=True, is_active=True)
    return list(courses.order_by("title", "pk"))


def _standings(roles_of: dict[int, set[str]], courses: list[Course], today: date) -> dict:
    """user → [Standing per course] for people holding `roles_of[user]`."""
    passes = _passes(courses, roles_of, today)
    table = {}
    for user_id, roles in roles_of.items():
        row = []
        for course in courses:
            passed = passes.get((user_id, course.pk))
            row.append(
                Standing(
                    course=course,
                    required=bool(roles & set(course.roles)),
                    passed_on=passed[0] if passed else None,
                    score=passed[1] if passed else None,
                )
            )
        table[user_id] = row
    return table


@dataclass
class StaffRow:
    user: User
    estates: list[str]
    roles: list[str]
    standings: list[Standing]
    expiring: list[Certificate] = field(default_factory=list)

    @property
    def gaps(self) -> list[Standing]:
        return [s for s in self.standings if s.is_gap]


def _staff_rows(memberships, today: date) -> tuple[list[Course], list[StaffRow]]:
    people: dict[int, dict] = {}
    for membership in memberships.select_related("user", "estate").order_by(
        "user__name", "user_id"
    ):
        person = people.setdefault(
            membership.user_id,
            {"user": membership.user, "estates": set(), "roles": set(), "company": set()},
        )
        if membership.estate_id:
            person["estates"].add(membership.estate.name)
        person["roles"].add(membership.role)
        person["company"].add(membership.company_id)
    courses = _mandatory_courses({c for p in people.values() for c in p["company"]})
    table = _standings({pk: p["roles"] for pk, p in people.items()}, courses, today)
    role_labels = dict(Role.choices)
    rows = [
        StaffRow(
            user=p["user"],
            estates=sorted(p["estates"]),
            roles=sorted(str(role_labels.get(r, r)) for r in p["roles"]),
            standings=[s for s in table[pk] if s.course.company_id in p["company"]],
        )
        for pk, p in people.items()
    ]
    return courses, rows


def _active_staff(estates) -> QuerySet:
    return Membership.objects.filter(estate__in=estates, is_active=True, user__is_active=True)


def team_status(user, estate: Estate, today: date) -> tuple[list[Course], list[StaffRow]]:
    """The estate's staff × the company's mandatory courses this period, with the
    certificates of each running out within TEAM_EXPIRY_DAYS (or expired)."""
    if not kept_estates(user).filter(pk=estate.pk).exists():
        raise Http404(_("Not found."))
    courses, rows = _staff_rows(_active_staff([estate]), today)
    expiring = certificate_list(
        user, today=today, soon_days=TEAM_EXPIRY_DAYS, estate=estate
    ).filter(is_renewed=False, expires_on__lte=today + timedelta(days=TEAM_EXPIRY_DAYS))
    by_holder: dict[int, list] = {}
    for certificate in expiring:
        by_holder.setdefault(certificate.holder_id, []).append(certificate)
    for row in rows:
        row.expiring = by_holder.get(row.user.pk, [])
    return courses, rows


@dataclass
class Gap:
    user: User
    estates: list[str]
    course: Course
    period_ends: date | None


def training_gaps(user, today: date, estate: Estate | None = None) -> list[Gap]:
    """Staff of the estates the user keeps who have not passed a mandatory course of
    their role this period, by course and name."""
    estates = kept_estates(user)
    if estate is not None:
        estates = estates.filter(pk=estate.pk)
    _courses, rows = _staff_rows(_active_staff(estates), today)
    gaps = [
        Gap(
            user=row.user,
            estates=row.estates,
            course=standing.course,
            period_ends=standing.course.period(today)[1],
        )
        for row in rows
        for standing in row.gaps
    ]
    return sorted(gaps, key=lambda g: (g.course.title, g.user.get_short_name(), g.user.pk))


# ----------------------------------------------------------------------------- records


@dataclass
class Record:
    person: User
    attendances: list[Attendance]
    certificates: list[Certificate]
    standings: list[Standing]
    soon_days: int


def staff_record(viewer, person_pk: int, today: date) -> Record:
    """One staff member's sessions, scores, certificates and due courses, for themselves or
    a manager of one of their estates; 404 for anyone else."""
    memberships = Membership.objects.filter(user_id=person_pk, is_active=True)
    if viewer.pk != person_pk:
        kept = kept_estates(viewer)
        memberships = memberships.filter(estate__in=kept)
    if viewer.pk != person_pk and not memberships.exists():
        raise Http404(_("Not found."))
    person = User.objects.filter(pk=person_pk).first()
    if person is None:
        raise Http404(_("Not found."))
    _courses, rows = _staff_rows(memberships, today)
    attendances = (
        Attendance.objects.restrict(viewer, VIEW)
        .filter(user_id=person_pk)
        .select_related("session__course", "session__estate")
        .order_by("-session__starts_at", "-pk")
    )
    company = company_of(person)
    soon = soon_days_of(company)
    certificates = certificate_list(viewer, today=today, soon_days=soon, holder=person)
    return Record(
        person=person,
        attendances=list(attendances),
        certificates=list(certificates),
        standings=[s for s in rows[0].standings if s.required] if rows else [],
        soon_days=soon,
    )
