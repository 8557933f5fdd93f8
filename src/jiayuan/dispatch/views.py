"""/dispatch/: technician profiles and dispatch modes for the estate's managers and
dispatchers, the grab pool for technicians, and the ranked suggestions the desk's
dispatch form loads. Views are thin: they parse input, call a service or a selector and
render."""

from datetime import time
from functools import wraps

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404
from django.shortcuts import redirect, render
from django.utils.text import get_text_list
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiayuan.core.access import VIEW, get_visible, roles_in_estate
from jiayuan.core.roles import Role
from jiayuan.dispatch import selectors, services
from jiayuan.dispatch.models import (
    DISPATCH_KEEPERS,
    SKILL_LEVELS,
    DispatchRule,
    Mode,
    TechnicianProfile,
    on_duty,
)
from jiayuan.org.models import Building, Membership, Team
from jiayuan.servicedesk.models import Category, ServiceRequest
from jiayuan.servicedesk.services import RequestChanged, allowed_transitions
from jiayuan.sla.models import WEEKDAY_NAMES


def keeper_page(view):
    """For the current estate's managers and dispatchers; a 404 for everyone else."""

    @wraps(view)
    def wrapper(request, *args, **kwargs):
        estate = request.estate
        if estate is None:
            raise Http404
        if not (
            request.user.is_superuser or roles_in_estate(request.user, estate) & DISPATCH_KEEPERS
        ):
            raise Http404
        return view(request, *args, **kwargs)

    return login_required(wrapper)


def _error_text(error: ValidationError) -> str:
    if hasattr(error, "message_dict"):
        return " ".join(m for messages_ in error.message_dict.values() for m in messages_)
    return " ".join(error.messages)


# ----------------------------------------------------------------------------- technicians


@keeper_page
def technician_list(request):
    estate = request.estate
    local = selectors.local_now()
    able = selectors.technicians(estate.pk)
    profiled = {a.profile.user_id for a in able}
    missing = (
        Membership.objects.filter(estate=estate, role=Role.TECHNICIAN, is_active=True)
        .exclude(user_id__in=profiled)
        .select_related("user")
    )
    rows = [
        {
            "profile": a.profile,
            "on_duty": on_duty(a.profile.shifts.all(), local),
            "load": a.worker.load,
            "shifts": _shift_words(a.profile),
        }
        for a in able
    ]
    context = {"rows": rows, "missing": [m.user for m in missing]}
    return render(request, "dispatch/technician_list.html", context)


def _shift_words(profile) -> list[str]:
    """One line per working window: "Every day 08:00–18:00", or the days it is worked."""
    days: dict[tuple, list[int]] = {}
    for shift in profile.shifts.all():
        days.setdefault((shift.starts, shift.ends), []).append(shift.weekday)
    words = []
    for (starts, ends), weekdays in days.items():
        when = (
            _("Every day")
            if len(set(weekdays)) == 7
            else get_text_list([str(WEEKDAY_NAMES[d]) for d in sorted(set(weekdays))], _("and"))
        )
        words.append(f"{when} {starts:%H:%M}–{ends:%H:%M}")
    return words


def _parse_time(value: str):
    try:
        return time.fromisoformat(value.strip()) if value and value.strip() else None
    except ValueError:
        raise ValidationError({"shifts": _("Give times as HH:MM.")}) from None


def _posted_profile(post, estate):
    skills = {}
    for code in Category.values:
        raw = post.get(f"skill_{code}", "0") or "0"
        if raw not in {"0", "1", "2", "3"}:
            raise ValidationError({"skills": _("A skill level is 1, 2 or 3 (0 removes it).")})
        skills[code] = int(raw)
    shifts = []
    for day in range(7):
        starts, ends = (
            _parse_time(post.get(f"from_{day}", "")),
            _parse_time(post.get(f"until_{day}", "")),
        )
        if (starts is None) != (ends is None):
            raise ValidationError({"shifts": _("Give both the start and the end of a shift.")})
        if starts is not None:
            shifts.append((day, starts, ends))
    try:
        max_open = int(post.get("max_open", ""))
    except ValueError:
        raise ValidationError(
            {"max_open": _("Most open orders is a number from 1 to 50.")}
        ) from None
    team_id = post.get("team") or None
    team = Team.objects.filter(estate=estate, pk=team_id).first() if team_id else None
    if team_id and team is None:
        raise ValidationError({"team": _("This team works in another estate.")})
    building_ids = post.getlist("buildings")
    buildings = list(Building.objects.filter(estate=estate, pk__in=building_ids))
    if len(buildings) != len(set(building_ids)):
        raise ValidationError({"buildings": _("A building is in another estate.")})
    return {
        "skills": skills,
        "shifts": shifts,
        "max_open": max_open,
        "team": team,
        "buildings": buildings,
        "is_active": post.get("is_active") == "on",
    }


@keeper_page
def technician_edit(request, user_pk):
    estate = request.estate
    membership = (
        Membership.objects.filter(estate=estate, role=Role.TECHNICIAN, user_id=user_pk)
        .select_related("user")
        .first()
    )
    if membership is None:
        raise Http404
    user = membership.user
    profile = TechnicianProfile.objects.filter(user=user, estate=estate).first()
    error = ""
    if request.method == "POST":
        try:
            services.profile_save(
                actor=request.user,
                estate=estate,
                user=user,
                **_posted_profile(request.POST, estate),
            )
        except ValidationError as bad:
            error = _error_text(bad)
        else:
            messages.success(request, _("Saved."))
            return redirect("dispatch:technician_list")
    shifts = {s.weekday: s for s in profile.shifts.all()} if profile else {}
    context = {
        "tech": user,
        "profile": profile,
        "error": error,
        "levels": ((0, _("None")), *SKILL_LEVELS),
        "skills": [
            (code, label, profile.skill_level(code) if profile else 0)
            for code, label in Category.choices
        ],
        "days": [(day, WEEKDAY_NAMES[day], shifts.get(day)) for day in range(7)],
        "teams": Team.objects.filter(estate=estate),
        "buildings": Building.objects.filter(estate=estate),
        "covered": {b.pk for b in profile.buildings.all()} if profile else set(),
        "max_open": profile.max_open if profile else 5,
        "is_active": profile.is_active if profile else True,
    }
    return render(request, "dispatch/technician_edit.html", context)


# ----------------------------------------------------------------------------- modes


@keeper_page
def mode_list(request):
    estate = request.estate
    error = ""
    if request.method == "POST":
        try:
            minutes = int(request.POST.get("grab_minutes") or 10)
        except ValueError:
            minutes = -1
        try:
            services.rule_save(
                actor=request.user,
                estate=estate,
                category=request.POST.get("category", ""),
                mode=request.POST.get("mode", ""),
                grab_minutes=minutes,
            )
        except ValidationError as bad:
            error = _error_text(bad)
        else:
            messages.success(request, _("Saved."))
            return redirect("dispatch:mode_list")
    context = {
        "rules": DispatchRule.objects.restrict(request.user, VIEW).filter(estate=estate),
        "modes": Mode.choices,
        "categories": Category.choices,
        "error": error,
    }
    return render(request, "dispatch/mode_list.html", context)


@keeper_page
@require_POST
def mode_delete(request, pk):
    rule = get_visible(
        DispatchRule.objects.filter(estate=request.estate), request.user, VIEW, pk=pk
    )
    services.rule_delete(actor=request.user, rule=rule)
    messages.success(request, _("Deleted."))
    return redirect("dispatch:mode_list")


# ----------------------------------------------------------------------------- grab pool


@login_required
def pool(request):
    offers = services.pool_for(request.user)
    return render(request, "dispatch/pool.html", {"offers": offers})


@login_required
@require_POST
def pool_grab(request, pk):
    try:
        taken = services.grab(actor=request.user, offer_id=pk)
    except (RequestChanged, PermissionDenied) as refused:
        messages.error(request, " ".join(getattr(refused, "messages", [str(refused)])))
        return redirect("dispatch:pool")
    messages.success(request, _("The order is yours: %(number)s.") % {"number": taken.number})
    return redirect("servicedesk:tech_detail", taken.pk)


# ----------------------------------------------------------------------------- suggestions


@login_required
def suggest(request, request_pk):
    """The ranked technicians for one request, for the desk's dispatch form."""
    service_request = get_visible(
        ServiceRequest.objects.select_related("estate"), request.user, VIEW, pk=request_pk
    )
    if not any(t.action == "dispatch" for t in allowed_transitions(request.user, service_request)):
        raise Http404
    ranked = selectors.suggestions(service_request)
    context = {"req": service_request, "ranked": ranked, "mode": _mode_words(service_request)}
    return render(request, "dispatch/_suggestions.html", context)


def _mode_words(service_request) -> str:
    mode = selectors.mode_for(
        selectors.rules_of(service_request.estate_id), service_request.category
    )
    return str(Mode(mode).label)
