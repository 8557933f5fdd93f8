"""Triage over the API: what the model makes of a text, for a phone app's report form or a
call-centre system, with the same suggestion as the pages."""

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.errors import HttpError

from jiayuan.core.access import get_visible
from jiayuan.core.api_schemas import WRITE_ERRORS, ErrorOut, InputSchema, Reference, Text
from jiayuan.org.models import Estate
from jiayuan.org.selectors import is_resident
from jiayuan.servicedesk.models import DESCRIPTION_MAX
from jiayuan.servicedesk.services import offered_categories
from jiayuan.triage import selectors

router = Router(tags=["triage"])


class ClassifyIn(InputSchema):
    text: Text = Field(max_length=DESCRIPTION_MAX, description="What the owner wrote.")
    estate: Reference | None = Field(
        None, description="Answer only a category that the estate's company offers."
    )


class ClassifyOut(Schema):
    kind: str
    kind_label: str
    category: str
    category_label: str
    urgency: str
    urgency_label: str
    confidence: float = Field(description="0 to 1: the probability of the least sure label.")
    reasons: list[str] = Field(
        description='"rule:<code>" per safety rule that fired (a danger named in the text), '
        '"emergency_threshold" when emergency was chosen below the most likely urgency.'
    )


@router.post("/classify", response={200: ClassifyOut, **WRITE_ERRORS, 503: ErrorOut})
def classify(request, payload: ClassifyIn):
    """Kind, category and urgency for a text, as the report forms suggest them while the
    person types. For any signed-in account: the answer is about the text sent and reveals
    nothing kept; nothing is stored."""
    user = request.auth
    if not payload.text.strip():
        raise ValidationError({"text": _("This field is required.")})
    if payload.estate is not None:
        estate = get_visible(Estate, user, pk=payload.estate)
        categories = {code for code, _label in offered_categories(estate.company_id)}
    elif is_resident(user):
        categories = selectors.owner_categories(user)
    else:
        categories = None
    suggestion = selectors.suggestion_for(payload.text, categories=categories)
    if suggestion is None:
        raise HttpError(503, _("The triage model is not available now."))
    prediction = suggestion.prediction
    return {
        **prediction.as_dict(),
        "kind_label": suggestion.kind_label,
        "category_label": suggestion.category_label,
        "urgency_label": suggestion.urgency_label,
    }
