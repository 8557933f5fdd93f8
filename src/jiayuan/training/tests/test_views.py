"""The training pages: managers keep courses, sessions, attendance and certificates; every
staff member sees their own record; the other company sees nothing."""

import datetime as dt

import pytest
from django.test import Client

from jiayuan.core.models import AuditEvent
from jiayuan.training import services
from jiayuan.training.models import Attendance, Certificate, Course, Session
from jiayuan.training.tests.conftest import NOW, certificate, hold_session, jpeg

pytestmark = pytest.mark.django_db


def browser(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@pytest.fixture
def setup(personas, course):
    session = hold_session(personas, course)
    cert = certificate(personas, expires_on=NOW.date() + dt.timedelta(days=20))
    return {"session": session, "cert": cert, "course": course}


# Pages of the current estate: a manager of another company gets their own estate's.
ESTATE_PAGES = [
    "/training/team/",
    "/training/gaps/",
    "/training/courses/new/",
    "/training/sessions/new/",
    "/training/certificates/new/",
]


def _object_urls(x):
    return [
        f"/training/courses/{x['course'].pk}/edit/",
        f"/training/sessions/{x['session'].pk}/attendance/",
        f"/training/sessions/{x['session'].pk}/cancel/",
        f"/training/certificates/{x['cert'].pk}/edit/",
    ]


def _manager_urls(x):
    return [*ESTATE_PAGES, *_object_urls(x)]


def test_the_manager_pages_render(personas, setup):
    client = browser(personas.manager_a)
    for url in [
        *_manager_urls(setup),
        "/training/courses/",
        "/training/sessions/",
        f"/training/sessions/{setup['session'].pk}/",
        "/training/certificates/",
        f"/training/staff/{personas.technician_a.pk}/",
    ]:
        assert client.get(url).status_code == 200, url
    team = client.get("/training/team/").content.decode()
    assert "王师傅" in team and "Due" in team and "Electrician (low voltage)" in team
    assert client.get("/training/").url == "/training/team/"


@pytest.mark.parametrize("who", ["outsider", "owner_a101", "stranger"])
def test_outsiders_get_nothing_on_any_page(personas, setup, who):
    client = browser(getattr(personas, who))
    urls = [
        *_object_urls(setup),
        f"/training/sessions/{setup['session'].pk}/",
        f"/training/staff/{personas.technician_a.pk}/",
        f"/training/certificates/{setup['cert'].pk}/scan/",
    ]
    for url in urls:
        assert client.get(url).status_code == 404, url
    events = AuditEvent.objects.count()
    client.post(f"/training/certificates/{setup['cert'].pk}/edit/", {"number": "X"})
    client.post(f"/training/sessions/{setup['session'].pk}/cancel/")
    assert AuditEvent.objects.count() == events
    assert Session.objects.count() == 1
    for url in (
        "/training/certificates/",
        "/training/sessions/",
        "/training/courses/",
        *ESTATE_PAGES,
    ):
        page = client.get(url)
        assert page.status_code in (200, 404)
        assert "T3201" not in page.content.decode() and "安全生产培训" not in page.content.decode()


def test_a_technician_sees_their_own_record_and_cannot_edit(personas, setup):
    client = browser(personas.technician_a)
    mine = client.get("/training/me/")
    assert mine.status_code == 200
    text = mine.content.decode()
    assert "T3201" in text and "安全生产培训" in text
    theirs = certificate(personas, holder=personas.security_a, number="B-1", kind="security_guard")
    assert client.get(f"/training/staff/{personas.security_a.pk}/").status_code == 404
    assert "B-1" not in client.get("/training/certificates/").content.decode()
    for pk in (setup["cert"].pk, theirs.pk):
        response = client.post(f"/training/certificates/{pk}/edit/", {"number": "HACK"})
        assert response.status_code == 404
    assert not Certificate.objects.filter(number="HACK").exists()
    for url in _manager_urls(setup):
        assert client.get(url).status_code == 404, url


def test_creating_a_course_and_a_session_from_the_pages(personas, clock):
    client = browser(personas.manager_a)
    response = client.post(
        "/training/courses/new/",
        {
            "title": "客户投诉处理",
            "topic": "complaints",
            "roles": ["service_desk"],
            "recurrence": "quarterly",
            "pass_mark": "70",
            "is_mandatory": "on",
            "is_active": "on",
        },
    )
    assert response.status_code == 302
    course = Course.objects.get(title="客户投诉处理")
    response = client.post(
        "/training/sessions/new/",
        {
            "course": course.pk,
            "starts_at": "2026-05-14T09:00",
            "ends_at": "2026-05-14T11:00",
            "place": "客服中心",
            "trainer": personas.manager_a.pk,
            "capacity": "10",
        },
    )
    session = Session.objects.get(course=course)
    assert response.url == f"/training/sessions/{session.pk}/"
    assert list(session.attendees.values_list("user__username", flat=True)) == ["clerk_a"]


def test_recording_attendance_on_the_phone_form(personas, setup):
    p, session = personas, setup["session"]
    url = f"/training/sessions/{session.pk}/attendance/"
    client = browser(p.manager_a)
    bad = client.post(
        url,
        {
            f"status_{p.technician_a.pk}": "present",
            f"score_{p.technician_a.pk}": "101",
            f"status_{p.security_a.pk}": "present",
            f"score_{p.security_a.pk}": "<b>x</b>",
        },
    )
    assert bad.status_code == 400
    text = bad.content.decode()
    assert text.count("A score is a whole number from 0 to 100.") == 2
    assert "<b>x</b>" not in text and "&lt;b&gt;x&lt;/b&gt;" in text
    assert not Attendance.objects.exclude(status="invited").exists()
    good = client.post(
        url,
        {
            f"status_{p.technician_a.pk}": "present",
            f"score_{p.technician_a.pk}": "85",
            f"status_{p.security_a.pk}": "absent",
        },
    )
    assert good.status_code == 302
    assert Attendance.objects.get(user=p.technician_a).passed


def test_a_certificate_with_a_bad_file_is_refused_on_the_form(personas, clock):
    from django.core.files.uploadedfile import SimpleUploadedFile

    client = browser(personas.manager_a)
    form = {
        "holder": personas.technician_a.pk,
        "kind": "elevator",
        "number": "TS-001",
        "issuer": "市场监督管理局",
        "issued_on": "2024-01-01",
        "expires_on": "2023-01-01",
        "scan": SimpleUploadedFile("scan.jpg", b"not really a photo"),
    }
    response = client.post("/training/certificates/new/", form)
    assert response.status_code == 400
    assert "The expiry date must be after the issue date." in response.content.decode()
    form.update(expires_on="2028-01-01", scan=SimpleUploadedFile("scan.jpg", b"nope"))
    response = client.post("/training/certificates/new/", form)
    assert "Upload a photo (JPEG, PNG or WebP) or a PDF" in response.content.decode()
    assert not Certificate.objects.exists()


def test_the_scan_is_shown_to_the_holder_and_managers_only(personas, clock, settings, tmp_path):
    settings.STORAGES = {
        **settings.STORAGES,
        "default": {
            "BACKEND": "django.core.files.storage.FileSystemStorage",
            "OPTIONS": {"location": str(tmp_path)},
        },
    }
    cert = certificate(personas, scan=jpeg())
    url = f"/training/certificates/{cert.pk}/scan/"
    assert browser(personas.technician_a).get(url).status_code == 200
    assert browser(personas.manager_a).get(url).status_code == 200
    assert browser(personas.security_a).get(url).status_code == 404


def test_the_certificate_filters(personas, setup):
    certificate(personas, holder=personas.security_a, number="B-1", kind="security_guard")
    client = browser(personas.manager_a)
    expiring = client.get("/training/certificates/", {"state": "expiring"}).content.decode()
    assert "T3201" in expiring and "B-1" not in expiring
    guards = client.get("/training/certificates/", {"kind": "security_guard"}).content.decode()
    assert "B-1" in guards and "T3201" not in guards
    assert (
        client.get("/training/certificates/", {"state": "<bad>", "estate": "x"}).status_code == 200
    )


def test_list_pages_take_the_same_queries_for_more_rows(
    personas, course, django_assert_max_num_queries
):
    p = personas
    client = browser(p.manager_a)
    urls = [
        "/training/sessions/",
        "/training/certificates/",
        "/training/team/",
        "/training/gaps/",
        "/training/courses/",
        f"/training/staff/{p.technician_a.pk}/",
    ]

    def counts():
        found = {}
        for url in urls:
            from django.db import connection
            from django.test.utils import CaptureQueriesContext

            with CaptureQueriesContext(connection) as queries:
                assert client.get(url).status_code == 200
            found[url] = len(queries)
        return found

    hold_session(p, course)
    certificate(p, number="N-0", expires_on=NOW.date() + dt.timedelta(days=10))
    counts()  # the switcher's estates are read once, then kept (decisions §35)
    few = counts()
    for n in range(1, 8):
        session = hold_session(p, course, days_ago=n + 1)
        services.attendance_record(
            actor=p.manager_a,
            session=session,
            rows=[{"user": p.technician_a.pk, "status": "present", "score": 50 + n}],
        )
        certificate(p, number=f"N-{n}", expires_on=NOW.date() + dt.timedelta(days=10 + n))
    assert counts() == few
