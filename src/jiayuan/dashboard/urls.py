"""/dashboard/: the company, an estate, a team, a person; exports and the monthly report."""

from django.urls import path

from jiayuan.dashboard import views

app_name = "dashboard"
urlpatterns = [
    path("", views.company, name="company"),
    path("export/<slug:name>/", views.company_export, name="company_export"),
    path("estates/<int:pk>/", views.estate, name="estate"),
    path("estates/<int:pk>/export/<slug:name>/", views.estate_export, name="estate_export"),
    path("estates/<int:pk>/report/", views.report, name="report"),
    path("estates/<int:estate_pk>/people/<int:user_pk>/", views.person, name="person"),
    path("teams/<int:pk>/", views.team, name="team"),
    path("teams/<int:pk>/export/<slug:name>/", views.team_export, name="team_export"),
]
