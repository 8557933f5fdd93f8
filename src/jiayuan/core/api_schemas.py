"""Pieces every API router shares: the error body, the page-number pagination, and input
types that keep hostile or absurd values away from the database."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Any

from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _
from ninja import Field, Schema
from ninja.pagination import PaginationBase
from pydantic import AfterValidator, BeforeValidator, ConfigDict, Strict

MAX_PAGE_SIZE = 200
DEFAULT_PAGE_SIZE = 50
# Deep pages are never useful to a person and make the database skip millions of rows.
MAX_PAGE = 10_000
# Both SQLite and PostgreSQL keep ids in signed 64-bit integers; a larger number would
# crash the database driver instead of simply matching nothing.
MAX_ID = 2**63 - 1
ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


def _without_nul(value: str) -> str:
    # PostgreSQL refuses NUL characters in text, so they are turned away at the door.
    if "\x00" in value:
        raise ValueError(_("Remove the invisible NUL characters from this text."))
    return value


def _iso_date_text(value):
    # Pydantic would read a bare number (or "0" in a query) as seconds since 1970; a date
    # must be written out.
    if not isinstance(value, str) or not ISO_DATE.fullmatch(value):
        raise ValueError(_("Enter a valid date (YYYY-MM-DD)."))
    return value


def _aware(value: datetime) -> datetime:
    # A time without an offset is read in the product's time zone, as a person means it.
    return timezone.make_aware(value) if timezone.is_naive(value) else value


ObjectId = Annotated[int, Field(ge=1, le=MAX_ID)]
# In a JSON body a number is written as a number: true or "7" there is a client's mistake.
Number = Annotated[int, Strict()]
Reference = Annotated[int, Strict(), Field(ge=1, le=MAX_ID)]
Day = Annotated[date, BeforeValidator(_iso_date_text)]
Moment = Annotated[datetime, AfterValidator(_aware)]
Text = Annotated[str, AfterValidator(_without_nul)]
SearchText = Annotated[str, Field(max_length=100), AfterValidator(_without_nul)]


class InputSchema(Schema):
    """A request body. Unknown keys are refused, so a misspelt field is reported instead of
    silently doing nothing."""

    model_config = ConfigDict(extra="forbid")


class FieldError(Schema):
    field: str = Field(description='The input field, or "__all__" for the whole request.')
    message: str


class ErrorOut(Schema):
    detail: str
    errors: list[FieldError] = Field(default_factory=list)


class PersonOut(Schema):
    """A staff member named on a record (an assignee, an inspector, a trainee), the same
    two fields in every router so clients read people one way."""

    id: int
    name: str

    @staticmethod
    def resolve_name(obj):
        return obj.get_short_name() or obj.get_username()


# The error answers each kind of operation can give, for the OpenAPI description.
READ_ERRORS = {401: ErrorOut, 404: ErrorOut, 422: ErrorOut}
WRITE_ERRORS = {401: ErrorOut, 403: ErrorOut, 404: ErrorOut, 422: ErrorOut}


def _with_unique_order(queryset: QuerySet) -> QuerySet:
    """Rows that tie on the ordering could move between pages from one request to the
    next; the primary key as the last key keeps every row on exactly one page."""
    ordering = list(queryset.query.order_by or queryset.model._meta.ordering)
    if any(key in {"pk", "-pk", "id", "-id"} for key in ordering):
        return queryset
    return queryset.order_by(*ordering, "pk")


@dataclass(frozen=True)
class ReadPage:
    """What a list view returns when a page of its rows is better read another way than as
    models (as values, worded for the answer): the rows to page through, and the reading."""

    rows: QuerySet
    read: Callable[[QuerySet], list]


class PageNumberPagination(PaginationBase):
    """?page=&page_size= → {"items": [...], "count": N}; the one pagination of every list."""

    class Input(Schema):
        page: int = Field(1, ge=1, le=MAX_PAGE)
        page_size: int = Field(DEFAULT_PAGE_SIZE, ge=1, le=MAX_PAGE_SIZE)

    class Output(Schema):
        items: list[Any]
        count: int

    def paginate_queryset(self, queryset, pagination: Input, request, **params):
        read = list
        if isinstance(queryset, ReadPage):
            queryset, read = queryset.rows, queryset.read
        queryset = _with_unique_order(queryset)
        offset = (pagination.page - 1) * pagination.page_size
        return {
            "items": read(queryset[offset : offset + pagination.page_size]),
            "count": self._items_count(queryset),
        }
