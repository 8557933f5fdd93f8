"""The owner portal, on the owner's phone: my requests, report an issue, and one request
with its progress and what the owner may do next (confirm, not resolved, cancel, rate,
add photos).

Only the owner who reported a request sees it here: anyone else, staff included, gets the
404 of a page that is not there for them (staff have the desk's page)."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from jiayuan.core.forms import add_service_errors
from jiayuan.org.selectors import is_resident
from jiayuan.servicedesk import selectors, services
from jiayuan.servicedesk.forms_owner import (
    CancelForm,
    PhotosForm,
    RatingForm,
    ReasonForm,
    ReportForm,
    VersionForm,
)
from jiayuan.servicedesk.views_shared import (
    Step,
    calling,
    panels,
    photos_by_stage,
    run_step,
    timeline_context,
    timeline_fragment,
)
from jiayuan.triage import selectors as triage
from jiayuan.triage.forms import ask_for_suggestions

PAGE_SIZE = 20

OWNER_STEPS = {
    "confirm": Step(
        label=gettext_lazy("Confirm: it is resolved"),
        form=VersionForm,
        run=calling(services.request_confirm),
        done=gettext_lazy("Thank you. The request is closed."),
        style="primary",
    ),
    "reopen": Step(
        label=gettext_lazy("Not resolved"),
        form=ReasonForm,
        run=calling(services.request_reopen, "reason"),
        done=gettext_lazy("Sorry about that. It has been sent back to be handled again."),
    ),
    "cancel": Step(
        label=gettext_lazy("Cancel the request"),
        form=CancelForm,
        run=calling(services.request_cancel, "reason"),
        done=gettext_lazy("The request is cancelled."),
        style="danger",
    ),
    "rate": Step(
        label=gettext_lazy("Rate the service"),
        form=RatingForm,
        run=calling(
            services.request_rate,
            *("overall", "timeliness", "attitude", "quality", "comment", "tags"),
        ),
        done=gettext_lazy("Thank you for your rating."),
        style="primary",
        opened=True,
    ),
    "photos": Step(
        label=gettext_lazy("Add photos"),
        form=PhotosForm,
        run=calling(services.request_add_photos, "photos"),
        done=gettext_lazy("Photos added."),
    ),
}


def owner_page(view):
    """A page of the owner portal: for people with a resident record of their own."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not is_resident(request.user):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _my_request(request, pk):
    """The owner's own request; someone else's, even one they may see, is not here."""
    service_request = selectors.request_detail(request.user, pk)
    if service_request.reporter_user_id != request.user.pk:
        raise Http404
    return service_request


def _offered(user, service_request) -> set[str]:
    offered = {t.action for t in services.allowed_transitions(user, service_request)}
    if services.rating_allowed(user, service_request):
        offered.add("rate")
    if service_request.is_open:
        offered.add("photos")
    return offered & set(OWNER_STEPS)


def _detail_page(request, service_request, *, offered, bound=None):
    context = {
        "req": service_request,
        "rating": getattr(service_request, "rating", None),
        "photo_groups": photos_by_stage(service_request),
        "panels": panels(
            OWNER_STEPS, offered, service_request, "servicedesk:owner_act", bound=bound
        ),
        **timeline_context(
            request.user,
            service_request,
            for_owner=True,
            url=reverse("servicedesk:owner_timeline", args=[service_request.pk]),
        ),
    }
    return render(request, "servicedesk/owner_detail.html", context)


@owner_page
def owner_list(request):
    page = Paginator(selectors.my_requests(request.user), PAGE_SIZE).get_page(
        request.GET.get("page")
    )
    return render(request, "servicedesk/owner_list.html", {"page": page})


@owner_page
def owner_create(request):
    choices = selectors.report_choices(request.user)
    posted = request.method == "POST"
    form = ReportForm(
        request.POST if posted else None, request.FILES if posted else None, choices=choices
    )
    ask_for_suggestions(form, reverse("servicedesk:owner_suggest"))
    if posted and choices.units and form.is_valid():
        report = form.service_kwargs()
        if not report["category"]:
            # Left empty (or no JavaScript filled it): the model chooses from the words.
            offered = services.offered_categories(report["estate"].company_id)
            report["category"] = triage.category_for(
                report["description"], categories={code for code, _label in offered}
            )
        try:
            created = services.request_create(actor=request.user, **report)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request,
                _("Your request %(number)s has been sent. We will keep you posted here.")
                % {"number": created.number},
            )
            return redirect("servicedesk:owner_detail", created.pk)
    context = {"form": form, "has_units": bool(choices.units)}
    return render(request, "servicedesk/owner_create.html", context)


@require_POST
@owner_page
def owner_suggest(request):
    """The suggestion line under the description (htmx), among the categories offered."""
    suggestion = triage.suggestion_for(
        request.POST.get("description", ""), categories=triage.owner_categories(request.user)
    )
    return render(request, "triage/_suggestion.html", {"suggestion": suggestion})


@owner_page
def owner_detail(request, pk):
    service_request = _my_request(request, pk)
    offered = _offered(request.user, service_request)
    return _detail_page(request, service_request, offered=offered)


@require_POST
@owner_page
def owner_act(request, pk, action):
    step = OWNER_STEPS.get(action)
    if step is None:
        raise Http404
    service_request = _my_request(request, pk)
    offered = _offered(request.user, service_request)
    form = step.form(request.POST, request.FILES, prefix=action)
    page_url = reverse("servicedesk:owner_detail", args=[service_request.pk])
    return run_step(
        request,
        service_request,
        step,
        form,
        offered=offered,
        page_url=page_url,
        list_url=reverse("servicedesk:owner_list"),
        show_again=lambda bad: _detail_page(
            request, service_request, offered=offered, bound=(action, bad)
        ),
    )


@require_GET
def owner_timeline(request, pk):
    def load():
        if not is_resident(request.user):
            raise Http404
        return _my_request(request, pk)

    return timeline_fragment(request, load, for_owner=True, url_name="servicedesk:owner_timeline")
