"""Who should go where: the arithmetic of dispatch, free of the database.

Automatic dispatch assigns all waiting requests at once by solving one assignment problem
(scipy's `linear_sum_assignment`): each technician offers as many columns as orders they
can still take, each waiting request is a row, and the cost of a pair is the expected
arrival weighted by urgency, with a penalty when the arrival would miss the SLA and a
reward for assigning urgent work at all, so that when technicians are short the urgent
requests are the ones served. Skill, shift and cap are hard: such pairs are never made.
Suggestions for manual dispatch rank technicians for one request by the same cost and say
why. Round-robin and greedy picks live here too, for the round-robin mode and for the
benchmark that compares them (bench/dispatch_day.py)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.optimize import linear_sum_assignment

# Minutes from one building to another: buildings are numbered along the estate's paths,
# so neighbours in the estate's order are neighbours on the ground (decisions §23).
SAME_BUILDING_MINUTES = 3.0
MINUTES_PER_BUILDING = 2.0
LONGEST_WALK_MINUTES = 15.0
UNKNOWN_PLACE_MINUTES = 8.0
# Each order already in hand delays the next arrival by about one job's length.
MINUTES_PER_OPEN_ORDER = 40.0
# Outside the buildings a technician covers: allowed, but only when it is clearly better.
OUTSIDE_COVER_MINUTES = 20.0
# A minute of waiting weighs this much more for an emergency than for normal work.
URGENCY_WEIGHT = {"emergency": 4.0, "urgent": 2.0, "normal": 1.0}
# Reward for serving a request at all, far above any travel cost: the solver serves as
# many requests as it can, the most urgent first when there are too few hands.
SERVE_REWARD = {"emergency": 3000.0, "urgent": 2000.0, "normal": 1000.0}
# An arrival expected after the SLA's due time costs as much as an hour's extra wait.
BREACH_PENALTY_MINUTES = 60.0
# A higher skill level (1 basic … 3 expert) saves this many minutes of cost per level.
MINUTES_PER_SKILL_LEVEL = 5.0
FORBIDDEN = 1e9


@dataclass(frozen=True)
class Job:
    """A request waiting for a technician."""

    key: int
    category: str
    urgency: str = "normal"
    # The building's position in the estate's order; None for the estate's grounds.
    place: int | None = None
    # Minutes until the arrival (or first-response) target is due; None when no clock runs.
    minutes_left: float | None = None


@dataclass(frozen=True)
class Worker:
    """A technician as the solver sees them now."""

    key: int
    skills: Mapping[str, int]  # category → level 1..3
    on_duty: bool
    load: int  # open orders in hand
    cap: int  # most open orders at once
    place: int | None = None  # where they are (last job's building), None if unknown
    covers: frozenset[int] = field(default_factory=frozenset)  # empty: the whole estate

    @property
    def free(self) -> int:
        return max(0, self.cap - self.load) if self.on_duty else 0


def walk_minutes(origin: int | None, destination: int | None) -> float:
    if origin is None or destination is None:
        return UNKNOWN_PLACE_MINUTES
    if origin == destination:
        return SAME_BUILDING_MINUTES
    walk = SAME_BUILDING_MINUTES + MINUTES_PER_BUILDING * abs(origin - destination)
    return min(LONGEST_WALK_MINUTES, walk)


def expected_arrival(job: Job, worker: Worker, extra_orders: int = 0) -> float:
    """Minutes until the worker could be at the job, finishing the orders in hand first."""
    wait = MINUTES_PER_OPEN_ORDER * (worker.load + extra_orders)
    return wait + walk_minutes(worker.place, job.place)


# Among those who cannot take it, the nearest to being able come first.
REFUSAL_ORDER = {None: 0, "full": 1, "off_duty": 2, "no_skill": 3}


def refusal(job: Job, worker: Worker) -> str | None:
    """Why this worker cannot take this job, or None."""
    if not worker.skills.get(job.category):
        return "no_skill"
    if not worker.on_duty:
        return "off_duty"
    if worker.load >= worker.cap:
        return "full"
    return None


def pair_cost(job: Job, worker: Worker, extra_orders: int = 0) -> float:
    """The cost of sending this worker (with `extra_orders` more given in the same run)."""
    arrival = expected_arrival(job, worker, extra_orders)
    cost = arrival
    if worker.covers and job.place is not None and job.place not in worker.covers:
        cost += OUTSIDE_COVER_MINUTES
    if job.minutes_left is not None and arrival > job.minutes_left:
        cost += BREACH_PENALTY_MINUTES
    cost -= MINUTES_PER_SKILL_LEVEL * worker.skills.get(job.category, 0)
    return URGENCY_WEIGHT.get(job.urgency, 1.0) * cost


# ------------------------------------------------------------------ the whole assignment


def _cost_matrix(jobs: Sequence[Job], workers: Sequence[Worker]):
    """Rows are jobs; columns are (worker, k-th extra order) slots. Built with NumPy
    broadcasting from per-job and per-worker arrays: 500 × 500 takes milliseconds."""
    slots = [(w, k) for w, worker in enumerate(workers) for k in range(worker.free)]
    if not slots or not jobs:
        return None, slots
    slot_worker = np.fromiter((w for w, _k in slots), dtype=np.int64, count=len(slots))
    slot_extra = np.fromiter((k for _w, k in slots), dtype=np.float64, count=len(slots))

    categories = sorted({job.category for job in jobs})
    column = {category: i for i, category in enumerate(categories)}
    levels = np.zeros((len(workers), len(categories)))
    for w, worker in enumerate(workers):
        for category, level in worker.skills.items():
            if category in column and level:
                levels[w, column[category]] = level

    unknown = -1
    job_place = np.array([unknown if j.place is None else j.place for j in jobs], dtype=float)
    job_category = np.array([column[j.category] for j in jobs])
    job_weight = np.array([URGENCY_WEIGHT.get(j.urgency, 1.0) for j in jobs])
    job_reward = np.array([SERVE_REWARD.get(j.urgency, 1000.0) for j in jobs])
    job_left = np.array([np.inf if j.minutes_left is None else j.minutes_left for j in jobs])
    worker_place = np.array([unknown if w.place is None else w.place for w in workers], dtype=float)
    worker_load = np.array([w.load for w in workers], dtype=float)

    # Walking time job × worker, then spread to the worker's slots.
    origin, destination = worker_place[None, :], job_place[:, None]
    walk = np.minimum(
        LONGEST_WALK_MINUTES,
        SAME_BUILDING_MINUTES + MINUTES_PER_BUILDING * np.abs(origin - destination),
    )
    walk = np.where((origin == unknown) | (destination == unknown), UNKNOWN_PLACE_MINUTES, walk)
    outside = np.zeros_like(walk)
    for w, worker in enumerate(workers):
        if worker.covers:
            covered = np.isin(job_place, list(worker.covers)) | (job_place == unknown)
            outside[:, w] = np.where(covered, 0.0, OUTSIDE_COVER_MINUTES)
    level = levels[:, job_category].T  # job × worker

    walk, outside, level = walk[:, slot_worker], outside[:, slot_worker], level[:, slot_worker]
    arrival = MINUTES_PER_OPEN_ORDER * (worker_load[slot_worker] + slot_extra)[None, :] + walk
    late = np.where(arrival > job_left[:, None], BREACH_PENALTY_MINUTES, 0.0)
    cost = job_weight[:, None] * (arrival + outside + late - MINUTES_PER_SKILL_LEVEL * level)
    cost -= job_reward[:, None]
    return np.where(level > 0, cost, FORBIDDEN), slots


def assign(jobs: Sequence[Job], workers: Sequence[Worker]) -> dict[int, int]:
    """Job key → worker key for every job that can be served now, all at once. Workers off
    duty, without the skill or at their cap get nothing; each gets at most their free
    slots."""
    cost, slots = _cost_matrix(jobs, workers)
    if cost is None:
        return {}
    rows, columns = linear_sum_assignment(cost)
    return {
        jobs[r].key: workers[slots[c][0]].key
        for r, c in zip(rows, columns, strict=True)
        if cost[r, c] < FORBIDDEN
    }


# ------------------------------------------------------------------ one request, ranked


@dataclass(frozen=True)
class Suggestion:
    worker: int
    cost: float | None  # None when the worker cannot take it
    refusal: str | None
    level: int
    walk: float
    arrival: float
    load: int
    cap: int
    on_duty: bool
    in_cover: bool
    late: bool  # the expected arrival misses the SLA


def rank(job: Job, workers: Iterable[Worker]) -> list[Suggestion]:
    """Every worker, the ones who can take the job first, cheapest first."""
    found = []
    for worker in workers:
        why_not = refusal(job, worker)
        arrival = expected_arrival(job, worker)
        found.append(
            Suggestion(
                worker=worker.key,
                cost=None if why_not else pair_cost(job, worker),
                refusal=why_not,
                level=worker.skills.get(job.category, 0),
                walk=walk_minutes(worker.place, job.place),
                arrival=arrival,
                load=worker.load,
                cap=worker.cap,
                on_duty=worker.on_duty,
                in_cover=not worker.covers or job.place is None or job.place in worker.covers,
                late=job.minutes_left is not None and arrival > job.minutes_left,
            )
        )
    return sorted(found, key=lambda s: (REFUSAL_ORDER[s.refusal], s.cost or 0.0, s.worker))


def round_robin(job: Job, workers: Sequence[Worker], last_given: Mapping[int, float]) -> int | None:
    """The able worker who was given an order longest ago (never first), ties by key."""
    able = [w for w in workers if refusal(job, w) is None]
    if not able:
        return None
    return min(able, key=lambda w: (last_given.get(w.key, float("-inf")), w.key)).key


def nearest_free(job: Job, workers: Sequence[Worker]) -> int | None:
    """The greedy pick: the able worker who would arrive soonest."""
    able = [w for w in workers if refusal(job, w) is None]
    if not able:
        return None
    return min(able, key=lambda w: (expected_arrival(job, w), w.key)).key
