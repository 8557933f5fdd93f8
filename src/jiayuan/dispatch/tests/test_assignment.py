"""The arithmetic of dispatch on its own: plain functions, no database."""

import itertools
from collections import Counter

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment
from scipy.sparse import csr_matrix
from scipy.sparse.csgraph import maximum_bipartite_matching

from jiayuan.dispatch.assignment import (
    FORBIDDEN,
    SERVE_REWARD,
    Job,
    Worker,
    _cost_matrix,
    assign,
    expected_arrival,
    nearest_free,
    pair_cost,
    rank,
    refusal,
    round_robin,
    walk_minutes,
)

CATEGORIES = ("plumbing", "electrical", "elevator", "gas")
URGENCIES = ("emergency", "urgent", "normal")
places = st.none() | st.integers(1, 20)


@st.composite
def jobs(draw, max_size=12):
    count = draw(st.integers(0, max_size))
    return [
        Job(
            key=key,
            category=draw(st.sampled_from(CATEGORIES)),
            urgency=draw(st.sampled_from(URGENCIES)),
            place=draw(places),
            minutes_left=draw(st.none() | st.floats(-30, 150)),
        )
        for key in range(count)
    ]


@st.composite
def workers(draw, max_size=6, max_cap=4):
    count = draw(st.integers(0, max_size))
    found = []
    for index in range(count):
        skills = draw(st.dictionaries(st.sampled_from(CATEGORIES), st.integers(1, 3), max_size=3))
        cap = draw(st.integers(0, max_cap))
        found.append(
            Worker(
                key=100 + index,
                skills=skills,
                on_duty=draw(st.booleans()),
                load=draw(st.integers(0, cap + 1)),
                cap=cap,
                place=draw(places),
                covers=draw(st.frozensets(st.integers(1, 20), max_size=5)),
            )
        )
    return found


def _reward(job):
    return SERVE_REWARD[job.urgency]


def _able(job, worker):
    return refusal(job, worker) is None


# ------------------------------------------------------------------ assign


@settings(max_examples=100, deadline=None)
@given(jobs(), workers())
def test_assign_never_breaks_skill_shift_or_cap(some_jobs, some_workers):
    result = assign(some_jobs, some_workers)
    by_key = {w.key: w for w in some_workers}
    job_by_key = {j.key: j for j in some_jobs}
    assert set(result) <= set(job_by_key)
    for job_key, worker_key in result.items():
        worker = by_key[worker_key]
        assert worker.on_duty
        assert worker.skills.get(job_by_key[job_key].category, 0) > 0
    for worker_key, count in Counter(result.values()).items():
        assert by_key[worker_key].load + count <= by_key[worker_key].cap


@settings(max_examples=100, deadline=None)
@given(jobs(), workers())
def test_assign_serves_as_many_requests_as_any_assignment_could(some_jobs, some_workers):
    slots = [(w, k) for w in some_workers for k in range(w.free)]
    graph = np.array(
        [[_able(job, w) for w, _k in slots] for job in some_jobs], dtype=np.int8
    ).reshape(len(some_jobs), len(slots))
    best = int((maximum_bipartite_matching(csr_matrix(graph), perm_type="column") >= 0).sum())
    assert len(assign(some_jobs, some_workers)) == best


@settings(max_examples=100, deadline=None)
@given(jobs(), workers())
def test_the_cost_matrix_is_pair_cost_less_the_reward(some_jobs, some_workers):
    cost, slots = _cost_matrix(some_jobs, some_workers)
    if cost is None:
        return
    for r, job in enumerate(some_jobs):
        for c, (w, k) in enumerate(slots):
            worker = some_workers[w]
            if job.category in worker.skills:
                expected = pair_cost(job, worker, extra_orders=k) - _reward(job)
                assert cost[r, c] == pytest.approx(expected)
            else:
                assert cost[r, c] == FORBIDDEN


def _total(matching, some_jobs, some_workers):
    """The assignment problem's objective for a matching of jobs to workers, in pair_cost
    terms: each worker's jobs in their cheapest order of slots, less the rewards, and
    FORBIDDEN for every row or slot the problem had to pair and the matching leaves out."""
    by_key = {w.key: w for w in some_workers}
    job_by_key = {j.key: j for j in some_jobs}
    mine: dict[int, list[Job]] = {}
    for job_key, worker_key in matching.items():
        mine.setdefault(worker_key, []).append(job_by_key[job_key])
    total = 0.0
    for worker_key, given_jobs in mine.items():
        worker = by_key[worker_key]
        total += min(
            sum(pair_cost(job, worker, extra_orders=k) for k, job in enumerate(order))
            for order in itertools.permutations(given_jobs)
        )
        total -= sum(_reward(job) for job in given_jobs)
    pairs = min(len(some_jobs), sum(w.free for w in some_workers))
    return total + FORBIDDEN * (pairs - len(matching))


def _greedy(some_jobs, some_workers):
    """nearest_free for each job in turn, the chosen worker's load growing as they go."""
    current = {w.key: w for w in some_workers}
    matching = {}
    for job in some_jobs:
        pick = nearest_free(job, list(current.values()))
        if pick is None:
            continue
        matching[job.key] = pick
        w = current[pick]
        current[pick] = Worker(w.key, w.skills, w.on_duty, w.load + 1, w.cap, w.place, w.covers)
    return matching


@settings(max_examples=100, deadline=None)
@given(jobs(max_size=8), workers(max_size=5, max_cap=3))
def test_the_solver_costs_no_more_than_greedy_nearest_free(some_jobs, some_workers):
    solver = _total(assign(some_jobs, some_workers), some_jobs, some_workers)
    greedy = _total(_greedy(some_jobs, some_workers), some_jobs, some_workers)
    assert solver <= greedy + 1e-3


def test_the_total_is_what_the_solver_minimised():
    """_total above agrees with the solver's own objective on a fixed instance."""
    some_jobs = [
        Job(1, "plumbing", "emergency", 3, 20),
        Job(2, "plumbing", "normal", 4),
        Job(3, "electrical", "urgent", 10, 100),
        Job(4, "plumbing", "urgent", 18, -5),
    ]
    some_workers = [
        Worker(100, {"plumbing": 2, "electrical": 1}, True, 1, 3, 5),
        Worker(101, {"plumbing": 3}, True, 0, 2, 17),
    ]
    cost, _slots = _cost_matrix(some_jobs, some_workers)
    rows, columns = linear_sum_assignment(cost)
    optimum = float(cost[rows, columns].sum())
    assert _total(assign(some_jobs, some_workers), some_jobs, some_workers) == pytest.approx(
        optimum
    )


def test_the_solver_beats_greedy_when_the_first_come_is_not_the_most_urgent():
    some_jobs = [Job(1, "gas", "normal", 5), Job(2, "gas", "emergency", 5, 10)]
    some_workers = [
        Worker(100, {"gas": 1}, True, 0, 1, 5),
        Worker(101, {"gas": 1}, True, 0, 1, 12),
    ]
    # Greedy sends the technician in the building to the normal job that came first and
    # the far one (15 minutes away, late) to the emergency; the solver swaps them.
    assert _greedy(some_jobs, some_workers) == {1: 100, 2: 101}
    assert assign(some_jobs, some_workers) == {1: 101, 2: 100}
    solver = _total(assign(some_jobs, some_workers), some_jobs, some_workers)
    assert solver < _total(_greedy(some_jobs, some_workers), some_jobs, some_workers)


@settings(max_examples=100, deadline=None)
@given(
    category=st.sampled_from(CATEGORIES),
    normal_place=places,
    emergency_place=places,
    worker_place=places,
    emergency_left=st.none() | st.floats(-30, 30),
    load=st.integers(0, 3),
)
def test_an_emergency_goes_before_normal_work_when_one_technician_is_free(
    category, normal_place, emergency_place, worker_place, emergency_left, load
):
    normal = Job(1, category, "normal", normal_place)
    emergency = Job(2, category, "emergency", emergency_place, emergency_left)
    worker = Worker(7, {category: 1}, True, load, load + 1, worker_place)
    # The normal request came first and sits next to the technician: the emergency still wins.
    assert assign([normal, emergency], [worker]) == {2: 7}
    assert assign([emergency, normal], [worker]) == {2: 7}


def test_urgent_work_goes_before_normal_work_and_all_is_given_when_hands_suffice():
    normal = Job(1, "gas", "normal", 1)
    urgent = Job(2, "gas", "urgent", 15, 60)
    worker = Worker(7, {"gas": 2}, True, 0, 1, 1)
    assert assign([normal, urgent], [worker]) == {2: 7}
    roomy = Worker(7, {"gas": 2}, True, 0, 2, 1)
    assert assign([normal, urgent], [roomy]) == {1: 7, 2: 7}


def test_assign_with_nothing_to_do_or_nobody_to_do_it():
    job = Job(1, "plumbing")
    assert assign([], [Worker(1, {"plumbing": 1}, True, 0, 3)]) == {}
    assert assign([job], []) == {}
    assert assign([job], [Worker(1, {"plumbing": 1}, False, 0, 3)]) == {}
    assert assign([job], [Worker(1, {"plumbing": 1}, True, 3, 3)]) == {}
    assert assign([job], [Worker(1, {"gas": 3}, True, 0, 3)]) == {}


# ------------------------------------------------------------------ rank, greedy, round-robin


def test_rank_puts_the_refusals_last_with_their_reason():
    job = Job(1, "elevator", "urgent", place=5, minutes_left=30)
    team = [
        Worker(10, {"elevator": 2}, on_duty=False, load=0, cap=5, place=5),
        Worker(11, {"plumbing": 3}, on_duty=True, load=0, cap=5, place=5),
        Worker(12, {"elevator": 1}, on_duty=True, load=4, cap=4, place=5),
        Worker(13, {"elevator": 1}, on_duty=True, load=1, cap=4, place=9),
        Worker(14, {"elevator": 3}, on_duty=True, load=0, cap=4, place=6),
    ]
    ranked = rank(job, team)
    assert [s.worker for s in ranked[:2]] == [14, 13]
    assert ranked[0].cost < ranked[1].cost
    assert ranked[0].refusal is None and ranked[0].level == 3 and not ranked[0].late
    assert ranked[1].late  # 40 minutes for the order in hand and the walk: past 30
    assert {s.worker: s.refusal for s in ranked[2:]} == {10: "off_duty", 11: "no_skill", 12: "full"}
    assert all(s.cost is None for s in ranked[2:])
    # Among refusals, the nearest to being able first: full, then off duty, then no skill.
    assert [s.worker for s in ranked[2:]] == [12, 10, 11]


@settings(max_examples=100, deadline=None)
@given(jobs(max_size=1), workers())
def test_rank_lists_everyone_the_able_ones_first_cheapest_first(some_jobs, some_workers):
    if not some_jobs:
        return
    job = some_jobs[0]
    ranked = rank(job, some_workers)
    assert sorted(s.worker for s in ranked) == sorted(w.key for w in some_workers)
    refused = [s.refusal is not None for s in ranked]
    assert refused == sorted(refused)  # no able worker after a refusal
    costs = [s.cost for s in ranked if s.cost is not None]
    assert costs == sorted(costs)
    for s in ranked:
        assert (s.cost is None) == (s.refusal is not None)


def test_round_robin_rotates_through_the_able_and_skips_the_rest():
    job = Job(1, "plumbing")
    team = [
        Worker(3, {"plumbing": 1}, True, 0, 5),
        Worker(1, {"plumbing": 2}, True, 0, 5),
        Worker(2, {"plumbing": 1}, False, 0, 5),  # off duty: never
        Worker(4, {"gas": 3}, True, 0, 5),  # no skill: never
        Worker(5, {"plumbing": 1}, True, 0, 5),
    ]
    last_given: dict[int, float] = {}
    picks = []
    for minute in range(7):
        pick = round_robin(job, team, last_given)
        picks.append(pick)
        last_given[pick] = minute
    # Never given first (by key), then whoever was given longest ago.
    assert picks == [1, 3, 5, 1, 3, 5, 1]
    assert round_robin(Job(2, "elevator"), team, last_given) is None


def test_round_robin_gives_the_newcomer_first():
    job = Job(1, "hvac")
    team = [Worker(1, {"hvac": 1}, True, 0, 5), Worker(2, {"hvac": 1}, True, 0, 5)]
    assert round_robin(job, team, {1: 10.0}) == 2
    assert round_robin(job, team, {1: 10.0, 2: 20.0}) == 1


@settings(max_examples=100, deadline=None)
@given(jobs(max_size=1), workers())
def test_nearest_free_is_the_able_worker_who_arrives_soonest(some_jobs, some_workers):
    if not some_jobs:
        return
    job = some_jobs[0]
    able = [w for w in some_workers if _able(job, w)]
    pick = nearest_free(job, some_workers)
    if not able:
        assert pick is None
        return
    chosen = next(w for w in able if w.key == pick)
    assert expected_arrival(job, chosen) == min(expected_arrival(job, w) for w in able)


@given(places, places)
def test_walking_is_symmetric_and_bounded(origin, destination):
    minutes = walk_minutes(origin, destination)
    assert minutes == walk_minutes(destination, origin)
    assert 3 <= minutes <= 15
    if origin is not None and origin == destination:
        assert minutes == 3
