"""/sla/: the business calendars deadlines are counted in, the policies that set them,
the escalation chain and the on-time report."""

from django.urls import path

from jiayuan.sla import views

app_name = "sla"
urlpatterns = [
    path("calendars/", views.calendar_list, name="calendar_list"),
    path("calendars/new/", views.calendar_create, name="calendar_create"),
    path("calendars/<int:pk>/", views.calendar_detail, name="calendar_detail"),
    path("calendars/<int:pk>/edit/", views.calendar_edit, name="calendar_edit"),
    path("calendars/<int:pk>/delete/", views.calendar_delete, name="calendar_delete"),
    path("calendars/<int:pk>/hours/", views.calendar_hours, name="calendar_hours"),
    path("calendars/<int:pk>/import/", views.calendar_import, name="calendar_import"),
    path("calendars/<int:pk>/seed/", views.calendar_seed, name="calendar_seed"),
    path("calendars/<int:pk>/days/new/", views.day_create, name="day_create"),
    path("calendars/<int:pk>/days/<int:day_pk>/edit/", views.day_edit, name="day_edit"),
    path("calendars/<int:pk>/days/<int:day_pk>/delete/", views.day_delete, name="day_delete"),
    path("policies/", views.policy_list, name="policy_list"),
    path("policies/adopt/", views.policy_adopt, name="policy_adopt"),
    path("policies/new/", views.policy_create, name="policy_create"),
    path("policies/<int:pk>/edit/", views.policy_edit, name="policy_edit"),
    path("policies/<int:pk>/delete/", views.policy_delete, name="policy_delete"),
    path("escalation/", views.escalation_edit, name="escalation_edit"),
    path("report/", views.report, name="report"),
]
