"""The dashboards with a large history: by default about 1,000,000 finished requests (with
their handler trail, SLA clocks, ratings, return visits and holds) across 50 estates in one
year, on PostgreSQL. Times the estate-month dashboard and the company-year dashboard as a
manager opens them (the whole page through Django's test client: every query, the charts'
tables and the template), the full rebuild of the rollups and an incremental run, and
proves the rollups equal the raw records.

    .venv/bin/python bench/dashboard_scale.py                  # ~1,000,000 requests, 50 estates
    .venv/bin/python bench/dashboard_scale.py --requests 100000 --estates 10
    .venv/bin/python bench/dashboard_scale.py --reuse          # keep the generated database

The database (`--database`, default postgres://postgres@127.0.0.1:5432/jiayuan_bench_dash)
is dropped and created again unless --reuse is given and it already holds the data. The
tests run `run()` on a few hundred requests so this script cannot rot.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from servicedesk_scale import build_estates, configure_django, prepare_database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jiayuan_bench_dash"
YEAR = 2025
DAYS = 365
TEAMS_PER_ESTATE = 3
EQUALITY_SAMPLES = 3


@dataclass
class Timing:
    name: str
    samples: list[float]
    queries: int

    @property
    def p50(self) -> float:
        return statistics.median(self.samples)

    @property
    def p95(self) -> float:
        ordered = sorted(self.samples)
        return ordered[max(0, round(0.95 * len(ordered)) - 1)]


def generate(requests: int, estates: int, *, progress=print) -> dict:
    """A company of `estates` estates with teams, and about `requests` finished requests
    over the year, written by dashboard.history; then the rollups, rebuilt and timed."""
    from collections import defaultdict

    from django.utils import timezone

    from jiayuan.accounts.models import User
    from jiayuan.core.roles import Role
    from jiayuan.dashboard import history, rollups
    from jiayuan.org.models import Membership, Team, TeamMember

    company, layout = build_estates(estates)
    manager = User.objects.create(username="bench_manager", name="总经理")
    Membership.objects.create(user=manager, company=company, role=Role.COMPANY_ADMIN)
    numbers = defaultdict(int)
    zone = timezone.get_default_timezone()
    per_day = requests / estates / DAYS
    written = 0
    for index, (estate, clerk, _buildings, units, technicians) in enumerate(layout):
        teams = {}
        for t in range(TEAMS_PER_ESTATE):
            team = Team.objects.create(estate=estate, name=f"维修{t + 1}组")
            members = technicians[t::TEAMS_PER_ESTATE]
            TeamMember.objects.bulk_create(TeamMember(team=team, user=m) for m in members)
            teams[team.pk] = [m.pk for m in members]
        plan = history.EstateHistory(
            company_id=company.pk,
            estate_id=estate.pk,
            households=[(u.pk, u.building_id, None, None) for u in units],
            desk=[clerk.pk],
            teams=teams,
            slow_team=sorted(teams)[1],
            numbers=numbers,
        )
        written += history.generate(
            plan,
            start=datetime(YEAR, 1, 1, tzinfo=zone),
            days=DAYS,
            per_day=per_day,
            seed=index,
        )
        progress(f"  {index + 1}/{len(layout)} estates, {written:,} requests")
    written += top_up(plan, requests - written)
    started = time.perf_counter()
    months = rollups.refresh(company, rebuild_all=True)
    rebuild = time.perf_counter() - started
    return {
        "company": company,
        "manager": manager,
        "layout": layout,
        "written": written,
        "months": months,
        "rebuild_seconds": rebuild,
    }


def top_up(plan, missing: int) -> int:
    """Daily counts are random: the last estate's New Year's Eve gets what is missing, so at
    least `requests` are written. The number added."""
    from django.utils import timezone

    from jiayuan.dashboard import history

    added = 0
    eve = datetime(YEAR, 12, 31, tzinfo=timezone.get_default_timezone())
    while added < missing:
        need = missing - added
        added += history.generate(
            plan, start=eve, days=1, per_day=need + 4 * need**0.5 + 1, seed=YEAR + added
        )
    return added


def _timed(client, url: str, samples: list[str]) -> Timing:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    client.get(samples[0])  # warm: templates, the first connection
    times = []
    for sample in samples:
        started = time.perf_counter()
        response = client.get(sample)
        times.append((time.perf_counter() - started) * 1000)
        assert response.status_code == 200, (sample, response.status_code)
    with CaptureQueriesContext(connection) as queries:
        client.get(samples[-1])
    return Timing(url, times, len(queries))


def measure(company, manager, layout, *, samples: int) -> list[Timing]:
    from django.test import Client
    from django.urls import reverse

    client = Client()
    client.force_login(manager)
    rng = random.Random(3)
    estate_months = [
        reverse("dashboard:estate", args=[rng.choice(layout)[0].pk])
        + f"?period={YEAR}-{rng.randint(1, 12):02d}"
        for _ in range(samples)
    ]
    team_months = []
    from jiayuan.org.models import Team

    teams = list(Team.objects.filter(estate__company=company).values_list("pk", flat=True))
    for _ in range(samples):
        team_months.append(
            reverse("dashboard:team", args=[rng.choice(teams)])
            + f"?period={YEAR}-{rng.randint(1, 12):02d}"
        )
    company_year = [reverse("dashboard:company") + f"?period={YEAR}"] * max(5, samples // 4)
    return [
        _timed(client, "estate-month dashboard", estate_months),
        _timed(client, "team-month dashboard (people from the trail)", team_months),
        _timed(client, "company-year dashboard", company_year),
    ]


def prove_equal(company, manager, layout) -> list[str]:
    """The rollups against the raw records: every request counted once, and the measures
    of a few estate-months recomputed from the records."""
    from jiayuan.dashboard import rollups, selectors
    from jiayuan.dashboard.facts import facts_of
    from jiayuan.dashboard.models import MEASURES
    from jiayuan.dashboard.periods import month_of, parse_period
    from jiayuan.servicedesk.models import ServiceRequest

    lines = []
    year = selectors.kpis_of(manager, selectors.Scope(company.pk), parse_period(str(YEAR)))
    stored = ServiceRequest.objects.filter(company=company).count()
    assert year.received == stored, (year.received, stored)
    lines.append(f"company-year received {year.received:,} = {stored:,} requests stored")
    rng = random.Random(5)
    for _ in range(EQUALITY_SAMPLES):
        estate = rng.choice(layout)[0]
        month = date(YEAR, rng.randint(1, 12), 1)
        start, end = rollups.month_bounds(month)
        raw = dict.fromkeys(MEASURES, 0)
        for _row, record in rollups.read_records(estate.pk, start, end):
            for name, value in facts_of(record).items():
                raw[name] += value
        scope = selectors.Scope(company.pk, estate)
        rolled = selectors.kpis_of(manager, scope, month_of(month)).totals
        assert rolled == raw, (estate.pk, month)
        lines.append(f"{estate.name} {month:%Y-%m}: all {len(MEASURES)} measures equal")
    return lines


def incremental(company, *, touched: int) -> tuple[int, float]:
    """Close `touched` requests' ratings as owners would and time the job's next run."""
    from django.utils import timezone

    from jiayuan.dashboard import rollups
    from jiayuan.servicedesk.models import ServiceRequest

    ids = list(
        ServiceRequest.objects.filter(company=company)
        .order_by("?")
        .values_list("pk", flat=True)[:touched]
    )
    ServiceRequest.objects.filter(pk__in=ids).update(updated_at=timezone.now())
    started = time.perf_counter()
    months = rollups.refresh(company)
    return months, time.perf_counter() - started


def run(requests: int, estates: int, *, samples: int, progress=print) -> dict:
    """Generate into the current database, measure and prove; the numbers."""
    generated = generate(requests, estates, progress=progress)
    timings = measure(
        generated["company"], generated["manager"], generated["layout"], samples=samples
    )
    proofs = prove_equal(generated["company"], generated["manager"], generated["layout"])
    months, seconds = incremental(generated["company"], touched=20)
    return {
        **generated,
        "timings": timings,
        "proofs": proofs,
        "incremental": (months, seconds),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--estates", type=int, default=50)
    parser.add_argument("--samples", type=int, default=40, help="timed pages per scenario")
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--reuse", action="store_true", help="keep an already generated database")
    args = parser.parse_args()

    reused = prepare_database(args.database, args.reuse)
    configure_django(args.database)
    from django.core.management import call_command
    from django.db import connection

    from jiayuan.accounts.models import User
    from jiayuan.org.models import Company

    if reused and Company.objects.filter(code="scale").exists():
        print("Reusing the generated database.")
        company = Company.objects.get(code="scale")
        manager = User.objects.get(username="bench_manager")
        layout = [(estate,) for estate in company.estates.order_by("pk")]
    else:
        call_command("migrate", verbosity=0)
        started = time.perf_counter()
        print(f"Generating about {args.requests:,} requests in {args.estates} estates...")
        generated = generate(args.requests, args.estates, progress=print)
        company, manager, layout = generated["company"], generated["manager"], generated["layout"]
        seconds = time.perf_counter() - started
        print(
            f"Generated {generated['written']:,} requests in {seconds:.0f} s; "
            f"rollups rebuilt ({generated['months']} estate-months) in "
            f"{generated['rebuild_seconds']:.1f} s."
        )
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        server = cursor.fetchone()[0]
    print(f"PostgreSQL {server}; {args.samples} samples per scenario.\n")
    print(f"{'scenario':<48} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8}")
    for timing in measure(company, manager, layout, samples=args.samples):
        print(f"{timing.name:<48} {timing.p50:8.1f} {timing.p95:8.1f} {timing.queries:8d}")
    print()
    for line in prove_equal(company, manager, layout):
        print(line)
    months, seconds = incremental(company, touched=200)
    print(f"incremental run after 200 requests changed: {months} estate-months in {seconds:.1f} s")


if __name__ == "__main__":
    main()
