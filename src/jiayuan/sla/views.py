"""The business-calendar pages of the desk's settings: a company's calendars, their working
hours, holidays and make-up workdays by year, importing a file and filling in the official
schedule. For the managers of the current estate (company admins and estate managers);
everyone else gets the 404 of a page that is not there for them. Views are thin: they
parse input, call one service or selector and render."""

from datetime import datetime, time, timedelta
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiayuan.core.access import VIEW, get_visible, grants_of, roles_in_estate
from jiayuan.core.roles import MANAGERS
from jiayuan.org.models import Estate
from jiayuan.org.views import _confirm_page, _edit_page, _form_page
from jiayuan.sla import policies, selectors, services
from jiayuan.sla.forms import (
    CalendarForm,
    DayForm,
    EscalationForm,
    ImportForm,
    PolicyForm,
    ReportForm,
    SeedForm,
    WindowsForm,
)
from jiayuan.sla.models import (
    WEEKDAY_NAMES,
    BusinessCalendar,
    CalendarDay,
    Clock,
    EscalationStep,
    SlaPolicy,
    Target,
)
from jiayuan.sla.official import library_years


def manager_page(view):
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        estate = request.estate
        if estate is None:
            raise Http404
        if not (request.user.is_superuser or roles_in_estate(request.user, estate) & MANAGERS):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _calendar(request, pk) -> BusinessCalendar:
    return get_visible(
        BusinessCalendar.objects.filter(company=request.estate.company).select_related(
            "company", "estate"
        ),
        request.user,
        VIEW,
        pk=pk,
    )


def _day(request, calendar, pk) -> CalendarDay:
    return get_visible(
        CalendarDay.objects.filter(calendar=calendar).select_related("calendar__company"),
        request.user,
        VIEW,
        pk=pk,
    )


def _detail_url(calendar, year=None) -> str:
    url = reverse("sla:calendar_detail", args=[calendar.pk])
    return f"{url}?year={year}" if year else url


@manager_page
def calendar_list(request):
    estate = request.estate
    company = estate.company
    calendars = list(selectors.calendar_list(request.user, company))
    regular = [c for c in calendars if c.kind == BusinessCalendar.Kind.REGULAR]
    company_calendar = next((c for c in regular if c.estate_id is None), None)
    wide = services.is_company_wide_manager(request.user, company.pk)
    context = {
        "calendars": calendars,
        "estate": estate,
        "can_create_company": wide and company_calendar is None,
        "can_create_always": wide
        and not any(c.is_always_open and c.estate_id is None for c in calendars),
        "can_create_estate": not any(c.estate_id == estate.pk for c in regular),
        "missing_years": selectors.missing_calendar_years(company.pk, timezone.localdate()),
    }
    return render(request, "sla/calendar_list.html", context)


@manager_page
@require_POST
def calendar_create(request):
    """One button per case: the company's calendar, the current estate's own, or 24×7."""
    estate = request.estate
    company = estate.company
    what = request.POST.get("what", "")
    try:
        if what == "company":
            calendar = services.calendar_create(actor=request.user, company=company)
        elif what == "always_open":
            calendar = services.calendar_create(
                actor=request.user, company=company, kind=BusinessCalendar.Kind.ALWAYS_OPEN
            )
        elif what == "estate":
            source = BusinessCalendar.objects.filter(
                company=company, estate__isnull=True, kind=BusinessCalendar.Kind.REGULAR
            ).first()
            if source is None:
                calendar = services.calendar_create(
                    actor=request.user, company=company, estate=estate
                )
            else:
                calendar = services.calendar_copy_for_estate(
                    actor=request.user, calendar=source, estate=estate
                )
        else:
            raise Http404
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("sla:calendar_list")
    messages.success(request, _("Calendar created."))
    return redirect(_detail_url(calendar))


@manager_page
def calendar_detail(request, pk):
    calendar = _calendar(request, pk)
    years = selectors.calendar_years(calendar)
    today = timezone.localdate()
    try:
        year = int(request.GET.get("year") or today.year)
    except ValueError:
        year = today.year
    windows = selectors.calendar_windows(calendar)
    context = {
        "calendar": calendar,
        "can_change": services.may_change(request.user, calendar),
        "weekdays": [(WEEKDAY_NAMES[weekday], spans) for weekday, spans in windows.items()],
        "years": years,
        "year": year,
        "year_choices": sorted({y.year for y in years} | {today.year, today.year + 1}),
        "days": selectors.calendar_days(calendar, year),
        "library_knows_year": year in library_years(),
        "seed_form": SeedForm(years=sorted(library_years())[-3:]),
    }
    return render(request, "sla/calendar_detail.html", context)


@manager_page
def calendar_edit(request, pk):
    calendar = _calendar(request, pk)
    return _edit_page(
        request,
        calendar,
        CalendarForm,
        update=lambda data: services.calendar_update(actor=request.user, calendar=calendar, **data),
        back_url=_detail_url(calendar),
    )


@manager_page
def calendar_delete(request, pk):
    calendar = _calendar(request, pk)
    return _confirm_page(
        request,
        action=lambda: services.calendar_delete(actor=request.user, calendar=calendar),
        done=reverse("sla:calendar_list"),
        title=_("Delete %(name)s") % {"name": calendar.name},
        question=_(
            "Delete the calendar “%(name)s”? Deadlines will be counted in the company's "
            "calendar (or the built-in office hours) instead."
        )
        % {"name": calendar.name},
    )


@manager_page
def calendar_hours(request, pk):
    calendar = _calendar(request, pk)
    if calendar.is_always_open:
        raise Http404
    form = WindowsForm(_posted(request), windows=selectors.calendar_windows(calendar))
    return _form_page(
        request,
        form,
        save=lambda data: services.calendar_set_windows(
            actor=request.user, calendar=calendar, windows=form.windows
        ),
        done=lambda saved: _detail_url(calendar),
        title=_("Working hours of %(name)s") % {"name": calendar.name},
        back_url=_detail_url(calendar),
    )


@manager_page
def day_create(request, pk):
    calendar = _calendar(request, pk)
    if calendar.is_always_open:
        raise Http404
    form = DayForm(_posted(request), initial={"date": request.GET.get("date")})
    return _form_page(
        request,
        form,
        save=lambda data: services.calendar_day_add(actor=request.user, calendar=calendar, **data),
        done=lambda day: _detail_url(calendar, day.date.year),
        title=_("Add a holiday or make-up workday"),
        back_url=_detail_url(calendar),
    )


@manager_page
def day_edit(request, pk, day_pk):
    calendar = _calendar(request, pk)
    day = _day(request, calendar, day_pk)
    return _edit_page(
        request,
        day,
        DayForm,
        update=lambda data: services.calendar_day_update(actor=request.user, day=day, **data),
        back_url=_detail_url(calendar, day.date.year),
    )


@manager_page
def day_delete(request, pk, day_pk):
    calendar = _calendar(request, pk)
    day = _day(request, calendar, day_pk)
    return _confirm_page(
        request,
        action=lambda: services.calendar_day_delete(actor=request.user, day=day),
        done=_detail_url(calendar, day.date.year),
        title=_("Delete %(name)s") % {"name": day},
        question=_("Delete %(date)s (%(kind)s) from the calendar?")
        % {"date": day.date.isoformat(), "kind": day.get_kind_display()},
    )


@manager_page
def calendar_import(request, pk):
    calendar = _calendar(request, pk)
    if calendar.is_always_open:
        raise Http404
    form = ImportForm(request.POST or None, request.FILES or None)
    problems, result = [], None
    status = 200
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            result = services.calendar_import(
                actor=request.user,
                calendar=calendar,
                data=upload.read(services.IMPORT_MAX_BYTES + 1),
                file_name=upload.name,
            )
        except services.ImportRejected as exc:
            problems = exc.problems
            status = 400
        except ValidationError as exc:
            problems = [(None, message) for message in exc.messages]
            status = 400
    context = {"calendar": calendar, "form": form, "problems": problems, "result": result}
    return render(request, "sla/calendar_import.html", context, status=status)


@manager_page
@require_POST
def calendar_seed(request, pk):
    calendar = _calendar(request, pk)
    form = SeedForm(request.POST, years=sorted(library_years()))
    year = form.cleaned_data.get("year") if form.is_valid() else None
    try:
        result = services.calendar_seed_from_library(
            actor=request.user, calendar=calendar, years=[year] if year else None
        )
    except ValidationError as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect(_detail_url(calendar))
    if result.years:
        messages.success(
            request,
            _("Official holidays filled in for %(years)s: %(added)d days added.")
            % {"years": ", ".join(map(str, result.years)), "added": result.added},
        )
    if result.unknown_years or not result.years:
        messages.warning(
            request,
            _(
                "The official schedule is not known yet for %(years)s: add those days by "
                "hand or import them."
            )
            % {"years": ", ".join(map(str, result.unknown_years)) or "—"},
        )
    return redirect(_detail_url(calendar, year))


# ----------------------------------------------------------------------------- policies


def _policy(request, pk) -> SlaPolicy:
    return get_visible(
        SlaPolicy.objects.filter(company=request.estate.company).select_related("company"),
        request.user,
        VIEW,
        pk=pk,
    )


def _managed_estates(request):
    """The estates whose rules this person may set: all of the company's for company-wide
    managers, else the ones they manage."""
    company = request.estate.company
    estates = Estate.objects.filter(company=company)
    if services.is_company_wide_manager(request.user, company.pk):
        return estates
    return estates.filter(pk__in=[g.estate_id for g in grants_of(request.user)])


@manager_page
def policy_list(request):
    company = request.estate.company
    saved = list(
        SlaPolicy.objects.restrict(request.user, VIEW)
        .filter(company=company)
        .select_related("estate")
    )
    rows = saved or policies.default_policies(company.pk)
    context = {
        "policies": [(policy, _targets_in_words(policy)) for policy in rows],
        "built_in": not saved,
        "company_wide": services.is_company_wide_manager(request.user, company.pk),
        "chain": policies.escalation_chain(company.pk, request.estate.pk),
    }
    return render(request, "sla/policy_list.html", context)


def _targets_in_words(policy: SlaPolicy) -> list[tuple[str, str]]:
    words = []
    for target, label in Target.choices:
        minutes = policy.minutes_of(target)
        if minutes:
            clock = Clock(policy.clock_of(target)).label
            words.append(
                (label, _("%(span)s, %(clock)s") % {"span": _minutes(minutes), "clock": clock})
            )
    return words


def _minutes(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    if hours and rest:
        return _("%(h)d h %(m)d min") % {"h": hours, "m": rest}
    if hours:
        return _("%(h)d h") % {"h": hours}
    return _("%(m)d min") % {"m": rest}


@manager_page
@require_POST
def policy_adopt(request):
    try:
        services.sla_policies_adopt_defaults(actor=request.user, company=request.estate.company)
    except PermissionDenied as exc:
        messages.error(request, str(exc))
    return redirect("sla:policy_list")


@manager_page
def policy_create(request):
    form = PolicyForm(_posted(request), estates=_managed_estates(request))
    return _form_page(
        request,
        form,
        save=lambda data: services.sla_policy_save(
            actor=request.user, company=request.estate.company, **data
        ),
        done=lambda saved: reverse("sla:policy_list"),
        title=_("New SLA policy"),
        back_url=reverse("sla:policy_list"),
        refusal_on_form=True,
    )


@manager_page
def policy_edit(request, pk):
    policy = _policy(request, pk)
    form = PolicyForm(
        _posted(request),
        instance=SlaPolicy.objects.get(pk=policy.pk),
        estates=_managed_estates(request),
    )
    return _form_page(
        request,
        form,
        save=lambda data: services.sla_policy_save(
            actor=request.user, company=request.estate.company, policy=policy, **data
        ),
        done=lambda saved: reverse("sla:policy_list"),
        title=_("Edit %(name)s") % {"name": policy.name},
        back_url=reverse("sla:policy_list"),
        refusal_on_form=True,
    )


@manager_page
def policy_delete(request, pk):
    policy = _policy(request, pk)
    return _confirm_page(
        request,
        action=lambda: services.sla_policy_delete(actor=request.user, policy=policy),
        done=reverse("sla:policy_list"),
        title=_("Delete %(name)s") % {"name": policy.name},
        question=_(
            "Delete the SLA policy “%(name)s”? New requests it matched follow the next most "
            "specific policy."
        )
        % {"name": policy.name},
    )


@manager_page
def escalation_edit(request):
    """The chain of the current estate (?scope=estate) or of the whole company."""
    estate = request.estate if request.GET.get("scope") == "estate" else None
    company = request.estate.company
    steps = list(
        EscalationStep.objects.filter(company=company, estate=estate).order_by("level")
    ) or (policies.default_chain(company.pk) if estate is None else [])
    form = EscalationForm(_posted(request), steps=steps)
    title = (
        _("Escalation chain of %(estate)s") % {"estate": estate.name}
        if estate
        else _("Escalation chain of the company")
    )
    return _form_page(
        request,
        form,
        save=lambda data: services.escalation_chain_set(
            actor=request.user, company=company, estate=estate, steps=form.steps
        ),
        done=lambda saved: reverse("sla:policy_list"),
        title=title,
        back_url=reverse("sla:policy_list"),
        refusal_on_form=True,
    )


# ----------------------------------------------------------------------------- on-time report


@manager_page
def report(request):
    form = ReportForm(request.GET or None)
    today = timezone.localdate()
    data = form.cleaned_data if form.is_valid() else {}
    start = data.get("start") or today.replace(day=1)
    end = data.get("end") or today
    by = data.get("by") or "estate"
    zone = timezone.get_current_timezone()
    rows = selectors.on_time_rates(
        request.user,
        company_id=request.estate.company_id,
        start=datetime.combine(start, time.min, zone),
        end=datetime.combine(end + timedelta(days=1), time.min, zone),
        by=by,
    )
    if not form.is_bound:
        form = ReportForm(initial={"start": start, "end": end, "by": by})
    context = {"form": form, "rows": rows, "targets": Target.choices, "start": start, "end": end}
    return render(request, "sla/report.html", context)
