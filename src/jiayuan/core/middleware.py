import re

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import validate_ipv46_address

from jiayuan.core.context import (
    RequestContext,
    new_request_id,
    reset_request_context,
    set_request_context,
)

_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{8,64}$")
ESTATE_SESSION_KEY = "jiayuan_estate_id"
# Where the API is served. Its calls name their estate (?estate=), so they need no estate
# chosen in the switcher.
API_PREFIX = "/api/"


def _client_ip(request) -> str | None:
    candidate = request.META.get("REMOTE_ADDR", "")
    if getattr(settings, "SECURE_PROXY_SSL_HEADER", None):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            candidate = forwarded.split(",")[0].strip()
    try:
        validate_ipv46_address(candidate)
    except ValidationError:
        return None
    return candidate


class RequestContextMiddleware:
    """Gives each request an id (kept from a trusted proxy's header) and records the IP."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        incoming = request.META.get("HTTP_X_REQUEST_ID", "")
        request_id = incoming if _REQUEST_ID.match(incoming) else new_request_id()
        request.request_id = request_id
        token = set_request_context(RequestContext(request_id=request_id, ip=_client_ip(request)))
        try:
            response = self.get_response(request)
        finally:
            reset_request_context(token)
        response["X-Request-ID"] = request_id
        return response


class CurrentEstateMiddleware:
    """`request.estate`: the estate a staff member is working in (the estate switcher), on
    the pages. The API's calls skip the two queries that find it (3 ms of a list's 30)."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        request.estate = None
        request.estates = []
        user = getattr(request, "user", None)
        on_page = not request.path_info.startswith(API_PREFIX)
        if on_page and user is not None and user.is_authenticated:
            from jiayuan.org.selectors import current_estate_for, estates_for_switcher

            request.estates = estates_for_switcher(user)
            request.estate = current_estate_for(
                request.estates, request.session.get(ESTATE_SESSION_KEY)
            )
        return self.get_response(request)
