"""/quality/: survey templates, campaigns and their results for the managers of the
current estate, the desk's low-score follow-ups, and the company's CSI settings. Views
parse input, call one service or selector and render."""

from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiayuan.core.access import ADD, VIEW, can_in_estate, get_visible, roles_in_estate
from jiayuan.core.forms import add_service_errors
from jiayuan.core.roles import MANAGERS
from jiayuan.org.models import Building, Estate
from jiayuan.org.selectors import can_read_phone
from jiayuan.quality import selectors, services
from jiayuan.quality.forms import (
    ALL_ESTATES,
    CampaignForm,
    ComplaintForm,
    FollowUpForm,
    QuestionFormSet,
    SettingsForm,
    TemplateForm,
    question_initial,
)
from jiayuan.quality.models import Campaign, Dimension, FollowUp, SurveyTemplate
from jiayuan.servicedesk.models import DESK_ROLES

PAGE_SIZE = 30


def staff_page(roles):
    """A page for people with one of `roles` in the current estate; a 404 for others."""

    def decorate(view):
        @wraps(view)
        def wrapper(request, *args, **kwargs):
            estate = request.estate
            if estate is None or not (
                request.user.is_superuser or roles_in_estate(request.user, estate) & set(roles)
            ):
                raise Http404
            return view(request, *args, **kwargs)

        return login_required(wrapper)

    return decorate


def _posted(request):
    return request.POST if request.method == "POST" else None


def _page(request, rows):
    return Paginator(rows, PAGE_SIZE).get_page(request.GET.get("page"))


def _error_text(error: ValidationError) -> str:
    return " ".join(error.messages)


# ----------------------------------------------------------------------------- templates


@staff_page(MANAGERS)
def template_list(request):
    rows = selectors.template_list(request.user, request.estate.company_id)
    return render(request, "quality/template_list.html", {"page": _page(request, rows)})


@staff_page(MANAGERS)
@require_POST
def template_default(request):
    template = services.template_create_default(actor=request.user, company=request.estate.company)
    messages.success(request, _("The default survey template was created."))
    return redirect("quality:template_edit", template.pk)


def _template_edit(request, template):
    """Create (template None) or change a template: the title, the intro and the rows of
    questions; rows left without a question are dropped."""
    initial = {"title": template.title, "intro": template.intro} if template is not None else None
    form = TemplateForm(_posted(request), initial=initial)
    questions = QuestionFormSet(
        _posted(request),
        prefix="q",
        initial=question_initial(template) if template is not None else None,
    )
    problems: list[str] = []
    if request.method == "POST" and form.is_valid() and questions.is_valid():
        rows = [row for row in (f.as_question() for f in questions.forms) if row is not None]
        try:
            if template is None:
                template = services.template_create(
                    actor=request.user,
                    company=request.estate.company,
                    questions=rows,
                    **form.cleaned_data,
                )
            else:
                services.template_update(
                    actor=request.user, template=template, questions=rows, **form.cleaned_data
                )
        except ValidationError as exc:
            if hasattr(exc, "error_dict"):
                problems = exc.message_dict.pop("questions", [])
                if exc.message_dict:
                    add_service_errors(form, ValidationError(exc.message_dict))
            else:
                problems = exc.messages
        else:
            messages.success(request, _("Saved."))
            return redirect("quality:template_edit", template.pk)
    context = {"template": template, "form": form, "questions": questions, "problems": problems}
    return render(request, "quality/template_edit.html", context)


@staff_page(MANAGERS)
def template_create(request):
    return _template_edit(request, None)


def _visible_template(request, pk) -> SurveyTemplate:
    return get_visible(
        SurveyTemplate.objects.filter(company_id=request.estate.company_id),
        request.user,
        VIEW,
        pk=pk,
    )


@staff_page(MANAGERS)
def template_edit(request, pk):
    template = _visible_template(request, pk)
    if template.is_frozen or template.campaigns.exists():
        questions = template.questions.all()
        return render(
            request, "quality/template_view.html", {"template": template, "questions": questions}
        )
    return _template_edit(request, template)


@staff_page(MANAGERS)
@require_POST
def template_copy(request, pk):
    copy = services.template_copy(actor=request.user, template=_visible_template(request, pk))
    messages.success(request, _("Copied. Change the copy as you need."))
    return redirect("quality:template_edit", copy.pk)


@staff_page(MANAGERS)
@require_POST
def template_delete(request, pk):
    template = _visible_template(request, pk)
    try:
        services.template_delete(actor=request.user, template=template)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
        return redirect("quality:template_edit", template.pk)
    messages.success(request, _("Deleted."))
    return redirect("quality:template_list")


# ----------------------------------------------------------------------------- campaigns


@staff_page(MANAGERS)
def campaign_list(request):
    rows = selectors.campaign_list(request.user, estate_id=request.estate.pk)
    return render(request, "quality/campaign_list.html", {"page": _page(request, rows)})


def _may_ask_company(user, company) -> bool:
    return all(
        can_in_estate(user, Campaign, ADD, estate)
        for estate in Estate.objects.filter(company=company, is_active=True)
    )


@staff_page(MANAGERS)
def campaign_create(request):
    estate = request.estate
    templates = list(selectors.template_list(request.user, estate.company_id))
    start, end = services.current_quarter()
    now = timezone.localtime()
    form = CampaignForm(
        _posted(request),
        templates=templates,
        estate=estate,
        buildings=Building.objects.filter(estate=estate).order_by("name"),
        company_wide=_may_ask_company(request.user, estate.company),
        initial={
            "scope": "estate",
            "period_start": start,
            "period_end": end,
            "opens_at": now.replace(second=0, microsecond=0),
            "deadline": (now + timezone.timedelta(days=14)).replace(
                hour=23, minute=59, second=0, microsecond=0
            ),
            "reminder_count": 1,
            "reminder_days_before": 3,
        },
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        whole_company = data["scope"] == ALL_ESTATES
        try:
            campaign = services.campaign_create(
                actor=request.user,
                company=estate.company,
                template=next(t for t in templates if t.pk == data["template"]),
                title=data["title"],
                estate=None if whole_company else estate,
                buildings=Building.objects.filter(estate=estate, pk__in=data["buildings"]),
                period_start=data["period_start"],
                period_end=data["period_end"],
                opens_at=data["opens_at"],
                deadline=data["deadline"],
                anonymous=data["anonymous"],
                reminder_count=data["reminder_count"],
                reminder_days_before=data["reminder_days_before"],
            )
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The campaign was saved as a draft. Launch it to ask."))
            return redirect("quality:campaign_detail", campaign.pk)
    return render(
        request, "quality/campaign_create.html", {"form": form, "has_templates": bool(templates)}
    )


def _visible_campaign(request, pk) -> Campaign:
    return get_visible(
        Campaign.objects.select_related("template", "estate"), request.user, VIEW, pk=pk
    )


@staff_page(MANAGERS)
def campaign_detail(request, pk):
    campaign = _visible_campaign(request, pk)
    results = selectors.campaign_results(request.user, campaign)
    context = {
        "campaign": campaign,
        "results": results,
        "dimensions": Dimension.choices,
        "buildings": list(campaign.buildings.all()),
    }
    return render(request, "quality/campaign_detail.html", context)


@staff_page(MANAGERS)
@require_POST
def campaign_launch(request, pk):
    campaign = _visible_campaign(request, pk)
    try:
        campaign = services.campaign_launch(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(
            request,
            _("Launched: %(n)s households are asked.") % {"n": campaign.households_asked},
        )
    return redirect("quality:campaign_detail", campaign.pk)


@staff_page(MANAGERS)
@require_POST
def campaign_close(request, pk):
    campaign = _visible_campaign(request, pk)
    try:
        services.campaign_close(actor=request.user, campaign=campaign)
    except ValidationError as exc:
        messages.error(request, _error_text(exc))
    else:
        messages.success(request, _("The campaign is closed."))
    return redirect("quality:campaign_detail", campaign.pk)


# ----------------------------------------------------------------------------- follow-ups


@staff_page(DESK_ROLES)
def follow_up_list(request):
    done = request.GET.get("status") == FollowUp.Status.DONE
    rows = selectors.follow_ups(
        request.user,
        estate_id=request.estate.pk,
        status=FollowUp.Status.DONE if done else FollowUp.Status.OPEN,
    )
    return render(
        request, "quality/follow_up_list.html", {"page": _page(request, rows), "done": done}
    )


@staff_page(DESK_ROLES)
def follow_up_detail(request, pk):
    follow_up = get_visible(
        FollowUp.objects.select_related(
            "answer__campaign", "answer__unit__building", "answer__building", "estate", "request"
        ),
        request.user,
        VIEW,
        pk=pk,
    )
    anonymous = follow_up.answer.campaign.anonymous
    action = request.POST.get("action") if request.method == "POST" else None
    record_form = FollowUpForm(request.POST if action == "record" else None, anonymous=anonymous)
    complaint_form = ComplaintForm(request.POST if action == "complaint" else None)
    form, call = {
        "record": (record_form, services.follow_up_record),
        "complaint": (complaint_form, services.follow_up_complaint),
    }.get(action, (None, None))
    if follow_up.status == FollowUp.Status.OPEN and form is not None and form.is_valid():
        try:
            call(actor=request.user, follow_up=follow_up, **form.cleaned_data)
        except services.FollowUpChanged as exc:
            messages.error(request, _error_text(exc))
            return redirect("quality:follow_up_list")
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("The follow-up is done."))
            return redirect("quality:follow_up_list")
    items = follow_up.answer.items.select_related("question").order_by("question__position")
    contact = selectors.follow_up_contact(follow_up)
    context = {
        "follow_up": follow_up,
        "anonymous": anonymous,
        "items": [i for i in items if i.rating is not None or i.text],
        "contact": contact,
        "phone_readable": contact is not None and can_read_phone(request.user, follow_up.estate),
        "record_form": record_form,
        "complaint_form": complaint_form,
    }
    return render(request, "quality/follow_up_detail.html", context)


# ----------------------------------------------------------------------------- settings


@staff_page(MANAGERS)
def settings_edit(request):
    company = request.estate.company
    current = services.quality_settings(company.pk)
    form = SettingsForm(
        _posted(request),
        initial={
            **{name: getattr(current, name) for name in services.WEIGHT_FIELDS},
            "low_score": current.low_score,
        },
    )
    if request.method == "POST" and form.is_valid():
        try:
            services.settings_save(actor=request.user, company=company, **form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect("quality:settings")
    return render(request, "quality/settings.html", {"form": form})
