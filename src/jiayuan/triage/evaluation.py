"""How well a model (with its safety rules) labels requests it never trained on."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from django.utils.translation import gettext as _

from jiayuan.triage.corpus import FIELDS, LABELS, Example
from jiayuan.triage.model import Triage

# The bar for the held-out split.
MIN_KIND_ACCURACY = 0.90
MIN_CATEGORY_ACCURACY = 0.90
MIN_EMERGENCY_RECALL = 1.0


@dataclass(frozen=True)
class Evaluation:
    examples: int
    accuracy: dict[str, float]
    # Per field, (labelled, predicted) -> count.
    confusion: dict[str, Counter]
    emergencies: int
    # Emergencies labelled so and predicted so over all labelled so; None without any.
    emergency_recall: float | None
    false_emergencies: int
    # (text, predicted urgency) of every emergency predicted as something else.
    missed: list[tuple[str, str]]

    def summary(self) -> dict:
        return {
            "examples": self.examples,
            "accuracy": {name: round(value, 4) for name, value in self.accuracy.items()},
            "emergencies": self.emergencies,
            "emergency_recall": self.emergency_recall,
            "false_emergencies": self.false_emergencies,
        }

    def shortfalls(
        self,
        *,
        min_kind: float = MIN_KIND_ACCURACY,
        min_category: float = MIN_CATEGORY_ACCURACY,
        min_emergency_recall: float = MIN_EMERGENCY_RECALL,
    ) -> list[str]:
        """What falls below the bar, in words; empty when everything meets it."""
        found = []
        for name, minimum in (("kind", min_kind), ("category", min_category)):
            if self.accuracy[name] < minimum:
                found.append(
                    _("%(field)s accuracy %(value).3f is below %(minimum).3f")
                    % {"field": name, "value": self.accuracy[name], "minimum": minimum}
                )
        if self.emergency_recall is None:
            found.append(_("the held-out split holds no emergency to measure recall on"))
        elif self.emergency_recall < min_emergency_recall:
            found.append(
                _("emergency recall %(value).3f is below %(minimum).3f")
                % {"value": self.emergency_recall, "minimum": min_emergency_recall}
            )
        return found


def evaluate(triage: Triage, examples: list[Example]) -> Evaluation:
    predictions = triage.predict([example.text for example in examples])
    confusion = {name: Counter() for name in FIELDS}
    for example, prediction in zip(examples, predictions, strict=True):
        for name in FIELDS:
            confusion[name][example.label(name), getattr(prediction, name)] += 1
    total = len(examples)
    accuracy = {
        name: sum(n for (truth, guess), n in confusion[name].items() if truth == guess)
        / max(total, 1)
        for name in FIELDS
    }
    emergencies = [
        (example, prediction)
        for example, prediction in zip(examples, predictions, strict=True)
        if example.urgency == "emergency"
    ]
    missed = [(e.text, p.urgency) for e, p in emergencies if p.urgency != "emergency"]
    false_emergencies = sum(
        1
        for example, prediction in zip(examples, predictions, strict=True)
        if prediction.urgency == "emergency" and example.urgency != "emergency"
    )
    return Evaluation(
        examples=total,
        accuracy=accuracy,
        confusion=confusion,
        emergencies=len(emergencies),
        emergency_recall=(1 - len(missed) / len(emergencies)) if emergencies else None,
        false_emergencies=false_emergencies,
        missed=missed,
    )


def _short_names(labels: tuple[str, ...]) -> list[str]:
    short = [label[:4] for label in labels]
    return short if len(set(short)) == len(short) else list(labels)


def confusion_table(evaluation: Evaluation, name: str) -> list[str]:
    """Rows are the labels in the corpus, columns the predictions (first four letters)."""
    labels = tuple(
        label for label in LABELS[name] if any(label in pair for pair in evaluation.confusion[name])
    )
    columns = _short_names(labels)
    width = max(5, *(len(column) + 1 for column in columns))
    head = max(len(label) for label in labels) + 2
    lines = [" " * head + "".join(column.rjust(width) for column in columns)]
    for truth in labels:
        counts = (evaluation.confusion[name][truth, guess] for guess in labels)
        lines.append(truth.ljust(head) + "".join(str(n or ".").rjust(width) for n in counts))
    return lines


def report(evaluation: Evaluation) -> list[str]:
    lines = [_("Requests evaluated: %(count)d") % {"count": evaluation.examples}, _("Accuracy:")]
    lines.extend(f"  {name:<10} {evaluation.accuracy[name]:.3f}" for name in FIELDS)
    if evaluation.emergency_recall is None:
        lines.append(_("Emergency recall: no emergency among these requests"))
    else:
        lines.append(
            _("Emergency recall: %(recall).3f (%(found)d of %(total)d); false alarms: %(false)d")
            % {
                "recall": evaluation.emergency_recall,
                "found": evaluation.emergencies - len(evaluation.missed),
                "total": evaluation.emergencies,
                "false": evaluation.false_emergencies,
            }
        )
    for text, urgency in evaluation.missed:
        lines.append(
            _("  missed emergency (predicted %(urgency)s): %(text)s")
            % {"urgency": urgency, "text": text}
        )
    for name in FIELDS:
        lines.append("")
        lines.append(
            _("Confusion matrix of %(field)s (rows: labelled, columns: predicted):")
            % {"field": name}
        )
        lines.extend(confusion_table(evaluation, name))
    return lines
