"""The dispatch benchmarks stay runnable and honest: each runs here on a small size."""

from collections import Counter
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
import time_machine

from jiayuan.core.testing import load_bench
from jiayuan.dispatch import assignment

# ------------------------------------------------------------------ dispatch_speed


def test_the_speed_benchmark_times_a_solve_and_counts_what_it_gave():
    bench = load_bench("dispatch_speed")
    result = bench.run(60, 12, repeat=3, seed=3)
    assert result.requests == 60 and result.technicians == 12
    assert 0 < result.on_duty <= 12
    assert sum(result.assigned_by_urgency.values()) == result.assigned
    assert result.assigned + sum(result.waiting_by_urgency.values()) == result.requests
    assert result.assigned <= min(result.requests, result.slots)
    assert 0 < result.p50_ms <= result.p95_ms <= result.max_ms
    assert result.repeat == 3


def test_the_speed_benchmarks_problem_respects_every_constraint_and_is_realistic():
    bench = load_bench("dispatch_speed")
    jobs, workers = bench.generate(500, 100, seed=1)
    urgencies = Counter(job.urgency for job in jobs)
    assert 30 <= urgencies["emergency"] <= 70 and 230 <= urgencies["normal"] <= 370
    assert all(2 <= len(w.skills) <= 4 and 5 <= w.cap <= 8 and 0 <= w.load <= 3 for w in workers)
    assert 75 <= sum(w.on_duty for w in workers) <= 95
    assert {job.category for job in jobs} == set(bench.CATEGORY_WEIGHTS)
    given = assignment.assign(jobs, workers)
    bench.check(jobs, workers, given)  # raises if a constraint is broken
    # Too few slots for all: every slot is used and no emergency is left while a normal
    # request of the same category was served.
    assert len(given) == sum(w.free for w in workers) < len(jobs)
    served = {(j.category, j.urgency) for j in jobs if j.key in given}
    for job in jobs:
        if job.urgency == "emergency" and job.key not in given:
            assert (job.category, "normal") not in served
    # Same seed, same problem.
    assert bench.generate(500, 100, seed=1) == (jobs, workers)


def test_the_speed_benchmarks_check_catches_a_broken_result():
    bench = load_bench("dispatch_speed")
    job = assignment.Job(1, "gas", "emergency", 3, 20)
    off_duty = assignment.Worker(9, {"gas": 3}, False, 0, 5, 3)
    unskilled = assignment.Worker(8, {"hvac": 3}, True, 0, 5, 3)
    full = assignment.Worker(7, {"gas": 3}, True, 5, 5, 3)
    for worker in (off_duty, unskilled, full):
        with pytest.raises(AssertionError):
            bench.check([job], [worker], {1: worker.key})


# ------------------------------------------------------------------ dispatch_day


@pytest.mark.parametrize("urgent_first", [False, True])
def test_the_simulated_day_accounts_for_every_request_under_every_policy(urgent_first):
    bench = load_bench("dispatch_day")
    summaries = bench.run(requests=40, technicians=8, seeds=2, urgent_first=urgent_first)
    assert [s.policy for s in summaries] == ["automatic", "greedy", "round-robin"]
    for summary in summaries:
        assert len(summary.days) == 2
        for day in summary.days:
            assert day.arrived == 40
            assert day.served + day.waiting == day.arrived
            assert day.served > 0
            assert 0 <= day.emergency_breaches <= min(day.breaches, day.emergencies)
            assert day.breaches <= day.with_target
            assert day.mean_minutes >= 3  # nobody arrives faster than the shortest walk
            assert day.p90_minutes >= 3
            assert 1 <= day.max_load <= 5  # caps are 3-5
    # The same stream for every policy.
    for column in ("arrived", "with_target", "emergencies"):
        assert len({tuple(getattr(d, column) for d in s.days) for s in summaries}) == 1


def test_the_simulated_day_is_the_same_for_the_same_seed():
    bench = load_bench("dispatch_day")
    stream = bench.generate_requests(30, seed=4)
    assert stream == bench.generate_requests(30, seed=4)
    assert stream != bench.generate_requests(30, seed=5)
    crew = bench.generate_technicians(8, seed=4)
    first = bench.simulate("automatic", stream, crew)
    again = bench.simulate("automatic", stream, crew)
    fields = ("served", "waiting", "mean_minutes", "p90_minutes", "breaches", "max_load")
    assert [getattr(first, f) for f in fields] == [getattr(again, f) for f in fields]


def test_the_simulated_day_keeps_shifts_and_the_on_call_pair_to_emergencies():
    bench = load_bench("dispatch_day")
    night = 23 * 60
    stream = [
        bench.Request(0, night - 90, "gas", "urgent", 8, 30.0, night + 30),  # 21:30
        bench.Request(1, night, "plumbing", "normal", 4, 30.0, None),
        bench.Request(2, night + 5, "plumbing", "emergency", 6, 30.0, night + 35),
        bench.Request(3, night + 10, "gas", "urgent", 8, 30.0, night + 130),
    ]
    crew = [
        bench.Technician(100, {"plumbing": 2, "gas": 2}, 3, bench.ON_CALL, on_call=True),
        bench.Technician(101, {"plumbing": 3, "gas": 3}, 3, bench.DAY_SHIFT),
    ]
    for policy in bench.POLICIES:
        day = bench.Day(policy, stream, [t.fresh() for t in crew])
        result = day.run()
        # Only the emergency is served at night; the others wait for the morning.
        assert set(day.reached) == {2}, policy
        assert day.reached[2] == pytest.approx(night + 5 + assignment.UNKNOWN_PLACE_MINUTES)
        assert result.served == 1 and result.waiting == 3
        # The urgent request of 21:30, due at 23:30, is a breach; the one due after midnight
        # is not one yet.
        assert result.breaches == 1 and result.with_target == 3
        assert result.emergency_breaches == 0


def test_a_request_nobody_can_take_waits_and_is_given_at_the_next_event():
    bench = load_bench("dispatch_day")
    stream = [
        bench.Request(0, 9 * 60, "elevator", "urgent", 2, 50.0, 9 * 60 + 120),
        bench.Request(1, 9 * 60 + 1, "elevator", "normal", 2, 20.0, None),
    ]
    crew = [bench.Technician(100, {"elevator": 2}, 1, bench.DAY_SHIFT)]
    for policy in bench.POLICIES:
        day = bench.Day(policy, stream, [t.fresh() for t in crew])
        result = day.run()
        walk = assignment.walk_minutes(None, 2)
        assert day.reached[0] == pytest.approx(9 * 60 + walk)
        # Cap 1: the second waits until the first is done, then is given and reached.
        assert day.reached[1] == pytest.approx(
            9 * 60 + walk + 50 + assignment.SAME_BUILDING_MINUTES
        )
        assert result.served == 2 and result.breaches == 0 and result.max_load == 1


def test_the_simulated_day_uses_the_products_arrival_targets():
    from jiayuan.sla.policies import DEFAULT_POLICIES

    arrival = {
        p.urgency: p.arrival[0] for p in DEFAULT_POLICIES if p.kind == "repair" and p.urgency
    }
    bench = load_bench("dispatch_day")
    assert {u: m for u, m in bench.ARRIVAL_MINUTES.items() if m is not None} == arrival
    assert not any(p.arrival for p in DEFAULT_POLICIES if not p.urgency)  # normal: none
    assert load_bench("dispatch_speed").ARRIVAL_MINUTES == bench.ARRIVAL_MINUTES


# ------------------------------------------------------------------ dispatch_estate


@pytest.mark.django_db
@pytest.mark.parametrize("hour", [10, 0])  # shifts around now cross midnight at 00:xx
def test_the_estate_benchmark_decides_and_dispatches_within_the_limits(hour):
    at = datetime(2026, 6, 2, hour, 30, tzinfo=ZoneInfo("Asia/Shanghai"))
    with time_machine.travel(at, tick=True):
        result = load_bench("dispatch_estate").run(40, 8, repeat=2)
    assert result["waiting"] == 40 and result["technicians"] == 8
    assert 0 < result["decided"] <= 40
    # The whole run dispatches what the decision chose (nothing else changed meanwhile).
    assert result["dispatched"] == result["decided"]
    assert result["queries"] <= 10  # the decision's reads do not grow with rows
