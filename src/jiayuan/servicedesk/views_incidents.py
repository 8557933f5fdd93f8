"""The desk's side of incidents on a request's page: its reports, the possible duplicates
to link or turn down, linking by number and taking a report out (servicedesk.incidents).
Each POST calls one service and comes back to the request's page with a message."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Q
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from jiayuan.core.access import VIEW, get_visible
from jiayuan.servicedesk import incidents, views_desk
from jiayuan.servicedesk.forms_owner import ReasonForm, VersionForm
from jiayuan.servicedesk.models import DuplicateSuggestion


class LinkForm(VersionForm):
    parent = forms.CharField(
        label=gettext_lazy("Incident number"),
        max_length=20,
        widget=forms.TextInput(attrs={"placeholder": "BX20260601-0001"}),
    )


def panel_context(user, service_request) -> dict:
    """What `_incident_panel.html` needs on the desk's request page."""
    view = incidents.incident_view(user, service_request)
    return {
        "incident": view,
        "link_form": LinkForm(initial={"version": service_request.version}, prefix="link"),
        "unlink_form": ReasonForm(initial={"version": service_request.version}, prefix="unlink"),
    }


def _back(service_request):
    return redirect(reverse("servicedesk:detail", args=[service_request.pk]))


def _refused(request, exc: ValidationError) -> None:
    messages.error(request, " ".join(exc.messages))


@login_required
def link(request, pk):
    service_request = views_desk._desk_request(request, pk)
    if request.method != "POST":
        return _back(service_request)
    form = LinkForm(request.POST, prefix="link")
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return _back(service_request)
    try:
        parent = incidents.find_incident(request.user, service_request, form.cleaned_data["parent"])
        incidents.incident_link(
            actor=request.user,
            request=service_request,
            parent=parent,
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Linked to incident %(number)s.") % {"number": parent.number})
    return _back(service_request)


@login_required
def unlink(request, pk):
    service_request = views_desk._desk_request(request, pk)
    if request.method != "POST":
        return _back(service_request)
    form = ReasonForm(request.POST, prefix="unlink")
    if not form.is_valid():
        messages.error(request, " ".join(m for ms in form.errors.values() for m in ms))
        return _back(service_request)
    try:
        incidents.incident_unlink(
            actor=request.user,
            request=service_request,
            reason=form.cleaned_data["reason"],
            expected_version=form.cleaned_data["version"],
        )
    except ValidationError as exc:
        _refused(request, exc)
    else:
        messages.success(request, _("Taken out of the incident: it is handled on its own."))
    return _back(service_request)


def _suggestion(request, service_request, suggestion_pk) -> DuplicateSuggestion:
    about_this = Q(request=service_request) | Q(candidate=service_request)
    return get_visible(
        DuplicateSuggestion.objects.filter(about_this).select_related("request", "candidate"),
        request.user,
        VIEW,
        pk=suggestion_pk,
    )


@login_required
def suggestion_decide(request, pk, suggestion_pk, decision):
    """ "Same fault — link" or "Not the same" on a possible duplicate."""
    service_request = views_desk._desk_request(request, pk)
    if request.method != "POST":
        return _back(service_request)
    suggestion = _suggestion(request, service_request, suggestion_pk)
    try:
        if decision == "link":
            incidents.suggestion_accept(actor=request.user, suggestion=suggestion)
            messages.success(
                request,
                _("%(report)s joined incident %(number)s.")
                % {"report": suggestion.request.number, "number": suggestion.candidate.number},
            )
        else:
            incidents.suggestion_dismiss(actor=request.user, suggestion=suggestion)
            messages.success(request, _("Noted: not the same fault."))
    except ValidationError as exc:
        _refused(request, exc)
    return _back(service_request)
