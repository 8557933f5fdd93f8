"""The technician's work: /service/work/."""

from django.urls import path

from jiayuan.servicedesk import views_tech

urlpatterns = [
    path("", views_tech.tech_list, name="tech_list"),
    path("<int:pk>/", views_tech.tech_detail, name="tech_detail"),
    path("<int:pk>/timeline/", views_tech.tech_timeline, name="tech_timeline"),
    path("<int:pk>/complete/", views_tech.tech_complete, name="tech_complete"),
    path("<int:pk>/<slug:action>/", views_tech.tech_act, name="tech_act"),
]
