"""Training a model and putting it in place of the current one, only if it is no worse."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from jiayuan.triage import corpus
from jiayuan.triage.evaluation import Evaluation, evaluate
from jiayuan.triage.model import ModelError, Triage, default_path, train


@dataclass(frozen=True)
class Retraining:
    path: Path
    new: Evaluation
    # The current model on the same held-out split; None when there was none (or unreadable).
    old: Evaluation | None
    # The measures on which the new model does worse than the current one.
    worse: list[str]
    replaced: bool


def compare(new: Evaluation, old: Evaluation | None) -> list[str]:
    if old is None:
        return []
    worse = [
        f"{name}_accuracy"
        for name in ("kind", "category")
        if new.accuracy[name] < old.accuracy[name]
    ]
    if (new.emergency_recall or 0.0) < (old.emergency_recall or 0.0):
        worse.append("emergency_recall")
    return worse


def model_retrain(
    *,
    corpus_path: Path = corpus.SHIPPED_CORPUS,
    model_path: Path | None = None,
    force: bool = False,
) -> Retraining:
    """Train on the corpus' training split, evaluate the new and the current model on the
    held-out split, and save the new one only if it is no worse on kind accuracy, category
    accuracy and emergency recall (or `force`)."""
    path = Path(model_path or default_path())
    examples = corpus.load(corpus_path)
    training, held_out = corpus.split(examples)
    if not held_out or not training:
        raise corpus.CorpusError(
            _("The corpus %(path)s is too small to hold out requests for evaluation.")
            % {"path": corpus_path}
        )
    candidate = train(
        training,
        metadata={
            "corpus": str(corpus_path),
            "corpus_sha256": corpus.digest(corpus_path),
            "corpus_examples": len(examples),
            "held_out_examples": len(held_out),
        },
    )
    new = evaluate(candidate, held_out)
    candidate.metadata["held_out"] = new.summary()
    old = None
    if path.exists():
        try:
            old = evaluate(Triage.load(path), held_out)
        except ModelError:
            old = None
    worse = compare(new, old)
    replaced = force or not worse
    if replaced:
        candidate.save(path)
    return Retraining(path=path, new=new, old=old, worse=worse, replaced=replaced)


def model_train_first(*, path: Path) -> Retraining:
    """The first model, trained from the shipped corpus when none is saved yet."""
    return model_retrain(corpus_path=corpus.SHIPPED_CORPUS, model_path=path)
