"""/supervision/: checklists and inspections for the estate's inspectors, rectification
orders (field staff see theirs and mark them fixed on the phone), third-party evaluations
and improvement actions. Views parse input, call one service or selector, render; lists
follow the estate switcher (request.estate)."""

from datetime import timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import FileResponse, Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiayuan.core.access import ADD, can_in_estate, roles_in_estate
from jiayuan.core.forms import add_service_errors
from jiayuan.core.roles import MANAGERS
from jiayuan.core.views import staff_page
from jiayuan.dashboard.periods import add_months
from jiayuan.dashboard.selectors import kpi_value
from jiayuan.supervision import selectors, services, workflow
from jiayuan.supervision.forms import (
    ActionFilterForm,
    ActionForm,
    AdvanceForm,
    ChecklistForm,
    ChecklistItemFormSet,
    EvaluationForm,
    FixForm,
    InspectionFilterForm,
    InspectionResultsForm,
    InspectionStartForm,
    OrderFilterForm,
    OrderOpenForm,
    RejectForm,
    VersionForm,
    filled_items,
)
from jiayuan.supervision.models import (
    INSPECTORS,
    ChecklistTemplate,
    Evaluation,
    ImprovementAction,
    Inspection,
    RectificationOrder,
    Stage,
)

PAGE_SIZE = 50


def inspector_page(view):
    """For the current estate's inspectors (managers and the service centre); a 404 for
    everyone else, as for a page that is not there."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        estate = request.estate
        if estate is None or not (
            request.user.is_superuser or roles_in_estate(request.user, estate) & INSPECTORS
        ):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _refused(request, exc: ValidationError, fallback):
    messages.error(request, " ".join(exc.messages))
    return redirect(fallback)


def _image(field, thumbnail, size: str):
    chosen = thumbnail if size == "thumb" and thumbnail else field
    if not chosen:
        raise Http404
    response = FileResponse(chosen.open("rb"), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    return response


# ----------------------------------------------------------------------------- checklists


@inspector_page
def checklist_list(request):
    estate = request.estate
    context = {
        "checklists": selectors.checklists(request.user, estate.company_id),
        "can_edit": bool(roles_in_estate(request.user, estate) & MANAGERS)
        or request.user.is_superuser,
    }
    return render(request, "supervision/checklist_list.html", context)


def _checklist_form(request, template: ChecklistTemplate | None):
    initial = (
        {"area": template.area, "title": template.title, "is_active": template.is_active}
        if template
        else {"is_active": True}
    )
    items = (
        [
            {"description": i.description, "points": i.points, "critical": i.critical}
            for i in template.items.all()
        ]
        if template
        else []
    )
    data = request.POST if request.method == "POST" else None
    form = ChecklistForm(data, initial=initial)
    formset = ChecklistItemFormSet(data, initial=items, prefix="items")
    if data is not None and form.is_valid() and formset.is_valid():
        try:
            services.checklist_save(
                actor=request.user,
                company=request.estate.company,
                template=template,
                items=filled_items(formset),
                **form.cleaned_data,
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:checklist_list")
    context = {"form": form, "formset": formset, "template": template}
    return render(request, "supervision/checklist_form.html", context)


@inspector_page
def checklist_create(request):
    return _checklist_form(request, None)


@inspector_page
def checklist_edit(request, pk):
    return _checklist_form(request, selectors.checklist(request.user, pk))


@inspector_page
@require_POST
def checklist_defaults(request):
    created = services.checklist_create_defaults(actor=request.user, company=request.estate.company)
    if created:
        messages.success(request, _("%(n)s default checklists created.") % {"n": len(created)})
    else:
        messages.info(request, _("Every default checklist is already there."))
    return redirect("supervision:checklist_list")


# ----------------------------------------------------------------------------- inspections


@inspector_page
def inspection_list(request):
    filters = InspectionFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.inspection_list(
        request.user,
        request.estate,
        area=chosen.get("area", ""),
        status=chosen.get("status", ""),
    )
    context = {
        "filters": filters,
        "page": _page(request, rows),
        "can_add": can_in_estate(request.user, Inspection, ADD, request.estate),
    }
    return render(request, "supervision/inspection_list.html", context)


@inspector_page
def inspection_start(request):
    estate = request.estate
    templates = selectors.checklists(request.user, estate.company_id).filter(is_active=True)
    form = InspectionStartForm(
        request.POST or None,
        templates=templates,
        initial={"inspected_at": timezone.localtime().replace(second=0, microsecond=0)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            inspection = services.inspection_start(
                actor=request.user,
                estate=estate,
                template=form.cleaned_data["template"],
                inspected_at=form.cleaned_data["inspected_at"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            return redirect("supervision:inspection_detail", inspection.pk)
    return render(request, "supervision/inspection_start.html", {"form": form})


@inspector_page
def inspection_detail(request, pk):
    inspection = selectors.inspection(request.user, pk)
    items = inspection.items.all()
    editable = inspection.is_draft and (
        inspection.inspector_id == request.user.pk
        or bool(workflow.relations(request.user, inspection) & MANAGERS)
    )
    form = None
    if editable:
        form = InspectionResultsForm(
            request.POST or None,
            request.FILES or None,
            items=items,
            owners=selectors.owners_in(inspection.estate),
            initial={"deadline": _default_deadline()},
        )
        if request.method == "POST" and form.is_valid():
            submit = request.POST.get("submit") == "1"
            try:
                if submit:
                    services.inspection_submit(
                        actor=request.user,
                        inspection=inspection,
                        results=form.results(),
                        photos=form.photos(),
                        owner=form.cleaned_data["owner"],
                        deadline=form.cleaned_data["deadline"],
                    )
                else:
                    services.inspection_record(
                        actor=request.user,
                        inspection=inspection,
                        results=form.results(),
                        photos=form.photos(),
                    )
            except services.OrderChanged as exc:
                return _refused(request, exc, request.path)
            except ValidationError as exc:
                form.add_service_errors(exc)
            else:
                messages.success(request, _("Submitted.") if submit else _("Saved."))
                return redirect("supervision:inspection_detail", inspection.pk)
    elif request.method == "POST":
        raise Http404
    context = {"inspection": inspection, "items": items, "form": form}
    return render(request, "supervision/inspection_detail.html", context)


def _default_deadline():
    """Three days from now at six in the evening: time to put most findings right."""
    return (timezone.localtime() + timedelta(days=3)).replace(
        hour=18, minute=0, second=0, microsecond=0
    )


@inspector_page
@require_POST
def inspection_discard(request, pk):
    inspection = selectors.inspection(request.user, pk)
    try:
        services.inspection_discard(actor=request.user, inspection=inspection)
    except services.OrderChanged as exc:
        return _refused(request, exc, "supervision:inspection_list")
    messages.success(request, _("The draft has been discarded."))
    return redirect("supervision:inspection_list")


@login_required
def item_photo(request, pk, size="full"):
    item = selectors.inspection_item(request.user, pk)
    return _image(item.photo, item.thumbnail, size)


# ----------------------------------------------------------------------------- orders


@staff_page
def order_list(request):
    filters = OrderFilterForm(request.GET or None)
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.order_list(
        request.user,
        request.estate,
        status=chosen.get("status", ""),
        area=chosen.get("area", ""),
        overdue=chosen.get("overdue", False),
        owner=request.user if chosen.get("mine") else None,
    )
    context = {
        "filters": filters,
        "page": _page(request, rows),
        "now": timezone.now(),
        "can_add": can_in_estate(request.user, RectificationOrder, ADD, request.estate),
    }
    return render(request, "supervision/order_list.html", context)


@staff_page
def order_create(request):
    estate = request.estate
    if not can_in_estate(request.user, RectificationOrder, ADD, estate):
        raise Http404
    form = OrderOpenForm(
        request.POST or None,
        request.FILES or None,
        owners=selectors.owners_in(estate),
        initial={"deadline": _default_deadline()},
    )
    if request.method == "POST" and form.is_valid():
        try:
            order = services.order_open(actor=request.user, estate=estate, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The rectification order is open."))
            return redirect("supervision:order_detail", order.pk)
    return render(request, "supervision/order_create.html", {"form": form})


def _order_page(request, order, *, bound=None, status=200):
    offered = {t.action for t in workflow.allowed_order_actions(request.user, order)}
    initial = {"version": order.version}
    forms = {
        "fix": FixForm(initial=initial, prefix="fix") if "fix" in offered else None,
        "verify": VersionForm(initial=initial, prefix="verify") if "verify" in offered else None,
        "reject": RejectForm(initial=initial, prefix="reject") if "reject" in offered else None,
    }
    if bound is not None:
        forms[bound.prefix] = bound
    context = {"order": order, "forms": forms, "now": timezone.now()}
    return render(request, "supervision/order_detail.html", context, status=status)


@staff_page
def order_detail(request, pk):
    return _order_page(request, selectors.order(request.user, pk))


ORDER_STEPS = {
    "fix": (FixForm, services.order_fix, _("Marked fixed; it will be verified.")),
    "verify": (VersionForm, services.order_verify, _("Verified: the order is closed.")),
    "reject": (RejectForm, services.order_reject, _("Sent back to the owner.")),
}


@staff_page
@require_POST
def order_step(request, pk, action):
    if action not in ORDER_STEPS:
        raise Http404
    order = selectors.order(request.user, pk)
    form_class, run, done = ORDER_STEPS[action]
    form = form_class(request.POST, request.FILES or None, prefix=action)
    if not form.is_valid():
        return _order_page(request, order, bound=form, status=422)
    values = {k: v for k, v in form.cleaned_data.items() if v is not None or k == "version"}
    try:
        run(actor=request.user, order=order, **values)
    except services.OrderChanged as exc:
        return _refused(request, exc, reverse("supervision:order_detail", args=[order.pk]))
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _order_page(request, order, bound=form, status=422)
    messages.success(request, done)
    return redirect("supervision:order_detail", order.pk)


@login_required
def order_photo(request, pk, stage, size="full"):
    order = selectors.order(request.user, pk)
    if stage == "before":
        return _image(order.before_photo, order.before_thumbnail, size)
    if stage == "after":
        return _image(order.after_photo, order.after_thumbnail, size)
    raise Http404


# ----------------------------------------------------------------------------- evaluations


@inspector_page
def evaluation_list(request):
    rows = list(selectors.evaluation_list(request.user, request.estate))
    context = {
        "evaluations": rows,
        "trend": selectors.evaluation_trend(rows),
        "can_add": can_in_estate(request.user, Evaluation, ADD, request.estate),
    }
    return render(request, "supervision/evaluation_list.html", context)


@inspector_page
def evaluation_create(request):
    estate = request.estate
    if not can_in_estate(request.user, Evaluation, ADD, estate):
        raise Http404
    form = EvaluationForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.evaluation_add(actor=request.user, estate=estate, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:evaluation_list")
    return render(request, "supervision/evaluation_create.html", {"form": form})


@login_required
def evaluation_report(request, pk):
    evaluation = selectors.evaluation(request.user, pk)
    if not evaluation.report:
        raise Http404
    is_pdf = evaluation.report_kind == Evaluation.ReportKind.PDF
    response = FileResponse(
        evaluation.report.open("rb"),
        content_type="application/pdf" if is_pdf else "image/jpeg",
        filename=f"report-{evaluation.evaluated_on:%Y%m%d}.{'pdf' if is_pdf else 'jpg'}",
    )
    # A stored file is shown, never run: no scripts, no forms, whatever is inside.
    response["Content-Security-Policy"] = "sandbox"
    response["Cache-Control"] = "private, max-age=3600"
    return response


# ----------------------------------------------------------------------------- improvements


@staff_page
def action_list(request):
    estate = request.estate
    filters = ActionFilterForm(request.GET or None, owners=selectors.owners_in(estate))
    chosen = filters.cleaned_data if filters.is_valid() else {}
    rows = selectors.action_list(
        request.user,
        estate,
        status=chosen.get("status", ""),
        overdue=chosen.get("overdue", False),
        owner=chosen.get("owner"),
    )
    context = {
        "filters": filters,
        "page": _page(request, rows),
        "today": timezone.localdate(),
        "can_add": can_in_estate(request.user, ImprovementAction, ADD, estate),
    }
    return render(request, "supervision/action_list.html", context)


@staff_page
def action_create(request):
    """A new action; the dashboard links here with the estate, the KPI and the period it
    was looking at filled in."""
    estate = next(
        (e for e in request.estates if str(e.pk) == request.GET.get("estate")), request.estate
    )
    if estate is None or not can_in_estate(request.user, ImprovementAction, ADD, estate):
        raise Http404
    prefilled = ("order", "title", "problem_kind", "kpi", "period_start", "period_end")
    form = ActionForm(
        request.POST or None,
        owners=selectors.owners_in(estate),
        orders=selectors.order_list(request.user, estate),
        initial={name: request.GET.get(name) for name in prefilled if request.GET.get(name)},
    )
    if request.method == "POST" and form.is_valid():
        try:
            action = services.action_create(actor=request.user, estate=estate, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("supervision:action_detail", action.pk)
    return render(request, "supervision/action_create.html", {"form": form})


def _measured(request, action) -> dict:
    """At the check stage of a KPI action: the KPI over the problem's period and over the
    months since the work was done, from the dashboards, for the manager to confirm."""
    if action.status != Stage.CHECK or not action.kpi or not action.done_on:
        return {}
    today = timezone.localdate()
    done_month = action.done_on.replace(day=1)
    # Without a period of its own, the problem is the quarter before the work's month.
    before = (
        action.period_start or add_months(done_month, -3),
        action.period_end or add_months(done_month, -1),
    )
    after = (min(add_months(done_month, 1), today), today)
    return {
        "baseline_value": kpi_value(request.user, action.estate, action.kpi, *before),
        "after_value": kpi_value(request.user, action.estate, action.kpi, *after),
        "measured_on": today,
    }


def _action_page(request, action, *, bound=None, status=200):
    form = bound
    if form is None and workflow.may_advance(request.user, action):
        form = AdvanceForm(
            initial={"version": action.version, "plan": action.plan, **_measured(request, action)},
            stage=action.status,
            stage_fields=services.STAGE_FIELDS,
        )
    context = {
        "action": action,
        "form": form,
        "transition": workflow.may_advance(request.user, action),
        "today": timezone.localdate(),
    }
    return render(request, "supervision/action_detail.html", context, status=status)


@staff_page
def action_detail(request, pk):
    return _action_page(request, selectors.action(request.user, pk))


@staff_page
@require_POST
def action_advance(request, pk):
    action = selectors.action(request.user, pk)
    form = AdvanceForm(request.POST, stage=action.status, stage_fields=services.STAGE_FIELDS)
    if not form.is_valid():
        return _action_page(request, action, bound=form, status=422)
    try:
        services.action_advance(
            actor=request.user,
            action=action,
            version=form.cleaned_data["version"],
            **form.values(),
        )
    except services.OrderChanged as exc:
        return _refused(request, exc, "supervision:action_list")
    except ValidationError as exc:
        add_service_errors(form, exc)
        return _action_page(request, action, bound=form, status=422)
    messages.success(request, _("Saved."))
    return redirect("supervision:action_detail", action.pk)
