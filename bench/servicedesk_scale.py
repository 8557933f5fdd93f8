"""The desk queue page and the request list API with a large history: by default 1,000,000
requests across 50 estates on PostgreSQL, timed as a desk clerk of one estate uses them (a
page of 50, with filters), through Django's test client so the numbers are the server's
own work without a network in between.

    .venv/bin/python bench/servicedesk_scale.py                  # 1,000,000 requests, 50 estates
    .venv/bin/python bench/servicedesk_scale.py --requests 100000 --estates 10
    .venv/bin/python bench/servicedesk_scale.py --reuse          # keep the generated database

The database (`--database`, default postgres://postgres@127.0.0.1:5432/jiayuan_bench_scale)
is dropped and created again unless --reuse is given and it already holds the data. Prints
p50 and p95 per scenario and the number of queries each page ran. The tests run `run()` on
a few hundred rows so this script cannot rot.
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlencode

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jiayuan_bench_scale"
BUILDINGS_PER_ESTATE = 10
UNITS_PER_BUILDING = 40
TECHNICIANS_PER_ESTATE = 6
BATCH = 5_000
# Most of a mature desk's history is closed; the open share is what the clerks work on.
STATUS_WEIGHTS = {
    "closed": 80,
    "cancelled": 3,
    "declined": 1,
    "submitted": 2,
    "accepted": 2,
    "dispatched": 3,
    "in_progress": 3,
    "on_hold": 1,
    "completed": 3,
    "investigating": 1,
    "replied": 1,
}
KIND_WEIGHTS = {"repair": 70, "inquiry": 12, "complaint": 10, "suggestion": 5, "praise": 3}
CATEGORIES = [
    "plumbing", "electrical", "elevator", "doors_locks", "hvac", "gas", "fire_safety",
    "civil", "cleaning", "greening", "security", "parking", "noise_neighbor", "billing",
    "other",
]  # fmt: skip
# Where in the home, what is wrong, who called: 64 descriptions and 400 names, so a search
# for a word, a name or a phone's last digits meets as many rows as on a real desk.
PLACES = ["厨房", "卫生间", "客厅", "主卧", "阳台", "楼道", "车库", "单元门口"]
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN_NAMES = "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平"
TEXTS = [
    "厨房水龙头一直滴水，麻烦师傅来看下",
    "卫生间下水道堵了，水排不下去",
    "楼道灯坏了好几天了，晚上很黑",
    "电梯按钮失灵，按了没反应",
    "楼上每天晚上十一点以后还在装修，太吵了",
    "门禁卡刷不开单元门",
    "物业费账单上的公摊电费看不懂，请解释一下",
    "地下车库有车占了我的车位",
]


@dataclass
class Timing:
    name: str
    samples: list[float]
    queries: int
    rows: int

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


def _weighted(rng: random.Random, weights: dict[str, int], count: int) -> list[str]:
    return rng.choices(list(weights), weights=list(weights.values()), k=count)


def build_estates(estates: int):
    """A company with `estates` estates, each with buildings, units, a desk clerk and
    technicians. Returns (company, [(estate, clerk, buildings, units, technicians)])."""
    from decimal import Decimal

    from jiayuan.accounts.models import User
    from jiayuan.core.roles import Role
    from jiayuan.org.models import Building, Company, Estate, Membership, Unit

    company = Company.objects.create(name="规模测试物业", code="scale")
    layout = []
    for e in range(estates):
        estate = Estate.objects.create(
            company=company, name=f"测试小区{e + 1:02d}", code=f"E{e + 1:02d}", kind="residential"
        )
        buildings = Building.objects.bulk_create(
            Building(estate=estate, name=f"{b + 1}号楼", floors_above=20)
            for b in range(BUILDINGS_PER_ESTATE)
        )
        units = Unit.objects.bulk_create(
            Unit(
                estate=estate,
                building=building,
                number=f"{u // 4 + 1}{u % 4 + 1:02d}",
                floor=u // 4 + 1,
                gross_area=Decimal("89.50"),
            )
            for building in buildings
            for u in range(UNITS_PER_BUILDING)
        )
        people = User.objects.bulk_create(
            [User(username=f"desk_{e}", name=f"客服{e}")]
            + [
                User(username=f"tech_{e}_{t}", name=f"维修{e}-{t}")
                for t in range(TECHNICIANS_PER_ESTATE)
            ]
        )
        clerk, technicians = people[0], people[1:]
        Membership.objects.bulk_create(
            [Membership(user=clerk, company=company, estate=estate, role=Role.SERVICE_DESK)]
            + [
                Membership(user=t, company=company, estate=estate, role=Role.TECHNICIAN)
                for t in technicians
            ]
        )
        layout.append((estate, clerk, buildings, units, technicians))
    return company, layout


def generate(requests: int, estates: int, *, seed: int = 7, progress=print) -> dict:
    """`requests` requests spread over the last two years, written in batches straight into
    the table (the services would take hours for a million); statuses, kinds and timestamps
    are consistent enough for the queue's filters and ordering to behave as in real life."""
    from django.utils import timezone

    from jiayuan.servicedesk.models import NUMBER_PREFIX, ServiceRequest

    rng = random.Random(seed)
    company, layout = build_estates(estates)
    now = timezone.now()
    span = timedelta(days=730).total_seconds()
    written = 0
    while written < requests:
        size = min(BATCH, requests - written)
        statuses = _weighted(rng, STATUS_WEIGHTS, size)
        kinds = _weighted(rng, KIND_WEIGHTS, size)
        rows = []
        for i in range(size):
            n = written + i
            estate, _clerk, _buildings, units, technicians = layout[n % estates]
            unit = units[rng.randrange(len(units))]
            # Older rows first, so ids grow with time as they do in production.
            created = now - timedelta(seconds=span * (1 - n / requests))
            status = statuses[i]
            assigned = status not in ("submitted", "accepted", "cancelled", "declined")
            row = ServiceRequest(
                company=company,
                estate=estate,
                number=f"{NUMBER_PREFIX[kinds[i]]}{created:%Y%m%d}-{n:07d}",
                kind=kinds[i],
                category=rng.choice(CATEGORIES),
                urgency=rng.choices(["normal", "urgent", "emergency"], [90, 8, 2])[0],
                channel=rng.choice(["portal", "phone", "wechat", "walk_in"]),
                status=status,
                unit=unit,
                building_id=unit.building_id,
                description=rng.choice(PLACES) + rng.choice(TEXTS),
                contact_name=rng.choice(SURNAMES) + rng.choice(GIVEN_NAMES),
                contact_phone=f"139{rng.randrange(10**8):08d}",
                assignee=rng.choice(technicians) if assigned else None,
                accepted_at=created if status != "submitted" else None,
                closed_at=created + timedelta(days=2) if status == "closed" else None,
            )
            row.created_at = created
            rows.append(row)
        ServiceRequest.objects.bulk_create(rows)
        written += size
        progress(f"  {written:,} / {requests:,} requests", end="\r")
    progress("")
    return {"company": company, "layout": layout}


def _timed(client, url: str, samples: int) -> tuple[list[float], int, int]:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    query_count = len(queries)  # now: the next request clears the log
    if response.status_code != 200:
        raise RuntimeError(f"{url} answered {response.status_code}")
    rows = response.json()["count"] if url.startswith("/api/") else 0
    client.get(url)  # warm
    times = []
    for _ in range(samples):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200
    return times, query_count, rows


def scenarios(estate, buildings, technicians, sample) -> list[tuple[str, str]]:
    """What a clerk does all day: the open queue, a category, a building's history deep in
    the pages, a technician's open orders, a created range, a number, a word, a name and a
    phone's last four digits looked up (`sample`: a request of the estate); the same lists
    through the API; and, to read the machine's speed by, a page that reads no request."""
    building, technician = buildings[3].pk, technicians[0].pk
    word = urlencode({"q": "水龙头"})
    return [
        ("queue: all, page 1", "/service/requests/"),
        ("queue: open only", "/service/requests/?open_only=on"),
        ("queue: status + category", "/service/requests/?status=closed&category=plumbing"),
        ("queue: building, page 5", f"/service/requests/?building={building}&page=5"),
        ("queue: assignee, open", f"/service/requests/?assignee={technician}&open_only=on"),
        (
            "queue: kind + urgency + created range",
            "/service/requests/?kind=repair&urgency=urgent"
            "&created_from=2026-01-01&created_to=2026-06-30",
        ),
        ("queue: search by number", f"/service/requests/?q={sample.number}"),
        ("queue: search a word", f"/service/requests/?{word}"),
        ("queue: search a name", f"/service/requests/?{urlencode({'q': sample.contact_name})}"),
        ("queue: search a phone's last 4", f"/service/requests/?q={sample.contact_phone[-4:]}"),
        ("api: estate, page 1", f"/api/v1/requests?estate={estate.pk}&page_size=50"),
        (
            "api: status + category",
            f"/api/v1/requests?estate={estate.pk}&status=closed&category=plumbing&page_size=50",
        ),
        (
            "api: building, page 5",
            f"/api/v1/requests?estate={estate.pk}&building={building}&page=5&page_size=50",
        ),
        ("api: search a word", f"/api/v1/requests?estate={estate.pk}&{word}&page_size=50"),
        # Not a target: a signed-in page with the layout and a short form, no request read.
        # It shows how fast the machine runs in this run's minutes, as the lines above do.
        ("reference: layout and a form", "/accounts/password/"),
    ]


def measure(layout, *, samples: int):
    """Yields a Timing per scenario as it is measured."""
    from django.core.signals import request_finished, request_started
    from django.db import close_old_connections, reset_queries
    from django.test import Client

    import jiayuan.wsgi  # noqa: F401 - the web server's process as its module leaves it
    from jiayuan.servicedesk.models import ServiceRequest

    # One connection for the whole run, as a pooled server keeps it; closing it after each
    # request would also lose the query log the counts come from.
    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    request_started.disconnect(reset_queries)
    try:
        estate, clerk, buildings, _units, technicians = layout[len(layout) // 2]
        sample = ServiceRequest.objects.filter(estate=estate).order_by("pk").last()
        client = Client(HTTP_ACCEPT_LANGUAGE="zh-hans")
        client.force_login(clerk)
        for name, url in scenarios(estate, buildings, technicians, sample):
            times, queries, rows = _timed(client, url, samples)
            yield Timing(name, times, queries, rows)
    finally:
        request_started.connect(reset_queries)
        request_started.connect(close_old_connections)
        request_finished.connect(close_old_connections)


def run(requests: int, estates: int, *, samples: int, progress=print) -> list[Timing]:
    """Generate into the current database and measure."""
    generated = generate(requests, estates, progress=progress)
    return list(measure(generated["layout"], samples=samples))


def prepare_database(url: str, reuse: bool) -> bool:
    """Create the benchmark database; True when it already holds generated data."""
    import psycopg
    from psycopg import sql

    name = url.rsplit("/", 1)[1]
    with psycopg.connect(url.rsplit("/", 1)[0] + "/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return True
        if exists:
            admin.execute(sql.SQL("DROP DATABASE {} WITH (FORCE)").format(sql.Identifier(name)))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return False


def configure_django(database: str) -> None:
    """Set Django up on the benchmark database, with plain static files: pages name their
    static files, and the hashed manifest is a deployment step not needed here."""
    os.environ["DATABASE_URL"] = database
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver,127.0.0.1,localhost")
    import warnings

    import django

    django.setup()
    warnings.filterwarnings("ignore", message="No directory at", module="django.core.handlers")
    from django.conf import settings

    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--estates", type=int, default=50)
    parser.add_argument("--samples", type=int, default=200, help="timed requests per scenario")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--reuse", action="store_true", help="keep an already generated database")
    args = parser.parse_args()

    reused = prepare_database(args.database, args.reuse)
    configure_django(args.database)
    from django.core.management import call_command
    from django.db import connection

    from jiayuan.org.models import Company
    from jiayuan.servicedesk.models import ServiceRequest

    if reused and Company.objects.filter(code="scale").exists():
        print("Reusing the generated database.")
        layout = _layout_of(Company.objects.get(code="scale"))
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        print(f"Generating {args.requests:,} requests in {args.estates} estates...")
        with connection.cursor() as cursor:
            # The search's GIN index is built after the load, as a restore does: kept up row
            # by row it would take most of the generation's time.
            cursor.execute(
                "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s "
                "AND indexdef LIKE '%% USING gin %%'",
                [ServiceRequest._meta.db_table],
            )
            gin_indexes = cursor.fetchall()
            for name, _definition in gin_indexes:
                cursor.execute(f"DROP INDEX {name}")
        layout = generate(args.requests, args.estates, progress=_progress)["layout"]
        with connection.cursor() as cursor:
            for _name, definition in gin_indexes:
                cursor.execute(definition)
            cursor.execute("VACUUM ANALYZE")
        print(f"Generated in {time.perf_counter() - started:.0f} s.")
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM servicedesk_servicerequest")
        total = cursor.fetchone()[0]
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"{total:,} requests; PostgreSQL {server}; {args.samples} samples per scenario.\n")
    print(f"{'scenario':<42} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'rows':>8}")
    for timing in measure(layout, samples=args.samples):
        print(
            f"{timing.name:<42} {timing.p50:8.1f} {timing.p95:8.1f} "
            f"{timing.queries:8d} {timing.rows or '':>8}",
            flush=True,
        )


def _layout_of(company):
    from jiayuan.core.roles import Role
    from jiayuan.org.models import Building, Membership, Unit

    layout = []
    for estate in company.estates.order_by("pk"):
        members = Membership.objects.filter(estate=estate).select_related("user")
        clerk = next(m.user for m in members if m.role == Role.SERVICE_DESK)
        technicians = [m.user for m in members if m.role == Role.TECHNICIAN]
        buildings = list(Building.objects.filter(estate=estate).order_by("pk"))
        units = list(Unit.objects.filter(estate=estate).order_by("pk"))
        layout.append((estate, clerk, buildings, units, technicians))
    return layout


def _progress(message: str, end: str = "\n") -> None:
    print(message, end=end, file=sys.stderr, flush=True)


if __name__ == "__main__":
    main()
