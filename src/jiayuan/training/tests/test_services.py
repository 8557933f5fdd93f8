"""Training rules: invitees, attendance and pass marks, the training gaps, certificates and
their expiry warnings."""

import datetime as dt

import pytest
import time_machine
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.uploadedfile import SimpleUploadedFile
from django.http import Http404

from jiayuan.comms.models import Notification
from jiayuan.core.models import AuditEvent
from jiayuan.core.roles import Role
from jiayuan.core.testing import make_staff
from jiayuan.training import selectors, services
from jiayuan.training.models import Attendance, Certificate, CertificateWarning, Course, Session
from jiayuan.training.tests.conftest import NOW, SHANGHAI, certificate, hold_session, jpeg, pdf

pytestmark = pytest.mark.django_db

# ----------------------------------------------------------------------------- sessions


def test_invitees_are_the_estates_active_staff_of_the_courses_roles(personas, course):
    p = personas
    make_staff("tech_b", "别处技工", p.estate_b, Role.TECHNICIAN)
    left = make_staff("tech_gone", "离职技工", p.estate_a, Role.TECHNICIAN)
    left.memberships.update(is_active=False)
    session = hold_session(p, course)
    invited = set(session.attendees.values_list("user__username", flat=True))
    assert invited == {"tech_a", "security_a"}
    assert AuditEvent.objects.filter(code="training.session_created").count() == 1


def test_a_company_wide_session_invites_the_roles_in_every_estate(personas, course):
    p = personas
    make_staff("tech_b", "别处技工", p.estate_b, Role.TECHNICIAN)
    session = hold_session(p, course, estate=None, actor=p.company_admin)
    invited = set(session.attendees.values_list("user__username", flat=True))
    assert invited == {"tech_a", "security_a", "tech_b"}


def test_only_company_wide_managers_schedule_for_the_whole_company(personas, course):
    with pytest.raises(ValidationError) as refused:
        hold_session(personas, course, estate=None)
    assert "estate" in refused.value.message_dict
    assert not Session.objects.exists()


def test_a_full_room_invites_those_not_yet_passed_first(personas, course):
    p = personas
    first = hold_session(p, course, days_ago=10)
    services.attendance_record(
        actor=p.manager_a,
        session=first,
        rows=[{"user": p.technician_a.pk, "status": "present", "score": 90}],
    )
    second = hold_session(p, course, capacity=1)
    assert list(second.attendees.values_list("user__username", flat=True)) == ["security_a"]


@pytest.mark.parametrize("who", ["technician_a", "clerk_a", "outsider"])
def test_others_cannot_schedule_sessions(personas, course, who):
    with pytest.raises((PermissionDenied, Http404)):
        hold_session(personas, course, actor=getattr(personas, who))
    assert not Session.objects.exists()


@pytest.mark.parametrize(
    "change, field",
    [
        ({"place": ""}, "place"),
        ({"capacity": 0}, "capacity"),
        ({"trainer": "tech"}, "trainer_name"),
    ],
)
def test_a_bad_session_is_refused_on_its_field(personas, course, change, field):
    if change.get("trainer") == "tech":
        change = {"trainer": personas.technician_a}  # with an outside name too: which one?
    starts = NOW - dt.timedelta(days=1)
    values = {
        "course": course,
        "estate": personas.estate_a,
        "starts_at": starts,
        "ends_at": starts + dt.timedelta(hours=2),
        "place": "会议室",
        "trainer_name": "李教官",
        **change,
    }
    with pytest.raises(ValidationError) as refused:
        services.session_create(actor=personas.manager_a, **values)
    assert field in refused.value.message_dict
    assert not Session.objects.exists()


def test_a_session_must_end_after_it_starts(personas, course):
    with pytest.raises(ValidationError) as refused:
        services.session_create(
            actor=personas.manager_a,
            course=course,
            estate=personas.estate_a,
            starts_at=NOW,
            ends_at=NOW - dt.timedelta(hours=1),
            place="会议室",
            trainer_name="李教官",
        )
    assert "ends_at" in refused.value.message_dict


# ----------------------------------------------------------------------------- attendance


def _record(p, session, *rows):
    return services.attendance_record(actor=p.manager_a, session=session, rows=list(rows))


def test_attendance_is_refused_before_the_session_ends(personas, course):
    p = personas
    session = hold_session(p, course, days_ago=0)  # started now, ends in two hours
    with pytest.raises(ValidationError):
        _record(p, session, {"user": p.technician_a.pk, "status": "present", "score": 80})
    assert not Attendance.objects.exclude(status="invited").exists()
    with time_machine.travel(NOW + dt.timedelta(hours=2), tick=False):
        _record(p, session, {"user": p.technician_a.pk, "status": "present", "score": 80})
    assert Attendance.objects.get(user=p.technician_a).passed


@pytest.mark.parametrize(
    "score, passed", [(59, False), (60, True), (100, True), (0, False), (None, False)]
)
def test_passing_is_scoring_at_least_the_pass_mark(personas, course, score, passed):
    p = personas
    session = hold_session(p, course)
    _record(p, session, {"user": p.technician_a.pk, "status": "present", "score": score})
    seat = Attendance.objects.get(session=session, user=p.technician_a)
    assert (seat.score, seat.passed) == (score, passed)


def test_without_an_exam_attending_is_enough(personas, course):
    p = personas
    services.course_update(actor=p.manager_a, course=course, pass_mark=0)
    session = hold_session(p, course)
    _record(
        p,
        session,
        {"user": p.technician_a.pk, "status": "present"},
        {"user": p.security_a.pk, "status": "excused"},
    )
    passed = dict(session.attendees.values_list("user__username", "passed"))
    assert passed == {"tech_a": True, "security_a": False}


@pytest.mark.parametrize(
    "row, field",
    [
        ({"status": "present", "score": 101}, "attendees.0.score"),
        ({"status": "present", "score": -1}, "attendees.0.score"),
        ({"status": "present", "score": "九十"}, "attendees.0.score"),
        ({"status": "absent", "score": 70}, "attendees.0.score"),
        ({"status": "<script>", "score": None}, "attendees.0.status"),
    ],
)
def test_bad_attendance_is_refused_and_nothing_written(personas, course, row, field):
    p = personas
    session = hold_session(p, course)
    good = {"user": p.security_a.pk, "status": "present", "score": 88}
    with pytest.raises(ValidationError) as refused:
        _record(p, session, {"user": p.technician_a.pk, **row}, good)
    assert field in refused.value.message_dict
    assert not Attendance.objects.exclude(status="invited").exists()
    assert not AuditEvent.objects.filter(code="training.attendance_recorded").exists()


def test_only_invitees_are_recorded(personas, course):
    p = personas
    session = hold_session(p, course)
    with pytest.raises(ValidationError) as refused:
        _record(p, session, {"user": p.clerk_a.pk, "status": "present", "score": 90})
    assert "attendees.0.user" in refused.value.message_dict


def test_a_technician_cannot_record_attendance(personas, course):
    p = personas
    session = hold_session(p, course)
    with pytest.raises(PermissionDenied):
        services.attendance_record(
            actor=p.technician_a,
            session=session,
            rows=[{"user": p.technician_a.pk, "status": "present", "score": 100}],
        )


def test_recording_writes_one_audit_event_with_the_changes(personas, course):
    p = personas
    session = hold_session(p, course)
    _record(p, session, {"user": p.technician_a.pk, "status": "present", "score": 75})
    _record(p, session, {"user": p.technician_a.pk, "status": "present", "score": 75})
    events = AuditEvent.objects.filter(code="training.attendance_recorded")
    assert events.count() == 1  # the second changed nothing
    assert events.get().after == {str(p.technician_a.pk): ["present", 75, True]}


def test_a_recorded_session_cannot_be_cancelled(personas, course):
    p = personas
    session = hold_session(p, course)
    _record(p, session, {"user": p.technician_a.pk, "status": "absent"})
    with pytest.raises(ValidationError):
        services.session_delete(actor=p.manager_a, session=session)
    other = hold_session(p, course, days_ago=-3)
    services.session_delete(actor=p.manager_a, session=other)
    assert list(Session.objects.all()) == [session]


# ----------------------------------------------------------------------------- gaps


def test_training_gaps_are_staff_due_who_have_not_passed_this_period(personas, course):
    p = personas
    today = NOW.date()
    gaps = selectors.training_gaps(p.manager_a, today)
    assert {(g.user.username, g.course.pk) for g in gaps} == {
        ("tech_a", course.pk),
        ("security_a", course.pk),
    }
    assert gaps[0].period_ends == dt.date(2026, 7, 1)
    session = hold_session(p, course)
    _record(
        p,
        session,
        {"user": p.technician_a.pk, "status": "present", "score": 95},
        {"user": p.security_a.pk, "status": "present", "score": 40},  # failed: still due
    )
    gaps = selectors.training_gaps(p.manager_a, today)
    assert [g.user.username for g in gaps] == ["security_a"]
    # Next quarter everyone is due again.
    assert len(selectors.training_gaps(p.manager_a, dt.date(2026, 7, 2))) == 2


def test_a_pass_last_quarter_does_not_count_this_quarter(personas, course):
    p = personas
    session = hold_session(p, course, days_ago=50)  # late March: the first quarter
    _record(p, session, {"user": p.technician_a.pk, "status": "present", "score": 95})
    gaps = selectors.training_gaps(p.manager_a, NOW.date())
    assert "tech_a" in {g.user.username for g in gaps}


def test_gaps_are_only_for_mandatory_courses_in_use_and_the_managers_estates(personas, course):
    p = personas
    assert selectors.training_gaps(p.outsider, NOW.date()) == []
    assert selectors.training_gaps(p.technician_a, NOW.date()) == []
    services.course_update(actor=p.manager_a, course=course, is_mandatory=False)
    assert selectors.training_gaps(p.manager_a, NOW.date()) == []


# ----------------------------------------------------------------------------- courses


@pytest.mark.parametrize(
    "change, field",
    [
        ({"roles": []}, "roles"),
        ({"roles": ["king"]}, "roles"),
        ({"pass_mark": 101}, "pass_mark"),
        ({"title": ""}, "title"),
        ({"recurrence": "weekly"}, "recurrence"),
        ({"description": "长" * 2001}, "description"),
    ],
)
def test_a_bad_course_is_refused_on_its_field(personas, course, change, field):
    with pytest.raises(ValidationError) as refused:
        services.course_update(actor=personas.manager_a, course=course, **change)
    assert field in refused.value.message_dict
    course.refresh_from_db()
    assert course.pass_mark == 60 and course.roles == ["technician", "security"]


def test_a_course_title_is_unique_in_the_company(personas, course):
    with pytest.raises(ValidationError) as refused:
        services.course_create(
            actor=personas.company_admin,
            company=personas.company,
            title=course.title,
            topic="safety",
            roles=["technician"],
        )
    assert "title" in refused.value.message_dict
    assert Course.objects.count() == 1


def test_outsiders_and_staff_cannot_write_courses(personas, course):
    with pytest.raises(Http404):
        services.course_update(actor=personas.outsider, course=course, title="x")
    with pytest.raises(PermissionDenied):
        services.course_update(actor=personas.technician_a, course=course, title="x")
    with pytest.raises(Http404):
        services.course_create(
            actor=personas.outsider,
            company=personas.company,
            title="x",
            topic="safety",
            roles=["technician"],
        )


# ----------------------------------------------------------------------------- certificates


@pytest.mark.parametrize(
    "change, field",
    [
        ({"expires_on": dt.date(2020, 5, 1)}, "expires_on"),
        ({"expires_on": dt.date(2020, 6, 1)}, "expires_on"),
        ({"issued_on": dt.date(2030, 1, 1), "expires_on": None}, "issued_on"),
        ({"number": "<script>alert(1)</script>"}, "number"),
        ({"kind": "wizard"}, "kind"),
        ({"holder": "clerk_b"}, "holder"),
    ],
)
def test_a_bad_certificate_is_refused_on_its_field(personas, clock, change, field):
    if change.get("holder"):
        change["holder"] = personas.clerk_b  # works in estate B, not A
    with pytest.raises(ValidationError) as refused:
        certificate(personas, **change)
    assert field in refused.value.message_dict
    assert not Certificate.objects.exists()
    assert not AuditEvent.objects.filter(code__startswith="training.").exists()


@pytest.mark.parametrize(
    "upload",
    [
        lambda: SimpleUploadedFile("cert.jpg", b"MZ\x90\x00 not an image"),
        lambda: SimpleUploadedFile("cert.pdf", b"<html><script>alert(1)</script></html>"),
        lambda: SimpleUploadedFile("empty.pdf", b""),
        lambda: SimpleUploadedFile("big.pdf", b"%PDF-" + b"0" * (5 * 1024 * 1024)),
    ],
    ids=["exe-named-jpg", "html-named-pdf", "empty", "oversized"],
)
def test_a_scan_must_be_an_image_or_pdf_of_a_sane_size(personas, clock, upload):
    with pytest.raises(ValidationError) as refused:
        certificate(personas, scan=upload())
    assert "scan" in refused.value.message_dict
    assert not Certificate.objects.exists()


@pytest.mark.parametrize("upload, suffix", [(jpeg, ".jpg"), (pdf, ".pdf")])
def test_a_scan_is_stored_named_by_its_content(personas, clock, settings, tmp_path, upload, suffix):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    saved = certificate(personas, scan=upload("whatever.bin"))
    assert saved.scan.name.endswith(suffix)


def test_the_same_number_twice_is_refused_cleanly(personas, clock):
    certificate(personas, number="T3201")
    with pytest.raises(ValidationError) as refused:
        certificate(personas, holder=personas.security_a, number="T3201")
    assert "number" in refused.value.message_dict
    assert Certificate.objects.count() == 1


def test_a_technician_sees_their_own_certificate_only_and_cannot_change_it(personas, clock):
    mine = certificate(personas)
    theirs = certificate(personas, holder=personas.security_a, number="B-1", kind="security_guard")
    soon = selectors.soon_days_of(personas.company)
    visible = selectors.certificate_list(personas.technician_a, today=NOW.date(), soon_days=soon)
    assert list(visible) == [mine]
    with pytest.raises(PermissionDenied):
        services.certificate_update(actor=personas.technician_a, certificate=mine, number="X1")
    with pytest.raises(Http404):
        services.certificate_update(actor=personas.technician_a, certificate=theirs, number="X1")
    outsider = selectors.certificate_list(personas.outsider, today=NOW.date(), soon_days=soon)
    assert not outsider.exists()


def test_states_follow_the_dates(personas, clock):
    today = NOW.date()
    certificate(personas, number="A", expires_on=today - dt.timedelta(days=1))
    certificate(personas, number="B", expires_on=today)
    certificate(personas, number="C", expires_on=today + dt.timedelta(days=60))
    certificate(personas, number="D", expires_on=today + dt.timedelta(days=61))
    certificate(personas, number="E", expires_on=None)
    rows = selectors.certificate_list(personas.manager_a, today=today, soon_days=60)
    assert [(c.number, c.state) for c in rows] == [
        ("A", "expired"),
        ("B", "expiring"),
        ("C", "expiring"),
        ("D", "valid"),
        ("E", "valid"),
    ]
    expiring = rows.filter(state="expiring")
    assert [c.number for c in expiring] == ["B", "C"]


# ----------------------------------------------------------------------------- warnings


def _warnings_on(day: dt.date) -> int:
    with time_machine.travel(dt.datetime.combine(day, dt.time(8), SHANGHAI), tick=False):
        return services.warn_expiring()


def test_warnings_go_out_at_60_30_and_on_the_day_each_once(personas, clock):
    expires = dt.date(2026, 9, 30)
    cert = certificate(personas, expires_on=expires)
    sent = {}
    for day_before in range(75, -3, -1):
        day = expires - dt.timedelta(days=day_before)
        sent[day_before] = _warnings_on(day) + _warnings_on(day)  # twice a day: once only
    assert {d: n for d, n in sent.items() if n} == {60: 1, 30: 1, 0: 1}
    assert sorted(cert.warnings.values_list("days_before", flat=True)) == [0, 30, 60]
    holder_notes = Notification.objects.filter(recipient=personas.technician_a)
    manager_notes = Notification.objects.filter(recipient=personas.manager_a)
    assert holder_notes.count() == manager_notes.count() == 3
    titles = list(holder_notes.order_by("pk").values_list("title", flat=True))
    assert "expires in 60 days" in titles[0] and "expires today" in titles[2]
    assert AuditEvent.objects.filter(code="training.certificate_warned").count() == 3


def test_a_late_job_sends_only_the_nearest_warning(personas, clock):
    cert = certificate(personas, expires_on=NOW.date() + dt.timedelta(days=20))
    assert services.warn_expiring() == 1
    assert list(cert.warnings.values_list("days_before", flat=True)) == [30]


def test_a_new_expiry_date_starts_the_warnings_afresh(personas, clock):
    cert = certificate(personas, expires_on=NOW.date() + dt.timedelta(days=30))
    assert services.warn_expiring() == 1
    services.certificate_update(
        actor=personas.manager_a, certificate=cert, expires_on=dt.date(2027, 5, 15)
    )
    assert services.warn_expiring() == 0
    assert _warnings_on(dt.date(2027, 3, 16)) == 1  # 60 days before the new date
    assert cert.warnings.count() == 2


def test_a_renewed_certificate_warns_no_more_and_its_successor_starts_afresh(personas, clock):
    old = certificate(personas, number="OLD", expires_on=NOW.date() + dt.timedelta(days=60))
    assert services.warn_expiring() == 1
    new = certificate(
        personas,
        number="NEW",
        issued_on=NOW.date(),
        expires_on=NOW.date() + dt.timedelta(days=365 * 4),
    )
    assert _warnings_on(NOW.date() + dt.timedelta(days=30)) == 0
    assert old.warnings.count() == 1 and new.warnings.count() == 0


def test_no_warning_for_a_certificate_that_never_expires(personas, clock):
    certificate(personas, kind="security_guard", number="B-9", expires_on=None)
    for days in (0, 30, 60, 3650):
        assert _warnings_on(NOW.date() + dt.timedelta(days=days)) == 0
    assert not CertificateWarning.objects.exists()


def test_the_company_chooses_its_warning_days(personas, clock):
    services.settings_update(
        actor=personas.company_admin, company=personas.company, warning_days=[90, 7]
    )
    certificate(personas, expires_on=NOW.date() + dt.timedelta(days=60))
    assert services.warn_expiring() == 1
    assert CertificateWarning.objects.get().days_before == 90
    with pytest.raises(PermissionDenied):
        services.settings_update(
            actor=personas.manager_a, company=personas.company, warning_days=[5]
        )
    for bad in ([], [0], [400], [1, 2, 3, 4, 5, 6], "60"):
        with pytest.raises(ValidationError):
            services.settings_update(
                actor=personas.company_admin, company=personas.company, warning_days=bad
            )
