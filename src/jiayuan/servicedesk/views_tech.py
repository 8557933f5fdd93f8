"""The technician's pages, on a phone in the field: my open orders and my team's orders
nobody has taken, and one order with the owner's contact and the steps of the work (take,
arrive, hold, resume, return, complete with materials).

An order the technician may not see (not theirs, not their team's, never in their hands)
is a 404, like a missing one."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from jiayuan.core.views import staff_page
from jiayuan.servicedesk import clocks, selectors, services
from jiayuan.servicedesk.forms_owner import ReasonForm, VersionForm
from jiayuan.servicedesk.forms_tech import (
    CompleteForm,
    ReturnForm,
    material_formset,
    typed_rows,
)
from jiayuan.servicedesk.views_shared import (
    Step,
    calling,
    panels,
    photos_by_stage,
    run_step,
    service_refusal,
    timeline_context,
    timeline_fragment,
)

TECH_STEPS = {
    "take": Step(
        label=gettext_lazy("Take the order"),
        form=VersionForm,
        run=calling(services.request_take),
        done=gettext_lazy("The order is yours."),
        style="primary",
    ),
    "arrive": Step(
        label=gettext_lazy("I have arrived"),
        form=VersionForm,
        run=calling(services.request_arrive),
        done=gettext_lazy("Arrival recorded; the owner has been told."),
        style="primary",
    ),
    "resume": Step(
        label=gettext_lazy("Resume the work"),
        form=VersionForm,
        run=calling(services.request_resume),
        done=gettext_lazy("Work resumed."),
        style="primary",
    ),
    "hold": Step(
        label=gettext_lazy("Put on hold"),
        form=ReasonForm,
        run=calling(services.request_hold, "reason"),
        done=gettext_lazy("The order is on hold."),
    ),
    "return": Step(
        label=gettext_lazy("Return the order"),
        form=ReturnForm,
        run=calling(services.request_return, "reason", "to_previous"),
        done=gettext_lazy("The order has been returned."),
        style="danger",
        then_list=True,
    ),
}
COMPLETE = "complete"


def _offered(user, service_request) -> set[str]:
    return {t.action for t in services.allowed_transitions(user, service_request)} & (
        set(TECH_STEPS) | {COMPLETE}
    )


def _detail_page(request, service_request, *, offered, bound=None, complete=None):
    # A completion form handed in is one shown again: it stays open.
    complete_open = complete is not None
    if complete is None and COMPLETE in offered:
        complete = (
            CompleteForm(initial={"version": service_request.version}, prefix=COMPLETE),
            material_formset(),
        )
    context = {
        "req": service_request,
        "phone": selectors.callable_phone(request.user, service_request),
        "photo_groups": photos_by_stage(service_request),
        "panels": panels(TECH_STEPS, offered, service_request, "servicedesk:tech_act", bound=bound),
        "complete_form": complete[0] if complete else None,
        "materials": complete[1] if complete else None,
        "complete_open": complete_open,
        "clocks": clocks.clocks_of(service_request),
        **timeline_context(
            request.user,
            service_request,
            for_owner=False,
            url=reverse("servicedesk:tech_timeline", args=[service_request.pk]),
        ),
    }
    return render(request, "servicedesk/tech_detail.html", context)


@staff_page
def tech_list(request):
    orders = list(selectors.my_work(request.user))
    context = {
        "mine": [order for order in orders if order.assignee_id == request.user.pk],
        "pool": [order for order in orders if order.assignee_id is None],
        "several_estates": len({order.estate_id for order in orders}) > 1,
        "now": timezone.now(),
    }
    return render(request, "servicedesk/tech_list.html", context)


@staff_page
def tech_detail(request, pk):
    service_request = selectors.request_detail(request.user, pk)
    return _detail_page(request, service_request, offered=_offered(request.user, service_request))


@require_POST
@staff_page
def tech_act(request, pk, action):
    step = TECH_STEPS.get(action)
    if step is None:
        raise Http404
    service_request = selectors.request_detail(request.user, pk)
    offered = _offered(request.user, service_request)
    form = step.form(request.POST, prefix=action)
    return run_step(
        request,
        service_request,
        step,
        form,
        offered=offered,
        page_url=reverse("servicedesk:tech_detail", args=[service_request.pk]),
        list_url=reverse("servicedesk:tech_list"),
        show_again=lambda bad: _detail_page(
            request, service_request, offered=offered, bound=(action, bad)
        ),
    )


@require_POST
@staff_page
def tech_complete(request, pk):
    """完工: work notes, photos and, for a paid repair, labour and materials. "More lines"
    shows the form again with what was typed and more empty material rows (photos have to
    be picked again: a browser never sends a file back)."""
    service_request = selectors.request_detail(request.user, pk)
    offered = _offered(request.user, service_request)
    page_url = reverse("servicedesk:tech_detail", args=[service_request.pk])
    if COMPLETE not in offered:
        messages.error(
            request,
            _("This order is now “%(status)s”; it cannot be completed.")
            % {"status": service_request.get_status_display()},
        )
        return redirect(page_url)
    form = CompleteForm(request.POST, request.FILES, prefix=COMPLETE)
    if "more_lines" in request.POST:
        again = CompleteForm(initial=_typed(form), prefix=COMPLETE)
        lines = material_formset(rows=typed_rows(request.POST))
        return _detail_page(request, service_request, offered=offered, complete=(again, lines))
    lines = material_formset(request.POST)
    form_ok = form.is_valid()
    paid = form_ok and form.cleaned_data["is_paid"]
    lines_ok = not paid or lines.is_valid()
    if form_ok and lines_ok:
        data = form.cleaned_data
        try:
            services.request_complete(
                actor=request.user,
                request=service_request,
                work_notes=data["work_notes"],
                is_paid=data["is_paid"],
                labour_fee=data["labour_fee"],
                materials=[line for f in lines.forms if (line := f.as_line())] if paid else None,
                photos_before=data["photos_before"],
                photos_after=data["photos_after"],
                expected_version=data["version"],
            )
        except ValidationError as exc:
            refused = service_refusal(request, form, exc, page_url)
            if refused is not None:
                return refused
        else:
            messages.success(request, _("Completed. The owner has been asked to confirm."))
            return redirect(page_url)
    if not paid:
        # Rows of an unpaid repair are not used, so they get no messages either.
        lines = material_formset(rows=typed_rows(request.POST))
    return _detail_page(request, service_request, offered=offered, complete=(form, lines))


def _typed(form) -> dict:
    """The completion form's text as typed, to show it again unbound (without messages)."""
    return {name: form[name].value() for name in ("version", "work_notes", "is_paid", "labour_fee")}


@require_GET
def tech_timeline(request, pk):
    def load():
        if request.estate is None:
            raise Http404
        return selectors.request_detail(request.user, pk)

    return timeline_fragment(request, load, for_owner=False, url_name="servicedesk:tech_timeline")
