"""/training/: courses, sessions with their attendance, certificates, the team matrix and
the training gaps for managers; every staff member's own record ("My training"). Views
parse input, call one service or selector and render. Lists follow the estate switcher."""

from collections.abc import Callable
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

from jiayuan.accounts.models import User
from jiayuan.core.access import (
    ADD,
    CHANGE,
    DELETE,
    VIEW,
    can_in_estate,
    get_visible,
    roles_in_estate,
)
from jiayuan.core.forms import add_service_errors
from jiayuan.core.views import staff_page
from jiayuan.training import selectors, services
from jiayuan.training.forms import (
    ATTENDANCE_CHOICES,
    CertificateFilterForm,
    CertificateForm,
    CourseForm,
    SessionForm,
    SettingsForm,
)
from jiayuan.training.models import KEEPERS, Certificate, Course, Session

PAGE_SIZE = 50


def keeper_page(view):
    """For the managers of the current estate; a 404 for everyone else."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not _is_keeper(request):
            raise Http404
        return view(request, *args, **kwargs)

    return staff_page(wrapper)


def _posted(request):
    return request.POST if request.method == "POST" else None


def _is_keeper(request) -> bool:
    roles = roles_in_estate(request.user, request.estate)
    return request.user.is_superuser or bool(roles & KEEPERS)


def _form_page(
    request,
    form,
    *,
    save: Callable[[dict], object],
    back_url: str,
    title: str,
    done: Callable[[object], str] | None = None,
):
    """Render `form`; on a valid POST run `save` (one service call) and go to
    `done(result)` (back where the page came from by default). The service's validation
    errors land on the form's fields."""
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        else:
            messages.success(request, _("Saved."))
            return redirect(done(result) if done else back_url)
    context = {"form": form, "title": title, "back_url": back_url}
    return render(request, "training/form.html", context, status=400 if form.errors else 200)


# ----------------------------------------------------------------------------- overview


@staff_page
def index(request):
    return redirect("training:team" if _is_keeper(request) else "training:mine")


@keeper_page
def team(request):
    today = timezone.localdate()
    courses, rows = selectors.team_status(request.user, request.estate, today)
    context = {"courses": courses, "rows": rows, "today": today}
    return render(request, "training/team.html", context)


@keeper_page
def gaps(request):
    today = timezone.localdate()
    found = selectors.training_gaps(request.user, today, estate=request.estate)
    return render(request, "training/gaps.html", {"gaps": found, "today": today})


@staff_page
def mine(request):
    return _record_page(request, request.user.pk)


@staff_page
def staff_record(request, user_pk):
    return _record_page(request, user_pk)


def _record_page(request, person_pk: int):
    record = selectors.staff_record(request.user, person_pk, timezone.localdate())
    context = {"record": record, "is_self": person_pk == request.user.pk}
    return render(request, "training/record.html", context)


@staff_page
def settings_edit(request):
    company = request.estate.company
    if not selectors.is_company_admin(request.user, company):
        raise Http404
    initial = {"warning_days": ", ".join(map(str, selectors.warning_days_of(company)))}
    return _form_page(
        request,
        SettingsForm(_posted(request), initial=initial),
        save=lambda data: services.settings_update(
            actor=request.user, company=company, warning_days=data["warning_days"]
        ),
        back_url=reverse("training:certificate_list"),
        title=_("Certificate warnings"),
    )


# ----------------------------------------------------------------------------- courses


@staff_page
def course_list(request):
    context = {
        "courses": selectors.course_list(request.user, request.estate.company),
        "can_add": _is_keeper(request),
    }
    return render(request, "training/course_list.html", context)


@keeper_page
def course_create(request):
    return _form_page(
        request,
        CourseForm(_posted(request)),
        save=lambda data: services.course_create(
            actor=request.user, company=request.estate.company, **data
        ),
        back_url=reverse("training:course_list"),
        title=_("New course"),
    )


@keeper_page
def course_edit(request, pk):
    course = get_visible(Course, request.user, CHANGE, pk=pk)
    initial = {name: getattr(course, name) for name in CourseForm.base_fields}
    return _form_page(
        request,
        CourseForm(_posted(request), initial=initial),
        save=lambda data: services.course_update(actor=request.user, course=course, **data),
        back_url=reverse("training:course_list"),
        title=_("Edit %(name)s") % {"name": course.title},
    )


# ----------------------------------------------------------------------------- sessions


@staff_page
def session_list(request):
    sessions = selectors.session_list(request.user, request.estate)
    context = {
        "page": Paginator(sessions, PAGE_SIZE).get_page(request.GET.get("page")),
        "can_add": can_in_estate(request.user, Session, ADD, request.estate),
    }
    return render(request, "training/session_list.html", context)


@keeper_page
def session_create(request):
    estate = request.estate
    form = SessionForm(
        _posted(request),
        courses=selectors.course_list(request.user, estate.company).filter(is_active=True),
        trainers=User.objects.filter(
            memberships__company=estate.company, memberships__is_active=True
        )
        .distinct()
        .order_by("name", "pk"),
    )

    def save(data):
        whole_company = data.pop("whole_company")
        return services.session_create(
            actor=request.user, estate=None if whole_company else estate, **data
        )

    return _form_page(
        request,
        form,
        save=save,
        back_url=reverse("training:session_list"),
        done=lambda session: reverse("training:session_detail", args=[session.pk]),
        title=_("New session"),
    )


@staff_page
def session_detail(request, pk):
    session = get_visible(
        Session.objects.select_related("course", "estate", "trainer"), request.user, pk=pk
    )
    attendees = list(selectors.attendees_of(request.user, session))
    context = {
        "session": session,
        "attendees": attendees,
        "has_ended": session.ends_at <= timezone.now(),
        "can_record": Session.objects.restrict(request.user, CHANGE).filter(pk=session.pk).exists(),
        "can_cancel": Session.objects.restrict(request.user, DELETE).filter(pk=session.pk).exists()
        and not any(a.status != a.Status.INVITED for a in attendees),
    }
    return render(request, "training/session_detail.html", context)


def _posted_attendance(post, attendees) -> list[dict]:
    """The rows the form filled in. A score that is not a number goes to the service as
    typed, which reports it on its row."""
    rows = []
    for seat in attendees:
        status = post.get(f"status_{seat.user_id}", "")
        if not status or status == seat.Status.INVITED:
            continue
        raw = post.get(f"score_{seat.user_id}", "").strip()[:10]
        score = int(raw) if raw.isdigit() else (raw or None)
        rows.append({"user": seat.user_id, "status": status, "score": score})
    return rows


@staff_page
def session_attendance(request, pk):
    session = get_visible(Session.objects.select_related("course", "estate"), request.user, pk=pk)
    get_visible(Session, request.user, CHANGE, pk=pk)
    attendees = list(selectors.attendees_of(request.user, session))
    errors, general = {}, []
    if request.method == "POST":
        rows = _posted_attendance(request.POST, attendees)
        try:
            services.attendance_record(actor=request.user, session=session, rows=rows)
        except ValidationError as exc:
            general, errors = _row_errors(exc, rows)
        else:
            messages.success(request, _("Attendance saved."))
            return redirect("training:session_detail", session.pk)
    lines = [
        {
            "seat": seat,
            "status": request.POST.get(f"status_{seat.user_id}", seat.status)
            if request.method == "POST"
            else seat.status,
            "score": request.POST.get(f"score_{seat.user_id}", "")
            if request.method == "POST"
            else ("" if seat.score is None else seat.score),
            "errors": errors.get(seat.user_id, []),
        }
        for seat in attendees
    ]
    context = {
        "session": session,
        "lines": lines,
        "choices": ATTENDANCE_CHOICES,
        "errors": general,
        "has_ended": session.ends_at <= timezone.now(),
    }
    return render(
        request, "training/attendance.html", context, status=400 if errors or general else 200
    )


def _row_errors(exc: ValidationError, rows: list[dict]) -> tuple[list[str], dict[int, list[str]]]:
    """The service names a row by its place in what was sent; the page shows it by person."""
    if not hasattr(exc, "error_dict"):
        return exc.messages, {}
    general, by_person = [], {}
    for key, messages_ in exc.message_dict.items():
        parts = key.split(".")
        if len(parts) == 3 and parts[1].isdigit() and int(parts[1]) < len(rows):
            by_person.setdefault(rows[int(parts[1])]["user"], []).extend(messages_)
        else:
            general.extend(messages_)
    return general, by_person


@staff_page
def session_delete(request, pk):
    session = get_visible(Session.objects.select_related("course"), request.user, DELETE, pk=pk)
    errors = []
    if request.method == "POST":
        try:
            services.session_delete(actor=request.user, session=session)
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("The session is cancelled."))
            return redirect("training:session_list")
    context = {
        "title": _("Cancel %(name)s") % {"name": session},
        "question": _("Cancel this session and its invitations?"),
        "errors": errors,
        "back_url": reverse("training:session_detail", args=[session.pk]),
        "confirm_label": _("Cancel the session"),
        "back_label": _("Back"),
    }
    return render(request, "core/confirm.html", context, status=400 if errors else 200)


# ----------------------------------------------------------------------------- certificates


@staff_page
def certificate_list(request):
    today = timezone.localdate()
    soon = selectors.soon_days_of(request.estate.company)
    filters = CertificateFilterForm(request.GET, estates=list(selectors.kept_estates(request.user)))
    filters.is_valid()  # a bad filter is reported on the form and left out of the query
    chosen = filters.cleaned_data
    certificates = selectors.certificate_list(
        request.user,
        today=today,
        soon_days=soon,
        kind=chosen.get("kind"),
        state=chosen.get("state"),
        estate=chosen.get("estate"),
    )
    page = Paginator(certificates, PAGE_SIZE).get_page(request.GET.get("page"))
    context = {
        "filters": filters,
        "page": page,
        "soon_days": soon,
        "can_add": can_in_estate(request.user, Certificate, ADD, request.estate),
        "can_configure": selectors.is_company_admin(request.user, request.estate.company),
    }
    return render(request, "training/certificate_list.html", context)


def _holders(estate):
    return (
        User.objects.filter(memberships__estate=estate, memberships__is_active=True)
        .distinct()
        .order_by("name", "pk")
    )


@keeper_page
def certificate_create(request):
    estate = request.estate
    form = CertificateForm(_posted(request), request.FILES or None, holders=_holders(estate))

    def save(data):
        return services.certificate_create(actor=request.user, estate=estate, **data)

    return _form_page(
        request,
        form,
        save=save,
        back_url=reverse("training:certificate_list"),
        title=_("New certificate"),
    )


@staff_page
def certificate_edit(request, pk):
    certificate = get_visible(
        Certificate.objects.select_related("holder"), request.user, CHANGE, pk=pk
    )
    initial = {name: getattr(certificate, name) for name in CertificateForm.base_fields}
    form = CertificateForm(_posted(request), request.FILES or None, initial=initial)
    return _form_page(
        request,
        form,
        save=lambda data: services.certificate_update(
            actor=request.user, certificate=certificate, **data
        ),
        back_url=reverse("training:certificate_list"),
        title=_("Certificate of %(name)s") % {"name": certificate.holder.get_short_name()},
    )


@login_required
def certificate_scan(request, pk):
    """The scan, to whoever may see the certificate: photos shown, PDFs downloaded."""
    certificate = get_visible(Certificate, request.user, VIEW, pk=pk)
    if not certificate.scan:
        raise Http404
    is_pdf = certificate.scan_is_pdf
    response = FileResponse(
        certificate.scan.open("rb"),
        as_attachment=is_pdf,
        filename=f"certificate-{certificate.pk}.pdf" if is_pdf else None,
    )
    response["Cache-Control"] = "private, max-age=3600"
    return response
