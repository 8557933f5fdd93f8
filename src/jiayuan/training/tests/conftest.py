"""Training fixtures on the shared personas: a quarterly safety course with an exam for
technicians and guards, and helpers for sessions and certificates."""

import datetime as dt
import io
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import translation
from PIL import Image

from jiayuan.core.roles import Role
from jiayuan.training import services

SHANGHAI = ZoneInfo("Asia/Shanghai")
# Mid-May 2026: the second quarter runs from April 1 to June 30.
NOW = dt.datetime(2026, 5, 15, 10, 0, tzinfo=SHANGHAI)


@pytest.fixture(autouse=True)
def _english(settings):
    """Assertions read English: in the code and in pages asked for without a language."""
    settings.LANGUAGE_CODE = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def clock():
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def course(personas, clock):
    return services.course_create(
        actor=personas.manager_a,
        company=personas.company,
        title="安全生产培训",
        topic="safety",
        roles=[Role.TECHNICIAN, Role.SECURITY],
        pass_mark=60,
    )


def hold_session(p, course, *, days_ago=1, estate="a", **extra):
    """A two-hour session `days_ago` days before now (negative: in the future)."""
    starts = dt.datetime.now(SHANGHAI).replace(microsecond=0) - dt.timedelta(days=days_ago)
    return services.session_create(
        actor=extra.pop("actor", p.manager_a),
        course=course,
        estate=p.estate_a if estate == "a" else estate,
        starts_at=starts,
        ends_at=starts + dt.timedelta(hours=2),
        place="三楼会议室",
        trainer_name="消防支队李教官",
        **extra,
    )


def certificate(p, *, holder=None, number="T3201", expires_on=None, **extra):
    return services.certificate_create(
        actor=p.manager_a,
        holder=holder or p.technician_a,
        estate=p.estate_a,
        kind=extra.pop("kind", "electrician"),
        number=number,
        issuer="南京市应急管理局",
        issued_on=extra.pop("issued_on", dt.date(2020, 6, 1)),
        expires_on=expires_on,
        **extra,
    )


def jpeg(name="scan.jpg") -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", (60, 40), "navy").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf(name="scan.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, b"%PDF-1.4\n%\xe2\xe3\n1 0 obj\n<<>>\nendobj\n%%EOF\n")
