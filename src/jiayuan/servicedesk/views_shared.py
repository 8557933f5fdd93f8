"""What the owner's and the technician's pages share: one step on a request posted from a
button or a small form, the panels that show those steps, the timeline fragment, and the
photos, served only to people who may see their request."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django import forms
from django.contrib import messages
from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import ValidationError
from django.http import FileResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.functional import Promise
from django.views.decorators.http import require_GET
from django_htmx.http import HttpResponseStopPolling

from jiayuan.core.forms import add_service_errors
from jiayuan.servicedesk import selectors, timeline
from jiayuan.servicedesk.models import Photo, ServiceRequest
from jiayuan.servicedesk.services import RequestChanged

# The timeline of an open request refreshes itself this often (seconds).
TIMELINE_REFRESH = 30


@dataclass(frozen=True)
class Step:
    """One thing a person may do to a request from a page: the button, the form it posts,
    the one service call it makes and the message shown when it worked."""

    label: Promise
    form: type[forms.Form]
    run: Callable[[object, ServiceRequest, dict], object]
    done: Promise
    style: str = ""  # "primary", "danger" or "" (the button's look)
    opened: bool = False  # a form shown open rather than behind its button
    # Where to go when it worked: the request's page, or the list (for a step after which
    # the request is no longer the person's to work on).
    then_list: bool = False


def calling(service, *fields: str) -> Callable[[object, ServiceRequest, dict], object]:
    """A step's `run` when the form's fields are the service's keyword arguments: the
    person as `actor`, the request, the page's version as `expected_version`, and `fields`."""

    def run(user, service_request, data):
        chosen = {name: data[name] for name in fields}
        return service(
            actor=user, request=service_request, expected_version=data["version"], **chosen
        )

    return run


@dataclass
class Panel:
    """A step ready to show: its form, carrying the version the page shows."""

    action: str
    step: Step
    form: forms.Form
    url: str
    errors: list = field(default_factory=list)

    @property
    def has_fields(self) -> bool:
        return bool(self.form.visible_fields())

    @property
    def is_open(self) -> bool:
        return self.step.opened or self.form.is_bound


def panels(
    steps: dict[str, Step],
    offered: Iterable[str],
    request: ServiceRequest,
    url_name: str,
    bound: tuple[str, forms.Form] | None = None,
) -> list[Panel]:
    """The panels of the offered steps, in the order of `steps`; a form posted with bad
    input takes the place of its empty one, to show its messages."""
    offered = set(offered)
    shown = []
    for action, step in steps.items():
        if action not in offered:
            continue
        if bound is not None and bound[0] == action:
            form = bound[1]
        else:
            form = step.form(initial={"version": request.version}, prefix=action)
        shown.append(Panel(action, step, form, reverse(url_name, args=[request.pk, action])))
    return shown


def run_step(
    request,
    service_request: ServiceRequest,
    step: Step,
    form: forms.Form,
    *,
    offered: Iterable[str],
    page_url: str,
    list_url: str,
    show_again: Callable[[forms.Form], object],
):
    """Run a posted step. Someone else's change meanwhile (RequestChanged) or a refusal
    that concerns the request rather than the input is a flash on the request's page;
    bad input shows the page again with the form's messages (if the step is still offered,
    else as a flash). Nothing is written unless the service call succeeds."""
    action = form.prefix
    if form.is_valid():
        try:
            step.run(request.user, service_request, form.cleaned_data)
        except ValidationError as exc:
            refused = service_refusal(request, form, exc, page_url)
            if refused is not None:
                return refused
        else:
            messages.success(request, step.done)
            return redirect(list_url if step.then_list else page_url)
    if action not in set(offered):
        messages.error(request, " ".join(_messages_of(form)))
        return redirect(page_url)
    return show_again(form)


def service_refusal(request, form: forms.Form, exc: ValidationError, page_url: str):
    """A service's ValidationError on a page. Someone else's change (RequestChanged) or a
    refusal about the request itself is a flash on the request's page: the redirect is
    returned. Messages about the input go onto the form's fields: None is returned, and the
    caller shows the form again."""
    if isinstance(exc, RequestChanged) or not hasattr(exc, "error_dict"):
        messages.error(request, " ".join(exc.messages))
        return redirect(page_url)
    add_service_errors(form, exc)
    return None


def _messages_of(form: forms.Form) -> list[str]:
    return [message for errors in form.errors.values() for message in errors]


def photos_by_stage(service_request: ServiceRequest) -> list[tuple[str, list[Photo]]]:
    """The request's photos as (stage label, photos), in the order of the work."""
    photos = list(service_request.photos.all())
    return [
        (label, [p for p in photos if p.stage == stage])
        for stage, label in Photo.Stage.choices
        if any(p.stage == stage for p in photos)
    ]


def timeline_context(
    user, service_request: ServiceRequest, *, for_owner: bool, url: str, shown_version=None
) -> dict:
    """What `_timeline.html` needs. An open request's timeline refreshes itself from `url`;
    it says so when the request has changed since the page showed `shown_version`."""
    events = selectors.request_timeline(user, service_request, for_owner=for_owner)
    shown = str(shown_version or "")
    if not shown.isdigit():
        shown = str(service_request.version)
    return {
        "timeline": timeline.present(events, for_owner=for_owner),
        "timeline_url": f"{url}?shown={shown}" if service_request.is_open else "",
        "timeline_refresh": TIMELINE_REFRESH,
        "timeline_changed": shown != str(service_request.version),
    }


def timeline_fragment(request, load: Callable[[], ServiceRequest], *, for_owner: bool, url_name):
    """The timeline alone, for htmx's polling. A poll after the session ended stops the
    polling instead of pulling the sign-in page into the timeline."""
    if not request.user.is_authenticated:
        if request.htmx:
            return HttpResponseStopPolling()
        return redirect_to_login(request.get_full_path())
    service_request = load()
    context = timeline_context(
        request.user,
        service_request,
        for_owner=for_owner,
        url=reverse(url_name, args=[service_request.pk]),
        shown_version=request.GET.get("shown"),
    )
    return render(request, "servicedesk/_timeline.html", context)


@require_GET
def photo(request, pk, size="full"):
    """A request's photo (or its thumbnail) for someone who may see the request: 404 for
    everyone else, whatever they know of the file's name."""
    if not request.user.is_authenticated:
        return redirect_to_login(request.get_full_path())
    picture = selectors.request_photo(request.user, pk)
    image = picture.thumbnail if size == "thumb" else picture.image
    response = FileResponse(image.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response
