"""The service-desk benchmarks stay runnable: each runs here on a few rows for a moment."""

import os

import pytest

from jiayuan.core.testing import load_bench
from jiayuan.servicedesk.models import ServiceRequest


@pytest.mark.django_db
def test_the_scale_benchmark_generates_and_times_every_scenario(settings):
    settings.ALLOWED_HOSTS = ["testserver"]
    timings = load_bench("servicedesk_scale").run(300, 2, samples=2, progress=lambda *a, **k: None)
    assert ServiceRequest.objects.count() == 300
    assert len(timings) == 15
    for timing in timings:
        assert timing.p50 > 0 and timing.queries > 0, timing.name
    api_rows = [t.rows for t in timings if t.name.startswith("api: estate")]
    assert api_rows == [150]  # half of the requests are in the measured estate
    found = {t.name: t.rows for t in timings if t.name.startswith("api: search")}
    assert 0 < found["api: search a word"] < 150


@pytest.mark.parametrize("processes", [1, 2])
def test_the_load_benchmark_counts_every_created_request(tmp_path, processes):
    """With two web processes, each on its own port, the clients are shared between them."""
    bench = load_bench("request_create_load")
    results, check = bench.run(
        f"sqlite:///{tmp_path / 'load.sqlite3'}",
        clients=2,
        seconds=0.5,
        rounds=1,
        processes=processes,
        progress=lambda *a: None,
    )
    assert [r.name for r in results] == ["product create", "minimal insert", "bare Ninja"]
    for result in results:
        assert result.ok > 0 and result.errors == 0, (result.name, result.statuses)
    assert check["answered_201"] == check["stored"] == check["distinct_numbers"] > 0
    if os.path.isdir("/proc/self"):
        assert all(result.cpu_per_request("server") > 0 for result in results)


@pytest.mark.django_db
def test_the_sla_benchmark_finds_due_clocks_and_runs_ticks():
    result = load_bench("sla_check").run(200, samples=2, progress=lambda *a, **k: None)
    assert result["clocks"] == 600
    assert [(due, sent) for due, _ms, sent in result["ticks"]] == [(300, 300), (20, 20)]
    assert result["find_p50"] > 0 and result["deadline_ms"] > 0
