# Placeholder routes: the import/export work replaces `pending` with the real views.
from django.http import Http404
from django.urls import path


def pending(request, **kwargs):
    raise Http404


urlpatterns = [
    path("import/", pending, name="import_start"),
    path("import/template/<str:kind>.xlsx", pending, name="import_template"),
    path("import/<int:pk>/", pending, name="import_detail"),
    path("export/<str:kind>.xlsx", pending, name="export"),
]
