from django.urls import path

from jiayuan.accounts import views

app_name = "accounts"
urlpatterns = [
    path("login/", views.SignInView.as_view(), name="login"),
    path("logout/", views.SignOutView.as_view(), name="logout"),
    path("language/", views.set_language, name="set_language"),
    path("password/", views.password_change, name="password_change"),
    path("users/<int:pk>/password/", views.password_reset, name="password_reset"),
    path("tokens/", views.tokens, name="tokens"),
    path("tokens/<int:pk>/revoke/", views.token_revoke, name="token_revoke"),
]
