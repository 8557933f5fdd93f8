"""Automatic dispatch of one estate from the database: 500 waiting repairs, 100 technicians.

bench/dispatch_speed.py times the solver on generated arrays; this times what the product
does around it on PostgreSQL: reading the waiting requests, their SLA due times, the
technicians' profiles, shifts, loads and places, building the problem and solving it (the
decision, read-only, repeated), then one whole `run_automatic` that also writes every
dispatch (trail, clocks, events, notifications), checked against skills, shifts and caps.

    .venv/bin/python bench/dispatch_estate.py                   # 500 requests, 100 technicians
    .venv/bin/python bench/dispatch_estate.py --requests 2000 --technicians 300

The tests run `run()` on a few rows on SQLite so this script cannot rot.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import time
from datetime import time as clock
from datetime import timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from sla_check import _setup_django, prepare_database

DEFAULT_DATABASE = "postgres://postgres@127.0.0.1:5432/jiayuan_bench_dispatch"
CATEGORIES = ("plumbing", "electrical", "elevator", "doors_locks", "hvac", "civil", "gas")
BUILDINGS = 20


def generate(requests: int, technicians: int, seed: int = 7):
    """An estate with BUILDINGS buildings, `technicians` technicians (85% on duty now, 2–4
    skills, 0–3 orders in hand) and `requests` waiting repairs, written in bulk."""
    from django.core.management import call_command
    from django.utils import timezone

    from jiayuan.accounts.models import User
    from jiayuan.core.roles import Role
    from jiayuan.dispatch.models import DispatchRule, Mode, Shift, TechnicianProfile
    from jiayuan.org.models import Building, Company, Estate, Membership
    from jiayuan.servicedesk.models import Kind, ServiceRequest, Status

    call_command("migrate", verbosity=0)
    rng = random.Random(seed)
    now = timezone.now()
    company = Company.objects.create(name="派单测试物业", code="dispatch-bench")
    estate = Estate.objects.create(company=company, name="派单小区", code="D1")
    buildings = Building.objects.bulk_create(
        Building(estate=estate, name=f"{b + 1}号楼") for b in range(BUILDINGS)
    )
    users = User.objects.bulk_create(
        User(username=f"dispatch-tech-{t}", name=f"师傅{t}") for t in range(technicians)
    )
    Membership.objects.bulk_create(
        Membership(user=u, company=company, estate=estate, role=Role.TECHNICIAN) for u in users
    )
    profiles = TechnicianProfile.objects.bulk_create(
        TechnicianProfile(
            user=u,
            estate=estate,
            skills={c: rng.randint(1, 3) for c in rng.sample(CATEGORIES, rng.randint(2, 4))},
            max_open=rng.randint(5, 8),
        )
        for u in users
    )
    # On duty: a shift around now; off duty: one that ended hours ago.
    local = timezone.localtime(now)
    shifts = []
    for profile in profiles:
        on = rng.random() < 0.85
        begins = local - timedelta(hours=2 if on else 10)
        start = begins.time().replace(second=0, microsecond=0)
        end = (local + timedelta(hours=6) if on else local - timedelta(hours=2)).time()
        end = end.replace(second=0, microsecond=0)
        if start == end:
            end = clock((end.hour + 1) % 24, end.minute)
        # A shift belongs to the day it starts on: near midnight that is yesterday.
        shifts.append(Shift(profile=profile, weekday=begins.weekday(), starts=start, ends=end))
    Shift.objects.bulk_create(shifts)
    urgency = ["emergency"] * 1 + ["urgent"] * 3 + ["normal"] * 6

    def repair(number: str, **fields) -> ServiceRequest:
        return ServiceRequest(
            company=company,
            estate=estate,
            number=number,
            kind=Kind.REPAIR,
            category=rng.choice(CATEGORIES),
            channel="portal",
            building=rng.choice(buildings),
            **fields,
        )

    rows = [
        repair(
            f"BXBENCH-{n:06d}",
            urgency=rng.choice(urgency),
            status=Status.SUBMITTED,
            description="报修",
            due_at=now + timedelta(minutes=rng.randint(10, 240)),
        )
        for n in range(requests)
    ]
    # Orders already in hand, so loads and places are real.
    held = [
        repair(
            f"BXHELD-{n:04d}-{k}",
            status=Status.DISPATCHED,
            assignee=user,
            description="在修",
            dispatched_at=now - timedelta(minutes=k + 1),
        )
        for n, user in enumerate(users)
        for k in range(rng.randint(0, 3))
    ]
    ServiceRequest.objects.bulk_create(rows + held, batch_size=1000)
    DispatchRule.objects.create(estate=estate, mode=Mode.AUTOMATIC)
    return estate


def decide(estate_id: int):
    """What `run_automatic` reads and solves, without writing."""
    from jiayuan.dispatch import assignment, selectors

    order = selectors.building_order(estate_id)
    able = selectors.technicians(estate_id, None, order)
    waiting = list(selectors.waiting_requests(estate_id))
    chosen = assignment.assign(selectors.jobs(waiting, order), [a.worker for a in able])
    return waiting, able, chosen


def run(requests: int, technicians: int, *, repeat: int = 10) -> dict:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from jiayuan.dispatch import services
    from jiayuan.dispatch.selectors import HELD
    from jiayuan.servicedesk.models import ServiceRequest

    estate = generate(requests, technicians)
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            waiting, able, chosen = decide(estate.pk)
        times.append(time.perf_counter() - started)
    started = time.perf_counter()
    given = services.run_automatic(estate.pk)
    whole = time.perf_counter() - started
    # The constraints, read back from the database.
    workers = {a.worker.key: a.worker for a in able}
    sent = ServiceRequest.objects.filter(estate=estate, number__in=list(given))
    for request in sent:
        worker = workers[request.assignee_id]
        assert worker.on_duty and worker.skills.get(request.category), request.number
    loads = ServiceRequest.objects.filter(estate=estate, status__in=HELD).values_list(
        "assignee_id", flat=True
    )
    for user_id in set(loads):
        assert list(loads).count(user_id) <= workers[user_id].cap, user_id
    times.sort()
    return {
        "waiting": len(waiting),
        "technicians": len(able),
        "on_duty": sum(a.worker.on_duty for a in able),
        "decided": len(chosen),
        "queries": len(queries),
        "decide_p50_ms": statistics.median(times) * 1000,
        "decide_max_ms": times[-1] * 1000,
        "dispatched": len(given),
        "whole_run_s": whole,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--technicians", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--database", default=DEFAULT_DATABASE)
    args = parser.parse_args()
    prepare_database(args.database, reuse=False)
    _setup_django(args.database)
    result = run(args.requests, args.technicians, repeat=args.repeat)
    print(
        f"{result['waiting']} waiting repairs, {result['technicians']} technicians "
        f"({result['on_duty']} on duty) on {args.database.rsplit('@', 1)[-1]}"
    )
    print(
        f"  decision (read + solve, {result['queries']} queries): "
        f"p50 {result['decide_p50_ms']:.0f} ms, max {result['decide_max_ms']:.0f} ms "
        f"over {args.repeat}; {result['decided']} assigned"
    )
    print(
        f"  whole run_automatic with the writes: {result['whole_run_s']:.2f} s for "
        f"{result['dispatched']} dispatches "
        f"({result['whole_run_s'] / max(1, result['dispatched']) * 1000:.1f} ms each)"
    )


if __name__ == "__main__":
    main()
