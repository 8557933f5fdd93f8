"""The import pages: who may open them, uploading, following a job, templates, reports."""

import io
import re

import openpyxl
import pytest
from django.urls import reverse
from django.utils import translation

from jiayuan.org import importing
from jiayuan.org.models import Building, ImportJob, Unit
from jiayuan.org.tests.import_helpers import (
    BUILDING_HEADERS,
    RESIDENT_HEADERS,
    UNIT_HEADERS,
    _media_in_memory,  # noqa: F401 - autouse fixture
    client_in_estate,
    csv_bytes,
    read_xlsx,
    upload,
    xlsx_bytes,
)

START = reverse("org:import_start")


def post_file(client, name: str, data: bytes, kind: str, **extra):
    return client.post(
        START, {"kind": kind, "file": upload(name, data), **extra}, HTTP_ACCEPT_LANGUAGE="en"
    )


def make_job(personas, rows, kind="units", sheet="房屋", estate=None):
    with translation.override("en"):
        return importing.import_job_create(
            actor=personas.manager_a if estate is None else personas.company_admin,
            estate=estate or personas.estate_a,
            kind=kind,
            upload=upload("file.xlsx", xlsx_bytes({sheet: rows})),
        )


def downloaded(response) -> dict[str, list[tuple]]:
    return read_xlsx(b"".join(response.streaming_content))


class TestWhoMayOpen:
    @pytest.mark.parametrize(
        "url",
        [
            START,
            reverse("org:import_template", args=["units"]),
            reverse("org:import_detail", args=[1]),
            reverse("org:import_errors", args=[1]),
            reverse("org:export", args=["units"]),
        ],
    )
    def test_anonymous_is_sent_to_sign_in(self, client, personas, url):
        response = client.get(url)
        assert response.status_code == 302
        assert reverse("accounts:login") in response["Location"]

    def test_a_person_without_an_estate_gets_not_found(self, personas):
        client = personas.client_for(personas.stranger)
        assert client.get(START).status_code == 404
        assert client.get(reverse("org:import_template", args=["units"])).status_code == 404
        assert client.get(reverse("org:export", args=["units"])).status_code == 404

    @pytest.mark.parametrize("who", ["technician_a", "security_a", "dispatcher_a"])
    def test_field_staff_are_refused(self, personas, who):
        client = personas.client_for(getattr(personas, who))
        assert client.get(START).status_code == 403
        assert client.get(reverse("org:import_template", args=["units"])).status_code == 403
        assert post_file(client, "u.csv", csv_bytes([UNIT_HEADERS]), "units").status_code == 403

    def test_the_service_desk_sees_exports_but_may_not_import(self, personas):
        client = personas.client_for(personas.clerk_a)
        page = client.get(START)
        assert page.status_code == 200
        assert reverse("org:export", args=["residents"]) in page.content.decode()
        assert b'type="file"' not in page.content
        rows = [UNIT_HEADERS, ["1号楼", "", "301", 3, 90, 80, ""]]
        response = post_file(client, "u.xlsx", xlsx_bytes({"房屋": rows}), "units")
        assert response.status_code == 403
        assert not ImportJob.objects.exists()
        assert not Unit.objects.filter(number="301").exists()

    def test_the_outsider_cannot_see_a_job_of_another_company(self, personas):
        job = make_job(personas, [UNIT_HEADERS, ["1号楼", "", "301", 3, 90, -1, ""]])
        for who in ("outsider", "clerk_a", "technician_a", "clerk_b", "owner_a101"):
            client = personas.client_for(getattr(personas, who))
            assert client.get(reverse("org:import_detail", args=[job.pk])).status_code == 404
            assert client.get(reverse("org:import_errors", args=[job.pk])).status_code == 404

    def test_the_outsider_imports_only_into_their_own_estate(self, personas):
        # Asking for estate A in the session falls back to the outsider's own estate C.
        client = client_in_estate(personas, personas.outsider, personas.estate_a)
        rows = [UNIT_HEADERS, ["1号楼", "", "301", 3, 90, 80, ""]]
        response = post_file(client, "u.xlsx", xlsx_bytes({"房屋": rows}), "units")
        assert response.status_code == 302
        job = ImportJob.objects.get()
        assert job.estate == personas.estate_c
        assert not Unit.objects.filter(estate=personas.estate_a, number="301").exists()


class TestUpload:
    def test_a_manager_uploads_and_the_job_finishes_inside_the_request(self, personas):
        client = personas.client_for(personas.manager_a)
        rows = [UNIT_HEADERS, ["1号楼", "", "301", 3, 90, 80, "出租"]]
        response = post_file(client, "units.xlsx", xlsx_bytes({"房屋": rows}), "units")
        job = ImportJob.objects.get()
        assert response.status_code == 302
        assert response["Location"] == reverse("org:import_detail", args=[job.pk])
        assert job.status == ImportJob.Status.COMMITTED
        assert Unit.objects.get(number="301").status == Unit.Status.RENTED
        page = client.get(response["Location"], HTTP_ACCEPT_LANGUAGE="en")
        text = page.content.decode()
        assert "Every row was saved." in text
        assert 'id="import-progress"' in text
        assert "every 1s" not in text

    def test_a_dry_run_from_the_page(self, personas):
        client = personas.client_for(personas.manager_a)
        rows = [UNIT_HEADERS, ["1号楼", "", "301", 3, 90, 80, ""]]
        post_file(client, "u.xlsx", xlsx_bytes({"房屋": rows}), "units", dry_run="on")
        assert ImportJob.objects.get().status == ImportJob.Status.VALIDATED
        assert not Unit.objects.filter(number="301").exists()

    @pytest.mark.parametrize(
        ("name", "data", "words"),
        [
            ("notes.txt", b"hello", ".xlsx"),
            ("photo.xlsx", b"\x89PNG\r\n\x1a\n....", "not a spreadsheet"),
        ],
    )
    def test_a_file_that_is_not_a_spreadsheet(self, personas, name, data, words):
        client = personas.client_for(personas.manager_a)
        response = post_file(client, name, data, "units")
        assert response.status_code == 200
        assert words in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_an_oversized_upload(self, personas, settings):
        settings.IMPORT_MAX_BYTES = 512
        client = personas.client_for(personas.manager_a)
        data = csv_bytes([UNIT_HEADERS] + [["1号楼", "", str(n), 1, 90, 80, ""] for n in range(60)])
        response = post_file(client, "u.csv", data, "units")
        assert response.status_code == 200
        assert "too large" in response.content.decode()
        assert not ImportJob.objects.exists()

    @pytest.mark.parametrize(
        "form",
        [{}, {"kind": "units"}, {"kind": "planets", "file": "x"}],
    )
    def test_a_form_with_missing_or_wrong_fields(self, personas, form):
        client = personas.client_for(personas.manager_a)
        response = client.post(START, form)
        assert response.status_code == 200
        assert 'class="errorlist' in response.content.decode()
        assert not ImportJob.objects.exists()

    def test_a_bad_file_shows_every_error_with_row_and_column(self, personas):
        client = personas.client_for(personas.manager_a)
        rows = [
            RESIDENT_HEADERS,
            ["赵六", "12345", "1号楼", "", "101", "", "", "", ""],
            ["<script>alert(1)</script>", "13600136000", "<b>9号楼</b>", "", "1", "", "", "", ""],
        ]
        post_file(client, "r.xlsx", xlsx_bytes({"住户": rows}), "residents")
        job = ImportJob.objects.get()
        page = client.get(reverse("org:import_detail", args=[job.pk]), HTTP_ACCEPT_LANGUAGE="en")
        text = page.content.decode()
        assert "2 errors" in text
        assert "手机号" in text and "楼栋" in text
        assert "<script>alert(1)</script>" not in text
        assert "<b>9号楼</b>" not in text
        assert "&lt;b&gt;9号楼&lt;/b&gt;" in text
        report = client.get(reverse("org:import_errors", args=[job.pk]))
        assert report.status_code == 200
        sheet = next(iter(downloaded(report).values()))
        assert [row[:3] for row in sheet[1:]] == [("住户", 2, "手机号"), ("住户", 3, "楼栋")]

    def test_hostile_names_are_stored_as_text_and_shown_escaped(self, personas):
        client = personas.client_for(personas.manager_a)
        hostile_file = "<img src=x onerror=alert(1)>.csv"
        rows = [BUILDING_HEADERS, ["<script>alert(1)</script>", 3, 0, ""]]
        post_file(client, hostile_file, csv_bytes(rows), "buildings")
        job = ImportJob.objects.get()
        assert job.status == ImportJob.Status.COMMITTED
        assert job.file_name == hostile_file
        assert Building.objects.filter(name="<script>alert(1)</script>").exists()
        for url in (reverse("org:import_detail", args=[job.pk]), START):
            text = client.get(url).content.decode()
            assert "&lt;img src=x onerror=alert(1)&gt;.csv" in text
            assert "<img src=x" not in text


class TestProgress:
    def queued_job(self, personas, settings):
        settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}
        return make_job(personas, [UNIT_HEADERS, ["1号楼", "", "301", 3, 90, 80, ""]])

    def test_a_running_job_polls_every_second(self, personas, settings):
        job = self.queued_job(personas, settings)
        client = personas.client_for(personas.manager_a)
        page = client.get(reverse("org:import_detail", args=[job.pk])).content.decode()
        assert 'hx-trigger="every 1s"' in page
        assert "<progress" in page

    def test_htmx_gets_only_the_progress_fragment_until_done(self, personas, settings):
        job = self.queued_job(personas, settings)
        client = personas.client_for(personas.manager_a)
        url = reverse("org:import_detail", args=[job.pk])
        fragment = client.get(url, HTTP_HX_REQUEST="true").content.decode()
        assert fragment.lstrip().startswith('<section id="import-progress"')
        assert "<html" not in fragment
        assert 'hx-trigger="every 1s"' in fragment
        importing.import_job_run(job_id=job.pk)
        done = client.get(url, HTTP_HX_REQUEST="true", HTTP_ACCEPT_LANGUAGE="en").content.decode()
        assert "every 1s" not in done
        assert "Every row was saved." in done


class TestTemplates:
    @pytest.mark.parametrize(
        ("kind", "sheets"),
        [
            ("buildings", ["楼栋", "说明"]),
            ("units", ["房屋", "说明"]),
            ("residents", ["住户", "说明"]),
            ("workbook", ["楼栋", "房屋", "住户", "说明"]),
        ],
    )
    def test_a_template_has_the_headers_and_a_help_sheet(self, personas, kind, sheets):
        client = personas.client_for(personas.manager_a)
        response = client.get(reverse("org:import_template", args=[kind]))
        assert response.status_code == 200
        assert response["Content-Type"].startswith("application/vnd.openxmlformats")
        workbook = downloaded(response)
        assert list(workbook) == sheets
        layouts = importing.layouts_of(kind)
        for layout in layouts:
            assert list(workbook[layout.sheet][0]) == [c.header for c in layout.columns]
        help_rows = workbook["说明"][1:]
        assert len(help_rows) == sum(len(layout.columns) for layout in layouts)

    def test_a_filled_template_imports(self, personas):
        client = personas.client_for(personas.manager_a)
        response = client.get(reverse("org:import_template", args=["units"]))
        workbook = openpyxl.load_workbook(io.BytesIO(b"".join(response.streaming_content)))
        workbook["房屋"].append(["1号楼", "2单元", "1801", 18, 120.5, 99, "空置"])
        buffer = io.BytesIO()
        workbook.save(buffer)
        post_file(client, "filled.xlsx", buffer.getvalue(), "units")
        assert ImportJob.objects.get().status == ImportJob.Status.COMMITTED
        assert Unit.objects.filter(entrance="2单元", number="1801").exists()

    def test_an_unknown_template_is_not_found(self, personas):
        client = personas.client_for(personas.manager_a)
        assert client.get(reverse("org:import_template", args=["planets"])).status_code == 404


class TestJobList:
    def test_recent_jobs_are_listed_in_a_fixed_number_of_queries(
        self, personas, django_assert_max_num_queries
    ):
        client = personas.client_for(personas.manager_a)
        client.get(START)
        for number in range(5):
            make_job(personas, [UNIT_HEADERS, ["1号楼", "", str(300 + number), 3, 90, 80, ""]])
        with django_assert_max_num_queries(12) as few:
            client.get(START)
        for number in range(15):
            make_job(personas, [UNIT_HEADERS, ["1号楼", "", str(400 + number), 3, 90, 80, ""]])
        with django_assert_max_num_queries(len(few.captured_queries)):
            page = client.get(START)
        assert len(re.findall(r'href="/org/import/\d+/"', page.content.decode())) == 20

    def test_jobs_of_another_estate_are_not_listed(self, personas):
        make_job(
            personas, [UNIT_HEADERS, ["A座", "", "301", 3, 90, 80, ""]], estate=personas.estate_b
        )
        client = personas.client_for(personas.manager_a)
        assert "file.xlsx" not in client.get(START).content.decode()
