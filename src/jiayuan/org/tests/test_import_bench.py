"""The import benchmark stays runnable: its generator and its run, on 50 rows."""

from jiayuan.core.testing import load_bench
from jiayuan.org.models import ImportJob, Residency, Unit
from jiayuan.org.tests.import_helpers import _media_in_memory  # noqa: F401 - autouse fixture


def test_the_benchmark_imports_its_generated_files(db):
    measures = load_bench("import_10k").run(rows=50)
    assert [(m.kind, m.rows, m.status) for m in measures] == [
        ("buildings", 1, ImportJob.Status.COMMITTED),
        ("units", 50, ImportJob.Status.COMMITTED),
        ("residents", 50, ImportJob.Status.COMMITTED),
    ]
    assert Unit.objects.count() == 50
    assert Residency.objects.count() == 50
    assert all(m.seconds > 0 and m.rows_per_second > 0 for m in measures)
