"""Automatic dispatch at size: 500 waiting requests given to 100 technicians in one solve.

The script generates (seeded) the waiting requests of a large estate group: categories in
the mix repairs come in (plumbing first, gas and fire safety rare), 10% emergencies, 30%
urgent, 60% normal, spread over 20 buildings, each with the minutes left on its arrival
target (the product's built-in targets: 30 minutes for an emergency, 2 hours for an urgent
repair, none for normal work; some requests have waited past theirs). The technicians have
2-4 skills at levels 1-3, about 85% are on duty, each has 0-3 orders in hand and a cap of
5-8. It times `assignment.assign` (cost matrix and solve) once cold and then `--repeat`
times, and checks the result: nobody off duty, without the skill or over their cap was
given anything.

    .venv/bin/python bench/dispatch_speed.py                    # 500 requests, 100 technicians
    .venv/bin/python bench/dispatch_speed.py --requests 2000 --technicians 300 --repeat 10

The tests run `run()` on a few dozen requests so this script cannot rot.
"""

from __future__ import annotations

import argparse
import os
import platform
import random
import statistics
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

from jiayuan.dispatch import assignment  # noqa: E402 - after the path above

# How often each category comes in among repairs, roughly as a desk sees them.
CATEGORY_WEIGHTS = {
    "plumbing": 28,
    "electrical": 20,
    "doors_locks": 14,
    "elevator": 10,
    "hvac": 10,
    "civil": 10,
    "gas": 4,
    "fire_safety": 4,
}
URGENCY_WEIGHTS = {"emergency": 10, "urgent": 30, "normal": 60}
# The arrival targets of the built-in SLA policies (jiayuan/sla/policies.py), in minutes;
# a normal repair has none.
ARRIVAL_MINUTES = {"emergency": 30, "urgent": 120, "normal": None}
BUILDINGS = 20


@dataclass(frozen=True)
class Result:
    requests: int
    technicians: int
    on_duty: int
    slots: int  # columns of the problem: the free places of technicians on duty
    assigned: int
    assigned_by_urgency: dict[str, int]
    waiting_by_urgency: dict[str, int]
    cold_ms: float
    matrix_ms: float  # building the cost matrix alone, median
    p50_ms: float
    p95_ms: float
    max_ms: float
    repeat: int


def _pick(rng: random.Random, weights: dict[str, int]) -> str:
    return rng.choices(list(weights), weights=list(weights.values()))[0]


def generate(requests: int, technicians: int, seed: int = 1):
    """Waiting jobs and the technicians as the solver sees them, the same for a seed."""
    rng = random.Random(seed)
    jobs = []
    for key in range(requests):
        urgency = _pick(rng, URGENCY_WEIGHTS)
        target = ARRIVAL_MINUTES[urgency]
        # Waited so far: up to a little past the target, so some are already overdue.
        left = None if target is None else round(target - rng.uniform(0, 1.2 * target), 1)
        place = None if rng.random() < 0.05 else rng.randint(1, BUILDINGS)  # 5% on the grounds
        jobs.append(assignment.Job(key, _pick(rng, CATEGORY_WEIGHTS), urgency, place, left))
    workers = []
    categories = list(CATEGORY_WEIGHTS)
    weights = list(CATEGORY_WEIGHTS.values())
    for key in range(technicians):
        skills: dict[str, int] = {}
        count = rng.randint(2, 4)
        while len(skills) < count:
            skills[rng.choices(categories, weights=weights)[0]] = rng.randint(1, 3)
        covers = frozenset()
        if rng.random() < 0.3:  # some cover a stretch of the estate only
            first = rng.randint(1, BUILDINGS - 5)
            covers = frozenset(range(first, first + rng.randint(3, 8)))
        workers.append(
            assignment.Worker(
                key=1000 + key,
                skills=skills,
                on_duty=rng.random() < 0.85,
                load=rng.randint(0, 3),
                cap=rng.randint(5, 8),
                place=None if rng.random() < 0.1 else rng.randint(1, BUILDINGS),
                covers=covers,
            )
        )
    return jobs, workers


def check(jobs, workers, given: dict[int, int]) -> None:
    """The hard constraints on a result: raises AssertionError when one is broken."""
    by_key = {w.key: w for w in workers}
    job_by_key = {j.key: j for j in jobs}
    assert set(given) <= set(job_by_key), "a job that was not asked for"
    for job_key, worker_key in given.items():
        worker, job = by_key[worker_key], job_by_key[job_key]
        assert worker.on_duty, f"job {job_key} given to {worker_key}, who is off duty"
        assert worker.skills.get(job.category, 0) > 0, f"{worker_key} lacks {job.category}"
    for worker_key, count in Counter(given.values()).items():
        worker = by_key[worker_key]
        assert worker.load + count <= worker.cap, f"{worker_key} over their cap"


def run(requests: int = 500, technicians: int = 100, *, repeat: int = 20, seed: int = 1) -> Result:
    jobs, workers = generate(requests, technicians, seed)
    started = time.perf_counter()
    given = assignment.assign(jobs, workers)
    cold = time.perf_counter() - started
    check(jobs, workers, given)
    times, matrix_times = [], []
    for _ in range(repeat):
        started = time.perf_counter()
        again = assignment.assign(jobs, workers)
        times.append(time.perf_counter() - started)
        assert again == given, "the same problem gave another answer"
        started = time.perf_counter()
        assignment._cost_matrix(jobs, workers)
        matrix_times.append(time.perf_counter() - started)
    times.sort()
    assigned = Counter(j.urgency for j in jobs if j.key in given)
    waiting = Counter(j.urgency for j in jobs if j.key not in given)
    return Result(
        requests=len(jobs),
        technicians=len(workers),
        on_duty=sum(w.on_duty for w in workers),
        slots=sum(w.free for w in workers),
        assigned=len(given),
        assigned_by_urgency={u: assigned[u] for u in URGENCY_WEIGHTS},
        waiting_by_urgency={u: waiting[u] for u in URGENCY_WEIGHTS},
        cold_ms=cold * 1000,
        matrix_ms=statistics.median(matrix_times) * 1000 if matrix_times else 0.0,
        p50_ms=statistics.median(times) * 1000 if times else cold * 1000,
        p95_ms=times[min(len(times) - 1, round(0.95 * (len(times) - 1)))] * 1000
        if times
        else cold * 1000,
        max_ms=times[-1] * 1000 if times else cold * 1000,
        repeat=repeat,
    )


def machine() -> str:
    """CPUs, their model (Linux) and Python, for the record."""
    model = platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return f"{os.cpu_count()} CPUs ({model}), Python {platform.python_version()}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--requests", type=int, default=500)
    parser.add_argument("--technicians", type=int, default=100)
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--seed", type=int, default=1)
    options = parser.parse_args()
    import numpy
    import scipy

    r = run(options.requests, options.technicians, repeat=options.repeat, seed=options.seed)
    print(f"machine: {machine()}, NumPy {numpy.__version__}, SciPy {scipy.__version__}")
    print(
        f"problem: {r.requests} waiting requests x {r.slots} free slots "
        f"({r.on_duty} of {r.technicians} technicians on duty)"
    )
    print(
        f"assigned {r.assigned} of {r.requests}: "
        + ", ".join(f"{u} {r.assigned_by_urgency[u]}" for u in URGENCY_WEIGHTS)
        + "; left waiting: "
        + ", ".join(f"{u} {r.waiting_by_urgency[u]}" for u in URGENCY_WEIGHTS)
    )
    print("constraints: nobody off duty, without the skill or over their cap got a job")
    print(f"cold call            {r.cold_ms:8.1f} ms")
    print(f"over {r.repeat} calls     p50 {r.p50_ms:6.1f} ms   p95 {r.p95_ms:6.1f} ms   ", end="")
    print(f"max {r.max_ms:6.1f} ms   (target < 500 ms)")
    print(f"of which the matrix  {r.matrix_ms:8.1f} ms (median)")


if __name__ == "__main__":
    main()
