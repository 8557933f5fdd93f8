"""Dispatch over the API: ranked technicians for a request, and the grab pool for a
technician's phone app, through the same selectors and services as the pages."""

from datetime import datetime

from django.core.exceptions import PermissionDenied
from django.utils.translation import gettext as _
from ninja import Field, Router, Schema
from ninja.responses import Status

from jiayuan.core.access import VIEW, get_visible
from jiayuan.core.api_schemas import READ_ERRORS, WRITE_ERRORS, ErrorOut
from jiayuan.dispatch import selectors, services
from jiayuan.servicedesk.models import ServiceRequest
from jiayuan.servicedesk.services import RequestChanged, allowed_transitions

router = Router(tags=["dispatch"])


class SuggestionOut(Schema):
    technician: int
    name: str
    able: bool
    refusal: str | None = Field(description="no_skill, off_duty or full; null when able.")
    skill_level: int
    on_duty: bool
    walk_minutes: float
    arrival_minutes: float = Field(description="Expected minutes to arrive, orders in hand first.")
    load: int
    cap: int
    in_cover: bool = Field(description="The request is in a building they cover.")
    late: bool = Field(description="The expected arrival misses the SLA's due time.")


class OfferOut(Schema):
    id: int
    request: int
    number: str
    category: str
    urgency: str
    description: str
    expires_at: datetime


class GrabbedOut(Schema):
    request: int
    number: str
    status: str


@router.get(
    "/requests/{request_id}/suggestions", response={200: list[SuggestionOut], **READ_ERRORS}
)
def suggestions(request, request_id: int):
    """The estate's technicians for this request, the best first, each with the reasons
    (for the people who may dispatch it)."""
    service_request = get_visible(ServiceRequest, request.auth, VIEW, pk=request_id)
    if not any(t.action == "dispatch" for t in allowed_transitions(request.auth, service_request)):
        raise PermissionDenied(_("You are not allowed to do this."))
    return [
        {
            "technician": row.profile.user_id,
            "name": str(row.profile),
            "able": row.able,
            "refusal": row.suggestion.refusal,
            "skill_level": row.suggestion.level,
            "on_duty": row.suggestion.on_duty,
            "walk_minutes": row.suggestion.walk,
            "arrival_minutes": row.suggestion.arrival,
            "load": row.suggestion.load,
            "cap": row.suggestion.cap,
            "in_cover": row.suggestion.in_cover,
            "late": row.suggestion.late,
        }
        for row in selectors.suggestions(service_request)
    ]


@router.get("/pool", response={200: list[OfferOut], 401: ErrorOut})
def pool(request):
    """The orders this technician can grab now."""
    return [
        {
            "id": offer.pk,
            "request": offer.request_id,
            "number": offer.request.number,
            "category": offer.request.category,
            "urgency": offer.request.urgency,
            "description": offer.request.description,
            "expires_at": offer.expires_at,
        }
        for offer in services.pool_for(request.auth)
    ]


@router.post("/pool/{offer_id}/grab", response={200: GrabbedOut, **WRITE_ERRORS, 409: ErrorOut})
def grab(request, offer_id: int):
    """抢单: the first able technician gets the order; anyone after them gets a 409."""
    try:
        taken = services.grab(actor=request.auth, offer_id=offer_id)
    except RequestChanged as exc:
        return Status(409, {"detail": " ".join(exc.messages), "errors": []})
    return {"request": taken.pk, "number": taken.number, "status": taken.status}
