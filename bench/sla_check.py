"""The SLA check at scale, and deadline arithmetic across a year.

- One tick of the SLA check with 1,000,000 open requests (three running clocks each, so
  3,000,000 clocks) on PostgreSQL: how long finding the clocks whose time has come takes
  (the locked, indexed read the check starts each batch with), and a whole tick that warns
  and escalates a few hundred of them (notifications, timeline events) — the tick after a
  quiet minute and after a busy one.
- A deadline a year of business time ahead (about 250 working days with holidays and make-up
  days) computed by the business calendar, per call.

    .venv/bin/python bench/sla_check.py                       # 1,000,000 open requests
    .venv/bin/python bench/sla_check.py --requests 100000
    .venv/bin/python bench/sla_check.py --reuse               # keep the generated database

The rows are written with SQL (the services would take hours for a million). The tests run
`run()` on a few hundred rows on SQLite so this script cannot rot.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from datetime import UTC, datetime, timedelta

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jiayuan_bench_sla"
ESTATES = 50
# Clocks whose check time has come in one tick: a quiet minute and a busy one.
DUE_PER_TICK = (20, 300)


def _setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def prepare_database(url: str, reuse: bool) -> bool:
    """True if the database already holds generated data to reuse."""
    if not url.startswith("postgres"):
        return False
    import psycopg
    from psycopg import sql

    base, name = url.rsplit("/", 1)
    with psycopg.connect(base + "/postgres", autocommit=True) as admin:
        exists = admin.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists and reuse:
            return True
        admin.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return False


def generate(requests: int, *, now: datetime, progress=print) -> None:
    """`requests` open repairs in ESTATES estates, each with running acceptance, response
    and resolution clocks checked at some time in the next 30 days."""
    from django.core.management import call_command
    from django.db import connection

    from jiayuan.org.models import Company, Estate

    call_command("migrate", verbosity=0)
    company = Company.objects.create(name="时限测试物业", code="sla-bench")
    estates = Estate.objects.bulk_create(
        Estate(company=company, name=f"时限小区{e:02d}", code=f"S{e:02d}") for e in range(ESTATES)
    )
    if connection.vendor != "postgresql":
        _generate_small(company, estates, requests, now)
        return
    first_estate = estates[0].pk
    # One statement per table: generate_series is far faster than anything in Python.
    month = 30 * 24 * 3600
    with connection.cursor() as cursor:
        progress(f"  writing {requests:,} requests")
        cursor.execute(
            """
            INSERT INTO servicedesk_servicerequest (
                created_at, updated_at, company_id, estate_id, number, kind, category,
                urgency, channel, status, location_note, description, contact_name,
                contact_phone, held_from, hold_reason, reopen_count, close_reason, reply,
                work_notes, is_paid, labour_fee, auto_closed, version, due_at)
            SELECT %(now)s - interval '1 hour', %(now)s, %(company)s,
                   %(first)s + (n %% %(estates)s), 'BX' || lpad(n::text, 10, '0'), 'repair',
                   'plumbing', 'normal', 'portal', 'accepted', '', '水管漏水', '业主',
                   '13900000000', '', '', 0, '', '', '', false, 0, false, 1,
                   %(now)s + interval '2 hours'
                   + make_interval(secs => (n::bigint * 7919) %% %(month)s)
            FROM generate_series(1, %(requests)s) AS n
            """,
            {
                "now": now,
                "company": company.pk,
                "first": first_estate,
                "estates": ESTATES,
                "requests": requests,
                "month": month,
            },
        )
        progress(f"  writing {3 * requests:,} clocks")
        cursor.execute(
            """
            INSERT INTO sla_requesttarget (
                request_id, target, policy_name, minutes, clock, warn_percent, state,
                started_at, running_since, elapsed_minutes, due_at, warn_at,
                escalation_level, next_check_at)
            SELECT r.id, t.target, '默认', t.minutes, 'business', 80, 'running',
                   r.created_at, r.created_at, 0, r.due_at + t.later,
                   r.due_at + t.later - interval '1 hour', 0,
                   r.due_at + t.later - interval '1 hour'
            FROM servicedesk_servicerequest r
            CROSS JOIN (VALUES ('accept', 120, interval '0'),
                               ('response', 1440, interval '1 day'),
                               ('resolution', 2880, interval '2 days'))
                 AS t(target, minutes, later)
            WHERE r.company_id = %s
            """,
            [company.pk],
        )
        cursor.execute("ANALYZE servicedesk_servicerequest")
        cursor.execute("ANALYZE sla_requesttarget")


def _generate_small(company, estates, requests: int, now: datetime) -> None:
    """The same rows through the ORM, for the tests' few hundred on SQLite."""
    from jiayuan.servicedesk.models import ServiceRequest
    from jiayuan.sla.models import RequestTarget

    rows = ServiceRequest.objects.bulk_create(
        ServiceRequest(
            company=company,
            estate=estates[n % len(estates)],
            number=f"BX{n:010d}",
            kind="repair",
            category="plumbing",
            channel="portal",
            status="accepted",
            description="水管漏水",
            due_at=now + timedelta(hours=2, seconds=n * 7919 % (30 * 24 * 3600)),
        )
        for n in range(1, requests + 1)
    )
    clocks = []
    for row in rows:
        for n, (target, minutes) in enumerate(
            (("accept", 120), ("response", 1440), ("resolution", 2880))
        ):
            due = row.due_at + timedelta(days=n)
            clocks.append(
                RequestTarget(
                    request=row,
                    target=target,
                    policy_name="默认",
                    minutes=minutes,
                    clock="business",
                    state="running",
                    started_at=now,
                    running_since=now,
                    due_at=due,
                    warn_at=due - timedelta(hours=1),
                    next_check_at=due - timedelta(hours=1),
                )
            )
    RequestTarget.objects.bulk_create(clocks)


def make_due(count: int, now: datetime) -> None:
    """Bring `count` clocks' check times to just before `now`, as time passing would."""
    from jiayuan.sla.models import RequestTarget

    at = now - timedelta(seconds=30)
    ids = list(
        RequestTarget.objects.filter(next_check_at__gt=now, warned_at__isnull=True)
        .order_by("next_check_at")
        .values_list("id", flat=True)[:count]
    )
    RequestTarget.objects.filter(id__in=ids).update(
        next_check_at=at, warn_at=at, due_at=at + timedelta(hours=1)
    )


def time_find(now: datetime, samples: int) -> list[float]:
    """The check's read: the clocks due now, locked, through the index on next_check_at."""
    from django.db import transaction

    from jiayuan.sla.models import RequestTarget

    timings = []
    for _ in range(samples):
        started = time.perf_counter()
        with transaction.atomic():
            list(
                RequestTarget.objects.select_for_update(skip_locked=True, of=("self",))
                .filter(next_check_at__lte=now)
                .select_related("request", "request__estate", "request__assignee", "request__team")
                .order_by("next_check_at")[:200]
            )
        timings.append((time.perf_counter() - started) * 1000)
    return timings


def time_tick(due: int, now: datetime) -> tuple[int, float, int]:
    """(clocks due, ms of the whole tick, alerts sent) with `due` clocks due at `now`."""
    from jiayuan.sla.deadlines import check_due

    started = time.perf_counter()
    sent = check_due(now=now)
    return due, (time.perf_counter() - started) * 1000, sent


def time_year_deadline(samples: int) -> tuple[float, datetime]:
    """ms per deadline a year of business time ahead, on China's official calendar."""
    from jiayuan.sla.selectors import default_schedule

    schedule = default_schedule()
    start = datetime(2026, 1, 5, 1, 0, tzinfo=UTC)
    minutes = 250 * 8 * 60
    due = schedule.add(start, minutes)  # builds the per-day tables once, as a process does
    started = time.perf_counter()
    for n in range(samples):
        schedule.add(start + timedelta(minutes=n % 600), minutes)
    return (time.perf_counter() - started) * 1000 / samples, due


def p95(values: list[float]) -> float:
    return statistics.quantiles(values, n=20)[-1] if len(values) > 1 else values[0]


def run(requests: int, *, samples: int = 50, reuse: bool = False, progress=print) -> dict:
    """Generate (unless reusing) and measure; the database is the configured one."""
    from django.utils import timezone

    from jiayuan.sla.models import RequestTarget

    now = timezone.now().replace(microsecond=0)
    if not reuse:
        generate(requests, now=now, progress=progress)
    clocks = RequestTarget.objects.filter(next_check_at__isnull=False).count()
    quiet, busy = DUE_PER_TICK
    make_due(busy, now)
    find = time_find(now, samples)
    ticks = [time_tick(busy, now)]
    later = now + timedelta(minutes=1)
    make_due(quiet, later)
    ticks.append(time_tick(quiet, later))
    per_deadline, year_due = time_year_deadline(samples * 20)
    return {
        "clocks": clocks,
        "find_p50": statistics.median(find),
        "find_p95": p95(find),
        "ticks": ticks,
        "deadline_ms": per_deadline,
        "year_due": year_due,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=1_000_000)
    parser.add_argument("--samples", type=int, default=50)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    parser.add_argument("--reuse", action="store_true", help="keep a database already generated")
    args = parser.parse_args()
    reuse = prepare_database(args.database, args.reuse)
    _setup_django(args.database)
    print(f"{args.requests:,} open requests on {args.database.rsplit('@', 1)[-1]}")
    started = time.perf_counter()
    result = run(args.requests, samples=args.samples, reuse=reuse)
    print(f"  ready in {time.perf_counter() - started:.0f} s; {result['clocks']:,} running clocks")
    print(
        f"\nfind the due clocks (200 per batch): p50 {result['find_p50']:.1f} ms, "
        f"p95 {result['find_p95']:.1f} ms"
    )
    for due, ms, sent in result["ticks"]:
        print(f"a whole tick with {due} clocks due: {ms:.0f} ms, {sent} alerts sent")
    print(
        f"a deadline a year of business time ahead: {result['deadline_ms'] * 1000:.0f} µs "
        f"per call (due {result['year_due']:%Y-%m-%d %H:%M} UTC)"
    )


if __name__ == "__main__":
    sys.path.insert(0, os.path.join(os.path.dirname(__file__), "..", "src"))
    main()
