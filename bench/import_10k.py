"""How fast a spreadsheet import is: 10,000 units and then 10,000 residents, from .xlsx files
generated here, into a fresh SQLite database, through the same job and task as the upload
page (with the task run at once instead of by a worker).

    .venv/bin/python bench/import_10k.py            # 10,000 rows of each
    .venv/bin/python bench/import_10k.py --rows 50000

Prints rows per second for each file and the peak memory of the process. The tests run
`run()` with 50 rows so this script cannot rot.
"""

from __future__ import annotations

import argparse
import io
import multiprocessing
import os
import resource
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path

UNITS_PER_BUILDING = 500  # 25 floors, 2 entrances, 10 units a floor
FLOORS = 25


@dataclass
class Measure:
    kind: str
    rows: int
    seconds: float
    cpu_seconds: float  # this process alone: steadier than wall time on a busy machine
    status: str
    counts: dict

    @property
    def rows_per_second(self) -> float:
        return self.rows / self.seconds if self.seconds else float("inf")


def _workbook(sheet: str, header: list[str], rows) -> bytes:
    import openpyxl

    # Not write-only: that mode writes inline strings, while Excel and WPS write a shared
    # string table, which is also what openpyxl reads fastest.
    workbook = openpyxl.Workbook()
    worksheet = workbook.active
    worksheet.title = sheet
    worksheet.append(header)
    for row in rows:
        worksheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _unit_address(n: int) -> tuple[str, str, str, int]:
    building, within = divmod(n, UNITS_PER_BUILDING)
    entrance, within = divmod(within, UNITS_PER_BUILDING // 2)
    floor, position = divmod(within, 10)
    return f"{building + 1}号楼", f"{entrance + 1}单元", f"{floor + 1}{position + 1:02d}", floor + 1


def generate(rows: int) -> dict[str, bytes]:
    """Three files as a property company would have them: buildings, units, residents."""
    from jiayuan.org.importing import BUILDINGS, RESIDENTS, UNITS

    def headers(layout):
        return [column.header for column in layout.columns]

    building_count = -(-rows // UNITS_PER_BUILDING)
    buildings = [[f"{n + 1}号楼", FLOORS, 1, ""] for n in range(building_count)]
    units = []
    residents = []
    first_day = date(2015, 1, 1)
    for n in range(rows):
        building, entrance, number, floor = _unit_address(n)
        units.append([building, entrance, number, floor, 89.5 + n % 40, 72.3, "空置"])
        relation = "租户" if n % 5 == 0 else "业主"
        moved_in = first_day + timedelta(days=n % 3000)
        residents.append(
            [f"住户{n}", f"139{n:08d}", building, entrance, number, relation, moved_in, "普通", ""]
        )
    return {
        "buildings": _workbook(BUILDINGS.sheet, headers(BUILDINGS), buildings),
        "units": _workbook(UNITS.sheet, headers(UNITS), units),
        "residents": _workbook(RESIDENTS.sheet, headers(RESIDENTS), residents),
    }


def run(rows: int, files: dict[str, bytes] | None = None) -> list[Measure]:
    """Import the files (generated when not given) into a new company's estate; Django must
    be set up."""
    from django.core.files.uploadedfile import SimpleUploadedFile

    from jiayuan.org import importing, services
    from jiayuan.org.models import Estate

    files = files or generate(rows)
    tag = f"{time.time_ns()}"[-9:]
    company, admin = services.company_bootstrap(
        name=f"压测物业{tag}",
        code=f"bench{tag}",
        admin_username=f"bench{tag}",
        admin_password="bench-password-2026",
    )
    estate = services.estate_create(
        actor=admin, company=company, name="压测小区", code="bench", kind=Estate.Kind.RESIDENTIAL
    )
    measures = []
    for kind in ("buildings", "units", "residents"):
        data = files[kind]
        upload = SimpleUploadedFile(f"{kind}.xlsx", data)
        started, cpu_started = time.perf_counter(), time.process_time()
        job = importing.import_job_create(actor=admin, estate=estate, kind=kind, upload=upload)
        elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
        measures.append(Measure(kind, job.total_rows, elapsed, cpu, job.status, job.counts))
    return measures


def _peak_rss_mb() -> float:
    # Linux reports kilobytes.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=10_000, help="units, and residents (10000)")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="jiayuan-bench-"))
    os.environ["DATABASE_URL"] = f"sqlite:///{workdir / 'bench.sqlite3'}"
    os.environ["JIAYUAN_DATA_DIR"] = str(workdir)
    os.environ["MEDIA_ROOT"] = str(workdir / "media")
    os.environ["TASK_BACKEND"] = "immediate"
    os.environ["IMPORT_MAX_ROWS"] = str(max(args.rows, 50_000))
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    # Generated in a child process, so that the peak memory printed is the import's own.
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("fork")) as child:
        files = child.submit(generate, args.rows).result()
    baseline = _peak_rss_mb()
    print(f"Python {sys.version.split()[0]}, {os.cpu_count()} CPUs, database {workdir}")
    for measure in run(args.rows, files):
        print(
            f"{measure.kind:<10} {measure.rows:>7} rows {measure.seconds:6.2f} s "
            f"(CPU {measure.cpu_seconds:5.2f} s) {measure.rows_per_second:>7,.0f} rows/s  "
            f"{measure.status}"
        )
    print(
        f"peak memory of the process: {_peak_rss_mb():.0f} MB "
        f"(before the imports: {baseline:.0f} MB)"
    )


if __name__ == "__main__":
    main()
