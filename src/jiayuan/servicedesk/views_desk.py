"""The service desk's workbench, on a desktop at the counter or a dispatcher's phone: the
queue of the current estate, recording a call in half a minute, one request with its
handler trail and a form for every step the person may take, return visits, reply
templates and the desk's settings.

Views are thin: they parse input, call one service or selector and render. Desk pages are
for the desk's roles in the current estate (finance reads the queue too); other staff get
403 and people without a staff role the 404 of a page that is not there for them. A
request of another estate is a 404, like a missing one."""

from dataclasses import replace
from functools import partial, wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from jiayuan.core.access import (
    ADD,
    CHANGE,
    VIEW,
    can_in_estate,
    ensure_allowed,
    get_visible,
    roles_in_estate,
)
from jiayuan.core.forms import add_service_errors
from jiayuan.core.roles import MANAGERS, Role
from jiayuan.org import selectors as org_selectors
from jiayuan.org.models import Resident
from jiayuan.org.views import _confirm_page, _edit_page, _form_page
from jiayuan.servicedesk import clocks, selectors, services, views_incidents
from jiayuan.servicedesk.forms_desk import (
    DeskSettingsForm,
    HandlerForm,
    InvestigateForm,
    QueueFilterForm,
    ReclassifyForm,
    RecordForm,
    ReplyForm,
    ReplyTemplateForm,
    ReturnVisitForm,
    TransferForm,
)
from jiayuan.servicedesk.forms_owner import ReasonForm, VersionForm
from jiayuan.servicedesk.models import (
    DESK_ROLES,
    OPEN_STATUSES,
    Kind,
    ReplyTemplate,
    ReturnVisit,
    Status,
)
from jiayuan.servicedesk.services import RequestChanged
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

# The API's default page: a desk monitor's day at a glance; the tabs and filters narrow
# further, and on a phone each row is a card (decisions §31).
PAGE_SIZE = 50
# Finance reads the queue (paid repairs, complaints about fees) but takes no step.
DESK_READERS = DESK_ROLES | {Role.FINANCE}
REPLY = "reply"
DISPATCH = "dispatch"
RECLASSIFY = "reclassify"


def _has_role(user, estate, roles) -> bool:
    return user.is_superuser or bool(roles_in_estate(user, estate) & set(roles))


def desk_page(roles):
    """A page of the desk for people with one of `roles` in the current estate."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            if request.estate is None:
                raise Http404
            if not _has_role(request.user, request.estate, roles):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def _desk_request(request, pk):
    """A request for the desk's page: 404 if the person may not see it (or has no staff
    role in its estate: an owner's own request is on the owner's page), 403 for field staff,
    whose page it is not."""
    service_request = selectors.request_detail(request.user, pk)
    if _has_role(request.user, service_request.estate, DESK_READERS):
        return service_request
    if roles_in_estate(request.user, service_request.estate):
        raise PermissionDenied
    raise Http404


def _posted(request):
    return request.POST if request.method == "POST" else None


def _page(request, rows, count: int | None = None):
    paginator = Paginator(rows, PAGE_SIZE)
    if count is not None:
        paginator.count = count  # known already: spares the database a second count
    return paginator.get_page(request.GET.get("page"))


def _tab_total(filters, counts: dict[str, int]) -> int | None:
    """The rows of a status tab, from the tabs' counts, when no other filter narrows it."""
    others = replace(filters, status="", open_only=False)
    if others != selectors.QueueFilters():
        return None
    if filters.status:
        return counts.get(filters.status, 0)
    if filters.open_only:
        return sum(n for status, n in counts.items() if status in OPEN_STATUSES)
    return sum(counts.values())


# ----------------------------------------------------------------------------- queue


def _queue_page(request, rows, filters, counts: dict[str, int]):
    """The queue's page of lines. A search's page comes with its count in one statement
    (selectors.counted_queue_page); any other count is the tabs' or the paginator's."""
    total = _tab_total(filters, counts)
    number = _asked_page(request) if total is None and filters.search else None
    # Past the end (None), the paginator counts and shows the last page.
    counted = selectors.counted_queue_page(rows, number, PAGE_SIZE) if number else None
    if counted:
        total, lines = counted
    page = _page(request, rows, total)
    page.object_list = lines if counted else selectors.queue_lines(page.object_list)
    return page


def _asked_page(request) -> int | None:
    """The page number asked for, as the paginator reads it (none or not a number: 1);
    None for a number below 1 or past any count, which the paginator turns into the last
    page without reading a row."""
    try:
        number = int(request.GET.get("page") or 1)
    except ValueError:
        return 1
    return number if 1 <= number <= _PAST_ANY_PAGE else None


_PAST_ANY_PAGE = 2**31 // PAGE_SIZE


def _tab_url(request, **changes) -> str:
    """The queue's current query with `changes` (None drops a key), back on page one."""
    query = request.GET.copy()
    query.pop("page", None)
    for key, value in changes.items():
        query.pop(key, None)
        if value:
            query[key] = value
    return f"?{query.urlencode()}"


def _tabs(request, counts: dict[str, int], filters) -> list[dict]:
    labels = dict(Status.choices)
    tabs = [
        {
            "label": _("All"),
            "count": sum(counts.values()),
            "url": _tab_url(request, status=None, open_only=None),
            "current": not filters.status and not filters.open_only,
        },
        {
            "label": _("Open"),
            "count": sum(n for status, n in counts.items() if status in OPEN_STATUSES),
            "url": _tab_url(request, status=None, open_only="on"),
            "current": not filters.status and filters.open_only,
        },
    ]
    tabs += [
        {
            "label": labels[status],
            "count": count,
            "url": _tab_url(request, status=status, open_only=None),
            "current": filters.status == status,
            "status": status,
        }
        for status, count in counts.items()
    ]
    return tabs


@desk_page(DESK_READERS)
def queue(request):
    estate = request.estate
    form = QueueFilterForm(
        request.GET,
        buildings=org_selectors.building_choices(request.user, estate),
        people=selectors.estate_staff(request.user, estate),
    )
    form.is_valid()  # a bad filter is reported on the form and left out of the query
    filters = form.filters()
    rows = selectors.request_queue(request.user, estate=estate, filters=filters)
    counts = selectors.status_counts(request.user, estate=estate)
    context = {
        "filters": form,
        "page": _queue_page(request, rows, filters, counts),
        "tabs": _tabs(request, counts, filters),
        "can_record": _has_role(request.user, estate, DESK_ROLES),
        "can_manage": _has_role(request.user, estate, MANAGERS),
        "now": timezone.now(),
    }
    template = "servicedesk/queue.html"
    if request.htmx and not request.htmx.history_restore_request:
        template += "#results"
    return render(request, template, context)


# ----------------------------------------------------------------------------- recording a call


def _caller_initial(request, residents) -> dict:
    """The caller picked from the lookup (?resident=&unit=): their unit, name and number."""
    initial = {}
    resident_id = request.GET.get("resident", "")
    resident = residents.filter(pk=resident_id).first() if resident_id.isdigit() else None
    if resident is not None:
        phone = org_selectors.phone_for(request.user, resident, request.estate)
        initial.update(
            reporter=resident.pk,
            contact_name=resident.name,
            # A masked number is no use to call back; the service then takes the one on file.
            contact_phone=phone if phone == resident.mobile else "",
        )
    unit_id = request.GET.get("unit", "")
    if unit_id.isdigit():
        initial["unit"] = int(unit_id)
    return initial


@desk_page(DESK_ROLES)
def record(request):
    """电话报修: find the caller by phone or unit, one click fills who and where, then what."""
    estate = request.estate
    residents = Resident.objects.restrict(request.user, VIEW).filter(company=estate.company)
    units = org_selectors.unit_list(request.user, estate=estate).order_by(
        "building__name", "entrance", "number"
    )
    form = RecordForm(
        _posted(request),
        initial=_caller_initial(request, residents),
        residents=residents,
        units=units,
        common_areas=org_selectors.common_area_list(request.user, estate=estate),
        categories=services.offered_categories(estate.company_id),
    )
    ask_for_suggestions(form, reverse("servicedesk:record_suggest"))
    if request.method == "POST" and form.is_valid():
        try:
            created = services.request_create(
                actor=request.user, estate=estate, **form.service_kwargs()
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(
                request, _("Request %(number)s recorded.") % {"number": created.number}
            )
            if request.POST.get("then") == DISPATCH and created.kind == Kind.REPAIR:
                return redirect("servicedesk:act", created.pk, DISPATCH)
            return redirect("servicedesk:detail", created.pk)
    chosen = form["reporter"].value()
    term = request.GET.get("q", "")
    context = {
        "form": form,
        "caller": residents.filter(pk=chosen).first() if str(chosen or "").isdigit() else None,
        "lookup_term": term.strip()[:50],
        "callers": selectors.caller_lookup(request.user, estate, term),
    }
    return render(request, "servicedesk/record.html", context)


@desk_page(DESK_ROLES)
@require_POST
def record_suggest(request):
    """The suggestion line under the description (htmx), among the categories offered."""
    offered = services.offered_categories(request.estate.company_id)
    suggestion = triage.suggestion_for(
        request.POST.get("description", ""), categories={code for code, _label in offered}
    )
    return render(request, "triage/_suggestion.html", {"suggestion": suggestion})


@desk_page(DESK_ROLES)
@require_GET
def resident_lookup(request):
    term = request.GET.get("q", "")
    context = {
        "lookup_term": term.strip()[:50],
        "callers": selectors.caller_lookup(request.user, request.estate, term),
    }
    return render(request, "servicedesk/_desk_lookup.html", context)


# ----------------------------------------------------------------------------- one request


def _steps(user, service_request) -> dict[str, Step]:
    """The desk's steps on this request, in the order the page shows them. The forms that
    name a handler offer the people and teams of the request's estate."""
    estate = service_request.estate
    handlers = {
        "people": selectors.field_staff(user, estate),
        "teams": selectors.estate_teams(user, estate),
    }

    def reason_step(label, service, done, **extra):
        return Step(
            label=label,
            form=ReasonForm,
            run=lambda user, req, data: service(
                actor=user, request=req, reason=data["reason"], expected_version=data["version"]
            ),
            done=done,
            **extra,
        )

    def plain_step(label, service, done, **extra):
        return Step(
            label=label,
            form=VersionForm,
            run=lambda user, req, data: service(
                actor=user, request=req, expected_version=data["version"]
            ),
            done=done,
            **extra,
        )

    return {
        "accept": plain_step(
            gettext_lazy("Accept"),
            services.request_accept,
            gettext_lazy("Accepted."),
            style="primary",
        ),
        DISPATCH: Step(
            label=gettext_lazy("Dispatch"),
            form=partial(HandlerForm, **handlers),
            run=lambda user, req, data: services.request_dispatch(
                actor=user,
                request=req,
                assignee=data["assignee"],
                team=data["team"],
                expected_version=data["version"],
            ),
            done=gettext_lazy("Dispatched."),
            style="primary",
        ),
        "investigate": Step(
            label=gettext_lazy("Start investigating"),
            form=partial(InvestigateForm, people=selectors.estate_staff(user, estate)),
            run=lambda user, req, data: services.request_investigate(
                actor=user,
                request=req,
                assignee=data["assignee"],
                expected_version=data["version"],
            ),
            done=gettext_lazy("The investigation has started."),
            style="primary",
        ),
        REPLY: Step(
            label=gettext_lazy("Reply"),
            form=ReplyForm,
            run=lambda user, req, data: services.request_reply(
                actor=user, request=req, reply=data["reply"], expected_version=data["version"]
            ),
            done=gettext_lazy("Reply sent to the owner."),
            style="primary",
        ),
        "transfer": Step(
            label=gettext_lazy("Transfer"),
            form=partial(TransferForm, **handlers),
            run=lambda user, req, data: services.request_transfer(
                actor=user,
                request=req,
                reason=data["reason"],
                assignee=data["assignee"],
                team=data["team"],
                expected_version=data["version"],
            ),
            done=gettext_lazy("Transferred."),
        ),
        "hold": reason_step(
            gettext_lazy("Put on hold"), services.request_hold, gettext_lazy("Put on hold.")
        ),
        "resume": plain_step(
            gettext_lazy("Resume"), services.request_resume, gettext_lazy("Resumed.")
        ),
        "confirm": plain_step(
            gettext_lazy("Confirm for the owner"),
            services.request_confirm,
            gettext_lazy("Confirmed and closed."),
            style="primary",
        ),
        "reopen": reason_step(
            gettext_lazy("Not resolved: reopen"),
            services.request_reopen,
            gettext_lazy("Reopened and sent back to the handler."),
        ),
        "decline": reason_step(
            gettext_lazy("Decline"),
            services.request_decline,
            gettext_lazy("Declined; the owner has been told."),
            style="danger",
        ),
        "cancel_by_desk": Step(
            label=gettext_lazy("Cancel"),
            form=ReasonForm,
            run=lambda user, req, data: services.request_cancel(
                actor=user, request=req, reason=data["reason"], expected_version=data["version"]
            ),
            done=gettext_lazy("Cancelled."),
            style="danger",
        ),
        RECLASSIFY: Step(
            label=gettext_lazy("Change kind, category or urgency"),
            form=partial(
                ReclassifyForm,
                request=service_request,
                categories=services.offered_categories(estate.company_id),
            ),
            run=calling(services.request_reclassify, "kind", "category", "urgency"),
            done=gettext_lazy("Kind, category and urgency saved."),
        ),
    }


def _offered(user, service_request, steps) -> set[str]:
    offered = {t.action for t in services.allowed_transitions(user, service_request)}
    if services.may_reclassify(user, service_request):
        offered.add(RECLASSIFY)
    return offered & set(steps)


def _chosen_reply(request, service_request, templates):
    """The reply form filled with the template picked (?reply_template=), or None."""
    chosen = request.GET.get("reply_template", "")
    template = templates.filter(pk=chosen).first() if chosen.isdigit() else None
    if template is None:
        return None
    initial = {"version": service_request.version, "reply": template.body}
    return ReplyForm(initial=initial, prefix=REPLY)


def _detail_page(request, service_request, *, steps, offered, bound=None):
    user = request.user
    templates = selectors.reply_templates(user, service_request.company, kind=service_request.kind)
    open_action = bound[0] if bound else ""
    if bound is None and REPLY in offered:
        picked = _chosen_reply(request, service_request, templates)
        if picked is not None:
            bound, open_action = (REPLY, picked), REPLY
    visit = getattr(service_request, "return_visit", None)
    context = {
        "req": service_request,
        "phone": selectors.callable_phone(user, service_request)
        or service_request.masked_contact_phone,
        "rating": getattr(service_request, "rating", None),
        "visit": visit,
        "may_record_visit": visit is not None
        and visit.done_at is None
        and _has_role(user, service_request.estate, DESK_ROLES),
        "photo_groups": photos_by_stage(service_request),
        "panels": panels(steps, offered, service_request, "servicedesk:act", bound=bound),
        "open_action": open_action,
        "reply_templates": list(templates) if REPLY in offered else [],
        "clocks": clocks.clocks_of(service_request),
        **views_incidents.panel_context(user, service_request),
        **timeline_context(
            user,
            service_request,
            for_owner=False,
            url=reverse("servicedesk:timeline", args=[service_request.pk]),
        ),
    }
    return render(request, "servicedesk/detail.html", context)


@login_required
def detail(request, pk):
    try:
        service_request = _desk_request(request, pk)
    except PermissionDenied:
        # Field staff follow the links of their notifications here: their page has it.
        return redirect("servicedesk:tech_detail", pk)
    steps = _steps(request.user, service_request)
    offered = _offered(request.user, service_request, steps)
    return _detail_page(request, service_request, steps=steps, offered=offered)


@login_required
def act(request, pk, action):
    """One step on a request. GET shows its form alone (the dispatch form right after a call
    was recorded, a step on a phone); POST takes it, carrying the version the page showed."""
    service_request = _desk_request(request, pk)
    steps = _steps(request.user, service_request)
    step = steps.get(action)
    if step is None:
        raise Http404
    offered = _offered(request.user, service_request, steps)
    page_url = reverse("servicedesk:detail", args=[service_request.pk])
    if request.method != "POST":
        if action not in offered:
            messages.error(
                request,
                _("“%(step)s” is not possible now: the request is “%(status)s”.")
                % {"step": step.label, "status": service_request.get_status_display()},
            )
            return redirect(page_url)
        context = {
            "req": service_request,
            "panels": panels(steps, {action}, service_request, "servicedesk:act"),
            "open_action": action,
            "reply_templates": selectors.reply_templates(
                request.user, service_request.company, kind=service_request.kind
            )
            if action == REPLY
            else [],
        }
        return render(request, "servicedesk/act.html", context)
    form = step.form(request.POST, prefix=action)
    return run_step(
        request,
        service_request,
        step,
        form,
        offered=offered,
        page_url=page_url,
        list_url=reverse("servicedesk:queue"),
        show_again=lambda bad: _detail_page(
            request, service_request, steps=steps, offered=offered, bound=(action, bad)
        ),
    )


def request_timeline(request, pk):
    return timeline_fragment(
        request,
        lambda: _desk_request(request, pk),
        for_owner=False,
        url_name="servicedesk:timeline",
    )


# ----------------------------------------------------------------------------- return visits


@desk_page(DESK_ROLES)
def visit_list(request):
    page = _page(request, selectors.due_return_visits(request.user, estate=request.estate))
    context = {
        "page": page,
        "now": timezone.now(),
        "phones_readable": org_selectors.can_read_phone(request.user, request.estate),
    }
    return render(request, "servicedesk/visit_list.html", context)


@desk_page(DESK_ROLES)
def visit_record(request, pk):
    visit = get_visible(
        ReturnVisit.objects.select_related(
            "request", "request__unit__building", "request__common_area", "request__rating"
        ),
        request.user,
        VIEW,
        pk=pk,
    )
    if visit.done_at is not None:
        messages.info(request, _("This return visit has already been recorded."))
        return redirect("servicedesk:detail", visit.request_id)
    form = ReturnVisitForm(_posted(request))
    if request.method == "POST" and form.is_valid():
        try:
            services.return_visit_record(actor=request.user, visit=visit, **form.cleaned_data)
        except RequestChanged as exc:
            messages.error(request, " ".join(exc.messages))
            return redirect("servicedesk:visit_list")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Return visit recorded."))
            return redirect("servicedesk:visit_list")
    req = visit.request
    context = {
        "visit": visit,
        "req": req,
        "phone": selectors.callable_phone(request.user, req) or req.masked_contact_phone,
        "form": form,
    }
    return render(request, "servicedesk/visit_record.html", context)


# ----------------------------------------------------------------------------- reply templates


@desk_page(DESK_ROLES)
def template_list(request):
    kind = request.GET.get("kind", "")
    kind = kind if kind in Kind.values else ""
    context = {
        "templates": selectors.reply_templates(request.user, request.estate.company, kind=kind),
        "kind": kind,
        "kinds": Kind.choices,
        "can_manage": can_in_estate(request.user, ReplyTemplate, ADD, request.estate),
    }
    return render(request, "servicedesk/template_list.html", context)


@desk_page(DESK_ROLES)
def template_create(request):
    if not can_in_estate(request.user, ReplyTemplate, ADD, request.estate):
        raise PermissionDenied
    company = request.estate.company
    return _form_page(
        request,
        ReplyTemplateForm(_posted(request), initial={"kind": request.GET.get("kind")}),
        save=lambda data: services.reply_template_create(
            actor=request.user, company=company, **data
        ),
        done=lambda template: reverse("servicedesk:template_list"),
        title=_("New reply template"),
        back_url=reverse("servicedesk:template_list"),
    )


def _template(request, pk) -> ReplyTemplate:
    return get_visible(
        ReplyTemplate.objects.filter(company=request.estate.company), request.user, VIEW, pk=pk
    )


@desk_page(DESK_ROLES)
def template_edit(request, pk):
    template = _template(request, pk)
    return _edit_page(
        request,
        template,
        ReplyTemplateForm,
        update=lambda data: services.reply_template_update(
            actor=request.user, template=template, **data
        ),
        back_url=reverse("servicedesk:template_list"),
    )


@desk_page(DESK_ROLES)
def template_delete(request, pk):
    template = _template(request, pk)
    ensure_allowed(request.user, CHANGE, template)
    return _confirm_page(
        request,
        action=lambda: services.reply_template_delete(actor=request.user, template=template),
        done=reverse("servicedesk:template_list"),
        title=_("Delete %(name)s") % {"name": template.title},
        question=_("Delete the reply template “%(name)s”?") % {"name": template.title},
    )


# ----------------------------------------------------------------------------- settings


@desk_page(MANAGERS)
def desk_settings(request):
    company = request.estate.company
    current = services.desk_settings(company)
    form = DeskSettingsForm(_posted(request), initial=DeskSettingsForm.initial_of(current))
    return _form_page(
        request,
        form,
        save=lambda data: services.desk_settings_update(
            actor=request.user, company=company, **form.service_kwargs()
        ),
        done=lambda saved: reverse("servicedesk:settings"),
        title=_("Service-desk settings of %(company)s") % {"company": company.name},
        back_url=reverse("servicedesk:queue"),
    )
