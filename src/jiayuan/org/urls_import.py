from django.urls import path

from jiayuan.org import import_views

urlpatterns = [
    path("import/", import_views.import_start, name="import_start"),
    path("import/template/<str:kind>.xlsx", import_views.import_template, name="import_template"),
    path("import/<int:pk>/", import_views.import_detail, name="import_detail"),
    path("import/<int:pk>/errors.xlsx", import_views.import_errors, name="import_errors"),
    path("export/<str:kind>.xlsx", import_views.export, name="export"),
]
