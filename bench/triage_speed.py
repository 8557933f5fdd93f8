"""Triage speed and footprint: texts per second on one core, how long a fresh process takes to
load the model, and the memory it holds after loading.

    .venv/bin/python bench/triage_speed.py                    # 20,000 texts from the corpus
    .venv/bin/python bench/triage_speed.py --texts 100000
    .venv/bin/python bench/triage_speed.py --model var/triage/model.npz

Without --model a model is trained on the corpus' training split into a temporary folder.
The measuring runs in a fresh process pinned to one core, with BLAS limited to one thread,
so the load time and the memory are those a worker pays. The tests run `run()` on a few
hundred texts so this script cannot rot.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SINGLE_THREAD = {
    name: "1" for name in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
}


@dataclass(frozen=True)
class Measures:
    texts: int
    load_seconds: float
    texts_per_second: float
    # Resident memory of the process after django.setup(), and after loading the model.
    rss_before_mb: float
    rss_after_mb: float
    features: int


def _setup_django() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jiayuan.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()


def _rss_mb() -> float:
    """The current resident set (Linux), else the peak one."""
    try:
        pages = int(Path("/proc/self/statm").read_text().split()[1])
        return pages * os.sysconf("SC_PAGE_SIZE") / 2**20
    except (OSError, ValueError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def _measure(model_path: Path, corpus_path: Path, texts: int) -> dict:
    """In the fresh process: load, then triage `texts` texts from the corpus, repeated."""
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {min(os.sched_getaffinity(0))})
    _setup_django()
    from jiayuan.triage import corpus

    pool = [example.text for example in corpus.load(corpus_path)]
    sample = (pool * (texts // len(pool) + 1))[:texts]
    rss_before = _rss_mb()
    started = time.perf_counter()
    from jiayuan.triage.model import Triage

    triage = Triage.load(model_path)
    load_seconds = time.perf_counter() - started
    rss_after = _rss_mb()
    triage.predict(sample[:100])  # warm up
    started = time.perf_counter()
    predictions = triage.predict(sample)
    seconds = time.perf_counter() - started
    assert len(predictions) == len(sample)
    return {
        "texts": len(sample),
        "load_seconds": load_seconds,
        "texts_per_second": len(sample) / seconds,
        "rss_before_mb": rss_before,
        "rss_after_mb": rss_after,
        "features": len(triage.vocabulary),
    }


def run(
    *, texts: int = 20_000, corpus_path: Path | None = None, model_path: Path | None = None
) -> Measures:
    _setup_django()
    from jiayuan.triage import corpus, model

    corpus_path = Path(corpus_path or corpus.SHIPPED_CORPUS)
    with tempfile.TemporaryDirectory() as folder:
        if model_path is None:
            model_path = Path(folder) / "model.npz"
            model.train(corpus.split(corpus.load(corpus_path))[0]).save(model_path)
        done = subprocess.run(  # noqa: S603 - this script, run by this Python
            [
                sys.executable,
                __file__,
                "--child",
                "--texts",
                str(texts),
                "--corpus",
                str(corpus_path),
                "--model",
                str(model_path),
            ],
            capture_output=True,
            check=True,
            env={**os.environ, **SINGLE_THREAD},
        )
    return Measures(**json.loads(done.stdout.decode().splitlines()[-1]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--texts", type=int, default=20_000)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--model", type=Path)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    options = parser.parse_args()
    sys.path.insert(0, str(ROOT / "src"))
    if options.child:
        print(json.dumps(_measure(options.model, options.corpus, options.texts)))
        return
    measures = run(texts=options.texts, corpus_path=options.corpus, model_path=options.model)
    print(f"texts triaged           {measures.texts:>10,}")
    print(f"texts per second        {measures.texts_per_second:>10,.0f}   (one core)")
    print(f"model load              {measures.load_seconds * 1000:>10,.0f} ms")
    print(f"memory before the model {measures.rss_before_mb:>10,.0f} MB   (Django set up)")
    print(f"memory after loading    {measures.rss_after_mb:>10,.0f} MB")
    print(f"features (n-grams)      {measures.features:>10,}")


if __name__ == "__main__":
    main()
