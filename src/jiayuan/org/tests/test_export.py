"""Exporting an estate's buildings, units and residents to .xlsx, and importing it back."""

import io
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from jiayuan.core.middleware import ESTATE_SESSION_KEY
from jiayuan.core.models import AuditEvent
from jiayuan.org import exporting, importing
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import Building, ImportJob, Residency, Resident, Unit
from jiayuan.org.tests.import_helpers import (
    RESIDENT_HEADERS,
    UNIT_HEADERS,
    _media_in_memory,  # noqa: F401 - autouse fixture
    client_in_estate,
    read_xlsx,
    upload,
)


def export_url(kind: str) -> str:
    return reverse("org:export", args=[kind])


def download(client, kind: str) -> bytes:
    response = client.get(export_url(kind))
    assert response.status_code == 200, response.status_code
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert "attachment" in response["Content-Disposition"]
    return b"".join(response.streaming_content)


def unit_facts(estate) -> set[tuple]:
    return {
        (u.building.name, u.entrance, u.number, u.floor, u.gross_area, u.inner_area, u.status)
        for u in Unit.objects.filter(estate=estate).select_related("building")
    }


class TestWhoMayExport:
    @pytest.mark.parametrize("who", ["manager_a", "company_admin", "clerk_a"])
    def test_managers_and_the_service_desk_export(self, personas, who):
        client = personas.client_for(getattr(personas, who))
        for kind in ImportJob.Kind.values:
            download(client, kind)

    @pytest.mark.parametrize("who", ["technician_a", "security_a", "dispatcher_a"])
    def test_other_staff_are_refused(self, personas, who):
        client = personas.client_for(getattr(personas, who))
        assert client.get(export_url("residents")).status_code == 403
        assert not AuditEvent.objects.filter(code=OrgEvent.EXPORT_DOWNLOADED).exists()

    @pytest.mark.parametrize("who", ["stranger", "owner_a101"])
    def test_people_without_a_staff_estate_get_not_found(self, personas, who):
        client = personas.client_for(getattr(personas, who))
        assert client.get(export_url("units")).status_code == 404

    def test_the_outsider_exports_only_their_own_estate(self, personas):
        client = client_in_estate(personas, personas.outsider, personas.estate_a)
        sheets = read_xlsx(download(client, "units"))
        assert [row[0] for row in sheets["房屋"][1:]] == ["1栋"]

    def test_an_unknown_kind_is_not_found(self, personas):
        client = personas.client_for(personas.manager_a)
        assert client.get(export_url("planets")).status_code == 404

    def test_the_service_function_checks_too(self, personas):
        from django.core.exceptions import PermissionDenied

        with pytest.raises(PermissionDenied):
            exporting.export_workbook(
                actor=personas.technician_a, estate=personas.estate_a, kind="units"
            )


class TestContents:
    def test_units_with_the_template_columns(self, personas):
        personas.unit_a101.entrance = "1单元"
        personas.unit_a101.save()
        sheets = read_xlsx(download(personas.client_for(personas.manager_a), "units"))
        assert list(sheets) == ["房屋"]
        header, *rows = sheets["房屋"]
        assert list(header) == UNIT_HEADERS
        assert rows == [
            ("1号楼", None, "102", 1, 89.5, 72.3, "空置"),
            ("1号楼", "1单元", "101", 1, 89.5, 72.3, "空置"),
        ]

    def test_one_audit_event_per_download(self, personas):
        download(personas.client_for(personas.manager_a), "workbook")
        event = AuditEvent.objects.get(code=OrgEvent.EXPORT_DOWNLOADED)
        assert event.estate_id == personas.estate_a.pk
        assert event.actor_id == personas.manager_a.pk
        assert event.after == {
            "kind": "workbook",
            "rows": {"buildings": 1, "units": 2, "residents": 2},
        }

    def test_residents_in_full_for_the_service_desk(self, personas):
        sheets = read_xlsx(download(personas.client_for(personas.clerk_a), "residents"))
        header, *rows = sheets["住户"]
        assert list(header) == RESIDENT_HEADERS
        assert {row[:6] for row in rows} == {
            ("张伟", "13800138001", "1号楼", None, "101", "业主"),
            ("李娜", "13800138002", "1号楼", None, "102", "业主"),
        }

    def test_mobiles_are_masked_for_staff_who_may_not_read_them(self, personas):
        # No exporter lacks the right to read phones today; the rows still go through
        # phone_for, so a technician's view of the same rows shows masked numbers.
        rows = list(exporting.ROWS_OF["residents"](personas.technician_a, personas.estate_a))
        assert sorted(row[1] for row in rows) == ["138****8001", "138****8002"]

    def test_moved_out_residents_are_not_exported(self, personas):
        Residency.objects.filter(unit=personas.unit_a102).update(moved_out_on="2020-01-01")
        sheets = read_xlsx(download(personas.client_for(personas.manager_a), "residents"))
        assert [row[0] for row in sheets["住户"][1:]] == ["张伟"]

    def test_formula_like_text_stays_text(self, personas):
        Building.objects.filter(pk=personas.building_a1.pk).update(note='=HYPERLINK("x")')
        data = download(personas.client_for(personas.manager_a), "buildings")
        sheet = openpyxl.load_workbook(io.BytesIO(data))["楼栋"]
        assert sheet["D2"].value == '=HYPERLINK("x")'
        assert sheet["D2"].data_type == "s"

    def test_the_export_reads_in_a_fixed_number_of_queries(
        self, personas, django_assert_max_num_queries
    ):
        client = personas.client_for(personas.manager_a)
        with django_assert_max_num_queries(20) as few:
            download(client, "workbook")
        for number in range(30):
            unit = Unit.objects.create(
                estate=personas.estate_a,
                building=personas.building_a1,
                number=f"3{number:02d}",
                floor=3,
                gross_area=Decimal("90"),
            )
            resident = Resident.objects.create(
                company=personas.company, name=f"住户{number}", mobile=f"137001370{number:02d}"
            )
            Residency.objects.create(resident=resident, unit=unit, relation="owner")
        with django_assert_max_num_queries(len(few.captured_queries)):
            data = download(client, "workbook")
        assert len(read_xlsx(data)["住户"]) == 33


class TestRoundTrip:
    def test_an_export_imports_into_another_estate_as_the_same_units(self, personas):
        # The personas' owners were linked without the move-in rule; make A as it would be.
        Unit.objects.filter(residencies__isnull=False).update(status=Unit.Status.OCCUPIED)
        Unit.objects.create(
            estate=personas.estate_a,
            building=Building.objects.create(
                estate=personas.estate_a, name="2号楼", floors_above=6, floors_below=1
            ),
            entrance="2单元",
            number="B01",
            floor=-1,
            gross_area=Decimal("30.25"),
            status=Unit.Status.RENOVATING,
        )
        client = personas.client_for(personas.company_admin)
        session = client.session
        session[ESTATE_SESSION_KEY] = personas.estate_a.pk
        session.save()
        data = download(client, "workbook")
        residents_before = Resident.objects.count()

        with translation.override("en"):
            job = importing.import_job_create(
                actor=personas.company_admin,
                estate=personas.estate_b,
                kind="workbook",
                upload=upload("阳光花园.xlsx", data),
            )
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        assert unit_facts(personas.estate_b) - {
            ("A座", "", "101", 1, Decimal("89.50"), Decimal("72.30"), "vacant")
        } == unit_facts(personas.estate_a)
        # The same people, linked to the new units rather than registered again.
        assert Resident.objects.count() == residents_before
        assert job.counts["residents_linked"] == 2
        assert set(
            Residency.objects.filter(unit__estate=personas.estate_b).values_list(
                "resident__mobile", "unit__number"
            )
        ) == {("13800138001", "101"), ("13800138002", "102")}
