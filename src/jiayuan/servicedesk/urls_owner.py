"""The owner portal: /service/my/."""

from django.urls import path

from jiayuan.servicedesk import views_owner

urlpatterns = [
    path("", views_owner.owner_list, name="owner_list"),
    path("new/", views_owner.owner_create, name="owner_create"),
    path("new/suggest/", views_owner.owner_suggest, name="owner_suggest"),
    path("<int:pk>/", views_owner.owner_detail, name="owner_detail"),
    path("<int:pk>/timeline/", views_owner.owner_timeline, name="owner_timeline"),
    path("<int:pk>/<slug:action>/", views_owner.owner_act, name="owner_act"),
]
