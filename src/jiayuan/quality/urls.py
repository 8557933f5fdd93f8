"""/quality/: campaigns, templates, follow-ups and settings for staff; /quality/my/ for
owners."""

from django.urls import path

from jiayuan.quality import views, views_owner

app_name = "quality"
urlpatterns = [
    path("", views.campaign_list, name="campaign_list"),
    path("campaigns/new/", views.campaign_create, name="campaign_create"),
    path("campaigns/<int:pk>/", views.campaign_detail, name="campaign_detail"),
    path("campaigns/<int:pk>/launch/", views.campaign_launch, name="campaign_launch"),
    path("campaigns/<int:pk>/close/", views.campaign_close, name="campaign_close"),
    path("templates/", views.template_list, name="template_list"),
    path("templates/new/", views.template_create, name="template_create"),
    path("templates/default/", views.template_default, name="template_default"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/<int:pk>/copy/", views.template_copy, name="template_copy"),
    path("templates/<int:pk>/delete/", views.template_delete, name="template_delete"),
    path("follow-ups/", views.follow_up_list, name="follow_up_list"),
    path("follow-ups/<int:pk>/", views.follow_up_detail, name="follow_up_detail"),
    path("settings/", views.settings_edit, name="settings"),
    path("my/", views_owner.my_surveys, name="my_surveys"),
    path("my/<int:campaign_pk>/<int:unit_pk>/", views_owner.owner_answer, name="owner_answer"),
]
