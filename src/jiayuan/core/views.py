from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from jiayuan.core.access import VIEW, has_role_anywhere
from jiayuan.core.forms import AuditFilterForm
from jiayuan.core.middleware import ESTATE_SESSION_KEY
from jiayuan.core.models import AuditEvent
from jiayuan.core.selectors import audit_events, home_page

AUDIT_PAGE_SIZE = 50
API_PREFIX = "/api/"


def staff_page(view):
    """A page for people who work in an estate. Residents and accounts without a role get
    the 404 of a page that is not there for them. Shared by every app's staff pages."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if request.estate is None:
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def safe_next(request, default: str) -> str:
    """The `next` the request names if it stays on this site, else the default."""
    candidate = request.POST.get("next") or request.GET.get("next") or ""
    if url_has_allowed_host_and_scheme(
        candidate, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return candidate
    return default


def safe_referer(request) -> str:
    """The page the request came from if it is on this site, else ""."""
    referer = request.headers.get("referer", "")
    if url_has_allowed_host_and_scheme(
        referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return referer
    return ""


@login_required
def home(request):
    return render(request, "core/home.html", {"home": home_page(request.user, request.estate)})


@login_required
@require_POST
def switch_estate(request):
    chosen = request.POST.get("estate", "")
    estate = next((e for e in request.estates if str(e.pk) == chosen), None)
    if estate is None:
        raise Http404
    request.session[ESTATE_SESSION_KEY] = estate.pk
    return redirect(safe_next(request, reverse("core:home")))


@login_required
@require_GET
def audit(request):
    if not has_role_anywhere(request.user, AuditEvent.access.staff[VIEW]):
        raise Http404
    form = AuditFilterForm(request.GET or None, estates=request.estates)
    page = None
    if not form.is_bound or form.is_valid():
        filters = form.cleaned_data if form.is_bound else {}
        events = audit_events(request.user, **filters)
        page = Paginator(events, AUDIT_PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "core/audit.html", {"form": form, "page": page})


@require_GET
def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"status": "ok"})


def _error_page(request, status: int):
    # API clients get the API's JSON error shape even for paths no route matches.
    if request.path.startswith(API_PREFIX):
        detail = _("Not found.") if status == 404 else _("You are not allowed to do this.")
        return JsonResponse({"detail": str(detail), "errors": []}, status=status)
    return render(request, "core/error.html", {"status": status}, status=status)


def not_found(request, exception=None):
    return _error_page(request, 404)


def forbidden(request, exception=None):
    return _error_page(request, 403)


def csrf_failure(request, reason=""):
    """A form posted with a missing or stale CSRF token, most often a page left open past a
    sign-out or a session expiry: say so and offer the page again, rather than Django's
    technical page. The reason stays out of the page; it is for the log."""
    return render(
        request,
        "core/error.html",
        {"status": 403, "form_expired": True, "retry_url": safe_referer(request)},
        status=403,
    )
