"""A simulated day of one estate's repairs under three ways of dispatching technicians.

The day (seeded) is a stream of repair requests arriving by hour with a resident's daily
rhythm (a morning and a bigger evening peak, few at night), by category (plumbing first,
gas and fire safety rare) and urgency (about 10% emergencies, 30% urgent, 60% normal) in
one of 20 buildings. Each request's arrival target is the product's built-in one
(jiayuan/sla/policies.py: an emergency 30 minutes, an urgent repair 2 hours, a normal
repair none) and its work takes a time drawn for the request around its category's mean.
The technicians have 2-4 skills at levels 1-3 and a cap of 3-5 orders in hand, and work
a day shift (08:00-17:00) or an evening one (14:00-22:00); a pair on call covers
emergencies from 22:00 to 08:00. A technician works through the orders given in the
order given, walking from building to building (`assignment.walk_minutes`); at the end
of a shift they finish the orders in hand but take no new ones.

The same stream, technicians and work times go through each policy:

- automatic: at every arrival, completion and shift start, `assignment.assign` over all
  waiting requests with the technicians as they are then (load: orders in hand; place:
  the building of the last order given, or where they stand);
- greedy: each waiting request in arrival order to the nearest free technician
  (`assignment.nearest_free`);
- round-robin: each waiting request in arrival order to the able technician given an
  order longest ago (`assignment.round_robin`).

A request nobody can take waits and is tried again at the next event. Reported per
policy, as means over the seeds: requests whose technician arrived by midnight, requests
still waiting then, the mean and 90th percentile of the time from the request to the
technician's arrival, breaches of the arrival target (arrived late, or still waiting past
it at midnight), those of emergencies, and the most orders a technician held.

    .venv/bin/python bench/dispatch_day.py             # 20 seeded days, 80 requests, 14 technicians
    .venv/bin/python bench/dispatch_day.py --seeds 100 --requests 100 --urgent-first

The tests run `run()` on a short stream so this script cannot rot.
"""

from __future__ import annotations

import argparse
import heapq
import math
import random
import statistics
import sys
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from jiayuan.dispatch import assignment  # noqa: E402 - after the path above

sys.path.insert(0, str(Path(__file__).resolve().parent))
# The same request mix, arrival targets and machine record as the sibling benchmark.
from dispatch_speed import (  # noqa: E402
    ARRIVAL_MINUTES,
    BUILDINGS,
    CATEGORY_WEIGHTS,
    URGENCY_WEIGHTS,
    machine,
)

DAY = 24 * 60
# Share of the day's requests arriving in each hour 00..23: quiet nights, a morning peak as
# people leave and a bigger one in the evening when they come home and find the fault.
# fmt: off
HOURLY_WEIGHTS = (
    1, 0.5, 0.3, 0.3, 0.3, 0.5, 1.5, 3, 5, 6, 5.5, 5,  # 00:00-11:59
    4.5, 4, 4, 4, 4.5, 5, 6.5, 7.5, 7, 5.5, 3.5, 2,  # 12:00-23:59
)
# fmt: on
# Mean minutes of work on site per category; each request's time is drawn around it.
WORK_MINUTES = {
    "plumbing": 45,
    "electrical": 40,
    "doors_locks": 30,
    "elevator": 60,
    "hvac": 55,
    "civil": 70,
    "gas": 35,
    "fire_safety": 30,
}
URGENCY_RANK = {"emergency": 0, "urgent": 1, "normal": 2}
DAY_SHIFT = ((8 * 60, 17 * 60),)
EVENING_SHIFT = ((14 * 60, 22 * 60),)
ON_CALL = ((0, 8 * 60), (22 * 60, DAY))
POLICIES = ("automatic", "greedy", "round-robin")


@dataclass(frozen=True)
class Request:
    key: int
    at: float  # minute of the day it came in
    category: str
    urgency: str
    place: int | None
    work: float  # minutes on site, drawn once for the request
    due: float | None  # minute of the day the technician should be there


@dataclass
class Technician:
    key: int
    skills: dict[str, int]
    cap: int
    shifts: tuple[tuple[int, int], ...]
    on_call: bool = False  # takes emergencies only
    # What changes during the day:
    place: int | None = None  # None: the maintenance office
    queue: deque = field(default_factory=deque)  # orders given, not started
    current: int | None = None  # the order walked to or worked on

    def on_shift(self, now: float) -> bool:
        return any(start <= now < end for start, end in self.shifts)

    def fresh(self) -> Technician:
        """The same technician at the start of a day: at the office, empty hands."""
        return Technician(self.key, dict(self.skills), self.cap, self.shifts, self.on_call)

    @property
    def load(self) -> int:
        return len(self.queue) + (self.current is not None)


@dataclass(frozen=True)
class DayResult:
    policy: str
    arrived: int  # requests that came in
    served: int  # a technician was there by midnight
    waiting: int  # nobody there yet at midnight (not given, or given and not reached)
    mean_minutes: float  # from request to arrival, over the served
    p90_minutes: float
    with_target: int  # requests with an arrival target (emergencies and urgent ones)
    emergencies: int
    breaches: int
    emergency_breaches: int
    max_load: int  # the most orders one technician held at once
    dispatch_calls: int
    dispatch_seconds: float


@dataclass(frozen=True)
class Summary:
    policy: str
    days: list[DayResult]

    def mean(self, name: str) -> float:
        return statistics.fmean(getattr(day, name) for day in self.days)


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def generate_requests(count: int, seed: int, normal_target: float | None = None):
    """The day's requests in arrival order; the same for a seed whatever the policy."""
    rng = random.Random(f"requests-{seed}")
    hours = rng.choices(range(24), weights=HOURLY_WEIGHTS, k=count)
    times = sorted(60 * hour + rng.uniform(0, 60) for hour in hours)
    requests = []
    for key, at in enumerate(times):
        category = _pick(rng, CATEGORY_WEIGHTS)
        urgency = _pick(rng, URGENCY_WEIGHTS)
        place = None if rng.random() < 0.05 else rng.randint(1, BUILDINGS)
        # Around the category's mean, never under a quarter of it (gamma, shape 4).
        work = max(WORK_MINUTES[category] / 4, rng.gammavariate(4, WORK_MINUTES[category] / 4))
        target = ARRIVAL_MINUTES[urgency] if urgency != "normal" else normal_target
        due = None if target is None else at + target
        requests.append(Request(key, at, category, urgency, place, round(work, 1), due))
    return requests


def generate_technicians(count: int, seed: int) -> list[Technician]:
    """Two on call at night, the rest split evenly between the day and evening shifts; every
    category is covered by someone in each shift."""
    rng = random.Random(f"technicians-{seed}")
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    on_call = min(2, count)
    day = math.ceil((count - on_call) * 0.5)
    technicians = []
    for key in range(count):
        if key < on_call:
            # Each of the pair knows half the trades well and the common ones too.
            half = categories[key::2]
            skills = {c: rng.randint(2, 3) for c in half}
            skills.update({c: skills.get(c, 2) for c in ("plumbing", "electrical")})
            technicians.append(
                Technician(100 + key, skills, rng.randint(3, 5), ON_CALL, on_call=True)
            )
            continue
        skills: dict[str, int] = {}
        number = rng.randint(2, 4)
        while len(skills) < number:
            skills[rng.choices(categories, weights=weights)[0]] = rng.randint(1, 3)
        shift = DAY_SHIFT if key < on_call + day else EVENING_SHIFT
        technicians.append(Technician(100 + key, skills, rng.randint(3, 5), shift))
    for shift in (DAY_SHIFT, EVENING_SHIFT):
        crew = [t for t in technicians if t.shifts == shift]
        for category in categories:
            if crew and not any(category in t.skills for t in crew):
                rng.choice(crew).skills[category] = 1
    return technicians


class Day:
    """One policy's run through the stream."""

    def __init__(
        self,
        policy: str,
        requests: list[Request],
        technicians: list[Technician],
        *,
        urgent_first: bool = False,
    ):
        self.policy = policy
        self.urgent_first = urgent_first
        self.requests = {r.key: r for r in requests}
        self.technicians = {t.key: t for t in technicians}
        self.waiting: list[int] = []  # not given yet, in arrival order
        self.reached: dict[int, float] = {}  # request → minute the technician got there
        self.last_given: dict[int, float] = {}
        self.events: list = []
        self.sequence = 0
        self.max_load = 0
        self.dispatch_calls = 0
        self.dispatch_seconds = 0.0
        for request in requests:
            self._push(request.at, "request", request.key)
        starts = {start for t in technicians for start, _end in t.shifts if start > 0}
        for start in starts:
            self._push(start, "shift", None)

    def _push(self, at: float, kind: str, payload) -> None:
        self.sequence += 1
        heapq.heappush(self.events, (at, self.sequence, kind, payload))

    # -------------------------------------------------------------- the state as seen

    def _workers(self, now: float, *, emergencies: bool) -> list[assignment.Worker]:
        workers = []
        for t in self.technicians.values():
            on_duty = t.on_shift(now) and (emergencies or not t.on_call)
            if t.queue:
                place = self.requests[t.queue[-1]].place
            elif t.current is not None:
                place = self.requests[t.current].place
            else:
                place = t.place
            workers.append(assignment.Worker(t.key, t.skills, on_duty, t.load, t.cap, place))
        return workers

    def _job(self, key: int, now: float) -> assignment.Job:
        r = self.requests[key]
        left = None if r.due is None else r.due - now
        return assignment.Job(r.key, r.category, r.urgency, r.place, left)

    # -------------------------------------------------------------- the policies

    def _dispatch(self, now: float) -> None:
        if not self.waiting:
            return
        self.dispatch_calls += 1
        started = time.perf_counter()
        given = self._automatic(now) if self.policy == "automatic" else self._one_by_one(now)
        self.dispatch_seconds += time.perf_counter() - started
        for key in given:
            self.waiting.remove(key)

    def _automatic(self, now: float) -> list[int]:
        night = any(t.on_call and t.on_shift(now) for t in self.technicians.values())
        if night:
            # The pair on call takes emergencies only: give those first with them on duty,
            # then the rest without them.
            passes = [
                ([k for k in self.waiting if self.requests[k].urgency == "emergency"], True),
                ([k for k in self.waiting if self.requests[k].urgency != "emergency"], False),
            ]
        else:
            passes = [(list(self.waiting), False)]
        given = []
        for keys, emergencies in passes:
            if not keys:
                continue
            jobs = [self._job(k, now) for k in keys]
            workers = self._workers(now, emergencies=emergencies)
            result = assignment.assign(jobs, workers)
            self._check(jobs, workers, result)
            # `assign` says who, not in which order: a technician given several orders at
            # once takes them as the solver's slots pair them, the heaviest urgency first
            # (its cheapest slot), then the nearest due, then first come.
            chosen = sorted(
                (job for job in jobs if job.key in result),
                key=lambda j: (
                    URGENCY_RANK[j.urgency],
                    math.inf if j.minutes_left is None else j.minutes_left,
                    j.key,
                ),
            )
            for job in chosen:
                self._give(job.key, result[job.key], now)
                given.append(job.key)
        return given

    def _one_by_one(self, now: float) -> list[int]:
        given = []
        for key in list(self.waiting):
            job = self._job(key, now)
            workers = self._workers(now, emergencies=job.urgency == "emergency")
            if self.policy == "greedy":
                pick = assignment.nearest_free(job, workers)
            else:
                pick = assignment.round_robin(job, workers, self.last_given)
            if pick is not None:
                self._check([job], workers, {key: pick})
                self._give(key, pick, now)
                given.append(key)
        return given

    @staticmethod
    def _check(jobs, workers, result: dict[int, int]) -> None:
        """The hard constraints, on every decision of every policy."""
        by_key = {w.key: w for w in workers}
        job_by_key = {j.key: j for j in jobs}
        counts: dict[int, int] = {}
        for job_key, worker_key in result.items():
            worker = by_key[worker_key]
            why = assignment.refusal(job_by_key[job_key], worker)
            assert why is None, f"request {job_key} given to {worker_key}: {why}"
            counts[worker_key] = counts.get(worker_key, 0) + 1
            assert worker.load + counts[worker_key] <= worker.cap, f"{worker_key} over cap"

    def _give(self, key: int, worker_key: int, now: float) -> None:
        technician = self.technicians[worker_key]
        assert not technician.on_call or self.requests[key].urgency == "emergency"
        technician.queue.append(key)
        self.last_given[worker_key] = now
        self.max_load = max(self.max_load, technician.load)
        assert technician.load <= technician.cap
        self._start_next(technician, now)

    def _start_next(self, technician: Technician, now: float) -> None:
        if technician.current is not None or not technician.queue:
            return
        if self.urgent_first:
            # The most urgent order in hand next, then the nearest due, then first given.
            key = min(technician.queue, key=self._precedence)
            technician.queue.remove(key)
        else:
            key = technician.queue.popleft()
        technician.current = key
        walk = assignment.walk_minutes(technician.place, self.requests[key].place)
        self._push(now + walk, "arrive", (technician.key, key))

    def _precedence(self, key: int):
        r = self.requests[key]
        return (URGENCY_RANK[r.urgency], math.inf if r.due is None else r.due, r.at)

    # -------------------------------------------------------------- the day

    def run(self) -> DayResult:
        while self.events and self.events[0][0] < DAY:
            now, _seq, kind, payload = heapq.heappop(self.events)
            if kind == "request":
                self.waiting.append(payload)
            elif kind == "arrive":
                worker_key, key = payload
                self.reached[key] = now
                technician = self.technicians[worker_key]
                technician.place = self.requests[key].place
                self._push(now + self.requests[key].work, "done", worker_key)
                continue  # nothing freed: no new decision
            elif kind == "done":
                technician = self.technicians[payload]
                technician.current = None
                self._start_next(technician, now)
            self._dispatch(now)
        return self._result()

    def _result(self) -> DayResult:
        minutes = sorted(at - self.requests[k].at for k, at in self.reached.items())
        breaches = emergency = 0
        for r in self.requests.values():
            if r.due is None:
                continue
            late = self.reached[r.key] > r.due if r.key in self.reached else r.due < DAY
            breaches += late
            emergency += late and r.urgency == "emergency"
        p90 = minutes[min(len(minutes) - 1, math.ceil(0.9 * len(minutes)) - 1)] if minutes else 0
        return DayResult(
            policy=self.policy,
            arrived=len(self.requests),
            served=len(self.reached),
            waiting=len(self.requests) - len(self.reached),
            mean_minutes=statistics.fmean(minutes) if minutes else 0.0,
            p90_minutes=p90,
            with_target=sum(r.due is not None for r in self.requests.values()),
            emergencies=sum(r.urgency == "emergency" for r in self.requests.values()),
            breaches=breaches,
            emergency_breaches=emergency,
            max_load=self.max_load,
            dispatch_calls=self.dispatch_calls,
            dispatch_seconds=self.dispatch_seconds,
        )


def simulate(
    policy: str,
    requests: list[Request],
    technicians: list[Technician],
    *,
    urgent_first: bool = False,
) -> DayResult:
    # Each policy gets its own copy of the technicians, all at the office with empty hands.
    fresh = [t.fresh() for t in technicians]
    return Day(policy, requests, fresh, urgent_first=urgent_first).run()


def run(
    *,
    requests: int = 80,
    technicians: int = 14,
    seeds: int = 20,
    first_seed: int = 1,
    normal_target: float | None = None,
    policies: tuple[str, ...] = POLICIES,
    urgent_first: bool = False,
) -> list[Summary]:
    days: dict[str, list[DayResult]] = {p: [] for p in policies}
    for seed in range(first_seed, first_seed + seeds):
        stream = generate_requests(requests, seed, normal_target)
        crew = generate_technicians(technicians, seed)
        for policy in policies:
            days[policy].append(simulate(policy, stream, crew, urgent_first=urgent_first))
    return [Summary(p, days[p]) for p in policies]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=80, help="requests in the day")
    parser.add_argument("--technicians", type=int, default=14, help="two of them on call")
    parser.add_argument("--seeds", type=int, default=20, help="days simulated per policy")
    parser.add_argument("--first-seed", type=int, default=1)
    parser.add_argument(
        "--normal-target", type=float, help="an arrival target for normal repairs, in minutes"
    )
    parser.add_argument(
        "--urgent-first",
        action="store_true",
        help="technicians do the most urgent order in hand next instead of the first given",
    )
    options = parser.parse_args()
    started = time.perf_counter()
    summaries = run(
        requests=options.requests,
        technicians=options.technicians,
        seeds=options.seeds,
        first_seed=options.first_seed,
        normal_target=options.normal_target,
        urgent_first=options.urgent_first,
    )
    print(f"machine: {machine()}")
    print(
        f"{options.seeds} simulated days (seeds {options.first_seed}-"
        f"{options.first_seed + options.seeds - 1}), {options.requests} requests a day, "
        f"{options.technicians} technicians; means over the days\n"
    )
    header = (
        f"{'policy':<12} {'served':>7} {'waiting':>8} {'mean min':>9} {'p90 min':>8} "
        f"{'breaches':>9} {'emerg.':>7} {'max load':>9}"
    )
    print(header)
    for s in summaries:
        print(
            f"{s.policy:<12} {s.mean('served'):>7.1f} {s.mean('waiting'):>8.1f} "
            f"{s.mean('mean_minutes'):>9.1f} {s.mean('p90_minutes'):>8.1f} "
            f"{s.mean('breaches'):>9.1f} {s.mean('emergency_breaches'):>7.1f} "
            f"{max(d.max_load for d in s.days):>9}"
        )
    first = summaries[0]
    print(
        f"\na day brought {first.mean('arrived'):.1f} requests, {first.mean('with_target'):.1f} "
        f"of them with an arrival target, {first.mean('emergencies'):.1f} emergencies"
    )
    by_policy = {s.policy: s for s in summaries}
    if "automatic" in by_policy:
        automatic = by_policy["automatic"]
        for other in (s for s in summaries if s.policy != "automatic"):
            pairs = list(zip(automatic.days, other.days, strict=True))
            fewer = sum(a.breaches < o.breaches for a, o in pairs)
            more = sum(a.breaches > o.breaches for a, o in pairs)
            print(
                f"automatic against {other.policy}: fewer breaches on {fewer} days, more on "
                f"{more}, as many on {len(pairs) - fewer - more}"
            )
    automatic = next((s for s in summaries if s.policy == "automatic"), None)
    if automatic:
        calls = sum(d.dispatch_calls for d in automatic.days)
        seconds = sum(d.dispatch_seconds for d in automatic.days)
        print(
            f"\nautomatic dispatch: {calls / len(automatic.days):.0f} solves a day, "
            f"{seconds / max(calls, 1) * 1000:.2f} ms each on average"
        )
    print(f"whole run {time.perf_counter() - started:.1f} s")


if __name__ == "__main__":
    main()
