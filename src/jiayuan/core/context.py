"""Per-request facts that services need for audit rows but should not take as arguments."""

import uuid
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class RequestContext:
    request_id: str = ""
    ip: str | None = None


# RequestContext is frozen, so one shared default is safe.
_current: ContextVar[RequestContext] = ContextVar(
    "jiayuan_request",
    default=RequestContext(),  # noqa: B039
)


def current_request() -> RequestContext:
    return _current.get()


def set_request_context(context: RequestContext):
    return _current.set(context)


def reset_request_context(token) -> None:
    _current.reset(token)


def new_request_id() -> str:
    return uuid.uuid4().hex
