"""The triage benchmark stays runnable: a model, a fresh process, a few hundred texts."""

from jiayuan.core.testing import load_bench
from jiayuan.triage.tests.fixtures import write_corpus


def test_the_benchmark_measures_speed_load_and_memory(tmp_path):
    measures = load_bench("triage_speed").run(
        texts=300, corpus_path=write_corpus(tmp_path / "corpus.jsonl")
    )
    assert measures.texts == 300
    assert measures.texts_per_second > 0
    assert 0 < measures.load_seconds < 5
    assert measures.rss_after_mb >= measures.rss_before_mb > 0
    assert measures.features > 0
