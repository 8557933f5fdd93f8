"""Estates and people in the back office. Estates, buildings, units, common areas, teams
and residents are edited through org.services; companies, residencies and memberships are
read-only here (their pages handle moves and roles)."""

from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from jiayuan.core.admin import ReadOnlyAdmin, ServiceAdmin
from jiayuan.core.admin_site import admin_site
from jiayuan.core.taxonomy import Category
from jiayuan.org import services
from jiayuan.org.models import (
    Building,
    CommonArea,
    Company,
    Estate,
    Membership,
    Residency,
    Resident,
    Team,
    TeamMember,
    Unit,
)

IN_ESTATE = ("estate", admin.RelatedOnlyFieldListFilter)


@admin.register(Company, site=admin_site)
class CompanyAdmin(ReadOnlyAdmin):
    list_display = ("name", "code", "service_phone")
    search_fields = ("name", "code")


@admin.register(Estate, site=admin_site)
class EstateAdmin(ServiceAdmin):
    list_display = ("name", "code", "kind", "city", "service_phone", "is_active")
    list_filter = ("kind", "is_active")
    search_fields = ("name", "code", "city", "address")
    fields = (
        "company",
        "name",
        "code",
        "kind",
        "city",
        "address",
        "total_area",
        "service_phone",
        "is_active",
    )

    def get_readonly_fields(self, request, obj=None):
        return ("company",) if obj is not None else ()

    def create(self, actor, data):
        return services.estate_create(actor=actor, company=data.pop("company"), **data)

    def update(self, actor, original, changes):
        return services.estate_update(actor=actor, estate=original, **changes)


@admin.register(Building, site=admin_site)
class BuildingAdmin(ServiceAdmin):
    list_display = ("name", "estate", "floors_above", "floors_below")
    list_filter = (IN_ESTATE,)
    list_select_related = ("estate",)
    search_fields = ("name",)
    fields = ("estate", "name", "floors_above", "floors_below", "note")

    def get_readonly_fields(self, request, obj=None):
        return ("estate",) if obj is not None else ()

    def create(self, actor, data):
        return services.building_create(actor=actor, estate=data.pop("estate"), **data)

    def update(self, actor, original, changes):
        return services.building_update(actor=actor, building=original, **changes)


@admin.register(Unit, site=admin_site)
class UnitAdmin(ServiceAdmin):
    list_display = ("label", "estate", "floor", "gross_area", "status")
    list_filter = ("status", IN_ESTATE)
    list_select_related = ("building", "estate")
    search_fields = ("number", "building__name")
    fields = ("building", "entrance", "number", "floor", "gross_area", "inner_area", "status")

    def get_readonly_fields(self, request, obj=None):
        return ("building",) if obj is not None else ()

    def create(self, actor, data):
        return services.unit_create(actor=actor, building=data.pop("building"), **data)

    def update(self, actor, original, changes):
        return services.unit_update(actor=actor, unit=original, **changes)


@admin.register(CommonArea, site=admin_site)
class CommonAreaAdmin(ServiceAdmin):
    list_display = ("name", "kind", "estate", "building")
    list_filter = ("kind", IN_ESTATE)
    list_select_related = ("estate", "building")
    search_fields = ("name",)
    fields = ("estate", "building", "name", "kind", "note")

    def get_readonly_fields(self, request, obj=None):
        return ("estate",) if obj is not None else ()

    def create(self, actor, data):
        return services.common_area_create(actor=actor, estate=data.pop("estate"), **data)

    def update(self, actor, original, changes):
        return services.common_area_update(actor=actor, area=original, **changes)


@admin.register(Resident, site=admin_site)
class ResidentAdmin(ServiceAdmin):
    """Residents are registered on the resident pages (with their unit); here they are
    corrected."""

    list_display = ("name", "mobile", "tier", "company")
    list_filter = ("tier",)
    list_select_related = ("company",)
    search_fields = ("name", "mobile")
    fields = ("company", "name", "mobile", "tier", "note", "user")
    readonly_fields = ("company", "user")

    def update(self, actor, original, changes):
        return services.resident_update(actor=actor, resident=original, **changes)


@admin.register(Residency, site=admin_site)
class ResidencyAdmin(ReadOnlyAdmin):
    list_display = ("resident", "unit", "relation", "moved_in_on", "moved_out_on")
    list_filter = ("relation",)
    list_select_related = ("resident", "unit__building")
    search_fields = ("resident__name", "unit__number")


@admin.register(Membership, site=admin_site)
class MembershipAdmin(ReadOnlyAdmin):
    list_display = ("user", "role", "estate", "company", "is_active")
    list_filter = ("role", "is_active", IN_ESTATE)
    list_select_related = ("user", "estate", "company")
    search_fields = ("user__name", "user__username")


class TeamAdminForm(forms.ModelForm):
    skills = forms.MultipleChoiceField(
        label=_("skills"),
        choices=Category.choices,
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Team
        fields = ("estate", "name", "skills", "lead")


class TeamMemberInline(admin.TabularInline):
    model = TeamMember
    fields = ("user", "joined_at")
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return True


@admin.register(Team, site=admin_site)
class TeamAdmin(ServiceAdmin):
    form = TeamAdminForm
    list_display = ("name", "estate", "lead")
    list_filter = (IN_ESTATE,)
    list_select_related = ("estate", "lead")
    search_fields = ("name",)
    inlines = (TeamMemberInline,)

    def get_readonly_fields(self, request, obj=None):
        return ("estate",) if obj is not None else ()

    def create(self, actor, data):
        return services.team_create(actor=actor, estate=data.pop("estate"), **data)

    def update(self, actor, original, changes):
        return services.team_update(actor=actor, team=original, **changes)
