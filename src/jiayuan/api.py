"""The JSON API: one NinjaAPI at /api/v1/, a router per app, the same services and
selectors as the pages.

Conventions every router follows: lists are paginated by core.api_schemas'
PageNumberPagination; handlers read the caller from `request.auth`; a missing and a
forbidden object both answer 404; errors are {"detail": ..., "errors": [{"field",
"message"}]} in the request's language.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer
from ninja.security import SessionAuth as NinjaSessionAuth
from ninja.utils import check_csrf

from jiayuan.accounts.services import token_authenticate
from jiayuan.core.db import prepared_statements


class TokenAuth(HttpBearer):
    """`Authorization: Bearer jy_…` with a personal API token."""

    def authenticate(self, request, token):
        with prepared_statements():
            user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


class SessionAuth(NinjaSessionAuth):
    """The browser's sign-in session. Unsafe methods need the CSRF token, exactly like a
    page form, so another site cannot make a signed-in browser write through the API."""

    def _get_key(self, request):
        # An anonymous caller is told to sign in (401), not that a CSRF token is missing.
        if not request.user.is_authenticated:
            return None
        if not getattr(request, "_ninja_csrf_exempt", False) and check_csrf(request):
            raise PermissionDenied(
                _("CSRF check failed: send the X-CSRFToken header with the csrftoken cookie.")
            )
        return request.COOKIES.get(self.param_name)


api = NinjaAPI(
    title="Jiayuan API",
    version="1",
    description=(
        "Estates, buildings, units, residents and staff of the Jiayuan property-management "
        "platform. Authenticate with `Authorization: Bearer jy_…` (a personal API token) or "
        "a signed-in browser session (send X-CSRFToken on writes). Lists take `page` and "
        "`page_size` (at most 200) and answer `{items, count}`."
    ),
    urls_namespace="api",
    auth=[TokenAuth(), SessionAuth()],
    docs_url="/docs",
)


def _errors(request, status: int, detail, errors=None):
    body = {"detail": str(detail), "errors": errors or []}
    return api.create_response(request, body, status=status)


def django_validation_errors(exc: ValidationError) -> list[dict]:
    """[{"field": name or "__all__", "message": text}, ...] from a Django ValidationError."""
    if hasattr(exc, "error_dict"):
        return [
            {"field": field, "message": str(message)}
            for field, errors in exc.message_dict.items()
            for message in errors
        ]
    return [{"field": "__all__", "message": str(message)} for message in exc.messages]


# Pydantic speaks English only; these are its usual complaints in the caller's language.
def _schema_message(error: dict) -> str:
    kind = error.get("type", "")
    context = error.get("ctx") or {}
    if kind == "value_error" and "error" in context:
        return str(context["error"])
    if kind == "missing":
        return _("This field is required.")
    if kind in {"int_parsing", "int_type", "int_from_float"}:
        return _("Enter a whole number.")
    if kind in {"decimal_parsing", "decimal_type", "float_parsing", "float_type"}:
        return _("Enter a number.")
    if kind == "finite_number":
        return _("Enter a finite number.")
    if kind == "string_type":
        return _("Enter text.")
    if kind == "string_too_long":
        return _("Use at most %(count)s characters.") % {"count": context.get("max_length")}
    if kind == "greater_than_equal":
        return _("Enter a value of at least %(limit)s.") % {"limit": context.get("ge")}
    if kind == "less_than_equal":
        return _("Enter a value of at most %(limit)s.") % {"limit": context.get("le")}
    if kind.startswith("date"):
        return _("Enter a valid date (YYYY-MM-DD).")
    if kind in {"bool_parsing", "bool_type"}:
        return _("Enter true or false.")
    if kind in {"enum", "literal_error"}:
        return _("Choose one of: %(choices)s.") % {"choices": context.get("expected", "")}
    if kind in {"list_type", "too_long"}:
        return _("Send a list of at most %(count)s items.") % {
            "count": context.get("max_length", "")
        }
    if kind == "extra_forbidden":
        return _("Unknown field.")
    if kind in {"model_attributes_type", "dict_type", "model_type"}:
        return _("Send a JSON object.")
    return error.get("msg", "")


# Where a value came from and the handler argument that held it; neither is a field name.
_LOCATIONS = {"body", "query", "path", "header", "cookie", "form", "file"}
_ARGUMENT_NAMES = {"payload", "filters", "ninja_pagination"}


def _field_name(location) -> str:
    parts = [str(part) for part in location if part not in _LOCATIONS | _ARGUMENT_NAMES]
    return ".".join(parts) or "__all__"


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors = []
    for error in exc.errors:
        field = _field_name(error.get("loc", []))
        if field == "__all__" and error.get("type") == "missing":
            message = _("Send the body as a JSON object.")
        else:
            message = _schema_message(error)
        errors.append({"field": field, "message": message})
    return _errors(request, 422, _("Some fields are not valid."), errors)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    return _errors(request, 422, _("Some fields are not valid."), django_validation_errors(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _errors(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _errors(request, 403, str(exc) or _("You are not allowed to do this."))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _errors(request, 401, _("Sign in or send a valid API token."))


@api.exception_handler(RequestDataTooBig)
def on_too_big(request, exc):
    return _errors(request, 413, _("The request is too large."))


@api.exception_handler(HttpError)
def on_http_error(request, exc: HttpError):
    # Ninja's only 400 is a body it could not read as JSON; to a client that is one more
    # invalid input, so it gets the same 422 shape as every other.
    if exc.status_code == 400:
        message = _("Send the body as a JSON object.")
        return _errors(request, 422, message, [{"field": "__all__", "message": message}])
    return _errors(request, exc.status_code, exc.message)


def _register_routers() -> None:
    from jiayuan.accounts.api import router as accounts_router
    from jiayuan.comms.api import router as comms_router
    from jiayuan.dashboard.api import router as dashboard_router
    from jiayuan.dispatch.api import router as dispatch_router
    from jiayuan.org.api import me_router
    from jiayuan.org.api import router as org_router
    from jiayuan.quality.api import router as quality_router
    from jiayuan.servicedesk import api as servicedesk
    from jiayuan.supervision.api import router as supervision_router
    from jiayuan.training.api import router as training_router
    from jiayuan.triage.api import router as triage_router

    api.add_router("/me", me_router)
    api.add_router("/accounts", accounts_router)
    api.add_router("/org", org_router)
    api.add_router("/notifications", comms_router)
    api.add_router("/requests", servicedesk.router)
    api.add_router("/return-visits", servicedesk.visits_router)
    api.add_router("/photos", servicedesk.photos_router)
    api.add_router("/reply-templates", servicedesk.templates_router)
    api.add_router("/request-categories", servicedesk.categories_router)
    api.add_router("/triage", triage_router)
    api.add_router("/dispatch", dispatch_router)
    api.add_router("/quality", quality_router)
    api.add_router("/supervision", supervision_router)
    api.add_router("/training", training_router)
    api.add_router("/dashboard", dashboard_router)


_register_routers()
__all__ = ["api"]
