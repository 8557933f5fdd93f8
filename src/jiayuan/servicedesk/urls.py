"""/service/: the owner portal (my/), the technician's work (work/) and the desk (everything
else). Each area keeps its routes in its own module; photos are shared by all three."""

from django.urls import include, path

from jiayuan.servicedesk import views_shared

app_name = "servicedesk"
urlpatterns = [
    path("my/", include("jiayuan.servicedesk.urls_owner")),
    path("work/", include("jiayuan.servicedesk.urls_tech")),
    path("photos/<int:pk>/", views_shared.photo, name="photo"),
    path("photos/<int:pk>/thumb/", views_shared.photo, {"size": "thumb"}, name="photo_thumb"),
    path("", include("jiayuan.servicedesk.urls_desk")),
]
