"""The JSON API: one NinjaAPI at /api/v1/, a router per app, the same services and
selectors as the pages."""

from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError
from ninja.errors import ValidationError as NinjaValidationError
from ninja.security import HttpBearer, django_auth

from jiayuan.accounts.services import token_authenticate


class TokenAuth(HttpBearer):
    """`Authorization: Bearer jy_…` with a personal API token."""

    def authenticate(self, request, token):
        user = token_authenticate(token)
        if user is not None:
            request.user = user
        return user


api = NinjaAPI(
    title="Jiayuan API",
    version="1",
    urls_namespace="api",
    auth=[TokenAuth(), django_auth],
    docs_url="/docs",
)


def _errors(request, status: int, detail, errors=None):
    body = {"detail": str(detail)}
    if errors is not None:
        body["errors"] = errors
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


@api.exception_handler(NinjaValidationError)
def on_schema_error(request, exc: NinjaValidationError):
    errors = []
    for error in exc.errors:
        location = [str(part) for part in error.get("loc", []) if part not in ("body", "payload")]
        errors.append({"field": ".".join(location) or "__all__", "message": error.get("msg", "")})
    return _errors(request, 422, _("Some fields are not valid."), errors)


@api.exception_handler(ValidationError)
def on_validation_error(request, exc: ValidationError):
    return _errors(request, 422, _("Some fields are not valid."), django_validation_errors(exc))


@api.exception_handler(Http404)
def on_not_found(request, exc):
    return _errors(request, 404, _("Not found."))


@api.exception_handler(PermissionDenied)
def on_forbidden(request, exc):
    return _errors(request, 403, exc or _("You are not allowed to do this."))


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request, exc):
    return _errors(request, 401, _("Sign in or send a valid API token."))


def _register_routers() -> None:
    from jiayuan.accounts.api import router as accounts_router
    from jiayuan.org.api import router as org_router

    api.add_router("/accounts", accounts_router)
    api.add_router("/org", org_router)


_register_routers()
__all__ = ["api"]
