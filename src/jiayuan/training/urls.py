"""/training/: courses, sessions and attendance, certificates, the team matrix, the training
gaps and each staff member's own record."""

from django.urls import path

from jiayuan.training import views

app_name = "training"
urlpatterns = [
    path("", views.index, name="index"),
    path("me/", views.mine, name="mine"),
    path("team/", views.team, name="team"),
    path("gaps/", views.gaps, name="gaps"),
    path("staff/<int:user_pk>/", views.staff_record, name="staff_record"),
    path("settings/", views.settings_edit, name="settings"),
    path("courses/", views.course_list, name="course_list"),
    path("courses/new/", views.course_create, name="course_create"),
    path("courses/<int:pk>/edit/", views.course_edit, name="course_edit"),
    path("sessions/", views.session_list, name="session_list"),
    path("sessions/new/", views.session_create, name="session_create"),
    path("sessions/<int:pk>/", views.session_detail, name="session_detail"),
    path("sessions/<int:pk>/attendance/", views.session_attendance, name="session_attendance"),
    path("sessions/<int:pk>/cancel/", views.session_delete, name="session_delete"),
    path("certificates/", views.certificate_list, name="certificate_list"),
    path("certificates/new/", views.certificate_create, name="certificate_create"),
    path("certificates/<int:pk>/edit/", views.certificate_edit, name="certificate_edit"),
    path("certificates/<int:pk>/scan/", views.certificate_scan, name="certificate_scan"),
]
