from django.http import Http404
from django.urls import path

from jiayuan.core import views


def pending(request, **kwargs):  # replaced by the pages-shell work
    raise Http404


app_name = "core"
urlpatterns = [
    path("", views.home, name="home"),
    path("healthz", views.healthz, name="healthz"),
    path("audit/", pending, name="audit"),
    path("estate/switch/", pending, name="switch_estate"),
]
