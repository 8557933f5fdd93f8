"""The dashboard benchmark stays runnable and honest: a small run here generates, times,
proves the rollups equal the records and runs the job incrementally."""

import pytest

from jiayuan.core.testing import load_bench


@pytest.mark.django_db
def test_the_dashboard_benchmark_runs_small(settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    bench = load_bench("dashboard_scale")
    result = bench.run(400, 2, samples=2, progress=lambda line: None)
    assert 400 <= result["written"] <= 500  # topped up to at least what was asked
    assert result["months"] == 24  # two estates, twelve months each
    names = [timing.name for timing in result["timings"]]
    assert names == [
        "estate-month dashboard",
        "team-month dashboard (people from the trail)",
        "company-year dashboard",
    ]
    assert all(0 < timing.p50 <= timing.p95 and timing.queries > 0 for timing in result["timings"])
    assert result["proofs"][0].startswith("company-year received")
    assert len(result["proofs"]) == 1 + bench.EQUALITY_SAMPLES
    months, _seconds = result["incremental"]
    assert 1 <= months <= 20
