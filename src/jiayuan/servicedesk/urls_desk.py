"""The desk's workbench: /service/requests/, /service/visits/, /service/templates/,
/service/settings/."""

from django.urls import path

from jiayuan.servicedesk import views_desk, views_incidents

urlpatterns = [
    path("requests/", views_desk.queue, name="queue"),
    path("requests/new/", views_desk.record, name="record"),
    path("requests/new/suggest/", views_desk.record_suggest, name="record_suggest"),
    path("residents/lookup/", views_desk.resident_lookup, name="resident_lookup"),
    path("requests/<int:pk>/", views_desk.detail, name="detail"),
    path("requests/<int:pk>/timeline/", views_desk.request_timeline, name="timeline"),
    path("requests/<int:pk>/incident/link/", views_incidents.link, name="incident_link"),
    path("requests/<int:pk>/incident/unlink/", views_incidents.unlink, name="incident_unlink"),
    path(
        "requests/<int:pk>/incident/suggestions/<int:suggestion_pk>/<slug:decision>/",
        views_incidents.suggestion_decide,
        name="incident_suggestion",
    ),
    path("requests/<int:pk>/<slug:action>/", views_desk.act, name="act"),
    path("visits/", views_desk.visit_list, name="visit_list"),
    path("visits/<int:pk>/", views_desk.visit_record, name="visit_record"),
    path("templates/", views_desk.template_list, name="template_list"),
    path("templates/new/", views_desk.template_create, name="template_create"),
    path("templates/<int:pk>/edit/", views_desk.template_edit, name="template_edit"),
    path("templates/<int:pk>/delete/", views_desk.template_delete, name="template_delete"),
    path("settings/", views_desk.desk_settings, name="settings"),
]
