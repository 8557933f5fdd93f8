"""Importing buildings, units and residents: reading, checking every row, writing all or
nothing."""

from datetime import date, timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.management import call_command
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import timezone, translation
from django_tasks_db.models import DBTaskResult

from jiayuan.core.models import AuditEvent
from jiayuan.core.workers import recover_lost_tasks
from jiayuan.org import importing
from jiayuan.org.events import OrgEvent
from jiayuan.org.models import Building, ImportJob, Residency, Resident, Unit
from jiayuan.org.tasks import import_spreadsheet
from jiayuan.org.tests.import_helpers import (
    BUILDING_HEADERS,
    RESIDENT_HEADERS,
    UNIT_HEADERS,
    _media_in_memory,  # noqa: F401 - autouse fixture
    csv_bytes,
    upload,
    xlsx_bytes,
)


def run_import(personas, data: bytes, name: str, kind: str, actor=None, estate=None, **options):
    with translation.override("en"):
        return importing.import_job_create(
            actor=actor or personas.manager_a,
            estate=estate or personas.estate_a,
            kind=kind,
            upload=upload(name, data),
            **options,
        )


def row_counts():
    return (
        Building.objects.count(),
        Unit.objects.count(),
        Resident.objects.count(),
        Residency.objects.count(),
    )


def errors_by_cell(job) -> dict[tuple, str]:
    return {(e["sheet"], e["row"], e["column"]): e["message"] for e in job.errors}


GOOD_UNITS = [
    UNIT_HEADERS,
    ["1号楼", "", "201", 2, 89.5, 70.25, "自住"],
    ["1号楼", "1单元", 202, 2, "90", None, "rented"],
    ["1号楼", "1单元", "B101", -1, "35.5㎡", "", ""],
]


class TestGoodFiles:
    def check_units_written(self, personas, job):
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        units = {
            (u.entrance, u.number): u
            for u in Unit.objects.filter(building=personas.building_a1).exclude(
                number__in=["101", "102"]
            )
        }
        assert set(units) == {("", "201"), ("1单元", "202"), ("1单元", "B101")}
        assert units[("", "201")].gross_area == Decimal("89.50")
        assert units[("", "201")].inner_area == Decimal("70.25")
        assert units[("", "201")].status == Unit.Status.OCCUPIED
        assert units[("1单元", "202")].status == Unit.Status.RENTED
        assert units[("1单元", "B101")].floor == -1
        assert units[("1单元", "B101")].inner_area is None
        assert units[("1单元", "B101")].status == Unit.Status.VACANT
        assert all(u.estate_id == personas.estate_a.pk for u in units.values())
        assert job.counts["units"] == 3
        assert job.total_rows == job.processed_rows == 3

    def test_units_from_xlsx(self, personas):
        personas.building_a1.floors_below = 2
        personas.building_a1.save()
        job = run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS}), "units.xlsx", "units")
        self.check_units_written(personas, job)

    def test_units_from_utf8_csv_with_bom(self, personas):
        personas.building_a1.floors_below = 2
        personas.building_a1.save()
        job = run_import(personas, csv_bytes(GOOD_UNITS, "utf-8-sig"), "units.csv", "units")
        self.check_units_written(personas, job)

    def test_units_from_gb18030_csv_as_excel_in_china_saves_it(self, personas):
        personas.building_a1.floors_below = 2
        personas.building_a1.save()
        data = csv_bytes(GOOD_UNITS, "gb18030")
        with pytest.raises(UnicodeDecodeError):
            data.decode("utf-8")
        job = run_import(personas, data, "units.csv", "units")
        self.check_units_written(personas, job)

    def test_english_headers_and_a_title_row_above_them(self, personas):
        rows = [
            ["阳光花园楼栋清单"],
            ["Building name", "Floors above ground", "floors_below", "Note"],
            ["2号楼", 11, 1, "新楼"],
        ]
        job = run_import(personas, xlsx_bytes({"Sheet1": rows}), "b.xlsx", "buildings")
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        building = Building.objects.get(estate=personas.estate_a, name="2号楼")
        assert (building.floors_above, building.floors_below, building.note) == (11, 1, "新楼")

    def test_a_workbook_creates_buildings_then_their_units_then_residents(self, personas):
        today = timezone.localdate()
        data = xlsx_bytes(
            {
                "说明": [["this sheet is ignored"]],
                "住户": [
                    RESIDENT_HEADERS,
                    [
                        "王芳",
                        "+86 139-0013-9000",
                        "5号楼",
                        "",
                        "501",
                        "租户",
                        "2024/3/1",
                        "VIP",
                        "",
                    ],
                    ["王芳", "13900139000", "5号楼", "", "502", "业主", None, None, None],
                    ["张伟", "13800138001", "5号楼", "", "502", "family", "", "", ""],
                ],
                "楼栋": [BUILDING_HEADERS, ["5号楼", 6, 0, ""]],
                "房屋": [
                    UNIT_HEADERS,
                    ["5号楼", "", "501", 5, 100, 80, ""],
                    ["5号楼", "", "502", 5, 100, 80, "装修"],
                ],
            }
        )
        residents_before = Resident.objects.count()
        job = run_import(personas, data, "all.xlsx", "workbook")
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        assert job.counts == {
            "buildings": 1,
            "units": 2,
            "residents_created": 1,
            "residents_linked": 1,
            "residencies": 3,
            "units_status_changed": 0,
        }
        # The resident already registered with 13800138001 is linked, not registered twice.
        assert Resident.objects.count() == residents_before + 1
        wang = Resident.objects.get(mobile="13900139000")
        assert (wang.name, wang.tier, wang.company_id) == ("王芳", "vip", personas.company.pk)
        stays = {
            (r.resident.name, r.unit.number): r
            for r in Residency.objects.filter(unit__building__name="5号楼").select_related(
                "resident", "unit"
            )
        }
        assert set(stays) == {("王芳", "501"), ("王芳", "502"), ("张伟", "502")}
        assert stays[("王芳", "501")].relation == Residency.Relation.TENANT
        assert stays[("王芳", "501")].moved_in_on == date(2024, 3, 1)
        assert stays[("王芳", "502")].moved_in_on == today
        assert stays[("张伟", "502")].relation == Residency.Relation.FAMILY
        statuses = dict(Unit.objects.filter(building__name="5号楼").values_list("number", "status"))
        # The same rule as residency_start: a tenant makes a vacant unit rented, renovation stays.
        assert statuses == {"501": Unit.Status.RENTED, "502": Unit.Status.RENOVATING}

    def test_move_ins_into_existing_units_update_their_status(self, personas):
        unit = Unit.objects.create(
            estate=personas.estate_a,
            building=personas.building_a1,
            number="301",
            floor=3,
            gross_area=Decimal("80"),
        )
        rows = [RESIDENT_HEADERS, ["钱七", "13700137007", "1号楼", "", "301", "", "", "", ""]]
        job = run_import(personas, xlsx_bytes({"住户": rows}), "r.xlsx", "residents")
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        unit.refresh_from_db()
        assert unit.status == Unit.Status.OCCUPIED
        assert job.counts["units_status_changed"] == 1

    def test_one_audit_event_with_the_counts(self, personas):
        job = run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS[:3]}), "units.xlsx", "units")
        events = AuditEvent.objects.filter(code=OrgEvent.IMPORT_COMMITTED)
        assert events.count() == 1
        event = events.get()
        assert event.estate_id == personas.estate_a.pk
        assert event.actor_id == personas.manager_a.pk
        assert event.target_id == str(job.pk)
        assert event.after["units"] == 2
        assert event.after["file"] == "units.xlsx"

    def test_rows_with_only_columns_of_the_users_own_are_skipped(self, personas):
        rows = [
            [*BUILDING_HEADERS, "负责人"],
            ["3号楼", 9, 0, "", "王"],
            [None, None, None, None, "以下为二期"],
            ["4号楼", 9, 0, "", ""],
        ]
        job = run_import(personas, xlsx_bytes({"楼栋": rows}), "b.xlsx", "buildings")
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        assert job.total_rows == 2

    def test_a_dry_run_checks_and_writes_nothing(self, personas):
        before = row_counts()
        job = run_import(
            personas, xlsx_bytes({"房屋": GOOD_UNITS[:3]}), "u.xlsx", "units", dry_run=True
        )
        assert job.status == ImportJob.Status.VALIDATED
        assert job.counts["units"] == 2
        assert row_counts() == before
        assert not AuditEvent.objects.filter(code=OrgEvent.IMPORT_COMMITTED).exists()

    def test_hostile_text_is_stored_as_text(self, personas):
        hostile = "<script>alert(1)</script>"
        rows = [BUILDING_HEADERS, [hostile, 3, 0, '=HYPERLINK("http://x")']]
        job = run_import(personas, csv_bytes(rows), "b.csv", "buildings")
        assert job.status == ImportJob.Status.COMMITTED, job.errors
        building = Building.objects.get(name=hostile)
        assert building.note == '=HYPERLINK("http://x")'

    def test_the_work_does_not_grow_queries_with_rows(self, personas):
        def queries_for(count: int, building: str) -> int:
            rows = [BUILDING_HEADERS, [building, 30, 0, ""]]
            run_import(personas, xlsx_bytes({"楼栋": rows}), "b.xlsx", "buildings")
            unit_rows = [UNIT_HEADERS] + [
                [building, "", str(n), 1 + n % 30, 90, 80, ""] for n in range(count)
            ]
            resident_rows = [RESIDENT_HEADERS] + [
                [f"住户{n}", f"136{count % 100:02d}{n:06d}", building, "", str(n), "", "", "", ""]
                for n in range(count)
            ]
            data = xlsx_bytes({"房屋": unit_rows, "住户": resident_rows})
            with CaptureQueriesContext(connection) as captured:
                job = run_import(personas, data, "w.xlsx", "workbook")
            assert job.status == ImportJob.Status.COMMITTED, job.errors
            return len(captured)

        # Inserts go in batches of about a hundred rows; nothing is read or written per row.
        few, many = queries_for(10, "10号楼"), queries_for(300, "11号楼")
        assert many - few <= 10, (few, many)


class TestBadFiles:
    def test_every_bad_row_is_reported_and_nothing_is_written(self, personas):
        data = xlsx_bytes(
            {
                "楼栋": [BUILDING_HEADERS, ["7号楼", 10, 0, ""], ["7号楼", 12, 0, ""]],
                "房屋": [
                    UNIT_HEADERS,
                    ["7号楼", "", "101", 1, 90, 80, ""],
                    ["7号楼", "", "101", 1, 90, 80, ""],  # duplicate in the file
                    ["1号楼", "", "101", 1, 90, 80, ""],  # already exists
                    ["8号楼", "", "101", 1, 90, 80, ""],  # unknown building
                    ["7号楼", "", "102", 1, -5, None, ""],  # negative area
                    ["7号楼", "", None, 1, 90, 80, ""],  # empty required cell
                    ["7号楼", "", "103", 1, 90, 95, ""],  # inner larger than gross
                    ["7号楼", "", "104", 11, 90, 80, "sold"],  # floor outside, bad status
                ],
                "住户": [
                    RESIDENT_HEADERS,
                    ["赵六", "12345", "7号楼", "", "101", "", "", "", ""],  # bad phone
                    ["李四", "13600136000", "1号楼", "", "101", "", "2024-02-30", "", ""],
                    ["", "13600136001", "1号楼", "", "101", "朋友", "", "", ""],
                    ["李娜", "13800138001", "1号楼", "", "999", "", "", "", ""],
                ],
                "楼房": [["whatever"]],  # wrong sheet name
            }
        )
        before = row_counts()
        job = run_import(personas, data, "bad.xlsx", "workbook")
        assert job.status == ImportJob.Status.FAILED
        assert row_counts() == before
        assert not AuditEvent.objects.filter(code=OrgEvent.IMPORT_COMMITTED).exists()
        errors = errors_by_cell(job)
        expected = {
            ("楼房", None, ""): "Unknown sheet",
            ("楼栋", 3, "楼栋名称"): "listed twice (first in row 2)",
            ("房屋", 3, "房号"): "listed twice (first in row 2)",
            ("房屋", 4, "房号"): "already exists",
            ("房屋", 5, "楼栋"): "no building",
            ("房屋", 6, "建筑面积"): "more than 0",
            ("房屋", 7, "房号"): "required",
            ("房屋", 8, "套内面积"): "cannot be larger",
            ("房屋", 9, "楼层"): "floor does not exist",
            ("房屋", 9, "状态"): "空置、自住、出租、装修",
            ("住户", 2, "手机号"): "mainland China mobile",
            ("住户", 3, "入住日期"): "date",
            ("住户", 4, "姓名"): "required",
            ("住户", 4, "关系"): "业主、租户、家庭成员",
            ("住户", 5, "姓名"): "another name",
            ("住户", 5, "房号"): "no unit",
        }
        assert set(errors) == set(expected)
        for cell, words in expected.items():
            assert words in errors[cell], (cell, errors[cell])
        assert job.error_count == len(expected)
        assert job.processed_rows == job.total_rows == 14

    def test_errors_come_in_row_and_column_order(self, personas):
        rows = [
            UNIT_HEADERS,
            ["9号楼", "", "", 0, -1, None, "x"],
            ["1号楼", "", "101", 1, 1, 2, ""],
        ]
        job = run_import(personas, xlsx_bytes({"房屋": rows}), "u.xlsx", "units")
        assert [(e["row"], e["column"]) for e in job.errors] == [
            (2, "楼栋"),
            (2, "房号"),
            (2, "楼层"),
            (2, "建筑面积"),
            (2, "状态"),
            (3, "房号"),
            (3, "套内面积"),
        ]

    def test_a_resident_registered_under_another_name_is_not_linked(self, personas):
        rows = [RESIDENT_HEADERS, ["张三", "13800138001", "1号楼", "", "102", "", "", "", ""]]
        before = row_counts()
        job = run_import(personas, xlsx_bytes({"住户": rows}), "r.xlsx", "residents")
        assert errors_by_cell(job) == {
            ("住户", 2, "姓名"): "A resident with this mobile number is registered under "
            "another name."
        }
        assert row_counts() == before

    def test_a_resident_already_living_in_the_unit(self, personas):
        rows = [RESIDENT_HEADERS, ["张伟", "13800138001", "1号楼", "", "101", "", "", "", ""]]
        job = run_import(personas, xlsx_bytes({"住户": rows}), "r.xlsx", "residents")
        assert "already lives" in errors_by_cell(job)[("住户", 2, "房号")]

    def test_a_one_kind_file_with_the_wrong_sheet(self, personas):
        rows = [BUILDING_HEADERS, ["9号楼", 3, 0, ""]]
        job = run_import(personas, xlsx_bytes({"楼栋": rows}), "b.xlsx", "units")
        assert job.status == ImportJob.Status.FAILED
        assert job.errors == [
            {
                "sheet": "楼栋",
                "row": None,
                "column": "",
                "value": "",
                "message": "This sheet holds 楼栋, but you chose to import 房屋.",
            }
        ]
        assert not Building.objects.filter(name="9号楼").exists()

    def test_missing_columns_are_named(self, personas):
        rows = [["楼栋", "房号", "面积"], ["1号楼", "301", 90]]
        job = run_import(personas, csv_bytes(rows), "u.csv", "units")
        assert job.status == ImportJob.Status.FAILED
        assert "楼层, 建筑面积" in job.errors[0]["message"]
        assert job.errors[0]["sheet"] == "u.csv"

    def test_too_many_rows(self, personas, settings):
        settings.IMPORT_MAX_ROWS = 2
        rows = [UNIT_HEADERS] + [["1号楼", "", str(300 + n), 3, 90, 80, ""] for n in range(3)]
        before = row_counts()
        job = run_import(personas, xlsx_bytes({"房屋": rows}), "u.xlsx", "units")
        assert job.status == ImportJob.Status.FAILED
        assert "more than 2 rows" in job.errors[0]["message"]
        assert row_counts() == before

    def test_a_file_with_headers_only(self, personas):
        job = run_import(personas, csv_bytes([UNIT_HEADERS]), "u.csv", "units")
        assert job.status == ImportJob.Status.FAILED
        assert job.errors[0]["message"] == "The file has no rows to import."

    def test_a_damaged_workbook(self, personas):
        job = run_import(personas, b"PK\x03\x04 not really a zip", "u.xlsx", "units")
        assert job.status == ImportJob.Status.FAILED
        assert "not a spreadsheet" in job.errors[0]["message"]

    def test_a_csv_in_an_unknown_encoding(self, personas):
        job = run_import(personas, b"\x81\x30\xff\xff,\x80\n", "u.csv", "units")
        assert job.status == ImportJob.Status.FAILED
        assert "UTF-8 or GB18030" in job.errors[0]["message"]

    def test_a_workbook_kind_needs_an_xlsx(self, personas):
        job = run_import(personas, csv_bytes(GOOD_UNITS), "u.csv", "workbook")
        assert job.status == ImportJob.Status.FAILED

    @pytest.mark.parametrize(
        ("name", "data", "words"),
        [
            ("photo.png", b"\x89PNG\r\n\x1a\n", ".xlsx"),
            ("old.xls", b"\xd0\xcf\x11\xe0", ".xls"),
            ("photo.xlsx", b"\x89PNG\r\n\x1a\n", "not a spreadsheet"),
            ("binary.csv", b"a,b\x00\x01", "not a spreadsheet"),
            ("empty.csv", b"", "empty"),
        ],
    )
    def test_what_is_not_a_spreadsheet_is_refused_before_any_job(self, personas, name, data, words):
        with pytest.raises(ValidationError) as caught:
            run_import(personas, data, name, "units")
        assert words in caught.value.message_dict["file"][0]
        assert not ImportJob.objects.exists()

    def test_an_oversized_upload_is_refused(self, personas, settings):
        settings.IMPORT_MAX_BYTES = 1024
        data = csv_bytes([UNIT_HEADERS] + [["1号楼", "", str(n), 1, 90, 80, ""] for n in range(99)])
        assert len(data) > 1024
        with pytest.raises(ValidationError) as caught:
            run_import(personas, data, "u.csv", "units")
        assert "too large" in caught.value.message_dict["file"][0]
        assert not ImportJob.objects.exists()

    def test_a_failure_while_writing_leaves_nothing_behind(self, personas, monkeypatch):
        def broken(*args, **kwargs):
            raise RuntimeError("disk full")

        monkeypatch.setattr(Unit.objects, "bulk_create", broken)
        data = xlsx_bytes(
            {
                "楼栋": [BUILDING_HEADERS, ["6号楼", 5, 0, ""]],
                "房屋": [UNIT_HEADERS, ["6号楼", "", "101", 1, 90, 80, ""]],
            }
        )
        before = row_counts()
        job = run_import(personas, data, "w.xlsx", "workbook")
        assert job.status == ImportJob.Status.FAILED
        assert "unexpected error" in job.errors[0]["message"]
        assert row_counts() == before


class TestPermissions:
    def good_units(self):
        return upload("u.xlsx", xlsx_bytes({"房屋": GOOD_UNITS[:2]}))

    @pytest.mark.parametrize("who", ["clerk_a", "technician_a", "dispatcher_a"])
    def test_staff_other_than_managers_may_not_import(self, personas, who):
        with pytest.raises(PermissionDenied):
            importing.import_job_create(
                actor=getattr(personas, who),
                estate=personas.estate_a,
                kind="units",
                upload=self.good_units(),
            )
        assert not ImportJob.objects.exists()

    @pytest.mark.parametrize("who", ["outsider", "stranger", "clerk_b", "owner_a101"])
    def test_people_outside_the_estate_get_not_found(self, personas, who):
        with pytest.raises(Http404):
            importing.import_job_create(
                actor=getattr(personas, who),
                estate=personas.estate_a,
                kind="units",
                upload=self.good_units(),
            )

    def test_the_company_admin_may_import_into_any_estate_of_the_company(self, personas):
        rows = [UNIT_HEADERS, ["A座", "", "201", 2, 120, 100, ""]]
        job = run_import(
            personas,
            xlsx_bytes({"房屋": rows}),
            "u.xlsx",
            "units",
            actor=personas.company_admin,
            estate=personas.estate_b,
        )
        assert job.status == ImportJob.Status.COMMITTED

    def test_a_role_revoked_before_the_worker_runs_stops_the_import(self, personas, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        job = run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS[:2]}), "u.xlsx", "units")
        assert job.status == ImportJob.Status.QUEUED
        personas.manager_a.memberships.all().delete()
        before = row_counts()
        assert importing.import_job_run(job_id=job.pk) == ImportJob.Status.FAILED
        assert row_counts() == before

    def test_a_job_runs_once(self, personas):
        job = run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS[:2]}), "u.xlsx", "units")
        assert job.status == ImportJob.Status.COMMITTED
        assert importing.import_job_run(job_id=job.pk) == ""
        assert Unit.objects.filter(number="201").count() == 1

    def test_the_job_list_is_restricted(self, personas):
        run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS[:2]}), "u.xlsx", "units")
        assert importing.import_job_list(personas.manager_a, personas.estate_a).count() == 1
        assert importing.import_job_list(personas.company_admin, personas.estate_a).count() == 1
        for who in ("clerk_a", "technician_a", "outsider", "stranger"):
            user = getattr(personas, who)
            assert not importing.import_job_list(user, personas.estate_a).exists()


class TestWhenTheWorkerDies:
    """A job's task runs again after its worker died mid-job (core/workers.py): the job is
    started over and written once, or failed with a reason once the task is given up."""

    @pytest.fixture
    def queued(self, personas, settings, time_machine):
        settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
        settings.WORKER_LOST_AFTER_SECONDS = 60
        time_machine.move_to(timezone.now(), tick=False)
        job = run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS[:2]}), "u.xlsx", "units")
        return job, DBTaskResult.objects.get(task_path=import_spreadsheet.module_path)

    def die_while_checking(self, job, result, worker_id, time_machine):
        result.claim(worker_id)
        ImportJob.objects.filter(pk=job.pk).update(
            status=ImportJob.Status.VALIDATING, started_at=timezone.now(), processed_rows=1
        )
        time_machine.shift(timedelta(seconds=61))

    # Committed rows: the worker recycles its database connection between tasks.
    @pytest.mark.django_db(transaction=True)
    def test_the_next_attempt_starts_the_job_over_and_writes_it_once(self, queued, time_machine):
        job, result = queued
        self.die_while_checking(job, result, "dead", time_machine)
        assert recover_lost_tasks().requeued == [str(result.pk)]

        call_command("worker", "--batch", "--no-startup-delay", stdout=StringIO())

        job.refresh_from_db()
        assert job.status == ImportJob.Status.COMMITTED
        assert Unit.objects.filter(number="201").count() == 1
        assert DBTaskResult.objects.get(pk=result.pk).task_result.attempts == 2

    def test_a_first_attempt_does_not_take_a_job_another_run_holds(self, queued):
        job, _ = queued
        ImportJob.objects.filter(pk=job.pk).update(status=ImportJob.Status.VALIDATING)
        assert importing.import_job_run(job_id=job.pk) == ""

    def test_a_given_up_job_says_it_stopped_and_saved_nothing(self, queued, time_machine):
        job, result = queued
        before = row_counts()
        for worker_id in ("w1", "w2", "w3"):
            self.die_while_checking(job, result, worker_id, time_machine)
            recover_lost_tasks()
        job.refresh_from_db()
        assert job.status == ImportJob.Status.FAILED
        assert job.finished_at is not None
        assert "the server running it stopped several times" in job.errors[0]["message"]
        assert row_counts() == before

    def test_a_run_thought_dead_writes_nothing_over_the_run_that_replaced_it(
        self, personas, settings, monkeypatch
    ):
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        job = run_import(personas, xlsx_bytes({"房屋": GOOD_UNITS[:2]}), "u.xlsx", "units")
        read_stored = importing._read_stored

        def meanwhile_the_next_attempt_runs(job):
            monkeypatch.setattr(importing, "_read_stored", read_stored)
            assert importing.import_job_run(job_id=job.pk, attempt=2) == "committed"
            return read_stored(job)

        monkeypatch.setattr(importing, "_read_stored", meanwhile_the_next_attempt_runs)
        importing.import_job_run(job_id=job.pk)

        job.refresh_from_db()
        assert job.status == ImportJob.Status.COMMITTED
        assert job.error_count == 0
        assert Unit.objects.filter(number="201").count() == 1
