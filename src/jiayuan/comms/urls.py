from django.urls import path

from jiayuan.comms import views

app_name = "comms"
urlpatterns = [
    path("", views.notification_list, name="list"),
    path("read/", views.mark_read, name="mark_read"),
    path("badge/", views.unread_badge, name="unread_badge"),
]
