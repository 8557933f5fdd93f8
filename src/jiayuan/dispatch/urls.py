"""/dispatch/: technicians, dispatch modes, the grab pool and the desk's suggestions."""

from django.urls import path

from jiayuan.dispatch import views

app_name = "dispatch"
urlpatterns = [
    path("technicians/", views.technician_list, name="technician_list"),
    path("technicians/<int:user_pk>/", views.technician_edit, name="technician_edit"),
    path("modes/", views.mode_list, name="mode_list"),
    path("modes/<int:pk>/delete/", views.mode_delete, name="mode_delete"),
    path("pool/", views.pool, name="pool"),
    path("pool/<int:pk>/grab/", views.pool_grab, name="pool_grab"),
    path("suggest/<int:request_pk>/", views.suggest, name="suggest"),
]
