"""The labelled corpus of owner requests the model learns from, and its held-out split.

The split is decided per text by a hash of its normalised form, not by shuffling: a text
stays on its side of the split for ever, so adding lines never moves an old line into
training, a model trained earlier has never seen any held-out line, and the same text
written twice can never sit on both sides.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

from django.utils.translation import gettext as _

from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk.models import Kind, Urgency
from jiayuan.triage.text import normalize

SHIPPED_CORPUS = Path(__file__).resolve().parent / "corpus" / "owner_requests.jsonl"
# Percent of the texts held out; the salt names the split so a new one can be drawn on purpose.
HELD_OUT_PERCENT = 20
SPLIT_SALT = "jiayuan-triage-split-1"
FIELDS = ("kind", "category", "urgency")
LABELS = {
    "kind": tuple(Kind.values),
    "category": tuple(Category.values),
    "urgency": tuple(Urgency.values),
}


class CorpusError(ValueError):
    pass


@dataclass(frozen=True)
class Example:
    text: str
    kind: str
    category: str
    urgency: str

    def label(self, field: str) -> str:
        return getattr(self, field)


def load(path: Path = SHIPPED_CORPUS) -> list[Example]:
    """Every line of a JSON-lines corpus; a line with an unknown label stops the load with
    its line number (a typo in a label would otherwise teach the model a new class)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except FileNotFoundError as exc:
        raise CorpusError(_("The corpus %(path)s does not exist.") % {"path": path}) from exc
    examples = []
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
            example = Example(*(str(row[name]) for name in ("text", *FIELDS)))
        except (ValueError, KeyError, TypeError) as exc:
            raise CorpusError(
                _("Line %(line)d of %(path)s is not a labelled request.")
                % {"line": number, "path": path}
            ) from exc
        for field in FIELDS:
            if example.label(field) not in LABELS[field]:
                raise CorpusError(
                    _("Line %(line)d of %(path)s has an unknown %(field)s: %(value)s.")
                    % {"line": number, "path": path, "field": field, "value": example.label(field)}
                )
        examples.append(example)
    return examples


def is_held_out(text: str) -> bool:
    digest = hashlib.sha256(f"{SPLIT_SALT}:{normalize(text)}".encode()).digest()
    return int.from_bytes(digest[:4], "big") % 100 < HELD_OUT_PERCENT


def split(examples: list[Example]) -> tuple[list[Example], list[Example]]:
    """(training, held out)."""
    train, held_out = [], []
    for example in examples:
        (held_out if is_held_out(example.text) else train).append(example)
    return train, held_out


def digest(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
