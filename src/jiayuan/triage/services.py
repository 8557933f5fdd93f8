"""Training a model and putting it in place of the current one, only if it is no worse;
recording what the model predicted for each new request and what people finally chose."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from django.utils import timezone
from django.utils.translation import gettext as _

from jiayuan.triage import corpus
from jiayuan.triage.evaluation import Evaluation, evaluate
from jiayuan.triage.model import ModelError, Triage, current, default_path, train
from jiayuan.triage.models import Classification
from jiayuan.triage.text import normalize

logger = logging.getLogger(__name__)


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


def with_extra(training: list[corpus.Example], held_out: list[corpus.Example], extra) -> list:
    """The training split with the extra rows added: an extra row replaces a training row of
    the same (normalised) text, since a person's correction is newer than the corpus; one
    whose text is held out is left out, so the evaluation never sees a text trained on."""
    held_out_texts = {normalize(example.text) for example in held_out}
    rows = {normalize(example.text): example for example in training}
    for example in extra:
        key = normalize(example.text)
        if key not in held_out_texts:
            rows[key] = example
    return list(rows.values())


def model_retrain(
    *,
    corpus_path: Path = corpus.SHIPPED_CORPUS,
    model_path: Path | None = None,
    force: bool = False,
    extra_paths: Sequence[Path] = (),
) -> Retraining:
    """Train on the corpus' training split (plus the rows of `extra_paths`, such as the
    desk's corrections from `jiayuan triage_export`, in training only), evaluate the new
    and the current model on the corpus' held-out split, and save the new one only if it is
    no worse on kind accuracy, category accuracy and emergency recall (or `force`)."""
    path = Path(model_path or default_path())
    examples = corpus.load(corpus_path)
    training, held_out = corpus.split(examples)
    if not held_out or not training:
        raise corpus.CorpusError(
            _("The corpus %(path)s is too small to hold out requests for evaluation.")
            % {"path": corpus_path}
        )
    extra = [example for extra_path in extra_paths for example in corpus.load(extra_path)]
    metadata = {
        "corpus": str(corpus_path),
        "corpus_sha256": corpus.digest(corpus_path),
        "corpus_examples": len(examples),
        "held_out_examples": len(held_out),
    }
    if extra_paths:
        training = with_extra(training, held_out, extra)
        metadata["extra"] = [
            {"path": str(extra_path), "sha256": corpus.digest(extra_path)}
            for extra_path in extra_paths
        ]
        metadata["extra_examples"] = len(extra)
    candidate = train(training, metadata=metadata)
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


# ----------------------------------------------------------------------------- classifications


def classification_record(*, actor, request) -> Classification | None:
    """What the model predicts for a new request, next to the labels it was created with;
    called by the service desk's intake inside its transaction. Without a usable model the
    request is created all the same and nothing is recorded here."""
    # Imported here: the service desk's intake calls into this module.
    from jiayuan.servicedesk.services import offered_codes

    try:
        triage = current(train_if_missing=False)
        if triage is None:
            logger.info("No triage model saved yet: request %s is not classified", request.number)
            return None
        offered = offered_codes(request.company_id)
        (prediction,) = triage.predict([request.description], categories=offered)
    except Exception:
        # A broken model file must never stop an owner's request from being taken.
        logger.exception("Triage failed for request %s; it is created unclassified", request.number)
        return None
    classification = Classification(
        request=request,
        predicted_kind=prediction.kind,
        predicted_category=prediction.category,
        predicted_urgency=prediction.urgency,
        confidence=prediction.confidence,
        reasons=list(prediction.reasons),
        model_trained_at=str(triage.metadata.get("trained_at", ""))[:40],
        model_corpus_sha256=str(triage.metadata.get("corpus_sha256", ""))[:64],
        kind=request.kind,
        category=request.category,
        urgency=request.urgency,
        labelled_at=request.created_at,
    )
    if classification.final != classification.predicted:
        # The owner (or the desk) chose otherwise than the model while reporting.
        classification.corrected = True
        classification.corrected_by = actor
        classification.corrected_at = request.created_at
    classification.save()
    return classification


def classification_relabel(*, actor, request, before: tuple[str, str, str]) -> Classification:
    """The request's labels were changed by `actor` (from `before`); called by the service
    desk inside the change's transaction, with the request's row locked. A request that
    came in without a model takes its labels before the change as the ones to compare."""
    now = timezone.now()
    classification = Classification.objects.filter(request=request).first()
    if classification is None:
        kind, category, urgency = before
        classification = Classification(
            request=request,
            predicted_kind=kind,
            predicted_category=category,
            predicted_urgency=urgency,
        )
    classification.kind = request.kind
    classification.category = request.category
    classification.urgency = request.urgency
    classification.labelled_at = now
    classification.corrected = classification.final != classification.predicted
    classification.corrected_by = actor if classification.corrected else None
    classification.corrected_at = now if classification.corrected else None
    classification.save()
    return classification
