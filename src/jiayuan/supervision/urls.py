"""/supervision/: checklists, inspections, rectification orders, evaluations, improvements."""

from django.urls import path

from jiayuan.supervision import views

app_name = "supervision"
urlpatterns = [
    path("checklists/", views.checklist_list, name="checklist_list"),
    path("checklists/new/", views.checklist_create, name="checklist_create"),
    path("checklists/defaults/", views.checklist_defaults, name="checklist_defaults"),
    path("checklists/<int:pk>/", views.checklist_edit, name="checklist_edit"),
    path("inspections/", views.inspection_list, name="inspection_list"),
    path("inspections/new/", views.inspection_start, name="inspection_start"),
    path("inspections/<int:pk>/", views.inspection_detail, name="inspection_detail"),
    path("inspections/<int:pk>/discard/", views.inspection_discard, name="inspection_discard"),
    path("items/<int:pk>/photo/", views.item_photo, name="item_photo"),
    path("items/<int:pk>/thumb/", views.item_photo, {"size": "thumb"}, name="item_thumb"),
    path("orders/", views.order_list, name="order_list"),
    path("orders/new/", views.order_create, name="order_create"),
    path("orders/<int:pk>/", views.order_detail, name="order_detail"),
    path("orders/<int:pk>/<str:action>/", views.order_step, name="order_step"),
    path("orders/<int:pk>/photo/<str:stage>/", views.order_photo, name="order_photo"),
    path(
        "orders/<int:pk>/thumb/<str:stage>/",
        views.order_photo,
        {"size": "thumb"},
        name="order_thumb",
    ),
    path("evaluations/", views.evaluation_list, name="evaluation_list"),
    path("evaluations/new/", views.evaluation_create, name="evaluation_create"),
    path("evaluations/<int:pk>/report/", views.evaluation_report, name="evaluation_report"),
    path("actions/", views.action_list, name="action_list"),
    path("actions/new/", views.action_create, name="action_create"),
    path("actions/<int:pk>/", views.action_detail, name="action_detail"),
    path("actions/<int:pk>/advance/", views.action_advance, name="action_advance"),
]
