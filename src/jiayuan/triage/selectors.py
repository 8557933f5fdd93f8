"""Reads of the triage app: a suggestion for a text being typed, and the training rows of
what people decided."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db.models import QuerySet

from jiayuan.core.taxonomy import Category
from jiayuan.servicedesk.models import Kind, Status, Urgency
from jiayuan.triage.model import ModelError, Prediction, current
from jiayuan.triage.models import Classification

logger = logging.getLogger(__name__)

# A suggestion is asked for while a person types: a text this long is all it reads.
SUGGEST_MAX = 2000


@dataclass(frozen=True)
class Suggestion:
    prediction: Prediction

    @property
    def kind_label(self) -> str:
        return str(Kind(self.prediction.kind).label)

    @property
    def category_label(self) -> str:
        return str(Category(self.prediction.category).label)

    @property
    def urgency_label(self) -> str:
        return str(Urgency(self.prediction.urgency).label)

    @property
    def percent(self) -> int:
        return round(self.prediction.confidence * 100)

    @property
    def safety_rules(self) -> list[str]:
        """The codes of the safety rules that fired: a danger named in the text."""
        return [reason[5:] for reason in self.prediction.reasons if reason.startswith("rule:")]

    @property
    def is_emergency(self) -> bool:
        return self.prediction.urgency == Urgency.EMERGENCY


def suggestion_for(text: str, *, categories: set[str] | None = None) -> Suggestion | None:
    """The model's labels for a text, its category among `categories` (a company's offered
    ones); None for an empty text or when no model is saved or it cannot be read (the forms
    work without). A page never trains the first model: `jiayuan triage_train` does."""
    text = (text or "").strip()[:SUGGEST_MAX]
    if not text:
        return None
    try:
        triage = current(train_if_missing=False)
    except ModelError:
        logger.exception("The triage model cannot be read: no suggestion")
        return None
    if triage is None:
        return None
    (prediction,) = triage.predict([text], categories=categories)
    return Suggestion(prediction)


def owner_categories(user) -> set[str]:
    """The categories an owner may report in: those of the companies they live with (the
    same list as the report form's)."""
    from jiayuan.org.models import Resident
    from jiayuan.servicedesk.services import offered_categories

    companies = set(Resident.objects.filter(user=user).values_list("company_id", flat=True))
    return {code for company in companies for code, _label in offered_categories(company)}


# Requests whose labels the desk has worked with without changing them: accepted or further
# on, neither withdrawn by the owner nor declined.
CONFIRMED_STATUSES = frozenset(Status) - {Status.SUBMITTED, Status.CANCELLED, Status.DECLINED}


def training_classifications(
    *, confirmed: bool = False, since: datetime | None = None, company: str | None = None
) -> QuerySet:
    """The classifications to learn from, oldest first: the corrected ones, and with
    `confirmed` those whose labels the desk has gone on with too. For the operator's
    export command: not scoped to a user."""
    rows = Classification.objects.select_related("request")
    if confirmed:
        rows = rows.filter(corrected=True) | rows.filter(request__status__in=CONFIRMED_STATUSES)
    else:
        rows = rows.filter(corrected=True)
    if since is not None:
        rows = rows.filter(labelled_at__gte=since)
    if company:
        rows = rows.filter(request__company__code=company)
    return rows.order_by("labelled_at", "id")


def training_row(classification: Classification) -> dict:
    """A line of the corpus' format (corpus.load reads it), with where it came from."""
    return {
        "text": classification.request.description,
        "kind": classification.kind,
        "category": classification.category,
        "urgency": classification.urgency,
        "source": "correction" if classification.corrected else "confirmed",
        "request": classification.request.number,
    }


def category_for(text: str, *, categories: set[str]) -> str:
    """A category for a report sent without one: the suggested one, or "" when there is no
    model (the form then asks for one)."""
    suggestion = suggestion_for(text, categories=categories)
    if suggestion is not None and suggestion.prediction.category in categories:
        return suggestion.prediction.category
    return ""
