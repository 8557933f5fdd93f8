"""The import benchmark stays runnable: its generator and its run, on 50 rows."""

import importlib.util
import sys
from pathlib import Path

from jiayuan.org.models import ImportJob, Residency, Unit
from jiayuan.org.tests.import_helpers import _media_in_memory  # noqa: F401 - autouse fixture

BENCH = Path(__file__).resolve().parents[4] / "bench" / "import_10k.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("import_10k", BENCH)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_imports_its_generated_files(db):
    measures = load_bench().run(rows=50)
    assert [(m.kind, m.rows, m.status) for m in measures] == [
        ("buildings", 1, ImportJob.Status.COMMITTED),
        ("units", 50, ImportJob.Status.COMMITTED),
        ("residents", 50, ImportJob.Status.COMMITTED),
    ]
    assert Unit.objects.count() == 50
    assert Residency.objects.count() == 50
    assert all(m.seconds > 0 and m.rows_per_second > 0 for m in measures)
