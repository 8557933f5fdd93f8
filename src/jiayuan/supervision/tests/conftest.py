"""Estate A of the shared personas with the default checklists, a cleaner who owns
findings, and helpers for inspections, orders and uploads."""

import io
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.utils import translation
from PIL import Image

from jiayuan.core.roles import Role
from jiayuan.core.testing import Personas, build_personas, make_staff
from jiayuan.supervision import services
from jiayuan.supervision.models import Area, ChecklistTemplate, Inspection, RectificationOrder

SHANGHAI = ZoneInfo("Asia/Shanghai")
MORNING = datetime(2026, 6, 1, 10, 0, tzinfo=SHANGHAI)
PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


def jpeg(name="photo.jpg", size=(40, 30)) -> SimpleUploadedFile:
    buffer = io.BytesIO()
    Image.new("RGB", size, "teal").save(buffer, format="JPEG")
    return SimpleUploadedFile(name, buffer.getvalue(), content_type="image/jpeg")


def pdf(name="report.pdf") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PDF, content_type="application/pdf")


def browser(user) -> Client:
    client = Client(headers={"Accept-Language": "en"})
    client.force_login(user)
    return client


@dataclass
class World:
    p: Personas
    cleaner: object  # a cleaner of estate A: owns cleaning findings
    cleaning: ChecklistTemplate

    def inspection(self, actor=None, template=None) -> Inspection:
        return services.inspection_start(
            actor=actor or self.p.manager_a,
            estate=self.p.estate_a,
            template=template or self.cleaning,
        )

    def finding(self, inspection=None, points=7, note="大堂地面有水渍", photo=None):
        """Submit an inspection with its first item below full marks: its order."""
        inspection = inspection or self.inspection()
        first = inspection.items.get(position=1)
        services.inspection_submit(
            actor=inspection.inspector,
            inspection=inspection,
            results={first.pk: {"points": points, "note": note}},
            photos={first.pk: photo} if photo else None,
            owner=self.cleaner,
            deadline=self.deadline(),
        )
        return RectificationOrder.objects.get(inspection_item=first)

    def fixed(self, order=None, by=None) -> RectificationOrder:
        order = order or self.finding()
        return services.order_fix(
            actor=by or self.cleaner,
            order=order,
            note="已拖干并放置防滑提示牌",
            after_photo=jpeg("after.jpg") if order.before_photo else None,
        )

    @staticmethod
    def deadline():
        from django.utils import timezone

        return timezone.now() + timedelta(days=3)


def build_world() -> World:
    p = build_personas()
    cleaner = make_staff("cleaner_a", "吴保洁", p.estate_a, Role.CLEANER)
    services.checklist_create_defaults(actor=p.company_admin, company=p.company)
    cleaning = ChecklistTemplate.objects.get(company=p.company, area=Area.CLEANING)
    return World(p=p, cleaner=cleaner, cleaning=cleaning)


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture(autouse=True)
def _media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"


@pytest.fixture
def morning():
    with time_machine.travel(MORNING, tick=False) as traveller:
        yield traveller


@pytest.fixture
def world(db, morning):
    return build_world()
