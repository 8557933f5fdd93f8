# Placeholder routes: the org-pages work replaces `views.pending` with the real views.
from django.http import Http404
from django.urls import path


def pending(request, **kwargs):
    raise Http404


urlpatterns = [
    path("estates/", pending, name="estate_list"),
    path("estates/<int:pk>/", pending, name="estate_detail"),
    path("estates/<int:pk>/edit/", pending, name="estate_edit"),
    path("buildings/", pending, name="building_list"),
    path("buildings/new/", pending, name="building_create"),
    path("buildings/<int:pk>/", pending, name="building_detail"),
    path("buildings/<int:pk>/edit/", pending, name="building_edit"),
    path("buildings/<int:pk>/delete/", pending, name="building_delete"),
    path("units/", pending, name="unit_list"),
    path("units/new/", pending, name="unit_create"),
    path("units/<int:pk>/", pending, name="unit_detail"),
    path("units/<int:pk>/edit/", pending, name="unit_edit"),
    path("common-areas/", pending, name="common_area_list"),
    path("common-areas/new/", pending, name="common_area_create"),
    path("common-areas/<int:pk>/edit/", pending, name="common_area_edit"),
    path("residents/", pending, name="resident_list"),
    path("residents/new/", pending, name="resident_create"),
    path("residents/<int:pk>/", pending, name="resident_detail"),
    path("residents/<int:pk>/edit/", pending, name="resident_edit"),
    path("residents/<int:pk>/move-in/", pending, name="residency_start"),
    path("residencies/<int:pk>/move-out/", pending, name="residency_end"),
    path("residents/<int:pk>/portal/", pending, name="resident_portal"),
    path("staff/", pending, name="staff_list"),
    path("staff/new/", pending, name="staff_add"),
    path("staff/grant/", pending, name="membership_grant"),
    path("memberships/<int:pk>/revoke/", pending, name="membership_revoke"),
    path("teams/", pending, name="team_list"),
    path("teams/new/", pending, name="team_create"),
    path("teams/<int:pk>/", pending, name="team_detail"),
    path("teams/<int:pk>/edit/", pending, name="team_edit"),
    path("my/units/", pending, name="my_units"),
]
