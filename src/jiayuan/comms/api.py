"""The caller's notification centre over the API."""

from datetime import datetime

from ninja import Field, Query, Router, Schema
from ninja.pagination import paginate

from jiayuan.comms import selectors, services
from jiayuan.core.api_schemas import (
    READ_ERRORS,
    WRITE_ERRORS,
    InputSchema,
    PageNumberPagination,
    Reference,
)

router = Router(tags=["notifications"])

# One request marks at most a few pages' worth; "all" is the way to clear everything.
MAX_IDS_PER_REQUEST = 500


class NotificationOut(Schema):
    id: int
    kind: str
    title: str
    body: str
    link: str
    estate_id: int | None
    created_at: datetime
    read_at: datetime | None
    is_read: bool


class NotificationFilter(Schema):
    unread: bool = Field(False, description="Only notifications not read yet.")


class MarkReadIn(InputSchema):
    ids: list[Reference] | None = Field(
        None,
        max_length=MAX_IDS_PER_REQUEST,
        description="The notifications to mark read; leave out to mark every one read.",
    )


class MarkedOut(Schema):
    marked: int


class UnreadOut(Schema):
    unread: int


@router.get("", response={200: list[NotificationOut], **READ_ERRORS})
@paginate(PageNumberPagination)
def list_notifications(request, filters: Query[NotificationFilter]):
    return selectors.notifications_for(request.auth, unread_only=filters.unread)


@router.get("/unread-count", response={200: UnreadOut, **READ_ERRORS})
def unread_count(request):
    return {"unread": selectors.unread_count(request.auth)}


@router.post("/read", response={200: MarkedOut, **WRITE_ERRORS})
def mark_read(request, payload: MarkReadIn):
    return {"marked": services.notifications_mark_read(actor=request.auth, ids=payload.ids)}
