from django.urls import path

from jiayuan.core import views

app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("audit/", views.audit, name="audit"),
    path("estate/switch/", views.switch_estate, name="switch_estate"),
]
