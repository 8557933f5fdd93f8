"""The triage benchmark stays runnable: a model, a fresh process, a few hundred texts."""

import importlib.util
import sys
from pathlib import Path

from jiayuan.triage.tests.fixtures import write_corpus

BENCH = Path(__file__).resolve().parents[4] / "bench" / "triage_speed.py"


def load_bench():
    spec = importlib.util.spec_from_file_location("triage_speed", BENCH)
    module = importlib.util.module_from_spec(spec)
    # dataclasses look their module up in sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_the_benchmark_measures_speed_load_and_memory(tmp_path):
    measures = load_bench().run(texts=300, corpus_path=write_corpus(tmp_path / "corpus.jsonl"))
    assert measures.texts == 300
    assert measures.texts_per_second > 0
    assert 0 < measures.load_seconds < 5
    assert measures.rss_after_mb >= measures.rss_before_mb > 0
    assert measures.features > 0
