"""The triage model: from an owner's free text to kind, category and urgency.

Training uses scikit-learn: one TF-IDF vocabulary of character n-grams (Chinese has no
spaces, and character n-grams shrug off typos) shared by a multinomial logistic regression
per field. What is saved is only what predicting needs — the vocabulary, the IDF weights
and the regression weights — as plain arrays in one `.npz` file, and predicting is a few
array operations in NumPy: loading takes no scikit-learn import (which alone takes about a
second and 100 MB), no pickle is ever loaded, and a batch of texts is scored in one pass.

Urgency is recall-first: emergency is chosen once its probability reaches
`EMERGENCY_THRESHOLD`, even when another urgency is more likely; then the explicit safety
rules (`safety.py`) force emergency on every text that names a danger.

Confidence is the lowest probability among the three labels returned (the weakest field
decides how far the whole answer can be trusted); a label set by a safety rule counts as
certain.
"""

from __future__ import annotations

import io
import json
import os
import tempfile
import threading
from collections import Counter
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
from django.conf import settings
from django.utils.translation import gettext as _

from jiayuan.triage import safety
from jiayuan.triage.corpus import FIELDS, Example
from jiayuan.triage.text import normalize

FORMAT = 1
NGRAM_RANGE = (1, 2)
# Chosen on cross-validation within the training split (docs/decisions.md).
REGULARISATION = 50.0
MIN_DOCUMENT_FREQUENCY = 1
MAX_FEATURES = 80_000
EMERGENCY_THRESHOLD = 0.3
BATCH = 1024


class ModelError(RuntimeError):
    pass


def ngrams(normalized: str) -> list[str]:
    """Character n-grams of a normalised text, without those made only of a space."""
    low, high = NGRAM_RANGE
    grams = []
    for n in range(low, high + 1):
        grams.extend(normalized[i : i + n] for i in range(len(normalized) - n + 1))
    return [gram for gram in grams if not gram.isspace()]


@dataclass(frozen=True)
class Prediction:
    kind: str
    category: str
    urgency: str
    confidence: float
    # Why a label is not simply the model's: "rule:<code>" per safety rule that fired,
    # "emergency_threshold" when emergency was chosen below the most likely urgency.
    reasons: tuple[str, ...] = ()

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "category": self.category,
            "urgency": self.urgency,
            "confidence": self.confidence,
            "reasons": list(self.reasons),
        }


@dataclass
class Triage:
    vocabulary: dict[str, int]
    idf: np.ndarray  # (features + 1,), the last one a zero for texts with no known n-gram
    weights: np.ndarray  # (features + 1, all classes), fields side by side
    bias: np.ndarray  # (all classes,)
    labels: dict[str, tuple[str, ...]]  # per field, in the column order of `weights`
    metadata: dict = field(default_factory=dict)
    emergency_threshold: float = EMERGENCY_THRESHOLD

    def predict(
        self, texts: list[str], *, categories: Collection[str] | None = None
    ) -> list[Prediction]:
        """`categories`: the only categories to answer (a company's offered ones); the
        confidence stays the probability among all categories, so it is never inflated."""
        predictions = []
        for start in range(0, len(texts), BATCH):
            predictions.extend(self._predict_batch(texts[start : start + BATCH], categories))
        return predictions

    def probabilities(self, normalized: list[str]) -> dict[str, np.ndarray]:
        """Per field, a (texts, labels) array of probabilities."""
        scores = self._scores(normalized)
        result, column = {}, 0
        for name in FIELDS:
            width = len(self.labels[name])
            part = scores[:, column : column + width]
            part = np.exp(part - part.max(axis=1, keepdims=True))
            result[name] = part / part.sum(axis=1, keepdims=True)
            column += width
        return result

    def _scores(self, normalized: list[str]) -> np.ndarray:
        vocabulary, empty = self.vocabulary, len(self.idf) - 1
        indices: list[int] = []
        counts: list[int] = []
        starts: list[int] = []
        for text in normalized:
            starts.append(len(indices))
            before = len(indices)
            for gram, count in Counter(ngrams(text)).items():
                index = vocabulary.get(gram)
                if index is not None:
                    indices.append(index)
                    counts.append(count)
            if len(indices) == before:
                indices.append(empty)
                counts.append(1)
        index_array = np.asarray(indices, dtype=np.int64)
        offsets = np.asarray(starts, dtype=np.int64)
        # TF-IDF as scikit-learn computes it (sublinear tf, l2 per text).
        values = (1.0 + np.log(np.asarray(counts, dtype=np.float32))) * self.idf[index_array]
        norms = np.sqrt(np.add.reduceat(values * values, offsets))
        rows = np.repeat(np.arange(len(normalized)), np.diff(np.append(offsets, len(values))))
        values /= np.maximum(norms, 1e-12)[rows]
        contributions = self.weights[index_array] * values[:, None]
        return np.add.reduceat(contributions, offsets, axis=0) + self.bias

    def _predict_batch(
        self, texts: list[str], categories: Collection[str] | None = None
    ) -> list[Prediction]:
        normalized = [normalize(text) for text in texts]
        probabilities = self.probabilities(normalized)
        if categories is not None:
            offered = np.array([label in categories for label in self.labels["category"]])
            if offered.any():
                probabilities["category"] = np.where(offered, probabilities["category"], -1.0)
        urgencies = self.labels["urgency"]
        emergency = urgencies.index("emergency") if "emergency" in urgencies else None
        predictions = []
        for row, text in enumerate(normalized):
            chosen, certainty, reasons = {}, {}, []
            for name in FIELDS:
                column = int(probabilities[name][row].argmax())
                if (
                    name == "urgency"
                    and emergency is not None
                    and column != emergency
                    and probabilities[name][row, emergency] >= self.emergency_threshold
                ):
                    column = emergency
                    reasons.append("emergency_threshold")
                chosen[name] = self.labels[name][column]
                certainty[name] = float(probabilities[name][row, column])
            fired = safety.matches(text)
            outcome = safety.enforce(chosen["kind"], chosen["category"], chosen["urgency"], fired)
            if categories is not None and outcome.category not in categories:
                # The danger's category is not offered: the urgency still says emergency.
                outcome = replace(
                    outcome,
                    category=chosen["category"],
                    forced=outcome.forced - {"category"},
                )
            reasons.extend(f"rule:{rule.code}" for rule in fired)
            confidence = min(1.0 if name in outcome.forced else certainty[name] for name in FIELDS)
            predictions.append(
                Prediction(
                    kind=outcome.kind,
                    category=outcome.category,
                    urgency=outcome.urgency,
                    confidence=round(confidence, 3),
                    reasons=tuple(reasons),
                )
            )
        return predictions

    # Persistence: plain arrays and JSON, loaded without pickle.

    def save(self, path: Path) -> None:
        """Write the model next to its final place, then move it there in one step, so a
        reader never sees half a file; a JSON copy of the metadata is kept for people."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        vocabulary = np.empty(len(self.vocabulary), dtype=f"<U{NGRAM_RANGE[1]}")
        for gram, index in self.vocabulary.items():
            vocabulary[index] = gram
        header = {
            "format": FORMAT,
            "labels": {name: list(values) for name, values in self.labels.items()},
            "emergency_threshold": self.emergency_threshold,
            "metadata": self.metadata,
        }
        buffer = io.BytesIO()
        np.savez(
            buffer,
            header=np.array(json.dumps(header, ensure_ascii=False)),
            vocabulary=vocabulary,
            idf=self.idf,
            weights=self.weights,
            bias=self.bias,
        )
        _replace(path, buffer.getvalue())
        _replace(
            path.with_suffix(".json"),
            json.dumps(self.metadata, ensure_ascii=False, indent=2).encode() + b"\n",
        )

    @classmethod
    def load(cls, path: Path) -> Triage:
        try:
            with np.load(Path(path), allow_pickle=False) as arrays:
                header = json.loads(str(arrays["header"]))
                if header.get("format") != FORMAT:
                    raise ModelError(
                        _("The triage model %(path)s is from another version; train it again.")
                        % {"path": path}
                    )
                vocabulary = arrays["vocabulary"].tolist()
                return cls(
                    vocabulary=dict(zip(vocabulary, range(len(vocabulary)), strict=True)),
                    idf=arrays["idf"],
                    weights=arrays["weights"],
                    bias=arrays["bias"],
                    labels={name: tuple(values) for name, values in header["labels"].items()},
                    metadata=header["metadata"],
                    emergency_threshold=header["emergency_threshold"],
                )
        except (OSError, ValueError, KeyError) as exc:
            raise ModelError(
                _("The triage model %(path)s cannot be read: %(error)s")
                % {"path": path, "error": exc}
            ) from exc


def _replace(path: Path, content: bytes) -> None:
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    try:
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(content)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def train(examples: list[Example], *, metadata: dict | None = None) -> Triage:
    """A model fitted on the examples given (the caller passes the training split)."""
    # scikit-learn is needed only here: predicting runs on the exported arrays.
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    texts = [normalize(example.text) for example in examples]
    vectorizer = TfidfVectorizer(
        analyzer=ngrams,
        sublinear_tf=True,
        min_df=MIN_DOCUMENT_FREQUENCY,
        max_features=MAX_FEATURES,
        dtype=np.float32,
    )
    features = vectorizer.fit_transform(texts)
    columns, biases, labels = [], [], {}
    for name in FIELDS:
        target = [example.label(name) for example in examples]
        if len(set(target)) < 2:
            raise ModelError(
                _("The corpus needs at least two different values of %(field)s.") % {"field": name}
            )
        classifier = LogisticRegression(C=REGULARISATION, max_iter=3000)
        classifier.fit(features, target)
        coefficients, intercept = classifier.coef_, classifier.intercept_
        if len(classifier.classes_) == 2:
            # A two-class regression scores only the second class; as a softmax the first
            # class scores zero.
            coefficients = np.vstack([np.zeros_like(coefficients), coefficients])
            intercept = np.concatenate([[0.0], intercept])
        columns.append(coefficients.T)
        biases.append(intercept)
        labels[name] = tuple(str(label) for label in classifier.classes_)
    size = len(vectorizer.vocabulary_)
    weights = np.vstack([np.hstack(columns), np.zeros((1, sum(len(v) for v in labels.values())))])
    idf = np.append(vectorizer.idf_, 0.0)
    return Triage(
        vocabulary={gram: int(index) for gram, index in vectorizer.vocabulary_.items()},
        idf=idf.astype(np.float32),
        weights=weights.astype(np.float32),
        bias=np.concatenate(biases).astype(np.float32),
        labels=labels,
        metadata={
            "trained_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "training_examples": len(examples),
            "features": size,
            "ngram_range": list(NGRAM_RANGE),
            "regularisation": REGULARISATION,
            **(metadata or {}),
        },
    )


def default_path() -> Path:
    return Path(settings.DATA_DIR) / "triage" / "model.npz"


_loaded: dict[Path, tuple[int, Triage]] = {}
_lock = threading.Lock()


def current(path: Path | None = None, *, train_if_missing: bool = True) -> Triage | None:
    """The saved model, loaded once per process and again after it is replaced; when there
    is none yet, one is trained from the shipped corpus and saved (a few seconds), or, with
    `train_if_missing=False` (intake, inside a transaction), None is answered."""
    from jiayuan.triage import services

    path = Path(path or default_path())
    with _lock:
        if not path.exists():
            if not train_if_missing:
                return None
            services.model_train_first(path=path)
        stamp = path.stat().st_mtime_ns
        cached = _loaded.get(path)
        if cached is None or cached[0] != stamp:
            cached = (stamp, Triage.load(path))
            _loaded[path] = cached
        return cached[1]
