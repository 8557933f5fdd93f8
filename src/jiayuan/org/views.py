"""The estate pages for managers and staff, and the resident's own units.

Views are thin: they parse input, call one service or selector of this app and render.
Lists follow the estate switcher (request.estate). An object is looked up through
restrict(), so a missing and a forbidden object are the same 404; an object the user may
see but not change answers 403 (the services raise PermissionDenied)."""

from collections.abc import Callable

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.paginator import Paginator
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from jiayuan.core.access import (
    ADD,
    CHANGE,
    DELETE,
    can_in_estate,
    ensure_allowed,
    ensure_can_in_estate,
    get_visible,
)
from jiayuan.core.forms import add_service_errors
from jiayuan.core.roles import Role
from jiayuan.core.views import staff_page
from jiayuan.org import selectors, services
from jiayuan.org.forms import (
    BuildingForm,
    CommonAreaForm,
    EstateForm,
    GrantForm,
    MoveInForm,
    MoveOutForm,
    NewPasswordForm,
    ResidentCreateForm,
    ResidentForm,
    StaffAddForm,
    TeamForm,
    TeamMemberForm,
    UnitCreateForm,
    UnitFilterForm,
    UnitForm,
)
from jiayuan.org.models import (
    Building,
    CommonArea,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

PAGE_SIZE = 50


def _posted(request):
    return request.POST if request.method == "POST" else None


def _page(request, queryset):
    return Paginator(queryset, PAGE_SIZE).get_page(request.GET.get("page"))


def _list_template(request, template: str) -> str:
    """The results alone for htmx's live filtering; the whole page for everything else,
    including the browser restoring a pushed URL from its history."""
    if request.htmx and not request.htmx.history_restore_request:
        return f"{template}#results"
    return template


def _initial(instance, form_class) -> dict:
    return {name: getattr(instance, name) for name in form_class.base_fields}


def _form_page(
    request,
    form,
    *,
    save: Callable[[dict], object],
    done: Callable[[object], str],
    title: str,
    back_url: str,
    submit_label: str | None = None,
    refusal_on_form: bool = False,
):
    """Render `form`; on a valid POST run `save` (one service call) and redirect to
    `done(result)`. The service's validation errors land on the form's fields. With
    `refusal_on_form`, a refusal (PermissionDenied) is shown on the form with status 403,
    for forms whose choices include what only some people may pick."""
    status = 200
    if request.method == "POST" and form.is_valid():
        try:
            result = save(form.cleaned_data)
        except ValidationError as exc:
            add_service_errors(form, exc)
        except PermissionDenied as exc:
            if not refusal_on_form:
                raise
            form.add_error(None, str(exc))
            status = 403
        else:
            messages.success(request, _("Saved."))
            return redirect(done(result))
    context = {
        "form": form,
        "title": title,
        "back_url": back_url,
        "submit_label": submit_label or _("Save"),
    }
    return render(request, "org/form.html", context, status=status)


def _edit_page(request, instance, form_class, *, update, back_url: str, **form_kwargs):
    """The edit form of an object the user sees: 403 unless they may change it. `update`
    calls the entity's update service with the form's data."""
    ensure_allowed(request.user, CHANGE, instance)
    form = form_class(_posted(request), initial=_initial(instance, form_class), **form_kwargs)
    return _form_page(
        request,
        form,
        save=update,
        done=lambda saved: back_url,
        title=_("Edit %(name)s") % {"name": instance},
        back_url=back_url,
    )


def _confirm_page(request, *, action: Callable[[], None], done: str, title: str, question: str):
    """GET asks; POST runs the service call. A refusal with a reason is shown on the page."""
    errors = []
    if request.method == "POST":
        try:
            action()
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Deleted."))
            return redirect(done)
    context = {"title": title, "question": question, "errors": errors, "back_url": done}
    return render(request, "core/confirm.html", context)


# ----------------------------------------------------------------------------- estates


@staff_page
def estate_list(request):
    estates = selectors.estate_list(request.user)
    return render(request, "org/estate_list.html", {"estates": estates})


@staff_page
def estate_detail(request, pk):
    estate = get_visible(Estate.objects.select_related("company"), request.user, pk=pk)
    context = {
        "estate": estate,
        "can_change": can_in_estate(request.user, Estate, CHANGE, estate),
        **selectors.estate_overview(request.user, estate),
    }
    return render(request, "org/estate_detail.html", context)


@staff_page
def estate_edit(request, pk):
    estate = get_visible(Estate, request.user, pk=pk)
    return _edit_page(
        request,
        estate,
        EstateForm,
        update=lambda data: services.estate_update(actor=request.user, estate=estate, **data),
        back_url=reverse("org:estate_detail", args=[estate.pk]),
    )


# ----------------------------------------------------------------------------- buildings


@staff_page
def building_list(request):
    context = {
        "buildings": selectors.building_list(request.user, estate=request.estate),
        "can_add": can_in_estate(request.user, Building, ADD, request.estate),
    }
    return render(request, "org/building_list.html", context)


@staff_page
def building_detail(request, pk):
    building = get_visible(Building.objects.select_related("estate"), request.user, pk=pk)
    context = {
        "building": building,
        "page": _page(request, selectors.units_of_building(request.user, building)),
        "common_areas": selectors.common_area_list(request.user).filter(building=building),
        "can_change": can_in_estate(request.user, Building, CHANGE, building.estate),
        "can_add_unit": can_in_estate(request.user, Unit, ADD, building.estate),
    }
    return render(request, "org/building_detail.html", context)


@staff_page
def building_create(request):
    ensure_can_in_estate(request.user, Building, ADD, request.estate)
    return _form_page(
        request,
        BuildingForm(_posted(request)),
        save=lambda data: services.building_create(
            actor=request.user, estate=request.estate, **data
        ),
        done=lambda building: reverse("org:building_detail", args=[building.pk]),
        title=_("New building"),
        back_url=reverse("org:building_list"),
    )


@staff_page
def building_edit(request, pk):
    building = get_visible(Building, request.user, pk=pk)
    return _edit_page(
        request,
        building,
        BuildingForm,
        update=lambda data: services.building_update(actor=request.user, building=building, **data),
        back_url=reverse("org:building_detail", args=[building.pk]),
    )


@staff_page
def building_delete(request, pk):
    building = get_visible(Building, request.user, pk=pk)
    ensure_allowed(request.user, DELETE, building)
    return _confirm_page(
        request,
        action=lambda: services.building_delete(actor=request.user, building=building),
        done=reverse("org:building_list"),
        title=_("Delete %(name)s") % {"name": building.name},
        question=_("Delete the building %(name)s? This cannot be undone.")
        % {"name": building.name},
    )


# ----------------------------------------------------------------------------- units


@staff_page
def unit_list(request):
    buildings = selectors.building_choices(request.user, request.estate)
    filters = UnitFilterForm(request.GET, buildings=buildings)
    filters.is_valid()  # a bad filter is reported on the form and left out of the query
    chosen = filters.cleaned_data
    units = selectors.unit_list(
        request.user,
        estate=request.estate,
        building=chosen.get("building"),
        status=chosen.get("status"),
        search=chosen.get("q"),
    )
    context = {
        "filters": filters,
        "page": _page(request, units),
        "can_add": can_in_estate(request.user, Unit, ADD, request.estate),
    }
    return render(request, _list_template(request, "org/unit_list.html"), context)


@login_required
def unit_detail(request, pk):
    """Staff see every residency of the unit; a resident sees only their own home, and in
    it only their own residency (restrict() does both)."""
    unit = get_visible(Unit.objects.select_related("building", "estate"), request.user, pk=pk)
    residencies = list(selectors.residencies_of_unit(request.user, unit))
    selectors.with_shown_mobiles(request.user, [r.resident for r in residencies], unit.estate)
    context = {
        "unit": unit,
        "current": [r for r in residencies if r.is_current],
        "past": [r for r in residencies if not r.is_current],
        "can_change": can_in_estate(request.user, Unit, CHANGE, unit.estate),
        "can_add_resident": can_in_estate(request.user, Resident, ADD, unit.estate),
    }
    return render(request, "org/unit_detail.html", context)


@staff_page
def unit_create(request):
    ensure_can_in_estate(request.user, Unit, ADD, request.estate)
    buildings = selectors.building_choices(request.user, request.estate)
    form = UnitCreateForm(
        _posted(request), buildings=buildings, initial={"building": request.GET.get("building")}
    )

    def save(data):
        building = data.pop("building")
        return services.unit_create(actor=request.user, building=building, **data)

    return _form_page(
        request,
        form,
        save=save,
        done=lambda unit: reverse("org:unit_detail", args=[unit.pk]),
        title=_("New unit"),
        back_url=reverse("org:unit_list"),
    )


@staff_page
def unit_edit(request, pk):
    unit = get_visible(Unit.objects.select_related("building"), request.user, pk=pk)
    return _edit_page(
        request,
        unit,
        UnitForm,
        update=lambda data: services.unit_update(actor=request.user, unit=unit, **data),
        back_url=reverse("org:unit_detail", args=[unit.pk]),
    )


@staff_page
def unit_delete(request, pk):
    unit = get_visible(Unit.objects.select_related("building"), request.user, pk=pk)
    ensure_allowed(request.user, DELETE, unit)
    return _confirm_page(
        request,
        action=lambda: services.unit_delete(actor=request.user, unit=unit),
        done=reverse("org:building_detail", args=[unit.building_id]),
        title=_("Delete %(name)s") % {"name": unit.label},
        question=_("Delete the unit %(name)s? This cannot be undone.") % {"name": unit.label},
    )


# ----------------------------------------------------------------------------- common areas


@staff_page
def common_area_list(request):
    context = {
        "areas": selectors.common_area_list(request.user, estate=request.estate),
        "can_add": can_in_estate(request.user, CommonArea, ADD, request.estate),
        "can_change": can_in_estate(request.user, CommonArea, CHANGE, request.estate),
    }
    return render(request, "org/common_area_list.html", context)


@staff_page
def common_area_create(request):
    ensure_can_in_estate(request.user, CommonArea, ADD, request.estate)
    buildings = selectors.building_choices(request.user, request.estate)
    return _form_page(
        request,
        CommonAreaForm(_posted(request), buildings=buildings),
        save=lambda data: services.common_area_create(
            actor=request.user, estate=request.estate, **data
        ),
        done=lambda area: reverse("org:common_area_list"),
        title=_("New common area"),
        back_url=reverse("org:common_area_list"),
    )


@staff_page
def common_area_edit(request, pk):
    area = get_visible(CommonArea.objects.select_related("estate"), request.user, pk=pk)
    return _edit_page(
        request,
        area,
        CommonAreaForm,
        update=lambda data: services.common_area_update(actor=request.user, area=area, **data),
        back_url=reverse("org:common_area_list"),
        buildings=selectors.building_choices(request.user, area.estate),
    )


@staff_page
def common_area_delete(request, pk):
    area = get_visible(CommonArea, request.user, pk=pk)
    ensure_allowed(request.user, DELETE, area)
    return _confirm_page(
        request,
        action=lambda: services.common_area_delete(actor=request.user, area=area),
        done=reverse("org:common_area_list"),
        title=_("Delete %(name)s") % {"name": area.name},
        question=_("Delete the common area %(name)s? This cannot be undone.") % {"name": area.name},
    )


# ----------------------------------------------------------------------------- residents


@staff_page
def resident_list(request):
    search = request.GET.get("q", "")[:100]
    page = _page(
        request, selectors.resident_list(request.user, estate=request.estate, search=search)
    )
    selectors.with_shown_mobiles(request.user, page.object_list, request.estate)
    context = {
        "page": page,
        "search": search,
        "can_add": can_in_estate(request.user, Resident, ADD, request.estate),
    }
    return render(request, _list_template(request, "org/resident_list.html"), context)


@staff_page
def resident_detail(request, pk):
    resident = get_visible(Resident, request.user, pk=pk)
    selectors.with_shown_mobiles(request.user, [resident], request.estate)
    residencies = list(selectors.residencies_of_resident(request.user, resident))
    context = {
        "resident": resident,
        "current": [r for r in residencies if r.is_current],
        "past": [r for r in residencies if not r.is_current],
        "can_change": can_in_estate(request.user, Resident, CHANGE, request.estate),
        "can_move": can_in_estate(request.user, Residency, CHANGE, request.estate),
        "move_out_form": MoveOutForm(),
    }
    return render(request, "org/resident_detail.html", context)


@staff_page
def resident_create(request):
    ensure_can_in_estate(request.user, Resident, ADD, request.estate)
    units = selectors.unit_list(request.user, estate=request.estate)
    form = ResidentCreateForm(
        _posted(request), units=units, initial={"unit": request.GET.get("unit")}
    )
    return _form_page(
        request,
        form,
        save=lambda data: services.resident_create(
            actor=request.user, estate=request.estate, **data
        ),
        done=lambda resident: reverse("org:resident_detail", args=[resident.pk]),
        title=_("Register a resident"),
        back_url=reverse("org:resident_list"),
    )


@staff_page
def resident_edit(request, pk):
    resident = get_visible(Resident, request.user, pk=pk)
    return _edit_page(
        request,
        resident,
        ResidentForm,
        update=lambda data: services.resident_update(actor=request.user, resident=resident, **data),
        back_url=reverse("org:resident_detail", args=[resident.pk]),
    )


@staff_page
def residency_start(request, pk):
    resident = get_visible(Resident, request.user, pk=pk)
    ensure_can_in_estate(request.user, Residency, ADD, request.estate)
    units = selectors.unit_list(request.user, estate=request.estate)
    return _form_page(
        request,
        MoveInForm(_posted(request), units=units),
        save=lambda data: services.residency_start(actor=request.user, resident=resident, **data),
        done=lambda residency: reverse("org:resident_detail", args=[resident.pk]),
        title=_("Move %(name)s in") % {"name": resident.name},
        back_url=reverse("org:resident_detail", args=[resident.pk]),
        submit_label=_("Move in"),
    )


@staff_page
def residency_end(request, pk):
    residency = get_visible(
        Residency.objects.select_related("resident", "unit__building", "unit__estate"),
        request.user,
        pk=pk,
    )
    ensure_allowed(request.user, CHANGE, residency)
    return _form_page(
        request,
        MoveOutForm(_posted(request)),
        save=lambda data: services.residency_end(actor=request.user, residency=residency, **data),
        done=lambda residency: reverse("org:resident_detail", args=[residency.resident_id]),
        title=_("%(name)s moves out of %(unit)s")
        % {"name": residency.resident.name, "unit": residency.unit.label},
        back_url=reverse("org:resident_detail", args=[residency.resident_id]),
        submit_label=_("Move out"),
    )


@staff_page
def resident_portal(request, pk):
    resident = get_visible(Resident, request.user, pk=pk)
    ensure_allowed(request.user, CHANGE, resident)
    if resident.user_id:
        messages.info(request, _("This resident already has a portal account."))
        return redirect("org:resident_detail", pk=resident.pk)
    form = NewPasswordForm(_posted(request))

    def save(data):
        account = services.resident_open_portal(
            actor=request.user, resident=resident, password=data["password"]
        )
        messages.info(
            request,
            _("%(name)s signs in with the mobile number %(mobile)s and this password.")
            % {"name": resident.name, "mobile": account.mobile},
        )
        return account

    return _form_page(
        request,
        form,
        save=save,
        done=lambda account: reverse("org:resident_detail", args=[resident.pk]),
        title=_("Open an owner-portal account for %(name)s") % {"name": resident.name},
        back_url=reverse("org:resident_detail", args=[resident.pk]),
        submit_label=_("Open the account"),
    )


# ----------------------------------------------------------------------------- staff


@staff_page
def staff_list(request):
    people = selectors.staff_people(request.user, estate=request.estate)
    context = {
        "people": people,
        "can_manage": can_in_estate(request.user, Membership, ADD, request.estate),
        "revocable": {
            membership.pk
            for person in people
            for membership in person.memberships
            if services.may_grant(
                request.user,
                estate=membership.estate,
                company=membership.company,
                role=membership.role,
            )
        },
    }
    return render(request, "org/staff_list.html", context)


@staff_page
def staff_add(request):
    ensure_can_in_estate(request.user, Membership, ADD, request.estate)
    return _form_page(
        request,
        StaffAddForm(_posted(request)),
        save=lambda data: services.staff_add(
            actor=request.user,
            estate=request.estate,
            username=data["username"],
            name=data["name"],
            role=data["role"],
            password=data["password"],
            mobile=data["mobile"],
            email=data["email"],
        ),
        done=lambda membership: reverse("org:staff_list"),
        title=_("Add a staff member"),
        back_url=reverse("org:staff_list"),
        refusal_on_form=True,
    )


@staff_page
def membership_grant(request):
    ensure_can_in_estate(request.user, Membership, ADD, request.estate)
    people = selectors.staff_of_company(request.user, request.estate.company)
    form = GrantForm(_posted(request), people=people, initial={"user": request.GET.get("user")})

    def save(data):
        # A company admin's role covers the whole company; every other role one estate.
        estate = None if data["role"] == Role.COMPANY_ADMIN else request.estate
        return services.membership_grant(
            actor=request.user,
            user=data["user"],
            estate=estate,
            role=data["role"],
            company=request.estate.company,
        )

    return _form_page(
        request,
        form,
        save=save,
        done=lambda membership: reverse("org:staff_list"),
        title=_("Grant a role"),
        back_url=reverse("org:staff_list"),
        submit_label=_("Grant"),
        refusal_on_form=True,
    )


@require_POST
@staff_page
def membership_revoke(request, pk):
    membership = get_visible(
        Membership.objects.select_related("user", "estate", "company"), request.user, pk=pk
    )
    try:
        services.membership_revoke(actor=request.user, membership=membership)
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
    else:
        messages.success(
            request,
            _("%(role)s removed from %(name)s.")
            % {"role": membership.get_role_display(), "name": membership.user},
        )
    return redirect("org:staff_list")


# ----------------------------------------------------------------------------- teams


@staff_page
def team_list(request):
    context = {
        "teams": selectors.team_list(request.user, estate=request.estate),
        "can_add": can_in_estate(request.user, Team, ADD, request.estate),
    }
    return render(request, "org/team_list.html", context)


@staff_page
def team_detail(request, pk):
    team = get_visible(Team.objects.select_related("estate", "lead"), request.user, pk=pk)
    can_change = can_in_estate(request.user, Team, CHANGE, team.estate)
    people = selectors.staff_of_estate(request.user, team.estate)
    context = {
        "team": team,
        "members": selectors.team_members(request.user, team),
        "can_change": can_change,
        "add_form": TeamMemberForm(people=people) if can_change else None,
    }
    return render(request, "org/team_detail.html", context)


@staff_page
def team_create(request):
    ensure_can_in_estate(request.user, Team, ADD, request.estate)
    people = selectors.staff_of_estate(request.user, request.estate)
    return _form_page(
        request,
        TeamForm(_posted(request), people=people),
        save=lambda data: services.team_create(actor=request.user, estate=request.estate, **data),
        done=lambda team: reverse("org:team_detail", args=[team.pk]),
        title=_("New team"),
        back_url=reverse("org:team_list"),
    )


@staff_page
def team_edit(request, pk):
    team = get_visible(Team.objects.select_related("estate"), request.user, pk=pk)
    return _edit_page(
        request,
        team,
        TeamForm,
        update=lambda data: services.team_update(actor=request.user, team=team, **data),
        back_url=reverse("org:team_detail", args=[team.pk]),
        people=selectors.staff_of_estate(request.user, team.estate),
    )


@staff_page
def team_member_add(request, pk):
    team = get_visible(Team.objects.select_related("estate"), request.user, pk=pk)
    ensure_allowed(request.user, CHANGE, team)
    people = selectors.staff_of_estate(request.user, team.estate)
    return _form_page(
        request,
        TeamMemberForm(_posted(request), people=people),
        save=lambda data: services.team_member_add(actor=request.user, team=team, **data),
        done=lambda member: reverse("org:team_detail", args=[team.pk]),
        title=_("Add a member to %(name)s") % {"name": team.name},
        back_url=reverse("org:team_detail", args=[team.pk]),
        submit_label=_("Add"),
    )


@require_POST
@staff_page
def team_member_remove(request, pk):
    member = get_visible(
        TeamMember.objects.select_related("team__estate", "user"), request.user, pk=pk
    )
    services.team_member_remove(actor=request.user, member=member)
    messages.success(request, _("%(name)s left the team.") % {"name": member.user})
    return redirect("org:team_detail", pk=member.team_id)


# ----------------------------------------------------------------------------- residents' own


@login_required
def my_units(request):
    if not selectors.is_resident(request.user):
        raise Http404
    residencies = selectors.my_residencies(request.user)
    return render(request, "org/my_units.html", {"residencies": residencies})
